/*
 * merge.c - `ticketsweep merge` (see merge.h): check that the shards hold
 * one job, then copy into a new file every training and every trial the
 * shards finished (a trial in two shards must be the same in both).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "claim.h"
#include "config.h"
#include "data.h"
#include "err.h"
#include "graph.h"
#include "grid.h"
#include "merge.h"
#include "net.h"
#include "store.h"
#include "trial.h"

/* What a merge holds; merge_free releases it (also half made). */
typedef struct {
    config_t *cfg, *other; /* the job (shards[0]'s), and scratch for the others' */
    int shape[3];          /* the input shape (channels, rows, cols) */
    char hash[17];         /* the job's config hash */
    net_t layout;          /* the layer table (shapes only are used) */
    graph_t g;             /* the trainings */
    trial_result_t res, have; /* a shard's trial, the merged file's */
    uint8_t *buf;          /* [max(W, P floats)] a node's row in copying */
    int8_t *nst;           /* [N] a shard's node statuses */
    int8_t *ndone;         /* [N] status of the nodes copied so far */
    double *nwall;         /* [N] a shard's node wall seconds */
    int8_t *st;            /* [T] a shard's trial statuses */
    int8_t *done;          /* [T] status of the trials copied so far */
    int T;                 /* trials of the job */
} merge_t;

static void merge_free(merge_t *m)
{
    free(m->buf), free(m->nst), free(m->ndone), free(m->nwall), free(m->st), free(m->done);
    graph_free(&m->g);
    trial_result_free(&m->res);
    trial_result_free(&m->have);
    net_free(&m->layout);
    free(m->cfg);
    free(m->other);
}

/* Read shards[0]'s job into m; every other shard must hold the same job
 * (TS_EINPUT naming the keys that differ). */
static int check_shards(merge_t *m, char *const *shards, int n)
{
    int shape[3], rc;
    char hash[17];
    if ((rc = store_peek(shards[0], m->cfg, m->shape, m->hash, NULL)))
        return rc;
    for (int i = 1; i < n; i++) {
        if ((rc = store_peek(shards[i], m->other, shape, hash, NULL)))
            return rc;
        if (!strcmp(m->hash, hash) && !memcmp(m->shape, shape, sizeof shape))
            continue;
        /* the hashes of one job differ when its shards were written by
         * releases whose resolved text differs (a key added since, with the
         * old behaviour as its default): the keys decide, as for --resume */
        char *a = config_to_string(m->cfg), *b = config_to_string(m->other), diff[1024] = "";
        int nd = a && b ? config_diff(a, b, diff, sizeof diff) : -1;
        free(a);
        free(b);
        if (nd < 0)
            return ts_fail(TS_ERUN, "out of memory");
        if (nd == 0 && !memcmp(m->shape, shape, sizeof shape))
            continue;
        return ts_fail(TS_EINPUT, "%s: from a different job than %s (config hash %s, not %s; %s)", shards[i],
                       shards[0], hash, m->hash, diff[0] ? diff : "input size differs");
    }
    return 0;
}

/* out may be written: absent (or force), and not one of the inputs. */
static int check_output(const char *out, char *const *shards, int n, int force)
{
    struct stat st;
    if (!force && stat(out, &st) == 0)
        return ts_fail(TS_EINPUT, "%s: already exists: use --force to overwrite it", out);
    for (int i = 0; i < n; i++)
        if (!strcmp(out, shards[i]))
            return ts_fail(TS_EINPUT, "%s: the output is also an input", out);
    return 0;
}

/* The job's layer table, trainings, result buffers and scratch. */
static int merge_alloc(merge_t *m)
{
    int rc;
    if ((rc = net_layout(&m->layout, m->cfg, m->shape[0], m->shape[1], m->shape[2], DATA_CLASSES)) ||
        (rc = graph_plan(&m->g, m->cfg, &m->layout, 1)) ||
        (rc = trial_result_create(&m->res, m->cfg, &m->layout)) ||
        (rc = trial_result_create(&m->have, m->cfg, &m->layout)))
        return rc;
    size_t W = m->layout.n_weights, P = m->layout.n_params * sizeof(float), N = (size_t)m->g.NA,
           T = (size_t)(m->T = grid_size(m->cfg));
    size_t E = (size_t)trial_eval_count(m->cfg) * sizeof(float); /* a row of /nodes/curves */
    m->buf = ts_malloc((W > P ? W : P) + E + 256);
    m->nst = ts_calloc(N + 1, 1);
    m->ndone = ts_calloc(N + 1, 1);
    m->nwall = ts_calloc(N + 1, sizeof *m->nwall);
    m->st = ts_calloc(T + 1, 1);
    m->done = ts_calloc(T + 1, 1);
    return m->buf && m->nst && m->ndone && m->nwall && m->st && m->done ? 0 : TS_ERUN;
}

/* Copy into dst what src finished: its trainings (the finished ones, and the
 * histories finished parents left for their children: a merged file resumes
 * from them), then its trials. A trial copied already from an earlier shard
 * must be the same here. Adds the trials copied to *merged. */
static int merge_from(merge_t *m, store_t *dst, store_t *src, const char *path, int *merged)
{
    const graph_t *g = &m->g;
    int rc;
    if (!store_has_copies(src))
        return ts_fail(TS_EINPUT, "%s: was made by an earlier release, whose instability analysis trained the "
                       "copies inside their training (no /copies): merge its shards with that release", path);
    if ((rc = store_read_status(src, m->st)) || (rc = store_read_all_nodes(src, m->nst, m->nwall)))
        return rc;
    for (int x = 0; x < g->N; x++) {
        int32_t p = g->nodes[x].arm == ARM_TICKET ? g->nodes[x].prev : -1;
        int have_row = m->nst[x] != STATUS_PENDING || (p >= 0 && m->nst[p] == STATUS_DONE);
        if (!have_row || m->ndone[x] == STATUS_DONE)
            continue;
        if ((rc = store_copy_node(dst, src, x, m->buf)))
            return rc;
        /* an analysed training's copy 0 (its final weights, for its lines) */
        if (m->nst[x] == STATUS_DONE && graph_sets(g, x) && (rc = store_copy_extra(dst, src, x, m->buf)))
            return rc;
        m->ndone[x] = m->nst[x];
    }
    for (int y = g->N; y < g->NA; y++) { /* copies and lines: the finished ones */
        if (m->nst[y] == STATUS_PENDING || m->ndone[y] == STATUS_DONE)
            continue;
        if ((rc = store_copy_extra(dst, src, y, m->buf)))
            return rc;
        m->ndone[y] = m->nst[y];
    }
    for (int t = 0; t < m->T; t++) {
        double wall;
        int rank;
        char host[64], err[160];
        if (m->st[t] == STATUS_PENDING)
            continue;
        trial_result_clear(&m->res);
        if ((rc = store_read_trial(src, t, &m->res)) || (rc = store_read_ledger(src, t, &wall, &rank, host, err)))
            return rc;
        if (!store_cell_masks(dst)) /* a shard of format 2: the merged file derives them */
            for (int k = 0; k < N_ARMS; k++)
                memset(m->res.masks[k], 0, m->res.n_weights);
        if (m->done[t]) {
            trial_result_clear(&m->have);
            if ((rc = store_read_trial(dst, t, &m->have)))
                return rc;
            if (!trial_result_equal(&m->res, &m->have))
                return ts_fail(TS_EINPUT, "%s: trial %d is also in an earlier shard, with different data", path, t);
            continue;
        }
        if ((rc = store_write_trial(dst, t, &m->res, wall, rank, host)))
            return rc;
        m->done[t] = (int8_t)m->res.status;
        (*merged)++;
    }
    return 0;
}

/* Build the merged file at tmp: the job's tables, theta0, then each shard. */
static int merge_into(merge_t *m, const char *tmp, char *const *shards, int n, merge_counts_t *counts)
{
    store_t *dst, *src;
    int rc = store_create(&dst, tmp, MPI_COMM_SELF, m->cfg, &m->layout, &m->g, 1);
    if (rc)
        return rc;
    rc = store_write_theta0(dst);
    for (int i = 0; !rc && i < n; i++) {
        if ((rc = store_open(&src, shards[i], MPI_COMM_SELF, m->cfg, &m->layout, &m->g, 1)))
            break;
        rc = merge_from(m, dst, src, shards[i], &counts->merged);
        int rc2 = store_close(src);
        rc = rc ? rc : rc2;
    }
    if (!rc && store_numerics(dst, m->g.N, m->ndone, counts->numerics, sizeof counts->numerics) <= 1)
        counts->numerics[0] = 0;
    int rc2 = store_close(dst);
    return rc ? rc : rc2;
}

int merge_shards(const char *out, char *const *shards, int n, const merge_opts_t *opts,
                 merge_counts_t *counts)
{
    merge_t m = {.cfg = ts_calloc(1, sizeof *m.cfg), .other = ts_calloc(1, sizeof *m.other)};
    claim_t *claim = NULL;
    claim_opts_t co = {.timeout = opts->claim_timeout, .what = "merge", .log = opts->log};
    char tmp[PATH_MAX];
    int rc = m.cfg && m.other ? 0 : TS_ERUN;
    memset(counts, 0, sizeof *counts);
    if (rc || (rc = check_shards(&m, shards, n)) || (rc = check_output(out, shards, n, opts->force)) ||
        (rc = claim_take(&claim, out, m.hash, &co)))
        goto out_free;
    if ((rc = merge_alloc(&m)))
        goto out_release;
    /* built under another name: an existing OUT (with force) is replaced only by a complete merge */
    snprintf(tmp, sizeof tmp, "%s.merging", out);
    rc = merge_into(&m, tmp, shards, n, counts);
    if (!rc && rename(tmp, out) != 0)
        rc = ts_fail(TS_ERUN, "%s: cannot rename %s: %s", out, tmp, strerror(errno));
    if (rc) {
        remove(tmp); /* ours, half-made: do not leave it to be mistaken */
        goto out_release;
    }
    for (int t = 0; t < m.T; t++)
        counts->pending += !m.done[t], counts->failed += m.done[t] == STATUS_FAILED;
out_release:
    if (claim_release(claim) && opts->log)
        fprintf(opts->log, "ticketsweep: warning: %s\n", ts_errmsg());
out_free:
    merge_free(&m);
    return rc;
}
