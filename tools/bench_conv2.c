/*
 * bench_conv2.c - Conv-2 training speed for `make bench` (tools/bench.sh).
 *
 * The paper's Conv-2 (conv 64, 64, pool, fc 256, 256, 10) on CIFAR-10-shaped
 * input (3x32x32; random pixels, since CIFAR-10 cannot be downloaded here and
 * values do not change the work), batch 60, Adam, one OpenBLAS thread:
 *   train  N steps of net_forward, net_loss, net_backward and optim_step on
 *          the real model (the trainer's loop less batch gathering), each
 *          step timed in CPU seconds of this thread; samples/s = batch over
 *          the median step;
 *   gemm   the same steps' matrix products alone, straight to cblas_sgemm on
 *          the same shapes and the same per-image call pattern (convolution
 *          forward, weight and input gradients; fully connected ditto): the
 *          roofline the step is measured against.
 * Prints "key value" lines: conv2_samples_per_s, conv2_step_s, conv2_gemm_s,
 * conv2_gflops (of the step), conv2_sgemm_share (gemm seconds / step seconds).
 *
 * usage: bench_conv2 [--iters N]    (default 20)
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "blas.h"
#include "config.h"
#include "err.h"
#include "net.h"
#include "optim.h"
#include "rng.h"

/* One step's matrix products through cblas_sgemm, on scratch buffers big
 * enough for every shape (contents do not matter for the time). */
static void gemm_step(const net_t *n, int b, float *A, float *B, float *C)
{
    for (int l = 0; l < n->n_layers; l++) {
        const net_layer_t *L = &n->layers[l];
        if (L->kind == NET_CONV) {
            int m = L->out_c, k = L->in_c * 9, hw = L->in_h * L->in_w;
            for (int i = 0; i < b; i++) {
                /* forward y = W col; dW += dy col^T; dcol = W^T dy (not for layer 0) */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, hw, k, 1, A, k, B, hw, 1, C, hw);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, k, hw, 1, C, hw, B, hw, 1, A, k);
                if (l)
                    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, hw, m, 1, A, k, C, hw, 0, B, hw);
            }
        } else if (L->kind == NET_FC) {
            int in = (int)L->in, out = (int)L->out;
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, out, in, 1, A, in, B, in, 1, C, out);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, b, 1, C, out, A, in, 0, B, in);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, in, out, 1, C, out, B, in, 0, A, in);
        }
    }
}

/* Floating-point operations of those products. */
static double step_flops(const net_t *n, int b)
{
    double f = 0;
    for (int l = 0; l < n->n_layers; l++) {
        const net_layer_t *L = &n->layers[l];
        double mac = L->kind == NET_CONV ? (double)b * L->out_c * L->in_c * 9 * L->in_h * L->in_w
                   : L->kind == NET_FC   ? (double)b * L->in * L->out
                                         : 0;
        f += (L->kind == NET_CONV && l == 0 ? 4.0 : 6.0) * mac;
    }
    return f;
}

int main(int argc, char **argv)
{
    int iters = argc > 2 && !strcmp(argv[1], "--iters") ? atoi(argv[2]) : 20;
    if (iters < 3) {
        fprintf(stderr, "usage: bench_conv2 [--iters N>=3]\n");
        return 1;
    }
    blas_init();
    config_t cfg;
    config_defaults(&cfg);
    if (config_set(&cfg, "model.arch=conv2") || config_set(&cfg, "train.lr=0.0002")) {
        fprintf(stderr, "bench_conv2: %s\n", ts_errmsg());
        return 1;
    }
    const int B = cfg.batch, dim = 3 * 32 * 32;
    net_t n;
    optim_t o;
    if (net_create(&n, &cfg, 3, 32, 32, 10, B, B) ||
        optim_create(&o, OPT_ADAM, n.n_params, (float)cfg.lr, 0, 0.9f, 0.999f, 1e-8f)) {
        fprintf(stderr, "bench_conv2: %s\n", ts_errmsg());
        return 1;
    }
    net_init_params(&n, n.params, 1, RNG_INIT, 0);
    float *x = malloc(sizeof(float) * B * dim);
    uint8_t *y = malloc((size_t)B);
    rng_t r;
    rng_init(&r, 42);
    for (int i = 0; i < B * dim; i++)
        x[i] = rng_uniform(&r);
    for (int i = 0; i < B; i++)
        y[i] = (uint8_t)rng_below(&r, 10);

    double *ts = malloc(sizeof(double) * iters), *tg = malloc(sizeof(double) * iters);
    for (int s = 0; s < iters; s++) {
        double t0 = cpu_now();
        net_forward(&n, x, B, NULL);
        net_loss(&n, y, B, NULL, 1);
        net_backward(&n, x, B);
        optim_step(&o, n.params, n.grads, n.mask);
        ts[s] = cpu_now() - t0;
    }
    size_t big = 64 * 9 * 1024 > 16384 * 256 ? 64 * 9 * 1024 : 16384 * 256;
    float *A = calloc(big, sizeof(float)), *Bm = calloc(big, sizeof(float)), *C = calloc(big, sizeof(float));
    for (int s = 0; s < iters; s++) {
        double t0 = cpu_now();
        gemm_step(&n, B, A, Bm, C);
        tg[s] = cpu_now() - t0;
    }
    double step = median(ts, iters), gemm = median(tg, iters), flops = step_flops(&n, B);
    printf("conv2_step_s %.6f\nconv2_samples_per_s %.2f\nconv2_gemm_s %.6f\n", step, B / step, gemm);
    printf("conv2_gflops %.3f\nconv2_sgemm_share %.4f\n", flops / step / 1e9, gemm / step);
    free(A), free(Bm), free(C), free(ts), free(tg), free(x), free(y);
    optim_free(&o);
    net_free(&n);
    return 0;
}
