// `halo run`'s pipeline on a synthetic 2-block model with the issue-#15 ladder: a
// frequency-only level (L1 at the nominal voltage, the 128 fastest codes) below two DVFS levels.
// The HALO point with every weight at L1 runs faster than uniform INT8 at the same voltage, the
// iso-voltage rows start above L0's voltage (L1's would be the baseline itself), and the gptq-w4-g128 row keeps every
// tile at L0 with its group scales counted in its bits.
#include <unistd.h>

#include <cmath>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "fisher_recording_device.hpp"
#include "tiny_job_inputs.hpp"
#include "halo/jobs/run_job.hpp"
#include "halo/mac/profile.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/quant/device_backend.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::jobs {
namespace {

namespace fs = std::filesystem;

struct Scratch {
    fs::path dir = fs::temp_directory_path() / ("halo_run_job_test_" + std::to_string(::getpid()));
    Scratch() { fs::create_directories(dir); }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

const VariantResult& row(const RunReport& r, const std::string& name) {
    for (const auto& v : r.variants)
        if (v.name == name) return v;
    throw std::runtime_error("no row " + name);
}

TEST(RunPipeline, FrequencyOnlyLevelIsFasterAtTheSameVoltage) {
    Scratch s;
    test::write_tiny_job_inputs(s.dir);

    RunOptions o;
    o.model = s.dir / "tiny";
    o.eval_text = o.calib_text = s.dir / "text.txt";
    o.profile = s.dir / "profile.json";
    o.out_dir = s.dir / "run";
    o.ladder.counts = {0, 128, 16, 9};
    o.ladder.voltage_factors = {1, 1, 1.1, 1.2};
    o.halo.tile_k = o.halo.tile_n = 32;
    o.array = "32x32";
    o.halo_objectives = {"model@0/1/0/0"};
    o.halo_storage = {"codes", "indices"};
    o.baselines = {"rtn-w8", "gptq-w4-g128", "iso"};
    o.decode_batches = {1};
    o.fp_reference = false;
    o.samples = 2, o.seq_len = 32, o.ctx = 32, o.max_chunks = 2, o.threads = 1, o.sim_seq_len = 64;
    const auto rep = run_pipeline(o, {}, [](const std::string&) {});

    const auto& ladder = rep.json.at("ladder").at("levels");
    ASSERT_EQ(ladder.size(), 4u);
    EXPECT_DOUBLE_EQ(ladder[1].at("voltage_v").get<double>(), ladder[0].at("voltage_v").get<double>());
    EXPECT_EQ(ladder[1].at("values").size(), 128u);

    const auto& h = row(rep, "halo-model@0-1-0-0");
    std::int64_t tiles = 0;
    for (auto t : h.tiles_per_level) tiles += t;
    ASSERT_EQ(h.tiles_per_level.size(), 4u);
    EXPECT_GT(tiles, 0);
    EXPECT_EQ(h.tiles_per_level[1], tiles);  // every tile at the frequency-only level
    EXPECT_GT(h.speedup, 1.0);
    EXPECT_TRUE(std::isfinite(h.perplexity));
    ASSERT_EQ(h.phases.size(), 2u);  // prefill and decode at batch 1
    EXPECT_GT(h.phases[1].speedup, 1.0);

    // Iso-voltage rows only for voltages above L0's: uniform INT8 at L1's voltage is rtn-w8's row.
    EXPECT_THROW(row(rep, "iso-L1"), std::runtime_error);
    EXPECT_GT(row(rep, "iso-L2").speedup, 1.0);
    EXPECT_GT(row(rep, "iso-L3").speedup, row(rep, "iso-L2").speedup);

    // The same model stored as per-tile codebook indices: its information bits in DRAM, one
    // lookup per weight read. L1 tiles hold up to 128 codes, so 7 bits and less per weight:
    // decode reads fewer bytes; prefill's time is the array's and does not change.
    const auto& hi = row(rep, "halo-model@0-1-0-0+idx");
    EXPECT_EQ(hi.perplexity, h.perplexity);
    EXPECT_EQ(hi.tiles_per_level, h.tiles_per_level);
    EXPECT_EQ(hi.bits_per_weight, h.info_bits);
    EXPECT_LT(hi.bits_per_weight, h.bits_per_weight);
    EXPECT_DOUBLE_EQ(hi.phases[0].speedup, h.phases[0].speedup);
    EXPECT_LT(hi.phases[1].energy_ratio, h.phases[1].energy_ratio);
    EXPECT_NE(hi.note.find("codebook indices"), std::string::npos);
    RunOptions bad = o;
    bad.out_dir = s.dir / "bad";
    for (const auto& storage : {std::vector<std::string>{"packed"}, std::vector<std::string>{}}) {
        bad.halo_storage = storage;
        try {
            (void)run_pipeline(bad, {}, [](const std::string&) {});
            ADD_FAILURE() << "no error for --halo-storage of " << storage.size() << " entries";
        } catch (const Error& e) {
            EXPECT_EQ(e.diagnostic().code, "E9177");
            EXPECT_EQ(e.exit_code(), 1);  // a bad flag
        }
    }
    EXPECT_FALSE(fs::exists(bad.out_dir));

    const auto& g = row(rep, "gptq-w4-g128");
    EXPECT_EQ(g.tiles_per_level[0], std::accumulate(g.tiles_per_level.begin(), g.tiles_per_level.end(), std::int64_t{0}));
    EXPECT_GT(g.bits_per_weight, 4.0);  // plus one FP16 scale per 128 weights (or per row remainder)
    EXPECT_LT(g.bits_per_weight, 4.5);
    EXPECT_DOUBLE_EQ(g.speedup, 1.0);
    EXPECT_TRUE(fs::exists(s.dir / "run" / "results.json"));
}

// `halo run --device cuda --sensitivity fisher` asks the device for the LM head's Fisher entries
// exactly when the head is quantized (session 21: the CUDA Fisher engine computes them; before,
// the combination with --quantize-head was refused, E9178). Without a GPU: the device records
// the request and stops the run.
TEST(RunPipeline, DeviceFisherIsAskedForTheHeadExactlyWhenTheHeadIsQuantized) {
    Scratch s;
    test::write_tiny_job_inputs(s.dir);
    for (const bool quantize_head : {true, false}) {
        SCOPED_TRACE(quantize_head ? "head quantized" : "head kept");
        test::FisherRecordingDevice device;
        RunOptions o;
        o.model = s.dir / "tiny";
        o.eval_text = o.calib_text = s.dir / "text.txt";
        o.profile = s.dir / "profile.json";
        o.out_dir = s.dir / (quantize_head ? "run-head" : "run");
        o.device = &device;
        o.halo.tile_k = o.halo.tile_n = 32;
        o.halo.quantize_head = quantize_head;
        o.halo.sensitivity = hwq::SensitivitySource::fisher;
        o.array = "32x32";
        o.halo_objectives = {"bal"};
        o.baselines = {};
        o.fp_reference = false;
        o.samples = 2, o.seq_len = 32, o.ctx = 32, o.max_chunks = 2, o.threads = 1, o.sim_seq_len = 64;
        EXPECT_THROW((void)run_pipeline(o, {}, [](const std::string&) {}), test::FisherAsked);
        ASSERT_TRUE(device.head.has_value());
        EXPECT_EQ(*device.head, quantize_head ? model::HeadGradient::compute : model::HeadGradient::skip);
        EXPECT_FALSE(fs::exists(o.out_dir));  // nothing published by a run that stopped
    }
}

// The same for `halo run`: a tile that does not fit the model fails before the profile step
// (an absent profile here), and so does a tile that differs from the array (E9021).
TEST(RunPipeline, TileErrorsComeBeforeTheProfileStep) {
    Scratch s;
    test::write_tiny_model(s.dir);
    RunOptions o;
    o.model = s.dir / "tiny";
    o.profile = s.dir / "absent-profile.json";
    o.out_dir = s.dir / "run";
    o.halo.tile_k = o.halo.tile_n = 128;
    o.array = "128x128";
    o.halo_objectives = {"bal"};
    for (const auto& [array, code] : {std::pair<std::string, std::string>{"128x128", "E9012"}, {"64x64", "E9021"}}) {
        o.array = array;
        try {
            (void)run_pipeline(o, {}, [](const std::string&) {});
            ADD_FAILURE() << "no error for array " << array;
        } catch (const Error& e) {
            EXPECT_EQ(e.diagnostic().code, code) << array;
        }
        EXPECT_FALSE(fs::exists(o.out_dir));
    }
}

}  // namespace
}  // namespace halo::jobs
