#include "halo/model/blas.hpp"

#include <cblas.h>

#include <algorithm>
#include <atomic>
#include <utility>
#include <vector>

#include "halo/model/gemm_kernels.hpp"
#include "halo/util/parallel.hpp"

// Declared weak so halo links against any CBLAS; only OpenBLAS defines it.
extern "C" void openblas_set_num_threads(int num_threads) __attribute__((weak));

namespace halo::model {

namespace {

CBLAS_TRANSPOSE op(bool t) { return t ? CblasTrans : CblasNoTrans; }

std::atomic<unsigned> g_threads{0};  // 0 = all cores
thread_local bool t_in_parallel = false;

// Below this many multiply-adds a product runs on one thread: starting a thread (~20 us)
// would cost more than it saves.
constexpr double kMinParallelMacs = 4.0 * 1024 * 1024;
// Columns (or rows) per work item: a multiple of every kernel's register block, large enough
// to amortise packing the shared operand.
constexpr std::int64_t kMinSplit = 64;

template <class T>
void gemm_one_thread(kernels::GemmIsa isa, bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
                     const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
    switch (isa) {
        case kernels::GemmIsa::avx512:
            kernels::gemm_avx512(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        case kernels::GemmIsa::avx2:
            kernels::gemm_avx2(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        case kernels::GemmIsa::reference:
            gemm_reference(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
    }
}

// Splits C into blocks of whole columns (N >= M) or whole rows and runs them on the model's
// threads; each block is an independent product with the other operand shared.
template <class T>
void gemm_split(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
                std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
    if (m == 0 || n == 0) return;
    const kernels::GemmIsa isa = kernels::detected_gemm_isa();
    const unsigned threads = t_in_parallel ? 1 : resolve_threads(g_threads.load());
    const double macs = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(std::max<std::int64_t>(k, 1));
    if (isa == kernels::GemmIsa::reference || threads <= 1 || macs < kMinParallelMacs) {
        gemm_one_thread(isa, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    const bool split_n = n >= m;
    const std::int64_t len = split_n ? n : m;
    // A few blocks per thread so a thread that loses its core to another process is covered.
    const std::int64_t blocks = std::clamp<std::int64_t>(len / kMinSplit, 1, 4 * static_cast<std::int64_t>(threads));
    const std::int64_t step = (len + blocks - 1) / blocks;
    model_parallel_for(static_cast<std::size_t>(blocks), [&](std::size_t i, unsigned) {
        const std::int64_t lo = static_cast<std::int64_t>(i) * step;
        const std::int64_t cnt = std::min(step, len - lo);
        if (cnt <= 0) return;
        if (split_n) {
            // op(B) columns lo..lo+cnt: rows of B when transposed, columns otherwise.
            const T* bb = tb ? b + lo * ldb : b + lo;
            gemm_one_thread(isa, ta, tb, m, cnt, k, alpha, a, lda, bb, ldb, beta, c + lo, ldc);
        } else {
            const T* aa = ta ? a + lo : a + lo * lda;
            gemm_one_thread(isa, ta, tb, cnt, n, k, alpha, aa, lda, b, ldb, beta, c + lo * ldc, ldc);
        }
    });
}

}  // namespace

const char* gemm_kernel_name() { return kernels::gemm_isa_name(kernels::detected_gemm_isa()); }

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha, const float* a,
          std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c, std::int64_t ldc) {
    gemm_split(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha, const double* a,
          std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c, std::int64_t ldc) {
    gemm_split(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm_reference(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, float alpha,
                    const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
                    std::int64_t ldc) {
    if (m == 0 || n == 0) return;
    cblas_sgemm(CblasRowMajor, op(trans_a), op(trans_b), static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
                alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

void gemm_reference(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, double alpha,
                    const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta, double* c,
                    std::int64_t ldc) {
    if (m == 0 || n == 0) return;
    cblas_dgemm(CblasRowMajor, op(trans_a), op(trans_b), static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
                alpha, a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
}

void set_blas_threads(unsigned threads) {
    g_threads = threads;
    if (openblas_set_num_threads != nullptr) openblas_set_num_threads(static_cast<int>(blas_library_threads(threads)));
}

void gram_accumulate_lower(const float* x, std::int64_t rows, std::int64_t cols, float* gram) {
    constexpr std::int64_t kBlock = 128;
    const std::int64_t nb = (cols + kBlock - 1) / kBlock;
    // Work items: block pairs (bi >= bj), each an independent single-threaded product.
    std::vector<std::pair<std::int64_t, std::int64_t>> pairs;
    for (std::int64_t bi = 0; bi < nb; ++bi)
        for (std::int64_t bj = 0; bj <= bi; ++bj) pairs.emplace_back(bi, bj);
    model_parallel_for(pairs.size(), [&](std::size_t p, unsigned) {
        const std::int64_t i0 = pairs[p].first * kBlock, j0 = pairs[p].second * kBlock;
        const std::int64_t ni = std::min(kBlock, cols - i0), nj = std::min(kBlock, cols - j0);
        gemm(true, false, ni, nj, rows, 1.0f, x + i0, cols, x + j0, cols, 1.0f, gram + i0 * cols + j0, cols);
    });
}

void symmetrize_lower(float* gram, std::int64_t cols) {
    for (std::int64_t i = 0; i < cols; ++i)
        for (std::int64_t j = 0; j < i; ++j) gram[j * cols + i] = gram[i * cols + j];
}

unsigned blas_threads() { return resolve_threads(g_threads.load()); }

unsigned model_parallel_workers() { return t_in_parallel ? 1 : blas_threads(); }

void model_parallel_for(std::size_t n, const std::function<void(std::size_t, unsigned)>& body) {
    parallel_for(n, model_parallel_workers(), [&](std::size_t i, unsigned worker) {
        const bool outer = t_in_parallel;
        t_in_parallel = true;
        struct Restore {
            bool value;
            ~Restore() { t_in_parallel = value; }
        } restore{outer};
        body(i, worker);
    });
}

}  // namespace halo::model
