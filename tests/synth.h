/*
 * synth.h - a small learnable dataset made in memory for unit tests: 8x8
 * "images" where class k lights up block k, plus noise.
 */
#ifndef TS_SYNTH_H
#define TS_SYNTH_H

#include <stdlib.h>

#include "data.h"
#include "rng.h"

static inline void synth_split(dataset_t *ds, int64_t n, uint64_t seed)
{
    rng_t r;
    rng_init(&r, rng_key(seed, 77, 0, 0));
    ds->n = n;
    ds->dim = 64;
    ds->x = malloc(sizeof(float) * n * 64);
    ds->y = malloc(n);
    for (int64_t i = 0; i < n; i++) {
        int k = (int)rng_below(&r, 10);
        ds->y[i] = (uint8_t)k;
        for (int p = 0; p < 64; p++)
            ds->x[i * 64 + p] = 0.25f * rng_uniform(&r);
        int row = k / 4 * 2, col = k % 4 * 2;
        for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
                ds->x[i * 64 + (row + a) * 8 + col + b] = 0.8f + 0.2f * rng_uniform(&r);
    }
}

static inline void synth_data(data_t *d)
{
    synth_split(&d->train, 1000, 1);
    synth_split(&d->val, 200, 2);
    synth_split(&d->test, 300, 3);
    d->rows = d->cols = 8;
    d->channels = 1;
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
