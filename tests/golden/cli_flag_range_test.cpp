// Issue #17, class 8: every numeric flag is range-checked when parsed (usage error, exit 1,
// naming the flag, the range and the value); NaN and Inf are refused where CLI11's own Range
// lets them through; a menu value a library table checks (--act-format) is refused before any
// work. Each case runs the real binary; nothing is loaded before the refusal.
#include <gtest/gtest.h>

#include "cli_runner.hpp"

using halo::test::fresh_dir;
using halo::test::run_halo;

namespace {

struct FlagCase {
    std::vector<std::string> args;
    std::string err;  // the whole of stderr; the exit code is always 1
};

class FlagRanges : public ::testing::TestWithParam<FlagCase> {};

TEST_P(FlagRanges, RefusedAtParseWithExit1NamingTheFlag) {
    const auto r = run_halo(GetParam().args, fresh_dir());
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.err, GetParam().err);
    EXPECT_EQ(r.out, "");
}

const std::string kRunWithHelp = "\nRun with --help or --help-all for more information.\n";

INSTANTIATE_TEST_SUITE_P(
    Cli, FlagRanges,
    ::testing::Values(
        FlagCase{{"quantize", "--out", "q", "--method", "kmeans", "--sparse-fraction", "2"},
                 "--sparse-fraction: expected a finite number in [0, 1], found 2" + kRunWithHelp},
        FlagCase{{"quantize", "--out", "q", "--method", "kmeans", "--sparse-fraction", "nan"},
                 "--sparse-fraction: expected a finite number in [0, 1], found nan" + kRunWithHelp},
        FlagCase{{"quantize", "--out", "q", "--method", "kmeans", "--sparse-fraction", "-0.1"},
                 "--sparse-fraction: expected a finite number in [0, 1], found -0.1" + kRunWithHelp},
        FlagCase{{"quantize", "--out", "q", "--group", "0"},
                 "--group: expected an integer in [1, 16777216], found \"0\"" + kRunWithHelp},
        FlagCase{{"quantize", "--out", "q", "--bits", "0"}, "--bits: expected an integer in [1, 8], found \"0\"" + kRunWithHelp},
        FlagCase{{"quantize", "--out", "q", "--bits", "4.5"}, "--bits: expected an integer in [1, 8], found \"4.5\"" + kRunWithHelp},
        FlagCase{{"quantize", "--out", "q", "--method", "gptq", "--block-size", "0"},
                 "--block-size: expected an integer in [1, 1048576], found \"0\"" + kRunWithHelp},
        FlagCase{{"quantize", "--out", "q", "--method", "gptq", "--damp", "inf"},
                 "--damp: expected a finite number in [0, 1000], found inf" + kRunWithHelp},
        FlagCase{{"quantize", "--out", "q", "--method", "smoothquant", "--smooth-alpha", "nan"},
                 "--smooth-alpha: expected a finite number in [0, 1], found nan" + kRunWithHelp},
        FlagCase{{"quantize", "--out", "q", "--eval", "t.txt", "--max-chunks", "0"},
                 "--max-chunks: expected -1 (all) or a count in [1, 1073741824], found \"0\"" + kRunWithHelp},
        FlagCase{{"quantize", "--out", "q", "--threads", "100000"},
                 "--threads: expected an integer in [0, 4096], found \"100000\"" + kRunWithHelp},
        FlagCase{{"quantize", "--out", "q", "--method", "halo", "--budget", "1.5"},
                 "--budget: expected a finite number in [0, 1], found 1.5" + kRunWithHelp},
        FlagCase{{"quantize", "--out", "q", "--act-format", "int3_per_token"},
                 "halo: error E0019: --act-format: unknown activation quantization format (expected int8_per_token, found "
                 "int3_per_token)\n"},
        FlagCase{{"eval", "--act-format", "bogus"},
                 "halo: error E0019: --act-format: unknown activation quantization format (expected int8_per_token, found "
                 "bogus)\n"},
        FlagCase{{"eval", "--max-chunks", "0"},
                 "--max-chunks: expected -1 (all) or a count in [1, 1073741824], found \"0\"" + kRunWithHelp},
        FlagCase{{"simulate", "--model", "tiny", "--batch", "-4"},
                 "--batch: Value -4 not in range 1 to 1048576" + kRunWithHelp},
        FlagCase{{"simulate", "--model", "tiny", "--switch-penalty-ns", "-5"},
                 "--switch-penalty-ns: expected a finite number in [0, 1000000000000], found -5" + kRunWithHelp},
        FlagCase{{"simulate", "--model", "tiny", "--switch-penalty-ns", "nan"},
                 "--switch-penalty-ns: expected a finite number in [0, 1000000000000], found nan" + kRunWithHelp},
        FlagCase{{"characterize", "--liberty", "x.lib", "--mac", "int4", "--load-pf", "-1"},
                 "--load-pf: expected a finite number in [0, 1000], found -1" + kRunWithHelp},
        FlagCase{{"run", "--out", "r", "--guard-band", "nan"},
                 "--guard-band: expected a finite number in [0, 10], found nan" + kRunWithHelp},
        FlagCase{{"run", "--out", "r", "--damp", "-0.5"},
                 "--damp: expected a finite number in [0, 1000], found -0.5" + kRunWithHelp},
        FlagCase{{"synth", "--shape", "tinyllama-1.1b", "--out", "s", "--shards", "0"},
                 "--shards: expected an integer in [1, 4096], found \"0\"" + kRunWithHelp},
        FlagCase{{"gpu-bench", "--act-sigma", "nan"},
                 "--act-sigma: expected a finite number in [1e-06, 1000000], found nan" + kRunWithHelp}));

}  // namespace
