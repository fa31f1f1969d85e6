/* Keeps OpenBLAS from starting worker threads when halo starts.
 *
 * OpenBLAS (Debian's pthread build) starts (cores - 1) worker threads in its library
 * constructor, before main(), sized by OPENBLAS_NUM_THREADS or the core count: every halo
 * command paid for a thread pool, even `halo version`. This tiny library is linked into halo
 * after OpenBLAS and depends on nothing, so glibc, which runs the constructors of unrelated
 * libraries in reverse load order, runs this one first (checked by the test
 * tests/unit/blas_start: one task at main). It sets OPENBLAS_NUM_THREADS=1 unless the user set
 * it; OpenBLAS then starts no worker, and model::set_blas_threads(n) (openblas_set_num_threads)
 * starts them when a command first asks for n > 1. main() calls halo_blas_start_restore() at
 * once, so that child processes (yosys, sta) and the user's value are as before.
 * C, not C++: nothing here may need a runtime that is not initialised yet. */
#include <stdlib.h>

static int g_set_by_us = 0;

__attribute__((constructor)) static void halo_blas_start_quiet(void) {
    if (getenv("OPENBLAS_NUM_THREADS") == NULL) {
        g_set_by_us = setenv("OPENBLAS_NUM_THREADS", "1", 0) == 0;
    }
}

/* Removes the variable again if this library set it; returns 1 if it did. */
int halo_blas_start_restore(void) {
    if (!g_set_by_us) return 0;
    unsetenv("OPENBLAS_NUM_THREADS");
    g_set_by_us = 0;
    return 1;
}
