// The model readers map files, so the byte-level fuzz targets first store each input in a
// per-process file in memory-backed /dev/shm.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <unistd.h>

namespace halo::fuzz {

// /dev/shm/halo_<stem>_<pid><extension>, written with the input; an empty path when
// the file cannot be written (the target then skips the input).
inline std::filesystem::path write_fuzz_input(std::string_view stem, std::string_view extension, const std::uint8_t* data,
                                              std::size_t size) {
    const std::filesystem::path path =
        "/dev/shm/halo_" + std::string(stem) + "_" + std::to_string(::getpid()) + std::string(extension);
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return {};
    if (size) std::fwrite(data, 1, size, f);
    std::fclose(f);
    return path;
}

}  // namespace halo::fuzz
