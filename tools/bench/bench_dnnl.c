/*
 * bench_dnnl.c - our 3x3 convolutions (conv.h: im2col of one image + one
 * blas_sgemm) against oneDNN's convolution primitives, on the CIFAR-10 shapes
 * of Conv-2 and Conv-4 (issue 13 section 2: would oneDNN make Conv-2 faster,
 * and by how much?). A standalone benchmark: neither the product nor
 * `make test` links oneDNN.
 *
 * For each layer (batch 60, NCHW activations, [out][in][3][3] weights, as
 * ticketsweep stores them) and each pass
 *   fwd   y = conv(x, wt) + bias
 *   bwd-d dx = conv^T(dy, wt)
 *   bwd-w dwt, dbias from x and dy
 * it times, in the same process, repetition by repetition in turn:
 *   ours       conv_forward; conv_backward without dx (bwd-w) and with dx
 *              (bwd-d is the difference of the two: our backward shares the
 *              im2col of an image between both products);
 *   oneDNN     convolution_forward (forward_training), _backward_data and
 *              _backward_weights, for algorithm direct, auto and winograd,
 *              each with the memory formats oneDNN prefers (format_tag any:
 *              blocked layouts such as nChw16c / OIhw16i16o) and with our
 *              plain nchw / oihw. The reorders between our layouts and the
 *              chosen ones are timed apart: what an integration that keeps
 *              ticketsweep's layouts around each call would pay.
 * Times are CPU seconds of this thread (the machine is shared), medians over
 * the repetitions. Every output is compared with ours (max |a - b| / max |b|
 * over the tensor), and each oneDNN output with itself from the first
 * repetition, bit for bit (determinism with one thread).
 *
 * One thread everywhere: OpenBLAS through blas_init, oneDNN (built on
 * OpenMP in Debian) through OMP_NUM_THREADS=1. libgomp reads that variable
 * when it is loaded, so main re-executes itself with it set when it is not.
 *
 *   build:  make bench-dnnl (installs libdnnl-dev, builds and runs), or
 *           make build/bench_dnnl
 *   run:    build/bench_dnnl [--reps N] [--layer I] [--no-winograd]
 *           (DNNL_VERBOSE=1 prints what oneDNN ran, ISA included)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <oneapi/dnnl/dnnl.h>

#include "bench_util.h"
#include "blas.h"
#include "conv.h"
#include "rng.h"

#define BATCH 60

/* A oneDNN call that must succeed: on failure print where and why, and stop
 * (this is a benchmark's main path; nothing to clean up for). */
#define DNNL_CHECK(call)                                                                      \
    do {                                                                                      \
        dnnl_status_t st_ = (call);                                                           \
        if (st_ != dnnl_success) {                                                            \
            fprintf(stderr, "bench_dnnl: %s:%d: %s failed: %s\n", __FILE__, __LINE__, #call,  \
                    dnnl_status2str_local(st_));                                              \
            exit(1);                                                                          \
        }                                                                                     \
    } while (0)

static const char *dnnl_status2str_local(dnnl_status_t s)
{
    switch (s) {
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented";
    case dnnl_runtime_error: return "runtime error";
    default: return "other error";
    }
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fprintf(stderr, "bench_dnnl: out of memory (%zu bytes)\n", n);
        exit(1);
    }
    return p;
}

typedef struct {
    const char *name;
    int c_in, c_out, hw;
} layer_t;

static const layer_t LAYERS[] = {
    {"conv1 3->64 32x32", 3, 64, 32},
    {"conv2 64->64 32x32", 64, 64, 32},
    {"conv3 64->128 16x16", 64, 128, 16},
    {"conv4 128->128 16x16", 128, 128, 16},
};
#define N_LAYERS ((int)(sizeof LAYERS / sizeof LAYERS[0]))

enum { P_FWD, P_BWD_D, P_BWD_W, N_PASS };
static const char *const PASS_NAME[N_PASS] = {"fwd", "bwd-d", "bwd-w"};

/* One operand of a primitive: `user` wraps our plain buffer, `prim` is the
 * memory in the primitive's chosen format (the same object when the formats
 * agree, and then `reorder` is NULL). An input is reordered user -> prim
 * before the call, an output prim -> user after it. */
typedef struct {
    dnnl_memory_t user, prim;
    dnnl_primitive_t reorder;
    int out;
    char fmt[64]; /* the chosen format, for the table */
    double *t;    /* CPU seconds of the reorder, per repetition */
} port_t;

static void port_init(port_t *p, dnnl_engine_t eng, const_dnnl_primitive_desc_t pd,
                      dnnl_query_t what, int index, const dnnl_memory_desc_t *user_md, float *buf,
                      int out)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, what, index);
    memset(p, 0, sizeof *p);
    p->out = out;
    DNNL_CHECK(dnnl_memory_create(&p->user, user_md, eng, buf));
    if (dnnl_memory_desc_equal(md, user_md)) {
        p->prim = p->user;
        snprintf(p->fmt, sizeof p->fmt, "plain");
        return;
    }
    DNNL_CHECK(dnnl_memory_create(&p->prim, md, eng, DNNL_MEMORY_ALLOCATE));
    dnnl_primitive_desc_t rpd;
    const dnnl_memory_desc_t *from = out ? md : user_md, *to = out ? user_md : md;
    DNNL_CHECK(dnnl_reorder_primitive_desc_create(&rpd, from, eng, to, eng, NULL));
    DNNL_CHECK(dnnl_primitive_create(&p->reorder, rpd));
    DNNL_CHECK(dnnl_primitive_desc_destroy(rpd));
    /* a short description of the blocked layout: inner blocks of which dims */
    const dnnl_blocking_desc_t *bd = &md->format_desc.blocking;
    int n = snprintf(p->fmt, sizeof p->fmt, "blocked");
    for (int i = 0; i < bd->inner_nblks && n < (int)sizeof p->fmt - 8; i++)
        n += snprintf(p->fmt + n, sizeof p->fmt - (size_t)n, "%s%d%c", i ? "x" : " ",
                      (int)bd->inner_blks[i], "abcd"[bd->inner_idxs[i]]);
}

/* Run the port's reorder (if any); returns its CPU seconds. */
static double port_sync(port_t *p, dnnl_stream_t s)
{
    if (!p->reorder)
        return 0;
    dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, p->out ? p->prim : p->user},
                            {DNNL_ARG_TO, p->out ? p->user : p->prim}};
    double t0 = cpu_now();
    DNNL_CHECK(dnnl_primitive_execute(p->reorder, s, 2, a));
    DNNL_CHECK(dnnl_stream_wait(s));
    return cpu_now() - t0;
}

static void port_free(port_t *p)
{
    free(p->t);
    if (p->reorder)
        dnnl_primitive_destroy(p->reorder);
    if (p->prim && p->prim != p->user)
        dnnl_memory_destroy(p->prim);
    if (p->user)
        dnnl_memory_destroy(p->user);
}

/* Our plain tensors of one layer, and our outputs (the reference). */
typedef struct {
    const layer_t *L;
    size_t nx, ny, nw;
    float *x, *wt, *bias, *dy; /* inputs */
    float *y, *dx, *dwt, *dbias; /* ours */
    float *col;
    dnnl_memory_desc_t md_x, md_y, md_w, md_b; /* nchw, nchw, oihw, a */
} tensors_t;

/* The ports of each pass, in execution-argument order. */
enum { F_SRC, F_WEI, F_BIAS, F_DST, N_F };
enum { D_DDST, D_WEI, D_DSRC, N_D };
enum { W_SRC, W_DDST, W_DWEI, W_DBIAS, N_W };

/* One oneDNN configuration (algorithm x formats) for one layer: the three
 * primitives, their operands, and the outputs in our plain layouts. */
typedef struct {
    char name[32];
    int ok; /* 0: oneDNN has no implementation; the rest is unset */
    const char *impl[N_PASS];
    dnnl_primitive_t prim[N_PASS];
    port_t f[N_F], d[N_D], w[N_W];
    float *y, *dx, *dwt, *dbias;  /* outputs, plain */
    float *y0, *dx0, *dwt0, *dbias0; /* first repetition's, for determinism */
    int same[N_PASS];             /* 1 while every repetition matched the first bit for bit */
    double *t_prim[N_PASS], *t_in[N_PASS], *t_out[N_PASS]; /* per repetition */
} variant_t;

static const char *pd_impl(const_dnnl_primitive_desc_t pd)
{
    const char *s = "?";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s);
    return s;
}

/* Build the variant; returns 0 with v->ok = 0 when oneDNN implements none of
 * it for these formats (the table says so), 1 otherwise. */
static int variant_init(variant_t *v, dnnl_engine_t eng, tensors_t *T, dnnl_alg_kind_t alg,
                        int any, int reps)
{
    const layer_t *L = T->L;
    dnnl_dims_t strides = {1, 1}, pad = {1, 1};
    dnnl_memory_desc_t mx = T->md_x, my = T->md_y, mw = T->md_w;
    if (any) {
        dnnl_dims_t dx = {BATCH, L->c_in, L->hw, L->hw}, dy = {BATCH, L->c_out, L->hw, L->hw};
        dnnl_dims_t dw = {L->c_out, L->c_in, 3, 3};
        DNNL_CHECK(dnnl_memory_desc_init_by_tag(&mx, 4, dx, dnnl_f32, dnnl_format_tag_any));
        DNNL_CHECK(dnnl_memory_desc_init_by_tag(&my, 4, dy, dnnl_f32, dnnl_format_tag_any));
        DNNL_CHECK(dnnl_memory_desc_init_by_tag(&mw, 4, dw, dnnl_f32, dnnl_format_tag_any));
    }
    snprintf(v->name, sizeof v->name, "%s %s",
             alg == dnnl_convolution_direct ? "direct" : alg == dnnl_convolution_auto ? "auto"
                                                                                       : "winograd",
             any ? "any" : "nchw");
    v->ok = 0;
    dnnl_convolution_desc_t cf, cd, cw;
    dnnl_primitive_desc_t pf, pdd, pw;
    DNNL_CHECK(dnnl_convolution_forward_desc_init(&cf, dnnl_forward_training, alg, &mx, &mw,
                                                  &T->md_b, &my, strides, pad, pad));
    if (dnnl_primitive_desc_create(&pf, &cf, NULL, eng, NULL) != dnnl_success)
        return 0;
    DNNL_CHECK(dnnl_convolution_backward_data_desc_init(&cd, alg, &mx, &mw, &my, strides, pad,
                                                        pad));
    DNNL_CHECK(dnnl_convolution_backward_weights_desc_init(&cw, alg, &mx, &mw, &T->md_b, &my,
                                                           strides, pad, pad));
    if (dnnl_primitive_desc_create(&pdd, &cd, NULL, eng, pf) != dnnl_success ||
        dnnl_primitive_desc_create(&pw, &cw, NULL, eng, pf) != dnnl_success) {
        dnnl_primitive_desc_destroy(pf);
        return 0;
    }
    v->ok = 1;
    v->y = xmalloc(T->ny * sizeof(float)), v->dx = xmalloc(T->nx * sizeof(float));
    v->dwt = xmalloc(T->nw * sizeof(float)), v->dbias = xmalloc((size_t)L->c_out * sizeof(float));
    v->y0 = xmalloc(T->ny * sizeof(float)), v->dx0 = xmalloc(T->nx * sizeof(float));
    v->dwt0 = xmalloc(T->nw * sizeof(float)), v->dbias0 = xmalloc((size_t)L->c_out * sizeof(float));
    port_init(&v->f[F_SRC], eng, pf, dnnl_query_src_md, 0, &T->md_x, T->x, 0);
    port_init(&v->f[F_WEI], eng, pf, dnnl_query_weights_md, 0, &T->md_w, T->wt, 0);
    /* the bias (weights index 1) and its gradient are plain vectors: no reorder */
    port_init(&v->f[F_BIAS], eng, pf, dnnl_query_weights_md, 1, &T->md_b, T->bias, 0);
    port_init(&v->f[F_DST], eng, pf, dnnl_query_dst_md, 0, &T->md_y, v->y, 1);
    port_init(&v->d[D_DDST], eng, pdd, dnnl_query_diff_dst_md, 0, &T->md_y, T->dy, 0);
    port_init(&v->d[D_WEI], eng, pdd, dnnl_query_weights_md, 0, &T->md_w, T->wt, 0);
    port_init(&v->d[D_DSRC], eng, pdd, dnnl_query_diff_src_md, 0, &T->md_x, v->dx, 1);
    port_init(&v->w[W_SRC], eng, pw, dnnl_query_src_md, 0, &T->md_x, T->x, 0);
    port_init(&v->w[W_DDST], eng, pw, dnnl_query_diff_dst_md, 0, &T->md_y, T->dy, 0);
    port_init(&v->w[W_DWEI], eng, pw, dnnl_query_diff_weights_md, 0, &T->md_w, v->dwt, 1);
    port_init(&v->w[W_DBIAS], eng, pw, dnnl_query_diff_weights_md, 1, &T->md_b, v->dbias, 1);
    for (int i = 0; i < N_F; i++)
        v->f[i].t = calloc((size_t)reps, sizeof(double));
    for (int i = 0; i < N_D; i++)
        v->d[i].t = calloc((size_t)reps, sizeof(double));
    for (int i = 0; i < N_W; i++)
        v->w[i].t = calloc((size_t)reps, sizeof(double));
    v->impl[P_FWD] = pd_impl(pf), v->impl[P_BWD_D] = pd_impl(pdd), v->impl[P_BWD_W] = pd_impl(pw);
    DNNL_CHECK(dnnl_primitive_create(&v->prim[P_FWD], pf));
    DNNL_CHECK(dnnl_primitive_create(&v->prim[P_BWD_D], pdd));
    DNNL_CHECK(dnnl_primitive_create(&v->prim[P_BWD_W], pw));
    /* the impl strings belong to the descriptors: copy before freeing them */
    for (int p = 0; p < N_PASS; p++)
        v->impl[p] = strdup(v->impl[p]);
    dnnl_primitive_desc_destroy(pf), dnnl_primitive_desc_destroy(pdd);
    dnnl_primitive_desc_destroy(pw);
    for (int p = 0; p < N_PASS; p++) {
        v->same[p] = 1;
        v->t_prim[p] = calloc((size_t)reps, sizeof(double));
        v->t_in[p] = calloc((size_t)reps, sizeof(double));
        v->t_out[p] = calloc((size_t)reps, sizeof(double));
    }
    return 1;
}

static void variant_free(variant_t *v)
{
    if (!v->ok)
        return;
    for (int p = 0; p < N_PASS; p++) {
        dnnl_primitive_destroy(v->prim[p]);
        free((void *)v->impl[p]), free(v->t_prim[p]), free(v->t_in[p]), free(v->t_out[p]);
    }
    for (int i = 0; i < N_F; i++)
        port_free(&v->f[i]);
    for (int i = 0; i < N_D; i++)
        port_free(&v->d[i]);
    for (int i = 0; i < N_W; i++)
        port_free(&v->w[i]);
    free(v->y), free(v->dx), free(v->dwt), free(v->dbias);
    free(v->y0), free(v->dx0), free(v->dwt0), free(v->dbias0);
}

/* One pass of a variant: inputs reordered in, the primitive, outputs
 * reordered out, each timed into repetition `rep`. */
static void variant_run(variant_t *v, int pass, dnnl_stream_t s, int rep)
{
    port_t *ports = pass == P_FWD ? v->f : pass == P_BWD_D ? v->d : v->w;
    int n = pass == P_FWD ? N_F : pass == P_BWD_D ? N_D : N_W;
    static const int arg_f[N_F] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST};
    static const int arg_d[N_D] = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC};
    static const int arg_w[N_W] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS,
                                   DNNL_ARG_DIFF_BIAS};
    const int *arg = pass == P_FWD ? arg_f : pass == P_BWD_D ? arg_d : arg_w;
    dnnl_exec_arg_t a[4];
    double tin = 0, tout = 0;
    for (int i = 0; i < n; i++) {
        a[i].arg = arg[i], a[i].memory = ports[i].prim;
        if (!ports[i].out)
            tin += ports[i].t[rep] = port_sync(&ports[i], s);
    }
    double t0 = cpu_now();
    DNNL_CHECK(dnnl_primitive_execute(v->prim[pass], s, n, a));
    DNNL_CHECK(dnnl_stream_wait(s));
    v->t_prim[pass][rep] = cpu_now() - t0;
    for (int i = 0; i < n; i++)
        if (ports[i].out)
            tout += ports[i].t[rep] = port_sync(&ports[i], s);
    v->t_in[pass][rep] = tin, v->t_out[pass][rep] = tout;
}

/* max |a - b| / max |b| over n floats: the error relative to the tensor's
 * scale (elementwise ratios blow up where b crosses zero). */
static double rel_err(const float *a, const float *b, size_t n)
{
    double d = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        d = fmax(d, fabs((double)a[i] - b[i]));
        m = fmax(m, fabs((double)b[i]));
    }
    return m > 0 ? d / m : d;
}

/* The outputs of `pass` equal those of repetition 0 bit for bit? Repetition
 * 0 keeps its copy. */
static void check_same(variant_t *v, int pass, const tensors_t *T, int rep)
{
    struct out { float *now, *first; size_t n; } o[2];
    int k = 0;
    if (pass == P_FWD)
        o[k++] = (struct out){v->y, v->y0, T->ny};
    else if (pass == P_BWD_D)
        o[k++] = (struct out){v->dx, v->dx0, T->nx};
    else {
        o[k++] = (struct out){v->dwt, v->dwt0, T->nw};
        o[k++] = (struct out){v->dbias, v->dbias0, (size_t)T->L->c_out};
    }
    for (int i = 0; i < k; i++) {
        if (rep == 0)
            memcpy(o[i].first, o[i].now, o[i].n * sizeof(float));
        else if (memcmp(o[i].first, o[i].now, o[i].n * sizeof(float)))
            v->same[pass] = 0;
    }
}

static void tensors_init(tensors_t *T, const layer_t *L, int seed)
{
    memset(T, 0, sizeof *T);
    T->L = L;
    int hw = L->hw;
    T->nx = (size_t)BATCH * L->c_in * hw * hw, T->ny = (size_t)BATCH * L->c_out * hw * hw;
    T->nw = (size_t)L->c_out * L->c_in * 9;
    T->x = xmalloc(T->nx * 4), T->dy = xmalloc(T->ny * 4), T->wt = xmalloc(T->nw * 4);
    T->bias = xmalloc((size_t)L->c_out * 4), T->y = xmalloc(T->ny * 4), T->dx = xmalloc(T->nx * 4);
    T->dwt = xmalloc(T->nw * 4), T->dbias = xmalloc((size_t)L->c_out * 4);
    T->col = xmalloc(conv_col_floats(L->c_in, hw, hw) * 4);
    rng_t r;
    rng_init(&r, rng_key(7, 13, (uint64_t)seed, 0));
    /* ReLU-like activations (half zeros), signed weights and gradients */
    for (size_t i = 0; i < T->nx; i++) {
        float u = rng_uniform(&r) - 0.5f;
        T->x[i] = L->c_in == 3 ? u : (u > 0 ? u : 0);
    }
    for (size_t i = 0; i < T->ny; i++)
        T->dy[i] = rng_uniform(&r) - 0.5f;
    for (size_t i = 0; i < T->nw; i++)
        T->wt[i] = (rng_uniform(&r) - 0.5f) * 0.2f;
    for (int i = 0; i < L->c_out; i++)
        T->bias[i] = rng_uniform(&r) - 0.5f;
    dnnl_dims_t dx = {BATCH, L->c_in, hw, hw}, dy = {BATCH, L->c_out, hw, hw};
    dnnl_dims_t dw = {L->c_out, L->c_in, 3, 3}, db = {L->c_out};
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&T->md_x, 4, dx, dnnl_f32, dnnl_nchw));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&T->md_y, 4, dy, dnnl_f32, dnnl_nchw));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&T->md_w, 4, dw, dnnl_f32, dnnl_oihw));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&T->md_b, 1, db, dnnl_f32, dnnl_a));
}

static void tensors_free(tensors_t *T)
{
    free(T->x), free(T->dy), free(T->wt), free(T->bias), free(T->y), free(T->dx);
    free(T->dwt), free(T->dbias), free(T->col);
}

/* One repetition of our passes: forward, backward without dx (bwd-w), and
 * with it (both products), CPU seconds. */
static void time_ours(const tensors_t *T, double *fwd, double *bw, double *full)
{
    const layer_t *L = T->L;
    double t0 = cpu_now();
    conv_forward(T->x, T->wt, T->bias, BATCH, L->c_in, L->c_out, L->hw, L->hw, T->col, T->y);
    double t1 = cpu_now();
    conv_backward(T->x, T->wt, T->dy, BATCH, L->c_in, L->c_out, L->hw, L->hw, T->col, T->dwt,
                  T->dbias, NULL);
    double t2 = cpu_now();
    conv_backward(T->x, T->wt, T->dy, BATCH, L->c_in, L->c_out, L->hw, L->hw, T->col, T->dwt,
                  T->dbias, T->dx);
    double t3 = cpu_now();
    *fwd = t1 - t0, *bw = t2 - t1, *full = t3 - t2;
}

/* Per layer, per pass, the figures the step sum needs (seconds). */
typedef struct {
    double ours[N_PASS];
    double prim[8][N_PASS], reo[8][N_PASS];
    int nv;
} layer_result_t;

/* The medians of a pass's reorders, operand by operand (only those that
 * have one): which conversions an integration keeping our layouts pays. */
static void print_reorders(port_t *ports, int pass, int reps)
{
    static const char *const nf[N_F] = {"x in", "w in", "bias", "y out"};
    static const char *const nd[N_D] = {"dy in", "w in", "dx out"};
    static const char *const nw[N_W] = {"x in", "dy in", "dw out", "dbias"};
    const char *const *names = pass == P_FWD ? nf : pass == P_BWD_D ? nd : nw;
    int n = pass == P_FWD ? N_F : pass == P_BWD_D ? N_D : N_W, any = 0;
    for (int i = 0; i < n; i++) {
        if (!ports[i].reorder)
            continue;
        printf("%s%s %.2f", any ? ", " : "        reorders, ms: ", names[i],
               1e3 * median(ports[i].t, reps));
        any = 1;
    }
    if (any)
        printf("\n");
}

static void bench_layer(int li, int reps, int winograd, dnnl_engine_t eng, dnnl_stream_t s,
                        layer_result_t *R)
{
    const layer_t *L = &LAYERS[li];
    tensors_t T;
    tensors_init(&T, L, li);
    variant_t V[6];
    dnnl_alg_kind_t algs[3] = {dnnl_convolution_direct, dnnl_convolution_auto,
                               dnnl_convolution_winograd};
    int nv = 0;
    for (int a = 0; a < (winograd ? 3 : 2); a++)
        for (int any = 1; any >= 0; any--) {
            memset(&V[nv], 0, sizeof V[nv]);
            variant_init(&V[nv], eng, &T, algs[a], any, reps);
            nv++;
        }
    double *of = xmalloc(sizeof(double) * reps), *ow = xmalloc(sizeof(double) * reps);
    double *od = xmalloc(sizeof(double) * reps);
    /* one warm-up round (first-touch, JIT), then the timed repetitions, every
     * candidate in turn so that the machine's load falls on all alike */
    for (int rep = -1; rep < reps; rep++) {
        double f, w, full;
        time_ours(&T, &f, &w, &full);
        if (rep >= 0)
            of[rep] = f, ow[rep] = w, od[rep] = full - w;
        for (int v = 0; v < nv; v++) {
            if (!V[v].ok)
                continue;
            for (int p = 0; p < N_PASS; p++) {
                variant_run(&V[v], p, s, rep < 0 ? 0 : rep);
                check_same(&V[v], p, &T, rep < 0 ? 0 : rep);
            }
        }
    }
    double flops = 2.0 * BATCH * L->c_out * L->c_in * 9 * L->hw * L->hw;
    R->ours[P_FWD] = median(of, reps), R->ours[P_BWD_W] = median(ow, reps);
    R->ours[P_BWD_D] = median(od, reps);
    printf("\n%s: %.3f GFLOP a pass (batch %d), medians of %d repetitions, CPU ms\n", L->name,
           flops * 1e-9, BATCH, reps);
    printf("  %-15s %-6s %8s %8s %7s %8s %8s %9s  %-4s %s\n", "variant", "pass", "ms", "GFLOP/s",
           "ours/x", "+reord", "ours/x", "rel.err", "det", "implementation (formats)");
    for (int p = 0; p < N_PASS; p++)
        printf("  %-15s %-6s %8.2f %8.1f %7s %8s %8s %9s  %-4s %s\n", "ours", PASS_NAME[p],
               1e3 * R->ours[p], flops / R->ours[p] * 1e-9, "1.00", "-", "-", "-", "-",
               p == P_BWD_D ? "conv_backward with dx minus without" : "im2col + sgemm");
    R->nv = nv;
    for (int v = 0; v < nv; v++) {
        variant_t *X = &V[v];
        if (!X->ok) {
            printf("  %-15s (oneDNN has no implementation for these formats)\n", X->name);
            for (int p = 0; p < N_PASS; p++)
                R->prim[v][p] = R->reo[v][p] = NAN;
            continue;
        }
        const float *mine[N_PASS] = {T.y, T.dx, T.dwt};
        const float *theirs[N_PASS] = {X->y, X->dx, X->dwt};
        size_t len[N_PASS] = {T.ny, T.nx, T.nw};
        for (int p = 0; p < N_PASS; p++) {
            double tp = median(X->t_prim[p], reps);
            for (int r = 0; r < reps; r++)
                X->t_in[p][r] += X->t_out[p][r];
            double tr = median(X->t_in[p], reps);
            double err = rel_err(theirs[p], mine[p], len[p]);
            if (p == P_BWD_W)
                err = fmax(err, rel_err(X->dbias, T.dbias, (size_t)L->c_out));
            port_t *ports = p == P_FWD ? X->f : p == P_BWD_D ? X->d : X->w;
            char fmts[96];
            if (p == P_FWD)
                snprintf(fmts, sizeof fmts, "x %s, w %s, y %s", ports[F_SRC].fmt,
                         ports[F_WEI].fmt, ports[F_DST].fmt);
            else if (p == P_BWD_D)
                snprintf(fmts, sizeof fmts, "dy %s, w %s, dx %s", ports[D_DDST].fmt,
                         ports[D_WEI].fmt, ports[D_DSRC].fmt);
            else
                snprintf(fmts, sizeof fmts, "x %s, dy %s, dw %s", ports[W_SRC].fmt,
                         ports[W_DDST].fmt, ports[W_DWEI].fmt);
            char with[16] = "-", ratio2[16] = "-";
            if (tr > 0) {
                snprintf(with, sizeof with, "%.2f", 1e3 * (tp + tr));
                snprintf(ratio2, sizeof ratio2, "%.2f", R->ours[p] / (tp + tr));
            }
            printf("  %-15s %-6s %8.2f %8.1f %7.2f %8s %8s %9.2e  %-4s %s (%s)\n", X->name,
                   PASS_NAME[p], 1e3 * tp, flops / tp * 1e-9, R->ours[p] / tp, with, ratio2,
                   err, X->same[p] ? "yes" : "NO", X->impl[p], fmts);
            R->prim[v][p] = tp, R->reo[v][p] = tr;
            print_reorders(ports, p, reps);
        }
    }
    for (int v = 0; v < nv; v++)
        variant_free(&V[v]);
    free(of), free(ow), free(od);
    tensors_free(&T);
}

static const char *isa_name(dnnl_cpu_isa_t isa)
{
    switch (isa) {
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    default: return "other";
    }
}

/* Conv-2's two convolutions in one training step: conv1 forward and weight
 * gradient (no dx for the first layer), conv2 all three passes. */
static void print_step(const layer_result_t *R, const char *const *vnames)
{
    const layer_result_t *a = &R[0], *b = &R[1];
    double ours = a->ours[P_FWD] + a->ours[P_BWD_W] + b->ours[P_FWD] + b->ours[P_BWD_D] +
                  b->ours[P_BWD_W];
    printf("\nConv-2's two convolutions in one step (conv1 fwd + bwd-w, conv2 fwd + bwd-d + "
           "bwd-w), CPU ms\n");
    printf("  %-15s %8s %7s %12s %7s\n", "variant", "prims", "ours/x", "+reorders", "ours/x");
    printf("  %-15s %8.2f %7s %12s %7s\n", "ours", 1e3 * ours, "1.00", "-", "-");
    for (int v = 0; v < a->nv; v++) {
        double p = a->prim[v][P_FWD] + a->prim[v][P_BWD_W] + b->prim[v][P_FWD] +
                   b->prim[v][P_BWD_D] + b->prim[v][P_BWD_W];
        double r = a->reo[v][P_FWD] + a->reo[v][P_BWD_W] + b->reo[v][P_FWD] +
                   b->reo[v][P_BWD_D] + b->reo[v][P_BWD_W];
        if (isnan(p)) {
            printf("  %-15s (not implemented)\n", vnames[v]);
            continue;
        }
        printf("  %-15s %8.2f %7.2f %12.2f %7.2f\n", vnames[v], 1e3 * p, ours / p, 1e3 * (p + r),
               ours / (p + r));
    }
    /* what an integration choosing the algorithm layer by layer and pass by
     * pass would get: the fastest variant of each, primitives alone */
    double best = 0, best_r = 0;
    const layer_result_t *lr[5] = {a, a, b, b, b};
    const int pass[5] = {P_FWD, P_BWD_W, P_FWD, P_BWD_D, P_BWD_W};
    printf("  %-15s", "best per pass");
    for (int k = 0; k < 5; k++) {
        int bv = -1;
        for (int v = 0; v < a->nv; v++)
            if (!isnan(lr[k]->prim[v][pass[k]]) &&
                (bv < 0 || lr[k]->prim[v][pass[k]] < lr[k]->prim[bv][pass[k]]))
                bv = v;
        best += lr[k]->prim[bv][pass[k]];
        best_r += lr[k]->prim[bv][pass[k]] + lr[k]->reo[bv][pass[k]];
    }
    printf(" %8.2f %7.2f %12.2f %7.2f\n", 1e3 * best, ours / best, 1e3 * best_r, ours / best_r);
    printf("  (+reorders counts every reorder of every pass, none shared: an upper bound)\n");
}

int main(int argc, char **argv)
{
    /* libgomp reads OMP_NUM_THREADS when it loads: set it and start again */
    const char *omp = getenv("OMP_NUM_THREADS");
    if (!omp || strcmp(omp, "1")) {
        setenv("OMP_NUM_THREADS", "1", 1);
        setenv("OPENBLAS_NUM_THREADS", "1", 1);
        execv("/proc/self/exe", argv);
        perror("bench_dnnl: execv /proc/self/exe");
        return 1;
    }
    int reps = 9, only = -1, winograd = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--reps") && i + 1 < argc)
            reps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--layer") && i + 1 < argc)
            only = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-winograd"))
            winograd = 0;
        else {
            fprintf(stderr, "usage: bench_dnnl [--reps N>=1] [--layer 0..%d] [--no-winograd]\n",
                    N_LAYERS - 1);
            return 1;
        }
    }
    if (reps < 1 || only >= N_LAYERS) {
        fprintf(stderr, "bench_dnnl: --reps must be >= 1 and --layer below %d\n", N_LAYERS);
        return 1;
    }
    blas_init();
    const dnnl_version_t *ver = dnnl_version();
    dnnl_engine_t eng;
    dnnl_stream_t s;
    DNNL_CHECK(dnnl_engine_create(&eng, dnnl_cpu, 0));
    DNNL_CHECK(dnnl_stream_create(&s, eng, dnnl_stream_default_flags));
    printf("oneDNN %d.%d.%d (%s), CPU runtime %s, ISA %s; OpenBLAS %s (core %s)\n", ver->major,
           ver->minor, ver->patch, ver->hash,
           ver->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other",
           isa_name(dnnl_get_effective_cpu_isa()), blas_version(), blas_core());
    printf("one thread: OMP_NUM_THREADS=%s, OpenBLAS pinned by blas_init\n",
           getenv("OMP_NUM_THREADS"));
    printf("columns: ms = primitive alone; +reord = with the reorders from/to our nchw/oihw;\n"
           "ours/x = our time over that; rel.err = max|x - ours| / max|ours|;\n"
           "det = bit-identical over the repetitions\n");
    fflush(stdout);
    layer_result_t R[N_LAYERS];
    memset(R, 0, sizeof R);
    for (int l = 0; l < N_LAYERS; l++) {
        if (only >= 0 && l != only)
            continue;
        bench_layer(l, reps, winograd, eng, s, &R[l]);
        fflush(stdout);
    }
    static const char *const vnames[6] = {"direct any", "direct nchw", "auto any",
                                          "auto nchw",  "winograd any", "winograd nchw"};
    if (only < 0)
        print_step(R, vnames);
    dnnl_stream_destroy(s);
    dnnl_engine_destroy(eng);
    return 0;
}
