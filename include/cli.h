/*
 * cli.h - the command line of `ticketsweep`: the exit statuses, each
 * command's usage, `run`'s options (run_args_t) and the command that resumes
 * a sweep. Parsing only: no MPI, nothing printed but the usage texts (on the
 * FILE given: the caller decides which rank prints). Errors are TS_EINPUT
 * with the message set (err.h).
 *
 * Exit status: 0 all trials done; 1 a runtime failure (I/O, memory, MPI);
 * 2 bad input (job file, data, options, results file), nothing changed;
 * 3 interrupted by a signal (resumable); 4 the sweep ran but trials failed.
 * merge and status say the same of the file they write or read: 0 complete,
 * 3 some trials pending, 4 some failed.
 */
#ifndef TS_CLI_H
#define TS_CLI_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

enum { EXIT_RUNTIME = 1, EXIT_INPUT = 2, EXIT_INTERRUPTED = 3, EXIT_TRIALS_FAILED = 4 };

enum { DRY_MAX_CORES = 1 << 16, DRY_MAX_NODES = 1 << 16, /* --cores, --nodes */
       DRY_MAX_TOTAL = 1 << 22,                              /* their product (the most ranks) */
       DRY_NODE_COUNTS = 8 };                                /* node counts --nodes lists */

/* `run`'s options, as cli_parse_run leaves them. */
typedef struct {
    const char *job, *output;
    const char *sets[64];
    int n_sets, resume, force, dry_run, no_share;
    int shard_i, shard_n;
    int threads; /* --threads, 0: the default (the affinity mask's cores, shared) */
    int cores;        /* --cores (dry run), 0: the default (this machine's cores) */
    int nodes[DRY_NODE_COUNTS], n_nodes; /* --nodes (dry run), none: 1 */
    double grace, claim_timeout;
    char default_out[PATH_MAX]; /* output when not given: the job's name with .h5 */
} run_args_t;

/* The exit status of an error code: EXIT_INPUT for TS_EINPUT, else EXIT_RUNTIME. */
int cli_exit_code(int rc);

/* Parse `run`'s options (argv[0] = "run"; SLURM_ARRAY_TASK_* give the
 * default shard). Returns 0, 1 (-h/--help given) or TS_EINPUT. */
int cli_parse_run(int argc, char **argv, run_args_t *a);
/* --claim-timeout SEC: 0 or TS_EINPUT. */
int cli_parse_claim_timeout(const char *s, double *out);
/* 1 when argv[1..] holds -h or --help (before a lone "--"). */
int cli_wants_help(int argc, char **argv);

/* Every command's usage and options (ticketsweep --help). */
void cli_usage(FILE *out);
/* One command's ("run", "merge", "status"): ticketsweep COMMAND --help. */
void cli_usage_command(FILE *out, const char *cmd);
/* The message for an unknown command, with the nearest known one. */
void cli_unknown_command(FILE *out, const char *cmd);

/* Append arg to buf (size len, *used bytes so far) after a space, in single
 * quotes when the shell would read it otherwise. */
void cli_append_arg(char *buf, size_t len, size_t *used, const char *arg);
/* Append the run's --set, --shard and --no-share (what makes its job) to buf. */
void cli_append_job_args(char *buf, size_t len, size_t *used, const run_args_t *a);
/* The command that resumes the sweep of job into output: with the run's --set,
 * --shard and --no-share when a is not NULL (a resume must give the same job). */
void cli_resume_command(char *buf, size_t len, const char *job, const char *output, const run_args_t *a);

#endif
