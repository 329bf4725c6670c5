/*
 * test_grad: the model's analytic gradients against central finite
 * differences (fdcheck.h), for every parameter: an MLP, a convolutional net
 * (conv, ReLU, pool, flatten, fully connected) and the same with dropout (the
 * dropout masks fixed by replaying the same random stream). A ReLU or max
 * kink inside [w - h, w + h] makes a difference quotient meaningless: a
 * couple of such parameters are excused, not more, and the worst relative
 * error over all the others is checked. Also the loss at uniform logits.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "config.h"
#include "err.h"
#include "fdcheck.h"
#include "net.h"
#include "rng.h"

/* float losses: differences of ~1e-7 over 2h swamp gradients below ~1e-2 */
static const fd_opts_t fd_opts = {.h = 1e-3f, .floor = 1e-2, .tol = 2e-2, .kinks = 1};

typedef struct {
    net_t *n;
    const float *x;
    const uint8_t *y;
    int b;
    uint64_t key;
} grad_case_t;

/* Loss of the current parameters, with the dropout stream restarted at `key`. */
static double loss_at(void *ctx)
{
    grad_case_t *c = ctx;
    rng_t r;
    rng_init(&r, c->key);
    net_forward(c->n, c->x, c->b, c->n->dropout > 0 ? &r : NULL);
    return net_loss(c->n, c->y, c->b, NULL, 0) / c->b;
}

static void check_model(const char *what, const config_t *cfg, int ch, int rows, int cols)
{
    net_t n;
    const int classes = 4, b = 3;
    int rc = net_create(&n, cfg, ch, rows, cols, classes, b, b);
    CHECK(rc == 0, "%s: create: %s", what, ts_errmsg());
    if (rc)
        return;
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

    grad_case_t c = {.n = &n, .x = x, .y = y, .b = b, .key = key};
    fd_stats_t s;
    fd_stats_init(&s);
    fd_check(&s, &fd_opts, what, n.params, n.n_params, g, loss_at, &c);
    CHECK(s.kinks <= 2, "%s: %d of %zu parameters sit on a kink", what, s.kinks, s.n);
    CHECK(s.worst <= fd_opts.tol, "%s: worst relative error %g at parameter %zu; %d of %zu disagree",
          what, s.worst, s.worst_i, s.bad, s.n);
    free(g);
    free(x);
    net_free(&n);
}

/*
 * An evaluation batch larger than the training batch passes the convolutional
 * stage in slices of the training batch: the logits and the loss must be the
 * bits of one pass over the whole batch (a net whose training batch is that
 * large), and the stage's buffers must be smaller.
 */
static void check_slices(const config_t *cfg, int ch, int rows, int cols)
{
    enum { B = 3, E = 17, CLASSES = 4 };
    net_t small, big;
    int rc = net_create(&small, cfg, ch, rows, cols, CLASSES, B, E);
    if (!rc && (rc = net_create(&big, cfg, ch, rows, cols, CLASSES, E, E)))
        net_free(&small);
    CHECK(rc == 0, "slices: create: %s", ts_errmsg());
    if (rc)
        return;
    CHECK(small.max_batch == E && big.max_batch == E && small.stage == 3, "max_batch %d, stage %d",
          small.max_batch, small.stage);
    CHECK(small.n_acts < big.n_acts, "sliced stage holds less: %zu floats, not %zu", small.n_acts,
          big.n_acts);
    net_mem_t m;
    CHECK(net_bytes(&big, B, E, &m) == net_bytes(&small, B, E, NULL) && m.max_batch == E &&
              m.acts == 2.0 * small.n_acts * sizeof(float) + small.n_args * 4.0 + small.n_keep,
          "net_bytes: what net_create allocated, from the layout only");
    net_init_params(&small, small.params, 8, RNG_INIT, 0);
    memcpy(big.params, small.params, small.n_params * sizeof(float));
    size_t dim = (size_t)ch * rows * cols;
    float *x = malloc(sizeof(float) * E * dim);
    uint8_t y[E];
    rng_t r;
    rng_init(&r, rng_key(6, 1, 2, 3));
    for (size_t i = 0; x && i < E * dim; i++)
        x[i] = rng_uniform(&r) - 0.3f;
    for (int i = 0; i < E; i++)
        y[i] = (uint8_t)rng_below(&r, CLASSES);
    if (x) {
        for (int b = 1; b <= E; b += 7) { /* one slice, several, a partial last one */
            const float *ls = net_forward(&small, x, b, NULL), *lb = net_forward(&big, x, b, NULL);
            CHECK(!memcmp(ls, lb, (size_t)b * CLASSES * sizeof(float)), "logits of %d rows differ", b);
            int64_t cs, cb;
            double s1 = net_loss(&small, y, b, &cs, 0), s2 = net_loss(&big, y, b, &cb, 0);
            CHECK(s1 == s2 && cs == cb, "loss of %d rows: %.17g vs %.17g", b, s1, s2);
        }
    }
    free(x);
    net_free(&small);
    net_free(&big);
}

/*
 * The parameter block's layout (net.h): every weight first, layer by layer,
 * then every bias; net_layout gives net_create's table without allocating,
 * and net_bytes of either is the same; net_init_params draws each layer from
 * its own key, biases 0.
 */
static void check_layout(const config_t *cfg, int ch, int rows, int cols)
{
    enum { B = 3, CLASSES = 4 };
    net_t lay, n;
    CHECK(net_layout(&lay, cfg, ch, rows, cols, CLASSES) == 0, "layout: %s", ts_errmsg());
    if (net_create(&n, cfg, ch, rows, cols, CLASSES, B, B)) {
        CHECK(0, "layout: create: %s", ts_errmsg());
        return;
    }
    CHECK(!lay.params && !lay.grads && !lay.mask && !lay.acts && !lay.col, "net_layout allocates nothing");
    CHECK(lay.n_layers == n.n_layers && lay.n_params == n.n_params && lay.n_weights == n.n_weights,
          "net_layout: %d layers, %zu parameters; net_create: %d, %zu", lay.n_layers, lay.n_params,
          n.n_layers, n.n_params);
    CHECK(net_bytes(&lay, B, B, NULL) == net_bytes(&n, B, B, NULL), "net_bytes of a layout");
    net_init_params(&lay, n.params, 11, RNG_INIT, 0); /* a layout's offsets suffice */
    size_t w = 0, b = n.n_weights, k = 0;
    for (int l = 0; l < n.n_layers; l++) {
        const net_layer_t *L = &n.layers[l], *M = &lay.layers[l];
        CHECK(M->kind == L->kind && M->n_w == L->n_w && M->w_off == L->w_off && M->b_off == L->b_off &&
                  M->out == L->out && !strcmp(M->name, L->name),
              "layer %d: net_layout and net_create differ", l);
        if (!net_has_params(L))
            continue;
        CHECK(L->w_off == w && L->b_off == b, "layer %d: weight at %zu (want %zu), bias at %zu (want %zu)",
              l, L->w_off, w, L->b_off, b);
        w += L->n_w, b += (size_t)L->out_c;
        /* its first weight is the first draw of its own key, wherever it lives */
        rng_t r;
        rng_init(&r, rng_key(11, RNG_INIT, k++, 0));
        float first = (float)(sqrt(2.0 / ((double)(L->in_c + L->out_c) * (L->kind == NET_CONV ? 9 : 1))) *
                              rng_normal(&r));
        CHECK(n.params[L->w_off] == first, "layer %d: first weight %g, want %g", l, n.params[L->w_off],
              first);
    }
    CHECK(w == n.n_weights && b == n.n_params, "weights end at %zu, biases at %zu", w, b);
    int zero = 1;
    for (size_t i = n.n_weights; i < n.n_params; i++)
        zero &= n.params[i] == 0.0f;
    CHECK(zero, "biases start at 0");
    net_free(&lay);
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
    check_slices(&cfg, 2, 6, 4);
    check_layout(&cfg, 2, 6, 4);

    cfg.dropout = 0.3;
    check_model("conv+dropout", &cfg, 2, 6, 4);

    /* the loss of uniform logits is log(classes) */
    net_t n;
    config_defaults(&cfg);
    cfg.n_hidden = 1, cfg.hidden[0] = 5;
    int rc = net_create(&n, &cfg, 1, 2, 3, 4, 3, 3);
    CHECK(rc == 0, "uniform logits: create: %s", ts_errmsg());
    if (rc == 0) {
        float x[18] = {0};
        uint8_t y[3] = {0, 3, 1};
        net_forward(&n, x, 3, NULL);
        double l0 = net_loss(&n, y, 3, NULL, 0) / 3;
        CHECK(fabs(l0 - log(4)) < 1e-6, "loss at zero params %g, want %g", l0, log(4));
        net_free(&n);
    }
    /* a pool on an odd size is refused with the key */
    config_defaults(&cfg);
    cfg.n_conv = 1, cfg.conv[0] = CFG_POOL;
    CHECK(net_create(&n, &cfg, 1, 7, 7, 10, 1, 1) == TS_EINPUT, "odd pool refused");
    net_free(&n);
    return check_summary(argv[0]);
}
