/*
 * sparse.c - products of thin fully connected layers (see sparse.h).
 *
 * Every kernel's inner loop runs over the SPARSE_TILE lanes of a transposed
 * row, a fixed trip count the compiler turns into whole vector operations.
 * The hot kernels are built for AVX-512, AVX2 and plain x86-64 (SSE2) and the
 * loader picks one for the CPU (GCC's target_clones); the Makefile compiles
 * with -ffp-contract=off after any CFLAGS (NUM_CFLAGS), so no clone fuses a
 * multiply and an add and all give the same bits. The weight gradient's dot products add the tile in 16 lanes and
 * the lanes in a fixed tree, not in whatever order a vectoriser would choose.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "sparse.h"

#define T SPARSE_TILE

/* The vector helpers below are static inline: no call crosses an ABI
 * boundary, so GCC's note that AVX-512 vectors are passed differently
 * without AVX-512 does not apply. */
#pragma GCC diagnostic ignored "-Wpsabi"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define SPARSE_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SPARSE_CLONES
#endif

int sparse_build(sparse_csr_t *s, const float *mask, const float *w, int out, int in)
{
    size_t nnz = 0, n = (size_t)out * in;
    int nblk = (in + SPARSE_BLOCK - 1) / SPARSE_BLOCK;
    size_t nptr = (size_t)nblk * out + 1;
    for (size_t i = 0; i < n; i++)
        nnz += mask[i] != 0;
    if (nptr > s->ptr_cap || !s->ptr) {
        free(s->ptr);
        s->ptr = ts_calloc(nptr, sizeof(int32_t));
        s->ptr_cap = nptr;
    }
    if (nnz > s->cap || !s->col) {
        free(s->col), free(s->val), free(s->grad);
        s->col = ts_calloc(nnz ? nnz : 1, sizeof(int32_t));
        s->val = ts_calloc(nnz ? nnz : 1, sizeof(float));
        s->grad = ts_calloc(nnz ? nnz : 1, sizeof(float));
        s->cap = nnz;
    }
    if (!s->ptr || !s->col || !s->val || !s->grad) {
        sparse_free(s);
        return TS_ERUN;
    }
    s->out = out, s->in = in, s->nblk = nblk, s->nnz = nnz;
    size_t k = 0;
    for (int c = 0; c < nblk; c++) {
        int lo = c * SPARSE_BLOCK, hi = lo + SPARSE_BLOCK < in ? lo + SPARSE_BLOCK : in;
        for (int o = 0; o < out; o++) {
            s->ptr[(size_t)c * out + o] = (int32_t)k;
            const float *m = mask + (size_t)o * in;
            for (int i = lo; i < hi; i++)
                if (m[i] != 0) {
                    s->val[k] = w[(size_t)o * in + i];
                    s->grad[k] = 0;
                    s->col[k++] = i;
                }
        }
    }
    s->ptr[(size_t)nblk * out] = (int32_t)k;
    return 0;
}

float *sparse_tile_alloc(size_t n)
{
    size_t bytes = ((n ? n : 1) * sizeof(float) + 63) & ~(size_t)63; /* aligned_alloc: a multiple */
    float *p = aligned_alloc(64, bytes);
    if (!p) {
        ts_fail(TS_ERUN, "out of memory allocating %zu bytes of tiles", bytes);
        return NULL;
    }
    memset(p, 0, bytes);
    return p;
}

void sparse_free(sparse_csr_t *s)
{
    free(s->ptr);
    free(s->col);
    free(s->val);
    free(s->grad);
    memset(s, 0, sizeof *s);
}

void sparse_scatter(const sparse_csr_t *s, const float *src, float *dst)
{
    for (int c = 0; c < s->nblk; c++)
        for (int o = 0; o < s->out; o++) {
            const int32_t *p = s->ptr + (size_t)c * s->out + o;
            float *row = dst + (size_t)o * s->in;
            for (int32_t k = p[0]; k < p[1]; k++)
                row[s->col[k]] = src[k];
        }
}

/* 16 lanes in GCC's generic vectors: one zmm register in the AVX-512 clone,
 * two ymm in the AVX2 one, four xmm in the default one; lane i is lane i on
 * every path. Unaligned (a tile row is 4-byte aligned only). */
typedef float v16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t i16v __attribute__((vector_size(64)));
#define NV (T / 16) /* vectors in a tile row */

/* Lane i of the result: lane m[i] of a, or of b for m[i] >= 16. GCC's
 * __builtin_shuffle; elsewhere (clang builds the fuzz harnesses) the same
 * moves lane by lane. */
#if defined(__GNUC__) && !defined(__clang__)
#define shuffle1(a, m) __builtin_shuffle(a, m)
#define shuffle2(a, b, m) __builtin_shuffle(a, b, m)
#else
static inline v16 shuffle2(v16 a, v16 b, i16v m)
{
    v16 r;
    for (int i = 0; i < 16; i++)
        r[i] = m[i] < 16 ? a[m[i]] : b[m[i] - 16];
    return r;
}
#define shuffle1(a, m) shuffle2(a, a, m)
#endif

static inline v16 ld(const float *p)
{
    return *(const v16 *)p;
}

static inline void st(float *p, v16 v)
{
    *(v16 *)p = v;
}

/*
 * r[0..15] := its transpose, in four butterfly stages: at distance h, rows i
 * and i + h (bit h of i clear) swap their off-diagonal h x h blocks. Moves
 * bits only, so no path can change a value.
 */
static inline void transpose16(v16 r[16])
{
    static const i16v lo[4] = {
        {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23},
        {0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27},
        {0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29},
        {0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30},
    };
    static const i16v hi[4] = {
        {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31},
        {4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31},
        {2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31},
        {1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31},
    };
#pragma GCC unroll 4
    for (int s = 0; s < 4; s++)
#pragma GCC unroll 16
        for (int i = 0; i < 16; i++)
            if (!(i & (8 >> s))) {
                const int h = 8 >> s;
                v16 a = r[i], b = r[i + h];
                r[i] = shuffle2(a, b, lo[s]);
                r[i + h] = shuffle2(a, b, hi[s]);
            }
}

SPARSE_CLONES
void sparse_to_tile(const float *a, int rows, int n, float *at)
{
    int n16 = n & ~15;
    for (int r0 = 0; r0 < T; r0 += 16)
        for (int i0 = 0; i0 < n16; i0 += 16) {
            v16 blk[16];
            for (int r = 0; r < 16; r++)
                blk[r] = r0 + r < rows ? ld(a + (size_t)(r0 + r) * n + i0) : (v16){0};
            transpose16(blk);
            for (int c = 0; c < 16; c++)
                st(at + (size_t)(i0 + c) * T + r0, blk[c]);
        }
    for (int i = n16; i < n; i++) { /* the last columns, one at a time */
        float *dst = at + (size_t)i * T;
        for (int r = 0; r < T; r++)
            dst[r] = r < rows ? a[(size_t)r * n + i] : 0;
    }
}

SPARSE_CLONES
void sparse_from_tile(const float *zt, int rows, int n, float *z)
{
    int n16 = n & ~15;
    for (int r0 = 0; r0 < rows; r0 += 16)
        for (int i0 = 0; i0 < n16; i0 += 16) {
            v16 blk[16];
            for (int c = 0; c < 16; c++)
                blk[c] = ld(zt + (size_t)(i0 + c) * T + r0);
            transpose16(blk);
            for (int r = 0; r < 16 && r0 + r < rows; r++)
                st(z + (size_t)(r0 + r) * n + i0, blk[r]);
        }
    for (int r = 0; r < rows; r++)
        for (int i = n16; i < n; i++)
            z[(size_t)r * n + i] = zt[(size_t)i * T + r];
}

SPARSE_CLONES
void sparse_relu_tile(float *zt, int rows, int n, int relu)
{
    i16v keep[NV]; /* all ones in the lanes of the tile's rows */
    for (int q = 0; q < NV; q++)
        for (int j = 0; j < 16; j++)
            keep[q][j] = 16 * q + j < rows ? -1 : 0;
    const v16 zero = {0};
    for (int o = 0; o < n; o++)
        for (int q = 0; q < NV; q++) {
            float *p = zt + (size_t)o * T + 16 * q;
            v16 z = ld(p);
            i16v k = relu ? keep[q] & (z > zero) : keep[q]; /* NaN > 0 is false: 0, as in rows */
            st(p, (v16)((i16v)z & k));
        }
}

SPARSE_CLONES
void sparse_forward_rows(const sparse_csr_t *s, const float *bias, const float *at, float *zt,
                         int o0, int o1)
{
    for (int o = o0; o < o1; o++)
        for (int q = 0; q < NV; q++)
            st(zt + (size_t)o * T + 16 * q, (v16){0} + bias[o]);
    for (int c = 0; c < s->nblk; c++)
        for (int o = o0; o < o1; o++) {
            const int32_t *p = s->ptr + (size_t)c * s->out + o;
            if (p[0] == p[1])
                continue;
            float *z = zt + (size_t)o * T;
            v16 acc[NV];
            for (int q = 0; q < NV; q++)
                acc[q] = ld(z + 16 * q);
            for (int32_t k = p[0]; k < p[1]; k++) {
                const float v = s->val[k];
                const float *x = at + (size_t)s->col[k] * T;
                for (int q = 0; q < NV; q++)
                    acc[q] += v * ld(x + 16 * q);
            }
            for (int q = 0; q < NV; q++)
                st(z + 16 * q, acc[q]);
        }
}

void sparse_forward(const sparse_csr_t *s, const float *bias, const float *at, float *zt)
{
    sparse_forward_rows(s, bias, at, zt, 0, s->out);
}

SPARSE_CLONES
void sparse_input_grad_blocks(const sparse_csr_t *s, const float *dzt, float *dat, int c0, int c1)
{
    int i0 = c0 * SPARSE_BLOCK, i1 = c1 * SPARSE_BLOCK < s->in ? c1 * SPARSE_BLOCK : s->in;
    if (i1 > i0)
        memset(dat + (size_t)i0 * T, 0, (size_t)(i1 - i0) * T * sizeof(float));
    for (int c = c0; c < c1; c++)
        for (int o = 0; o < s->out; o++) {
            const int32_t *p = s->ptr + (size_t)c * s->out + o;
            if (p[0] == p[1])
                continue;
            v16 d[NV];
            for (int q = 0; q < NV; q++)
                d[q] = ld(dzt + (size_t)o * T + 16 * q);
            for (int32_t k = p[0]; k < p[1]; k++) {
                const float v = s->val[k];
                float *y = dat + (size_t)s->col[k] * T;
                for (int q = 0; q < NV; q++)
                    st(y + 16 * q, ld(y + 16 * q) + v * d[q]);
            }
        }
}

void sparse_input_grad(const sparse_csr_t *s, const float *dzt, float *dat)
{
    sparse_input_grad_blocks(s, dzt, dat, 0, s->nblk);
}

/*
 * Lane j of the result: the sum of the 16 lanes of p[j] in the fixed tree,
 * lanes l and l + h added (in that order) for h = 8, 4, 2, 1:
 *   (((x0 + x8) + (x4 + x12)) + ((x2 + x10) + (x6 + x14)))
 *     + (((x1 + x9) + (x5 + x13)) + ((x3 + x11) + (x7 + x15)))
 * Sixteen sums at once: each stage pairs vectors and packs the two halves'
 * partial sums of both into one vector, 30 shuffles and 15 additions in all
 * (a shuffle-and-add tree per vector took 64 and 64).
 */
static inline v16 tree_sum16(v16 p[16])
{
    static const i16v lo8 = {0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23};
    static const i16v hi8 = {8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31};
    static const i16v lo4 = {0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27};
    static const i16v hi4 = {4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31};
    static const i16v lo2 = {0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29};
    static const i16v hi2 = {2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31};
    static const i16v lo1 = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
    static const i16v hi1 = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
    v16 u[8], w[4], y[2];
    for (int m = 0; m < 8; m++) /* u[m]: sums 2m, 2m + 1, eight lanes each */
        u[m] = shuffle2(p[2 * m], p[2 * m + 1], lo8) + shuffle2(p[2 * m], p[2 * m + 1], hi8);
    for (int m = 0; m < 4; m++) /* w[m]: sums 4m .. 4m + 3, four lanes each */
        w[m] = shuffle2(u[2 * m], u[2 * m + 1], lo4) + shuffle2(u[2 * m], u[2 * m + 1], hi4);
    for (int m = 0; m < 2; m++) /* y[m]: sums 8m .. 8m + 7, two lanes each */
        y[m] = shuffle2(w[2 * m], w[2 * m + 1], lo2) + shuffle2(w[2 * m], w[2 * m + 1], hi2);
    return shuffle2(y[0], y[1], lo1) + shuffle2(y[0], y[1], hi1);
}

/* grad[k0 .. k0 + n) = (accumulate ? grad : 0) + the sums of lane vectors p[0 .. n). */
static inline void grad_flush(float *grad, v16 p[16], int n, int accumulate)
{
    for (int j = n; j < 16; j++)
        p[j] = (v16){0};
    v16 r = tree_sum16(p);
    if (n == 16) {
        st(grad, accumulate ? ld(grad) + r : r);
        return;
    }
    for (int j = 0; j < n; j++)
        grad[j] = accumulate ? grad[j] + r[j] : r[j];
}

/*
 * Survivors come in index order, block after block, so their gradients are
 * grad[0 .. nnz) in turn: the lane vectors of 16 consecutive survivors
 * (whatever rows they are in) are summed together by tree_sum16 and stored
 * as one vector.
 */
SPARSE_CLONES
void sparse_weight_grad_blocks(sparse_csr_t *s, const float *dzt, const float *at, int accumulate,
                               int c0, int c1)
{
    v16 pend[16];
    int np = 0;
    float *grad = s->grad + s->ptr[(size_t)c0 * s->out];
    for (int c = c0; c < c1; c++)
        for (int o = 0; o < s->out; o++) {
            const int32_t *p = s->ptr + (size_t)c * s->out + o;
            if (p[0] == p[1])
                continue;
            v16 d[NV];
            for (int q = 0; q < NV; q++)
                d[q] = ld(dzt + (size_t)o * T + 16 * q);
            for (int32_t k = p[0]; k < p[1]; k++) {
                const float *x = at + (size_t)s->col[k] * T;
                v16 lane = d[0] * ld(x);
                for (int q = 1; q < NV; q++)
                    lane += d[q] * ld(x + 16 * q);
                pend[np++] = lane;
                if (np == 16) {
                    grad_flush(grad, pend, 16, accumulate);
                    grad += 16;
                    np = 0;
                }
            }
        }
    if (np)
        grad_flush(grad, pend, np, accumulate);
}

void sparse_weight_grad(sparse_csr_t *s, const float *dzt, const float *at, int accumulate)
{
    sparse_weight_grad_blocks(s, dzt, at, accumulate, 0, s->nblk);
}
