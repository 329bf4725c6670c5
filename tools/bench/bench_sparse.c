/*
 * bench_sparse.c - what the sparse kernels buy: a LeNet-300-100 training step
 * and an evaluation point at the densities iterative pruning passes through,
 * dense products against products over the survivors, measured side by side
 * in one process. Run by tools/bench/bench.sh (`make bench`, section 9).
 *
 * The model, batch and data are the job-file defaults (LeNet-300-100, Adam,
 * batch 60, Fashion-MNIST). A density level is round k of the paper's
 * schedule (hidden layers keep 0.8^k of their weights, the output layer
 * 0.9^k): a random mask with exactly those counts, weights from theta0. At
 * each level, for each kernel choice (dense, sparse, auto), R repetitions of
 * N steps (forward, loss, backward, the optimizer: what trial.c's loop does,
 * through net_set_kernels) and one evaluation point (validation and test).
 * Figures are medians of CPU seconds of this thread (one OpenBLAS thread).
 *
 * Per layer, it also times the three products of one step, dense and sparse,
 * at densities 1 .. 0.005, for the rule net_sparse_wins encodes (--layers).
 *
 * With --conv2, Conv-2 steps and evaluations at rounds of its schedule.
 *
 * usage: bench_sparse [--iters N] [--reps R] [--round K | --layers | --conv2 | --trajectory N [--only dense|auto]]
 * Prints "key value" lines; exit status 0, or 1 with a message on stderr.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "blas.h"
#include "config.h"
#include "data.h"
#include "err.h"
#include "net.h"
#include "grid.h"
#include "optim.h"
#include "rng.h"
#include "sparse.h"
#include "trial.h"

static void die(const char *what)
{
    fprintf(stderr, "bench_sparse: %s: %s\n", what, ts_errmsg());
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "bench_sparse: out of memory\n");
        exit(1);
    }
    return p;
}

/* mask: each fully connected layer keeps round(keep x n_w) weights at random
 * (the output layer keep_out, convolutions keep_conv); biases 1. */
static void random_mask3(net_t *m, double keep, double keep_out, double keep_conv, uint64_t seed)
{
    rng_t r;
    rng_init(&r, rng_key(seed, 99, 0, 0));
    for (size_t i = 0; i < m->n_params; i++)
        m->mask[i] = 1.0f;
    for (int l = 0; l < m->n_layers; l++) {
        net_layer_t *L = &m->layers[l];
        if (!net_has_params(L))
            continue;
        double q = L->kind == NET_CONV ? keep_conv : l == m->n_layers - 1 ? keep_out : keep;
        size_t want = (size_t)llround(q * (double)L->n_w);
        int32_t *perm = xcalloc(L->n_w, sizeof(int32_t));
        for (size_t i = 0; i < L->n_w; i++)
            perm[i] = (int32_t)i;
        rng_shuffle(&r, perm, (int64_t)L->n_w);
        for (size_t i = want; i < L->n_w; i++)
            m->mask[L->w_off + (size_t)perm[i]] = 0.0f;
        free(perm);
    }
}

/* Percent of the weights (the block's first n_weights entries) the mask keeps. */
static double kept_pct(const net_t *m)
{
    size_t alive = 0;
    for (size_t i = 0; i < m->n_weights; i++)
        alive += m->mask[i] != 0;
    return 100.0 * (double)alive / (double)m->n_weights;
}

static void random_mask(net_t *m, double keep, double keep_out, uint64_t seed)
{
    random_mask3(m, keep, keep_out, 1.0, seed);
}

/*
 * Conv-2 on CIFAR-10 shapes (3x32x32, batch 60, random pixels: the time does
 * not depend on them) at rounds of the paper's Conv-2 schedule (convolutions
 * and the output keep 0.9^k, the fully connected layers 0.8^k): a training
 * step and an evaluation of 600 images, kernels = dense against auto. The
 * convolutions stay dense either way.
 */
static void set(config_t *cfg, const char *assignment);

static void conv2(int iters, int reps)
{
    static config_t cfg;
    config_defaults(&cfg);
    set(&cfg, "model.arch=conv2");
    set(&cfg, "train.lr=0.0002");
    if (config_validate(&cfg))
        die("configuration");
    enum { B = 60, E = 600 };
    net_t m;
    optim_t o;
    if (net_create(&m, &cfg, 3, 32, 32, 10, B, E) ||
        optim_create(&o, cfg.optimizer, m.n_params, (float)cfg.lr, (float)cfg.momentum,
                     (float)cfg.beta1, (float)cfg.beta2, (float)cfg.eps))
        die("model");
    float *theta0 = xcalloc(m.n_params, sizeof(float)), *x = xcalloc((size_t)E * 3072, sizeof(float));
    uint8_t y[E];
    rng_t r;
    rng_init(&r, 5);
    for (size_t i = 0; i < (size_t)E * 3072; i++)
        x[i] = rng_uniform(&r);
    for (int i = 0; i < E; i++)
        y[i] = (uint8_t)rng_below(&r, 10);
    net_init_params(&m, theta0, 1, RNG_INIT, 0);
    static const int rounds[] = {0, 5, 11, 14};
    printf("# Conv-2, CIFAR-10 shapes, batch 60: round k of the paper's schedule\n"
           "# round weights%% dense_step_ms auto_step_ms step_speedup dense_eval600_ms auto_eval600_ms eval_speedup\n");
    for (size_t k = 0; k < sizeof rounds / sizeof rounds[0]; k++) {
        random_mask3(&m, pow(0.8, rounds[k]), pow(0.9, rounds[k]), pow(0.9, rounds[k]), k + 1);
        double st[2], ev[2];
        for (int mode = 0; mode < 2; mode++) { /* KERNELS_AUTO = 0, KERNELS_DENSE = 1 */
            double *t = xcalloc((size_t)iters * reps, sizeof(double)), *e = xcalloc((size_t)reps, sizeof(double));
            for (size_t i = 0; i < m.n_params; i++)
                m.params[i] = theta0[i] * m.mask[i];
            if (net_set_kernels(&m, mode) < 0)
                die("kernels");
            optim_reset(&o);
            for (int rep = 0; rep < reps; rep++) {
                for (int s = 0; s < iters; s++) {
                    double t0 = cpu_now();
                    net_forward(&m, x + (size_t)(s % 10) * B * 3072, B, NULL);
                    net_loss(&m, y + (s % 10) * B, B, NULL, 1);
                    net_backward(&m, x + (size_t)(s % 10) * B * 3072, B);
                    net_step(&m, &o);
                    t[(size_t)rep * iters + s] = cpu_now() - t0;
                }
                double t0 = cpu_now(); /* in evaluation batches, as trial_evaluate */
                for (int i = 0; i < E; i += m.max_batch) {
                    int b = E - i < m.max_batch ? E - i : m.max_batch;
                    net_predict(&m, x + (size_t)i * 3072, b);
                    net_loss(&m, y + i, b, NULL, 0);
                }
                e[rep] = cpu_now() - t0;
            }
            st[mode] = median(t, iters * reps);
            ev[mode] = median(e, reps);
            free(t), free(e);
        }
        printf("conv2_round_%02d %.1f %.2f %.2f %.2f %.1f %.1f %.2f\n", rounds[k],
               kept_pct(&m), st[1] * 1e3, st[0] * 1e3, st[1] / st[0], ev[1] * 1e3,
               ev[0] * 1e3, ev[1] / ev[0]);
        fflush(stdout);
    }
    free(theta0), free(x);
    optim_free(&o);
    net_free(&m);
}

/*
 * One fully connected layer out x in, batch 60, at density q: what a training
 * step spends on its weights: the products (forward, weight gradient, input
 * gradient) and Adam's update of the weights, dense as net.c does it
 * (blas_sgemm, Adam over the whole masked block) and over the survivors
 * (the sparse kernels, transposes included, Adam over the compact
 * survivors). Medians of reps x 50 steps.
 */
static void layer_times(int out, int in, int igrad, double q, int reps, double *dense_s,
                        double *sparse_s)
{
    enum { B = 60, STEPS = 50 };
    rng_t r;
    rng_init(&r, rng_key((uint64_t)out, (uint64_t)in, (uint64_t)(q * 1e6), 3));
    size_t nw = (size_t)out * in;
    float *w = xcalloc(nw, 4), *mask = xcalloc(nw, 4), *g = xcalloc(nw, 4), *bias = xcalloc((size_t)out, 4);
    float *a = xcalloc((size_t)B * in, 4), *z = xcalloc((size_t)B * out, 4), *dz = xcalloc((size_t)B * out, 4);
    float *da = xcalloc((size_t)B * in, 4);
    float *at = sparse_tile_alloc((size_t)in * SPARSE_TILE), *dat = sparse_tile_alloc((size_t)in * SPARSE_TILE);
    float *zt = sparse_tile_alloc((size_t)out * SPARSE_TILE);
    if (!at || !dat || !zt)
        die("tiles");
    for (size_t i = 0; i < nw; i++) {
        mask[i] = rng_uniform(&r) < q;
        w[i] = mask[i] * (rng_uniform(&r) - 0.5f);
    }
    for (size_t i = 0; i < (size_t)B * in; i++)
        a[i] = rng_uniform(&r);
    for (size_t i = 0; i < (size_t)B * out; i++)
        dz[i] = rng_uniform(&r) - 0.5f;
    sparse_csr_t s = {0};
    if (sparse_build(&s, mask, w, out, in))
        die("sparse index");
    optim_t od, os; /* Adam with the job's defaults, one for each side */
    if (optim_create(&od, OPT_ADAM, nw, 1.2e-3f, 0, 0.9f, 0.999f, 1e-8f) ||
        optim_create(&os, OPT_ADAM, nw, 1.2e-3f, 0, 0.9f, 0.999f, 1e-8f))
        die("optimizer");
    double *td = xcalloc((size_t)reps * STEPS, sizeof(double)), *ts = xcalloc((size_t)reps * STEPS, sizeof(double));
    for (int k = 0; k < reps * STEPS; k++) {
        double t0 = cpu_now();
        for (int i = 0; i < B; i++)
            memcpy(z + (size_t)i * out, bias, (size_t)out * 4);
        blas_sgemm(false, true, B, out, in, 1.0f, a, in, w, in, 1.0f, z, out);
        blas_sgemm(true, false, out, in, B, 1.0f, dz, out, a, in, 0.0f, g, in);
        if (igrad)
            blas_sgemm(false, false, B, in, out, 1.0f, dz, out, w, in, 0.0f, da, in);
        optim_tick(&od);
        optim_update(&od, w, g, mask, 0, nw);
        double t1 = cpu_now();
        sparse_to_tile(a, B, in, at);
        sparse_forward(&s, bias, at, zt);
        sparse_from_tile(zt, B, out, z);
        sparse_to_tile(dz, B, out, zt);
        sparse_weight_grad(&s, zt, at, 0);
        if (igrad) {
            sparse_input_grad(&s, zt, dat);
            sparse_from_tile(dat, B, in, da);
        }
        optim_tick(&os);
        optim_update(&os, s.val, s.grad, NULL, 0, s.nnz);
        double t2 = cpu_now();
        td[k] = t1 - t0;
        ts[k] = t2 - t1;
    }
    *dense_s = median(td, reps * STEPS);
    *sparse_s = median(ts, reps * STEPS);
    sparse_free(&s);
    optim_free(&od), optim_free(&os);
    free(w), free(mask), free(g), free(bias), free(a), free(z), free(dz), free(da), free(at);
    free(dat), free(zt), free(td), free(ts);
}

static void layers(int reps)
{
    /* out, in, whether the input gradient is needed (not for the net's first layer) */
    static const int shapes[][3] = {{300, 784, 0}, {300, 784, 1}, {100, 300, 1}, {10, 100, 1},
                                    {256, 16384, 1}, {256, 256, 1}, {10, 256, 1}};
    static const double qs[] = {1, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.4, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01};
    printf("# one fully connected layer, batch 60: a training step's three products and Adam's update\n"
           "# of its weights, dense (sgemm, the whole masked block) against over the survivors\n"
           "# (transposes included, compact Adam); ratio = dense / sparse\n"
           "# layer density%% dense_us sparse_us ratio\n");
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        double cross = 0;
        for (size_t j = 0; j < sizeof qs / sizeof qs[0]; j++) {
            double d, s;
            layer_times(shapes[k][0], shapes[k][1], shapes[k][2], qs[j], reps, &d, &s);
            printf("layer_%dx%d%s %.0f %.1f %.1f %.2f\n", shapes[k][0], shapes[k][1],
                   shapes[k][2] ? "" : "_first", 100 * qs[j], d * 1e6, s * 1e6, d / s);
            if (s < d && !cross) /* the highest density from which sparse wins */
                cross = qs[j];
            if (s >= d)
                cross = 0;
        }
        printf("crossover_%dx%d%s %.2f\n", shapes[k][0], shapes[k][1], shapes[k][2] ? "" : "_first",
               cross);
        fflush(stdout);
    }
}

/* R x N training steps with `mode` kernels from theta0 * mask; median step
 * seconds; *eval_s: median seconds of one evaluation point. */
static double steps(net_t *m, optim_t *o, const data_t *d, const float *theta0, int mode,
                    int iters, int reps, double *eval_s)
{
    int B = 60;
    float *x = xcalloc((size_t)m->max_batch * d->train.dim, sizeof(float));
    double *t = xcalloc((size_t)iters * reps, sizeof(double)), *ev = xcalloc((size_t)reps, sizeof(double));
    for (size_t i = 0; i < m->n_params; i++)
        m->params[i] = theta0[i] * m->mask[i];
    if (net_set_kernels(m, mode) < 0)
        die("kernels");
    optim_reset(o);
    int64_t pos = 0;
    for (int r = 0; r < reps; r++) {
        for (int s = 0; s < iters; s++) {
            if (pos + B > d->train.n)
                pos = 0;
            data_inputs(d, &d->train, NULL, pos, B, x);
            const uint8_t *y = d->train.y + pos;
            pos += B;
            double t0 = cpu_now();
            net_forward(m, x, B, NULL);
            net_loss(m, y, B, NULL, 1);
            net_backward(m, x, B);
            net_step(m, o);
            t[(size_t)r * iters + s] = cpu_now() - t0;
        }
        double t0 = cpu_now(); /* one evaluation point: validation and test */
        const dataset_t *sets[2] = {&d->val, &d->test};
        for (int k = 0; k < 2; k++)
            for (int64_t i = 0; i < sets[k]->n; i += m->max_batch) {
                int b = (int)(sets[k]->n - i < m->max_batch ? sets[k]->n - i : m->max_batch);
                data_inputs(d, sets[k], NULL, i, b, x);
                net_predict(m, x, b);
                net_loss(m, sets[k]->y + i, b, NULL, 0);
            }
        ev[r] = cpu_now() - t0;
    }
    double step = median(t, iters * reps);
    *eval_s = median(ev, reps);
    free(x), free(t), free(ev);
    return step;
}

static void set(config_t *cfg, const char *assignment)
{
    if (config_set(cfg, assignment))
        die("configuration");
}

/*
 * The paper's LeNet trajectory through the real trainer (trial_run: round 0
 * dense, then 20 rounds at 20 %, the output layer at 10 %, no controls),
 * `iters` steps a training with an evaluation point every iters / 10 (the
 * paper job's ratio: one every 100 of 1,000), once with every product dense
 * and once with kernels = auto. CPU seconds of each; the dense trajectory's
 * per-training mean is the "dense training" the ratio counts in.
 */
static void trajectory(const data_t *d, int iters, int only)
{
    static config_t cfg;
    char buf[64];
    config_defaults(&cfg);
    snprintf(buf, sizeof buf, "train.iterations=%d", iters);
    set(&cfg, buf);
    snprintf(buf, sizeof buf, "train.eval_every=%d", iters / 10);
    set(&cfg, buf);
    set(&cfg, "sweep.per_round=0.2");
    set(&cfg, "sweep.rounds=20");
    set(&cfg, "sweep.seeds=1");
    set(&cfg, "prune.controls=none");
    double t[2] = {0, 0}, ev[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        if (only >= 0 && k != only)
            continue;
        set(&cfg, k ? "train.kernels=auto" : "train.kernels=dense");
        if (config_validate(&cfg))
            die("configuration");
        trial_ctx_t ctx;
        trial_result_t res;
        trial_t tr = grid_trial(&cfg, 0);
        if (trial_ctx_create(&ctx, &cfg, d) || trial_result_create(&res, &cfg, &ctx.net))
            die("trial");
        double t0 = cpu_now();
        if (trial_run(&ctx, &tr, &res))
            die("training");
        t[k] = cpu_now() - t0;
        ev[k] = ctx.t_eval / ctx.t_train; /* wall clock, the trainer's own clocks */
        trial_result_free(&res);
        trial_ctx_free(&ctx);
    }
    printf("# the 20-round trajectory, %d steps a training, evaluation every %d\n", iters, iters / 10);
    if (only < 0 || only == 0)
        printf("trajectory_dense_s %.2f\ntrajectory_dense_eval_share %.3f\n", t[0], ev[0]);
    if (only < 0 || only == 1)
        printf("trajectory_auto_s %.2f\ntrajectory_auto_eval_share %.3f\n", t[1], ev[1]);
    if (only < 0)
        printf("trajectory_dense_trainings %.2f\n", t[1] / (t[0] / 21));
}

int main(int argc, char **argv)
{
    int iters = 200, reps = 3, only = -1, traj = 0, traj_only = -1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--round") && i + 1 < argc)
            only = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--trajectory") && i + 1 < argc)
            traj = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) /* one side of --trajectory */
            traj_only = !strcmp(argv[++i], "auto");
        else if (!strcmp(argv[i], "--conv2"))
            only = -3;
        else if (!strcmp(argv[i], "--layers"))
            only = -2;
        else if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_sparse [--iters N] [--reps R] [--round K | --layers | --conv2 | --trajectory N [--only dense|auto]]\n");
            return 1;
        }
    }
    blas_init();
    static config_t cfg;
    config_defaults(&cfg);
    if (config_validate(&cfg))
        die("configuration");
    if (only == -2) {
        layers(reps);
        return 0;
    }
    if (only == -3) {
        conv2(iters, reps);
        return 0;
    }
    data_t data;
    if (data_load(&data, &cfg))
        die("data");
    if (traj) {
        trajectory(&data, traj, traj_only);
        return 0;
    }
    net_t m;
    optim_t o;
    if (net_create(&m, &cfg, data.channels, data.rows, data.cols, DATA_CLASSES, cfg.batch, 1000) ||
        optim_create(&o, cfg.optimizer, m.n_params, (float)cfg.lr, (float)cfg.momentum,
                     (float)cfg.beta1, (float)cfg.beta2, (float)cfg.eps))
        die("model");
    float *theta0 = xcalloc(m.n_params, sizeof(float));
    net_init_params(&m, theta0, 1, RNG_INIT, 0);

    /* rounds of the schedule (hidden layers keep 0.8^k, the output 0.9^k);
     * 13.43 is where the hidden layers keep 5 % */
    double rounds[] = {0, 3, 7, 12, 13.43, 15, 20};
    if (only >= 0) /* one round of the schedule, any */
        rounds[0] = only;
    printf("# LeNet-300-100 step and evaluation point at round k of the 20 %% schedule\n");
    printf("# round weights%% dense_step_ms sparse_step_ms auto_step_ms step_speedup(auto) "
           "dense_eval_ms sparse_eval_ms auto_eval_ms eval_speedup(auto)\n");
    for (size_t k = 0; k < sizeof rounds / sizeof rounds[0]; k++) {
        if (only >= 0 && k > 0)
            break;
        double keep = pow(0.8, rounds[k]), keep_out = pow(0.9, rounds[k]);
        random_mask(&m, keep, keep_out, (uint64_t)k + 1);
        double st[3], ev[3];
        for (int mode = 0; mode < 3; mode++)
            st[mode] = steps(&m, &o, &data, theta0, mode, iters, reps, &ev[mode]);
        printf("round_%05.2f %.1f %.4f %.4f %.4f %.2f %.2f %.2f %.2f %.2f\n", rounds[k],
               kept_pct(&m), st[1] * 1e3, st[2] * 1e3, st[0] * 1e3,
               st[1] / st[0], ev[1] * 1e3, ev[2] * 1e3, ev[0] * 1e3, ev[1] / ev[0]);
        fflush(stdout);
    }
    return 0;
}
