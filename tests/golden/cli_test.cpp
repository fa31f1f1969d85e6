// The halo CLI as a user meets it: golden help text of every command, tiny real runs checked
// for exit 0 and their key output fields, and bad flags with exact exit codes and messages.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.hpp"

namespace halo::test {
namespace {

namespace fs = std::filesystem;


// ---- golden help --------------------------------------------------------------------------------
// tests/golden/help/<command>.txt holds `halo help <command>` (halo.txt: `halo help`).
// HALO_UPDATE_GOLDEN=1 rewrites them from the built binary instead of comparing.

class Help : public ::testing::TestWithParam<std::string> {};

TEST_P(Help, MatchesGoldenFile) {
    const std::string& command = GetParam();
    const auto dir = fresh_dir();
    const auto r = command == "halo" ? run_halo({"help"}, dir) : run_halo({"help", command}, dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    const fs::path golden = fs::path(HALO_GOLDEN_DIR) / "help" / (command + ".txt");
    if (const char* update = std::getenv("HALO_UPDATE_GOLDEN"); update && std::string(update) == "1") {
        std::ofstream(golden, std::ios::binary) << r.out;
        GTEST_SKIP() << "rewrote " << golden;
    }
    ASSERT_TRUE(fs::exists(golden)) << golden << " is missing; make it with HALO_UPDATE_GOLDEN=1";
    EXPECT_EQ(r.out, read_text(golden)) << "`halo help " << command << "` differs from " << golden
                                        << " (after a deliberate change: HALO_UPDATE_GOLDEN=1, then review the diff)";
}

INSTANTIATE_TEST_SUITE_P(EveryCommand, Help,
                         ::testing::Values("halo", "characterize", "quantize", "eval", "export", "simulate", "gpu-bench", "run",
                                           "amove-hw", "liberty-info", "version", "synth"),
                         [](const auto& info) {
                             std::string n = info.param;
                             for (char& c : n)
                                 if (c == '-') c = '_';
                             return n;
                         });

TEST(HelpUnknown, IsAUsageError) {
    const auto r = run_halo({"help", "frobnicate"}, fresh_dir());
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_EQ(r.err, "halo: unknown command 'frobnicate'\n");
}

// ---- bad flags: exact exit code and message ---------------------------------------------------

struct BadFlag {
    std::vector<std::string> args;
    int exit_code;
    std::string err;  // the whole of stderr
};

class BadFlags : public ::testing::TestWithParam<BadFlag> {};

TEST_P(BadFlags, ExitCodeAndMessage) {
    const auto r = run_halo(GetParam().args, fresh_dir());
    EXPECT_EQ(r.exit_code, GetParam().exit_code) << r.err;
    EXPECT_EQ(r.err, GetParam().err);
    EXPECT_EQ(r.out, "");
}

const std::string kModeHint = "; hint: leave the flag out, or pick the mode it belongs to (see `halo help <command>`)\n";

INSTANTIATE_TEST_SUITE_P(
    Cli, BadFlags,
    ::testing::Values(
        // --device on quantize and run: usage errors before any model is read or GPU opened
        BadFlag{{"quantize", "--method", "gptq", "--device", "gpu", "--out", "q"},
                1,
                "halo: error E8100: --device: unknown device \"gpu\" (expected cpu, cuda or cuda:N)\n"},
        BadFlag{{"quantize", "--method", "gptq", "--cuda-math", "tf32", "--out", "q"},
                1,
                "halo: error E6191: --cuda-math applies to --device cuda only\n"},
        BadFlag{{"quantize", "--method", "gptq", "--device", "cuda", "--spill-dir", "/tmp", "--stream", "--out", "q"},
                1,
                "halo: error E6194: --activation-budget-mb and --spill-dir do not apply with --device cuda (the hidden states "
                "stay on the GPU)\n"},
        BadFlag{{"run", "--cuda-math", "tf32"}, 1, "halo: error E9090: --cuda-math applies to --device cuda only\n"},
        BadFlag{{"run", "--sensitivity", "grad"},
                2,
                "halo: error E9011: --sensitivity: unknown sensitivity source (expected fisher or hessian, found grad)\n"},
        // --quantize-head: HALO's flag only, refused before any model is read
        BadFlag{{"quantize", "--method", "rtn", "--quantize-head", "--out", "q"},
                1,
                "halo: error E6035: --quantize-head does not apply to --method rtn (it takes: --format --bits --asym --group "
                "--tile --scale-format --codebook --act-format)\n"},
        // eval --device cuda: --act-format takes every name the CPU takes (cuda/act_row_format.hpp);
        // what the CPU refuses is a usage error before the GPU is opened; --stream is a usage error
        BadFlag{{"eval", "--device", "cuda", "--act-format", "bitmod-fp4@g128"},
                1,
                "halo: error E0019: --act-format: malformed activation format: 'bitmod-fp4' is a weight format (per-group type "
                "choice or pairs); activations take the baseline types 'ant4' or 'olive4' (one scale per token) (expected "
                "<fmt>[+attn[=<fmt>]] with fmt an amove-* name or <format>@g<G> / @row, or amove-aggressive[-<elem>] / "
                "amove-conservative[-<elem>], found bitmod-fp4@g128)\n"},
        BadFlag{{"eval", "--device", "cuda", "--stream"},
                1,
                "halo: error E0017: --device cuda evaluates a base model: no --quantized or --stream (yet)\n"},
        BadFlag{{"simulate", "--model-shape", "tiny", "--array", "128"},
                1,
                "halo: error E0010: --array: bad shape (expected RxC with 1..16384 each, e.g. 128x128, found \"128\")\n"},
        BadFlag{{"simulate", "--model-shape", "tiny", "--array", "0x8"},
                1,
                "halo: error E0010: --array: bad shape (expected RxC with 1..16384 each, e.g. 128x128, found \"0x8\")\n"},
        BadFlag{{"amove-hw", "--array", "64"},
                1,
                "halo: error E0010: --array: bad shape (expected RxC with 1..16384 each, e.g. 128x128, found \"64\")\n"},
        BadFlag{{"simulate", "--model-shape", "llama-3"},
                1,
                "halo: error E0012: --model-shape: unknown built-in model shape (expected one of llama-2-7b, llama-2-13b, smollm2-135m, "
                "tiny, found \"llama-3\")\n"},
        BadFlag{{"simulate", "--model-shape", "tiny", "--design", "int7"},
                1,
                "halo: error E0012: --design: unknown hardware design (expected one of int8, ant, ant-like, olive, olive-like, "
                "mxfp4, int-sym-g64, amove-aggressive, amove-conservative, found \"int7\")\n"},
        BadFlag{{"simulate", "--model-shape", "tiny", "--arch", "tpu"},
                1,
                "halo: error E0012: --arch: unknown machine (expected one of tensor-core, systolic, gpu, found \"tpu\")\n"},
        BadFlag{{"simulate", "--model-shape", "tiny", "--out", "report"},
                1,
                "halo: error E0014: --out: names the output file, which must end in .json (expected a file name ending in "
                ".json, found \"report\")\n"},
        BadFlag{{"simulate", "--model-shape", "tiny", "--config-file", "sim.json", "--out", "./sim.json"},
                1,
                "halo: error E0016: --out: names the same file as --config-file; an output never replaces an input (expected "
                "a path of its own, found \"./sim.json\")\n"},
        BadFlag{{"eval", "--text", "t.txt", "--json", "t.txt"},
                1,
                "halo: error E0016: --json: names the same file as --text; an output never replaces an input (expected a path "
                "of its own, found \"t.txt\")\n"},
        BadFlag{{"simulate", "--model-shape", "tiny", "--arch", "gpu", "--array", "8x8"},
                1,
                "halo: error E0015: --array does not apply to --arch gpu (the GPU roofline has no array, dataflow or MAC "
                "profile)" + kModeHint},
        BadFlag{{"simulate", "--model-shape", "tiny", "--design", "int8", "--arch", "tensor-core", "--array", "8x8"},
                1, "halo: error E0015: --array does not apply to --arch tensor-core (they shape the systolic array)" + kModeHint},
        BadFlag{{"simulate", "--model-shape", "tiny", "--gpu", "h200"},
                1, "halo: error E0015: --gpu does not apply to --arch systolic (they choose the GPU of --arch gpu)" + kModeHint},
        BadFlag{{"simulate", "--model-shape", "tiny", "--context", "512"},
                1, "halo: error E0015: --context does not apply to prefill (no --batch); the prefill length is --seq" + kModeHint},
        BadFlag{{"simulate", "--model-shape", "tiny", "--batch", "4", "--seq", "16"},
                1, "halo: error E0015: --seq does not apply to decode (--batch B); the decode length is --context" + kModeHint},
        BadFlag{{"simulate", "--model-shape", "tiny", "--design", "int8", "--profile", "p.json", "--reorder", "none"},
                1,
                "halo: error E0015: --profile, --reorder do not apply to --design runs (they belong to the HALO/DVFS path)" +
                    kModeHint},
        BadFlag{{"simulate", "--model-shape", "tiny", "--hf-config", "c.json"},
                1, "halo: error E7064: give exactly one of --model-shape NAME, --hf-config config.json, --model FILE.gguf|DIR|NAME or "
                   "--topology FILE.csv\n"},
        // One meaning per flag name: simulate's built-in shape is --model-shape; its --model is a model (file, directory or
        // installed name) as everywhere, so a built-in shape's name there is a missing model (bad input, exit 2);
        // eval's perplexity method is --ppl-method (--method is quantize's quantizer).
        BadFlag{{"simulate", "--model", "tiny"},
                2, "halo: error E5304: tiny: model path is neither a GGUF file nor a checkpoint directory (expected a .gguf file or "
                   "a directory with config.json and *.safetensors, found no such file or directory)\n"},
        // "--name=" is an empty value, not "take the next argument" (CLI11 alone ran this with baselines "--seedz").
        BadFlag{{"run", "--baselines=", "--seedz"},
                1, "The following argument was not expected: --seedz\nRun with --help or --help-all for more information.\n"},
        BadFlag{{"eval", "--method", "hf"},
                1, "The following arguments were not expected: hf --method\nRun with --help or --help-all for more information.\n"},
        // --tile has one syntax (RxC) and one parser (util/shape.hpp) in quantize and run.
        BadFlag{{"quantize", "--tile", "128", "--out", "q"},
                1,
                "halo: error E0010: --tile: bad shape (expected RxC with 1..16384 each, e.g. 128x128, found \"128\")\n"},
        BadFlag{{"quantize", "--method", "halo", "--tile", "64x", "--out", "q"},
                1,
                "halo: error E0010: --tile: bad shape (expected RxC with 1..16384 each, e.g. 128x128, found \"64x\")\n"},
        BadFlag{{"run", "--tile", "128"},
                1,
                "halo: error E0010: --tile: bad shape (expected RxC with 1..16384 each, e.g. 128x128, found \"128\")\n"},
        BadFlag{{"run", "--tile", "64x128"},
                1,
                "halo: error E9012: --tile: halo run's tile is square (its baselines use uniform square tiles) (expected KxK, "
                "e.g. 128x128, found \"64x128\")\n"},
        BadFlag{{"simulate", "--model-shape", "tiny", "--seq", "0"},
                1, "--seq: Value 0 not in range 1 to 16777216\nRun with --help or --help-all for more information.\n"},
        BadFlag{{"simulate", "--frobnicate"},
                1, "The following argument was not expected: --frobnicate\nRun with --help or --help-all for more information.\n"},
        BadFlag{{"amove-hw", "--phase", "decode", "--seq", "128"},
                1, "halo: error E0015: --seq does not apply to --phase decode (its length is --context)" + kModeHint},
        BadFlag{{"eval", "--stride", "64"},
                1, "halo: error E0015: --stride does not apply to --ppl-method llamacpp (its chunks do not overlap)" + kModeHint},
        // HALO's model-wide budget (issue #15): per-layer flags refused with --assign model and
        // the shares refused without it; a malformed per-level codebook budget.
        BadFlag{{"quantize", "--method", "halo", "--out", "q", "--assign", "model", "--level-shares", "0.2/0.5/0.3",
                 "--objective", "acc"},
                1,
                "halo: error E9070: --objective and --budget pick a point per layer; with --assign model the shares are "
                "--level-shares\n"},
        BadFlag{{"quantize", "--method", "halo", "--out", "q", "--level-shares", "0.2/0.5/0.3"},
                1, "halo: error E9071: --level-shares is the model-wide budget; it needs --assign model\n"},
        BadFlag{{"quantize", "--method", "halo", "--out", "q", "--level-codes", "0,x,9"},
                2,
                "halo: error E9069: --level-codes: a level's codebook budget is not a count (expected e.g. 0,16,9 (0 = every "
                "code the level allows), found x)\n"},
        BadFlag{{"export", "--quantized", "q", "--out", "q.bin"},
                1,
                "halo: error E0014: --out: names the output file, which must end in .gguf (expected a file name ending in "
                ".gguf, found \"q.bin\")\n"},
        BadFlag{{"gpu-bench", "--layer", "3"}, 1, "halo: error E0015: --layer does not apply without --export" + kModeHint},
        BadFlag{{"gpu-bench", "--export", "q", "--codes-out", "c", "--reps", "2"},
                1, "halo: error E0015: --reps does not apply to --export (it writes operands and measures nothing)" + kModeHint},
        BadFlag{{"gpu-bench", "--profile", "p.json"},
                1, "The following arguments were not expected: p.json --profile\nRun with --help or --help-all for more information.\n"},
        BadFlag{{"liberty-info", "x.lib", "--top", "mac"}, 1, "halo: error E0015: --top does not apply without --netlist" + kModeHint},
        BadFlag{{"characterize", "--liberty", "x.lib"},
                1, "halo: error E4511: characterize needs --netlist F.json or --mac NAME; hint: see `halo help characterize`\n"},
        BadFlag{{"characterize", "--liberty", "x.lib", "--mac", "int4", "--weight-port", "b"},
                1,
                "halo: error E0015: --weight-port does not apply to a built-in --mac (its table row fixes the top, port and "
                "format)" + kModeHint},
        BadFlag{{"characterize", "--liberty", "x.lib", "--netlist", "n.json", "--mac-arch", "booth4"},
                1,
                "halo: error E0015: --mac-arch does not apply to a given --netlist (they choose how a built-in MAC is synthesized)" +
                    kModeHint},
        BadFlag{{"characterize", "--liberty", "x.lib", "--mac", "int4", "--transitions", "10"},
                1, "halo: error E0015: --transitions does not apply to --analysis static (they sample activation transitions)" +
                       kModeHint}));

// Exit 2 cases: the message names the file; the exact wording belongs to the reader's own tests.
TEST(BadInput, MissingFilesAreExit2AndNamed) {
    const auto dir = fresh_dir();
    for (const auto& args : std::vector<std::vector<std::string>>{{"simulate", "--hf-config", "missing.json"}, {"liberty-info", "missing.lib"}}) {
        const auto r = run_halo(args, dir);
        EXPECT_EQ(r.exit_code, 2) << args[0];
        EXPECT_NE(r.err.find("missing."), std::string::npos) << r.err;
        EXPECT_EQ(r.err.rfind("halo: ", 0), 0u) << r.err;
    }
}

}  // namespace
}  // namespace halo::test
