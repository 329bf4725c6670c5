/*
 * net.c - forward and backward passes of the model (see net.h).
 *
 * Fully connected layer, forward: Z = A W^T + b, done as "copy b into every
 * row of Z, then sgemm with beta = 1" (the bias rides in the product's own
 * pass over Z), then ReLU in place. Backward: dW = dZ^T A, dA = dZ W; then
 * one pass over dA turns it into dZ of the layer below (zero where that
 * activation was not positive) and sums its columns into that layer's bias
 * gradient. Convolutions, pools and dropout go through conv.c; every matrix
 * product goes through blas_sgemm.
 *
 * Nothing here allocates after net_create: every buffer was sized there.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "conv.h"
#include "err.h"
#include "net.h"
#include "par.h"

#define FC_BLOCKS 8     /* a dense product's column blocks: up to this many ... */
#define FC_MIN_BLOCK 16 /* ... of at least this many columns on average ... */
#define FC_ROUND 4      /* ... starting at multiples of this many (sgemm's unroll) */

#define ACT_BUDGET_BYTES ((size_t)256 << 20) /* activations + deltas, evaluation batches */

/* Append a layer with input shape (c, h, w); fills its shape and sizes (its
 * offsets in the parameter block come once every layer is known: place_params). */
static net_layer_t *add_layer(net_t *n, int kind, int c, int h, int w, int out_c)
{
    net_layer_t *L = &n->layers[n->n_layers++];
    memset(L, 0, sizeof *L);
    L->kind = kind;
    L->in_c = c, L->in_h = h, L->in_w = w;
    if (kind == NET_FC) {
        L->in_c = c * h * w, L->in_h = L->in_w = 1;
        L->out_c = out_c, L->out_h = L->out_w = 1;
        L->n_w = (size_t)L->in_c * out_c;
        L->ndim = 2;
        L->dims[0] = out_c, L->dims[1] = L->in_c;
    } else if (kind == NET_CONV) {
        L->out_c = out_c, L->out_h = h, L->out_w = w;
        L->n_w = (size_t)out_c * c * 9;
        L->ndim = 4;
        L->dims[0] = out_c, L->dims[1] = c, L->dims[2] = L->dims[3] = 3;
    } else {
        L->out_c = c, L->out_h = h / 2, L->out_w = w / 2;
    }
    L->in = (size_t)L->in_c * L->in_h * L->in_w;
    L->out = (size_t)L->out_c * L->out_h * L->out_w;
    return L;
}

/* The parameter block: every layer's weights in layer order, then every
 * layer's bias in layer order, so the weights are [0, n_weights). Pools have
 * no parameters (their offsets stay 0). */
static void place_params(net_t *n)
{
    size_t off = 0;
    for (int l = 0; l < n->n_layers; l++) {
        net_layer_t *L = &n->layers[l];
        if (!net_has_params(L))
            continue;
        L->w_off = off;
        off += L->n_w;
    }
    n->n_weights = off;
    for (int l = 0; l < n->n_layers; l++) {
        net_layer_t *L = &n->layers[l];
        if (!net_has_params(L))
            continue;
        L->b_off = off;
        off += (size_t)L->out_c;
    }
    n->n_params = off;
}

/*
 * Size the activation blocks of n's layer table for training batches of
 * `batch` and evaluation batches of up to eval_cap (fewer when a big model's
 * activations would not fit in ACT_BUDGET_BYTES): max_batch, every layer's
 * offsets, n_acts, n_col, n_args, n_keep. The convolutional stage (the layers
 * before the first fully connected one) runs an evaluation batch in slices
 * of `batch` images (net_forward), so its layers hold `batch` rows, except
 * the last, whose output is the fully connected layers' input and holds
 * max_batch rows like theirs. Only training needs pool arguments and dropout
 * flags: `batch` rows.
 */
static void plan_buffers(net_t *n, int batch, int eval_cap)
{
    size_t per_example = 0, col = 0;
    n->stage = 0;
    while (n->stage < n->n_layers && n->layers[n->stage].kind != NET_FC)
        n->stage++;
    for (int l = 0; l < n->n_layers; l++) {
        net_layer_t *L = &n->layers[l];
        per_example += L->out;
        if (L->kind == NET_CONV && conv_col_floats(L->in_c, L->in_h, L->in_w) > col)
            col = conv_col_floats(L->in_c, L->in_h, L->in_w);
    }
    /* the evaluation batch as it always was: its size decides how the loss is summed */
    size_t fit = ACT_BUDGET_BYTES / (per_example * 2 * sizeof(float) + 1);
    n->max_batch = eval_cap < (int)fit ? eval_cap : (int)fit;
    if (n->max_batch < batch)
        n->max_batch = batch;
    n->stage_rows = batch;
    n->chunks = config_chunks(batch, n->want_chunks);
    n->chunk_rows = batch / n->chunks;
    size_t act = 0, args = 0, keep = 0;
    for (int l = 0; l < n->n_layers; l++) {
        net_layer_t *L = &n->layers[l];
        size_t rows = l < n->stage - 1 ? (size_t)batch : (size_t)n->max_batch;
        L->act_off = act;
        act += rows * L->out;
        if (L->kind == NET_POOL) {
            L->arg_off = args;
            args += (size_t)batch * L->out;
        }
        if (L->dropout) {
            L->keep_off = keep;
            keep += (size_t)batch * L->out;
        }
    }
    n->n_acts = act;
    n->n_col = col;
    n->n_args = args;
    n->n_keep = keep;
}

int net_layout(net_t *n, const config_t *cfg, int channels, int rows, int cols, int classes)
{
    memset(n, 0, sizeof *n);
    int c = channels, h = rows, w = cols, n_conv = 0, n_fc = 0;
    n->in_c = channels, n->in_h = rows, n->in_w = cols;
    for (int i = 0; i < cfg->n_conv; i++) {
        if (cfg->conv[i] == CFG_POOL) {
            if (h % 2 || w % 2)
                return ts_fail(TS_EINPUT, "%s: model.conv entry %d: a 2x2 pool needs an even image size, here it is %dx%d",
                               config_where(cfg, "model.conv"), i + 1, h, w);
            add_layer(n, NET_POOL, c, h, w, c);
            h /= 2, w /= 2;
            continue;
        }
        net_layer_t *L = add_layer(n, NET_CONV, c, h, w, cfg->conv[i]);
        snprintf(L->name, sizeof L->name, "conv%d", ++n_conv);
        L->relu = 1;
        c = cfg->conv[i];
    }
    n->stage = n->n_layers; /* the convolutional stage: every layer before the first fc */
    for (int i = 0; i <= cfg->n_hidden; i++) {
        int out = i < cfg->n_hidden ? cfg->hidden[i] : classes;
        net_layer_t *L = add_layer(n, NET_FC, c, h, w, out);
        snprintf(L->name, sizeof L->name, "fc%d", ++n_fc);
        L->relu = i < cfg->n_hidden;
        L->dropout = L->relu && cfg->dropout > 0;
        c = out, h = w = 1;
    }
    place_params(n);
    for (int l = 0; l < n->stage; l++) {
        const net_layer_t *L = &n->layers[l];
        if (net_has_params(L))
            n->n_stage_w += L->n_w, n->n_stage_b += (size_t)L->out_c;
    }
    n->dropout = (float)cfg->dropout;
    n->want_chunks = cfg->chunks;
    return 0;
}

int net_create(net_t *n, const config_t *cfg, int channels, int rows, int cols, int classes,
               int batch, int eval_cap)
{
    int rc = net_layout(n, cfg, channels, rows, cols, classes);
    if (rc)
        return rc;
    size_t np = n->n_params;
    plan_buffers(n, batch, eval_cap);
    n->params = ts_calloc(np, sizeof(float));
    n->grads = ts_calloc(np, sizeof(float));
    n->mask = ts_calloc(np, sizeof(float));
    n->acts = ts_calloc(n->n_acts, sizeof(float));
    n->deltas = ts_calloc(n->n_acts, sizeof(float));
    n->args = ts_calloc(n->n_args, sizeof(int32_t));
    n->keep = ts_calloc(n->n_keep, 1);
    n->ws = ts_calloc((size_t)n->chunks, sizeof *n->ws);
    n->part = ts_calloc((size_t)(n->chunks - 1) * (n->n_stage_w + n->n_stage_b) + 1, sizeof(float));
    if (!n->params || !n->grads || !n->mask || !n->acts || !n->deltas || !n->args || !n->keep ||
        !n->ws || !n->part) {
        net_free(n);
        return TS_ERUN;
    }
    for (int t = 0; t < n->chunks; t++)
        if (!(n->ws[t].col = ts_calloc(n->n_col, sizeof(float)))) {
            net_free(n);
            return TS_ERUN;
        }
    n->col = n->ws[0].col;
    for (size_t i = 0; i < np; i++)
        n->mask[i] = 1.0f;
    return 0;
}

double net_bytes(const net_t *layout, int batch, int eval_cap, net_mem_t *parts)
{
    net_t n = *layout;
    plan_buffers(&n, batch, eval_cap);
    net_mem_t m = {
        .params = (3.0 * n.n_params + (double)(n.chunks - 1) * (n.n_stage_w + n.n_stage_b)) * sizeof(float),
        .acts = 2.0 * n.n_acts * sizeof(float) + (double)n.n_args * sizeof(int32_t) + (double)n.n_keep,
        .col = (double)n.chunks * n.n_col * sizeof(float),
        .max_batch = n.max_batch,
    };
    if (parts)
        *parts = m;
    return m.params + m.acts + m.col;
}

double net_dnn_bytes(const net_t *layout, int batch, int eval_cap, int threads)
{
    net_t n = *layout;
    size_t shared[DNN_NEEDS] = {0}, own = 0, need[DNN_NEEDS];
    plan_buffers(&n, batch, eval_cap);
    for (int l = 0; dnn_available() && l < n.n_layers; l++) {
        const net_layer_t *L = &n.layers[l];
        if (L->kind != NET_CONV || dnn_conv_needs(n.chunk_rows, L->in_c, L->out_c, L->in_h, L->in_w, l > 0, need))
            continue;
        for (int k = 0; k < DNN_NEED_OWN; k++)
            shared[k] = need[k] > shared[k] ? need[k] : shared[k];
        own += need[DNN_NEED_OWN];
    }
    double sum = (double)own;
    for (int k = 0; k < DNN_NEED_OWN; k++)
        sum += (double)shared[k];
    int t = threads < n.chunks ? threads : n.chunks;
    return sum * (t > 1 ? t : 1);
}

int net_stage_threads(const net_t *layout, int batch)
{
    return layout->stage > 0 ? config_chunks(batch, layout->want_chunks) : 0;
}

int net_max_threads(const net_t *layout, int batch)
{
    int chunks = config_chunks(batch, layout->want_chunks);
    if (layout->stage > 0)
        return chunks;
    return chunks == 1 ? 1 : FC_BLOCKS;
}

void net_free(net_t *n)
{
    for (int l = 0; l < n->n_layers; l++)
        sparse_free(&n->layers[l].csr);
    for (int t = 0; n->ws && t < n->chunks; t++) {
        for (int l = 0; l < n->n_layers; l++)
            dnn_conv_free(n->ws[t].prims[l]);
        free(n->ws[t].col);
        free(n->ws[t].tile_a);
        free(n->ws[t].tile_z);
    }
    free(n->ws);
    free(n->part);
    free(n->tile_a);
    free(n->tile_d);
    free(n->tile_z);
    free(n->params);
    free(n->grads);
    free(n->mask);
    free(n->acts);
    free(n->deltas);
    free(n->args);
    free(n->keep);
    memset(n, 0, sizeof *n);
}

void net_init_params(const net_t *n, float *dst, uint64_t seed, int purpose, uint64_t salt)
{
    uint64_t k = 0;
    for (int l = 0; l < n->n_layers; l++) {
        const net_layer_t *L = &n->layers[l];
        if (!net_has_params(L))
            continue;
        rng_t r;
        rng_init(&r, rng_key(seed, (uint64_t)purpose, k++, salt));
        int kernel = L->kind == NET_CONV ? 9 : 1;
        double std = sqrt(2.0 / ((double)L->in_c * kernel + (double)L->out_c * kernel));
        float *wt = dst + L->w_off;
        for (size_t i = 0; i < L->n_w; i++)
            wt[i] = (float)(std * rng_normal(&r));
    }
    memset(dst + n->n_weights, 0, (n->n_params - n->n_weights) * sizeof(float));
}

/*
 * Measured with `bench_sparse --layers` (make bench, section 9: what one
 * layer of a training step spends on its weights, the products and Adam's
 * update, batch 60, AMD EPYC (Zen 4) with AVX-512, OpenBLAS 0.3.21, tiles
 * 64-byte aligned), the highest density from which the survivors' kernels
 * beat sgemm and the dense masked Adam: 0.70 for LeNet's first layer (300x784:
 * no input gradient), 0.60 for 300x784, 100x300 and 256x256 with it, 0.80
 * for Conv-2's 256x16384, 0.30-0.40 for the output layers (10x256, 10x100:
 * microseconds either way). An evaluation's forward pass alone wins from
 * about the same densities (the whole LeNet over its survivors at 64 %:
 * 72 ms an evaluation point against 85 dense; at 80 %: 90 against 86).
 * Near a crossover the two differ by a few per cent and the measurement by
 * as much; the rule keeps 0.05 below each kind's lowest, so that auto is not
 * slower than dense; a fixed rule, not a timing taken at run time, so that
 * the choice (and the bits) cannot differ between ranks or runs.
 */
int net_sparse_wins(const net_t *n, int l, double density)
{
    const net_layer_t *L = &n->layers[l];
    if (L->kind != NET_FC)
        return 0;
    if (L->n_w < 8192)
        return density <= 0.3;
    return density <= (l == 0 ? 0.65 : 0.55); /* layer 0 needs no input gradient */
}

/* Every layer dense again (convolutions on im2col). */
static void all_dense(net_t *n)
{
    for (int l = 0; l < n->n_layers; l++)
        n->layers[l].sparse = n->layers[l].dnn = n->layers[l].chain = 0;
}

/* A convolution's uses oneDNN under this mode. */
static int conv_on_dnn(int mode)
{
    return mode != KERNELS_DENSE && dnn_available();
}

const char *net_conv_kernels(const net_t *n, int mode)
{
    int convs = 0;
    for (int l = 0; l < n->n_layers; l++)
        convs += n->layers[l].kind == NET_CONV;
    if (!convs)
        return "none";
    return conv_on_dnn(mode) ? dnn_describe() : "im2col+sgemm";
}

int net_set_kernels(net_t *n, int mode)
{
    size_t wide = 0, tiles = 0;
    int n_sparse = 0;
    all_dense(n);
    int threads = par_threads() < n->chunks ? par_threads() : n->chunks;
    for (int l = 0; l < n->n_layers; l++) {
        net_layer_t *L = &n->layers[l];
        if (L->kind == NET_CONV && conv_on_dnn(mode)) {
            /* each thread of the stage its own, for a chunk; the first
             * layer's input gradient is never asked for */
            for (int t = 0; t < threads; t++)
                if (!n->ws[t].prims[l] &&
                    !(n->ws[t].prims[l] = dnn_conv_create(n->chunk_rows, L->in_c, L->out_c, L->in_h,
                                                          L->in_w, l > 0, 1)))
                    goto fail;
            L->prims = n->ws[0].prims[l];
            L->dnn = 1;
        }
        if (L->kind != NET_FC || mode == KERNELS_DENSE)
            continue;
        size_t alive = 0;
        for (size_t i = 0; i < L->n_w; i++)
            alive += n->mask[L->w_off + i] != 0;
        if (mode == KERNELS_AUTO && !net_sparse_wins(n, l, (double)alive / (double)L->n_w))
            continue;
        if (sparse_build(&L->csr, n->mask + L->w_off, n->params + L->w_off, (int)L->out_c,
                         (int)L->in_c)) {
            ts_fail(TS_ERUN, "out of memory for the sparse kernels' index");
            goto fail;
        }
        L->sparse = 1;
        L->tile_off = tiles;
        tiles += L->in * SPARSE_TILE;
        n_sparse++;
        wide = L->in > wide ? L->in : wide;
        wide = L->out > wide ? L->out : wide;
    }
    /* consecutive convolutions on oneDNN keep their activations blocked */
    for (int l = 0; l + 1 < n->n_layers; l++)
        n->layers[l].chain = n->layers[l].dnn && n->layers[l + 1].dnn &&
                             dnn_conv_chains(n->layers[l].prims, n->layers[l + 1].prims);
    if (!n_sparse)
        return 0;
    if (tiles > n->tile_a_floats || wide * SPARSE_TILE > n->tile_floats) {
        /* every workspace's evaluation tiles go with the net's (their sizes) */
        for (int t = 1; t < n->tile_threads; t++) {
            free(n->ws[t].tile_a), free(n->ws[t].tile_z);
            n->ws[t].tile_a = n->ws[t].tile_z = NULL;
        }
        n->tile_threads = 1;
    }
    if (tiles > n->tile_a_floats) {
        free(n->tile_a);
        n->tile_a_floats = 0;
        if (!(n->tile_a = sparse_tile_alloc(tiles)))
            goto oom;
        n->tile_a_floats = tiles;
    }
    if (wide * SPARSE_TILE > n->tile_floats) {
        free(n->tile_d), free(n->tile_z);
        n->tile_d = sparse_tile_alloc(wide * SPARSE_TILE);
        n->tile_z = sparse_tile_alloc(wide * SPARSE_TILE);
        n->tile_floats = wide * SPARSE_TILE;
        if (!n->tile_d || !n->tile_z) {
            n->tile_floats = 0;
            goto oom;
        }
    }
    if (n->tile_threads < 1)
        n->tile_threads = 1;
    for (; n->tile_threads < threads; n->tile_threads++) {
        net_ws_t *w = &n->ws[n->tile_threads];
        if (!(w->tile_a = sparse_tile_alloc(n->tile_a_floats)) || !(w->tile_z = sparse_tile_alloc(n->tile_floats)))
            goto oom;
    }
    return n_sparse;
oom:
    ts_fail(TS_ERUN, "out of memory for the sparse kernels' tiles");
fail:
    all_dense(n);
    return TS_ERUN;
}

void net_sync(net_t *n)
{
    for (int l = 0; l < n->n_layers; l++) {
        const net_layer_t *L = &n->layers[l];
        if (!L->sparse)
            continue;
        sparse_scatter(&L->csr, L->csr.val, n->params + L->w_off);
        sparse_scatter(&L->csr, L->csr.grad, n->grads + L->w_off);
    }
}

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
