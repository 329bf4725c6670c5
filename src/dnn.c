/* dnn.c - see dnn.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnn.h"
#include "err.h"

#ifndef TS_HAVE_DNNL

int dnn_available(void)
{
    return 0;
}

int dnn_init(void)
{
    return ts_fail(TS_ERUN, "this ticketsweep was built without oneDNN");
}

const char *dnn_describe(void)
{
    return "none";
}

int dnn_conv_winograd(int c_in)
{
    return c_in >= 16;
}

dnn_conv_t *dnn_conv_create(int b, int c_in, int c_out, int h, int w, int need_dx, int bwd)
{
    dnn_init();
    return NULL;
}

void dnn_conv_free(dnn_conv_t *c)
{
}

int dnn_conv_needs(int b, int c_in, int c_out, int h, int w, int need_dx, size_t need[DNN_NEEDS])
{
    return dnn_init();
}

int dnn_conv_forward(dnn_conv_t *c, const float *x, const float *wt, const float *bias, int b,
                     float *y, int blocked)
{
    return dnn_init();
}

int dnn_conv_backward(dnn_conv_t *c, const float *x, const float *wt, const float *dy,
                      float *dwt, float *dbias, float *dx, int blocked)
{
    return dnn_init();
}

int dnn_conv_chains(const dnn_conv_t *a, const dnn_conv_t *b)
{
    return 0;
}

const char *dnn_conv_impl(const dnn_conv_t *c, int p)
{
    return "";
}

void dnn_profile(int on)
{
}

void dnn_profile_read(double *reorders, double *prims)
{
    *reorders = *prims = 0;
}

#else /* TS_HAVE_DNNL */

#include <time.h>

#include <oneapi/dnnl/dnnl.h>
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
#include <omp.h>
#elif DNNL_CPU_RUNTIME != DNNL_RUNTIME_SEQ
#error "ticketsweep needs oneDNN built with the OpenMP or the sequential CPU runtime"
#endif

static dnnl_engine_t engine;
static _Thread_local dnnl_stream_t stream; /* each thread's own (stream_of) */
static char description[160];
static int profiling;           /* dnn_profile */
static double t_reorder, t_prim; /* its counters, CPU seconds */

/*
 * Buffers every primitive a thread runs shares, each grown to the largest
 * need: a primitive's scratchpad and its activations in the primitive's own
 * format (a reorder's target or source) hold nothing from one execution to
 * the next, and a thread runs one primitive at a time, so one buffer per
 * role serves every layer, pass and batch size. The roles that are alive
 * together (within one pass; dy across the two backward passes of a layer)
 * have buffers of their own. Each thread of a training has its own set
 * (thread-local), grown at the first use that needs more: handles are set at
 * each use, so a buffer may move when it grows. Weights' reorders keep their
 * own (small) buffers.
 */
enum { SLOT_SCRATCH, SLOT_X, SLOT_Y, SLOT_DY, SLOT_DX, N_SLOTS, SLOT_OWN = -1 };
static _Thread_local struct {
    void *buf;
    size_t cap;
} slots[N_SLOTS];

/* Slot s holds at least n bytes; 0 or TS_ERUN (out of memory). */
static int slot_need(int s, size_t n)
{
    if (n <= slots[s].cap)
        return 0;
    void *p = NULL;
    if (posix_memalign(&p, 64, n))
        return TS_ERUN;
    free(slots[s].buf);
    slots[s].buf = p;
    slots[s].cap = n;
    return 0;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void dnn_profile(int on)
{
    profiling = on;
    t_reorder = t_prim = 0;
}

void dnn_profile_read(double *reorders, double *prims)
{
    *reorders = t_reorder, *prims = t_prim;
}

/* This thread's stream (made at its first call); NULL when oneDNN cannot. */
static dnnl_stream_t stream_of(void)
{
    if (!stream && dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success)
        stream = NULL;
    return stream;
}

/* Execute a primitive and wait for it, into counter *t when profiling. */
static void exec(dnnl_primitive_t p, int n, const dnnl_exec_arg_t *a, double *t)
{
    double t0 = profiling ? cpu_now() : 0;
    dnnl_primitive_execute(p, stream, n, a);
    if (profiling) {
        dnnl_stream_wait(stream);
        *t += cpu_now() - t0;
    }
}

int dnn_available(void)
{
    return 1;
}

static const char *isa_name(dnnl_cpu_isa_t isa)
{
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    default: return "isa?";
    }
}

int dnn_init(void)
{
#if DNNL_CPU_RUNTIME == DNNL_RUNTIME_OMP
    /* before any primitive is made: oneDNN sizes its blocking by the thread
     * count, so it decides the bits as well as the cores used */
    omp_set_num_threads(1);
#endif
    if (engine)
        return 0;
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) {
        engine = NULL;
        return ts_fail(TS_ERUN, "oneDNN: cannot create the CPU engine");
    }
    if (!stream_of()) {
        dnnl_engine_destroy(engine);
        engine = NULL;
        return ts_fail(TS_ERUN, "oneDNN: cannot create a stream");
    }
    return 0;
}

const char *dnn_describe(void)
{
    if (!description[0]) {
        const dnnl_version_t *v = dnnl_version();
        snprintf(description, sizeof description,
                 "oneDNN %d.%d.%d %s: winograd c_in>=16, else direct", v->major, v->minor,
                 v->patch, isa_name(dnnl_get_effective_cpu_isa()));
    }
    return description;
}

int dnn_conv_winograd(int c_in)
{
    return c_in >= 16;
}

/* One operand of a primitive: `user` wraps our plain buffer, `prim` the
 * memory in the primitive's format `md`: the same object when the formats
 * agree (then reorder and blk are NULL), else a buffer of its own, with the
 * reorder user -> prim for an input, prim -> user for an output, and `blk`,
 * which wraps a buffer of ours already in that format (a chained layer's
 * activation, dnn_conv_chains). Handles are set at each call; `cur` is what
 * the primitive gets at this call. `shared`: prim belongs to another port
 * (dy of the two backward passes, reordered once). */
typedef struct {
    dnnl_memory_t user, prim, blk, cur;
    dnnl_memory_desc_t md;
    dnnl_primitive_t reorder;
    int out, shared;
    int slot;     /* prim's buffer: a shared slot (SLOT_X ...) or SLOT_OWN */
    size_t bytes; /* what prim needs of its slot */
} port_t;

enum { F_SRC, F_WEI, F_BIAS, F_DST, N_F };
enum { D_DDST, D_WEI, D_DSRC, N_D };
enum { W_SRC, W_DDST, W_DWEI, W_DBIAS, N_W };
enum { P_FWD, P_BWD_D, P_BWD_W, N_PASS };

struct dnn_conv {
    int b, c_in, c_out, h, w;
    dnnl_primitive_t prim[N_PASS]; /* NULL for a pass the layer lacks */
    dnnl_memory_t scratch[N_PASS];
    port_t f[N_F], d[N_D], wg[N_W];
    char impl[N_PASS][64];
    size_t scratch_bytes[N_PASS];
    dnn_conv_t *tail[DNN_TAILS]; /* forward-only, for batches other than b (most recent first) */
};

static const int ARG_F[N_F] = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_BIAS, DNNL_ARG_DST};
static const int ARG_D[N_D] = {DNNL_ARG_DIFF_DST, DNNL_ARG_WEIGHTS, DNNL_ARG_DIFF_SRC};
static const int ARG_W[N_W] = {DNNL_ARG_SRC, DNNL_ARG_DIFF_DST, DNNL_ARG_DIFF_WEIGHTS,
                               DNNL_ARG_DIFF_BIAS};

/* The port of operand `what` (index i) of pd, wrapping user buffers of
 * user_md; 0 or TS_ERUN. */
static int port_init(port_t *p, const_dnnl_primitive_desc_t pd, dnnl_query_t what, int i,
                     const dnnl_memory_desc_t *user_md, int out, int slot)
{
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, what, i);
    memset(p, 0, sizeof *p);
    p->out = out;
    p->slot = slot;
    if (!md || dnnl_memory_create(&p->user, user_md, engine, DNNL_MEMORY_NONE) != dnnl_success)
        return TS_ERUN;
    p->md = *md;
    if (dnnl_memory_desc_equal(md, user_md)) {
        p->prim = p->user;
        return 0;
    }
    p->bytes = dnnl_memory_desc_get_size(md);
    if ((p->slot != SLOT_OWN && slot_need(p->slot, p->bytes)) ||
        dnnl_memory_create(&p->prim, md, engine, p->slot == SLOT_OWN ? DNNL_MEMORY_ALLOCATE : DNNL_MEMORY_NONE) !=
            dnnl_success) {
        p->prim = NULL;
        return TS_ERUN;
    }
    if (dnnl_memory_create(&p->blk, md, engine, DNNL_MEMORY_NONE) != dnnl_success) {
        p->blk = NULL;
        return TS_ERUN;
    }
    dnnl_primitive_desc_t rpd;
    const dnnl_memory_desc_t *from = out ? md : user_md, *to = out ? user_md : md;
    if (dnnl_reorder_primitive_desc_create(&rpd, from, engine, to, engine, NULL) != dnnl_success)
        return TS_ERUN;
    dnnl_status_t st = dnnl_primitive_create(&p->reorder, rpd);
    dnnl_primitive_desc_destroy(rpd);
    if (st != dnnl_success) {
        p->reorder = NULL;
        return TS_ERUN;
    }
    return 0;
}

static void port_free(port_t *p)
{
    if (p->reorder)
        dnnl_primitive_destroy(p->reorder);
    if (p->prim && p->prim != p->user && !p->shared)
        dnnl_memory_destroy(p->prim);
    if (p->blk)
        dnnl_memory_destroy(p->blk);
    if (p->user)
        dnnl_memory_destroy(p->user);
    memset(p, 0, sizeof *p);
}

/* Point the port at our buffer buf, plain, or in the primitive's format
 * when `blocked`; a plain input is then reordered into that format. 0, or
 * TS_ERUN when this thread's buffer for the port cannot grow to its need. */
static int port_in(port_t *p, const void *buf, int blocked)
{
    /* oneDNN takes a non-const handle; inputs are only read */
    if (blocked && p->blk) {
        dnnl_memory_set_data_handle(p->blk, (void *)buf);
        p->cur = p->blk;
        return 0;
    }
    dnnl_memory_set_data_handle(p->user, (void *)buf);
    p->cur = p->prim;
    if (p->prim != p->user && p->slot != SLOT_OWN) {
        if (slot_need(p->slot, p->bytes))
            return ts_fail(TS_ERUN, "oneDNN: out of memory for a convolution's buffers");
        dnnl_memory_set_data_handle(p->prim, slots[p->slot].buf);
    }
    if (p->reorder && !p->out) {
        dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, p->user}, {DNNL_ARG_TO, p->prim}};
        exec(p->reorder, 2, a, &t_reorder);
    }
    return 0;
}

/* An output's reorder back into our plain buffer (set by port_in), unless
 * the primitive wrote straight into it. */
static void port_out(port_t *p)
{
    if (p->reorder && p->cur == p->prim) {
        dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, p->prim}, {DNNL_ARG_TO, p->user}};
        exec(p->reorder, 2, a, &t_reorder);
    }
}

/* The primitive of pd with its user-managed scratchpad and implementation
 * name, into pass p of c; 0 or TS_ERUN. */
static int make_prim(dnn_conv_t *c, int p, const_dnnl_primitive_desc_t pd)
{
    const char *s = "?";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &s);
    snprintf(c->impl[p], sizeof c->impl[p], "%s", s);
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    c->scratch_bytes[p] = smd ? dnnl_memory_desc_get_size(smd) : 0;
    if (smd && dnnl_memory_desc_get_size(smd) > 0 &&
        (slot_need(SLOT_SCRATCH, dnnl_memory_desc_get_size(smd)) ||
         dnnl_memory_create(&c->scratch[p], smd, engine, DNNL_MEMORY_NONE) != dnnl_success)) {
        c->scratch[p] = NULL;
        return TS_ERUN;
    }
    if (dnnl_primitive_create(&c->prim[p], pd) != dnnl_success) {
        c->prim[p] = NULL;
        return TS_ERUN;
    }
    return 0;
}

/* The three primitive descriptors of algorithm alg (pd[p] NULL where not
 * wanted); 0, or -1 when oneDNN implements one of them not (all freed). */
static int make_pds(dnnl_primitive_desc_t pd[N_PASS], dnnl_alg_kind_t alg, dnnl_primitive_attr_t attr,
                    const dnnl_memory_desc_t *mx, const dnnl_memory_desc_t *mw,
                    const dnnl_memory_desc_t *mb, const dnnl_memory_desc_t *my, int need_dx, int bwd)
{
    dnnl_dims_t strides = {1, 1}, pad = {1, 1};
    dnnl_convolution_desc_t cf, cd, cw;
    memset(pd, 0, N_PASS * sizeof *pd);
    if (dnnl_convolution_forward_desc_init(&cf, bwd ? dnnl_forward_training : dnnl_forward_inference,
                                           alg, mx, mw, mb, my, strides, pad, pad) != dnnl_success ||
        dnnl_primitive_desc_create(&pd[P_FWD], &cf, attr, engine, NULL) != dnnl_success)
        goto fail;
    if (bwd && need_dx &&
        (dnnl_convolution_backward_data_desc_init(&cd, alg, mx, mw, my, strides, pad, pad) != dnnl_success ||
         dnnl_primitive_desc_create(&pd[P_BWD_D], &cd, attr, engine, pd[P_FWD]) != dnnl_success))
        goto fail;
    if (bwd &&
        (dnnl_convolution_backward_weights_desc_init(&cw, alg, mx, mw, mb, my, strides, pad, pad) != dnnl_success ||
         dnnl_primitive_desc_create(&pd[P_BWD_W], &cw, attr, engine, pd[P_FWD]) != dnnl_success))
        goto fail;
    return 0;
fail:
    for (int p = 0; p < N_PASS; p++)
        if (pd[p])
            dnnl_primitive_desc_destroy(pd[p]);
    memset(pd, 0, N_PASS * sizeof *pd);
    return -1;
}

/* The ports and primitives of c from its descriptors; 0 or TS_ERUN. */
static int make_layer(dnn_conv_t *c, dnnl_primitive_desc_t pd[N_PASS], const dnnl_memory_desc_t *ux,
                      const dnnl_memory_desc_t *uw, const dnnl_memory_desc_t *ub,
                      const dnnl_memory_desc_t *uy)
{
    int rc = 0;
    const_dnnl_primitive_desc_t f = pd[P_FWD], d = pd[P_BWD_D], w = pd[P_BWD_W];
    rc |= port_init(&c->f[F_SRC], f, dnnl_query_src_md, 0, ux, 0, SLOT_X);
    rc |= port_init(&c->f[F_WEI], f, dnnl_query_weights_md, 0, uw, 0, SLOT_OWN);
    rc |= port_init(&c->f[F_BIAS], f, dnnl_query_weights_md, 1, ub, 0, SLOT_OWN);
    rc |= port_init(&c->f[F_DST], f, dnnl_query_dst_md, 0, uy, 1, SLOT_Y);
    rc |= make_prim(c, P_FWD, f);
    if (d) {
        rc |= port_init(&c->d[D_DDST], d, dnnl_query_diff_dst_md, 0, uy, 0, SLOT_DY);
        rc |= port_init(&c->d[D_WEI], d, dnnl_query_weights_md, 0, uw, 0, SLOT_OWN);
        rc |= port_init(&c->d[D_DSRC], d, dnnl_query_diff_src_md, 0, ux, 1, SLOT_DX);
        rc |= make_prim(c, P_BWD_D, d);
    }
    if (w) {
        rc |= port_init(&c->wg[W_SRC], w, dnnl_query_src_md, 0, ux, 0, SLOT_X);
        rc |= port_init(&c->wg[W_DDST], w, dnnl_query_diff_dst_md, 0, uy, 0, SLOT_DY);
        rc |= port_init(&c->wg[W_DWEI], w, dnnl_query_diff_weights_md, 0, uw, 1, SLOT_OWN);
        rc |= port_init(&c->wg[W_DBIAS], w, dnnl_query_diff_weights_md, 1, ub, 1, SLOT_OWN);
        rc |= make_prim(c, P_BWD_W, w);
        /* dy in the same format for both backward passes: reorder it once */
        port_t *a = &c->d[D_DDST], *b = &c->wg[W_DDST];
        if (!rc && d && a->reorder && b->reorder &&
            dnnl_memory_desc_equal(dnnl_primitive_desc_query_md(d, dnnl_query_diff_dst_md, 0),
                                   dnnl_primitive_desc_query_md(w, dnnl_query_diff_dst_md, 0))) {
            dnnl_primitive_destroy(b->reorder);
            dnnl_memory_destroy(b->prim);
            b->reorder = NULL;
            b->prim = a->prim;
            b->shared = 1;
        }
    }
    return rc ? TS_ERUN : 0;
}

/* Our plain layouts of a layer: x, w, b, y. */
typedef struct {
    dnnl_memory_desc_t x, w, b, y;
} user_mds_t;

/*
 * The primitive descriptors of a layer by the rule (Winograd for c_in >=
 * 16 where oneDNN has it, else direct) into pd, our layouts into u; 0, or
 * TS_ERUN with a message (every pd freed).
 */
static int layer_pds(int b, int c_in, int c_out, int h, int w, int need_dx, int bwd,
                     dnnl_primitive_desc_t pd[N_PASS], user_mds_t *u)
{
    dnnl_dims_t dx = {b, c_in, h, w}, dy = {b, c_out, h, w}, dw = {c_out, c_in, 3, 3}, db = {c_out};
    dnnl_memory_desc_t ax, ay, aw;
    dnnl_primitive_attr_t attr = NULL;
    memset(pd, 0, N_PASS * sizeof *pd);
    if (dnnl_memory_desc_init_by_tag(&u->x, 4, dx, dnnl_f32, dnnl_nchw) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&u->y, 4, dy, dnnl_f32, dnnl_nchw) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&u->w, 4, dw, dnnl_f32, dnnl_oihw) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&u->b, 1, db, dnnl_f32, dnnl_a) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&ax, 4, dx, dnnl_f32, dnnl_format_tag_any) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&ay, 4, dy, dnnl_f32, dnnl_format_tag_any) != dnnl_success ||
        dnnl_memory_desc_init_by_tag(&aw, 4, dw, dnnl_f32, dnnl_format_tag_any) != dnnl_success ||
        dnnl_primitive_attr_create(&attr) != dnnl_success ||
        dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user) != dnnl_success) {
        if (attr)
            dnnl_primitive_attr_destroy(attr);
        return ts_fail(TS_ERUN, "oneDNN: cannot describe a convolution");
    }
    /* the rule; direct where oneDNN has no Winograd for this layer here */
    int rc = 0;
    if (!(dnn_conv_winograd(c_in) && !make_pds(pd, dnnl_convolution_winograd, attr, &ax, &aw, &u->b, &ay, need_dx, bwd)) &&
        make_pds(pd, dnnl_convolution_direct, attr, &ax, &aw, &u->b, &ay, need_dx, bwd))
        rc = ts_fail(TS_ERUN, "oneDNN has no convolution for %d -> %d channels of %dx%d", c_in, c_out, h, w);
    dnnl_primitive_attr_destroy(attr);
    return rc;
}

/* Bytes of a port of pd's operand `what` (i) over our layout: 0 when the
 * primitive takes our layout as it is. */
static size_t port_bytes(const_dnnl_primitive_desc_t pd, dnnl_query_t what, int i, const dnnl_memory_desc_t *user)
{
    const dnnl_memory_desc_t *md = pd ? dnnl_primitive_desc_query_md(pd, what, i) : NULL;
    return md && !dnnl_memory_desc_equal(md, user) ? dnnl_memory_desc_get_size(md) : 0;
}

static size_t max_size(size_t a, size_t b)
{
    return a > b ? a : b;
}

int dnn_conv_needs(int b, int c_in, int c_out, int h, int w, int need_dx, size_t need[DNN_NEEDS])
{
    dnnl_primitive_desc_t pd[N_PASS];
    user_mds_t u;
    memset(need, 0, DNN_NEEDS * sizeof *need);
    if (dnn_init() || layer_pds(b, c_in, c_out, h, w, need_dx, 1, pd, &u))
        return TS_ERUN;
    const_dnnl_primitive_desc_t f = pd[P_FWD], d = pd[P_BWD_D], g = pd[P_BWD_W];
    for (int p = 0; p < N_PASS; p++) {
        const dnnl_memory_desc_t *smd = pd[p] ? dnnl_primitive_desc_query_md(pd[p], dnnl_query_scratchpad_md, 0) : NULL;
        if (smd)
            need[DNN_NEED_SCRATCH] = max_size(need[DNN_NEED_SCRATCH], dnnl_memory_desc_get_size(smd));
    }
    need[DNN_NEED_X] = max_size(port_bytes(f, dnnl_query_src_md, 0, &u.x), port_bytes(g, dnnl_query_src_md, 0, &u.x));
    need[DNN_NEED_Y] = port_bytes(f, dnnl_query_dst_md, 0, &u.y);
    need[DNN_NEED_DY] = max_size(port_bytes(d, dnnl_query_diff_dst_md, 0, &u.y),
                                 port_bytes(g, dnnl_query_diff_dst_md, 0, &u.y));
    need[DNN_NEED_DX] = port_bytes(d, dnnl_query_diff_src_md, 0, &u.x);
    need[DNN_NEED_OWN] = port_bytes(f, dnnl_query_weights_md, 0, &u.w) + port_bytes(f, dnnl_query_weights_md, 1, &u.b) +
                         port_bytes(d, dnnl_query_weights_md, 0, &u.w) +
                         port_bytes(g, dnnl_query_diff_weights_md, 0, &u.w) +
                         port_bytes(g, dnnl_query_diff_weights_md, 1, &u.b);
    for (int p = 0; p < N_PASS; p++)
        if (pd[p])
            dnnl_primitive_desc_destroy(pd[p]);
    return 0;
}

dnn_conv_t *dnn_conv_create(int b, int c_in, int c_out, int h, int w, int need_dx, int bwd)
{
    if (dnn_init())
        return NULL;
    dnn_conv_t *c = ts_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->b = b, c->c_in = c_in, c->c_out = c_out, c->h = h, c->w = w;
    user_mds_t u;
    dnnl_primitive_desc_t pd[N_PASS] = {0};
    if (layer_pds(b, c_in, c_out, h, w, need_dx, bwd, pd, &u)) {
        dnn_conv_free(c);
        return NULL;
    }
    if (make_layer(c, pd, &u.x, &u.w, &u.b, &u.y)) {
        for (int p = 0; p < N_PASS; p++)
            if (pd[p])
                dnnl_primitive_desc_destroy(pd[p]);
        ts_fail(TS_ERUN, "oneDNN: out of memory for a convolution's primitives");
        dnn_conv_free(c);
        return NULL;
    }
    for (int p = 0; p < N_PASS; p++)
        if (pd[p])
            dnnl_primitive_desc_destroy(pd[p]);
    return c;
}

void dnn_conv_free(dnn_conv_t *c)
{
    if (!c)
        return;
    for (int i = 0; i < DNN_TAILS; i++)
        dnn_conv_free(c->tail[i]);
    /* the shared dy buffer belongs to the backward-data port: free the other first */
    for (int i = 0; i < N_W; i++)
        port_free(&c->wg[i]);
    for (int i = 0; i < N_D; i++)
        port_free(&c->d[i]);
    for (int i = 0; i < N_F; i++)
        port_free(&c->f[i]);
    for (int p = 0; p < N_PASS; p++) {
        if (c->prim[p])
            dnnl_primitive_destroy(c->prim[p]);
        if (c->scratch[p])
            dnnl_memory_destroy(c->scratch[p]);
    }
    free(c);
}

/* Execute pass p on its ports (n of them, in the order of args), with its
 * scratchpad; 0 or TS_ERUN (no memory for this thread's scratchpad). */
static int run(dnn_conv_t *c, int p, port_t *ports, const int *args, int n)
{
    dnnl_exec_arg_t a[N_W + 1];
    for (int i = 0; i < n; i++)
        a[i].arg = args[i], a[i].memory = ports[i].cur;
    if (c->scratch[p]) {
        if (slot_need(SLOT_SCRATCH, c->scratch_bytes[p]))
            return ts_fail(TS_ERUN, "oneDNN: out of memory for a scratchpad");
        dnnl_memory_set_data_handle(c->scratch[p], slots[SLOT_SCRATCH].buf);
        a[n].arg = DNNL_ARG_SCRATCHPAD, a[n++].memory = c->scratch[p];
    }
    exec(c->prim[p], n, a, &t_prim);
    return 0;
}

int dnn_conv_forward(dnn_conv_t *c, const float *x, const float *wt, const float *bias, int b,
                     float *y, int blocked)
{
    if (!stream_of())
        return ts_fail(TS_ERUN, "oneDNN: cannot create a stream");
    if (b != c->b) {
        /* an evaluation's last slices: the few sizes seen lately, kept */
        int i = 0;
        while (i < DNN_TAILS && c->tail[i] && c->tail[i]->b != b)
            i++;
        dnn_conv_t *t = i < DNN_TAILS ? c->tail[i] : NULL;
        if (!t) {
            i = DNN_TAILS - 1; /* a new size takes the place of the oldest */
            dnn_conv_free(c->tail[i]);
            c->tail[i] = NULL;
            if (!(t = dnn_conv_create(b, c->c_in, c->c_out, c->h, c->w, 0, 0)))
                return TS_ERUN;
        }
        memmove(c->tail + 1, c->tail, (size_t)i * sizeof *c->tail);
        c->tail[0] = t;
        c = t;
        blocked = 0; /* chains are of the layer's own batch */
    }
    if (port_in(&c->f[F_SRC], x, blocked & DNN_X_BLOCKED) || port_in(&c->f[F_WEI], wt, 0) ||
        port_in(&c->f[F_BIAS], bias, 0) || port_in(&c->f[F_DST], y, blocked & DNN_Y_BLOCKED) ||
        run(c, P_FWD, c->f, ARG_F, N_F))
        return TS_ERUN;
    port_out(&c->f[F_DST]);
    dnnl_stream_wait(stream);
    return 0;
}

int dnn_conv_backward(dnn_conv_t *c, const float *x, const float *wt, const float *dy,
                      float *dwt, float *dbias, float *dx, int blocked)
{
    int xb = blocked & DNN_X_BLOCKED, yb = blocked & DNN_Y_BLOCKED, dy_done = 0;
    if (!stream_of())
        return ts_fail(TS_ERUN, "oneDNN: cannot create a stream");
    if (dx && c->prim[P_BWD_D]) {
        if (port_in(&c->d[D_DDST], dy, yb) || port_in(&c->d[D_WEI], wt, 0) ||
            port_in(&c->d[D_DSRC], dx, xb) || run(c, P_BWD_D, c->d, ARG_D, N_D))
            return TS_ERUN;
        port_out(&c->d[D_DSRC]);
        dy_done = 1;
    }
    if (port_in(&c->wg[W_SRC], x, xb))
        return TS_ERUN;
    if (c->wg[W_DDST].shared) { /* the backward-data port's dy, reordered once */
        if (!dy_done && port_in(&c->d[D_DDST], dy, yb))
            return TS_ERUN;
        c->wg[W_DDST].cur = c->d[D_DDST].cur;
    } else if (port_in(&c->wg[W_DDST], dy, yb)) {
        return TS_ERUN;
    }
    if (port_in(&c->wg[W_DWEI], dwt, 0) || port_in(&c->wg[W_DBIAS], dbias, 0) ||
        run(c, P_BWD_W, c->wg, ARG_W, N_W))
        return TS_ERUN;
    port_out(&c->wg[W_DWEI]);
    port_out(&c->wg[W_DBIAS]);
    dnnl_stream_wait(stream);
    return 0;
}

int dnn_conv_chains(const dnn_conv_t *a, const dnn_conv_t *b)
{
    if (!a || !b || a->b != b->b || a->c_out != b->c_in || a->h != b->h || a->w != b->w ||
        !a->prim[P_BWD_W] || !b->prim[P_BWD_W] || !b->prim[P_BWD_D])
        return 0;
    const dnnl_memory_desc_t *m = &a->f[F_DST].md;
    if (dnnl_memory_desc_get_size(m) != (size_t)a->b * a->c_out * a->h * a->w * sizeof(float))
        return 0; /* padded channel blocks: not the size of our buffers */
    return dnnl_memory_desc_equal(m, &a->wg[W_DDST].md) &&
           (!a->prim[P_BWD_D] || dnnl_memory_desc_equal(m, &a->d[D_DDST].md)) &&
           dnnl_memory_desc_equal(m, &b->f[F_SRC].md) && dnnl_memory_desc_equal(m, &b->wg[W_SRC].md) &&
           dnnl_memory_desc_equal(m, &b->d[D_DSRC].md);
}

const char *dnn_conv_impl(const dnn_conv_t *c, int p)
{
    return c && p >= 0 && p < N_PASS ? c->impl[p] : "";
}

#endif /* TS_HAVE_DNNL */
