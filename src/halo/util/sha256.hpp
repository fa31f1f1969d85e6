// SHA-256 digests (OpenSSL's libcrypto, Debian libssl-dev) for the identity of files: a
// quantized directory's manifest records its source model's digest and each of its files'
// (quant/quant_dir.hpp), and the readers check them before trusting the bytes.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace halo {

// Lower-case hex SHA-256 of `bytes` (64 characters).
std::string sha256_hex(std::string_view bytes);

// The digest of a model path: for a regular file, the SHA-256 of its bytes (read in 8 MiB
// pieces: no resident copy of the file); for a directory (a safetensors checkpoint), the
// SHA-256 of the `sha256sum`-style lines "<hex>  <name>\n" of its regular files, sorted by
// name (subdirectories are not followed). Bad input E0040 when the path is neither.
std::string sha256_of_path(const std::filesystem::path& path);

}  // namespace halo
