// The jobs the commands and the Python package call: the method table dispatches by row (HALO
// included), options are checked before any model is loaded, and on a synthetic 2-block
// checkpoint `--method halo` and `--method gptq` write directories of the same layout and
// manifest schema that the eval and simulate jobs both accept.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../hwq/test_support.hpp"
#include "../quant/tiny_gguf.hpp"
#include "fisher_recording_device.hpp"
#include "tiny_job_inputs.hpp"
#include "halo/hwq/halo_dir.hpp"
#include "halo/model/gguf_reader.hpp"
#include "halo/model/model_loader.hpp"
#include "halo/quant/export_gguf.hpp"
#include "halo/quant/model_quantizer.hpp"
#include "halo/jobs/eval_job.hpp"
#include "halo/jobs/halo_quantize_job.hpp"
#include "halo/jobs/methods.hpp"
#include "halo/jobs/simulate_job.hpp"
#include "halo/mac/profile.hpp"
#include "halo/model/synthetic_checkpoint.hpp"
#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::jobs {
namespace {

namespace fs = std::filesystem;

template <class F>
Diagnostic error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.diagnostic();
    }
    ADD_FAILURE() << "no error";
    return {};
}

TEST(MethodTable, EveryRowHasItsJobAndHaloIsARow) {
    const MethodTable& t = method_table();
    for (const char* name : {"rtn", "gptq", "awq", "kmeans", "smoothquant"}) EXPECT_EQ(t.find(name).job, &run_table_quantize) << name;
    EXPECT_EQ(t.find("halo").job, &run_halo_quantize);
    EXPECT_EQ(t.find("halo").traits.id, quant::Method::halo);
    const auto d = error_of([&] { (void)t.find("nonesuch"); });
    EXPECT_EQ(d.code, "E6007");
    EXPECT_NE(d.expected.find("halo"), std::string::npos) << d.expected;
    MethodTable twice;
    twice.add(quant::methods()[0], &run_table_quantize);
    EXPECT_EQ(error_of([&] { twice.add(quant::methods()[0], &run_table_quantize); }).code, "E6033");
}

TEST(QuantizeJobOptions, TileHasOneSyntaxForTableMethodsAndHalo) {
    QuantizeJobOptions o;
    o.tile = "128x64";
    const auto& gptq = method_table().find("gptq").traits;
    const auto q = table_quantize_options(o, gptq);
    EXPECT_EQ(q.granularity.group_rows, 128);
    EXPECT_EQ(q.granularity.group_cols, 64);
    const auto h = halo_quantize_options(o);
    EXPECT_EQ(h.halo.tile_k, 128);
    EXPECT_EQ(h.halo.tile_n, 64);
    for (const char* bad : {"128", "0x8", "64x", "8x8x8"}) {
        o.tile = bad;
        for (const auto& d : {error_of([&] { (void)table_quantize_options(o, gptq); }), error_of([&] { (void)halo_quantize_options(o); })}) {
            EXPECT_EQ(d.code, "E0010") << bad;
            EXPECT_EQ(d.place, "--tile");
            EXPECT_EQ(d.kind, ErrorKind::usage);
        }
    }
    o.tile = "32x32";
    o.group = 32;
    EXPECT_EQ(error_of([&] { (void)table_quantize_options(o, gptq); }).code, "E6001");
    o.group = 0;
    o.halo.budget = 1.5;
    EXPECT_EQ(error_of([&] { (void)halo_quantize_options(o); }).code, "E9014");
}

TEST(EvalAndSimulateJobs, OptionsCheckedBeforeAnyWork) {
    EvalJobOptions e;
    e.bos = "maybe";
    EXPECT_EQ(error_of([&] { (void)run_eval_job(e, {}); }).code, "E9042");
    SimulateJobOptions s;
    s.model_shape = "tiny";
    s.arch = "abacus";
    EXPECT_EQ(error_of([&] { (void)run_simulate_job(s); }).code, "E7060");
    s.arch = "tensor-core";
    EXPECT_EQ(error_of([&] { (void)run_simulate_job(s); }).code, "E7063");
    s.arch = "systolic";
    s.design = "int8";
    s.quantized = "q";
    EXPECT_EQ(error_of([&] { (void)run_simulate_job(s); }).code, "E7061");
    s.quantized.clear();
    s.profile = "p.json";
    EXPECT_EQ(error_of([&] { (void)run_simulate_job(s); }).code, "E7065");
    s = {};
    s.model_shape = "tiny";
    s.seq = 16;
    s.array = "8x8";
    const auto r = run_simulate_job(s);
    EXPECT_DOUBLE_EQ(r.report["speedup"].get<double>(), 1.0);  // uniform INT8 against itself
}

struct Scratch {
    fs::path dir = fs::temp_directory_path() / ("halo_jobs_test_" + std::to_string(::getpid()));
    Scratch() { fs::create_directories(dir); }
    ~Scratch() {
        std::error_code ec;
        fs::remove_all(dir, ec);
    }
};

std::set<std::string> file_names(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
}

std::set<std::string> keys(const nlohmann::json& j) {
    std::set<std::string> k;
    for (const auto& [key, _] : j.items()) k.insert(key);
    return k;
}

// A synthetic 2-block model, a byte-level text, and a synthetic INT8 MAC profile (no yosys).
TEST(QuantizeJob, HaloAndGptqWriteTheSameLayoutOnASyntheticModel) {
    Scratch s;
    test::write_tiny_job_inputs(s.dir);

    QuantizeJobOptions o;
    o.model = (s.dir / "tiny").string();
    o.calib_text = s.dir / "text.txt";
    o.eval_text = s.dir / "text.txt";
    o.samples = 2, o.seq_len = 32, o.ctx = 32, o.max_chunks = 2, o.threads = 1;
    o.method = "gptq";
    o.format = "int4";
    o.group = 64;
    o.act_format = "int4@g64";  // W4A4 g64: a hardware design exists for it (a weight-only directory is E7071 in simulate)
    o.out_dir = s.dir / "gptq";
    const auto g = run_quantize_job(o, {});
    o.method = "halo";
    o.format.clear();
    o.group = 0;
    o.act_format.clear();
    o.tile = "32x32";
    o.halo.profile = s.dir / "profile.json";
    o.out_dir = s.dir / "halo";
    const auto h = run_quantize_job(o, {});

    EXPECT_EQ(g.method, "gptq");
    EXPECT_FALSE(g.halo.has_value());
    ASSERT_TRUE(h.halo.has_value());
    EXPECT_EQ(h.halo->tile_k, 32);
    ASSERT_TRUE(g.perplexity && h.perplexity);
    EXPECT_TRUE(std::isfinite(*g.perplexity) && std::isfinite(*h.perplexity));

    // Layout: the same files (manifest + one .hqt per linear), HALO adding its machine files.
    auto gf = file_names(s.dir / "gptq"), hf = file_names(s.dir / "halo");
    for (const char* extra : {"tile_levels.json", "sim_config.json", "mac_profile.json"}) EXPECT_EQ(hf.erase(extra), 1u) << extra;
    EXPECT_EQ(gf, hf);
    EXPECT_EQ(gf.size(), 1u + 2 * 7);
    // Schema: the same top-level manifest keys, HALO adding its "halo" section.
    const auto gm = nlohmann::json::parse(read_file(s.dir / "gptq" / "manifest.json"));
    const auto hm = nlohmann::json::parse(read_file(s.dir / "halo" / "manifest.json"));
    auto hk = keys(hm);
    EXPECT_EQ(hk.erase("halo"), 1u);
    EXPECT_EQ(keys(gm), hk);
    EXPECT_EQ(keys(gm["linears"][0]), keys(hm["linears"][0]));
    EXPECT_EQ(hm["method"], "halo");
    EXPECT_FALSE(quant::read_manifest_summary(s.dir / "gptq").halo);
    EXPECT_TRUE(quant::read_manifest_summary(s.dir / "halo").halo);

    // Eval accepts both; its perplexity of the directory is the quantize job's own.
    for (const char* dir : {"gptq", "halo"}) {
        EvalJobOptions e;
        e.model = o.model;
        e.text = s.dir / "text.txt";
        e.quantized = s.dir / dir;
        e.ctx = 32, e.max_chunks = 2, e.threads = 1;
        const auto r = run_eval_job(e, {});
        EXPECT_EQ(r.result.perplexity, std::string(dir) == "halo" ? *h.perplexity : *g.perplexity) << dir;
        e.model.clear();  // without a model: the directory's source model, not the installed default
        const auto r2 = run_eval_job(e, {});
        EXPECT_EQ(r2.model_path, fs::absolute(o.model)) << dir;
        EXPECT_EQ(r2.result.perplexity, r.result.perplexity) << dir;
    }
    // Simulate accepts both: the GPTQ W4A4 manifest picks its hardware design, the HALO directory
    // gives its tiles and its machine (the array it was quantized for).
    SimulateJobOptions sim;
    sim.hf_config = (s.dir / "tiny" / "config.json").string();
    sim.seq = 64;
    sim.quantized = (s.dir / "gptq").string();
    const auto sg = run_simulate_job(sim);
    ASSERT_NE(sg.design, nullptr);
    EXPECT_EQ(sg.report["run"]["design"], "int-sym-g64");
    sim.quantized = (s.dir / "halo").string();
    const auto sh = run_simulate_job(sim);
    EXPECT_EQ(sh.design, nullptr);
    EXPECT_GT(sh.report["speedup"].get<double>(), 0);
    EXPECT_EQ(sh.run.layers.empty(), false);
    {  // a manifest that records no source model: E9045 names the manifest and asks for --model
        auto m = nlohmann::json::parse(read_file(s.dir / "gptq" / "manifest.json"));
        m.erase("source_model");
        write_file_atomic(s.dir / "gptq" / "manifest.json", m.dump());
        EvalJobOptions e;
        e.quantized = s.dir / "gptq";
        const auto d = error_of([&] { (void)run_eval_job(e, {}); });
        EXPECT_EQ(d.code, "E9045");
        EXPECT_NE(d.place.find("manifest.json"), std::string::npos) << d.place;
    }
}

// A HALO job on a synthetic test-tiny checkpoint in `s`: a short text to calibrate on, the
// synthetic INT8 profile, 32x32 tiles, one thread.
QuantizeJobOptions tiny_halo_job(const Scratch& s) {
    test::write_tiny_job_inputs(s.dir, 60);
    QuantizeJobOptions o;
    o.model = (s.dir / "tiny").string();
    o.calib_text = s.dir / "text.txt";
    o.samples = 2, o.seq_len = 32, o.threads = 1;
    o.method = "halo";
    o.tile = "32x32";
    o.halo.profile = s.dir / "profile.json";
    return o;
}

// `halo simulate --quantized DIR` of a HALO directory charges the stored bits per weight its
// manifest records (codes plus the sparse part), as `halo run` does: against the same directory's
// tile levels and machine without those bits, DRAM energy rises and nothing else moves; the
// baseline (uniform INT8) reads word-size weights either way.
TEST(QuantizeJob, SimulateChargesAHaloDirectorysStoredBits) {
    Scratch s;
    QuantizeJobOptions o = tiny_halo_job(s);
    o.halo.outlier_sigma = 2;  // a sparse part on every linear: more than 8 stored bits per weight
    o.out_dir = s.dir / "halo";
    (void)run_quantize_job(o, {});
    const auto summary = quant::read_manifest_summary(o.out_dir);
    ASSERT_EQ(summary.linear_bits.size(), 2u * 7u);
    for (const auto& b : summary.linear_bits) EXPECT_GT(b.bits_per_weight, 8.0) << b.layer << " " << b.name;

    SimulateJobOptions with_dir;
    with_dir.model = o.model;
    with_dir.quantized = o.out_dir.string();
    with_dir.batch = 1, with_dir.context = 32;  // decode: weights read from DRAM per token
    SimulateJobOptions levels_only = with_dir;
    levels_only.quantized.clear();
    levels_only.tile_levels = (o.out_dir / "tile_levels.json").string();
    levels_only.config_file = (o.out_dir / "sim_config.json").string();
    levels_only.profile = (o.out_dir / "mac_profile.json").string();
    const auto a = run_simulate_job(with_dir), b = run_simulate_job(levels_only);
    EXPECT_GT(a.run.total.energy.dram_j, b.run.total.energy.dram_j);
    EXPECT_DOUBLE_EQ(a.run.total.energy.mac_j, b.run.total.energy.mac_j);
    EXPECT_DOUBLE_EQ(a.base.total.energy.total_j(), b.base.total.energy.total_j());
    EXPECT_GT(a.report["energy_ratio"].get<double>(), b.report["energy_ratio"].get<double>());

    // A HALO directory without a manifest (its tile levels and machine only) keeps word-size
    // weights: the levels-only figures, not an error.
    const fs::path bare = s.dir / "bare";
    fs::create_directories(bare);
    for (const char* f : {"tile_levels.json", "sim_config.json", "mac_profile.json"}) fs::copy_file(o.out_dir / f, bare / f);
    SimulateJobOptions bare_dir = with_dir;
    bare_dir.quantized = bare.string();
    EXPECT_DOUBLE_EQ(run_simulate_job(bare_dir).run.total.energy.total_j(), b.run.total.energy.total_j());
}

// `halo quantize --sparse-grid` reaches HALO (the manifest records the grid the run used, and
// row-or-tile's selector bit is in the information bits), streamed or not; an unknown grid is
// refused before any model is loaded.
TEST(QuantizeJob, HaloTakesTheSparseGridAndRefusesAnUnknownOne) {
    Scratch s;
    QuantizeJobOptions o = tiny_halo_job(s);
    o.halo.outlier_sigma = 2;  // a sparse part on every linear
    double info_bits[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
        o.halo.sparse_grid = k == 0 ? "row" : "row-or-tile";
        for (const bool stream : {false, true}) {
            o.stream = stream;
            o.out_dir = s.dir / (o.halo.sparse_grid + (stream ? "-stream" : ""));
            (void)run_quantize_job(o, {});
            const auto m = nlohmann::json::parse(read_file(o.out_dir / "manifest.json"));
            EXPECT_EQ(m["halo"]["sparse_grid"], o.halo.sparse_grid) << stream;
            info_bits[k] = m["halo"]["information_bits_per_weight"].get<double>();
        }
    }
    EXPECT_GT(info_bits[1], info_bits[0]);  // the selector bit per sparse value
    o.halo.sparse_grid = "diagonal";
    o.model = (s.dir / "missing").string();  // refused before the model is read
    o.out_dir = s.dir / "bad";
    EXPECT_EQ(error_of([&] { (void)run_quantize_job(o, {}); }).code, "E9176");
    EXPECT_FALSE(fs::exists(s.dir / "bad"));
}

// `halo quantize --method halo --sensitivity fisher --device cuda` asks the device for the LM
// head's Fisher entries exactly when the head is quantized (before session 21 it asked for none,
// and the head quantizer then stopped with an internal error, E9179). Without a GPU: the device
// records the request and stops the job; nothing is written.
TEST(QuantizeJob, HaloAsksTheDeviceFisherForTheHeadExactlyWhenTheHeadIsQuantized) {
    Scratch s;
    QuantizeJobOptions o = tiny_halo_job(s);
    o.sensitivity = "fisher";
    for (const bool quantize_head : {true, false}) {
        SCOPED_TRACE(quantize_head ? "head quantized" : "head kept");
        test::FisherRecordingDevice device;
        o.device = &device;
        o.halo.quantize_head = quantize_head;
        o.out_dir = s.dir / (quantize_head ? "fisher-head" : "fisher");
        EXPECT_THROW((void)run_quantize_job(o, {}), test::FisherAsked);
        ASSERT_TRUE(device.head.has_value());
        EXPECT_EQ(*device.head, quantize_head ? model::HeadGradient::compute : model::HeadGradient::skip);
        EXPECT_FALSE(fs::exists(o.out_dir));
    }
}

// A tile larger than the model's linears fails at once (E9012, from the config's shapes), before
// the profile step, which may characterize a MAC for tens of seconds (session 21; before, the
// error came after it): the profile here does not exist, so reading it first would fail
// otherwise (E0001). In memory and streamed alike; nothing is written.
TEST(QuantizeJob, HaloTileThatDoesNotFitFailsBeforeTheProfileStep) {
    Scratch s;
    QuantizeJobOptions o = tiny_halo_job(s);
    o.tile = "128x128";  // test-tiny's attn_q is 64 x 64
    o.halo.profile = s.dir / "absent-profile.json";
    for (const bool stream : {false, true}) {
        o.stream = stream;
        o.out_dir = s.dir / (stream ? "big-tile-stream" : "big-tile");
        const auto d = error_of([&] { (void)run_quantize_job(o, {}); });
        EXPECT_EQ(d.code, "E9012") << stream;
        EXPECT_EQ(d.place, "blk.0.attn_q");
        EXPECT_FALSE(fs::exists(o.out_dir));
    }
}

// --calib-int8-inputs on `halo quantize --method halo` (run's flag): the streamed and the in-memory
// drivers calibrate through the same INT8-per-token hooks, the head's input included (every file
// but the manifest's timings identical), the hooks change the codes, the manifest says which
// inputs; a method without calibration statistics of its linears' Grams refuses it (E6035).
TEST(QuantizeJob, HaloCalibratesOnInt8InputsStreamedAsInMemory) {
    Scratch s;
    QuantizeJobOptions o = tiny_halo_job(s);
    o.halo.quantize_head = true;
    for (const bool int8 : {false, true})
        for (const bool stream : {false, true}) {
            o.calib_int8_inputs = int8;
            o.stream = stream;
            o.out_dir = s.dir / fmt::format("{}-{}", int8 ? "int8" : "fp32", stream ? "stream" : "mem");
            (void)run_quantize_job(o, {});
            const auto m = nlohmann::json::parse(read_file(o.out_dir / "manifest.json"));
            EXPECT_EQ(m["calibration"]["inputs"], int8 ? "int8_per_token" : "fp32");
        }
    std::size_t files = 0, differ_from_fp32 = 0;
    for (const auto& e : fs::directory_iterator(s.dir / "int8-mem")) {
        const auto name = e.path().filename().string();
        if (name.size() < 4 || name.substr(name.size() - 4) != ".hqt") continue;
        ++files;
        EXPECT_EQ(read_file(s.dir / "int8-stream" / name), read_file(e.path())) << name;
        differ_from_fp32 += read_file(s.dir / "fp32-mem" / name) != read_file(e.path());
    }
    EXPECT_GT(files, 7u);
    EXPECT_TRUE(fs::exists(s.dir / "int8-stream" / "output.hqt"));
    EXPECT_GT(differ_from_fp32, 0u);
    // The CLI and Python refuse the flag where the method takes no Gram through the method table.
    const std::vector<std::string> flag = {"--calib-int8-inputs"};
    EXPECT_EQ(error_of([&] { jobs::check_flags_apply(method_table().find("rtn").traits, flag); }).code, "E6035");
    EXPECT_NO_THROW(jobs::check_flags_apply(method_table().find("gptq").traits, flag));
    EXPECT_NO_THROW(jobs::check_flags_apply(method_table().find("halo").traits, flag));
}

// `halo export` accepts a HALO directory: its per-tile codebooks fit no GGML block type, so the
// linears need a fallback (F32 holds the decoded weights exactly), and its INT8 activations are
// dropped only when the caller says --weights-only; the re-loaded GGUF has the directory's weights.
TEST(ExportJob, HaloDirectoryExportsItsWeightsWithWeightsOnlyAndAFallback) {
    Scratch s;
    const fs::path src = quant::testing::write_tiny_gguf(s.dir / "tiny.gguf", 7);
    model::ModelWeights w = model::load_model(src);
    const hwq::Ladder ladder = hwq::build_ladder(hwq::test::synthetic_int8_profile(), {});
    hwq::HaloOptions ho;
    ho.tile_k = 32, ho.tile_n = 32, ho.threads = 1;
    ho.sparse.salient_fraction = 0.01;  // a sparse part too: GGML blocks cannot hold it either
    auto r = hwq::quantize_model_halo(w, ladder, ho, nullptr, nullptr, {});
    quant::RunInfo info;
    info.source_model = fs::absolute(src).string();
    info.source_format = w.source_format;
    accel::SystolicOptions machine;
    machine.array.rows = machine.array.cols = 32;
    machine.dvfs = hwq::dvfs_table(ladder);
    hwq::write_halo_dir(s.dir / "halo", r, ladder, ho, info, w.config, w.config.name, false, machine, nullptr);

    quant::GgufExportOptions o{.quantized_dir = s.dir / "halo", .out = s.dir / "halo.gguf"};
    auto e = error_of([&] { (void)quant::export_gguf(o); });
    EXPECT_EQ(e.code, "E6022");
    EXPECT_NE(e.hint.find("--weights-only"), std::string::npos) << e.hint;
    o.weights_only = true;
    e = error_of([&] { (void)quant::export_gguf(o); });
    EXPECT_EQ(e.code, "E6020");  // no GGML type holds HALO tiles: a fallback is needed
    EXPECT_FALSE(fs::exists(o.out));
    o.policy.fallback = &quant::gguf_fallback_type("f32");
    const auto rep = quant::export_gguf(o);
    EXPECT_EQ(rep.dropped_activation_format, "int8_per_token");
    ASSERT_EQ(rep.linears.size(), 7u * quant::testing::kLayers);
    for (const auto& l : rep.linears) {
        EXPECT_EQ(l.type, "F32") << l.name;
        EXPECT_TRUE(l.exact) << l.name;
    }
    const model::GgufFile out(o.out);
    EXPECT_EQ(out.get_string("halo.export.dropped_activation_format"), "int8_per_token");
    EXPECT_EQ(out.get_string("halo.export.method"), "halo");
    // The exported weights are the directory's decoded codes, bit for bit.
    model::ModelWeights from_dir = model::load_model(src);
    quant::apply_quantized(from_dir, quant::read_quantized_dir(s.dir / "halo"));
    const model::ModelWeights exported = model::load_model(o.out);
    for (int l = 0; l < quant::testing::kLayers; ++l)
        for (auto k : model::kLinearKinds)
            EXPECT_EQ(exported.layers[static_cast<std::size_t>(l)][k].data, from_dir.layers[static_cast<std::size_t>(l)][k].data)
                << l << " " << model::linear_name(k);
    // --weights-only on a weight-only directory is refused, not ignored.
    quant::QuantizeOptions rtn;
    rtn.format = "int8";
    rtn.granularity = quant::Granularity::per_group(32);
    model::ModelWeights w2 = model::load_model(src);
    quant::write_quantized_dir(s.dir / "rtn", quant::quantize_model(w2, rtn, nullptr), rtn, info, false);
    quant::GgufExportOptions o2{.quantized_dir = s.dir / "rtn", .out = s.dir / "rtn.gguf", .weights_only = true};
    EXPECT_EQ(error_of([&] { (void)quant::export_gguf(o2); }).code, "E6028");
}

}  // namespace
}  // namespace halo::jobs
