#include "halo/timing/cuda_module.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <vector>

namespace halo::timing {

namespace {

constexpr const char* kModuleFile = "libhalo_cuda.so";

struct Loaded {
    void* handle = nullptr;
    std::string why;
};

Loaded load() {
    std::vector<std::filesystem::path> candidates;
    if (const char* env = std::getenv("HALO_CUDA_MODULE")) candidates.emplace_back(env);
    std::error_code ec;
    const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) candidates.push_back(exe.parent_path() / kModuleFile);
#ifdef HALO_CUDA_MODULE_DIR
    candidates.push_back(std::filesystem::path(HALO_CUDA_MODULE_DIR) / kModuleFile);
#endif
    Loaded r;
    std::string tried;
    for (const auto& p : candidates) {
        if (!std::filesystem::exists(p, ec)) {
            tried += (tried.empty() ? "" : ", ") + p.string();
            continue;
        }
        r.handle = ::dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (r.handle) return r;
        const char* err = ::dlerror();
        r.why = "cannot load " + p.string() + ": " + (err ? err : "unknown error");
        return r;
    }
    r.why = std::string(kModuleFile) + " not found (looked for " + tried +
            "); it is built only where CMake finds a CUDA compiler";
    return r;
}

}  // namespace

void* cuda_module_symbol(const char* symbol, std::string* why) {
    static std::once_flag once;
    static Loaded loaded;
    std::call_once(once, [] { loaded = load(); });
    if (!loaded.handle) {
        if (why) *why = loaded.why;
        return nullptr;
    }
    void* p = ::dlsym(loaded.handle, symbol);
    if (!p && why) *why = std::string(kModuleFile) + " lacks " + symbol + " (stale module: rebuild it)";
    return p;
}

}  // namespace halo::timing
