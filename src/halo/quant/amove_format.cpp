#include "halo/quant/amove_format.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <mutex>

#include <fmt/format.h>

#include "halo/quant/quantized_tensor.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {
namespace {

// ---- the format rows ------------------------------------------------------------------------

void fit_tensor(QuantizedTensor& t, const model::Matrix& w, std::int64_t c0, std::int64_t c1, float clip);
std::uint64_t tensor_scale_bits(const QuantizedTensor& t);
constexpr TwoLevelScales kTwoLevel{fit_tensor, tensor_scale_bits};

std::mutex g_mutex;
std::deque<AmoveFormat> g_rows;  // deque: rows never move, so pointers into them stay valid

struct ElementAlias {
    std::string_view name;
    std::optional<ElementId> id;  // nullopt: codebook
};
constexpr ElementAlias kElements[] = {
    {"int2", ElementId::int2}, {"int3", ElementId::int3}, {"int4", ElementId::int4}, {"int5", ElementId::int5},
    {"int6", ElementId::int6}, {"int7", ElementId::int7}, {"int8", ElementId::int8}, {"fp4", ElementId::e2m1},
    {"e2m1", ElementId::e2m1}, {"e3m2", ElementId::e3m2}, {"e2m3", ElementId::e2m3}, {"e4m3", ElementId::e4m3},
    {"e5m2", ElementId::e5m2}, {"codebook", std::nullopt},
};
struct RuleName {
    std::string_view name;
    ResidualRule rule;
};
constexpr RuleName kRules[] = {{"scale", ResidualRule::scale_mse}, {"mse", ResidualRule::recon_mse}, {"mean", ResidualRule::mean}};

[[noreturn]] void bad_name(std::string_view name, const std::string& why) {
    throw_bad_value("E6801", "--format", fmt::format("malformed Amove format name: {}", why),
                    "amove-<element>-g<G>c<C>[-b<bits>][-s<fmt>][-r<fmt>][-scale|-mse|-mean], e.g. amove-int4-g32c4",
                    std::string(name));
}

int parse_int(std::string_view name, std::string_view text) {
    if (text.empty() || text.size() > 6 || !std::all_of(text.begin(), text.end(), [](char ch) { return ch >= '0' && ch <= '9'; }))
        bad_name(name, fmt::format("'{}' is not a positive integer", text));
    return std::stoi(std::string(text));
}

std::vector<std::string_view> split(std::string_view s) {
    std::vector<std::string_view> out;
    std::size_t b = 0;
    for (std::size_t i = 0; i <= s.size(); ++i)
        if (i == s.size() || s[i] == '-') {
            out.push_back(s.substr(b, i - b));
            b = i + 1;
        }
    return out;
}

AmoveFormat parse_row(std::string_view name) {
    const auto parts = split(name);
    if (parts.size() < 3) bad_name(name, "missing element or g<G>c<C>");
    AmoveFormat f;
    f.name = std::string(name);
    const ElementAlias* el = nullptr;
    for (const auto& a : kElements)
        if (a.name == parts[1]) el = &a;
    if (!el) bad_name(name, fmt::format("unknown element type '{}'", parts[1]));
    const auto gc = parts[2];
    const auto cpos = gc.find('c');
    if (gc.empty() || gc[0] != 'g' || cpos == std::string_view::npos) bad_name(name, "expected g<G>c<C>");
    f.config.group = parse_int(name, gc.substr(1, cpos - 1));
    f.config.cluster = parse_int(name, gc.substr(cpos + 1));
    for (std::size_t i = 3; i < parts.size(); ++i) {
        const auto p = parts[i];
        bool known = false;
        for (const auto& r : kRules)
            if (r.name == p) f.config.rule = r.rule, known = true;
        if (known) continue;
        if (p.size() > 1 && p[0] == 'b') {
            f.config.code_bits = parse_int(name, p.substr(1));
        } else if (p.size() > 1 && (p[0] == 's' || p[0] == 'r')) {
            const auto* sf = find_scale_format(p.substr(1));
            if (!sf) bad_name(name, fmt::format("unknown scale format '{}'", p.substr(1)));
            (p[0] == 's' ? f.config.base : f.config.residual) = sf->id;
        } else {
            bad_name(name, fmt::format("unknown option '{}'", p));
        }
    }
    validate_amove_config(f.config, name);
    f.traits = FormatTraits{"", el->id, false, f.config.cluster, ScaleFormat::fp32, ScaleRule::absmax, false,
                            "Amove: group base scale + residual, 2-bit cluster codes", &kTwoLevel};
    return f;
}

const AmoveFormat* row_of(const FormatTraits& format) {
    if (format.two_level != &kTwoLevel) return nullptr;
    std::lock_guard lock(g_mutex);
    for (const auto& r : g_rows)
        if (&r.traits == &format) return &r;
    return nullptr;
}

float element_qmax(const QuantSpec& spec) { return spec.sym_range(); }

// ---- QuantizedTensor glue --------------------------------------------------------------------

void fit_tensor(QuantizedTensor& t, const model::Matrix& w, std::int64_t c0, std::int64_t c1, float clip) {
    const AmoveConfig& c = *amove_config(*t.spec().format);
    const QuantSpec& spec = t.spec();
    const std::int64_t cols = t.cols(), n_clusters = t.n_group_cols();
    if (c0 == 0) {  // one FP32 tensor scale from the whole weight (GPTQ's first call sees it unchanged)
        float dmax = 0;
        for (std::int64_t r = 0; r < t.rows(); ++r)
            for (float d : cluster_ideal_scales(c, std::span(w.row(r), static_cast<std::size_t>(cols)), element_qmax(spec), clip))
                dmax = std::max(dmax, d);
        t.tensor_scale = amove_tensor_scale(c, dmax);
    }
    const std::int64_t g0 = (c0 + c.group - 1) / c.group * c.group;  // first group start >= c0
    for (std::int64_t gb = g0; gb < c1 && gb < cols; gb += c.group) {
        const std::int64_t ge = std::min(cols, gb + c.group);
        for (std::int64_t r = 0; r < t.rows(); ++r) {
            const auto s = fit_amove_group(c, spec, std::span(w.row(r) + gb, static_cast<std::size_t>(ge - gb)), t.tensor_scale, clip);
            for (std::size_t i = 0; i < s.cluster_scale.size(); ++i) {
                const std::int64_t cl = gb / c.cluster + static_cast<std::int64_t>(i);
                if (cl < n_clusters) t.params(r * n_clusters + cl) = GroupParams{s.cluster_scale[i], 0.0f};
            }
        }
    }
}

std::uint64_t tensor_scale_bits(const QuantizedTensor& t) {
    const AmoveConfig& c = *amove_config(*t.spec().format);
    const int eb = t.spec().element_bits();
    const std::uint64_t per_row = amove_row_bits(c, eb, t.cols()) - static_cast<std::uint64_t>(t.cols()) * static_cast<std::uint64_t>(eb);
    // Padding to whole bytes is counted with the scales; plus one FP32 tensor scale.
    return per_row * static_cast<std::uint64_t>(t.rows()) + 32;
}

// ---- bit packing -----------------------------------------------------------------------------

class BitWriterRef {  // one bit at a time: obviously right
public:
    void put(std::uint32_t v, int bits) {
        for (int b = 0; b < bits; ++b) {
            if (n_ % 8 == 0) bytes_.push_back(0);
            if ((v >> b) & 1u) bytes_.back() |= static_cast<std::uint8_t>(1u << (n_ % 8));
            ++n_;
        }
    }
    void align() { n_ = (n_ + 7) / 8 * 8; }
    std::vector<std::uint8_t> take() { return std::move(bytes_); }

private:
    std::vector<std::uint8_t> bytes_;
    std::size_t n_ = 0;
};

class BitWriterFast {  // 64-bit accumulator, flushed a byte at a time
public:
    void put(std::uint32_t v, int bits) {
        acc_ |= static_cast<std::uint64_t>(v & ((1u << bits) - 1u)) << fill_;
        fill_ += bits;
        while (fill_ >= 8) {
            bytes_.push_back(static_cast<std::uint8_t>(acc_));
            acc_ >>= 8;
            fill_ -= 8;
        }
    }
    void align() {
        if (fill_ > 0) bytes_.push_back(static_cast<std::uint8_t>(acc_));
        acc_ = 0;
        fill_ = 0;
    }
    std::vector<std::uint8_t> take() { return std::move(bytes_); }

private:
    std::vector<std::uint8_t> bytes_;
    std::uint64_t acc_ = 0;
    int fill_ = 0;
};

class BitReaderRef {
public:
    explicit BitReaderRef(std::span<const std::uint8_t> b) : b_(b) {}
    std::uint32_t get(int bits) {
        std::uint32_t v = 0;
        for (int i = 0; i < bits; ++i, ++n_) {
            if (n_ / 8 >= b_.size()) throw_bad_value("E6803", "amove block", "packed data is truncated", "more bytes", fmt::format("{}", b_.size()));
            v |= static_cast<std::uint32_t>((b_[n_ / 8] >> (n_ % 8)) & 1u) << i;
        }
        return v;
    }
    void align() { n_ = (n_ + 7) / 8 * 8; }

private:
    std::span<const std::uint8_t> b_;
    std::size_t n_ = 0;
};

class BitReaderFast {
public:
    explicit BitReaderFast(std::span<const std::uint8_t> b) : b_(b) {}
    std::uint32_t get(int bits) {
        while (fill_ < bits) {
            if (pos_ >= b_.size()) throw_bad_value("E6803", "amove block", "packed data is truncated", "more bytes", fmt::format("{}", b_.size()));
            acc_ |= static_cast<std::uint64_t>(b_[pos_++]) << fill_;
            fill_ += 8;
        }
        const auto v = static_cast<std::uint32_t>(acc_ & ((1ull << bits) - 1ull));
        acc_ >>= bits;
        fill_ -= bits;
        return v;
    }
    void align() {
        acc_ = 0;
        fill_ = 0;
    }

private:
    std::span<const std::uint8_t> b_;
    std::size_t pos_ = 0;
    std::uint64_t acc_ = 0;
    int fill_ = 0;
};

std::uint8_t encode_element(const QuantSpec& spec, float y, bool ref) {
    if (!ref) return spec.encode(y);
    return spec.format->element ? quant::encode_ref(element_type(*spec.format->element), y) : spec.codebook.encode_ref(y);
}

// Scales of a group from its stored bit patterns (what a decoder sees).
AmoveGroupScales scales_from_codes(const AmoveConfig& c, std::uint32_t s_code, std::uint32_t r_code, std::vector<std::uint8_t> e,
                                   float t) {
    AmoveGroupScales s;
    s.s_code = s_code;
    s.r_code = r_code;
    s.base = scale_format(c.base).decode(s_code) * t;
    s.residual = scale_format(c.residual).decode(r_code) * t;
    s.e = std::move(e);
    for (auto ei : s.e) {
        const float v = s.base - s.residual * static_cast<float>(ei);
        s.cluster_scale.push_back(s.base > 0 && v > 0 ? v : 1.0f);
    }
    return s;
}

template <class Writer>
std::vector<std::uint8_t> encode_row(const AmoveConfig& c, const QuantSpec& spec, std::span<const float> x, float t, bool ref) {
    Writer w;
    const int eb = spec.element_bits();
    const int sb = scale_format(c.base).bits, rb = scale_format(c.residual).bits;
    for (std::size_t gb = 0; gb < x.size(); gb += static_cast<std::size_t>(c.group)) {
        const auto g = x.subspan(gb, std::min<std::size_t>(static_cast<std::size_t>(c.group), x.size() - gb));
        const auto s = fit_amove_group(c, spec, g, t);
        w.put(s.s_code, sb);
        w.put(s.r_code, rb);
        for (auto e : s.e) w.put(e, c.code_bits);
        for (std::size_t k = 0; k < g.size(); ++k)
            w.put(encode_element(spec, g[k] / s.cluster_scale[k / static_cast<std::size_t>(c.cluster)], ref), eb);
        w.align();
    }
    return w.take();
}

template <class Reader>
std::vector<float> decode_row(const AmoveConfig& c, const QuantSpec& spec, std::span<const std::uint8_t> bytes, std::int64_t cols,
                              float t) {
    Reader rd(bytes);
    const int eb = spec.element_bits();
    const int sb = scale_format(c.base).bits, rb = scale_format(c.residual).bits;
    std::vector<float> out;
    out.reserve(static_cast<std::size_t>(cols));
    for (std::int64_t gb = 0; gb < cols; gb += c.group) {
        const std::int64_t n = std::min<std::int64_t>(c.group, cols - gb);
        const auto s_code = rd.get(sb);
        const auto r_code = rd.get(rb);
        std::vector<std::uint8_t> e(static_cast<std::size_t>((n + c.cluster - 1) / c.cluster));
        for (auto& ei : e) ei = static_cast<std::uint8_t>(rd.get(c.code_bits));
        const auto s = scales_from_codes(c, s_code, r_code, std::move(e), t);
        for (std::int64_t k = 0; k < n; ++k)
            out.push_back(s.cluster_scale[static_cast<std::size_t>(k / c.cluster)] * spec.value(static_cast<std::uint8_t>(rd.get(eb))));
        rd.align();
    }
    return out;
}

void qdq_rows(const AmoveConfig& c, const QuantSpec& spec, float* data, std::int64_t rows, std::int64_t cols, bool ref) {
    const float qmax = element_qmax(spec);
    for (std::int64_t r = 0; r < rows; ++r) {
        std::span<float> x(data + r * cols, static_cast<std::size_t>(cols));
        float dmax = 0;
        for (float d : cluster_ideal_scales(c, x, qmax)) dmax = std::max(dmax, d);
        if (dmax == 0) continue;
        const float t = amove_tensor_scale(c, dmax);
        for (std::int64_t gb = 0; gb < cols; gb += c.group) {
            auto g = x.subspan(static_cast<std::size_t>(gb), static_cast<std::size_t>(std::min<std::int64_t>(c.group, cols - gb)));
            const auto s = fit_amove_group(c, spec, g, t);
            if (ref) amove_qdq_group_ref(c, spec, s, g);
            else amove_qdq_group(c, spec, s, g);
        }
    }
}

}  // namespace

// ---- public ----------------------------------------------------------------------------------

void validate_amove_config(const AmoveConfig& c, std::string_view place) {
    auto bad = [&](const std::string& what, const std::string& expected, const std::string& found) {
        throw_bad_value("E6802", std::string(place), what, expected, found);
    };
    if (c.cluster < 1 || c.group < 1 || c.group % c.cluster != 0)
        bad("the group size must be a positive multiple of the cluster size", "G % C == 0, C >= 1",
            fmt::format("G={} C={}", c.group, c.cluster));
    if (c.group > 4096) bad("group size too large", "G <= 4096", fmt::format("{}", c.group));
    if (c.code_bits < 1 || c.code_bits > 4) bad("cluster code bits out of range", "1..4", fmt::format("{}", c.code_bits));
    if (!(c.grid.step > 0) || !(c.grid.hi >= c.grid.lo)) bad("residual grid must have step > 0 and hi >= lo", "lo <= hi, step > 0",
                                                          fmt::format("[{}, {}] step {}", c.grid.lo, c.grid.hi, c.grid.step));
}

const FormatTraits* find_amove_format(std::string_view name) {
    if (!name.starts_with("amove-")) return nullptr;
    std::lock_guard lock(g_mutex);
    for (const auto& r : g_rows)
        if (r.name == name) return &r.traits;
    AmoveFormat row = parse_row(name);
    g_rows.push_back(std::move(row));
    auto& back = g_rows.back();
    back.traits.name = back.name;
    return &back.traits;
}

const AmoveConfig* amove_config(const FormatTraits& format) {
    const AmoveFormat* r = row_of(format);
    return r ? &r->config : nullptr;
}

std::string amove_format_name(const AmoveConfig& c, std::string_view element) {
    std::string n = fmt::format("amove-{}-g{}c{}", element, c.group, c.cluster);
    if (c.code_bits != 2) n += fmt::format("-b{}", c.code_bits);
    if (c.base != ScaleFormat::e4m3) n += fmt::format("-s{}", scale_format(c.base).name);
    if (c.residual != ScaleFormat::e4m3) n += fmt::format("-r{}", scale_format(c.residual).name);
    for (const auto& r : kRules)
        if (r.rule == c.rule && c.rule != ResidualRule::scale_mse) n += fmt::format("-{}", r.name);
    return n;
}

std::vector<float> cluster_ideal_scales(const AmoveConfig& c, std::span<const float> x, float qmax, float clip) {
    std::vector<float> d;
    for (std::size_t b = 0; b < x.size(); b += static_cast<std::size_t>(c.cluster)) {
        float m = 0;
        for (std::size_t k = b; k < std::min(x.size(), b + static_cast<std::size_t>(c.cluster)); ++k) m = std::max(m, std::fabs(x[k]));
        d.push_back(clip * m / qmax);
    }
    return d;
}

float amove_tensor_scale(const AmoveConfig& c, float max_ideal_scale) {
    if (c.base != ScaleFormat::e4m3 || !(max_ideal_scale > 0)) return 1.0f;
    return max_ideal_scale / max_finite(element_type(ElementId::e4m3));
}

std::vector<std::uint8_t> residual_codes(const AmoveConfig& c, std::span<const float> d, float base, float residual) {
    std::vector<std::uint8_t> e(d.size(), 0);
    if (!(residual > 0) || !(base > 0)) return e;
    // Largest code keeping the cluster scale positive.
    int top = c.max_code();
    while (top > 0 && !(base - residual * static_cast<float>(top) > 0)) --top;
    for (std::size_t i = 0; i < d.size(); ++i) {
        const float q = std::nearbyint((base - d[i]) / residual);
        e[i] = static_cast<std::uint8_t>(std::clamp(q, 0.0f, static_cast<float>(top)));
    }
    return e;
}

AmoveGroupScales fit_amove_group(const AmoveConfig& c, const QuantSpec& spec, std::span<const float> x, float t, float clip) {
    const auto d = cluster_ideal_scales(c, x, element_qmax(spec), clip);
    const float dmax = d.empty() ? 0.0f : *std::max_element(d.begin(), d.end());
    const auto& bf = scale_format(c.base);
    const auto& rf = scale_format(c.residual);
    if (!(dmax > 0)) return scales_from_codes(c, bf.encode(0.0f), rf.encode(0.0f), std::vector<std::uint8_t>(d.size(), 0), t);
    std::uint32_t s_code = bf.encode(dmax / t);
    if (!(bf.decode(s_code) > 0)) s_code = bf.encode(std::numeric_limits<float>::min());  // never a zero base for a non-zero group
    const float base = bf.decode(s_code) * t;

    auto candidate = [&](float r_norm) {
        const std::uint32_t rc = rf.encode(std::max(0.0f, r_norm) * base / t);
        return std::pair{rc, rf.decode(rc) * t};
    };
    auto scale_err = [&](float residual) {
        const auto e = residual_codes(c, d, base, residual);
        double err = 0;
        for (std::size_t i = 0; i < d.size(); ++i) {
            const double s = base - residual * static_cast<float>(e[i]);
            err += (d[i] - s) * (d[i] - s);
        }
        return err;
    };
    auto recon_err = [&](std::uint32_t rc) {
        const auto s = scales_from_codes(c, s_code, rc, residual_codes(c, d, base, rf.decode(rc) * t), t);
        std::vector<float> y(x.begin(), x.end());
        amove_qdq_group(c, spec, s, y);
        double err = 0;
        for (std::size_t k = 0; k < y.size(); ++k) err += (static_cast<double>(x[k]) - y[k]) * (static_cast<double>(x[k]) - y[k]);
        return err;
    };

    std::uint32_t best_rc = rf.encode(0.0f);
    if (c.rule == ResidualRule::mean) {
        double gap = 0;
        for (float di : d) gap += std::fabs(di - dmax);
        best_rc = candidate(static_cast<float>(gap / static_cast<double>(d.size()) / (1 << c.code_bits)) / base).first;
    } else {
        // R <= 0 (every cluster at S) first; then r > 0 on the grid. Distinct stored R only.
        double best = c.rule == ResidualRule::scale_mse ? scale_err(0.0f) : recon_err(best_rc);
        std::uint32_t last = best_rc;
        const int steps = static_cast<int>(std::floor((c.grid.hi - c.grid.lo) / c.grid.step + 0.5f));
        for (int k = 0; k <= steps; ++k) {
            const float r = c.grid.lo + c.grid.step * static_cast<float>(k);
            if (!(r > 0)) continue;
            const auto [rc, rv] = candidate(r);
            if (rc == last) continue;
            last = rc;
            const double err = c.rule == ResidualRule::scale_mse ? scale_err(rv) : recon_err(rc);
            if (err < best) best = err, best_rc = rc;
        }
    }
    const float residual = rf.decode(best_rc) * t;
    return scales_from_codes(c, s_code, best_rc, residual_codes(c, d, base, residual), t);
}

void amove_qdq_group_ref(const AmoveConfig& c, const QuantSpec& spec, const AmoveGroupScales& s, std::span<float> x) {
    for (std::size_t k = 0; k < x.size(); ++k) {
        const float sc = s.cluster_scale[k / static_cast<std::size_t>(c.cluster)];
        x[k] = sc * spec.value(encode_element(spec, x[k] / sc, true));
    }
}

void amove_qdq_group(const AmoveConfig& c, const QuantSpec& spec, const AmoveGroupScales& s, std::span<float> x) {
    const auto cl = static_cast<std::size_t>(c.cluster);
    for (std::size_t b = 0, i = 0; b < x.size(); b += cl, ++i) {
        const float sc = s.cluster_scale[i];
        for (std::size_t k = b; k < std::min(x.size(), b + cl); ++k) x[k] = sc * spec.value(spec.encode(x[k] / sc));
    }
}

std::uint64_t amove_group_bits(const AmoveConfig& c, int element_bits, std::int64_t n) {
    const auto clusters = static_cast<std::uint64_t>((n + c.cluster - 1) / c.cluster);
    const std::uint64_t bits = static_cast<std::uint64_t>(scale_format(c.base).bits + scale_format(c.residual).bits) +
                               clusters * static_cast<std::uint64_t>(c.code_bits) +
                               static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(element_bits);
    return (bits + 7) / 8 * 8;
}

std::uint64_t amove_row_bits(const AmoveConfig& c, int element_bits, std::int64_t cols) {
    std::uint64_t b = 0;
    for (std::int64_t gb = 0; gb < cols; gb += c.group) b += amove_group_bits(c, element_bits, std::min<std::int64_t>(c.group, cols - gb));
    return b;
}

double amove_overhead_bits_per_value(const AmoveConfig& c) {
    return static_cast<double>(scale_format(c.base).bits + scale_format(c.residual).bits) / c.group +
           static_cast<double>(c.code_bits) / c.cluster;
}

std::vector<std::uint8_t> amove_encode_row_ref(const AmoveConfig& c, const QuantSpec& spec, std::span<const float> x, float t) {
    return encode_row<BitWriterRef>(c, spec, x, t, true);
}
std::vector<std::uint8_t> amove_encode_row(const AmoveConfig& c, const QuantSpec& spec, std::span<const float> x, float t) {
    return encode_row<BitWriterFast>(c, spec, x, t, false);
}
std::vector<float> amove_decode_row_ref(const AmoveConfig& c, const QuantSpec& spec, std::span<const std::uint8_t> bytes,
                                        std::int64_t cols, float t) {
    return decode_row<BitReaderRef>(c, spec, bytes, cols, t);
}
std::vector<float> amove_decode_row(const AmoveConfig& c, const QuantSpec& spec, std::span<const std::uint8_t> bytes,
                                    std::int64_t cols, float t) {
    return decode_row<BitReaderFast>(c, spec, bytes, cols, t);
}

void amove_qdq_rows_ref(const AmoveConfig& c, const QuantSpec& spec, float* data, std::int64_t rows, std::int64_t cols) {
    qdq_rows(c, spec, data, rows, cols, true);
}
void amove_qdq_rows(const AmoveConfig& c, const QuantSpec& spec, float* data, std::int64_t rows, std::int64_t cols) {
    qdq_rows(c, spec, data, rows, cols, false);
}

}  // namespace halo::quant
