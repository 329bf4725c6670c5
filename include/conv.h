/*
 * conv.h - layer primitives of the convolutional networks (Conv-2/4/6 of
 * Frankle & Carbin 2019): 3x3 convolution (stride 1, zero "same" padding),
 * 2x2 max pooling (stride 2), inverted dropout, and ReLU helpers.
 *
 * Pure functions: nothing here allocates, keeps state or starts threads; the
 * caller owns every buffer, including the scratch `col`. Results depend only
 * on the inputs (OpenBLAS pinned to one thread: par.h), so a trial is
 * reproducible bit for bit on one machine.
 *
 * Layouts are NCHW, row-major, batch-major:
 *   activations  x [b][c][h][w]
 *   weights      wt [c_out][c_in][3][3]   (the same memory as [c_out][c_in*9])
 *   bias         [c_out]
 * The convolution is a cross-correlation, as in PyTorch and the paper's code:
 *   y[n][o][i][j] = bias[o] + sum_{c,kh,kw} wt[o][c][kh][kw] * x[n][c][i+kh-1][j+kw-1]
 * with x read as 0 outside the image.
 *
 * Scratch: conv_forward and conv_backward process one image at a time and need
 * conv_col_floats(c_in, h, w) floats in `col` (the im2col matrix of one image,
 * [c_in*9][h*w]). One buffer sized for the largest layer serves every layer,
 * forward and backward; it holds nothing between calls.
 */
#ifndef TS_CONV_H
#define TS_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

/* Floats of the im2col scratch for ONE image: (c_in * 9) x (h * w). This is
 * what conv_forward and conv_backward need in `col`, whatever the batch size. */
size_t conv_col_floats(int c_in, int h, int w);

/* y = conv(x, wt) + bias over a batch of b images: x [b][c_in][h][w],
 * wt [c_out][c_in][3][3], bias [c_out], y [b][c_out][h][w] (overwritten; must
 * not overlap x or col), col scratch of conv_col_floats(c_in, h, w) floats.
 * im2col then one blas_sgemm per image, bias first copied into y (beta = 1). */
void conv_forward(const float *x, const float *wt, const float *bias, int b, int c_in, int c_out,
                  int h, int w, float *col, float *y);

/* The im2col of one image x [c_in][h][w] into columns [0, h*w) of
 * col [c_in*9][ld] (ld >= h*w): row (c*3 + kh)*3 + kw holds
 * x[c][i + kh - 1][j + kw - 1] at column i*w + j, 0 outside the image. Every
 * element of those columns is written, the others are left alone, so images
 * side by side (col + i*h*w, ld = b*h*w) make the im2col of a whole batch.
 * conv_forward and conv_backward call it with ld = h*w. */
void conv_im2col(const float *x, int c_in, int h, int w, float *col, size_t ld);

/* The plain 7-loop reference of conv_forward (double accumulation), for tests. */
void conv_forward_naive(const float *x, const float *wt, const float *bias, int b, int c_in,
                        int c_out, int h, int w, float *y);

/* Gradients of a conv_forward, given dy = dLoss/dy [b][c_out][h][w] (the
 * gradient at the convolution's output, i.e. with the ReLU' already applied
 * by the caller) and the layer's input x and weights wt (shapes as
 * conv_forward; y itself is not needed). Overwrites
 * dwt [c_out][c_in][3][3] and dbias [c_out] with the sums over the batch, and
 * dx [b][c_in][h][w] with dLoss/dx; dx == NULL skips that product (the first
 * layer). col: conv_col_floats(c_in, h, w) floats of scratch, as forward.
 * dx must not overlap x, dy or col. */
void conv_backward(const float *x, const float *wt, const float *dy, int b, int c_in, int c_out,
                   int h, int w, float *col, float *dwt, float *dbias, float *dx);

/* 2x2 max pooling, stride 2: x [b][c][h][w] -> y [b][c][h/2][w/2]. h and w are
 * meant to be even (an odd last row or column is ignored, as PyTorch's floor
 * mode). arg [b][c][h/2][w/2] receives, for each output, the flat index into x
 * of the maximum (ties: the first in row-major order, i.e. top-left first);
 * conv_pool_backward reads it. Flat indices are int32: b*c*h*w must be below 2^31. */
void conv_pool_forward(const float *x, int b, int c, int h, int w, float *y, int32_t *arg);

/* dx [b][c][h][w] overwritten: zero except dx[arg[k]] = dy[k] at each maximum.
 * dy and arg [b][c][h/2][w/2] as left by conv_pool_forward with the same shape. */
void conv_pool_backward(const float *dy, const int32_t *arg, int b, int c, int h, int w, float *dx);

/* Inverted dropout in place on x [n]: each element is kept with probability
 * 1 - p and then scaled by 1 / (1 - p), or set to 0; keep [n] receives 1 or 0.
 * For 0 < p < 1 it draws exactly n uniforms from r, one per element in order,
 * so the mask is a function of the stream's key and counter. p <= 0 leaves x
 * untouched, marks all kept and draws nothing; p >= 1 zeroes x, marks none
 * kept and draws nothing. */
void conv_dropout_forward(float *x, uint8_t *keep, size_t n, float p, rng_t *r);

/* dx [n] in place: dx * 1 / (1 - p) where kept, 0 where dropped (keep and p as
 * given to conv_dropout_forward). */
void conv_dropout_backward(float *dx, const uint8_t *keep, size_t n, float p);

/* Optional helpers: x = max(x, 0) in place; dy = y > 0 ? dy : 0 in place, with
 * y the ReLU's output. */
void conv_relu_forward(float *x, size_t n);
void conv_relu_backward(float *dy, const float *y, size_t n);

#endif
