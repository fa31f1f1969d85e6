// parallel_for over [0, n) on up to `threads` std::threads (0 = hardware concurrency). Work is
// handed out in chunks from an atomic counter so uneven items balance. The first exception a
// worker throws is rethrown on the caller's thread after all workers stop.
#pragma once

#include <cstddef>
#include <functional>

namespace halo {

unsigned resolve_threads(unsigned threads);

// The thread count to hand a BLAS library (OpenBLAS) for a request of `threads` (0 = all cores).
// OpenBLAS starts one worker per thread it is given, each mapping its own 128 MiB buffer; under
// an address-space cap (ulimit -v) a worker that cannot map retries forever and exit() joins it,
// so `--threads 64` finished its work and then spun at exit (issue #17, class 11). The count is
// at most the cores this process may run on (sched_getaffinity) and at most what the cap affords
// at 512 MiB of address space per worker (buffer, malloc arena, stack), and at least 1. halo's own
// workers (parallel_for) still use the count given.
unsigned blas_library_threads(unsigned threads);

void parallel_for(std::size_t n, unsigned threads, const std::function<void(std::size_t index, unsigned worker)>& body,
                  std::size_t chunk = 1);

}  // namespace halo
