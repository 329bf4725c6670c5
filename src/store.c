/*
 * store.c - the HDF5 results file's life: create, open, peek, flush, close
 * (store.h for the parallel pattern; store_schema.h for the module's files).
 *
 * What the file holds (docs/results-file.md has every dataset):
 *   root attributes  the format and its version, the job as a job file
 *                    (config) and its hash, the software, the input shape,
 *                    whether trainings are shared between cells
 *   /grid            the sweep's axes: rates (or per_round), rounds, seeds
 *   /trials          one row per cell (trial): its rate, rounds and seed, the
 *                    trainings behind each (arm, round) (/trials/nodes), and
 *                    its ledger: status, error, wall seconds, rank, host
 *   /curves, /summary, /masks
 *                    the ticket arm's learning curves, early-stop and final
 *                    accuracies, densities and masks, a row per cell
 *   /controls/<arm>  the same for the other arms the job asks for (reinit,
 *                    random, the sign controls, pruning at initialisation;
 *                    masks only for random)
 *   /init, /rewind   theta0 and the rewind point of each seed, per layer
 *   /instability     analysis.copies >= 2: the error along the line between
 *                    each pair of copies of every ticket training, a row per
 *                    cell (trial.h: the instability analysis)
 *   /nodes           one row per training (a node of the plan, graph.h):
 *                    what it is (seed, arm, round, prev, twin, key), its
 *                    mask bits, trained weights (weights = final), the
 *                    numerics it ran with (prov.h) and its ledger
 *
 * Who writes what, when:
 *   store_create     every rank, collectively: the file under NAME.partial,
 *                    every dataset (store_layout), then rank 0 writes the
 *                    root attributes' values, the grid, trial and node tables
 *                    and the pending statuses; flushed, renamed to NAME
 *   store_write_theta0  one rank, before any training reads the file
 *   store_write_node    the rank that ran a training, when it ends: the cells'
 *                    rows of its round, the masks its children start from,
 *                    the rewind point (round 0), its weights, provenance,
 *                    ledger, and its status last
 *   store_write_cell    rank 0, once a cell's trainings are all written: the
 *                    cell's ledger and its status last
 *   store_copy_node, store_write_trial  merge, one process, into a new file
 *   store_close      every rank, collectively
 * So a job killed at any moment leaves a file whose structure is intact and
 * whose rows with status done are complete.
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
#include <time.h>

#include "data.h"
#include "err.h"
#include "grid.h"
#include "prune.h"
#include "store.h"
#include "store_schema.h"
#include "util.h"

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
        rc = store_write_all(s, names[i], bufs[i]);
    free(seed), free(round), free(prev), free(twin), free(rank), free(arm), free(status);
    free(key), free(wall), free(err), free(host);
    return rc;
}

/* The copies' and lines' tables (graph.h: NODE_COPY, NODE_LINE; rank 0, at
 * creation): what each row is, and its ledger, pending. */
static int write_copy_tables(store_t *s)
{
    const graph_t *g = s->g;
    size_t R = (size_t)(g->n_copy_rows > g->n_lines ? g->n_copy_rows : g->n_lines) + 1;
    int32_t *node = ts_calloc(R, sizeof *node), *set = ts_calloc(R, sizeof *set);
    int32_t *copy = ts_calloc(R, sizeof *copy), *rank = ts_calloc(R, sizeof *rank);
    int64_t *seed = ts_calloc(R, sizeof *seed);
    int8_t *status = ts_calloc(R, 1);
    double *wall = ts_calloc(R, sizeof *wall);
    char *err = ts_calloc(R, ERROR_LEN), *host = ts_calloc(R, HOST_LEN);
    int rc = node && set && copy && rank && seed && status && wall && err && host ? 0 : TS_ERUN;
    for (int t = 0; t < 2 && !rc; t++) {
        const char *grp = t == 0 ? "/copies" : "/lines";
        for (size_t i = 0; i < R; i++)
            wall[i] = NAN, rank[i] = -1;
        for (int y = g->N; y < g->NA; y++) {
            const graph_node_t *n = &g->nodes[y];
            if ((n->kind == NODE_LINE) != t)
                continue;
            int r = n->extra;
            node[r] = n->prev, set[r] = n->set, copy[r] = n->copy;
            seed[r] = trial_data_seed(s->cfg, n->copy);
            if (t == 0 && n->set == 0 && n->copy == 1) { /* the row before: copy 0, the training */
                node[r - 1] = n->prev, set[r - 1] = -1, copy[r - 1] = 0;
                seed[r - 1] = trial_data_seed(s->cfg, 0);
            }
        }
        static const char *const names[] = {"node", "rewind_index", "copy", "data_seed", "status", "error",
                                            "wall_seconds", "rank", "host"};
        const void *bufs[] = {node, set, copy, seed, status, err, wall, rank, host};
        char path[48];
        for (int i = 0; !rc && i < 9; i++) {
            if (t == 1 && (i == 2 || i == 3))
                continue;
            snprintf(path, sizeof path, "%s/%s", grp, names[i]);
            rc = store_write_all(s, path, bufs[i]);
        }
    }
    free(node), free(set), free(copy), free(rank), free(seed), free(status), free(wall), free(err), free(host);
    return rc;
}

/* The criterion axis: /trials/criterion from names (each cell's, T rows of
 * STORE_NAME_LEN, then room for the axis's), and /grid/criterion. */
static int write_criteria(store_t *s, char *names)
{
    int list[PRUNE_N_CRITERIA], C = grid_criteria(s->cfg, list);
    char *axis = names + (size_t)s->T * STORE_NAME_LEN;
    int rc = store_write_all(s, "/trials/criterion", names);
    for (int i = 0; i < C; i++)
        snprintf(axis + (size_t)i * STORE_NAME_LEN, STORE_NAME_LEN, "%s", prune_criterion_names[list[i]]);
    return rc ? rc : store_write_all(s, "/grid/criterion", axis);
}

static int write_attr_str(store_t *s, const char *name, const char *value)
{
    hid_t t = store_str_type(strlen(value) + 1);
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = t < 0 || sp < 0 ? -1 : H5Acreate2(s->file, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, t, value);
    if (a >= 0 && H5Aclose(a) < 0)
        e = -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    if (e < 0)
        return ts_fail(TS_ERUN, "%s: cannot write the attribute %s", s->path, name);
    return 0;
}

/* An int32 attribute: a scalar when n == 1, else a vector of n. */
static int write_attr_ints(store_t *s, const char *name, const int *value, int n)
{
    hsize_t dim = (hsize_t)n;
    hid_t sp = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &dim, NULL);
    hid_t a = sp < 0 ? -1 : H5Acreate2(s->file, name, H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_INT, value);
    if (a >= 0 && H5Aclose(a) < 0)
        e = -1;
    if (sp >= 0)
        H5Sclose(sp);
    if (e < 0)
        return ts_fail(TS_ERUN, "%s: cannot write the attribute %s", s->path, name);
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
        hid_t mt = store_str_type(len + 1);
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

/* A file access list: MPI-IO over comm (use_mpio) and no file locking; -1
 * when HDF5 refuses either (the list is closed then). */
static hid_t make_fapl(MPI_Comm comm, int use_mpio)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0)
        return -1;
    /* Locks do not help a single writer per row and break on NFS/Lustre and for
     * readers of a file that is being written (ticketsweep status). */
    if ((use_mpio && H5Pset_fapl_mpio(fapl, comm, MPI_INFO_NULL) < 0) || H5Pset_file_locking(fapl, 0, 1) < 0) {
        H5Pclose(fapl);
        return -1;
    }
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
    s->version = store_version_for(cfg); /* a file made now; open_file reads an existing one's */
    /* a mask row for every training but those that train their twin's mask (reinit and
       the sign controls) */
    s->mask_row = ts_malloc(((size_t)g->N + 1) * sizeof *s->mask_row);
    s->pack = ts_malloc(net->n_weights / 8 + 1);
    for (int x = 0; s->mask_row && x < g->N; x++)
        s->mask_row[x] = graph_arm_mask(g->nodes[x].arm) == ARM_MASK_TWIN ? -1 : s->n_mask_rows++;
}

int store_version_for(const config_t *cfg)
{
    if (cfg->curves == CURVES_TRAININGS)
        return 5;
    return cfg->n_rewinds > 0 || cfg->criteria ? STORE_VERSION_AXES : STORE_VERSION_PLAIN;
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
    /* every rank writes the same attributes (collective): rank 0's clock */
    long long now = (long long)time(NULL);
    MPI_Bcast(&now, 1, MPI_LONG_LONG, 0, s->comm);
    time_t t0 = (time_t)now;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t0));
    snprintf(version, sizeof version, "ticketsweep %s", ts_version());
    int rc = write_attr_str(s, "format", STORE_FORMAT);
    if (!rc)
        rc = write_attr_ints(s, "format_version", (int[]){s->version}, 1);
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
    int64_t *rewind = ts_calloc((size_t)s->T, sizeof(int64_t));
    char *crit = ts_calloc((size_t)s->T + PRUNE_N_CRITERIA, STORE_NAME_LEN); /* cells', then the axis's */
    int8_t *status = ts_calloc((size_t)s->T, 1);
    double *wall = ts_calloc((size_t)s->T, sizeof(double));
    int32_t *rank = ts_calloc((size_t)s->T, sizeof(int32_t));
    char *err = ts_calloc((size_t)s->T, ERROR_LEN), *host = ts_calloc((size_t)s->T, HOST_LEN);
    int32_t grid_rounds[CFG_MAX_LIST];
    its = ts_calloc((size_t)s->E, sizeof(int32_t));
    rc = !rate || !rounds || !seed || !rewind || !crit || !status || !wall || !rank || !err || !host || !its
             ? TS_ERUN : 0;
    for (int t = 0; !rc && t < s->T; t++) {
        trial_t tr = grid_trial(cfg, t);
        rate[t] = tr.rate;
        rounds[t] = tr.rounds;
        seed[t] = tr.seed;
        rewind[t] = tr.rewind;
        snprintf(crit + (size_t)t * STORE_NAME_LEN, STORE_NAME_LEN, "%s", prune_criterion_names[tr.criterion]);
        wall[t] = NAN;
        rank[t] = -1;
    }
    for (int e = 0; !rc && e < s->E; e++)
        its[e] = (int32_t)trial_eval_iter(cfg, e);
    for (int i = 0; i < cfg->n_rounds; i++)
        grid_rounds[i] = cfg->rounds[i];
    if (!rc)
        rc = store_write_all(s, cfg->n_per_round ? "/grid/per_round" : "/grid/rates",
                       cfg->n_per_round ? cfg->per_round : cfg->rates);
    if (!rc)
        rc = write_node_table(s);
    if (!rc)
        rc = store_write_all(s, "/grid/rounds", grid_rounds);
    if (!rc)
        rc = store_write_all(s, "/grid/seeds", cfg->seeds);
    if (!rc)
        rc = store_write_all(s, "/trials/rate", rate);
    if (!rc)
        rc = store_write_all(s, "/trials/rounds", rounds);
    if (!rc)
        rc = store_write_all(s, "/trials/seed", seed);
    if (!rc && cfg->n_rewinds > 0)
        rc = store_write_all(s, "/grid/rewind", cfg->rewinds);
    if (!rc && cfg->n_rewinds > 0)
        rc = store_write_all(s, "/trials/rewind", rewind);
    if (!rc && cfg->criteria)
        rc = write_criteria(s, crit);
    if (!rc)
        rc = store_write_all(s, "/trials/error", err);
    if (!rc)
        rc = store_write_all(s, "/trials/wall_seconds", wall);
    if (!rc)
        rc = store_write_all(s, "/trials/rank", rank);
    if (!rc)
        rc = store_write_all(s, "/trials/host", host);
    if (!rc)
        rc = store_write_all(s, "/curves/iteration", its);
    if (!rc && cfg->copies >= 2) { /* the instability analysis: the points of a line, the copies' orders */
        double alpha[1001];
        int64_t orders[16];
        for (int a = 0; a < cfg->interpolation; a++)
            alpha[a] = (double)a / (cfg->interpolation - 1);
        for (int j = 0; j < cfg->copies; j++)
            orders[j] = trial_data_seed(cfg, j);
        rc = store_write_all(s, "/instability/alpha", alpha);
        if (!rc)
            rc = store_write_all(s, "/instability/data_seed", orders);
        if (!rc)
            rc = write_copy_tables(s);
    }
    if (!rc)
        rc = store_write_all(s, "/trials/status", status);
    free(rate), free(rounds), free(seed), free(rewind), free(crit), free(status), free(wall), free(rank);
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
    if (!ts_fault(where, s->rank))
        return 0;
    char msg[512];
    snprintf(msg, sizeof msg, "%s", ts_errmsg());
    return ts_fail(TS_ERUN, "%s: %s", s->path, msg);
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
    rc = store_layout(s, 1);
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
    if (read_attr_ints(f, "format_version", &version, 1) || version < STORE_VERSION_MIN ||
        version > STORE_VERSION) {
        rc = ts_fail(TS_EINPUT,
                     "%s: results format version %d, this ticketsweep reads versions %d to %d: "
                     "use the ticketsweep release that wrote it",
                     path, version, STORE_VERSION_MIN, STORE_VERSION);
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
    if (read_attr_ints(s->file, "format_version", &version, 1) || version < STORE_VERSION_MIN ||
        version > STORE_VERSION)
        return ts_fail(TS_EINPUT, "%s: results format version %d, this ticketsweep reads versions %d to %d",
                       path, version, STORE_VERSION_MIN, STORE_VERSION);
    s->version = version;
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
    int rc = store_layout(s, 0);
    if (rc)
        return rc;
    /* a file from before /nodes/conv had its convolutions on im2col: a
     * resume on oneDNN would mix the two kernels without a record */
    const char *conv = net_conv_kernels(net, cfg->kernels);
    if (!readonly && s->has_prov < PROV_FIELDS && strcmp(conv, "none") && strcmp(conv, "im2col+sgemm"))
        return ts_fail(TS_EINPUT, "%s: made by a release that ran convolutions on im2col and did not record it (no /nodes/conv); this build runs them on oneDNN under train.kernels = %s: resume it with a build without oneDNN (make BUILD=build-im2col DNNL_DIR=no)",
                       path, cfg->kernels == KERNELS_SPARSE ? "sparse" : "auto");
    /* the file's node table must be this job's graph: rank 0 reads it (or a
     * read-only opener), not every rank of a large job (N keys each); the
     * caller agrees on the outcome across ranks (run: agree) */
    if (!readonly && s->rank != 0)
        return 0;
    const store_ds_t *d = store_find_ds(s, "/nodes/key");
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
