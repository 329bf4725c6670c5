/*
 * test_grad: the model's analytic gradients against central finite
 * differences, for every parameter: an MLP, a convolutional net (conv, ReLU,
 * pool, flatten, fully connected) and the same with dropout (the dropout
 * masks fixed by replaying the same random stream). A ReLU or max kink inside
 * [w - h, w + h] makes a difference quotient meaningless: a couple of such
 * parameters are tolerated, not more. Also the loss at uniform logits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "config.h"
#include "net.h"
#include "rng.h"

/* Loss of the current parameters, with the dropout stream restarted at `key`. */
static double loss_at(net_t *n, const float *x, const uint8_t *y, int b, uint64_t key)
{
    rng_t r;
    rng_init(&r, key);
    net_forward(n, x, b, n->dropout > 0 ? &r : NULL);
    return net_loss(n, y, b, NULL, 0) / b;
}

static void check_model(const char *what, const config_t *cfg, int ch, int rows, int cols)
{
    net_t n;
    const int classes = 4, b = 3;
    CHECK(net_create(&n, cfg, ch, rows, cols, classes, b, b) == 0, "%s: create", what);
    net_init_params(&n, n.params, 3, RNG_INIT, 0);
    rng_t r;
    rng_init(&r, rng_key(5, 99, 0, 0));
    for (size_t i = 0; i < n.n_params; i++) /* nonzero biases exercise their gradients */
        n.params[i] += 0.1f * (float)rng_normal(&r);
    int dim = ch * rows * cols;
    float *x = malloc(sizeof(float) * b * dim);
    uint8_t y[3] = {0, 3, 1};
    for (int i = 0; i < b * dim; i++)
        x[i] = rng_uniform(&r);
    const uint64_t key = 1234;

    rng_t dr;
    rng_init(&dr, key);
    net_forward(&n, x, b, n.dropout > 0 ? &dr : NULL);
    net_loss(&n, y, b, NULL, 1);
    net_backward(&n, x, b);
    float *g = malloc(n.n_params * sizeof(float));
    memcpy(g, n.grads, n.n_params * sizeof(float));

    int bad = 0;
    double worst = 0;
    for (size_t i = 0; i < n.n_params; i++) {
        float keep = n.params[i];
        const float h = 1e-3f;
        n.params[i] = keep + h;
        double lp = loss_at(&n, x, y, b, key);
        n.params[i] = keep - h;
        double lm = loss_at(&n, x, y, b, key);
        n.params[i] = keep;
        double num = (lp - lm) / (2 * h);
        /* float losses: differences of ~1e-7 over 2h swamp gradients below ~1e-2 */
        double err = fabs(num - g[i]) / fmax(1e-2, fabs(num) + fabs(g[i]));
        if (err > 2e-2) {
            bad++;
            fprintf(stderr, "  %s: param %zu: analytic %g numeric %g\n", what, i, g[i], num);
        } else if (err > worst) {
            worst = err;
        }
    }
    CHECK(bad <= 2, "%s: %d of %zu parameters disagree with finite differences", what, bad, n.n_params);
    CHECK(worst < 2e-2, "%s: worst relative error %g", what, worst);
    free(g);
    free(x);
    net_free(&n);
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_init();
    config_t cfg;
    config_defaults(&cfg);
    cfg.n_hidden = 2, cfg.hidden[0] = 7, cfg.hidden[1] = 5;
    check_model("mlp", &cfg, 1, 2, 3);

    cfg.n_conv = 3, cfg.conv[0] = 3, cfg.conv[1] = CFG_POOL, cfg.conv[2] = 2;
    cfg.n_hidden = 1, cfg.hidden[0] = 6;
    check_model("conv", &cfg, 2, 6, 4);

    cfg.dropout = 0.3;
    check_model("conv+dropout", &cfg, 2, 6, 4);

    /* the loss of uniform logits is log(classes) */
    net_t n;
    config_defaults(&cfg);
    cfg.n_hidden = 1, cfg.hidden[0] = 5;
    net_create(&n, &cfg, 1, 2, 3, 4, 3, 3);
    float x[18] = {0};
    uint8_t y[3] = {0, 3, 1};
    net_forward(&n, x, 3, NULL);
    double l0 = net_loss(&n, y, 3, NULL, 0) / 3;
    CHECK(fabs(l0 - log(4)) < 1e-6, "loss at zero params %g, want %g", l0, log(4));
    net_free(&n);
    /* a pool on an odd size is refused with the key */
    config_defaults(&cfg);
    cfg.n_conv = 1, cfg.conv[0] = CFG_POOL;
    CHECK(net_create(&n, &cfg, 1, 7, 7, 10, 1, 1) == -2, "odd pool refused");
    net_free(&n);
    return check_summary(argv[0]);
}
