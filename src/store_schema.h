/*
 * store_schema.h - what the files of the store module share and nobody else
 * sees: the handle (struct store), the table of the file's datasets, and the
 * plumbing that reads and writes their rows (store_schema.c). The public face
 * is store.h.
 *
 * The module's files:
 *   store.c         the file's life: create (under a temporary name, renamed
 *                   when complete), open, peek, flush, close; the root
 *                   attributes and the tables written once at creation
 *   store_schema.c  the datasets: their names, shapes and types (store_layout,
 *                   the one list of them), what part of a result each row
 *                   holds, the file's size, and the slab reads and writes
 *   store_write.c   the writers: theta0, a training's rows, a cell's ledger,
 *                   a merge's copy of a training
 *   store_read.c    the readers: statuses, ledgers, a trial's rows, mask
 *                   histories, rewind points, provenance
 */
#ifndef TS_STORE_SCHEMA_H
#define TS_STORE_SCHEMA_H

#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "graph.h"
#include "net.h"
#include "store.h"
#include "trial.h"

#define STORE_NAME_LEN 32 /* a criterion's name in /grid/criterion, /trials/criterion */
#define STORE_MAX_DS 256 /* datasets a file has at the most (every arm, Conv-6, rewinding: ~170) */

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
    int version;           /* the file's format_version: STORE_VERSION_MIN .. STORE_VERSION */
    int has_prov;          /* how many of the provenance datasets (/nodes/cpu, ...: prov.h) the
                              file has: the first has_prov of prov_names, 0 for none */
    int has_copies;        /* analysis.copies >= 2: the file has /copies and /lines (an earlier
                              release's has not) */
    int32_t *mask_row;     /* [N] row of a training's mask in /nodes/mask, -1 (reinit) for none */
    int n_mask_rows;
    uint8_t *pack;         /* [W / 8 rounded up] packing scratch */
    int n_ds;
    store_ds_t ds[STORE_MAX_DS];
    char path[CFG_PATH];
    long long n_writes;    /* H5Dwrite calls made through this handle (store_write_count) */
};

enum {
    DS_CURVE, DS_DENSITY, DS_ES_ITER, DS_ES_ACC, DS_FINAL_ACC, DS_MASK, /* per arm */
    DS_REWIND_W, DS_REWIND_B,                                           /* per seed */
    DS_STATUS, DS_ERROR, DS_WALL, DS_RANK, DS_HOST,                     /* ledger */
    DS_NODE,                                                            /* per training */
    DS_NODE_CURVE,                           /* per training: a learning curve, metric M_* */
    DS_INST, DS_INST_VALUE,                   /* the instability analysis: metric I_*, value */
    DS_OTHER                                                            /* written once */
};

#define ERROR_LEN 160 /* /trials/error, /nodes/error: bytes of a string */
#define HOST_LEN 64   /* /trials/host, /nodes/host */

#define H5_TRY(call)                                                                    \
    do {                                                                                 \
        if ((call) < 0)                                                                  \
            return ts_fail(TS_ERUN, "%s: HDF5 call failed (%s:%d): %s", s->path, __FILE__, \
                           __LINE__, #call);                                             \
    } while (0)

/* A fixed-length, NUL-terminated string type of len bytes (the caller closes it). */
hid_t store_str_type(size_t len);
/* Register every dataset of s's job, in a fixed order: create them
 * (collective, create = 1) or open and check their shapes (create = 0). */
int store_layout(store_t *s, int create);
/* Write the same block buf ([rows][...] of d's rows) into rows k0 .. k0 + rows - 1
 * of each of the n cells ts[] of the [T][R1][...] dataset d: one H5Dwrite over
 * the union of their slabs (copies: scratch of n blocks, the caller's). */
int store_write_cells(store_t *s, const store_ds_t *d, const int32_t *ts, int n, int k0, int rows,
                      const void *buf, void *copies);
/* The dataset at path, or NULL when the file has none. */
store_ds_t *store_find_ds(store_t *s, const char *path);
/* Write (write = 1) or read a slab of d: start[i] .. start[i] + count[i] in
 * the first n dimensions, every element of the others. Independent transfer. */
int store_rw_slab(store_t *s, const store_ds_t *d, int n, const hsize_t *start, const hsize_t *count,
                  void *buf, int write);
/* Write or read row `row` of d: the slab [row, :, ...]. */
int store_rw_row(store_t *s, const store_ds_t *d, hsize_t row, void *buf, int write);
/* Whole-dataset write of something small (rank 0, at creation). */
int store_write_all(store_t *s, const char *path, const void *buf);
/* Write or read trial t's rows of curves, summaries, masks (and its seed's
 * rewind point when res is done) from or into res. */
int store_rw_trial(store_t *s, int t, trial_result_t *res, int write);
/* Write or read one rewind point: row `row` of /rewind, seed_i * K + rewind_i
 * (K the rewind axis's length, grid_rewinds; seed_i with one rewind point). */
int store_rw_rewind(store_t *s, int row, const float *rewind, int write);

#endif
