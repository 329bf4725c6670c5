/*
 * trial.c - a training's steps (see trial.h): the trainer's buffers, the
 * minibatches, the steps, the evaluations and the early stop, and the
 * results they fill. What a training of the plan trains, what it leaves its
 * children and its instability analysis are trial_node.c's, which calls
 * trial_train here.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "par.h"
#include "rng.h"
#include "trial.h"
#include "trial_impl.h"
#include "util.h"

const char *const trial_arm_names[N_ARMS] = {"ticket", "reinit", "random", "signed_reinit", "reshuffle",
                                             "signed_constant", "snip", "synflow", "magnitude_init",
                                             "grasp"};
const char *const trial_metric_names[N_METRICS] = {"train_loss", "val_loss", "val_acc",
                                                   "test_loss", "test_acc"};
const char *const trial_inst_names[N_INST] = {"test_error", "test_loss", "val_error"};

#define EVAL_BATCH 1000 /* rows per forward pass when evaluating (fewer for big models) */

int64_t trial_start_iter(const config_t *cfg, int round)
{
    return round > 0 && cfg->rewind_schedule == REWIND_CONTINUE ? cfg->rewind_iteration : 0;
}

/* The starts of the continued rounds off the eval_every grid, ascending,
 * into x (CFG_MAX_LIST room): under rewind_schedule = continue, each k of
 * the rewind axis with 0 < k < iterations that is not a multiple of
 * eval_every. Returns how many. */
static int extra_evals(const config_t *cfg, int64_t *x)
{
    int K, n = 0;
    const int64_t *ks = grid_rewinds(cfg, &K);
    if (cfg->rewind_schedule != REWIND_CONTINUE)
        return 0;
    for (int i = 0; i < K; i++) {
        int64_t k = ks[i];
        if (k <= 0 || k >= cfg->iterations || k % cfg->eval_every == 0)
            continue;
        int j = n++;
        for (; j > 0 && x[j - 1] > k; j--) /* insertion: the axis need not be sorted */
            x[j] = x[j - 1];
        x[j] = k;
    }
    return n;
}

int trial_eval_count(const config_t *cfg)
{
    int64_t x[CFG_MAX_LIST];
    return (int)(cfg->iterations / cfg->eval_every + 1 + (cfg->iterations % cfg->eval_every != 0)) +
           extra_evals(cfg, x);
}

int64_t trial_eval_iter(const config_t *cfg, int e)
{
    int64_t x[CFG_MAX_LIST];
    int n = extra_evals(cfg, x), skip = 0;
    for (int i = 0; i < n; i++) {
        /* x[i]'s place: the grid points below it (x / every + 1) and the extra points before it */
        int64_t at = x[i] / cfg->eval_every + 1 + i;
        if (e == at)
            return x[i];
        skip += e > at;
    }
    int64_t it = (int64_t)(e - skip) * cfg->eval_every;
    return it < cfg->iterations ? it : cfg->iterations;
}

double trial_eval_images(const config_t *cfg, const data_t *data, int round)
{
    int64_t start = trial_start_iter(cfg, round);
    int points = 0, E = trial_eval_count(cfg);
    for (int e = 0; e < E; e++)
        points += trial_eval_iter(cfg, e) >= start;
    int tests = cfg->test_curve == TEST_CURVE_EARLY_STOP && points > 2 ? 2 : points;
    return (double)points * (double)data->val.n + (double)tests * (double)data->test.n;
}

/*
 * See trial.h for the contract. Everything a training touches is allocated
 * here, once (the net, the optimizer, theta0, the start point, the batch
 * buffers and the epoch's order), so trainings never allocate; c owns it all
 * and trial_ctx_free releases it. cfg and data are borrowed. On failure what
 * was made is released and c is left as trial_ctx_free expects.
 */
int trial_ctx_create(trial_ctx_t *c, const config_t *cfg, const data_t *data)
{
    memset(c, 0, sizeof *c);
    c->cfg = cfg;
    c->data = data;
    int dim = data->train.dim, rc;
    if ((rc = net_create(&c->net, cfg, data->channels, data->rows, data->cols, DATA_CLASSES,
                         cfg->batch, EVAL_BATCH)))
        return rc;
    size_t n = c->net.n_params;
    if (optim_create(&c->opt, cfg->optimizer, n, (float)cfg->lr, (float)cfg->momentum,
                     (float)cfg->beta1, (float)cfg->beta2, (float)cfg->eps))
        goto fail;
    c->E = trial_eval_count(cfg);
    c->eval_iters = ts_calloc((size_t)c->E, sizeof *c->eval_iters);
    c->theta0 = ts_calloc(n, sizeof(float));
    c->start = ts_calloc(n, sizeof(float));
    c->child_mask = ts_calloc(n, sizeof(float));
    if (cfg->test_curve == TEST_CURVE_EARLY_STOP && !(c->best = ts_calloc(n, sizeof(float))))
        goto fail;
    c->theta0_seed = -1;
    c->xb = ts_calloc((size_t)cfg->batch * dim, sizeof(float));
    c->xe = ts_calloc((size_t)c->net.max_batch * dim, sizeof(float));
    c->yb = ts_calloc((size_t)cfg->batch, 1);
    c->perm = ts_calloc((size_t)data->train.n, sizeof(int32_t));
    if (!c->eval_iters || !c->theta0 || !c->start || !c->child_mask ||
        !c->xb || !c->xe || !c->yb || !c->perm)
        goto fail;
    for (int e = 0; e < c->E; e++)
        c->eval_iters[e] = trial_eval_iter(cfg, e);
    /* with sweep.rewind or sweep.criterion, room for the job as a training of
     * one rewind point and criterion sees it */
    if ((cfg->n_rewinds > 0 || cfg->criteria) && !(c->view = ts_malloc(sizeof *c->view)))
        goto fail;
    if (cfg->copies >= 2 && !(c->copy_w = ts_calloc((size_t)cfg->copies * n, sizeof(float))))
        goto fail;
    return 0;
fail:
    trial_ctx_free(c);
    return TS_ERUN;
}

double trial_ctx_bytes(const config_t *cfg, const net_t *layout, const data_t *data,
                       trial_mem_t *parts)
{
    net_mem_t nm;
    net_bytes(layout, cfg->batch, EVAL_BATCH, &nm);
    double P = (double)layout->n_params * sizeof(float), dim = data->train.dim;
    trial_mem_t m = {
        /* the net's blocks, the optimizer's moments, theta0, start, pruning scratch
           (and the early-stop copy) */
        .model = nm.params + (cfg->optimizer == OPT_ADAM ? 2 : 1) * P + 3 * P +
                 (cfg->test_curve == TEST_CURVE_EARLY_STOP ? P : 0) +
                 (cfg->copies >= 2 ? cfg->copies * P : 0), /* the final weights a line reads */
        .acts = nm.acts,
        .col = nm.col,
        .dnn = cfg->kernels != KERNELS_DENSE ? net_dnn_bytes(layout, cfg->batch, EVAL_BATCH, par_threads()) : 0,
        /* a training batch, an evaluation batch, the epoch's order */
        .batches = (cfg->batch + nm.max_batch) * dim * sizeof(float) + cfg->batch +
                   (double)data->train.n * sizeof(int32_t),
    };
    if (parts)
        *parts = m;
    return m.model + m.acts + m.col + m.dnn + m.batches;
}

void trial_ctx_free(trial_ctx_t *c)
{
    net_free(&c->net);
    optim_free(&c->opt);
    free(c->eval_iters);
    free(c->theta0);
    free(c->start);
    free(c->child_mask);
    free(c->best);
    free(c->xb);
    free(c->xe);
    free(c->yb);
    free(c->perm);
    free(c->copy_w);
    free(c->view);
    memset(c, 0, sizeof *c);
}

int trial_result_create(trial_result_t *r, const config_t *cfg, const net_t *net)
{
    memset(r, 0, sizeof *r);
    r->R1 = grid_max_rounds(cfg) + 1;
    r->E = trial_eval_count(cfg);
    r->n_weights = net->n_weights;
    r->n_params = net->n_params;
    for (int a = 0; a < N_ARMS; a++) {
        for (int m = 0; m < N_METRICS; m++)
            if (!(r->curves[a][m] = ts_calloc((size_t)r->R1 * r->E, sizeof(float))))
                goto fail;
        r->density[a] = ts_calloc((size_t)r->R1, sizeof(double));
        r->es_iter[a] = ts_calloc((size_t)r->R1, sizeof(int32_t));
        r->es_test_acc[a] = ts_calloc((size_t)r->R1, sizeof(float));
        r->final_test_acc[a] = ts_calloc((size_t)r->R1, sizeof(float));
        r->masks[a] = ts_calloc(r->n_weights, 1);
        if (!r->density[a] || !r->es_iter[a] || !r->es_test_acc[a] || !r->final_test_acc[a] ||
            !r->masks[a])
            goto fail;
    }
    if (grid_rewinding(cfg) && !(r->rewind = ts_calloc(r->n_params, sizeof(float))))
        goto fail;
    if ((r->pairs = trial_pairs(cfg)) > 0) {
        r->A = cfg->interpolation;
        for (int i = 0; i < N_INST; i++)
            if (!(r->inst[i] = ts_calloc((size_t)r->R1 * r->pairs * r->A, sizeof(float))))
                goto fail;
        if (!(r->inst_value = ts_calloc((size_t)r->R1 * r->pairs, sizeof(float))))
            goto fail;
    }
    trial_result_clear(r);
    return 0;
fail:
    trial_result_free(r);
    return TS_ERUN;
}

void trial_result_free(trial_result_t *r)
{
    for (int a = 0; a < N_ARMS; a++) {
        for (int m = 0; m < N_METRICS; m++)
            free(r->curves[a][m]);
        free(r->density[a]);
        free(r->es_iter[a]);
        free(r->es_test_acc[a]);
        free(r->final_test_acc[a]);
        free(r->masks[a]);
    }
    free(r->rewind);
    for (int i = 0; i < N_INST; i++)
        free(r->inst[i]);
    free(r->inst_value);
    memset(r, 0, sizeof *r);
}

void trial_result_clear(trial_result_t *r)
{
    for (int a = 0; a < N_ARMS; a++) {
        for (int m = 0; m < N_METRICS; m++)
            for (int i = 0; i < r->R1 * r->E; i++)
                r->curves[a][m][i] = NAN;
        for (int i = 0; i < r->R1; i++) {
            r->density[a][i] = NAN;
            r->es_iter[a][i] = -1;
            r->es_test_acc[a][i] = NAN;
            r->final_test_acc[a][i] = NAN;
        }
        memset(r->masks[a], 0, r->n_weights);
    }
    if (r->rewind)
        memset(r->rewind, 0, r->n_params * sizeof(float));
    size_t lines = (size_t)r->R1 * r->pairs;
    for (size_t i = 0; r->inst_value && i < lines; i++) {
        r->inst_value[i] = NAN;
        for (int m = 0; m < N_INST; m++)
            for (int a = 0; a < r->A; a++)
                r->inst[m][i * r->A + a] = NAN;
    }
    r->status = STATUS_PENDING;
    r->error[0] = 0;
}

int trial_result_equal(const trial_result_t *a, const trial_result_t *b)
{
    size_t rows = (size_t)a->R1;
    if (a->R1 != b->R1 || a->E != b->E || a->n_weights != b->n_weights || a->status != b->status)
        return 0;
    for (int k = 0; k < N_ARMS; k++) {
        for (int m = 0; m < N_METRICS; m++)
            if (memcmp(a->curves[k][m], b->curves[k][m], rows * a->E * sizeof(float)))
                return 0;
        if (memcmp(a->density[k], b->density[k], rows * sizeof(double)) ||
            memcmp(a->es_iter[k], b->es_iter[k], rows * sizeof(int32_t)) ||
            memcmp(a->es_test_acc[k], b->es_test_acc[k], rows * sizeof(float)) ||
            memcmp(a->final_test_acc[k], b->final_test_acc[k], rows * sizeof(float)) ||
            memcmp(a->masks[k], b->masks[k], a->n_weights))
            return 0;
    }
    if (a->rewind && memcmp(a->rewind, b->rewind, a->n_params * sizeof(float)))
        return 0;
    size_t lines = rows * (size_t)a->pairs;
    if (a->pairs != b->pairs || a->A != b->A)
        return 0;
    for (int m = 0; a->inst_value && m < N_INST; m++)
        if (memcmp(a->inst[m], b->inst[m], lines * a->A * sizeof(float)))
            return 0;
    if (a->inst_value && memcmp(a->inst_value, b->inst_value, lines * sizeof(float)))
        return 0;
    return 1;
}

void trial_theta0(const net_t *net, int64_t seed, float *dst)
{
    net_init_params(net, dst, (uint64_t)seed, RNG_INIT, 0);
}

/* data_inputs of n rows into dst, in pieces between the threads (row by
 * row: the same bits however split). rows NULL: rows first .. first + n - 1. */
void trial_inputs(const data_t *d, const dataset_t *ds, const int32_t *rows, int64_t first, int n,
                   float *dst)
{
    enum { PIECE = 16 };
    int pieces = (n + PIECE - 1) / PIECE, nth = par_threads() < pieces ? par_threads() : pieces;
    if ((size_t)n * ds->dim < 65536) /* a thread's start would cost more than the rows */
        nth = 1;
#pragma omp parallel for num_threads(nth) if (nth > 1) schedule(static)
    for (int p = 0; p < pieces; p++) {
        int i = p * PIECE, k = n - i < PIECE ? n - i : PIECE;
        data_inputs(d, ds, rows ? rows + i : NULL, rows ? 0 : first + i, k, dst + (size_t)i * ds->dim);
    }
}

int trial_evaluate(trial_ctx_t *c, const dataset_t *ds, double *loss, double *acc)
{
    double sum = 0;
    int64_t correct = 0, chunk = c->net.max_batch;
    c->evaluating = 1;
    for (int64_t i = 0; i < ds->n; i += chunk) {
        int b = (int)(ds->n - i < chunk ? ds->n - i : chunk);
        int64_t ok;
        trial_inputs(c->data, ds, NULL, i, b, c->xe);
        net_predict(&c->net, c->xe, b);
        sum += net_loss(&c->net, ds->y + i, b, &ok, 0);
        correct += ok;
        /* an evaluation can take seconds: let the caller serve or stop meanwhile */
        if (c->poll && c->poll(c->poll_arg)) {
            c->evaluating = 0;
            return TRIAL_ABORTED;
        }
    }
    c->evaluating = 0;
    *loss = sum / (double)ds->n;
    *acc = (double)correct / (double)ds->n;
    return 0;
}

/*
 * Make the batch of the rows of this epoch's order [pos, pos + b): their
 * inputs (data_inputs turns the pixel bytes into floats) and labels; then
 * touch the first line of each row of the next batch (as far as this epoch
 * goes). The training split is far larger than the caches and its rows are
 * drawn at random, so each row starts with a page walk and a trip to main
 * memory; the hint gets those under way while this step computes, and the
 * hardware prefetcher streams the rest of a row once the conversion starts.
 * (Prefetching whole rows cost more in issue stalls than it saved, under
 * perf.) Prefetches change no result.
 */
static void gather(trial_ctx_t *c, int64_t pos, int b)
{
    const dataset_t *tr = &c->data->train;
    trial_inputs(c->data, tr, c->perm + pos, 0, b, c->xb);
    for (int i = 0; i < b; i++)
        c->yb[i] = tr->y[c->perm[pos + i]];
    int64_t end = pos + 2 * (int64_t)b < tr->n ? pos + 2 * (int64_t)b : tr->n;
    for (int64_t i = pos + b; i < end; i++)
        __builtin_prefetch(tr->x + (size_t)c->perm[i] * tr->dim, 0, 1);
}

/* The training split's order in an epoch: a shuffle by the stream of (seed,
 * epoch, data-order seed `order`); order 0 is the sweep's, the bits every
 * training had before the instability analysis gave copies other orders. */
static void new_epoch(trial_ctx_t *c, int64_t seed, int64_t epoch, int64_t order)
{
    rng_t r;
    for (int64_t i = 0; i < c->data->train.n; i++)
        c->perm[i] = (int32_t)i;
    rng_init(&r, rng_key((uint64_t)seed, RNG_DATA, (uint64_t)epoch, (uint64_t)order));
    rng_shuffle(&r, c->perm, c->data->train.n);
}


int node_result_create(node_result_t *r, int E)
{
    memset(r, 0, sizeof *r);
    r->E = E;
    for (int m = 0; m < N_METRICS; m++)
        if (!(r->curves[m] = ts_calloc((size_t)E, sizeof(float)))) {
            node_result_free(r);
            return TS_ERUN;
        }
    return 0;
}

void node_result_free(node_result_t *r)
{
    for (int m = 0; m < N_METRICS; m++)
        free(r->curves[m]);
    for (int i = 0; i < N_INST; i++)
        free(r->inst[i]);
    free(r->inst_value);
    memset(r, 0, sizeof *r);
}

int node_result_analysis(node_result_t *r, const config_t *cfg)
{
    if ((r->pairs = trial_pairs(cfg)) == 0)
        return 0;
    r->A = cfg->interpolation;
    for (int i = 0; i < N_INST; i++)
        if (!(r->inst[i] = ts_calloc((size_t)r->pairs * r->A, sizeof(float))))
            goto fail;
    if (!(r->inst_value = ts_calloc((size_t)r->pairs, sizeof(float))))
        goto fail;
    return 0;
fail:
    node_result_free(r);
    return TS_ERUN;
}

int64_t trial_data_seed(const config_t *cfg, int j)
{
    return cfg->n_data_seeds > j ? cfg->data_seeds[j] : j;
}

int trial_pairs(const config_t *cfg)
{
    return cfg->copies >= 2 ? cfg->copies * (cfg->copies - 1) / 2 : 0;
}

int64_t trial_copy_split(const config_t *cfg, int round)
{
    return round == 0 ? cfg->rewind_iteration : trial_start_iter(cfg, round);
}

void trial_interpolate(size_t n, const float *wi, const float *wj, const float *mask, double alpha,
                       float *dst)
{
    float a = (float)alpha;
    if (alpha == 0 || alpha == 1) {
        const float *w = alpha == 0 ? wi : wj;
        for (size_t i = 0; i < n; i++)
            dst[i] = w[i] * mask[i];
        return;
    }
    for (size_t i = 0; i < n; i++)
        dst[i] = (wi[i] + a * (wj[i] - wi[i])) * mask[i];
}

/* The test loss and accuracy of evaluation point e. */
static void put_test(node_result_t *res, int e, double loss, double acc)
{
    res->curves[M_TEST_LOSS][e] = (float)loss;
    res->curves[M_TEST_ACC][e] = (float)acc;
}

/*
 * Evaluation point e of a training, on the parameters of now: the mean
 * training loss since the last point, the validation set, and the test set
 * unless test_curve = early_stop (then NaN: test_at_end fills the points the
 * summary reads). Returns 0 or TRIAL_ABORTED (the poll hook asked to stop).
 */
static int eval_point(trial_ctx_t *c, node_result_t *res, int e, double loss_sum, int64_t loss_n)
{
    double vl, va, tl = NAN, ta = NAN;
    if (trial_evaluate(c, &c->data->val, &vl, &va) ||
        (c->cfg->test_curve == TEST_CURVE_FULL && trial_evaluate(c, &c->data->test, &tl, &ta)))
        return TRIAL_ABORTED;
    res->curves[M_TRAIN_LOSS][e] = loss_n ? (float)(loss_sum / loss_n) : NAN;
    res->curves[M_VAL_LOSS][e] = (float)vl;
    res->curves[M_VAL_ACC][e] = (float)va;
    put_test(res, e, tl, ta);
    return 0;
}

/* Exchange the n floats of a and b. */
static void swap_floats(float *restrict a, float *restrict b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        float t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

/*
 * test_curve = early_stop, after the last step (params synced, net_sync):
 * the test set on the final parameters (point E - 1) and, when the early
 * stop `best` is an earlier point, on the copy c->best kept there. That copy
 * is what params held at that point, and the same mask gives the same
 * kernels (net_set_kernels rebuilds the sparse layers' index from it), so
 * both evaluations are the bits test_curve = full computes at those points.
 * On return params and the kernels hold the final parameters again (and
 * c->best the copy), whatever the outcome. Returns 0, TRIAL_ABORTED (the
 * poll hook asked to stop) or TS_ERUN (net_set_kernels failed: its message).
 */
static int test_at_end(trial_ctx_t *c, node_result_t *res, int best)
{
    net_t *net = &c->net;
    int last = c->E - 1, rc = 0;
    double tl, ta;
    if (trial_evaluate(c, &c->data->test, &tl, &ta))
        return TRIAL_ABORTED;
    put_test(res, last, tl, ta);
    if (best == last)
        return 0;
    swap_floats(net->params, c->best, net->n_params);
    if (net_set_kernels(net, c->cfg->kernels) < 0)
        rc = TS_ERUN;
    else if (trial_evaluate(c, &c->data->test, &tl, &ta))
        rc = TRIAL_ABORTED;
    else
        put_test(res, best, tl, ta);
    swap_floats(net->params, c->best, net->n_params);
    if (net_set_kernels(net, c->cfg->kernels) < 0 && !rc)
        rc = TS_ERUN;
    return rc;
}

/* The parameters now, after `it` steps, into rewind + i * n_params for each
 * k_i = it of the rewind axis (grid_rewinds: one k, or sweep.rewind's). */
static void keep_rewind(trial_ctx_t *c, float *rewind, int64_t it)
{
    int K;
    const int64_t *ks = grid_rewinds(c->cfg, &K);
    for (int i = 0; i < K; i++)
        if (ks[i] == it) {
            net_sync(&c->net);
            memcpy(rewind + (size_t)i * c->net.n_params, c->net.params, c->net.n_params * sizeof(float));
        }
}

/*
 * One training (trial_impl.h): params = start * mask (the net's mask, which
 * the caller set: the training's own, kept through the steps and read by
 * trial_node.c's pruning of the children),
 * then the minibatch steps from trial_start_iter(round) to `iterations` with
 * evaluations, into res. A training that starts at step s > 0 takes the
 * minibatches the seed's data order gives steps s, s + 1, ... (epoch s /
 * steps_per_epoch, from its batch s mod steps_per_epoch on: what round 0 saw
 * at those steps), with a fresh optimizer (Adam's moments and step count at
 * 0, as open_lth's training from its rewind point); its evaluation points
 * before s are NaN. When rewind is not NULL ([K][n_params], K the rewind
 * axis's length), the parameters after k_i steps are copied to its row i. The early stop is the first
 * point of lowest validation loss; with test_curve = early_stop the
 * parameters are copied into c->best whenever a point's validation loss is
 * lower than every earlier point's (not at the last point: the final
 * parameters are at hand), and test_at_end evaluates the test set.
 */
int trial_train(trial_ctx_t *c, int64_t seed, uint64_t key, int arm, int round, node_result_t *res,
                float *rewind, int64_t order)
{
    const float *mask = c->net.mask;
    const config_t *cfg = c->cfg;
    net_t *net = &c->net;
    int B = cfg->batch, e = 0, best = -1, rc;
    int early = cfg->test_curve == TEST_CURVE_EARLY_STOP;
    if (early && !c->best)
        return ts_fail(TS_ERUN, "test_curve = early_stop on a trainer made without the early-stop copy");
    rng_t drop; /* dropout masks: a function of the training's identity and the step */
    rng_init(&drop, rng_key(key, RNG_DROPOUT, (uint64_t)arm, (uint64_t)round));
    /* an epoch is the training split's whole batches (the last partial one is dropped) */
    int64_t start = trial_start_iter(cfg, round), per_epoch = c->data->train.n / B;
    int64_t epoch = start / per_epoch, pos = start % per_epoch * B;
    /* a copy of the instability analysis (order != 0) takes its own data
     * order from step `split` on, the sweep's before (trial.h) */
    int64_t split = order ? trial_copy_split(cfg, round) : 0;
    double loss_sum = 0, t0 = ts_now();
    int64_t loss_n = 0;

    for (; e < c->E && c->eval_iters[e] < start; e++)
        for (int m = 0; m < N_METRICS; m++)
            res->curves[m][e] = NAN;
    int first = e; /* the training's first evaluation point: at `start` */
    if (first == c->E || c->eval_iters[first] != start) /* a schedule the evaluation points do not fit */
        return ts_fail(TS_ERUN, "%s round %d starts at iteration %lld, which is not an evaluation point",
                       trial_arm_names[arm], round, (long long)start);
    for (size_t i = 0; i < net->n_params; i++)
        net->params[i] = c->start[i] * mask[i];
    if (net_set_kernels(net, cfg->kernels) < 0)
        return TS_ERUN; /* the message is net_set_kernels' */
    optim_reset(&c->opt);
    new_epoch(c, seed, epoch, start >= split ? order : 0);

    for (int64_t it = start;; it++) {
        if (it == c->eval_iters[e]) {
            double te = ts_now();
            if ((rc = eval_point(c, res, e, loss_sum, loss_n)))
                return rc;
            loss_sum = 0;
            loss_n = 0;
            /* strictly lower: the first point of the minimum is the early stop */
            const float *vl = res->curves[M_VAL_LOSS];
            if (best < 0 || vl[e] < vl[best]) {
                best = e;
                if (early && e + 1 < c->E) {
                    net_sync(net);
                    memcpy(c->best, net->params, net->n_params * sizeof(float));
                }
            }
            c->t_eval += ts_now() - te;
            if (++e == c->E)
                break;
        }
        if (rewind)
            keep_rewind(c, rewind, it);
        if (order && it == split && it > start) /* the rest of this epoch in the copy's order */
            new_epoch(c, seed, epoch, order);
        if (pos + B > c->data->train.n) { /* drop the last partial batch, as PyTorch's drop_last */
            new_epoch(c, seed, ++epoch, it >= split ? order : 0);
            pos = 0;
        }
        gather(c, pos, B);
        pos += B;
        net_forward(net, c->xb, B, net->dropout > 0 ? &drop : NULL);
        double loss = net_loss(net, c->yb, B, NULL, 1) / B;
        if (!isfinite(loss)) {
            snprintf(res->error, sizeof res->error,
                     "diverged: %s round %d: training loss is %g at iteration %lld",
                     trial_arm_names[arm], round, loss, (long long)it);
            return TRIAL_FAILED;
        }
        loss_sum += loss;
        loss_n++;
        if (net_backward(net, c->xb, B))
            return TS_ERUN; /* the message is net_backward's */
        net_step(net, &c->opt);
        if (c->poll && c->poll(c->poll_arg))
            return TRIAL_ABORTED;
    }
    net_sync(net); /* the trained weights, for pruning and the results */
    /* the iteration-`iterations` rewind point only exists after the loop */
    if (rewind)
        keep_rewind(c, rewind, cfg->iterations);
    if (early) {
        double te = ts_now();
        if ((rc = test_at_end(c, res, best)))
            return rc;
        c->t_eval += ts_now() - te;
    }

    /* summary: early stop = evaluation point of minimum validation loss (first on ties) */
    const float *ta = res->curves[M_TEST_ACC];
    size_t active = 0;
    for (size_t i = 0; i < net->n_weights; i++)
        active += mask[i] != 0;
    res->density = (double)active / (double)net->n_weights;
    res->es_iter = (int32_t)c->eval_iters[best];
    res->es_test_acc = ta[best];
    res->final_test_acc = ta[res->E - 1];
    c->t_train += ts_now() - t0;
    return 0;
}
