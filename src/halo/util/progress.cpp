#include "halo/util/progress.hpp"

namespace halo {

Progress::Progress(ProgressSink sink, std::string task, std::size_t total, double min_interval_s)
    : sink_(std::move(sink)), task_(std::move(task)), total_(total), min_interval_s_(min_interval_s),
      start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::advance(std::size_t n) {
    if (!sink_) return;
    std::lock_guard lock(mutex_);
    done_ += n;
    auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last_).count() >= min_interval_s_ || (total_ && done_ >= total_)) {
        last_ = now;
        sink_({task_, done_, total_, std::chrono::duration<double>(now - start_).count()});
    }
}

void Progress::finish() {
    if (!sink_) return;
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    sink_({task_, total_ ? total_ : done_, total_ ? total_ : done_, std::chrono::duration<double>(now - start_).count()});
}

}  // namespace halo
