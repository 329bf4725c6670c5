/* grid.c - see grid.h. */
#include <math.h>

#include "grid.h"
#include "prune.h"

const double *grid_axis(const config_t *cfg, int *n)
{
    *n = cfg->n_per_round > 0 ? cfg->n_per_round : cfg->n_rates;
    return cfg->n_per_round > 0 ? cfg->per_round : cfg->rates;
}

const int64_t *grid_rewinds(const config_t *cfg, int *n)
{
    *n = cfg->n_rewinds > 0 ? cfg->n_rewinds : 1;
    return cfg->n_rewinds > 0 ? cfg->rewinds : &cfg->rewind_iteration;
}

int64_t grid_rewind(const config_t *cfg, int i)
{
    int n;
    return grid_rewinds(cfg, &n)[i];
}

int grid_rewinding(const config_t *cfg)
{
    int n;
    const int64_t *k = grid_rewinds(cfg, &n);
    for (int i = 0; i < n; i++)
        if (k[i] > 0)
            return 1;
    return 0;
}

int grid_criteria(const config_t *cfg, int *list)
{
    int n = 0;
    for (int c = 0; c < PRUNE_N_CRITERIA; c++)
        if (cfg->criteria & (1 << c))
            list[n++] = c;
    if (n == 0)
        list[n++] = cfg->criterion;
    return n;
}

int grid_criterion(const config_t *cfg, int i)
{
    int list[PRUNE_N_CRITERIA];
    grid_criteria(cfg, list);
    return list[i];
}

int grid_size(const config_t *cfg)
{
    int n, K, list[PRUNE_N_CRITERIA];
    grid_axis(cfg, &n);
    grid_rewinds(cfg, &K);
    return n * cfg->n_rounds * K * grid_criteria(cfg, list) * cfg->n_seeds;
}

trial_t grid_trial(const config_t *cfg, int t)
{
    trial_t tr;
    int n;
    const double *axis = grid_axis(cfg, &n);
    tr.index = t;
    int K, crit[PRUNE_N_CRITERIA], C = grid_criteria(cfg, crit);
    const int64_t *ks = grid_rewinds(cfg, &K);
    tr.seed_i = t % cfg->n_seeds;
    tr.criterion_i = t / cfg->n_seeds % C;
    tr.rewind_i = t / (cfg->n_seeds * C) % K;
    tr.rounds_i = t / (cfg->n_seeds * C * K) % cfg->n_rounds;
    tr.rate_i = t / (cfg->n_seeds * C * K * cfg->n_rounds);
    tr.rewind = ks[tr.rewind_i];
    tr.criterion = crit[tr.criterion_i];
    tr.rounds = cfg->rounds[tr.rounds_i];
    tr.seed = cfg->seeds[tr.seed_i];
    if (cfg->n_per_round > 0) {
        tr.q = axis[tr.rate_i];
        tr.rate = 1.0 - pow(1.0 - tr.q, tr.rounds);
    } else {
        tr.rate = axis[tr.rate_i];
        tr.q = 1.0 - pow(1.0 - tr.rate, 1.0 / tr.rounds);
    }
    return tr;
}

int grid_max_rounds(const config_t *cfg)
{
    int r = 0;
    for (int i = 0; i < cfg->n_rounds; i++)
        if (cfg->rounds[i] > r)
            r = cfg->rounds[i];
    return r;
}

double grid_cost(const config_t *cfg, const trial_t *t)
{
    /* the controls' round 0 is the ticket's: they train rounds 1..n */
    int controls = __builtin_popcount((unsigned)cfg->controls);
    return (double)(t->rounds + 1) + (double)t->rounds * controls;
}
