/*
 * sched.h - the sweep scheduler: rank 0 hands out the trainings of the
 * sweep's graph (graph.h) to ranks as they become free (with the instability
 * analysis also its copies and lines, nodes like the trainings: a copy's
 * inputs are its training's, a line's its training's and copies' final
 * weights, which rank 0 holds until the line starts).
 *
 * Rank 0 plans nothing new: every rank holds the same graph. Rank 0 tracks
 * which trainings are ready (their dependencies done), hands them out longest
 * remaining path first, preferring a rank that already holds a training's
 * inputs (a chain stays on its rank), and trains too: between minibatches (the
 * training's poll hook) it answers the other ranks, so `mpirun -np C` keeps
 * all C cores training. A training's inputs (mask histories, the rewind point)
 * travel in MPI messages, never through the shared file: each rank sends what
 * its training produced to rank 0 with its report, and rank 0 keeps a history
 * only while a training that needs it has not started. Every rank writes its
 * own trainings into the shared store; rank 0 writes a cell's status once all
 * its trainings are written.
 *
 * Stopping: on SIGTERM, SIGINT or SIGUSR1 rank 0 prints the resume command at
 * once and stops handing out trainings; trainings in flight may finish within
 * grace_seconds, after which they are abandoned and left pending. The store is
 * closed cleanly either way.
 *
 * Failing: an error that is not a training's own outcome (a write of the
 * store, a message, memory at rank 0, the claim lost) ends the sweep at once:
 * rank 0 stops serving and abandons its own training, sched_run returns
 * TS_ERUN with one message, and the caller ends the job (MPI_Abort). The file
 * keeps what was written before, every status written last, so --resume
 * completes it to what an uninterrupted run writes.
 */
#ifndef TS_SCHED_H
#define TS_SCHED_H

#include <mpi.h>

#include "data.h"
#include "graph.h"
#include "store.h"
#include "trial.h"

typedef struct {
    double grace_seconds;     /* after a stop signal */
    /* The command that resumes this sweep ("mpirun ... ticketsweep run JOB -o OUT
     * --resume"), printed by rank 0 as soon as a stop signal arrives: under
     * mpirun, SIGINT and SIGTERM kill the ranks a few seconds later, before the
     * end of the run can say it. NULL: not printed. */
    const char *resume_hint;
    /* What running a training means: NULL for trial_run_node. The scheduler
     * benchmark plugs in an empty training here to measure dispatching alone. */
    int (*run)(void *arg, trial_ctx_t *c, const graph_t *g, int x, const node_in_t *in,
               const node_out_t *out, node_result_t *res);
    void *run_arg;
    /* Rank 0 asks between minibatches and between reports whether this run
     * may still write the file (its claim, claim.h): once lost() returns
     * non-zero, rank 0 writes nothing more, abandons its training, and the
     * sweep ends with TS_ERUN, lost_why() (or a generic line) its message.
     * NULL: never lost. */
    int (*lost)(void *arg);
    void *lost_arg;
} sched_opts_t;

/* Where a sweep starts from (rank 0's copy is used). */
typedef struct {
    const char *to_run;       /* [N] trainings to run */
    const char *done;         /* [N] trainings done in the file already (NULL: none) */
    const double *wall;       /* [N] their wall seconds (NULL: none) */
    const char *cells;        /* [T] cells to complete in this run (status written when done) */
} sched_plan_t;

typedef struct {
    int done, failed, pending;          /* trainings this run was given */
    int cells_done, cells_failed, cells_pending; /* cells this run was given */
    int interrupted;                    /* a stop signal arrived */
    double seconds;
    double busy_seconds;                /* summed over ranks: time in trainings and their writes */
    double write_seconds;               /* of which writing the results file */
    double serve_seconds;               /* rank 0's time answering requests */
    int served;                         /* requests answered */
    double wait_seconds;                /* workers' time from asking to getting a training */
    int waits;                          /* trainings run by workers */
    double sent_bytes;                  /* mask histories and rewind points rank 0 sent */
    double peak_held_bytes;             /* most bytes of inputs rank 0 held at once */
} sched_stats_t;

/* Install the stop-signal handlers (before any training). */
void sched_install_signals(void);
/* Run the sweep (collective over comm). Results go to store (none when NULL).
 * Returns 0 or TS_ERUN; outcomes are in *stats on rank 0. */
int sched_run(MPI_Comm comm, const config_t *cfg, const data_t *data, const graph_t *g,
              store_t *store, const sched_opts_t *opts, const sched_plan_t *plan,
              sched_stats_t *stats);

/* Bytes a rank's scheduler holds besides its trainer (sched_run's buffers:
 * the dispatch message, the inputs, the all-ones history, one history a
 * ticket child of the widest node, the rewind point, the trained weights when
 * the job keeps them). */
double sched_rank_bytes(const config_t *cfg, const net_t *net, const graph_t *g);

/* Bytes of rank 0's tables over graph g on `ranks` ranks (root_setup's
 * allocations; the histories it holds for waiting trainings come on top). */
double sched_root_bytes(const graph_t *g, int ranks);

#endif
