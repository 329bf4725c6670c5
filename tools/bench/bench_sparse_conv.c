/*
 * bench_sparse_conv.c - would thin convolutions train faster sparse? The
 * three products of a 3x3 convolution's training step (forward, weight
 * gradient, input gradient) for one image, in their im2col form
 *   y [c_out][hw] = W [c_out][c_in*9] . col [c_in*9][hw]
 * dense through blas_sgemm (what src/conv.c runs) against over the surviving
 * weights with the fully connected layers' sparse kernels (src/sparse.c), the
 * pixels taking the place of the examples in tiles of SPARSE_TILE (the
 * copies into and out of the tiles counted; im2col and col2im, which both
 * need, not). Shapes: the 64-, 128- and 256-channel layers of Conv-2/4/6 on
 * CIFAR-10; random masks at densities 100 .. 5 %.
 *
 * Not run by `make bench`: it answers a design question (issue 13 section
 * 2, thin conv layers) and its figures are in docs/performance.md ("Design and
 * performance"). Medians of CPU seconds of this thread (one OpenBLAS thread).
 *
 * usage: bench_sparse_conv [--reps R]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "blas.h"
#include "rng.h"
#include "sparse.h"

static float *xcalloc(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) {
        fprintf(stderr, "bench_sparse_conv: out of memory\n");
        exit(1);
    }
    return p;
}

/* One layer c_in -> c_out at side x side, density q: median CPU seconds of
 * the dense and the sparse products of one image. */
static void layer(int c_in, int c_out, int side, double q, int reps, double *dense_s,
                  double *sparse_s)
{
    const int hw = side * side, k = c_in * 9;
    float *w = xcalloc((size_t)c_out * k), *mask = xcalloc((size_t)c_out * k);
    float *g = xcalloc((size_t)c_out * k), *bias = xcalloc((size_t)c_out);
    float *col = xcalloc((size_t)k * hw), *dcol = xcalloc((size_t)k * hw);
    float *y = xcalloc((size_t)c_out * hw), *dy = xcalloc((size_t)c_out * hw);
    float *at = xcalloc((size_t)k * SPARSE_TILE), *dat = xcalloc((size_t)k * SPARSE_TILE);
    float *zt = xcalloc((size_t)c_out * SPARSE_TILE);
    double *td = calloc((size_t)reps, sizeof(double)), *ts = calloc((size_t)reps, sizeof(double));
    rng_t r;
    rng_init(&r, rng_key((uint64_t)c_in, (uint64_t)side, (uint64_t)(q * 1e6), 5));
    for (size_t i = 0; i < (size_t)c_out * k; i++) {
        mask[i] = rng_uniform(&r) < q;
        w[i] = mask[i] * (rng_uniform(&r) - 0.5f);
    }
    for (size_t i = 0; i < (size_t)k * hw; i++)
        col[i] = rng_uniform(&r);
    for (size_t i = 0; i < (size_t)c_out * hw; i++)
        dy[i] = rng_uniform(&r) - 0.5f;
    sparse_csr_t s = {0};
    if (!td || !ts || sparse_build(&s, mask, w, c_out, k)) {
        fprintf(stderr, "bench_sparse_conv: out of memory\n");
        exit(1);
    }
    for (int rep = 0; rep < reps; rep++) {
        double t0 = cpu_now();
        blas_sgemm(false, false, c_out, hw, k, 1.0f, w, k, col, hw, 0.0f, y, hw);
        blas_sgemm(false, true, c_out, k, hw, 1.0f, dy, hw, col, hw, 0.0f, g, k);
        blas_sgemm(true, false, k, hw, c_out, 1.0f, w, k, dy, hw, 0.0f, dcol, hw);
        double t1 = cpu_now();
        for (int p = 0; p < hw; p += SPARSE_TILE) {
            /* col's rows are already features x pixels: a tile is a strided
             * copy, no transpose (the zero padding of a short last tile is
             * left from the first pass: hw is a multiple of 64 here) */
            int n = hw - p < SPARSE_TILE ? hw - p : SPARSE_TILE;
            for (int f = 0; f < k; f++)
                memcpy(at + (size_t)f * SPARSE_TILE, col + (size_t)f * hw + p, (size_t)n * 4);
            sparse_forward(&s, bias, at, zt);
            for (int o = 0; o < c_out; o++)
                memcpy(y + (size_t)o * hw + p, zt + (size_t)o * SPARSE_TILE, (size_t)n * 4);
            for (int o = 0; o < c_out; o++)
                memcpy(zt + (size_t)o * SPARSE_TILE, dy + (size_t)o * hw + p, (size_t)n * 4);
            sparse_weight_grad(&s, zt, at, p > 0);
            sparse_input_grad(&s, zt, dat);
            for (int f = 0; f < k; f++)
                memcpy(dcol + (size_t)f * hw + p, dat + (size_t)f * SPARSE_TILE, (size_t)n * 4);
        }
        double t2 = cpu_now();
        td[rep] = t1 - t0;
        ts[rep] = t2 - t1;
    }
    *dense_s = median(td, reps);
    *sparse_s = median(ts, reps);
    sparse_free(&s);
    free(w), free(mask), free(g), free(bias), free(col), free(dcol), free(y), free(dy);
    free(at), free(dat), free(zt), free(td), free(ts);
}

int main(int argc, char **argv)
{
    int reps = 21;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc && atoi(argv[i + 1]) > 0)
            reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_sparse_conv [--reps R]\n");
            return 1;
        }
    }
    blas_init();
    static const int shapes[][2] = {{64, 32}, {128, 16}, {256, 8}}; /* channels, side */
    static const double qs[] = {1, 0.5, 0.3, 0.2, 0.1, 0.05};
    printf("# a 3x3 convolution's three products for one image: sgemm against over the\n"
           "# survivors (tile copies included); CPU us, medians of %d; ratio = dense / sparse\n"
           "# layer density%% dense_us sparse_us ratio\n", reps);
    for (size_t j = 0; j < sizeof shapes / sizeof shapes[0]; j++)
        for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
            double d, s;
            int c = shapes[j][0], side = shapes[j][1];
            layer(c, c, side, qs[i], reps, &d, &s);
            printf("conv_%dx%d_%dx%d %.0f %.1f %.1f %.2f\n", c, c, side, side, 100 * qs[i], d * 1e6,
                   s * 1e6, d / s);
            fflush(stdout);
        }
    return 0;
}
