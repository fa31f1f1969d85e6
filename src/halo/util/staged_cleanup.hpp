// Removal of staged outputs on SIGINT/SIGTERM. AtomicDirectory and write_file_atomic register the
// temporary paths they create; the first registration installs handlers for SIGINT and SIGTERM
// that remove every registered path (a file, or a directory tree) using only async-signal-safe
// system calls, then re-raise the signal with its default action so the exit status still says
// "killed by signal". SIGKILL cannot be caught: after kill -9 the staged path stays behind, but
// the final output is untouched (it is only ever replaced by one rename).
#pragma once

#include <filesystem>

namespace halo {

// Up to kMaxStagedPaths paths at once (registrations beyond it are not cleaned on a signal);
// a path longer than 4095 bytes is not registered. Returns a slot for unregister (-1: none).
inline constexpr int kMaxStagedPaths = 64;
int register_staged_path(const std::filesystem::path& path);
void unregister_staged_path(int slot);

}  // namespace halo
