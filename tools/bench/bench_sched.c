/*
 * bench_sched - the scheduler alone: dispatch the trainings of a grid of N
 * cells (rounds = 1, no controls, no sharing: N * 2 trainings) as empty trainings over the ranks of
 * MPI_COMM_WORLD with sched_run (rank 0 serving between its own "trials", as
 * in a real sweep) and print trials per second and the time rank 0 spends per
 * request. Compared in tools/bench/bench.sh with mpi4py's MPIPoolExecutor running
 * the same number of empty tasks on the same number of ranks.
 *
 *   mpirun -np 8 build/bench_sched N
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "config.h"
#include "data.h"
#include "err.h"
#include "graph.h"
#include "grid.h"
#include "net.h"
#include "sched.h"

/* An empty training: done at once, nothing computed, nothing written. */
static int empty_training(void *arg, trial_ctx_t *c, const graph_t *g, int x, const node_in_t *in,
                          const node_out_t *out, node_result_t *res)
{
    (void)arg, (void)c, (void)g, (void)x, (void)in, (void)out;
    res->density = 1;
    return 0;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size, n = argc > 1 ? atoi(argv[1]) : 10000;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    blas_init();
    /* a grid of n trials (n = rates x seeds) over a one-example data set */
    config_t *cfg = calloc(1, sizeof *cfg);
    config_defaults(cfg);
    cfg->n_rates = 1;
    cfg->rates[0] = 0.5;
    cfg->n_rounds = 1;
    cfg->rounds[0] = 1;
    cfg->n_seeds = 1;
    cfg->hidden[0] = 1;
    cfg->n_hidden = 1;
    cfg->batch = 1;
    cfg->iterations = 1;
    cfg->eval_every = 1;
    int reps = n / CFG_MAX_LIST + 1;
    cfg->n_seeds = CFG_MAX_LIST;
    cfg->n_rates = reps > CFG_MAX_LIST ? CFG_MAX_LIST : reps;
    for (int i = 0; i < CFG_MAX_LIST; i++) {
        cfg->seeds[i] = i;
        cfg->rates[i] = i / 100.0;
    }
    n = grid_size(cfg);
    uint8_t x[1] = {0}, y[1] = {0};
    data_t d = {.train = {1, 1, x, y}, .val = {1, 1, x, y}, .test = {1, 1, x, y}, .rows = 1, .cols = 1,
                .channels = 1};
    net_t layout;
    graph_t g;
    if (net_layout(&layout, cfg, 1, 1, 1, DATA_CLASSES) || graph_plan(&g, cfg, &layout, 0)) {
        fprintf(stderr, "bench_sched: %s\n", ts_errmsg());
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    char *to_run = malloc((size_t)g.N), *cells = malloc((size_t)n);
    memset(to_run, 1, (size_t)g.N);
    memset(cells, 1, (size_t)n);
    sched_opts_t opts = {.grace_seconds = 0, .run = empty_training};
    sched_plan_t plan = {to_run, NULL, NULL, cells};
    sched_stats_t st = {0};
    /* the trial lines go to stderr: send it to /dev/null when running this */
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    int rc = sched_run(MPI_COMM_WORLD, cfg, &d, &g, NULL, &opts, &plan, &st);
    MPI_Barrier(MPI_COMM_WORLD);
    double dt = MPI_Wtime() - t0;
    if (rank == 0)
        printf("%d %d %.6f %.3f %.3f\n", size, g.N, dt, st.served ? 1e6 * st.serve_seconds / st.served : 0,
               st.waits ? 1e6 * st.wait_seconds / st.waits : 0);
    free(to_run);
    free(cells);
    graph_free(&g);
    net_free(&layout);
    free(cfg);
    MPI_Finalize();
    return rc ? 1 : 0;
}
