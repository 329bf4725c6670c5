/*
 * grid.h - the sweep's cells (trials) in a fixed order: rate-major, then
 * round count, then rewind point, then pruning criterion, then seed:
 *   t = (((rate_i * n_rounds + rounds_i) * n_rewind + rewind_i) * n_criteria + criterion_i)
 *       * n_seeds + seed_i
 * Cell t's index never depends on how or where it runs. A job without
 * sweep.rewind has one rewind point (prune.rewind_iteration), one without
 * sweep.criterion one criterion (prune.criterion), so its cells are numbered
 * as before the axes. The criterion axis lists the criteria in PRUNE_*
 * order (prune.h), whatever the job's list's.
 *
 * The rate axis is either sweep.rates (a cell prunes its rate p over n rounds
 * at q = 1 - (1 - p)^(1/n) a round: rates and rounds crossed) or
 * sweep.per_round (a cell prunes q a round for n rounds: rate 1 - (1 - q)^n,
 * the paper's schedule).
 */
#ifndef TS_GRID_H
#define TS_GRID_H

#include <stdint.h>

#include "config.h"

/* One cell of the grid. Defined here, not in trial.h, because the grid makes
 * it (grid_trial: only the grid knows the order of the cells); the planner,
 * the scheduler, the store and trial_run read it. */
typedef struct {
    int index;      /* t in [0, T) */
    int rate_i, rounds_i, rewind_i, criterion_i, seed_i;
    double rate;    /* fraction of weights removed by the last round */
    double q;       /* fraction removed each round */
    int rounds;
    int64_t seed;
    int64_t rewind; /* its rewind iteration k (0: survivors reset to theta0) */
    int criterion;  /* its pruning criterion, PRUNE_* */
} trial_t;

/* Number of cells T. */
int grid_size(const config_t *cfg);
/* The rate axis: sweep.per_round when given, else sweep.rates; *n its length. */
const double *grid_axis(const config_t *cfg, int *n);
/* Cell t of the grid. */
trial_t grid_trial(const config_t *cfg, int t);
/* The rewind axis: sweep.rewind when given, else prune.rewind_iteration
 * alone; *n its length (>= 1). */
const int64_t *grid_rewinds(const config_t *cfg, int *n);
/* Rewind iteration of index i of the axis. */
int64_t grid_rewind(const config_t *cfg, int i);
/* Some k of the axis is > 0: round 0 records rewind points (/rewind). */
int grid_rewinding(const config_t *cfg);
/* The criterion axis into list (PRUNE_N_CRITERIA room): sweep.criterion's,
 * in PRUNE_* order, else prune.criterion alone. Returns its length (>= 1). */
int grid_criteria(const config_t *cfg, int *list);
/* Criterion of index i of the axis. */
int grid_criterion(const config_t *cfg, int i);
/* Largest round count R over the grid. */
int grid_max_rounds(const config_t *cfg);
/* Trainings of a cell computed on its own (no sharing): rounds + 1, plus rounds per control. */
double grid_cost(const config_t *cfg, const trial_t *t);

#endif
