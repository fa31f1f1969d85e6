// The manifest's owner summarizes it for other modules (accel's design selection): old
// manifests without provenance still read; a non-manifest is E6010 naming the file.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "halo/quant/quant_dir.hpp"
#include "halo/util/diagnostics.hpp"

namespace halo::quant {
namespace {

TEST(ManifestSummary, OldAndNewManifests) {
    nlohmann::json old_manifest = {{"format", "halo-quantized-model"},
                                   {"method", "gptq"},
                                   {"weight_format", "int4"},
                                   {"activation_format", nullptr},
                                   {"date", "2026-11-21"},
                                   {"linears", {{{"spec", {{"group_cols", 128}}}}}}};
    auto s = manifest_summary(old_manifest, "old/manifest.json");
    EXPECT_EQ(s.method, "gptq");
    ASSERT_TRUE(s.weight_format.has_value());
    EXPECT_EQ(*s.weight_format, "int4");
    EXPECT_EQ(s.activation_format, "");
    EXPECT_EQ(s.first_group_cols, 128);
    EXPECT_FALSE(s.halo);
    EXPECT_EQ(s.provenance.date_utc, "2026-11-21");
    EXPECT_EQ(s.provenance.git_commit, "");  // absent in old manifests: empty, not an error

    auto fresh = old_manifest;
    fresh["halo_version"] = "0.1.0";
    fresh["git_commit"] = "abc123";
    fresh["command"] = "halo quantize --method halo";
    fresh["halo"] = nlohmann::json::object();
    fresh.erase("weight_format");
    s = manifest_summary(fresh, "new/manifest.json");
    EXPECT_TRUE(s.halo);
    EXPECT_FALSE(s.weight_format.has_value());
    EXPECT_EQ(s.provenance.git_commit, "abc123");
    EXPECT_EQ(s.provenance.command_line, "halo quantize --method halo");

    try {
        (void)manifest_summary(nlohmann::json{{"format", "halo-run"}}, "r/results.json");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(e.diagnostic().code, "E6011");
        EXPECT_EQ(e.diagnostic().file, "r/results.json");
        EXPECT_EQ(e.diagnostic().found, "\"halo-run\"");
        EXPECT_EQ(e.exit_code(), 2);
    }
}

}  // namespace
}  // namespace halo::quant
