/*
 * nodedata.h - the data of a run, one copy per node (beside data.h, which
 * knows nothing of MPI).
 *
 * The first rank of each node (MPI_COMM_TYPE_SHARED) reads and checks the
 * files into memory of its own (data_load), then copies the block into an
 * MPI-3 shared-memory window of the node; the node's other ranks receive the
 * data_t's plain fields and map the window (data_attach). The pages holding
 * the block are made read-only in every rank. Without mpirun, on a node with
 * one rank, with TICKETSWEEP_SHARED_DATA=0, or when the window cannot be
 * made, every rank loads its own copy.
 */
#ifndef TS_NODEDATA_H
#define TS_NODEDATA_H

#include <mpi.h>
#include <stdio.h>

#include "config.h"
#include "data.h"

/* Where this rank's data live. */
typedef struct {
    MPI_Comm node;     /* the ranks of this node */
    MPI_Win win;       /* the window holding the block, or MPI_WIN_NULL */
    int node_rank, node_size;
    int nodes;         /* nodes of the job */
    int windows;       /* nodes of the job whose ranks share a window */
    int readers;       /* ranks of the job that read the files */
    double window;     /* bytes of the window on this node (0: none) */
    const char *why;   /* why this node has no window, for the run's context */
} node_data_t;

#define NODE_DATA_INIT {.node = MPI_COMM_NULL, .win = MPI_WIN_NULL}

/*
 * Load the data for this rank (collective over MPI_COMM_WORLD). Returns the
 * loading rank's outcome on that rank; a rank whose node's loader failed
 * returns 0 with nothing loaded, and learns the code when the ranks agree on
 * an outcome, so that bad input is reported once, by the rank that read it.
 * nodedata_free releases *nd and *d on every path.
 */
int nodedata_load(node_data_t *nd, data_t *d, const config_t *cfg);
/* Give the data back (collective over the node when they are shared). */
void nodedata_free(node_data_t *nd, data_t *d);
/* One line of the run's context: where the data are and who read them. */
void nodedata_print(FILE *out, const data_t *d, const node_data_t *nd);

/*
 * --threads' default: the cores of this rank's CPU affinity mask, shared
 * evenly by the node's ranks whose masks overlap it. Bound ranks (srun -c T,
 * mpirun --map-by ...:PE=T) each get their own cores; unbound ranks (mpirun
 * --bind-to none) share the node's, so a node is never oversubscribed by
 * default. Collective over nd's node.
 */
int nodedata_default_threads(const node_data_t *nd);

#endif
