#include "halo/util/sha256.hpp"

#include <algorithm>
#include <memory>
#include <vector>

#include <fmt/format.h>
#include <openssl/evp.h>

#include "halo/util/diagnostics.hpp"
#include "halo/util/mapped_file.hpp"

namespace halo {
namespace {

std::string hex_of(const unsigned char* digest, unsigned int n) {
    std::string out;
    out.reserve(2 * n);
    for (unsigned int i = 0; i < n; ++i) out += fmt::format("{:02x}", digest[i]);
    return out;
}

std::string sha256_of_file(const std::filesystem::path& path) {
    if (std::filesystem::file_size(path) == 0) return sha256_hex({});  // an empty file cannot be mapped
    const MappedFile map(path);
    return sha256_hex(std::string_view(reinterpret_cast<const char*>(map.bytes().data()), map.size()));
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
