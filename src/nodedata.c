/*
 * nodedata.c - the data of a run, one copy per node: the node's first rank
 * loads them, an MPI-3 shared-memory window hands them to the node's other
 * ranks (nodedata.h). data.c does the loading and knows nothing of MPI.
 */
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "err.h"
#include "nodedata.h"
#include "par.h"

/* Make the pages wholly inside [p, p + len) read-only (the window's first
 * and last pages may hold Open MPI's own state): a stray write into the
 * shared data then faults at once instead of changing another rank's data. */
static void protect(const void *p, size_t len)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE), a = (uintptr_t)p, b = a + len;
    a = (a + page - 1) / page * page;
    b = b / page * page;
    if (b > a)
        (void)mprotect((void *)a, b - a, PROT_READ); /* a safeguard: without it all still works */
}

/* Copy the node's first rank's data into a shared window; 0, or a message
 * (every rank of the node agrees: the caller falls back to private copies). */
static int share_data(node_data_t *nd, data_t *d)
{
    void *base = NULL;
    MPI_Aint size = nd->node_rank == 0 ? (MPI_Aint)d->block_bytes : 0;
    int err = MPI_Win_allocate_shared(size, 1, MPI_INFO_NULL, nd->node, &base, &nd->win);
    int ok = err == MPI_SUCCESS, all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_MIN, nd->node);
    if (!all) {
        char why[MPI_MAX_ERROR_STRING] = "another rank of the node failed";
        int len;
        if (!ok)
            MPI_Error_string(err, why, &len);
        /* a window made on some ranks only cannot be freed collectively: leave it */
        nd->win = MPI_WIN_NULL;
        return ts_fail(TS_ERUN, "no MPI shared-memory window of %zu bytes for the data (%s)",
                       d->block_bytes, why);
    }
    MPI_Aint got;
    int unit;
    const uint8_t *block;
    MPI_Win_shared_query(nd->win, 0, &got, &unit, &block);
    MPI_Win_lock_all(MPI_MODE_NOCHECK, nd->win);
    if (nd->node_rank == 0)
        data_move(d, (uint8_t *)block);
    /* the copy is complete and visible before any rank reads it */
    MPI_Win_sync(nd->win);
    MPI_Barrier(nd->node);
    MPI_Win_sync(nd->win);
    MPI_Win_unlock_all(nd->win);
    if (nd->node_rank != 0)
        data_attach(d, block);
    protect(block, d->block_bytes);
    nd->window = (double)got;
    return 0;
}

/* --threads' default (nodedata.h): the overlapping masks of the node's ranks. */
int nodedata_default_threads(const node_data_t *nd)
{
    MPI_Comm node = nd->node;
    int node_size = nd->node_size;
    cpu_set_t mine, *all = malloc((size_t)node_size * sizeof *all);
    int cores = par_affinity_cores(), overlap = 0;
    CPU_ZERO(&mine);
    if (sched_getaffinity(0, sizeof mine, &mine))
        CPU_ZERO(&mine);
    if (!all || MPI_Allgather(&mine, (int)sizeof mine, MPI_BYTE, all, (int)sizeof mine, MPI_BYTE,
                              node) != MPI_SUCCESS) {
        free(all);
        return 1;
    }
    for (int r = 0; r < node_size; r++) {
        cpu_set_t both;
        CPU_AND(&both, &mine, &all[r]);
        overlap += CPU_COUNT(&both) > 0;
    }
    free(all);
    int t = cores / (overlap > 0 ? overlap : 1);
    return t > 0 ? t : 1;
}

/* Load this rank's data (nodedata.h); collective over MPI_COMM_WORLD. */
int nodedata_load(node_data_t *nd, data_t *d, const config_t *cfg)
{
    const char *env = getenv("TICKETSWEEP_SHARED_DATA");
    int world_rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    int want = !(env && !strcmp(env, "0")), rc = 0, first;
    *nd = (node_data_t)NODE_DATA_INIT;
    memset(d, 0, sizeof *d);
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &nd->node) != MPI_SUCCESS)
        return ts_fail(TS_ERUN, "MPI_Comm_split_type failed");
    MPI_Comm_set_errhandler(nd->node, MPI_ERRORS_RETURN);
    MPI_Comm_rank(nd->node, &nd->node_rank);
    MPI_Comm_size(nd->node, &nd->node_size);
    first = nd->node_rank == 0;
    MPI_Allreduce(&first, &nd->nodes, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int shared = want && nd->node_size > 1, reader = first || !shared;
    nd->why = !want ? "TICKETSWEEP_SHARED_DATA=0" : "one rank per node";
    if (reader)
        rc = data_load(d, cfg);
    if (shared) {
        int head[2] = {rc, 0};
        MPI_Bcast(head, 2, MPI_INT, 0, nd->node);
        if (head[0] && !first)
            goto out; /* the loader says why */
        if (!head[0]) {
            MPI_Bcast(d, (int)sizeof *d, MPI_BYTE, 0, nd->node);
            if (share_data(nd, d)) {
                nd->why = "no shared-memory window";
                if (first)
                    fprintf(stderr, "ticketsweep: warning: rank %d: %s: each rank of this node reads its own copy\n",
                            world_rank, ts_errmsg());
                if (!first) { /* its fields came from the loader; now its own */
                    memset(d, 0, sizeof *d);
                    rc = data_load(d, cfg);
                }
                reader = 1;
            }
        }
    }
out:
    MPI_Allreduce(&reader, &nd->readers, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int window = first && nd->window > 0;
    MPI_Allreduce(&window, &nd->windows, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    return rc;
}

/* Give the data back (collective over the node when they are shared). */
void nodedata_free(node_data_t *nd, data_t *d)
{
    data_free(d); /* owns nothing when the block is the window */
    if (nd->win != MPI_WIN_NULL)
        MPI_Win_free(&nd->win);
    if (nd->node != MPI_COMM_NULL)
        MPI_Comm_free(&nd->node);
}

/* One line of the run's context: where the data are and who read them. */
void nodedata_print(FILE *out, const data_t *d, const node_data_t *nd)
{
    int world_size;
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    fprintf(out, "  data: %.4g MB of pixel bytes (%lld training, %lld validation, %lld test images of %dx%dx%d); ",
            data_bytes(d) / 1e6, (long long)d->train.n, (long long)d->val.n, (long long)d->test.n,
            d->channels, d->rows, d->cols);
    if (nd->window > 0 && nd->windows == nd->nodes)
        fprintf(out, "read by %d of %d ranks, one per node, and shared with the node's other ranks "
                     "through an MPI shared-memory window of %.0f bytes (%d node%s)\n",
                nd->readers, world_size, nd->window, nd->nodes, nd->nodes == 1 ? "" : "s");
    else if (nd->windows > 0)
        fprintf(out, "read by %d of %d ranks: shared through an MPI shared-memory window of %.0f bytes "
                     "on %d of %d nodes, a copy each elsewhere\n",
                nd->readers, world_size, data_bytes(d), nd->windows, nd->nodes);
    else if (world_size > 1)
        fprintf(out, "read by %d of %d ranks, a copy each (%s)\n", nd->readers, world_size, nd->why);
    else
        fprintf(out, "read by the one process\n");
    char what[512];
    data_describe(d, what, sizeof what);
    fprintf(out, "  %s\n", what);
}
