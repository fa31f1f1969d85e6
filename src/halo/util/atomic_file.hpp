// Atomic outputs: write to "<path>.tmp.<pid>", flush and fsync, then rename over <path>, so an
// interrupted run leaves either the old file or the new one, never half of one.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string_view>

namespace halo {

// Writes `bytes` to `path` atomically. Creates parent directories. Throws halo::Error (internal)
// naming the path when the file system refuses.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Streams into a temporary file through `fill`, then renames it over `path`.
void write_file_atomic(const std::filesystem::path& path, const std::function<void(std::ostream&)>& fill);

// An output directory built under "<dir>.partial" and renamed into place by commit(); destroyed
// uncommitted (an error, an interrupt) it removes the partial directory. With overwrite=false an
// existing <dir> is a bad-input error (E0003) so a run never clobbers earlier results silently.
class AtomicDirectory {
public:
    AtomicDirectory(std::filesystem::path final_dir, bool overwrite);
    ~AtomicDirectory();
    AtomicDirectory(const AtomicDirectory&) = delete;
    AtomicDirectory& operator=(const AtomicDirectory&) = delete;

    const std::filesystem::path& staging() const { return staging_; }
    std::filesystem::path operator/(std::string_view name) const { return staging_ / name; }
    void commit();

private:
    std::filesystem::path final_;
    std::filesystem::path staging_;
    bool committed_ = false;
};

// Reads a whole file; a missing or unreadable file is bad input (E0001) naming the path.
std::string read_file(const std::filesystem::path& path);

}  // namespace halo
