#include "terminal_progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <memory>

#include <fmt/format.h>

namespace halo::cli {

namespace {

std::string eta_text(const ProgressUpdate& u) {
    if (u.total == 0 || u.done == 0) return "?";
    double remaining = u.elapsed_s * static_cast<double>(u.total - u.done) / static_cast<double>(u.done);
    if (remaining >= 3600) return fmt::format("{:.1f}h", remaining / 3600);
    if (remaining >= 60) return fmt::format("{:.1f}m", remaining / 60);
    return fmt::format("{:.1f}s", remaining);
}

}  // namespace

ProgressSink terminal_progress(bool quiet) {
    if (quiet) return {};
    const bool tty = ::isatty(STDERR_FILENO) != 0;
    auto last_line_s = std::make_shared<double>(-1e9);
    return [tty, last_line_s](const ProgressUpdate& u) {
        double rate = u.elapsed_s > 0 ? static_cast<double>(u.done) / u.elapsed_s : 0.0;
        bool done = u.total && u.done >= u.total;
        if (tty) {
            int width = 30;
            int filled = u.total ? static_cast<int>(width * static_cast<double>(u.done) / static_cast<double>(u.total)) : 0;
            std::string bar(static_cast<size_t>(filled), '#');
            bar.resize(static_cast<size_t>(width), '.');
            fmt::print(stderr, "\r{} [{}] {}/{} {:.1f}/s ETA {}   ", u.task, bar, u.done, u.total, rate, eta_text(u));
            if (done) fmt::print(stderr, "\n");
        } else if (done || u.elapsed_s - *last_line_s >= 5.0) {
            *last_line_s = u.elapsed_s;
            fmt::print(stderr, "{}: {}/{} ({:.1f}/s, ETA {})\n", u.task, u.done, u.total, rate, eta_text(u));
        }
        std::fflush(stderr);
    };
}

}  // namespace halo::cli
