#include "halo/util/provenance.hpp"

#include <chrono>
#include <ctime>
#include <mutex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "halo_git_commit.h"  // HALO_GIT_COMMIT, generated at build time (src/halo/util/CMakeLists.txt)
#ifndef HALO_VERSION
#define HALO_VERSION "unknown"
#endif

namespace halo {
namespace {

std::mutex g_mutex;
std::string g_command_line;

std::string quoted(const std::string& arg) {
    if (!arg.empty() && arg.find_first_of(" \t\"'\\$") == std::string::npos) return arg;
    std::string s = "'";
    for (char c : arg) s += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return s + "'";
}

}  // namespace

void record_command_line(const std::vector<std::string>& argv) {
    std::string s;
    for (const auto& a : argv) s += (s.empty() ? "" : " ") + quoted(a);
    const std::lock_guard lock(g_mutex);
    g_command_line = std::move(s);
}

std::string utc_date_time_now() {
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                       tm.tm_sec);
}

std::string halo_version() { return HALO_VERSION; }
std::string git_commit() { return HALO_GIT_COMMIT; }

Provenance current_provenance() {
    const std::lock_guard lock(g_mutex);
    return {utc_date_time_now(), halo_version(), git_commit(), g_command_line};
}

nlohmann::json provenance_json(const Provenance& p) {
    return {{"date", p.date_utc}, {"halo_version", p.halo_version}, {"git_commit", p.git_commit}, {"command", p.command_line}};
}

}  // namespace halo
