// Issue #17, class 6: the quantized directory is not trusted. Its manifest records each file's
// SHA-256 and the source model's; listed names are confined to the directory; a missing linear
// is an error, never FP32 left in place. Each case checks the exact code and message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <unistd.h>

#include <fmt/format.h>

#include "halo/quant/quant_dir.hpp"
#include "halo/util/atomic_file.hpp"
#include "halo/util/diagnostics.hpp"
#include "halo/util/sha256.hpp"
#include "test_util.hpp"

namespace halo::quant {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::tiny_model;
using ::testing::HasSubstr;

// A fresh quantized directory of the tiny model (RTN int4), its source model a small file.
struct Fixture {
    fs::path root, dir, source;
    explicit Fixture(const std::string& name) {
        root = fs::temp_directory_path() / ("halo_trust_" + name + "_" + std::to_string(::getpid()));
        fs::remove_all(root);
        fs::create_directories(root);
        source = root / "source.gguf";
        write_file_atomic(source, "pretend GGUF bytes");
        dir = root / "q";
        auto w = tiny_model(7);
        QuantizeOptions opt;
        const auto qm = quantize_model(w, opt, nullptr);
        RunInfo info;
        info.source_model = source.string();
        write_quantized_dir(dir, qm, opt, info, false);
    }
    ~Fixture() { fs::remove_all(root); }
    nlohmann::json manifest() const { return nlohmann::json::parse(read_file(dir / "manifest.json")); }
    void set_manifest(const nlohmann::json& m) const { write_file_atomic(dir / "manifest.json", m.dump(1)); }
};

TEST(TrustedDir, FileDigestReadInPiecesEqualsTheDigestOfTheWholeBytes) {
    // sha256_of_path reads 8 MiB at a time (no resident copy of a model): sizes either side of
    // a piece's end and an empty file give the one-shot digest of the same bytes.
    const fs::path dir = fs::temp_directory_path() / fmt::format("halo_sha_pieces_{}", ::getpid());
    fs::create_directories(dir);
    for (std::size_t n : {std::size_t{0}, std::size_t{1}, (std::size_t{8} << 20) - 1, std::size_t{8} << 20, (std::size_t{8} << 20) + 3}) {
        std::string bytes(n, '\0');
        for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<char>((i * 2654435761u) >> 13);
        write_file_atomic(dir / "f.bin", bytes);
        EXPECT_EQ(sha256_of_path(dir / "f.bin"), sha256_hex(bytes)) << n;
    }
    fs::remove_all(dir);
}

TEST(TrustedDir, ManifestRecordsSha256OfEveryFileAndOfTheSource) {
    Fixture f("records");
    const auto m = f.manifest();
    EXPECT_EQ(m["source_model_sha256"], sha256_hex("pretend GGUF bytes"));
    EXPECT_EQ(m["source_model_sha256"], sha256_of_path(f.source));
    ASSERT_EQ(m["file_sha256"].size(), 14u);  // 2 layers x 7 linears, RTN changes no vector
    for (const auto& e : m["linears"])
        EXPECT_EQ(m["file_sha256"][e["file"].get<std::string>()], sha256_hex(read_file(f.dir / e["file"].get<std::string>())));
    // The known vector of SHA-256 ("abc", FIPS 180-2 appendix B.1).
    EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_NO_THROW(read_quantized_dir(f.dir));
    EXPECT_NO_THROW(check_source_model(m, f.dir / "manifest.json", f.source));
}

TEST(TrustedDir, FlippedCodeByteIsCaughtByTheDigest) {
    Fixture f("flip");
    const auto file = f.dir / "blk.1.ffn_up.hqt";
    std::string bytes = read_file(file);
    bytes[100] = static_cast<char>(bytes[100] ^ 0x10);  // a code byte: the header is 68 bytes
    write_file_atomic(file, bytes);
    const std::string want = f.manifest()["file_sha256"]["blk.1.ffn_up.hqt"];
    EXPECT_EQ(error_of([&] { read_quantized_dir(f.dir); }),
              fmt::format("{}: error E6038: sha256: file content differs from the digest the manifest records (expected {}, "
                          "found {}); hint: the file was changed or damaged after halo wrote it; re-run halo quantize",
                          file.string(), want, sha256_hex(bytes)));
    EXPECT_NO_THROW(read_quantized_dir(f.dir, /*verify=*/false));  // --no-verify: the codes parse, nothing checks them
}

TEST(TrustedDir, ManifestWithoutDigestsIsRefusedUnlessNotVerifying) {
    Fixture f("nodigest");
    auto m = f.manifest();
    m.erase("file_sha256");
    f.set_manifest(m);
    EXPECT_EQ(error_of([&] { read_quantized_dir(f.dir); }),
              (f.dir / "manifest.json").string() +
                  ": error E6039: file_sha256: manifest records no file digests (expected a \"file_sha256\" table, found none); "
                  "hint: written by an older halo or edited; re-run halo quantize, or pass --no-verify to trust it");
    EXPECT_NO_THROW(read_quantized_dir(f.dir, false));
}

TEST(TrustedDir, ListedNamesAreConfinedToTheDirectory) {
    Fixture f("confine");
    write_file_atomic(f.root / "outside.hqt", read_file(f.dir / "blk.0.attn_q.hqt"));
    const std::string mpath = (f.dir / "manifest.json").string();
    for (const std::string& name : {(f.root / "outside.hqt").string(), std::string("../outside.hqt"), std::string("..")}) {
        auto m = f.manifest();
        m["linears"][0]["file"] = name;
        f.set_manifest(m);
        EXPECT_EQ(error_of([&] { read_quantized_dir(f.dir, false); }),
                  fmt::format("{}: error E6037: \"file\": \"{}\": a listed file name leaves the quantized directory (expected a "
                              "plain file name inside the directory, found \"{}\")",
                              mpath, name, name))
            << name;
    }
    // A symlink inside the directory that points out of it.
    auto m = f.manifest();
    fs::remove(f.dir / "blk.0.attn_q.hqt");
    fs::create_symlink(f.root / "outside.hqt", f.dir / "blk.0.attn_q.hqt");
    m["linears"][0]["file"] = "blk.0.attn_q.hqt";
    f.set_manifest(m);
    EXPECT_EQ(error_of([&] { read_quantized_dir(f.dir, false); }),
              fmt::format("{}: error E6043: symlink: a listed file is a symlink to outside the quantized directory (expected a "
                          "file inside the directory, found {})",
                          (f.dir / "blk.0.attn_q.hqt").string(), fs::weakly_canonical(f.root / "outside.hqt").string()));
}

TEST(TrustedDir, MissingOrDuplicateLinearIsAnErrorNotFp32) {
    Fixture f("missing");
    auto m = f.manifest();
    m["linears"].erase(m["linears"].begin() + 9);  // layer 1, attn_v
    f.set_manifest(m);
    auto w = tiny_model(7);
    const auto qd = read_quantized_dir(f.dir);
    EXPECT_EQ(error_of([&] { apply_quantized(w, qd); }),
              "error E6041: blk.1.attn_v: the quantized directory has no entry for a linear of the model (expected all 7 "
              "linears of 2 layers, found 13 entries); hint: the manifest was edited or the directory is of a smaller model; "
              "re-run halo quantize");
    auto m2 = f.manifest();
    m2["linears"].push_back(m2["linears"][0]);
    f.set_manifest(m2);
    const auto qd2 = read_quantized_dir(f.dir);
    EXPECT_EQ(error_of([&] { check_complete(qd2, 2); }),
              "error E6042: blk.0.attn_q: a linear is listed twice in the manifest (expected one entry per linear, found two)");
}

TEST(TrustedDir, ADifferentSourceModelIsRefused) {
    Fixture f("source");
    const auto other = f.root / "other.gguf";
    write_file_atomic(other, "another model's bytes");
    const auto m = f.manifest();
    const std::string mpath = (f.dir / "manifest.json").string();
    EXPECT_EQ(error_of([&] { check_source_model(m, f.dir / "manifest.json", other); }),
              fmt::format("{}: error E6040: sha256: the model is not the one the quantized directory was made from (expected {} "
                          "(the digest {} records of {}), found {}); hint: pass --model with the directory's source model, or "
                          "quantize this model",
                          other.string(), sha256_hex("pretend GGUF bytes"), mpath, f.source.string(),
                          sha256_hex("another model's bytes")));
    auto w = tiny_model(7);
    EXPECT_THAT([&] { load_quantized(f.dir, w, {.verify = true, .source_model = other}); },
                ::testing::ThrowsMessage<Error>(HasSubstr("error E6040")));
    auto w2 = tiny_model(7);
    EXPECT_NO_THROW(load_quantized(f.dir, w2, {.verify = false, .source_model = other}));  // --no-verify
    auto no_source = m;
    no_source["source_model_sha256"] = nullptr;
    EXPECT_EQ(error_of([&] { check_source_model(no_source, f.dir / "manifest.json", f.source); }),
              mpath + ": error E6045: source_model_sha256: manifest records no source model digest (expected the SHA-256 of the "
                      "model it was quantized from, found none); hint: written by an older halo or from an in-memory model; "
                      "re-run halo quantize, or pass --no-verify");
}

TEST(TrustedDir, DirectoryModelDigestIsItsSortedFileListing) {
    Fixture f("dirdigest");
    const auto ckpt = f.root / "ckpt";
    fs::create_directories(ckpt / "sub");
    write_file_atomic(ckpt / "model.safetensors", "weights");
    write_file_atomic(ckpt / "config.json", "{}");
    write_file_atomic(ckpt / "sub" / "ignored", "x");
    EXPECT_EQ(sha256_of_path(ckpt), sha256_hex(sha256_hex("{}") + "  config.json\n" + sha256_hex("weights") + "  model.safetensors\n"));
}

TEST(TrustedDir, ExtraFilesSimulateReadsMustBeListed) {
    Fixture f("extra");
    EXPECT_NO_THROW(verify_quantized_files(f.dir, {"tile_levels.json"}));
    write_file_atomic(f.dir / "tile_levels.json", "{}");
    EXPECT_EQ(error_of([&] { verify_quantized_files(f.dir, {"tile_levels.json"}); }),
              (f.dir / "manifest.json").string() +
                  ": error E6044: file_sha256: a file of the directory has no digest in the manifest (expected a digest for "
                  "\"tile_levels.json\", found none); hint: the manifest was edited; re-run halo quantize, or pass --no-verify "
                  "to trust it");
}

}  // namespace
}  // namespace halo::quant
