/* blas.c - see blas.h. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include <cblas.h>

#include "blas.h"

void blas_init(void)
{
    openblas_set_num_threads(1);
}

const char *blas_version(void)
{
    return openblas_get_config();
}

const char *blas_core(void)
{
    return openblas_get_corename();
}

blas_isa_t blas_cpu_isa(void)
{
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
    __builtin_cpu_init();
    /* what OpenBLAS's Cooperlake, SkylakeX and Haswell kernels use */
    bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                  __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    if (avx512 && __builtin_cpu_supports("avx512bf16"))
        return BLAS_ISA_AVX512_BF16;
    if (avx512)
        return BLAS_ISA_AVX512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return BLAS_ISA_AVX2;
#endif
    return BLAS_ISA_OLDER;
}

const char *blas_isa_name(blas_isa_t isa)
{
    switch (isa) {
    case BLAS_ISA_AVX2:
        return "AVX2";
    case BLAS_ISA_AVX512:
        return "AVX-512";
    case BLAS_ISA_AVX512_BF16:
        return "AVX-512 with BF16";
    default:
        return "no AVX2";
    }
}

bool blas_core_generic(const char *core)
{
    /* OpenBLAS's x86 core names (driver/others/dynamic.c, corename[]) whose
     * kernels predate AVX; "generic" is a TARGET=GENERIC build's */
    static const char *const generic[] = {
        "Unknown",  "generic", "Prescott", "Katmai",  "Coppermine", "Northwood",
        "Banias",   "Athlon",  "Atom",     "Core2",   "Penryn",     "Dunnington",
        "Nehalem",  "Opteron", "Opteron_SSE3", "Opteron(SSE3)", "Barcelona", "Nano",
        "Bobcat",
    };
    if (!core || !core[0])
        return false;
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        if (!strcasecmp(core, generic[i]))
            return true;
    return false;
}

const char *blas_core_remedy(const char *core, blas_isa_t isa)
{
    if (!blas_core_generic(core))
        return NULL;
    switch (isa) {
    case BLAS_ISA_AVX2:
        return "Haswell";
    case BLAS_ISA_AVX512:
        return "SkylakeX";
    case BLAS_ISA_AVX512_BF16:
        return "Cooperlake";
    default:
        return NULL;
    }
}

int blas_core_advice(const char *core, blas_isa_t isa, const char *coretype, char *out, size_t len)
{
    const char *remedy = blas_core_remedy(core, isa);
    if (len)
        out[0] = 0;
    if (!remedy)
        return 0;
    char why[160];
    if (coretype && coretype[0])
        snprintf(why, sizeof why, "OPENBLAS_CORETYPE=%.60s asks for them", coretype);
    else
        snprintf(why, sizeof why, "OpenBLAS did not recognise the CPU's model");
    snprintf(out, len,
             "OpenBLAS's generic '%s' kernels on a CPU with %s (%s), dense trainings 2-3x slower than "
             "on the CPU's own: export OPENBLAS_CORETYPE=%s for every rank (mpirun -x OPENBLAS_CORETYPE "
             "across hosts); the results' bits depend on the core type, so set it when a sweep starts "
             "and keep it for all its resumes (docs/cluster.md, \"Numerics: pinning the BLAS kernels\")",
             core, blas_isa_name(isa), why, remedy);
    return 1;
}

int blas_core_advice_here(char *out, size_t len)
{
    return blas_core_advice(blas_core(), blas_cpu_isa(), getenv("OPENBLAS_CORETYPE"), out, len);
}

void blas_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha, const float *a,
                int lda, const float *b, int ldb, float beta, float *c, int ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void blas_sgemm_naive(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                      const float *a, int lda, const float *b, int ldb, float beta, float *c,
                      int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                float x = trans_a ? a[p * lda + i] : a[i * lda + p];
                float y = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                s += (double)x * y;
            }
            c[i * ldc + j] = alpha * (float)s + (beta == 0 ? 0 : beta * c[i * ldc + j]);
        }
}
