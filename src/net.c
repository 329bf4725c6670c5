/*
 * net.c - the model (see net.h): its layer table and one flat parameter
 * block, the buffers a training needs (sized once, here), theta0's
 * initialisation, and which kernels each layer runs (dense, over its
 * survivors, oneDNN's convolutions). The passes over it are net_pass.c's.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "conv.h"
#include "err.h"
#include "net.h"
#include "par.h"

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
    return chunks == 1 ? 1 : NET_FC_BLOCKS;
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

double net_init_std(const net_layer_t *L)
{
    int kernel = L->kind == NET_CONV ? 9 : 1;
    return sqrt(2.0 / ((double)L->in_c * kernel + (double)L->out_c * kernel));
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
        double std = net_init_std(L);
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
