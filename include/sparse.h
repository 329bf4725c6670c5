/*
 * sparse.h - the products of a thin fully connected layer over its surviving
 * weights only.
 *
 * A pruned layer keeps its mask for a whole training, so its surviving
 * positions are indexed once (sparse_build, a CSR index of the mask) and the
 * three products of a step run over them:
 *   forward         z[o] = bias[o] + sum over survivors (o, i) of w[o][i] * a[i]
 *   input gradient  da[i] = sum over survivors (o, i) of w[o][i] * dz[o]
 *   weight gradient dw[o][i] = sum over the batch of dz[o] * a[i], at survivors only
 * While a layer is sparse its surviving weights and their gradients live in
 * compact arrays in index order (val, grad: streamed by the kernels and the
 * optimizer, never gathered from a dense block that may not fit in any
 * cache); sparse_scatter writes them back into the dense [out][in] blocks.
 *
 * Batches are processed in tiles of SPARSE_TILE examples, transposed so that
 * one feature of every example of the tile is one contiguous row of
 * SPARSE_TILE floats ("at" [n][SPARSE_TILE]): every survivor then costs a few
 * vector multiply-adds on whole rows. Rows beyond the tile's examples are 0.
 * Sums run in a fixed order (survivors in index order; the batch in lanes of
 * 16 added in a fixed tree), multiplications and additions are never fused,
 * and the kernels are compiled for several instruction sets and picked at run
 * time with the same operations on every path: the bits are the same whatever
 * the CPU's vector width, and an example's outputs do not depend on which
 * tile or batch it is in.
 *
 * Pure functions over caller-owned buffers, except sparse_build (which owns
 * the index it allocates; sparse_free releases it).
 */
#ifndef TS_SPARSE_H
#define TS_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#define SPARSE_TILE 64 /* examples per tile: the lanes of a transposed row */

#define SPARSE_BLOCK 64 /* inputs per column block: their tile rows (16 KB) stay in L1 */

/*
 * The survivors in column blocks: block c holds inputs [c * SPARSE_BLOCK,
 * (c + 1) * SPARSE_BLOCK), and within it row by row, inputs increasing. A
 * product visits block after block, so the tile rows it reads or writes stay
 * in the L1 cache while every output row passes; within an output or input
 * row, terms are still added in increasing index order.
 */
typedef struct {
    int out, in;      /* the layer's shape: weights [out][in] */
    int nblk;         /* column blocks: ceil(in / SPARSE_BLOCK) */
    size_t nnz;       /* surviving weights */
    int32_t *ptr;     /* [nblk * out + 1]: block c, row o: col[ptr[c * out + o] .. ptr[c * out + o + 1]) */
    int32_t *col;     /* [nnz]: input indices */
    float *val;       /* [nnz]: the surviving weights, in index order */
    float *grad;      /* [nnz]: their gradients (sparse_weight_grad) */
    size_t ptr_cap, cap; /* entries ptr and col (val, grad) can hold */
} sparse_csr_t;

/* Index the non-zero entries of mask [out][in] into s (reusing its arrays
 * when they are big enough) and copy those entries of w [out][in] into
 * s->val. Returns 0 or TS_ERUN (out of memory; s is left empty and
 * sparse_free is still safe). */
int sparse_build(sparse_csr_t *s, const float *mask, const float *w, int out, int in);
void sparse_free(sparse_csr_t *s);
/* dst [out][in] at the survivors = src [nnz] (index order); other entries untouched. */
void sparse_scatter(const sparse_csr_t *s, const float *src, float *dst);

/* A zeroed block of n floats for tiles, aligned to 64 bytes, so that every
 * tile row ([SPARSE_TILE] floats, 256 bytes) starts a cache line and no
 * vector load of the kernels straddles two lines (unaligned tiles made every
 * product about 1.4x slower). The caller owns it: free() releases it. NULL
 * (with ts_errmsg set) when out of memory. */
float *sparse_tile_alloc(size_t n);
/* a [rows][n] -> at [n][SPARSE_TILE], zero beyond `rows` (rows <= SPARSE_TILE). */
void sparse_to_tile(const float *a, int rows, int n, float *at);
/* zt [n][SPARSE_TILE] -> z [rows][n]: the first `rows` lanes. */
void sparse_from_tile(const float *zt, int rows, int n, float *z);

/* zt [n][TILE]: negative entries to 0 when relu (ReLU, as a row-major pass
 * would do it: z > 0 ? z : 0), and lanes `rows` and beyond to 0 (so an
 * output tile is the next layer's input tile, what sparse_to_tile of the
 * outputs would have made). */
void sparse_relu_tile(float *zt, int rows, int n, int relu);
/* zt [out][TILE] = bias[o] + the survivors' (s->val) products with at [in][TILE]. */
void sparse_forward(const sparse_csr_t *s, const float *bias, const float *at, float *zt);
/* dat [in][TILE] = the survivors' products of w^T with dzt [out][TILE]. */
void sparse_input_grad(const sparse_csr_t *s, const float *dzt, float *dat);
/* s->grad = (accumulate ? s->grad : 0) + the tile's dot products of dzt's
 * row o and at's row i, for each survivor (o, i). */
void sparse_weight_grad(sparse_csr_t *s, const float *dzt, const float *at, int accumulate);
/* The same products in parts that threads may run at once, each writing
 * only its own part, with every entry's bits those of the whole call:
 * sparse_forward's output rows [o0, o1); sparse_input_grad's inputs of
 * column blocks [c0, c1) (its rows of dat); sparse_weight_grad's survivors
 * in column blocks [c0, c1) (their entries of s->grad, a range). */
void sparse_forward_rows(const sparse_csr_t *s, const float *bias, const float *at, float *zt,
                         int o0, int o1);
void sparse_input_grad_blocks(const sparse_csr_t *s, const float *dzt, float *dat, int c0, int c1);
void sparse_weight_grad_blocks(sparse_csr_t *s, const float *dzt, const float *at, int accumulate,
                               int c0, int c1);

#endif
