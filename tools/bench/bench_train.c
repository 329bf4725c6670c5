/*
 * bench_train.c - how fast ticketsweep trains, against what cblas_sgemm alone
 * reaches on the same shapes. Run by tools/bench/bench.sh (`make bench`), which
 * also runs the PyTorch reference and the MPI scaling sweep.
 *
 * One process, one OpenBLAS thread, the job-file defaults (LeNet-300-100,
 * Adam, batch 60, Fashion-MNIST with 5000 images held out). Each of R
 * repetitions measures, back to back:
 *   train  trial_run of one trial (rate 0, 1 round, no controls): two dense
 *          trainings of N steps through the real loop (gather, forward, loss,
 *          backward, Adam fused with masking). The trainer's poll hook, called
 *          once per step, stamps the time: a step is the interval between two
 *          stamps, which leaves out evaluations and set-up;
 *   gemm   the eight cblas_sgemm calls of one training step (forward, weight
 *          gradients, input gradients) on the same shapes, 2N times: the roofline;
 *   parts  net_forward, net_loss, net_backward and optim_step, each timed on
 *          its own over 2N steps of contiguous batches;
 *   eval   trial_evaluate on the validation and test splits: one evaluation
 *          point of a training run.
 * Times are CPU seconds of this thread (see cpu_now) and every per-step
 * figure is a median over steps, printed as "key value" lines, seconds per
 * step unless the key says otherwise. train_wall_samples_per_s is the plain
 * wall-clock rate of the trainings, for comparison.
 *
 * usage: bench_train [--iters N] [--reps R]   the above
 *        ... --only train    only the training steps (bench.sh runs two at once
 *                            against one: what a second rank costs a rank)
 *        ... --only gemm     only the gemm loop, as wall-clock throughput
 *                            (two at once against one: the machine's ceiling)
 * Exit status 0, or 1 with a message on stderr.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "blas.h"
#include "config.h"
#include "data.h"
#include "err.h"
#include "grid.h"
#include "net.h"
#include "optim.h"
#include "trial.h"

static void die(const char *what)
{
    fprintf(stderr, "bench_train: %s: %s\n", what, ts_errmsg());
    exit(1);
}

/* GEMM floating-point operations of one training step of batch b:
 * forward and weight gradients of every layer, input gradients of all but
 * the first (nobody needs dLoss/dx). */
static double step_flops(const net_t *m, int b)
{
    double f = 0;
    for (int l = 0; l < m->n_layers; l++) {
        double mac = (double)b * m->layers[l].in * m->layers[l].out;
        f += (l ? 6.0 : 4.0) * mac;
    }
    return f;
}

/*
 * The GEMMs of `steps` training steps, straight to cblas_sgemm, on m's own
 * buffers (x [b][in] is the input batch): Z = A W^T, dW = dZ^T A, dA = dZ W.
 * Seconds of each step's forward and backward products go to fwd[s], bwd[s].
 */
static void gemm_steps(net_t *m, const float *x, int b, int steps, double *fwd, double *bwd)
{
    float *scratch = m->grads; /* weight gradients land here, as in training */
    for (int s = 0; s < steps; s++) {
        double t0 = cpu_now();
        const float *a = x;
        for (int l = 0; l < m->n_layers; l++) {
            const net_layer_t *L = &m->layers[l];
            float *z = m->acts + m->layers[l].act_off;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, L->out, L->in, 1.0f, a,
                        L->in, m->params + L->w_off, L->in, 0.0f, z, L->out);
            a = z;
        }
        double t1 = cpu_now();
        for (int l = m->n_layers - 1; l >= 0; l--) {
            const net_layer_t *L = &m->layers[l];
            const float *dz = m->deltas + m->layers[l].act_off;
            const float *al = l ? m->acts + m->layers[l - 1].act_off : x;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L->out, L->in, b, 1.0f, dz,
                        L->out, al, L->in, 0.0f, scratch + L->w_off, L->in);
            if (l)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, L->in, L->out, 1.0f, dz,
                            L->out, m->params + L->w_off, L->in, 0.0f,
                            m->deltas + m->layers[l - 1].act_off, L->in);
        }
        fwd[s] = t1 - t0;
        bwd[s] = cpu_now() - t1;
    }
}

/* `steps` steps through the model's and optimizer's own functions, each
 * timed on its own (p[0..3][s]: forward, loss, backward, optimizer), on
 * contiguous batches from the training split copied to x [b][dim] first
 * (untimed: in training the gathered batch is as fresh in the cache). */
static void part_steps(net_t *m, optim_t *o, const data_t *d, float *x, int b, int steps,
                       double *p[4])
{
    const dataset_t *tr = &d->train;
    int64_t pos = 0;
    for (int s = 0; s < steps; s++) {
        if (pos + b > tr->n)
            pos = 0;
        data_inputs(d, tr, NULL, pos, b, x);
        const uint8_t *y = tr->y + pos;
        pos += b;
        double t0 = cpu_now();
        net_forward(m, x, b, NULL);
        double t1 = cpu_now();
        net_loss(m, y, b, NULL, 1);
        double t2 = cpu_now();
        net_backward(m, x, b);
        double t3 = cpu_now();
        optim_step(o, m->params, m->grads, m->mask);
        double t4 = cpu_now();
        p[0][s] = t1 - t0;
        p[1][s] = t2 - t1;
        p[2][s] = t3 - t2;
        p[3][s] = t4 - t3;
    }
}

/* The training loop calls its poll hook once per step: record the time. */
typedef struct {
    const trial_ctx_t *ctx;
    double *t;
    int n, cap;
} stamps_t;

/* Evaluations poll between their batches too: those polls are not steps. */
static int stamp(void *arg)
{
    stamps_t *st = arg;
    if (!st->ctx->evaluating && st->n < st->cap)
        st->t[st->n++] = cpu_now();
    return 0;
}

/*
 * One trial_run (two trainings of `iters` steps): appends its step times to
 * out (which has room for 2 * iters) and returns how many; *wall gets the
 * wall-clock seconds per step of the trainings (without evaluations).
 * A step is the time between two polls of the same training: the
 * evaluations fall before a training's first poll and after its last.
 */
static int train_steps(trial_ctx_t *ctx, const trial_t *t, trial_result_t *res, int iters,
                       double *stamps, double *out, double *wall)
{
    stamps_t st = {ctx, stamps, 0, 2 * iters};
    ctx->poll = stamp;
    ctx->poll_arg = &st;
    ctx->t_train = ctx->t_eval = 0;
    if (trial_run(ctx, t, res))
        die("training");
    ctx->poll = NULL; /* st goes out of scope */
    int n = 0;
    for (int i = 1; i < st.n; i++)
        if (i != iters)
            out[n++] = stamps[i] - stamps[i - 1];
    *wall = (ctx->t_train - ctx->t_eval) / (2.0 * iters);
    return n;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        fprintf(stderr, "bench_train: out of memory\n");
        exit(1);
    }
    return p;
}

static void set(config_t *cfg, const char *assignment)
{
    if (config_set(cfg, assignment))
        die("configuration");
}

static void usage(void)
{
    fprintf(stderr, "usage: bench_train [--iters N] [--reps R] [--only train|gemm] | --blas\n");
    exit(1);
}

/* --blas: the kernels OpenBLAS runs here, as "key value" lines for bench.sh:
 * its core, the CPU's instruction sets and, when the core is the generic one
 * on a CPU with AVX2 or AVX-512, the advice (blas_core_advice). */
static int print_blas(void)
{
    char advice[1024];
    blas_isa_t isa = blas_cpu_isa();
    printf("blas_core %s\n", blas_core());
    printf("blas_cpu_isa %s\n", blas_isa_name(isa));
    if (blas_core_advice(blas_core(), isa, getenv("OPENBLAS_CORETYPE"), advice, sizeof advice))
        printf("blas_advice %s\n", advice);
    return 0;
}

int main(int argc, char **argv)
{
    int iters = 500, reps = 3;
    const char *only = "";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--blas"))
            return print_blas();
        else
            usage();
    }
    if (iters < 2 || reps < 1 || (*only && strcmp(only, "train") && strcmp(only, "gemm")))
        usage();
    blas_init();

    static config_t cfg;
    char buf[64];
    config_defaults(&cfg);
    snprintf(buf, sizeof buf, "train.iterations=%d", iters);
    set(&cfg, buf);
    snprintf(buf, sizeof buf, "train.eval_every=%d", iters);
    set(&cfg, buf);
    set(&cfg, "sweep.rates=0"); /* both trainings dense, like the reference */
    set(&cfg, "sweep.rounds=1");
    set(&cfg, "sweep.seeds=1");
    set(&cfg, "prune.controls=none");
    if (config_validate(&cfg))
        die("configuration");

    data_t data;
    if (data_load(&data, &cfg))
        die("data");
    int B = cfg.batch, steps = 2 * iters, n = reps * steps;

    /* A model and optimizer of our own for the gemm and parts loops. */
    net_t m;
    optim_t o;
    if (net_create(&m, &cfg, data.channels, data.rows, data.cols, DATA_CLASSES, B, B) ||
        optim_create(&o, cfg.optimizer, m.n_params, (float)cfg.lr, (float)cfg.momentum,
                     (float)cfg.beta1, (float)cfg.beta2, (float)cfg.eps))
        die("model");
    net_init_params(&m, m.params, 1, RNG_INIT, 0);
    double flops = step_flops(&m, B);
    float *xb = xcalloc((size_t)B * data.train.dim, sizeof(float)); /* a batch */
    data_inputs(&data, &data.train, NULL, 0, B, xb);
    double *gf = xcalloc((size_t)n, sizeof(double)), *gb = xcalloc((size_t)n, sizeof(double));

    if (!strcmp(only, "gemm")) { /* throughput of the whole loop: here waiting counts */
        double t0 = wall_now();
        gemm_steps(&m, xb, B, steps, gf, gb);
        printf("gemm_wall_gflops %.3f\n", flops * steps / (wall_now() - t0) * 1e-9);
        return 0;
    }

    trial_ctx_t ctx;
    trial_result_t res;
    trial_t t = grid_trial(&cfg, 0);
    if (trial_ctx_create(&ctx, &cfg, &data) || trial_result_create(&res, &cfg, &ctx.net))
        die("trial");
    double *stamps = xcalloc((size_t)steps, sizeof(double));
    double *train = xcalloc((size_t)n, sizeof(double)), *gemm = xcalloc((size_t)n, sizeof(double));
    double *eval = xcalloc((size_t)reps, sizeof(double)), *wall = xcalloc((size_t)reps, sizeof(double));
    double *part[4];
    for (int k = 0; k < 4; k++)
        part[k] = xcalloc((size_t)n, sizeof(double));

    if (!strcmp(only, "train")) {
        int nt = 0;
        for (int r = 0; r < reps; r++)
            nt += train_steps(&ctx, &t, &res, iters, stamps, train + nt, wall + r);
        double step = median(train, nt);
        printf("step_s %.9f\n", step);
        printf("train_samples_per_s %.1f\n", B / step);
        printf("train_wall_samples_per_s %.1f\n", B / median(wall, reps));
        return 0;
    }

    { /* warm-up: page the data in, settle the clocks (the buffers hold n steps) */
        double *p[4] = {part[0], part[1], part[2], part[3]};
        int warm = n < 50 ? n : 50;
        part_steps(&m, &o, &data, xb, B, warm, p);
        gemm_steps(&m, xb, B, warm, gf, gb);
    }
    int nt = 0; /* training steps recorded */
    for (int r = 0; r < reps; r++) {
        nt += train_steps(&ctx, &t, &res, iters, stamps, train + nt, wall + r);
        double vl, va, tl, ta, t0 = cpu_now(); /* one evaluation point */
        trial_evaluate(&ctx, &data.val, &vl, &va);
        trial_evaluate(&ctx, &data.test, &tl, &ta);
        eval[r] = cpu_now() - t0;

        size_t off = (size_t)r * steps;
        gemm_steps(&m, xb, B, steps, gf + off, gb + off);
        for (int i = 0; i < steps; i++)
            gemm[off + i] = gf[off + i] + gb[off + i];
        double *p[4] = {part[0] + off, part[1] + off, part[2] + off, part[3] + off};
        part_steps(&m, &o, &data, xb, B, steps, p);
        fprintf(stderr, "bench_train: rep %d: training %.1f s (wall, without evaluation)\n",
                r + 1, wall[r] * steps);
    }
    /* Medians of per-step CPU times: robust to the odd step that a page
     * fault, an epoch's shuffle or a neighbour's burst made slow. */
    double step = median(train, nt), g = median(gemm, n);
    double fwd = median(part[0], n), loss = median(part[1], n);
    double bwd = median(part[2], n), opt = median(part[3], n);
    printf("blas %s\n", blas_version());
    printf("blas_core %s\n", blas_core());
    printf("batch %d\n", B);
    printf("steps %d\n", nt);
    printf("flop_per_step %.0f\n", flops);
    printf("train_samples_per_s %.1f\n", B / step);
    printf("train_wall_samples_per_s %.1f\n", B / median(wall, reps));
    printf("step_s %.9f\n", step);
    printf("step_gflops %.3f\n", flops / step * 1e-9);
    printf("gemm_fwd_s %.9f\n", median(gf, n));
    printf("gemm_bwd_s %.9f\n", median(gb, n));
    printf("gemm_s %.9f\n", g);
    printf("gemm_gflops %.3f\n", flops / g * 1e-9);
    printf("roofline %.4f\n", g / step);
    printf("forward_s %.9f\n", fwd);
    printf("loss_s %.9f\n", loss);
    printf("backward_s %.9f\n", bwd);
    printf("optim_s %.9f\n", opt);
    printf("rest_s %.9f\n", step - (fwd + loss + bwd + opt));
    printf("eval_point_s %.9f\n", median(eval, reps));
    printf("eval_images %lld\n", (long long)(data.val.n + data.test.n));

    for (int k = 0; k < 4; k++)
        free(part[k]);
    free(stamps);
    free(train);
    free(gemm);
    free(eval);
    free(wall);
    trial_result_free(&res);
    trial_ctx_free(&ctx);
    free(xb);
    free(gf);
    free(gb);
    optim_free(&o);
    net_free(&m);
    data_free(&data);
    return 0;
}
