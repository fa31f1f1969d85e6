#include "halo/util/sha256.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "halo/util/diagnostics.hpp"

namespace halo {
namespace {

std::string hex_of(const unsigned char* digest, unsigned int n) {
    std::string out;
    out.reserve(2 * n);
    for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", digest[i]);
    return out;
}

// Read in 8 MiB pieces, not through a memory map: a mapped file's touched pages count as the
// process's resident memory, so hashing a 2.2 GB single-file checkpoint raised a streamed
// quantize's peak RSS to the file's size (issue #13: memory grows with one block, not the
// model). Pages read() brings in stay in the page cache, outside the process.
std::string sha256_of_file(const std::filesystem::path& path) {
    const std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) throw_bad_input("E0001", path.string(), 0, "cannot open file", "a readable file", std::strerror(errno));
    const std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) throw_internal("E0041", "OpenSSL's SHA-256 failed");
    std::vector<char> buf(std::size_t{8} << 20);
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0)
        if (EVP_DigestUpdate(ctx.get(), buf.data(), n) != 1) throw_internal("E0041", "OpenSSL's SHA-256 failed");
    if (std::ferror(f.get()))
        throw_bad_input("E0042", path.string(), 0, "cannot read the file to hash it", "a readable file", std::strerror(errno));
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx.get(), digest, &len) != 1) throw_internal("E0041", "OpenSSL's SHA-256 failed");
    return hex_of(digest, len);
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    // EVP_Digest is the one-shot form; it fails only when libcrypto itself cannot run.
    if (EVP_Digest(bytes.data(), bytes.size(), digest, &n, EVP_sha256(), nullptr) != 1)
        throw_internal("E0041", "OpenSSL's SHA-256 failed");
    return hex_of(digest, n);
}

std::string sha256_of_path(const std::filesystem::path& path) {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (std::filesystem::is_regular_file(st)) return sha256_of_file(path);
    if (!std::filesystem::is_directory(st))
        throw_bad_value("E0040", path.string(), "cannot hash the model: not a regular file or a directory",
                        "a GGUF file or a checkpoint directory", ec ? ec.message() : "something else");
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(path))
        if (e.is_regular_file()) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::string listing;
    for (const auto& f : files) listing += fmt::format("{}  {}\n", sha256_of_file(f), f.filename().string());
    return sha256_hex(listing);
}

}  // namespace halo
