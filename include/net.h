/*
 * net.h - the model: 3x3 convolutions and 2x2 max-pools, then fully
 * connected layers, ReLU between them, softmax cross-entropy on the last, and
 * optional dropout on the hidden fully connected layers while training.
 * An MLP (LeNet-300-100) is the case without convolutions; Conv-2/4/6 of the
 * lottery-ticket paper are the others.
 *
 * All parameters live in one block (llm.c style): first every layer's weight
 * (fc [out][in], conv [out][in][3][3]) in layer order, then every layer's
 * bias [out] in layer order. So the prunable weights are one range,
 * [0, n_weights), in the order of the results file's masks and of a mask
 * history (one byte a weight), and the biases are [n_weights, n_params).
 * Gradients, the mask and the optimizer's moments are parallel blocks of the
 * same length, so masking, pruning and the optimizer are flat loops; a
 * layer's part is at its w_off and b_off. Pruned weights are exactly 0 in
 * params and the mask holds 0 there; biases always have mask 1. The results
 * file stores each layer's weight and bias apart (store.c), so this order is
 * the program's own, not the file's.
 *
 * Activations are NCHW per example, so a convolution's output is already the
 * flattened input of the first fully connected layer (PyTorch's view(b, -1)),
 * except between two convolutions on oneDNN (net_set_kernels, L->chain),
 * where the first one's output stays in oneDNN's blocked format.
 * Every buffer is preallocated: the training loop never allocates. Training
 * batches fill every layer's buffers; an evaluation batch (up to max_batch
 * examples) passes the convolutional stage, which works one image at a time,
 * in slices of a training batch, so only the fully connected layers and the
 * stage's output hold max_batch rows (Conv-2: 46 MB of activations where
 * max_batch rows of every layer were 128 MB). The module knows nothing of
 * ranks or files.
 *
 * Threads (par.h): a pass runs on par_threads() threads, and its bits do not
 * depend on how many. The convolutional stage works on a training batch in
 * `chunks` chunks of chunk_rows images (train.chunks: a property of the job,
 * never of the threads), each chunk on one thread with that thread's scratch
 * (net_ws_t: the im2col buffer, oneDNN primitives for chunk_rows images);
 * chunk s's weight and bias gradients go to a block of their own (chunk 0's
 * into grads, the others' into part) and are added into grads in chunk
 * order, element by element. An evaluation batch goes through the stage in
 * pieces of chunk_rows images. The fully connected layers take the whole
 * batch; their dense products run in column blocks fixed by the layer's
 * shape (fc_blocks in net.c; one block when chunks = 1), one sgemm each; the
 * sparse kernels split their outputs, input blocks or survivors between the
 * threads, which changes no bit whatever the split (sparse.h); ReLU and
 * bias sums go column by column or row by row, each sum in row order; Adam
 * goes element by element. With chunks = 1 every sum is added in the order
 * of the releases before threads, so their results are reproduced.
 */
#ifndef TS_NET_H
#define TS_NET_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "dnn.h"
#include "optim.h"
#include "rng.h"
#include "sparse.h"

enum { NET_FC, NET_CONV, NET_POOL };

#define NET_MAX_LAYERS (2 * CFG_MAX_LAYERS)
/* A dense fully connected product is cut into at most this many column
 * blocks, so at most this many threads share it (net_pass.c). */
#define NET_FC_BLOCKS 8

typedef struct {
    int kind;             /* NET_FC, NET_CONV, NET_POOL */
    char name[16];        /* "conv1", "fc2", ...: HDF5 dataset names; "" for pools */
    int in_c, in_h, in_w; /* input per example (fc: in_c features, h = w = 1) */
    int out_c, out_h, out_w;
    int relu;             /* ReLU on the output (every layer but pools and the last) */
    int dropout;          /* dropout on the output while training (hidden fc layers) */
    size_t in, out;       /* floats per example in and out: in_c*in_h*in_w, ... */
    size_t n_w;           /* weights (0 for pools) */
    size_t w_off, b_off;  /* weight in [0, n_weights), bias [out_c] in [n_weights, n_params) */
    int ndim;             /* weight shape, for the results file */
    int dims[4];          /* fc [out, in]; conv [out, in, 3, 3] */
    size_t act_off;       /* output [max_batch][out] at acts + act_off */
    size_t arg_off;       /* pool: argmax [max_batch][out] at args + arg_off */
    size_t keep_off;      /* dropout: keep flags [max_batch][out] at keep + keep_off */
    int sparse;           /* fc: products over the surviving weights (net_set_kernels) */
    sparse_csr_t csr;     /* their index, when sparse */
    size_t tile_off;      /* sparse: its input tile [in][SPARSE_TILE] at tile_a + tile_off */
    int dnn;              /* conv: oneDNN's primitives run it (net_set_kernels), else im2col */
    dnn_conv_t *prims;    /* conv: workspace 0's primitives (net_ws_t), for the benchmarks */
    int chain;            /* conv on oneDNN followed by one (dnn_conv_chains): its output and
                             that output's gradient stay in oneDNN's blocked format for
                             training-size batches, not NCHW (the ReLU between does not mind) */
} net_layer_t;

/* A thread's scratch for the convolutional stage (made by net_create,
 * oneDNN's primitives by net_set_kernels for up to par_threads() threads). */
typedef struct {
    float *col;                        /* [n_col] im2col of one image */
    dnn_conv_t *prims[NET_MAX_LAYERS]; /* conv layers on oneDNN, for chunk_rows images */
    float *tile_a, *tile_z;            /* workspaces 1..: an evaluation's sparse tiles (the
                                          net's tile_a and tile_z sizes; workspace 0 uses those) */
} net_ws_t;

typedef struct {
    int in_c, in_h, in_w; /* an example: channels x rows x cols */
    int n_layers;
    net_layer_t layers[NET_MAX_LAYERS];
    size_t n_params;   /* length of every parallel block */
    size_t n_weights;  /* prunable weights: [0, n_weights) of a block; biases follow */
    int max_batch;     /* examples an evaluation batch may have (>= the training batch) */
    int stage;         /* layers [0, stage) are the convolutional stage (convolutions, pools) */
    int stage_rows;    /* examples the stage's buffers hold but its last: the training batch */
    int want_chunks;   /* train.chunks as the job gives it (0: auto) */
    int chunks;        /* chunks of a training batch (config_chunks of the batch) */
    int chunk_rows;    /* images a chunk: stage_rows / chunks */
    size_t n_stage_w, n_stage_b; /* the stage's weights [0, n_stage_w) and biases
                                    [n_weights, n_weights + n_stage_b) */
    size_t n_acts, n_col, n_args, n_keep; /* lengths of acts (and deltas), col, args, keep */
    float dropout;     /* probability, 0 for none */
    float *params;     /* [n_params] */
    float *grads;      /* [n_params] */
    float *mask;       /* [n_params]: 1 active, 0 pruned; biases 1 */
    float *acts;       /* per layer: [rows][out] outputs after ReLU/dropout (logits last); rows
                          is stage_rows for the stage's layers but its last, else max_batch */
    float *deltas;     /* same shape: dLoss/d(layer output) during backward (training batch) */
    float *col;        /* workspace 0's im2col scratch (the benchmarks') */
    net_ws_t *ws;      /* [chunks] the stage's threads' scratch */
    float *part;       /* [chunks - 1][n_stage_w + n_stage_b]: chunks 1.. of the stage's gradients */
    int32_t *args;     /* pool argmax [stage_rows][out] per pool */
    uint8_t *keep;     /* dropout keep flags [stage_rows][out] per hidden fc layer */
    /* the sparse kernels' state (net_set_kernels), empty while every layer is dense;
       the tiles are 64-byte aligned (sparse_tile_alloc) */
    float *tile_a;     /* every sparse layer's input tile, transposed (kept from a
                          forward of one tile for the backward) */
    float *tile_d;     /* [widest sparse layer][SPARSE_TILE]: input gradient, transposed */
    float *tile_z;     /* the same size: an output or its gradient, transposed */
    size_t tile_a_floats, tile_floats; /* floats tile_a and each of the others hold */
    int tile_threads;  /* workspaces with an evaluation's tiles (0 and those of ws[1 ..]) */
} net_t;

/*
 * The model's shapes only: the layer table for an input of channels x rows x
 * cols (the entries of cfg->conv, channel counts or CFG_POOL for a pool, then
 * cfg->hidden, then `classes` outputs), every layer's offsets in the
 * parameter block, n_weights, n_params and dropout. Allocates nothing: every
 * pointer is NULL and no buffer is sized (net_bytes sizes them), so such a
 * layout serves whoever needs only shapes and sizes (graph_plan, the store,
 * trial_theta0 into a caller's block); net_free on it is harmless. Returns 0
 * or TS_EINPUT (a pool on an odd image size: the message names model.conv).
 */
int net_layout(net_t *n, const config_t *cfg, int channels, int rows, int cols, int classes);
/*
 * net_layout, then allocate every block for training batches of up to `batch`
 * examples and evaluation batches of up to eval_cap (fewer when a big model's
 * activations would not fit in about 256 MB). Returns 0, TS_EINPUT (as
 * net_layout) or TS_ERUN (out of memory).
 */
int net_create(net_t *n, const config_t *cfg, int channels, int rows, int cols, int classes,
               int batch, int eval_cap);
/* Release every block net_create made; n is left empty (safe on a failed create). */
void net_free(net_t *n);
/* What net_create allocates, in bytes, by kind. */
typedef struct {
    double params;  /* parameters, gradients, mask, the chunks' stage gradients */
    double acts;    /* activations and deltas, pool arguments, dropout flags */
    double col;     /* im2col scratch, every chunk's */
    int max_batch;  /* the evaluation batch */
} net_mem_t;
/* Bytes net_create allocates for a net of layout's layer table (any net of
 * the same model: from net_layout, or net_create with any batch) with this
 * batch and eval_cap; by kind into *parts when not NULL. */
double net_bytes(const net_t *layout, int batch, int eval_cap, net_mem_t *parts);
/* The bytes oneDNN's primitives of the conv layers need in a net of this
 * layout, batch and eval_cap when they run on oneDNN on `threads` threads
 * (dnn_conv_needs for a chunk: the largest need of each buffer a thread
 * shares, plus each layer's own, times the threads the stage uses); 0
 * without convolutions or oneDNN. */
double net_dnn_bytes(const net_t *layout, int batch, int eval_cap, int threads);
/* The threads the convolutional stage of a net of this layout and batch can
 * keep busy: its chunks; 0 for a net without convolutions. */
int net_stage_threads(const net_t *layout, int batch);
/* The threads a training of a net of this layout and batch keeps busy in the
 * bulk of its work (a bound for planning, not a rule: more threads change no
 * bit and still share the element-wise passes): its chunks when it has
 * convolutions, else the dense products' column blocks (1 with one chunk). */
int net_max_threads(const net_t *layout, int batch);

/* Layer l has parameters (and appears in the results file). */
static inline int net_has_params(const net_layer_t *L)
{
    return L->kind != NET_POOL;
}

/* Gaussian Glorot weights (std sqrt(2 / (fan_in + fan_out)), fans counting
 * the 3x3 kernel), zero biases, into dst [n_params]; the weights of the k-th
 * layer with parameters come from rng_key(seed, purpose, k, salt), so a
 * layer's values do not depend on where the block keeps it. n may be a
 * net_layout. */
void net_init_params(const net_t *n, float *dst, uint64_t seed, int purpose, uint64_t salt);
/* The standard deviation of layer L's initial weights (net_init_params'). */
double net_init_std(const net_layer_t *L);

/*
 * Choose each layer's kernels for the mask now in n->mask and the
 * parameters now in n->params (kept for a whole training):
 * KERNELS_DENSE (the reference: sgemm for fully connected layers, im2col +
 * sgemm for convolutions, what every net does before this is called),
 * KERNELS_SPARSE (every fully connected layer over its survivors, sparse.h;
 * convolutions as auto) or KERNELS_AUTO (sparse where net_sparse_wins says
 * so; convolutions on oneDNN's primitives (dnn.h) when the build has oneDNN,
 * else im2col). A sparse layer's surviving weights and gradients then live
 * in its index (L->csr.val, .grad) until net_sync copies them back into
 * params and grads: call it before reading either. The oneDNN primitives of
 * a convolution are made the first time they are chosen, for batches of
 * stage_rows, and kept until net_free. Call again whenever the mask or the
 * parameters are set. Returns the number of sparse layers, or TS_ERUN (out
 * of memory, or oneDNN failed: the message says) and then every layer is
 * dense again.
 */
int net_set_kernels(net_t *n, int mode);
/* What runs n's convolutions under kernels `mode` (a static string, for the
 * provenance): "none" (no convolution), "im2col+sgemm", or dnn_describe(). */
const char *net_conv_kernels(const net_t *n, int mode);
/* params and grads := the sparse layers' compact copies (nothing to do
 * when every layer is dense). */
void net_sync(net_t *n);
/* One optimizer step over every parameter: optim_step on the whole block,
 * or, with sparse layers, block by block (their survivors in their compact
 * arrays): the same bits either way. The optimizer is n_params long. */
void net_step(net_t *n, optim_t *o);
/* KERNELS_AUTO's rule, measured on the products of a training step (make
 * bench, section 9): layer l, at this density (the surviving fraction of its
 * weights), trains faster over its survivors. */
int net_sparse_wins(const net_t *n, int l, double density);

/* Forward x [b][in] -> logits ([b][classes], a pointer into acts). b <= max_batch.
 * With dropout_rng NULL the pass is an evaluation: no dropout. */
const float *net_forward(net_t *n, const float *x, int b, rng_t *dropout_rng);
/* An evaluation pass: net_forward without dropout, the same logits bit for
 * bit, but the hidden layers' activations need not be kept in acts (their
 * rows are left as they were where sparse layers chain their tiles): no
 * net_backward may follow. */
const float *net_predict(net_t *n, const float *x, int b);
/* Loss of the last forward: summed cross-entropy over b rows (double); counts
 * correct predictions into *correct when not NULL; with want_grad leaves
 * (softmax - onehot) / b in the logits' deltas. */
double net_loss(net_t *n, const uint8_t *y, int b, int64_t *correct, int want_grad);
/* Backward after net_loss(want_grad = 1) of a net_forward of the same b
 * rows: fills grads for every parameter. Returns 0, or TS_ERUN (a thread's
 * oneDNN buffers could not grow: out of memory; the message says). */
int net_backward(net_t *n, const float *x, int b);

#endif
