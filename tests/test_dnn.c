/*
 * test_dnn: the oneDNN convolutions (dnn.h) of `kernels = auto`.
 *
 *  - each layer shape of Conv-2/4/6 on CIFAR-10 (batch 60) and odd small
 *    ones (batch 1, 13; channels 3, 16, 64; sizes 4..32, non-square): the
 *    forward against conv_forward_naive (double sums; the im2col path for the
 *    big shapes, where the naive loops take too long), dx, dwt and dbias
 *    against conv_backward (im2col + sgemm). Tolerances, as max |a - b| /
 *    max |b| over the tensor: 2e-5 for y and dx, 5e-5 for dwt and dbias
 *    (measured: Winograd's transforms round at 1e-7..7e-6, the weight
 *    gradient's sum over a batch of 60 images worst);
 *  - every pass twice: the same bits (one thread, no timing-dependent choice);
 *  - an evaluation batch of another size (the last slice) through the
 *    forward-only layer made for it;
 *  - the algorithm rule: Winograd for c_in >= 16 where oneDNN has it;
 *  - a whole net with kernels = auto: gradients against finite differences
 *    (fdcheck.h), the oneDNN net against the dense one (kernels = dense),
 *    and pruned weights exactly 0 after Adam steps.
 * A build without oneDNN checks that the door says so and that
 * kernels = auto then leaves every convolution on im2col.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "config.h"
#include "conv.h"
#include "dnn.h"
#include "err.h"
#include "fdcheck.h"
#include "net.h"
#include "optim.h"
#include "rng.h"

#define TOL_Y 2e-5
#define TOL_W 5e-5

/* max |a - b| / max |b| over n floats */
static double rel_err(const float *a, const float *b, size_t n)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return m > 0 ? d / m : d;
}

static void fill(float *p, size_t n, rng_t *r, float scale, int relu)
{
    for (size_t i = 0; i < n; i++) {
        float u = (rng_uniform(r) - 0.5f) * scale;
        p[i] = relu && u < 0 ? 0 : u;
    }
}

typedef struct {
    int b, c_in, c_out, h, w;
} shape_t;

/* One layer shape: every pass against the reference, twice for the bits. */
static void check_layer(const shape_t *s, int naive)
{
    int b = s->b, ci = s->c_in, co = s->c_out, h = s->h, w = s->w, first = ci == 3;
    size_t nx = (size_t)b * ci * h * w, ny = (size_t)b * co * h * w, nw = (size_t)co * ci * 9;
    float *x = malloc(nx * 4), *wt = malloc(nw * 4), *bias = malloc((size_t)co * 4);
    float *dy = malloc(ny * 4), *y = malloc(ny * 4), *yr = malloc(ny * 4), *y2 = malloc(ny * 4);
    float *dx = malloc(nx * 4), *dxr = malloc(nx * 4), *dx2 = malloc(nx * 4);
    float *dw = malloc(nw * 4), *dwr = malloc(nw * 4), *dw2 = malloc(nw * 4);
    float *db = malloc((size_t)co * 4), *dbr = malloc((size_t)co * 4), *db2 = malloc((size_t)co * 4);
    float *col = malloc(conv_col_floats(ci, h, w) * 4);
    rng_t r;
    rng_init(&r, rng_key(11, (uint64_t)ci, (uint64_t)co, (uint64_t)(b * 1000 + h * 37 + w)));
    fill(x, nx, &r, 1, !first), fill(wt, nw, &r, 0.4f, 0), fill(bias, (size_t)co, &r, 1, 0);
    fill(dy, ny, &r, 1, 0);
    char what[80];
    snprintf(what, sizeof what, "b %d, %d -> %d, %dx%d", b, ci, co, h, w);

    dnn_conv_t *c = dnn_conv_create(b, ci, co, h, w, !first, 1);
    CHECK(c != NULL, "%s: create: %s", what, ts_errmsg());
    if (!c)
        goto out;
    const char *impl = dnn_conv_impl(c, 0);
    /* the rule (dnn.h), written out here so that a changed rule fails: Winograd
     * from 16 input channels wherever oneDNN has it, on AVX-512 for these shapes */
    int wino = ci >= 16 && strstr(dnn_describe(), "avx512");
    CHECK(dnn_conv_winograd(ci) == (ci >= 16), "%s: the rule says %d", what, dnn_conv_winograd(ci));
    for (int p = 0; p < 3; p++)
        CHECK(!dnn_conv_impl(c, p)[0] || !!strstr(dnn_conv_impl(c, p), "wino") == wino,
              "%s: pass %d runs %s", what, p, dnn_conv_impl(c, p));
    CHECK(first == !dnn_conv_impl(c, 1)[0], "%s: backward data %s", what, dnn_conv_impl(c, 1));
    fprintf(stderr, "%s: %s | %s | %s\n", what, impl, dnn_conv_impl(c, 1), dnn_conv_impl(c, 2));

    if (naive)
        conv_forward_naive(x, wt, bias, b, ci, co, h, w, yr);
    else
        conv_forward(x, wt, bias, b, ci, co, h, w, col, yr);
    conv_backward(x, wt, dy, b, ci, co, h, w, col, dwr, dbr, first ? NULL : dxr);
    for (int rep = 0; rep < 2; rep++) {
        float *yo = rep ? y2 : y, *dxo = rep ? dx2 : dx, *dwo = rep ? dw2 : dw, *dbo = rep ? db2 : db;
        CHECK(dnn_conv_forward(c, x, wt, bias, b, yo, 0) == 0, "%s: forward", what);
        dnn_conv_backward(c, x, wt, dy, dwo, dbo, first ? NULL : dxo, 0);
    }
    double ey = rel_err(y, yr, ny), ew = rel_err(dw, dwr, nw), eb = rel_err(db, dbr, (size_t)co);
    double ex = first ? 0 : rel_err(dx, dxr, nx);
    CHECK(ey <= TOL_Y, "%s: y off by %g (reference: %s)", what, ey, naive ? "naive" : "im2col");
    CHECK(ex <= TOL_Y, "%s: dx off by %g", what, ex);
    CHECK(ew <= TOL_W, "%s: dwt off by %g", what, ew);
    CHECK(eb <= TOL_W, "%s: dbias off by %g", what, eb);
    CHECK(!memcmp(y, y2, ny * 4) && !memcmp(dw, dw2, nw * 4) && !memcmp(db, db2, (size_t)co * 4) &&
              (first || !memcmp(dx, dx2, nx * 4)),
          "%s: a second run differs", what);
    /* a backward without dx (as the first layer's) of dy / 2: exactly half
     * the weight gradient (a power of two commutes with every rounding), so
     * its dy was reordered anew and not left over from the call before */
    if (!first) {
        for (size_t i = 0; i < ny; i++)
            y2[i] = dy[i] * 0.5f;
        dnn_conv_backward(c, x, wt, y2, dw2, db2, NULL, 0);
        int off = 0;
        for (size_t i = 0; i < nw; i++)
            off += dw2[i] != dw[i] * 0.5f;
        for (int i = 0; i < co; i++)
            off += db2[i] != db[i] * 0.5f;
        CHECK(!off, "%s: backward of dy / 2 without dx: %d weight gradients not halved", what, off);
    }
    /* a shorter batch (an evaluation's last slice): the layer made for it */
    if (b > 1) {
        int bt = b / 2 + 1;
        for (int rep = 0; rep < 2; rep++)
            CHECK(dnn_conv_forward(c, x, wt, bias, bt, rep ? y2 : y, 0) == 0, "%s: forward of %d", what, bt);
        size_t nt = (size_t)bt * co * h * w;
        double et = rel_err(y, yr, nt);
        CHECK(et <= TOL_Y && !memcmp(y, y2, nt * 4), "%s: batch of %d off by %g", what, bt, et);
    }
    fprintf(stderr, "  rel. err y %.2g dx %.2g dwt %.2g dbias %.2g\n", ey, ex, ew, eb);
    dnn_conv_free(c);
out:
    free(x), free(wt), free(bias), free(dy), free(y), free(yr), free(y2), free(dx), free(dxr);
    free(dx2), free(dw), free(dwr), free(dw2), free(db), free(dbr), free(db2), free(col);
}

/* A small conv net (3 -> 16 -> 16, pool, fc) on the oneDNN path. */
static int make_net(net_t *n, int batch, int eval, int mode)
{
    config_t cfg;
    config_defaults(&cfg);
    cfg.n_conv = 3, cfg.conv[0] = 16, cfg.conv[1] = 2, cfg.conv[2] = CFG_POOL;
    cfg.n_hidden = 1, cfg.hidden[0] = 6;
    int rc = net_create(n, &cfg, 3, 4, 6, 4, batch, eval);
    if (rc)
        return rc;
    net_init_params(n, n->params, 3, RNG_INIT, 0);
    rng_t r;
    rng_init(&r, rng_key(5, 98, 0, 0));
    for (size_t i = 0; i < n->n_params; i++) /* nonzero biases exercise their gradients */
        n->params[i] += 0.1f * (float)rng_normal(&r);
    return net_set_kernels(n, mode) < 0 ? TS_ERUN : 0;
}

typedef struct {
    net_t *n;
    const float *x;
    const uint8_t *y;
    int b;
} loss_case_t;

static double loss_at(void *ctx)
{
    loss_case_t *c = ctx;
    net_forward(c->n, c->x, c->b, NULL);
    return net_loss(c->n, c->y, c->b, NULL, 0) / c->b;
}

/* The whole net: finite differences, and the dense net's gradients. */
static void check_net(void)
{
    enum { B = 3 };
    net_t n, d;
    if (make_net(&n, B, 8, KERNELS_AUTO) || make_net(&d, B, 8, KERNELS_DENSE)) {
        CHECK(0, "net: %s", ts_errmsg());
        return;
    }
    int on = 0;
    for (int l = 0; l < n.n_layers; l++) {
        on += n.layers[l].dnn;
        if (n.layers[l].dnn)
            fprintf(stderr, "net layer %d: %s | %s | %s\n", l, dnn_conv_impl(n.layers[l].prims, 0),
                    dnn_conv_impl(n.layers[l].prims, 1), dnn_conv_impl(n.layers[l].prims, 2));
    }
    CHECK(on == (dnn_available() ? 2 : 0), "%d convolutions on oneDNN", on);
    /* conv1's output (16 channels, nChw16c) feeds conv2 without reorders */
    CHECK(n.layers[0].chain == (dnn_available() && !!strstr(dnn_describe(), "avx512")),
          "conv1 -> conv2 chained: %d", n.layers[0].chain);
    for (int l = 0; l < d.n_layers; l++)
        CHECK(!d.layers[l].dnn && !d.layers[l].chain, "kernels = dense: layer %d on oneDNN", l);
    /* an evaluation batch of 8: slices of 3, 3 and 2 (the last one plain) */
    float xe[8 * 3 * 4 * 6];
    rng_t re;
    rng_init(&re, 4243);
    for (size_t i = 0; i < sizeof xe / sizeof xe[0]; i++)
        xe[i] = rng_uniform(&re);
    double ee = rel_err(net_forward(&n, xe, 8, NULL), net_forward(&d, xe, 8, NULL), 8 * 4);
    CHECK(ee <= TOL_Y, "net: logits of an evaluation batch of 8 off the dense net's by %g", ee);
    float x[B * 3 * 4 * 6];
    uint8_t y[B] = {0, 3, 1};
    rng_t r;
    rng_init(&r, 4242);
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = rng_uniform(&r);
    net_forward(&n, x, B, NULL);
    net_loss(&n, y, B, NULL, 1);
    net_backward(&n, x, B);
    net_forward(&d, x, B, NULL);
    net_loss(&d, y, B, NULL, 1);
    net_backward(&d, x, B);
    double e = rel_err(n.grads, d.grads, n.n_params);
    CHECK(e <= TOL_W, "net: gradients off the dense net's by %g", e);
    float *g = malloc(n.n_params * 4);
    memcpy(g, n.grads, n.n_params * 4);
    static const fd_opts_t fo = {.h = 1e-3f, .floor = 1e-2, .tol = 2e-2, .kinks = 1};
    loss_case_t c = {.n = &n, .x = x, .y = y, .b = B};
    fd_stats_t s;
    fd_stats_init(&s);
    fd_check(&s, &fo, "net", n.params, n.n_params, g, loss_at, &c);
    CHECK(s.kinks <= 3, "net: %d of %zu parameters sit on a kink", s.kinks, s.n);
    CHECK(s.worst <= fo.tol, "net: worst relative error %g at parameter %zu; %d of %zu disagree",
          s.worst, s.worst_i, s.bad, s.n);
    free(g);
    net_free(&n);
    net_free(&d);
}

/* Adam steps on the oneDNN path with half the weights pruned: they stay
 * exactly 0, the others move, and two nets give the same bits. */
static void check_training(void)
{
    enum { B = 13, STEPS = 10 };
    net_t n[2];
    optim_t o[2];
    for (int k = 0; k < 2; k++) {
        if (make_net(&n[k], B, B, KERNELS_AUTO) ||
            optim_create(&o[k], OPT_ADAM, n[k].n_params, 1e-2f, 0.9f, 0.9f, 0.999f, 1e-8f)) {
            CHECK(0, "training: %s", ts_errmsg());
            return;
        }
        rng_t r;
        rng_init(&r, 777);
        for (size_t i = 0; i < n[k].n_weights; i++)
            if (rng_uniform(&r) < 0.5f)
                n[k].mask[i] = 0, n[k].params[i] = 0;
    }
    float *before = malloc(n[0].n_params * 4);
    memcpy(before, n[0].params, n[0].n_params * 4);
    float x[B * 3 * 4 * 6];
    uint8_t y[B];
    rng_t r;
    rng_init(&r, 99);
    for (int s = 0; s < STEPS; s++) {
        for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
            x[i] = rng_uniform(&r);
        for (int i = 0; i < B; i++)
            y[i] = (uint8_t)rng_below(&r, 4);
        for (int k = 0; k < 2; k++) {
            net_forward(&n[k], x, B, NULL);
            net_loss(&n[k], y, B, NULL, 1);
            net_backward(&n[k], x, B);
            net_step(&n[k], &o[k]);
        }
    }
    int regrown = 0, moved = 0, alive = 0;
    for (size_t i = 0; i < n[0].n_params; i++) {
        regrown += !n[0].mask[i] && n[0].params[i] != 0;
        moved += n[0].mask[i] != 0 && n[0].params[i] != before[i];
        alive += n[0].mask[i] != 0;
    }
    CHECK(!regrown && moved * 2 > alive, "training: %d pruned weights regrew; %d of %d survivors moved",
          regrown, moved, alive);
    CHECK(!memcmp(n[0].params, n[1].params, n[0].n_params * 4), "training: two nets differ");
    free(before);
    for (int k = 0; k < 2; k++)
        optim_free(&o[k]), net_free(&n[k]);
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_init();
    if (!dnn_available()) {
        CHECK(dnn_conv_create(2, 16, 16, 4, 4, 1, 1) == NULL && strstr(ts_errmsg(), "without oneDNN"),
              "a build without oneDNN says so: '%s'", ts_errmsg());
        CHECK(!strcmp(dnn_describe(), "none"), "describe: %s", dnn_describe());
        check_net(); /* kernels = auto keeps im2col */
        return check_summary(argv[0]);
    }
    fprintf(stderr, "%s\n", dnn_describe());
    static const shape_t conv_shapes[] = {
        {60, 3, 64, 32, 32},  {60, 64, 64, 32, 32},  {60, 64, 128, 16, 16},
        {60, 128, 128, 16, 16}, {60, 128, 256, 8, 8}, {60, 256, 256, 8, 8},
    };
    static const shape_t odd_shapes[] = {
        {1, 3, 16, 4, 4},  {13, 3, 64, 7, 5},  {1, 16, 16, 4, 4},   {13, 16, 64, 9, 11},
        {13, 64, 16, 5, 4}, {1, 64, 64, 32, 32}, {60, 16, 16, 6, 10}, {13, 64, 64, 13, 13},
    };
    for (size_t i = 0; i < sizeof odd_shapes / sizeof odd_shapes[0]; i++)
        check_layer(&odd_shapes[i], 1);
    check_layer(&conv_shapes[0], 1); /* the first layer: naive sums are cheap there */
    for (size_t i = 1; i < sizeof conv_shapes / sizeof conv_shapes[0]; i++)
        check_layer(&conv_shapes[i], 0);
    check_net();
    check_training();
    return check_summary(argv[0]);
}
