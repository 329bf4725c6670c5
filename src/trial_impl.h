/*
 * trial_impl.h - what the trainer's files share and nobody else sees:
 * trial.c (a training's steps, evaluations and early stop) and trial_node.c
 * (a training of the plan around them: its mask and start, its children's
 * masks, its instability analysis, and a whole trial). The public face is
 * trial.h.
 */
#ifndef TS_TRIAL_IMPL_H
#define TS_TRIAL_IMPL_H

#include <stdint.h>

#include "data.h"
#include "trial.h"

/* data_inputs of n rows into dst, in pieces between the threads (row by row:
 * the same bits however split). rows NULL: rows first .. first + n - 1. */
void trial_inputs(const data_t *d, const dataset_t *ds, const int32_t *rows, int64_t first, int n,
                  float *dst);

/* One training of `arm`'s round `round` into res (trial.c, where its rules
 * stand): from c->start under net->mask, the data order of (seed, order:
 * the instability analysis's data-order seed, 0 for the sweep's own), its
 * parameters after rewind_iteration steps into rewind when not NULL.
 * Returns 0, TRIAL_FAILED (res->error says why), TRIAL_ABORTED or TS_ERUN. */
int trial_train(trial_ctx_t *c, int64_t seed, uint64_t key, int arm, int round, node_result_t *res,
                float *rewind, int64_t order);

#endif
