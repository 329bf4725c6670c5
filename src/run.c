/*
 * run.c - `ticketsweep run` on every rank (run.h): parse the options, load
 * the job and the data, plan the graph, claim and create (or open) the
 * results file, print the run's context, run the sweep (sched_run), close.
 * A dry run stops after the plan and prices the job instead (price.c).
 */
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "blas.h"
#include "claim.h"
#include "cli.h"
#include "config.h"
#include "data.h"
#include "err.h"
#include "graph.h"
#include "grid.h"
#include "net.h"
#include "nodedata.h"
#include "par.h"
#include "price.h"
#include "prov.h"
#include "run.h"
#include "sched.h"
#include "store.h"
#include "trial.h"
#include "util.h"

static int world_rank, world_size;
static int threads_lo, threads_hi, run_threads_given; /* the ranks' threads (run's context) */
static double t_init;          /* ts_now() when MPI_Init_thread returned (run_started) */
static claim_t *claim;          /* rank 0's claim on the file run writes (merge takes its own) */

void run_started(double when)
{
    t_init = when;
}

/* The scheduler's question (sched_opts_t.lost): was rank 0's claim taken over? */
static int claim_gone(void *arg)
{
    (void)arg;
    return claim_lost(claim);
}

/* Claim the results file before anything touches it (see claim.h). */
static int take_claim(const char *output, const char *job_hash, double timeout, const char *what)
{
    claim_opts_t o = {.timeout = timeout, .what = what, .log = stderr};
    return claim_take(&claim, output, job_hash, &o);
}

/* Give the claim up, whatever the outcome; failing to only warns. */
static void drop_claim(void)
{
    if (claim && claim_release(claim))
        fprintf(stderr, "ticketsweep: warning: %s\n", ts_errmsg());
    claim = NULL;
}

/*
 * Agree on an outcome across ranks: the worst code wins everywhere. The
 * message is printed once: by rank 0 if it failed, else by the failing ranks.
 */
static int agree(int rc)
{
    int all, rc0 = rc;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Bcast(&rc0, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (all && rc && (world_rank == 0 || rc0 == 0)) {
        if (world_size > 1 && world_rank > 0)
            fprintf(stderr, "ticketsweep: rank %d: %s\n", world_rank, ts_errmsg());
        else
            fprintf(stderr, "ticketsweep: %s\n", ts_errmsg());
    }
    return all;
}

/* A failure after the ranks went their own ways: print and end the whole job. */
static void die(int rc)
{
    fprintf(stderr, "ticketsweep: rank %d: %s\n", world_rank, ts_errmsg());
    fflush(stderr);
    drop_claim();
    if (world_size > 1)
        MPI_Abort(MPI_COMM_WORLD, cli_exit_code(rc));
    MPI_Finalize();
    exit(cli_exit_code(rc));
}

static int load_config(config_t *cfg, const run_args_t *a)
{
    config_defaults(cfg);
    int rc = config_load(cfg, a->job);
    for (int i = 0; !rc && i < a->n_sets; i++)
        rc = config_set(cfg, a->sets[i]);
    return rc ? rc : config_validate(cfg);
}

/* The run's context, once (rank 0): IOR's PrintHeader. */
static void print_header(const char *command_line, const config_t *cfg, const net_t *layout,
                         const run_args_t *a, int T, int to_run, const data_t *data, const node_data_t *nd)
{
    char name[MPI_MAX_PROCESSOR_NAME], *all = NULL, lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len, hosts = 0;
    unsigned maj, min, rel;
    MPI_Get_processor_name(name, &len);
    if (world_rank == 0)
        all = calloc((size_t)world_size, MPI_MAX_PROCESSOR_NAME);
    MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0,
               MPI_COMM_WORLD);
    if (world_rank != 0)
        return;
    for (int i = 0; all && i < world_size; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(all + (size_t)i * MPI_MAX_PROCESSOR_NAME, all + (size_t)j * MPI_MAX_PROCESSOR_NAME);
        hosts += !seen;
    }
    free(all);
    MPI_Get_library_version(lib, &len);
    char *nl = strchr(lib, '\n');
    if (nl)
        *nl = 0;
    H5get_libversion(&maj, &min, &rel);
    fprintf(stderr, "ticketsweep %s: %s\n  ranks %d on %d host%s; %s; HDF5 %u.%u.%u; %s\n", ts_version(),
            command_line, world_size, hosts,
            hosts == 1 ? "" : "s", lib, maj, min, rel, blas_version());
    nodedata_print(stderr, data, nd);
    fprintf(stderr, "  threads per rank: %d", par_threads());
    if (threads_lo != threads_hi)
        fprintf(stderr, " (rank 0; %d to %d across ranks)", threads_lo, threads_hi);
    fprintf(stderr, " (%s); a training's batch runs in %d chunk%s (train.chunks), results the same whatever the threads\n",
            run_threads_given ? "--threads" : "the default: the affinity mask's cores, shared by the node's ranks",
            config_chunks(cfg->batch, cfg->chunks), config_chunks(cfg->batch, cfg->chunks) == 1 ? "" : "s");
    prov_t p;
    prov_here(&p);
    prov_conv(&p, net_conv_kernels(layout, cfg->kernels));
    fprintf(stderr, "  numerics (rank 0; each training records its own): %s; %s; OpenBLAS core %s; "
                    "OPENBLAS_CORETYPE %s; OPENBLAS_L2_SIZE %s; convolutions %s\n",
            p.field[PROV_CPU], p.field[PROV_SIMD], p.field[PROV_BLAS_CORE],
            p.field[PROV_CORETYPE][0] ? p.field[PROV_CORETYPE] : "unset",
            p.field[PROV_L2_SIZE][0] ? p.field[PROV_L2_SIZE] : "unset", p.field[PROV_CONV]);
    fprintf(stderr, "  output %s; %d trials in the grid, %d to run", a->output, T, to_run);
    if (a->shard_n > 1)
        fprintf(stderr, " (shard %d/%d)", a->shard_i, a->shard_n);
    fprintf(stderr, "\n  resolved configuration:\n");
    char *text = config_to_string(cfg);
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n"))
        fprintf(stderr, "    %s\n", line);
    free(text);
}


/* Once, at the start of a run (rank 0): when this node's OpenBLAS runs its
 * generic kernels on a CPU that has AVX2 or AVX-512, say so with the remedy
 * and its cost. Other nodes' ranks may differ; `status` judges them all. */
static void warn_blas_core(void)
{
    char advice[1024];
    if (blas_core_advice_here(advice, sizeof advice))
        fprintf(stderr, "ticketsweep: warning: rank 0's node runs %s\n", advice);
}


/* What the file says is done: nodes (trainings, copies, lines: [NA]) and
 * cells (rank 0; all pending when new). */
static int read_done(store_t *store, const graph_t *g, int resumed, char *node_done, double *wall,
                     int8_t *cell_status)
{
    int rc = 0;
    int8_t *st = calloc((size_t)g->NA + 1, 1);
    if (!st)
        return ts_fail(TS_ERUN, "out of memory");
    for (int x = 0; x < g->NA; x++)
        wall[x] = NAN;
    if (resumed && !(rc = store_read_all_nodes(store, st, wall)))
        rc = store_read_status(store, cell_status);
    for (int x = 0; x < g->NA; x++)
        node_done[x] = st[x] == STATUS_DONE;
    free(st);
    return rc;
}

/* `ticketsweep run` (run.h). Errors before the sweep are agreed across ranks
 * (agree) and end every rank cleanly; one after the ranks went their own
 * ways ends the job (die). Owns what it makes (the job, the data, the layer
 * table, the graph, the store, rank 0's claim) and releases it on every path
 * but die's. */
int run_command(int argc, char **argv, const char *command_line)
{
    run_args_t a;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    config_t *cfg = ts_calloc(1, sizeof *cfg);
    data_t data = {0};
    node_data_t nd = NODE_DATA_INIT;
    net_t layout = {0};
    graph_t g = {0};
    store_t *store = NULL;
    int rc = cfg ? cli_parse_run(argc, argv, &a) : TS_ERUN;
    if (rc == 1) {
        if (world_rank == 0)
            cli_usage_command(stdout, "run");
        free(cfg);
        return 0;
    }
    if (!rc)
        rc = load_config(cfg, &a);
    if (!rc && world_rank == 0 && !a.dry_run) { /* a dry run writes nothing, claims nothing */
        char hash[17];
        config_hash(cfg, hash);
        rc = take_claim(a.output, hash, a.claim_timeout, "run");
    }
    if ((rc = agree(rc)))
        goto out;
    if ((rc = agree(nodedata_load(&nd, &data, cfg))))
        goto out;
    par_set_threads(a.threads ? a.threads : nodedata_default_threads(&nd));
    run_threads_given = a.threads > 0;
    threads_lo = threads_hi = par_threads();
    MPI_Allreduce(MPI_IN_PLACE, &threads_lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &threads_hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    rc = net_layout(&layout, cfg, data.channels, data.rows, data.cols, DATA_CLASSES);
    if (!rc)
        rc = graph_plan(&g, cfg, &layout, !a.no_share);
    if ((rc = agree(rc)))
        goto out;
    if (a.dry_run) {
        rc = world_rank == 0 ? price_dry_run(cfg, &data, &layout, &g, &a, nd.node_size) : 0;
        if ((rc = agree(rc)))
            goto out;
        graph_free(&g);
        nodedata_free(&nd, &data);
        net_free(&layout);
        free(cfg);
        return 0;
    }

    /* Never touch an existing file unless told to. */
    int exists = 0;
    struct stat st_out;
    if (world_rank == 0)
        exists = stat(a.output, &st_out) == 0 ? (S_ISDIR(st_out.st_mode) ? 2 : 1) : 0;
    MPI_Bcast(&exists, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (exists == 2)
        rc = ts_fail(TS_EINPUT, "%s: is a directory: give a file name with -o", a.output);
    else
    if (exists && !a.resume && !a.force)
        rc = ts_fail(TS_EINPUT, "%s: already exists: use --resume to continue it or --force to start over",
                     a.output);
    if (!rc)
        rc = price_check_resources(cfg, &layout, &g, &data, nd.node_size, a.output,
                                   world_rank == 0 && !(exists && a.resume));
    if ((rc = agree(rc)))
        goto out;
    int resumed = exists && a.resume;
    if (resumed) {
        config_t *old = ts_calloc(1, sizeof *old);
        int shape[3];
        char hash[17];
        /* rank 0 reads the file's job (the others learn the outcome from agree) */
        rc = !old ? TS_ERUN : world_rank == 0 ? store_peek(a.output, old, shape, hash, NULL) : 0;
        if (!rc && world_rank == 0 && (shape[0] != data.channels || shape[1] != data.rows || shape[2] != data.cols))
            rc = ts_fail(TS_EINPUT, "%s: was made for %dx%dx%d inputs, the data are %dx%dx%d",
                         a.output, shape[0], shape[1], shape[2], data.channels, data.rows, data.cols);
        free(old);
        if ((rc = agree(rc)))
            goto out;
        rc = store_open(&store, a.output, MPI_COMM_WORLD, cfg, &layout, &g, 0);
        if (!rc && !store_has_copies(store)) { /* its trainings hold their copies: nowhere to put ours */
            store_close(store); /* collective: every rank opened it and sees the same */
            store = NULL;
            rc = ts_fail(TS_EINPUT, "%s: was made by an earlier release, whose instability analysis trained "
                         "the copies inside their training; this release keeps them apart (/copies): "
                         "finish it with the release that made it, or start a new file", a.output);
        }
    } else {
        rc = store_create(&store, a.output, MPI_COMM_WORLD, cfg, &layout, &g, 1);
    }
    if ((rc = agree(rc)))
        goto out;

    int T = grid_size(cfg), N = g.NA, cells_run = 0, nodes_run = 0;
    char *to_run = calloc((size_t)N + 1, 1), *node_done = calloc((size_t)N + 1, 1);
    char *cells = calloc((size_t)T + 1, 1);
    double *wall = calloc((size_t)N + 1, sizeof *wall);
    int8_t *status = calloc((size_t)T + 1, 1);
    if (!to_run || !node_done || !cells || !wall || !status)
        die(ts_fail(TS_ERUN, "out of memory"));
    if (world_rank == 0 && (rc = read_done(store, &g, resumed, node_done, wall, status)))
        die(rc);
    for (int t = 0; t < T; t++)
        if (t % a.shard_n == a.shard_i && status[t] != STATUS_DONE) {
            cells[t] = 1;
            cells_run++;
        }
    graph_shard_nodes(&g, a.shard_i, a.shard_n, to_run);
    for (int x = 0; x < N; x++) {
        to_run[x] = to_run[x] && !node_done[x];
        nodes_run += to_run[x];
    }
    print_header(command_line, cfg, &layout, &a, T, cells_run, &data, &nd);
    if (world_rank == 0) {
        fprintf(stderr, "  trainings: %d distinct of %lld (%s)", g.N, (long long)g.unshared,
                g.shared ? "shared between cells" : "--no-share");
        if (g.NA > g.N)
            fprintf(stderr, "; instability analysis: %d copies, %d lines", g.NA - g.N - g.n_lines, g.n_lines);
        fprintf(stderr, "; %d to run\n", nodes_run);
        warn_blas_core();
    }

    char hint[4 * PATH_MAX];
    cli_resume_command(hint, sizeof hint, a.job, a.output, &a);
    sched_opts_t opts = {.grace_seconds = a.grace, .resume_hint = hint, .lost = claim_gone};
    sched_plan_t plan = {to_run, node_done, wall, cells};
    sched_stats_t st = {0};
    sched_install_signals();
    double t_sweep = ts_now();
    if ((rc = sched_run(MPI_COMM_WORLD, cfg, &data, &g, store, &opts, &plan, &st)))
        die(rc);
    double t_close = ts_now();
    long long writes = store_write_count(store);
    MPI_Allreduce(MPI_IN_PLACE, &writes, 1, MPI_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    if ((rc = agree(store_close(store))))
        goto out;
    double t_end = ts_now();
    drop_claim();
    free(to_run);
    free(node_done);
    free(cells);
    free(wall);
    free(status);
    if (world_rank == 0) {
        double util = st.seconds > 0 ? st.busy_seconds / (st.seconds * world_size) : 0;
        fprintf(stderr, "ticketsweep: trials %d done, %d failed, %d pending; %s %d done, %d failed, "
                        "%d pending; in %.1f s; results in %s\n",
                st.cells_done, st.cells_failed, st.cells_pending,
                g.NA > g.N ? "trainings, copies and lines" : "trainings", st.done, st.failed, st.pending,
                st.seconds, a.output);
        fprintf(stderr, "ticketsweep: rank utilisation %.1f%%, HDF5 writes %.2f%% of training time, "
                        "dispatch %.1f us per request at rank 0, %.1f us waited per training by workers; "
                        "%.3g MB of inputs sent, at most %.3g MB held at rank 0\n",
                100 * util, st.busy_seconds > 0 ? 100 * st.write_seconds / st.busy_seconds : 0,
                st.served ? 1e6 * st.serve_seconds / st.served : 0,
                st.waits ? 1e6 * st.wait_seconds / st.waits : 0, st.sent_bytes / 1e6,
                st.peak_held_bytes / 1e6);
        fprintf(stderr, "ticketsweep: start-up %.2f s (after MPI_Init: job, data, plan, file), sweep %.2f s, "
                        "closing the file %.2f s, on %d ranks; %lld HDF5 writes (%.1f a training)\n",
                t_sweep - t_init, t_close - t_sweep, t_end - t_close, world_size, writes,
                st.done + st.failed > 0 ? (double)writes / (st.done + st.failed) : 0.0);
        if (st.interrupted)
            fprintf(stderr, "ticketsweep: interrupted; to finish: %s\n", hint);
    }
    int ints[2] = {st.interrupted || st.pending > 0, st.failed};
    MPI_Bcast(ints, 2, MPI_INT, 0, MPI_COMM_WORLD);
    rc = ints[0] ? EXIT_INTERRUPTED : ints[1] ? EXIT_TRIALS_FAILED : 0;
    graph_free(&g);
    nodedata_free(&nd, &data);
    net_free(&layout);
    free(cfg);
    return rc;
out:
    graph_free(&g);
    drop_claim();
    nodedata_free(&nd, &data);
    net_free(&layout);
    free(cfg);
    return cli_exit_code(rc);
}
