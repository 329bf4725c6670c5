/*
 * trial_node.c - a training of the plan (trial.h), around trial.c's steps:
 * what it trains (its mask and start: a ticket's from its history, the
 * random control's at random, the sign controls' from the ticket's start,
 * pruning at initialisation's from theta0's scores, pai.h), what it leaves
 * (its children's masks by prune.criterion), the instability analysis's
 * copies and lines, and a whole trial's trainings in one process
 * (trial_run).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pai.h"
#include "prune.h"
#include "rng.h"
#include "trial.h"
#include "trial_impl.h"

/* The mask of round r from a mask history: the weights active in every round
 * 0..r (count > r; histories are nested); biases 1. A history's byte i is
 * weight i of the block (both [0, n_weights), net.h). */
static void mask_of_round(const net_t *net, const uint8_t *counts, int r, float *mask)
{
    for (size_t i = 0; i < net->n_weights; i++)
        mask[i] = counts[i] > r ? 1.0f : 0.0f;
    for (size_t i = net->n_weights; i < net->n_params; i++)
        mask[i] = 1.0f;
}

/* history + one round of activity: dst = counts + (mask != 0), weights only. */
static void add_round(const net_t *net, const uint8_t *counts, const float *mask, uint8_t *dst)
{
    for (size_t i = 0; i < net->n_weights; i++)
        dst[i] = (uint8_t)(counts[i] + (mask[i] != 0));
}

static prune_seg_t layer_seg(const net_layer_t *L)
{
    return (prune_seg_t){L->w_off, L->n_w};
}

/* The ticket children's masks: each prunes this round's mask by its planned
 * counts, the weights of lowest prune.criterion score going first: the
 * score of the trained weights in net->params (w_final) and of `init`, the
 * values the training started from or the rewind point (w_init; NULL under
 * magnitude, which reads only w_final). Round 0's children start chains of
 * different rewind points: `rewind` ([K][n_params], round 0's records, or
 * NULL) gives each child whose k > 0 its own row as w_init. */
static int make_children(trial_ctx_t *c, const graph_t *g, int x, const uint8_t *counts,
                         const float *init, const float *rewind, uint8_t **children)
{
    net_t *net = &c->net;
    prune_seg_t segs[NET_MAX_LAYERS];
    for (int s = 0; s < g->n_segs; s++)
        segs[s] = layer_seg(&net->layers[g->seg_layer[s]]);
    int i = 0, rc;
    for (int32_t ch = g->nodes[x].first_child; ch >= 0; ch = g->nodes[ch].next_sibling, i++) {
        const int64_t *cut = graph_cut(g, ch);
        /* the child's chain: round 0's children are of every rewind point and criterion */
        int rw = g->nodes[ch].rw, crit = grid_criterion(c->cfg, g->nodes[ch].ci);
        const float *w_init = crit == PRUNE_MAGNITUDE              ? NULL /* reads w_final only */
                              : rewind && grid_rewind(c->cfg, rw) > 0 ? rewind + (size_t)rw * net->n_params
                                                                     : init;
        memcpy(c->child_mask, net->mask, net->n_params * sizeof(float));
        prune_seg_t pool[NET_MAX_LAYERS];
        int n_pool = 0;
        for (int s = 0; s < g->n_segs; s++) {
            if (g->pooled[s]) {
                pool[n_pool++] = segs[s];
                continue;
            }
            if ((rc = prune_criterion(crit, w_init, net->params, c->child_mask, &segs[s], 1,
                                      (size_t)cut[g->cut_of[s]])))
                return rc;
        }
        /* global scope: one threshold over the pooled layers together */
        if (n_pool && (rc = prune_criterion(crit, w_init, net->params, c->child_mask, pool, n_pool,
                                            (size_t)cut[0])))
            return rc;
        add_round(net, counts, c->child_mask, children[i]);
    }
    return 0;
}

/* The random control's mask of round k: its previous mask (history `prev`)
 * pruned at random, layer by layer, down to the ticket's survivors. */
static int random_mask(trial_ctx_t *c, uint64_t key, int k, const uint8_t *prev,
                       const uint8_t *ticket)
{
    net_t *net = &c->net;
    rng_t rg;
    int rc;
    rng_init(&rg, rng_key(key, RNG_RANDOM, 0, 0));
    mask_of_round(net, prev, k - 1, net->mask);
    for (int l = 0; l < net->n_layers; l++) {
        const net_layer_t *L = &net->layers[l];
        if (!L->n_w)
            continue;
        size_t want = 0; /* the ticket's survivors in this layer */
        for (size_t i = 0; i < L->n_w; i++)
            want += ticket[L->w_off + i] > k;
        prune_seg_t s = layer_seg(L);
        if ((rc = prune_random(net->mask, s, prune_alive(net->mask, s) - want, &rg)))
            return rc;
    }
    return 0;
}

/*
 * The start of a sign control (graph.h), whose mask is in net->mask, from
 * `base`, the ticket's start (theta0, or the rewind point): its biases, and
 * weights that keep base's signs: signed_reinit, magnitudes of a fresh
 * initialisation (the node's key); signed_constant, the layer's init std
 * (net_init_std); reshuffle, base's values themselves, the survivors of each
 * layer permuted among the survivors' places (the node's key and the
 * layer). Pruned weights are left as base has them (train multiplies by the
 * mask). Returns 0 or TS_ERUN (out of memory).
 */
static int sign_start(trial_ctx_t *c, int arm, uint64_t key, const float *base)
{
    net_t *net = &c->net;
    float *st = c->start;
    memcpy(st, base, net->n_params * sizeof(float));
    if (arm == ARM_SIGNED_REINIT) {
        net_init_params(net, c->child_mask, key, RNG_REINIT, 0); /* child_mask: scratch here */
        for (size_t i = 0; i < net->n_weights; i++)
            st[i] = copysignf(fabsf(c->child_mask[i]), base[i]);
        return 0;
    }
    for (int l = 0; l < net->n_layers; l++) {
        const net_layer_t *L = &net->layers[l];
        if (!L->n_w)
            continue;
        if (arm == ARM_SIGNED_CONSTANT) {
            float sd = (float)net_init_std(L);
            for (size_t i = L->w_off; i < L->w_off + L->n_w; i++)
                st[i] = copysignf(sd, base[i]);
            continue;
        }
        /* ARM_RESHUFFLE: a Fisher-Yates shuffle of the survivors' places */
        int32_t *at = ts_malloc(L->n_w * sizeof *at + 1);
        if (!at)
            return TS_ERUN;
        int64_t m = 0;
        for (size_t i = L->w_off; i < L->w_off + L->n_w; i++)
            if (net->mask[i] != 0)
                at[m++] = (int32_t)i;
        rng_t r;
        rng_init(&r, rng_key(key, RNG_RESHUFFLE, (uint64_t)l, 0));
        rng_shuffle(&r, at, m);
        int64_t j = 0; /* the j-th survivor takes the value of survivor at[j] */
        for (size_t i = L->w_off; i < L->w_off + L->n_w; i++)
            if (net->mask[i] != 0)
                st[i] = base[at[j++]];
        free(at);
    }
    return 0;
}

/* pai.h's method of a pruning-at-initialisation arm. */
static int pai_method(int arm)
{
    switch (arm) {
    case ARM_SNIP: return PAI_SNIP;
    case ARM_SYNFLOW: return PAI_SYNFLOW;
    case ARM_GRASP: return PAI_GRASP;
    default: return PAI_MAGNITUDE;
    }
}

/* The pruning-at-initialisation arms' controls bits. */
#define CTRL_PAI (CTRL_SNIP | CTRL_SYNFLOW | CTRL_MAGNITUDE_INIT | CTRL_GRASP)

/*
 * snip's and grasp's scoring batch of `seed`: prune.pai_images training images of each
 * class (fewer when the split has fewer), the first of each class in a
 * shuffle of the training split keyed (seed, RNG_PAI, prune.pai_seed), in
 * that order. x [10 pai_images][dim] and y are the caller's; c->perm is
 * used as scratch (a training redraws it). Returns the rows.
 */
static int scoring_batch(trial_ctx_t *c, int64_t seed, float *x, uint8_t *y)
{
    const dataset_t *tr = &c->data->train;
    int per = c->cfg->pai_images, have[DATA_CLASSES] = {0}, n = 0;
    rng_t r;
    for (int64_t i = 0; i < tr->n; i++)
        c->perm[i] = (int32_t)i;
    rng_init(&r, rng_key((uint64_t)seed, RNG_PAI, (uint64_t)c->cfg->pai_seed, 0));
    rng_shuffle(&r, c->perm, tr->n);
    for (int64_t i = 0; i < tr->n && n < per * DATA_CLASSES; i++) {
        int32_t row = c->perm[i];
        if (tr->y[row] < DATA_CLASSES && have[tr->y[row]] < per) {
            have[tr->y[row]]++;
            c->perm[n] = row; /* i >= n: nothing still to read is overwritten */
            y[n++] = tr->y[row];
        }
    }
    trial_inputs(c->data, tr, c->perm, 0, n, x);
    return n;
}

double trial_pai_bytes(const config_t *cfg, const net_t *layout, const data_t *data)
{
    if (!(cfg->controls & CTRL_PAI))
        return 0;
    double rows = (double)cfg->pai_images * DATA_CLASSES;
    size_t g = pai_scratch(cfg->controls & CTRL_GRASP ? PAI_GRASP : PAI_SNIP, layout->n_params);
    double hvp = cfg->controls & CTRL_GRASP ? pai_hvp_bytes(layout, rows < cfg->batch ? (int)rows : cfg->batch) : 0;
    return (double)layout->n_weights * sizeof(float) + (double)g * sizeof(double) + hvp +
           rows * ((double)data->train.dim * sizeof(float) + 1);
}

/*
 * prune.pai_shuffle (Frankle, Dziugaite, Roy & Carbin 2021's ablation): the
 * mask of each weight layer permuted at random within the layer, so each
 * keeps its count and loses which weights it kept. The permutation of layer
 * l is keyed (key, RNG_PAI_SHUFFLE, l): the node's own, the same bits on any
 * rank. Returns 0 or TS_ERUN (out of memory).
 */
static int shuffle_init_mask(net_t *net, uint64_t key)
{
    for (int l = 0; l < net->n_layers; l++) {
        const net_layer_t *L = &net->layers[l];
        if (L->n_w == 0)
            continue;
        float *m = ts_malloc(L->n_w * sizeof *m);
        int32_t *at = ts_malloc(L->n_w * sizeof *at);
        if (!m || !at) {
            free(m), free(at);
            return TS_ERUN;
        }
        for (size_t i = 0; i < L->n_w; i++)
            at[i] = (int32_t)i, m[i] = net->mask[L->w_off + i];
        rng_t r;
        rng_init(&r, rng_key(key, RNG_PAI_SHUFFLE, (uint64_t)l, 0));
        rng_shuffle(&r, at, (int64_t)L->n_w);
        for (size_t i = 0; i < L->n_w; i++) /* weight i takes the bit of weight at[i] */
            net->mask[L->w_off + i] = m[at[i]];
        free(m), free(at);
    }
    return 0;
}

/*
 * The mask of pruning-at-initialisation training x into net->mask: theta0
 * pruned by its arm's scores to the survivors its twin ticket's round has
 * in the plan (graph.h: the counts of rounds 1..k), with prune.pai_scope
 * global (one group: every layer the plan prunes, scale > 0) or layerwise
 * (the plan's own entries: each layer, or prune.scope's pool, to its count);
 * with prune.pai_shuffle, then permuted within each layer (shuffle_init_mask).
 * Returns 0 or TS_ERUN.
 */
static int init_mask(trial_ctx_t *c, const graph_t *g, int x, int64_t seed)
{
    net_t *net = &c->net;
    int64_t cum[NET_MAX_LAYERS] = {0};
    for (int32_t y = g->nodes[x].twin; y >= 0 && g->nodes[y].round > 0; y = g->nodes[y].prev)
        for (int e = 0; e < g->n_cut; e++)
            cum[e] += graph_cut(g, y)[e];
    pai_group_t gr[NET_MAX_LAYERS];
    int n_gr = 0, global = c->cfg->pai_scope == SCOPE_GLOBAL;
    memset(gr, 0, sizeof gr);
    for (int s = 0; s < g->n_segs; s++) {
        int e = global ? 0 : g->cut_of[s];
        if (global && g->seg_scale[s] == 0)
            continue; /* never pruned: stays dense */
        pai_group_t *p = &gr[e];
        n_gr = e + 1 > n_gr ? e + 1 : n_gr;
        p->segs[p->n_segs++] = layer_seg(&net->layers[g->seg_layer[s]]);
        p->keep += g->seg_len[s];
    }
    for (int e = 0; e < g->n_cut; e++)
        gr[global ? 0 : e].keep -= (size_t)cum[e];
    pai_opts_t o = {pai_method(g->nodes[x].arm), c->cfg->synflow_iterations, c->cfg->grasp_temperature};
    int method = o.method, batched = method == PAI_SNIP || method == PAI_GRASP, rows = 0, rc = 0;
    float *score = ts_malloc(net->n_weights * sizeof *score + 1), *xs = NULL;
    double *grad = ts_malloc(pai_scratch(method, net->n_params) * sizeof *grad);
    uint8_t *ys = NULL;
    if (batched) {
        size_t cap = (size_t)c->cfg->pai_images * DATA_CLASSES;
        xs = ts_malloc(cap * (size_t)c->data->train.dim * sizeof *xs + 1);
        ys = ts_malloc(cap + 1);
        if (xs && ys)
            rows = scoring_batch(c, seed, xs, ys);
    }
    if (!score || !grad || (batched && (!xs || !ys)))
        rc = TS_ERUN;
    pai_batch_t batch = {xs, ys, rows};
    if (!rc)
        rc = pai_mask(&o, net, c->theta0, &batch, c->cfg->batch, gr, n_gr, grad, score);
    free(score), free(grad), free(xs), free(ys);
    if (!rc && c->cfg->pai_shuffle)
        rc = shuffle_init_mask(net, g->nodes[x].key);
    return rc;
}

int trial_prepare_node(trial_ctx_t *c, const graph_t *g, int x, const node_in_t *in, uint8_t *own)
{
    const graph_node_t *nd = &g->nodes[x];
    net_t *net = &c->net;
    size_t n = net->n_params;
    int64_t seed = c->cfg->seeds[nd->seed_i];
    int k = nd->round, rc;

    if (c->theta0_seed != seed) {
        trial_theta0(net, seed, c->theta0);
        c->theta0_seed = seed;
    }
    const float *base = in->rewind ? in->rewind : c->theta0; /* the ticket's start */
    switch (graph_arm_mask(nd->arm)) {
    case ARM_MASK_TICKET:
        mask_of_round(net, in->counts, k, net->mask);
        memcpy(c->start, k > 0 && in->rewind ? in->rewind : c->theta0, n * sizeof(float));
        break;
    case ARM_MASK_TWIN:
        mask_of_round(net, in->counts, k, net->mask);
        if (nd->arm == ARM_REINIT)
            net_init_params(net, c->start, nd->key, RNG_REINIT, 0);
        else if ((rc = sign_start(c, nd->arm, nd->key, base)))
            return rc;
        break;
    case ARM_MASK_RANDOM:
        if ((rc = random_mask(c, nd->key, k, in->counts, in->ticket_counts)))
            return rc;
        if (own)
            add_round(net, in->counts, net->mask, own);
        memcpy(c->start, base, n * sizeof(float));
        break;
    default: /* ARM_MASK_INIT */
        if ((rc = init_mask(c, g, x, seed)))
            return rc;
        for (size_t i = 0; own && i < net->n_weights; i++) /* active in round k only */
            own[i] = net->mask[i] != 0 ? (uint8_t)(k + 1) : 0;
        memcpy(c->start, base, n * sizeof(float));
        break;
    }
    return 0;
}

/*
 * Copy y of an analysed training x (graph.h: NODE_COPY; trial.h: the
 * instability analysis): x again, from the start x's inputs give under the
 * same mask, with copy j's data order from c->cfg's split (c->cfg: the view
 * of its set's k for a round 0). Its final weights into out->weights; its
 * curves into res, which nobody keeps. Returns as trial_run_node.
 */
static int run_copy(trial_ctx_t *c, const graph_t *g, int y, const node_in_t *in, const node_out_t *out,
                    node_result_t *res)
{
    const graph_node_t *nd = &g->nodes[y];
    int x = nd->prev, rc;
    if ((rc = trial_prepare_node(c, g, x, in, NULL)))
        return rc;
    rc = trial_train(c, c->cfg->seeds[nd->seed_i], nd->key, ARM_TICKET, nd->round, res, NULL,
                     trial_data_seed(c->cfg, nd->copy));
    if (rc == TRIAL_FAILED) {
        char why[sizeof res->error];
        snprintf(why, sizeof why, "%s", res->error);
        snprintf(res->error, sizeof res->error, "copy %d: %.140s", nd->copy, why);
    }
    if (!rc && out->weights)
        memcpy(out->weights, c->net.params, c->net.n_params * sizeof(float));
    return rc;
}

/*
 * Line y of an analysed training x (graph.h: NODE_LINE): every pair's line
 * between the C final weights in->copies ([C][n_params], copy 0 x's own)
 * evaluated into res's set 0, under x's mask (from in->counts). params and
 * the kernels hold the last point evaluated on return. Returns 0,
 * TRIAL_ABORTED or TS_ERUN.
 */
static int run_line(trial_ctx_t *c, const graph_t *g, int y, const node_in_t *in, node_result_t *res)
{
    const config_t *cfg = c->cfg;
    net_t *net = &c->net;
    size_t n = net->n_params;
    int C = cfg->copies, A = cfg->interpolation, p = 0;
    if (res->pairs != trial_pairs(cfg) || res->A != A || !in->copies)
        return ts_fail(TS_ERUN, "line %d: the instability analysis has no room or no weights: "
                       "node_result_analysis for analysis.copies = %d and its copies' weights are needed", y, C);
    mask_of_round(net, in->counts, g->nodes[y].round, net->mask);
    for (int i = 0; i < C; i++)
        for (int j = i + 1; j < C; j++, p++) {
            float *te = res->inst[I_TEST_ERROR] + (size_t)p * A, top = -INFINITY;
            for (int a = 0; a < A; a++) {
                double tl, ta, vl, va;
                trial_interpolate(n, in->copies + (size_t)i * n, in->copies + (size_t)j * n, net->mask,
                                  (double)a / (A - 1), net->params);
                if (net_set_kernels(net, cfg->kernels) < 0)
                    return TS_ERUN; /* the message is net_set_kernels' */
                if (trial_evaluate(c, &c->data->test, &tl, &ta) || trial_evaluate(c, &c->data->val, &vl, &va))
                    return TRIAL_ABORTED;
                /* errors as 1 - the float accuracy the curves hold: the
                 * endpoints compare with a copy's own last point bit for bit */
                te[a] = 1.0f - (float)ta;
                res->inst[I_TEST_LOSS][(size_t)p * A + a] = (float)tl;
                res->inst[I_VAL_ERROR][(size_t)p * A + a] = 1.0f - (float)va;
                top = te[a] > top ? te[a] : top;
            }
            res->inst_value[p] = top - 0.5f * (te[0] + te[A - 1]);
        }
    return 0;
}

/* Training x of g (c->cfg: under the view of its rewind point, trial.h, when
 * the job crosses sweep.rewind); its contract is trial_run_node's. */
static int run_node(trial_ctx_t *c, const graph_t *g, int x, const node_in_t *in,
                    const node_out_t *out, node_result_t *res)
{
    const graph_node_t *nd = &g->nodes[x];
    net_t *net = &c->net;
    size_t n = net->n_params;
    int64_t seed = c->cfg->seeds[nd->seed_i];
    int k = nd->round, rc;

    if ((rc = trial_prepare_node(c, g, x, in, out->counts)))
        return rc;
    float *rewind = nd->arm == ARM_TICKET && k == 0 && grid_rewinding(c->cfg) ? out->rewind : NULL;
    if ((rc = trial_train(c, seed, nd->key, nd->arm, k, res, rewind, 0)))
        return rc;
    if (nd->arm == ARM_TICKET && out->children) {
        /* w_init: the rewind point when rewinding (round 0 has just made
         * them, make_children picks each child's; later rounds started from
         * it), else theta0; c->start, which train only reads, still holds
         * what this training started from */
        const float *init = c->start;
        if (c->cfg->criterion == PRUNE_MAGNITUDE && !c->cfg->criteria) {
            init = NULL;
        } else if (k == 0 ? grid_rewinding(c->cfg) && !rewind : c->cfg->rewind_iteration > 0 && !in->rewind) {
            char name[64];
            config_value(c->cfg, "prune.criterion", name, sizeof name);
            return ts_fail(TS_ERUN, "ticket round %d: prune.criterion = %s scores against the rewind "
                           "point, which this training was not given", k, name);
        }
        if ((rc = make_children(c, g, x, in->counts, init, k == 0 ? rewind : NULL, out->children)))
            return rc;
    }
    if (out->weights)
        memcpy(out->weights, net->params, n * sizeof(float));
    return 0;
}

int trial_run_node(trial_ctx_t *c, const graph_t *g, int x, const node_in_t *in,
                   const node_out_t *out, node_result_t *res)
{
    const config_t *job = c->cfg;
    int rw = g->nodes[x].rw, K;
    grid_rewinds(job, &K);
    if (rw < 0 || rw >= K)
        return ts_fail(TS_ERUN, "training %d: rewind index %d outside the job's %d rewind points", x, rw, K);
    int ci = g->nodes[x].ci, list[PRUNE_N_CRITERIA];
    if (ci < 0 || ci >= grid_criteria(job, list))
        return ts_fail(TS_ERUN, "training %d: criterion index %d outside the job's criteria", x, ci);
    const graph_node_t *nd = &g->nodes[x];
    if (c->view) { /* the one-value job of its k and criterion */
        *c->view = *job;
        /* a round 0's copies: the dense network from their set's k, where they split */
        c->view->rewind_iteration = grid_rewind(job, nd->kind == NODE_COPY && nd->round == 0 ? nd->set : rw);
        c->view->criterion = list[ci];
        c->cfg = c->view;
    }
    res->error[0] = 0;
    int rc = nd->kind == NODE_COPY ? run_copy(c, g, x, in, out, res)
             : nd->kind == NODE_LINE ? run_line(c, g, x, in, res)
                                     : run_node(c, g, x, in, out, res);
    c->cfg = job;
    return rc;
}

/* Copy a training's results into round k of an arm of a cell's result. */
static void put_round(trial_result_t *r, int arm, int k, const node_result_t *nr)
{
    for (int m = 0; m < N_METRICS; m++)
        memcpy(r->curves[arm][m] + (size_t)k * r->E, nr->curves[m], (size_t)r->E * sizeof(float));
    r->density[arm][k] = nr->density;
    r->es_iter[arm][k] = nr->es_iter;
    r->es_test_acc[arm][k] = nr->es_test_acc;
    r->final_test_acc[arm][k] = nr->final_test_acc;
}

/* Copy a line's results into round k of a cell's instability rows. */
static void put_line(trial_result_t *r, int k, const node_result_t *nr)
{
    size_t line = (size_t)r->pairs * r->A;
    if (!r->inst_value || !nr->inst_value)
        return;
    for (int m = 0; m < N_INST; m++)
        memcpy(r->inst[m] + (size_t)k * line, nr->inst[m], line * sizeof(float));
    memcpy(r->inst_value + (size_t)k * r->pairs, nr->inst_value, (size_t)r->pairs * sizeof(float));
}

int trial_run(trial_ctx_t *c, const trial_t *t, trial_result_t *res)
{
    const config_t *cfg = c->cfg;
    net_t *net = &c->net;
    graph_t g;
    node_result_t nr;
    int rc;
    size_t W = net->n_weights;
    trial_result_clear(res);
    /* a one-cell job of this trial (t need not be a cell of cfg's grid) */
    config_t *one = ts_malloc(sizeof *one);
    if (!one)
        return TS_ERUN;
    *one = *cfg;
    if (cfg->n_per_round > 0)
        one->per_round[0] = t->q;
    else
        one->rates[0] = t->rate;
    one->rounds[0] = t->rounds;
    one->seeds[0] = t->seed;
    one->n_rates = one->n_rounds = one->n_seeds = 1;
    one->n_per_round = cfg->n_per_round > 0;
    if ((rc = graph_plan(&g, one, net, 1))) {
        free(one);
        return rc;
    }
    c->cfg = one;
    uint8_t **hist = ts_calloc((size_t)g.N, sizeof *hist);
    char *want = ts_calloc((size_t)g.N, 1);
    float **fw = ts_calloc((size_t)g.NA + 1, sizeof *fw); /* final weights a line reads */
    float *rewind = NULL; /* round 0's points, [K][n_params] */
    /* one's cells are its rewind points and criteria (one each without the axes) */
    int crits[PRUNE_N_CRITERIA], cell = t->rewind_i * grid_criteria(cfg, crits) + t->criterion_i, K;
    if ((rc = node_result_create(&nr, res->E)) || (rc = node_result_analysis(&nr, cfg)) || !hist || !want ||
        !fw) {
        rc = TS_ERUN;
        goto out;
    }
    grid_rewinds(cfg, &K);
    for (int a = 0; a < N_ARMS; a++)
        for (int k = 0; k <= t->rounds; k++) {
            int32_t x = graph_cell_node(&g, cell, a, k);
            if (x >= 0)
                want[x] = 1;
        }
    if (grid_rewinding(cfg) && !(rewind = ts_calloc((size_t)K * net->n_params, sizeof(float)))) {
        rc = TS_ERUN;
        goto out;
    }
    for (int x = 0; x < g.NA; x++) {
        const graph_node_t *nd = &g.nodes[x];
        /* the copies and line of the cell's own set only */
        if (!want[graph_train(&g, x)] || (nd->kind != NODE_TRAIN && nd->set != graph_cell_set(nd->round, t->rewind_i)))
            continue;
        if ((nd->kind == NODE_COPY || graph_sets(&g, x)) &&
            !(fw[x] = ts_malloc(net->n_params * sizeof(float)))) {
            rc = TS_ERUN;
            goto out;
        }
        if (nd->kind == NODE_LINE) {
            for (int j = 0; j < g.C; j++)
                memcpy(c->copy_w + (size_t)j * net->n_params, fw[graph_line_input(&g, x, j)],
                       net->n_params * sizeof(float));
            node_in_t in = {hist[nd->prev], NULL, NULL, c->copy_w};
            node_out_t out = {NULL, NULL, NULL, NULL};
            if ((rc = trial_run_node(c, &g, x, &in, &out, &nr)))
                goto out;
            put_line(res, nd->round, &nr);
            continue;
        }
        if (nd->kind == NODE_COPY) {
            int from_k = rewind && nd->round > 0 && grid_rewind(cfg, nd->rw) > 0;
            node_in_t in = {hist[nd->prev], NULL, from_k ? rewind + (size_t)nd->rw * net->n_params : NULL, NULL};
            node_out_t out = {NULL, NULL, NULL, fw[x]};
            if ((rc = trial_run_node(c, &g, x, &in, &out, &nr))) {
                snprintf(res->error, sizeof res->error, "%s", nr.error);
                goto out;
            }
            continue;
        }
        if (!hist[x] && !(hist[x] = ts_malloc(W + 1))) { /* a root: every weight active once */
            rc = TS_ERUN;
            goto out;
        }
        if (nd->round == 0)
            memset(hist[x], 1, W);
        uint8_t *children[4096];
        int nc = 0;
        for (int32_t ch = nd->first_child; ch >= 0; ch = g.nodes[ch].next_sibling) {
            if (nc == 4096 || (!hist[ch] && !(hist[ch] = ts_malloc(W + 1)))) {
                rc = TS_ERUN;
                goto out;
            }
            children[nc++] = hist[ch];
        }
        int32_t ia, ib;
        graph_inputs(&g, x, &ia, &ib);
        int from_k = rewind && nd->round > 0 && grid_rewind(cfg, nd->rw) > 0;
        node_in_t in = {ia >= 0 ? hist[ia] : NULL, ib >= 0 ? hist[ib] : NULL,
                        from_k ? rewind + (size_t)nd->rw * net->n_params : NULL, NULL};
        node_out_t out = {children, graph_arm_own_mask(nd->arm) ? hist[x] : NULL,
                          nd->round == 0 ? rewind : NULL, fw[x]};
        if ((rc = trial_run_node(c, &g, x, &in, &out, &nr))) {
            snprintf(res->error, sizeof res->error, "%s", nr.error);
            goto out;
        }
        for (int32_t i = g.inc_off[x]; i < g.inc_off[x + 1]; i++)
            put_round(res, g.inc[i] % N_ARMS, nd->round, &nr);
    }
    for (int a = 0; a < N_ARMS; a++) { /* the twin-mask arms train the ticket's */
        int32_t x = graph_cell_node(&g, cell, a, t->rounds);
        if (x >= 0)
            memcpy(res->masks[a], hist[graph_arm_mask(a) == ARM_MASK_TWIN ? g.nodes[x].twin : x], W);
    }
    if (res->rewind && rewind)
        memcpy(res->rewind, rewind + (size_t)t->rewind_i * net->n_params, net->n_params * sizeof(float));
    res->status = STATUS_DONE;
out:
    if (rc)
        res->status = rc == TRIAL_FAILED ? STATUS_FAILED : STATUS_PENDING;
    for (int x = 0; hist && x < g.N; x++)
        free(hist[x]);
    free(hist);
    for (int x = 0; fw && x < g.NA; x++)
        free(fw[x]);
    free(fw);
    free(want);
    free(rewind);
    node_result_free(&nr);
    graph_free(&g);
    c->cfg = cfg;
    free(one);
    return rc;
}
