/*
 * net.h - the model: 3x3 convolutions and 2x2 max-pools, then fully
 * connected layers, ReLU between them, softmax cross-entropy on the last, and
 * optional dropout on the hidden fully connected layers while training.
 * An MLP (LeNet-300-100) is the case without convolutions; Conv-2/4/6 of the
 * lottery-ticket paper are the others.
 *
 * All parameters live in one block (llm.c style): for each layer with
 * parameters its weight (fc [out][in], conv [out][in][3][3]) then its bias
 * [out]. Gradients, the mask and the optimizer's moments are parallel blocks of
 * the same length, so masking, pruning, the optimizer and the HDF5 writes are
 * flat loops over offsets from the layer table. Pruned weights are exactly 0
 * in params and the mask holds 0 there; biases always have mask 1.
 *
 * Activations are NCHW per example, so a convolution's output is already the
 * flattened input of the first fully connected layer (PyTorch's view(b, -1)).
 * Every buffer is preallocated: the training loop never allocates. Training
 * batches fill every layer's buffers; an evaluation batch (up to max_batch
 * examples) passes the convolutional stage, which works one image at a time,
 * in slices of a training batch, so only the fully connected layers and the
 * stage's output hold max_batch rows (Conv-2: 46 MB of activations where
 * max_batch rows of every layer were 128 MB). The module knows nothing of
 * ranks or files.
 */
#ifndef TS_NET_H
#define TS_NET_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "rng.h"

enum { NET_FC, NET_CONV, NET_POOL };

#define NET_MAX_LAYERS (2 * CFG_MAX_LAYERS)

typedef struct {
    int kind;             /* NET_FC, NET_CONV, NET_POOL */
    char name[16];        /* "conv1", "fc2", ...: HDF5 dataset names; "" for pools */
    int in_c, in_h, in_w; /* input per example (fc: in_c features, h = w = 1) */
    int out_c, out_h, out_w;
    int relu;             /* ReLU on the output (every layer but pools and the last) */
    int dropout;          /* dropout on the output while training (hidden fc layers) */
    size_t in, out;       /* floats per example in and out: in_c*in_h*in_w, ... */
    size_t n_w;           /* weights (0 for pools) */
    size_t w_off, b_off;  /* weight and bias [out_c] in the parameter block */
    int ndim;             /* weight shape, for the results file */
    int dims[4];          /* fc [out, in]; conv [out, in, 3, 3] */
    size_t act_off;       /* output [max_batch][out] at acts + act_off */
    size_t arg_off;       /* pool: argmax [max_batch][out] at args + arg_off */
    size_t keep_off;      /* dropout: keep flags [max_batch][out] at keep + keep_off */
} net_layer_t;

typedef struct {
    int in_c, in_h, in_w; /* an example: channels x rows x cols */
    int n_layers;
    net_layer_t layers[NET_MAX_LAYERS];
    size_t n_params;   /* length of every parallel block */
    size_t n_weights;  /* prunable weights (all layers' weights, no biases) */
    int max_batch;     /* examples an evaluation batch may have (>= the training batch) */
    int stage;         /* layers [0, stage) are the convolutional stage (convolutions, pools) */
    int stage_rows;    /* examples the stage's buffers hold but its last: the training batch */
    size_t n_acts, n_col, n_args, n_keep; /* lengths of acts (and deltas), col, args, keep */
    float dropout;     /* probability, 0 for none */
    float *params;     /* [n_params] */
    float *grads;      /* [n_params] */
    float *mask;       /* [n_params]: 1 active, 0 pruned; biases 1 */
    float *acts;       /* per layer: [rows][out] outputs after ReLU/dropout (logits last); rows
                          is stage_rows for the stage's layers but its last, else max_batch */
    float *deltas;     /* same shape: dLoss/d(layer output) during backward (training batch) */
    float *col;        /* convolution scratch (im2col of one example) */
    int32_t *args;     /* pool argmax [stage_rows][out] per pool */
    uint8_t *keep;     /* dropout keep flags [stage_rows][out] per hidden fc layer */
} net_t;

/*
 * Build the layer table for an input of channels x rows x cols: the entries of
 * cfg->conv (channel counts, CFG_POOL for a pool), then cfg->hidden, then
 * `classes` outputs; allocate every block for batches of up to `batch`
 * examples and evaluation batches of up to eval_cap (fewer when a big model's
 * activations would not fit in about 256 MB). Returns 0, TS_EINPUT (a pool on
 * an odd image size: the message names model.conv) or TS_ERUN (out of memory).
 */
int net_create(net_t *n, const config_t *cfg, int channels, int rows, int cols, int classes,
               int batch, int eval_cap);
/* Release every block net_create made; n is left empty (safe on a failed create). */
void net_free(net_t *n);
/* What net_create allocates, in bytes, by kind. */
typedef struct {
    double params;  /* parameters, gradients, mask */
    double acts;    /* activations and deltas, pool arguments, dropout flags */
    double col;     /* im2col scratch */
    int max_batch;  /* the evaluation batch */
} net_mem_t;
/* Bytes net_create allocates for a net of layout's layer table (any net of
 * the same model: e.g. one made with batch 1) with this batch and eval_cap;
 * by kind into *parts when not NULL. */
double net_bytes(const net_t *layout, int batch, int eval_cap, net_mem_t *parts);

/* Layer l has parameters (and appears in the results file). */
static inline int net_has_params(const net_layer_t *L)
{
    return L->kind != NET_POOL;
}

/* Gaussian Glorot weights (std sqrt(2 / (fan_in + fan_out)), fans counting
 * the 3x3 kernel), zero biases, into dst [n_params]; the weights of the k-th
 * layer with parameters come from rng_key(seed, purpose, k, salt). */
void net_init_params(const net_t *n, float *dst, uint64_t seed, int purpose, uint64_t salt);

/* Forward x [b][in] -> logits ([b][classes], a pointer into acts). b <= max_batch.
 * With dropout_rng NULL the pass is an evaluation: no dropout. */
const float *net_forward(net_t *n, const float *x, int b, rng_t *dropout_rng);
/* Loss of the last forward: summed cross-entropy over b rows (double); counts
 * correct predictions into *correct when not NULL; with want_grad leaves
 * (softmax - onehot) / b in the logits' deltas. */
double net_loss(net_t *n, const uint8_t *y, int b, int64_t *correct, int want_grad);
/* Backward after net_loss(want_grad = 1): fills grads for every parameter. */
void net_backward(net_t *n, const float *x, int b);

#endif
