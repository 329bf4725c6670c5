/*
 * sched_impl.h - what the parts of the scheduler share (not a public
 * header): the messages between rank 0 and the workers, the scheduler's
 * state, and the functions they call of each other. sched.c: the protocol,
 * signals and sched_run; sched_worker.c: a training on this rank and a
 * worker's loop; sched_root.c: rank 0's side (the ready trainings, the
 * bookkeeping of cells, dispatch, serving reports, failing and stopping).
 */
#ifndef TS_SCHED_IMPL_H
#define TS_SCHED_IMPL_H

#include <signal.h>

#include "prov.h"
#include "sched.h"

enum { TAG_REPORT = 11, TAG_CTRL = 12, TAG_STATE = 13 };
enum { REPORT_READY = 0, REPORT_NODE = 1 };
enum { CTRL_STOP = -1, CTRL_ABORT = -2 };
enum { IN_NONE = 0, IN_SENT = 1, IN_CACHED = 2, IN_ONES = 3 };
enum { N_WAIT, N_READY, N_RUN, N_DONE, N_FAILED, N_OFF }; /* a training at rank 0 */

typedef struct {
    int32_t node;
    int8_t a, b, rewind; /* IN_* */
    int8_t copies;       /* a line: 1, its C final weights follow the inputs */
} ctrl_t;

/* What rank 0 learns of a training that ended. */
typedef struct {
    int node, status, rank;
    double wall;          /* seconds in the training and its writes */
    double write;         /* seconds of those in store_write_node */
    double density, acc;  /* its density and early-stop test accuracy */
    double wait;          /* seconds the worker waited for it after asking */
} outcome_t;
#define REPORT_LEN 8
#define ERROR_LEN 160

typedef struct {
    MPI_Comm comm;
    int rank, size;
    const config_t *cfg;
    const graph_t *g;
    store_t *store;
    const sched_opts_t *opts;
    trial_ctx_t ctx;
    node_result_t res;
    size_t W, P;           /* weights (history bytes), parameters */
    char host[MPI_MAX_PROCESSOR_NAME];
    prov_t prov;           /* this rank's numerics, recorded with each training */
    /* what this rank's last training produced (workers: its cache) */
    uint8_t **out_hist;    /* [cap] children's histories, then a random node's own */
    int out_cap;
    int K;                 /* rewind points a seed has (grid_rewinds) */
    float *rewind;         /* [K][P] rewind points made by round 0 here; a training's own
                              (received, or of a round 0 here: its row 0) in row 0 */
    float *weights;        /* [P] trained weights ([output] weights = final; an analysed
                              training's or a copy's final weights), or NULL */
    uint8_t *in_a, *in_b, *ones; /* [W] inputs; all-ones history of a round 0 */
    char *msg;             /* dispatch message buffer */
    size_t msg_cap;

    /* rank 0 only */
    const sched_plan_t *plan;
    int8_t *state;         /* [NA] N_* (graph.h: the trainings, then copies and lines) */
    int32_t *unmet;        /* [NA] dependencies not done */
    int32_t *need;         /* [N] nodes still to start that read this history */
    uint8_t **hist;        /* [N] histories held for them */
    int32_t *fw_need;      /* [NA] lines still to start that read these final weights (of an
                              analysed training, or a copy) */
    float **fw;            /* [NA] final weights held for them */
    float **rewinds;       /* [seeds] each seed's rewind points, [K][P] */
    graph_heap_t ready; /* ready trainings, most remaining work first (keys: the nodes' cost) */
    double *node_wall;     /* [NA] */
    int32_t *cell_left;    /* [T] (cell, arm, round) entries not finished */
    int8_t *cell_failed;   /* [T] */
    int32_t *cache_of;     /* [size] the training whose outputs a rank holds, -1 */
    int32_t *rewind_of;    /* [size] the rewind point (sched_rewind_slot) a rank holds in its
                              row 0, -1 */
    int32_t *running;      /* [size] its training, -1 idle */
    char *idle;            /* [size] asked for work and waits */
    char (*hosts)[MPI_MAX_PROCESSOR_NAME];
    int active;            /* workers not yet told to stop */
    int stopping, aborting;
    double deadline, t0;
    int to_run, done, failed, skipped, abandoned, cells_total, cells_done, cells_failed;
    double held, peak_held, sent;
    double busy_seconds, write_seconds, wait_seconds;
    int waits;
    double serve_seconds;
    int served;
    int tty;
    int error;             /* a failure inside the poll hook, for the main loop */
} sched_t;

/* The last stop signal (SIGTERM, SIGINT, SIGUSR1), 0 for none. */
extern volatile sig_atomic_t sched_stop_signal;

/* Node x sends its final weights to rank 0 (an analysed training, a copy). */
int sched_sends_weights(const sched_t *s, int x);
/* Training x reads its seed's rewind point / makes it (round 0 of a ticket). */
int sched_needs_rewind(const sched_t *s, int x);
int sched_makes_rewind(const sched_t *s, int x);
/* The rewind point training x reads: seed_i * K + its rewind index. */
int sched_rewind_slot(const sched_t *s, int x);
/* The i-th mask history training x produces, -1 past the last. */
int32_t sched_output_id(const graph_t *g, int32_t x, int i);
/* Run training x here from inputs a, b and write it; its outcome in *o. */
int sched_run_here(sched_t *s, int x, const uint8_t *a, const uint8_t *b, outcome_t *o);
/* A worker's loop (sched_worker.c): until rank 0 says stop; 0 or TS_ERUN. */
int sched_run_worker(sched_t *s);
/* Rank 0's loop (sched_root.c) and its tables' release. */
int sched_run_root(sched_t *s);
void sched_root_free(sched_t *s);

#endif
