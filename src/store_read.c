/*
 * store_read.c - the readers of the results file (store.h): for resume
 * (statuses, mask histories, rewind points), merge (a trial's rows) and
 * status (ledgers, provenance). Reads only: they work on a file opened
 * read-only while another job writes it.
 */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "store.h"
#include "store_schema.h"
#include "util.h"

int store_read_status(store_t *s, int8_t *status)
{
    store_ds_t *d = store_find_ds(s, "/trials/status");
    if (H5Dread(d->id, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, status) < 0)
        return ts_fail(TS_ERUN, "%s: cannot read /trials/status", s->path);
    return 0;
}

int store_cell_masks(const store_t *s)
{
    return s->version < 3;
}

int store_read_trial(store_t *s, int t, trial_result_t *res)
{
    int8_t status;
    int rc = store_rw_row(s, store_find_ds(s, "/trials/status"), (hsize_t)t, &status, 0);
    if (rc)
        return rc;
    res->status = status;
    char err[ERROR_LEN];
    if ((rc = store_rw_row(s, store_find_ds(s, "/trials/error"), (hsize_t)t, err, 0)))
        return rc;
    snprintf(res->error, sizeof res->error, "%s", err);
    return store_rw_trial(s, t, res, 0);
}

int store_read_summary(store_t *s, int t, double *density, float *es_acc)
{
    int rc = store_rw_row(s, store_find_ds(s, "/summary/density"), (hsize_t)t, density, 0);
    return rc ? rc : store_rw_row(s, store_find_ds(s, "/summary/early_stop_test_acc"), (hsize_t)t, es_acc, 0);
}

int store_read_ledger(store_t *s, int t, double *wall, int *rank, char host[64], char error[160])
{
    int32_t r = -1;
    int rc = store_rw_row(s, store_find_ds(s, "/trials/wall_seconds"), (hsize_t)t, wall, 0);
    if (!rc)
        rc = store_rw_row(s, store_find_ds(s, "/trials/rank"), (hsize_t)t, &r, 0);
    if (!rc)
        rc = store_rw_row(s, store_find_ds(s, "/trials/host"), (hsize_t)t, host, 0);
    if (!rc)
        rc = store_rw_row(s, store_find_ds(s, "/trials/error"), (hsize_t)t, error, 0);
    *rank = r;
    return rc;
}

int store_read_nodes(store_t *s, int8_t *status, double *wall)
{
    store_ds_t *a = store_find_ds(s, "/nodes/status"), *b = store_find_ds(s, "/nodes/wall_seconds");
    if (!a || !b || H5Dread(a->id, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, status) < 0 ||
        H5Dread(b->id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, wall) < 0)
        return ts_fail(TS_EINPUT, "%s: cannot read /nodes/status and /nodes/wall_seconds", s->path);
    return 0;
}

int store_has_copies(const store_t *s)
{
    return s->cfg->copies < 2 || s->has_copies;
}

int store_read_all_nodes(store_t *s, int8_t *status, double *wall)
{
    const graph_t *g = s->g;
    int rc = store_read_nodes(s, status, wall);
    for (int y = g->N; y < g->NA; y++)
        status[y] = STATUS_PENDING, wall[y] = NAN;
    if (rc || !s->has_copies || g->NA == g->N)
        return rc;
    size_t R = (size_t)(g->n_copy_rows > g->n_lines ? g->n_copy_rows : g->n_lines) + 1;
    int8_t *st = ts_malloc(R);
    double *w = ts_malloc(R * sizeof *w);
    for (int t = 0; t < 2 && !rc; t++) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%s/status", t ? "/lines" : "/copies");
        snprintf(b, sizeof b, "%s/wall_seconds", t ? "/lines" : "/copies");
        store_ds_t *da = store_find_ds(s, a), *db = store_find_ds(s, b);
        if (!st || !w)
            rc = TS_ERUN;
        else if (!da || !db || H5Dread(da->id, H5T_NATIVE_INT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, st) < 0 ||
                 H5Dread(db->id, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, w) < 0)
            rc = ts_fail(TS_EINPUT, "%s: cannot read %s and %s", s->path, a, b);
        for (int y = g->N; !rc && y < g->NA; y++)
            if ((g->nodes[y].kind == NODE_LINE) == t)
                status[y] = st[g->nodes[y].extra], wall[y] = w[g->nodes[y].extra];
    }
    free(st);
    free(w);
    return rc;
}

int store_read_counts(store_t *s, int x, uint8_t *counts)
{
    size_t W = s->net->n_weights;
    memset(counts, 0, W);
    for (int32_t a = x; a >= 0; a = s->g->nodes[a].prev) { /* back along its chain to round 0 */
        if (s->mask_row[a] < 0)
            return ts_fail(TS_ERUN, "%s: training %d has no mask row", s->path, a);
        int rc = store_rw_row(s, store_find_ds(s, "/nodes/mask"), (hsize_t)s->mask_row[a], s->pack, 0);
        if (rc)
            return rc;
        for (size_t w = 0; w < W; w++)
            counts[w] += (s->pack[w >> 3] >> (w & 7)) & 1;
    }
    /* pruning at initialisation: one row, the mask of its round k alone (history k + 1) */
    const graph_node_t *n = &s->g->nodes[x];
    for (size_t w = 0; graph_arm_mask(n->arm) == ARM_MASK_INIT && w < W; w++)
        counts[w] = (uint8_t)(counts[w] * (n->round + 1));
    return 0;
}

int store_read_rewind(store_t *s, int row, float *rewind)
{
    return store_rw_rewind(s, row, rewind, 0);
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
        store_ds_t *d = store_find_ds(s, path);
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
