// Atomic outputs: write to "<path>.tmp.<pid>.<n>", flush and fsync, then rename over <path>, so an
// interrupted run leaves either the old file or the new one, never half of one; the temporary is
// removed on errors and on SIGINT/SIGTERM (staged_cleanup.hpp). No output replaces a file this
// run read (file_identity.hpp, E0005).
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <ostream>
#include <string_view>

namespace halo {

// Writes `bytes` to `path` atomically. Creates parent directories. Throws halo::Error (internal)
// naming the path when the file system refuses.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Streams into a temporary file through `fill`, then renames it over `path`.
void write_file_atomic(const std::filesystem::path& path, const std::function<void(std::ostream&)>& fill);

// An exclusive lock on "<target>.lock" (flock) held while an output is built, so two runs with
// the same --out fail fast (E0004) instead of interleaving. Released (and the lock file removed)
// on destruction; the kernel releases it if the process dies.
class OutputLock {
public:
    explicit OutputLock(const std::filesystem::path& target);
    ~OutputLock();
    OutputLock(const OutputLock&) = delete;
    OutputLock& operator=(const OutputLock&) = delete;

private:
    std::filesystem::path path_;
    int fd_ = -1;
    int cleanup_slot_ = -1;
};

// An output directory built in a unique staging directory "<dir>.partial.<pid>.<n>" under the lock
// "<dir>.lock", committed by ONE rename (a new <dir>) or one renameat2 exchange (replacing an
// existing <dir>), so <dir> always holds a complete result. Destroyed uncommitted (an error) or on
// SIGINT/SIGTERM, the staging directory is removed. With overwrite=false an existing <dir> is a
// bad-input error (E0003); a <dir> that is or contains an input of this run is refused (E0005).
// A run killed by SIGKILL leaves its staging directory and never touches <dir>: the next run on
// the same <dir> removes such leftovers once it holds the lock. Likewise write_file_atomic removes
// "<path>.tmp.<pid>.<n>" of processes that no longer exist. An output that cannot be created where
// it was asked for (under a regular file, in a read-only or unwritable directory) is bad input
// (E0024) naming what is in the way.
class AtomicDirectory {
public:
    AtomicDirectory(std::filesystem::path final_dir, bool overwrite);
    ~AtomicDirectory();
    AtomicDirectory(const AtomicDirectory&) = delete;
    AtomicDirectory& operator=(const AtomicDirectory&) = delete;

    const std::filesystem::path& staging() const { return staging_; }
    // Staging directories "<dir>.partial.*" of runs killed by SIGKILL, removed by this one (under
    // the lock no live run can own one).
    int stale_removed() const { return stale_removed_; }
    std::filesystem::path operator/(std::string_view name) const { return staging_ / name; }
    void commit();

private:
    std::filesystem::path final_;
    std::filesystem::path staging_;
    std::unique_ptr<OutputLock> lock_;
    int cleanup_slot_ = -1;
    int stale_removed_ = 0;
    bool committed_ = false;
};

// Reads a whole file; a missing or unreadable file, or one that is not a regular file (a
// directory, a FIFO, /dev/zero behind a symlink), is bad input (E0001) naming the path.
std::string read_file(const std::filesystem::path& path);

// "a directory", "a character device", ...: what a stat st_mode describes, for diagnostics.
std::string describe_file_kind(unsigned mode);

}  // namespace halo
