/*
 * test_threads.c - a training step's bits do not depend on the threads.
 *
 * For each model (an MLP, a small convolutional net) and each kernel choice
 * (dense: sgemm and im2col; sparse: the survivors' kernels; auto: oneDNN's
 * convolutions where the build has them) and each train.chunks (1: the
 * earlier release's arithmetic; 3: the chunked stage and blocked products),
 * a few steps of forward, loss, backward and Adam from the same start are
 * taken at 1 thread and again at 2, 3 and 7 (more than this machine's
 * cores): the logits, the gradients, the parameters and an evaluation of
 * a batch larger than the training batch must be the same bytes. Then the
 * chunked gradient is checked against one chunk's (the chunks' sums are
 * really the batch's gradient).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "dnn.h"
#include "net.h"
#include "optim.h"
#include "par.h"
#include "rng.h"

enum { B = 12, E = 150, CLASSES = 5, STEPS = 3 }; /* E: several sparse tiles */

typedef struct {
    float *params, *grads, *logits, *eval;
} snap_t;

/* STEPS steps on a fresh net of cfg at `threads` threads; what they left. */
static int run(const config_t *cfg, int ch, int h, int w, int mode, int threads, snap_t *o)
{
    net_t n;
    optim_t opt;
    par_set_threads(threads);
    if (net_create(&n, cfg, ch, h, w, CLASSES, B, E))
        return -1;
    if (optim_create(&opt, OPT_ADAM, n.n_params, 1e-3f, 0, 0.9f, 0.999f, 1e-8f)) {
        net_free(&n);
        return -1;
    }
    net_init_params(&n, n.params, 11, RNG_INIT, 0);
    rng_t r;
    rng_init(&r, rng_key(3, 1, 4, 1));
    /* prune half the weights, so that sparse kernels have survivors to index */
    for (size_t i = 0; i < n.n_weights; i++)
        if (rng_uniform(&r) < 0.5f)
            n.mask[i] = 0, n.params[i] = 0;
    size_t dim = (size_t)ch * h * w;
    float *x = malloc(sizeof(float) * E * dim);
    uint8_t y[E];
    for (size_t i = 0; i < E * dim; i++)
        x[i] = rng_uniform(&r) - 0.4f;
    for (int i = 0; i < E; i++)
        y[i] = (uint8_t)rng_below(&r, CLASSES);
    int rc = net_set_kernels(&n, mode) < 0;
    for (int s = 0; !rc && s < STEPS; s++) {
        net_forward(&n, x + (size_t)s * dim, B, NULL);
        net_loss(&n, y + s, B, NULL, 1);
        rc = net_backward(&n, x + (size_t)s * dim, B);
        net_sync(&n);
        memcpy(o->grads, n.grads, n.n_params * sizeof(float)); /* the last step's */
        net_step(&n, &opt);
    }
    net_sync(&n);
    memcpy(o->params, n.params, n.n_params * sizeof(float));
    memcpy(o->logits, net_forward(&n, x, B, NULL), (size_t)B * CLASSES * sizeof(float));
    memcpy(o->eval, net_predict(&n, x, E), (size_t)E * CLASSES * sizeof(float));
    free(x);
    optim_free(&opt);
    net_free(&n);
    par_set_threads(1);
    return rc;
}

static void snap_alloc(snap_t *s, size_t np)
{
    s->params = calloc(np, sizeof(float));
    s->grads = calloc(np, sizeof(float));
    s->logits = calloc((size_t)B * CLASSES, sizeof(float));
    s->eval = calloc((size_t)E * CLASSES, sizeof(float));
}

static void snap_free(snap_t *s)
{
    free(s->params), free(s->grads), free(s->logits), free(s->eval);
}

static void check_model(const char *what, config_t *cfg, int ch, int h, int w)
{
    static const int modes[] = {KERNELS_DENSE, KERNELS_SPARSE, KERNELS_AUTO};
    static const char *const mode_names[] = {"dense", "sparse", "auto"};
    static const int chunks[] = {1, 3};
    static const int threads[] = {2, 3, 7};
    net_t layout;
    if (net_layout(&layout, cfg, ch, h, w, CLASSES))
        return;
    size_t np = layout.n_params;
    for (int c = 0; c < 2; c++)
        for (int m = 0; m < 3; m++) {
            cfg->chunks = chunks[c];
            snap_t one, many;
            snap_alloc(&one, np);
            snap_alloc(&many, np);
            int rc = run(cfg, ch, h, w, modes[m], 1, &one);
            CHECK(rc == 0, "%s %s chunks %d: 1 thread: %d", what, mode_names[m], chunks[c], rc);
            for (int t = 0; !rc && t < 3; t++) {
                CHECK(run(cfg, ch, h, w, modes[m], threads[t], &many) == 0, "%s: %d threads", what,
                      threads[t]);
                CHECK(!memcmp(one.params, many.params, np * sizeof(float)) &&
                          !memcmp(one.grads, many.grads, np * sizeof(float)),
                      "%s %s chunks %d: parameters or gradients at %d threads differ from 1 thread's",
                      what, mode_names[m], chunks[c], threads[t]);
                CHECK(!memcmp(one.logits, many.logits, (size_t)B * CLASSES * sizeof(float)) &&
                          !memcmp(one.eval, many.eval, (size_t)E * CLASSES * sizeof(float)),
                      "%s %s chunks %d: logits at %d threads differ from 1 thread's", what,
                      mode_names[m], chunks[c], threads[t]);
            }
            snap_free(&one);
            snap_free(&many);
        }
}

/* The gradient of a batch of B images of a net of cfg with `chunks`
 * chunks, at 3 threads, under kernels `mode`, into g. */
static int batch_grad(config_t *cfg, int chunks, int mode, float *g)
{
    net_t n;
    cfg->chunks = chunks;
    par_set_threads(3);
    int rc = net_create(&n, cfg, 2, 6, 6, CLASSES, B, B);
    if (rc)
        return rc;
    net_init_params(&n, n.params, 5, RNG_INIT, 0);
    rng_t r;
    rng_init(&r, 77);
    float x[B * 2 * 6 * 6];
    uint8_t y[B];
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
        x[i] = rng_uniform(&r) - 0.4f;
    for (int i = 0; i < B; i++)
        y[i] = (uint8_t)rng_below(&r, CLASSES);
    if (net_set_kernels(&n, mode) >= 0) {
        net_forward(&n, x, B, NULL);
        net_loss(&n, y, B, NULL, 1);
        rc = net_backward(&n, x, B);
        net_sync(&n);
        memcpy(g, n.grads, n.n_params * sizeof(float));
    }
    CHECK(chunks == 1 || (n.chunks == chunks && n.chunk_rows == B / chunks && n.stage == 3),
          "chunks %d of %d rows, stage %d", n.chunks, n.chunk_rows, n.stage);
    net_free(&n);
    par_set_threads(1);
    return rc;
}

/* The chunked stage's gradient (3 chunks of 4 images, each chunk's sums
 * added in order) is the whole batch's (one chunk, whose gradients
 * test_grad checks against finite differences), to float rounding, under
 * every kernel choice. */
static void check_chunked_gradient(config_t *cfg)
{
    static const int modes[] = {KERNELS_DENSE, KERNELS_SPARSE, KERNELS_AUTO};
    net_t layout;
    if (net_layout(&layout, cfg, 2, 6, 6, CLASSES))
        return;
    float *one = calloc(layout.n_params, sizeof(float)), *three = calloc(layout.n_params, sizeof(float));
    for (int m = 0; m < 3; m++) {
        CHECK(batch_grad(cfg, 1, modes[m], one) == 0 && batch_grad(cfg, 3, modes[m], three) == 0,
              "gradients, mode %d", modes[m]);
        double worst = 0, top = 0;
        for (size_t i = 0; i < layout.n_params; i++) {
            worst = fmax(worst, fabs((double)one[i] - three[i]));
            top = fmax(top, fabs(one[i]));
        }
        CHECK(top > 1e-3 && worst <= 1e-5 * top,
              "mode %d: 3 chunks' gradient off one chunk's by %g (largest entry %g)", modes[m], worst, top);
    }
    free(one);
    free(three);
}

int main(int argc, char **argv)
{
    par_init();
    par_set_min_work(0); /* small nets split as wide ones do */
    config_t cfg;
    config_defaults(&cfg);
    cfg.n_conv = 0;
    cfg.n_hidden = 2, cfg.hidden[0] = 200, cfg.hidden[1] = 70; /* wide enough for several blocks */
    check_model("mlp", &cfg, 1, 8, 10);
    config_defaults(&cfg);
    cfg.n_conv = 3, cfg.conv[0] = 16, cfg.conv[1] = 16, cfg.conv[2] = CFG_POOL;
    cfg.n_hidden = 1, cfg.hidden[0] = 40;
    check_model("conv", &cfg, 3, 8, 8);
    config_defaults(&cfg);
    cfg.n_conv = 3, cfg.conv[0] = 8, cfg.conv[1] = 16, cfg.conv[2] = CFG_POOL;
    cfg.n_hidden = 1, cfg.hidden[0] = 12;
    check_chunked_gradient(&cfg);
    /* train.chunks: auto takes the largest divisor up to 12; explicit values must divide */
    CHECK(config_chunks(60, 0) == 12 && config_chunks(64, 0) == 8 && config_chunks(7, 0) == 7 &&
              config_chunks(13, 0) == 1 && config_chunks(60, 4) == 4 && config_chunks(60, 1) == 1,
          "config_chunks");
    config_defaults(&cfg);
    cfg.chunks = 7;
    CHECK(config_validate(&cfg) != 0, "train.chunks 7 with batch 60 accepted");
    cfg.chunks = 5;
    CHECK(config_validate(&cfg) == 0, "train.chunks 5 with batch 60 refused");
    return check_summary(argv[0]);
}
