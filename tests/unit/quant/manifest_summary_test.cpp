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

// The stored bits per weight of each linear and of the head (what a simulated decode reads);
// entries without them (old manifests) are left out; a width outside (0, 64] is E6198 naming the
// entry.
TEST(ManifestSummary, StoredBitsPerLinearAndHead) {
    nlohmann::json m = {{"format", "halo-quantized-model"},
                        {"method", "halo"},
                        {"linears",
                         {{{"layer", 0}, {"name", "attn_q"}, {"bits_per_weight", 8.5}},
                          {{"layer", 1}, {"name", "ffn_up"}, {"expert", 3}, {"bits_per_weight", 4.25}},
                          {{"layer", 2}, {"name", "ffn_down"}}}},
                        {"head", {{"bits_per_weight", 8.25}}}};
    const auto s = manifest_summary(m, "q/manifest.json");
    ASSERT_EQ(s.linear_bits.size(), 2u);
    EXPECT_EQ(s.linear_bits[0].layer, 0);
    EXPECT_EQ(s.linear_bits[0].name, "attn_q");
    EXPECT_EQ(s.linear_bits[0].expert, -1);
    EXPECT_EQ(s.linear_bits[0].bits_per_weight, 8.5);
    EXPECT_EQ(s.linear_bits[1].expert, 3);
    EXPECT_EQ(s.linear_bits[1].bits_per_weight, 4.25);
    ASSERT_TRUE(s.head_bits.has_value());
    EXPECT_EQ(*s.head_bits, 8.25);
    EXPECT_FALSE(manifest_summary(nlohmann::json{{"format", "halo-quantized-model"}}, "old").head_bits.has_value());

    for (const nlohmann::json bad : {nlohmann::json(0.0), nlohmann::json(65.0), nlohmann::json("8")}) {
        auto b = m;
        b["linears"][1]["bits_per_weight"] = bad;
        try {
            (void)manifest_summary(b, "q/manifest.json");
            FAIL() << bad.dump();
        } catch (const Error& e) {
            EXPECT_EQ(e.diagnostic().code, "E6198");
            EXPECT_EQ(e.diagnostic().file, "q/manifest.json");
            EXPECT_NE(e.diagnostic().place.find("linears[1].bits_per_weight"), std::string::npos) << e.diagnostic().place;
            EXPECT_EQ(e.diagnostic().found, bad.dump());
            EXPECT_EQ(e.exit_code(), 2);
        }
    }
}

}  // namespace
}  // namespace halo::quant
