/*
 * status.c - `ticketsweep status FILE.h5` (status.h): the job of a results
 * file, a line per trial, the counts of trials and trainings, the numerics
 * the trainings ran with and, when the sweep is not complete, the command
 * that resumes it. Read-only: works while another job writes the file.
 */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "cli.h"
#include "config.h"
#include "data.h"
#include "err.h"
#include "graph.h"
#include "grid.h"
#include "net.h"
#include "prov.h"
#include "status.h"
#include "store.h"
#include "trial.h"
#include "util.h"

/* The job of a results file, in a few lines: model, data, schedule, grid. */
static void status_print_job(const config_t *cfg, const int shape[3])
{
    char v[4][CFG_PATH + 64];
    config_value(cfg, "model.conv", v[0], sizeof v[0]);
    config_value(cfg, "model.hidden", v[1], sizeof v[1]);
    printf("  model     %s: %s%s%shidden %s; input %dx%dx%d; dropout %g\n", config_arch_name(cfg),
           v[0][0] ? "conv " : "", v[0], v[0][0] ? "; " : "", v[1], shape[0], shape[1], shape[2], cfg->dropout);
    config_value(cfg, "data.format", v[0], sizeof v[0]);
    if (cfg->format == FORMAT_CIFAR10)
        printf("  data      %s: train %s; test %s", v[0], cfg->train_images, cfg->test_images);
    else
        printf("  data      %s: train %s, %s; test %s, %s", v[0], cfg->train_images, cfg->train_labels,
               cfg->test_images, cfg->test_labels);
    config_value(cfg, "data.normalize", v[1], sizeof v[1]);
    if (cfg->split == SPLIT_RANDOM)
        printf(" (%lld random training images validate, split_seed %lld; normalize %s)\n",
               (long long)cfg->validation, (long long)cfg->split_seed, v[1]);
    else
        printf(" (the last %lld training images validate; normalize %s)\n", (long long)cfg->validation, v[1]);
    config_value(cfg, "train.optimizer", v[0], sizeof v[0]);
    config_value(cfg, "prune.scope", v[1], sizeof v[1]);
    config_value(cfg, cfg->criteria ? "sweep.criterion" : "prune.criterion", v[2], sizeof v[2]);
    printf("  schedule  %lld iterations a round, evaluated every %lld%s; %s, lr %g, batch %d; pruning %s by %s, "
           "output at %gx, convolutions at %gx; ", (long long)cfg->iterations, (long long)cfg->eval_every,
           cfg->test_curve == TEST_CURVE_EARLY_STOP ? " (the test set at the early stop and the end only: "
                                                      "test_curve = early_stop)" : "",
           v[0], cfg->lr, cfg->batch, v[1], v[2], cfg->output_scale, cfg->conv_scale);
    if (cfg->n_rewinds > 0) {
        config_value(cfg, "sweep.rewind", v[0], sizeof v[0]);
        printf("survivors rewound to each iteration of sweep.rewind = %s (a cell's own; 0: theta0); later "
               "rounds train %s\n", v[0],
               cfg->rewind_schedule == REWIND_CONTINUE
                   ? "from their rewind point on (rewind_schedule continue: round 0's data order, a fresh optimizer)"
                   : "iterations 0 on (rewind_schedule restart: the data order from the start)");
    } else if (cfg->rewind_iteration > 0 && cfg->rewind_schedule == REWIND_CONTINUE)
        printf("survivors rewound to iteration %lld; later rounds train iterations %lld to %lld "
               "(rewind_schedule continue: round 0's data order, a fresh optimizer)\n",
               (long long)cfg->rewind_iteration, (long long)cfg->rewind_iteration, (long long)cfg->iterations);
    else if (cfg->rewind_iteration > 0)
        printf("survivors rewound to iteration %lld; later rounds train iterations 0 to %lld "
               "(rewind_schedule restart: the data order from the start)\n",
               (long long)cfg->rewind_iteration, (long long)cfg->iterations);
    else
        printf("survivors reset to theta0\n");
    int per_round = cfg->n_per_round > 0;
    config_value(cfg, per_round ? "sweep.per_round" : "sweep.rates", v[0], sizeof v[0]);
    config_value(cfg, "sweep.rounds", v[1], sizeof v[1]);
    config_value(cfg, "sweep.seeds", v[2], sizeof v[2]);
    config_value(cfg, "prune.controls", v[3], sizeof v[3]);
    char rw[256] = "";
    if (cfg->n_rewinds > 0) {
        char list[200];
        config_value(cfg, "sweep.rewind", list, sizeof list);
        snprintf(rw, sizeof rw, " x rewind %s", list);
    }
    if (cfg->criteria) {
        char list[160];
        size_t used = strlen(rw);
        config_value(cfg, "sweep.criterion", list, sizeof list);
        snprintf(rw + used, sizeof rw - used, " x criterion %s", list);
    }
    printf("  grid      %s %s x rounds %s%s x seeds %s = %d trials; controls %s%s\n", per_round ? "per_round" : "rates",
           v[0], v[1], rw, v[2], grid_size(cfg), v[3],
           cfg->pai_shuffle ? " (pai_shuffle: pruning at initialisation's masks permuted within each layer)" : "");
    if (cfg->copies >= 2) {
        char seeds[256] = "";
        for (int j = 0, used = 0; j < cfg->copies && used < (int)sizeof seeds; j++)
            used += snprintf(seeds + used, sizeof seeds - used, "%s%lld", j ? ", " : "",
                             (long long)trial_data_seed(cfg, j));
        printf("  analysis  instability: %d copies of every ticket training (data-order seeds %s), "
               "%d points on each of their %d lines (/instability)\n",
               cfg->copies, seeds, cfg->interpolation, trial_pairs(cfg));
    }
}

/* Trainings of cell t (distinct ones: the arms share round 0) and how many are done. */
static void cell_trainings(const graph_t *g, const int8_t *nst, int t, int *total, int *done)
{
    *total = *done = 0;
    for (int arm = 0; arm < N_ARMS; arm++)
        for (int k = arm == ARM_TICKET ? 0 : 1; k <= g->cell_rounds[t]; k++) {
            int32_t x = graph_cell_node(g, t, arm, k);
            if (x >= 0) {
                (*total)++;
                *done += nst[x] == STATUS_DONE;
            }
        }
}

enum { SHOW_PENDING, SHOW_DONE, SHOW_FAILED, SHOW_PARTIAL };

/* One line of trial t; returns what it showed (SHOW_*), or an error code (< 0). */
static int status_print_trial(store_t *s, const config_t *cfg, const graph_t *g, const int8_t *st,
                              const int8_t *nst, int t, trial_result_t *res)
{
    static const char *names[] = {"pending", "done", "failed", "partial"};
    trial_t tr = grid_trial(cfg, t);
    int total, done, rc, rank;
    cell_trainings(g, nst, t, &total, &done);
    int k = st[t] == STATUS_DONE || st[t] == STATUS_FAILED ? st[t] : done > 0 ? SHOW_PARTIAL : SHOW_PENDING;
    char trainings[32], host[64], err[160];
    double wall;
    snprintf(trainings, sizeof trainings, "%d/%d", done, total);
    printf("%-6d %-8g %-6d %-8lld %-8s ", t, tr.rate, tr.rounds, (long long)tr.seed, names[k]);
    if (k == SHOW_PENDING || k == SHOW_PARTIAL) {
        printf("%s\n", trainings);
        return k;
    }
    trial_result_clear(res);
    if ((rc = store_read_summary(s, t, res->density[ARM_TICKET], res->es_test_acc[ARM_TICKET])) ||
        (rc = store_read_ledger(s, t, &wall, &rank, host, err)))
        return rc;
    printf("%-9s %-5d %-16.16s %9.1f %9.4f %9.4f%s%s\n", trainings, rank, host, wall,
           res->density[ARM_TICKET][tr.rounds], res->es_test_acc[ARM_TICKET][tr.rounds], err[0] ? "  " : "", err);
    return k;
}

/* The advice on the done trainings (status [N]) that ran OpenBLAS's generic
 * kernels (prov_blas_advice), printed; nothing for a file of a release that
 * did not record them. */
static int status_blas(store_t *s, const char *path, int N, const int8_t *status)
{
    prov_t here, *rows = ts_calloc((size_t)N + 1, sizeof *rows);
    int8_t *done = ts_calloc((size_t)N + 1, 1);
    char out[4096];
    int recorded = 0, rc = rows && done ? store_read_prov(s, rows, &recorded) : TS_ERUN;
    for (int x = 0; !rc && x < N; x++)
        done[x] = status[x] == STATUS_DONE;
    prov_here(&here);
    if (!rc && recorded && (rc = prov_blas_advice(rows, done, N, here.field[PROV_CPU], blas_cpu_isa(), path,
                                                  out, sizeof out)) > 0) {
        fputs(out, stdout);
        rc = 0;
    }
    free(rows);
    free(done);
    return rc;
}

/* The trials' lines and counts, the trainings' counts; *outcome as merge's. */
static int status_report(store_t *s, const char *path, const config_t *cfg, const graph_t *g,
                         trial_result_t *res, int *outcome)
{
    int T = grid_size(cfg), n[4] = {0}, m[3] = {0}, rc;
    int8_t *st = calloc((size_t)T + 1, 1), *nst = calloc((size_t)g->NA + 1, 1);
    double *nwall = calloc((size_t)g->NA + 1, sizeof *nwall), secs = 0;
    if (!st || !nst || !nwall) {
        rc = ts_fail(TS_ERUN, "out of memory");
        goto out_free;
    }
    if ((rc = store_read_status(s, st)) || (rc = store_read_all_nodes(s, nst, nwall)))
        goto out_free;
    printf("%-6s %-8s %-6s %-8s %-8s %-9s %-5s %-16s %9s %9s %9s  %s\n", "trial", "rate", "rounds", "seed",
           "status", "trainings", "rank", "host", "wall_s", "density", "es_acc", "error");
    for (int t = 0; t < T; t++) {
        int k = status_print_trial(s, cfg, g, st, nst, t, res);
        if (k < 0) {
            rc = k;
            goto out_free;
        }
        n[k]++;
    }
    for (int x = 0; x < g->N; x++) {
        m[nst[x] >= 0 && nst[x] <= 2 ? nst[x] : 0]++;
        if (nst[x] == STATUS_DONE && nwall[x] == nwall[x])
            secs += nwall[x];
    }
    printf("%s: %d trials: %d done, %d failed, %d pending", path, T, n[SHOW_DONE], n[SHOW_FAILED],
           n[SHOW_PENDING] + n[SHOW_PARTIAL]);
    if (n[SHOW_PARTIAL])
        printf(" (%d of them partial: some of their trainings done)", n[SHOW_PARTIAL]);
    printf("\n");
    printf("%s: %d trainings (%lld without sharing): %d done, %d failed, %d pending; %.1f s of training done\n",
           path, g->N, (long long)g->unshared, m[1], m[2], m[0], secs);
    if (g->NA > g->N && store_has_copies(s)) { /* the instability analysis's copies and lines */
        int c[2][3] = {{0}};
        double cs = 0;
        for (int y = g->N; y < g->NA; y++) {
            c[g->nodes[y].kind == NODE_LINE][nst[y] >= 0 && nst[y] <= 2 ? nst[y] : 0]++;
            if (nst[y] == STATUS_DONE && nwall[y] == nwall[y])
                cs += nwall[y];
        }
        printf("%s: instability analysis: %d copies: %d done, %d failed, %d pending; %d lines: %d done, "
               "%d failed, %d pending; %.1f s done\n", path, c[0][0] + c[0][1] + c[0][2], c[0][1], c[0][2],
               c[0][0], c[1][0] + c[1][1] + c[1][2], c[1][1], c[1][2], c[1][0], cs);
    }
    char mix[1024];
    if (store_numerics(s, g->N, nst, mix, sizeof mix) > 1) /* trainings done on different numerics */
        printf("%s: %s\n", path, mix);
    if ((rc = status_blas(s, path, g->N, nst)))
        goto out_free;
    int pending = n[SHOW_PENDING] + n[SHOW_PARTIAL];
    *outcome = pending ? EXIT_INTERRUPTED : n[SHOW_FAILED] ? EXIT_TRIALS_FAILED : 0;
out_free:
    free(st);
    free(nst);
    free(nwall);
    return rc;
}

/* status --job: the file's job as a job file (its resolved configuration). */
static int status_job(const char *path)
{
    config_t *cfg = calloc(1, sizeof *cfg);
    int shape[3], rc;
    char hash[17];
    if (!cfg)
        return ts_fail(TS_ERUN, "out of memory");
    if (!(rc = store_peek(path, cfg, shape, hash, NULL))) {
        char *text = config_to_string(cfg);
        if (text)
            printf("; the job of %s (config hash %s)\n%s", path, hash, text);
        else
            rc = TS_ERUN;
        free(text);
    }
    free(cfg);
    return rc;
}

/* `ticketsweep status` (status.h). */
int status_command(int argc, char **argv, int *outcome)
{
    *outcome = 0;
    if (cli_wants_help(argc, argv)) {
        cli_usage_command(stdout, "status");
        return 0;
    }
    const char *path = NULL;
    int job_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--job"))
            job_only = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return ts_fail(TS_EINPUT, "status: unknown option '%s' (see status --help)", argv[i]);
        else if (path)
            return ts_fail(TS_EINPUT, "status: unexpected argument '%s' (ticketsweep status FILE.h5)", argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return ts_fail(TS_EINPUT, "status: usage: ticketsweep status FILE.h5 (see status --help)");
    if (job_only)
        return status_job(path);
    config_t *cfg = calloc(1, sizeof *cfg);
    net_t layout = {0};
    graph_t g = {0};
    store_t *s = NULL;
    trial_result_t res = {0};
    int shape[3], rc, shared = 1;
    char hash[17];
    if (!cfg)
        return ts_fail(TS_ERUN, "out of memory");
    if ((rc = store_peek(path, cfg, shape, hash, &shared)) ||
        (rc = net_layout(&layout, cfg, shape[0], shape[1], shape[2], DATA_CLASSES)) ||
        (rc = graph_plan(&g, cfg, &layout, shared)) ||
        (rc = trial_result_create(&res, cfg, &layout)) ||
        (rc = store_open(&s, path, MPI_COMM_SELF, cfg, &layout, &g, 1)))
        goto out;
    printf("%s: a sweep of %d trials (job hash %s%s)\n", path, grid_size(cfg), hash,
           shared ? "" : ", --no-share");
    status_print_job(cfg, shape);
    rc = status_report(s, path, cfg, &g, &res, outcome);
    int rc2 = store_close(s);
    rc = rc ? rc : rc2;
    if (!rc && *outcome) {
        char cmd[PATH_MAX + 128];
        cli_resume_command(cmd, sizeof cmd, "JOB.ini", path, NULL);
        printf("%s: to %s: %s\n    (JOB.ini: the job file the sweep was started with; "
               "ticketsweep status %s --job > JOB.ini writes it)\n",
               path, *outcome == EXIT_INTERRUPTED ? "finish the sweep" : "run the failed trials again", cmd,
               path);
    }
out:
    trial_result_free(&res);
    graph_free(&g);
    net_free(&layout);
    free(cfg);
    return rc;
}
