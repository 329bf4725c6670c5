/*
 * store.c - the HDF5 results file (see store.h for the parallel pattern).
 *
 * Every dataset is contiguous, allocated when created and never filled (the
 * writers write every byte a reader may look at), so after the up-front
 * creation no metadata changes: raw writes only. Every HDF5 call is checked;
 * H5_TRY turns a failure into a ts_fail message with the source line.
 */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "data.h"
#include "err.h"
#include "grid.h"
#include "store.h"
#include "util.h"

#define STORE_MAX_DS 128
/* what input_shape may say: the data readers' channels, and sides far beyond
 * any image a sweep trains on */
#define STORE_MAX_SIDE 65536

/* A dataset of the file and what its rows hold. */
typedef struct {
    char path[96];
    hid_t id;
    int kind;   /* what a trial row holds: DS_* below */
    int arm, metric, layer;
    hid_t memtype;
} store_ds_t;

struct store {
    hid_t file;
    MPI_Comm comm;
    int rank;
    int T, R1, E, n_seeds, N;
    const config_t *cfg;
    const net_t *net;      /* the layer table: shapes of masks and theta0 */
    const graph_t *g;      /* the trainings */
    int has_prov;          /* how many of the provenance datasets (/nodes/cpu, ...: prov.h) the
                              file has: the first has_prov of prov_names, 0 for none */
    int32_t *mask_row;     /* [N] row of a training's mask in /nodes/mask, -1 (reinit) for none */
    int n_mask_rows;
    uint8_t *pack;         /* [W / 8 rounded up] packing scratch */
    int n_ds;
    store_ds_t ds[STORE_MAX_DS];
    char path[CFG_PATH];
};

enum {
    DS_CURVE, DS_DENSITY, DS_ES_ITER, DS_ES_ACC, DS_FINAL_ACC, DS_MASK, /* per arm */
    DS_REWIND_W, DS_REWIND_B,                                           /* per seed */
    DS_STATUS, DS_ERROR, DS_WALL, DS_RANK, DS_HOST,                     /* ledger */
    DS_NODE,                                                            /* per training */
    DS_OTHER                                                            /* written once */
};

#define ERROR_LEN 160
#define HOST_LEN 64

#define H5_TRY(call)                                                                    \
    do {                                                                                 \
        if ((call) < 0)                                                                  \
            return ts_fail(TS_ERUN, "%s: HDF5 call failed (%s:%d): %s", s->path, __FILE__, \
                           __LINE__, #call);                                             \
    } while (0)

static hid_t str_type(size_t len)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, len);
    H5Tset_strpad(t, H5T_STR_NULLTERM);
    return t;
}

/* Create groups along path (collective). */
static int make_groups(store_t *s, const char *path)
{
    char buf[128];
    for (const char *p = strchr(path + 1, '/'); p; p = strchr(p + 1, '/')) {
        snprintf(buf, sizeof buf, "%.*s", (int)(p - path), path);
        htri_t exists = H5Lexists(s->file, buf, H5P_DEFAULT);
        H5_TRY(exists);
        if (!exists) {
            hid_t g = H5Gcreate2(s->file, buf, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            H5_TRY(g);
            H5Gclose(g);
        }
    }
    return 0;
}

/* "[2, 3, 4]" into buf. */
static void dims_text(char *buf, size_t len, int rank, const hsize_t *dims)
{
    size_t used = (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < rank && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%llu", i ? ", " : "",
                                 (unsigned long long)dims[i]);
    if (used < len)
        snprintf(buf + used, len - used, "]");
}

/* An opened dataset must have exactly the shape the job gives it: every read
 * goes into a buffer of that shape (the whole dataset, or a row of it), so a
 * file from elsewhere with larger dimensions must not get that far. */
static int check_dims(store_t *s, const char *path, hid_t id, int rank, const hsize_t *dims)
{
    hsize_t have[H5S_MAX_RANK];
    hid_t sp = H5Dget_space(id);
    int n = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
    int ok = n == rank && H5Sget_simple_extent_dims(sp, have, NULL) == rank;
    for (int i = 0; ok && i < rank; i++)
        ok = have[i] == dims[i];
    if (sp >= 0)
        H5Sclose(sp);
    if (ok)
        return 0;
    char want[160], got[160] = "unreadable";
    dims_text(want, sizeof want, rank, dims);
    if (n >= 0)
        dims_text(got, sizeof got, n, have);
    return ts_fail(TS_EINPUT, "%s: damaged results file: %s has shape %s, its job's is %s", s->path, path,
                   got, want);
}

/* Register (and create or open) one dataset. filetype NULL-equivalent: memtype. */
static int add_ds(store_t *s, int create, const char *path, int kind, int arm, int metric,
                  int layer, hid_t memtype, hid_t filetype, int rank, const hsize_t *dims)
{
    if (s->n_ds == STORE_MAX_DS)
        return ts_fail(TS_ERUN, "%s: too many datasets", s->path);
    store_ds_t *d = &s->ds[s->n_ds];
    snprintf(d->path, sizeof d->path, "%s", path);
    d->kind = kind;
    d->arm = arm;
    d->metric = metric;
    d->layer = layer;
    d->memtype = memtype;
    if (create) {
        if (make_groups(s, path))
            return TS_ERUN;
        hid_t space = H5Screate_simple(rank, dims, NULL);
        hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5_TRY(space);
        H5_TRY(dcpl);
        H5_TRY(H5Pset_layout(dcpl, H5D_CONTIGUOUS));
        H5_TRY(H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY));
        H5_TRY(H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER));
        d->id = H5Dcreate2(s->file, path, filetype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
        H5Pclose(dcpl);
        H5Sclose(space);
    } else {
        d->id = H5Dopen2(s->file, path, H5P_DEFAULT);
    }
    if (d->id < 0)
        return ts_fail(create ? TS_ERUN : TS_EINPUT, "%s: cannot %s dataset %s", s->path,
                       create ? "create" : "open", path);
    int rc = create ? 0 : check_dims(s, path, d->id, rank, dims);
    if (rc) {
        H5Dclose(d->id);
        return rc;
    }
    s->n_ds++;
    return 0;
}

/* All datasets of the layout, in a fixed order (create or open). */
static int layout(store_t *s, int create)
{
    const config_t *cfg = s->cfg;
    const net_t *net = s->net;
    char p[128];
    hsize_t T = (hsize_t)s->T, R1 = (hsize_t)s->R1, E = (hsize_t)s->E, S = (hsize_t)s->n_seeds;
    hid_t f32 = H5T_NATIVE_FLOAT, f64 = H5T_NATIVE_DOUBLE, i32 = H5T_NATIVE_INT32;
    hid_t i64 = H5T_NATIVE_INT64, u8 = H5T_NATIVE_UINT8, i8 = H5T_NATIVE_INT8;
    hid_t fle32 = H5T_IEEE_F32LE, fle64 = H5T_IEEE_F64LE, sle32 = H5T_STD_I32LE;
    hid_t sle64 = H5T_STD_I64LE, ule8 = H5T_STD_U8LE, sle8 = H5T_STD_I8LE;
    static hid_t err_t = -1, host_t = -1, prov_t_ = -1;
    if (err_t < 0) {
        err_t = str_type(ERROR_LEN);
        host_t = str_type(HOST_LEN);
        prov_t_ = str_type(PROV_LEN);
    }
    int rc = 0;
#define ADD(path, kind, arm, metric, layer, mt, ft, rank, ...)                           \
    do {                                                                                  \
        hsize_t dims_[] = {__VA_ARGS__};                                                  \
        if ((rc = add_ds(s, create, path, kind, arm, metric, layer, mt, ft, rank, dims_))) \
            return rc;                                                                    \
    } while (0)

    int n_axis;
    grid_axis(cfg, &n_axis);
    ADD(cfg->n_per_round ? "/grid/per_round" : "/grid/rates", DS_OTHER, 0, 0, 0, f64, fle64, 1,
        (hsize_t)n_axis);
    ADD("/grid/rounds", DS_OTHER, 0, 0, 0, i32, sle32, 1, (hsize_t)cfg->n_rounds);
    ADD("/grid/seeds", DS_OTHER, 0, 0, 0, i64, sle64, 1, S);
    ADD("/trials/rate", DS_OTHER, 0, 0, 0, f64, fle64, 1, T);
    ADD("/trials/rounds", DS_OTHER, 0, 0, 0, i32, sle32, 1, T);
    ADD("/trials/seed", DS_OTHER, 0, 0, 0, i64, sle64, 1, T);
    ADD("/trials/status", DS_STATUS, 0, 0, 0, i8, sle8, 1, T);
    ADD("/trials/error", DS_ERROR, 0, 0, 0, err_t, err_t, 1, T);
    ADD("/trials/wall_seconds", DS_WALL, 0, 0, 0, f64, fle64, 1, T);
    ADD("/trials/rank", DS_RANK, 0, 0, 0, i32, sle32, 1, T);
    ADD("/trials/host", DS_HOST, 0, 0, 0, host_t, host_t, 1, T);
    ADD("/curves/iteration", DS_OTHER, 0, 0, 0, i32, sle32, 1, E);
    /* the graph of trainings: one row per node, and each cell's nodes */
    hsize_t N = (hsize_t)s->N, W = (hsize_t)net->n_weights;
    ADD("/trials/nodes", DS_OTHER, 0, 0, 0, i32, sle32, 3, T, (hsize_t)N_ARMS, R1);
    ADD("/nodes/seed_index", DS_OTHER, 0, 0, 0, i32, sle32, 1, N);
    ADD("/nodes/arm", DS_OTHER, 0, 0, 0, i8, sle8, 1, N);
    ADD("/nodes/round", DS_OTHER, 0, 0, 0, i32, sle32, 1, N);
    ADD("/nodes/prev", DS_OTHER, 0, 0, 0, i32, sle32, 1, N);
    ADD("/nodes/twin", DS_OTHER, 0, 0, 0, i32, sle32, 1, N);
    ADD("/nodes/key", DS_OTHER, 0, 0, 0, H5T_NATIVE_UINT64, H5T_STD_U64LE, 1, N);
    ADD("/nodes/status", DS_NODE, 0, 0, 0, i8, sle8, 1, N);
    ADD("/nodes/error", DS_NODE, 0, 0, 0, err_t, err_t, 1, N);
    ADD("/nodes/wall_seconds", DS_NODE, 0, 0, 0, f64, fle64, 1, N);
    ADD("/nodes/rank", DS_NODE, 0, 0, 0, i32, sle32, 1, N);
    ADD("/nodes/host", DS_NODE, 0, 0, 0, host_t, host_t, 1, N);
    ADD("/nodes/mask_row", DS_OTHER, 0, 0, 0, i32, sle32, 1, N);
    ADD("/nodes/mask", DS_NODE, 0, 0, 0, u8, ule8, 2, (hsize_t)s->n_mask_rows, (W + 7) / 8);
    if (cfg->weights == WEIGHTS_FINAL)
        ADD("/nodes/weights", DS_NODE, 0, 0, 0, f32, fle32, 2, N, (hsize_t)net->n_params);
    /* provenance (prov.h): added within format 2, field by field at the end
     * (conv last), so a file of an earlier release lacks it or its last
     * fields; such a file opens, and records what it has */
    s->has_prov = 0;
    for (int k = 0; k < PROV_FIELDS; k++) {
        snprintf(p, sizeof p, "/nodes/%s", prov_names[k]);
        htri_t there = create ? 1 : H5Lexists(s->file, p, H5P_DEFAULT);
        if (there <= 0)
            break;
        ADD(p, DS_NODE, 0, 0, 0, prov_t_, prov_t_, 1, N);
        s->has_prov = k + 1;
    }
    /* per layer with parameters: [S or T, weight shape...] (fc [out, in], conv [out, in, 3, 3]) */
    hsize_t wdims[5], bdims[2];
#define LAYER_DIMS(lead, L)                                  \
    do {                                                     \
        wdims[0] = bdims[0] = (lead);                        \
        for (int d_ = 0; d_ < (L)->ndim; d_++)               \
            wdims[d_ + 1] = (hsize_t)(L)->dims[d_];          \
        bdims[1] = (hsize_t)(L)->out_c;                      \
    } while (0)
    for (int l = 0; l < net->n_layers; l++) {
        const net_layer_t *L = &net->layers[l];
        if (!net_has_params(L))
            continue;
        LAYER_DIMS(S, L);
        snprintf(p, sizeof p, "/init/%s/weight", L->name);
        if ((rc = add_ds(s, create, p, DS_OTHER, 0, 0, l, f32, fle32, 1 + L->ndim, wdims)))
            return rc;
        snprintf(p, sizeof p, "/init/%s/bias", L->name);
        if ((rc = add_ds(s, create, p, DS_OTHER, 0, 0, l, f32, fle32, 2, bdims)))
            return rc;
        if (cfg->rewind_iteration > 0) {
            snprintf(p, sizeof p, "/rewind/%s/weight", L->name);
            if ((rc = add_ds(s, create, p, DS_REWIND_W, 0, 0, l, f32, fle32, 1 + L->ndim, wdims)))
                return rc;
            snprintf(p, sizeof p, "/rewind/%s/bias", L->name);
            if ((rc = add_ds(s, create, p, DS_REWIND_B, 0, 0, l, f32, fle32, 2, bdims)))
                return rc;
        }
    }
    for (int a = 0; a < N_ARMS; a++) {
        if ((a == ARM_REINIT && !(cfg->controls & CTRL_REINIT)) ||
            (a == ARM_RANDOM && !(cfg->controls & CTRL_RANDOM)))
            continue;
        char pre[32] = "";
        if (a != ARM_TICKET)
            snprintf(pre, sizeof pre, "/controls/%s", trial_arm_names[a]);
        for (int m = 0; m < N_METRICS; m++) {
            snprintf(p, sizeof p, "%s/curves/%s", pre, trial_metric_names[m]);
            ADD(p, DS_CURVE, a, m, 0, f32, fle32, 3, T, R1, E);
        }
        snprintf(p, sizeof p, "%s/summary/density", pre);
        ADD(p, DS_DENSITY, a, 0, 0, f64, fle64, 2, T, R1);
        snprintf(p, sizeof p, "%s/summary/early_stop_iter", pre);
        ADD(p, DS_ES_ITER, a, 0, 0, i32, sle32, 2, T, R1);
        snprintf(p, sizeof p, "%s/summary/early_stop_test_acc", pre);
        ADD(p, DS_ES_ACC, a, 0, 0, f32, fle32, 2, T, R1);
        snprintf(p, sizeof p, "%s/summary/final_test_acc", pre);
        ADD(p, DS_FINAL_ACC, a, 0, 0, f32, fle32, 2, T, R1);
        if (a == ARM_REINIT) /* the reinit control trains the ticket's masks */
            continue;
        for (int l = 0; l < net->n_layers; l++) {
            const net_layer_t *L = &net->layers[l];
            if (!net_has_params(L))
                continue;
            LAYER_DIMS(T, L);
            snprintf(p, sizeof p, "%s/masks/%s", pre, L->name);
            if ((rc = add_ds(s, create, p, DS_MASK, a, 0, l, u8, ule8, 1 + L->ndim, wdims)))
                return rc;
        }
    }
#undef ADD
#undef LAYER_DIMS
    return 0;
}

static store_ds_t *find_ds(store_t *s, const char *path)
{
    for (int i = 0; i < s->n_ds; i++)
        if (!strcmp(s->ds[i].path, path))
            return &s->ds[i];
    return NULL;
}

double store_free_bytes(const char *path)
{
    char dir[CFG_PATH];
    struct statvfs v;
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir] = 0; /* "/x.h5" -> "/" */
    else
        snprintf(dir, sizeof dir, ".");
    return statvfs(dir, &v) == 0 ? (double)v.f_bavail * v.f_frsize : -1;
}

/* HDF5's MPI-IO driver does not pass on the system's reason for a failed
 * write; a file system with (almost) no room left is the usual one. */
static int disk_full(const char *path)
{
    double room = store_free_bytes(path);
    return room >= 0 && room < 1 << 20;
}

/* Error-stack walker: keep the innermost description (the system's reason). */
static herr_t deepest(unsigned n, const H5E_error2_t *e, void *data)
{
    if (n == 0 && e->desc)
        snprintf(data, 256, "%s", e->desc);
    return 0;
}

/*
 * Write (or read) a slab of dataset d: start[i] .. start[i] + count[i] in the
 * first `n` dimensions, every element of the others.
 */
static int rw_slab(store_t *s, const store_ds_t *d, int n, const hsize_t *start0,
                   const hsize_t *count0, void *buf, int write)
{
    hsize_t dims[H5S_MAX_RANK], start[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
    if (!d)
        return ts_fail(TS_ERUN, "%s: a dataset is missing", s->path);
    hid_t fspace = H5Dget_space(d->id);
    H5_TRY(fspace);
    int rank = H5Sget_simple_extent_dims(fspace, dims, NULL);
    if (rank < n) {
        H5Sclose(fspace);
        return ts_fail(TS_EINPUT, "%s: %s has %d dimensions, expected at least %d", s->path, d->path,
                       rank, n);
    }
    for (int i = 0; i < rank; i++) {
        start[i] = i < n ? start0[i] : 0;
        count[i] = i < n ? count0[i] : dims[i];
        if (start[i] + count[i] > dims[i]) {
            H5Sclose(fspace);
            return ts_fail(TS_EINPUT, "%s: %s is too small (dimension %d is %llu)", s->path, d->path,
                           i, (unsigned long long)dims[i]);
        }
    }
    hid_t mspace = H5Screate_simple(rank, count, NULL);
    herr_t e = mspace < 0 ? -1 : H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL);
    errno = 0;
    if (e >= 0)
        e = write ? H5Dwrite(d->id, d->memtype, mspace, fspace, H5P_DEFAULT, buf)
                  : H5Dread(d->id, d->memtype, mspace, fspace, H5P_DEFAULT, buf);
    char why[256] = "HDF5 error";
    if (e < 0) /* before the next HDF5 call clears the error stack */
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, deepest, why);
    if (mspace >= 0)
        H5Sclose(mspace);
    H5Sclose(fspace);
    if (e < 0)
        return ts_fail(TS_ERUN, "%s: cannot %s row %llu of %s: %s%s", s->path,
                       write ? "write" : "read", (unsigned long long)start0[0], d->path, why,
                       write && disk_full(s->path) ? " (the file system is full: resume once there is room)"
                                                   : "");
    return 0;
}

/* Write (or read) row `row` of dataset d: the slab [row, :, ...]. */
static int rw_row(store_t *s, const store_ds_t *d, hsize_t row, void *buf, int write)
{
    hsize_t one = 1;
    return rw_slab(s, d, 1, &row, &one, buf, write);
}

/* Whole-dataset write of something small (rank 0, at creation). */
static int write_all(store_t *s, const char *path, const void *buf)
{
    store_ds_t *d = find_ds(s, path);
    if (!d || H5Dwrite(d->id, d->memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        return ts_fail(TS_ERUN, "%s: cannot write %s", s->path, path);
    return 0;
}

/* The graph's node table and each cell's nodes (rank 0, at creation). */
static int write_node_table(store_t *s)
{
    const graph_t *g = s->g;
    size_t N = (size_t)g->N;
    int32_t *seed = ts_calloc(N + 1, sizeof *seed), *round = ts_calloc(N + 1, sizeof *round);
    int32_t *prev = ts_calloc(N + 1, sizeof *prev), *twin = ts_calloc(N + 1, sizeof *twin);
    int32_t *rank = ts_calloc(N + 1, sizeof *rank);
    int8_t *arm = ts_calloc(N + 1, 1), *status = ts_calloc(N + 1, 1);
    uint64_t *key = ts_calloc(N + 1, sizeof *key);
    double *wall = ts_calloc(N + 1, sizeof *wall);
    char *err = ts_calloc(N + 1, ERROR_LEN), *host = ts_calloc(N + 1, HOST_LEN);
    int rc = !seed || !round || !prev || !twin || !rank || !arm || !status || !key || !wall || !err ||
                     !host
                 ? TS_ERUN
                 : 0;
    for (size_t x = 0; !rc && x < N; x++) {
        const graph_node_t *n = &g->nodes[x];
        seed[x] = n->seed_i;
        arm[x] = n->arm;
        round[x] = n->round;
        prev[x] = n->prev;
        twin[x] = n->twin;
        key[x] = n->key;
        wall[x] = NAN;
        rank[x] = -1;
    }
    const char *names[] = {"/nodes/seed_index", "/nodes/arm", "/nodes/round", "/nodes/prev",
                           "/nodes/twin", "/nodes/key", "/nodes/status", "/nodes/error",
                           "/nodes/wall_seconds", "/nodes/rank", "/nodes/host", "/trials/nodes",
                           "/nodes/mask_row"};
    const void *bufs[] = {seed, arm, round, prev, twin, key, status, err, wall, rank, host, g->cell_node,
                          s->mask_row};
    for (int i = 0; !rc && i < (int)(sizeof names / sizeof names[0]); i++)
        rc = write_all(s, names[i], bufs[i]);
    free(seed), free(round), free(prev), free(twin), free(rank), free(arm), free(status);
    free(key), free(wall), free(err), free(host);
    return rc;
}

static int write_attr_str(store_t *s, const char *name, const char *value)
{
    hid_t t = str_type(strlen(value) + 1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(s->file, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, t, value);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    H5_TRY(e);
    return 0;
}

/* An int32 attribute: a scalar when n == 1, else a vector of n. */
static int write_attr_ints(store_t *s, const char *name, const int *value, int n)
{
    hsize_t dim = (hsize_t)n;
    hid_t sp = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    hid_t a = H5Acreate2(s->file, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_INT, value);
    if (a >= 0)
        H5Aclose(a);
    H5Sclose(sp);
    H5_TRY(e);
    return 0;
}

#define ATTR_STR_MAX (1 << 20) /* the job's text is a few KB */

/* Read a string attribute into a malloc'd buffer (NULL if absent, not one
 * fixed-length string, or longer than ATTR_STR_MAX). */
static char *read_attr_str(hid_t file, const char *name)
{
    if (H5Aexists(file, name) <= 0)
        return NULL;
    hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    hid_t ft = a < 0 ? -1 : H5Aget_type(a);
    hid_t sp = a < 0 ? -1 : H5Aget_space(a);
    char *out = NULL;
    /* one value: H5Aread writes every element of the attribute's space */
    int one = sp >= 0 && H5Sget_simple_extent_npoints(sp) == 1;
    if (sp >= 0)
        H5Sclose(sp);
    if (one && ft >= 0 && H5Tget_class(ft) == H5T_STRING && H5Tis_variable_str(ft) == 0 &&
        H5Tget_size(ft) > 0 && H5Tget_size(ft) <= ATTR_STR_MAX) {
        size_t len = H5Tget_size(ft);
        hid_t mt = str_type(len + 1);
        out = calloc(len + 2, 1);
        if (out && H5Aread(a, mt, out) < 0) {
            free(out);
            out = NULL;
        }
        H5Tclose(mt);
    }
    if (ft >= 0)
        H5Tclose(ft);
    if (a >= 0)
        H5Aclose(a);
    return out;
}

/* Read an int32 attribute of exactly n values (a scalar when n == 1). */
static int read_attr_ints(hid_t file, const char *name, int *value, int n)
{
    if (H5Aexists(file, name) <= 0)
        return -1;
    hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    hid_t sp = a < 0 ? -1 : H5Aget_space(a);
    herr_t e = sp < 0 || H5Sget_simple_extent_npoints(sp) != n ? -1 : H5Aread(a, H5T_NATIVE_INT, value);
    if (sp >= 0)
        H5Sclose(sp);
    if (a >= 0)
        H5Aclose(a);
    return e < 0 ? -1 : 0;
}

static hid_t make_fapl(MPI_Comm comm, int use_mpio)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return -1;
    if (use_mpio)
        H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL);
    /* Locks do not help a single writer per row and break on NFS/Lustre and for
     * readers of a file that is being written (ticketsweep status). */
    H5Pset_file_locking(fapl, 0, 1);
    return fapl;
}

static void store_init(store_t *s, const char *path, MPI_Comm comm, const config_t *cfg,
                       const net_t *net, const graph_t *g)
{
    memset(s, 0, sizeof *s);
    snprintf(s->path, sizeof s->path, "%s", path);
    s->comm = comm;
    MPI_Comm_rank(comm, &s->rank);
    s->cfg = cfg;
    s->net = net;
    s->T = grid_size(cfg);
    s->R1 = grid_max_rounds(cfg) + 1;
    s->E = trial_eval_count(cfg);
    s->n_seeds = cfg->n_seeds;
    s->g = g;
    s->N = g->N;
    s->file = -1;
    /* a mask row for every training but the reinit control's (it trains its twin's mask) */
    s->mask_row = ts_malloc(((size_t)g->N + 1) * sizeof *s->mask_row);
    s->pack = ts_malloc(net->n_weights / 8 + 1);
    for (int x = 0; s->mask_row && x < g->N; x++)
        s->mask_row[x] = g->nodes[x].arm == ARM_REINIT ? -1 : s->n_mask_rows++;
}

/* The root attributes (collective). */
static int write_root_attrs(store_t *s)
{
    const config_t *cfg = s->cfg;
    const net_t *net = s->net;
    char *text = config_to_string(cfg), hash[17], when[64], version[128];
    if (!text)
        return ts_fail(TS_ERUN, "out of memory");
    config_hash(cfg, hash);
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    snprintf(version, sizeof version, "ticketsweep %s", ts_version());
    int rc = write_attr_str(s, "format", STORE_FORMAT);
    if (!rc)
        rc = write_attr_ints(s, "format_version", (int[]){STORE_VERSION}, 1);
    if (!rc)
        rc = write_attr_str(s, "config", text);
    if (!rc)
        rc = write_attr_str(s, "config_hash", hash);
    if (!rc)
        rc = write_attr_str(s, "software_version", version);
    if (!rc)
        rc = write_attr_str(s, "created", when);
    if (!rc)
        rc = write_attr_ints(s, "input_dim", (int[]){(int)net->layers[0].in}, 1);
    if (!rc)
        rc = write_attr_ints(s, "input_shape", (int[]){net->in_c, net->in_h, net->in_w}, 3);
    if (!rc)
        rc = write_attr_ints(s, "graph_shared", (int[]){s->g->shared}, 1);
    free(text);
    return rc;
}

/* What is known before any training: the grid, trial and node tables (rank 0). */
static int write_tables(store_t *s)
{
    const config_t *cfg = s->cfg;
    int rc;
    double *rate = ts_calloc((size_t)s->T, sizeof(double));
    int32_t *rounds = ts_calloc((size_t)s->T, sizeof(int32_t)), *its;
    int64_t *seed = ts_calloc((size_t)s->T, sizeof(int64_t));
    int8_t *status = ts_calloc((size_t)s->T, 1);
    double *wall = ts_calloc((size_t)s->T, sizeof(double));
    int32_t *rank = ts_calloc((size_t)s->T, sizeof(int32_t));
    char *err = ts_calloc((size_t)s->T, ERROR_LEN), *host = ts_calloc((size_t)s->T, HOST_LEN);
    int32_t grid_rounds[CFG_MAX_LIST];
    its = ts_calloc((size_t)s->E, sizeof(int32_t));
    rc = !rate || !rounds || !seed || !status || !wall || !rank || !err || !host || !its
             ? TS_ERUN : 0;
    for (int t = 0; !rc && t < s->T; t++) {
        trial_t tr = grid_trial(cfg, t);
        rate[t] = tr.rate;
        rounds[t] = tr.rounds;
        seed[t] = tr.seed;
        wall[t] = NAN;
        rank[t] = -1;
    }
    for (int e = 0; !rc && e < s->E; e++)
        its[e] = (int32_t)trial_eval_iter(cfg, e);
    for (int i = 0; i < cfg->n_rounds; i++)
        grid_rounds[i] = cfg->rounds[i];
    if (!rc)
        rc = write_all(s, cfg->n_per_round ? "/grid/per_round" : "/grid/rates",
                       cfg->n_per_round ? cfg->per_round : cfg->rates);
    if (!rc)
        rc = write_node_table(s);
    if (!rc)
        rc = write_all(s, "/grid/rounds", grid_rounds);
    if (!rc)
        rc = write_all(s, "/grid/seeds", cfg->seeds);
    if (!rc)
        rc = write_all(s, "/trials/rate", rate);
    if (!rc)
        rc = write_all(s, "/trials/rounds", rounds);
    if (!rc)
        rc = write_all(s, "/trials/seed", seed);
    if (!rc)
        rc = write_all(s, "/trials/error", err);
    if (!rc)
        rc = write_all(s, "/trials/wall_seconds", wall);
    if (!rc)
        rc = write_all(s, "/trials/rank", rank);
    if (!rc)
        rc = write_all(s, "/trials/host", host);
    if (!rc)
        rc = write_all(s, "/curves/iteration", its);
    if (!rc)
        rc = write_all(s, "/trials/status", status);
    free(rate), free(rounds), free(seed), free(status), free(wall), free(rank);
    free(err), free(host), free(its);
    return rc;
}

/* Every rank's outcome of a step, agreed: the worst code wins everywhere, so
 * no rank enters the next collective call alone. */
static int agree_all(store_t *s, int rc)
{
    int size, in[2] = {rc, 0}, out[2];
    MPI_Comm_size(s->comm, &size);
    in[1] = rc ? s->rank : size; /* the first rank that failed tells the others why */
    if (MPI_Allreduce(in, out, 1, MPI_2INT, MPI_MINLOC, s->comm) != MPI_SUCCESS) /* one (value, rank) pair */
        return ts_fail(TS_ERUN, "%s: MPI_Allreduce failed while creating the file", s->path);
    if (!out[0])
        return 0;
    int first;
    MPI_Allreduce(&in[1], &first, 1, MPI_INT, MPI_MIN, s->comm);
    char msg[512];
    snprintf(msg, sizeof msg, "%s", ts_errmsg());
    MPI_Bcast(msg, sizeof msg, MPI_CHAR, first, s->comm);
    msg[sizeof msg - 1] = 0;
    if (s->rank != first)
        ts_fail(out[0], "rank %d: %s", first, msg);
    return out[0];
}

/* Close the file's datasets and the file (collective). */
static int close_file(store_t *s)
{
    int rc = 0;
    for (int i = 0; i < s->n_ds; i++)
        if (s->ds[i].id >= 0 && H5Dclose(s->ds[i].id) < 0)
            rc = ts_fail(TS_ERUN, "%s: cannot close %s", s->path, s->ds[i].path);
    s->n_ds = 0;
    if (s->file >= 0 && H5Fclose(s->file) < 0)
        rc = ts_fail(TS_ERUN, "%s: cannot close the results file (disk full?)", s->path);
    s->file = -1;
    return rc;
}

/* A fault on one rank for the tests: TICKETSWEEP_FAULT=store_create:RANK. */
static int injected_fault(const store_t *s, const char *where)
{
    const char *f = getenv("TICKETSWEEP_FAULT");
    size_t n = strlen(where);
    if (!f || strncmp(f, where, n) || f[n] != ':' || atoi(f + n + 1) != s->rank)
        return 0;
    return ts_fail(TS_ERUN, "%s: injected fault in %s on rank %d (TICKETSWEEP_FAULT)", s->path, where,
                   s->rank);
}

static int create_file(store_t *s, const char *path, MPI_Comm comm, const config_t *cfg,
                       const net_t *net, const graph_t *g, int overwrite)
{
    struct stat st;
    int rc;
    store_init(s, path, comm, cfg, net, g);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (!s->mask_row || !s->pack)
        return agree_all(s, ts_fail(TS_ERUN, "out of memory"));
    if (!overwrite && stat(path, &st) == 0)
        return ts_fail(TS_EINPUT, "%s: already exists: use --resume to continue it or --force to start over",
                       path);
    /* Build the file under a temporary name and rename it when its structure is
     * complete and flushed: a job killed while creating never leaves a damaged
     * file under the user's name, and --force replaces the old file only then.
     * Each step's outcome is agreed before the next collective one; a failure
     * closes the file (collectively) and removes the temporary name. */
    char partial[CFG_PATH + 16];
    snprintf(partial, sizeof partial, "%s.partial", path);
    hid_t fapl = make_fapl(comm, 1);
    if (fapl < 0)
        return agree_all(s, ts_fail(TS_ERUN, "%s: cannot make a file access list", path));
    s->file = H5Fcreate(partial, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    rc = s->file < 0 ? ts_fail(TS_EINPUT, "%s: cannot create the results file (does the directory exist and is it writable?)",
                               partial)
                     : 0;
    if ((rc = agree_all(s, rc)))
        goto out_close;
    if ((rc = agree_all(s, write_root_attrs(s))))
        goto out_close;
    rc = layout(s, 1);
    if (!rc)
        rc = injected_fault(s, "store_create");
    if ((rc = agree_all(s, rc)))
        goto out_close;
    if ((rc = agree_all(s, s->rank == 0 ? write_tables(s) : 0)))
        goto out_close;
    if ((rc = agree_all(s, store_flush(s))))
        goto out_close;
    if (s->rank == 0 && rename(partial, path) != 0)
        rc = ts_fail(TS_ERUN, "%s: cannot rename %s: %s", path, partial, strerror(errno));
    if ((rc = agree_all(s, rc)))
        goto out_close;
    return 0;
out_close:
    close_file(s);
    if (s->rank == 0)
        remove(partial); /* ours, half-made: the user's files are untouched */
    return rc;
}

int store_peek(const char *path, config_t *cfg, int shape[3], char hash[17], int *shared)
{
    struct stat st;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (stat(path, &st) != 0)
        return ts_fail(TS_EINPUT, "%s: no such results file", path);
    htri_t is = H5Fis_hdf5(path);
    if (is <= 0)
        return ts_fail(TS_EINPUT, "%s: not an HDF5 file (not a ticketsweep results file)", path);
    hid_t fapl = make_fapl(MPI_COMM_SELF, 0);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (f < 0)
        return ts_fail(TS_EINPUT, "%s: cannot open as HDF5", path);
    int rc = 0, version = -1;
    char *format = read_attr_str(f, "format"), *text = NULL, *h = NULL;
    if (!format || strcmp(format, STORE_FORMAT)) {
        rc = ts_fail(TS_EINPUT, "%s: not a ticketsweep results file (format attribute is %s)", path,
                     format ? format : "missing");
        goto out;
    }
    if (read_attr_ints(f, "format_version", &version, 1) || version != STORE_VERSION) {
        rc = ts_fail(TS_EINPUT,
                     "%s: results format version %d, this ticketsweep reads version %d: "
                     "use the ticketsweep release that wrote it",
                     path, version, STORE_VERSION);
        goto out;
    }
    text = read_attr_str(f, "config");
    h = read_attr_str(f, "config_hash");
    if (!text || !h || read_attr_ints(f, "input_shape", shape, 3)) {
        rc = ts_fail(TS_EINPUT, "%s: damaged results file: config attributes missing", path);
        goto out;
    }
    if (shape[0] < 1 || shape[0] > DATA_MAX_CHANNELS || shape[1] < 1 || shape[1] > STORE_MAX_SIDE ||
        shape[2] < 1 || shape[2] > STORE_MAX_SIDE) {
        rc = ts_fail(TS_EINPUT, "%s: damaged results file: input_shape is %d x %d x %d (channels 1-%d, sides 1-%d)",
                     path, shape[0], shape[1], shape[2], DATA_MAX_CHANNELS, STORE_MAX_SIDE);
        goto out;
    }
    if (shared && read_attr_ints(f, "graph_shared", shared, 1)) {
        rc = ts_fail(TS_EINPUT, "%s: damaged results file: graph_shared attribute missing", path);
        goto out;
    }
    config_defaults(cfg);
    /* the job as `run` would have checked it: the layer table, the graph and
     * the buffers all size themselves from it */
    if ((rc = config_load_string(cfg, text, path)) || (rc = config_validate(cfg)))
        goto out;
    snprintf(hash, 17, "%s", h);
out:
    free(format);
    free(text);
    free(h);
    H5Fclose(f);
    return rc;
}

static int open_file(store_t *s, const char *path, MPI_Comm comm, const config_t *cfg,
                     const net_t *net, const graph_t *g, int readonly)
{
    store_init(s, path, comm, cfg, net, g);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (!s->mask_row || !s->pack)
        return ts_fail(TS_ERUN, "out of memory");
    hid_t fapl = make_fapl(comm, !readonly);
    H5_TRY(fapl);
    s->file = H5Fopen(path, readonly ? H5F_ACC_RDONLY : H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (s->file < 0)
        return ts_fail(TS_EINPUT, "%s: cannot open the results file%s", path,
                       readonly ? "" : " for writing");
    char *format = read_attr_str(s->file, "format");
    int version = -1, ok = format && !strcmp(format, STORE_FORMAT);
    free(format);
    if (!ok)
        return ts_fail(TS_EINPUT, "%s: not a ticketsweep results file", path);
    if (read_attr_ints(s->file, "format_version", &version, 1) || version != STORE_VERSION)
        return ts_fail(TS_EINPUT, "%s: results format version %d, this ticketsweep reads version %d",
                       path, version, STORE_VERSION);
    char *text = read_attr_str(s->file, "config");
    char *mine = config_to_string(cfg);
    if (!text || !mine) {
        free(text);
        free(mine);
        return ts_fail(TS_EINPUT, "%s: damaged results file: no config attribute", path);
    }
    char diff[2048];
    int n = config_diff(text, mine, diff, sizeof diff);
    free(text);
    free(mine);
    if (n)
        return ts_fail(TS_EINPUT, "%s: made by a different job (%d key%s: %s); use --force to start over or -o for a new file",
                       path, n, n == 1 ? " differs" : "s differ", diff);
    int shared = -1;
    if (read_attr_ints(s->file, "graph_shared", &shared, 1) || shared != g->shared)
        return ts_fail(TS_EINPUT, "%s: was made %s sharing trainings between cells; run it %s --no-share",
                       path, shared ? "with" : "without", shared ? "without" : "with");
    int rc = layout(s, 0);
    if (rc)
        return rc;
    /* a file from before /nodes/conv had its convolutions on im2col: a
     * resume on oneDNN would mix the two kernels without a record */
    const char *conv = net_conv_kernels(net, cfg->kernels);
    if (!readonly && s->has_prov < PROV_FIELDS && strcmp(conv, "none") && strcmp(conv, "im2col+sgemm"))
        return ts_fail(TS_EINPUT, "%s: made by a release that ran convolutions on im2col and did not record it (no /nodes/conv); this build runs them on oneDNN under train.kernels = %s: resume it with a build without oneDNN (make BUILD=build-im2col DNNL_DIR=no)",
                       path, cfg->kernels == KERNELS_SPARSE ? "sparse" : "auto");
    /* the file's node table must be this job's graph */
    const store_ds_t *d = find_ds(s, "/nodes/key");
    hid_t sp = H5Dget_space(d->id);
    hssize_t np = sp < 0 ? -1 : H5Sget_simple_extent_npoints(sp);
    if (sp >= 0)
        H5Sclose(sp);
    if (np != (hssize_t)g->N)
        return ts_fail(TS_EINPUT, "%s: holds %lld trainings, this job plans %d: made by another ticketsweep release?",
                       path, (long long)np, g->N);
    uint64_t *keys = ts_malloc((size_t)g->N * sizeof *keys + 1);
    if (!keys)
        return TS_ERUN;
    if (H5Dread(d->id, d->memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, keys) < 0)
        rc = ts_fail(TS_EINPUT, "%s: cannot read /nodes/key", path);
    for (int x = 0; !rc && x < g->N; x++)
        if (keys[x] != g->nodes[x].key)
            rc = ts_fail(TS_EINPUT, "%s: training %d is not this job's (a different ticketsweep release?)",
                         path, x);
    free(keys);
    return rc;
}

/* theta0 of seed index si into /init (independent writes). */
static int write_theta0_row(store_t *s, int si, const float *theta0)
{
    for (int i = 0; i < s->n_ds; i++) {
        store_ds_t *d = &s->ds[i];
        if (strncmp(d->path, "/init/", 6))
            continue;
        const net_layer_t *L = &s->net->layers[d->layer];
        int is_w = strstr(d->path, "/weight") != NULL;
        int rc = rw_row(s, d, (hsize_t)si, (void *)(theta0 + (is_w ? L->w_off : L->b_off)), 1);
        if (rc)
            return rc;
    }
    return 0;
}

int store_write_theta0(store_t *s)
{
    float *theta0 = ts_malloc(s->net->n_params * sizeof *theta0 + 1);
    int rc = theta0 ? 0 : TS_ERUN;
    for (int i = 0; !rc && i < s->n_seeds; i++) {
        trial_theta0(s->net, s->cfg->seeds[i], theta0);
        rc = write_theta0_row(s, i, theta0);
    }
    free(theta0);
    return rc;
}

/* Write the rewind point of seed index si (rows of /rewind). */
static int write_rewind(store_t *s, int si, const float *rewind, int write)
{
    for (int i = 0; i < s->n_ds; i++) {
        store_ds_t *d = &s->ds[i];
        if (d->kind != DS_REWIND_W && d->kind != DS_REWIND_B)
            continue;
        const net_layer_t *L = &s->net->layers[d->layer];
        int rc = rw_row(s, d, (hsize_t)si,
                        (void *)(rewind + (d->kind == DS_REWIND_W ? L->w_off : L->b_off)), write);
        if (rc)
            return rc;
    }
    return 0;
}

int store_read_rewind(store_t *s, int si, float *rewind)
{
    return write_rewind(s, si, rewind, 0);
}

/* Pointer to the part of res that dataset d's row t holds; NULL for ledger/other. */
static void *row_ptr(store_t *s, const store_ds_t *d, const trial_result_t *res)
{
    const net_layer_t *L = &s->net->layers[d->layer];
    switch (d->kind) {
    case DS_CURVE: return res->curves[d->arm][d->metric];
    case DS_DENSITY: return res->density[d->arm];
    case DS_ES_ITER: return res->es_iter[d->arm];
    case DS_ES_ACC: return res->es_test_acc[d->arm];
    case DS_FINAL_ACC: return res->final_test_acc[d->arm];
    case DS_MASK: return res->masks[d->arm] + L->w_off; /* weights are [0, n_weights) */
    case DS_REWIND_W: return res->rewind + L->w_off;
    case DS_REWIND_B: return res->rewind + L->b_off;
    }
    return NULL;
}

static int rw_trial(store_t *s, int t, trial_result_t *res, int write)
{
    trial_t tr = grid_trial(s->cfg, t);
    for (int i = 0; i < s->n_ds; i++) {
        store_ds_t *d = &s->ds[i];
        void *p = row_ptr(s, d, res);
        if (!p)
            continue;
        if ((d->kind == DS_REWIND_W || d->kind == DS_REWIND_B) && res->status != STATUS_DONE)
            continue;
        hsize_t row = d->kind == DS_REWIND_W || d->kind == DS_REWIND_B ? (hsize_t)tr.seed_i
                                                                      : (hsize_t)t;
        int rc = rw_row(s, d, row, p, write);
        if (rc)
            return rc;
    }
    return 0;
}

/* Rows k0 .. k0 + rows - 1 of one arm's curves and summaries, by dataset kind. */
typedef struct {
    const float *curves[N_METRICS]; /* [rows][E] each */
    const void *density, *es_iter, *es_acc, *final_acc; /* [rows] each */
} cell_rows_t;

/* Write rows k0 .. k0 + rows - 1 of cell t's arm (curves and summaries). */
static int write_cell_rows(store_t *s, int t, int arm, int k0, int rows, const cell_rows_t *src)
{
    int rc = 0;
    for (int i = 0; i < s->n_ds && !rc; i++) {
        const store_ds_t *d = &s->ds[i];
        if (d->arm != arm || d->kind > DS_FINAL_ACC || d->kind == DS_MASK)
            continue;
        hsize_t start[3] = {(hsize_t)t, (hsize_t)k0, 0}, count[3] = {1, (hsize_t)rows, (hsize_t)s->E};
        const void *p = d->kind == DS_CURVE       ? (const void *)src->curves[d->metric]
                        : d->kind == DS_DENSITY  ? src->density
                        : d->kind == DS_ES_ITER  ? src->es_iter
                        : d->kind == DS_ES_ACC   ? src->es_acc
                                                 : src->final_acc;
        rc = rw_slab(s, d, d->kind == DS_CURVE ? 3 : 2, start, count, (void *)p, 1);
    }
    return rc;
}

/* Round k of cell t's arm from one training. */
static int write_cell_round(store_t *s, int t, int arm, int k, const node_result_t *nr)
{
    cell_rows_t src = {{0}, &nr->density, &nr->es_iter, &nr->es_test_acc, &nr->final_test_acc};
    for (int m = 0; m < N_METRICS; m++)
        src.curves[m] = nr->curves[m];
    return write_cell_rows(s, t, arm, k, 1, &src);
}

/* Rounds k0..R1-1 of cell t's arm: NaN, -1 (past the cell's last round). */
static int write_cell_padding(store_t *s, int t, int arm, int k0)
{
    int rows = s->R1 - k0, rc = 0;
    if (rows <= 0)
        return 0;
    size_t n = (size_t)rows * s->E;
    float *f = ts_malloc(n * sizeof *f);
    double *dd = ts_malloc((size_t)rows * sizeof *dd);
    int32_t *it = ts_malloc((size_t)rows * sizeof *it);
    if (!f || !dd || !it)
        rc = TS_ERUN;
    for (size_t i = 0; !rc && i < n; i++)
        f[i] = NAN;
    for (int i = 0; !rc && i < rows; i++)
        dd[i] = NAN, it[i] = -1;
    cell_rows_t src = {{0}, dd, it, f, f}; /* the accuracies are float rows: the first of f */
    for (int m = 0; m < N_METRICS; m++)
        src.curves[m] = f;
    if (!rc)
        rc = write_cell_rows(s, t, arm, k0, rows, &src);
    free(f);
    free(dd);
    free(it);
    return rc;
}

/* Cell t's mask row of an arm from a mask history. */
static int write_cell_masks(store_t *s, int t, int arm, const uint8_t *counts)
{
    for (int i = 0; i < s->n_ds; i++) {
        const store_ds_t *d = &s->ds[i];
        if (d->kind != DS_MASK || d->arm != arm)
            continue;
        const net_layer_t *L = &s->net->layers[d->layer];
        int rc = rw_row(s, d, (hsize_t)t, (void *)(counts + L->w_off), 1);
        if (rc)
            return rc;
    }
    return 0;
}

/* Training x's mask (the weights its history says are active in its round), one
 * bit a weight, least significant first (numpy.unpackbits(..., bitorder="little")). */
static int write_mask(store_t *s, int x, const uint8_t *counts)
{
    size_t W = s->net->n_weights;
    uint8_t k1 = (uint8_t)(s->g->nodes[x].round + 1);
    memset(s->pack, 0, W / 8 + 1);
    for (size_t w = 0; w < W; w++)
        s->pack[w >> 3] |= (uint8_t)((counts[w] == k1) << (w & 7));
    return rw_row(s, find_ds(s, "/nodes/mask"), (hsize_t)s->mask_row[x], s->pack, 1);
}

/* Training x's trained parameters (a block of net.h's order: all weights,
 * then all biases) into its row of /nodes/weights, in the file's order: per
 * layer with parameters, its weight, then its bias (README, "The results
 * file"). One slab a weight or bias: no copy of the block. */
static int write_weights(store_t *s, int x, const float *params)
{
    const store_ds_t *d = find_ds(s, "/nodes/weights");
    hsize_t col = 0;
    for (int l = 0; l < s->net->n_layers; l++) {
        const net_layer_t *L = &s->net->layers[l];
        if (!net_has_params(L))
            continue;
        const size_t off[2] = {L->w_off, L->b_off}, len[2] = {L->n_w, (size_t)L->out_c};
        for (int k = 0; k < 2; k++) {
            hsize_t start[2] = {(hsize_t)x, col}, count[2] = {1, (hsize_t)len[k]};
            int rc = rw_slab(s, d, 2, start, count, (void *)(params + off[k]), 1);
            if (rc)
                return rc;
            col += len[k];
        }
    }
    return 0;
}

/* Node x's provenance rows (nothing when the file has no such datasets). */
static int write_prov(store_t *s, int x, const prov_t *prov)
{
    char path[64];
    for (int k = 0; prov && k < s->has_prov; k++) {
        snprintf(path, sizeof path, "/nodes/%s", prov_names[k]);
        int rc = rw_row(s, find_ds(s, path), (hsize_t)x, (void *)prov->field[k], 1);
        if (rc)
            return rc;
    }
    return 0;
}

int store_write_node(store_t *s, int x, const node_result_t *nr, int status, uint8_t *const *children,
                     const uint8_t *own, const float *rewind, const float *weights, double wall, int rank,
                     const char *host, const prov_t *prov)
{
    const graph_t *g = s->g;
    const graph_node_t *nd = &g->nodes[x];
    int rc = 0;
    for (int32_t i = g->inc_off[x]; status == STATUS_DONE && !rc && i < g->inc_off[x + 1]; i++) {
        int t = g->inc[i] / N_ARMS, arm = g->inc[i] % N_ARMS;
        rc = write_cell_round(s, t, arm, nd->round, nr);
        if (!rc && nd->round == g->cell_rounds[t]) {
            rc = write_cell_padding(s, t, arm, nd->round + 1);
            if (!rc && arm != ARM_REINIT && own)
                rc = write_cell_masks(s, t, arm, own);
        }
    }
    int i = 0;
    for (int32_t c = nd->first_child; status == STATUS_DONE && children && !rc && c >= 0;
         c = g->nodes[c].next_sibling, i++)
        rc = write_mask(s, c, children[i]);
    if (!rc && status == STATUS_DONE && own && (nd->arm == ARM_RANDOM || nd->round == 0))
        rc = write_mask(s, x, own);
    if (!rc && status == STATUS_DONE && rewind && nd->round == 0 && s->cfg->rewind_iteration > 0)
        rc = write_rewind(s, nd->seed_i, rewind, 1);
    if (!rc && status == STATUS_DONE && weights && s->cfg->weights == WEIGHTS_FINAL)
        rc = write_weights(s, x, weights);
    char err[ERROR_LEN] = {0}, h[HOST_LEN] = {0};
    int32_t r = rank;
    int8_t st = (int8_t)status;
    snprintf(err, sizeof err, "%s", status == STATUS_FAILED ? nr->error : "");
    snprintf(h, sizeof h, "%s", host ? host : "");
    if (!rc)
        rc = write_prov(s, x, prov);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/nodes/error"), (hsize_t)x, err, 1);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/nodes/wall_seconds"), (hsize_t)x, &wall, 1);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/nodes/rank"), (hsize_t)x, &r, 1);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/nodes/host"), (hsize_t)x, h, 1);
    /* the status goes last: a training with status done has every row written */
    if (!rc)
        rc = rw_row(s, find_ds(s, "/nodes/status"), (hsize_t)x, &st, 1);
    return rc;
}

int store_write_cell(store_t *s, int t, int status, const char *error, double wall, int rank,
                     const char *host)
{
    char err[ERROR_LEN] = {0}, h[HOST_LEN] = {0};
    int32_t r = rank;
    int8_t st = (int8_t)status;
    snprintf(err, sizeof err, "%s", error ? error : "");
    snprintf(h, sizeof h, "%s", host ? host : "");
    int rc = rw_row(s, find_ds(s, "/trials/error"), (hsize_t)t, err, 1);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/trials/wall_seconds"), (hsize_t)t, &wall, 1);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/trials/rank"), (hsize_t)t, &r, 1);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/trials/host"), (hsize_t)t, h, 1);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/trials/status"), (hsize_t)t, &st, 1);
    return rc;
}

int store_read_nodes(store_t *s, int8_t *status, double *wall)
{
    store_ds_t *a = find_ds(s, "/nodes/status"), *b = find_ds(s, "/nodes/wall_seconds");
    if (!a || !b || H5Dread(a->id, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, status) < 0 ||
        H5Dread(b->id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, wall) < 0)
        return ts_fail(TS_EINPUT, "%s: cannot read /nodes/status and /nodes/wall_seconds", s->path);
    return 0;
}

int store_read_prov(store_t *s, prov_t *rows, int *recorded)
{
    *recorded = s->has_prov > 0;
    if (!s->has_prov)
        return 0;
    char *buf = ts_malloc((size_t)s->N * PROV_LEN + 1), path[64];
    if (!buf)
        return TS_ERUN;
    int rc = 0;
    for (int k = 0; !rc && k < s->has_prov; k++) {
        snprintf(path, sizeof path, "/nodes/%s", prov_names[k]);
        store_ds_t *d = find_ds(s, path);
        if (!d || H5Dread(d->id, d->memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            rc = ts_fail(TS_EINPUT, "%s: cannot read %s", s->path, path);
            break;
        }
        for (int x = 0; x < s->N; x++) {
            memcpy(rows[x].field[k], buf + (size_t)x * PROV_LEN, PROV_LEN);
            rows[x].field[k][PROV_LEN - 1] = 0;
        }
    }
    free(buf);
    return rc;
}

int store_numerics(store_t *s, int N, const int8_t *status, char *line, size_t len)
{
    prov_t *rows = ts_calloc((size_t)N + 1, sizeof *rows);
    int8_t *done = ts_calloc((size_t)N + 1, 1);
    int recorded = 0, rc = rows && done ? store_read_prov(s, rows, &recorded) : TS_ERUN;
    line[0] = 0;
    for (int x = 0; !rc && x < N; x++)
        done[x] = status[x] == STATUS_DONE;
    if (!rc && recorded)
        rc = prov_mix(rows, done, N, line, len);
    free(rows);
    free(done);
    return rc;
}

int store_read_counts(store_t *s, int x, uint8_t *counts)
{
    size_t W = s->net->n_weights;
    memset(counts, 0, W);
    for (int32_t a = x; a >= 0; a = s->g->nodes[a].prev) { /* back along its chain to round 0 */
        if (s->mask_row[a] < 0)
            return ts_fail(TS_ERUN, "%s: training %d has no mask row", s->path, a);
        int rc = rw_row(s, find_ds(s, "/nodes/mask"), (hsize_t)s->mask_row[a], s->pack, 0);
        if (rc)
            return rc;
        for (size_t w = 0; w < W; w++)
            counts[w] += (s->pack[w >> 3] >> (w & 7)) & 1;
    }
    return 0;
}

int store_copy_node(store_t *dst, store_t *src, int x, uint8_t *buf)
{
    static const char *const rows[] = {"/nodes/mask", "/nodes/weights", "/nodes/error",
                                       "/nodes/wall_seconds", "/nodes/rank", "/nodes/host",
                                       "/nodes/status"};
    for (int i = 0; i < (int)(sizeof rows / sizeof rows[0]); i++) {
        if ((i == 0 && src->mask_row[x] < 0) || (i == 1 && src->cfg->weights != WEIGHTS_FINAL))
            continue;
        hsize_t row = i == 0 ? (hsize_t)src->mask_row[x] : (hsize_t)x;
        int rc = rw_row(src, find_ds(src, rows[i]), row, buf, 0);
        if (!rc)
            rc = rw_row(dst, find_ds(dst, rows[i]), row, buf, 1);
        if (rc)
            return rc;
    }
    /* provenance: a shard of an earlier release has none: "" (not recorded) */
    prov_t p;
    memset(&p, 0, sizeof p);
    for (int k = 0; k < src->has_prov; k++) {
        char path[64];
        snprintf(path, sizeof path, "/nodes/%s", prov_names[k]);
        int rc = rw_row(src, find_ds(src, path), (hsize_t)x, p.field[k], 0);
        if (rc)
            return rc;
        p.field[k][PROV_LEN - 1] = 0;
    }
    int rc = write_prov(dst, x, &p);
    if (rc)
        return rc;
    const graph_node_t *nd = &src->g->nodes[x];
    if (nd->arm == ARM_TICKET && nd->round == 0 && src->cfg->rewind_iteration > 0) {
        rc = write_rewind(src, nd->seed_i, (float *)buf, 0);
        return rc ? rc : write_rewind(dst, nd->seed_i, (float *)buf, 1);
    }
    return 0;
}

int store_write_trial(store_t *s, int t, const trial_result_t *res, double wall, int rank,
                      const char *host)
{
    char err[ERROR_LEN] = {0}, h[HOST_LEN] = {0};
    int32_t r = rank;
    int8_t status = (int8_t)res->status;
    snprintf(err, sizeof err, "%s", res->error);
    snprintf(h, sizeof h, "%s", host ? host : "");
    int rc = rw_trial(s, t, (trial_result_t *)res, 1);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/trials/error"), (hsize_t)t, err, 1);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/trials/wall_seconds"), (hsize_t)t, &wall, 1);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/trials/rank"), (hsize_t)t, &r, 1);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/trials/host"), (hsize_t)t, h, 1);
    /* the status goes last: a reader that sees "done" sees complete rows */
    if (!rc)
        rc = rw_row(s, find_ds(s, "/trials/status"), (hsize_t)t, &status, 1);
    return rc;
}

int store_read_trial(store_t *s, int t, trial_result_t *res)
{
    int8_t status;
    int rc = rw_row(s, find_ds(s, "/trials/status"), (hsize_t)t, &status, 0);
    if (rc)
        return rc;
    res->status = status;
    char err[ERROR_LEN];
    if ((rc = rw_row(s, find_ds(s, "/trials/error"), (hsize_t)t, err, 0)))
        return rc;
    snprintf(res->error, sizeof res->error, "%s", err);
    return rw_trial(s, t, res, 0);
}

int store_read_status(store_t *s, int8_t *status)
{
    store_ds_t *d = find_ds(s, "/trials/status");
    if (H5Dread(d->id, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, status) < 0)
        return ts_fail(TS_ERUN, "%s: cannot read /trials/status", s->path);
    return 0;
}

int store_read_ledger(store_t *s, int t, double *wall, int *rank, char host[64], char error[160])
{
    int32_t r = -1;
    int rc = rw_row(s, find_ds(s, "/trials/wall_seconds"), (hsize_t)t, wall, 0);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/trials/rank"), (hsize_t)t, &r, 0);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/trials/host"), (hsize_t)t, host, 0);
    if (!rc)
        rc = rw_row(s, find_ds(s, "/trials/error"), (hsize_t)t, error, 0);
    *rank = r;
    return rc;
}

double store_estimate_bytes(const config_t *cfg, const net_t *net, const graph_t *g)
{
    double T = grid_size(cfg), R1 = grid_max_rounds(cfg) + 1, E = trial_eval_count(cfg);
    double S = cfg->n_seeds, P = (double)net->n_params, Wt = (double)net->n_weights;
    int arms = 1 + !!(cfg->controls & CTRL_REINIT) + !!(cfg->controls & CTRL_RANDOM);
    int mask_arms = 1 + !!(cfg->controls & CTRL_RANDOM);
    double per_arm = T * R1 * (E * N_METRICS * 4 + 8 + 4 + 4 + 4);
    double bytes = arms * per_arm + mask_arms * T * Wt;
    bytes += S * P * 4 * (cfg->rewind_iteration > 0 ? 2 : 1);
    bytes += T * (8 + 4 + 8 + 1 + ERROR_LEN + 8 + 4 + HOST_LEN) + T * N_ARMS * R1 * 4;
    bytes += (double)g->N * (Wt / 8 + 5 * 4 + 1 + 8 + 1 + ERROR_LEN + 8 + 4 + HOST_LEN + PROV_FIELDS * PROV_LEN);
    if (cfg->weights == WEIGHTS_FINAL)
        bytes += (double)g->N * P * 4;
    return bytes + 65536; /* metadata */
}

int store_flush(store_t *s)
{
    H5_TRY(H5Fflush(s->file, H5F_SCOPE_GLOBAL));
    return 0;
}

/* The handle's memory (not its HDF5 objects: close_file closes those). */
static void free_handle(store_t *s)
{
    if (!s)
        return;
    free(s->mask_row);
    free(s->pack);
    free(s);
}

int store_create(store_t **out, const char *path, MPI_Comm comm, const config_t *cfg,
                 const net_t *net, const graph_t *g, int overwrite)
{
    store_t *s = ts_calloc(1, sizeof *s);
    int rc = s ? 0 : TS_ERUN, all;
    *out = NULL;
    /* every rank creates the file or none: the failing rank says why */
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, comm);
    if (!all)
        all = create_file(s, path, comm, cfg, net, g, overwrite);
    if (all) {
        free_handle(s);
        return all;
    }
    *out = s;
    return 0;
}

int store_open(store_t **out, const char *path, MPI_Comm comm, const config_t *cfg,
               const net_t *net, const graph_t *g, int readonly)
{
    store_t *s = ts_calloc(1, sizeof *s);
    int rc = s ? open_file(s, path, comm, cfg, net, g, readonly) : TS_ERUN;
    *out = NULL;
    if (rc) {
        /* A read-only open uses no MPI-IO, so closing is no collective call:
         * close what was opened, or HDF5 keeps the file open, and opening it
         * again (the same file, rewritten) would see the old one. A file
         * opened for writing stays open as before: every rank would have to
         * agree to close it. */
        if (s && readonly)
            close_file(s);
        free_handle(s);
        return rc;
    }
    *out = s;
    return 0;
}

int store_close(store_t *s)
{
    int rc = s ? close_file(s) : 0;
    free_handle(s);
    return rc;
}
