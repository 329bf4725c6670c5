/*
 * test_conv: the convolutional layer primitives of conv.h.
 *
 *   - conv_forward (im2col + sgemm) against conv_forward_naive on several
 *     shapes (1x1 and non-square images, c_in = 1 at 28x28, c_in = 3 at 32x32,
 *     b > 1), and both against hand-computed shifts (cross-correlation, zero
 *     padding, bias); outputs overwritten, scratch not written past its size;
 *   - conv_backward's dwt, dbias and dx against central finite differences of
 *     L = sum(g .* conv(x)) (fdcheck.h), and dx == NULL giving the same dwt
 *     and dbias;
 *   - conv_pool_backward and conv_dropout_backward against finite differences, alone and
 *     in a chain conv -> ReLU -> pool -> dropout;
 *   - pool ties (first in row-major order wins) and known values;
 *   - dropout: p = 0 is the identity, the kept fraction is near 1 - p, the kept
 *     are scaled by 1 / (1 - p), the same key gives the same mask.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "conv.h"
#include "fdcheck.h"
#include "rng.h"

/* Sentinel written past the end of scratch buffers: must survive every call. */
#define GUARD 16
#define GUARD_VALUE 12345.5f

static float *alloc_guarded(size_t n)
{
    float *p = malloc((n + GUARD) * sizeof(float));
    for (size_t i = 0; i < GUARD; i++)
        p[n + i] = GUARD_VALUE;
    return p;
}

static int guard_intact(const float *p, size_t n)
{
    for (size_t i = 0; i < GUARD; i++)
        if (p[n + i] != GUARD_VALUE)
            return 0;
    return 1;
}

static void fill_uniform(float *a, size_t n, rng_t *r, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        a[i] = lo + (hi - lo) * rng_uniform(r);
}

static void fill_nan(float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] = NAN;
}

static double dot(const float *a, const float *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)a[i] * b[i];
    return s;
}

/* Finite differences (fdcheck.h): the losses are sums of float outputs, so a
 * difference quotient with h = 1e-3 carries up to ~4e-4 of rounding noise;
 * the floor of 0.1 keeps that noise in near-zero derivatives (typical ones
 * are near 1) from counting. conv is linear in each argument: no kinks, so
 * none is excused there; ReLU and max have them. */
static const fd_opts_t fd_linear = {.h = 1e-3f, .floor = 0.1, .tol = 1e-2, .kinks = 0};
static const fd_opts_t fd_kinked = {.h = 1e-3f, .floor = 0.1, .tol = 1e-2, .kinks = 1};

/* ---- conv_forward against the reference ---------------------------------- */

static void test_forward_shapes(void)
{
    static const int shapes[][5] = {
        /* b, c_in, c_out, h, w */
        {2, 2, 3, 6, 6},  {3, 1, 4, 28, 28}, {2, 3, 8, 32, 32}, {1, 2, 2, 1, 1},
        {2, 2, 3, 1, 5},  {2, 3, 2, 5, 1},   {2, 3, 2, 5, 7},   {4, 16, 8, 8, 8},
        {3, 5, 1, 2, 2},
    };
    rng_t r;
    rng_init(&r, rng_key(11, 99, 1, 0));
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int b = shapes[s][0], ci = shapes[s][1], co = shapes[s][2], h = shapes[s][3],
            w = shapes[s][4];
        size_t nx = (size_t)b * ci * h * w, ny = (size_t)b * co * h * w, nw = (size_t)co * ci * 9;
        size_t ncol = conv_col_floats(ci, h, w);
        CHECK(ncol == (size_t)ci * 9 * h * w, "conv_col_floats %zu", ncol);
        float *x = malloc(nx * sizeof(float)), *wt = malloc(nw * sizeof(float));
        float *bias = malloc((size_t)co * sizeof(float));
        float *y = alloc_guarded(ny), *ref = malloc(ny * sizeof(float));
        float *col = alloc_guarded(ncol);
        fill_uniform(x, nx, &r, -1, 1);
        fill_uniform(wt, nw, &r, -1, 1);
        fill_uniform(bias, (size_t)co, &r, -1, 1);
        fill_nan(y, ny); /* y is overwritten, not accumulated into */
        fill_nan(col, ncol);
        conv_forward(x, wt, bias, b, ci, co, h, w, col, y);
        conv_forward_naive(x, wt, bias, b, ci, co, h, w, ref);
        double worst = 0;
        int bad = 0;
        for (size_t i = 0; i < ny; i++) {
            double d = fabs((double)y[i] - ref[i]);
            if (!(d <= 1e-4 * (1 + fabs(ref[i]))))
                bad++;
            if (d > worst || d != d)
                worst = d;
        }
        CHECK(bad == 0, "shape b=%d %d->%d %dx%d: %d of %zu outputs differ, worst %g", b, ci, co,
              h, w, bad, ny, worst);
        CHECK(guard_intact(col, ncol), "shape %zu: col written past conv_col_floats", s);
        CHECK(guard_intact(y, ny), "shape %zu: y written past its end", s);
        free(x), free(wt), free(bias), free(y), free(ref), free(col);
    }
}

/* A kernel with a single 1 at (kh, kw) shifts the image: y[i][j] = bias +
 * x[i + kh - 1][j + kw - 1], 0 outside (cross-correlation, zero padding). */
static void test_forward_shifts(void)
{
    enum { H = 4, W = 5 };
    float x[H * W], wt[9], bias = 0.5f, y[H * W], yn[H * W], col[9 * H * W];
    for (int i = 0; i < H * W; i++)
        x[i] = (float)(i + 1);
    for (int kh = 0; kh < 3; kh++)
        for (int kw = 0; kw < 3; kw++) {
            memset(wt, 0, sizeof wt);
            wt[kh * 3 + kw] = 1;
            conv_forward(x, wt, &bias, 1, 1, 1, H, W, col, y);
            conv_forward_naive(x, wt, &bias, 1, 1, 1, H, W, yn);
            int bad = 0;
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++) {
                    int si = i + kh - 1, sj = j + kw - 1;
                    float want = bias + (si >= 0 && si < H && sj >= 0 && sj < W ? x[si * W + sj] : 0);
                    bad += y[i * W + j] != want || yn[i * W + j] != want;
                }
            CHECK(bad == 0, "one-hot kernel at (%d,%d): %d pixels wrong", kh, kw, bad);
        }
}

/* ---- conv_backward against finite differences ---------------------------- */

typedef struct {
    int b, ci, co, h, w;
    float *x, *wt, *bias, *g, *y, *col;
} conv_case_t;

/* L = sum(g .* conv(x)) in double. */
static double conv_loss(conv_case_t *c)
{
    conv_forward(c->x, c->wt, c->bias, c->b, c->ci, c->co, c->h, c->w, c->col, c->y);
    return dot(c->y, c->g, (size_t)c->b * c->co * c->h * c->w);
}

static double conv_loss_v(void *ctx)
{
    return conv_loss(ctx);
}

static void test_conv_backward(void)
{
    conv_case_t c = {.b = 2, .ci = 2, .co = 3, .h = 6, .w = 6};
    size_t nx = (size_t)c.b * c.ci * c.h * c.w, ny = (size_t)c.b * c.co * c.h * c.w;
    size_t nw = (size_t)c.co * c.ci * 9, ncol = conv_col_floats(c.ci, c.h, c.w);
    rng_t r;
    rng_init(&r, rng_key(12, 99, 2, 0));
    c.x = malloc(nx * sizeof(float));
    c.wt = malloc(nw * sizeof(float));
    c.bias = malloc((size_t)c.co * sizeof(float));
    c.g = malloc(ny * sizeof(float));
    c.y = malloc(ny * sizeof(float));
    c.col = alloc_guarded(ncol);
    fill_uniform(c.x, nx, &r, -1, 1);
    fill_uniform(c.wt, nw, &r, -1, 1);
    fill_uniform(c.bias, (size_t)c.co, &r, -1, 1);
    fill_uniform(c.g, ny, &r, -1, 1);

    float *dwt = malloc(nw * sizeof(float)), *dbias = malloc((size_t)c.co * sizeof(float));
    float *dx = malloc(nx * sizeof(float));
    /* NaN everywhere: the outputs must be overwritten, never accumulated into */
    fill_nan(dwt, nw), fill_nan(dbias, (size_t)c.co), fill_nan(dx, nx);
    conv_backward(c.x, c.wt, c.g, c.b, c.ci, c.co, c.h, c.w, c.col, dwt, dbias, dx);
    CHECK(guard_intact(c.col, ncol), "backward wrote col past conv_col_floats");

    /* every derivative of each block agrees with finite differences */
    struct {
        const char *what;
        float *p, *analytic;
        size_t n;
    } blocks[] = {{"dwt", c.wt, dwt, nw}, {"dbias", c.bias, dbias, (size_t)c.co}, {"dx", c.x, dx, nx}};
    for (size_t k = 0; k < sizeof blocks / sizeof blocks[0]; k++) {
        fd_stats_t s;
        fd_stats_init(&s);
        fd_check(&s, &fd_linear, blocks[k].what, blocks[k].p, blocks[k].n, blocks[k].analytic,
                 conv_loss_v, &c);
        CHECK(s.worst <= fd_linear.tol, "%s: worst relative error %g at %s[%zu]; %d of %zu disagree",
              blocks[k].what, s.worst, s.worst_what, s.worst_i, s.bad, s.n);
    }

    /* dx == NULL (the first layer): the same dwt and dbias, bit for bit */
    float *dwt2 = malloc(nw * sizeof(float)), *dbias2 = malloc((size_t)c.co * sizeof(float));
    fill_nan(dwt2, nw), fill_nan(dbias2, (size_t)c.co);
    conv_backward(c.x, c.wt, c.g, c.b, c.ci, c.co, c.h, c.w, c.col, dwt2, dbias2, NULL);
    CHECK(!memcmp(dwt, dwt2, nw * sizeof(float)), "dwt differs with dx == NULL");
    CHECK(!memcmp(dbias, dbias2, (size_t)c.co * sizeof(float)), "dbias differs with dx == NULL");
    /* and a second call gives the same again: nothing carried over */
    conv_backward(c.x, c.wt, c.g, c.b, c.ci, c.co, c.h, c.w, c.col, dwt2, dbias2, NULL);
    CHECK(!memcmp(dwt, dwt2, nw * sizeof(float)), "dwt differs on a second call");

    free(c.x), free(c.wt), free(c.bias), free(c.g), free(c.y), free(c.col);
    free(dwt), free(dbias), free(dx), free(dwt2), free(dbias2);
}

/* ---- pooling ------------------------------------------------------------- */

typedef struct {
    int b, c, h, w;
    float *x, *g, *y;
    int32_t *arg;
} pool_case_t;

static double pool_loss(void *ctx)
{
    pool_case_t *p = ctx;
    conv_pool_forward(p->x, p->b, p->c, p->h, p->w, p->y, p->arg);
    return dot(p->y, p->g, (size_t)p->b * p->c * (p->h / 2) * (p->w / 2));
}

static void test_pool_grad(void)
{
    pool_case_t p = {.b = 2, .c = 3, .h = 6, .w = 6};
    size_t nx = (size_t)p.b * p.c * p.h * p.w, ny = nx / 4;
    rng_t r;
    rng_init(&r, rng_key(13, 99, 3, 0));
    p.x = malloc(nx * sizeof(float));
    p.g = malloc(ny * sizeof(float));
    p.y = malloc(ny * sizeof(float));
    p.arg = malloc(ny * sizeof(int32_t));
    fill_uniform(p.x, nx, &r, -1, 1);
    fill_uniform(p.g, ny, &r, -1, 1);
    float *dx = malloc(nx * sizeof(float));
    conv_pool_forward(p.x, p.b, p.c, p.h, p.w, p.y, p.arg);
    /* each output is the maximum of its own window, and arg points at it */
    int wrong = 0, ho = p.h / 2, wo = p.w / 2;
    for (int q = 0; q < p.b * p.c; q++)
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++) {
                const float *top = p.x + ((size_t)q * p.h + 2 * i) * p.w + 2 * j;
                float m = fmaxf(fmaxf(top[0], top[1]), fmaxf(top[p.w], top[p.w + 1]));
                size_t k = ((size_t)q * ho + i) * wo + j;
                int32_t a = p.arg[k];
                int32_t t = (int32_t)(top - p.x);
                int in_window = a == t || a == t + 1 || a == t + p.w || a == t + p.w + 1;
                wrong += p.y[k] != m || !in_window || p.x[a] != m;
            }
    CHECK(wrong == 0, "conv_pool_forward: %d of %zu windows wrong", wrong, ny);
    fill_nan(dx, nx);
    conv_pool_backward(p.g, p.arg, p.b, p.c, p.h, p.w, dx);
    /* a maximum within h of its runner-up is a kink: at most a couple */
    fd_stats_t s;
    fd_stats_init(&s);
    fd_check(&s, &fd_kinked, "pool dx", p.x, nx, dx, pool_loss, &p);
    CHECK(s.kinks <= 2, "pool dx: %d of %zu derivatives sit on a kink", s.kinks, s.n);
    CHECK(s.worst <= fd_kinked.tol, "pool dx: worst relative error %g at %s[%zu]; %d of %zu disagree",
          s.worst, s.worst_what, s.worst_i, s.bad, s.n);
    int nonzero = 0;
    for (size_t i = 0; i < nx; i++)
        nonzero += dx[i] != 0;
    CHECK(nonzero == (int)ny, "pool dx has %d nonzeros, want one per window (%zu)", nonzero, ny);
    free(p.x), free(p.g), free(p.y), free(p.arg), free(dx);
}

static void test_pool_ties(void)
{
    /* one image, two channels, 4x4: windows with ties in different places */
    const float x[2 * 16] = {
        /* channel 0 */
        1, 1, 2, 5,
        1, 1, 5, 5,
        0, 3, -1, -2,
        3, 3, -3, -1,
        /* channel 1: all equal; then negative values */
        7, 7, -4, -9,
        7, 7, -9, -4,
        0, 0, 2, 2,
        0, 0, 1, 2,
    };
    const float want_y[8] = {1, 5, 3, -1, 7, -4, 0, 2};
    /* flat indices into x of the first maximum in row-major order */
    const int32_t want_arg[8] = {0, 3, 9, 10, 16, 18, 24, 26};
    float y[8], dx[32];
    int32_t arg[8];
    conv_pool_forward(x, 1, 2, 4, 4, y, arg);
    for (int k = 0; k < 8; k++) {
        CHECK(y[k] == want_y[k], "pool y[%d] = %g, want %g", k, y[k], want_y[k]);
        CHECK(arg[k] == want_arg[k], "pool arg[%d] = %d, want %d", k, arg[k], want_arg[k]);
    }
    const float dy[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    fill_nan(dx, 32);
    conv_pool_backward(dy, arg, 1, 2, 4, 4, dx);
    for (int i = 0; i < 32; i++) {
        float want = 0;
        for (int k = 0; k < 8; k++)
            if (want_arg[k] == i)
                want = dy[k];
        CHECK(dx[i] == want, "pool dx[%d] = %g, want %g", i, dx[i], want);
    }
}

/* ---- dropout ------------------------------------------------------------- */

static void test_dropout(void)
{
    enum { N = 1 << 20 };
    float *x = malloc(N * sizeof(float)), *x0 = malloc(N * sizeof(float));
    uint8_t *keep = malloc(N), *keep2 = malloc(N);
    rng_t r;
    rng_init(&r, rng_key(14, 99, 4, 0));
    fill_uniform(x0, N, &r, -1, 1);

    /* p = 0: x untouched, all kept, nothing drawn; backward the identity */
    memcpy(x, x0, N * sizeof(float));
    memset(keep, 0, N);
    rng_init(&r, rng_key(1, RNG_DROPOUT, 0, 0));
    conv_dropout_forward(x, keep, N, 0.0f, &r);
    CHECK(!memcmp(x, x0, N * sizeof(float)), "p = 0 changed x");
    CHECK(memchr(keep, 0, N) == NULL, "p = 0 dropped something");
    CHECK(r.ctr == 0, "p = 0 drew %llu numbers", (unsigned long long)r.ctr);
    conv_dropout_backward(x, keep, N, 0.0f);
    CHECK(!memcmp(x, x0, N * sizeof(float)), "p = 0 backward changed dx");

    /* p = 0.3 on 2^20 elements: kept fraction within 5 sigma of 0.7 */
    const float p = 0.3f, scale = 1.0f / (1.0f - p);
    memcpy(x, x0, N * sizeof(float));
    rng_init(&r, rng_key(1, RNG_DROPOUT, 0, 0));
    conv_dropout_forward(x, keep, N, p, &r);
    CHECK(r.ctr == N, "drew %llu numbers, want one per element", (unsigned long long)r.ctr);
    size_t kept = 0;
    int wrong = 0;
    for (size_t i = 0; i < N; i++) {
        kept += keep[i];
        wrong += keep[i] > 1 || x[i] != (keep[i] ? x0[i] * scale : 0.0f);
    }
    double frac = (double)kept / N, sigma = sqrt(0.3 * 0.7 / N);
    CHECK(fabs(frac - 0.7) < 5 * sigma, "kept fraction %g, want 0.7 +- %g", frac, 5 * sigma);
    CHECK(wrong == 0, "%d elements neither scaled by 1/(1-p) nor zeroed", wrong);

    /* the same key gives the same mask; another key another one */
    rng_init(&r, rng_key(1, RNG_DROPOUT, 0, 0));
    memcpy(x, x0, N * sizeof(float));
    conv_dropout_forward(x, keep2, N, p, &r);
    CHECK(!memcmp(keep, keep2, N), "same key, different mask");
    rng_init(&r, rng_key(1, RNG_DROPOUT, 0, 1));
    memcpy(x, x0, N * sizeof(float));
    conv_dropout_forward(x, keep2, N, p, &r);
    CHECK(memcmp(keep, keep2, N) != 0, "different keys, same mask");

    /* backward: dx scaled where kept, zero where dropped */
    for (size_t i = 0; i < N; i++)
        x[i] = x0[i];
    conv_dropout_backward(x, keep, N, p);
    wrong = 0;
    for (size_t i = 0; i < N; i++)
        wrong += x[i] != (keep[i] ? x0[i] * scale : 0.0f);
    CHECK(wrong == 0, "conv_dropout_backward: %d elements wrong", wrong);

    /* p = 1: everything dropped, nothing drawn */
    memcpy(x, x0, 1000 * sizeof(float));
    rng_init(&r, 5);
    conv_dropout_forward(x, keep, 1000, 1.0f, &r);
    int left = 0;
    for (int i = 0; i < 1000; i++)
        left += x[i] != 0 || keep[i];
    CHECK(left == 0 && r.ctr == 0, "p = 1 kept %d", left);
    free(x), free(x0), free(keep), free(keep2);
}

/* ---- a chain: conv -> ReLU -> pool -> dropout -> L = sum(g .* out) -------- */

typedef struct {
    int b, ci, co, h, w;
    float p;
    uint64_t key;
    float *x, *wt, *bias, *col, *a, *pooled, *g;
    int32_t *arg;
    uint8_t *keep;
} chain_t;

static double chain_loss(void *ctx)
{
    chain_t *c = ctx;
    size_t na = (size_t)c->b * c->co * c->h * c->w, np = na / 4;
    conv_forward(c->x, c->wt, c->bias, c->b, c->ci, c->co, c->h, c->w, c->col, c->a);
    conv_relu_forward(c->a, na);
    conv_pool_forward(c->a, c->b, c->co, c->h, c->w, c->pooled, c->arg);
    rng_t r;
    rng_init(&r, c->key); /* the same mask at every evaluation */
    conv_dropout_forward(c->pooled, c->keep, np, c->p, &r);
    return dot(c->pooled, c->g, np);
}

static void test_chain(void)
{
    chain_t c = {.b = 2, .ci = 2, .co = 3, .h = 6, .w = 6, .p = 0.25f};
    c.key = rng_key(2, RNG_DROPOUT, 0, 0);
    size_t nx = (size_t)c.b * c.ci * c.h * c.w, na = (size_t)c.b * c.co * c.h * c.w,
           np = na / 4, nw = (size_t)c.co * c.ci * 9;
    rng_t r;
    rng_init(&r, rng_key(15, 99, 5, 0));
    c.x = malloc(nx * sizeof(float));
    c.wt = malloc(nw * sizeof(float));
    c.bias = malloc((size_t)c.co * sizeof(float));
    c.col = malloc(conv_col_floats(c.ci, c.h, c.w) * sizeof(float));
    c.a = malloc(na * sizeof(float));
    c.pooled = malloc(np * sizeof(float));
    c.g = malloc(np * sizeof(float));
    c.arg = malloc(np * sizeof(int32_t));
    c.keep = malloc(np);
    fill_uniform(c.x, nx, &r, -1, 1);
    fill_uniform(c.wt, nw, &r, -1, 1);
    fill_uniform(c.bias, (size_t)c.co, &r, -0.2f, 0.2f);
    fill_uniform(c.g, np, &r, -1, 1);

    chain_loss(&c);
    float *dpool = malloc(np * sizeof(float)), *da = malloc(na * sizeof(float));
    float *dwt = malloc(nw * sizeof(float)), *dbias = malloc((size_t)c.co * sizeof(float));
    float *dx = malloc(nx * sizeof(float));
    memcpy(dpool, c.g, np * sizeof(float));
    conv_dropout_backward(dpool, c.keep, np, c.p);
    conv_pool_backward(dpool, c.arg, c.b, c.co, c.h, c.w, da);
    conv_relu_backward(da, c.a, na);
    conv_backward(c.x, c.wt, da, c.b, c.ci, c.co, c.h, c.w, c.col, dwt, dbias, dx);
    int dropped = 0;
    for (size_t i = 0; i < np; i++)
        dropped += !c.keep[i];
    CHECK(dropped > 0 && dropped < (int)np, "the chain's mask drops %d of %zu", dropped, np);

    fd_stats_t s;
    fd_stats_init(&s);
    fd_check(&s, &fd_kinked, "chain dwt", c.wt, nw, dwt, chain_loss, &c);
    fd_check(&s, &fd_kinked, "chain dbias", c.bias, (size_t)c.co, dbias, chain_loss, &c);
    fd_check(&s, &fd_kinked, "chain dx", c.x, nx, dx, chain_loss, &c);
    /* ReLU and max kinks inside [v - h, v + h] excuse a couple, not more */
    CHECK(s.kinks <= 2, "chain: %d of %zu derivatives sit on a kink", s.kinks, s.n);
    CHECK(s.worst <= fd_kinked.tol, "chain: worst relative error %g at %s[%zu]; %d of %zu disagree",
          s.worst, s.worst_what, s.worst_i, s.bad, s.n);
    free(c.x), free(c.wt), free(c.bias), free(c.col), free(c.a), free(c.pooled), free(c.g);
    free(c.arg), free(c.keep), free(dpool), free(da), free(dwt), free(dbias), free(dx);
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_init();
    test_forward_shapes();
    test_forward_shifts();
    test_conv_backward();
    test_pool_grad();
    test_pool_ties();
    test_dropout();
    test_chain();
    return check_summary(argv[0]);
}
