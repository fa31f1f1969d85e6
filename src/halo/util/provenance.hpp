// Where an output came from, written into every manifest and report (issue #12 "truth in
// outputs"): the UTC date and time of the run, halo's version, the git commit the build was
// configured from ("unknown" outside a git checkout; a commit made after configuring shows only
// after re-running cmake) and the exact command line.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace halo {

struct Provenance {
    std::string date_utc;      // "2026-12-03T13:04:05Z", from the clock
    std::string halo_version;  // the CMake project version, "0.1.0"
    std::string git_commit;    // 12-digit hash at configure time ("-dirty": uncommitted changes then), or "unknown"
    std::string command_line;  // argv joined by spaces, arguments with spaces or quotes quoted
};

// Called once by the program's main() with its arguments; library code never calls it.
void record_command_line(const std::vector<std::string>& argv);
// The provenance of this run now (the date is read from the clock on every call; the command
// line is "" when main recorded none, e.g. in a unit test).
Provenance current_provenance();
std::string utc_date_time_now();
std::string halo_version();
std::string git_commit();

// {"date", "halo_version", "git_commit", "command"}: the fields manifests and reports carry.
nlohmann::json provenance_json(const Provenance& p);

}  // namespace halo
