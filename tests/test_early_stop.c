/*
 * test_early_stop: [train] test_curve = early_stop against full, trial by
 * trial, in memory. The same cells trained both ways must give the same
 * bytes everywhere but the test curves: summary (early-stop iteration and
 * test accuracy, final test accuracy, density), training loss and
 * validation curves, masks, rewind point; the test curves are NaN except at
 * the early stop and the last point, where they are full's bits. Under each
 * kernel choice that changes where the weights live during a training
 * (dense; sparse: the compact index; auto: a convolution on oneDNN where the
 * build has it), with rewinding (rounds starting at an iteration off the
 * evaluation grid) and with divergence (the same failure and message). The
 * runs must meet both cases of the end: an early stop before the last point
 * (the copy evaluated), in every configuration, and at it (no copy needed),
 * or the test proves little.
 * The early-stop copy is one more parameter block in trial_ctx_bytes.
 */
#include <math.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "err.h"
#include "synth.h"
#include "trial.h"

static int n_before_last, n_at_last; /* early stops met, over every compared round */

/* Cell t of cfg trained with test_curve = full and = early_stop; the two compared. */
static void compare_runs(const char *what, const config_t *cfg, const data_t *d, trial_t t)
{
    config_t full = *cfg, early = *cfg;
    full.test_curve = TEST_CURVE_FULL;
    early.test_curve = TEST_CURVE_EARLY_STOP;
    trial_ctx_t cf, ce;
    trial_result_t rf, re;
    int made = 0;
    if (!trial_ctx_create(&cf, &full, d) && ++made && !trial_ctx_create(&ce, &early, d) && ++made &&
        !trial_result_create(&rf, &full, &cf.net) && ++made && !trial_result_create(&re, &early, &ce.net))
        made++;
    CHECK(made == 4, "%s: set-up: %s", what, ts_errmsg());
    if (made < 4)
        goto out;
    CHECK(cf.best == NULL && ce.best != NULL, "%s: the copy only with early_stop", what);
    int rcf = trial_run(&cf, &t, &rf), rce = trial_run(&ce, &t, &re);
    CHECK(rcf == 0 && rce == 0, "%s: runs: %d %d: %s", what, rcf, rce, ts_errmsg());
    if (rcf || rce)
        goto out;
    int R1 = rf.R1, E = rf.E;
    size_t row = (size_t)R1 * E * sizeof(float);
    for (int a = 0; a < N_ARMS; a++) {
        for (int m = 0; m < N_METRICS; m++)
            if (m != M_TEST_LOSS && m != M_TEST_ACC)
                CHECK(!memcmp(rf.curves[a][m], re.curves[a][m], row), "%s: %s %s curve differs", what,
                      trial_arm_names[a], trial_metric_names[m]);
        CHECK(!memcmp(rf.es_iter[a], re.es_iter[a], R1 * sizeof(int32_t)) &&
              !memcmp(rf.es_test_acc[a], re.es_test_acc[a], R1 * sizeof(float)) &&
              !memcmp(rf.final_test_acc[a], re.final_test_acc[a], R1 * sizeof(float)) &&
              !memcmp(rf.density[a], re.density[a], R1 * sizeof(double)),
              "%s: %s summary differs", what, trial_arm_names[a]);
        CHECK(!memcmp(rf.masks[a], re.masks[a], rf.n_weights), "%s: %s masks differ", what, trial_arm_names[a]);
        for (int k = 0; k < R1; k++) {
            if (rf.es_iter[a][k] < 0) /* a round the cell or the arm does not have */
                continue;
            const float *vl = rf.curves[a][M_VAL_LOSS] + (size_t)k * E;
            int best = -1;
            for (int e = 0; e < E; e++)
                if (!isnan(vl[e]) && (best < 0 || vl[e] < vl[best]))
                    best = e;
            int at_last = best == E - 1;
            n_at_last += at_last;
            n_before_last += !at_last;
            for (int m = M_TEST_LOSS; m <= M_TEST_ACC; m++)
                for (int e = 0; e < E; e++) {
                    float x = re.curves[a][m][(size_t)k * E + e], y = rf.curves[a][m][(size_t)k * E + e];
                    if (e == best || e == E - 1)
                        CHECK(!memcmp(&x, &y, sizeof x) && !isnan(x), "%s: %s round %d %s at point %d: %g, "
                              "full %g", what, trial_arm_names[a], k, trial_metric_names[m], e, x, y);
                    else
                        CHECK(isnan(x), "%s: %s round %d %s at point %d is %g, not NaN", what,
                              trial_arm_names[a], k, trial_metric_names[m], e, x);
                }
        }
    }
    CHECK(!rf.rewind || !memcmp(rf.rewind, re.rewind, rf.n_params * sizeof(float)), "%s: rewind points differ",
          what);
out:
    if (made > 3)
        trial_result_free(&re);
    if (made > 2)
        trial_result_free(&rf);
    if (made > 1)
        trial_ctx_free(&ce);
    if (made > 0)
        trial_ctx_free(&cf);
}

/* compare_runs, which must meet an early stop before the last point. */
static void compare(const char *what, const config_t *cfg, const data_t *d, trial_t t)
{
    int before = n_before_last;
    compare_runs(what, cfg, d, t);
    CHECK(n_before_last > before, "%s: every early stop at the last point: the copy went untested "
          "(a learning rate or a length where the validation loss turns up again is needed)", what);
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_init();
    data_t d;
    config_t cfg;
    synth_data(&d);
    synth_config(&cfg);
    /* a learning rate high enough for some validation minima to come early */
    cfg.controls = CTRL_REINIT | CTRL_RANDOM;
    cfg.iterations = 400;
    cfg.eval_every = 20;
    cfg.lr = 5e-2;
    cfg.rounds[0] = 3;
    cfg.n_rounds = 1;
    trial_t t = {.index = 0, .rate = 0.9, .rounds = 3, .seed = 5};

    cfg.kernels = KERNELS_DENSE;
    compare("dense", &cfg, &d, t);
    cfg.kernels = KERNELS_SPARSE;
    compare("sparse", &cfg, &d, t);

    config_t rw = cfg; /* later rounds start at 30, off the grid: an extra point */
    rw.rewind_iteration = 30;
    rw.rewind_schedule = REWIND_CONTINUE;
    compare("rewinding, sparse", &rw, &d, t);
    rw.kernels = KERNELS_DENSE;
    rw.rewind_schedule = REWIND_RESTART;
    compare("rewinding (restart), dense", &rw, &d, t);

    config_t cv = cfg; /* a convolution (oneDNN under auto where the build has it) */
    cv.kernels = KERNELS_AUTO;
    cv.conv[0] = 4;
    cv.conv[1] = CFG_POOL;
    cv.n_conv = 2;
    cv.iterations = 200;
    compare("conv, auto", &cv, &d, t);
    CHECK(n_before_last > 0 && n_at_last > 0, "the runs met early stops before the last point %d times and "
          "at it %d times: both cases are needed", n_before_last, n_at_last);
    fprintf(stderr, "early stops: %d before the last point, %d at it\n", n_before_last, n_at_last);

    /* divergence: the same failure, the same message */
    config_t big = cfg;
    big.optimizer = OPT_SGD;
    big.lr = 1e12;
    big.kernels = KERNELS_DENSE;
    trial_ctx_t c1, c2;
    trial_result_t r1, r2;
    config_t big_e = big;
    big_e.test_curve = TEST_CURVE_EARLY_STOP;
    int rc = trial_ctx_create(&c1, &big, &d) || trial_ctx_create(&c2, &big_e, &d) ||
             trial_result_create(&r1, &big, &c1.net) || trial_result_create(&r2, &big_e, &c2.net);
    CHECK(rc == 0, "diverging set-up: %s", ts_errmsg());
    if (rc)
        return check_summary(argv[0]);
    int a = trial_run(&c1, &t, &r1), b = trial_run(&c2, &t, &r2);
    CHECK(a == TRIAL_FAILED && b == TRIAL_FAILED && r2.status == STATUS_FAILED, "diverging: %d %d", a, b);
    CHECK(!strcmp(r1.error, r2.error) && strstr(r2.error, "diverged"), "messages: '%s' and '%s'", r1.error,
          r2.error);

    /* memory: one more parameter block */
    trial_mem_t mf, me;
    double bf = trial_ctx_bytes(&big, &c1.net, &d, &mf), be = trial_ctx_bytes(&big_e, &c2.net, &d, &me);
    CHECK(be - bf == (double)c1.net.n_params * sizeof(float) && me.model - mf.model == be - bf,
          "early_stop's trainer: %.0f bytes more, want %zu", be - bf, c1.net.n_params * sizeof(float));
    trial_result_free(&r1);
    trial_result_free(&r2);
    trial_ctx_free(&c1);
    trial_ctx_free(&c2);
    data_free(&d);
    return check_summary(argv[0]);
}
