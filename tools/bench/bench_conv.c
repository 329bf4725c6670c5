/*
 * bench_conv - micro-benchmark of the convolution primitives in conv.h.
 *
 * For the layers of Conv-2/4/6 on CIFAR-10 (batch 60) it times, best of a few
 * repetitions, conv_forward (im2col + one sgemm per image), conv_backward
 * with and without dx, and for comparison two other formulations of the
 * forward pass: conv_forward_naive (the 7-loop reference; first layer only
 * unless -a) and a whole-batch im2col (conv.c's conv_im2col, image by image
 * into one matrix) with one sgemm and a transposing copy back to NCHW (local
 * to this file: it needs a scratch b times larger).
 *
 *   build:  make build/bench_conv (make bench builds it too)
 *   run:    build/bench_conv [-a] [reps]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blas.h"
#include "conv.h"
#include "rng.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The whole batch at once: col [c_in*9][b*hw], out [c_out][b*hw] = wt col,
 * then out copied into y [b][c_out][hw] with the bias. col holds
 * c_in*9*b*hw floats and out c_out*b*hw. */
static void conv_forward_batched(const float *x, const float *wt, const float *bias, int b,
                                 int c_in, int c_out, int h, int w, float *col, float *out,
                                 float *y)
{
    size_t hw = (size_t)h * w, n = (size_t)b * hw;
    for (int i = 0; i < b; i++)
        conv_im2col(x + (size_t)i * c_in * hw, c_in, h, w, col + (size_t)i * hw, n);
    blas_sgemm(false, false, c_out, (int)n, c_in * 9, 1.0f, wt, c_in * 9, col, (int)n, 0.0f, out,
               (int)n);
    for (int i = 0; i < b; i++)
        for (int o = 0; o < c_out; o++) {
            const float *src = out + (size_t)o * n + (size_t)i * hw;
            float *dst = y + ((size_t)i * c_out + o) * hw;
            for (size_t p = 0; p < hw; p++)
                dst[p] = src[p] + bias[o];
        }
}

typedef struct {
    const char *name;
    int c_in, c_out, hw;
} layer_t;

int main(int argc, char **argv)
{
    int all = 0, reps = 5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-a"))
            all = 1;
        else
            reps = atoi(argv[i]) > 0 ? atoi(argv[i]) : reps;
    }
    blas_init();
    const int b = 60;
    const layer_t layers[] = {
        {"conv1 3->64 32x32", 3, 64, 32},      {"conv2 64->64 32x32", 64, 64, 32},
        {"conv3 64->128 16x16", 64, 128, 16},  {"conv4 128->128 16x16", 128, 128, 16},
        {"conv5 128->256 8x8", 128, 256, 8},   {"conv6 256->256 8x8", 256, 256, 8},
    };
    printf("batch %d, best of %d; times in ms\n", b, reps);
    printf("%-22s %9s %9s %9s %9s %9s %8s\n", "layer", "forward", "batched", "naive", "bwd+dx",
           "bwd", "GFLOP/s");
    for (size_t l = 0; l < sizeof layers / sizeof layers[0]; l++) {
        const layer_t *L = &layers[l];
        int h = L->hw, w = L->hw;
        size_t nx = (size_t)b * L->c_in * h * w, ny = (size_t)b * L->c_out * h * w;
        size_t nw = (size_t)L->c_out * L->c_in * 9;
        size_t ncol = conv_col_floats(L->c_in, h, w);
        float *x = malloc(nx * sizeof(float)), *wt = malloc(nw * sizeof(float));
        float *bias = malloc((size_t)L->c_out * sizeof(float));
        float *y = malloc(ny * sizeof(float)), *y2 = malloc(ny * sizeof(float));
        float *col = malloc(ncol * sizeof(float));
        float *bcol = malloc(ncol * b * sizeof(float)), *bout = malloc(ny * sizeof(float));
        float *dwt = malloc(nw * sizeof(float)), *dbias = malloc((size_t)L->c_out * sizeof(float));
        float *dx = malloc(nx * sizeof(float));
        if (!x || !wt || !bias || !y || !y2 || !col || !bcol || !bout || !dwt || !dbias || !dx) {
            fprintf(stderr, "bench_conv: out of memory\n");
            return 1;
        }
        rng_t r;
        rng_init(&r, rng_key(1, 99, l, 0));
        for (size_t i = 0; i < nx; i++)
            x[i] = rng_uniform(&r);
        for (size_t i = 0; i < nw; i++)
            wt[i] = rng_uniform(&r) - 0.5f;
        for (int i = 0; i < L->c_out; i++)
            bias[i] = rng_uniform(&r) - 0.5f;

        double best[5] = {1e30, 1e30, 1e30, 1e30, 1e30};
        int do_naive = all || l == 0;
        for (int rep = 0; rep < reps; rep++) {
            double t0 = now();
            conv_forward(x, wt, bias, b, L->c_in, L->c_out, h, w, col, y);
            double t1 = now();
            conv_forward_batched(x, wt, bias, b, L->c_in, L->c_out, h, w, bcol, bout, y2);
            double t2 = now();
            conv_backward(x, wt, y, b, L->c_in, L->c_out, h, w, col, dwt, dbias, dx);
            double t3 = now();
            conv_backward(x, wt, y, b, L->c_in, L->c_out, h, w, col, dwt, dbias, NULL);
            double t4 = now();
            double tn = 0;
            if (do_naive && rep < 2) { /* slow: two repetitions are enough */
                double t5 = now();
                conv_forward_naive(x, wt, bias, b, L->c_in, L->c_out, h, w, y2);
                tn = now() - t5;
            }
            double t[5] = {t1 - t0, t2 - t1, tn, t3 - t2, t4 - t3};
            for (int k = 0; k < 5; k++)
                if (t[k] > 0 && t[k] < best[k])
                    best[k] = t[k];
        }
        double flops = 2.0 * b * L->c_out * h * w * L->c_in * 9;
        char naive[32] = "-";
        if (do_naive)
            snprintf(naive, sizeof naive, "%.1f", 1e3 * best[2]);
        printf("%-22s %9.2f %9.2f %9s %9.2f %9.2f %8.1f\n", L->name, 1e3 * best[0],
               1e3 * best[1], naive, 1e3 * best[3], 1e3 * best[4], flops / best[0] * 1e-9);
        fflush(stdout);
        free(x), free(wt), free(bias), free(y), free(y2), free(col), free(bcol), free(bout);
        free(dwt), free(dbias), free(dx);
    }
    return 0;
}
