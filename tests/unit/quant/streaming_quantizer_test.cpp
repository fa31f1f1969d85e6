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
void expect_streamed_identical(const std::filesystem::path& model_path, const QuantizeOptions& opt,
                               const std::vector<std::vector<std::int32_t>>& samples, std::int64_t budget) {
    Scratch dir;
    model::ModelWeights w = model::load_model(model_path);
    std::unique_ptr<LayerwiseSource> src;
    if (!samples.empty()) src = std::make_unique<LayerwiseSource>(w, samples, opt.threads);
    const QuantizedModel ref = quantize_model(w, opt, src.get());

    const model::LazyModel lazy(model_path);
    StreamingQuantizeOptions so;
    so.quantize = opt;
    so.samples = samples;
    so.activation_budget_bytes = budget;
    QuantizedDirWriter out(dir / "q", false);
    const auto r = quantize_streaming(lazy, so, out);
    out.finish(r.totals, opt, RunInfo{});
    EXPECT_EQ(r.blocks, w.config.n_layers);
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
