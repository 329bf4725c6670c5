/*
 * synth.h - a small learnable dataset made in memory for unit tests: 8x8
 * "images" where class k lights up block k, plus noise.
 */
#ifndef TS_SYNTH_H
#define TS_SYNTH_H

#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "rng.h"

/* n rows of the split into images [n][64] and labels [n]. */
static inline void synth_split(uint8_t *x, uint8_t *y, int64_t n, uint64_t seed)
{
    rng_t r;
    rng_init(&r, rng_key(seed, 77, 0, 0));
    for (int64_t i = 0; i < n; i++) {
        int k = (int)rng_below(&r, 10);
        y[i] = (uint8_t)k;
        for (int p = 0; p < 64; p++)
            x[i * 64 + p] = (uint8_t)(64 * rng_uniform(&r));
        int row = k / 4 * 2, col = k % 4 * 2;
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                x[i * 64 + (row + a) * 8 + col + b] = (uint8_t)(204 + 51 * rng_uniform(&r));
    }
}

/* 1000 training, 200 validation and 300 test images of 8x8, in a block d owns. */
static inline void synth_data(data_t *d)
{
    enum { NTR = 1000, NVAL = 200, NTE = 300, DIM = 64 };
    memset(d, 0, sizeof *d);
    d->rows = d->cols = 8;
    d->channels = 1;
    d->train = (dataset_t){NTR, DIM, NULL, NULL};
    d->val = (dataset_t){NVAL, DIM, NULL, NULL};
    d->test = (dataset_t){NTE, DIM, NULL, NULL};
    d->block_bytes = (size_t)(NTR + NVAL + NTE) * (DIM + 1);
    uint8_t *block = malloc(d->block_bytes);
    if (!block)
        abort();
    uint8_t *labels = block + (size_t)(NTR + NVAL + NTE) * DIM;
    synth_split(block, labels, NTR, 1);
    synth_split(block + NTR * DIM, labels + NTR, NVAL, 2);
    synth_split(block + (NTR + NVAL) * DIM, labels + NTR + NVAL, NTE, 3);
    data_attach(d, block);
    d->own = block; /* data_free frees it */
}

/* A small, fast configuration on synth data. */
static inline void synth_config(config_t *c)
{
    config_defaults(c);
    c->hidden[0] = 20;
    c->hidden[1] = 12;
    c->n_hidden = 2;
    c->batch = 20;
    c->iterations = 150;
    c->eval_every = 50;
    c->validation = 200;
    c->lr = 3e-3;
}

#endif
