/*
 * test_sparse: the sparse kernels of thin fully connected layers (sparse.h)
 * and the net and optimizer paths that use them.
 *
 *  - transposes into and out of tiles are exact, with zero padding;
 *  - each product (forward, input gradient, weight gradient) against a plain
 *    double-precision loop over the dense matrices, at densities 1 .. 0 and
 *    shapes and batch sizes that leave partial vectors and tiles; the weight
 *    gradient leaves pruned entries untouched;
 *  - a whole net (forward, loss, backward) with sparse kernels against the
 *    same net with dense ones: logits, loss and surviving gradients within
 *    float rounding; batches of 1, 60 and 150 (three tiles);
 *  - finite differences of the sparse net's loss at its surviving weights;
 *  - an example's logits are the same bits alone, in a batch or in any tile;
 *  - a step in parts (compact survivors, masked blocks) gives the bits of
 *    optim_step; training steps on the sparse path keep pruned weights 0
 *    and move the others;
 *  - net_set_kernels: dense / sparse / auto choose what they say.
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
#include "optim.h"
#include "rng.h"
#include "sparse.h"

static float *fill(size_t n, rng_t *r, float lo, float hi)
{
    float *p = malloc(n * sizeof(float));
    for (size_t i = 0; p && i < n; i++)
        p[i] = lo + (hi - lo) * rng_uniform(r);
    return p;
}

/* mask [n]: each entry 1 with probability q (q = 1: all, 0: none). */
static void random_mask(float *mask, size_t n, double q, rng_t *r)
{
    for (size_t i = 0; i < n; i++)
        mask[i] = rng_uniform(r) < q ? 1.0f : 0.0f;
}

static void check_tiles(void)
{
    rng_t r;
    rng_init(&r, 11);
    const int ns[] = {1, 15, 16, 17, 100, 784};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int rows = 1; rows <= SPARSE_TILE; rows += 21) {
            int n = ns[k];
            float *a = fill((size_t)rows * n, &r, -1, 1), *back = calloc((size_t)rows * n, 4);
            float *at = fill((size_t)n * SPARSE_TILE, &r, 5, 6); /* garbage to overwrite */
            sparse_to_tile(a, rows, n, at);
            int bad = 0, pad = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < SPARSE_TILE; j++) {
                    float v = at[(size_t)i * SPARSE_TILE + j];
                    if (j < rows)
                        bad += v != a[(size_t)j * n + i];
                    else
                        pad += v != 0;
                }
            sparse_from_tile(at, rows, n, back);
            CHECK(!bad && !pad && !memcmp(a, back, (size_t)rows * n * 4),
                  "tile of %d x %d: %d wrong, %d padding not 0, round trip %s", rows, n, bad, pad,
                  memcmp(a, back, (size_t)rows * n * 4) ? "differs" : "exact");
            free(a), free(back), free(at);
        }
}

/* sparse_tile_alloc: zeroed and 64-byte aligned, whatever the size (blocks
 * kept alive together, so that malloc's own 16-byte alignment would show). */
static void check_tile_alloc(void)
{
    float *p[12];
    int bad = 0, dirty = 0;
    for (int k = 0; k < 12; k++) {
        size_t n = (size_t)1 + (size_t)k * 37 * SPARSE_TILE / 4;
        p[k] = sparse_tile_alloc(n);
        bad += !p[k] || (uintptr_t)p[k] % 64 != 0;
        for (size_t i = 0; p[k] && i < n; i++)
            dirty += p[k][i] != 0;
    }
    CHECK(!bad && !dirty, "sparse_tile_alloc: %d blocks not 64-byte aligned, %d floats not 0", bad,
          dirty);
    for (int k = 0; k < 12; k++)
        free(p[k]);
}

/* The weight gradient's defined bits for one survivor: dzt row o and at row
 * i (tile rows) multiplied lane by lane, the four 16-lane parts added in
 * order, then the 16 lanes in the fixed tree (sparse.h): the sparse kernel
 * must give exactly this on every instruction-set path. */
static float tree_dot(const float *d, const float *x)
{
    float s[16];
    for (int l = 0; l < 16; l++) {
        s[l] = d[l] * x[l];
        for (int q = 16; q < SPARSE_TILE; q += 16)
            s[l] = s[l] + d[q + l] * x[q + l];
    }
    for (int h = 8; h >= 1; h /= 2)
        for (int l = 0; l < h; l++)
            s[l] = s[l] + s[l + h];
    return s[0];
}

/* |x - ref| <= tol * scale, scale the sum of the magnitudes of the terms. */
static int close(double x, double ref, double scale)
{
    return fabs(x - ref) <= 1e-5 * (scale + 1e-30);
}

static void check_products(int out, int in, double q, int rows)
{
    rng_t r;
    rng_init(&r, rng_key((uint64_t)out, (uint64_t)in, (uint64_t)(q * 1000), (uint64_t)rows));
    size_t nw = (size_t)out * in;
    float *mask = malloc(nw * sizeof(float));
    random_mask(mask, nw, q, &r);
    float *w = fill(nw, &r, -1, 1), *bias = fill((size_t)out, &r, -0.5f, 0.5f);
    for (size_t i = 0; i < nw; i++)
        w[i] *= mask[i];
    float *a = fill((size_t)rows * in, &r, -1, 1), *dz = fill((size_t)rows * out, &r, -1, 1);
    float *at = malloc((size_t)in * SPARSE_TILE * 4), *dat = malloc((size_t)in * SPARSE_TILE * 4);
    float *zt = malloc((size_t)out * SPARSE_TILE * 4), *dzt = malloc((size_t)out * SPARSE_TILE * 4);
    float *z = malloc((size_t)rows * out * 4), *da = malloc((size_t)rows * in * 4);
    float *g = malloc(nw * 4);
    sparse_csr_t s = {0};
    int rc = sparse_build(&s, mask, w, out, in);
    size_t alive = 0;
    for (size_t i = 0; i < nw; i++)
        alive += mask[i] != 0;
    CHECK(rc == 0 && s.nnz == alive && s.ptr[(size_t)s.nblk * out] == (int32_t)alive,
          "index of %dx%d at %g: %zu of %zu survivors", out, in, q, s.nnz, alive);
    for (size_t i = 0; i < nw; i++)
        g[i] = 12345.0f; /* pruned entries must keep it */
    sparse_to_tile(a, rows, in, at);
    sparse_to_tile(dz, rows, out, dzt);
    sparse_forward(&s, bias, at, zt);
    sparse_from_tile(zt, rows, out, z);
    sparse_input_grad(&s, dzt, dat);
    sparse_from_tile(dat, rows, in, da);
    sparse_weight_grad(&s, dzt, at, 0);
    sparse_scatter(&s, s.grad, g);

    int bad_z = 0, bad_da = 0, bad_g = 0, touched = 0, bad_bits = 0;
    for (int b = 0; b < rows; b++)
        for (int o = 0; o < out; o++) {
            double ref = bias[o], scale = fabs(bias[o]);
            for (int i = 0; i < in; i++) {
                double t = (double)w[(size_t)o * in + i] * a[(size_t)b * in + i];
                ref += t, scale += fabs(t);
            }
            bad_z += !close(z[(size_t)b * out + o], ref, scale);
        }
    for (int b = 0; b < rows; b++)
        for (int i = 0; i < in; i++) {
            double ref = 0, scale = 0;
            for (int o = 0; o < out; o++) {
                double t = (double)w[(size_t)o * in + i] * dz[(size_t)b * out + o];
                ref += t, scale += fabs(t);
            }
            bad_da += !close(da[(size_t)b * in + i], ref, scale);
        }
    for (int o = 0; o < out; o++)
        for (int i = 0; i < in; i++) {
            size_t k = (size_t)o * in + i;
            if (!mask[k]) {
                touched += g[k] != 12345.0f;
                continue;
            }
            float exact = tree_dot(dzt + (size_t)o * SPARSE_TILE, at + (size_t)i * SPARSE_TILE);
            bad_bits += memcmp(&exact, &g[k], sizeof exact) != 0;
            double ref = 0, scale = 0;
            for (int b = 0; b < rows; b++) {
                double t = (double)dz[(size_t)b * out + o] * a[(size_t)b * in + i];
                ref += t, scale += fabs(t);
            }
            bad_g += !close(g[k], ref, scale);
        }
    CHECK(!bad_z && !bad_da && !bad_g && !touched,
          "%dx%d at density %g, %d rows: %d outputs, %d input gradients, %d weight gradients "
          "wrong; %d pruned gradients written",
          out, in, q, rows, bad_z, bad_da, bad_g, touched);
    CHECK(!bad_bits, "%dx%d at density %g, %d rows: %d weight gradients not the fixed tree's bits",
          out, in, q, rows, bad_bits);
    /* accumulate: a second tile's dot products add to the first's */
    float *g2 = malloc(nw * 4);
    memcpy(g2, g, nw * 4);
    sparse_weight_grad(&s, dzt, at, 1);
    sparse_scatter(&s, s.grad, g2);
    int bad_acc = 0;
    for (size_t k = 0; k < nw; k++)
        bad_acc += mask[k] ? g2[k] != g[k] + g[k] : g2[k] != 12345.0f;
    CHECK(!bad_acc, "%dx%d: accumulated weight gradient wrong at %d entries", out, in, bad_acc);
    sparse_free(&s);
    free(mask), free(w), free(bias), free(a), free(dz), free(at), free(dat), free(zt), free(dzt);
    free(z), free(da), free(g), free(g2);
}

/* A small MLP (in 37, hidden 23 and 19, 5 classes) with a random mask of density q
 * on every layer, parameters from seed 3 with nonzero biases. */
static int make_net(net_t *n, double q, int batch)
{
    config_t cfg;
    config_defaults(&cfg);
    cfg.n_hidden = 2, cfg.hidden[0] = 23, cfg.hidden[1] = 19;
    int rc = net_create(n, &cfg, 1, 1, 37, 5, batch, batch);
    if (rc)
        return rc;
    net_init_params(n, n->params, 3, RNG_INIT, 0);
    rng_t r;
    rng_init(&r, rng_key(7, (uint64_t)(q * 1000), 0, 0));
    for (size_t i = 0; i < n->n_params; i++)
        n->params[i] += 0.05f * (float)rng_normal(&r);
    for (int l = 0; l < n->n_layers; l++) {
        net_layer_t *L = &n->layers[l];
        random_mask(n->mask + L->w_off, L->n_w, q, &r);
        for (size_t i = 0; i < L->n_w; i++)
            n->params[L->w_off + i] *= n->mask[L->w_off + i];
    }
    return 0;
}

static void inputs(int b, float *x, uint8_t *y, uint64_t seed)
{
    rng_t r;
    rng_init(&r, seed);
    for (int i = 0; i < b * 37; i++)
        x[i] = rng_uniform(&r);
    for (int i = 0; i < b; i++)
        y[i] = (uint8_t)rng_below(&r, 5);
}

/*
 * Consecutive sparse layers chain their tiles (net.c sparse_run): every
 * layer's activations after net_forward are the bits of the layer-by-layer
 * path (rows to a tile, the product, back to rows, ReLU on the rows; dense
 * layers through blas_sgemm as net.c calls it); the input tile a one-tile
 * batch keeps for the backward pass is exactly sparse_to_tile of the layer's
 * input, padding lanes 0; net_predict gives net_forward's logits. `dense1`
 * makes the middle layer dense (auto), so a run is broken by it.
 */
static void check_chain(double q, int b, int dense1)
{
    net_t n;
    if (make_net(&n, q, b)) {
        CHECK(0, "create: %s", ts_errmsg());
        return;
    }
    if (dense1)
        for (size_t i = 0; i < n.layers[1].n_w; i++)
            n.mask[n.layers[1].w_off + i] = 1;
    int ns = net_set_kernels(&n, dense1 ? KERNELS_AUTO : KERNELS_SPARSE);
    CHECK(ns == (dense1 ? 2 : 3) && n.layers[1].sparse == !dense1, "%d sparse layers", ns);
    float *x = malloc((size_t)b * 37 * 4), *ref = malloc((size_t)b * 37 * 4);
    float *at = sparse_tile_alloc(37 * SPARSE_TILE), *zt = sparse_tile_alloc(37 * SPARSE_TILE);
    uint8_t *y = malloc((size_t)b);
    inputs(b, x, y, 31);
    const float *logits = net_forward(&n, x, b, NULL);
    int bad_act = 0, bad_tile = 0;
    const float *a = x;
    for (int l = 0; l < n.n_layers; l++) {
        const net_layer_t *L = &n.layers[l];
        int in = (int)L->in, out = (int)L->out;
        float *z = malloc((size_t)b * out * 4);
        const float *bias = n.params + L->b_off;
        if (L->sparse)
            for (int i = 0; i < b; i += SPARSE_TILE) {
                int rows = b - i < SPARSE_TILE ? b - i : SPARSE_TILE;
                sparse_to_tile(a + (size_t)i * in, rows, in, at);
                if (b <= SPARSE_TILE)
                    bad_tile += memcmp(at, n.tile_a + L->tile_off, (size_t)in * SPARSE_TILE * 4) != 0;
                sparse_forward(&L->csr, bias, at, zt);
                sparse_from_tile(zt, rows, out, z + (size_t)i * out);
            }
        else {
            for (int i = 0; i < b; i++)
                memcpy(z + (size_t)i * out, bias, (size_t)out * 4);
            blas_sgemm(false, true, b, out, in, 1.0f, a, in, n.params + L->w_off, in, 1.0f, z, out);
        }
        for (int i = 0; L->relu && i < b * out; i++)
            z[i] = z[i] > 0 ? z[i] : 0;
        bad_act += memcmp(z, n.acts + L->act_off, (size_t)b * out * 4) != 0;
        if (a != x)
            free((void *)a);
        a = z;
    }
    float *lf = malloc((size_t)b * 5 * 4);
    memcpy(lf, logits, (size_t)b * 5 * 4);
    int same = !memcmp(net_predict(&n, x, b), lf, (size_t)b * 5 * 4);
    CHECK(!bad_act && !bad_tile && same,
          "density %g, batch %d%s: %d layers' activations differ from the layer-by-layer path, "
          "%d kept input tiles differ from sparse_to_tile, net_predict %s",
          q, b, dense1 ? ", middle layer dense" : "", bad_act, bad_tile,
          same ? "agrees" : "differs from net_forward");
    if (a != x)
        free((void *)a);
    free(x), free(ref), free(at), free(zt), free(y), free(lf);
    net_free(&n);
}

static void check_net(double q, int b)
{
    net_t d, s;
    if (make_net(&d, q, b) || make_net(&s, q, b)) {
        CHECK(0, "create: %s", ts_errmsg());
        return;
    }
    int nd = net_set_kernels(&d, KERNELS_DENSE), ns = net_set_kernels(&s, KERNELS_SPARSE);
    CHECK(nd == 0 && ns == 3, "dense: %d sparse layers, sparse: %d (of 3)", nd, ns);
    float *x = malloc((size_t)b * 37 * 4);
    uint8_t *y = malloc((size_t)b);
    inputs(b, x, y, 42 + (uint64_t)b);
    const float *ld = net_forward(&d, x, b, NULL), *ls = net_forward(&s, x, b, NULL);
    int bad = 0;
    for (int i = 0; i < b * 5; i++)
        bad += fabsf(ld[i] - ls[i]) > 1e-5f * (1 + fabsf(ld[i]));
    double lossd = net_loss(&d, y, b, NULL, 1), losss = net_loss(&s, y, b, NULL, 1);
    net_backward(&d, x, b);
    for (size_t i = 0; i < s.n_params; i++)
        s.grads[i] = 0; /* a sparse layer's pruned gradients are never written */
    net_backward(&s, x, b);
    net_sync(&s);
    int badg = 0, nonzero = 0;
    for (size_t i = 0; i < d.n_params; i++) {
        if (!s.mask[i]) {
            nonzero += s.grads[i] != 0;
            continue;
        }
        badg += fabsf(d.grads[i] - s.grads[i]) > 1e-5f * (1e-3f + fabsf(d.grads[i]));
    }
    CHECK(!bad && fabs(lossd - losss) <= 1e-5 * fabs(lossd) && !badg && !nonzero,
          "density %g, batch %d: %d logits differ, loss %.9g vs %.9g, %d gradients differ, %d "
          "pruned gradients nonzero",
          q, b, bad, lossd, losss, badg, nonzero);
    free(x), free(y);
    net_free(&d), net_free(&s);
}

typedef struct {
    net_t *n;
    const float *x;
    const uint8_t *y;
    int b;
} loss_ctx_t;

static double loss_at(void *p)
{
    loss_ctx_t *c = p;
    net_forward(c->n, c->x, c->b, NULL);
    return net_loss(c->n, c->y, c->b, NULL, 0) / c->b;
}

/* The sparse path's gradients against finite differences at every surviving
 * parameter: the weights in the layers' compact arrays (what the sparse
 * kernels read), the biases in the block; the pruned ones have no gradient
 * on this path. */
static void check_fd(void)
{
    const int b = 3;
    net_t n;
    if (make_net(&n, 0.3, b)) {
        CHECK(0, "create: %s", ts_errmsg());
        return;
    }
    CHECK(net_set_kernels(&n, KERNELS_SPARSE) == 3, "all three layers sparse");
    float x[3 * 37];
    uint8_t y[3];
    inputs(b, x, y, 5);
    net_forward(&n, x, b, NULL);
    net_loss(&n, y, b, NULL, 1);
    net_backward(&n, x, b);
    static const fd_opts_t o = {.h = 1e-3f, .floor = 1e-2, .tol = 2e-2, .kinks = 1};
    fd_stats_t st;
    fd_stats_init(&st);
    loss_ctx_t c = {&n, x, y, b};
    size_t alive = 0;
    float *gb = malloc(n.n_params * 4);
    memcpy(gb, n.grads, n.n_params * 4);
    for (int l = 0; l < n.n_layers; l++) {
        net_layer_t *L = &n.layers[l];
        float *g = malloc(L->csr.nnz * 4 + 4);
        memcpy(g, L->csr.grad, L->csr.nnz * 4);
        fd_check(&st, &o, L->name, L->csr.val, L->csr.nnz, g, loss_at, &c);
        fd_check(&st, &o, "bias", n.params + L->b_off, (size_t)L->out_c, gb + L->b_off, loss_at, &c);
        alive += L->csr.nnz + (size_t)L->out_c;
        free(g);
    }
    CHECK(st.n == alive && st.kinks <= 2 && st.worst <= o.tol,
          "finite differences at %zu survivors: worst %g, %d disagree, %d kinks", st.n, st.worst,
          st.bad, st.kinks);
    free(gb);
    net_free(&n);
}

/* An example's logits: the same bits alone, in a batch, in any tile. */
static void check_batch_invariance(void)
{
    enum { B = 150 };
    net_t n;
    if (make_net(&n, 0.2, B)) {
        CHECK(0, "create: %s", ts_errmsg());
        return;
    }
    net_set_kernels(&n, KERNELS_SPARSE);
    float *x = malloc(B * 37 * 4), *all = malloc(B * 5 * 4);
    uint8_t y[B];
    inputs(B, x, y, 9);
    memcpy(all, net_forward(&n, x, B, NULL), B * 5 * 4);
    int bad = 0;
    for (int i = 0; i < B; i += 7)
        bad += memcmp(net_forward(&n, x + (size_t)i * 37, 1, NULL), all + (size_t)i * 5, 5 * 4) != 0;
    CHECK(!bad, "%d examples' logits depend on their batch", bad);
    free(x), free(all);
    net_free(&n);
}

/* optim_step on a masked block against the same step in parts: the
 * survivors compacted (mask NULL) and the rest with the mask: the same bits
 * at the survivors, 0 at the others (the masked pass may leave -0 there). */
static void check_optim(void)
{
    enum { N = 1000 };
    rng_t r;
    rng_init(&r, 77);
    float mask[N], w0[N];
    for (int i = 0; i < N; i++) {
        mask[i] = rng_uniform(&r) < 0.3f ? 1.0f : 0.0f;
        w0[i] = mask[i] * (rng_uniform(&r) - 0.5f);
    }
    for (int kind = 0; kind < 2; kind++) {
        optim_t a, b;
        int rc = optim_create(&a, kind ? OPT_SGD : OPT_ADAM, N, 1e-3f, 0.9f, 0.9f, 0.999f, 1e-8f);
        rc |= optim_create(&b, kind ? OPT_SGD : OPT_ADAM, N, 1e-3f, 0.9f, 0.9f, 0.999f, 1e-8f);
        CHECK(rc == 0, "optim_create");
        float wa[N], ga[N], wc[N], gc[N], wb[N], gb[N];
        int n = 0, half = N / 2;
        memcpy(wa, w0, sizeof wa);
        memcpy(wb, w0, sizeof wb);
        for (int i = 0; i < half; i++) /* the first half compact */
            if (mask[i])
                wc[n++] = w0[i];
        for (int step = 0; step < 5; step++) {
            for (int i = 0, k = 0; i < N; i++) {
                ga[i] = gb[i] = rng_uniform(&r) - 0.5f;
                if (i < half && mask[i])
                    gc[k++] = ga[i];
            }
            optim_step(&a, wa, ga, mask);
            optim_tick(&b);
            optim_update(&b, wc, gc, NULL, 0, (size_t)n);
            optim_update(&b, wb + half, gb + half, mask + half, (size_t)half, N - half);
        }
        for (int i = 0, k = 0; i < half; i++)
            wb[i] = mask[i] ? wc[k++] : 0;
        int differ = 0;
        for (int i = 0; i < N; i++)
            differ += mask[i] ? memcmp(&wa[i], &wb[i], 4) != 0 : wa[i] != 0 || wb[i] != 0;
        CHECK(!differ, "%s: %d parameters differ between the whole step and its parts",
              kind ? "sgd" : "adam", differ);
        optim_free(&a), optim_free(&b);
    }
}

/* A few real training steps on the sparse path: pruned weights stay exactly 0. */
static void check_training(void)
{
    enum { B = 60 };
    net_t n;
    optim_t o;
    if (make_net(&n, 0.1, B) ||
        optim_create(&o, OPT_ADAM, n.n_params, 1e-3f, 0.9f, 0.9f, 0.999f, 1e-8f)) {
        CHECK(0, "create: %s", ts_errmsg());
        return;
    }
    CHECK(net_set_kernels(&n, KERNELS_SPARSE) == 3, "all three layers sparse");
    float *before = malloc(n.n_params * 4);
    memcpy(before, n.params, n.n_params * 4);
    float x[B * 37];
    uint8_t y[B];
    for (int s = 0; s < 20; s++) {
        inputs(B, x, y, 100 + (uint64_t)s);
        net_forward(&n, x, B, NULL);
        net_loss(&n, y, B, NULL, 1);
        net_backward(&n, x, B);
        net_step(&n, &o);
    }
    net_sync(&n);
    int regrown = 0, moved = 0;
    for (size_t i = 0; i < n.n_params; i++) {
        regrown += !n.mask[i] && n.params[i] != 0;
        moved += n.mask[i] != 0 && n.params[i] != before[i];
    }
    size_t alive = 0;
    for (size_t i = 0; i < n.n_params; i++)
        alive += n.mask[i] != 0;
    CHECK(!regrown && moved * 3 > (int)alive, "%d pruned weights regrew; %d of %zu survivors moved",
          regrown, moved, alive);
    free(before);
    optim_free(&o);
    net_free(&n);
}

static void check_choice(void)
{
    net_t n;
    if (make_net(&n, 1.0, 4)) {
        CHECK(0, "create: %s", ts_errmsg());
        return;
    }
    CHECK(net_set_kernels(&n, KERNELS_AUTO) == 0, "a dense net runs dense under auto");
    /* the measured rule (net.c): small layers to 0.3 */
    CHECK(net_sparse_wins(&n, 1, 0.3) && !net_sparse_wins(&n, 1, 0.31) && !net_sparse_wins(&n, 1, 1),
          "auto's rule for a layer of %zu weights: sparse to 0.3", n.layers[1].n_w);
    config_t cfg; /* LeNet-300-100's shapes: its first layer to 0.65, the second to 0.55 */
    config_defaults(&cfg);
    net_t le;
    CHECK(net_layout(&le, &cfg, 1, 28, 28, 10) == 0 && le.layers[1].n_w == 30000 &&
              net_sparse_wins(&le, 0, 0.65) && !net_sparse_wins(&le, 0, 0.66) &&
              net_sparse_wins(&le, 1, 0.55) && !net_sparse_wins(&le, 1, 0.56) &&
              net_sparse_wins(&le, 2, 0.3) && !net_sparse_wins(&le, 2, 0.31),
          "auto's rule on LeNet-300-100's layers");
    CHECK(net_set_kernels(&n, KERNELS_SPARSE) == 3, "sparse is forced");
    for (int l = 0; l < n.n_layers; l++) { /* keep 1 % of the first layer */
        net_layer_t *L = &n.layers[l];
        for (size_t i = 0; l == 0 && i < L->n_w; i++)
            n.mask[L->w_off + i] = i % 100 == 0;
    }
    int k = net_set_kernels(&n, KERNELS_AUTO);
    CHECK(k >= 1 && n.layers[0].sparse, "auto: a layer at 1 %% runs sparse (%d sparse)", k);
    CHECK((uintptr_t)n.tile_a % 64 == 0 && (uintptr_t)n.tile_d % 64 == 0 &&
              (uintptr_t)n.tile_z % 64 == 0,
          "tiles start cache lines: tile_a %p, tile_d %p, tile_z %p", (void *)n.tile_a,
          (void *)n.tile_d, (void *)n.tile_z);
    CHECK(net_set_kernels(&n, KERNELS_DENSE) == 0 && !n.layers[0].sparse, "dense is forced");
    net_free(&n);
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_init();
    check_tiles();
    check_tile_alloc();
    const int shapes[][2] = {{1, 1}, {7, 5}, {33, 17}, {10, 100}, {100, 300}, {300, 784}};
    const double qs[] = {1, 0.5, 0.1, 0.01, 0};
    const int rows[] = {1, 13, 60, 64};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t q = 0; q < sizeof qs / sizeof qs[0]; q++)
            for (size_t b = 0; b < sizeof rows / sizeof rows[0]; b++)
                if (shapes[s][1] < 784 || rows[b] == 60)
                    check_products(shapes[s][0], shapes[s][1], qs[q], rows[b]);
    const int batches[] = {1, 60, 150};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
        for (double q = 1.0; q > 0.01; q /= 4)
            check_net(q, batches[b]);
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++)
        for (int d1 = 0; d1 < 2; d1++) {
            check_chain(0.1, batches[b], d1);
            check_chain(0.05, batches[b], d1);
        }
    check_fd();
    check_batch_invariance();
    check_optim();
    check_training();
    check_choice();
    return check_summary(argv[0]);
}
