/*
 * test_prune: exact pruning counts, tie-breaking, nested masks over rounds,
 * layer-wise and global scope, and the random control's per-layer counts;
 * the pruning criteria's scores and survivors on a hand-made example (signed
 * scores, ties).
 */
#include <math.h>
#include <string.h>

#include "blas.h"
#include "check.h"
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

/* Run one trial and check its masks round by round. */
static void test_trial_masks(int scope, int rounds, double rate)
{
    data_t d;
    config_t cfg;
    synth_data(&d);
    synth_config(&cfg);
    cfg.scope = scope;
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
    CHECK(trial_run(&c, &t, &res) == 0, "run: %s", res.error);
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
    test_trial_masks(SCOPE_LAYERWISE, 3, 0.8);
    test_trial_masks(SCOPE_LAYERWISE, 1, 0.5);
    test_trial_masks(SCOPE_GLOBAL, 2, 0.9);
    return check_summary(argv[0]);
}
