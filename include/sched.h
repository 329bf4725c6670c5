/*
 * sched.h - the sweep scheduler: rank 0 hands trials to ranks as they become free.
 *
 * Rank 0 is a worker too: it trains trials itself and, between minibatches (the
 * trial's poll hook), answers the other ranks' requests, so `mpirun -np C` keeps
 * all C cores training. Trials go out longest first. Every rank writes its own
 * trials into the shared store.
 *
 * Stopping: on SIGTERM, SIGINT or SIGUSR1 rank 0 stops handing out trials;
 * trials in flight may finish within grace_seconds, after which they are
 * abandoned and left pending. The store is closed cleanly either way.
 */
#ifndef TS_SCHED_H
#define TS_SCHED_H

#include <mpi.h>

#include "data.h"
#include "store.h"

typedef struct {
    double grace_seconds;     /* after a stop signal */
    /* What running a trial means: NULL for trial_run. The scheduler benchmark
     * plugs in an empty trial here to measure dispatching alone. */
    int (*run)(void *arg, const trial_t *t, trial_result_t *res);
    void *run_arg;
} sched_opts_t;

typedef struct {
    int done, failed, pending;          /* of the trials this run was given */
    int interrupted;                    /* a stop signal arrived */
    double seconds;
    double busy_seconds;                /* summed over ranks: time in trials and their writes */
    double write_seconds;               /* of which writing the results file */
    double serve_seconds;               /* rank 0's time answering requests */
    int served;                         /* requests answered */
    double wait_seconds;                /* workers' time from asking to getting a trial */
    int waits;                          /* trials run by workers */
} sched_stats_t;

/* Install the stop-signal handlers (before any trial). */
void sched_install_signals(void);
/* Run the sweep (collective over comm). to_run[t] != 0 marks the trials to run
 * (rank 0's copy is used); results go to store (none when NULL). Returns 0 or
 * TS_ERUN; outcomes are in *stats on rank 0. */
int sched_run(MPI_Comm comm, const config_t *cfg, const data_t *data, store_t *store,
              const sched_opts_t *opts, const char *to_run, sched_stats_t *stats);

#endif
