/* grid.c - see grid.h. */
#include "grid.h"

int grid_size(const config_t *cfg)
{
    return cfg->n_rates * cfg->n_rounds * cfg->n_seeds;
}

trial_t grid_trial(const config_t *cfg, int t)
{
    trial_t tr;
    tr.index = t;
    tr.seed_i = t % cfg->n_seeds;
    tr.rounds_i = t / cfg->n_seeds % cfg->n_rounds;
    tr.rate_i = t / (cfg->n_seeds * cfg->n_rounds);
    tr.rate = cfg->rates[tr.rate_i];
    tr.rounds = cfg->rounds[tr.rounds_i];
    tr.seed = cfg->seeds[tr.seed_i];
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
    int controls = !!(cfg->controls & CTRL_REINIT) + !!(cfg->controls & CTRL_RANDOM);
    return (double)(t->rounds + 1) + (double)t->rounds * controls;
}
