// quantize_streaming (one block resident) against quantize_model on the whole model: every
// .hqt file byte-identical, for RTN and GPTQ, with the calibration hidden states in memory
// and spilled to a file, on a synthetic checkpoint and on the installed default model.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <unistd.h>

#include <fmt/format.h>

#include "halo/model/lazy_model.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/quant/streaming_quantizer.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {
namespace {

class Scratch {
public:
    Scratch() {
        static std::atomic<int> n{0};
        path_ = std::filesystem::temp_directory_path() / fmt::format("halo_stream_test_{}_{}", ::getpid(), n++);
        std::filesystem::create_directories(path_);
    }
    ~Scratch() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

private:
    std::filesystem::path path_;
};

std::vector<std::vector<std::int32_t>> samples_for(const std::filesystem::path& model, int n, int len) {
    const auto tok = model::load_tokenizer(model);
    std::string text;
    for (int i = 0; i < 400; ++i) text += fmt::format("Sample sentence number {} says something about item {}. ", i, i * 7 % 13);
    return calibration_samples(tok->encode(text, false), n, len, "test text");
}

// Streams `model` into a directory and checks each file against the in-memory quantizer's.
// `hooks`: the calibration's activation hooks on both sides (--calib-int8-inputs).
void expect_streamed_identical(const std::filesystem::path& model_path, const QuantizeOptions& opt,
                               const std::vector<std::vector<std::int32_t>>& samples, std::int64_t budget,
                               const model::ForwardHooks* hooks = nullptr) {
    Scratch dir;
    model::ModelWeights w = model::load_model(model_path);
    std::unique_ptr<LayerwiseSource> src;
    if (!samples.empty()) src = std::make_unique<LayerwiseSource>(w, samples, opt.threads, hooks);
    const QuantizedModel ref = quantize_model(w, opt, src.get());

    const model::LazyModel lazy(model_path);
    StreamingQuantizeOptions so;
    so.quantize = opt;
    so.samples = samples;
    so.activation_budget_bytes = budget;
    so.calib_hooks = hooks;
    QuantizedDirWriter out(dir / "q", false);
    const auto r = quantize_streaming(lazy, so, out);
    out.finish(r.totals, opt, RunInfo{});
    EXPECT_EQ(r.blocks, w.config.n_layers);
    EXPECT_GT(r.phases.load, 0);   // the phase timers ran (their sum is the per-block breakdown)
    EXPECT_GT(r.phases.write, 0);
    EXPECT_EQ(r.phases.capture > 0, !samples.empty());
    EXPECT_EQ(r.activations_spilled, !samples.empty() && budget == 0);
    EXPECT_EQ(r.totals.bits.total(), ref.bits.total());
    EXPECT_EQ(r.totals.spec, ref.spec);
    ASSERT_EQ(ref.linears.size(), static_cast<std::size_t>(w.config.n_layers) * 7);
    for (const auto& rec : ref.linears) {
        const auto file = dir / "q" / fmt::format("blk.{}.{}.hqt", rec.layer, model::linear_name(rec.kind));
        ASSERT_TRUE(std::filesystem::exists(file)) << file;
        EXPECT_EQ(read_file(file), write_hqt(rec.tensor)) << file;
    }
    // And the directory reads back like any other.
    const auto back = read_quantized_dir(dir / "q");
    EXPECT_EQ(back.linears.size(), ref.linears.size());
}

std::filesystem::path tiny_checkpoint(const Scratch& dir) {
    model::SyntheticOptions o;
    o.shards = 2;
    o.dtype = "bf16";
    o.threads = 1;
    model::write_synthetic_checkpoint(dir / "tiny", model::synthetic_shape("test-tiny"), o);
    return dir / "tiny";
}

TEST(StreamingQuantize, RtnFilesIdenticalToTheInMemoryQuantizer) {
    Scratch dir;
    QuantizeOptions opt;
    opt.method = Method::rtn;
    opt.format = "int4";
    opt.granularity = Granularity::per_group(32);
    expect_streamed_identical(tiny_checkpoint(dir), opt, {}, 1 << 30);
}

TEST(StreamingQuantize, GptqFilesIdenticalInMemoryAndSpilled) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    QuantizeOptions opt;
    opt.method = Method::gptq;
    opt.format = "int4";
    opt.granularity = Granularity::per_group(32);
    opt.threads = 1;
    const auto samples = samples_for(path, 3, 48);
    expect_streamed_identical(path, opt, samples, 1 << 30);
    expect_streamed_identical(path, opt, samples, 0);
}

// Records the Grams every capture returns, passing everything to the real source.
class RecordingSource final : public CalibrationSource {
public:
    explicit RecordingSource(CalibrationSource& inner) : inner_(inner) {}
    std::array<model::LinearInputStats, 7> capture(int layer, const model::StatsRequest& request) override {
        auto s = inner_.capture(layer, request);
        grams.push_back(s[0].gram);  // q's input (the attention norm output)
        down_grams.push_back(s[static_cast<std::size_t>(model::LinearKind::ffn_down)].gram);
        return s;
    }
    void advance(int layer) override { inner_.advance(layer); }
    std::int64_t tokens() const override { return inner_.tokens(); }
    std::vector<model::Matrix> grams, down_grams;

private:
    CalibrationSource& inner_;
};

// --calib-int8-inputs: the streamed driver calibrates through the same INT8-per-token hooks as
// the in-memory one (files identical, in memory and spilled), and the hooks change the codes.
TEST(StreamingQuantize, GptqOnInt8CalibrationInputsIdenticalToTheInMemoryQuantizer) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    QuantizeOptions opt;
    opt.method = Method::gptq;
    opt.format = "int4";
    opt.granularity = Granularity::per_group(32);
    opt.threads = 1;
    const auto samples = samples_for(path, 3, 40);
    const auto hooks = activation_hooks_for("int8_per_token");
    expect_streamed_identical(path, opt, samples, 1 << 30, &hooks);
    expect_streamed_identical(path, opt, samples, 0, &hooks);
    const model::ModelWeights original = model::load_model(path);
    model::ModelWeights fp = original, int8 = original;
    LayerwiseSource fp_src(fp, samples, 1), int8_src(int8, samples, 1, &hooks);
    const auto a = quantize_model(fp, opt, &fp_src);
    const auto b = quantize_model(int8, opt, &int8_src);
    std::size_t differ = 0;
    for (std::size_t i = 0; i < a.linears.size(); ++i) differ += a.linears[i].tensor.codes() != b.linears[i].tensor.codes();
    EXPECT_GT(differ, 0u);
}

// --calib-inputs unquantized: every block's statistics are the unquantized model's, bit for bit
// (the same calibration code advancing through the unquantized blocks); sequential ones differ
// from the second block on.
TEST(CalibrationInputs, UnquantizedSeesTheUnquantizedModelsStatistics) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    const auto samples = samples_for(path, 3, 40);
    const model::ModelWeights original = model::load_model(path);
    QuantizeOptions opt;
    opt.method = Method::gptq;
    opt.format = "int3";
    opt.granularity = Granularity::per_group(32);
    opt.threads = 1;

    model::LayerwiseCalibration reference(original, samples, 1);
    std::vector<model::Matrix> want, want_down;
    for (int l = 0; l < original.config.n_layers; ++l) {
        const auto s = reference.capture(l, {.gram = true, .channel_stats = false});
        want.push_back(s[0].gram);
        want_down.push_back(s[static_cast<std::size_t>(model::LinearKind::ffn_down)].gram);
        reference.advance(l);
    }
    for (const auto mode : {CalibrationInputs::unquantized, CalibrationInputs::sequential}) {
        SCOPED_TRACE(mode == CalibrationInputs::unquantized ? "unquantized" : "sequential");
        model::ModelWeights w = original;
        LayerwiseSource inner(w, samples, 1);
        RecordingSource rec(inner);
        opt.calib_inputs = mode;
        quantize_model(w, opt, &rec);
        ASSERT_EQ(rec.grams.size(), want.size());
        ASSERT_GE(want.size(), 2u);
        EXPECT_EQ(rec.grams[0].data, want[0].data);  // block 0 sees the embeddings either way
        for (std::size_t l = 1; l < want.size(); ++l) {
            if (mode == CalibrationInputs::unquantized) {
                EXPECT_EQ(rec.grams[l].data, want[l].data) << "block " << l;
                EXPECT_EQ(rec.down_grams[l].data, want_down[l].data) << "block " << l;
            } else {
                EXPECT_NE(rec.grams[l].data, want[l].data) << "block " << l;
            }
        }
        // The model is quantized either way: its weights are the decoded codes, not the originals.
        EXPECT_NE(w.layers.back()[model::LinearKind::ffn_down].data, original.layers.back()[model::LinearKind::ffn_down].data);
    }
}

TEST(CalibrationInputs, UnquantizedStreamsIdenticallyToInMemory) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    QuantizeOptions opt;
    opt.method = Method::gptq;
    opt.format = "int4";
    opt.granularity = Granularity::per_group(32);
    opt.threads = 1;
    opt.calib_inputs = CalibrationInputs::unquantized;
    expect_streamed_identical(path, opt, samples_for(path, 3, 48), 1 << 30);
}

TEST(StreamingQuantize, AwqStreamsToo) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    const auto samples = samples_for(path, 2, 40);
    QuantizeOptions opt;
    opt.method = Method::awq;
    opt.format = "int4";
    opt.granularity = Granularity::per_group(32);
    opt.threads = 1;
    expect_streamed_identical(path, opt, samples, 0);
}

TEST(StreamingQuantize, FisherKmeansAndMissingCalibrationAreErrors) {
    Scratch dir;
    const model::LazyModel lazy(tiny_checkpoint(dir));
    StreamingQuantizeOptions so;
    so.quantize.method = Method::kmeans;
    so.quantize.kmeans_fisher = true;
    QuantizedDirWriter out(dir / "q", false);
    try {
        quantize_streaming(lazy, so, out);
        ADD_FAILURE() << "expected E6140";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E6140");
    }
    so.quantize.method = Method::gptq;
    so.quantize.kmeans_fisher = false;
    try {
        quantize_streaming(lazy, so, out);
        ADD_FAILURE() << "expected E6008";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E6008");
    }
}

// About a minute on the shared two-core machine (the whole model is quantized twice).
TEST(StreamingQuantizeSlow, DefaultModelRtnIdentical) {
    if (!std::filesystem::exists(model::default_model_path())) GTEST_SKIP() << "default model not installed";
    QuantizeOptions opt;
    opt.method = Method::rtn;
    opt.format = "int4";
    opt.granularity = Granularity::per_group(128);
    expect_streamed_identical(model::default_model_path(), opt, {}, 1 << 30);
}

// Minutes on two cores (GPTQ over 210 linears): a *Slow suite, left out of `ctest -E Slow`. Checked 2026-12-03 with the CLI as well (all 210 .hqt files cmp-equal).
TEST(StreamingQuantizeSlow, DefaultModelGptqIdentical) {
    if (!std::filesystem::exists(model::default_model_path())) GTEST_SKIP() << "default model not installed";
    QuantizeOptions opt;
    opt.method = Method::gptq;
    opt.format = "int4";
    opt.granularity = Granularity::per_group(128);
    opt.threads = 2;
    const auto samples = samples_for(model::default_model_path(), 2, 64);
    expect_streamed_identical(model::default_model_path(), opt, samples, 0);
}

}  // namespace
}  // namespace halo::quant
