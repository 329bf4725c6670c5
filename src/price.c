/*
 * price.c - what a sweep costs, before it runs: `run --dry-run`'s report (the
 * cells, the distinct trainings, core-hours timed on this machine, the file's
 * size, the memory of a rank and of a node, and the job's wall clock on each
 * layout of ranks x threads, replayed through plan_sim), and the check that
 * refuses a run whose ranks cannot fit in the host's memory or whose file
 * cannot fit on its disk (price.h). No MPI: the caller says how many ranks
 * share the host.
 *
 * The memory model is the allocating modules' own where they say it: a
 * trainer's bytes are trial_ctx_bytes', pruning's prune_bytes', the file's
 * store_estimate_bytes', the plan's graph_bytes', the scheduler's
 * sched_rank_bytes' (and rank 0's tables, sched_root_bytes').
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blas.h"
#include "cli.h"
#include "config.h"
#include "data.h"
#include "err.h"
#include "graph.h"
#include "grid.h"
#include "net.h"
#include "par.h"
#include "plan_sim.h"
#include "sched.h"
#include "price.h"
#include "prune.h"
#include "rng.h"
#include "store.h"
#include "trial.h"

/* MemAvailable from /proc/meminfo in bytes (free pages where it is missing). */
static double mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb >= 0 ? kb * 1024 : (double)sysconf(_SC_AVPHYS_PAGES) * sysconf(_SC_PAGESIZE);
}

/* OpenBLAS's buffers, Open MPI's and HDF5's: what a rank of a LeNet sweep
 * holds besides the data and the trainer (about 20 MB of PSS, measured). */
#define RANK_RUNTIME_BYTES 24e6

/* What a rank holds besides the data, by kind (bytes). */
typedef struct {
    trial_mem_t trainer; /* model and optimizer, activations, im2col, batches */
    double sched;        /* mask histories of a training's inputs and outputs, the message buffer,
                            the rewind point and trained weights when the job keeps them */
    double prune;        /* pruning scratch (a score and an index a weight), and pruning at
                            initialisation's (trial_pai_bytes) */
    double plan;         /* the training graph (graph_bytes): every rank holds it */
    double total;        /* all of it, and the libraries' RANK_RUNTIME_BYTES */
} rank_mem_t;

/*
 * The bytes a rank needs besides the data: what its trainer allocates
 * (trial_ctx_bytes), its pruning scratch (prune_bytes), what the scheduler
 * keeps for it (sched_rank_bytes) and the plan (graph_bytes).
 */
static rank_mem_t rank_bytes(const config_t *cfg, const net_t *net, const graph_t *g, const data_t *data)
{
    rank_mem_t m = {0};
    double t = trial_ctx_bytes(cfg, net, data, &m.trainer);
    m.sched = sched_rank_bytes(cfg, net, g);
    m.prune = prune_bytes(net->n_weights) + trial_pai_bytes(cfg, net, data);
    m.plan = (double)graph_bytes(g);
    m.total = t + m.sched + m.prune + m.plan + RANK_RUNTIME_BYTES;
    return m;
}

/* Refuse a sweep that cannot fit (price.h). */
int price_check_resources(const config_t *cfg, const net_t *net, const graph_t *g, const data_t *data,
                           int local, const char *output, int creating)
{
    double per_rank = rank_bytes(cfg, net, g, data).total, avail = mem_available();
    double root = sched_root_bytes(g, local); /* rank 0's tables, on one host (the ranks there at least) */
    if (per_rank * local + root > avail)
        return ts_fail(TS_EINPUT,
                       "%s: the model needs about %.2f GB per rank besides the data, %.2f GB for the %d ranks on this host, "
                       "but %.2f GB are available: use fewer ranks per host or a smaller model.hidden",
                       config_where(cfg, "model.hidden"), per_rank / 1e9, per_rank * local / 1e9, local,
                       avail / 1e9);
    if (!creating)
        return 0;
    double need = store_estimate_bytes(cfg, net, g), room = store_free_bytes(output);
    if (room >= 0 && need > room)
        return ts_fail(TS_EINPUT, "%s: the results file needs about %.3g MB, but its file system has %.3g MB free",
                       output, need / 1e6, room / 1e6);
    return 0;
}

/*
 * The fraction of each prunable layer's weights training x keeps (its twin
 * ticket's counts: every arm of a round has the ticket's per-layer survivors)
 * into keep[g->n_segs]; returns the fraction of all prunable weights.
 */
static double node_keep(const graph_t *g, int x, double *keep)
{
    int64_t total[NET_MAX_LAYERS] = {0}, gone[NET_MAX_LAYERS] = {0};
    for (int s = 0; s < g->n_segs; s++)
        total[g->cut_of[s]] += (int64_t)g->seg_len[s];
    for (int32_t t = g->nodes[x].twin; t >= 0 && g->nodes[t].round > 0; t = g->nodes[t].prev) {
        const int64_t *cut = graph_cut(g, t);
        for (int e = 0; e < g->n_cut; e++)
            gone[e] += cut[e];
    }
    double kept = 0, all = 0;
    for (int s = 0; s < g->n_segs; s++) {
        int64_t tot = total[g->cut_of[s]];
        keep[s] = tot ? (double)(tot - gone[g->cut_of[s]]) / (double)tot : 1;
        kept += keep[s] * (double)g->seg_len[s];
        all += (double)g->seg_len[s];
    }
    return all ? kept / all : 1;
}

enum { DRY_LEVELS = 8,     /* densities timed at most; the others interpolated */
       DRY_EVAL_IMAGES = 500 /* validation and test images an evaluation is timed on, each */ };

/* A timed density: its kept fraction of the prunable weights and the seconds
 * of a step and of an image evaluated (validation or test: the same forward
 * pass) there. */
typedef struct {
    double keep, step, eval;
} dry_level_t;

/*
 * Time `steps` steps and two evaluation points of a training that keeps
 * keep[s] of prunable layer s (a random mask with those fractions; 1: the
 * dense network) with the job's kernels, through the trainer itself (node 1,
 * the round-1 ticket, of the one-cell graph `one`). Evaluations run over
 * c's data (trimmed by the caller): eval_images images in all.
 */
static int time_level(trial_ctx_t *c, const graph_t *one, const graph_t *g, const double *keep,
                      int64_t steps, double eval_images, dry_level_t *lv)
{
    const net_t *net = &c->net;
    uint8_t *hist = malloc(net->n_weights + 1);
    node_result_t nr;
    int rc = hist ? node_result_create(&nr, 2) : TS_ERUN;
    if (rc) {
        free(hist);
        return ts_fail(TS_ERUN, "out of memory");
    }
    rng_t r;
    rng_init(&r, rng_key(0, RNG_RANDOM, 0, 0));
    memset(hist, 2, net->n_weights); /* counts > 1: active in round 1 */
    for (int s = 0; s < g->n_segs; s++) {
        const net_layer_t *L = &net->layers[g->seg_layer[s]];
        for (size_t i = 0; keep[s] < 1 && i < L->n_w; i++)
            if (rng_uniform(&r) >= keep[s])
                hist[L->w_off + i] = 1;
    }
    node_in_t in = {hist, NULL, NULL, NULL};
    node_out_t out = {NULL, NULL, NULL, NULL};
    c->t_train = c->t_eval = 0;
    rc = trial_run_node(c, one, 1, &in, &out, &nr);
    lv->step = (c->t_train - c->t_eval) / (double)steps;
    lv->eval = c->t_eval / eval_images;
    node_result_free(&nr);
    free(hist);
    return rc;
}

/* Seconds of a step (or an image evaluated, eval = 1) at kept fraction d: linear in
 * log d between the timed levels (sorted by keep, descending). */
static double level_time(const dry_level_t *lv, int n, double d, int eval)
{
#define T_OF(j) (eval ? lv[j].eval : lv[j].step)
    if (n == 1 || d >= lv[0].keep)
        return T_OF(0);
    for (int j = 1; j < n; j++)
        if (d >= lv[j].keep) {
            double u = log(lv[j - 1].keep / d) / log(lv[j - 1].keep / lv[j].keep);
            return T_OF(j - 1) + u * (T_OF(j) - T_OF(j - 1));
        }
    return T_OF(n - 1);
#undef T_OF
}

/* What a training does: its steps, evaluation points and images evaluated,
 * for a round 0 and for a later round (from the rewind point with
 * rewind_schedule = continue; trial_eval_images). */
typedef struct {
    int64_t steps, steps_late;
    int evals, evals_late;
    double images, images_late;
    double line_images;  /* images a line of the instability analysis evaluates: pairs x points x
                            (validation + test) */
} dry_work_t;

/* The work of each rewind point's chain into w[K] (round 0: every one the
 * same), from the job with prune.rewind_iteration = k_i. 0 or TS_ERUN. */
static dry_work_t dry_work(const config_t *cfg, const data_t *data);
static int dry_works(const config_t *cfg, const data_t *data, dry_work_t *w)
{
    int K;
    const int64_t *ks = grid_rewinds(cfg, &K);
    config_t *view = malloc(sizeof *view);
    if (!view)
        return ts_fail(TS_ERUN, "out of memory");
    *view = *cfg;
    for (int i = 0; i < K; i++) {
        view->rewind_iteration = ks[i];
        w[i] = dry_work(view, data);
    }
    free(view);
    return 0;
}

static dry_work_t dry_work(const config_t *cfg, const data_t *data)
{
    int64_t k1 = trial_start_iter(cfg, 1);
    dry_work_t w = {cfg->iterations, cfg->iterations - k1, trial_eval_count(cfg), 0,
                    trial_eval_images(cfg, data, 0), trial_eval_images(cfg, data, 1),
                    (double)trial_pairs(cfg) * cfg->interpolation * (double)(data->val.n + data->test.n)};
    for (int e = 0; e < w.evals; e++)
        w.evals_late += trial_eval_iter(cfg, e) >= k1;
    return w;
}

/* Seconds of a training at kept fraction d (later: of a round >= 1) from the
 * timed levels lv (a step's seconds, an image's evaluated). */
static double node_seconds(const dry_work_t *w, const dry_level_t *lv, int n_lv, double d, int later)
{
    return level_time(lv, n_lv, d, 0) * (double)(later ? w->steps_late : w->steps) +
           level_time(lv, n_lv, d, 1) * (later ? w->images_late : w->images);
}

/* Seconds of node y of g (graph.h), its training at kept fraction dens[x]: a
 * training, or a copy (the same training in another data order), or a line
 * (its evaluations). */
static double node_cost(const dry_work_t *work, const dry_level_t *lv, int n_lv, const graph_t *g,
                        const double *dens, int32_t y)
{
    const graph_node_t *n = &g->nodes[y];
    int32_t x = graph_train(g, y);
    const dry_work_t *w = &work[n->rw];
    if (n->kind == NODE_LINE)
        return level_time(lv, n_lv, dens[x], 1) * w->line_images;
    return node_seconds(w, lv, n_lv, dens[x], n->round > 0);
}

/* The whole job without sharing, every training dense: each cell's round 0
 * (`per` seconds) and its later trainings, from its rewind point (w[k]). */
static double unshared_seconds(const config_t *cfg, const dry_level_t *lv, const dry_work_t *w, double per)
{
    double sum = 0;
    for (int t = 0, T = grid_size(cfg); t < T; t++) {
        trial_t tr = grid_trial(cfg, t);
        const dry_work_t *wk = &w[tr.rewind_i];
        sum += per + (grid_cost(cfg, &tr) - 1) * (lv[0].step * wk->steps_late + lv[0].eval * wk->images_late);
    }
    return sum;
}

/* The dry run's calibration, kept to time it again at more threads: the
 * trainer (on the trimmed data) and the one-cell graph it runs, the training
 * each timed level stands for (-1: the dense network) and the levels at one
 * thread, densest first. */
typedef struct {
    trial_ctx_t *c;
    const graph_t *one;
    int64_t steps;
    double eval_images; /* images a timing evaluates (time_level) */
    int n_lv;
    int rep[DRY_LEVELS];
    dry_level_t lv[DRY_LEVELS];
    dry_work_t work[CFG_MAX_LIST]; /* per rewind point (grid_rewinds), a training of its chain */
} dry_cal_t;

/* Threads a training can use: its parallel work bounds them (net_max_threads:
 * the convolutions' chunks, or the dense products' blocks); the layouts'
 * extrapolation gives no speed-up beyond. */
static int dry_max_threads(const config_t *cfg, const net_t *net)
{
    return net_max_threads(net, cfg->batch);
}

/* "6.22e+04 s (17.3 h)": seconds, and beyond two minutes the unit that reads best. */
static const char *duration(char *buf, size_t len, double s)
{
    int n = snprintf(buf, len, "%.4g s", s);
    if (s >= 120 && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, s < 2 * 3600 ? " (%.3g min)" : s < 72 * 3600 ? " (%.3g h)" : " (%.3g days)",
                 s < 2 * 3600 ? s / 60 : s < 72 * 3600 ? s / 3600 : s / 86400);
    return buf;
}

enum { DRY_MAX_LAYOUTS = 32 }; /* plan_sim_layouts' most */
#define DRY_BEST_SLACK 0.05    /* a layout with fewer threads this close to the fastest is the best */

/* One layout: ranks x threads on each node. */
typedef struct {
    int ranks, threads;         /* a node's */
    int used;                   /* the threads a training uses: at most dry_max_threads */
    int timed;                  /* 1: its levels timed at `used` threads, 0: extrapolated */
    dry_level_t lv[DRY_LEVELS]; /* the levels at `used` threads */
    plan_sim_result_t sim;
    double node_bytes;          /* memory a node needs */
    int fits;                   /* in this machine's memory (when it is the node) */
} dry_layout_t;

/* The thread counts timed, ascending from 1, and the levels at each. */
typedef struct {
    int n;
    int threads[DRY_MAX_LAYOUTS + 2];
    dry_level_t lv[DRY_MAX_LAYOUTS + 2][DRY_LEVELS];
} dry_timed_t;

enum { DRY_THREAD_REPS = 2 }; /* timings of a level on each thread count, the fastest kept */

/*
 * The speed-up of every level on the thread counts of tm (tm->threads[0] =
 * 1), timed side by side: level by level, on 1 thread again and then on
 * each count, DRY_THREAD_REPS rounds, the fastest of each kept (a
 * calibration timed earlier, on a trainer just made, would make every count
 * after it look faster; the fastest of a few is what other processes on the
 * machine disturb least). tm->lv gets cal's levels times those speed-ups.
 * Returns 0 or TS_ERUN.
 */
static int time_threads(const dry_cal_t *cal, const graph_t *g, dry_timed_t *tm)
{
    double keep[NET_MAX_LAYERS];
    dry_level_t raw[DRY_MAX_LAYOUTS + 2], one;
    int rc = 0;
    memcpy(tm->lv[0], cal->lv, sizeof tm->lv[0]);
    for (int j = 0; j < cal->n_lv && !rc && tm->n > 1; j++) {
        for (int s = 0; s < g->n_segs; s++)
            keep[s] = 1;
        if (cal->rep[j] >= 0)
            node_keep(g, cal->rep[j], keep);
        for (int r = 0; r < DRY_THREAD_REPS && !rc; r++)
            for (int k = 0; k < tm->n && !rc; k++) {
                par_set_threads(tm->threads[k]);
                rc = time_level(cal->c, cal->one, g, keep, cal->steps, cal->eval_images, r ? &one : &raw[k]);
                if (r && one.step < raw[k].step)
                    raw[k].step = one.step;
                if (r && one.eval < raw[k].eval)
                    raw[k].eval = one.eval;
            }
        for (int k = 1; k < tm->n && !rc; k++) {
            tm->lv[k][j] = cal->lv[j];
            tm->lv[k][j].step *= raw[0].step > 0 ? raw[k].step / raw[0].step : 1;
            tm->lv[k][j].eval *= raw[0].eval > 0 ? raw[k].eval / raw[0].eval : 1;
        }
    }
    par_set_threads(1);
    return rc;
}

/*
 * The levels of every layout into ly[].lv: timed here at the threads its
 * trainings use, up to this machine's cores (`here`), and at `here` too when
 * layouts use more, the anchor of the extrapolation beyond: Amdahl's law
 * from the most threads timed (plan_sim_amdahl), for each level's step and
 * evaluation on its own (they are parallel to different degrees). What was
 * timed goes to *tm. Returns 0 or TS_ERUN.
 */
static int layout_levels(const dry_cal_t *cal, const graph_t *g, int here, int cap, dry_layout_t *ly,
                         int n_ly, dry_timed_t *tm)
{
    int used[DRY_MAX_LAYOUTS];
    for (int i = 0; i < n_ly; i++)
        used[i] = ly[i].used = ly[i].threads < cap ? ly[i].threads : cap;
    tm->n = plan_sim_timed(used, n_ly, here, tm->threads);
    int rc = time_threads(cal, g, tm);
    if (rc)
        return rc;
    int m = tm->threads[tm->n - 1];
    for (int i = 0; i < n_ly; i++) {
        int k = 0;
        while (k < tm->n && tm->threads[k] != ly[i].used)
            k++;
        ly[i].timed = k < tm->n;
        for (int j = 0; j < cal->n_lv; j++) {
            ly[i].lv[j] = tm->lv[ly[i].timed ? k : 0][j];
            if (!ly[i].timed) {
                ly[i].lv[j].step = plan_sim_amdahl(tm->lv[0][j].step, tm->lv[tm->n - 1][j].step, m, ly[i].used);
                ly[i].lv[j].eval = plan_sim_amdahl(tm->lv[0][j].eval, tm->lv[tm->n - 1][j].eval, m, ly[i].used);
            }
        }
    }
    return 0;
}

/* What was timed and how the rest follows, and a training's time on each layout's threads. */
static void print_threads(const dry_cal_t *cal, const dry_timed_t *tm, int here, int cap,
                          const dry_layout_t *ly, int n_ly)
{
    int m = tm->threads[tm->n - 1], sp = cal->n_lv - 1;
    const dry_level_t *l1 = tm->lv[0], *lm = tm->lv[tm->n - 1];
    printf("threads: a training's time on T threads, timed here on 1");
    for (int k = 1; k < tm->n; k++)
        printf(", %d", tm->threads[k]);
    printf(" (this machine: %d core%s)", here, here == 1 ? "" : "s");
    if (ly[n_ly - 1].used > m && m == 1)
        printf("; no speed-up assumed beyond");
    else if (ly[n_ly - 1].used > m)
        printf("; beyond, Amdahl's law t(T) = t(1) (f + (1 - f) / T) with f from %d threads, for a step "
               "and an evaluation each (dense: f = %.3g and %.3g)",
               m, plan_sim_serial_fraction(l1[0].step, lm[0].step, m),
               plan_sim_serial_fraction(l1[0].eval, lm[0].eval, m));
    if (cap < PAR_MAX_THREADS)
        printf("; a training uses at most %d threads\n", cap);
    else
        printf("; no bound known on the threads a training can use\n");
    double d1 = node_seconds(&cal->work[0], l1, cal->n_lv, 1, 0);
    double s1 = node_seconds(&cal->work[0], l1, cal->n_lv, cal->lv[sp].keep, 1);
    for (int i = 0; i < n_ly; i++) {
        const dry_layout_t *L = &ly[i];
        double d = node_seconds(&cal->work[0], L->lv, cal->n_lv, 1, 0);
        double s = node_seconds(&cal->work[0], L->lv, cal->n_lv, cal->lv[sp].keep, 1);
        printf("  %d thread%s: a dense training %.3g s (%.2fx)", L->threads, L->threads == 1 ? "" : "s", d,
               d1 / d);
        if (sp)
            printf(", the sparsest (%.3g %%) %.3g s (%.2fx)", 100 * cal->lv[sp].keep, s, s1 / s);
        printf(" (%s", L->timed ? "timed" : "Amdahl");
        if (L->used < L->threads)
            printf(", on %d threads", L->used);
        printf(")\n");
    }
}

/* The mpirun and srun lines of a layout: R ranks of T threads a node on N nodes. */
static void print_launch(const run_args_t *a, int R, int T, int N)
{
    char line[4 * PATH_MAX];
    size_t used = 0;
    line[0] = 0;
    cli_append_arg(line, sizeof line, &used, a->job);
    if (a->output != a->default_out) {
        cli_append_arg(line, sizeof line, &used, "-o");
        cli_append_arg(line, sizeof line, &used, a->output);
    }
    cli_append_job_args(line, sizeof line, &used, a);
    printf("  mpirun -np %d --map-by ppr:%d:node:PE=%d ticketsweep run%s --threads %d\n", R * N, R, T, line, T);
    printf("  srun -N %d -n %d -c %d --cpu-bind=cores ticketsweep run%s --threads %d\n", N, R * N, T, line, T);
}

/*
 * The layouts of ly[] (levels set) on N nodes: the scheduler replayed over
 * the trainings to run (sg; secs is scratch), a line each, the best one that
 * fits in `avail` bytes a node (< 0: not checked) and its launch lines.
 * Returns 0 or plan_sim_run's error.
 */
static int print_layouts_on(const dry_cal_t *cal, const config_t *cfg, const data_t *data, const net_t *net,
                            const graph_t *g, const run_args_t *a, const char *mine, const double *dens,
                            const plan_sim_graph_t *sg, double *secs, dry_layout_t *ly, int n_ly, int N,
                            double avail)
{
    char b1[48], b2[48], fits[DRY_MAX_LAYOUTS];
    double wall[DRY_MAX_LAYOUTS];
    int n_run = 0, n_extra = 0, C = ly[0].threads * ly[0].ranks, rc = 0;
    for (int x = 0; x < g->NA; x++)
        *(x < g->N ? &n_run : &n_extra) += mine[x] != 0;
    printf("layouts: %d node%s of %d core%s, ranks x threads a node; the scheduler replayed over the %d "
           "trainings%s, each at its density and threads",
           N, N == 1 ? "" : "s", C, C == 1 ? "" : "s", n_run, a->shard_n > 1 ? " (of this shard)" : "");
    if (n_extra)
        printf(", and the instability analysis's %d copies and lines", n_extra);
    printf(":\n");
    for (int i = 0; i < n_ly; i++) {
        dry_layout_t *L = &ly[i];
        for (int x = 0; x < g->NA; x++)
            secs[x] = mine[x] ? node_cost(cal->work, L->lv, cal->n_lv, g, dens, x) : 0;
        if ((rc = plan_sim_run(sg, secs, L->ranks * N, &L->sim, NULL)))
            return rc;
        par_set_threads(L->threads); /* a trainer's buffers may grow with its threads */
        L->node_bytes = data_bytes(data) + L->ranks * rank_bytes(cfg, net, g, data).total;
        par_set_threads(1);
        L->fits = avail < 0 || L->node_bytes <= avail;
        printf("  layout %d x %d: wall %s, critical path %s over %d training%s, at most %d "
               "training%s at once, ranks busy %.1f %%, memory %.3g GB a node%s\n",
               L->ranks, L->threads, duration(b1, sizeof b1, L->sim.makespan),
               duration(b2, sizeof b2, L->sim.critical), L->sim.critical_len,
               L->sim.critical_len == 1 ? "" : "s", L->sim.peak, L->sim.peak == 1 ? "" : "s",
               L->sim.makespan > 0 ? 100 * L->sim.work / (L->sim.makespan * L->ranks * N) : 0,
               L->node_bytes / 1e9, L->fits ? "" : ": does not fit in this machine's memory");
        wall[i] = L->sim.makespan;
        fits[i] = (char)L->fits;
    }
    int best = plan_sim_best(wall, fits, n_ly, DRY_BEST_SLACK);
    if (best < 0) {
        printf("best layout on %d node%s: none fits in this machine's memory\n", N, N == 1 ? "" : "s");
        return 0;
    }
    const dry_layout_t *B = &ly[best];
    printf("best layout: %d x %d on %d node%s (%d rank%s of %d thread%s): wall %s, %.2f of the "
           "1-thread layout's %s (%d x 1); the fewest threads within %.0f %% of the fastest\n",
           B->ranks, B->threads, N, N == 1 ? "" : "s", B->ranks * N, B->ranks * N == 1 ? "" : "s", B->threads,
           B->threads == 1 ? "" : "s", duration(b1, sizeof b1, B->sim.makespan),
           ly[0].sim.makespan > 0 ? B->sim.makespan / ly[0].sim.makespan : 1,
           duration(b2, sizeof b2, ly[0].sim.makespan), ly[0].ranks, 100 * DRY_BEST_SLACK);
    print_launch(a, B->ranks, B->threads, N);
    return 0;
}

/*
 * --dry-run's layouts (rank 0): the job's wall clock with R ranks of T
 * threads on each of N nodes of C cores (--cores, --nodes, which may list
 * node counts; this machine's cores and 1 node by default), R x T = C, T a
 * power of two or C. Each
 * training (mine[x], at kept fraction dens[x]) is priced at T threads from
 * the calibration timed again here (layout_levels), and the scheduler's rule
 * is replayed over the graph (plan_sim_run). Prints the threads' speed-up,
 * then for each node count a line per layout, the best one and its mpirun
 * and srun lines (print_layouts_on).
 */
static int dry_layouts(const dry_cal_t *cal, const config_t *cfg, const data_t *data, const net_t *net,
                       const graph_t *g, const run_args_t *a, const char *mine, const double *dens)
{
    int here = par_affinity_cores(), C = a->cores ? a->cores : here;
    int cap = dry_max_threads(cfg, net), n_ly = 0;
    double avail = mem_available();
    dry_layout_t *ly = calloc(DRY_MAX_LAYOUTS, sizeof *ly);
    dry_timed_t *tm = malloc(sizeof *tm);
    double *secs = calloc((size_t)g->NA + 1, sizeof *secs);
    plan_sim_graph_t sg = {0};
    int rc = ly && tm && secs ? plan_sim_graph_create(&sg, g, mine) : ts_fail(TS_ERUN, "out of memory");
    if (rc)
        goto out_free;
    int t[DRY_MAX_LAYOUTS];
    n_ly = plan_sim_layouts(C, t);
    for (int i = 0; i < n_ly; i++) {
        ly[i].threads = t[i];
        ly[i].ranks = C / t[i];
    }
    if ((rc = layout_levels(cal, g, here, cap, ly, n_ly, tm)))
        goto out_free;
    print_threads(cal, tm, here, cap, ly, n_ly);
    if (C == here)
        printf("memory: this machine has %.3g GB available; a layout that needs more is not chosen\n",
               avail / 1e9);
    else
        printf("memory: a layout's is what a node needs: check it against your nodes' (--cores is not "
               "this machine's)\n");
    for (int k = 0; k < (a->n_nodes ? a->n_nodes : 1) && !rc; k++)
        rc = print_layouts_on(cal, cfg, data, net, g, a, mine, dens, &sg, secs, ly, n_ly,
                              a->n_nodes ? a->nodes[k] : 1, C != here ? -1 : avail);
out_free:
    plan_sim_graph_free(&sg);
    free(secs);
    free(tm);
    free(ly);
    return rc;
}

/* --dry-run (price.h): calibrate here, then price the job and its layouts. */
int price_dry_run(const config_t *cfg, const data_t *data, const net_t *net, const graph_t *g,
                   const run_args_t *a, int node_size)
{
    trial_ctx_t c;
    data_t few = *data; /* the same block, fewer evaluation images */
    few.val.n = few.val.n < DRY_EVAL_IMAGES ? few.val.n : DRY_EVAL_IMAGES;
    few.test.n = few.test.n < DRY_EVAL_IMAGES ? few.test.n : DRY_EVAL_IMAGES;
    double timed_images = 2.0 * (double)(few.val.n + few.test.n); /* two points, test_curve = full */
    graph_t one = {0};
    char *mine = NULL;
    double *dens = NULL;
    int *order = NULL, threads = par_threads();
    dry_cal_t cal = {.c = &c, .one = &one, .eval_images = timed_images};
    if (dry_works(cfg, data, cal.work))
        return TS_ERUN;
    /* calibration: steps of the real model (one training of `steps` steps with
     * its two evaluations), timed dense, then at other densities, by a
     * trainer made for that timing job */
    config_t *quick = malloc(sizeof *quick);
    if (!quick)
        return ts_fail(TS_ERUN, "out of memory");
    int64_t steps = cal.steps = cfg->iterations < 20 ? cfg->iterations : 20;
    *quick = *cfg;
    quick->iterations = steps;
    quick->eval_every = steps; /* two evaluation points: 0 and steps */
    quick->n_per_round = 0;
    quick->n_rates = quick->n_rounds = quick->n_seeds = 1;
    quick->rates[0] = 0.5;
    quick->rounds[0] = 1;
    quick->controls = 0;
    quick->copies = 0; /* a training is timed once; its copies and lines are priced from it */
    quick->rewind_iteration = 0; /* every timed training from step 0 (timing only) */
    quick->n_rewinds = 0;
    quick->test_curve = TEST_CURVE_FULL; /* both sets at both points: timed_images */
    int rc = trial_ctx_create(&c, quick, &few);
    if (rc) {
        free(quick);
        return rc;
    }
    par_set_threads(1); /* the figures below are one core's; dry_layouts times more threads */
    /* the dense network first: every layer keeps all its weights */
    dry_level_t *lv = cal.lv;
    cal.lv[0] = (dry_level_t){1, 0, 0};
    cal.rep[0] = -1;
    double keep[NET_MAX_LAYERS];
    for (int s = 0; s < g->n_segs; s++)
        keep[s] = 1;
    if ((rc = graph_plan(&one, quick, net, 1)) || (rc = time_level(&c, &one, g, keep, steps, timed_images, &lv[0])))
        goto out;
    int n_lv = 1;
    /* round 0 trains every step; with rewind_schedule = continue the later
     * rounds from their rewind point on, evaluated at the points from there
     * (the test set there too, or twice: trial_eval_images; dry_works) */
    int E = cal.work[0].evals;
    double img = cal.work[0].images;
    double per = lv[0].step * cfg->iterations + lv[0].eval * img;
    int T = grid_size(cfg), to_run = 0, D = 0;
    for (int t = 0; t < T; t++)
        to_run += t % a->shard_n == a->shard_i;
    mine = calloc((size_t)g->NA + 1, 1); /* graph_shard_nodes: the copies and lines too */
    dens = calloc((size_t)g->N + 1, sizeof(double));
    order = calloc((size_t)g->N + 1, sizeof(int));
    if (!mine || !dens || !order) {
        rc = ts_fail(TS_ERUN, "out of memory");
        goto out;
    }
    graph_shard_nodes(g, a->shard_i, a->shard_n, mine);
    int n_thin = 0; /* the distinct densities below 1 of my trainings, descending, in order */
    for (int x = 0; x < g->N; x++) {
        D += mine[x];
        dens[x] = node_keep(g, x, keep);
        int dup = dens[x] >= 1 - 1e-9;
        for (int j = 0; j < n_thin && !dup; j++)
            dup = fabs(dens[order[j]] / dens[x] - 1) < 1e-6;
        if (mine[x] && !dup) {
            int j = n_thin++;
            for (; j > 0 && dens[order[j - 1]] < dens[x]; j--)
                order[j] = order[j - 1];
            order[j] = x;
        }
    }
    /* dense kernels: every density costs the dense step. Otherwise time up
     * to DRY_LEVELS - 1 of the densities, evenly spread in rank, the
     * sparsest included */
    int timed = cfg->kernels == KERNELS_DENSE ? 0 : n_thin < DRY_LEVELS - 1 ? n_thin : DRY_LEVELS - 1;
    for (int i = 0; i < timed && !rc; i++) {
        int x = order[timed == 1 ? n_thin - 1 : (int)((double)i * (n_thin - 1) / (timed - 1) + 0.5)];
        lv[n_lv].keep = node_keep(g, x, keep);
        cal.rep[n_lv] = x;
        rc = time_level(&c, &one, g, keep, steps, timed_images, &lv[n_lv]);
        n_lv++;
    }
    double total = 0, lo = per, analysis = 0;
    int analysed = 0, copies = 0, lines = 0;
    for (int x = 0; x < g->NA && !rc; x++) { /* the trainings, then the copies and lines */
        double t = node_cost(cal.work, lv, n_lv, g, dens, x);
        total += mine[x] ? t : 0;
        analysis += mine[x] && x >= g->N ? t : 0;
        analysed += mine[x] && graph_sets(g, x) > 0;
        copies += mine[x] && g->nodes[x].kind == NODE_COPY;
        lines += mine[x] && g->nodes[x].kind == NODE_LINE;
        if (x < g->N)
            lo = t < lo ? t : lo;
    }
    cal.n_lv = n_lv;
    if (rc)
        goto out;
    /* the dense training under the other test_curve, for the comparison (in
     * a copy of the job: quick stays the timing job, dry_layouts times again) */
    config_t *other = malloc(sizeof *other);
    if (!other) {
        rc = ts_fail(TS_ERUN, "out of memory");
        goto out;
    }
    *other = *cfg;
    other->test_curve = cfg->test_curve == TEST_CURVE_FULL ? TEST_CURVE_EARLY_STOP : TEST_CURVE_FULL;
    double per_other = lv[0].step * cfg->iterations + lv[0].eval * trial_eval_images(other, data, 0);
    free(other);
    printf("dry run of %s (nothing written)\n", a->job);
    printf("cells: %d (%d to run%s)\n", T, to_run, a->shard_n > 1 ? " in this shard" : "");
    char scope[32], crit[64];
    config_value(cfg, "prune.scope", scope, sizeof scope);
    config_value(cfg, cfg->criteria ? "sweep.criterion" : "prune.criterion", crit, sizeof crit);
    printf("pruning: %s by %s, the output layer at %gx, convolutions at %gx\n", scope, crit, cfg->output_scale,
           cfg->conv_scale);
    printf("trainings: %d distinct of %lld (%s)\n", g->N, (long long)g->unshared,
           g->shared ? "shared between cells" : "--no-share");
    if (a->shard_n > 1)
        printf("trainings in shard %d/%d: %d\n", a->shard_i, a->shard_n, D);
    /* an evaluation of each set: the same forward pass per image */
    double t_val = lv[0].eval * (double)data->val.n, t_test = lv[0].eval * (double)data->test.n;
    if (cfg->test_curve == TEST_CURVE_FULL)
        printf("per training: %.3g s dense (%lld steps at %.3g ms, %d evaluations at %.3g s, measured here; "
               "OpenBLAS core %s)\n"
               "evaluations: %.0f %% of it (test_curve = full: the test set at every point); test_curve = "
               "early_stop (the test set at the early stop and the end only): %.3g s, x%.2f\n",
               per, (long long)cfg->iterations, 1e3 * lv[0].step, E, t_val + t_test, blas_core(), 100 * lv[0].eval * img / per,
               per_other, per_other / per);
    else
        printf("per training: %.3g s dense (%lld steps at %.3g ms, %d evaluations of the validation set at %.3g s, "
               "2 of the test set at %.3g s, measured here; OpenBLAS core %s)\n"
               "evaluations: %.0f %% of it (test_curve = early_stop: the test set at the early stop and the end "
               "only); test_curve = full: %.3g s, early_stop x%.2f of it\n",
               per, (long long)cfg->iterations, 1e3 * lv[0].step, E, t_val, t_test, blas_core(), 100 * lv[0].eval * img / per,
               per_other, per / per_other);
    int K;
    const int64_t *ks = grid_rewinds(cfg, &K);
    for (int i = 0; i < K; i++) { /* a later round's steps: from its rewind point under continue */
        const dry_work_t *w = &cal.work[i];
        double p_i = lv[0].step * w->steps_late + lv[0].eval * w->images_late;
        if (w->steps_late < cfg->iterations && cfg->n_rewinds == 0)
            printf("per training of a later round: %.3g s dense (%lld steps from the rewind point, "
                   "%d evaluations)\n", p_i, (long long)w->steps_late, w->evals_late);
        else if (w->steps_late < cfg->iterations)
            printf("per training of a later round of its chain: %.3g s dense (%lld steps from the rewind "
                   "point %lld, %d evaluations)\n", p_i, (long long)w->steps_late, (long long)ks[i],
                   w->evals_late);
    }
    if (n_lv > 1)
        printf("thinner trainings (kernels = %s, %d densities timed): %.3g s at %.3g %% of the weights "
               "(%.3g ms a step, %.3g ms an image evaluated), the sparsest\n",
               cfg->kernels == KERNELS_SPARSE ? "sparse" : "auto", n_lv - 1, lo, 100 * lv[n_lv - 1].keep,
               1e3 * lv[n_lv - 1].step, 1e3 * lv[n_lv - 1].eval);
    if (cfg->copies >= 2)
        printf("instability analysis (analysis.copies = %d, interpolation = %d): %d ticket trainings analysed, "
               "each with %d more cop%s (%d trainings%s) and %d evaluations of the validation and test sets "
               "on the line%s between its %d pair%s of copies (%d lines): %.3g core-hours, %.0f %% of the "
               "estimate; copies and lines are nodes of their own, spread over the ranks\n",
               cfg->copies, cfg->interpolation, analysed, cfg->copies - 1, cfg->copies == 2 ? "y" : "ies", copies,
               g->K > 1 ? "; round 0's from each k of the rewind axis" : "", trial_pairs(cfg) * cfg->interpolation,
               cfg->copies == 2 ? "" : "s", trial_pairs(cfg), cfg->copies == 2 ? "" : "s", lines, analysis / 3600,
               total > 0 ? 100 * analysis / total : 0);
    printf("estimated: %.3g core-hours%s, %.3g dense trainings' worth (the whole job without sharing, "
           "every training dense: %.3g)\n",
           total / 3600, a->shard_n > 1 ? " for this shard" : "", total / per,
           unshared_seconds(cfg, lv, cal.work, per) / 3600);
    char advice[1024];
    if (blas_core_advice_here(advice, sizeof advice))
        printf("warning: this machine runs %s; the times above were measured on those kernels\n", advice);
    printf("results file: about %.3g MB (%s)\n", store_estimate_bytes(cfg, net, g) / 1e6, a->output);
    rank_mem_t m = rank_bytes(cfg, net, g, data);
    printf("memory per rank: about %.3g MB besides the data (model and optimizer %.3g MB, activations %.3g MB, "
           "im2col %.3g MB, oneDNN %.3g MB, batches %.3g MB, mask histories and messages %.3g MB, pruning %.3g MB, "
           "the plan of trainings %.3g MB, libraries %.3g MB); rank 0 also holds its dispatch tables (%.3g MB) "
           "and the mask histories waiting trainings need (%.3g MB each)",
           m.total / 1e6, m.trainer.model / 1e6, m.trainer.acts / 1e6, m.trainer.col / 1e6,
           m.trainer.dnn / 1e6, m.trainer.batches / 1e6, m.sched / 1e6, m.prune / 1e6, m.plan / 1e6,
           RANK_RUNTIME_BYTES / 1e6, sched_root_bytes(g, 1) / 1e6, net->n_weights / 1e6);
    if (g->C) /* a line's inputs, from the ends of its training and copies until it starts */
        printf(", and the final weights waiting lines read (%.3g MB each)", net->n_params * 4 / 1e6);
    printf("\n");
    printf("memory per node: the data once (%.0f MB, shared by the node's ranks) + %.0f MB a rank: "
           "%.0f MB with %d rank%s (as here), %.0f MB with 8, %.0f MB with 32\n",
           data_bytes(data) / 1e6, m.total / 1e6, (data_bytes(data) + node_size * m.total) / 1e6,
           node_size, node_size == 1 ? "" : "s", (data_bytes(data) + 8 * m.total) / 1e6,
           (data_bytes(data) + 32 * m.total) / 1e6);
    rc = dry_layouts(&cal, cfg, data, net, g, a, mine, dens);
out:
    par_set_threads(threads);
    free(mine), free(dens), free(order);
    graph_free(&one);
    trial_ctx_free(&c);
    free(quick);
    return rc;
}
