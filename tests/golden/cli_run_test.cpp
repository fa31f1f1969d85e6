// Tiny real runs of the CLI: exit 0 and the key fields of what they write.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "../unit/require_data.hpp"
#include "cli_runner.hpp"

namespace halo::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* kOsu018 = "/usr/share/qflow/tech/osu018/osu018_stdcells.lib";

TEST(CliSimulate, SystolicJsonOnStdoutAndOutFiles) {
    const auto dir = fresh_dir();
    const auto r = run_halo({"simulate", "--model-shape", "tiny", "--seq", "16", "--array", "8x8", "--out", "sim.json", "--json"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json j = json::parse(r.out);
    EXPECT_EQ(j["run"]["arch"], "systolic");
    EXPECT_EQ(j["run"]["workload"], "tiny prefill L=16");
    ASSERT_TRUE(j.contains("speedup"));
    // Uniform INT8 against itself at the nominal level: the same run, speed-up exactly 1.
    EXPECT_DOUBLE_EQ(j["speedup"].get<double>(), 1.0);
    EXPECT_GT(j["total"]["cycles"].get<double>(), 0);
    // --out names the JSON file; the chart is beside it.
    ASSERT_TRUE(fs::exists(dir / "sim.json"));
    EXPECT_EQ(json::parse(read_text(dir / "sim.json")), j);
    EXPECT_EQ(read_text(dir / "sim.svg").rfind("<svg", 0), 0u);
}

TEST(CliSimulate, DesignRunToJsonFile) {
    const auto dir = fresh_dir();
    const auto r = run_halo({"simulate", "--model-shape", "tiny", "--design", "mxfp4", "--arch", "tensor-core", "--json", "d.json"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("mxfp4 on tensor-core, tiny prefill L=2048"), std::string::npos) << r.out;
    const json j = json::parse(read_text(dir / "d.json"));
    EXPECT_EQ(j["run"]["design"], "mxfp4");
    EXPECT_EQ(j["baseline"]["design"], "int8");
    EXPECT_GT(j["speedup"].get<double>(), 0);
}

TEST(CliAmoveHw, TableOnTinyModel) {
    const auto r = run_halo({"amove-hw", "--model-shape", "tiny", "--array", "16x16"}, fresh_dir());
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out.rfind("tiny prefill (seq 2048, batch 1, context 2048); speedup and energy ratio vs int8\n", 0), 0u) << r.out;
    EXPECT_NE(r.out.find("\nint8 "), std::string::npos);
}

TEST(CliCharacterize, BuiltinInt4Static) {
    if (!fs::exists(kOsu018)) GTEST_SKIP() << kOsu018 << " not installed (scripts/setup.sh build)";
    const auto dir = fresh_dir();
    const auto r = run_halo({"characterize", "--mac", "int4", "--liberty", kOsu018, "--analysis", "static", "--threads", "1",
                             "--work-dir", "work", "--out", "p.json", "--quiet"},
                            dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json p = json::parse(read_text(dir / "p.json"));
    EXPECT_EQ(p["format"], "halo-mac-profile");
    EXPECT_EQ(p["design"]["mac"], "int4");
    EXPECT_EQ(p["design"]["weight_bits"], 4);
    ASSERT_EQ(p["weights"].size(), 16u);  // every 4-bit code once
    for (const auto& w : p["weights"]) {
        const double d = w["static_delay_ns"].get<double>();
        EXPECT_GT(d, 0);
        EXPECT_LE(d, p["design"]["nominal_delay_ns"].get<double>() + 1e-9);
    }
    EXPECT_TRUE(fs::exists(dir / "p.csv"));
    EXPECT_TRUE(fs::exists(dir / "p.svg"));
}

// quantize (RTN int4 g32) -> eval of the result -> export to GGUF, on the default model.
// A synthetic mixture-of-experts checkpoint (8 experts, top-2): GPTQ calibrates every expert,
// prints the tokens routed to each, warns below --min-expert-tokens, and the manifest keeps the
// counts and one tensor file per expert linear.
// `halo run --quantize-head` on the tiny synthetic model: the HALO row's directory holds the
// head (output.hqt), results.json counts the head's tiles, and `halo eval --quantized` of the
// directory reproduces the run's perplexity (the head and its INT8 input hook applied).
TEST(CliRun, QuantizeHeadTinyModelEvalReproducesTheRun) {
    const auto dir = fresh_dir();
    auto r = run_halo({"synth", "--shape", "test-tiny", "--out", "m", "--dtype", "f32", "--threads", "1", "--quiet"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> printable(33, 126);
    std::string text;
    for (int i = 0; i < 3000; ++i) text += static_cast<char>(printable(rng));
    std::ofstream(dir / "text.txt") << text;
    const auto profile = (fs::path(HALO_GOLDEN_DIR) / "../../docs/results/profiles/int8-yosys.json").string();
    r = run_halo({"run", "--model", "m", "--eval", "text.txt", "--calib", "text.txt", "--profile", profile, "--quantize-head",
                  "--objectives", "bal", "--baselines=", "--no-fp-reference", "--tile", "32x32", "--samples", "2",
                  "--seq-len", "64", "--ctx", "64", "--max-chunks", "2", "--sim-seq-len", "64", "--threads", "1", "--quiet",
                  "--out", "run"},
                 dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json res = json::parse(read_text(dir / "run" / "results.json"));
    ASSERT_EQ(res["variants"].size(), 1u);
    const json& v = res["variants"][0];
    std::int64_t head_tiles = 0;
    for (const auto& n : v["head_tiles_per_level"]) head_tiles += n.get<std::int64_t>();
    EXPECT_EQ(head_tiles, (320 / 32) * (64 / 32));  // test-tiny's head: vocab 320 x d_model 64
    ASSERT_TRUE(fs::exists(dir / "run" / "halo-bal" / "output.hqt"));
    r = run_halo({"eval", "--quantized", "run/halo-bal", "--text", "text.txt", "--ctx", "64", "--max-chunks", "2",
                  "--threads", "1", "--quiet", "--json", "e.json"},
                 dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(json::parse(read_text(dir / "e.json"))["perplexity"].get<double>(), v["perplexity"].get<double>());
    const std::set<std::string> kernels = {"avx512", "avx2", "reference"};
    EXPECT_TRUE(kernels.count(res.value("cpu_gemm", ""))) << res.value("cpu_gemm", "(missing)");
}

// `halo eval --json` says when and how it was made (date, version, commit, command line) and which
// CPU GEMM kernel computed it (A8 perplexities depend on its summation order), in memory and
// streamed; HALO_GEMM=reference is reported as such.
TEST(CliEval, JsonSaysWhenHowAndWhichGemmKernel) {
    const auto dir = fresh_dir();
    auto r = run_halo({"synth", "--shape", "test-tiny", "--out", "m", "--dtype", "f32", "--threads", "1", "--quiet"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::ofstream(dir / "text.txt") << std::string(600, 'a') + "bcdefghij klmnop qrstuv wxyz 0123456789\n";
    const std::set<std::string> kernels = {"avx512", "avx2", "reference"};
    for (const std::string mode : {"memory", "stream", "reference"}) {
        std::vector<std::string> args = {"eval", "--model", "m", "--text", "text.txt", "--ctx", "32", "--max-chunks", "2",
                                         "--threads", "1", "--quiet", "--json", mode + ".json"};
        if (mode == "stream") args.push_back("--stream");
        if (mode == "reference") ::setenv("HALO_GEMM", "reference", 1);
        r = run_halo(args, dir);
        ::unsetenv("HALO_GEMM");
        ASSERT_EQ(r.exit_code, 0) << mode << ": " << r.err;
        const json e = json::parse(read_text(dir / (mode + ".json")));
        const std::string date = e.value("date", "");
        EXPECT_EQ(date.size(), 20u) << mode << ": " << date;  // 2026-12-06T21:04:05Z
        EXPECT_EQ(date.back(), 'Z') << mode;
        EXPECT_FALSE(e.value("halo_version", "").empty()) << mode;
        EXPECT_TRUE(e.contains("git_commit")) << mode;
        EXPECT_NE(e.value("command", "").find("eval --model m --text text.txt"), std::string::npos) << mode << ": " << e.dump();
        if (mode == "reference") EXPECT_EQ(e.value("cpu_gemm", ""), "reference");
        else EXPECT_TRUE(kernels.count(e.value("cpu_gemm", ""))) << mode << ": " << e.value("cpu_gemm", "(missing)");
    }
}

// `halo quantize --method halo --quantize-head --stream` (one block resident) writes the head
// the in-memory quantize writes: output.hqt and tile_levels.json byte for byte.
TEST(CliRun, QuantizeHeadStreamedEqualsInMemory) {
    const auto dir = fresh_dir();
    auto r = run_halo({"synth", "--shape", "test-tiny", "--out", "m", "--dtype", "f32", "--threads", "1", "--quiet"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> printable(33, 126);
    std::string text;
    for (int i = 0; i < 3000; ++i) text += static_cast<char>(printable(rng));
    std::ofstream(dir / "text.txt") << text;
    const auto profile = (fs::path(HALO_GOLDEN_DIR) / "../../docs/results/profiles/int8-yosys.json").string();
    for (const std::string out : {"mem", "str"}) {
        std::vector<std::string> args = {"quantize", "--model", "m", "--method", "halo", "--quantize-head", "--profile", profile,
                                         "--tile", "32x32", "--calib", "text.txt", "--samples", "2", "--seq-len", "64",
                                         "--threads", "1", "--quiet", "--out", out};
        if (out == "str") args.push_back("--stream");
        r = run_halo(args, dir);
        ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    ASSERT_TRUE(fs::exists(dir / "str" / "output.hqt"));
    EXPECT_TRUE(read_text(dir / "str" / "output.hqt") == read_text(dir / "mem" / "output.hqt"));
    EXPECT_TRUE(read_text(dir / "str" / "tile_levels.json") == read_text(dir / "mem" / "tile_levels.json"));
    const json ms = json::parse(read_text(dir / "str" / "manifest.json")), mm = json::parse(read_text(dir / "mem" / "manifest.json"));
    EXPECT_EQ(ms["head"]["file"], "output.hqt");
    EXPECT_EQ(ms["head"]["output_error"], mm["head"]["output_error"]);
    EXPECT_EQ(ms["halo"]["head_tiles_per_level"], mm["halo"]["head_tiles_per_level"]);
}

TEST(CliMoe, SynthQuantizeReportsTokensPerExpert) {
    const auto dir = fresh_dir();
    auto r = run_halo({"synth", "--shape", "test-tiny-moe", "--out", "m", "--dtype", "f32", "--quiet"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // Seeded printable bytes (the synthetic tokenizer is byte-level): varied enough that the
    // random router reaches all 8 experts; a repeated sentence left one expert without a token.
    std::mt19937 rng(5);
    std::uniform_int_distribution<int> printable(33, 126);
    std::string text;
    for (int i = 0; i < 4000; ++i) text += static_cast<char>(printable(rng));
    std::ofstream(dir / "calib.txt") << text;
    r = run_halo({"quantize", "--model", "m", "--method", "gptq", "--calib", "calib.txt", "--samples", "8", "--seq-len", "128",
                  "--out", "q", "--threads", "1", "--quiet", "--min-expert-tokens", "1000"},
                 dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("calibration tokens routed per expert (top-2 of 8):"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("  block 1: "), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("warning: block 0 expert "), std::string::npos) << r.err;  // some expert < 1000 of 2048 pairs
    const json m = json::parse(read_text(dir / "q" / "manifest.json"));
    ASSERT_EQ(m["expert_tokens"].size(), 2u);
    std::int64_t pairs = 0;
    for (const auto& n : m["expert_tokens"][0]["tokens"]) pairs += n.get<std::int64_t>();
    EXPECT_EQ(pairs, 8 * 128 * 2);
    EXPECT_TRUE(fs::exists(dir / "q" / "blk.1.ffn_down_exps.7.hqt"));
    // The threshold flag on a method without calibration is a usage error, not ignored.
    r = run_halo({"quantize", "--model", "m", "--method", "rtn", "--out", "r", "--quiet", "--min-expert-tokens", "4"}, dir);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_NE(r.err.find("E6164"), std::string::npos) << r.err;
}

TEST(CliRealModel, QuantizeEvalExport) {
    // Where the halo binary looks (util/paths: HALO_DATA, else the configured data dir).
    const char* data_env = std::getenv("HALO_DATA");
    const fs::path data = data_env && *data_env ? fs::path(data_env) : fs::path(HALO_DATA_DIR_FOR_TESTS);
    HALO_SKIP_UNLESS_INSTALLED(data / "models" / "smollm2-135m-instruct-q4_1.gguf");
    const auto dir = fresh_dir();
    auto r = run_halo({"quantize", "--method", "rtn", "--bits", "4", "--group", "32", "--out", "q", "--threads", "2", "--quiet"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json manifest = json::parse(read_text(dir / "q" / "manifest.json"));
    EXPECT_EQ(manifest["method"], "rtn");

    r = run_halo({"eval", "--quantized", "q", "--ctx", "128", "--max-chunks", "1", "--threads", "2", "--quiet", "--json", "e.json"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json e = json::parse(read_text(dir / "e.json"));
    EXPECT_EQ(e["quantized"], "q");
    EXPECT_EQ(e["chunks"], 1);
    EXPECT_EQ(e["tokens_scored"], 63);  // llama.cpp method: the second half of one 128-token chunk, less one
    const double ppl = e["perplexity"].get<double>();
    EXPECT_TRUE(std::isfinite(ppl));
    EXPECT_GT(ppl, 1.0);
    EXPECT_NE(r.out.find("perplexity: "), std::string::npos);  // --json PATH keeps the text report

    r = run_halo({"export", "--quantized", "q", "--out", "q.gguf", "--quiet", "--json"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json x = json::parse(r.out);
    EXPECT_EQ(x["types"]["Q4_0"], 210);  // every linear of SmolLM2-135M: 30 blocks x 7
    EXPECT_GT(fs::file_size(dir / "q.gguf"), 1u << 20);

    // Issue #17, class 6: the directory is checked against its manifest's SHA-256 digests.
    // A different source model (here: the default model with one byte appended) is refused.
    fs::copy_file(data / "models" / "smollm2-135m-instruct-q4_1.gguf", dir / "other.gguf");
    { std::ofstream(dir / "other.gguf", std::ios::app) << 'x'; }
    r = run_halo({"export", "--quantized", "q", "--model", "other.gguf", "--out", "o.gguf", "--quiet"}, dir);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("halo: other.gguf: error E6040: sha256: the model is not the one the quantized directory was made from (expected ", 0), 0u) << r.err;
    EXPECT_FALSE(fs::exists(dir / "o.gguf"));
    // One flipped code byte: eval refuses, naming the file; --no-verify trusts it.
    const fs::path hqt = dir / "q" / "blk.3.ffn_up.hqt";
    std::string bytes = read_text(hqt);
    bytes[1000] = static_cast<char>(bytes[1000] ^ 0x01);
    { std::ofstream(hqt, std::ios::binary | std::ios::trunc) << bytes; }
    const std::vector<std::string> eval_q = {"eval", "--quantized", "q", "--ctx", "16", "--max-chunks", "1", "--threads", "2", "--quiet"};
    r = run_halo(eval_q, dir);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err.rfind("halo: q/blk.3.ffn_up.hqt: error E6038: sha256: file content differs from the digest the manifest records", 0), 0u) << r.err;
    auto no_verify = eval_q;
    no_verify.push_back("--no-verify");
    r = run_halo(no_verify, dir);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    // simulate reads DIR/tile_levels.json: one the manifest does not list is refused.
    bytes[1000] = static_cast<char>(bytes[1000] ^ 0x01);  // the directory as written again
    { std::ofstream(hqt, std::ios::binary | std::ios::trunc) << bytes; }
    { std::ofstream(dir / "q" / "tile_levels.json") << "{}"; }
    r = run_halo({"simulate", "--quantized", "q"}, dir);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, "halo: q/manifest.json: error E6044: file_sha256: a file of the directory has no digest in the manifest "
                     "(expected a digest for \"tile_levels.json\", found none); hint: the manifest was edited; re-run halo "
                     "quantize, or pass --no-verify to trust it\n");
}

TEST(CliRealModel, UnknownHaloGemmIsAnErrorNotIgnored) {
    const char* data_env = std::getenv("HALO_DATA");
    const fs::path data = data_env && *data_env ? fs::path(data_env) : fs::path(HALO_DATA_DIR_FOR_TESTS);
    HALO_SKIP_UNLESS_INSTALLED(data / "models" / "smollm2-135m-instruct-q4_1.gguf");
    ::setenv("HALO_GEMM", "avx9", 1);  // the child inherits it
    const auto r = run_halo({"eval", "--ctx", "16", "--max-chunks", "1", "--quiet"}, fresh_dir());
    ::unsetenv("HALO_GEMM");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.err, "halo: error E5345: HALO_GEMM: unknown GEMM kernel in the environment (expected reference, avx2 or avx512, "
                     "found \"avx9\"); hint: unset HALO_GEMM to use the best kernel the CPU runs\n");
}


// `quantize --method halo` on the default model writes a directory like `--method gptq`'s: the
// same files (HALO adding its machine files) and manifest keys (HALO adding its "halo" section);
// eval and simulate accept both; export reads both and refuses both by name (their quantized
// activations do not fit GGUF: E6022). Reduced settings; still minutes on 2 cores: make test-slow.
TEST(CliRealModelSlow, QuantizeHaloAndGptqSameLayout) {
    if (!std::getenv("HALO_SLOW_TESTS")) GTEST_SKIP() << "set HALO_SLOW_TESTS=1 (make test-slow)";
    const char* data_env = std::getenv("HALO_DATA");
    const fs::path data = data_env && *data_env ? fs::path(data_env) : fs::path(HALO_DATA_DIR_FOR_TESTS);
    HALO_SKIP_UNLESS_INSTALLED(data / "models" / "smollm2-135m-instruct-q4_1.gguf");
    if (!fs::exists(kOsu018)) GTEST_SKIP() << kOsu018 << " not installed (scripts/setup.sh build)";
    const auto dir = fresh_dir();
    auto r = run_halo({"characterize", "--mac", "int8", "--liberty", kOsu018, "--analysis", "static", "--threads", "1",
                       "--work-dir", "work", "--out", "p.json", "--quiet"},
                      dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run_halo({"quantize", "--method", "halo", "--profile", "p.json", "--samples", "2", "--seq-len", "64", "--no-gptq",
                  "--threads", "2", "--out", "qh", "--quiet"},
                 dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find(": halo bal@0.5 tile 128x128 -> qh"), std::string::npos) << r.out;
    // W4A4 g64, which simulate maps to a hardware design (a weight-only directory is E7071 there).
    r = run_halo({"quantize", "--method", "gptq", "--bits", "4", "--group", "64", "--act-format", "int4@g64", "--samples", "2",
                  "--seq-len", "64", "--threads", "2", "--out", "qg", "--quiet"},
                 dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;

    std::set<std::string> halo_files, gptq_files;
    for (const auto& e : fs::directory_iterator(dir / "qh")) halo_files.insert(e.path().filename().string());
    for (const auto& e : fs::directory_iterator(dir / "qg")) gptq_files.insert(e.path().filename().string());
    for (const char* extra : {"tile_levels.json", "sim_config.json"}) EXPECT_EQ(halo_files.erase(extra), 1u) << extra;
    EXPECT_EQ(halo_files.erase("mac_profile.json"), 0u);  // written only for a profile with energies (this one is static)
    EXPECT_EQ(halo_files, gptq_files);
    EXPECT_EQ(gptq_files.size(), 1u + 210u);  // manifest.json + 30 blocks x 7 linears
    const json hm = json::parse(read_text(dir / "qh" / "manifest.json"));
    const json gm = json::parse(read_text(dir / "qg" / "manifest.json"));
    std::set<std::string> hk, gk;
    for (const auto& [k, _] : hm.items()) hk.insert(k);
    for (const auto& [k, _] : gm.items()) gk.insert(k);
    EXPECT_EQ(hk.erase("halo"), 1u);
    EXPECT_EQ(hk, gk);
    EXPECT_EQ(hm["method"], "halo");
    EXPECT_EQ(gm["method"], "gptq");

    for (const char* q : {"qh", "qg"}) {
        r = run_halo({"eval", "--quantized", q, "--ctx", "128", "--max-chunks", "1", "--threads", "2", "--quiet", "--json"}, dir);
        ASSERT_EQ(r.exit_code, 0) << q << r.err;
        const double ppl = json::parse(r.out)["perplexity"].get<double>();
        EXPECT_TRUE(std::isfinite(ppl) && ppl > 1.0) << q;
        r = run_halo({"simulate", "--quantized", q, "--model-shape", "smollm2-135m", "--seq", "512", "--json"}, dir);
        ASSERT_EQ(r.exit_code, 0) << q << r.err;
        EXPECT_GT(json::parse(r.out)["speedup"].get<double>(), 0) << q;
    }
    // Export reads both and refuses both by name: activation quantization does not fit GGUF (E6022).
    for (const char* q : {"qh", "qg"}) {
        r = run_halo({"export", "--quantized", q, "--out", std::string(q) + ".gguf", "--quiet"}, dir);
        EXPECT_EQ(r.exit_code, 2) << q;
        EXPECT_NE(r.err.find("E6022"), std::string::npos) << r.err;
        EXPECT_FALSE(fs::exists(dir / (std::string(q) + ".gguf")));
    }
}

}  // namespace
}  // namespace halo::test
