/*
 * conv.c - convolution, pooling, dropout and ReLU passes (see conv.h).
 *
 * The convolution of one image is a matrix product: with col = im2col(x), the
 * [c_in*9][h*w] matrix whose row (c, kh, kw) is channel c shifted by
 * (kh - 1, kw - 1) with zeros shifted in,
 *   forward   y[c_out][h*w]   = wt[c_out][c_in*9] col                (+ bias)
 *   backward  dwt[c_out][c_in*9] += dy[c_out][h*w] col^T
 *             dcol[c_in*9][h*w]   = wt^T dy,  dx = col2im(dcol)
 * One image at a time keeps the output in NCHW order straight from sgemm (a
 * product over the whole batch would give [c_out][b*h*w] and need a second
 * buffer and a transposing copy) and keeps the scratch small: 576 x 1024
 * floats (2.3 MB) for a 64-channel 32x32 layer, where a batch of 60 would need
 * 141 MB. tools/bench/bench_conv.c measures both (its whole-batch version calls
 * conv_im2col with a leading dimension of b*h*w).
 *
 * Nothing here allocates.
 */
#include <string.h>

#include "blas.h"
#include "conv.h"

size_t conv_col_floats(int c_in, int h, int w)
{
    return (size_t)c_in * 9 * (size_t)h * (size_t)w;
}

/* See conv.h: one image's im2col, row by row with memcpy; ld lets images sit
 * side by side (the whole-batch product tools/bench/bench_conv.c compares). */
void conv_im2col(const float *restrict x, int c_in, int h, int w, float *restrict col, size_t ld)
{
    size_t hw = (size_t)h * w;
    for (int c = 0; c < c_in; c++) {
        const float *xc = x + (size_t)c * hw;
        for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++) {
                float *row = col + ((size_t)c * 9 + (size_t)kh * 3 + kw) * ld;
                int di = kh - 1, dj = kw - 1;
                /* output columns j0..j1-1 read inside the image; at most one
                 * column on either side reads the zero padding */
                int j0 = dj < 0 ? 1 : 0, j1 = dj > 0 ? w - 1 : w;
                for (int i = 0; i < h; i++) {
                    float *out = row + (size_t)i * w;
                    int si = i + di;
                    if (si < 0 || si >= h) {
                        memset(out, 0, (size_t)w * sizeof(float));
                        continue;
                    }
                    if (j0 > 0)
                        out[0] = 0;
                    memcpy(out + j0, xc + (size_t)si * w + j0 + dj,
                           (size_t)(j1 - j0) * sizeof(float));
                    if (j1 < w)
                        out[w - 1] = 0;
                }
            }
    }
}

/* dx [c_in][h][w] += col2im(col): the adjoint of conv_im2col (ld = h*w), every
 * element of col added to the pixel im2col read it from (padding reads are
 * dropped). */
static void col2im_add(const float *restrict col, int c_in, int h, int w, float *restrict dx)
{
    size_t hw = (size_t)h * w;
    for (int c = 0; c < c_in; c++) {
        float *dxc = dx + (size_t)c * hw;
        for (int kh = 0; kh < 3; kh++)
            for (int kw = 0; kw < 3; kw++) {
                const float *row = col + ((size_t)c * 9 + (size_t)kh * 3 + kw) * hw;
                int di = kh - 1, dj = kw - 1;
                int j0 = dj < 0 ? 1 : 0, j1 = dj > 0 ? w - 1 : w;
                for (int i = 0; i < h; i++) {
                    int si = i + di;
                    if (si < 0 || si >= h)
                        continue;
                    const float *in = row + (size_t)i * w;
                    float *dst = dxc + (size_t)si * w + dj;
                    for (int j = j0; j < j1; j++)
                        dst[j] += in[j];
                }
            }
    }
}

void conv_forward(const float *x, const float *wt, const float *bias, int b, int c_in, int c_out,
                  int h, int w, float *col, float *y)
{
    int hw = h * w, k = c_in * 9;
    for (int n = 0; n < b; n++) {
        const float *xn = x + (size_t)n * c_in * hw;
        float *yn = y + (size_t)n * c_out * hw;
        conv_im2col(xn, c_in, h, w, col, (size_t)hw);
        for (int o = 0; o < c_out; o++) {
            float *yo = yn + (size_t)o * hw;
            for (int p = 0; p < hw; p++)
                yo[p] = bias[o];
        }
        blas_sgemm(false, false, c_out, hw, k, 1.0f, wt, k, col, hw, 1.0f, yn, hw);
    }
}

void conv_forward_naive(const float *x, const float *wt, const float *bias, int b, int c_in,
                        int c_out, int h, int w, float *y)
{
    for (int n = 0; n < b; n++)
        for (int o = 0; o < c_out; o++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++) {
                    double s = bias[o];
                    for (int c = 0; c < c_in; c++)
                        for (int kh = 0; kh < 3; kh++)
                            for (int kw = 0; kw < 3; kw++) {
                                int si = i + kh - 1, sj = j + kw - 1;
                                if (si < 0 || si >= h || sj < 0 || sj >= w)
                                    continue;
                                s += (double)wt[((size_t)o * c_in + c) * 9 + kh * 3 + kw] *
                                     x[(((size_t)n * c_in + c) * h + si) * w + sj];
                            }
                    y[(((size_t)n * c_out + o) * h + i) * w + j] = (float)s;
                }
}

void conv_backward(const float *x, const float *wt, const float *dy, int b, int c_in, int c_out,
                   int h, int w, float *col, float *dwt, float *dbias, float *dx)
{
    int hw = h * w, k = c_in * 9;
    for (int o = 0; o < c_out; o++)
        dbias[o] = 0;
    if (b <= 0) { /* no image: every sum is empty */
        memset(dwt, 0, (size_t)c_out * k * sizeof(float));
        return;
    }
    if (dx)
        memset(dx, 0, (size_t)b * c_in * hw * sizeof(float));
    for (int n = 0; n < b; n++) {
        const float *dyn = dy + (size_t)n * c_out * hw;
        /* each row summed in double, then added in image order */
        for (int o = 0; o < c_out; o++) {
            const float *d = dyn + (size_t)o * hw;
            double s = 0;
            for (int p = 0; p < hw; p++)
                s += d[p];
            dbias[o] += (float)s;
        }
        conv_im2col(x + (size_t)n * c_in * hw, c_in, h, w, col, (size_t)hw);
        /* beta = 0 on the first image overwrites whatever dwt held */
        blas_sgemm(false, true, c_out, k, hw, 1.0f, dyn, hw, col, hw, n ? 1.0f : 0.0f, dwt, k);
        if (!dx)
            continue;
        /* col is free again: it takes dcol, then col2im adds it into dx */
        blas_sgemm(true, false, k, hw, c_out, 1.0f, wt, k, dyn, hw, 0.0f, col, hw);
        col2im_add(col, c_in, h, w, dx + (size_t)n * c_in * hw);
    }
}

void conv_pool_forward(const float *x, int b, int c, int h, int w, float *y, int32_t *arg)
{
    int ho = h / 2, wo = w / 2;
    size_t planes = (size_t)b * c, hw = (size_t)h * w;
    for (size_t q = 0; q < planes; q++) {
        size_t base = q * hw;
        float *yq = y + q * ho * wo;
        int32_t *aq = arg + q * ho * wo;
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++) {
                size_t top = base + (size_t)2 * i * w + 2 * j;
                /* candidates in row-major order; strict > keeps the first of equals */
                size_t cand[4] = {top, top + 1, top + w, top + w + 1};
                size_t best = cand[0];
                for (int t = 1; t < 4; t++)
                    if (x[cand[t]] > x[best])
                        best = cand[t];
                yq[i * wo + j] = x[best];
                aq[i * wo + j] = (int32_t)best;
            }
    }
}

void conv_pool_backward(const float *dy, const int32_t *arg, int b, int c, int h, int w, float *dx)
{
    size_t n_out = (size_t)b * c * (h / 2) * (w / 2);
    memset(dx, 0, (size_t)b * c * h * w * sizeof(float));
    /* windows do not overlap, so each maximum receives exactly one dy */
    for (size_t k = 0; k < n_out; k++)
        dx[arg[k]] = dy[k];
}

void conv_dropout_forward(float *x, uint8_t *keep, size_t n, float p, rng_t *r)
{
    if (p <= 0) {
        memset(keep, 1, n);
        return;
    }
    if (p >= 1) {
        memset(keep, 0, n);
        memset(x, 0, n * sizeof(float));
        return;
    }
    float scale = 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++) {
        /* P(u >= p) = 1 - p for u uniform on [0, 1) */
        uint8_t k = rng_uniform(r) >= p;
        keep[i] = k;
        x[i] = k ? x[i] * scale : 0.0f;
    }
}

void conv_dropout_backward(float *dx, const uint8_t *keep, size_t n, float p)
{
    if (p <= 0)
        return;
    float scale = p >= 1 ? 0.0f : 1.0f / (1.0f - p);
    for (size_t i = 0; i < n; i++)
        dx[i] = keep[i] ? dx[i] * scale : 0.0f;
}

void conv_relu_forward(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0 ? x[i] : 0;
}

void conv_relu_backward(float *dy, const float *y, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dy[i] = y[i] > 0 ? dy[i] : 0;
}
