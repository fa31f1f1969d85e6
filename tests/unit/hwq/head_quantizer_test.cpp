// The LM head quantized like any linear (--quantize-head, head_quantizer.hpp): its decode equals
// what the written directory claims (codes, codebooks, levels), every head tile's codes meet the
// tile's level, the simulator prices the head GEMM at those levels, and evaluating a directory
// with a head uses it: in memory, through load_quantized and through the block-streamed reader
// the perplexity is the same, and differs from the FP32 head's. A synthetic test-tiny checkpoint.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <set>
#include <unistd.h>

#include <fmt/format.h>

#include "halo/accel/simulate.hpp"
#include "halo/accel/workload.hpp"
#include "halo/hwq/halo_dir.hpp"
#include "halo/hwq/halo_streaming.hpp"
#include "halo/hwq/head_quantizer.hpp"
#include "halo/model/calibration.hpp"
#include "halo/model/lazy_model.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/model/perplexity.hpp"
#include "halo/model/streaming_perplexity.hpp"
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
    Scratch() : test::Scratch("halo_head_test") {}
};

std::string sample_text() {
    std::string text;
    for (int i = 0; i < 400; ++i) text += fmt::format("Sample sentence number {} says something about item {}. ", i, i * 7 % 13);
    return text;
}

std::filesystem::path tiny_checkpoint(const Scratch& dir) {
    model::SyntheticOptions o;
    o.dtype = "bf16";
    o.threads = 1;
    model::write_synthetic_checkpoint(dir / "tiny", model::synthetic_shape("test-tiny"), o);
    return dir / "tiny";
}

HaloOptions head_options() {
    HaloOptions o;
    o.tile_k = 32, o.tile_n = 16;  // test-tiny: d_model 64, d_ff 160, vocab 320 -> the head is 20 x 2 tiles
    o.sparse.salient_fraction = 0.01;
    o.objective = Objective::perf;  // leaves L0 on most tiles, so the levels are tested
    o.quantize_head = true;
    o.threads = 1;
    return o;
}

struct Quantized {
    model::ModelWeights weights;  // the head's decode as `output`
    HaloModelResult result;
};

Quantized quantize(const std::filesystem::path& model_path, const Ladder& L, const HaloOptions& o, bool tie) {
    Quantized q{model::load_model(model_path), {}};
    if (tie) q.weights.output = model::Matrix();  // the token embedding serves as head
    const auto tok = model::load_tokenizer(model_path);
    const auto samples = quant::calibration_samples(tok->encode(sample_text(), false), 3, 48, "test text");
    quant::LayerwiseSource src(q.weights, samples, 1);
    q.result = quantize_model_halo(q.weights, L, o, &src, nullptr, {});
    return q;
}

accel::SystolicOptions machine_of(const Ladder& L, const HaloOptions& o) {
    accel::SystolicOptions m;
    m.array.rows = static_cast<int>(o.tile_k);
    m.array.cols = static_cast<int>(o.tile_n);
    m.dvfs = dvfs_table(L);
    return m;
}

TEST(HeadQuantizer, DecodeEqualsTheDirectoryAndTilesMeetTheirLevels) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    const auto profile = test::synthetic_int8_profile();
    const Ladder L = build_ladder(profile, {});
    const HaloOptions o = head_options();
    const model::ModelWeights original = model::load_model(path);
    const auto q = quantize(path, L, o, true);
    const auto& r = q.result;
    ASSERT_TRUE(r.model.head.has_value());
    ASSERT_TRUE(r.head.has_value());
    EXPECT_TRUE(r.model.head->tied);
    EXPECT_EQ(q.weights.token_embedding.data, original.token_embedding.data);  // the lookup keeps its table
    EXPECT_EQ(q.weights.output.data, r.model.head->tensor.decode().data);        // the GEMM uses the codes
    EXPECT_NE(q.weights.output.data, original.token_embedding.data);
    EXPECT_GT(r.model.head->output_error, 0);
    EXPECT_EQ(r.model.linears.size(), 14u);  // the block linears' records are unchanged in number

    quant::RunInfo info;
    info.source_model = path.string();
    write_halo_dir(dir / "q", r, L, o, info, q.weights.config, "test-tiny", false, machine_of(L, o), &profile);
    const auto qd = quant::read_quantized_dir(dir / "q");
    ASSERT_TRUE(qd.head.has_value());
    const auto& t = qd.head->tensor;
    EXPECT_EQ(t.decode().data, q.weights.output.data);  // bit-exact: what the manifest claims is what ran
    EXPECT_EQ(t.tiles.level, r.head->assignment.level);
    const auto& halo = qd.manifest.at("halo");
    std::int64_t counted = 0;
    for (auto n : halo.at("head_tiles_per_level")) counted += n.get<std::int64_t>();
    EXPECT_EQ(counted, static_cast<std::int64_t>(t.tiles.level.size()));
    EXPECT_TRUE(halo.at("quantize_head").get<bool>());
    EXPECT_TRUE(qd.manifest.at("head").at("tied").get<bool>());

    // Every code of every head tile is in its codebook and meets the tile's level.
    const auto books = halo.at("codebooks").get<std::vector<std::vector<int>>>();
    std::set<int> levels_seen;
    for (std::int64_t rr = 0; rr < t.rows(); ++rr)
        for (std::int64_t cc = 0; cc < t.cols(); ++cc) {
            const auto g = static_cast<std::size_t>(t.group_index(rr, cc));
            const int level = t.tiles.level[g];
            const int code = static_cast<int>(t.code(rr, cc)) - 128;
            const auto& book = books.at(static_cast<std::size_t>(t.tiles.codebook_id[g]));
            ASSERT_NE(std::find(book.begin(), book.end(), code), book.end()) << "row " << rr << " col " << cc;
            ASSERT_TRUE(L.meets(code, static_cast<std::size_t>(level))) << "code " << code << " level " << level;
            levels_seen.insert(level);
        }
    EXPECT_GT(*levels_seen.rbegin(), 0) << "perf should move some head tile off L0";
    EXPECT_TRUE(r.head->sparse_level.meets_deadline);

    // The simulator prices the head GEMM ("output") at those levels: faster than at L0.
    const auto tl = accel::parse_tile_levels(nlohmann::json::parse(read_file(dir / "q" / "tile_levels.json")), "t");
    auto work = accel::transformer_workload(q.weights.config, {accel::Phase::Kind::prefill, 32, 1, 32});
    accel::attach_tile_levels(work, q.weights.config, tl, "t");
    const accel::WorkItem* head = nullptr;
    for (const auto& it : work)
        if (it.gemm.name == "output") head = &it;
    ASSERT_NE(head, nullptr);
    ASSERT_TRUE(head->tiles.has_value());
    EXPECT_EQ(head->tiles->level.size(), t.tiles.level.size());
    auto so = machine_of(L, o);
    so.dvfs.switch_penalty_ns = 0;  // GEMMs this small take less than one switch
    const auto base = accel::simulate_systolic(accel::baseline_workload({*head}), so);
    const auto run = accel::simulate_systolic({*head}, so);
    EXPECT_LT(run.total.time_s, base.total.time_s);
}

TEST(HeadQuantizer, EvalOfADirectoryUsesItsHead) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    const auto profile = test::synthetic_int8_profile();
    const Ladder L = build_ladder(profile, {});
    const HaloOptions o = head_options();
    const auto q = quantize(path, L, o, false);
    ASSERT_FALSE(q.result.model.head->tied);
    quant::RunInfo info;
    info.source_model = path.string();
    write_halo_dir(dir / "q", q.result, L, o, info, q.weights.config, "test-tiny", false, machine_of(L, o), &profile);

    const auto tok = model::load_tokenizer(path);
    const auto tokens = tok->encode(sample_text(), false);
    model::PerplexityOptions po;
    po.ctx = 32;
    po.max_chunks = 4;
    const auto head_hooks = quant::activation_hooks_for("int8_per_token", true);
    const double in_memory = model::perplexity(q.weights, tokens, po, {.threads = 1, .hooks = &head_hooks}).perplexity;

    model::ModelWeights loaded = model::load_model(path);
    const auto lq = quant::load_quantized(dir / "q", loaded, {.source_model = path});
    EXPECT_TRUE(lq.head);
    EXPECT_EQ(loaded.output.data, q.weights.output.data);
    EXPECT_EQ(model::perplexity(loaded, tokens, po, {.threads = 1, .hooks = lq.hooks()}).perplexity, in_memory);

    // The block-streamed reader: each block's codes, then the head before scoring.
    const model::LazyModel lazy(path);
    const quant::QuantizedDirReader reader(dir / "q", lazy.config().n_layers);
    ASSERT_TRUE(reader.has_head());
    model::StreamingEvalOptions so;
    so.threads = 1;
    so.transform_block = [&](int layer, model::LayerWeights& w) { reader.apply_block(layer, w); };
    so.transform_head = [&](model::ModelWeights& w) { reader.apply_head(w); };
    const auto stream_hooks = quant::activation_hooks_for(reader.activation_format(), reader.has_head());
    so.hooks = &stream_hooks;
    EXPECT_EQ(model::streaming_perplexity(lazy, tokens, po, so).result.perplexity, in_memory);

    // The same quantized blocks with the FP32 head (and its FP32 input) score differently.
    model::ModelWeights fp_head = loaded;
    fp_head.output = model::load_model(path).output;
    const auto block_hooks = quant::activation_hooks_for("int8_per_token");
    EXPECT_NE(model::perplexity(fp_head, tokens, po, {.threads = 1, .hooks = &block_hooks}).perplexity, in_memory);
}

TEST(HeadQuantizer, ModelWidePlanRanksTheHeadWithEveryLinear) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    const Ladder L = build_ladder(test::synthetic_int8_profile(), {});
    HaloOptions o = head_options();
    o.scope = AssignScope::model;
    o.level_shares = {0.5, 0.5, 0.0};
    model::ModelWeights w = model::load_model(path);
    const auto tok = model::load_tokenizer(path);
    const auto samples = quant::calibration_samples(tok->encode(sample_text(), false), 3, 48, "test text");
    quant::LayerwiseSource fp(w, samples, 1);
    const ModelPlan plan = plan_model_wide(w, L, o, &fp, nullptr, {});
    ASSERT_EQ(plan.levels.size(), linear_count(w) + 1);  // the head's levels last
    quant::LayerwiseSource src(w, samples, 1);
    const auto r = quantize_model_halo(w, L, o, &src, nullptr, {}, &plan);
    ASSERT_TRUE(r.head.has_value());
    EXPECT_EQ(r.head->assignment.level, plan.levels.back());
    EXPECT_EQ(r.model.head->tensor.tiles.level, plan.levels.back());
    // The shares cut the ranked weights of every linear and the head together: both levels used.
    std::int64_t at_l0 = r.tiles_per_level[0] + r.head_tiles_per_level[0];
    std::int64_t at_l1 = r.tiles_per_level[1] + r.head_tiles_per_level[1];
    EXPECT_GT(at_l0, 0);
    EXPECT_GT(at_l1, 0);
    // A plan made without the head does not fit a run with it (internal E9067, never silently).
    HaloOptions no_head = o;
    no_head.quantize_head = false;
    model::ModelWeights w2 = model::load_model(path);
    quant::LayerwiseSource fp2(w2, samples, 1);
    const ModelPlan short_plan = plan_model_wide(w2, L, no_head, &fp2, nullptr, {});
    quant::LayerwiseSource src2(w2, samples, 1);
    EXPECT_THROW(quantize_model_halo(w2, L, o, &src2, nullptr, {}, &short_plan), Error);
}

// Walks a calibration source through every block, as plan_model_wide does before the head.
void walk_blocks(quant::CalibrationSource& cal, const model::ModelWeights& w) {
    for (int l = 0; l < static_cast<int>(w.layers.size()); ++l) {
        (void)cal.capture(l, {.gram = true, .channel_stats = false});
        cal.advance(l);
    }
}

// Issue #15 part F: with the Fisher diagonal the head's sensitivity is its own Fisher entries
// (the head GEMM's gradient), in the loss units of the block linears', so the model-wide
// objective pools them on one scale; a Fisher without head entries is refused (E9179), not
// replaced by the Hessian proxy, which the head uses only without a Fisher diagonal.
TEST(HeadQuantizer, FisherHeadEntriesAreTheHeadsSensitivity) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    const Ladder L = build_ladder(test::synthetic_int8_profile(), {});
    HaloOptions o = head_options();
    o.sensitivity = SensitivitySource::fisher;
    model::ModelWeights w = model::load_model(path);
    const auto tok = model::load_tokenizer(path);
    const auto samples = quant::calibration_samples(tok->encode(sample_text(), false), 3, 48, "test text");
    const auto fisher = model::fisher_diagonal(w, samples, 1);
    ASSERT_EQ(fisher.head.rows, w.lm_head().rows);
    ASSERT_EQ(fisher.head.cols, w.lm_head().cols);
    quant::LayerwiseSource fp(w, samples, 1);
    walk_blocks(fp, w);
    const TileCosts with = head_tile_costs(w, &fp, L, o, &fisher);
    const auto grid = make_grid(w.lm_head().rows, w.lm_head().cols, o.tile_n, o.tile_k, "head");
    const auto want = tile_scores(fisher.head, grid, 1);
    ASSERT_EQ(with.score.size(), want.size());
    for (std::size_t t = 0; t < want.size(); ++t) EXPECT_DOUBLE_EQ(with.score[t], want[t]) << "tile " << t;
    quant::LayerwiseSource fp2(w, samples, 1);
    walk_blocks(fp2, w);
    const TileCosts hessian = head_tile_costs(w, &fp2, L, o, nullptr);
    EXPECT_NE(hessian.score, with.score);
    model::FisherDiagonal no_head = fisher;
    no_head.head = model::Matrix();
    quant::LayerwiseSource fp4(w, samples, 1);
    walk_blocks(fp4, w);
    try {
        (void)head_tile_costs(w, &fp4, L, o, &no_head);
        ADD_FAILURE() << "a Fisher diagonal without head entries was taken";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E9179");
    }
    // The model-wide objective with Fisher sensitivity: plan and pass 2 agree on the head's levels.
    o.scope = AssignScope::model;
    o.model_objective = true;
    o.objective = Objective::bal;
    quant::LayerwiseSource fp3(w, samples, 1);
    const ModelPlan plan = plan_model_wide(w, L, o, &fp3, &fisher, {});
    ASSERT_EQ(plan.levels.size(), linear_count(w) + 1);
    quant::LayerwiseSource src(w, samples, 1);
    const auto r = quantize_model_halo(w, L, o, &src, &fisher, {}, &plan);
    ASSERT_TRUE(r.head.has_value());
    EXPECT_EQ(r.head->assignment.level, plan.levels.back());
}

TEST(HeadQuantizer, BadOrMissingHeadFilesAreNamedErrors) {
    Scratch dir;
    const auto path = tiny_checkpoint(dir);
    const auto profile = test::synthetic_int8_profile();
    const Ladder L = build_ladder(profile, {});
    HaloOptions o = head_options();
    o.gptq = false;  // round to nearest: only the files matter here
    const auto q = quantize(path, L, o, false);
    quant::RunInfo info;
    info.source_model = path.string();
    write_halo_dir(dir / "q", q.result, L, o, info, q.weights.config, "test-tiny", false, machine_of(L, o), &profile);

    // A head of another shape than the model's: E6052, naming the file.
    model::ModelWeights other = model::load_model(path);
    other.output = model::Matrix(10, other.config.d_model);
    try {
        quant::load_quantized(dir / "q", other);
        ADD_FAILURE() << "expected E6052";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E6052");
        EXPECT_NE(std::string(e.what()).find("output.hqt"), std::string::npos) << e.what();
    }
    // A changed head file: the digest check (E6038); a missing one: E6054 (never the FP32 head).
    write_file_atomic(dir / "q" / "output.hqt", "not a tensor");
    try {
        quant::read_quantized_dir(dir / "q");
        ADD_FAILURE() << "expected E6038";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E6038");
    }
    std::filesystem::remove(dir / "q" / "output.hqt");
    for (bool verify : {true, false}) {
        try {
            quant::read_quantized_dir(dir / "q", verify);
            ADD_FAILURE() << "expected E6054";
        } catch (const Error& e) {
            EXPECT_EQ(e.diagnostic().code, "E6054");
            EXPECT_NE(std::string(e.what()).find("output.hqt"), std::string::npos) << e.what();
        }
    }
    const model::LazyModel lazy(path);
    const quant::QuantizedDirReader reader(dir / "q", lazy.config().n_layers, false);
    model::ModelWeights w = model::load_model(path);
    EXPECT_THROW(reader.apply_head(w), Error);

    // A head's input takes the directory's activation format; an Amove plan names block
    // linears only (E6053), a plain format hooks the head too.
    try {
        (void)quant::activation_hooks_for("amove-aggressive", true);
        ADD_FAILURE() << "expected E6053";
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E6053");
    }
    EXPECT_TRUE(static_cast<bool>(quant::activation_hooks_for("int8_per_token", true).lm_head_input));
    EXPECT_FALSE(static_cast<bool>(quant::activation_hooks_for("int8_per_token", false).lm_head_input));
    EXPECT_FALSE(static_cast<bool>(quant::activation_hooks_for("amove-aggressive", false).lm_head_input));

    // The block streamer quantizes the head too (halo_streaming_test.cpp; on the device's
    // calibration too: cuda_quant_test.cpp).
    EXPECT_NO_THROW(check_streamable(o));
}

}  // namespace
}  // namespace halo::hwq
