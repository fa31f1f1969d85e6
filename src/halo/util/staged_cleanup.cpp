#include "halo/util/staged_cleanup.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>

namespace halo {
namespace {

constexpr std::size_t kPathBytes = 4096;

struct Slot {
    std::atomic<bool> used{false};
    char path[kPathBytes];
};
Slot g_slots[kMaxStagedPaths];
std::mutex g_register_mutex;
bool g_handlers_installed = false;

// Removes `name` under directory `dir_fd` (a file or a whole tree) with openat/unlinkat only;
// recursion depth is bounded by the staged tree's depth (halo writes at most a few levels).
void remove_at(int dir_fd, const char* name, int depth) {
    if (::unlinkat(dir_fd, name, 0) == 0 || depth > 32) return;
    const int fd = ::openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return;
    DIR* d = ::fdopendir(fd);  // fdopendir/readdir do not allocate after the first call on glibc;
    if (!d) {                  // good enough for an exit path that is already best effort
        ::close(fd);
        return;
    }
    while (dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
        remove_at(::dirfd(d), e->d_name, depth + 1);
    }
    ::closedir(d);
    ::unlinkat(dir_fd, name, AT_REMOVEDIR);
}

void on_signal(int sig) {
    for (auto& s : g_slots)
        if (s.used.load(std::memory_order_acquire)) remove_at(AT_FDCWD, s.path, 0);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

void install_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM}) {
        struct sigaction old {};
        ::sigaction(sig, nullptr, &old);
        if (old.sa_handler == SIG_IGN) continue;  // e.g. nohup: keep ignoring
        ::sigaction(sig, &sa, nullptr);
    }
}

}  // namespace

int register_staged_path(const std::filesystem::path& path) {
    const std::string p = std::filesystem::absolute(path).string();
    if (p.size() >= kPathBytes) return -1;
    std::lock_guard<std::mutex> lock(g_register_mutex);
    if (!g_handlers_installed) {
        install_handlers();
        g_handlers_installed = true;
    }
    for (int i = 0; i < kMaxStagedPaths; ++i) {
        if (g_slots[i].used.load(std::memory_order_relaxed)) continue;
        std::memcpy(g_slots[i].path, p.c_str(), p.size() + 1);
        g_slots[i].used.store(true, std::memory_order_release);
        return i;
    }
    return -1;
}

void unregister_staged_path(int slot) {
    if (slot < 0 || slot >= kMaxStagedPaths) return;
    std::lock_guard<std::mutex> lock(g_register_mutex);
    g_slots[slot].used.store(false, std::memory_order_release);
}

}  // namespace halo
