/*
 * grid.h - the sweep's trials in a fixed order: rate-major, then round count,
 * then seed. Trial t's index never depends on how or where it runs.
 */
#ifndef TS_GRID_H
#define TS_GRID_H

#include <stdint.h>

#include "config.h"

typedef struct {
    int index;      /* t in [0, T) */
    int rate_i, rounds_i, seed_i;
    double rate;
    int rounds;
    int64_t seed;
} trial_t;

/* Number of trials T. */
int grid_size(const config_t *cfg);
/* Trial t of the grid. */
trial_t grid_trial(const config_t *cfg, int t);
/* Largest round count R over the grid. */
int grid_max_rounds(const config_t *cfg);
/* Relative cost of a trial in trainings: rounds + 1, plus rounds per control. */
double grid_cost(const config_t *cfg, const trial_t *t);

#endif
