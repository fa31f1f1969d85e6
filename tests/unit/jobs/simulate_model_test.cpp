// `halo simulate --model X` (SimulateJobOptions::model): the workload's shape read from a model's
// own files by the model loader's config reader, for a MoE row (a tiny Mixtral model as GGUF and
// as safetensors + config.json) and a dense row (the installed SmolLM2 GGUF); the same GEMMs as
// the config.json / built-in shape give; bad files exit 2 naming file and key or tensor; the
// workload sources are exclusive.
#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "../model/forward_tiny_model.hpp"
#include "../model/gguf_test_util.hpp"  // ScratchDir
#include "../model/moe_checkpoint_files.hpp"
#include "../require_data.hpp"
#include "halo/accel/workload.hpp"
#include "halo/jobs/simulate_job.hpp"
#include "halo/model/architecture.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::jobs {
namespace {

model::ModelWeights tiny_moe() {
    model::ModelConfig c = model::testing::tiny_config();
    model::apply_architecture(model::architecture_row("mixtral"), c);
    c.n_experts = 4;
    c.n_experts_used = 2;
    return model::testing::tiny_model(c, 11);
}

accel::SimResult simulate(SimulateJobOptions s) {
    s.seq = 64;
    s.array = "8x8";
    return run_simulate_job(s).run;
}

// Same GEMMs, layer by layer, and the same totals.
void expect_same_run(const accel::SimResult& a, const accel::SimResult& b) {
    ASSERT_EQ(a.layers.size(), b.layers.size());
    for (std::size_t i = 0; i < a.layers.size(); ++i) {
        EXPECT_EQ(a.layers[i].name, b.layers[i].name);
        EXPECT_EQ(a.layers[i].M, b.layers[i].M) << a.layers[i].name;
        EXPECT_EQ(a.layers[i].K, b.layers[i].K) << a.layers[i].name;
        EXPECT_EQ(a.layers[i].N, b.layers[i].N) << a.layers[i].name;
        EXPECT_EQ(a.layers[i].count, b.layers[i].count) << a.layers[i].name;
    }
    EXPECT_EQ(a.total.cycles, b.total.cycles);
}

Diagnostic error_of(const SimulateJobOptions& s) {
    try {
        (void)run_simulate_job(s);
    } catch (const Error& e) {
        return e.diagnostic();
    }
    ADD_FAILURE() << "no error";
    return {};
}

TEST(SimulateModel, MoeShapeFromGgufAndSafetensorsEqualsTheConfigJson) {
    const model::ModelWeights w = tiny_moe();
    model::testing::ScratchDir dir;
    model::testing::write_hf(dir / "hf", model::testing::hf_config(w.config), model::testing::hf_tensors(w));
    model::testing::gguf_of(w, 4, 2).write(dir / "tiny.gguf");
    SimulateJobOptions from_gguf, from_dir, from_config;
    from_gguf.model = (dir / "tiny.gguf").string();
    from_dir.model = (dir / "hf").string();
    from_config.hf_config = (dir / "hf" / "config.json").string();
    const accel::SimResult g = simulate(from_gguf), d = simulate(from_dir), c = simulate(from_config);
    expect_same_run(g, c);
    expect_same_run(d, c);
    // The experts are there and only the active ones' rows: 64 tokens x top-2 over 4 experts.
    int experts = 0;
    for (const auto& L : g.layers)
        if (L.name.rfind("blk.1.ffn_down_exps.", 0) == 0) {
            ++experts;
            EXPECT_EQ(L.M, 32);
            EXPECT_EQ(L.K, 24);
        }
    EXPECT_EQ(experts, 4);
    // Exactly the workload the loaded model's config gives.
    accel::Phase ph;
    ph.seq_len = 64;
    const auto work = accel::transformer_workload(model::load_model(dir / "tiny.gguf").config, ph);
    ASSERT_EQ(work.size(), g.layers.size());
    for (std::size_t i = 0; i < work.size(); ++i) EXPECT_EQ(work[i].gemm.name, g.layers[i].name);
    EXPECT_EQ(run_simulate_job([&] {
                  SimulateJobOptions s = from_gguf;
                  s.seq = 64;
                  s.array = "8x8";
                  return s;
              }()).workload,
              "tiny mixtral prefill L=64");  // general.name
}

TEST(SimulateModel, DenseShapeFromTheInstalledGgufEqualsTheBuiltInShape) {
    HALO_SKIP_UNLESS_INSTALLED(model::default_model_path());
    SimulateJobOptions by_name, builtin;
    by_name.model = "smollm2-135m";  // an installed model's name, resolved as --model does
    builtin.model_shape = "smollm2-135m";
    expect_same_run(simulate(by_name), simulate(builtin));
}

TEST(SimulateModel, BadModelFilesNameFileAndKeyAndSourcesAreExclusive) {
    const model::ModelWeights w = tiny_moe();
    model::testing::ScratchDir dir;
    model::testing::gguf_of(w, 3, 2).write(dir / "count.gguf");  // expert_count 3, tensors hold 4
    SimulateJobOptions s;
    s.model = (dir / "count.gguf").string();
    Diagnostic d = error_of(s);
    EXPECT_EQ(d.code, "E5302");
    EXPECT_EQ(d.kind, ErrorKind::bad_input);
    const std::string text = d.render();
    EXPECT_NE(text.find("count.gguf"), std::string::npos) << text;
    EXPECT_NE(text.find("blk.0.ffn_gate_inp.weight"), std::string::npos) << text;
    model::testing::gguf_of(w, 4, 6).write(dir / "topk.gguf");  // top-6 of 4 experts
    s.model = (dir / "topk.gguf").string();
    d = error_of(s);
    EXPECT_EQ(d.code, "E5322");
    EXPECT_NE(d.render().find("llama.expert_used_count"), std::string::npos) << d.render();
    s.model = (dir / "absent.gguf").string();
    EXPECT_EQ(error_of(s).kind, ErrorKind::bad_input);
    s.model_shape = "tiny";
    d = error_of(s);
    EXPECT_EQ(d.code, "E7064");
    EXPECT_NE(d.render().find("--model FILE.gguf"), std::string::npos);
    s.model_shape.clear();
    s.topology = "t.csv";
    EXPECT_EQ(error_of(s).code, "E7064");
}

}  // namespace
}  // namespace halo::jobs
