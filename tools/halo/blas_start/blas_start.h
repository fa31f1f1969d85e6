/* See blas_start.c: OpenBLAS starts no thread pool at load; main() restores the environment. */
#pragma once

#ifdef __cplusplus
extern "C" {
#endif
int halo_blas_start_restore(void);
#ifdef __cplusplus
}
#endif
