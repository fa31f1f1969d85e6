// HALO with one block resident (quantize_halo_streaming) against the in-memory driver
// (quantize_model_halo + write_halo_dir) on the same checkpoint and calibration: every .hqt,
// tile_levels.json, sim_config.json and mac_profile.json byte-identical, the manifest equal but
// for its timings; hidden states in memory and spilled. A synthetic test-tiny checkpoint (fast)
// and the installed default model (Slow suite).
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include <atomic>
#include <filesystem>
#include <unistd.h>

#include <fmt/format.h>

#include "halo/accel/workload.hpp"
#include "halo/hwq/halo_dir.hpp"
#include "halo/hwq/halo_streaming.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/model/tokenizer.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "scratch.hpp"
#include "test_support.hpp"

namespace halo::hwq {
namespace {

// Each test's files in a directory of their own.
class Scratch : public test::Scratch {
public:
    Scratch() : test::Scratch("halo_hstream_test") {}
};

std::vector<std::vector<std::int32_t>> samples_for(const std::filesystem::path& model, int n, int len) {
    const auto tok = model::load_tokenizer(model);
    std::string text;
    for (int i = 0; i < 400; ++i) text += fmt::format("Sample sentence number {} says something about item {}. ", i, i * 7 % 13);
    return quant::calibration_samples(tok->encode(text, false), n, len, "test text");
}

std::filesystem::path tiny_checkpoint(const Scratch& dir, bool tied = false) {
    model::SyntheticOptions o;
    o.shards = 2;
    o.dtype = "bf16";
    o.threads = 1;
    auto shape = model::synthetic_shape("test-tiny");
    shape.tied_embeddings = tied;  // the head is then the token embedding's table
    model::write_synthetic_checkpoint(dir / "tiny", shape, o);
    return dir / "tiny";
}

nlohmann::json without_timings(nlohmann::json m) {
    m.erase("time_s");
    m.erase("date");
    for (auto& e : m.at("linears")) e.erase("seconds");
    if (m.contains("head")) m.at("head").erase("seconds");
    return m;
}

void expect_streamed_identical(const std::filesystem::path& model_path, const HaloOptions& o,
                               const std::vector<std::vector<std::int32_t>>& samples, std::int64_t budget) {
    Scratch dir;
    const auto profile = test::synthetic_int8_profile();
    const Ladder L = build_ladder(profile, {});
    accel::SystolicOptions machine;
    machine.array.rows = static_cast<int>(o.tile_k);
    machine.array.cols = static_cast<int>(o.tile_n);
    machine.dvfs = dvfs_table(L);
    quant::RunInfo info;
    info.source_model = model_path.string();
    info.flags = {{"method", "halo"}};

    model::ModelWeights w = model::load_model(model_path);
    quant::LayerwiseSource src(w, samples, o.threads);
    const auto ref = quantize_model_halo(w, L, o, &src, nullptr, {});
    write_halo_dir(dir / "mem", ref, L, o, info, w.config, w.config.name, false, machine, &profile);

    const model::LazyModel lazy(model_path);
    StreamingHaloOptions so;
    so.halo = o;
    so.samples = samples;
    so.threads = o.threads;
    so.activation_budget_bytes = budget;
    std::vector<int> done;
    std::vector<double> capture_so_far;
    so.block_done = [&](int l, const quant::PhaseSeconds& p) { done.push_back(l), capture_so_far.push_back(p.capture); };
    quant::QuantizedDirWriter out(dir / "str", false);
    const auto r = quantize_halo_streaming(lazy, L, so, out, info, machine, &profile);
    EXPECT_EQ(r.blocks, w.config.n_layers);
    // Timed by phase: one report per block, in order, running totals; every step that ran took time.
    std::vector<int> every_block(static_cast<std::size_t>(w.config.n_layers));
    std::iota(every_block.begin(), every_block.end(), 0);
    EXPECT_EQ(done, every_block);
    ASSERT_EQ(capture_so_far.size(), every_block.size());
    EXPECT_GT(capture_so_far.front(), 0.0);
    EXPECT_TRUE(std::is_sorted(capture_so_far.begin(), capture_so_far.end()));
    if (o.quantize_head) EXPECT_LT(capture_so_far.back(), r.phases.capture);  // the head's statistics, after the last block
    else EXPECT_EQ(capture_so_far.back(), r.phases.capture);
    for (double t : {r.phases.load, r.phases.halo_prepare, r.phases.halo_costs, r.phases.halo_refit, r.phases.halo_records,
                     r.phases.factor, r.phases.columns, r.phases.decode, r.phases.output_error, r.phases.advance, r.phases.write})
        EXPECT_GT(t, 0.0);
    EXPECT_LE(r.phases.halo_refit, r.phases.columns);  // the refits happen inside GPTQ's column loop
    EXPECT_EQ(r.activations_spilled, budget == 0);
    EXPECT_EQ(r.totals.tiles_per_level, ref.tiles_per_level);
    EXPECT_EQ(r.totals.switches, ref.switches);
    EXPECT_EQ(r.totals.books.books, ref.books.books);
    EXPECT_EQ(r.information_bits, information_bits_per_weight(ref));
    {  // per GEMM (--halo-storage indices): one entry per linear (and the head), the same mean
        const auto per_gemm = index_bits_by_gemm(ref);
        ASSERT_EQ(per_gemm.size(), ref.model.linears.size() + (ref.model.head ? 1 : 0));
        double bits = 0, weights = 0;
        for (std::size_t i = 0; i < per_gemm.size(); ++i) {
            const auto& t = i < ref.model.linears.size() ? ref.model.linears[i].tensor : ref.model.head->tensor;
            const double n = static_cast<double>(t.rows() * t.cols());
            EXPECT_GT(per_gemm[i].second, 0.0);
            bits += per_gemm[i].second * n, weights += n;
        }
        EXPECT_NEAR(bits / weights, information_bits_per_weight(ref), 1e-9);
        EXPECT_EQ(per_gemm.front().first, accel::linear_gemm_name(ref.model.linears.front().layer, ref.model.linears.front().kind));
    }
    EXPECT_TRUE(r.totals.model.linears.empty());  // nothing of the codes kept

    std::size_t files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir / "mem")) {
        const auto name = entry.path().filename().string();
        const auto streamed = dir / "str" / name;
        ASSERT_TRUE(std::filesystem::exists(streamed)) << name;
        ++files;
        if (name == "manifest.json") {
            EXPECT_EQ(without_timings(nlohmann::json::parse(read_file(streamed))),
                      without_timings(nlohmann::json::parse(read_file(entry.path()))));
        } else {
            EXPECT_TRUE(read_file(streamed) == read_file(entry.path())) << name << " differs";
        }
    }
    // + manifest, tile levels, sim config, profile; + output.hqt with --quantize-head
    EXPECT_EQ(files, static_cast<std::size_t>(w.config.n_layers) * 7 + 4 + (o.quantize_head ? 1 : 0));
    EXPECT_EQ(std::filesystem::exists(dir / "str" / "output.hqt"), o.quantize_head);
    EXPECT_EQ(r.totals.head_tiles_per_level, ref.head_tiles_per_level);
}

TEST(StreamingHalo, FilesIdenticalInMemoryAndSpilled) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    const auto samples = samples_for(path, 3, 48);
    HaloOptions o;
    o.tile_k = 32, o.tile_n = 16;  // test-tiny: d_model 64, d_ff 160
    o.sparse.salient_fraction = 0.01;
    o.threads = 1;
    expect_streamed_identical(path, o, samples, 1 << 30);
    o.threads = 2;
    o.objective = Objective::perf;
    expect_streamed_identical(path, o, samples, 0);
}

// --calib-inputs unquantized: the streamed driver writes what the in-memory one does.
TEST(StreamingHalo, UnquantizedCalibrationInputsIdenticalInMemoryAndStreamed) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    HaloOptions o;
    o.tile_k = 32, o.tile_n = 16;
    o.threads = 2;
    o.calib_inputs = quant::CalibrationInputs::unquantized;
    expect_streamed_identical(path, o, samples_for(path, 3, 48), 0);
}

// --quantize-head streamed: the head quantized after the last block from the hidden states the
// block loop left is the in-memory one file for file (output.hqt, its tile levels, the
// manifest's head entries), tied (the embedding table as head) and untied, spilled, and with
// unquantized calibration inputs.
TEST(StreamingHalo, QuantizedHeadIdenticalInMemoryAndStreamed) {
    for (bool tied : {true, false}) {
        Scratch dir;
        const auto path = tiny_checkpoint(dir, tied);
        EXPECT_EQ(model::LazyModel(path).output().size() == 0, tied);
        HaloOptions o;
        o.tile_k = 32, o.tile_n = 16;  // the head: 320 x 64 -> 20 x 2 tiles
        o.sparse.salient_fraction = 0.01;
        o.objective = Objective::perf;  // leaves L0 on most tiles, so the head's levels are compared too
        o.quantize_head = true;
        o.threads = 2;
        expect_streamed_identical(path, o, samples_for(path, 3, 48), tied ? 0 : 1 << 30);
        o.calib_inputs = quant::CalibrationInputs::unquantized;
        expect_streamed_identical(path, o, samples_for(path, 3, 48), 0);
    }
}

// Forwards to a LayerwiseSource and keeps every block's q-projection input Gram.
class RecordingSource final : public quant::CalibrationSource {
public:
    RecordingSource(const model::ModelWeights& w, std::vector<std::vector<std::int32_t>> samples) : inner_(w, std::move(samples), 1) {}
    std::array<model::LinearInputStats, 7> capture(int layer, const model::StatsRequest& request) override {
        auto stats = inner_.capture(layer, request);
        grams.push_back(stats[static_cast<std::size_t>(model::LinearKind::attn_q)].gram.data);
        return stats;
    }
    void advance(int layer) override { inner_.advance(layer); }
    std::int64_t tokens() const override { return inner_.tokens(); }
    std::vector<std::vector<float>> grams;

private:
    quant::LayerwiseSource inner_;
};

// With unquantized inputs every block's Gram is the FP model's (the blocks before it are
// quantized, but the hidden states go through them as they were); sequential ones differ from
// block 1 on. The reference Grams come from a second source on an untouched copy of the model.
TEST(HaloCalibrationInputs, UnquantizedGramsAreTheFpModels) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    const auto samples = samples_for(path, 2, 48);
    const Ladder L = build_ladder(test::synthetic_int8_profile(), {});
    const model::ModelWeights fp = model::load_model(path);
    RecordingSource reference(fp, samples);
    for (int l = 0; l < fp.config.n_layers; ++l) {
        reference.capture(l, {.gram = true, .channel_stats = false});
        reference.advance(l);
    }
    ASSERT_GE(reference.grams.size(), 2u);
    for (auto mode : {quant::CalibrationInputs::unquantized, quant::CalibrationInputs::sequential}) {
        HaloOptions o;
        o.tile_k = 32, o.tile_n = 16;
        o.calib_inputs = mode;
        model::ModelWeights w = fp;
        RecordingSource src(w, samples);
        const auto r = quantize_model_halo(w, L, o, &src, nullptr, {});
        ASSERT_EQ(src.grams.size(), reference.grams.size());
        EXPECT_EQ(src.grams[0], reference.grams[0]);  // block 0 sees the embeddings either way
        for (std::size_t l = 1; l < src.grams.size(); ++l) {
            if (mode == quant::CalibrationInputs::unquantized)
                EXPECT_EQ(src.grams[l], reference.grams[l]) << "block " << l;
            else
                EXPECT_NE(src.grams[l], reference.grams[l]) << "block " << l;
        }
        // The weights were quantized in both modes: the model differs from the FP one.
        EXPECT_NE(w.layers[0][model::LinearKind::attn_q].data, fp.layers[0][model::LinearKind::attn_q].data);
        EXPECT_EQ(r.model.linears.size(), static_cast<std::size_t>(fp.config.n_layers) * 7);
    }
}

TEST(StreamingHalo, FisherSensitivityIsRefused) {
    Scratch dir;
    const model::LazyModel lazy(tiny_checkpoint(dir));
    StreamingHaloOptions so;
    so.halo.sensitivity = SensitivitySource::fisher;
    quant::QuantizedDirWriter out(dir / "q", false);
    const Ladder L = build_ladder(test::synthetic_int8_profile(), {});
    try {
        quantize_halo_streaming(lazy, L, so, out, {}, {}, nullptr);
        ADD_FAILURE() << "expected E9076";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E9076");
    }
}

// Minutes on the shared two-core machine (HALO over 210 linears, twice): a *Slow suite.
TEST(StreamingHaloSlow, DefaultModelIdentical) {
    if (!std::filesystem::exists(model::default_model_path())) GTEST_SKIP() << "default model not installed";
    HaloOptions o;
    o.threads = 2;
    expect_streamed_identical(model::default_model_path(), o, samples_for(model::default_model_path(), 2, 64), 0);
}

}  // namespace
}  // namespace halo::hwq
