/*
 * plan_sim.h - how long a sweep takes on a layout, before it runs: the
 * scheduler's own rule (sched_root.c) replayed over the planned graph with a cost
 * for each training. No MPI, no training, no clock: a pure function of the
 * graph, the costs and the number of ranks.
 *
 * The rule replayed (sched_root.c, rank 0): a training is ready when its
 * dependencies are done; the ready ones go out longest remaining path first
 * (the graph's priority, then the lowest id); a worker that asks gets the top
 * one, or a ready dependent of the training it just finished, as high in
 * priority, whose mask comes from that training (a chain stays on its rank);
 * workers waiting are served in rank order, before rank 0, which trains too
 * and takes the top ready training whenever it is free. Trainings that end at
 * the same moment are reported workers first, in rank order, then rank 0's
 * (rank 0 serves the workers between its own minibatches). Handing out a
 * training, sending its inputs and writing its results cost nothing here: the
 * simulation is exact only up to those (microseconds to a second a training;
 * docs/cluster.md, "Ranks and threads on a node").
 *
 * Threads enter through the costs: the caller prices each training at the
 * layout's threads (plan_sim_amdahl extrapolates a measured time to more
 * threads than were measured).
 */
#ifndef TS_PLAN_SIM_H
#define TS_PLAN_SIM_H

#include <stdint.h>

#include "graph.h"

/* The graph as the scheduler sees it. Ids are topological: every dependency
 * of x is smaller than x (graph_plan numbers them so). */
typedef struct {
    int n;           /* nodes: the trainings, then the instability analysis's copies and lines
                        (graph.h: NA) */
    int32_t *dep_off;/* [n + 1] dependencies of x: dep[dep_off[x] .. dep_off[x + 1]) */
    int32_t *dep;
    float *prio;     /* [n] the ready queue's order, higher first (graph_node_t.cost: trainings
                        on the longest path from here) */
    int32_t *src;    /* [n] the training whose outputs hold the mask history x reads first
                        (graph_producer of graph_inputs' a), -1 for none: a worker that just
                        ran src[x] prefers x */
    char *run;       /* [n] 1: to run; 0: not in this run (done before, or another shard's),
                        taken as done from the start */
} plan_sim_graph_t;

/* What a layout gives. */
typedef struct {
    double makespan;  /* seconds from the start to the end of the last training */
    double critical;  /* the longest chain of trainings to run, in seconds: no layout of these
                         costs finishes sooner */
    int critical_len; /* trainings on that chain */
    double work;      /* seconds of all the trainings run, summed */
    int peak;         /* most trainings running at once */
    int trainings;    /* trainings run */
} plan_sim_result_t;

/*
 * The scheduler's view of g, the trainings with run[x] != 0 to be run (run
 * NULL: all of them). s owns what it allocates; free it with
 * plan_sim_graph_free. Returns 0 or TS_ERUN (out of memory).
 */
int plan_sim_graph_create(plan_sim_graph_t *s, const graph_t *g, const char *run);
/* Release what plan_sim_graph_create made (s left empty; a second call is safe). */
void plan_sim_graph_free(plan_sim_graph_t *s);

/*
 * Replay the scheduler over g on `ranks` ranks (rank 0 included), training x
 * taking secs[x] seconds (>= 0), into *out. rank_of, when not NULL, receives
 * the rank each training ran on (-1: not run). Returns 0, TS_EINPUT (ranks < 1,
 * a dependency not before its dependent, a negative or non-finite cost; the
 * message says which) or TS_ERUN (out of memory).
 */
int plan_sim_run(const plan_sim_graph_t *g, const double *secs, int ranks, plan_sim_result_t *out,
                 int32_t *rank_of);

/*
 * The layouts of a node of `cores` cores: R ranks x T threads with R x T =
 * cores, T = 1, 2, 4, ... (the powers of two that divide cores) and cores
 * itself; their T ascending into t[] (room for 32: enough up to 2^30 cores).
 * Returns how many.
 */
int plan_sim_layouts(int cores, int *t);

/*
 * The thread counts to time on a machine of `here` cores for layouts whose
 * trainings use used[0..n-1] threads (ascending): 1, each count up to here,
 * and here itself when some use more (the anchor of plan_sim_amdahl's
 * extrapolation). Into timed[] (room for n + 2), ascending. Returns how many.
 */
int plan_sim_timed(const int *used, int n, int here, int *timed);

/*
 * The best of n layouts (ascending in threads) by their wall clocks: the
 * fastest of those that fit (fits[i] != 0), or one with fewer threads whose
 * wall clock is within `slack` (0.05: 5 %) of it, the fewest threads such,
 * so that timing noise alone never makes ranks wider. -1 when none fits.
 */
int plan_sim_best(const double *wall, const char *fits, int n, double slack);

/*
 * Seconds at t threads of work that takes t1 seconds on one thread and tm
 * on m threads: Amdahl's law, t1 * (f + (1 - f) / t), with the serial
 * fraction f that gives tm at m, f = (m * tm / t1 - 1) / (m - 1), kept in
 * [0, 1] (measurement noise can put it outside). With m = 1 nothing is known
 * of threads: f = 1, no speed-up. Exact at t = 1 and t = m.
 */
double plan_sim_amdahl(double t1, double tm, int m, int t);
/* The serial fraction f above. */
double plan_sim_serial_fraction(double t1, double tm, int m);

#endif
