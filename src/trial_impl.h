/*
 * trial_impl.h - what the trainer's files share and nobody else sees:
 * trial.c (the training, its evaluation and the instability analysis) and
 * trial_mask.c (a training's mask and start, its children's masks). The
 * public face is trial.h.
 */
#ifndef TS_TRIAL_IMPL_H
#define TS_TRIAL_IMPL_H

#include <stdint.h>

#include "data.h"
#include "graph.h"
#include "trial.h"

/* data_inputs of n rows into dst, in pieces between the threads (row by row:
 * the same bits however split). rows NULL: rows first .. first + n - 1. */
void trial_inputs(const data_t *d, const dataset_t *ds, const int32_t *rows, int64_t first, int n,
                  float *dst);

/* The ticket children's masks of training x (trial_mask.c): each prunes this
 * round's mask (net->mask) by its planned counts, by prune.criterion of the
 * trained weights (net->params) and `init` (w_init; NULL under magnitude),
 * into children[i] as histories (counts + this round). 0 or TS_ERUN. */
int trial_make_children(trial_ctx_t *c, const graph_t *g, int x, const uint8_t *counts, const float *init,
                        uint8_t **children);

#endif
