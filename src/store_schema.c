/*
 * store_schema.c - the results file's datasets (store_schema.h): the one list
 * of them with their shapes and types (store_layout, used to create a file
 * and to open one), which part of a trial's result each row holds, what the
 * file will weigh, and the plumbing every read and write goes through: a
 * slab of one dataset, with an independent transfer and a message that names
 * the dataset and the row when it fails.
 */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "err.h"
#include "grid.h"
#include "prune.h"
#include "store.h"
#include "store_schema.h"

hid_t store_str_type(size_t len)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t >= 0 && (H5Tset_size(t, len) < 0 || H5Tset_strpad(t, H5T_STR_NULLTERM) < 0)) {
        H5Tclose(t);
        t = -1;
    }
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
            H5_TRY(H5Gclose(g));
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
        /* every list closed on every path: no early return between here and the closes */
        int ok = space >= 0 && dcpl >= 0 && filetype >= 0 && H5Pset_layout(dcpl, H5D_CONTIGUOUS) >= 0 &&
                 H5Pset_alloc_time(dcpl, H5D_ALLOC_TIME_EARLY) >= 0 &&
                 H5Pset_fill_time(dcpl, H5D_FILL_TIME_NEVER) >= 0;
        d->id = ok ? H5Dcreate2(s->file, path, filetype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT) : -1;
        if (dcpl >= 0)
            H5Pclose(dcpl);
        if (space >= 0)
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
int store_layout(store_t *s, int create)
{
    const config_t *cfg = s->cfg;
    const net_t *net = s->net;
    char p[128];
    hsize_t T = (hsize_t)s->T, R1 = (hsize_t)s->R1, E = (hsize_t)s->E, S = (hsize_t)s->n_seeds;
    hid_t f32 = H5T_NATIVE_FLOAT, f64 = H5T_NATIVE_DOUBLE, i32 = H5T_NATIVE_INT32;
    hid_t i64 = H5T_NATIVE_INT64, u8 = H5T_NATIVE_UINT8, i8 = H5T_NATIVE_INT8;
    hid_t fle32 = H5T_IEEE_F32LE, fle64 = H5T_IEEE_F64LE, sle32 = H5T_STD_I32LE;
    hid_t sle64 = H5T_STD_I64LE, ule8 = H5T_STD_U8LE, sle8 = H5T_STD_I8LE;
    static hid_t err_t = -1, host_t = -1, prov_t_ = -1, crit_t = -1;
    if (err_t < 0) {
        err_t = store_str_type(ERROR_LEN);
        host_t = store_str_type(HOST_LEN);
        prov_t_ = store_str_type(PROV_LEN);
        crit_t = store_str_type(STORE_NAME_LEN);
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
    int K; /* rewind points a seed has; the axis's datasets only with sweep.rewind */
    grid_rewinds(cfg, &K);
    if (cfg->n_rewinds > 0)
        ADD("/grid/rewind", DS_OTHER, 0, 0, 0, i64, sle64, 1, (hsize_t)K);
    int crit[PRUNE_N_CRITERIA], C = grid_criteria(cfg, crit); /* the criterion axis's names */
    if (cfg->criteria)
        ADD("/grid/criterion", DS_OTHER, 0, 0, 0, crit_t, crit_t, 1, (hsize_t)C);
    ADD("/trials/rate", DS_OTHER, 0, 0, 0, f64, fle64, 1, T);
    ADD("/trials/rounds", DS_OTHER, 0, 0, 0, i32, sle32, 1, T);
    ADD("/trials/seed", DS_OTHER, 0, 0, 0, i64, sle64, 1, T);
    if (cfg->n_rewinds > 0)
        ADD("/trials/rewind", DS_OTHER, 0, 0, 0, i64, sle64, 1, T);
    if (cfg->criteria)
        ADD("/trials/criterion", DS_OTHER, 0, 0, 0, crit_t, crit_t, 1, T);
    ADD("/trials/status", DS_STATUS, 0, 0, 0, i8, sle8, 1, T);
    ADD("/trials/error", DS_ERROR, 0, 0, 0, err_t, err_t, 1, T);
    ADD("/trials/wall_seconds", DS_WALL, 0, 0, 0, f64, fle64, 1, T);
    ADD("/trials/rank", DS_RANK, 0, 0, 0, i32, sle32, 1, T);
    ADD("/trials/host", DS_HOST, 0, 0, 0, host_t, host_t, 1, T);
    ADD("/curves/iteration", DS_OTHER, 0, 0, 0, i32, sle32, 1, E);
    /* the graph of trainings: one row per node, and each cell's nodes */
    hsize_t N = (hsize_t)s->N, W = (hsize_t)net->n_weights;
    ADD("/trials/nodes", DS_OTHER, 0, 0, 0, i32, sle32, 3, T, (hsize_t)s->g->A, R1);
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
    for (int m = 0; m < N_METRICS && cfg->curves == CURVES_TRAININGS; m++) { /* format 5: a row a training */
        snprintf(p, sizeof p, "/nodes/curves/%s", trial_metric_names[m]);
        ADD(p, DS_NODE_CURVE, 0, m, 0, f32, fle32, 2, N, E);
    }
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
        if (grid_rewinding(cfg)) { /* a row per (seed, rewind point): seed_i * K + rewind_i */
            LAYER_DIMS(S * (hsize_t)K, L);
            snprintf(p, sizeof p, "/rewind/%s/weight", L->name);
            if ((rc = add_ds(s, create, p, DS_REWIND_W, 0, 0, l, f32, fle32, 1 + L->ndim, wdims)))
                return rc;
            snprintf(p, sizeof p, "/rewind/%s/bias", L->name);
            if ((rc = add_ds(s, create, p, DS_REWIND_B, 0, 0, l, f32, fle32, 2, bdims)))
                return rc;
        }
    }
    for (int a = 0; a < N_ARMS; a++) {
        if (a != ARM_TICKET && !(cfg->controls & CTRL_OF_ARM(a)))
            continue;
        char pre[32] = "";
        if (a != ARM_TICKET)
            snprintf(pre, sizeof pre, "/controls/%s", trial_arm_names[a]);
        for (int m = 0; m < N_METRICS && cfg->curves == CURVES_CELLS; m++) {
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
        /* per-cell masks: version 2 only (store.h), of the ticket and the
         * random control (the arms of version 2's first release); the
         * other arms' masks are in /nodes/mask in any version */
        if ((a != ARM_TICKET && a != ARM_RANDOM) || s->version >= 3)
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
    /* the instability analysis (trial.h): the ticket arm's lines, a row per cell */
    if (cfg->copies >= 2) {
        hsize_t Pr = (hsize_t)trial_pairs(cfg), A = (hsize_t)cfg->interpolation;
        ADD("/instability/alpha", DS_OTHER, 0, 0, 0, f64, fle64, 1, A);
        ADD("/instability/data_seed", DS_OTHER, 0, 0, 0, i64, sle64, 1, (hsize_t)cfg->copies);
        for (int m = 0; m < N_INST; m++) {
            snprintf(p, sizeof p, "/instability/%s", trial_inst_names[m]);
            ADD(p, DS_INST, ARM_TICKET, m, 0, f32, fle32, 4, T, R1, Pr, A);
        }
        ADD("/instability/value", DS_INST_VALUE, ARM_TICKET, 0, 0, f32, fle32, 3, T, R1, Pr);
        /* the copies and lines, nodes of their own (graph.h): a row per copy
         * (copy 0 the training itself), its final weights, and per line;
         * each with a ledger. A file of an earlier release has none (its
         * copies trained inside their training): it opens, and is not resumed */
        htri_t there = create ? 1 : H5Lexists(s->file, "/copies", H5P_DEFAULT);
        s->has_copies = there > 0;
        for (int t = 0; t < 2 && s->has_copies; t++) {
            const char *grp = t == 0 ? "/copies" : "/lines";
            hsize_t rows = (hsize_t)(t == 0 ? s->g->n_copy_rows : s->g->n_lines);
            static const char *const ints[] = {"node", "rewind_index", "copy"};
            for (int i = 0; i < (t == 0 ? 3 : 2); i++) {
                snprintf(p, sizeof p, "%s/%s", grp, ints[i]);
                ADD(p, DS_OTHER, 0, 0, 0, i32, sle32, 1, rows);
            }
            if (t == 0) {
                ADD("/copies/data_seed", DS_OTHER, 0, 0, 0, i64, sle64, 1, rows);
                ADD("/copies/weights", DS_NODE, 0, 0, 0, f32, fle32, 2, rows, (hsize_t)net->n_params);
            }
            snprintf(p, sizeof p, "%s/status", grp);
            ADD(p, DS_NODE, 0, 0, 0, i8, sle8, 1, rows);
            snprintf(p, sizeof p, "%s/error", grp);
            ADD(p, DS_NODE, 0, 0, 0, err_t, err_t, 1, rows);
            snprintf(p, sizeof p, "%s/wall_seconds", grp);
            ADD(p, DS_NODE, 0, 0, 0, f64, fle64, 1, rows);
            snprintf(p, sizeof p, "%s/rank", grp);
            ADD(p, DS_NODE, 0, 0, 0, i32, sle32, 1, rows);
            snprintf(p, sizeof p, "%s/host", grp);
            ADD(p, DS_NODE, 0, 0, 0, host_t, host_t, 1, rows);
        }
    }
#undef ADD
#undef LAYER_DIMS
    return 0;
}

store_ds_t *store_find_ds(store_t *s, const char *path)
{
    for (int i = 0; i < s->n_ds; i++)
        if (!strcmp(s->ds[i].path, path))
            return &s->ds[i];
    return NULL;
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
    case DS_INST: return res->inst[d->metric];
    case DS_INST_VALUE: return res->inst_value;
    }
    return NULL;
}

int store_rw_trial(store_t *s, int t, trial_result_t *res, int write)
{
    trial_t tr = grid_trial(s->cfg, t);
    for (int i = 0; i < s->n_ds; i++) {
        store_ds_t *d = &s->ds[i];
        void *p = row_ptr(s, d, res);
        if (!p)
            continue;
        if ((d->kind == DS_REWIND_W || d->kind == DS_REWIND_B) && res->status != STATUS_DONE)
            continue;
        int K;
        grid_rewinds(s->cfg, &K);
        hsize_t row = d->kind == DS_REWIND_W || d->kind == DS_REWIND_B
                          ? (hsize_t)tr.seed_i * (hsize_t)K + (hsize_t)tr.rewind_i
                          : (hsize_t)t;
        int rc = store_rw_row(s, d, row, p, write);
        if (rc)
            return rc;
    }
    return 0;
}

/* Write or read row `row` of /rewind (seed_i * K + rewind_i). */
int store_rw_rewind(store_t *s, int row, const float *rewind, int write)
{
    for (int i = 0; i < s->n_ds; i++) {
        store_ds_t *d = &s->ds[i];
        if (d->kind != DS_REWIND_W && d->kind != DS_REWIND_B)
            continue;
        const net_layer_t *L = &s->net->layers[d->layer];
        int rc = store_rw_row(s, d, (hsize_t)row,
                        (void *)(rewind + (d->kind == DS_REWIND_W ? L->w_off : L->b_off)), write);
        if (rc)
            return rc;
    }
    return 0;
}

double store_estimate_bytes(const config_t *cfg, const net_t *net, const graph_t *g)
{
    double T = grid_size(cfg), R1 = grid_max_rounds(cfg) + 1, E = trial_eval_count(cfg);
    double S = cfg->n_seeds, P = (double)net->n_params, Wt = (double)net->n_weights;
    int arms = 1 + __builtin_popcount((unsigned)cfg->controls);
    double per_arm = T * R1 * ((cfg->curves == CURVES_CELLS ? E * N_METRICS * 4 : 0) + 8 + 4 + 4 + 4);
    double bytes = arms * per_arm; /* a new file has no per-cell masks (store.h) */
    int K;
    grid_rewinds(cfg, &K);
    bytes += S * P * 4 * (grid_rewinding(cfg) ? 1 + K : 1);
    bytes += T * (8 + 4 + 8 + 1 + ERROR_LEN + 8 + 4 + HOST_LEN) + T * g->A * R1 * 4;
    bytes += (double)g->N * (Wt / 8 + 5 * 4 + 1 + 8 + 1 + ERROR_LEN + 8 + 4 + HOST_LEN + PROV_FIELDS * PROV_LEN);
    if (cfg->weights == WEIGHTS_FINAL)
        bytes += (double)g->N * P * 4;
    if (cfg->curves == CURVES_TRAININGS)
        bytes += (double)g->N * E * N_METRICS * 4;
    if (cfg->copies >= 2) /* /instability: three metrics a point, the value a line; the copies'
                             weights and ledgers, the lines' ledgers */
        bytes += T * R1 * trial_pairs(cfg) * (3.0 * cfg->interpolation + 1) * 4 +
                 cfg->interpolation * 8.0 + cfg->copies * 8.0 +
                 (double)g->n_copy_rows * (P * 4 + 3 * 4 + 8 + 1 + ERROR_LEN + 8 + 4 + HOST_LEN) +
                 (double)g->n_lines * (2 * 4 + 1 + ERROR_LEN + 8 + 4 + HOST_LEN);
    return bytes + 65536; /* metadata */
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
int store_rw_slab(store_t *s, const store_ds_t *d, int n, const hsize_t *start0,
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
    s->n_writes += write;
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

int store_write_cells(store_t *s, const store_ds_t *d, const int32_t *ts, int n, int k0, int rows,
                      const void *buf, void *copies)
{
    hsize_t dims[3] = {0, 0, 1};
    if (!d)
        return ts_fail(TS_ERUN, "%s: a dataset is missing", s->path);
    hid_t fspace = H5Dget_space(d->id);
    H5_TRY(fspace);
    int rank = H5Sget_simple_extent_dims(fspace, dims, NULL);
    size_t block = (size_t)rows * (rank == 3 ? dims[2] : 1) * H5Tget_size(d->memtype);
    herr_t e = rank == 2 || rank == 3 ? 0 : -1;
    for (int i = 0; e >= 0 && i < n; i++) {
        hsize_t start[3] = {(hsize_t)ts[i], (hsize_t)k0, 0}, count[3] = {1, (hsize_t)rows, dims[2]};
        e = H5Sselect_hyperslab(fspace, i ? H5S_SELECT_OR : H5S_SELECT_SET, start, NULL, count, NULL);
        memcpy((char *)copies + i * block, buf, block);
    }
    /* the union is written in the file's order of rows: ts[] ascending, so
     * copy i lands in cell ts[i] */
    hsize_t mdims[3] = {(hsize_t)n, (hsize_t)rows, dims[2]};
    hid_t mspace = e < 0 ? -1 : H5Screate_simple(rank, mdims, NULL);
    s->n_writes++;
    e = mspace < 0 ? -1 : H5Dwrite(d->id, d->memtype, mspace, fspace, H5P_DEFAULT, copies);
    char why[256] = "HDF5 error";
    if (e < 0)
        H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, deepest, why);
    if (mspace >= 0)
        H5Sclose(mspace);
    H5Sclose(fspace);
    if (e < 0)
        return ts_fail(TS_ERUN, "%s: cannot write rows of %d cells of %s: %s%s", s->path, n, d->path, why,
                       disk_full(s->path) ? " (the file system is full: resume once there is room)" : "");
    return 0;
}

/* Write (or read) row `row` of dataset d: the slab [row, :, ...]. */
int store_rw_row(store_t *s, const store_ds_t *d, hsize_t row, void *buf, int write)
{
    hsize_t one = 1;
    return store_rw_slab(s, d, 1, &row, &one, buf, write);
}

/* Whole-dataset write of something small (rank 0, at creation). */
int store_write_all(store_t *s, const char *path, const void *buf)
{
    store_ds_t *d = store_find_ds(s, path);
    if (!d || H5Dwrite(d->id, d->memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0)
        return ts_fail(TS_ERUN, "%s: cannot write %s", s->path, path);
    return 0;
}
