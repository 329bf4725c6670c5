/*
 * store_write.c - the writers of the results file (store.h; who writes what
 * when: store.c's head). Every write is a raw write of rows the writer owns,
 * with an independent transfer: a training's rows by the rank that ran it, a
 * cell's ledger by rank 0. In each ledger the status is written last.
 */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "grid.h"
#include "store.h"
#include "store_schema.h"
#include "util.h"

/* theta0 of seed index si into /init (independent writes). */
static int write_theta0_row(store_t *s, int si, const float *theta0)
{
    for (int i = 0; i < s->n_ds; i++) {
        store_ds_t *d = &s->ds[i];
        if (strncmp(d->path, "/init/", 6))
            continue;
        const net_layer_t *L = &s->net->layers[d->layer];
        int is_w = strstr(d->path, "/weight") != NULL;
        int rc = store_rw_row(s, d, (hsize_t)si, (void *)(theta0 + (is_w ? L->w_off : L->b_off)), 1);
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

/* Rows k0 .. k0 + rows - 1 of one arm's curves and summaries, by dataset kind. */
typedef struct {
    const float *curves[N_METRICS]; /* [rows][E] each */
    const void *density, *es_iter, *es_acc, *final_acc; /* [rows] each */
} cell_rows_t;

/* The bytes of copies a batched cell write holds at most (store_write_cells). */
#define CELL_BATCH_BYTES ((size_t)4 << 20)

/* Rows k0 .. k0 + rows - 1 of one arm's curves and summaries in each of the n
 * cells ts[] (ascending), the same rows src in every cell: one write a
 * dataset for up to CELL_BATCH_BYTES of copies (a training shared by 4,096
 * cells makes 8 writes an arm, not 8 a cell). */
static int write_cells_rows(store_t *s, const int32_t *ts, int n, int arm, int k0, int rows,
                            const cell_rows_t *src)
{
    if (n == 0)
        return 0;
    size_t block = (size_t)rows * (s->E > 2 ? (size_t)s->E : 2) * sizeof(float); /* the widest: a curve */
    int group = (int)(CELL_BATCH_BYTES / block) > 1 ? (int)(CELL_BATCH_BYTES / block) : 1;
    if (group > n)
        group = n;
    void *copies = ts_malloc((size_t)group * block);
    int rc = copies ? 0 : TS_ERUN;
    for (int i = 0; i < s->n_ds && !rc; i++) {
        const store_ds_t *d = &s->ds[i];
        if (d->arm != arm || d->kind > DS_FINAL_ACC || d->kind == DS_MASK)
            continue;
        const void *p = d->kind == DS_CURVE       ? (const void *)src->curves[d->metric]
                        : d->kind == DS_DENSITY  ? src->density
                        : d->kind == DS_ES_ITER  ? src->es_iter
                        : d->kind == DS_ES_ACC   ? src->es_acc
                                                 : src->final_acc;
        for (int j = 0; j < n && !rc; j += group)
            rc = store_write_cells(s, d, ts + j, n - j < group ? n - j : group, k0, rows, p, copies);
    }
    free(copies);
    return rc;
}

/* Round k of the n cells ts[] of an arm from one training. */
static int write_cells_round(store_t *s, const int32_t *ts, int n, int arm, int k, const node_result_t *nr)
{
    cell_rows_t src = {{0}, &nr->density, &nr->es_iter, &nr->es_test_acc, &nr->final_test_acc};
    for (int m = 0; m < N_METRICS; m++)
        src.curves[m] = nr->curves[m];
    return write_cells_rows(s, ts, n, arm, k, 1, &src);
}

/* Rounds k0..R1-1 of the n cells ts[] of an arm: NaN, -1 (past their last round). */
static int write_cells_padding(store_t *s, const int32_t *ts, int n, int arm, int k0)
{
    int rows = s->R1 - k0, rc = 0;
    if (rows <= 0 || n == 0)
        return 0;
    size_t e = (size_t)rows * s->E;
    float *f = ts_malloc(e * sizeof *f);
    double *dd = ts_malloc((size_t)rows * sizeof *dd);
    int32_t *it = ts_malloc((size_t)rows * sizeof *it);
    if (!f || !dd || !it)
        rc = TS_ERUN;
    for (size_t i = 0; !rc && i < e; i++)
        f[i] = NAN;
    for (int i = 0; !rc && i < rows; i++)
        dd[i] = NAN, it[i] = -1;
    cell_rows_t src = {{0}, dd, it, f, f}; /* the accuracies are float rows: the first of f */
    for (int m = 0; m < N_METRICS; m++)
        src.curves[m] = f;
    if (!rc)
        rc = write_cells_rows(s, ts, n, arm, k0, rows, &src);
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
        int rc = store_rw_row(s, d, (hsize_t)t, (void *)(counts + L->w_off), 1);
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
    return store_rw_row(s, store_find_ds(s, "/nodes/mask"), (hsize_t)s->mask_row[x], s->pack, 1);
}

/* Parameters (a block of net.h's order: all weights, then all biases) to or
 * from row x of d (/nodes/weights, /copies/weights), in the file's order: per
 * layer with parameters, its weight, then its bias (docs/results-file.md).
 * One slab a weight or bias: no copy of the block. */
static int rw_params(store_t *s, const store_ds_t *d, int x, float *params, int write)
{
    hsize_t col = 0;
    for (int l = 0; l < s->net->n_layers; l++) {
        const net_layer_t *L = &s->net->layers[l];
        if (!net_has_params(L))
            continue;
        const size_t off[2] = {L->w_off, L->b_off}, len[2] = {L->n_w, (size_t)L->out_c};
        for (int k = 0; k < 2; k++) {
            hsize_t start[2] = {(hsize_t)x, col}, count[2] = {1, (hsize_t)len[k]};
            int rc = store_rw_slab(s, d, 2, start, count, params + off[k], write);
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
        int rc = store_rw_row(s, store_find_ds(s, path), (hsize_t)x, (void *)prov->field[k], 1);
        if (rc)
            return rc;
    }
    return 0;
}

/*
 * Row `row` of a ledger: group "/trials" (a cell) or "/nodes" (a training):
 * its error (NULL: none), wall seconds, rank and host, then its status. The
 * status goes last: a reader that sees "done" sees complete rows.
 */
static int write_ledger(store_t *s, const char *group, int row, int status, const char *error, double wall,
                        int rank, const char *host)
{
    static const char *const fields[] = {"error", "wall_seconds", "rank", "host", "status"};
    char err[ERROR_LEN] = {0}, h[HOST_LEN] = {0}, path[32];
    int32_t r = rank;
    int8_t st = (int8_t)status;
    snprintf(err, sizeof err, "%s", error ? error : "");
    snprintf(h, sizeof h, "%s", host ? host : "");
    void *bufs[] = {err, &wall, &r, h, &st};
    int rc = 0;
    for (int i = 0; !rc && i < (int)(sizeof fields / sizeof fields[0]); i++) {
        snprintf(path, sizeof path, "%s/%s", group, fields[i]);
        rc = store_rw_row(s, store_find_ds(s, path), (hsize_t)row, bufs[i], 1);
    }
    return rc;
}

/* Rows k0 .. k0 + rows - 1 of cell t's instability analysis: from nr (a
 * line's, rows = 1), or NaN (nr NULL: the rounds past the cell's last). One
 * slab a dataset; nothing when the job does not analyse. */
static int write_inst_rows(store_t *s, int t, int k0, int rows, const node_result_t *nr)
{
    int pairs = trial_pairs(s->cfg), A = s->cfg->interpolation, rc = 0;
    if (pairs == 0 || rows <= 0)
        return 0;
    size_t n = (size_t)rows * pairs * A;
    float *nan = nr ? NULL : ts_malloc(n * sizeof *nan);
    if (!nr && !nan)
        return TS_ERUN;
    for (size_t i = 0; nan && i < n; i++)
        nan[i] = NAN;
    hsize_t start[2] = {(hsize_t)t, (hsize_t)k0}, count[2] = {1, (hsize_t)rows};
    for (int i = 0; i < s->n_ds && !rc; i++) {
        const store_ds_t *d = &s->ds[i];
        if (d->kind == DS_INST)
            rc = store_rw_slab(s, d, 2, start, count, nr ? nr->inst[d->metric] : nan, 1);
        else if (d->kind == DS_INST_VALUE)
            rc = store_rw_slab(s, d, 2, start, count, nr ? nr->inst_value : nan, 1);
    }
    free(nan);
    return rc;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Training x's rows in the cells it serves (nr: its results; own: its mask
 * history, for the cells whose last round it is): by arm, every cell's round
 * in one batch (write_cells_round), the padding past the cells' last round in
 * another, then those cells' mask rows one by one. */
static int write_node_cells(store_t *s, int x, const node_result_t *nr, const uint8_t *own)
{
    const graph_t *g = s->g;
    const graph_node_t *nd = &g->nodes[x];
    int n = g->inc_off[x + 1] - g->inc_off[x], rc = 0;
    int32_t *ts = ts_malloc(2 * (size_t)n * sizeof *ts + 1), *last = ts + n;
    if (!ts)
        return TS_ERUN;
    for (int arm = 0; arm < N_ARMS && !rc; arm++) {
        int na = 0, nl = 0;
        for (int32_t i = g->inc_off[x]; i < g->inc_off[x + 1]; i++)
            if (g->inc[i] % N_ARMS == arm)
                ts[na++] = g->inc[i] / N_ARMS;
        qsort(ts, (size_t)na, sizeof *ts, cmp_i32); /* the file's order: copy i is cell ts[i] */
        for (int i = 0; i < na; i++)
            if (nd->round == g->cell_rounds[ts[i]])
                last[nl++] = ts[i];
        rc = write_cells_round(s, ts, na, arm, nd->round, nr);
        if (!rc)
            rc = write_cells_padding(s, last, nl, arm, nd->round + 1);
        for (int i = 0; !rc && arm == ARM_TICKET && i < nl; i++) /* its round's: its lines' */
            rc = write_inst_rows(s, last[i], nd->round + 1, s->R1 - nd->round - 1, NULL);
        for (int i = 0; !rc && arm != ARM_REINIT && own && i < nl; i++)
            rc = write_cell_masks(s, last[i], arm, own);
    }
    free(ts);
    return rc;
}

/* A seed's rewind points, [K][n_params] (one a row of /rewind). */
static int write_rewinds(store_t *s, int si, const float *rewind)
{
    int K, rc = 0;
    grid_rewinds(s->cfg, &K);
    for (int i = 0; i < K && !rc; i++)
        rc = store_rw_rewind(s, si * K + i, rewind + (size_t)i * s->net->n_params, 1);
    return rc;
}

int store_write_node(store_t *s, int x, const node_result_t *nr, int status, uint8_t *const *children,
                     const uint8_t *own, const float *rewind, const float *weights, double wall, int rank,
                     const char *host, const prov_t *prov)
{
    const graph_t *g = s->g;
    const graph_node_t *nd = &g->nodes[x];
    int rc = 0;
    if (status == STATUS_DONE)
        rc = write_node_cells(s, x, nr, own);
    int i = 0;
    for (int32_t c = nd->first_child; status == STATUS_DONE && children && !rc && c >= 0;
         c = g->nodes[c].next_sibling, i++)
        rc = write_mask(s, c, children[i]);
    if (!rc && status == STATUS_DONE && own && (graph_arm_own_mask(nd->arm) || nd->round == 0))
        rc = write_mask(s, x, own);
    if (!rc && status == STATUS_DONE && rewind && nd->round == 0 && grid_rewinding(s->cfg))
        rc = write_rewinds(s, nd->seed_i, rewind);
    for (int d = 0; !rc && status == STATUS_DONE && d < s->n_ds; d++) /* [output] curves = trainings */
        if (s->ds[d].kind == DS_NODE_CURVE)
            rc = store_rw_row(s, &s->ds[d], (hsize_t)x, nr->curves[s->ds[d].metric], 1);
    if (!rc && status == STATUS_DONE && weights && s->cfg->weights == WEIGHTS_FINAL)
        rc = rw_params(s, store_find_ds(s, "/nodes/weights"), x, (float *)weights, 1);
    if (!rc && weights && graph_sets(g, x)) /* an analysed training: its copy 0 */
        rc = store_write_copy(s, x, status, nr->error, weights, wall, rank, host);
    if (!rc)
        rc = write_prov(s, x, prov);
    if (!rc)
        rc = write_ledger(s, "/nodes", x, status, status == STATUS_FAILED ? nr->error : "", wall, rank, host);
    return rc;
}

int store_write_copy(store_t *s, int y, int status, const char *error, const float *weights, double wall,
                     int rank, const char *host)
{
    const graph_t *g = s->g;
    int row = graph_copy_row(g, y), rc = 0;
    if (status == STATUS_DONE)
        rc = rw_params(s, store_find_ds(s, "/copies/weights"), row, (float *)weights, 1);
    return rc ? rc : write_ledger(s, "/copies", row, status, status == STATUS_FAILED ? error : "", wall, rank, host);
}

int store_write_line(store_t *s, int y, const node_result_t *nr, int status, double wall, int rank,
                     const char *host)
{
    const graph_t *g = s->g;
    const graph_node_t *n = &g->nodes[y];
    int x = n->prev, rc = 0;
    for (int32_t i = g->inc_off[x]; status == STATUS_DONE && !rc && i < g->inc_off[x + 1]; i++) {
        int t = g->inc[i] / N_ARMS;
        if (g->inc[i] % N_ARMS == ARM_TICKET && graph_cell_set(n->round, grid_trial(s->cfg, t).rewind_i) == n->set)
            rc = write_inst_rows(s, t, n->round, 1, nr);
    }
    return rc ? rc : write_ledger(s, "/lines", n->extra, status, status == STATUS_FAILED ? nr->error : "", wall,
                                  rank, host);
}

int store_read_copy(store_t *s, int y, float *weights)
{
    const graph_t *g = s->g;
    int row = graph_copy_row(g, y);
    return rw_params(s, store_find_ds(s, "/copies/weights"), row, weights, 0);
}

int store_write_cell(store_t *s, int t, int status, const char *error, double wall, int rank,
                     const char *host)
{
    return write_ledger(s, "/trials", t, status, error, wall, rank, host);
}

int store_write_trial(store_t *s, int t, const trial_result_t *res, double wall, int rank,
                      const char *host)
{
    int rc = store_rw_trial(s, t, (trial_result_t *)res, 1);
    return rc ? rc : write_ledger(s, "/trials", t, res->status, res->error, wall, rank, host);
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
        int rc = store_rw_row(src, store_find_ds(src, rows[i]), row, buf, 0);
        if (!rc)
            rc = store_rw_row(dst, store_find_ds(dst, rows[i]), row, buf, 1);
        if (rc)
            return rc;
    }
    /* provenance: a shard of an earlier release has none: "" (not recorded) */
    prov_t p;
    memset(&p, 0, sizeof p);
    for (int k = 0; k < src->has_prov; k++) {
        char path[64];
        snprintf(path, sizeof path, "/nodes/%s", prov_names[k]);
        int rc = store_rw_row(src, store_find_ds(src, path), (hsize_t)x, p.field[k], 0);
        if (rc)
            return rc;
        p.field[k][PROV_LEN - 1] = 0;
    }
    int rc = write_prov(dst, x, &p);
    for (int i = 0; !rc && i < src->n_ds; i++) /* [output] curves = trainings: its curves */
        if (src->ds[i].kind == DS_NODE_CURVE &&
            !(rc = store_rw_row(src, &src->ds[i], (hsize_t)x, buf, 0)))
            rc = store_rw_row(dst, store_find_ds(dst, src->ds[i].path), (hsize_t)x, buf, 1);
    if (rc)
        return rc;
    const graph_node_t *nd = &src->g->nodes[x];
    int K;
    grid_rewinds(src->cfg, &K);
    for (int i = 0; nd->arm == ARM_TICKET && nd->round == 0 && grid_rewinding(src->cfg) && i < K; i++) {
        int row = nd->seed_i * K + i;
        if ((rc = store_rw_rewind(src, row, (float *)buf, 0)) || (rc = store_rw_rewind(dst, row, (float *)buf, 1)))
            return rc;
    }
    return 0;
}

int store_copy_extra(store_t *dst, store_t *src, int y, uint8_t *buf)
{
    const graph_t *g = src->g;
    int line = g->nodes[y].kind == NODE_LINE;
    int row = line ? g->nodes[y].extra : graph_copy_row(g, y);
    static const char *const fields[] = {"weights", "error", "wall_seconds", "rank", "host", "status"};
    char path[48];
    for (int i = line; i < (int)(sizeof fields / sizeof fields[0]); i++) { /* the status last */
        snprintf(path, sizeof path, "%s/%s", line ? "/lines" : "/copies", fields[i]);
        int rc = store_rw_row(src, store_find_ds(src, path), (hsize_t)row, buf, 0);
        if (!rc)
            rc = store_rw_row(dst, store_find_ds(dst, path), (hsize_t)row, buf, 1);
        if (rc)
            return rc;
    }
    return 0;
}

long long store_write_count(const store_t *s)
{
    return s ? s->n_writes : 0;
}
