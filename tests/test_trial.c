/*
 * test_trial: determinism (same trial twice: identical bytes; a fresh context:
 * identical), round 0 shared by trials with the same seed, theta0 depending
 * only on the seed, learning on a learnable problem, rewinding, the random
 * control's round 0 equal to the ticket's, and divergence marked as failure.
 */
#include <math.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "err.h"
#include "synth.h"
#include "trial.h"

static int run(const config_t *cfg, const data_t *d, trial_t t, trial_result_t *res, trial_ctx_t *c)
{
    return trial_run(c, &t, res);
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_init();
    data_t d;
    config_t cfg;
    synth_data(&d);
    synth_config(&cfg);
    cfg.controls = CTRL_REINIT | CTRL_RANDOM;
    cfg.rounds[0] = 2;
    cfg.n_rounds = 1;
    trial_ctx_t c, c2;
    trial_result_t a, b, e;
    CHECK(trial_ctx_create(&c, &cfg, &d) == 0 && trial_ctx_create(&c2, &cfg, &d) == 0, "ctx: %s", ts_errmsg());
    CHECK(trial_result_create(&a, &cfg, &c.net) == 0 && trial_result_create(&b, &cfg, &c.net) == 0 &&
          trial_result_create(&e, &cfg, &c.net) == 0, "results: %s", ts_errmsg());
    if (check_failed)
        return check_summary(argv[0]); /* nothing to run trials in */

    trial_t t1 = {.index = 0, .rate = 0.8, .rounds = 2, .seed = 11};
    trial_t t2 = {.index = 1, .rate = 0.5, .rounds = 2, .seed = 11};
    trial_t t3 = {.index = 2, .rate = 0.8, .rounds = 2, .seed = 12};
    CHECK(run(&cfg, &d, t1, &a, &c) == 0, "t1");
    CHECK(run(&cfg, &d, t3, &e, &c) == 0, "t3 in between");
    CHECK(run(&cfg, &d, t1, &b, &c2) == 0, "t1 again, fresh context");
    CHECK(trial_result_equal(&a, &b), "same trial twice gives identical results");
    CHECK(run(&cfg, &d, t1, &b, &c) == 0 && trial_result_equal(&a, &b),
          "same trial after another trial in the same context is identical");

    /* learning: the dense round reaches a good accuracy on a learnable problem */
    float acc0 = a.curves[ARM_TICKET][M_TEST_ACC][0], accE = a.final_test_acc[ARM_TICKET][0];
    CHECK(accE > 0.9f, "dense final test accuracy %g", accE);
    CHECK(acc0 < 0.5f, "accuracy before training %g", acc0);
    CHECK(isnan(a.curves[ARM_TICKET][M_TRAIN_LOSS][0]) && a.curves[ARM_TICKET][M_TRAIN_LOSS][1] > 0,
          "train loss: NaN at iteration 0, positive after");

    /* round 0 is a function of the seed: t2 differs in rate only */
    CHECK(run(&cfg, &d, t2, &b, &c) == 0, "t2");
    CHECK(!memcmp(a.curves[ARM_TICKET][M_VAL_LOSS], b.curves[ARM_TICKET][M_VAL_LOSS], a.E * sizeof(float)),
          "round 0 identical across trials with the same seed");
    CHECK(memcmp(a.curves[ARM_TICKET][M_VAL_LOSS] + a.E, b.curves[ARM_TICKET][M_VAL_LOSS] + a.E, a.E * sizeof(float)),
          "round 1 differs between rates");
    CHECK(memcmp(a.curves[ARM_TICKET][M_VAL_LOSS], e.curves[ARM_TICKET][M_VAL_LOSS], a.E * sizeof(float)),
          "round 0 differs between seeds");
    /* theta0 depends only on the seed */
    float *th = malloc(c.net.n_params * sizeof(float));
    CHECK(th != NULL, "out of memory");
    if (!th)
        return check_summary(argv[0]);
    trial_theta0(&c.net, 11, th);
    trial_theta0(&c2.net, 11, c2.theta0);
    CHECK(!memcmp(th, c2.theta0, c.net.n_params * sizeof(float)), "theta0 of a seed is the same in any context");

    /* random control: round 0 equals the ticket's; later rounds train other masks */
    CHECK(!memcmp(a.curves[ARM_RANDOM][M_TEST_ACC], a.curves[ARM_TICKET][M_TEST_ACC], a.E * sizeof(float)),
          "random round 0 = ticket round 0");
    CHECK(memcmp(a.masks[ARM_RANDOM], a.masks[ARM_TICKET], a.n_weights), "random masks differ from the ticket's");
    CHECK(!isnan(a.final_test_acc[ARM_REINIT][2]) && !isnan(a.final_test_acc[ARM_RANDOM][2]), "controls ran");

    /* rewinding: survivors reset to iteration k of round 0 (k on the
     * evaluation grid, so that round 0 has the same points; the schedules:
     * test_rewind) */
    config_t rw = cfg;
    rw.rewind_iteration = 50;
    trial_ctx_t cr;
    trial_result_t rr;
    int rc = trial_ctx_create(&cr, &rw, &d);
    if (!rc)
        rc = trial_result_create(&rr, &rw, &cr.net);
    CHECK(rc == 0, "rewind context: %s", ts_errmsg());
    if (rc)
        return check_summary(argv[0]);
    CHECK(run(&rw, &d, t1, &rr, &cr) == 0, "rewind run");
    CHECK(rr.rewind && memcmp(rr.rewind, th, cr.net.n_params * sizeof(float)), "rewind point differs from theta0");
    CHECK(!memcmp(rr.curves[ARM_TICKET][M_VAL_LOSS], a.curves[ARM_TICKET][M_VAL_LOSS], a.E * sizeof(float)),
          "rewinding leaves round 0 alone");
    CHECK(memcmp(rr.curves[ARM_TICKET][M_VAL_LOSS] + a.E, a.curves[ARM_TICKET][M_VAL_LOSS] + a.E, a.E * sizeof(float)),
          "rewinding changes round 1");
    trial_result_free(&rr);
    trial_ctx_free(&cr);

    /* divergence: a learning rate far too large fails the trial with a reason */
    config_t big = cfg;
    big.optimizer = OPT_SGD;
    big.lr = 1e12;
    trial_ctx_t cb;
    rc = trial_ctx_create(&cb, &big, &d);
    CHECK(rc == 0, "diverging context: %s", ts_errmsg());
    if (rc)
        return check_summary(argv[0]);
    rc = run(&big, &d, t1, &b, &cb);
    CHECK(rc == TRIAL_FAILED && b.status == STATUS_FAILED, "diverging trial fails: rc %d status %d", rc, b.status);
    CHECK(strstr(b.error, "diverged") != NULL, "reason: '%s'", b.error);
    trial_ctx_free(&cb);

    free(th);
    trial_result_free(&a);
    trial_result_free(&b);
    trial_result_free(&e);
    trial_ctx_free(&c);
    trial_ctx_free(&c2);
    data_free(&d);
    return check_summary(argv[0]);
}
