/*
 * bench_threads.c - one training on T threads against one thread, for
 * `make bench` (tools/bench/bench.sh, section 10).
 *
 * The paper's Conv-2 (conv 64, 64, pool, fc 256, 256, 10) on CIFAR-10-shaped
 * input, or LeNet-300-100 on MNIST-shaped input (--arch conv2|lenet), batch
 * 60, Adam, train.chunks as the job default (auto: 12 chunks of 5 images),
 * kernels = auto; --density D keeps a random D of every layer's weights (the
 * thin rounds of a chain: sparse kernels under auto). In one process, on one
 * net, alternating T threads and 1 thread step by step (so that both see
 * the same machine), each step (forward, loss, backward, Adam) timed in wall
 * clock (threads: waiting for the slowest is part of the step); then
 * evaluations of --eval images (net_predict and the loss, batches of the
 * net's evaluation size), alternating likewise; and the same steps at one
 * thread with train.chunks = 1 (the earlier release's arithmetic: what
 * chunking costs a single thread), and an evaluation likewise. Random pixels: values do not change the
 * work.
 *
 * Prints "key value" lines, keys prefixed with the arch (and _dD for a
 * density): _step_t1_s, _step_tN_s, _step_speedup (t1 / tN, the median of
 * the per-pair ratios), _eval_t1_s, _eval_tN_s, _eval_speedup,
 * _step_chunks1_s, _eval_chunks1_s (train.chunks = 1, one thread, alone),
 * _step_t1_alone_s (the chunked net on one thread, alone: to compare with
 * _step_chunks1_s), _chunks, _threads.
 *
 * usage: bench_threads [--arch conv2|lenet] [--threads T] [--iters N]
 *                      [--eval IMAGES] [--density D]      (conv2, 2, 20, 2000, 1)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "config.h"
#include "net.h"
#include "optim.h"
#include "par.h"
#include "rng.h"

enum { B = 60, CLASSES = 10 };

typedef struct {
    net_t n;
    optim_t opt;
    float *x;   /* [B + eval][dim] */
    uint8_t *y; /* [B + eval] */
    int dim, eval;
} rig_t;

static void die(const char *what)
{
    fprintf(stderr, "bench_threads: %s\n", what);
    exit(1);
}

static void rig_make(rig_t *r, const config_t *cfg, int c, int h, int w, int eval, double density)
{
    memset(r, 0, sizeof *r);
    if (net_create(&r->n, cfg, c, h, w, CLASSES, B, 1000) ||
        optim_create(&r->opt, OPT_ADAM, r->n.n_params, 2e-4f, 0, 0.9f, 0.999f, 1e-8f))
        die("out of memory");
    r->dim = c * h * w;
    r->eval = eval;
    r->x = malloc(sizeof(float) * (size_t)(B + eval) * r->dim);
    r->y = malloc((size_t)B + eval);
    if (!r->x || !r->y)
        die("out of memory");
    rng_t g;
    rng_init(&g, 42);
    for (size_t i = 0; i < (size_t)(B + eval) * r->dim; i++)
        r->x[i] = rng_uniform(&g);
    for (int i = 0; i < B + eval; i++)
        r->y[i] = (uint8_t)rng_below(&g, CLASSES);
    net_init_params(&r->n, r->n.params, 1, RNG_INIT, 0);
    for (size_t i = 0; density < 1 && i < r->n.n_weights; i++)
        if (rng_uniform(&g) >= density)
            r->n.mask[i] = 0, r->n.params[i] = 0;
    if (net_set_kernels(&r->n, KERNELS_AUTO) < 0) /* primitives for the most threads asked */
        die("net_set_kernels failed");
}

static void rig_free(rig_t *r)
{
    net_free(&r->n);
    optim_free(&r->opt);
    free(r->x);
    free(r->y);
}

/* One training step at t threads, wall seconds. */
static double step(rig_t *r, int t)
{
    par_set_threads(t);
    double t0 = wall_now();
    net_forward(&r->n, r->x, B, NULL);
    net_loss(&r->n, r->y, B, NULL, 1);
    if (net_backward(&r->n, r->x, B))
        die("backward failed");
    net_step(&r->n, &r->opt);
    return wall_now() - t0;
}

/* An evaluation of r->eval images at t threads, wall seconds. */
static double evaluate(rig_t *r, int t)
{
    par_set_threads(t);
    double t0 = wall_now(), sum = 0;
    for (int i = 0; i < r->eval; i += r->n.max_batch) {
        int b = r->eval - i < r->n.max_batch ? r->eval - i : r->n.max_batch;
        net_predict(&r->n, r->x + (size_t)(B + i) * r->dim, b);
        sum += net_loss(&r->n, r->y + B + i, b, NULL, 0);
    }
    if (sum != sum)
        die("NaN loss");
    return wall_now() - t0;
}

int main(int argc, char **argv)
{
    const char *arch = "conv2";
    int threads = 2, iters = 20, eval = 2000;
    double density = 1;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--arch"))
            arch = argv[i + 1];
        else if (!strcmp(argv[i], "--threads"))
            threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--iters"))
            iters = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--eval"))
            eval = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--density"))
            density = atof(argv[i + 1]);
        else
            die("usage: bench_threads [--arch conv2|lenet] [--threads T] [--iters N] [--eval IMAGES] [--density D]");
    }
    if (threads < 1 || iters < 1 || eval < 1 || !(density > 0 && density <= 1))
        die("bad arguments");
    par_init();
    config_t cfg;
    config_defaults(&cfg);
    int conv = !strcmp(arch, "conv2"), c = conv ? 3 : 1, hw = conv ? 32 : 28;
    if (conv) {
        cfg.n_conv = 3, cfg.conv[0] = 64, cfg.conv[1] = 64, cfg.conv[2] = CFG_POOL;
        cfg.n_hidden = 2, cfg.hidden[0] = 256, cfg.hidden[1] = 256;
    } else if (strcmp(arch, "lenet")) {
        die("--arch: conv2 or lenet");
    }
    char key[64];
    if (density < 1)
        snprintf(key, sizeof key, "%s_d%g", arch, density);
    else
        snprintf(key, sizeof key, "%s", arch);
    rig_t r;
    par_set_threads(threads);
    rig_make(&r, &cfg, c, hw, hw, eval, density);
    double *s1 = malloc(sizeof(double) * iters), *sn = malloc(sizeof(double) * iters),
           *ratio = malloc(sizeof(double) * iters);
    step(&r, threads), step(&r, 1); /* warm-up: first touches, oneDNN's first calls */
    for (int i = 0; i < iters; i++) /* one thread alone, as the chunks = 1 net below */
        s1[i] = step(&r, 1);
    double alone = median(s1, iters);
    for (int i = 0; i < iters; i++) {
        sn[i] = step(&r, threads);
        s1[i] = step(&r, 1);
        ratio[i] = s1[i] / sn[i];
    }
    printf("%s_threads %d\n%s_chunks %d\n", key, threads, key, r.n.chunks);
    printf("%s_step_t1_s %.6g\n%s_step_tN_s %.6g\n", key, median(s1, iters), key, median(sn, iters));
    printf("%s_step_speedup %.4g\n", key, median(ratio, iters));
    int ev = iters < 5 ? iters : 5;
    evaluate(&r, threads), evaluate(&r, 1);
    for (int i = 0; i < ev; i++) {
        sn[i] = evaluate(&r, threads);
        s1[i] = evaluate(&r, 1);
        ratio[i] = s1[i] / sn[i];
    }
    printf("%s_eval_t1_s %.6g\n%s_eval_tN_s %.6g\n", key, median(s1, ev), key, median(sn, ev));
    printf("%s_eval_speedup %.4g\n", key, median(ratio, ev));
    rig_free(&r);
    /* the earlier release's arithmetic, one thread */
    cfg.chunks = 1;
    par_set_threads(1);
    rig_make(&r, &cfg, c, hw, hw, eval, density);
    step(&r, 1);
    for (int i = 0; i < iters; i++)
        s1[i] = step(&r, 1);
    printf("%s_step_chunks1_s %.6g\n%s_step_t1_alone_s %.6g\n", key, median(s1, iters), key, alone);
    evaluate(&r, 1);
    for (int i = 0; i < ev; i++)
        s1[i] = evaluate(&r, 1);
    printf("%s_eval_chunks1_s %.6g\n", key, median(s1, ev));
    rig_free(&r);
    free(s1), free(sn), free(ratio);
    return 0;
}
