// tools/halo/blas_start: linked after OpenBLAS, its constructor runs first, so OpenBLAS starts
// no worker thread at load, and openblas_set_num_threads still starts them on demand.
#include <cblas.h>

#include <dirent.h>

#include <vector>

#include <gtest/gtest.h>

#include "blas_start.h"

extern "C" void openblas_set_num_threads(int num_threads) __attribute__((weak));

namespace {

int task_count() {
    DIR* d = opendir("/proc/self/task");
    if (d == nullptr) return -1;
    int n = 0;
    while (const dirent* e = readdir(d)) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

TEST(BlasStart, NoWorkerAtLoadThenStartedOnDemand) {
    const int tasks_at_start = task_count();
    if (halo_blas_start_restore() == 0) GTEST_SKIP() << "OPENBLAS_NUM_THREADS set by the caller: nothing to check";
    EXPECT_EQ(getenv("OPENBLAS_NUM_THREADS"), nullptr);  // restored for child processes
    EXPECT_EQ(tasks_at_start, 1);
    if (openblas_set_num_threads == nullptr) GTEST_SKIP() << "the BLAS is not OpenBLAS";
    openblas_set_num_threads(2);
    std::vector<double> a(256 * 256, 1.0), c(256 * 256, 0.0);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 256, 256, 256, 1.0, a.data(), 256, a.data(), 256, 0.0,
                c.data(), 256);
    EXPECT_DOUBLE_EQ(c[0], 256.0);
    EXPECT_EQ(task_count(), 2);  // the worker, started when asked for
}

}  // namespace
