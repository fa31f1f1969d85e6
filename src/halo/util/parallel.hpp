// parallel_for over [0, n) on up to `threads` std::threads (0 = hardware concurrency). Work is
// handed out in chunks from an atomic counter so uneven items balance. The first exception a
// worker throws is rethrown on the caller's thread after all workers stop.
#pragma once

#include <cstddef>
#include <functional>

namespace halo {

unsigned resolve_threads(unsigned threads);

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t index, unsigned worker)>& body,
                  std::size_t chunk = 1);

}  // namespace halo
