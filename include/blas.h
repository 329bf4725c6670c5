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

/* Pin OpenBLAS to one thread (before any product; every rank calls it once). */
void blas_init(void);
/* OpenBLAS's configuration string (version, build options), for the run's
 * context; a static string. */
const char *blas_version(void);
/* The CPU core type whose kernels OpenBLAS chose when it was loaded (its
 * DYNAMIC_ARCH detection, or OPENBLAS_CORETYPE): "Haswell", "SkylakeX", ... */
const char *blas_core(void);
/* C[m][n] = alpha * op(A)[m][k] * op(B)[k][n] + beta * C, through
 * cblas_sgemm; lda, ldb, ldc are the row strides of A, B, C as stored. The
 * caller owns every buffer; nothing can fail. */
void blas_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                int lda, const float *b, int ldb, float beta, float *c, int ldc);
/* The same product as blas_sgemm, in plain loops (for the tests). */
void blas_sgemm_naive(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc);

#endif
