#include "halo/quant/quant_dir.hpp"
#include "halo/quant/amove_activation.hpp"
#include "halo/quant/mixed_types.hpp"

#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "halo/model/activation_quant.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/json_view.hpp"
#include "halo/util/sha256.hpp"

namespace halo::quant {
namespace {

constexpr char kMagic[4] = {'H', 'Q', 'T', '1'};
constexpr std::uint32_t kVersion = 1;
constexpr std::uint32_t kZeros = 1, kRowCodebooks = 2, kInputScale = 4, kSparse = 8, kGroupTypes = 16;

constexpr std::size_t kHeaderBytes = 4 + 4 + 8 + 8 + 4 + 4 + 8 + 8 + 4 + 4 + 4 + 4 + 4;  // 68
static_assert(kHeaderBytes == 68);

template <class T>
void put(std::string& out, T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.append(b, sizeof(T));
}

class Reader {
public:
    Reader(std::string_view bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}
    template <class T>
    T get() {
        need(sizeof(T));
        T v;
        std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
        pos_ += sizeof(T);
        return v;
    }
    std::string_view take(std::size_t n) {
        need(n);
        auto s = bytes_.substr(pos_, n);
        pos_ += n;
        return s;
    }
    void need(std::size_t n) const {
        if (bytes_.size() - pos_ < n)
            throw_bad_value("E6010", fmt::format("{} at byte {}", name_, pos_), "quantized tensor file is truncated",
                            fmt::format("{} more bytes", n), fmt::format("{}", bytes_.size() - pos_),
                            "the directory was copied partially; re-run halo quantize");
    }
    std::size_t left() const { return bytes_.size() - pos_; }

private:
    std::string_view bytes_;
    std::string name_;
    std::size_t pos_ = 0;
};

[[noreturn]] void bad(const std::string& place, const std::string& msg, const std::string& expected, const std::string& found) {
    throw_bad_value("E6010", place, msg, expected, found);
}

// An FP16 value that reaches arithmetic: NaN/Inf would poison every output it touches.
float finite_fp16(std::uint16_t bits, const std::string& place, const char* what) {
    const float v = fp16_value(bits);
    if (!std::isfinite(v)) bad(place, fmt::format("{} is not finite", what), "a finite FP16 value", fmt::format("{} (0x{:04x})", v, bits));
    return v;
}

// Packs values of `bits` bits each LSB-first (codes, group types): the low `bits` bits of each
// value, value i at bit i * bits of the stream (unpack_bits is the inverse, bit by bit). A 64-bit
// accumulator emits whole bytes (a 7B block's 200 M codes took ~4 s bit by bit).
std::string pack_bits(std::span<const std::uint8_t> values, int bits) {
    if (bits == 8) return std::string(reinterpret_cast<const char*>(values.data()), values.size());  // one code a byte: a copy
    std::string packed((values.size() * static_cast<std::size_t>(bits) + 7) / 8, '\0');
    const std::uint64_t mask = (std::uint64_t{1} << bits) - 1;
    std::uint64_t acc = 0;
    int held = 0;
    std::size_t o = 0;
    for (std::uint8_t c : values) {
        acc |= (c & mask) << held;
        held += bits;
        for (; held >= 8; held -= 8, acc >>= 8) packed[o++] = static_cast<char>(acc & 0xff);
    }
    if (held > 0) packed[o] = static_cast<char>(acc & 0xff);
    return packed;
}
void unpack_bits(std::string_view packed, int bits, std::span<std::uint8_t> out) {
    std::size_t bit = 0;
    for (auto& c : out) {
        c = 0;
        for (int b = 0; b < bits; ++b, ++bit)
            if ((static_cast<std::uint8_t>(packed[bit / 8]) >> (bit % 8)) & 1) c = static_cast<std::uint8_t>(c | (1 << b));
    }
}

int code_bits_of(const QuantizedTensor& t) {
    if (t.row_codebook_size) {
        int kb = 1;
        while ((1 << kb) < t.row_codebook_size) ++kb;
        return kb;
    }
    return t.spec().element_bits();
}

nlohmann::json spec_json(const QuantSpec& s) {
    nlohmann::json j = {{"format", s.format->name},
                        {"group_rows", s.granularity.group_rows},
                        {"group_cols", s.granularity.group_cols},
                        {"scale_format", scale_format(s.scale).name},
                        {"granularity", s.granularity.describe()}};
    if (s.format->uses_codebook()) j["codebook"] = s.codebook.values();
    return j;
}

// A linear's "spec" object. make_spec checks the values as it checks flags ("--group"); a value
// from the manifest is reported at its key path in the manifest instead.
QuantSpec spec_from_json(const JsonView& j) {
    const std::string scale_name = j.at("scale_format").string();
    const auto* sf = find_scale_format(scale_name);
    if (!sf) bad(j.file() + ": " + j.place() + ".scale_format", "unknown scale format", "fp16, e8m0, e4m3, fp32", scale_name);
    Codebook cb;
    if (j.has("codebook")) {
        std::vector<float> values;
        for (const auto& v : j.at("codebook").elements()) values.push_back(static_cast<float>(v.number()));
        cb = Codebook(std::move(values));
    }
    const std::string format = j.at("format").string();
    const Granularity g{j.at("group_rows").integer(0, std::int64_t{1} << 31), j.at("group_cols").integer(0, std::int64_t{1} << 31)};
    try {
        return make_spec(format, g, sf->id, std::move(cb));
    } catch (const Error& e) {
        rethrow_at(e, j.file(), j.place());
    }
}

std::string vector_bytes(const std::vector<float>& v) {
    return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// A name the manifest lists, as a path inside `dir`: a plain file name (no separator, not "."
// or "..", not absolute), and when it is a symlink, one that resolves inside `dir`. Checked
// before anything is opened, so a hostile manifest cannot make halo read outside the directory.
std::filesystem::path file_in_dir(const std::filesystem::path& dir, const std::string& name, const std::string& mpath) {
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
        name.find('\\') != std::string::npos || std::filesystem::path(name).is_absolute())
        throw_bad_input_at("E6037", mpath, fmt::format("\"file\": \"{}\"", name.substr(0, 200)),
                           "a listed file name leaves the quantized directory", "a plain file name inside the directory",
                           name.size() > 200 ? fmt::format("a path of {} characters", name.size()) : fmt::format("\"{}\"", name));
    const auto path = dir / name;
    std::error_code ec;
    if (std::filesystem::is_symlink(std::filesystem::symlink_status(path, ec))) {
        const auto target = std::filesystem::weakly_canonical(path, ec);
        const auto root = std::filesystem::weakly_canonical(dir, ec);
        const auto rel = target.lexically_relative(root);
        if (ec || rel.empty() || *rel.begin() == "..")
            throw_bad_input_at("E6043", path.string(), "symlink", "a listed file is a symlink to outside the quantized directory",
                               "a file inside the directory", target.string());
    }
    return path;
}

// The digest the manifest records for `name` (verify mode): E6039 without a "file_sha256"
// table (a directory written before digests, or edited), E6044 when `name` is not in it.
std::string listed_digest(const nlohmann::json& m, const std::string& name, const std::string& mpath) {
    const auto table = m.find("file_sha256");
    if (table == m.end() || !table->is_object())
        throw_bad_input_at("E6039", mpath, "file_sha256", "manifest records no file digests", "a \"file_sha256\" table",
                           "none", "written by an older halo or edited; re-run halo quantize, or pass --no-verify to trust it");
    const auto it = table->find(name);
    if (it == table->end() || !it->is_string())
        throw_bad_input_at("E6044", mpath, "file_sha256", "a file of the directory has no digest in the manifest",
                           fmt::format("a digest for \"{}\"", name), "none",
                           "the manifest was edited; re-run halo quantize, or pass --no-verify to trust it");
    return it->get<std::string>();
}

// Reads a listed file, confined to `dir` and (verify) checked against its digest.
std::string read_listed_file(const std::filesystem::path& dir, const nlohmann::json& m, const std::string& name,
                             const std::string& mpath, bool verify) {
    const auto path = file_in_dir(dir, name, mpath);
    std::string bytes = read_file(path);
    if (verify) {
        const std::string want = listed_digest(m, name, mpath);
        const std::string got = sha256_hex(bytes);
        if (got != want)
            throw_bad_input_at("E6038", path.string(), "sha256", "file content differs from the digest the manifest records",
                               want, got, "the file was changed or damaged after halo wrote it; re-run halo quantize");
    }
    return bytes;
}

}  // namespace

std::string write_hqt(const QuantizedTensor& t) {
    std::string out;
    const int cb = code_bits_of(t);
    const auto& spec = t.spec();
    const bool zeros = spec.format->asymmetric && t.row_codebooks.empty();
    const std::uint32_t flags = (zeros ? kZeros : 0u) | (t.row_codebooks.empty() ? 0u : kRowCodebooks) |
                                (t.input_scale.empty() ? 0u : kInputScale) | (t.sparse.row_ptr.empty() ? 0u : kSparse) |
                                (t.group_type.empty() ? 0u : kGroupTypes);
    out.append(kMagic, 4);
    put<std::uint32_t>(out, kVersion);
    put<std::int64_t>(out, t.rows());
    put<std::int64_t>(out, t.cols());
    put<std::uint32_t>(out, static_cast<std::uint32_t>(cb));
    put<std::uint32_t>(out, flags);
    put<std::int64_t>(out, t.group_rows());
    put<std::int64_t>(out, t.group_cols());
    const auto& sf = scale_format(spec.scale);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(sf.bits));
    put<float>(out, t.tensor_scale);
    put<std::uint32_t>(out, static_cast<std::uint32_t>(t.row_codebook_size));
    put<std::uint32_t>(out, static_cast<std::uint32_t>(t.sparse.nnz()));
    put<std::uint32_t>(out, 0);
    out += pack_bits(t.codes(), cb);  // codes, LSB-first
    for (const auto& p : t.all_params()) {
        const float s = spec.format->tensor_scale ? p.scale / t.tensor_scale : p.scale;
        const std::uint32_t e = sf.encode(s);
        if (sf.bits == 8) put<std::uint8_t>(out, static_cast<std::uint8_t>(e));
        else if (sf.bits == 16) put<std::uint16_t>(out, static_cast<std::uint16_t>(e));
        else put<std::uint32_t>(out, e);
    }
    if (zeros)
        for (const auto& p : t.all_params()) {
            if (spec.format->element) {
                put<std::uint8_t>(out, static_cast<std::uint8_t>(p.zero));
            } else {  // codebook zero points are stored like the scales
                const std::uint32_t e = sf.encode(p.zero);
                if (sf.bits == 8) put<std::uint8_t>(out, static_cast<std::uint8_t>(e));
                else if (sf.bits == 16) put<std::uint16_t>(out, static_cast<std::uint16_t>(e));
                else put<std::uint32_t>(out, e);
            }
        }
    if (flags & kGroupTypes) out += pack_bits(t.group_type, spec.format->custom->type_bits);
    for (float v : t.row_codebooks) put<std::uint16_t>(out, fp16_bits(v));
    for (float v : t.input_scale) put<std::uint16_t>(out, fp16_bits(v));
    if (flags & kSparse) {
        for (auto v : t.sparse.row_ptr) put<std::uint32_t>(out, v);
        for (auto v : t.sparse.col) put<std::uint32_t>(out, static_cast<std::uint32_t>(v));
        for (float v : t.sparse.value) put<std::uint16_t>(out, fp16_bits(v));
    }
    return out;
}

QuantizedTensor read_hqt(std::string_view bytes, const QuantSpec& spec, const std::string& name) {
    Reader rd(bytes, name);
    const auto magic = rd.take(4);
    if (magic != std::string_view(kMagic, 4)) bad(name, "not a halo quantized tensor", "magic HQT1", std::string(magic));
    const auto version = rd.get<std::uint32_t>();
    if (version != kVersion) bad(name, "unsupported .hqt version", "1", fmt::format("{}", version));
    const auto rows = rd.get<std::int64_t>(), cols = rd.get<std::int64_t>();
    const auto cb = rd.get<std::uint32_t>(), flags = rd.get<std::uint32_t>();
    const auto grows = rd.get<std::int64_t>(), gcols = rd.get<std::int64_t>();
    const auto sbits = rd.get<std::uint32_t>();
    const auto tscale = rd.get<float>();
    const auto k = rd.get<std::uint32_t>(), nnz = rd.get<std::uint32_t>();
    rd.get<std::uint32_t>();
    if (rows < 0 || cols < 0 || rows > (1 << 24) || cols > (1 << 24) || cb < 1 || cb > 8)
        bad(name, "implausible tensor header", "rows, cols <= 2^24 and 1..8 code bits",
            fmt::format("{}x{}, {} bits", rows, cols, cb));
    // The codes alone take rows*cols*cb bits: check the file holds them before allocating the
    // tensor, so a 68-byte header claiming 2^24 x 2^24 is refused rather than exhausting memory.
    rd.need((static_cast<std::size_t>(rows) * static_cast<std::size_t>(cols) * cb + 7) / 8);
    QuantizedTensor t(spec, rows, cols);
    const auto& sf = scale_format(spec.scale);
    if (t.group_rows() != grows || t.group_cols() != gcols || static_cast<int>(sbits) != sf.bits)
        bad(name, "tensor header disagrees with the manifest's spec",
            fmt::format("groups {}x{}, {}-bit scales", t.group_rows(), t.group_cols(), sf.bits),
            fmt::format("groups {}x{}, {}-bit scales", grows, gcols, sbits));
    if (!(flags & kRowCodebooks) && static_cast<int>(cb) != spec.element_bits())
        bad(name, "code width disagrees with the format", fmt::format("{}", spec.element_bits()), fmt::format("{}", cb));
    // Scales are multiplied by it: zero, negative or non-finite would decode every weight wrong.
    if (!std::isfinite(tscale) || tscale <= 0.0f) bad(name, "tensor scale is not a positive finite number", "> 0", fmt::format("{}", tscale));
    t.tensor_scale = tscale;
    const std::size_t n = static_cast<std::size_t>(rows * cols);
    unpack_bits(rd.take((n * cb + 7) / 8), static_cast<int>(cb), t.codes());
    for (auto& p : t.all_params()) {
        std::uint32_t e = sf.bits == 8 ? rd.get<std::uint8_t>() : sf.bits == 16 ? rd.get<std::uint16_t>() : rd.get<std::uint32_t>();
        p.scale = sf.decode(e) * (spec.format->tensor_scale ? tscale : 1.0f);
        // A NaN or Inf scale would turn every weight of its group, and so the perplexity, into NaN.
        if (!std::isfinite(p.scale)) bad(name, "a group scale is not finite", "a finite scale", fmt::format("{} (code 0x{:x})", p.scale, e));
    }
    if (flags & kZeros)
        for (auto& p : t.all_params())
            p.zero = spec.format->element ? static_cast<float>(rd.get<std::uint8_t>())
                                          : sf.decode(sf.bits == 8 ? rd.get<std::uint8_t>()
                                                      : sf.bits == 16 ? rd.get<std::uint16_t>() : rd.get<std::uint32_t>());
    if (((flags & kGroupTypes) != 0) != !t.group_type.empty())
        bad(name, "group type section disagrees with the format", t.group_type.empty() ? "none" : "one type id per group",
            (flags & kGroupTypes) ? "present" : "absent");
    if (flags & kGroupTypes) {
        const int tb = spec.format->custom->type_bits;
        unpack_bits(rd.take((t.group_type.size() * static_cast<std::size_t>(tb) + 7) / 8), tb, t.group_type);
        const auto n_types = spec.format->custom->candidates().size();
        for (std::size_t g = 0; g < t.group_type.size(); ++g)
            if (t.group_type[g] >= n_types)
                bad(name, fmt::format("group {} has an unknown type id", g), fmt::format("< {}", n_types),
                    fmt::format("{}", t.group_type[g]));
    }
    if (spec.format->custom)
        if (const auto fault = spec.format->custom->find_bad_code(t))
            bad(name, fmt::format("code at row {}, column {} is not one the {} fit writes", fault->row, fault->col, spec.format->name),
                "codes as halo quantize writes them", fault->what);
    if (flags & kRowCodebooks) {
        if (k < 2 || k > 256) bad(name, "row codebook size out of range", "2..256", fmt::format("{}", k));
        t.row_codebook_size = static_cast<int>(k);
        t.row_codebooks.resize(static_cast<std::size_t>(rows) * k);
        for (auto& v : t.row_codebooks) v = finite_fp16(rd.get<std::uint16_t>(), name, "a row codebook entry");
    }
    if (flags & kInputScale) {
        t.input_scale.resize(static_cast<std::size_t>(cols));
        for (auto& v : t.input_scale) v = finite_fp16(rd.get<std::uint16_t>(), name, "an input scale");
    }
    if (flags & kSparse) {
        rd.need(static_cast<std::size_t>(rows + 1) * 4 + static_cast<std::size_t>(nnz) * 6);
        t.sparse.row_ptr.resize(static_cast<std::size_t>(rows + 1));
        for (auto& v : t.sparse.row_ptr) v = rd.get<std::uint32_t>();
        t.sparse.col.resize(nnz);
        for (auto& v : t.sparse.col) {
            v = static_cast<std::int32_t>(rd.get<std::uint32_t>());
            if (v < 0 || v >= cols) bad(name, "sparse column index out of range", fmt::format("< {}", cols), fmt::format("{}", v));
        }
        t.sparse.value.resize(nnz);
        for (auto& v : t.sparse.value) v = finite_fp16(rd.get<std::uint16_t>(), name, "a sparse outlier value");
        for (std::size_t r = 0; r < static_cast<std::size_t>(rows); ++r)
            if (t.sparse.row_ptr[r] > t.sparse.row_ptr[r + 1] || t.sparse.row_ptr[rows] != nnz)
                bad(name, "sparse row pointers are not monotone up to nnz", fmt::format("nnz {}", nnz), "a bad row_ptr");
    }
    if (rd.left() != 0) bad(name, "trailing bytes after the last section", "0", fmt::format("{}", rd.left()));
    return t;
}

struct QuantizedDirWriter::Impl {
    AtomicDirectory out;
    nlohmann::json linears = nlohmann::json::array();
    nlohmann::json vectors = nlohmann::json::array();
    nlohmann::json file_sha256 = nlohmann::json::object();  // every file but the manifest
    nlohmann::json head;  // the "head" entry, null without a quantized LM head
    void write(const std::string& name, const std::string& bytes) {
        write_file_atomic(out / name, bytes);
        file_sha256[name] = sha256_hex(bytes);
    }
    Impl(const std::filesystem::path& dir, bool overwrite) : out(dir, overwrite) {}
};

QuantizedDirWriter::QuantizedDirWriter(const std::filesystem::path& dir, bool overwrite) {
    if (!overwrite && std::filesystem::exists(dir))
        throw_bad_value("E6009", dir.string(), "output directory exists", "a new directory", "an existing one",
                        "pass --force to replace it");
    impl_ = std::make_unique<Impl>(dir, overwrite);
}

QuantizedDirWriter::~QuantizedDirWriter() = default;

void QuantizedDirWriter::add_linear(const LinearRecord& rec) {
    // A MoE expert's linear: blk.L.ffn_gate_exps.E.hqt (GGUF's stacked name plus the expert).
    const std::string file = rec.expert < 0 ? fmt::format("blk.{}.{}.hqt", rec.layer, model::linear_name(rec.kind))
                                            : fmt::format("blk.{}.{}_exps.{}.hqt", rec.layer, model::linear_name(rec.kind), rec.expert);
    impl_->write(file, write_hqt(rec.tensor));
    const auto b = rec.tensor.bits();
    nlohmann::json e = {{"layer", rec.layer},
                        {"name", model::linear_name(rec.kind)},
                        {"file", file},
                        {"rows", rec.tensor.rows()},
                        {"cols", rec.tensor.cols()},
                        {"spec", spec_json(rec.tensor.spec())},
                        {"bits_per_weight", b.bits_per_weight()},
                        {"total_bits", b.total()},
                        {"seconds", rec.seconds},
                        {"output_error", rec.output_error >= 0 ? nlohmann::json(rec.output_error) : nlohmann::json(nullptr)},
                        {"tiles",
                         {{"rows", rec.tensor.tiles.tile_rows},
                          {"cols", rec.tensor.tiles.tile_cols},
                          {"level", rec.tensor.tiles.level},
                          {"codebook_id", rec.tensor.tiles.codebook_id}}}};
    if (rec.awq_alpha >= 0) e["awq_alpha"] = rec.awq_alpha;
    if (rec.expert >= 0) e["expert"] = rec.expert;
    impl_->linears.push_back(std::move(e));
}

void QuantizedDirWriter::add_vector(const ModifiedVector& v) {
    const std::string file = fmt::format("blk.{}.{}.f32", v.layer, v.name);
    impl_->write(file, vector_bytes(v.values));
    impl_->vectors.push_back({{"layer", v.layer}, {"name", v.name}, {"file", file}, {"size", v.values.size()}});
}

void QuantizedDirWriter::add_head(const HeadRecord& h) {
    if (!impl_->head.is_null()) throw_internal("E6055", "the LM head was added to the quantized directory twice");
    const std::string file = "output.hqt";
    impl_->write(file, write_hqt(h.tensor));
    const auto b = h.tensor.bits();
    impl_->head = {{"file", file},
                   {"rows", h.tensor.rows()},
                   {"cols", h.tensor.cols()},
                   {"tied", h.tied},
                   {"spec", spec_json(h.tensor.spec())},
                   {"bits_per_weight", b.bits_per_weight()},
                   {"total_bits", b.total()},
                   {"seconds", h.seconds},
                   {"output_error", h.output_error >= 0 ? nlohmann::json(h.output_error) : nlohmann::json(nullptr)},
                   {"tiles",
                    {{"rows", h.tensor.tiles.tile_rows},
                     {"cols", h.tensor.tiles.tile_cols},
                     {"level", h.tensor.tiles.level},
                     {"codebook_id", h.tensor.tiles.codebook_id}}}};
}

void QuantizedDirWriter::finish(const QuantizedModel& qm, const QuantizeOptions& opt, const RunInfo& info,
                                const std::vector<std::pair<std::string, std::string>>& extra_files) {
    std::string source_sha256 = info.source_model_sha256;
    std::error_code ec;
    if (source_sha256.empty() && !info.source_model.empty() && std::filesystem::exists(info.source_model, ec))
        source_sha256 = sha256_of_path(info.source_model);
    nlohmann::json m = {{"format", "halo-quantized-model"},
                        {"version", 1},
                        {"source_model", info.source_model},
                        {"source_model_sha256", source_sha256.empty() ? nlohmann::json(nullptr) : nlohmann::json(source_sha256)},
                        {"source_format", info.source_format},
                        {"method", qm.method},
                        {"weight_format", opt.format},
                        {"spec", qm.spec},
                        {"activation_format", qm.activation_format.empty() ? nlohmann::json(nullptr) : nlohmann::json(qm.activation_format)},
                        {"flags", info.flags},
                        {"calibration", info.calibration},
                        {"bits_per_weight", qm.bits.bits_per_weight()},
                        {"bits",
                         {{"weights", qm.bits.weights},
                          {"codes", qm.bits.code_bits},
                          {"scales", qm.bits.scale_bits},
                          {"codebooks", qm.bits.codebook_bits},
                          {"input_scales", qm.bits.input_scale_bits},
                          {"sparse", qm.bits.sparse_bits}}},
                        {"time_s", qm.seconds},
                        {"date", info.provenance.date_utc},
                        {"halo_version", info.provenance.halo_version},
                        {"git_commit", info.provenance.git_commit},
                        {"command", info.provenance.command_line},
                        {"linears", impl_->linears},
                        {"vectors", impl_->vectors}};
    if (!impl_->head.is_null()) m["head"] = impl_->head;
    if (!qm.expert_tokens.empty()) {  // MoE: calibration tokens routed to each expert, per block
        nlohmann::json cov = nlohmann::json::array();
        for (const auto& b : qm.expert_tokens) cov.push_back({{"layer", b.layer}, {"tokens", b.tokens}});
        m["expert_tokens"] = std::move(cov);
    }
    for (const auto& [key, value] : info.sections.items()) {
        if (m.contains(key)) throw_internal("E6031", fmt::format("manifest section \"{}\" would replace a standard field", key));
        m[key] = value;
    }
    for (const auto& [name, bytes] : extra_files) {
        if (name == "manifest.json" || name.find('/') != std::string::npos)
            throw_internal("E6032", fmt::format("extra file \"{}\" would replace the manifest or leave the directory", name));
        impl_->write(name, bytes);
    }
    m["file_sha256"] = impl_->file_sha256;
    write_file_atomic(impl_->out / "manifest.json", dump_json(m, 1, (impl_->out / "manifest.json").string()) + "\n");
    impl_->out.commit();
}

void write_quantized_dir(const std::filesystem::path& dir, const QuantizedModel& qm, const QuantizeOptions& opt,
                         const RunInfo& info, bool overwrite,
                         const std::vector<std::pair<std::string, std::string>>& extra_files) {
    QuantizedDirWriter out(dir, overwrite);
    for (const auto& rec : qm.linears) out.add_linear(rec);
    for (const auto& v : qm.vectors) out.add_vector(v);
    if (qm.head) out.add_head(*qm.head);
    out.finish(qm, opt, info, extra_files);
}

namespace {

nlohmann::json read_manifest_json(const std::filesystem::path& dir) {
    const auto mpath = dir / "manifest.json";
    const std::string text = read_file(mpath);
    nlohmann::json m;
    try {
        m = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        bad(mpath.string(), "manifest is not valid JSON", "JSON", e.what());
    }
    if (!m.is_object() || !m.contains("format") || m.at("format") != "halo-quantized-model")
        bad(mpath.string(), "not a halo quantized model manifest", "\"format\": \"halo-quantized-model\"",
            m.is_object() ? (m.contains("format") ? describe_json(m.at("format")) : "(none)") : describe_json(m));
    return m;
}

constexpr std::int64_t kMaxDim = std::int64_t{1} << 31;

model::LinearKind linear_kind_named(const std::string& name, const std::string& place) {
    for (auto k : model::kLinearKinds)
        if (model::linear_name(k) == name) return k;
    bad(place, "unknown linear name", "attn_q .. ffn_down", name);
}

// The manifest's linear entries without their files (layer, kind, expert): what check_complete
// needs before a block-by-block reader has read any codes.
QuantizedDir manifest_entries(const nlohmann::json& m, const std::string& manifest_file) {
    QuantizedDir out;
    const JsonView top(m, manifest_file);
    for (const auto& e : top.at("linears").elements()) {
        LinearRecord rec;
        rec.layer = e.at("layer").int32(0, 1 << 20);
        rec.kind = linear_kind_named(e.at("name").string(), manifest_file + ": " + e.place() + ".name");
        if (e.has("expert")) rec.expert = e.at("expert").int32();
        out.linears.push_back(std::move(rec));
    }
    return out;
}

// The manifest's linears and vectors with their files read; `only_layer` >= 0 reads that block's
// only. Every field is type- and range-checked where it is read (E0020-E0022 name its key path).
void read_entries(const std::filesystem::path& dir, const nlohmann::json& m, int only_layer, bool verify, QuantizedDir& out) {
    const auto mpath = dir / "manifest.json";
    const JsonView top(m, mpath.string());
    for (const auto& e : top.at("linears").elements()) {
        const int layer = e.at("layer").int32(0, 1 << 20);
        if (only_layer >= 0 && layer != only_layer) continue;
        const std::string file = e.at("file").string();
        const std::string place = (dir / file).string();
        LinearRecord rec;
        rec.layer = layer;
        const std::string name = e.at("name").string();
        rec.kind = linear_kind_named(name, mpath.string() + ": " + e.place() + ".name");
        const std::int64_t rows = e.at("rows").integer(1, kMaxDim), cols = e.at("cols").integer(1, kMaxDim);
        rec.tensor = read_hqt(read_listed_file(dir, m, file, mpath.string(), verify), spec_from_json(e.at("spec")), place);
        if (rec.tensor.rows() != rows || rec.tensor.cols() != cols)
            bad(place, "tensor shape disagrees with the manifest", fmt::format("{}x{}", rows, cols),
                fmt::format("{}x{}", rec.tensor.rows(), rec.tensor.cols()));
        const JsonView t = e.at("tiles");
        rec.tensor.tiles.tile_rows = t.at("rows").integer(0, kMaxDim);
        rec.tensor.tiles.tile_cols = t.at("cols").integer(0, kMaxDim);
        for (const auto& v : t.at("level").elements()) rec.tensor.tiles.level.push_back(v.int32());
        for (const auto& v : t.at("codebook_id").elements()) rec.tensor.tiles.codebook_id.push_back(v.int32());
        if (e.has("awq_alpha")) rec.awq_alpha = static_cast<float>(e.at("awq_alpha").number());
        if (e.has("expert")) {
            rec.expert = e.at("expert").int32();
            if (rec.expert < 0 || !model::is_expert_kind(rec.kind))
                bad(place, "an expert index belongs to an FFN linear (ffn_gate, ffn_up, ffn_down)", "expert >= 0 of an FFN linear",
                    fmt::format("expert {} of {}", rec.expert, name));
        }
        if (e.has("output_error")) rec.output_error = e.at("output_error").number();
        out.linears.push_back(std::move(rec));
    }
    for (const auto& e : top.at("vectors").elements()) {
        ModifiedVector v;
        v.layer = e.at("layer").int32(-1, 1 << 20);
        if (only_layer >= 0 && v.layer != only_layer) continue;
        v.name = e.at("name").string();
        const std::string file = e.at("file").string();
        const std::int64_t size = e.at("size").integer(0, kMaxDim);
        const std::string bytes = read_listed_file(dir, m, file, mpath.string(), verify);
        if (bytes.size() != static_cast<std::size_t>(size) * sizeof(float))
            bad((dir / file).string(), "vector file size disagrees with the manifest", fmt::format("{} bytes", size * 4),
                fmt::format("{}", bytes.size()));
        v.values.resize(bytes.size() / 4);
        std::memcpy(v.values.data(), bytes.data(), bytes.size());
        out.vectors.push_back(std::move(v));
    }
}

// The manifest's "head" entry with DIR/output.hqt read (none without the entry). A listed head
// file that is absent is E6054 (the directory lost its head: evaluating with the FP32 head
// instead would be a silent fallback).
std::optional<HeadRecord> read_head(const std::filesystem::path& dir, const nlohmann::json& m, bool verify) {
    if (!m.contains("head")) return std::nullopt;
    const auto mpath = dir / "manifest.json";
    const JsonView top(m, mpath.string());
    const JsonView e = top.at("head");
    const std::string file = e.at("file").string();
    const auto path = file_in_dir(dir, file, mpath.string());
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
        throw_bad_input_at("E6054", mpath.string(), "head.file", "the LM head file the manifest lists is missing",
                           fmt::format("a file {}", path.string()), "none",
                           "the directory is incomplete; re-run halo quantize --quantize-head");
    HeadRecord h;
    const std::int64_t rows = e.at("rows").integer(1, kMaxDim), cols = e.at("cols").integer(1, kMaxDim);
    h.tensor = read_hqt(read_listed_file(dir, m, file, mpath.string(), verify), spec_from_json(e.at("spec")), path.string());
    if (h.tensor.rows() != rows || h.tensor.cols() != cols)
        bad(path.string(), "tensor shape disagrees with the manifest", fmt::format("{}x{}", rows, cols),
            fmt::format("{}x{}", h.tensor.rows(), h.tensor.cols()));
    const JsonView t = e.at("tiles");
    h.tensor.tiles.tile_rows = t.at("rows").integer(0, kMaxDim);
    h.tensor.tiles.tile_cols = t.at("cols").integer(0, kMaxDim);
    for (const auto& v : t.at("level").elements()) h.tensor.tiles.level.push_back(v.int32());
    for (const auto& v : t.at("codebook_id").elements()) h.tensor.tiles.codebook_id.push_back(v.int32());
    h.tied = e.at("tied").boolean();
    return h;
}

// The decoded head as the model's `output` (an untied copy for a tied model: its embedding
// lookup keeps the FP32 table). E6052 when the head is not the model's [vocab x d_model].
void apply_head(model::ModelWeights& weights, const HeadRecord& h, const std::string& place) {
    const model::Matrix& head = weights.lm_head();
    if (head.rows != h.tensor.rows() || head.cols != h.tensor.cols())
        throw_bad_value("E6052", place, "the quantized LM head's shape differs from the model's head",
                        fmt::format("{}x{} (vocab x d_model)", head.rows, head.cols),
                        fmt::format("{}x{}", h.tensor.rows(), h.tensor.cols()),
                        "evaluate the directory with the model it was quantized from");
    weights.output = h.tensor.decode();
}

std::string linear_place(const LinearRecord& rec) {
    return rec.expert < 0 ? fmt::format("blk.{}.{}", rec.layer, model::linear_name(rec.kind))
                          : fmt::format("blk.{}.{}_exps[{}]", rec.layer, model::linear_name(rec.kind), rec.expert);
}

void apply_linear(model::LayerWeights& layer, const LinearRecord& rec) {
    const std::string place = linear_place(rec);
    if (rec.expert >= static_cast<int>(layer.experts.size()))
        bad(place, "expert index beyond the model's experts", fmt::format("< {}", layer.experts.size()), fmt::format("{}", rec.expert));
    auto& w = rec.expert < 0 ? layer[rec.kind] : layer.experts[static_cast<std::size_t>(rec.expert)][rec.kind];
    if (w.rows != rec.tensor.rows() || w.cols != rec.tensor.cols())
        bad(place, "quantized tensor shape differs from the model's", fmt::format("{}x{}", w.rows, w.cols),
            fmt::format("{}x{}", rec.tensor.rows(), rec.tensor.cols()));
    w = rec.tensor.decode();
}

void apply_vector(model::LayerWeights& layer, const ModifiedVector& v) {
    const std::string place = fmt::format("blk.{}.{}", v.layer, v.name);
    // SmoothQuant's folds: the norms, and a MoE block's router (its columns scaled; flat [E x D]).
    std::vector<float>* dst = v.name == "attn_norm" ? &layer.attn_norm
                              : v.name == "ffn_norm" ? &layer.ffn_norm
                              : v.name == "router" && layer.router.size() ? &layer.router.data
                                                                           : nullptr;
    if (!dst) bad(place, "unknown vector name", "attn_norm, ffn_norm or (a MoE block) router", v.name);
    if (dst->size() != v.values.size())
        bad(place, "vector size differs from the model's", fmt::format("{}", dst->size()), fmt::format("{}", v.values.size()));
    *dst = v.values;
}

}  // namespace

QuantizedDir read_quantized_dir(const std::filesystem::path& dir, bool verify) {
    QuantizedDir out;
    out.manifest = read_manifest_json(dir);
    read_entries(dir, out.manifest, -1, verify, out);
    out.head = read_head(dir, out.manifest, verify);
    return out;
}

QuantizedDirReader::QuantizedDirReader(const std::filesystem::path& dir, int n_layers, bool verify)
    : dir_(dir), manifest_(read_manifest_json(dir)), verify_(verify) {
    const auto mpath = (dir / "manifest.json").string();
    const JsonView top(manifest_, mpath);
    for (const char* list : {"linears", "vectors"})
        for (const auto& e : top.at(list).elements()) {
            const int layer = e.at("layer").int32();
            if (layer < 0 || layer >= n_layers)
                bad(mpath, fmt::format("{} entry \"{}\": layer index beyond the model", list, e.at("name").string()),
                    fmt::format("0 <= layer < {}", n_layers), fmt::format("{}", layer));
        }
    check_complete(manifest_entries(manifest_, mpath), n_layers);  // before any block is evaluated
    activation_format_ = manifest_["activation_format"].is_string() ? manifest_["activation_format"].get<std::string>() : "";
}

void QuantizedDirReader::apply_block(int layer, model::LayerWeights& weights) const {
    QuantizedDir block;
    read_entries(dir_, manifest_, layer, verify_, block);
    for (const auto& rec : block.linears) apply_linear(weights, rec);
    for (const auto& v : block.vectors) apply_vector(weights, v);
}

void QuantizedDirReader::apply_head(model::ModelWeights& weights) const {
    if (const auto h = read_head(dir_, manifest_, verify_)) quant::apply_head(weights, *h, (dir_ / "output.hqt").string());
}

ManifestSummary manifest_summary(const nlohmann::json& m, const std::string& file) {
    if (!m.is_object() || !m.contains("format") || m.at("format") != "halo-quantized-model")
        throw_bad_input_at("E6011", file, "format", "not a halo quantized model manifest", "\"format\": \"halo-quantized-model\"",
                           m.is_object() ? (m.contains("format") ? m.at("format").dump() : "(none)") : m.type_name());
    auto str = [&](const char* key) { return m.contains(key) && m.at(key).is_string() ? m.at(key).get<std::string>() : std::string(); };
    ManifestSummary s;
    s.method = str("method");
    s.source_model = str("source_model");
    if (m.contains("weight_format") && m.at("weight_format").is_string()) s.weight_format = m.at("weight_format").get<std::string>();
    s.activation_format = str("activation_format");
    if (m.contains("linears") && m.at("linears").is_array() && !m.at("linears").empty()) {
        const auto& l0 = m.at("linears").at(0);
        if (l0.is_object() && l0.contains("spec") && l0.at("spec").is_object() && l0.at("spec").contains("group_cols") &&
            l0.at("spec").at("group_cols").is_number_integer())
            s.first_group_cols = l0.at("spec").at("group_cols").get<std::int64_t>();
    }
    s.halo = m.contains("halo");
    s.provenance = {str("date"), str("halo_version"), str("git_commit"), str("command")};
    // A stored width must be a real width: a simulated decode divides DRAM bytes by it.
    auto bits_of = [&](const nlohmann::json& e, const std::string& where) -> std::optional<double> {
        if (!e.is_object() || !e.contains("bits_per_weight")) return std::nullopt;
        const auto& b = e.at("bits_per_weight");
        if (!b.is_number() || !(b.get<double>() > 0.0 && b.get<double>() <= 64.0))
            throw_bad_input_at("E6198", file, where + ".bits_per_weight", "stored bits per weight out of range",
                               "a number in (0, 64]", b.dump());
        return b.get<double>();
    };
    if (m.contains("linears") && m.at("linears").is_array()) {
        const auto& ls = m.at("linears");
        for (std::size_t i = 0; i < ls.size(); ++i) {
            const auto& e = ls.at(i);
            const auto bits = bits_of(e, fmt::format("linears[{}]", i));
            if (!bits || !e.contains("layer") || !e.at("layer").is_number_integer() || !e.contains("name") ||
                !e.at("name").is_string())
                continue;
            const int expert = e.contains("expert") && e.at("expert").is_number_integer() ? e.at("expert").get<int>() : -1;
            s.linear_bits.push_back({e.at("layer").get<int>(), e.at("name").get<std::string>(), expert, *bits});
        }
    }
    if (m.contains("head")) s.head_bits = bits_of(m.at("head"), "head");
    return s;
}

ManifestSummary read_manifest_summary(const std::filesystem::path& dir) {
    const auto path = dir / "manifest.json";
    nlohmann::json m;
    try {
        m = nlohmann::json::parse(read_file(path));
    } catch (const nlohmann::json::exception& e) {
        throw_bad_input_at("E6012", path.string(), "manifest", "manifest is not valid JSON",
                           "a JSON object (docs/formats.md, \"Quantized model directory\")", fmt::format("not valid JSON ({})", e.what()));
    }
    return manifest_summary(m, path.string());
}

void verify_quantized_files(const std::filesystem::path& dir, std::initializer_list<std::string_view> also_read) {
    const auto mpath = dir / "manifest.json";
    nlohmann::json m;
    try {
        m = nlohmann::json::parse(read_file(mpath));
    } catch (const nlohmann::json::exception& e) {
        bad(mpath.string(), "manifest is not valid JSON", "JSON", e.what());
    }
    if (!m.is_object()) bad(mpath.string(), "not a halo quantized model manifest", "a JSON object", m.type_name());
    const auto table = m.find("file_sha256");
    if (table == m.end() || !table->is_object()) listed_digest(m, "manifest.json", mpath.string());  // throws E6039
    for (const auto& item : table->items()) read_listed_file(dir, m, item.key(), mpath.string(), true);
    for (const auto name : also_read) {
        std::error_code ec;
        if (std::filesystem::exists(std::filesystem::symlink_status(dir / name, ec)))
            listed_digest(m, std::string(name), mpath.string());
    }
}

void check_source_model(const nlohmann::json& m, const std::filesystem::path& manifest_file,
                        const std::filesystem::path& model_path) {
    const auto it = m.find("source_model_sha256");
    if (it == m.end() || !it->is_string())
        throw_bad_input_at("E6045", manifest_file.string(), "source_model_sha256", "manifest records no source model digest",
                           "the SHA-256 of the model it was quantized from", "none",
                           "written by an older halo or from an in-memory model; re-run halo quantize, or pass --no-verify");
    const std::string got = sha256_of_path(model_path);
    if (got != it->get<std::string>())
        throw_bad_input_at("E6040", model_path.string(), "sha256", "the model is not the one the quantized directory was made from",
                           fmt::format("{} (the digest {} records of {})", it->get<std::string>(), manifest_file.string(),
                                       m.value("source_model", std::string("?"))),
                           got, "pass --model with the directory's source model, or quantize this model");
}

void check_complete(const QuantizedDir& dir, int n_layers) {
    std::vector<int> seen(static_cast<std::size_t>(std::max(n_layers, 0)) * model::kLinearKinds.size(), 0);
    for (const auto& rec : dir.linears) {
        if (rec.layer < 0 || rec.layer >= n_layers) continue;  // apply_quantized names a layer beyond the model
        if (rec.expert >= 0) continue;  // a MoE expert's linear: its block has no dense FFN entries (the MoE loader checks experts)
        const auto slot = static_cast<std::size_t>(rec.layer) * model::kLinearKinds.size() + static_cast<std::size_t>(rec.kind);
        if (++seen[slot] > 1)
            throw_bad_value("E6042", fmt::format("blk.{}.{}", rec.layer, model::linear_name(rec.kind)),
                            "a linear is listed twice in the manifest", "one entry per linear", "two");
    }
    std::vector<bool> moe_layer(static_cast<std::size_t>(std::max(n_layers, 0)), false);
    for (const auto& rec : dir.linears)
        if (rec.expert >= 0 && rec.layer >= 0 && rec.layer < n_layers) moe_layer[static_cast<std::size_t>(rec.layer)] = true;
    for (std::size_t i = 0; i < seen.size(); ++i)
        if (seen[i] == 0) {
            const auto kind = model::kLinearKinds[i % model::kLinearKinds.size()];
            const bool ffn = kind == model::LinearKind::ffn_gate || kind == model::LinearKind::ffn_up || kind == model::LinearKind::ffn_down;
            if (ffn && moe_layer[i / model::kLinearKinds.size()]) continue;  // the block's FFN is its experts
            throw_bad_value("E6041", fmt::format("blk.{}.{}", i / model::kLinearKinds.size(), model::linear_name(kind)),
                            "the quantized directory has no entry for a linear of the model",
                            fmt::format("all {} linears of {} layers", model::kLinearKinds.size(), n_layers),
                            fmt::format("{} entries", dir.linears.size()),
                            "the manifest was edited or the directory is of a smaller model; re-run halo quantize");
        }
}

void apply_quantized(model::ModelWeights& weights, const QuantizedDir& dir) {
    check_complete(dir, static_cast<int>(weights.layers.size()));
    auto layer_of = [&](int l, const std::string& place) -> model::LayerWeights& {
        if (l < 0 || l >= static_cast<int>(weights.layers.size()))
            bad(place, "layer index beyond the model", fmt::format("< {}", weights.layers.size()), fmt::format("{}", l));
        return weights.layers[static_cast<std::size_t>(l)];
    };
    for (const auto& rec : dir.linears) apply_linear(layer_of(rec.layer, linear_place(rec)), rec);
    for (const auto& v : dir.vectors) apply_vector(layer_of(v.layer, fmt::format("blk.{}.{}", v.layer, v.name)), v);
    if (dir.head) quant::apply_head(weights, *dir.head, "output.hqt");
}

model::ForwardHooks activation_hooks_for(const std::string& activation_format) {
    if (activation_format.empty()) return {};
    if (auto plan = parse_activation_plan(activation_format)) return activation_plan_hooks(*plan);  // amove_activation.hpp
    return model::uniform_activation_hooks(model::activation_format(activation_format));
}

model::ForwardHooks activation_hooks_for(const std::string& activation_format, bool head) {
    model::ForwardHooks hooks = activation_hooks_for(activation_format);
    if (!head || activation_format.empty()) return hooks;
    if (parse_activation_plan(activation_format))
        throw_bad_value("E6053", activation_format, "an Amove activation plan names block linears only, not the LM head",
                        "a format name (int8_per_token) with a quantized head", activation_format);
    hooks.lm_head_input = model::activation_hook(model::activation_format(activation_format));
    return hooks;
}

LoadedQuantized load_quantized(const std::filesystem::path& dir, model::ModelWeights& weights, const QuantizedLoadOptions& options) {
    const QuantizedDir qd = read_quantized_dir(dir, options.verify);
    if (options.verify && !options.source_model.empty()) check_source_model(qd.manifest, dir / "manifest.json", options.source_model);
    apply_quantized(weights, qd);
    LoadedQuantized out;
    out.manifest = qd.manifest;
    out.activation_format = qd.manifest["activation_format"].is_string() ? qd.manifest["activation_format"].get<std::string>() : "";
    out.head = qd.head.has_value();
    out.activation_hooks = activation_hooks_for(out.activation_format, out.head);
    return out;
}

}  // namespace halo::quant
