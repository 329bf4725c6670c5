/*
 * test_instability: the instability analysis of trial.h (analysis.copies) on
 * the synthetic problem, through trial_run:
 *   - copy 0 is the sweep's own training: every ticket row (curves, summary,
 *     masks) equals a run without the analysis bit for bit;
 *   - the endpoints of each line are the copies' own final evaluations bit
 *     for bit: alpha 0 copy 0's last curve point (test error = 1 - the float
 *     accuracy, test loss, validation error), alpha 1 the other copy's (round
 *     0's copy, a node of its own, run alone by trial_run_node);
 *   - the value is the largest test error on the line minus the mean of the
 *     endpoints', and the copies of distinct data-order seeds differ;
 *   - two copies given the same data-order seed train the same bits: every
 *     point of their line equal, instability exactly 0 (with and without
 *     rewinding, where round 0's copies share the first k steps);
 *   - with rewinding the copies of round 0 share the data order before k:
 *     their validation curves agree bit for bit up to k and not after;
 *   - trial_interpolate: zero wherever the mask is, whatever the weights
 *     there, and the endpoints' weights themselves at alpha 0 and 1.
 */
#include <math.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "err.h"
#include "synth.h"
#include "trial.h"

/* Bitwise equality of two floats (NaN included). */
static int same(float a, float b)
{
    return !memcmp(&a, &b, sizeof a);
}

/* The ticket arm's rows of a and b are the same bytes (rounds 0..R). */
static int ticket_equal(const trial_result_t *a, const trial_result_t *b)
{
    size_t rows = (size_t)a->R1;
    for (int m = 0; m < N_METRICS; m++)
        if (memcmp(a->curves[ARM_TICKET][m], b->curves[ARM_TICKET][m], rows * a->E * sizeof(float)))
            return 0;
    return !memcmp(a->density[ARM_TICKET], b->density[ARM_TICKET], rows * sizeof(double)) &&
           !memcmp(a->es_iter[ARM_TICKET], b->es_iter[ARM_TICKET], rows * sizeof(int32_t)) &&
           !memcmp(a->es_test_acc[ARM_TICKET], b->es_test_acc[ARM_TICKET], rows * sizeof(float)) &&
           !memcmp(a->final_test_acc[ARM_TICKET], b->final_test_acc[ARM_TICKET], rows * sizeof(float)) &&
           !memcmp(a->masks[ARM_TICKET], b->masks[ARM_TICKET], a->n_weights);
}

/*
 * Round 0 of seed `seed` under cfg and its copy 1, each a node of a one-cell
 * plan (graph.h: the training, then its copy, the first extra node), run by
 * trial_run_node in a trainer of its own: their results into *train and
 * *copy (made here).
 */
static int round0_and_copy(const config_t *cfg, const data_t *d, int64_t seed, node_result_t *train,
                           node_result_t *copy, trial_ctx_t *c)
{
    config_t z = *cfg;
    z.rounds[0] = 1;
    z.n_rounds = z.n_rates = z.n_seeds = 1;
    z.seeds[0] = seed;
    z.controls = 0;
    graph_t g;
    if (trial_ctx_create(c, cfg, d) || graph_plan(&g, &z, &c->net, 1))
        return TS_ERUN;
    int K, rc = TS_ERUN, y = g.nodes[0].extra;
    grid_rewinds(&z, &K);
    uint8_t *ones = malloc(c->net.n_weights + 1), *kid = malloc(c->net.n_weights + 1);
    float *rew = calloc((size_t)K * c->net.n_params, sizeof(float));
    if (ones && kid && rew && y > 0 && g.nodes[y].kind == NODE_COPY && !node_result_create(train, c->E) &&
        !node_result_analysis(train, cfg) && !node_result_create(copy, c->E) && !node_result_analysis(copy, cfg)) {
        memset(ones, 1, c->net.n_weights);
        uint8_t *kids[1] = {kid};
        node_in_t in = {ones, NULL, NULL, NULL};
        node_out_t out = {kids, NULL, rew, NULL}, none = {NULL, NULL, NULL, NULL};
        c->cfg = &z; /* the one-cell job of the seed, as trial_run's */
        rc = trial_run_node(c, &g, 0, &in, &out, train);
        if (!rc)
            rc = trial_run_node(c, &g, y, &in, &none, copy);
        c->cfg = cfg;
    }
    free(ones), free(kid), free(rew);
    graph_free(&g);
    return rc;
}

/* The line's endpoint at alpha 1 of round 0 of r is copy 1's own last point. */
static void alpha1_is_copy(const trial_result_t *r, const node_result_t *cp, const char *what)
{
    int E = r->E, A = r->A;
    const float *te = r->inst[I_TEST_ERROR] + (size_t)(A - 1), *tl = r->inst[I_TEST_LOSS] + (size_t)(A - 1),
                *ve = r->inst[I_VAL_ERROR] + (size_t)(A - 1);
    CHECK(!memcmp((float[]){1.0f - cp->curves[M_TEST_ACC][E - 1]}, te, sizeof(float)),
          "%s: alpha 1 test error %g is copy 1's own %g", what, *te, 1.0f - cp->curves[M_TEST_ACC][E - 1]);
    CHECK(!memcmp(&cp->curves[M_TEST_LOSS][E - 1], tl, sizeof(float)), "%s: alpha 1 test loss", what);
    CHECK(!memcmp((float[]){1.0f - cp->curves[M_VAL_ACC][E - 1]}, ve, sizeof(float)),
          "%s: alpha 1 validation error", what);
}

/* Run trial t under cfg in a trainer of its own into *res (made here). */
static int run(const config_t *cfg, const data_t *d, trial_t t, trial_result_t *res, trial_ctx_t *c)
{
    if (trial_ctx_create(c, cfg, d) || trial_result_create(res, cfg, &c->net))
        return TS_ERUN;
    return trial_run(c, &t, res);
}

/* Line p of round k of metric m in res. */
static const float *line(const trial_result_t *r, int m, int k, int p)
{
    return r->inst[m] + ((size_t)k * r->pairs + p) * r->A;
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_init();
    data_t d;
    config_t plain, an, twin;
    synth_data(&d);
    synth_config(&plain);
    plain.controls = CTRL_REINIT | CTRL_RANDOM;
    an = plain;
    an.copies = 2;
    an.interpolation = 7;
    twin = an;
    twin.n_data_seeds = 2;
    twin.data_seeds[0] = twin.data_seeds[1] = 0;
    CHECK(config_validate(&an) == 0 && config_validate(&twin) == 0, "configs: %s", ts_errmsg());
    trial_t t = {.index = 0, .rate = 0.8, .rounds = 2, .seed = 11};
    trial_ctx_t c0, c1, c2;
    trial_result_t r0, r1, r2;
    CHECK(run(&plain, &d, t, &r0, &c0) == 0, "without the analysis: %s", ts_errmsg());
    CHECK(run(&an, &d, t, &r1, &c1) == 0, "copies = 2: %s", ts_errmsg());
    CHECK(run(&twin, &d, t, &r2, &c2) == 0, "copies = 2, data seeds 0, 0: %s", ts_errmsg());
    if (check_failed)
        return check_summary(argv[0]);

    CHECK(r0.inst_value == NULL && r1.pairs == 1 && r1.A == 7, "rows of the analysis only with copies");
    CHECK(ticket_equal(&r0, &r1), "copy 0 is the training without the analysis, bit for bit");
    int E = r1.E, A = r1.A, R = t.rounds;
    for (int k = 0; k <= R; k++) {
        const float *cv[N_METRICS];
        for (int m = 0; m < N_METRICS; m++)
            cv[m] = r1.curves[ARM_TICKET][m] + (size_t)k * E;
        const float *te = line(&r1, I_TEST_ERROR, k, 0);
        CHECK(same(te[0], 1.0f - cv[M_TEST_ACC][E - 1]), "round %d: alpha 0 test error %g is copy 0's %g", k,
              te[0], 1.0f - cv[M_TEST_ACC][E - 1]);
        CHECK(same(line(&r1, I_TEST_LOSS, k, 0)[0], cv[M_TEST_LOSS][E - 1]), "round %d: alpha 0 test loss", k);
        CHECK(same(line(&r1, I_VAL_ERROR, k, 0)[0], 1.0f - cv[M_VAL_ACC][E - 1]),
              "round %d: alpha 0 validation error", k);
        float top = te[0];
        for (int a = 1; a < A; a++)
            top = te[a] > top ? te[a] : top;
        CHECK(same(r1.inst_value[k], top - 0.5f * (te[0] + te[A - 1])), "round %d: value %g", k,
              r1.inst_value[k]);
        CHECK(r1.inst_value[k] >= 0, "round %d: the largest error is at least the endpoints' mean", k);
        CHECK(!same(line(&r1, I_TEST_LOSS, k, 0)[0], line(&r1, I_TEST_LOSS, k, 0)[A - 1]),
              "round %d: copies of distinct data orders end apart", k);
        /* the same data-order seed: the same training twice, a flat line */
        CHECK(r2.inst_value[k] == 0 && !signbit(r2.inst_value[k]), "round %d: same seed, instability %g", k,
              r2.inst_value[k]);
        for (int m = 0; m < N_INST; m++)
            for (int a = 1; a < A; a++)
                CHECK(same(line(&r2, m, k, 0)[a], line(&r2, m, k, 0)[0]), "round %d: same seed, %s point %d",
                      k, trial_inst_names[m], a);
    }
    /* alpha 1 is the other copy's own last point: round 0's copy, a node of
     * its own, run here alone */
    {
        trial_ctx_t c;
        node_result_t tr, cp;
        CHECK(round0_and_copy(&an, &d, t.seed, &tr, &cp, &c) == 0, "round 0 and its copy: %s", ts_errmsg());
        if (!check_failed) {
            alpha1_is_copy(&r1, &cp, "round 0");
            CHECK(same(tr.curves[M_TEST_LOSS][E - 1], line(&r1, I_TEST_LOSS, 0, 0)[0]),
                  "round 0 run alone is copy 0 of the cell's");
        }
        node_result_free(&tr), node_result_free(&cp);
        trial_ctx_free(&c);
    }
    CHECK(isnan(r1.inst_value[R + 1 < r1.R1 ? R + 1 : R]) || R + 1 == r1.R1, "NaN past the rounds");
    trial_result_free(&r0), trial_result_free(&r1), trial_result_free(&r2);
    trial_ctx_free(&c0), trial_ctx_free(&c1), trial_ctx_free(&c2);

    /* rewinding to k = 60: round 0's copies share steps 0..59, so their
     * validation curves agree up to 60 and part after; same seeds: flat */
    config_t rw = an, rw_twin = twin;
    rw.rewind_iteration = rw_twin.rewind_iteration = 60;
    rw.eval_every = rw_twin.eval_every = 30;
    t.rounds = 1;
    CHECK(run(&rw, &d, t, &r1, &c1) == 0, "rewinding, copies = 2: %s", ts_errmsg());
    CHECK(run(&rw_twin, &d, t, &r2, &c2) == 0, "rewinding, same seeds: %s", ts_errmsg());
    if (check_failed)
        return check_summary(argv[0]);
    E = r1.E;
    for (int k = 0; k <= 1; k++)
        CHECK(r2.inst_value[k] == 0, "rewinding, same seeds, round %d: instability %g", k, r2.inst_value[k]);
    const float *te = line(&r1, I_TEST_ERROR, 0, 0);
    CHECK(same(te[0], 1.0f - r1.curves[ARM_TICKET][M_TEST_ACC][E - 1]), "rewinding: alpha 0 is copy 0's");
    {
        /* round 0 and its copy, each a node run alone: the copy's curve
         * agrees with the training's up to k (shared steps) and not after */
        trial_ctx_t c;
        node_result_t tr, cp;
        CHECK(round0_and_copy(&rw, &d, t.seed, &tr, &cp, &c) == 0, "rewinding: round 0 and its copy: %s",
              ts_errmsg());
        if (!check_failed) {
            alpha1_is_copy(&r1, &cp, "rewinding, round 0");
            const float *v0 = tr.curves[M_VAL_LOSS], *v1 = cp.curves[M_VAL_LOSS];
            for (int e = 0; e < c.E; e++) {
                int64_t it = c.eval_iters[e];
                if (it <= 60)
                    CHECK(same(v0[e], v1[e]), "round 0 copies: same validation loss at %lld (shared steps)",
                          (long long)it);
                else
                    CHECK(!same(v0[e], v1[e]), "round 0 copies: apart at %lld (own orders from 60)",
                          (long long)it);
            }
        }
        node_result_free(&tr), node_result_free(&cp);
        trial_ctx_free(&c);
    }
    trial_result_free(&r1), trial_result_free(&r2);
    trial_ctx_free(&c1), trial_ctx_free(&c2);

    /* trial_interpolate: zero under the mask, the endpoints themselves */
    enum { N = 257 };
    float wi[N], wj[N], mask[N], dst[N];
    rng_t rg;
    rng_init(&rg, 99);
    for (int i = 0; i < N; i++) {
        wi[i] = (float)rng_normal(&rg);
        wj[i] = (float)rng_normal(&rg); /* nonzero under the mask too: the mask must win */
        mask[i] = i % 3 ? 1.0f : 0.0f;
    }
    for (int a = 0; a <= 10; a++) {
        double alpha = a / 10.0;
        trial_interpolate(N, wi, wj, mask, alpha, dst);
        for (int i = 0; i < N; i++) {
            if (!mask[i])
                CHECK(dst[i] == 0, "alpha %g: weight %d under the mask is %g", alpha, i, dst[i]);
            else if (a == 0)
                CHECK(same(dst[i], wi[i]), "alpha 0: weight %d is w_i's", i);
            else if (a == 10)
                CHECK(same(dst[i], wj[i]), "alpha 1: weight %d is w_j's", i);
        }
    }
    data_free(&d);
    return check_summary(argv[0]);
}
