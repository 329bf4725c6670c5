/*
 * net_pass.c - a training step's passes over the model (net.h): forward,
 * loss, backward and the optimizer's step, each stage split over the
 * training's threads in pieces fixed by the layer's shape (so the bits do
 * not depend on the threads). The model itself (its layer table, blocks,
 * buffers and kernels) is net.c's.
 *
 * Fully connected layer, forward: Z = A W^T + b, done as "copy b into every
 * row of Z, then sgemm with beta = 1" (the bias rides in the product's own
 * pass over Z), then ReLU in place. Backward: dW = dZ^T A, dA = dZ W; then
 * one pass over dA turns it into dZ of the layer below (zero where that
 * activation was not positive) and sums its columns into that layer's bias
 * gradient. Convolutions, pools and dropout go through conv.c; every matrix
 * product goes through blas_sgemm.
 *
 * Nothing here allocates: every buffer was sized by net_create.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "conv.h"
#include "err.h"
#include "net.h"
#include "par.h"

#define FC_BLOCKS NET_FC_BLOCKS /* a dense product's column blocks: up to this many ... */
#define FC_MIN_BLOCK 16         /* ... of at least this many columns on average ... */
#define FC_ROUND 4              /* ... starting at multiples of this many (sgemm's unroll) */

/* The elements a thread takes at once in element-wise passes: a multiple of
 * every vector width, large enough that a thread's start costs nothing. */
#define PAR_GRAIN 16384

/* Threads for `pieces` pieces of `work` in all: no more than the pieces, and
 * at least par_min_work() each (par.h). */
static int threads_for_work(long pieces, double work)
{
    double fit = par_min_work() > 0 ? work / par_min_work() : (double)pieces; /* par.h */
    long t = par_threads();
    if (t > pieces)
        t = pieces;
    if (t > fit)
        t = (long)fit;
    return t > 1 ? (int)t : 1;
}

/* An Adam update's cost per element in multiply-adds (two moments, a square
 * root, a division: about 8), so LeNet-300-100's 266,000 weights get threads. */
#define ADAM_WORK 8

/* optim_update over n elements, split between the threads (element-wise:
 * the same bits however split). */
static void par_update(optim_t *o, float *w, float *g, const float *mask, size_t off, size_t n)
{
    long pieces = (long)((n + PAR_GRAIN - 1) / PAR_GRAIN);
    int nth = threads_for_work(pieces, (double)n * ADAM_WORK);
#pragma omp parallel for num_threads(nth) if (nth > 1) schedule(static)
    for (long p = 0; p < pieces; p++) {
        size_t i = (size_t)p * PAR_GRAIN, len = n - i < PAR_GRAIN ? n - i : PAR_GRAIN;
        optim_update(o, w + i, g + i, mask ? mask + i : NULL, off + i, len);
    }
}

void net_step(net_t *n, optim_t *o)
{
    int any = 0;
    for (int l = 0; l < n->n_layers; l++)
        any |= n->layers[l].sparse;
    optim_tick(o);
    if (!any) {
        par_update(o, n->params, n->grads, n->mask, 0, n->n_params);
        return;
    }
    for (int l = 0; l < n->n_layers; l++) {
        net_layer_t *L = &n->layers[l];
        if (!net_has_params(L))
            continue;
        if (L->sparse) /* the survivors' moments: the first nnz of the layer's */
            par_update(o, L->csr.val, L->csr.grad, NULL, L->w_off, L->csr.nnz);
        else
            par_update(o, n->params + L->w_off, n->grads + L->w_off, n->mask + L->w_off,
                       L->w_off, L->n_w);
    }
    size_t nb = n->n_params - n->n_weights; /* the biases, after all weights */
    par_update(o, n->params + n->n_weights, n->grads + n->n_weights, n->mask + n->n_weights,
               n->n_weights, nb);
}

/* The column blocks of a fully connected layer's dense product, one sgemm
 * each: fixed by the layer's shape and the net's chunks, never by the
 * threads, since OpenBLAS's kernels may give other bits for other splits
 * (Haswell's do). One block, the whole layer, with chunks = 1: the products
 * of the releases before threads. Else up to FC_BLOCKS blocks of nearly
 * equal width (block j starts at cols * j / blocks rounded down to
 * FC_ROUND), so the threads' shares are even: 300 columns are 148 + 152 on
 * two threads, where blocks of one width gave 160 + 140. */
static int fc_blocks(const net_t *n, int cols)
{
    int k = cols / FC_MIN_BLOCK;
    if (n->chunks == 1 || k < 1)
        return 1;
    return k < FC_BLOCKS ? k : FC_BLOCKS;
}

/* The first column of block j of fc_blocks' `blocks` (j = blocks: cols). */
static int fc_edge(int cols, int blocks, int j)
{
    return j >= blocks ? cols : (int)((long)cols * j / blocks) / FC_ROUND * FC_ROUND;
}

/* Multiply-adds of one image through the convolutional stage (forward). */
static double stage_work(const net_t *n)
{
    double w = 0;
    for (int l = 0; l < n->stage; l++) {
        const net_layer_t *L = &n->layers[l];
        w += L->kind == NET_CONV ? (double)L->n_w * L->out_h * L->out_w : (double)L->in;
    }
    return w;
}

/* Which of conv layer L's tensors stay in oneDNN's format (DNN_X_BLOCKED,
 * DNN_Y_BLOCKED) for a chunk of b images: only chained layers, chunks of
 * the training's size. */
static int blocked(const net_t *n, const net_layer_t *L, int b)
{
    if (b != n->chunk_rows)
        return 0;
    return (L > n->layers && L[-1].chain ? DNN_X_BLOCKED : 0) | (L->chain ? DNN_Y_BLOCKED : 0);
}

/* Layer l of the convolutional stage on b images of input a into z, on
 * workspace w; pool arguments at arg (b rows). 0, or TS_ERUN only where
 * neither oneDNN nor im2col can run (never: im2col needs no memory). */
static void stage_layer_forward(net_t *n, net_ws_t *w, int l, const float *a, int b, float *z,
                                int32_t *arg)
{
    const net_layer_t *L = &n->layers[l];
    const float *wt = n->params + L->w_off, *bias = n->params + L->b_off;
    if (L->kind == NET_POOL) {
        conv_pool_forward(a, b, L->in_c, L->in_h, L->in_w, z, arg);
        return;
    }
    /* oneDNN fails only when a batch of another size (an evaluation's
     * last piece) finds no memory for its primitives: then im2col */
    if (!L->dnn || !w->prims[l] || dnn_conv_forward(w->prims[l], a, wt, bias, b, z, blocked(n, L, b)))
        conv_forward(a, wt, bias, b, L->in_c, L->out_c, L->in_h, L->in_w, w->col, z);
    if (L->relu)
        conv_relu_forward(z, (size_t)b * L->out);
}

/*
 * The convolutional stage on images [r0, r0 + b) of x (b <= chunk_rows), on
 * workspace w: the stage's layers but the last keep their outputs in rows
 * slot * chunk_rows of their buffers, the last in rows r0 of its own (the
 * fully connected layers' input). Training: slot = the chunk, r0 its first
 * image, so that the backward pass finds each chunk where it was.
 */
static void stage_forward(net_t *n, net_ws_t *w, const float *x, int r0, int b, int slot)
{
    const float *a = x + (size_t)r0 * n->layers[0].in;
    size_t row = (size_t)slot * n->chunk_rows;
    for (int l = 0; l < n->stage; l++) {
        const net_layer_t *L = &n->layers[l];
        float *z = n->acts + L->act_off + (l == n->stage - 1 ? (size_t)r0 : row) * L->out;
        stage_layer_forward(n, w, l, a, b, z, n->args + L->arg_off + row * L->out);
        a = z;
    }
}

/* A fully connected layer on b rows of input a into z (dense: sparse layers
 * go through sparse_run): z = bias + a w^T, ReLU, in column blocks. */
static void fc_forward(net_t *n, const net_layer_t *L, const float *a, int b, float *z)
{
    const float *wt = n->params + L->w_off, *bias = n->params + L->b_off;
    int cols = (int)L->out, in = (int)L->in, blocks = fc_blocks(n, cols);
    int nth = threads_for_work(blocks, (double)b * in * cols);
#pragma omp parallel for num_threads(nth) if (nth > 1) schedule(static)
    for (int j = 0; j < blocks; j++) {
        int c0 = fc_edge(cols, blocks, j), w = fc_edge(cols, blocks, j + 1) - c0;
        for (int i = 0; i < b; i++)
            memcpy(z + (size_t)i * cols + c0, bias + c0, (size_t)w * sizeof(float));
        blas_sgemm(false, true, b, w, in, 1.0f, a, in, wt + (size_t)c0 * in, in, 1.0f, z + c0, cols);
        if (L->relu)
            for (int i = 0; i < b; i++) {
                float *r = z + (size_t)i * cols + c0;
                for (int c = 0; c < w; c++)
                    r[c] = r[c] > 0 ? r[c] : 0;
            }
    }
}

/* Split [0, n) into the threads' shares of about equal size; share t is
 * [lo, hi). The sparse kernels' results do not depend on the split. */
static void share(int n, int t, int nth, int *lo, int *hi)
{
    *lo = (int)((long)n * t / nth);
    *hi = (int)((long)n * (t + 1) / nth);
}

/*
 * Sparse fully connected layers l .. m-1 on b rows of input a, tile by tile:
 * the input's tile, then each layer's output tile (ReLU and the padding
 * lanes' zeros applied in place, sparse_relu_tile) is the next layer's input
 * tile, in its place at tile_a + tile_off (where the backward pass of a
 * one-tile batch finds it), with no round trip through rows. Each layer's
 * outputs land in its rows of acts when keep (training: the backward pass
 * reads them), else only the last layer's (an evaluation needs the logits
 * or the next dense layer's input). The caller applies the last layer's
 * dropout; no other layer of the run may have one active. Each layer's
 * outputs are split between the threads by rows of the tile.
 */
/* One tile's rows [i, i + rows) of the sparse layers l .. m-1 (an
 * evaluation), on tiles ta (laid out as tile_a) and tz of the caller's:
 * only the last layer's outputs land in acts. */
static void sparse_tile_eval(net_t *n, int l, int m, const float *a, int i, int rows, float *ta, float *tz)
{
    const net_layer_t *F = &n->layers[l];
    sparse_to_tile(a + (size_t)i * F->in, rows, (int)F->in, ta + F->tile_off);
    for (int j = l; j < m; j++) {
        const net_layer_t *L = &n->layers[j];
        float *zt = j + 1 < m ? ta + n->layers[j + 1].tile_off : tz;
        sparse_forward(&L->csr, n->params + L->b_off, ta + L->tile_off, zt);
        sparse_relu_tile(zt, rows, (int)L->out, L->relu);
        if (j + 1 == m)
            sparse_from_tile(zt, rows, (int)L->out, n->acts + L->act_off + (size_t)i * L->out);
    }
}

static void sparse_run(net_t *n, int l, int m, const float *a, int b, int keep)
{
    int tiles = (b + SPARSE_TILE - 1) / SPARSE_TILE;
    if (!keep && tiles > 1 && n->tile_threads > 1) {
        /* an evaluation of several tiles: each thread whole tiles, on its own tiles */
        size_t nnz = 0;
        for (int j = l; j < m; j++)
            nnz += n->layers[j].csr.nnz;
        int nth = threads_for_work(tiles < n->tile_threads ? tiles : n->tile_threads,
                                   (double)nnz * SPARSE_TILE * tiles);
#pragma omp parallel for num_threads(nth) if (nth > 1) schedule(static)
        for (int k = 0; k < tiles; k++) {
            int t = PAR_THREAD_NUM(), i = k * SPARSE_TILE, rows = b - i < SPARSE_TILE ? b - i : SPARSE_TILE;
            sparse_tile_eval(n, l, m, a, i, rows, t ? n->ws[t].tile_a : n->tile_a, t ? n->ws[t].tile_z : n->tile_z);
        }
        return;
    }
    size_t nnz = 0;
    for (int j = l; j < m; j++)
        nnz += n->layers[j].csr.nnz;
    int nth = threads_for_work(n->layers[l].out_c, (double)nnz * SPARSE_TILE);
#pragma omp parallel num_threads(nth) if (nth > 1)
    for (int i = 0; i < b; i += SPARSE_TILE) {
        int rows = b - i < SPARSE_TILE ? b - i : SPARSE_TILE, t = PAR_THREAD_NUM(), lo, hi;
        const net_layer_t *F = &n->layers[l];
#pragma omp single
        sparse_to_tile(a + (size_t)i * F->in, rows, (int)F->in, n->tile_a + F->tile_off);
        for (int j = l; j < m; j++) {
            const net_layer_t *L = &n->layers[j];
            float *zt = j + 1 < m ? n->tile_a + n->layers[j + 1].tile_off : n->tile_z;
            share((int)L->out, t, nth, &lo, &hi);
            sparse_forward_rows(&L->csr, n->params + L->b_off, n->tile_a + L->tile_off, zt, lo, hi);
            sparse_relu_tile(zt + (size_t)lo * SPARSE_TILE, rows, hi - lo, L->relu);
#pragma omp barrier
            if (keep || j + 1 == m) {
#pragma omp single
                sparse_from_tile(zt, rows, (int)L->out, n->acts + L->act_off + (size_t)i * L->out);
            }
        }
    }
}

/*
 * The convolutional stage in pieces of chunk_rows images, each piece on one
 * thread with that thread's scratch (a training batch: the chunks, each in
 * its own rows; an evaluation batch: each thread's pieces in its slot), its
 * output landing in its rows of the last stage layer: the same numbers as
 * one pass, whatever thread takes a piece. The fully connected layers take
 * the whole batch at once; consecutive sparse layers go together, tile by
 * tile (sparse_run). keep: every layer's activations stay in acts
 * (training); else only those a later layer reads.
 */
static const float *forward(net_t *n, const float *x, int b, rng_t *dropout_rng, int keep)
{
    int s = n->stage, cr = n->chunk_rows;
    if (s > 0) {
        /* a training batch: each chunk in its own rows, for the backward pass */
        int pieces = (b + cr - 1) / cr;
        int nth = threads_for_work(pieces < n->chunks ? pieces : n->chunks, b * stage_work(n));
        int own = b <= n->stage_rows;
#pragma omp parallel num_threads(nth) if (nth > 1)
        {
            int t = PAR_THREAD_NUM();
            for (int p = t; p < pieces; p += nth)
                stage_forward(n, &n->ws[t], x, p * cr, b - p * cr < cr ? b - p * cr : cr, own ? p : t);
        }
    }
    const float *a = s > 0 ? n->acts + n->layers[s - 1].act_off : x;
    for (int l = s; l < n->n_layers;) {
        const net_layer_t *L = &n->layers[l];
        if (L->kind == NET_FC && L->sparse) {
            int m = l + 1; /* the run: no dropout between its layers */
            while (m < n->n_layers && n->layers[m].kind == NET_FC && n->layers[m].sparse &&
                   !(n->layers[m - 1].dropout && dropout_rng))
                m++;
            sparse_run(n, l, m, a, b, keep);
            const net_layer_t *E = &n->layers[m - 1];
            float *z = n->acts + E->act_off;
            if (E->dropout && dropout_rng)
                conv_dropout_forward(z, n->keep + E->keep_off, (size_t)b * E->out, n->dropout,
                                     dropout_rng);
            a = z;
            l = m;
            continue;
        }
        float *z = n->acts + L->act_off;
        fc_forward(n, L, a, b, z);
        if (L->dropout && dropout_rng)
            conv_dropout_forward(z, n->keep + L->keep_off, (size_t)b * L->out, n->dropout, dropout_rng);
        a = z;
        l++;
    }
    return a;
}

const float *net_forward(net_t *n, const float *x, int b, rng_t *dropout_rng)
{
    return forward(n, x, b, dropout_rng, 1);
}

const float *net_predict(net_t *n, const float *x, int b)
{
    return forward(n, x, b, NULL, 0);
}

double net_loss(net_t *n, const uint8_t *y, int b, int64_t *correct, int want_grad)
{
    const net_layer_t *L = &n->layers[n->n_layers - 1];
    const float *logits = n->acts + L->act_off;
    float *d = n->deltas + L->act_off;
    int k = (int)L->out;
    double loss = 0;
    int64_t ok = 0;
    float inv_b = 1.0f / (float)b;
    for (int i = 0; i < b; i++) {
        const float *z = logits + (size_t)i * k;
        int arg = 0;
        float mx = z[0];
        for (int j = 1; j < k; j++)
            if (z[j] > mx) {
                mx = z[j];
                arg = j;
            }
        float sum = 0;
        float *di = d + (size_t)i * k;
        if (want_grad) /* keep each exponential for the gradient: one expf per logit */
            for (int j = 0; j < k; j++) {
                di[j] = expf(z[j] - mx);
                sum += di[j];
            }
        else
            for (int j = 0; j < k; j++)
                sum += expf(z[j] - mx);
        loss += (double)(logf(sum) + mx - z[y[i]]);
        ok += arg == y[i];
        if (want_grad) {
            float inv = 1.0f / sum;
            for (int j = 0; j < k; j++)
                di[j] = di[j] * inv * inv_b;
            di[y[i]] -= inv_b;
        }
    }
    if (correct)
        *correct = ok;
    return loss;
}

/* The column blocks of the element-wise passes over [b][n] rows (ReLU',
 * bias sums): every column's sum over the rows in row order, so any block
 * gives the same bits. */
#define COL_BLOCK 64

/* db[j] = sum over the b rows of dz[i][j], rows in order; relu: first
 * dz = a > 0 ? dz : 0 (a the layer's output), in the same pass. Columns in
 * blocks between the threads. */
static void relu_grad_sums(float *restrict dz, const float *restrict a, int b, int n,
                           float *restrict db, int relu)
{
    int blocks = (n + COL_BLOCK - 1) / COL_BLOCK, nth = threads_for_work(blocks, (double)b * n);
#pragma omp parallel for num_threads(nth) if (nth > 1) schedule(static)
    for (int j = 0; j < blocks; j++) {
        int c0 = j * COL_BLOCK, c1 = c0 + COL_BLOCK < n ? c0 + COL_BLOCK : n;
        for (int c = c0; c < c1; c++)
            db[c] = 0;
        for (int i = 0; i < b; i++) {
            float *restrict d = dz + (size_t)i * n;
            const float *restrict ai = a + (size_t)i * n;
            for (int c = c0; c < c1; c++) {
                if (relu)
                    d[c] = ai[c] > 0 ? d[c] : 0;
                db[c] += d[c];
            }
        }
    }
}

/* A sparse fully connected layer's weight gradient (at its survivors) and,
 * when dprev is not NULL, input gradient, tile by tile; a: its input [b][in],
 * dz: dLoss/d(its pre-activation) [b][out]. A batch of one tile finds its
 * input tile where the forward pass left it. The threads share the column
 * blocks of the index (each block's survivors and inputs are its own). */
static void sparse_backward(net_t *n, net_layer_t *L, const float *a, const float *dz, int b,
                            float *dprev)
{
    float *at = n->tile_a + L->tile_off;
    int nth = threads_for_work(L->csr.nblk, (double)L->csr.nnz * SPARSE_TILE * (dprev ? 2 : 1));
#pragma omp parallel num_threads(nth) if (nth > 1)
    for (int i = 0; i < b; i += SPARSE_TILE) {
        int rows = b - i < SPARSE_TILE ? b - i : SPARSE_TILE, lo, hi;
#pragma omp single
        {
            if (b > SPARSE_TILE)
                sparse_to_tile(a + (size_t)i * L->in, rows, (int)L->in, at);
            sparse_to_tile(dz + (size_t)i * L->out, rows, (int)L->out, n->tile_z);
        }
        share(L->csr.nblk, PAR_THREAD_NUM(), nth, &lo, &hi);
        sparse_weight_grad_blocks(&L->csr, n->tile_z, at, i > 0, lo, hi);
        if (dprev)
            sparse_input_grad_blocks(&L->csr, n->tile_z, n->tile_d, lo, hi);
#pragma omp barrier
        if (dprev) {
#pragma omp single
            sparse_from_tile(n->tile_d, rows, (int)L->in, dprev + (size_t)i * L->in);
        }
    }
}

/* A dense fully connected layer's gradients: dW = dz^T a by blocks of its
 * rows, dprev = dz W by blocks of its columns, one sgemm a block. */
static void fc_backward(net_t *n, const net_layer_t *L, const float *a, const float *dz, int b,
                        float *dprev)
{
    const float *wt = n->params + L->w_off;
    float *dw = n->grads + L->w_off;
    int out = (int)L->out, in = (int)L->in, bw = fc_blocks(n, out), bx = dprev ? fc_blocks(n, in) : 0;
    int nth = threads_for_work(bw + bx, (double)b * in * out * (dprev ? 2 : 1));
    /* blocks dealt round-robin: each thread a share of dW's and of dprev's */
#pragma omp parallel for num_threads(nth) if (nth > 1) schedule(static, 1)
    for (int j = 0; j < bw + bx; j++) {
        if (j < bw) {
            int o0 = fc_edge(out, bw, j), w = fc_edge(out, bw, j + 1) - o0;
            blas_sgemm(true, false, w, in, b, 1.0f, dz + o0, out, a, in, 0.0f, dw + (size_t)o0 * in, in);
        } else {
            int c0 = fc_edge(in, bx, j - bw), w = fc_edge(in, bx, j - bw + 1) - c0;
            blas_sgemm(false, false, b, w, out, 1.0f, dz, out, wt + c0, in, 0.0f, dprev + c0, in);
        }
    }
}

/* Where chunk s puts the gradient of the stage's parameter block at offset
 * off (a weight in [0, n_stage_w) or a bias in [n_weights, ...)). */
static float *stage_grad(net_t *n, int s, size_t off)
{
    if (s == 0)
        return n->grads + off;
    float *p = n->part + (size_t)(s - 1) * (n->n_stage_w + n->n_stage_b);
    return off < n->n_weights ? p + off : p + n->n_stage_w + (off - n->n_weights);
}

/* The backward pass of chunk s (its b images) through the convolutional
 * stage on workspace w (the deltas of the stage's last layer in its rows,
 * before that layer's ReLU'): its gradients into stage_grad(s). 0 or
 * TS_ERUN. */
static int stage_backward(net_t *n, net_ws_t *w, const float *x, int s, int b)
{
    size_t r0 = (size_t)s * n->chunk_rows;
    const net_layer_t *top = &n->layers[n->stage - 1];
    if (top->relu)
        conv_relu_backward(n->deltas + top->act_off + r0 * top->out, n->acts + top->act_off + r0 * top->out,
                           (size_t)b * top->out);
    for (int l = n->stage - 1; l >= 0; l--) {
        const net_layer_t *L = &n->layers[l], *P = l ? &n->layers[l - 1] : NULL;
        const float *dz = n->deltas + L->act_off + r0 * L->out;
        const float *a = P ? n->acts + P->act_off + r0 * P->out : x + r0 * L->in;
        float *dprev = P ? n->deltas + P->act_off + r0 * P->out : NULL;
        const float *wt = n->params + L->w_off;
        if (L->kind == NET_CONV) {
            float *dw = stage_grad(n, s, L->w_off), *db = stage_grad(n, s, L->b_off);
            if (!(L->dnn && w->prims[l] && b == n->chunk_rows))
                conv_backward(a, wt, dz, b, L->in_c, L->out_c, L->in_h, L->in_w, w->col, dw, db, dprev);
            else if (dnn_conv_backward(w->prims[l], a, wt, dz, dw, db, dprev, blocked(n, L, b)))
                return TS_ERUN;
        } else if (dprev) {
            conv_pool_backward(dz, n->args + L->arg_off + r0 * L->out, b, L->in_c, L->in_h, L->in_w, dprev);
        }
        if (P && P->relu)
            conv_relu_backward(dprev, n->acts + P->act_off + r0 * P->out, (size_t)b * P->out);
    }
    return 0;
}

/* grads of the stage += chunks 1 .. used - 1 in chunk order, element by element. */
static void stage_reduce(net_t *n, int used)
{
    size_t P = n->n_stage_w + n->n_stage_b;
    long pieces = (long)((P + PAR_GRAIN - 1) / PAR_GRAIN);
    int nth = threads_for_work(pieces, (double)P * (n->chunks - 1));
#pragma omp parallel for num_threads(nth) if (nth > 1) schedule(static)
    for (long p = 0; p < pieces; p++) {
        size_t i0 = (size_t)p * PAR_GRAIN, i1 = i0 + PAR_GRAIN < P ? i0 + PAR_GRAIN : P;
        for (int s = 1; s < used; s++) {
            const float *src = n->part + (size_t)(s - 1) * P;
            for (size_t i = i0; i < i1; i++) {
                float *g = i < n->n_stage_w ? n->grads + i : n->grads + n->n_weights + (i - n->n_stage_w);
                *g += src[i];
            }
        }
    }
}

int net_backward(net_t *n, const float *x, int b)
{
    int top = n->n_layers - 1, s = n->stage, rc = 0;
    const net_layer_t *T = &n->layers[top];
    relu_grad_sums(n->deltas + T->act_off, n->acts + T->act_off, b, (int)T->out, n->grads + T->b_off, 0);
    for (int l = top; l >= s; l--) {
        net_layer_t *L = &n->layers[l];
        const float *dz = n->deltas + L->act_off;
        const float *a = l ? n->acts + n->layers[l - 1].act_off : x;
        float *dprev = l ? n->deltas + n->layers[l - 1].act_off : NULL;
        if (L->sparse)
            sparse_backward(n, L, a, dz, b, dprev);
        else
            fc_backward(n, L, a, dz, b, dprev);
        if (!dprev || l - 1 < s)
            continue; /* the stage's last layer: its chunks' ReLU' in stage_backward */
        const net_layer_t *P = &n->layers[l - 1];
        if (P->dropout)
            conv_dropout_backward(dprev, n->keep + P->keep_off, (size_t)b * P->out, n->dropout);
        relu_grad_sums(dprev, n->acts + P->act_off, b, (int)P->out, n->grads + P->b_off, P->relu);
    }
    if (s == 0)
        return 0;
    int cr = n->chunk_rows, used = (b + cr - 1) / cr, nth = threads_for_work(used, 2 * b * stage_work(n));
#pragma omp parallel num_threads(nth) if (nth > 1) reduction(| : rc)
    {
        int t = PAR_THREAD_NUM();
        for (int c = t; c < used; c += nth)
            rc |= stage_backward(n, &n->ws[t], x, c, b - c * cr < cr ? b - c * cr : cr);
    }
    if (rc)
        return TS_ERUN;
    stage_reduce(n, used);
    return 0;
}
