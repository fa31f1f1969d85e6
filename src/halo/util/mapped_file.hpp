// A read-only memory map of a whole file (RAII). Model readers validate every offset against
// size() before touching bytes(): the map never trusts the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace halo {

class MappedFile {
public:
    // Throws halo::Error E0001 (bad input) naming the path if it cannot be opened or mapped.
    explicit MappedFile(const std::filesystem::path& path);
    ~MappedFile();
    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    std::span<const std::uint8_t> bytes() const { return {data_, size_}; }
    std::size_t size() const { return size_; }
    const std::filesystem::path& path() const { return path_; }
    // Drops the pages of `range` (a part of bytes()) from this process's resident set
    // (madvise MADV_DONTNEED; the file stays in the page cache, a later read maps it again).
    // Streaming readers call it after converting a tensor so RSS does not grow with the file.
    void release(std::span<const std::uint8_t> range) const;

private:
    std::filesystem::path path_;
    const std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace halo
