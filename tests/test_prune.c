/*
 * test_prune: exact pruning counts, tie-breaking, nested masks over rounds,
 * layer-wise and global scope, and the random control's per-layer counts.
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
    test_trial_masks(SCOPE_LAYERWISE, 3, 0.8);
    test_trial_masks(SCOPE_LAYERWISE, 1, 0.5);
    test_trial_masks(SCOPE_GLOBAL, 2, 0.9);
    return check_summary(argv[0]);
}
