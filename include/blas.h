/*
 * blas.h - the one door to matrix products.
 *
 * C = alpha * op(A) * op(B) + beta * C, row-major, op(X) = X or X^T.
 * blas_sgemm goes to OpenBLAS's cblas_sgemm; blas_sgemm_naive is the plain
 * loop the tests compare it with. OpenBLAS runs on one thread (blas_init,
 * par_init): a training's threads (par.h) each call it on their own
 * operands, so its own threads never split a sum.
 *
 * OpenBLAS picks its kernels for the CPU it finds when it is loaded. A CPU
 * newer than the OpenBLAS (Debian 12's 0.3.21 on a recent Xeon) gets its
 * generic fallback, Prescott's SSE3 kernels, even when it has AVX2 or
 * AVX-512, and trainings run 2-3x slower. blas_core_remedy detects that case
 * and names the OPENBLAS_CORETYPE that gives such a CPU its own kernels;
 * blas_core_advice words it for the user. No MPI, no files.
 */
#ifndef TS_BLAS_H
#define TS_BLAS_H

#include <stdbool.h>
#include <stddef.h>

/* Pin OpenBLAS to one thread (before any product; par_init does it for the
 * program, the tests call it themselves). */
void blas_init(void);
/* OpenBLAS's configuration string (version, build options), for the run's
 * context; a static string. */
const char *blas_version(void);
/* The CPU core type whose kernels OpenBLAS chose when it was loaded (its
 * DYNAMIC_ARCH detection, or OPENBLAS_CORETYPE): "Haswell", "SkylakeX", ... */
const char *blas_core(void);
/* What OpenBLAS has wider kernels for among this CPU's instruction sets
 * (as __builtin_cpu_supports sees them: the CPU has them and the OS saves
 * their registers), narrowest first. */
typedef enum {
    BLAS_ISA_OLDER,       /* neither AVX2 nor AVX-512 (or not x86-64) */
    BLAS_ISA_AVX2,        /* AVX2 and FMA: OpenBLAS's Haswell kernels */
    BLAS_ISA_AVX512,      /* AVX-512 F, DQ, BW and VL: SkylakeX */
    BLAS_ISA_AVX512_BF16, /* and AVX512_BF16: Cooperlake */
} blas_isa_t;

/* This CPU's. */
blas_isa_t blas_cpu_isa(void);
/* "AVX2", "AVX-512", "AVX-512 with BF16", or "no AVX2" for BLAS_ISA_OLDER;
 * a static string. */
const char *blas_isa_name(blas_isa_t isa);
/* Whether core (an openblas_get_corename() value, case ignored) is one of
 * OpenBLAS's x86 kernel sets older than AVX: its generic fallback Prescott,
 * what it reports for a CPU it cannot place ("Unknown", "generic") and the
 * SSE-era cores (Katmai, Core2, Nehalem, Atom, Opteron, Barcelona, ...). The
 * AVX-era ones (Sandybridge, Bulldozer, ..., Haswell, Zen, SkylakeX) are not:
 * OpenBLAS picks those only for the CPUs they were made for, or when
 * OPENBLAS_CORETYPE asks (as docs/cluster.md's pinning to the oldest nodes' core does). */
bool blas_core_generic(const char *core);
/* The OPENBLAS_CORETYPE that gives a CPU of instruction sets isa its own
 * kernels when OpenBLAS runs core on it: "Haswell" (AVX2), "SkylakeX"
 * (AVX-512), "Cooperlake" (AVX-512 with BF16), the cores OpenBLAS 0.3.21
 * accepts and would pick itself for such a CPU it knows. NULL when there is
 * nothing to mend: core is not generic, or the CPU has neither AVX2 nor
 * AVX-512. A static string. */
const char *blas_core_remedy(const char *core, blas_isa_t isa);
/*
 * When blas_core_remedy(core, isa) is not NULL, the advice in one line (no
 * newline) into out (len bytes, cut to fit), to follow a subject such as
 * "this node runs " or "12 trainings ran ":
 *   "OpenBLAS's generic 'Prescott' kernels on a CPU with AVX-512 (OpenBLAS
 *    did not recognise the CPU's model), dense trainings 2-3x slower than on the
 *    CPU's own: export OPENBLAS_CORETYPE=SkylakeX for every rank (...); the
 *    results' bits depend on the core type, so set it when a sweep starts
 *    and keep it for all its resumes (docs/cluster.md, ...)"
 * coretype is OPENBLAS_CORETYPE as it was set (NULL or "" when unset; when
 * set, the parenthesis says that it asked for these kernels). Returns 1 when it
 * wrote advice, 0 when there is nothing to say (out is then "").
 */
int blas_core_advice(const char *core, blas_isa_t isa, const char *coretype, char *out, size_t len);
/* blas_core_advice for this process: its OpenBLAS core, its CPU and
 * OPENBLAS_CORETYPE as set; 1 when advice was written. */
int blas_core_advice_here(char *out, size_t len);
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
