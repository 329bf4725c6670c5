/*
 * price.h - what a sweep costs before it runs: `run --dry-run` and the check
 * of memory and disk before a run starts. No MPI, no files written.
 */
#ifndef TS_PRICE_H
#define TS_PRICE_H

#include "cli.h"
#include "config.h"
#include "data.h"
#include "graph.h"
#include "net.h"

/*
 * --dry-run (rank 0): what the sweep of a->job is and costs, printed on
 * stdout, with nothing written. The cost of a training comes from timing a
 * few steps and two evaluations of the job's model on this machine
 * (evaluations on a few hundred images of each set, scaled): at its density
 * when the job's kernels may run thin layers over their survivors (a few
 * densities timed, the others interpolated), else dense. Then the job's wall
 * clock on each layout of ranks x threads of a node (--cores, --nodes), the
 * best one and its mpirun and srun lines. node_size: the ranks of this node
 * (for the memory of a node). net is cfg's layer table, g the job's plan.
 * Returns 0, or TS_ERUN / TS_EINPUT with the message set.
 */
int price_dry_run(const config_t *cfg, const data_t *data, const net_t *net, const graph_t *g,
                  const run_args_t *a, int node_size);

/*
 * Refuse, before any training, a sweep that cannot fit: the memory every
 * one of the `local` ranks of this host needs besides the data (loaded
 * already: once per host when shared, else once per rank), and, when
 * `creating` (the file is made, not resumed; one rank asks), the disk the
 * results file `output` will take. 0, or TS_EINPUT naming what is short.
 */
int price_check_resources(const config_t *cfg, const net_t *net, const graph_t *g, const data_t *data,
                          int local, const char *output, int creating);

#endif
