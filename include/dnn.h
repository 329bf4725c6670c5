/*
 * dnn.h - the one door to oneDNN (Intel's deep-learning primitives, Debian's
 * libdnnl-dev): the 3x3 convolutions of conv.h (stride 1, zero "same"
 * padding, NCHW activations, [c_out][c_in][3][3] weights) on oneDNN's
 * convolution primitives, for the `kernels = auto` path of the nets.
 *
 * oneDNN is optional: built with it when tools/build/find-deps.sh finds it (it
 * defines TS_HAVE_DNNL). Without it dnn_available() is 0, dnn_conv_create
 * fails with TS_ERUN and a message saying so, and the nets stay on im2col +
 * sgemm (conv.h); nothing else here may then be called.
 *
 * The algorithm of a layer is a fixed rule, never a timing, so that every
 * rank and every run computes the same bits (tools/bench/results/dnnl-conv.txt,
 * measured on AVX-512): Winograd F(4x4,3x3) (jit_wino_4x3) for every pass of
 * a layer with c_in >= 16 (2.3-3.1x our im2col with the reorders), direct
 * otherwise (the first layer: 3 channels; no Winograd there and direct beats
 * im2col for fwd and bwd-weights). Where oneDNN has no Winograd for a layer
 * (a CPU without AVX-512, channel counts it does not block), the layer is
 * direct: a property of the machine and shape, recorded by dnn_describe.
 *
 * One thread a primitive: oneDNN's Debian build runs on OpenMP; dnn_init
 * sets OpenMP's default thread count to 1 whatever OMP_NUM_THREADS says
 * (par.h), so the kernels' blocking (hence the bits) does not depend on the
 * environment or on --threads, and a primitive runs on the thread that calls
 * it. Several threads may run primitives at once, each its own dnn_conv_t
 * (a dnn_conv_t is one thread's at a time): every thread has its own stream
 * and its own shared buffers. With one thread each primitive is
 * deterministic (the same bits run to run, tests/test_dnn.c).
 *
 * A dnn_conv_t owns everything oneDNN for one layer and one batch size: the
 * forward (training), backward-data and backward-weights primitives, the
 * reorders between our plain layouts and the blocked formats the primitives
 * choose (format "any"), those blocked buffers and the scratchpads. Our
 * buffers are only borrowed for the length of a call.
 */
#ifndef TS_DNN_H
#define TS_DNN_H

#include <stddef.h>

typedef struct dnn_conv dnn_conv_t;

#define DNN_TAILS 4 /* forward-only layers a dnn_conv_t keeps for other batch sizes */

/* 1 when the build has oneDNN (TS_HAVE_DNNL), else 0. */
int dnn_available(void);
/* Open the door once per process: the engine and stream, OpenMP pinned to
 * one thread. Called by dnn_conv_create; harmless to call again. Returns 0,
 * or TS_ERUN with a message (no oneDNN in the build, or it failed). */
int dnn_init(void);
/* One line for the run's context and the results file's provenance: the
 * version, the instruction set oneDNN dispatches to on this CPU, and the
 * rule, e.g. "oneDNN 2.6.3 avx512_core_bf16: winograd c_in>=16, else direct";
 * "none" without oneDNN. A static string. */
const char *dnn_describe(void);

/* The algorithm the rule gives a layer of c_in input channels (before any
 * fallback): 1 Winograd, 0 direct. */
int dnn_conv_winograd(int c_in);

/*
 * The primitives of one 3x3 convolution layer for batches of b images of
 * c_in x h x w, c_out output channels; need_dx 0 skips the backward-data
 * primitive (the first layer), bwd 0 makes a forward-only layer. Returns the
 * layer, or NULL (TS_ERUN message) when oneDNN is absent, has no
 * implementation, or memory runs out. Free with dnn_conv_free.
 */
dnn_conv_t *dnn_conv_create(int b, int c_in, int c_out, int h, int w, int need_dx, int bwd);
void dnn_conv_free(dnn_conv_t *c);

/* What a dnn_conv_create of these arguments would need, in bytes, without
 * making it: the buffers every layer shares (the largest need of each role
 * counts: the scratchpad, x, y, dy, dx in the primitives' formats) into
 * need[DNN_NEED_SCRATCH .. DNN_NEED_DX], and its own (the weights' blocked
 * copies) into need[DNN_NEED_OWN]. 0, or TS_ERUN as dnn_conv_create. */
enum { DNN_NEED_SCRATCH, DNN_NEED_X, DNN_NEED_Y, DNN_NEED_DY, DNN_NEED_DX, DNN_NEED_OWN, DNN_NEEDS };
int dnn_conv_needs(int b, int c_in, int c_out, int h, int w, int need_dx, size_t need[DNN_NEEDS]);

/* Where a call's tensors are in the primitives' own (blocked) formats
 * rather than plain NCHW: DNN_X_BLOCKED the input side (x, and dx of a
 * backward), DNN_Y_BLOCKED the output side (y, and dy of a backward). Only
 * between two layers for which dnn_conv_chains holds, in the layer's own
 * batch; 0 everywhere else. */
enum { DNN_X_BLOCKED = 1, DNN_Y_BLOCKED = 2 };

/* y [b][c_out][h][w] = conv(x [b][c_in][h][w], wt [c_out][c_in][3][3]) +
 * bias [c_out], as conv_forward. b may differ from the layer's batch (an
 * evaluation batch's last slice): then a forward-only layer for that batch
 * is made and kept in c (the DNN_TAILS sizes used last: an evaluation's
 * last slices), and `blocked` must be 0. Returns 0, or TS_ERUN (out of
 * memory for that layer; y is then not written). */
int dnn_conv_forward(dnn_conv_t *c, const float *x, const float *wt, const float *bias, int b,
                     float *y, int blocked);
/* The gradients of a dnn_conv_forward of the layer's batch, as
 * conv_backward: dwt [c_out][c_in][3][3] and dbias [c_out] overwritten with
 * the sums over the batch; dx [b][c_in][h][w] with dLoss/dx unless NULL (it
 * must be NULL when the layer was made without need_dx). blocked as
 * dnn_conv_forward's. Returns 0, or TS_ERUN (this thread's buffers could
 * not grow: out of memory). */
int dnn_conv_backward(dnn_conv_t *c, const float *x, const float *wt, const float *dy,
                       float *dwt, float *dbias, float *dx, int blocked);
/* Layer a's output can feed layer b (the next) in the primitives' format:
 * the same batch, and one format of a's output and its gradient and of b's
 * input and its gradient, of the plain tensor's size. Then a's activation
 * and its gradient may stay in that format between the two (an element-wise
 * ReLU in between does not care), saving four reorders a step. */
int dnn_conv_chains(const dnn_conv_t *a, const dnn_conv_t *b);
/* For the benchmarks: after dnn_profile(1) every call adds the CPU seconds
 * of this thread spent in reorders and in the convolution primitives to two
 * counters (dnn_profile resets them; 0 stops counting), which
 * dnn_profile_read reads. */
void dnn_profile(int on);
void dnn_profile_read(double *reorders, double *prims);
/* oneDNN's name of the implementation of pass p (0 forward, 1 backward
 * data, 2 backward weights): "jit_wino_4x3:avx512_core", "jit:avx512_core",
 * ...; "" for a pass the layer lacks. Owned by c. */
const char *dnn_conv_impl(const dnn_conv_t *c, int p);

#endif
