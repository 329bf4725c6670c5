/*
 * mlp.h - a multilayer perceptron: fully connected layers, ReLU between them,
 * softmax cross-entropy on the last.
 *
 * All parameters live in one block (llm.c style): for each layer its weight
 * [out][in] then its bias [out]. Gradients, the mask and the optimizer's
 * moments are parallel blocks of the same length, so masking, pruning, the
 * optimizer and the HDF5 writes are flat loops over offsets from the layer
 * table. Pruned weights are exactly 0 in params and the mask holds 0 there;
 * biases always have mask 1.
 *
 * The module knows nothing of ranks or files; activations are preallocated for
 * up to max_batch rows, so the training loop never allocates.
 */
#ifndef TS_MLP_H
#define TS_MLP_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "rng.h"

typedef struct {
    char name[16];   /* "fc1", "fc2", ...: HDF5 dataset names */
    int in, out;
    size_t w_off;    /* weight [out][in] at params + w_off */
    size_t b_off;    /* bias [out] at params + b_off */
} mlp_layer_t;

typedef struct {
    int n_layers;
    mlp_layer_t layers[CFG_MAX_LAYERS];
    size_t n_params;   /* length of every parallel block */
    size_t n_weights;  /* prunable weights (all layers' weights, no biases) */
    int max_batch;
    float *params;     /* [n_params] */
    float *grads;      /* [n_params] */
    float *mask;       /* [n_params]: 1 active, 0 pruned; biases 1 */
    float *acts;       /* per layer l: [max_batch][out_l] activations after ReLU (logits last) */
    float *deltas;     /* same shape: dLoss/d(pre-activation) */
    size_t *act_off;   /* [n_layers] offsets into acts/deltas */
} mlp_t;

/* Build the layer table for in -> hidden... -> classes and allocate every block.
 * Returns 0 or TS_ERUN (out of memory). */
int mlp_create(mlp_t *m, int in, const int *hidden, int n_hidden, int classes, int max_batch);
void mlp_free(mlp_t *m);

/* Gaussian Glorot weights (std sqrt(2 / (in + out))), zero biases, into dst
 * [n_params]; layer l draws from rng_key(key_seed, purpose, l, salt). */
void mlp_init_params(const mlp_t *m, float *dst, uint64_t seed, int purpose, uint64_t salt);

/* Forward x [b][in] -> logits (returned pointer into acts, [b][classes]). b <= max_batch. */
const float *mlp_forward(mlp_t *m, const float *x, int b);
/* Loss of the last forward: mean cross-entropy over b rows; also counts correct
 * predictions into *correct when not NULL. Leaves softmax - onehot in deltas
 * when want_grad (scaled by 1/b). Returns the summed (not mean) loss in double. */
double mlp_loss(mlp_t *m, const uint8_t *y, int b, int64_t *correct, int want_grad);
/* Backward after mlp_loss(want_grad = 1): fills grads for every parameter. */
void mlp_backward(mlp_t *m, const float *x, int b);

#endif
