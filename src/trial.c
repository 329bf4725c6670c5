/*
 * trial.c - training runs and the pruning rounds of one trial (see trial.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "prune.h"
#include "rng.h"
#include "trial.h"

const char *const trial_arm_names[N_ARMS] = {"ticket", "reinit", "random"};
const char *const trial_metric_names[N_METRICS] = {"train_loss", "val_loss", "val_acc",
                                                   "test_loss", "test_acc"};

#define EVAL_BATCH 1000 /* rows per forward pass when evaluating (fewer for big models) */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int trial_eval_count(const config_t *cfg)
{
    return (int)(cfg->iterations / cfg->eval_every + 1 + (cfg->iterations % cfg->eval_every != 0));
}

int64_t trial_eval_iter(const config_t *cfg, int e)
{
    int64_t it = (int64_t)e * cfg->eval_every;
    return it < cfg->iterations ? it : cfg->iterations;
}

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
    c->ticket_mask = ts_calloc(n, sizeof(float));
    c->random_mask = ts_calloc(n, sizeof(float));
    c->xb = ts_calloc((size_t)cfg->batch * dim, sizeof(float));
    c->yb = ts_calloc((size_t)cfg->batch, 1);
    c->perm = ts_calloc((size_t)data->train.n, sizeof(int32_t));
    if (!c->eval_iters || !c->theta0 || !c->start || !c->ticket_mask || !c->random_mask ||
        !c->xb || !c->yb || !c->perm)
        goto fail;
    for (int e = 0; e < c->E; e++)
        c->eval_iters[e] = trial_eval_iter(cfg, e);
    return 0;
fail:
    trial_ctx_free(c);
    return TS_ERUN;
}

void trial_ctx_free(trial_ctx_t *c)
{
    net_free(&c->net);
    optim_free(&c->opt);
    free(c->eval_iters);
    free(c->theta0);
    free(c->start);
    free(c->ticket_mask);
    free(c->random_mask);
    free(c->xb);
    free(c->yb);
    free(c->perm);
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
    if (cfg->rewind_iteration > 0 && !(r->rewind = ts_calloc(r->n_params, sizeof(float))))
        goto fail;
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
    return 1;
}

void trial_theta0(const net_t *net, int64_t seed, float *dst)
{
    net_init_params(net, dst, (uint64_t)seed, RNG_INIT, 0);
}

int trial_evaluate(trial_ctx_t *c, const dataset_t *ds, double *loss, double *acc)
{
    double sum = 0;
    int64_t correct = 0, chunk = c->net.max_batch;
    c->evaluating = 1;
    for (int64_t i = 0; i < ds->n; i += chunk) {
        int b = (int)(ds->n - i < chunk ? ds->n - i : chunk);
        int64_t ok;
        net_forward(&c->net, ds->x + (size_t)i * ds->dim, b, NULL);
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
 * Copy the rows of this epoch's order [pos, pos + b) into the batch buffers,
 * then touch the first line of each row of the next batch (as far as this
 * epoch goes). The training split is far larger than the caches and its rows
 * are drawn at random, so each row starts with a page walk and a trip to
 * main memory; the hint gets those under way while this step computes, and
 * the hardware prefetcher streams the rest of a row once the copy starts.
 * (Prefetching whole rows cost more in issue stalls than it saved, under
 * perf.) Prefetches change no result.
 */
static void gather(trial_ctx_t *c, int64_t pos, int b)
{
    const dataset_t *tr = &c->data->train;
    size_t row = (size_t)tr->dim * sizeof(float);
    for (int i = 0; i < b; i++) {
        int32_t k = c->perm[pos + i];
        memcpy(c->xb + (size_t)i * tr->dim, tr->x + (size_t)k * tr->dim, row);
        c->yb[i] = tr->y[k];
    }
    int64_t end = pos + 2 * (int64_t)b < tr->n ? pos + 2 * (int64_t)b : tr->n;
    for (int64_t i = pos + b; i < end; i++)
        __builtin_prefetch(tr->x + (size_t)c->perm[i] * tr->dim, 0, 1);
}

static void new_epoch(trial_ctx_t *c, int64_t seed, int64_t epoch)
{
    rng_t r;
    for (int64_t i = 0; i < c->data->train.n; i++)
        c->perm[i] = (int32_t)i;
    rng_init(&r, rng_key((uint64_t)seed, RNG_DATA, (uint64_t)epoch, 0));
    rng_shuffle(&r, c->perm, c->data->train.n);
}

/* A trial's identity for the control and dropout streams: (rate, rounds). */
static uint64_t trial_salt(const trial_t *t)
{
    uint64_t bits;
    memcpy(&bits, &t->rate, sizeof bits);
    return rng_key(bits, (uint64_t)t->rounds, 0, 0);
}

/*
 * One training run: params = start * mask, then `iterations` minibatch steps
 * with evaluations. Writes round `round` of arm `arm` in res. When rewind is
 * not NULL, the parameters after rewind_iteration steps are copied there.
 */
static int train(trial_ctx_t *c, const trial_t *t, const float *mask, int arm, int round,
                 trial_result_t *res, float *rewind)
{
    const config_t *cfg = c->cfg;
    net_t *net = &c->net;
    int B = cfg->batch, e = 0;
    rng_t drop; /* dropout masks: a function of (seed, arm, round, trial) and the step */
    rng_init(&drop, rng_key((uint64_t)t->seed, RNG_DROPOUT, (uint64_t)arm << 16 | (uint64_t)round,
                            trial_salt(t)));
    int64_t epoch = 0, pos = 0;
    double loss_sum = 0, t0 = now();
    int64_t loss_n = 0;
    size_t row = (size_t)round * res->E;

    for (size_t i = 0; i < net->n_params; i++)
        net->params[i] = c->start[i] * mask[i];
    memcpy(net->mask, mask, net->n_params * sizeof(float));
    optim_reset(&c->opt);
    new_epoch(c, t->seed, epoch);

    for (int64_t it = 0;; it++) {
        if (it == c->eval_iters[e]) {
            double tl, ta, vl, va, te = now();
            if (trial_evaluate(c, &c->data->val, &vl, &va) ||
                trial_evaluate(c, &c->data->test, &tl, &ta))
                return TRIAL_ABORTED;
            float *const *cv = res->curves[arm];
            cv[M_TRAIN_LOSS][row + e] = loss_n ? (float)(loss_sum / loss_n) : NAN;
            cv[M_VAL_LOSS][row + e] = (float)vl;
            cv[M_VAL_ACC][row + e] = (float)va;
            cv[M_TEST_LOSS][row + e] = (float)tl;
            cv[M_TEST_ACC][row + e] = (float)ta;
            loss_sum = 0;
            loss_n = 0;
            c->t_eval += now() - te;
            if (++e == c->E)
                break;
        }
        if (rewind && it == cfg->rewind_iteration)
            memcpy(rewind, net->params, net->n_params * sizeof(float));
        if (pos + B > c->data->train.n) { /* drop the last partial batch, as PyTorch's drop_last */
            new_epoch(c, t->seed, ++epoch);
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
        net_backward(net, c->xb, B);
        optim_step(&c->opt, net->params, net->grads, net->mask);
        if (c->poll && c->poll(c->poll_arg))
            return TRIAL_ABORTED;
    }
    /* the iteration-`iterations` rewind point only exists after the loop */
    if (rewind && cfg->rewind_iteration == cfg->iterations)
        memcpy(rewind, net->params, net->n_params * sizeof(float));

    /* summary: early stop = evaluation point of minimum validation loss (first on ties) */
    const float *vl = res->curves[arm][M_VAL_LOSS] + row;
    const float *ta = res->curves[arm][M_TEST_ACC] + row;
    int best = 0;
    for (int i = 1; i < res->E; i++)
        if (vl[i] < vl[best])
            best = i;
    size_t active = 0;
    for (int l = 0; l < net->n_layers; l++) {
        const net_layer_t *L = &net->layers[l];
        for (size_t i = 0; i < L->n_w; i++)
            active += mask[L->w_off + i] != 0;
    }
    res->density[arm][round] = (double)active / (double)net->n_weights;
    res->es_iter[arm][round] = (int32_t)c->eval_iters[best];
    res->es_test_acc[arm][round] = ta[best];
    res->final_test_acc[arm][round] = ta[res->E - 1];
    c->t_train += now() - t0;
    return 0;
}

/* Add one round of activity to a byte-per-weight mask count. */
static void count_active(const net_t *net, const float *mask, uint8_t *counts)
{
    size_t k = 0;
    for (int l = 0; l < net->n_layers; l++) {
        const net_layer_t *L = &net->layers[l];
        for (size_t i = 0; i < L->n_w; i++, k++)
            counts[k] += mask[L->w_off + i] != 0;
    }
}

/* The mask of round r from the byte counts: weights with count > r, biases 1. */
static void mask_of_round(const net_t *net, const uint8_t *counts, int r, float *mask)
{
    size_t k = 0;
    for (size_t i = 0; i < net->n_params; i++)
        mask[i] = 1.0f;
    for (int l = 0; l < net->n_layers; l++) {
        const net_layer_t *L = &net->layers[l];
        for (size_t i = 0; i < L->n_w; i++, k++)
            mask[L->w_off + i] = counts[k] > r ? 1.0f : 0.0f;
    }
}

static prune_seg_t layer_seg(const net_layer_t *L)
{
    return (prune_seg_t){L->w_off, L->n_w};
}

/* The per-round rate of layer l: q for hidden fully connected layers, scaled
 * for convolutions and for the output layer (layer-wise scope). */
static double layer_rate(const trial_ctx_t *c, int l, double q)
{
    const net_t *net = &c->net;
    if (l == net->n_layers - 1)
        return q * c->cfg->output_scale;
    return net->layers[l].kind == NET_CONV ? q * c->cfg->conv_scale : q;
}

/* Prune the ticket mask after a round, from the trained weights in net->params. */
static int prune_round(trial_ctx_t *c, double q)
{
    net_t *net = &c->net;
    prune_seg_t segs[NET_MAX_LAYERS];
    int n_segs = 0;
    if (c->cfg->scope == SCOPE_GLOBAL) {
        size_t alive = 0;
        for (int l = 0; l < net->n_layers; l++)
            if (net_has_params(&net->layers[l])) {
                segs[n_segs] = layer_seg(&net->layers[l]);
                alive += prune_alive(c->ticket_mask, segs[n_segs++]);
            }
        return prune_magnitude(net->params, c->ticket_mask, segs, n_segs, prune_count(alive, q));
    }
    for (int l = 0; l < net->n_layers; l++) {
        if (!net_has_params(&net->layers[l]))
            continue;
        prune_seg_t s = layer_seg(&net->layers[l]);
        int rc = prune_magnitude(net->params, c->ticket_mask, &s, 1,
                                 prune_count(prune_alive(c->ticket_mask, s), layer_rate(c, l, q)));
        if (rc)
            return rc;
    }
    return 0;
}

/* Round 0 of a control is the ticket's round 0 (see trial.h): copy its rows. */
static void copy_round0(trial_result_t *res, int arm)
{
    for (int m = 0; m < N_METRICS; m++)
        memcpy(res->curves[arm][m], res->curves[ARM_TICKET][m], (size_t)res->E * sizeof(float));
    res->density[arm][0] = res->density[ARM_TICKET][0];
    res->es_iter[arm][0] = res->es_iter[ARM_TICKET][0];
    res->es_test_acc[arm][0] = res->es_test_acc[ARM_TICKET][0];
    res->final_test_acc[arm][0] = res->final_test_acc[ARM_TICKET][0];
}

int trial_run(trial_ctx_t *c, const trial_t *t, trial_result_t *res)
{
    const config_t *cfg = c->cfg;
    net_t *net = &c->net;
    size_t n = net->n_params;
    int n_rounds = t->rounds, rc;
    double q = 1.0 - pow(1.0 - t->rate, 1.0 / n_rounds);
    const float *reset = c->theta0; /* where survivors are reset to */

    trial_result_clear(res);
    trial_theta0(net, t->seed, c->theta0);
    for (size_t i = 0; i < n; i++)
        c->ticket_mask[i] = 1.0f;

    /* The ticket: n + 1 trainings with magnitude pruning in between. */
    uint8_t *counts = res->masks[ARM_TICKET];
    for (int r = 0; r <= n_rounds; r++) {
        memcpy(c->start, reset, n * sizeof(float));
        if ((rc = train(c, t, c->ticket_mask, ARM_TICKET, r, res, r == 0 ? res->rewind : NULL)))
            goto out;
        count_active(net, c->ticket_mask, counts);
        if (r == 0 && res->rewind)
            reset = res->rewind;
        if (r < n_rounds && (rc = prune_round(c, q)))
            goto out;
    }

    /* Reinit control: the ticket's mask of round r, a fresh Glorot init. */
    if (cfg->controls & CTRL_REINIT) {
        copy_round0(res, ARM_REINIT);
        for (int r = 1; r <= n_rounds; r++) {
            mask_of_round(net, counts, r, c->ticket_mask);
            net_init_params(net, c->start, (uint64_t)t->seed, RNG_REINIT, trial_salt(t) + (uint64_t)r);
            if ((rc = train(c, t, c->ticket_mask, ARM_REINIT, r, res, NULL)))
                goto out;
        }
        memcpy(res->masks[ARM_REINIT], counts, res->n_weights);
    }

    /* Random control: per-layer counts of the ticket, random choice, nested. */
    if (cfg->controls & CTRL_RANDOM) {
        for (size_t i = 0; i < n; i++)
            c->random_mask[i] = 1.0f;
        copy_round0(res, ARM_RANDOM);
        count_active(net, c->random_mask, res->masks[ARM_RANDOM]);
        for (int r = 1; r <= n_rounds; r++) {
            size_t k = 0;
            rng_t rg;
            rng_init(&rg, rng_key((uint64_t)t->seed, RNG_RANDOM, (uint64_t)r, trial_salt(t)));
            for (int l = 0; l < net->n_layers; l++) {
                const net_layer_t *L = &net->layers[l];
                size_t want = 0;
                for (size_t i = 0; i < L->n_w; i++)
                    want += counts[k + i] > r;
                k += L->n_w;
                if (!L->n_w)
                    continue;
                prune_seg_t s = layer_seg(L);
                if ((rc = prune_random(c->random_mask, s, prune_alive(c->random_mask, s) - want, &rg)))
                    goto out;
            }
            memcpy(c->start, reset, n * sizeof(float));
            if ((rc = train(c, t, c->random_mask, ARM_RANDOM, r, res, NULL)))
                goto out;
            count_active(net, c->random_mask, res->masks[ARM_RANDOM]);
        }
    }
    res->status = STATUS_DONE;
    return 0;
out:
    if (rc == TRIAL_FAILED)
        res->status = STATUS_FAILED;
    else
        res->status = STATUS_PENDING;
    return rc;
}
