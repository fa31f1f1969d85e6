#include "halo/util/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "halo/util/diagnostics.hpp"

namespace halo {
namespace fs = std::filesystem;

namespace {

fs::path temp_name(const fs::path& path) {
    return fs::path(path.string() + fmt::format(".tmp.{}", static_cast<long>(::getpid())));
}

void fsync_path(const fs::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}

void ensure_parent(const fs::path& path) {
    if (path.has_parent_path()) {
        std::error_code ec;
        fs::create_directories(path.parent_path(), ec);
        if (ec) throw_internal("E0002", fmt::format("cannot create directory {}: {}", path.parent_path().string(), ec.message()));
    }
}

void rename_into_place(const fs::path& tmp, const fs::path& path) {
    fsync_path(tmp);
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) {
        const std::string why = ec.message();  // before remove() reuses ec
        fs::remove(tmp, ec);
        throw_internal("E0002", fmt::format("cannot rename {} to {}: {}", tmp.string(), path.string(), why));
    }
}

}  // namespace

void write_file_atomic(const fs::path& path, std::string_view bytes) {
    write_file_atomic(path, [&](std::ostream& os) { os.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

void write_file_atomic(const fs::path& path, const std::function<void(std::ostream&)>& fill) {
    ensure_parent(path);
    const fs::path tmp = temp_name(path);
    {
        std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
        if (!os) throw_internal("E0002", fmt::format("cannot open {} for writing: {}", tmp.string(), std::strerror(errno)));
        try {
            fill(os);
        } catch (...) {
            os.close();
            std::error_code ec;
            fs::remove(tmp, ec);
            throw;
        }
        os.flush();
        if (!os) {
            std::error_code ec;
            fs::remove(tmp, ec);
            throw_internal("E0002", fmt::format("write to {} failed (disk full?)", tmp.string()));
        }
    }
    rename_into_place(tmp, path);
}

AtomicDirectory::AtomicDirectory(fs::path final_dir, bool overwrite) : final_(std::move(final_dir)) {
    if (fs::exists(final_) && !overwrite)
        throw_bad_value("E0003", final_.string(), "output directory already exists", "a new path, or --force", "an existing directory");
    staging_ = fs::path(final_.string() + ".partial");
    std::error_code ec;
    fs::remove_all(staging_, ec);
    fs::create_directories(staging_, ec);
    if (ec) throw_internal("E0002", fmt::format("cannot create {}: {}", staging_.string(), ec.message()));
}

AtomicDirectory::~AtomicDirectory() {
    if (!committed_) {
        std::error_code ec;
        fs::remove_all(staging_, ec);
    }
}

void AtomicDirectory::commit() {
    std::error_code ec;
    if (fs::exists(final_)) {
        // Move the old one aside first so the swap is two renames, never a half-deleted tree.
        fs::path old = fs::path(final_.string() + ".old");
        fs::remove_all(old, ec);
        fs::rename(final_, old, ec);
        if (ec) throw_internal("E0002", fmt::format("cannot move {} aside: {}", final_.string(), ec.message()));
        fs::rename(staging_, final_, ec);
        if (ec) throw_internal("E0002", fmt::format("cannot rename {}: {}", staging_.string(), ec.message()));
        fs::remove_all(old, ec);
    } else {
        fs::rename(staging_, final_, ec);
        if (ec) throw_internal("E0002", fmt::format("cannot rename {}: {}", staging_.string(), ec.message()));
    }
    committed_ = true;
}

std::string read_file(const fs::path& path) {
    std::ifstream is(path, std::ios::binary);
    if (!is) throw_bad_input("E0001", path.string(), 0, "cannot open file", "a readable file", std::strerror(errno));
    std::ostringstream ss;
    ss << is.rdbuf();
    return ss.str();
}

}  // namespace halo
