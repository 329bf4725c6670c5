/*
 * bench_graph - the planner at scale: plan the graph of trainings of a grid of
 * RATES x ROUNDS x SEEDS cells on LeNet-300-100's shapes (every rank does this
 * at start-up) and print the cells, the distinct trainings against the
 * trainings without sharing, the planning time (median of REPS) and the
 * bytes the plan holds. Rank 0's scheduling tables add about 30 bytes per
 * training and 8 per cell on top (src/sched_root.c: root_setup).
 *
 *   build/bench_graph [RATES ROUNDS SEEDS [REPS]]     (default 50 40 50 5: 100,000 cells)
 *
 * Prints "key value" lines for tools/bench/bench.sh.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "err.h"
#include "graph.h"

int main(int argc, char **argv)
{
    int rates = argc > 3 ? atoi(argv[1]) : 50, rounds = argc > 3 ? atoi(argv[2]) : 40;
    int seeds = argc > 3 ? atoi(argv[3]) : 50, reps = argc > 4 ? atoi(argv[4]) : 5;
    if (rates < 1 || rates > CFG_MAX_LIST || rounds < 1 || rounds > CFG_MAX_LIST || seeds < 1 ||
        seeds > CFG_MAX_LIST || reps < 1) {
        fprintf(stderr, "bench_graph: RATES, ROUNDS, SEEDS in [1, %d], REPS >= 1\n", CFG_MAX_LIST);
        return 2;
    }
    config_t *cfg = calloc(1, sizeof *cfg);
    net_t net;
    graph_t g;
    if (!cfg)
        return 1;
    config_defaults(cfg);
    cfg->n_rates = rates;
    cfg->n_rounds = rounds;
    cfg->n_seeds = seeds;
    for (int i = 0; i < rates; i++)
        cfg->rates[i] = 0.3 + 0.69 * i / rates;
    for (int i = 0; i < rounds; i++)
        cfg->rounds[i] = i + 1;
    for (int i = 0; i < seeds; i++)
        cfg->seeds[i] = i;
    cfg->controls = CTRL_REINIT;
    if (net_layout(&net, cfg, 1, 28, 28, 10)) {
        fprintf(stderr, "bench_graph: %s\n", ts_errmsg());
        return 1;
    }
    double *secs = calloc((size_t)reps, sizeof *secs);
    for (int r = 0; r < reps; r++) {
        double t0 = wall_now();
        if (graph_plan(&g, cfg, &net, 1)) {
            fprintf(stderr, "bench_graph: %s\n", ts_errmsg());
            return 1;
        }
        secs[r] = wall_now() - t0;
        if (r < reps - 1)
            graph_free(&g);
    }
    printf("cells %d\n", g.T);
    printf("trainings %d\n", g.N);
    printf("unshared %lld\n", (long long)g.unshared);
    printf("plan_seconds %.6f\n", median(secs, reps));
    printf("plan_bytes %zu\n", graph_bytes(&g));
    printf("root_table_bytes %.0f\n", (double)g.N * 30 + (double)g.T * 8);
    graph_free(&g);
    net_free(&net);
    free(secs);
    free(cfg);
    return 0;
}
