/*
 * bench_conv2.c - Conv-2/4/6 training speed for `make bench` (tools/bench/bench.sh).
 *
 * The paper's Conv-2, Conv-4 or Conv-6 (--arch; model.arch's presets: conv
 * 64, 64, pool[, 128, 128, pool[, 256, 256, pool]], fc 256, 256, 10) on
 * CIFAR-10-shaped input (3x32x32; random pixels: values do not change the
 * work), batch 60, Adam, one thread (OpenBLAS by blas_init, oneDNN by
 * dnn_init), in one process:
 *   train  N steps of net_forward, net_loss, net_backward and net_step,
 *          alternately on two nets from the same start: kernels = auto
 *          (convolutions on oneDNN where the build has it, dnn.h) and
 *          kernels = dense (im2col + sgemm, the reference), each step timed
 *          in CPU seconds of this thread; samples/s = batch over the median;
 *   gemm   the same steps' matrix products of the im2col formulation alone,
 *          straight to cblas_sgemm on the same shapes and call pattern: the
 *          roofline of the dense path (GFLOP/s are of those products, so
 *          for Winograd they are nominal: the FLOPs it avoids count);
 *   parts  a step of the auto net cut into its pieces, each timed on its
 *          own (medians): convolutions forward and backward (oneDNN's
 *          primitives, and apart the reorders between our NCHW buffers and
 *          their blocked formats), ReLU and pooling, the fully connected
 *          layers (products, bias, ReLU'), the loss, the optimizer.
 * Prints "key value" lines, keys prefixed with the arch: _samples_per_s,
 * _step_s (auto), _dense_samples_per_s, _dense_step_s, _gemm_s, _gflops,
 * _dense_gflops, _sgemm_share (gemm seconds / dense step seconds),
 * _part_<piece>_s, _parts_s (their sum) and _convs "<what ran them>".
 *
 * usage: bench_conv2 [--arch conv2|conv4|conv6] [--iters N]   (conv2, 20)
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "blas.h"
#include "config.h"
#include "conv.h"
#include "dnn.h"
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

enum { P_CONV_FWD, P_CONV_BWD, P_REORDER, P_POOL_RELU, P_FC, P_LOSS, P_OPTIM, N_PARTS };
static const char *const PART[N_PARTS] = {"conv_fwd", "conv_bwd", "reorders", "pool_relu", "fc",
                                          "loss", "optimizer"};

/* One training step of n cut into pieces (the same work as net_forward,
 * net_loss, net_backward and net_step, on the net's own buffers), each
 * piece's CPU seconds added into t. The convolutions' reorders (oneDNN
 * only) are counted apart from the primitives. */
static void step_parts(net_t *n, optim_t *o, const float *x, const uint8_t *y, int b, double *t)
{
    double t0, r, p;
    for (int l = 0; l < n->n_layers; l++) { /* forward */
        net_layer_t *L = &n->layers[l];
        const float *a = l ? n->acts + n->layers[l - 1].act_off : x;
        float *z = n->acts + L->act_off;
        const float *wt = n->params + L->w_off, *bias = n->params + L->b_off;
        size_t cnt = (size_t)b * L->out;
        if (L->kind == NET_CONV) {
            dnn_profile(1);
            t0 = cpu_now();
            if (L->dnn)
                dnn_conv_forward(L->prims, a, wt, bias, b, z,
                                 (l && n->layers[l - 1].chain ? DNN_X_BLOCKED : 0) |
                                     (L->chain ? DNN_Y_BLOCKED : 0));
            else
                conv_forward(a, wt, bias, b, L->in_c, L->out_c, L->in_h, L->in_w, n->col, z);
            double all = cpu_now() - t0;
            dnn_profile_read(&r, &p);
            t[P_CONV_FWD] += all - r, t[P_REORDER] += r;
            t0 = cpu_now();
            conv_relu_forward(z, cnt);
            t[P_POOL_RELU] += cpu_now() - t0;
        } else if (L->kind == NET_POOL) {
            t0 = cpu_now();
            conv_pool_forward(a, b, L->in_c, L->in_h, L->in_w, z, n->args + L->arg_off);
            t[P_POOL_RELU] += cpu_now() - t0;
        } else {
            t0 = cpu_now();
            for (int i = 0; i < b; i++)
                memcpy(z + (size_t)i * L->out, bias, L->out * sizeof(float));
            blas_sgemm(false, true, b, (int)L->out, (int)L->in, 1.0f, a, (int)L->in, wt, (int)L->in,
                       1.0f, z, (int)L->out);
            if (L->relu)
                conv_relu_forward(z, cnt);
            t[P_FC] += cpu_now() - t0;
        }
    }
    t0 = cpu_now();
    net_loss(n, y, b, NULL, 1);
    t[P_LOSS] += cpu_now() - t0;
    for (int l = n->n_layers - 1; l >= 0; l--) { /* backward */
        net_layer_t *L = &n->layers[l];
        const float *a = l ? n->acts + n->layers[l - 1].act_off : x;
        float *dz = n->deltas + L->act_off, *dprev = l ? n->deltas + n->layers[l - 1].act_off : NULL;
        const float *wt = n->params + L->w_off;
        float *dw = n->grads + L->w_off, *db = n->grads + L->b_off;
        t0 = cpu_now();
        if (L->kind == NET_FC) {
            memset(db, 0, (size_t)L->out_c * sizeof(float));
            for (int i = 0; i < b; i++)
                for (size_t j = 0; j < L->out; j++)
                    db[j] += dz[(size_t)i * L->out + j];
            blas_sgemm(true, false, (int)L->out, (int)L->in, b, 1.0f, dz, (int)L->out, a, (int)L->in,
                       0.0f, dw, (int)L->in);
            blas_sgemm(false, false, b, (int)L->in, (int)L->out, 1.0f, dz, (int)L->out, wt, (int)L->in,
                       0.0f, dprev, (int)L->in);
            t[P_FC] += cpu_now() - t0;
        } else if (L->kind == NET_POOL) {
            conv_pool_backward(dz, n->args + L->arg_off, b, L->in_c, L->in_h, L->in_w, dprev);
            t[P_POOL_RELU] += cpu_now() - t0;
        } else {
            dnn_profile(1);
            t0 = cpu_now();
            if (L->dnn)
                dnn_conv_backward(L->prims, a, wt, dz, dw, db, dprev,
                                  (l && n->layers[l - 1].chain ? DNN_X_BLOCKED : 0) |
                                      (L->chain ? DNN_Y_BLOCKED : 0));
            else
                conv_backward(a, wt, dz, b, L->in_c, L->out_c, L->in_h, L->in_w, n->col, dw, db, dprev);
            double all = cpu_now() - t0;
            dnn_profile_read(&r, &p);
            t[P_CONV_BWD] += all - r, t[P_REORDER] += r;
        }
        if (dprev) { /* the layer below's ReLU' */
            const net_layer_t *B = &n->layers[l - 1];
            t0 = cpu_now();
            if (B->relu)
                conv_relu_backward(dprev, n->acts + B->act_off, (size_t)b * B->out);
            t[B->kind == NET_FC ? P_FC : P_POOL_RELU] += cpu_now() - t0;
        }
    }
    dnn_profile(0);
    t0 = cpu_now();
    net_step(n, o);
    t[P_OPTIM] += cpu_now() - t0;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_conv2: %s: %s\n", what, ts_errmsg());
    exit(1);
}

int main(int argc, char **argv)
{
    const char *arch = "conv2";
    int iters = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--iters") && i + 1 < argc)
            iters = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--arch") && i + 1 < argc)
            arch = argv[++i];
        else
            iters = 0;
    }
    if (iters < 3 || (strcmp(arch, "conv2") && strcmp(arch, "conv4") && strcmp(arch, "conv6"))) {
        fprintf(stderr, "usage: bench_conv2 [--arch conv2|conv4|conv6] [--iters N>=3]\n");
        return 1;
    }
    blas_init();
    config_t cfg;
    config_defaults(&cfg);
    char set[64];
    snprintf(set, sizeof set, "model.arch=%s", arch);
    if (config_set(&cfg, set) || config_set(&cfg, "train.lr=0.0002"))
        die("config");
    const int B = cfg.batch, dim = 3 * 32 * 32;
    net_t n[2]; /* 0: kernels = auto, 1: dense */
    optim_t o[2];
    for (int k = 0; k < 2; k++) {
        if (net_create(&n[k], &cfg, 3, 32, 32, 10, B, B) ||
            optim_create(&o[k], OPT_ADAM, n[k].n_params, (float)cfg.lr, 0, 0.9f, 0.999f, 1e-8f))
            die("net");
        net_init_params(&n[k], n[k].params, 1, RNG_INIT, 0);
        if (net_set_kernels(&n[k], k ? KERNELS_DENSE : KERNELS_AUTO) < 0)
            die("kernels");
    }
    float *x = malloc(sizeof(float) * B * dim);
    uint8_t *y = malloc((size_t)B);
    rng_t r;
    rng_init(&r, 42);
    for (int i = 0; i < B * dim; i++)
        x[i] = rng_uniform(&r);
    for (int i = 0; i < B; i++)
        y[i] = (uint8_t)rng_below(&r, 10);

    double *ts[2] = {malloc(sizeof(double) * iters), malloc(sizeof(double) * iters)};
    double *tg = malloc(sizeof(double) * iters), *tp[N_PARTS], *tsum = malloc(sizeof(double) * iters);
    for (int s = 0; s < iters; s++)
        for (int j = 0; j < 2; j++) {
            int k = (s + j) % 2; /* alternate which goes first */
            double t0 = cpu_now();
            net_forward(&n[k], x, B, NULL);
            net_loss(&n[k], y, B, NULL, 1);
            net_backward(&n[k], x, B);
            net_step(&n[k], &o[k]);
            ts[k][s] = cpu_now() - t0;
        }
    for (int p = 0; p < N_PARTS; p++)
        tp[p] = calloc((size_t)iters, sizeof(double));
    for (int s = 0; s < iters; s++) {
        double t[N_PARTS] = {0};
        step_parts(&n[0], &o[0], x, y, B, t);
        tsum[s] = 0;
        for (int p = 0; p < N_PARTS; p++)
            tp[p][s] = t[p], tsum[s] += t[p];
    }
    size_t big = 64 * 9 * 1024 > 16384 * 256 ? 64 * 9 * 1024 : 16384 * 256;
    float *A = calloc(big, sizeof(float)), *Bm = calloc(big, sizeof(float)), *C = calloc(big, sizeof(float));
    for (int s = 0; s < iters; s++) {
        double t0 = cpu_now();
        gemm_step(&n[1], B, A, Bm, C);
        tg[s] = cpu_now() - t0;
    }
    double step = median(ts[0], iters), dense = median(ts[1], iters), gemm = median(tg, iters);
    double flops = step_flops(&n[1], B);
    printf("%s_convs %s\n", arch, net_conv_kernels(&n[0], KERNELS_AUTO));
    printf("%s_step_s %.6f\n%s_samples_per_s %.2f\n", arch, step, arch, B / step);
    printf("%s_dense_step_s %.6f\n%s_dense_samples_per_s %.2f\n", arch, dense, arch, B / dense);
    printf("%s_gemm_s %.6f\n%s_gflops %.3f\n%s_dense_gflops %.3f\n%s_sgemm_share %.4f\n", arch, gemm,
           arch, flops / step / 1e9, arch, flops / dense / 1e9, arch, gemm / dense);
    for (int p = 0; p < N_PARTS; p++)
        printf("%s_part_%s_s %.6f\n", arch, PART[p], median(tp[p], iters));
    printf("%s_parts_s %.6f\n", arch, median(tsum, iters));
    free(A), free(Bm), free(C), free(ts[0]), free(ts[1]), free(tg), free(tsum), free(x), free(y);
    for (int p = 0; p < N_PARTS; p++)
        free(tp[p]);
    for (int k = 0; k < 2; k++)
        optim_free(&o[k]), net_free(&n[k]);
    return 0;
}
