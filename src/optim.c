/* optim.c - see optim.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "optim.h"

/*
 * See optim.h for the contract. The moments start at 0 (calloc): a fresh
 * optimizer is the state optim_reset gives; SGD has no second moment (v is
 * NULL). o owns m and v; on failure both are freed and o is left empty.
 */
int optim_create(optim_t *o, int kind, size_t n, float lr, float momentum, float beta1,
                 float beta2, float eps)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->lr = lr;
    o->momentum = momentum;
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    o->n = n;
    o->m = ts_calloc(n, sizeof(float));
    o->v = kind == OPT_ADAM ? ts_calloc(n, sizeof(float)) : NULL;
    if (!o->m || (kind == OPT_ADAM && !o->v)) {
        optim_free(o);
        return TS_ERUN;
    }
    return 0;
}

void optim_reset(optim_t *o)
{
    o->t = 0;
    memset(o->m, 0, o->n * sizeof(float));
    if (o->v)
        memset(o->v, 0, o->n * sizeof(float));
}

/*
 * The Adam pass. Each parameter costs one square root and one division and
 * the pass streams five blocks of n floats (w, g, m, v, mask) and writes
 * three back: it is bound by memory and by the divider, so it has to run in
 * vector registers. Every kernel below performs the same IEEE operations in
 * the same order as adam_scalar (multiplications and additions are never
 * fused: the Makefile's NUM_CFLAGS give -ffp-contract=off, and the intrinsics are
 * plain mul/add), so the result is bit for bit the same whichever runs.
 * Auto-vectorisation cannot be relied on: sqrtf may set errno, and GCC keeps
 * such loops scalar unless -fno-math-errno is given (that loop ran 8x slower).
 * The kernel is picked at run time, so one binary is right on any x86-64.
 *
 * A gradient is written back only where the mask is not 1 (g * 1 == g), so
 * the dense parts of the gradient block are never dirtied.
 */
typedef struct {
    float b1, c1;       /* beta1, 1 - beta1 */
    float b2, c2;       /* beta2, 1 - beta2 */
    float step;         /* lr / (1 - beta1^t) */
    float inv_sqrt_bc2; /* 1 / sqrt(1 - beta2^t) */
    float eps;
} adam_coef_t;

/* Elements [i, n): the reference formula; also the tail of the vector kernels. */
static void adam_scalar(const adam_coef_t *c, float *restrict w, float *restrict g,
                        float *restrict m, float *restrict v, const float *restrict mask,
                        size_t i, size_t n)
{
    for (; i < n; i++) {
        float k = mask[i];
        float gi = g[i] * k;
        float mi = c->b1 * m[i] + c->c1 * gi;
        float vi = c->b2 * v[i] + c->c2 * gi * gi;
        m[i] = mi * k;
        v[i] = vi * k;
        if (k != 1.0f)
            g[i] = gi;
        w[i] = (w[i] - c->step * mi / (sqrtf(vi) * c->inv_sqrt_bc2 + c->eps)) * k;
    }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* 8 lanes (AVX); returns how many elements it did (a multiple of 8). */
__attribute__((target("avx"))) static size_t adam_avx(const adam_coef_t *c, float *restrict w,
                                                     float *restrict g, float *restrict m,
                                                     float *restrict v,
                                                     const float *restrict mask, size_t n)
{
    const __m256 b1 = _mm256_set1_ps(c->b1), c1 = _mm256_set1_ps(c->c1);
    const __m256 b2 = _mm256_set1_ps(c->b2), c2 = _mm256_set1_ps(c->c2);
    const __m256 step = _mm256_set1_ps(c->step), isb = _mm256_set1_ps(c->inv_sqrt_bc2);
    const __m256 eps = _mm256_set1_ps(c->eps), one = _mm256_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 k = _mm256_loadu_ps(mask + i);
        __m256 gi = _mm256_mul_ps(_mm256_loadu_ps(g + i), k);
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(c1, gi));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)),
                                  _mm256_mul_ps(_mm256_mul_ps(c2, gi), gi));
        __m256 den = _mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(vi), isb), eps);
        __m256 wi = _mm256_sub_ps(_mm256_loadu_ps(w + i),
                                  _mm256_div_ps(_mm256_mul_ps(step, mi), den));
        _mm256_storeu_ps(m + i, _mm256_mul_ps(mi, k));
        _mm256_storeu_ps(v + i, _mm256_mul_ps(vi, k));
        _mm256_storeu_ps(w + i, _mm256_mul_ps(wi, k));
        if (_mm256_movemask_ps(_mm256_cmp_ps(k, one, _CMP_NEQ_UQ)))
            _mm256_storeu_ps(g + i, gi);
    }
    return i;
}

/* 16 lanes (AVX-512F); as adam_avx. Even where a 512-bit operation runs as
 * two 256-bit halves (AMD Zen 4) it is faster than adam_avx: half the loads,
 * stores and loop overhead per element, and a native masked compare. */
__attribute__((target("avx512f"))) static size_t adam_avx512(const adam_coef_t *c, float *restrict w,
                                                     float *restrict g, float *restrict m,
                                                     float *restrict v,
                                                     const float *restrict mask, size_t n)
{
    const __m512 b1 = _mm512_set1_ps(c->b1), c1 = _mm512_set1_ps(c->c1);
    const __m512 b2 = _mm512_set1_ps(c->b2), c2 = _mm512_set1_ps(c->c2);
    const __m512 step = _mm512_set1_ps(c->step), isb = _mm512_set1_ps(c->inv_sqrt_bc2);
    const __m512 eps = _mm512_set1_ps(c->eps), one = _mm512_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 k = _mm512_loadu_ps(mask + i);
        __m512 gi = _mm512_mul_ps(_mm512_loadu_ps(g + i), k);
        __m512 mi = _mm512_add_ps(_mm512_mul_ps(b1, _mm512_loadu_ps(m + i)), _mm512_mul_ps(c1, gi));
        __m512 vi = _mm512_add_ps(_mm512_mul_ps(b2, _mm512_loadu_ps(v + i)),
                                  _mm512_mul_ps(_mm512_mul_ps(c2, gi), gi));
        __m512 den = _mm512_add_ps(_mm512_mul_ps(_mm512_sqrt_ps(vi), isb), eps);
        __m512 wi = _mm512_sub_ps(_mm512_loadu_ps(w + i),
                                  _mm512_div_ps(_mm512_mul_ps(step, mi), den));
        _mm512_storeu_ps(m + i, _mm512_mul_ps(mi, k));
        _mm512_storeu_ps(v + i, _mm512_mul_ps(vi, k));
        _mm512_storeu_ps(w + i, _mm512_mul_ps(wi, k));
        __mmask16 pruned = _mm512_cmp_ps_mask(k, one, _CMP_NEQ_UQ);
        if (pruned)
            _mm512_storeu_ps(g + i, gi);
    }
    return i;
}

/* 4 lanes (SSE2, every x86-64); as adam_avx. */
static size_t adam_sse2(const adam_coef_t *c, float *restrict w, float *restrict g,
                        float *restrict m, float *restrict v, const float *restrict mask,
                        size_t n)
{
    const __m128 b1 = _mm_set1_ps(c->b1), c1 = _mm_set1_ps(c->c1);
    const __m128 b2 = _mm_set1_ps(c->b2), c2 = _mm_set1_ps(c->c2);
    const __m128 step = _mm_set1_ps(c->step), isb = _mm_set1_ps(c->inv_sqrt_bc2);
    const __m128 eps = _mm_set1_ps(c->eps), one = _mm_set1_ps(1.0f);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m128 k = _mm_loadu_ps(mask + i);
        __m128 gi = _mm_mul_ps(_mm_loadu_ps(g + i), k);
        __m128 mi = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(m + i)), _mm_mul_ps(c1, gi));
        __m128 vi = _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(v + i)), _mm_mul_ps(_mm_mul_ps(c2, gi), gi));
        __m128 den = _mm_add_ps(_mm_mul_ps(_mm_sqrt_ps(vi), isb), eps);
        __m128 wi = _mm_sub_ps(_mm_loadu_ps(w + i), _mm_div_ps(_mm_mul_ps(step, mi), den));
        _mm_storeu_ps(m + i, _mm_mul_ps(mi, k));
        _mm_storeu_ps(v + i, _mm_mul_ps(vi, k));
        _mm_storeu_ps(w + i, _mm_mul_ps(wi, k));
        if (_mm_movemask_ps(_mm_cmpneq_ps(k, one)))
            _mm_storeu_ps(g + i, gi);
    }
    return i;
}
#endif

const char *optim_kernel(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f"))
        return "avx512f";
    if (__builtin_cpu_supports("avx"))
        return "avx";
    return "sse2";
#else
    return "scalar";
#endif
}

/* Adam over n parameters in place with the fastest kernel this CPU has. */
static void adam_run(const adam_coef_t *c, float *w, float *g, float *m, float *v,
                     const float *mask, size_t n)
{
    size_t done = 0;
#if defined(__x86_64__) && defined(__GNUC__)
    if (__builtin_cpu_supports("avx512f"))
        done = adam_avx512(c, w, g, m, v, mask, n);
    else if (__builtin_cpu_supports("avx"))
        done = adam_avx(c, w, g, m, v, mask, n);
    else
        done = adam_sse2(c, w, g, m, v, mask, n);
#endif
    adam_scalar(c, w, g, m, v, mask, done, n);
}

/* This step's coefficients (o->t already counts it; optim_tick computed the
 * bias corrections once for every block of the step). */
static adam_coef_t adam_coef(const optim_t *o)
{
    return (adam_coef_t){
        .b1 = o->beta1, .c1 = 1 - o->beta1, .b2 = o->beta2, .c2 = 1 - o->beta2,
        .step = o->step, .inv_sqrt_bc2 = o->inv_sqrt_bc2, .eps = o->eps,
    };
}

/* SGD with momentum over n parameters in place (buf: the momentum buffer). */
static void sgd_run(const optim_t *o, float *restrict w, float *restrict g,
                    float *restrict buf, const float *restrict mask, size_t n)
{
    const float mu = o->momentum, lr = o->lr;
    for (size_t i = 0; i < n; i++) {
        float k = mask[i];
        float gi = g[i] * k;
        /* PyTorch's first step sets buf = g, which equals mu * 0 + g */
        float bi = mu * buf[i] + gi;
        buf[i] = bi * k;
        g[i] = gi;
        w[i] = (w[i] - lr * bi) * k;
    }
}

void optim_tick(optim_t *o)
{
    o->t++;
    /* PyTorch: w -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps) */
    o->step = (float)(o->lr / (1.0 - pow(o->beta1, (double)o->t)));
    o->inv_sqrt_bc2 = (float)(1.0 / sqrt(1.0 - pow(o->beta2, (double)o->t)));
}

/* Where the caller gives no mask, every entry is 1: runs of this many ones
 * (mask 1 changes no bit: g * 1 == g, x * 1 == x). */
#define ONES 256
static const float ones[ONES] = {[0 ... ONES - 1] = 1.0f};

void optim_update(optim_t *o, float *w, float *g, const float *mask, size_t off, size_t n)
{
    adam_coef_t c = adam_coef(o);
    for (size_t i = 0; i < n;) {
        size_t len = mask ? n : (n - i < ONES ? n - i : ONES);
        const float *k = mask ? mask : ones;
        if (o->kind == OPT_ADAM)
            adam_run(&c, w + i, g + i, o->m + off + i, o->v + off + i, k, len);
        else
            sgd_run(o, w + i, g + i, o->m + off + i, k, len);
        i += len;
    }
}

void optim_step(optim_t *o, float *params, float *grads, const float *mask)
{
    optim_tick(o);
    optim_update(o, params, grads, mask, 0, o->n);
}

void optim_free(optim_t *o)
{
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}
