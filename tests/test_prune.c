/*
 * test_prune: exact pruning counts, tie-breaking, nested masks over rounds,
 * layer-wise and global scope, and the random control's per-layer counts;
 * prune.criterion: each criterion's scores and survivors on a hand-made
 * example (signed scores, ties), and a ticket's children against a naive
 * ranking of the scores of theta0 (or the rewind point) and the trained
 * weights, with exact counts under either scope and the output and conv
 * scales.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "err.h"
#include "graph.h"
#include "prune.h"
#include "synth.h"
#include "trial.h"

static void test_primitives(void)
{
    CHECK(prune_count(1000, 0.2) == 200, "1000 x 0.2");
    CHECK(prune_count(5, 0.5) == 3, "round half away from zero: %zu", prune_count(5, 0.5));
    CHECK(prune_count(7, 0.0) == 0, "q = 0");
    CHECK(prune_count(3, 0.1) == 0, "0.3 rounds to 0");

    float w[8] = {0.5f, -0.1f, 0.3f, 0.1f, -0.3f, 0.0f, 2.0f, -0.1f};
    float mask[8] = {1, 1, 1, 1, 1, 0, 1, 1};
    prune_seg_t s = {0, 8};
    CHECK(prune_alive(mask, s) == 7, "alive");
    /* smallest |w| among active: 0.1 at 1, 3, 7 (ties: lower index first) */
    CHECK(prune_magnitude(w, mask, &s, 1, 2) == 0, "prune");
    CHECK(mask[1] == 0 && mask[3] == 0 && mask[7] == 1, "ties by index: %g %g %g", mask[1], mask[3], mask[7]);
    CHECK(prune_alive(mask, s) == 5, "alive after: %zu", prune_alive(mask, s));
    /* two segments together (global): one threshold over both */
    float w2[6] = {5, 4, 3, 0.5f, 0.25f, 6};
    float m2[6] = {1, 1, 1, 1, 1, 1};
    prune_seg_t segs[2] = {{0, 3}, {3, 3}};
    prune_magnitude(w2, m2, segs, 2, 3);
    CHECK(m2[2] == 0 && m2[3] == 0 && m2[4] == 0 && m2[0] == 1 && m2[5] == 1, "global picks across segments");

    rng_t r;
    rng_init(&r, 42);
    float m3[100];
    for (int i = 0; i < 100; i++)
        m3[i] = i % 2 ? 1.0f : 0.0f;
    prune_seg_t s3 = {0, 100};
    prune_random(m3, s3, 20, &r);
    CHECK(prune_alive(m3, s3) == 30, "random prunes exactly: %zu", prune_alive(m3, s3));
    int regrown = 0;
    for (int i = 0; i < 100; i += 2)
        regrown += m3[i] != 0;
    CHECK(regrown == 0, "random pruning only removes");
}

static const char *const crit_names[PRUNE_N_CRITERIA] = {
    "magnitude", "magnitude_increase", "movement", "large_init_large_final", "large_init"};

/* The survivors (mask != 0) of a 7-weight mask as a bit set. */
static unsigned survivors(const float *mask)
{
    unsigned b = 0;
    for (int i = 0; i < 7; i++)
        b |= (mask[i] != 0) << i;
    return b;
}
#define BITS(...) bits_of((const int[]){__VA_ARGS__, -1})
static unsigned bits_of(const int *idx)
{
    unsigned b = 0;
    for (; *idx >= 0; idx++)
        b |= 1u << *idx;
    return b;
}

/*
 * Each criterion on seven weights whose values are exact in binary (so
 * every score and tie is exact): weight 6 is already pruned and must stay
 * so. The scores, weight by weight:
 *   w_init                  1     -0.5   0.25  -2     1.5   2     (0)
 *   w_final                 1.5    0.25 -1     -0.5   1.5  -1     (0)
 *   magnitude               1.5    0.25  1      0.5   1.5   1
 *   magnitude_increase      0.5   -0.25  0.75  -1.5   0    -1
 *   movement                0.5    0.75  1.25   1.5   0     3
 *   large_init_large_final  1      0.25  0.25   0.5   1.5   1
 *   large_init              1      0.5   0.25   2     1.5   2
 */
static void test_criteria(void)
{
    const float wi[7] = {1, -0.5f, 0.25f, -2, 1.5f, 2, 0}, wf[7] = {1.5f, 0.25f, -1, -0.5f, 1.5f, -1, 0};
    CHECK(prune_score(PRUNE_MAGNITUDE, 9, -1.5f) == 1.5f, "magnitude reads w_final only");
    CHECK(prune_score(PRUNE_MAGNITUDE_INCREASE, -2, -0.5f) == -1.5f, "magnitude_increase is signed: %g",
          prune_score(PRUNE_MAGNITUDE_INCREASE, -2, -0.5f));
    CHECK(prune_score(PRUNE_MOVEMENT, 2, -1) == 3, "movement: |w_final - w_init|");
    CHECK(prune_score(PRUNE_LARGE_INIT_LARGE_FINAL, -2, -0.5f) == 0.5f &&
              prune_score(PRUNE_LARGE_INIT_LARGE_FINAL, 0.25f, -1) == 0.25f,
          "large_init_large_final: the smaller of the two magnitudes");
    CHECK(prune_score(PRUNE_LARGE_INIT, -2, 9) == 2, "large_init reads w_init only");
    static const struct {
        int crit;
        size_t count;
        const char *why;
    } cases[] = {
        /* 1 (0.25), 3 (0.5), then 2 before 5 (1 each: the lower index) */
        {PRUNE_MAGNITUDE, 3, "ties by index"},
        {PRUNE_MAGNITUDE, 4, "the tie of 2 and 5 gone whole"},
        /* signed: -1.5 (3), -1 (5), -0.25 (1) go first; by |score| 4 (0) would */
        {PRUNE_MAGNITUDE_INCREASE, 3, "signed"},
        {PRUNE_MAGNITUDE_INCREASE, 5, "signed, then 0 and 0.5"},
        {PRUNE_MOVEMENT, 3, "0, 0.5, 0.75"},
        /* 1 and 2 tie at 0.25, 0 and 5 at 1 */
        {PRUNE_LARGE_INIT_LARGE_FINAL, 4, "large at both; ties by index"},
        {PRUNE_LARGE_INIT, 5, "2 before 3 and 5 (2 each): 3 goes"},
    };
    const unsigned want[] = {/* the survivors of each case */BITS(0, 4, 5), BITS(0, 4), BITS(0, 2, 4), BITS(2), BITS(2, 3, 5), BITS(4, 5),
                             BITS(5)};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float mask[7] = {1, 1, 1, 1, 1, 1, 0};
        prune_seg_t s = {0, 7};
        CHECK(prune_criterion(cases[k].crit, wi, wf, mask, &s, 1, cases[k].count) == 0, "prune");
        CHECK(survivors(mask) == want[k], "%s, %zu pruned (%s): survivors 0x%x, want 0x%x",
              crit_names[cases[k].crit], cases[k].count, cases[k].why, survivors(mask), want[k]);
        CHECK(prune_alive(mask, s) == 6 - cases[k].count, "%s: exact count", crit_names[cases[k].crit]);
    }
    /* two segments: one threshold over both (movement: 0 and 1 of the first,
       4 of the second: 0.5, 0.75 and 0; one by one each would lose its own) */
    float mask[7] = {1, 1, 1, 1, 1, 1, 0};
    prune_seg_t segs[2] = {{0, 3}, {3, 4}};
    CHECK(prune_criterion(PRUNE_MOVEMENT, wi, wf, mask, segs, 2, 3) == 0, "prune");
    CHECK(survivors(mask) == BITS(2, 3, 5), "movement over two segments: 0x%x", survivors(mask));
    /* prune_magnitude is the magnitude criterion */
    float m1[7] = {1, 1, 1, 1, 1, 1, 0}, m2[7] = {1, 1, 1, 1, 1, 1, 0};
    prune_seg_t s = {0, 7};
    prune_magnitude(wf, m1, &s, 1, 3);
    prune_criterion(PRUNE_MAGNITUDE, NULL, wf, m2, &s, 1, 3);
    CHECK(!memcmp(m1, m2, sizeof m1), "prune_magnitude and the magnitude criterion differ");
}

/*
 * The mask a group of weights keeps (1 survives, 0 pruned) when `cut` of its
 * weights go by criterion, computed naively: a weight's rank is the count of
 * weights of lower score, or equal score and lower index, and the `cut` of
 * lowest rank go. off[g], len[g]: the group's segments.
 */
static void naive_keep(int crit, const float *wi, const float *wf, const size_t *off, const size_t *len,
                       int n, int64_t cut, uint8_t *keep)
{
    for (int a = 0; a < n; a++)
        for (size_t i = off[a]; i < off[a] + len[a]; i++) {
            float si = prune_score(crit, wi[i], wf[i]);
            int64_t rank = 0;
            for (int b = 0; b < n; b++)
                for (size_t j = off[b]; j < off[b] + len[b]; j++) {
                    float sj = prune_score(crit, wi[j], wf[j]);
                    rank += sj < si || (sj == si && j < i);
                }
            keep[i] = rank >= cut;
        }
}

/* The mask the child of round 0 keeps under crit, from w_init wi and the
 * trained weights wf, per the plan's counts; returns the survivors. */
static size_t expected_child(const graph_t *g, const net_t *net, int child, int crit, const float *wi,
                             const float *wf, uint8_t *keep)
{
    const int64_t *cut = graph_cut(g, child);
    size_t poff[NET_MAX_LAYERS], plen[NET_MAX_LAYERS], kept = 0;
    int np = 0;
    for (int s = 0; s < g->n_segs; s++) {
        const net_layer_t *L = &net->layers[g->seg_layer[s]];
        if (g->pooled[s]) {
            poff[np] = L->w_off;
            plen[np++] = L->n_w;
        } else {
            naive_keep(crit, wi, wf, &L->w_off, &L->n_w, 1, cut[g->cut_of[s]], keep);
        }
    }
    if (np)
        naive_keep(crit, wi, wf, poff, plen, np, cut[0], keep);
    for (size_t i = 0; i < net->n_weights; i++)
        kept += keep[i];
    return kept;
}

/*
 * Round 0 of a one-cell job (rate 0.6, one round, seed 5), then its child's
 * mask under each criterion against naive_keep of theta0 (or, rewinding,
 * the rewind point round 0 made) and the trained weights; each layer keeps
 * exactly what round(q x scale x alive) leaves (global: the pool its
 * count); a criterion other than magnitude keeps another mask, and with
 * rewinding one that theta0 as w_init would not give.
 */
static void test_children(int scope, int conv, int64_t rewind)
{
    data_t d;
    config_t cfg;
    synth_data(&d);
    synth_config(&cfg);
    cfg.scope = scope;
    cfg.iterations = 40;
    cfg.eval_every = 20;
    cfg.rates[0] = 0.6;
    cfg.n_rates = 1;
    cfg.rounds[0] = 1;
    cfg.n_rounds = 1;
    cfg.seeds[0] = 5;
    cfg.n_seeds = 1;
    cfg.controls = 0;
    cfg.rewind_iteration = rewind;
    cfg.output_scale = 0.5;
    if (conv) {
        cfg.n_conv = 2, cfg.conv[0] = 4, cfg.conv[1] = CFG_POOL;
        cfg.conv_scale = 0.5;
    }
    uint8_t *mag = NULL;
    for (int crit = 0; crit < PRUNE_N_CRITERIA; crit++) {
        cfg.criterion = crit;
        trial_ctx_t c;
        graph_t g;
        node_result_t r;
        if (trial_ctx_create(&c, &cfg, &d)) {
            CHECK(0, "ctx: %s", ts_errmsg());
            break;
        }
        CHECK(graph_plan(&g, &cfg, &c.net, 1) == 0, "plan");
        CHECK(node_result_create(&r, c.E) == 0, "result");
        size_t W = c.net.n_weights, P = c.net.n_params;
        uint8_t *ones = malloc(W), *child = malloc(W), *keep = malloc(W), *keep0 = malloc(W);
        float *wf = malloc(P * sizeof(float)), *rw = calloc(P, sizeof(float)), *t0 = malloc(P * sizeof(float));
        if (!mag)
            mag = malloc(W);
        int x = graph_cell_node(&g, 0, ARM_TICKET, 0), ch = x >= 0 ? g.nodes[x].first_child : -1;
        CHECK(x >= 0 && ch >= 0 && g.nodes[ch].next_sibling < 0, "one child of round 0");
        if (ch < 0 || !ones || !child || !keep || !keep0 || !wf || !rw || !t0 || !mag)
            goto next;
        memset(ones, 1, W);
        uint8_t *children[1] = {child};
        node_in_t in = {ones, NULL, NULL, NULL};
        node_out_t out = {children, NULL, rewind > 0 ? rw : NULL, wf};
        int rc = trial_run_node(&c, &g, x, &in, &out, &r);
        CHECK(rc == 0, "%s: round 0: %d %s", crit_names[crit], rc, ts_errmsg());
        if (rc)
            goto next;
        trial_theta0(&c.net, 5, t0);
        size_t kept = expected_child(&g, &c.net, ch, crit, rewind > 0 ? rw : t0, wf, keep);
        size_t bad = 0, alive = 0;
        for (size_t i = 0; i < W; i++) {
            bad += child[i] != 1 + keep[i];
            alive += child[i] == 2;
        }
        CHECK(bad == 0, "scope %d conv %d rewind %lld %s: %zu weights differ from the naive ranking", scope,
              conv, (long long)rewind, crit_names[crit], bad);
        /* the counts, layer by layer, as planned: round(q x scale x n) */
        const int64_t *cut = graph_cut(&g, ch);
        size_t pool_n = 0, pool_alive = 0;
        for (int s = 0; s < g.n_segs; s++) {
            const net_layer_t *L = &c.net.layers[g.seg_layer[s]];
            size_t a = 0;
            for (size_t i = 0; i < L->n_w; i++)
                a += child[L->w_off + i] == 2;
            double scale = g.seg_scale[s];
            CHECK(scale == (s == g.n_segs - 1 ? 0.5 : conv && L->kind == NET_CONV ? 0.5 : 1),
                  "layer %d: scale %g", s, scale);
            if (g.pooled[s]) {
                pool_n += L->n_w;
                pool_alive += a;
            } else {
                CHECK(a == L->n_w - prune_count(L->n_w, 0.6 * scale), "%s layer %d: %zu survive, want %zu",
                      crit_names[crit], s, a, L->n_w - prune_count(L->n_w, 0.6 * scale));
                CHECK(cut[g.cut_of[s]] == (int64_t)prune_count(L->n_w, 0.6 * scale), "layer %d count", s);
            }
        }
        CHECK(pool_alive == pool_n - prune_count(pool_n, 0.6), "%s: the pool keeps %zu of %zu",
              crit_names[crit], pool_alive, pool_n);
        CHECK(scope == SCOPE_GLOBAL ? pool_n > 0 : pool_n == 0, "pooled layers under scope %d", scope);
        CHECK(alive == kept, "survivors");
        if (crit == PRUNE_MAGNITUDE) {
            memcpy(mag, child, W);
        } else {
            CHECK(memcmp(mag, child, W), "%s keeps magnitude's mask", crit_names[crit]);
            /* rewinding: the naive ranking above used the rewind point as
               w_init; theta0 would give another mask (so the check can tell) */
            if (rewind > 0) {
                expected_child(&g, &c.net, ch, crit, t0, wf, keep0);
                CHECK(memcmp(keep, keep0, W), "%s: theta0 and the rewind point give one mask",
                      crit_names[crit]);
            }
        }
    next:
        free(ones);
        free(child);
        free(keep);
        free(keep0);
        free(wf);
        free(rw);
        free(t0);
        node_result_free(&r);
        graph_free(&g);
        trial_ctx_free(&c);
    }
    free(mag);
    data_free(&d);
}

/* Run one trial and check its masks round by round. */
static void test_trial_masks(int scope, int rounds, double rate, int criterion)
{
    data_t d;
    config_t cfg;
    synth_data(&d);
    synth_config(&cfg);
    cfg.scope = scope;
    cfg.criterion = criterion;
    cfg.controls = CTRL_RANDOM | CTRL_REINIT;
    cfg.rounds[0] = rounds;
    cfg.n_rounds = 1;
    cfg.iterations = 20;
    cfg.eval_every = 10;
    trial_ctx_t c;
    trial_result_t res;
    CHECK(trial_ctx_create(&c, &cfg, &d) == 0, "ctx");
    CHECK(trial_result_create(&res, &cfg, &c.net) == 0, "result");
    trial_t t = {.index = 0, .rate = rate, .rounds = rounds, .seed = 3};
    CHECK(trial_run(&c, &t, &res) == 0, "%s: run: %s", crit_names[criterion], res.error);
    double q = 1 - pow(1 - rate, 1.0 / rounds);
    const net_t *net = &c.net;
    /* global scope: the hidden layers share one threshold (pool), the output
     * layer (output_scale != 1) is pruned on its own at its scaled rate */
    int last = net->n_layers - 1;
    size_t alive[CFG_MAX_LAYERS] = {0}, total_alive = net->n_weights;
    for (int l = 0; l < net->n_layers; l++)
        alive[l] = (size_t)net->layers[l].in * net->layers[l].out;
    total_alive -= alive[last];
    for (int r = 0; r <= rounds; r++) {
        size_t off = 0, sum = 0, pooled = 0;
        for (int l = 0; l < net->n_layers; l++) {
            size_t nw = (size_t)net->layers[l].in * net->layers[l].out, tk = 0, rd = 0;
            int nested = 1;
            for (size_t i = 0; i < nw; i++) {
                tk += res.masks[ARM_TICKET][off + i] > r;
                rd += res.masks[ARM_RANDOM][off + i] > r;
                /* a byte count can only express nested masks; check the count is in range */
                nested &= res.masks[ARM_TICKET][off + i] <= rounds + 1;
            }
            if (scope == SCOPE_LAYERWISE || l == last)
                CHECK(tk == alive[l], "scope %d round %d layer %d: %zu active, want %zu", scope, r, l, tk, alive[l]);
            CHECK(rd == tk, "random control round %d layer %d: %zu active, ticket %zu", r, l, rd, tk);
            CHECK(nested, "mask counts in range");
            sum += tk;
            pooled += l == last ? 0 : tk;
            off += nw;
        }
        if (scope == SCOPE_GLOBAL)
            CHECK(pooled == total_alive, "global round %d: %zu active in the pool, want %zu", r, pooled,
                  total_alive);
        CHECK(fabs(res.density[ARM_TICKET][r] - (double)sum / net->n_weights) < 1e-12, "density round %d", r);
        CHECK(res.density[ARM_REINIT][r] == res.density[ARM_TICKET][r], "reinit density round %d", r);
        /* next round's expected counts, exactly as specified */
        if (scope == SCOPE_LAYERWISE)
            for (int l = 0; l < net->n_layers; l++) {
                double ql = l == net->n_layers - 1 ? q * cfg.output_scale : q;
                alive[l] -= prune_count(alive[l], ql);
            }
        else {
            total_alive -= prune_count(total_alive, q);
            alive[last] -= prune_count(alive[last], q * cfg.output_scale);
        }
    }
    /* rows past the trial's rounds are padding */
    CHECK(res.R1 == rounds + 1 || isnan(res.density[ARM_TICKET][rounds + 1]), "padding");
    trial_result_free(&res);
    trial_ctx_free(&c);
    data_free(&d);
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_init();
    test_primitives();
    test_criteria();
    for (int crit = 0; crit < PRUNE_N_CRITERIA; crit++) {
        test_trial_masks(SCOPE_LAYERWISE, 3, 0.8, crit);
        test_trial_masks(SCOPE_LAYERWISE, 1, 0.5, crit);
        test_trial_masks(SCOPE_GLOBAL, 2, 0.9, crit);
    }
    test_children(SCOPE_LAYERWISE, 0, 0);
    test_children(SCOPE_GLOBAL, 0, 0);
    test_children(SCOPE_LAYERWISE, 1, 0);
    test_children(SCOPE_GLOBAL, 1, 20);
    test_children(SCOPE_LAYERWISE, 0, 20);
    return check_summary(argv[0]);
}
