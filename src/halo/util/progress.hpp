// Progress reporting without printing: library loops call a Progress, the CLI decides how to
// show it (a bar on a terminal, periodic lines with rate and ETA otherwise, nothing in tests).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>

namespace halo {

struct ProgressUpdate {
    std::string task;       // "static sweep", "layer 3/30"
    std::size_t done = 0;   // items finished
    std::size_t total = 0;  // items in all (0 when unknown)
    double elapsed_s = 0;   // since the task began
};

using ProgressSink = std::function<void(const ProgressUpdate&)>;

// Counts items of one task and forwards updates to a sink, at most every `min_interval_s`
// (and always at the end). Thread-safe: workers call advance() concurrently.
class Progress {
public:
    Progress(ProgressSink sink, std::string task, std::size_t total, double min_interval_s = 0.2);
    void advance(std::size_t n = 1);
    void finish();

private:
    ProgressSink sink_;
    std::string task_;
    std::size_t total_;
    std::size_t done_ = 0;
    double min_interval_s_;
    std::chrono::steady_clock::time_point start_;
    std::chrono::steady_clock::time_point last_;
    std::mutex mutex_;
};

}  // namespace halo
