// GGUF export: each GGML type re-read with halo's GGUF reader gives QuantizedTensor::decode() bit
// for bit; Q4_1 is exact only when m = -s*z is an FP16 number (else lossy by a measured amount);
// Q/K rows go back to llama.cpp's order; a whole tiny model exported and re-loaded gives the
// quantized directory's weights and logits; refusals and output-path errors with their messages.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <cstring>
#include <functional>
#include <random>

#include <unistd.h>

#include "halo/model/float_convert.hpp"
#include "halo/model/forward.hpp"
#include "halo/model/gguf_reader.hpp"
#include "halo/model/gguf_writer.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/quant/export_gguf.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "../model/gguf_test_util.hpp"  // ScratchDir, expect_error (shared with the model tests)
#include "test_util.hpp"
#include "tiny_gguf.hpp"

namespace halo::quant {
namespace {

namespace fs = std::filesystem;
using model::GgmlType;

using Scratch = model::testing::ScratchDir;
using model::testing::expect_error;

const GgufExportType& type_named(std::string_view name) {
    for (const auto& t : gguf_export_types())
        if (t.name == name) return t;
    throw std::logic_error("no type");
}

// Writes `bytes` as a one-tensor GGUF, reads it back with GgufFile and dequantizes (fast path);
// also decodes with the reference dequantizer.
struct ReRead {
    std::vector<float> fast, ref;
};
ReRead reread(const EncodedTensor& e, std::int64_t rows, std::int64_t cols, const fs::path& path) {
    model::GgufWriter w;
    w.add_tensor("t", {cols, rows}, e.type->type, e.bytes);
    w.write(path);
    const model::GgufFile f(path);
    const auto* info = f.find_tensor("t");
    ReRead r;
    r.fast = f.dequantize(*info);
    r.ref.resize(r.fast.size());
    const auto& tt = model::traits(e.type->type);
    const auto bytes = f.tensor_bytes(*info);
    tt.dequant_ref(bytes.data(), r.ref.data(), info->n_elements() / tt.block_size);
    return r;
}

void expect_bits_equal(const std::vector<float>& a, const std::vector<float>& b) {
    ASSERT_EQ(a.size(), b.size());
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * 4), 0);
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i] != b[i]) {
            ADD_FAILURE() << "first difference at " << i << ": " << a[i] << " vs " << b[i];
            return;
        }
}

struct Case {
    const char* format;
    const char* type;
};
class ExactTypes : public ::testing::TestWithParam<Case> {};

TEST_P(ExactTypes, RtnG32ReReadIsBitIdenticalToDecode) {
    const auto [format, type] = GetParam();
    Scratch dir;
    const auto w = testing::random_matrix(12, 96, 5, 0.3f);
    const QuantizedTensor t = quantize_rtn(w, make_spec(format, Granularity::per_group(32)));
    // int4-asym is exact only when every m = -s*z is FP16: make each group's range 15 * 2^-4
    // with lo = -3/16 so s = 1/16, z = 3 (asserted below through `exact`).
    QuantizedTensor tq = t;
    if (std::string(format) == "int4-asym") {
        model::Matrix g(12, 96);
        std::mt19937 rng(3);
        std::uniform_int_distribution<int> q(-3, 12);
        for (std::int64_t r = 0; r < 12; ++r)
            for (std::int64_t c = 0; c < 96; ++c) g.at(r, c) = (c % 32 == 0 ? -3 : c % 32 == 1 ? 12 : q(rng)) / 16.0f;
        tq = quantize_rtn(g, make_spec(format, Granularity::per_group(32)));
    }
    EXPECT_EQ(gguf_type_mismatch(type_named(type), tq), "");
    const EncodedTensor e = choose_gguf_encoding(tq, "t", {});
    EXPECT_EQ(e.type->name, type);
    EXPECT_TRUE(e.exact);
    EXPECT_EQ(e.max_abs_error, 0.0);
    EXPECT_EQ(static_cast<std::int64_t>(e.bytes.size()), 12 * 96 / 32 * model::traits(e.type->type).type_size);
    const ReRead back = reread(e, 12, 96, dir / "t.gguf");
    expect_bits_equal(back.fast, tq.decode().data);
    expect_bits_equal(back.ref, tq.decode().data);
}

INSTANTIATE_TEST_SUITE_P(Export, ExactTypes,
                         ::testing::Values(Case{"int8", "Q8_0"}, Case{"int4", "Q4_0"}, Case{"int4-asym", "Q4_1"}));

TEST(ExportGguf, Q4_1IsLossyByTheFp16RoundingOfMWhenItIsNotExact) {
    const auto w = testing::random_matrix(16, 64, 11, 0.2f);
    const QuantizedTensor t = quantize_rtn(w, make_spec("int4-asym", Granularity::per_group(32)));
    double max_dm = 0;  // the FP16 rounding of m = -s*z, per group
    for (const auto& p : t.all_params()) {
        const float m = -p.scale * p.zero;
        max_dm = std::max(max_dm, std::fabs(static_cast<double>(model::fp16_to_fp32(model::fp32_to_fp16(m))) - m));
    }
    ASSERT_GT(max_dm, 0.0) << "random weights should give some m that FP16 cannot hold";
    const EncodedTensor e = encode_gguf_tensor(t, type_named("Q4_1"));
    EXPECT_FALSE(e.exact);
    // d*q + m16 differs from s*(q - z) by m16 - m, plus at most one FP32 rounding of the sum.
    EXPECT_NEAR(e.max_abs_error, max_dm, 1e-6);
    expect_error([&] { choose_gguf_encoding(t, "blk.0.ffn_up.weight", {}); }, "E6021",
                 {"blk.0.ffn_up.weight", "Q4_1 cannot hold this tensor exactly", "int4-asym g32", "max abs error",
                  "--allow-lossy", "--fallback f32"});
    const EncodedTensor allowed = choose_gguf_encoding(t, "x", {.allow_lossy = true});
    EXPECT_EQ(allowed.type->name, "Q4_1");
    EXPECT_EQ(allowed.max_abs_error, e.max_abs_error);
    const EncodedTensor f32 = choose_gguf_encoding(t, "x", {.fallback = &gguf_fallback_type("f32")});
    EXPECT_EQ(f32.type->name, "F32");
    EXPECT_TRUE(f32.exact);
}

TEST(ExportGguf, QkRowsAreWrittenInLlamaCppOrder) {
    // 2 heads of 16 rows: the file must hold permute_qk_rows(decode()), so the loader's
    // unpermute gives decode() back.
    const auto w = testing::random_matrix(32, 64, 21, 0.3f);
    const QuantizedTensor t = quantize_rtn(w, make_spec("int8", Granularity::per_group(32)));
    const EncodedTensor e = encode_gguf_tensor(t, type_named("Q8_0"), /*qk_heads=*/2);
    EXPECT_TRUE(e.exact);
    Scratch dir;
    const ReRead back = reread(e, 32, 64, dir / "q.gguf");
    model::Matrix m(32, 64);
    m.data = back.fast;
    model::Matrix expected = t.decode();
    EXPECT_NE(m.data, expected.data);  // the rows really moved
    model::unpermute_qk_rows(m, 2);
    expect_bits_equal(m.data, expected.data);
    // GGUF row 1 is HF row 8 of head 0 (hd = 16: rows 2i+j <- j*8+i).
    for (std::int64_t c = 0; c < 64; ++c) EXPECT_EQ(back.fast[static_cast<std::size_t>(64 + c)], expected.at(8, c));
}

TEST(ExportGguf, RefusesWhatNoGgmlTypeHoldsNamingTensorFormatAndFits) {
    const auto w = testing::random_matrix(8, 256, 31, 0.3f);
    const QuantizedTensor g128 = quantize_rtn(w, make_spec("int4", Granularity::per_group(128)));
    expect_error([&] { choose_gguf_encoding(g128, "blk.2.attn_v.weight", {}); }, "E6020",
                 {"blk.2.attn_v.weight", "no GGML type holds this tensor exactly", "int4 g128 (fp16 scales)",
                  "int8 g32 (Q8_0), int4 g32 (Q4_0) or int4-asym g32 (Q4_1)", "re-quantize with --group 32 to get Q4_0",
                  "--fallback f16", "--fallback f32"});
    EXPECT_EQ(gguf_type_mismatch(type_named("Q4_0"), g128), "Q4_0 needs groups of 32 along the input dim, found g128");
    const QuantizedTensor per_channel = quantize_rtn(w, make_spec("int8", Granularity::per_channel()));
    expect_error([&] { choose_gguf_encoding(per_channel, "a", {}); }, "E6020", {"int8 per-channel", "get Q8_0"});
    const QuantizedTensor fp8 = quantize_rtn(w, make_spec("fp8-e4m3", Granularity::per_group(32)));
    EXPECT_EQ(gguf_type_mismatch(type_named("Q8_0"), fp8), "Q8_0 holds int8, not fp8-e4m3");
    try {
        choose_gguf_encoding(fp8, "b", {});
        ADD_FAILURE();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).find("re-quantize"), std::string::npos) << e.what();  // no type would fit
    }
    QuantizedTensor awq = quantize_rtn(w, make_spec("int4", Granularity::per_group(32)));
    awq.input_scale.assign(256, 1.0f);
    expect_error([&] { choose_gguf_encoding(awq, "c", {}); }, "E6020", {"int4 g32 (fp16 scales) with AWQ input scales"});
    QuantizedTensor sparse = quantize_rtn(w, make_spec("int8", Granularity::per_group(32)));
    sparse.sparse.row_ptr.assign(9, 0);
    EXPECT_EQ(gguf_type_mismatch(type_named("Q8_0"), sparse), "Q8_0 has no room for a sparse FP16 part (0 entries)");
    QuantizedTensor tiles = quantize_rtn(w, make_spec("int8", Granularity::per_group(32)));
    tiles.tiles.tile_rows = tiles.tiles.tile_cols = 8;
    EXPECT_EQ(gguf_type_mismatch(type_named("Q8_0"), tiles), "Q8_0 has no room for HALO tiles 8x8");
    expect_error([] { gguf_fallback_type("bf16"); }, "E6025", {"unknown fallback type", "f16 or f32", "bf16"});
}

TEST(ExportGguf, ScalesMustBeFp16NumbersWhateverTheirFormat) {
    // fp32 scales of random weights are not FP16 numbers: refused (E6020) naming the scale
    // format and the fix, not offered as "lossy".
    const auto w = testing::random_matrix(8, 64, 51, 0.3f);
    for (const char* format : {"int8", "int4", "int4-asym"}) {
        const QuantizedTensor t = quantize_rtn(w, make_spec(format, Granularity::per_group(32), ScaleFormat::fp32));
        const std::string why = gguf_type_mismatch(gguf_export_types()[std::string(format) == "int8" ? 0 : std::string(format) == "int4" ? 1 : 2], t);
        EXPECT_NE(why.find("needs FP16 scales: the fp32 scale"), std::string::npos) << why;
        EXPECT_NE(why.find("is not an FP16 number"), std::string::npos) << why;
        expect_error([&] { choose_gguf_encoding(t, "blk.0.ffn_up.weight", {.allow_lossy = true}); }, "E6020",
                     {"blk.0.ffn_up.weight", "no GGML type holds this tensor exactly", "g32 (fp32 scales)", "FP16 scales",
                      "re-quantize with --scale-format fp16 to get"});
        // The fallback still takes it.
        EXPECT_EQ(choose_gguf_encoding(t, "x", {.fallback = &gguf_fallback_type("f32")}).type->name, "F32");
    }
    // Both the group and the scales wrong: the hint names both flags.
    const QuantizedTensor g64 = quantize_rtn(w, make_spec("int8", Granularity::per_group(64), ScaleFormat::fp32));
    expect_error([&] { choose_gguf_encoding(g64, "a", {}); }, "E6020", {"re-quantize with --group 32 --scale-format fp16 to get Q8_0"});

    // fp32 scales that happen to be FP16 numbers: taken, and exact.
    QuantizedTensor rounded = quantize_rtn(w, make_spec("int8", Granularity::per_group(32), ScaleFormat::fp32));
    for (auto& p : rounded.all_params()) p.scale = model::fp16_to_fp32(model::fp32_to_fp16(p.scale));
    const EncodedTensor e = choose_gguf_encoding(rounded, "x", {});
    EXPECT_EQ(e.type->name, "Q8_0");
    EXPECT_TRUE(e.exact);

    // e8m0 (powers of two) scales within FP16's range are FP16 numbers: exact Q8_0 / Q4_0.
    for (const auto& [format, type] : {std::pair{"int8", "Q8_0"}, std::pair{"int4", "Q4_0"}}) {
        const QuantizedTensor t = quantize_rtn(w, make_spec(format, Granularity::per_group(32), ScaleFormat::e8m0));
        const EncodedTensor x = choose_gguf_encoding(t, "x", {});
        EXPECT_EQ(x.type->name, type);
        EXPECT_TRUE(x.exact);
    }
    // ... and below it (2^-30: FP16's smallest subnormal is 2^-24) they are not.
    model::Matrix tiny = w;
    for (auto& v : tiny.data) v *= std::ldexp(1.0f, -30);
    const QuantizedTensor small = quantize_rtn(tiny, make_spec("int8", Granularity::per_group(32), ScaleFormat::e8m0));
    expect_error([&] { choose_gguf_encoding(small, "b", {.allow_lossy = true}); }, "E6020",
                 {"int8 g32 (e8m0 scales)", "--scale-format fp16"});
    EXPECT_NE(gguf_type_mismatch(gguf_export_types()[0], small).find("the e8m0 scale"), std::string::npos);
}

TEST(ExportGguf, EncodingWithATypeThatDoesNotTakeTheTensorIsAnInternalError) {
    const auto w = testing::random_matrix(8, 256, 61, 0.3f);
    const QuantizedTensor g128 = quantize_rtn(w, make_spec("int4", Granularity::per_group(128)));
    try {
        encode_gguf_tensor(g128, type_named("Q4_0"));
        ADD_FAILURE() << "a mismatched type must be refused";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E6029") << e.what();  // not a bad-input code
        EXPECT_EQ(e.diagnostic().kind, ErrorKind::internal) << e.what();
        EXPECT_NE(std::string(e.what()).find("Q4_0 needs groups of 32"), std::string::npos) << e.what();
    }
}

TEST(ExportGguf, FallbackNamesComeFromTheTable) {
    std::vector<std::string> expected;
    for (const auto& t : gguf_export_types())
        if (t.fallback) {
            expected.push_back(gguf_fallback_name(t));
            EXPECT_EQ(&gguf_fallback_type(gguf_fallback_name(t)), &t);
        }
    EXPECT_EQ(gguf_fallback_names(), expected);
    EXPECT_EQ(expected, (std::vector<std::string>{"f16", "f32"}));
    expect_error([] { gguf_fallback_type("q4_0"); }, "E6025", {"unknown fallback type", "f16 or f32", "found q4_0"});
}

TEST(ExportGguf, FallbackF16IsTheRoundedDecodeAndF32IsExact) {
    const auto w = testing::random_matrix(8, 256, 41, 0.3f);
    const QuantizedTensor t = quantize_rtn(w, make_spec("int4", Granularity::per_group(128)));
    const auto decoded = t.decode();
    double expected = 0;
    for (float v : decoded.data)
        expected = std::max(expected, std::fabs(static_cast<double>(model::fp16_to_fp32(model::fp32_to_fp16(v))) - v));
    const EncodedTensor f16 = choose_gguf_encoding(t, "x", {.fallback = &gguf_fallback_type("f16")});
    EXPECT_EQ(f16.type->type, GgmlType::f16);
    EXPECT_EQ(f16.max_abs_error, expected);
    EXPECT_EQ(f16.exact, expected == 0);
    const EncodedTensor f32 = choose_gguf_encoding(t, "x", {.fallback = &gguf_fallback_type("f32")});
    EXPECT_TRUE(f32.exact);
    Scratch dir;
    expect_bits_equal(reread(f32, 8, 256, dir / "f.gguf").fast, decoded.data);
}

// ---- whole model ----

using testing::kLayers;
using testing::write_tiny_gguf;

// Quantizes the model at `gguf` with RTN and writes the directory (source_model recorded).
fs::path write_quantized(const fs::path& gguf, const fs::path& dir, const std::string& format, Granularity g) {
    model::ModelWeights weights = model::load_model(gguf);
    QuantizeOptions opt;
    opt.format = format;
    opt.granularity = g;
    const QuantizedModel qm = quantize_model(weights, opt, nullptr);
    RunInfo info;
    info.source_model = fs::absolute(gguf).string();
    info.source_format = weights.source_format;
    write_quantized_dir(dir, qm, opt, info, false);
    return dir;
}

class WholeModel : public ::testing::TestWithParam<Case> {};

TEST_P(WholeModel, ExportReloadsToTheDirectorysWeightsAndLogits) {
    const auto [format, type] = GetParam();
    Scratch s;
    const fs::path src = write_tiny_gguf(s / "tiny.gguf", 1);
    std::string fmt_name = format;
    const fs::path qdir = write_quantized(src, s / "q", fmt_name, Granularity::per_group(32));
    GgufExportOptions o{.quantized_dir = qdir, .out = s / "out" / "tiny-q.gguf"};
    if (fmt_name == "int4-asym") o.policy.allow_lossy = true;  // random weights: some m not FP16
    std::vector<std::size_t> seen;
    o.progress = [&](const ProgressUpdate& u) { seen.push_back(u.done); };
    const GgufExportReport r = export_gguf(o);
    EXPECT_EQ(r.model, fs::absolute(src));
    ASSERT_EQ(r.linears.size(), 7u * kLayers);
    for (const auto& l : r.linears) EXPECT_EQ(l.type, type) << l.name;
    EXPECT_EQ(r.tensors_copied, 2u + 2u * kLayers);  // embedding, output norm, two norms per layer
    EXPECT_EQ(seen.back(), 7u * kLayers);
    EXPECT_EQ(r.bytes, fs::file_size(o.out));

    model::ModelWeights from_dir = model::load_model(src);
    load_quantized(qdir, from_dir);
    const model::ModelWeights exported = model::load_model(o.out);
    const bool exact = std::string(type) != "Q4_1";
    for (int l = 0; l < kLayers; ++l)
        for (auto k : model::kLinearKinds) {
            const auto& a = from_dir.layers[static_cast<std::size_t>(l)][k].data;
            const auto& b = exported.layers[static_cast<std::size_t>(l)][k].data;
            if (exact) {
                EXPECT_EQ(a, b) << l << " " << model::linear_name(k);
            }
            double err = 0;
            for (std::size_t i = 0; i < a.size(); ++i) err = std::max(err, std::fabs(static_cast<double>(a[i]) - b[i]));
            const auto& rep = r.linears[static_cast<std::size_t>(l * 7 + static_cast<int>(k))];
            EXPECT_EQ(err, rep.max_abs_error) << rep.name;  // the report's error is the reload's error
        }
    EXPECT_EQ(exported.token_embedding.data, from_dir.token_embedding.data);
    EXPECT_EQ(exported.output_norm, from_dir.output_norm);
    const std::vector<std::int32_t> tokens = {1, 5, 9, 33, 2, 17, 39, 0};
    const auto la = model::forward_logits(from_dir, tokens), lb = model::forward_logits(exported, tokens);
    if (exact) {
        EXPECT_EQ(la.data, lb.data);
    }

    // Metadata: every source key copied with its type and value; file type and provenance set.
    const model::GgufFile in(src), out(o.out);
    for (const auto& [key, v] : in.metadata()) {
        const auto* got = out.find(key);
        ASSERT_NE(got, nullptr) << key;
        if (key == "general.file_type") continue;
        EXPECT_EQ(got->type, v.type) << key;
        EXPECT_EQ(got->element_type, v.element_type) << key;
        EXPECT_EQ(got->ints, v.ints) << key;
        EXPECT_EQ(got->floats, v.floats) << key;
        EXPECT_EQ(got->strings, v.strings) << key;
    }
    const std::int64_t ftype = std::string(type) == "Q8_0" ? 7 : std::string(type) == "Q4_0" ? 2 : 3;
    EXPECT_EQ(out.get_int("general.file_type"), ftype);
    EXPECT_EQ(out.get_string("halo.export.method"), "rtn");
    EXPECT_EQ(out.get_string("halo.export.quantized_dir"), fs::absolute(qdir).string());
}

INSTANTIATE_TEST_SUITE_P(Export, WholeModel,
                         ::testing::Values(Case{"int8", "Q8_0"}, Case{"int4", "Q4_0"}, Case{"int4-asym", "Q4_1"}));

TEST(ExportGgufModel, RefusalWritesNothingAndFallbackSaysSo) {
    Scratch s;
    const fs::path src = write_tiny_gguf(s / "tiny.gguf", 2);
    const fs::path qdir = write_quantized(src, s / "q", "int4", Granularity::per_channel());
    GgufExportOptions o{.quantized_dir = qdir, .out = s / "x.gguf"};
    expect_error([&] { export_gguf(o); }, "E6020", {"blk.0.attn_q.weight", "int4 per-channel", "get Q4_0"});
    EXPECT_FALSE(fs::exists(o.out));
    o.policy.fallback = &gguf_fallback_type("f16");
    const auto r = export_gguf(o);
    for (const auto& l : r.linears) {
        EXPECT_EQ(l.type, "F16");
        EXPECT_TRUE(l.fallback);
    }
    const model::GgufFile out(o.out);
    EXPECT_EQ(out.find("halo.export.fallback_tensors")->strings.size(), 7u * kLayers);
    EXPECT_EQ(out.get_string("halo.export.fallback_type"), "F16");
    EXPECT_EQ(out.get_int("general.file_type"), 1);
    EXPECT_EQ(out.find_tensor("blk.1.ffn_down.weight")->type->type, GgmlType::f16);
}

TEST(ExportGgufModel, InputAndOutputErrors) {
    Scratch s;
    const fs::path src = write_tiny_gguf(s / "tiny.gguf", 3);
    const fs::path qdir = write_quantized(src, s / "q", "int8", Granularity::per_group(32));
    // The output exists (here: the source model itself) without overwrite.
    expect_error([&] { export_gguf({.quantized_dir = qdir, .out = src}); }, "E6024", {"output file exists", "--force"});
    // A path under a regular file cannot be written.
    expect_error([&] { export_gguf({.quantized_dir = qdir, .out = src / "sub" / "x.gguf"}); }, "E6026",
                 {"output path cannot be written", "not a directory"});
    // An existing directory as --out: refused before any work, with or without overwrite.
    fs::create_directories(s / "outdir");
    for (const bool overwrite : {false, true}) {
        int updates = 0;
        GgufExportOptions o{.quantized_dir = qdir, .out = s / "outdir", .overwrite = overwrite};
        o.progress = [&](const ProgressUpdate&) { ++updates; };
        expect_error([&] { export_gguf(o); }, "E6026",
                     {"outdir", "output path is a directory", "expected a .gguf file path", "outdir/model.gguf"});
        EXPECT_EQ(updates, 0) << "refused after encoding";
        EXPECT_TRUE(fs::is_directory(s / "outdir"));
    }
    // Another model (d_model 32) given as the source: its digest is not the manifest's; without
    // verification (--no-verify) the shapes still disagree.
    const fs::path other = write_tiny_gguf(s / "other.gguf", 4, 32);
    expect_error([&] { export_gguf({.quantized_dir = qdir, .model = other, .out = s / "y.gguf"}); }, "E6040",
                 {"other.gguf", "not the one the quantized directory was made from"});
    expect_error([&] { export_gguf({.quantized_dir = qdir, .model = other, .out = s / "y.gguf", .verify = false}); }, "E6023",
                 {"blk.0.attn_q.weight", "source tensor shape differs", "64x64", "64x32"});
    // A same-shaped model of other weights: only the digest tells them apart.
    const fs::path twin = write_tiny_gguf(s / "twin.gguf", 99);
    expect_error([&] { export_gguf({.quantized_dir = qdir, .model = twin, .out = s / "y.gguf"}); }, "E6040",
                 {"twin.gguf", "not the one the quantized directory was made from"});
    // A directory as the source model (a safetensors checkpoint, say).
    expect_error([&] { export_gguf({.quantized_dir = qdir, .model = s / "q", .out = s / "y.gguf"}); }, "E6022",
                 {"source model is not a GGUF file", "a directory"});
    // A truncated tensor file in the directory.
    const fs::path hqt = qdir / "blk.1.ffn_up.hqt";
    fs::resize_file(hqt, fs::file_size(hqt) - 10);
    expect_error([&] { export_gguf({.quantized_dir = qdir, .out = s / "y.gguf"}); }, "E6038", {"blk.1.ffn_up.hqt", "digest"});
    expect_error([&] { export_gguf({.quantized_dir = qdir, .out = s / "y.gguf", .verify = false}); }, "E6010",
                 {"blk.1.ffn_up.hqt", "truncated"});
    // A truncated source model.
    const fs::path qdir2 = write_quantized(src, s / "q2", "int8", Granularity::per_group(32));
    fs::resize_file(src, fs::file_size(src) / 2);
    try {
        expect_error([&] { export_gguf({.quantized_dir = qdir2, .out = s / "z.gguf"}); }, "E6040", {"tiny.gguf", "sha256"});
        export_gguf({.quantized_dir = qdir2, .out = s / "z.gguf", .verify = false});
        ADD_FAILURE() << "a truncated source must be refused";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().kind, ErrorKind::bad_input) << e.what();
        EXPECT_EQ(e.diagnostic().code.substr(0, 3), "E50") << e.what();
        EXPECT_NE(std::string(e.what()).find("tiny.gguf"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fs::exists(s / "y.gguf"));
    EXPECT_FALSE(fs::exists(s / "z.gguf"));
}

TEST(ExportGgufModel, ActivationQuantizationIsRefused) {
    Scratch s;
    const fs::path src = write_tiny_gguf(s / "tiny.gguf", 5);
    const fs::path qdir = write_quantized(src, s / "q", "int8", Granularity::per_group(32));
    auto m = nlohmann::json::parse(read_file(qdir / "manifest.json"));
    m["activation_format"] = "int8_per_token";
    write_file_atomic(qdir / "manifest.json", m.dump());
    expect_error([&] { export_gguf({.quantized_dir = qdir, .out = s / "y.gguf"}); }, "E6022",
                 {"activation quantization cannot be exported", "int8_per_token"});
}

}  // namespace
}  // namespace halo::quant
