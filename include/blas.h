/*
 * blas.h - the one door to matrix products.
 *
 * C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or X^T.
 * blas_sgemm goes to OpenBLAS's cblas_sgemm; blas_sgemm_naive is the plain
 * loop the tests compare it with. blas_init pins OpenBLAS to one thread: a
 * sweep runs one process per core.
 */
#ifndef TS_BLAS_H
#define TS_BLAS_H

#include <stdbool.h>

void blas_init(void);
const char *blas_version(void);
/* The CPU core type whose kernels OpenBLAS chose when it was loaded (its
 * DYNAMIC_ARCH detection, or OPENBLAS_CORETYPE): "Haswell", "SkylakeX", ... */
const char *blas_core(void);
void blas_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                int lda, const float *b, int ldb, float beta, float *c, int ldc);
void blas_sgemm_naive(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc);

#endif
