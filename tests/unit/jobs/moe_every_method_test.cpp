// Issue 14's done-when for mixture-of-experts: a tiny MoE model made in the test (the synthetic
// test-tiny-moe checkpoint: 2 blocks, 8 experts, top-2) quantizes with every method row of the
// method table, each expert calibrated from its routed tokens (counts reported, every expert
// reached); k-means and HALO also with Fisher sensitivity (the MoE backward pass). Each
// directory holds every expert linear, evaluates to a finite perplexity, and HALO's directory
// simulates on the model's own shape (`--model`), its tiles attached to the expert GEMMs.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <functional>

#include <gtest/gtest.h>

#include "../hwq/test_support.hpp"
#include "halo/jobs/eval_job.hpp"
#include "halo/jobs/methods.hpp"
#include "halo/jobs/quantize_job.hpp"
#include "halo/jobs/simulate_job.hpp"
#include "halo/mac/profile.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::jobs {
namespace {

namespace fs = std::filesystem;

struct Scratch {
    fs::path dir = fs::temp_directory_path() / ("halo_moe_jobs_test_" + std::to_string(::getpid()));
    Scratch() { fs::create_directories(dir); }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

std::string code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.diagnostic().code;
    }
    return "no error";
}

int hqt_files(const fs::path& dir) {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".hqt";
    return n;
}

TEST(MoeEveryMethod, TinyMoeQuantizesWithEveryExpertCalibratedByEveryMethod) {
    Scratch s;
    model::SyntheticOptions so;
    so.dtype = "f32";
    so.threads = 1;
    so.seed = 4;  // its router sends 15..129 of the 512 (token, expert) pairs per block to each expert (seed 1 leaves one at 0)
    model::write_synthetic_checkpoint(s.dir / "moe", model::synthetic_shape("test-tiny-moe"), so);
    // Varied bytes (a seeded LCG over printable ASCII), so the router spreads the tokens over the
    // experts (a repeated sentence of ~25 byte tokens leaves some expert without any).
    std::string text;
    std::uint32_t x = 12345;
    for (int i = 0; i < 4000; ++i) {
        x = x * 1664525u + 1013904223u;
        text += static_cast<char>(32 + (x >> 24) % 95);
    }
    write_file_atomic(s.dir / "text.txt", text);
    mac::write_profile(hwq::test::synthetic_int8_profile(), s.dir / "profile.json");

    struct Run {
        std::string method, sensitivity;
    };
    std::vector<Run> runs;
    for (const auto& row : method_table().registry().rows()) {
        runs.push_back({std::string(row.name), "hessian"});
        if (row.may_use_gradients) runs.push_back({std::string(row.name), "fisher"});
    }
    ASSERT_GE(runs.size(), 8u);  // rtn gptq awq kmeans(x2) smoothquant halo(x2)
    for (const auto& run : runs) {
        SCOPED_TRACE(run.method + " " + run.sensitivity);
        QuantizeJobOptions o;
        o.model = (s.dir / "moe").string();
        o.calib_text = s.dir / "text.txt";
        o.samples = 4, o.seq_len = 64, o.threads = 1;
        o.method = run.method;
        const bool halo = run.method == "halo";
        if (run.method == "kmeans" || halo) o.sensitivity = run.sensitivity;
        if (halo) {
            o.tile = "32x32";
            o.halo.profile = s.dir / "profile.json";
        } else {
            o.format = run.method == "smoothquant" ? "int8" : "int4";
            if (run.method == "kmeans") o.format = "int3";
        }
        o.out_dir = s.dir / (run.method + "-" + run.sensitivity);
        const auto r = run_quantize_job(o, {});
        EXPECT_EQ(hqt_files(o.out_dir), 2 * (4 + 8 * 3));  // the attention linears and every expert's three
        const bool calibrated = run.method != "rtn" && !(run.method == "kmeans" && run.sensitivity == "fisher");
        if (calibrated) {
            ASSERT_EQ(r.expert_tokens.size(), 2u);
            EXPECT_EQ(r.n_experts, 8);
            for (const auto& b : r.expert_tokens) {
                ASSERT_EQ(b.tokens.size(), 8u);
                std::int64_t sum = 0;
                for (auto n : b.tokens) {
                    EXPECT_GT(n, 0) << "block " << b.layer;  // every expert calibrated
                    sum += n;
                }
                EXPECT_EQ(sum, 4 * 64 * 2);  // samples x tokens x top-2
            }
        }
        EvalJobOptions e;
        e.model = o.model;
        e.text = s.dir / "text.txt";
        e.quantized = o.out_dir;
        e.ctx = 64, e.max_chunks = 2, e.threads = 1;
        const auto ev = run_eval_job(e, {});
        EXPECT_TRUE(std::isfinite(ev.result.perplexity)) << ev.result.perplexity;
        if (halo) {
            SimulateJobOptions sim;
            sim.model = o.model;  // the shape from the model's own files
            sim.quantized = o.out_dir.string();
            sim.seq = 64;
            const auto sr = run_simulate_job(sim);
            int expert_gemms = 0;
            for (const auto& L : sr.run.layers) expert_gemms += L.name.find("_exps.") != std::string::npos;
            EXPECT_EQ(expert_gemms, 2 * 8 * 3);  // 64 tokens x top-2 reach every expert
            EXPECT_GT(sr.report["speedup"].get<double>(), 0);
        }
    }
    // HALO's --min-expert-tokens: a negative threshold, and the flag on a dense model (where it
    // would be silently ignored), are refused before any work.
    QuantizeJobOptions h;
    h.model = (s.dir / "moe").string();
    h.calib_text = s.dir / "text.txt";
    h.method = "halo";
    h.tile = "32x32";
    h.halo.profile = s.dir / "profile.json";
    h.samples = 1, h.seq_len = 16, h.threads = 1;
    h.out_dir = s.dir / "refused";
    h.min_expert_tokens = -1;
    h.min_expert_tokens_given = true;
    EXPECT_EQ(code_of([&] { (void)run_quantize_job(h, {}); }), "E9084");
    model::write_synthetic_checkpoint(s.dir / "dense", model::synthetic_shape("test-tiny"), so);
    h.model = (s.dir / "dense").string();
    h.min_expert_tokens = 4;
    EXPECT_EQ(code_of([&] { (void)run_quantize_job(h, {}); }), "E9083");
    EXPECT_FALSE(fs::exists(h.out_dir));
}

}  // namespace
}  // namespace halo::jobs
