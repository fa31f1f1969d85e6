#include "halo/util/parallel.hpp"

#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace halo {

unsigned resolve_threads(unsigned threads) {
    if (threads > 0) return threads;
    unsigned hw = std::thread::hardware_concurrency();
    return hw == 0 ? 1 : hw;
}

unsigned blas_library_threads(unsigned threads) {
    unsigned n = resolve_threads(threads);
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
        n = std::min(n, static_cast<unsigned>(CPU_COUNT(&set)));
    struct rlimit as {};
    constexpr unsigned long long kBytesPerWorker = 512ull << 20;
    if (::getrlimit(RLIMIT_AS, &as) == 0 && as.rlim_cur != RLIM_INFINITY)
        n = std::min<unsigned long long>(n, std::max<unsigned long long>(1, static_cast<unsigned long long>(as.rlim_cur) / 2 / kBytesPerWorker));
    return std::max(1u, n);
}

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t, unsigned)>& body,
                  std::size_t chunk) {
    if (n == 0) return;
    chunk = std::max<std::size_t>(chunk, 1);
    unsigned workers = static_cast<unsigned>(std::min<std::size_t>(resolve_threads(threads), (n + chunk - 1) / chunk));
    if (workers <= 1) {
        for (std::size_t i = 0; i < n; ++i) body(i, 0);
        return;
    }
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    std::exception_ptr first_error;
    std::mutex error_mutex;
    auto work = [&](unsigned w) {
        while (!failed.load(std::memory_order_relaxed)) {
            std::size_t begin = next.fetch_add(chunk);
            if (begin >= n) break;
            std::size_t end = std::min(n, begin + chunk);
            try {
                for (std::size_t i = begin; i < end; ++i) body(i, w);
            } catch (...) {
                std::lock_guard lock(error_mutex);
                if (!first_error) first_error = std::current_exception();
                failed = true;
            }
        }
    };
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    for (unsigned w = 1; w < workers; ++w) pool.emplace_back(work, w);
    work(0);
    for (auto& t : pool) t.join();
    if (first_error) std::rethrow_exception(first_error);
}

}  // namespace halo
