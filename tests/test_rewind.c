/*
 * test_rewind: prune.rewind_schedule in the trainer.
 *
 * A one-cell job that prunes nothing (rate 0, one round) makes round 1 a
 * training of the whole network from the rewind point, so it can be held
 * against round 0 step for step:
 *   - continue: round 1 takes exactly the minibatches round 0 took at steps
 *     k..T-1 (a fingerprint of every batch, recorded through the poll hook),
 *     T - k of them; with Adam (whose state restarts at k) and with SGD
 *     without momentum (which has no state), where round 1 must then end on
 *     round 0's final weights bit for bit and its curves equal round 0's at
 *     every point from k on (NaN before, early stop >= k);
 *   - restart: round 1 takes round 0's minibatches of steps 0..T-1;
 *   - k = 0: both schedules give the same bytes;
 *   - the evaluation grid: k inserted only for continue, k off the grid.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "err.h"
#include "graph.h"
#include "synth.h"
#include "trial.h"

/* One fingerprint per training step (FNV-1a of the batch's inputs and labels). */
typedef struct {
    trial_ctx_t *c;
    uint64_t *fp;
    int n, cap;
} steps_t;

static int record(void *arg)
{
    steps_t *s = arg;
    if (s->c->evaluating)
        return 0;
    const config_t *cfg = s->c->cfg;
    uint64_t h = 1469598103934665603ull;
    const unsigned char *p = (const unsigned char *)s->c->xb;
    size_t nb = (size_t)cfg->batch * (size_t)s->c->data->train.dim * sizeof(float);
    for (size_t i = 0; i < nb; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    for (int i = 0; i < cfg->batch; i++)
        h = (h ^ s->c->yb[i]) * 1099511628211ull;
    if (s->n < s->cap)
        s->fp[s->n] = h;
    s->n++;
    return 0;
}

/* Round 0 and round 1 (rate 0: nothing pruned) of seed 5 under cfg: their
 * results, trained weights and step fingerprints. */
typedef struct {
    node_result_t r[2];
    float *w[2];
    steps_t st[2];
    size_t P; /* parameters */
} pair_t;

static int run_pair(const config_t *cfg, const data_t *d, pair_t *out)
{
    trial_ctx_t c;
    graph_t g;
    int rc = trial_ctx_create(&c, cfg, d);
    if (rc)
        return rc;
    if ((rc = graph_plan(&g, cfg, &c.net, 1))) {
        trial_ctx_free(&c);
        return rc;
    }
    size_t W = c.net.n_weights, P = c.net.n_params;
    out->P = P;
    uint8_t *ones = malloc(W + 1), *child = malloc(W + 1);
    float *rw = calloc(P, sizeof(float));
    rc = ones && child && rw && g.N == 2 ? 0 : TS_ERUN;
    for (int k = 0; !rc && k < 2; k++) {
        out->w[k] = calloc(P, sizeof(float));
        out->st[k] = (steps_t){&c, calloc((size_t)cfg->iterations, sizeof(uint64_t)), 0,
                               (int)cfg->iterations};
        rc = out->w[k] && out->st[k].fp && !node_result_create(&out->r[k], c.E) ? 0 : TS_ERUN;
    }
    if (!rc) {
        memset(ones, 1, W);
        uint8_t *children[1] = {child};
        node_in_t in0 = {ones, NULL, NULL, NULL};
        node_out_t o0 = {children, NULL, cfg->rewind_iteration > 0 ? rw : NULL, out->w[0]};
        c.poll = record;
        c.poll_arg = &out->st[0];
        rc = trial_run_node(&c, &g, 0, &in0, &o0, &out->r[0]);
        node_in_t in1 = {child, NULL, cfg->rewind_iteration > 0 ? rw : NULL, NULL};
        node_out_t o1 = {NULL, NULL, NULL, out->w[1]};
        c.poll_arg = &out->st[1];
        if (!rc)
            rc = trial_run_node(&c, &g, 1, &in1, &o1, &out->r[1]);
    }
    for (int k = 0; k < 2; k++)
        out->st[k].c = NULL;
    free(ones);
    free(child);
    free(rw);
    graph_free(&g);
    trial_ctx_free(&c);
    return rc;
}

static void pair_free(pair_t *p)
{
    for (int k = 0; k < 2; k++) {
        node_result_free(&p->r[k]);
        free(p->w[k]);
        free(p->st[k].fp);
    }
    memset(p, 0, sizeof *p);
}

/* A one-cell job on the synthetic data: rate 0, one round, seed 5. */
static void one_cell(config_t *c, int opt, int64_t k, int schedule)
{
    synth_config(c);
    c->iterations = 130; /* 50 batches an epoch: round 1 crosses two epoch ends */
    c->eval_every = 20;
    c->optimizer = opt;
    c->momentum = 0;
    c->rates[0] = 0;
    c->n_rates = 1;
    c->rounds[0] = 1;
    c->n_rounds = 1;
    c->seeds[0] = 5;
    c->n_seeds = 1;
    c->controls = 0;
    c->rewind_iteration = k;
    c->rewind_schedule = schedule;
}

/* 1 when a and b hold the same float bits, NaN included. */
static int same(const float *a, const float *b, int n)
{
    return !memcmp(a, b, (size_t)n * sizeof *a);
}

static void check_grid(void)
{
    config_t c;
    one_cell(&c, OPT_ADAM, 30, REWIND_CONTINUE);
    int64_t want[] = {0, 20, 30, 40, 60, 80, 100, 120, 130};
    int n = trial_eval_count(&c), ok = n == 9;
    for (int e = 0; ok && e < n; e++)
        ok = trial_eval_iter(&c, e) == want[e];
    CHECK(ok, "continue, k = 30 off the grid of 20: 0 20 30 40 ... 120 130 (%d points)", n);
    CHECK(trial_start_iter(&c, 0) == 0 && trial_start_iter(&c, 1) == 30 && trial_start_iter(&c, 7) == 30,
          "continue: round 0 starts at 0, the others at k");
    c.rewind_iteration = 40;
    CHECK(trial_eval_count(&c) == 8 && trial_eval_iter(&c, 2) == 40, "continue, k = 40 on the grid: not twice");
    c.rewind_iteration = 125;
    CHECK(trial_eval_count(&c) == 9 && trial_eval_iter(&c, 7) == 125 && trial_eval_iter(&c, 8) == 130,
          "continue, k = 125 past the last multiple: ... 120 125 130");
    c.rewind_schedule = REWIND_RESTART;
    c.rewind_iteration = 30;
    CHECK(trial_eval_count(&c) == 8 && trial_eval_iter(&c, 2) == 40 && trial_start_iter(&c, 1) == 0,
          "restart: the plain grid, every round from 0");
    c.rewind_schedule = REWIND_CONTINUE;
    c.rewind_iteration = 0;
    CHECK(trial_eval_count(&c) == 8 && trial_start_iter(&c, 1) == 0, "k = 0: the plain grid, from 0");
    /* the rewind axis: every k's start, ascending, once, whatever the axis's order */
    int64_t axis[] = {125, 0, 40, 30, 130};
    memcpy(c.rewinds, axis, sizeof axis);
    c.n_rewinds = 4; /* 130 = iterations would be refused under continue; 4 values */
    int64_t want2[] = {0, 20, 30, 40, 60, 80, 100, 120, 125, 130};
    n = trial_eval_count(&c), ok = n == 10;
    for (int e = 0; ok && e < n; e++)
        ok = trial_eval_iter(&c, e) == want2[e];
    CHECK(ok, "sweep.rewind = 125, 0, 40, 30: 0 20 30 40 ... 120 125 130 (%d points)", n);
    c.rewind_schedule = REWIND_RESTART;
    CHECK(trial_eval_count(&c) == 8, "sweep.rewind under restart: the plain grid");
}

/* The checks of one schedule and optimizer (see the head comment). */
static void check_schedule(const data_t *d, int opt, int schedule, const char *what)
{
    const int64_t k = 70; /* off the grid of 20; epoch 1 (50 batches an epoch), batch 20 */
    config_t c;
    one_cell(&c, opt, k, schedule);
    pair_t p = {0};
    int rc = run_pair(&c, d, &p);
    CHECK(rc == 0, "%s: %s", what, ts_errmsg());
    if (rc) {
        pair_free(&p);
        return;
    }
    int64_t s = schedule == REWIND_CONTINUE ? k : 0, T = c.iterations;
    int E = p.r[0].E, first = 0;
    while (first < E && trial_eval_iter(&c, first) < s)
        first++;
    CHECK(trial_eval_iter(&c, first) == s, "%s: round 1's start is an evaluation point", what);
    CHECK(p.st[0].n == T && p.st[1].n == T - s, "%s: steps: round 0 %d, round 1 %d (want %lld and %lld)",
          what, p.st[0].n, p.st[1].n, (long long)T, (long long)(T - s));
    CHECK(p.st[1].n == T - s && !memcmp(p.st[1].fp, p.st[0].fp + s, (size_t)(T - s) * sizeof(uint64_t)),
          "%s: round 1's minibatches are round 0's of steps %lld..%lld", what, (long long)s, (long long)T - 1);
    int nan_before = 1;
    for (int m = 0; m < N_METRICS; m++)
        for (int e = 0; e < first; e++)
            nan_before &= isnan(p.r[1].curves[m][e]);
    CHECK(nan_before, "%s: round 1 is NaN at every point before its start", what);
    CHECK(isnan(p.r[1].curves[M_TRAIN_LOSS][first]) && !isnan(p.r[1].curves[M_VAL_LOSS][first]),
          "%s: round 1 evaluates at its start, with no training loss there", what);
    CHECK(p.r[1].es_iter >= s && p.r[1].es_iter <= T, "%s: round 1's early stop %d in [%lld, %lld]", what,
          p.r[1].es_iter, (long long)s, (long long)T);
    if (schedule == REWIND_CONTINUE) /* the rewind point, unpruned, is round 0 at k */
        CHECK(same(p.r[0].curves[M_VAL_LOSS] + first, p.r[1].curves[M_VAL_LOSS] + first, 1),
              "%s: round 1 at k evaluates round 0's parameters at k", what);
    if (opt == OPT_SGD && schedule == REWIND_CONTINUE) {
        /* no optimizer state: round 1 is round 0's steps k..T-1, bit for bit */
        CHECK(!memcmp(p.w[0], p.w[1], p.P * sizeof(float)), "%s: round 1 ends on round 0's final weights", what);
        for (int m = M_VAL_LOSS; m < N_METRICS; m++)
            CHECK(same(p.r[0].curves[m] + first, p.r[1].curves[m] + first, E - first),
                  "%s: round 1's %s from k on is round 0's", what, trial_metric_names[m]);
        CHECK(same(p.r[0].curves[M_TRAIN_LOSS] + first + 1, p.r[1].curves[M_TRAIN_LOSS] + first + 1,
                   E - first - 1),
              "%s: round 1's training losses after k are round 0's", what);
        CHECK(p.r[1].final_test_acc == p.r[0].final_test_acc, "%s: final accuracy round 0's", what);
    } else {
        /* Adam restarts its moments at round 1's start (and restart trains
         * from the rewind point with round 0's batches of step 0 on): the
         * same data, another trajectory */
        CHECK(memcmp(p.w[0], p.w[1], p.P * sizeof(float)), "%s: round 1's weights differ from round 0's", what);
    }
    pair_free(&p);
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_init();
    data_t d;
    synth_data(&d);
    check_grid();
    check_schedule(&d, OPT_SGD, REWIND_CONTINUE, "continue, sgd");
    check_schedule(&d, OPT_ADAM, REWIND_CONTINUE, "continue, adam");
    check_schedule(&d, OPT_ADAM, REWIND_RESTART, "restart, adam");
    check_schedule(&d, OPT_SGD, REWIND_RESTART, "restart, sgd");

    /* k = 0: the schedules are one */
    config_t a, b;
    one_cell(&a, OPT_ADAM, 0, REWIND_CONTINUE);
    one_cell(&b, OPT_ADAM, 0, REWIND_RESTART);
    pair_t pa = {0}, pb = {0};
    int rc = run_pair(&a, &d, &pa);
    if (!rc)
        rc = run_pair(&b, &d, &pb);
    CHECK(rc == 0, "k = 0: %s", ts_errmsg());
    if (!rc) {
        int same_all = !memcmp(pa.w[1], pb.w[1], pa.P * sizeof(float)) && pa.r[1].E == pb.r[1].E;
        for (int m = 0; same_all && m < N_METRICS; m++)
            same_all = same(pa.r[1].curves[m], pb.r[1].curves[m], pa.r[1].E);
        CHECK(same_all, "k = 0: continue and restart give the same round 1");
    }
    pair_free(&pa);
    pair_free(&pb);
    data_free(&d);
    return check_summary(argv[0]);
}
