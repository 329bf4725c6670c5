/*
 * test_grad: the MLP's analytic gradients against central finite differences
 * (in double-checked float: relative error per parameter on a sample), with a
 * partly pruned mask, plus the loss at known logits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "mlp.h"
#include "rng.h"

static double loss_at(mlp_t *m, const float *x, const uint8_t *y, int b)
{
    mlp_forward(m, x, b);
    return mlp_loss(m, y, b, NULL, 0) / b;
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_init();
    mlp_t m;
    const int hidden[] = {7, 5};
    const int in = 6, classes = 4, b = 3;
    CHECK(mlp_create(&m, in, hidden, 2, classes, b) == 0, "create");
    mlp_init_params(&m, m.params, 3, RNG_INIT, 0);
    rng_t r;
    rng_init(&r, rng_key(5, 99, 0, 0));
    for (size_t i = 0; i < m.n_params; i++) /* nonzero biases exercise their gradients */
        m.params[i] += 0.1f * (float)rng_normal(&r);
    float x[3 * 6];
    uint8_t y[3] = {0, 3, 1};
    for (int i = 0; i < b * in; i++)
        x[i] = rng_uniform(&r);

    mlp_forward(&m, x, b);
    mlp_loss(&m, y, b, NULL, 1);
    mlp_backward(&m, x, b);
    float *g = malloc(m.n_params * sizeof(float));
    memcpy(g, m.grads, m.n_params * sizeof(float));

    int checked = 0, bad = 0;
    double worst = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        float keep = m.params[i];
        const float h = 1e-3f;
        m.params[i] = keep + h;
        double lp = loss_at(&m, x, y, b);
        m.params[i] = keep - h;
        double lm = loss_at(&m, x, y, b);
        m.params[i] = keep;
        double num = (lp - lm) / (2 * h);
        double err = fabs(num - g[i]) / fmax(1e-3, fabs(num) + fabs(g[i]));
        /* a ReLU kink inside [w-h, w+h] makes the difference quotient meaningless:
         * allow a handful of such parameters, not more */
        if (err > 2e-2) {
            bad++;
            fprintf(stderr, "  param %zu: analytic %g numeric %g\n", i, g[i], num);
        }
        else if (err > worst)
            worst = err;
        checked++;
    }
    CHECK(checked == (int)m.n_params, "checked %d of %zu", checked, m.n_params);
    CHECK(bad <= 2, "%d of %d parameters disagree with finite differences", bad, checked);
    CHECK(worst < 2e-2, "worst relative error %g", worst);

    /* the loss of uniform logits is log(classes) */
    memset(m.params, 0, m.n_params * sizeof(float));
    double l0 = loss_at(&m, x, y, b);
    CHECK(fabs(l0 - log(classes)) < 1e-6, "loss at zero params %g, want %g", l0, log(classes));

    free(g);
    mlp_free(&m);
    return check_summary(argv[0]);
}
