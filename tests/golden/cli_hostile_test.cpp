// Issue #17 through the CLI, the classes closed in session 5: wrong JSON types in every JSON
// reader (class 2), outputs under a regular file or in a place that refuses them (class 2), a
// non-UTF-8 path that would reach JSON output (class 2), messages that blamed the wrong thing
// (class 10), `--threads 64` under an address-space cap (class 11), and the leftovers of a run
// killed by SIGKILL. Each case: the exact exit code, and the message naming file or flag, the
// place, what was expected and what was found.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"

namespace halo::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

void write_text(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

// A tiny safetensors checkpoint (halo synth test-tiny) and a short text, in `dir`.
void make_tiny(const fs::path& dir) {
    const auto r = run_halo({"synth", "--shape", "test-tiny", "--out", "tiny", "--quiet"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::string text;
    for (int i = 0; i < 40; ++i) text += "the quick brown fox jumps over the lazy dog " + std::to_string(i) + "\n";
    write_text(dir / "t.txt", text);
}

json read_json(const fs::path& p) { return json::parse(read_text(p)); }

TEST(HostileJson, ConfigJsonFieldsOfTheWrongTypeAreExit2NamingTheKey) {
    const auto dir = fresh_dir();
    make_tiny(dir);
    const json original = read_json(dir / "tiny/config.json");
    struct Case {
        const char* key;
        json value;
        const char* message;  // after "m/config.json: error "
    };
    const Case cases[] = {
        {"model_type", 5, "E0020: model_type: JSON value has the wrong type (expected a string, found the integer 5)"},
        {"tie_word_embeddings", "yes", "E0020: tie_word_embeddings: JSON value has the wrong type (expected true or false, found a string \"yes\")"},
        {"use_sliding_window", 1, "E0020: use_sliding_window: JSON value has the wrong type (expected true or false, found the integer 1)"},
        {"rope_scaling", "linear", "E0020: rope_scaling: JSON value has the wrong type (expected an object, found a string \"linear\")"},
        {"rope_scaling", json{{"type", 3}}, "E0020: rope_scaling.type: JSON value has the wrong type (expected a string, found the integer 3)"},
        {"rope_scaling", json{{"type", "linear"}, {"factor", "2"}},
         "E0020: rope_scaling.factor: JSON value has the wrong type (expected a number, found a string \"2\")"},
        {"hidden_size", "64", "E5220: hidden_size: config value is not a positive integer (expected a positive integer, found \"64\")"},
    };
    for (const auto& c : cases) {
        fs::remove_all(dir / "m");
        fs::copy(dir / "tiny", dir / "m");
        json j = original;
        j[c.key] = c.value;
        write_text(dir / "m/config.json", j.dump());
        const auto r = run_halo({"eval", "--model", "m", "--text", "t.txt", "--ctx", "16", "--max-chunks", "1", "--quiet"}, dir);
        EXPECT_EQ(r.exit_code, 2) << c.key << ": " << r.err;
        EXPECT_EQ(r.err, std::string("halo: m/config.json: error ") + c.message + "\n") << c.key;
    }
}

TEST(HostileJson, ManifestSimConfigTileLevelsAndTokenizerJsonOfTheWrongType) {
    const auto dir = fresh_dir();
    make_tiny(dir);
    auto r = run_halo({"quantize", "--model", "tiny", "--method", "rtn", "--out", "q", "--quiet"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const json manifest = read_json(dir / "q/manifest.json");
    const auto eval_q = [&](const json& m) {
        write_text(dir / "q/manifest.json", m.dump());
        return run_halo({"eval", "--model", "tiny", "--quantized", "q", "--no-verify", "--text", "t.txt", "--ctx", "16",
                         "--max-chunks", "1", "--quiet"},
                        dir);
    };
    json m = manifest;
    m["linears"][1]["spec"]["group_cols"] = "128";
    r = eval_q(m);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "halo: q/manifest.json: error E0020: linears[1].spec.group_cols: JSON value has the wrong type "
                     "(expected an integer, found a string \"128\")\n");
    m = manifest;
    m["linears"][0]["rows"] = 4294967296.0 * 4294967296.0;
    r = eval_q(m);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("q/manifest.json: error E0022: linears[0].rows: JSON number is out of range (expected 1..2147483648, found 1.8446744073709552e+19)"),
              std::string::npos) << r.err;
    // Class 10: a manifest value checked by the format table is reported in the manifest, not as a flag.
    m = manifest;
    m["linears"][0]["spec"]["group_rows"] = -1;
    r = eval_q(m);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("q/manifest.json: error E0022: linears[0].spec.group_rows: JSON number is out of range"), std::string::npos) << r.err;
    m = manifest;
    m["linears"][0]["spec"]["format"] = "mxfp4";
    m["linears"][0]["spec"]["scale_format"] = "e8m0";
    m["linears"][0]["spec"]["group_cols"] = 7;
    r = eval_q(m);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err.rfind("halo: q/manifest.json: error E6001: linears[0].spec: mxfp4 has a fixed block", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find("--group:"), std::string::npos) << r.err;
    m = manifest;
    m["format"] = 7;
    r = eval_q(m);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("not a halo quantized model manifest (expected \"format\": \"halo-quantized-model\", found the integer 7)"),
              std::string::npos) << r.err;

    // Simulator config: a type error and an int that would wrap to -2147483648.
    write_text(dir / "sim.json", R"({"array": {"rows": "8"}})");
    r = run_halo({"simulate", "--model-shape", "tiny", "--config-file", "sim.json"}, dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "halo: sim.json: error E0020: array.rows: JSON value has the wrong type (expected an integer, found a string \"8\")\n");
    write_text(dir / "sim.json", R"({"array": {"rows": 2147483648}})");
    r = run_halo({"simulate", "--model-shape", "tiny", "--config-file", "sim.json"}, dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "halo: sim.json: error E0022: array.rows: JSON number is out of range (expected -2147483648..2147483647, found 2147483648)\n");
    write_text(dir / "sim.json", R"({"dvfs": {"levels": [{"freq_mhz": 500, "voltage_v": "0.9"}]}})");
    r = run_halo({"simulate", "--model-shape", "tiny", "--config-file", "sim.json"}, dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "halo: sim.json: error E0020: dvfs.levels[0].voltage_v: JSON value has the wrong type (expected a number, found a string \"0.9\")\n");

    // Tile levels.
    write_text(dir / "tl.json", R"({"format": "halo-tile-levels", "model": {"n_layers": 2, "d_model": 64, "d_ff": 160, "vocab_size": 320},
        "tile": [8, 8], "layers": {"blk.0.attn_q": {"k_tiles": 8, "n_tiles": 8, "levels": [0, "1"]}}})");
    r = run_halo({"simulate", "--model-shape", "tiny", "--tile-levels", "tl.json"}, dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "halo: tl.json: error E0020: layers.blk.0.attn_q.levels[1]: JSON value has the wrong type (expected an integer, found a string \"1\")\n");

    // tokenizer.json: an added token whose id is a string.
    json tok = read_json(dir / "tiny/tokenizer.json");
    tok["added_tokens"] = json::array({{{"id", "3"}, {"content", "<x>"}}});
    write_text(dir / "tiny/tokenizer.json", tok.dump());
    r = run_halo({"eval", "--model", "tiny", "--text", "t.txt", "--ctx", "16", "--max-chunks", "1", "--quiet"}, dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "halo: tiny/tokenizer.json: error E0020: added_tokens[0].id: JSON value has the wrong type (expected an integer, found a string \"3\")\n");
}

TEST(HostileOutputCli, UnderARegularFileIsExit2NamingWhatIsInTheWay) {
    const auto dir = fresh_dir();
    make_tiny(dir);
    write_text(dir / "afile", "x");
    auto r = run_halo({"synth", "--shape", "test-tiny", "--out", "afile/sub", "--quiet"}, dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "halo: error E0024: afile/sub: cannot write the output here (expected a path in a writable directory, found afile is a "
                     "regular file, not a directory); hint: halo could not create directory afile; choose another output path\n");
    r = run_halo({"eval", "--model", "tiny", "--text", "t.txt", "--ctx", "16", "--max-chunks", "1", "--quiet", "--json", "afile/r.json"}, dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("error E0024: afile/r.json: cannot write the output here"), std::string::npos) << r.err;
    // A regular file where an output directory goes is named as such (it was "an existing directory").
    r = run_halo({"synth", "--shape", "test-tiny", "--out", "afile", "--quiet"}, dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "halo: error E0003: afile: output directory already exists (expected a new path, or --force, found an existing regular file)\n");
    EXPECT_EQ(read_text(dir / "afile"), "x");
}

TEST(HostileOutputCli, NonUtf8PathThatWouldReachJsonIsExit2) {
    const auto dir = fresh_dir();
    make_tiny(dir);
    const std::string bad_name = "m\xff\xfe";
    fs::copy(dir / "tiny", dir / bad_name);
    const auto r = run_halo({"eval", "--model", bad_name, "--text", "t.txt", "--ctx", "16", "--max-chunks", "1", "--quiet", "--json", "r.json"}, dir);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find("r.json: error E0023: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("a name to be written into JSON output is not UTF-8 text"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("m\\xff\\xfe"), std::string::npos) << r.err;  // the bytes, escaped: the line stays valid text
    EXPECT_FALSE(fs::exists(dir / "r.json"));
    const auto out = run_halo({"eval", "--model", bad_name, "--text", "t.txt", "--ctx", "16", "--max-chunks", "1", "--json"}, dir);
    EXPECT_EQ(out.exit_code, 2) << out.err;
    EXPECT_NE(out.err.find("halo: --json (stdout): error E0023: "), std::string::npos) << out.err;
    EXPECT_EQ(out.out, "");
}

TEST(HostileMessages, ADirectoryGivenAsTheLibertyFileIsCalledADirectory) {
    const auto dir = fresh_dir();
    fs::create_directories(dir / "lib.d");
    const auto r = run_halo({"characterize", "--liberty", "lib.d", "--mac", "int4", "--out", "p.json"}, dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(r.err, "halo: lib.d: error E4041: Liberty file not found (expected a readable .lib file, found a directory)\n");
}

TEST(HostileMessages, A600KbTokenIsNotEchoedWhole) {
    const auto dir = fresh_dir();
    write_text(dir / "sim.json", "{\"" + std::string(600 * 1024, 'k') + "\": 1}");
    const auto r = run_halo({"simulate", "--model-shape", "tiny", "--config-file", "sim.json"}, dir);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_LT(r.err.size(), 2000u);
    EXPECT_EQ(r.err.rfind("halo: sim.json: error E7031: bad simulator config key kkkk", 0), 0u) << r.err.substr(0, 200);
    EXPECT_NE(r.err.find("bytes in all)"), std::string::npos);
}

TEST(HostileThreads, ManyThreadsUnderAnAddressSpaceCapExit) {
    const auto dir = fresh_dir();
    make_tiny(dir);
    // 4 GB of address space: OpenBLAS's 64 workers of 128 MiB buffers each cannot all map theirs;
    // before the cap on its thread count the run finished and then spun in exit() forever.
    const std::string cmd = "cd '" + dir.string() + "' && ulimit -v 4000000 && timeout 120 '" + std::string(HALO_BIN) +
                            "' quantize --model tiny --method gptq --out q --threads 64 --quiet > /dev/null 2> err.txt";
    const int status = std::system(cmd.c_str());
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "124 is the timeout: the process did not exit; " << read_text(dir / "err.txt");
    EXPECT_TRUE(fs::exists(dir / "q/manifest.json"));
}

TEST(HostileOutputCli, LeftoversOfAKilledRunAreRemovedAndTheOldOutputKept) {
    const auto dir = fresh_dir();
    make_tiny(dir);
    auto r = run_halo({"quantize", "--model", "tiny", "--method", "rtn", "--out", "q", "--quiet"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    // What SIGKILL leaves: a staging directory of a dead process and the (unlocked) lock file.
    fs::create_directories(dir / "q.partial.999999999.0");
    write_text(dir / "q.partial.999999999.0/blk.0.attn_q.hqt", "half");
    write_text(dir / "q.lock", "");
    r = run_halo({"quantize", "--model", "tiny", "--method", "rtn", "--bits", "8", "--out", "q", "--force", "--quiet"}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_FALSE(fs::exists(dir / "q.partial.999999999.0"));
    EXPECT_FALSE(fs::exists(dir / "q.lock"));
    EXPECT_EQ(read_json(dir / "q/manifest.json")["weight_format"], "int8");
}

}  // namespace
}  // namespace halo::test
