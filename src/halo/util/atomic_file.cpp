#include "halo/util/atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>  // renameat2
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"
#include "halo/util/file_identity.hpp"
#include "halo/util/staged_cleanup.hpp"

namespace halo {
namespace fs = std::filesystem;

namespace {

// "<path>.<what>.<pid>.<n>": unique per process and per call, so two runs (or two threads) never
// share a temporary.
fs::path unique_sibling(const fs::path& path, const char* what) {
    static std::atomic<unsigned> counter{0};
    return fs::path(path.string() + fmt::format(".{}.{}.{}", what, static_cast<long>(::getpid()), counter++));
}

// Leftovers of a run killed by SIGKILL (no handler runs then): siblings named
// "<path>.<what>.<pid>.<n>". With `only_dead_pids`, one is removed only when its process is gone
// (a file's temporary has no lock: another live run may own it); under the output lock of a
// directory every one is stale, since a live writer would hold the lock. Returns how many.
int remove_stale_siblings(const fs::path& path, const char* what, bool only_dead_pids) {
    const std::string prefix = path.filename().string() + "." + what + ".";
    std::error_code ec;
    const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
    int removed = 0;
    for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
        const std::string rest = name.substr(prefix.size());  // "<pid>.<n>"
        const auto dot = rest.find('.');
        if (dot == std::string::npos || dot == 0 || dot + 1 == rest.size() ||
            rest.find_first_not_of("0123456789.") != std::string::npos || rest.find('.', dot + 1) != std::string::npos)
            continue;
        const long pid = std::strtol(rest.c_str(), nullptr, 10);
        if (pid == static_cast<long>(::getpid())) continue;  // this run's own
        if (only_dead_pids && !(::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)) continue;
        std::error_code rm;
        fs::remove_all(it->path(), rm);
        if (!rm) ++removed;
    }
    return removed;
}

void fsync_path(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

// Errors of the file system that the path given to halo causes (an output under a regular file,
// in a read-only or unwritable directory, a name too long): bad input (exit 2), naming what is in
// the way. Anything else (disk full, I/O error) stays an internal error.
bool caused_by_the_path(int err) {
    return err == ENOTDIR || err == EACCES || err == EPERM || err == EROFS || err == EEXIST || err == EISDIR ||
           err == ENAMETOOLONG || err == ELOOP || err == ENOENT;
}

// What stops `path` from being created: the nearest existing ancestor that is not a directory,
// or one that is not writable.
std::string what_is_in_the_way(const fs::path& path, int err) {
    std::error_code ec;
    if (err == EISDIR && fs::is_directory(path, ec)) return path.string() + " is a directory";
    for (fs::path p = path.parent_path(); !p.empty(); p = p.parent_path()) {
        const auto st = fs::status(p, ec);
        if (ec || !fs::exists(st)) {
            if (p == p.parent_path()) break;
            continue;
        }
        if (!fs::is_directory(st)) return fmt::format("{} is {}, not a directory", p.string(), fs::is_regular_file(st) ? "a regular file" : "no directory");
        if (::access(p.c_str(), W_OK) != 0) return fmt::format("{} is not writable ({})", p.string(), std::strerror(errno));
        return fmt::format("{} refuses a new entry ({})", p.string(), std::strerror(err));  // read-only mount, /sys, ...
    }
    return std::strerror(err);
}

[[noreturn]] void output_refused(const fs::path& path, const std::string& what, int err) {
    if (caused_by_the_path(err))
        throw_bad_value("E0024", path.string(), "cannot write the output here", "a path in a writable directory",
                        what_is_in_the_way(path, err), fmt::format("halo could not {}; choose another output path", what));
    throw_internal("E0002", fmt::format("cannot {} {}: {}", what, path.string(), std::strerror(err)));
}

void ensure_parent(const fs::path& path) {
    if (path.has_parent_path()) {
        std::error_code ec;
        fs::create_directories(path.parent_path(), ec);
        if (ec) output_refused(path, "create directory " + path.parent_path().string(), ec.value());
    }
}

void rename_into_place(const fs::path& tmp, const fs::path& path) {
    fsync_path(tmp);
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        const int why = ec.value();  // before remove() reuses ec
        fs::remove(tmp, ec);
        output_refused(path, "rename " + tmp.filename().string() + " over it", why);
    }
}

// Removes a temporary on every exit path, including SIGINT/SIGTERM (staged_cleanup.hpp).
class StagedPath {
public:
    explicit StagedPath(fs::path p) : path_(std::move(p)), slot_(register_staged_path(path_)) {}
    ~StagedPath() {
        if (!kept_) {
            std::error_code ec;
            fs::remove_all(path_, ec);
        }
        unregister_staged_path(slot_);
    }
    StagedPath(const StagedPath&) = delete;
    StagedPath& operator=(const StagedPath&) = delete;
    void keep() { kept_ = true; }

private:
    fs::path path_;
    int slot_;
    bool kept_ = false;
};

}  // namespace

void write_file_atomic(const fs::path& path, std::string_view bytes) {
    write_file_atomic(path, [&](std::ostream& os) { os.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

void write_file_atomic(const fs::path& path, const std::function<void(std::ostream&)>& fill) {
    ensure_parent(path);
    refuse_replacing_input(path);
    remove_stale_siblings(path, "tmp", /*only_dead_pids=*/true);
    const fs::path tmp = unique_sibling(path, "tmp");
    StagedPath staged(tmp);
    {
        std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
        if (!os) output_refused(path, "open " + tmp.filename().string() + " for writing", errno);
        fill(os);  // an exception leaves `staged` to remove the temporary
        os.flush();
        if (!os) throw_internal("E0002", fmt::format("write to {} failed (disk full?)", tmp.string()));
    }
    rename_into_place(tmp, path);
    staged.keep();
    note_output_file(path);
}

OutputLock::OutputLock(const fs::path& target) : path_(target.string() + ".lock") {
    ensure_parent(target);  // the lock's directory is the output's
    // Lock, then check the locked file is still the one at the path: a previous holder unlinks it
    // on release, and a lock on an unlinked inode would guard nothing.
    for (int attempt = 0; attempt < 100; ++attempt) {
        fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd_ < 0) {
            const int err = errno;
            if (caused_by_the_path(err)) output_refused(target, "create lock file " + path_.filename().string(), err);
            throw_internal("E0007", fmt::format("cannot create lock file {}: {}", path_.string(), std::strerror(err)));
        }
        if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
            const int why = errno;
            ::close(fd_);
            fd_ = -1;
            if (why == EWOULDBLOCK)
                throw_bad_value("E0004", target.string(), "another halo run is writing this output",
                                "no other run on the same --out", "the lock " + path_.string() + " held",
                                "wait for the other run or choose another output path");
            throw_internal("E0008", fmt::format("cannot lock {}: {}", path_.string(), std::strerror(why)));
        }
        struct stat held {}, now {};
        if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &now) == 0 && held.st_ino == now.st_ino && held.st_dev == now.st_dev) {
            cleanup_slot_ = register_staged_path(path_);  // a signal removes the lock file too
            return;
        }
        ::close(fd_);
        fd_ = -1;
    }
    throw_internal("E0011", fmt::format("cannot lock {}: it keeps being replaced", path_.string()));
}

OutputLock::~OutputLock() {
    if (fd_ < 0) return;
    ::unlink(path_.c_str());  // while still holding the lock (see the constructor)
    ::close(fd_);
    unregister_staged_path(cleanup_slot_);
}

AtomicDirectory::AtomicDirectory(fs::path final_dir, bool overwrite) : final_(std::move(final_dir)) {
    std::error_code st_ec;
    const auto st = fs::symlink_status(final_, st_ec);
    if (fs::exists(st) && !overwrite)
        throw_bad_value("E0003", final_.string(), "output directory already exists", "a new path, or --force",
                        fs::is_directory(st) ? "an existing directory" : fs::is_regular_file(st) ? "an existing regular file"
                                                                                                 : "an existing file");
    refuse_replacing_input(final_);  // early, for the inputs read so far; commit() checks again
    lock_ = std::make_unique<OutputLock>(final_);
    stale_removed_ = remove_stale_siblings(final_, "partial", /*only_dead_pids=*/false);
    staging_ = unique_sibling(final_, "partial");
    std::error_code ec;
    fs::create_directories(staging_, ec);
    if (ec) output_refused(final_, "create " + staging_.filename().string(), ec.value());
    cleanup_slot_ = register_staged_path(staging_);
}

AtomicDirectory::~AtomicDirectory() {
    std::error_code ec;
    if (!committed_) fs::remove_all(staging_, ec);
    unregister_staged_path(cleanup_slot_);
}

void AtomicDirectory::commit() {
    refuse_replacing_input(final_);
    fsync_path(staging_);
    if (!fs::exists(final_)) {
        std::error_code ec;
        fs::rename(staging_, final_, ec);
        if (ec) throw_internal("E0002", fmt::format("cannot rename {} to {}: {}", staging_.string(), final_.string(), ec.message()));
    } else {
        // One atomic step: exchange the staged tree with the old one, so --out always holds a
        // complete result (old or new); the old tree, now at the staging path, is then removed
        // (by the signal handler too, if a signal arrives in between).
        if (::renameat2(AT_FDCWD, staging_.c_str(), AT_FDCWD, final_.c_str(), RENAME_EXCHANGE) != 0)
            throw_internal("E0002", fmt::format("cannot exchange {} with {}: {}", staging_.string(), final_.string(), std::strerror(errno)),
                           "the file system must support renameat2(RENAME_EXCHANGE) (ext4, xfs, btrfs, tmpfs, overlayfs)");
        std::error_code ec;
        fs::remove_all(staging_, ec);
    }
    committed_ = true;
    unregister_staged_path(cleanup_slot_);
    cleanup_slot_ = -1;
    lock_.reset();
}

std::string read_file(const fs::path& path) {
    // Only regular files: a directory would read as "empty", a FIFO or /dev/zero (perhaps behind a
    // symlink) would block or grow without end. The size comes from fstat, not from reading.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);  // a FIFO must not block the open
    if (fd < 0) throw_bad_input("E0001", path.string(), 0, "cannot open file", "a readable file", std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const std::string kind = describe_file_kind(st.st_mode);
        ::close(fd);
        throw_bad_input("E0001", path.string(), 0, "not a regular file", "a regular file", kind);
    }
    note_input_file(path, static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino));
    std::string bytes(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const std::string why = n < 0 ? std::strerror(errno) : fmt::format("end of file after {} bytes", done);
            ::close(fd);
            throw_bad_input("E0006", path.string(), 0, "cannot read file", fmt::format("{} bytes", bytes.size()), why);
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return bytes;
}

std::string describe_file_kind(unsigned mode) {
    if (S_ISREG(mode)) return "a regular file";
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISSOCK(mode)) return "a socket";
    return "something that is not a regular file";
}

}  // namespace halo
