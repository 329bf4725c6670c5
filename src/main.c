/*
 * main.c - the command line: `run`, `merge`, `status`: parse the options and
 * dispatch (the merging itself is merge.c's, the file's store.c's). The only
 * place that ends the program.
 *
 * Exit status: 0 all trials done; 1 a runtime failure (I/O, memory, MPI);
 * 2 bad input (job file, data, options, results file), nothing changed;
 * 3 interrupted by a signal (resumable); 4 the sweep ran but trials failed.
 * merge and status say the same of the file they write or read: 0 complete,
 * 3 some trials pending, 4 some failed.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blas.h"
#include "claim.h"
#include "config.h"
#include "data.h"
#include "err.h"
#include "graph.h"
#include "grid.h"
#include "merge.h"
#include "par.h"
#include "plan_sim.h"
#include "prov.h"
#include "rng.h"
#include "sched.h"
#include "store.h"
#include "trial.h"
#include "util.h"

enum { EXIT_RUNTIME = 1, EXIT_INPUT = 2, EXIT_INTERRUPTED = 3, EXIT_TRIALS_FAILED = 4 };

static int world_rank, world_size;
static double t_init; /* ts_now() when MPI_Init_thread returned */
static char command_line[4096]; /* as typed: getopt_long permutes argv */
static int threads_lo, threads_hi, run_threads_given; /* the ranks' threads (run's context) */
static claim_t *claim;          /* rank 0's claim on the file run writes (merge takes its own) */

/* Claim the results file before anything touches it (see claim.h). */
static int take_claim(const char *output, const char *job_hash, double timeout, const char *what)
{
    claim_opts_t o = {.timeout = timeout, .what = what, .log = stderr};
    return claim_take(&claim, output, job_hash, &o);
}

/* Give the claim up, whatever the outcome; failing to only warns. */
static void drop_claim(void)
{
    if (claim && claim_release(claim))
        fprintf(stderr, "ticketsweep: warning: %s\n", ts_errmsg());
    claim = NULL;
}

/* The scheduler's question (sched_opts_t.lost): was rank 0's claim taken over? */
static int claim_gone(void *arg)
{
    (void)arg;
    return claim_lost(claim);
}

/* --claim-timeout SEC: 0 or TS_EINPUT. */
static int parse_claim_timeout(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    if (end == s || *end || !(*out >= CLAIM_TIMEOUT_MIN) || *out > 1e7)
        return ts_fail(TS_EINPUT, "--claim-timeout '%s': expected seconds >= %.0f", s, CLAIM_TIMEOUT_MIN);
    return 0;
}

static int exit_code(int rc)
{
    return rc == TS_EINPUT ? EXIT_INPUT : EXIT_RUNTIME;
}

/*
 * Agree on an outcome across ranks: the worst code wins everywhere. The
 * message is printed once: by rank 0 if it failed, else by the failing ranks.
 */
static int agree(int rc)
{
    int all, rc0 = rc;
    MPI_Allreduce(&rc, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Bcast(&rc0, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (all && rc && (world_rank == 0 || rc0 == 0)) {
        if (world_size > 1 && world_rank > 0)
            fprintf(stderr, "ticketsweep: rank %d: %s\n", world_rank, ts_errmsg());
        else
            fprintf(stderr, "ticketsweep: %s\n", ts_errmsg());
    }
    return all;
}

/* A failure after the ranks went their own ways: print and end the whole job. */
static void die(int rc)
{
    fprintf(stderr, "ticketsweep: rank %d: %s\n", world_rank, ts_errmsg());
    fflush(stderr);
    drop_claim();
    if (world_size > 1)
        MPI_Abort(MPI_COMM_WORLD, exit_code(rc));
    MPI_Finalize();
    exit(exit_code(rc));
}

/* The usage lines and the options of each command: `ticketsweep COMMAND --help`
 * prints its own, `ticketsweep --help` all of them. */
#define USAGE_RUN                                                                                      \
    "ticketsweep run JOB.ini [-o OUT.h5] [--set section.key=value]... [--resume | --force]\n"         \
    "                       [--shard I/N] [--grace SECONDS] [--no-share] [--claim-timeout SECONDS]\n" \
    "                       [--threads T] [--dry-run [--cores C] [--nodes N[,N...]]]\n"
#define USAGE_MERGE "ticketsweep merge OUT.h5 SHARD.h5... [--force] [--claim-timeout SECONDS]\n"
#define USAGE_STATUS "ticketsweep status FILE.h5 [--job]\n"

static void usage_run(FILE *out)
{
    fprintf(out,
            "Run a sweep, under MPI: mpirun -np N ticketsweep run JOB.ini\n\n"
            "Options of run:\n"
            "  -o, --output FILE   results file (default: the job file's name with .h5, here)\n"
            "  -s, --set S.K=V     override a job-file key (repeatable)\n"
            "  -r, --resume        continue FILE: run the trials not done (config must match)\n"
            "  -f, --force         overwrite FILE and start over\n"
            "      --shard I/N     run only the trials t with t mod N = I and the trainings they\n"
            "                      need (default under a Slurm job array: from SLURM_ARRAY_TASK_ID,\n"
            "                      _MIN, _COUNT); N dividing the number of seeds shares everything\n"
            "  -g, --grace SEC     after SIGTERM/SIGINT/SIGUSR1, let trainings in flight finish\n"
            "                      for SEC seconds (default 60), then leave them pending\n"
            "  -n, --dry-run       write nothing: print the cells, the distinct trainings, the\n"
            "                      estimated core-hours, the file size and the memory per rank;\n"
            "                      then the job's wall clock on each layout of ranks x threads\n"
            "                      (trainings timed here at 1 thread and more), the best one and\n"
            "                      its mpirun and srun lines: run it on a compute node\n"
            "      --cores C       (dry run) cores of a node (default: this machine's, %d)\n"
            "      --nodes N[,N...] (dry run) nodes (default 1); several: the layouts of each\n"
            "      --no-share      train every cell on its own (no training shared between\n"
            "                      cells; for checking: same results, more work)\n"
            "      --claim-timeout SEC  (run, merge) FILE's claim (FILE.claim) from another host\n"
            "                      is stale after SEC seconds without heartbeat (default 300)\n"
            "  -t, --threads T     threads of each rank's trainings (default: the cores of the\n"
            "                      rank's CPU affinity mask, shared by the node's ranks whose\n"
            "                      masks overlap it); results do not depend on it\n"
            "  -h, --help          this text\n\n"
            "Exit status of run: 0 done, 1 runtime error, 2 bad input, 3 interrupted (resume it),\n"
            "4 some trials failed.\n\n"
            "Job-file keys (INI sections and keys, with defaults):\n",
            par_affinity_cores());
    config_print_help(out);
}

static void usage_merge(FILE *out)
{
    fprintf(out,
            "Merge the shard files of one job (run --shard I/N) into OUT.h5 (one process).\n\n"
            "Options of merge:\n"
            "  -f, --force         replace OUT.h5 if it exists\n"
            "      --claim-timeout SEC  OUT.h5's claim from another host is stale after SEC\n"
            "                      seconds without heartbeat (default 300)\n"
            "  -h, --help          this text\n\n"
            "Exit status of merge: 0 every trial done, 1 runtime error, 2 bad input, 3 some trials\n"
            "pending (run --resume on OUT.h5 finishes them), 4 some trials failed.\n");
}

static void usage_status(FILE *out)
{
    fprintf(out,
            "Print the job of a results file, one line per trial (done, failed, partial: some of\n"
            "its trainings done, or pending), the counts of trials and trainings and, when\n"
            "the sweep is not complete, the command that resumes it. Read-only: works while a\n"
            "run writes the file, and claims nothing.\n\n"
            "Options of status:\n"
            "      --job           print only the file's job, as a job file (for run --resume)\n"
            "  -h, --help          this text\n\n"
            "Exit status of status: 0 every trial done, 1 runtime error, 2 not a results file,\n"
            "3 some trials pending, 4 some trials failed (none pending).\n");
}

static void usage(FILE *out)
{
    fprintf(out, "usage: " USAGE_RUN "       " USAGE_MERGE "       " USAGE_STATUS
                 "       ticketsweep --help | --version\n"
                 "       ticketsweep COMMAND --help    (one command's usage)\n\n");
    usage_merge(out);
    fprintf(out, "\n");
    usage_status(out);
    fprintf(out, "\n");
    usage_run(out);
}

/* `ticketsweep COMMAND --help`: the command's usage on stdout (rank 0). */
static void usage_command(const char *cmd)
{
    if (world_rank != 0)
        return;
    if (!strcmp(cmd, "run")) {
        printf("usage: " USAGE_RUN "\n");
        usage_run(stdout);
    } else if (!strcmp(cmd, "merge")) {
        printf("usage: " USAGE_MERGE "\n");
        usage_merge(stdout);
    } else {
        printf("usage: " USAGE_STATUS "\n");
        usage_status(stdout);
    }
}

/* 1 when argv[1..] holds -h or --help (before a lone "--"). */
static int wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    return 0;
}

enum { DRY_MAX_CORES = 1 << 16, DRY_MAX_NODES = 1 << 16, /* --cores, --nodes */
       DRY_MAX_TOTAL = 1 << 22,                              /* their product (the most ranks) */
       DRY_NODE_COUNTS = 8 };                                /* node counts --nodes lists */

typedef struct {
    const char *job, *output;
    const char *sets[64];
    int n_sets, resume, force, dry_run, no_share;
    int shard_i, shard_n;
    int threads; /* --threads, 0: the default (default_threads) */
    int cores;        /* --cores (dry run), 0: the default (this machine's cores) */
    int nodes[DRY_NODE_COUNTS], n_nodes; /* --nodes (dry run), none: 1 */
    double grace, claim_timeout;
    char default_out[PATH_MAX];
} run_args_t;

/* Append arg to buf (size len, *used bytes so far) after a space, in single
 * quotes when the shell would read it otherwise. */
static void append_arg(char *buf, size_t len, size_t *used, const char *arg)
{
    int plain = *arg != 0;
    for (const char *c = arg; *c && plain; c++)
        plain = isalnum((unsigned char)*c) || strchr("_./=,:+@%-", *c);
    if (*used < len)
        *used += (size_t)snprintf(buf + *used, len - *used, " %s", plain ? arg : "'");
    for (const char *c = arg; !plain && *c && *used < len; c++) {
        if (*c == '\'') /* end the quotes, an escaped quote, quote again */
            *used += (size_t)snprintf(buf + *used, len - *used, "'\\''");
        else
            *used += (size_t)snprintf(buf + *used, len - *used, "%c", *c);
    }
    if (!plain && *used < len)
        *used += (size_t)snprintf(buf + *used, len - *used, "'");
}

/* Append the run's --set, --shard and --no-share (what makes its job) to buf. */
static void append_job_args(char *buf, size_t len, size_t *used, const run_args_t *a)
{
    for (int i = 0; i < a->n_sets; i++) {
        append_arg(buf, len, used, "--set");
        append_arg(buf, len, used, a->sets[i]);
    }
    if (a->shard_n > 1) {
        char shard[32];
        snprintf(shard, sizeof shard, "%d/%d", a->shard_i, a->shard_n);
        append_arg(buf, len, used, "--shard");
        append_arg(buf, len, used, shard);
    }
    if (a->no_share)
        append_arg(buf, len, used, "--no-share");
}

/* The command that resumes the sweep of job into output: with the run's --set,
 * --shard and --no-share when a is not NULL (a resume must give the same job). */
static void resume_command(char *buf, size_t len, const char *job, const char *output, const run_args_t *a)
{
    size_t used = (size_t)snprintf(buf, len, "mpirun ... ticketsweep run");
    append_arg(buf, len, &used, job);
    append_arg(buf, len, &used, "-o");
    append_arg(buf, len, &used, output);
    if (a)
        append_job_args(buf, len, &used, a);
    append_arg(buf, len, &used, "--resume");
}

static int parse_shard(const char *s, int *i, int *n)
{
    char *end;
    long a = strtol(s, &end, 10);
    if (end == s || *end != '/')
        return -1;
    const char *p = end + 1;
    long b = strtol(p, &end, 10);
    if (end == p || *end || b < 1 || a < 0 || a >= b || b > 1000000)
        return -1;
    *i = (int)a;
    *n = (int)b;
    return 0;
}

/* "1,16": node counts (1 to DRY_MAX_NODES, at most DRY_NODE_COUNTS) into n[]; -1 when not that. */
static int parse_nodes(const char *s, int *n, int *count)
{
    *count = 0;
    for (const char *p = s;; p++) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > DRY_MAX_NODES || *count == DRY_NODE_COUNTS || (*end && *end != ','))
            return -1;
        n[(*count)++] = (int)v;
        if (!*end)
            return 0;
        p = end;
    }
}

/* Parse `run` options. Returns 0, 1 (help printed) or TS_EINPUT. */
static int parse_run(int argc, char **argv, run_args_t *a)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"set", required_argument, 0, 's'},
        {"resume", no_argument, 0, 'r'},       {"force", no_argument, 0, 'f'},
        {"shard", required_argument, 0, 'S'},  {"grace", required_argument, 0, 'g'},
        {"help", no_argument, 0, 'h'},         {"dry-run", no_argument, 0, 'n'},
        {"no-share", no_argument, 0, 'N'},     {"claim-timeout", required_argument, 0, 'T'},
        {"threads", required_argument, 0, 't'}, {"cores", required_argument, 0, 'C'},
        {"nodes", required_argument, 0, 'M'},
        {0, 0, 0, 0}};
    int c;
    memset(a, 0, sizeof *a);
    a->grace = 60;
    a->claim_timeout = CLAIM_TIMEOUT_DEFAULT;
    a->shard_n = 1;
    const char *tid = getenv("SLURM_ARRAY_TASK_ID"), *tcount = getenv("SLURM_ARRAY_TASK_COUNT");
    if (tid && tcount) {
        const char *tmin = getenv("SLURM_ARRAY_TASK_MIN");
        a->shard_i = atoi(tid) - (tmin ? atoi(tmin) : 0);
        a->shard_n = atoi(tcount);
        if (a->shard_n < 1 || a->shard_i < 0 || a->shard_i >= a->shard_n)
            return ts_fail(TS_EINPUT, "SLURM_ARRAY_TASK_ID=%s, _MIN, _COUNT=%s do not make a shard I/N: pass --shard",
                           tid, tcount);
    }
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":o:s:rfg:hnt:", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'o':
            if (!*optarg)
                return ts_fail(TS_EINPUT, "--output: the file name is empty");
            a->output = optarg;
            break;
        case 's':
            if (a->n_sets == 64)
                return ts_fail(TS_EINPUT, "too many --set options (at most 64)");
            a->sets[a->n_sets++] = optarg;
            break;
        case 'r': a->resume = 1; break;
        case 'n': a->dry_run = 1; break;
        case 'N': a->no_share = 1; break;
        case 'f': a->force = 1; break;
        case 'S':
            if (parse_shard(optarg, &a->shard_i, &a->shard_n))
                return ts_fail(TS_EINPUT, "--shard '%s': expected I/N with 0 <= I < N", optarg);
            break;
        case 'g':
            errno = 0;
            a->grace = strtod(optarg, &end);
            if (end == optarg || *end || !(a->grace >= 0) || a->grace > 1e7)
                return ts_fail(TS_EINPUT, "--grace '%s': expected seconds >= 0", optarg);
            break;
        case 'T':
            if (parse_claim_timeout(optarg, &a->claim_timeout))
                return TS_EINPUT;
            break;
        case 't': {
            long t = strtol(optarg, &end, 10);
            if (end == optarg || *end || t < 1 || t > PAR_MAX_THREADS)
                return ts_fail(TS_EINPUT, "--threads '%s': expected a whole number from 1 to %d", optarg,
                               PAR_MAX_THREADS);
            a->threads = (int)t;
            break;
        }
        case 'C': {
            long v = strtol(optarg, &end, 10);
            if (end == optarg || *end || v < 1 || v > DRY_MAX_CORES)
                return ts_fail(TS_EINPUT, "--cores '%s': expected a whole number from 1 to %d", optarg,
                               DRY_MAX_CORES);
            a->cores = (int)v;
            break;
        }
        case 'M':
            if (parse_nodes(optarg, a->nodes, &a->n_nodes))
                return ts_fail(TS_EINPUT, "--nodes '%s': expected a node count from 1 to %d, or up to %d "
                               "of them separated by commas", optarg, DRY_MAX_NODES, DRY_NODE_COUNTS);
            break;
        case 'h': return 1;
        case ':': return ts_fail(TS_EINPUT, "option %s needs a value", argv[optind - 1]);
        default: return ts_fail(TS_EINPUT, "unknown option '%s' (see ticketsweep --help)", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return ts_fail(TS_EINPUT, optind >= argc ? "run: missing the job file (ticketsweep run JOB.ini)"
                                                 : "run: unexpected argument '%s'",
                       argv[optind + 1 < argc ? optind + 1 : optind]);
    if (a->resume && a->force)
        return ts_fail(TS_EINPUT, "--resume and --force exclude each other");
    if ((a->cores || a->n_nodes) && !a->dry_run)
        return ts_fail(TS_EINPUT, "--%s describes the nodes a dry run prices the job for: add --dry-run",
                       a->cores ? "cores" : "nodes");
    for (int i = 0; i < a->n_nodes; i++)
        if ((long)(a->cores ? a->cores : par_affinity_cores()) * a->nodes[i] > DRY_MAX_TOTAL)
            return ts_fail(TS_EINPUT, "--cores %d --nodes %d: more than %d cores in all",
                           a->cores ? a->cores : par_affinity_cores(), a->nodes[i], DRY_MAX_TOTAL);
    a->job = argv[optind];
    if (!a->output) {
        const char *base = strrchr(a->job, '/');
        base = base ? base + 1 : a->job;
        const char *dot = strrchr(base, '.');
        int len = dot ? (int)(dot - base) : (int)strlen(base);
        if (a->shard_n > 1)
            snprintf(a->default_out, sizeof a->default_out, "%.*s.shard%dof%d.h5", len, base,
                     a->shard_i, a->shard_n);
        else
            snprintf(a->default_out, sizeof a->default_out, "%.*s.h5", len, base);
        a->output = a->default_out;
    }
    return 0;
}

static int load_config(config_t *cfg, const run_args_t *a)
{
    config_defaults(cfg);
    int rc = config_load(cfg, a->job);
    for (int i = 0; !rc && i < a->n_sets; i++)
        rc = config_set(cfg, a->sets[i]);
    return rc ? rc : config_validate(cfg);
}

/* --- the data: one copy per node ---------------------------------------------- */

/*
 * Where this rank's data live. The first rank of each node (MPI_COMM_TYPE_SHARED)
 * reads and checks the files into memory of its own (data_load), then copies
 * the block into an MPI-3 shared-memory window of the node; the node's other
 * ranks receive the data_t's plain fields and map the window (data_attach).
 * The pages holding the block are made read-only in every rank. Without
 * mpirun, on a node with one rank, with TICKETSWEEP_SHARED_DATA=0, or when the
 * window cannot be made, every rank loads its own copy as before.
 */
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

/*
 * --threads' default: the cores of this rank's CPU affinity mask, shared
 * evenly by the node's ranks whose masks overlap it. Bound ranks (srun -c T,
 * mpirun --map-by ...:PE=T) each get their own cores; unbound ranks (mpirun
 * --bind-to none) share the node's, so a node is never oversubscribed by
 * default. Collective over the node's communicator.
 */
static int default_threads(MPI_Comm node, int node_size)
{
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

/*
 * Load the data for this rank (collective over MPI_COMM_WORLD). Returns the
 * loading rank's outcome on that rank; a rank whose node's loader failed
 * returns 0 with nothing loaded, and learns the code through agree(), so
 * that bad input is reported once, by the rank that read it.
 */
static int load_data(node_data_t *nd, data_t *d, const config_t *cfg)
{
    const char *env = getenv("TICKETSWEEP_SHARED_DATA");
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
static void free_data(node_data_t *nd, data_t *d)
{
    data_free(d); /* owns nothing when the block is the window */
    if (nd->win != MPI_WIN_NULL)
        MPI_Win_free(&nd->win);
    if (nd->node != MPI_COMM_NULL)
        MPI_Comm_free(&nd->node);
}

/* One line of the run's context: where the data are and who read them. */
static void print_data_line(FILE *out, const data_t *d, const node_data_t *nd)
{
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

/* The run's context, once (rank 0): IOR's PrintHeader. */
static void print_header(const config_t *cfg, const net_t *layout, const run_args_t *a, int T,
                         int to_run, const data_t *data, const node_data_t *nd)
{
    char name[MPI_MAX_PROCESSOR_NAME], *all = NULL, lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len, hosts = 0;
    unsigned maj, min, rel;
    MPI_Get_processor_name(name, &len);
    if (world_rank == 0)
        all = calloc((size_t)world_size, MPI_MAX_PROCESSOR_NAME);
    MPI_Gather(name, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0,
               MPI_COMM_WORLD);
    if (world_rank != 0)
        return;
    for (int i = 0; all && i < world_size; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = !strcmp(all + (size_t)i * MPI_MAX_PROCESSOR_NAME, all + (size_t)j * MPI_MAX_PROCESSOR_NAME);
        hosts += !seen;
    }
    free(all);
    MPI_Get_library_version(lib, &len);
    char *nl = strchr(lib, '\n');
    if (nl)
        *nl = 0;
    H5get_libversion(&maj, &min, &rel);
    fprintf(stderr, "ticketsweep %s: %s\n  ranks %d on %d host%s; %s; HDF5 %u.%u.%u; %s\n", ts_version(),
            command_line, world_size, hosts,
            hosts == 1 ? "" : "s", lib, maj, min, rel, blas_version());
    print_data_line(stderr, data, nd);
    fprintf(stderr, "  threads per rank: %d", par_threads());
    if (threads_lo != threads_hi)
        fprintf(stderr, " (rank 0; %d to %d across ranks)", threads_lo, threads_hi);
    fprintf(stderr, " (%s); a training's batch runs in %d chunk%s (train.chunks), results the same whatever the threads\n",
            run_threads_given ? "--threads" : "the default: the affinity mask's cores, shared by the node's ranks",
            config_chunks(cfg->batch, cfg->chunks), config_chunks(cfg->batch, cfg->chunks) == 1 ? "" : "s");
    prov_t p;
    prov_here(&p);
    prov_conv(&p, net_conv_kernels(layout, cfg->kernels));
    fprintf(stderr, "  numerics (rank 0; each training records its own): %s; %s; OpenBLAS core %s; "
                    "OPENBLAS_CORETYPE %s; OPENBLAS_L2_SIZE %s; convolutions %s\n",
            p.field[PROV_CPU], p.field[PROV_SIMD], p.field[PROV_BLAS_CORE],
            p.field[PROV_CORETYPE][0] ? p.field[PROV_CORETYPE] : "unset",
            p.field[PROV_L2_SIZE][0] ? p.field[PROV_L2_SIZE] : "unset", p.field[PROV_CONV]);
    fprintf(stderr, "  output %s; %d trials in the grid, %d to run", a->output, T, to_run);
    if (a->shard_n > 1)
        fprintf(stderr, " (shard %d/%d)", a->shard_i, a->shard_n);
    fprintf(stderr, "\n  resolved configuration:\n");
    char *text = config_to_string(cfg);
    for (char *line = text ? strtok(text, "\n") : NULL; line; line = strtok(NULL, "\n"))
        fprintf(stderr, "    %s\n", line);
    free(text);
}

/* blas_core_advice for this process: its OpenBLAS core, its CPU and
 * OPENBLAS_CORETYPE as set; 1 when advice was written. */
static int blas_advice_here(char *advice, size_t len)
{
    return blas_core_advice(blas_core(), blas_cpu_isa(), getenv("OPENBLAS_CORETYPE"), advice, len);
}

/* Once, at the start of a run (rank 0): when this node's OpenBLAS runs its
 * generic kernels on a CPU that has AVX2 or AVX-512, say so with the remedy
 * and its cost. Other nodes' ranks may differ; `status` judges them all. */
static void warn_blas_core(void)
{
    char advice[1024];
    if (blas_advice_here(advice, sizeof advice))
        fprintf(stderr, "ticketsweep: warning: rank 0's node runs %s\n", advice);
}

/* MemAvailable from /proc/meminfo in bytes (free pages where it is missing). */
static double mem_available(void)
{
    FILE *f = fopen("/proc/meminfo", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "MemAvailable: %lf kB", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb >= 0 ? kb * 1024 : (double)sysconf(_SC_AVPHYS_PAGES) * sysconf(_SC_PAGESIZE);
}

/* OpenBLAS's buffers, Open MPI's and HDF5's: what a rank of a LeNet sweep
 * holds besides the data and the trainer (about 20 MB of PSS, measured). */
#define RANK_RUNTIME_BYTES 24e6

/* What a rank holds besides the data, by kind (bytes). */
typedef struct {
    trial_mem_t trainer; /* model and optimizer, activations, im2col, batches */
    double sched;        /* mask histories of a training's inputs and outputs, the message buffer,
                            the rewind point and trained weights when the job keeps them */
    double prune;        /* pruning scratch (a magnitude and an index a weight) */
    double total;        /* all of it, and the libraries' RANK_RUNTIME_BYTES */
} rank_mem_t;

/* The bytes a rank needs besides the data: what its trainer allocates
 * (trial_ctx_bytes) and what the scheduler keeps for it (sched.c: the
 * histories in_a, in_b, ones and one per child, the dispatch message). */
static rank_mem_t rank_bytes(const config_t *cfg, const net_t *net, const graph_t *g, const data_t *data)
{
    rank_mem_t m = {0};
    int children = 0;
    for (int x = 0; x < g->N; x++)
        if (g->nodes[x].arm == ARM_TICKET) {
            int c = graph_children(g, x);
            children = c > children ? c : children;
        }
    double W = (double)net->n_weights, P = (double)net->n_params * sizeof(float);
    double t = trial_ctx_bytes(cfg, net, data, &m.trainer);
    m.sched = (2 * W + P) + (3.0 + children + 1) * W + (cfg->rewind_iteration > 0 ? P : 0) +
              (cfg->weights == WEIGHTS_FINAL ? P : 0);
    m.prune = 8 * W;
    m.total = t + m.sched + m.prune + RANK_RUNTIME_BYTES;
    return m;
}

/*
 * Refuse, before any training, a sweep that cannot fit: the memory every rank
 * of this host needs besides the data (loaded already: once per host when
 * shared, else once per rank), and the disk the results file will take (when
 * it is created, not resumed).
 */
static int check_resources(const config_t *cfg, const net_t *net, const graph_t *g, const data_t *data,
                           int local, const char *output, int creating)
{
    double per_rank = rank_bytes(cfg, net, g, data).total, avail = mem_available();
    if (per_rank * local > avail)
        return ts_fail(TS_EINPUT,
                       "%s: the model needs about %.2f GB per rank besides the data, %.2f GB for the %d ranks on this host, "
                       "but %.2f GB are available: use fewer ranks per host or a smaller model.hidden",
                       config_where(cfg, "model.hidden"), per_rank / 1e9, per_rank * local / 1e9, local,
                       avail / 1e9);
    if (!creating || world_rank != 0)
        return 0;
    double need = store_estimate_bytes(cfg, net, g), room = store_free_bytes(output);
    if (room >= 0 && need > room)
        return ts_fail(TS_EINPUT, "%s: the results file needs about %.3g MB, but its file system has %.3g MB free",
                       output, need / 1e6, room / 1e6);
    return 0;
}

/* The trainings the cells of this shard (t mod N = I) need: mine[N]. */
static void shard_nodes(const graph_t *g, const run_args_t *a, char *mine)
{
    memset(mine, 0, (size_t)g->N);
    for (int t = 0; t < g->T; t++)
        for (int arm = 0; t % a->shard_n == a->shard_i && arm < N_ARMS; arm++)
            for (int k = 0; k < g->R1; k++) {
                int32_t x = graph_cell_node(g, t, arm, k);
                if (x >= 0)
                    mine[x] = 1;
            }
}

/*
 * The fraction of each prunable layer's weights training x keeps (its twin
 * ticket's counts: every arm of a round has the ticket's per-layer survivors)
 * into keep[g->n_segs]; returns the fraction of all prunable weights.
 */
static double node_keep(const graph_t *g, int x, double *keep)
{
    int64_t total[NET_MAX_LAYERS] = {0}, gone[NET_MAX_LAYERS] = {0};
    for (int s = 0; s < g->n_segs; s++)
        total[g->cut_of[s]] += (int64_t)g->seg_len[s];
    for (int32_t t = g->nodes[x].twin; t >= 0 && g->nodes[t].round > 0; t = g->nodes[t].prev) {
        const int64_t *cut = graph_cut(g, t);
        for (int e = 0; e < g->n_cut; e++)
            gone[e] += cut[e];
    }
    double kept = 0, all = 0;
    for (int s = 0; s < g->n_segs; s++) {
        int64_t tot = total[g->cut_of[s]];
        keep[s] = tot ? (double)(tot - gone[g->cut_of[s]]) / (double)tot : 1;
        kept += keep[s] * (double)g->seg_len[s];
        all += (double)g->seg_len[s];
    }
    return all ? kept / all : 1;
}

enum { DRY_LEVELS = 8,     /* densities timed at most; the others interpolated */
       DRY_EVAL_IMAGES = 500 /* validation and test images an evaluation is timed on, each */ };

/* A timed density: its kept fraction of the prunable weights and the seconds
 * of a step and of an image evaluated (validation or test: the same forward
 * pass) there. */
typedef struct {
    double keep, step, eval;
} dry_level_t;

/*
 * Time `steps` steps and two evaluation points of a training that keeps
 * keep[s] of prunable layer s (a random mask with those fractions; 1: the
 * dense network) with the job's kernels, through the trainer itself (node 1,
 * the round-1 ticket, of the one-cell graph `one`). Evaluations run over
 * c's data (trimmed by the caller): eval_images images in all.
 */
static int time_level(trial_ctx_t *c, const graph_t *one, const graph_t *g, const double *keep,
                      int64_t steps, double eval_images, dry_level_t *lv)
{
    const net_t *net = &c->net;
    uint8_t *hist = malloc(net->n_weights + 1);
    node_result_t nr;
    int rc = hist ? node_result_create(&nr, 2) : TS_ERUN;
    if (rc) {
        free(hist);
        return ts_fail(TS_ERUN, "out of memory");
    }
    rng_t r;
    rng_init(&r, rng_key(0, RNG_RANDOM, 0, 0));
    memset(hist, 2, net->n_weights); /* counts > 1: active in round 1 */
    for (int s = 0; s < g->n_segs; s++) {
        const net_layer_t *L = &net->layers[g->seg_layer[s]];
        for (size_t i = 0; keep[s] < 1 && i < L->n_w; i++)
            if (rng_uniform(&r) >= keep[s])
                hist[L->w_off + i] = 1;
    }
    node_in_t in = {hist, NULL, NULL};
    node_out_t out = {NULL, NULL, NULL, NULL};
    c->t_train = c->t_eval = 0;
    rc = trial_run_node(c, one, 1, &in, &out, &nr);
    lv->step = (c->t_train - c->t_eval) / (double)steps;
    lv->eval = c->t_eval / eval_images;
    node_result_free(&nr);
    free(hist);
    return rc;
}

/* Seconds of a step (or an image evaluated, eval = 1) at kept fraction d: linear in
 * log d between the timed levels (sorted by keep, descending). */
static double level_time(const dry_level_t *lv, int n, double d, int eval)
{
#define T_OF(j) (eval ? lv[j].eval : lv[j].step)
    if (n == 1 || d >= lv[0].keep)
        return T_OF(0);
    for (int j = 1; j < n; j++)
        if (d >= lv[j].keep) {
            double u = log(lv[j - 1].keep / d) / log(lv[j - 1].keep / lv[j].keep);
            return T_OF(j - 1) + u * (T_OF(j) - T_OF(j - 1));
        }
    return T_OF(n - 1);
#undef T_OF
}

/* What a training does: its steps, evaluation points and images evaluated,
 * for a round 0 and for a later round (from the rewind point with
 * rewind_schedule = continue; trial_eval_images). */
typedef struct {
    int64_t steps, steps_late;
    int evals, evals_late;
    double images, images_late;
} dry_work_t;

static dry_work_t dry_work(const config_t *cfg, const data_t *data)
{
    int64_t k1 = trial_start_iter(cfg, 1);
    dry_work_t w = {cfg->iterations, cfg->iterations - k1, trial_eval_count(cfg), 0,
                    trial_eval_images(cfg, data, 0), trial_eval_images(cfg, data, 1)};
    for (int e = 0; e < w.evals; e++)
        w.evals_late += trial_eval_iter(cfg, e) >= k1;
    return w;
}

/* Seconds of a training at kept fraction d (later: of a round >= 1) from the
 * timed levels lv (a step's seconds, an image's evaluated). */
static double node_seconds(const dry_work_t *w, const dry_level_t *lv, int n_lv, double d, int later)
{
    return level_time(lv, n_lv, d, 0) * (double)(later ? w->steps_late : w->steps) +
           level_time(lv, n_lv, d, 1) * (later ? w->images_late : w->images);
}

/* The dry run's calibration, kept to time it again at more threads: the
 * trainer (on the trimmed data) and the one-cell graph it runs, the training
 * each timed level stands for (-1: the dense network) and the levels at one
 * thread, densest first. */
typedef struct {
    trial_ctx_t *c;
    const graph_t *one;
    int64_t steps;
    double eval_images; /* images a timing evaluates (time_level) */
    int n_lv;
    int rep[DRY_LEVELS];
    dry_level_t lv[DRY_LEVELS];
    dry_work_t work;
} dry_cal_t;

/* Threads a training can use: its parallel work bounds them (net_max_threads:
 * the convolutions' chunks, or the dense products' blocks); the layouts'
 * extrapolation gives no speed-up beyond. */
static int dry_max_threads(const config_t *cfg, const net_t *net)
{
    return net_max_threads(net, cfg->batch);
}

/* "6.22e+04 s (17.3 h)": seconds, and beyond two minutes the unit that reads best. */
static const char *duration(char *buf, size_t len, double s)
{
    int n = snprintf(buf, len, "%.4g s", s);
    if (s >= 120 && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, s < 2 * 3600 ? " (%.3g min)" : s < 72 * 3600 ? " (%.3g h)" : " (%.3g days)",
                 s < 2 * 3600 ? s / 60 : s < 72 * 3600 ? s / 3600 : s / 86400);
    return buf;
}

enum { DRY_MAX_LAYOUTS = 32 }; /* plan_sim_layouts' most */
#define DRY_BEST_SLACK 0.05    /* a layout with fewer threads this close to the fastest is the best */

/* One layout: ranks x threads on each node. */
typedef struct {
    int ranks, threads;         /* a node's */
    int used;                   /* the threads a training uses: at most dry_max_threads */
    int timed;                  /* 1: its levels timed at `used` threads, 0: extrapolated */
    dry_level_t lv[DRY_LEVELS]; /* the levels at `used` threads */
    plan_sim_result_t sim;
    double node_bytes;          /* memory a node needs */
    int fits;                   /* in this machine's memory (when it is the node) */
} dry_layout_t;

/* The thread counts timed, ascending from 1, and the levels at each. */
typedef struct {
    int n;
    int threads[DRY_MAX_LAYOUTS + 2];
    dry_level_t lv[DRY_MAX_LAYOUTS + 2][DRY_LEVELS];
} dry_timed_t;

enum { DRY_THREAD_REPS = 2 }; /* timings of a level on each thread count, the fastest kept */

/*
 * The speed-up of every level on the thread counts of tm (tm->threads[0] =
 * 1), timed side by side: level by level, on 1 thread again and then on
 * each count, DRY_THREAD_REPS rounds, the fastest of each kept (a
 * calibration timed earlier, on a trainer just made, would make every count
 * after it look faster; the fastest of a few is what other processes on the
 * machine disturb least). tm->lv gets cal's levels times those speed-ups.
 * Returns 0 or TS_ERUN.
 */
static int time_threads(const dry_cal_t *cal, const graph_t *g, dry_timed_t *tm)
{
    double keep[NET_MAX_LAYERS];
    dry_level_t raw[DRY_MAX_LAYOUTS + 2], one;
    int rc = 0;
    memcpy(tm->lv[0], cal->lv, sizeof tm->lv[0]);
    for (int j = 0; j < cal->n_lv && !rc && tm->n > 1; j++) {
        for (int s = 0; s < g->n_segs; s++)
            keep[s] = 1;
        if (cal->rep[j] >= 0)
            node_keep(g, cal->rep[j], keep);
        for (int r = 0; r < DRY_THREAD_REPS && !rc; r++)
            for (int k = 0; k < tm->n && !rc; k++) {
                par_set_threads(tm->threads[k]);
                rc = time_level(cal->c, cal->one, g, keep, cal->steps, cal->eval_images, r ? &one : &raw[k]);
                if (r && one.step < raw[k].step)
                    raw[k].step = one.step;
                if (r && one.eval < raw[k].eval)
                    raw[k].eval = one.eval;
            }
        for (int k = 1; k < tm->n && !rc; k++) {
            tm->lv[k][j] = cal->lv[j];
            tm->lv[k][j].step *= raw[0].step > 0 ? raw[k].step / raw[0].step : 1;
            tm->lv[k][j].eval *= raw[0].eval > 0 ? raw[k].eval / raw[0].eval : 1;
        }
    }
    par_set_threads(1);
    return rc;
}

/*
 * The levels of every layout into ly[].lv: timed here at the threads its
 * trainings use, up to this machine's cores (`here`), and at `here` too when
 * layouts use more, the anchor of the extrapolation beyond: Amdahl's law
 * from the most threads timed (plan_sim_amdahl), for each level's step and
 * evaluation on its own (they are parallel to different degrees). What was
 * timed goes to *tm. Returns 0 or TS_ERUN.
 */
static int layout_levels(const dry_cal_t *cal, const graph_t *g, int here, int cap, dry_layout_t *ly,
                         int n_ly, dry_timed_t *tm)
{
    int used[DRY_MAX_LAYOUTS];
    for (int i = 0; i < n_ly; i++)
        used[i] = ly[i].used = ly[i].threads < cap ? ly[i].threads : cap;
    tm->n = plan_sim_timed(used, n_ly, here, tm->threads);
    int rc = time_threads(cal, g, tm);
    if (rc)
        return rc;
    int m = tm->threads[tm->n - 1];
    for (int i = 0; i < n_ly; i++) {
        int k = 0;
        while (k < tm->n && tm->threads[k] != ly[i].used)
            k++;
        ly[i].timed = k < tm->n;
        for (int j = 0; j < cal->n_lv; j++) {
            ly[i].lv[j] = tm->lv[ly[i].timed ? k : 0][j];
            if (!ly[i].timed) {
                ly[i].lv[j].step = plan_sim_amdahl(tm->lv[0][j].step, tm->lv[tm->n - 1][j].step, m, ly[i].used);
                ly[i].lv[j].eval = plan_sim_amdahl(tm->lv[0][j].eval, tm->lv[tm->n - 1][j].eval, m, ly[i].used);
            }
        }
    }
    return 0;
}

/* What was timed and how the rest follows, and a training's time on each layout's threads. */
static void print_threads(const dry_cal_t *cal, const dry_timed_t *tm, int here, int cap,
                          const dry_layout_t *ly, int n_ly)
{
    int m = tm->threads[tm->n - 1], sp = cal->n_lv - 1;
    const dry_level_t *l1 = tm->lv[0], *lm = tm->lv[tm->n - 1];
    printf("threads: a training's time on T threads, timed here on 1");
    for (int k = 1; k < tm->n; k++)
        printf(", %d", tm->threads[k]);
    printf(" (this machine: %d core%s)", here, here == 1 ? "" : "s");
    if (ly[n_ly - 1].used > m && m == 1)
        printf("; no speed-up assumed beyond");
    else if (ly[n_ly - 1].used > m)
        printf("; beyond, Amdahl's law t(T) = t(1) (f + (1 - f) / T) with f from %d threads, for a step "
               "and an evaluation each (dense: f = %.3g and %.3g)",
               m, plan_sim_serial_fraction(l1[0].step, lm[0].step, m),
               plan_sim_serial_fraction(l1[0].eval, lm[0].eval, m));
    if (cap < PAR_MAX_THREADS)
        printf("; a training uses at most %d threads\n", cap);
    else
        printf("; no bound known on the threads a training can use\n");
    double d1 = node_seconds(&cal->work, l1, cal->n_lv, 1, 0);
    double s1 = node_seconds(&cal->work, l1, cal->n_lv, cal->lv[sp].keep, 1);
    for (int i = 0; i < n_ly; i++) {
        const dry_layout_t *L = &ly[i];
        double d = node_seconds(&cal->work, L->lv, cal->n_lv, 1, 0);
        double s = node_seconds(&cal->work, L->lv, cal->n_lv, cal->lv[sp].keep, 1);
        printf("  %d thread%s: a dense training %.3g s (%.2fx)", L->threads, L->threads == 1 ? "" : "s", d,
               d1 / d);
        if (sp)
            printf(", the sparsest (%.3g %%) %.3g s (%.2fx)", 100 * cal->lv[sp].keep, s, s1 / s);
        printf(" (%s", L->timed ? "timed" : "Amdahl");
        if (L->used < L->threads)
            printf(", on %d threads", L->used);
        printf(")\n");
    }
}

/* The mpirun and srun lines of a layout: R ranks of T threads a node on N nodes. */
static void print_launch(const run_args_t *a, int R, int T, int N)
{
    char line[4 * PATH_MAX];
    size_t used = 0;
    line[0] = 0;
    append_arg(line, sizeof line, &used, a->job);
    if (a->output != a->default_out) {
        append_arg(line, sizeof line, &used, "-o");
        append_arg(line, sizeof line, &used, a->output);
    }
    append_job_args(line, sizeof line, &used, a);
    printf("  mpirun -np %d --map-by ppr:%d:node:PE=%d ticketsweep run%s --threads %d\n", R * N, R, T, line, T);
    printf("  srun -N %d -n %d -c %d --cpu-bind=cores ticketsweep run%s --threads %d\n", N, R * N, T, line, T);
}

/*
 * The layouts of ly[] (levels set) on N nodes: the scheduler replayed over
 * the trainings to run (sg; secs is scratch), a line each, the best one that
 * fits in `avail` bytes a node (< 0: not checked) and its launch lines.
 * Returns 0 or plan_sim_run's error.
 */
static int print_layouts_on(const dry_cal_t *cal, const config_t *cfg, const data_t *data, const net_t *net,
                            const graph_t *g, const run_args_t *a, const char *mine, const double *dens,
                            const plan_sim_graph_t *sg, double *secs, dry_layout_t *ly, int n_ly, int N,
                            double avail)
{
    char b1[48], b2[48], fits[DRY_MAX_LAYOUTS];
    double wall[DRY_MAX_LAYOUTS];
    int n_run = 0, C = ly[0].threads * ly[0].ranks, rc = 0;
    for (int x = 0; x < g->N; x++)
        n_run += mine[x] != 0;
    printf("layouts: %d node%s of %d core%s, ranks x threads a node; the scheduler replayed over the %d "
           "trainings%s, each at its density and threads:\n",
           N, N == 1 ? "" : "s", C, C == 1 ? "" : "s", n_run, a->shard_n > 1 ? " (of this shard)" : "");
    for (int i = 0; i < n_ly; i++) {
        dry_layout_t *L = &ly[i];
        for (int x = 0; x < g->N; x++)
            secs[x] = mine[x] ? node_seconds(&cal->work, L->lv, cal->n_lv, dens[x], g->nodes[x].round > 0) : 0;
        if ((rc = plan_sim_run(sg, secs, L->ranks * N, &L->sim, NULL)))
            return rc;
        par_set_threads(L->threads); /* a trainer's buffers may grow with its threads */
        L->node_bytes = data_bytes(data) + L->ranks * rank_bytes(cfg, net, g, data).total;
        par_set_threads(1);
        L->fits = avail < 0 || L->node_bytes <= avail;
        printf("  layout %d x %d: wall %s, critical path %s over %d training%s, at most %d "
               "training%s at once, ranks busy %.1f %%, memory %.3g GB a node%s\n",
               L->ranks, L->threads, duration(b1, sizeof b1, L->sim.makespan),
               duration(b2, sizeof b2, L->sim.critical), L->sim.critical_len,
               L->sim.critical_len == 1 ? "" : "s", L->sim.peak, L->sim.peak == 1 ? "" : "s",
               L->sim.makespan > 0 ? 100 * L->sim.work / (L->sim.makespan * L->ranks * N) : 0,
               L->node_bytes / 1e9, L->fits ? "" : ": does not fit in this machine's memory");
        wall[i] = L->sim.makespan;
        fits[i] = (char)L->fits;
    }
    int best = plan_sim_best(wall, fits, n_ly, DRY_BEST_SLACK);
    if (best < 0) {
        printf("best layout on %d node%s: none fits in this machine's memory\n", N, N == 1 ? "" : "s");
        return 0;
    }
    const dry_layout_t *B = &ly[best];
    printf("best layout: %d x %d on %d node%s (%d rank%s of %d thread%s): wall %s, %.2f of the "
           "1-thread layout's %s (%d x 1); the fewest threads within %.0f %% of the fastest\n",
           B->ranks, B->threads, N, N == 1 ? "" : "s", B->ranks * N, B->ranks * N == 1 ? "" : "s", B->threads,
           B->threads == 1 ? "" : "s", duration(b1, sizeof b1, B->sim.makespan),
           ly[0].sim.makespan > 0 ? B->sim.makespan / ly[0].sim.makespan : 1,
           duration(b2, sizeof b2, ly[0].sim.makespan), ly[0].ranks, 100 * DRY_BEST_SLACK);
    print_launch(a, B->ranks, B->threads, N);
    return 0;
}

/*
 * --dry-run's layouts (rank 0): the job's wall clock with R ranks of T
 * threads on each of N nodes of C cores (--cores, --nodes, which may list
 * node counts; this machine's cores and 1 node by default), R x T = C, T a
 * power of two or C. Each
 * training (mine[x], at kept fraction dens[x]) is priced at T threads from
 * the calibration timed again here (layout_levels), and the scheduler's rule
 * is replayed over the graph (plan_sim_run). Prints the threads' speed-up,
 * then for each node count a line per layout, the best one and its mpirun
 * and srun lines (print_layouts_on).
 */
static int dry_layouts(const dry_cal_t *cal, const config_t *cfg, const data_t *data, const net_t *net,
                       const graph_t *g, const run_args_t *a, const char *mine, const double *dens)
{
    int here = par_affinity_cores(), C = a->cores ? a->cores : here;
    int cap = dry_max_threads(cfg, net), n_ly = 0;
    double avail = mem_available();
    dry_layout_t *ly = calloc(DRY_MAX_LAYOUTS, sizeof *ly);
    dry_timed_t *tm = malloc(sizeof *tm);
    double *secs = calloc((size_t)g->N + 1, sizeof *secs);
    plan_sim_graph_t sg = {0};
    int rc = ly && tm && secs ? plan_sim_graph_create(&sg, g, mine) : ts_fail(TS_ERUN, "out of memory");
    if (rc)
        goto out_free;
    int t[DRY_MAX_LAYOUTS];
    n_ly = plan_sim_layouts(C, t);
    for (int i = 0; i < n_ly; i++) {
        ly[i].threads = t[i];
        ly[i].ranks = C / t[i];
    }
    if ((rc = layout_levels(cal, g, here, cap, ly, n_ly, tm)))
        goto out_free;
    print_threads(cal, tm, here, cap, ly, n_ly);
    if (C == here)
        printf("memory: this machine has %.3g GB available; a layout that needs more is not chosen\n",
               avail / 1e9);
    else
        printf("memory: a layout's is what a node needs: check it against your nodes' (--cores is not "
               "this machine's)\n");
    for (int k = 0; k < (a->n_nodes ? a->n_nodes : 1) && !rc; k++)
        rc = print_layouts_on(cal, cfg, data, net, g, a, mine, dens, &sg, secs, ly, n_ly,
                              a->n_nodes ? a->nodes[k] : 1, C != here ? -1 : avail);
out_free:
    plan_sim_graph_free(&sg);
    free(secs);
    free(tm);
    free(ly);
    return rc;
}

/*
 * --dry-run (rank 0): what the sweep is and costs, with nothing written. The
 * cost of a training comes from timing a few steps and two evaluations of the
 * job's model on this machine (evaluations on DRY_EVAL_IMAGES images of each
 * set, scaled): at its density when the job's kernels may run thin layers
 * over their survivors (up to DRY_LEVELS densities timed, the others
 * interpolated), else dense.
 */
static int dry_run(const config_t *cfg, const data_t *data, const net_t *net, const graph_t *g,
                   const run_args_t *a, const node_data_t *nd)
{
    trial_ctx_t c;
    data_t few = *data; /* the same block, fewer evaluation images */
    few.val.n = few.val.n < DRY_EVAL_IMAGES ? few.val.n : DRY_EVAL_IMAGES;
    few.test.n = few.test.n < DRY_EVAL_IMAGES ? few.test.n : DRY_EVAL_IMAGES;
    double timed_images = 2.0 * (double)(few.val.n + few.test.n); /* two points, test_curve = full */
    graph_t one = {0};
    char *mine = NULL;
    double *dens = NULL;
    int *order = NULL, threads = par_threads();
    dry_cal_t cal = {.c = &c, .one = &one, .eval_images = timed_images, .work = dry_work(cfg, data)};
    int rc = trial_ctx_create(&c, cfg, &few);
    if (rc)
        return rc;
    config_t *quick = malloc(sizeof *quick);
    if (!quick) {
        trial_ctx_free(&c);
        return ts_fail(TS_ERUN, "out of memory");
    }
    par_set_threads(1); /* the figures below are one core's; dry_layouts times more threads */
    /* calibration: steps of the real model (one training of `steps` steps with
     * its two evaluations), timed dense, then at other densities */
    int64_t steps = cal.steps = cfg->iterations < 20 ? cfg->iterations : 20;
    *quick = *cfg;
    quick->iterations = steps;
    quick->eval_every = steps;
    quick->n_per_round = 0;
    quick->n_rates = quick->n_rounds = quick->n_seeds = 1;
    quick->rates[0] = 0.5;
    quick->rounds[0] = 1;
    quick->controls = 0;
    quick->rewind_iteration = 0; /* every timed training from step 0 (timing only) */
    quick->test_curve = TEST_CURVE_FULL; /* both sets at both points: timed_images */
    c.cfg = quick;
    c.E = 2;
    c.eval_iters[0] = 0;
    c.eval_iters[1] = steps;
    /* the dense network first: every layer keeps all its weights */
    dry_level_t *lv = cal.lv;
    cal.lv[0] = (dry_level_t){1, 0, 0};
    cal.rep[0] = -1;
    double keep[NET_MAX_LAYERS];
    for (int s = 0; s < g->n_segs; s++)
        keep[s] = 1;
    if ((rc = graph_plan(&one, quick, net, 1)) || (rc = time_level(&c, &one, g, keep, steps, timed_images, &lv[0])))
        goto out;
    int n_lv = 1;
    /* round 0 trains every step; with rewind_schedule = continue the later
     * rounds from the rewind point on, evaluated at the points from there
     * (the test set there too, or twice: trial_eval_images; dry_work) */
    int E = cal.work.evals, E_late = cal.work.evals_late;
    int64_t late = cal.work.steps_late;
    double img = cal.work.images, img_late = cal.work.images_late;
    double per = lv[0].step * cfg->iterations + lv[0].eval * img;
    double per_late = lv[0].step * late + lv[0].eval * img_late;
    int T = grid_size(cfg), to_run = 0, D = 0;
    for (int t = 0; t < T; t++)
        to_run += t % a->shard_n == a->shard_i;
    mine = calloc((size_t)g->N + 1, 1);
    dens = calloc((size_t)g->N + 1, sizeof(double));
    order = calloc((size_t)g->N + 1, sizeof(int));
    if (!mine || !dens || !order) {
        rc = ts_fail(TS_ERUN, "out of memory");
        goto out;
    }
    shard_nodes(g, a, mine);
    int n_thin = 0; /* the distinct densities below 1 of my trainings, descending, in order */
    for (int x = 0; x < g->N; x++) {
        D += mine[x];
        dens[x] = node_keep(g, x, keep);
        int dup = dens[x] >= 1 - 1e-9;
        for (int j = 0; j < n_thin && !dup; j++)
            dup = fabs(dens[order[j]] / dens[x] - 1) < 1e-6;
        if (mine[x] && !dup) {
            int j = n_thin++;
            for (; j > 0 && dens[order[j - 1]] < dens[x]; j--)
                order[j] = order[j - 1];
            order[j] = x;
        }
    }
    /* dense kernels: every density costs the dense step. Otherwise time up
     * to DRY_LEVELS - 1 of the densities, evenly spread in rank, the
     * sparsest included */
    int timed = cfg->kernels == KERNELS_DENSE ? 0 : n_thin < DRY_LEVELS - 1 ? n_thin : DRY_LEVELS - 1;
    for (int i = 0; i < timed && !rc; i++) {
        int x = order[timed == 1 ? n_thin - 1 : (int)((double)i * (n_thin - 1) / (timed - 1) + 0.5)];
        lv[n_lv].keep = node_keep(g, x, keep);
        cal.rep[n_lv] = x;
        rc = time_level(&c, &one, g, keep, steps, timed_images, &lv[n_lv]);
        n_lv++;
    }
    double total = 0, lo = per;
    for (int x = 0; x < g->N && !rc; x++) {
        double t = node_seconds(&cal.work, lv, n_lv, dens[x], g->nodes[x].round > 0);
        total += mine[x] ? t : 0;
        lo = t < lo ? t : lo;
    }
    cal.n_lv = n_lv;
    if (rc)
        goto out;
    /* the dense training under the other test_curve, for the comparison (in
     * a copy of the job: quick stays the timing job, dry_layouts times again) */
    config_t *other = malloc(sizeof *other);
    if (!other) {
        rc = ts_fail(TS_ERUN, "out of memory");
        goto out;
    }
    *other = *cfg;
    other->test_curve = cfg->test_curve == TEST_CURVE_FULL ? TEST_CURVE_EARLY_STOP : TEST_CURVE_FULL;
    double per_other = lv[0].step * cfg->iterations + lv[0].eval * trial_eval_images(other, data, 0);
    free(other);
    printf("dry run of %s (nothing written)\n", a->job);
    printf("cells: %d (%d to run%s)\n", T, to_run, a->shard_n > 1 ? " in this shard" : "");
    printf("trainings: %d distinct of %lld (%s)\n", g->N, (long long)g->unshared,
           g->shared ? "shared between cells" : "--no-share");
    if (a->shard_n > 1)
        printf("trainings in shard %d/%d: %d\n", a->shard_i, a->shard_n, D);
    /* an evaluation of each set: the same forward pass per image */
    double t_val = lv[0].eval * (double)data->val.n, t_test = lv[0].eval * (double)data->test.n;
    if (cfg->test_curve == TEST_CURVE_FULL)
        printf("per training: %.3g s dense (%lld steps at %.3g ms, %d evaluations at %.3g s, measured here; "
               "OpenBLAS core %s)\n"
               "evaluations: %.0f %% of it (test_curve = full: the test set at every point); test_curve = "
               "early_stop (the test set at the early stop and the end only): %.3g s, x%.2f\n",
               per, (long long)cfg->iterations, 1e3 * lv[0].step, E, t_val + t_test, blas_core(), 100 * lv[0].eval * img / per,
               per_other, per_other / per);
    else
        printf("per training: %.3g s dense (%lld steps at %.3g ms, %d evaluations of the validation set at %.3g s, "
               "2 of the test set at %.3g s, measured here; OpenBLAS core %s)\n"
               "evaluations: %.0f %% of it (test_curve = early_stop: the test set at the early stop and the end "
               "only); test_curve = full: %.3g s, early_stop x%.2f of it\n",
               per, (long long)cfg->iterations, 1e3 * lv[0].step, E, t_val, t_test, blas_core(), 100 * lv[0].eval * img / per,
               per_other, per / per_other);
    if (late < cfg->iterations)
        printf("per training of a later round: %.3g s dense (%lld steps from the rewind point, %d evaluations)\n",
               per_late, (long long)late, E_late);
    if (n_lv > 1)
        printf("thinner trainings (kernels = %s, %d densities timed): %.3g s at %.3g %% of the weights "
               "(%.3g ms a step, %.3g ms an image evaluated), the sparsest\n",
               cfg->kernels == KERNELS_SPARSE ? "sparse" : "auto", n_lv - 1, lo, 100 * lv[n_lv - 1].keep,
               1e3 * lv[n_lv - 1].step, 1e3 * lv[n_lv - 1].eval);
    printf("estimated: %.3g core-hours%s, %.3g dense trainings' worth (the whole job without sharing, "
           "every training dense: %.3g)\n",
           total / 3600, a->shard_n > 1 ? " for this shard" : "", total / per,
           ((double)T * per + (double)(g->unshared - T) * per_late) / 3600);
    char advice[1024];
    if (blas_advice_here(advice, sizeof advice))
        printf("warning: this machine runs %s; the times above were measured on those kernels\n", advice);
    printf("results file: about %.3g MB (%s)\n", store_estimate_bytes(cfg, net, g) / 1e6, a->output);
    rank_mem_t m = rank_bytes(cfg, net, g, data);
    printf("memory per rank: about %.3g MB besides the data (model and optimizer %.3g MB, activations %.3g MB, "
           "im2col %.3g MB, oneDNN %.3g MB, batches %.3g MB, mask histories and messages %.3g MB, pruning %.3g MB, libraries "
           "%.3g MB); rank 0 also holds the plan (%.3g MB) and the mask histories waiting trainings need "
           "(%.3g MB each)\n",
           m.total / 1e6, m.trainer.model / 1e6, m.trainer.acts / 1e6, m.trainer.col / 1e6,
           m.trainer.dnn / 1e6, m.trainer.batches / 1e6, m.sched / 1e6, m.prune / 1e6, RANK_RUNTIME_BYTES / 1e6,
           graph_bytes(g) / 1e6, net->n_weights / 1e6);
    printf("memory per node: the data once (%.0f MB, shared by the node's ranks) + %.0f MB a rank: "
           "%.0f MB with %d rank%s (as here), %.0f MB with 8, %.0f MB with 32\n",
           data_bytes(data) / 1e6, m.total / 1e6, (data_bytes(data) + nd->node_size * m.total) / 1e6,
           nd->node_size, nd->node_size == 1 ? "" : "s", (data_bytes(data) + 8 * m.total) / 1e6,
           (data_bytes(data) + 32 * m.total) / 1e6);
    rc = dry_layouts(&cal, cfg, data, net, g, a, mine, dens);
out:
    par_set_threads(threads);
    free(mine), free(dens), free(order);
    graph_free(&one);
    c.cfg = cfg;
    trial_ctx_free(&c);
    free(quick);
    return rc;
}

/* What the file says is done: nodes and cells (rank 0; all pending when new). */
static int read_done(store_t *store, const graph_t *g, int resumed, char *node_done, double *wall,
                     int8_t *cell_status)
{
    int rc = 0;
    int8_t *st = calloc((size_t)g->N + 1, 1);
    if (!st)
        return ts_fail(TS_ERUN, "out of memory");
    for (int x = 0; x < g->N; x++)
        wall[x] = NAN;
    if (resumed && !(rc = store_read_nodes(store, st, wall)))
        rc = store_read_status(store, cell_status);
    for (int x = 0; x < g->N; x++)
        node_done[x] = st[x] == STATUS_DONE;
    free(st);
    return rc;
}

/*
 * `ticketsweep run` on every rank: parse, load the job and data, plan the
 * graph, claim and create (or open) the results file, run the sweep, close.
 * Returns the exit status (0, or EXIT_* above). Errors before the sweep are
 * agreed across ranks (agree) and end every rank cleanly; one after the ranks
 * went their own ways ends the job (die). Collective over MPI_COMM_WORLD.
 * Owns what it makes (the job, the data, the layer table, the graph, the
 * store, rank 0's claim) and releases it on every path but die's.
 */
static int cmd_run(int argc, char **argv)
{
    run_args_t a;
    config_t *cfg = ts_calloc(1, sizeof *cfg);
    data_t data = {0};
    node_data_t nd = NODE_DATA_INIT;
    net_t layout = {0};
    graph_t g = {0};
    store_t *store = NULL;
    int rc = cfg ? parse_run(argc, argv, &a) : TS_ERUN;
    if (rc == 1) {
        usage_command("run");
        free(cfg);
        return 0;
    }
    if (!rc)
        rc = load_config(cfg, &a);
    if (!rc && world_rank == 0 && !a.dry_run) { /* a dry run writes nothing, claims nothing */
        char hash[17];
        config_hash(cfg, hash);
        rc = take_claim(a.output, hash, a.claim_timeout, "run");
    }
    if ((rc = agree(rc)))
        goto out;
    if ((rc = agree(load_data(&nd, &data, cfg))))
        goto out;
    par_set_threads(a.threads ? a.threads : default_threads(nd.node, nd.node_size));
    run_threads_given = a.threads > 0;
    threads_lo = threads_hi = par_threads();
    MPI_Allreduce(MPI_IN_PLACE, &threads_lo, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &threads_hi, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    rc = net_layout(&layout, cfg, data.channels, data.rows, data.cols, DATA_CLASSES);
    if (!rc)
        rc = graph_plan(&g, cfg, &layout, !a.no_share);
    if ((rc = agree(rc)))
        goto out;
    if (a.dry_run) {
        rc = world_rank == 0 ? dry_run(cfg, &data, &layout, &g, &a, &nd) : 0;
        if ((rc = agree(rc)))
            goto out;
        graph_free(&g);
        free_data(&nd, &data);
        net_free(&layout);
        free(cfg);
        return 0;
    }

    /* Never touch an existing file unless told to. */
    int exists = 0;
    struct stat st_out;
    if (world_rank == 0)
        exists = stat(a.output, &st_out) == 0 ? (S_ISDIR(st_out.st_mode) ? 2 : 1) : 0;
    MPI_Bcast(&exists, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (exists == 2)
        rc = ts_fail(TS_EINPUT, "%s: is a directory: give a file name with -o", a.output);
    else
    if (exists && !a.resume && !a.force)
        rc = ts_fail(TS_EINPUT, "%s: already exists: use --resume to continue it or --force to start over",
                     a.output);
    if (!rc)
        rc = check_resources(cfg, &layout, &g, &data, nd.node_size, a.output, !(exists && a.resume));
    if ((rc = agree(rc)))
        goto out;
    int resumed = exists && a.resume;
    if (resumed) {
        config_t *old = ts_calloc(1, sizeof *old);
        int shape[3];
        char hash[17];
        rc = old ? store_peek(a.output, old, shape, hash, NULL) : TS_ERUN;
        if (!rc && (shape[0] != data.channels || shape[1] != data.rows || shape[2] != data.cols))
            rc = ts_fail(TS_EINPUT, "%s: was made for %dx%dx%d inputs, the data are %dx%dx%d",
                         a.output, shape[0], shape[1], shape[2], data.channels, data.rows, data.cols);
        free(old);
        if ((rc = agree(rc)))
            goto out;
        rc = store_open(&store, a.output, MPI_COMM_WORLD, cfg, &layout, &g, 0);
    } else {
        rc = store_create(&store, a.output, MPI_COMM_WORLD, cfg, &layout, &g, 1);
    }
    if ((rc = agree(rc)))
        goto out;

    int T = grid_size(cfg), N = g.N, cells_run = 0, nodes_run = 0;
    char *to_run = calloc((size_t)N + 1, 1), *node_done = calloc((size_t)N + 1, 1);
    char *cells = calloc((size_t)T + 1, 1);
    double *wall = calloc((size_t)N + 1, sizeof *wall);
    int8_t *status = calloc((size_t)T + 1, 1);
    if (!to_run || !node_done || !cells || !wall || !status)
        die(ts_fail(TS_ERUN, "out of memory"));
    if (world_rank == 0 && (rc = read_done(store, &g, resumed, node_done, wall, status)))
        die(rc);
    for (int t = 0; t < T; t++)
        if (t % a.shard_n == a.shard_i && status[t] != STATUS_DONE) {
            cells[t] = 1;
            cells_run++;
        }
    shard_nodes(&g, &a, to_run);
    for (int x = 0; x < N; x++) {
        to_run[x] = to_run[x] && !node_done[x];
        nodes_run += to_run[x];
    }
    print_header(cfg, &layout, &a, T, cells_run, &data, &nd);
    if (world_rank == 0) {
        fprintf(stderr, "  trainings: %d distinct of %lld (%s); %d to run\n", g.N, (long long)g.unshared,
                g.shared ? "shared between cells" : "--no-share", nodes_run);
        warn_blas_core();
    }

    char hint[4 * PATH_MAX];
    resume_command(hint, sizeof hint, a.job, a.output, &a);
    sched_opts_t opts = {.grace_seconds = a.grace, .resume_hint = hint, .lost = claim_gone};
    sched_plan_t plan = {to_run, node_done, wall, cells};
    sched_stats_t st = {0};
    sched_install_signals();
    double t_sweep = ts_now();
    if ((rc = sched_run(MPI_COMM_WORLD, cfg, &data, &g, store, &opts, &plan, &st)))
        die(rc);
    double t_close = ts_now();
    if ((rc = agree(store_close(store))))
        goto out;
    double t_end = ts_now();
    drop_claim();
    free(to_run);
    free(node_done);
    free(cells);
    free(wall);
    free(status);
    if (world_rank == 0) {
        double util = st.seconds > 0 ? st.busy_seconds / (st.seconds * world_size) : 0;
        fprintf(stderr, "ticketsweep: trials %d done, %d failed, %d pending; trainings %d done, %d failed, "
                        "%d pending; in %.1f s; results in %s\n",
                st.cells_done, st.cells_failed, st.cells_pending, st.done, st.failed, st.pending,
                st.seconds, a.output);
        fprintf(stderr, "ticketsweep: rank utilisation %.1f%%, HDF5 writes %.2f%% of training time, "
                        "dispatch %.1f us per request at rank 0, %.1f us waited per training by workers; "
                        "%.3g MB of inputs sent, at most %.3g MB held at rank 0\n",
                100 * util, st.busy_seconds > 0 ? 100 * st.write_seconds / st.busy_seconds : 0,
                st.served ? 1e6 * st.serve_seconds / st.served : 0,
                st.waits ? 1e6 * st.wait_seconds / st.waits : 0, st.sent_bytes / 1e6,
                st.peak_held_bytes / 1e6);
        fprintf(stderr, "ticketsweep: start-up %.2f s (after MPI_Init: job, data, plan, file), sweep %.2f s, "
                        "closing the file %.2f s, on %d ranks\n",
                t_sweep - t_init, t_close - t_sweep, t_end - t_close, world_size);
        if (st.interrupted)
            fprintf(stderr, "ticketsweep: interrupted; to finish: %s\n", hint);
    }
    int ints[2] = {st.interrupted || st.pending > 0, st.failed};
    MPI_Bcast(ints, 2, MPI_INT, 0, MPI_COMM_WORLD);
    rc = ints[0] ? EXIT_INTERRUPTED : ints[1] ? EXIT_TRIALS_FAILED : 0;
    graph_free(&g);
    free_data(&nd, &data);
    net_free(&layout);
    free(cfg);
    return rc;
out:
    graph_free(&g);
    drop_claim();
    free_data(&nd, &data);
    net_free(&layout);
    free(cfg);
    return exit_code(rc);
}

static int cmd_merge(int argc, char **argv, int *outcome)
{
    int force = 0, n = 0;
    double claim_timeout = CLAIM_TIMEOUT_DEFAULT;
    char **files = ts_calloc((size_t)argc + 1, sizeof *files); /* every file named: no limit */
    if (!files)
        return TS_ERUN;
    if (wants_help(argc, argv)) {
        free(files);
        usage_command("merge");
        *outcome = 0;
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        int rc = 0;
        if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
            force = 1;
        else if (!strncmp(argv[i], "--claim-timeout=", 16))
            rc = parse_claim_timeout(argv[i] + 16, &claim_timeout);
        else if (!strcmp(argv[i], "--claim-timeout"))
            rc = i + 1 == argc ? ts_fail(TS_EINPUT, "option --claim-timeout needs a value")
                               : parse_claim_timeout(argv[++i], &claim_timeout);
        else if (argv[i][0] == '-')
            rc = ts_fail(TS_EINPUT, "merge: unknown option '%s'", argv[i]);
        else
            files[n++] = argv[i];
        if (rc) {
            free(files);
            return TS_EINPUT;
        }
    }
    if (n < 2) {
        free(files);
        return ts_fail(TS_EINPUT, "merge: usage: ticketsweep merge OUT.h5 SHARD.h5... (see merge --help)");
    }
    merge_opts_t opts = {.force = force, .claim_timeout = claim_timeout, .log = stderr};
    merge_counts_t c;
    double t0 = ts_now();
    int rc = merge_shards(files[0], files + 1, n - 1, &opts, &c);
    if (!rc) {
        if (c.numerics[0])
            fprintf(stderr, "ticketsweep: warning: %s: %s\n", files[0], c.numerics);
        fprintf(stderr, "ticketsweep: merged %d trials from %d files into %s in %.1f s: %d done, %d failed, "
                        "%d pending\n", c.merged, n - 1, files[0], ts_now() - t0, c.merged - c.failed, c.failed,
                c.pending);
        *outcome = c.pending ? EXIT_INTERRUPTED : c.failed ? EXIT_TRIALS_FAILED : 0;
    }
    free(files);
    return rc;
}

/* --- status: read-only, works while another job writes the file --- */

/* The job of a results file, in a few lines: model, data, schedule, grid. */
static void status_print_job(const config_t *cfg, const int shape[3])
{
    char v[4][CFG_PATH + 64];
    config_value(cfg, "model.conv", v[0], sizeof v[0]);
    config_value(cfg, "model.hidden", v[1], sizeof v[1]);
    printf("  model     %s: %s%s%shidden %s; input %dx%dx%d; dropout %g\n", config_arch_name(cfg),
           v[0][0] ? "conv " : "", v[0], v[0][0] ? "; " : "", v[1], shape[0], shape[1], shape[2], cfg->dropout);
    config_value(cfg, "data.format", v[0], sizeof v[0]);
    if (cfg->format == FORMAT_CIFAR10)
        printf("  data      %s: train %s; test %s", v[0], cfg->train_images, cfg->test_images);
    else
        printf("  data      %s: train %s, %s; test %s, %s", v[0], cfg->train_images, cfg->train_labels,
               cfg->test_images, cfg->test_labels);
    config_value(cfg, "data.normalize", v[1], sizeof v[1]);
    if (cfg->split == SPLIT_RANDOM)
        printf(" (%lld random training images validate, split_seed %lld; normalize %s)\n",
               (long long)cfg->validation, (long long)cfg->split_seed, v[1]);
    else
        printf(" (the last %lld training images validate; normalize %s)\n", (long long)cfg->validation, v[1]);
    config_value(cfg, "train.optimizer", v[0], sizeof v[0]);
    config_value(cfg, "prune.scope", v[1], sizeof v[1]);
    printf("  schedule  %lld iterations a round, evaluated every %lld%s; %s, lr %g, batch %d; pruning %s, "
           "output at %gx, convolutions at %gx; ", (long long)cfg->iterations, (long long)cfg->eval_every,
           cfg->test_curve == TEST_CURVE_EARLY_STOP ? " (the test set at the early stop and the end only: "
                                                      "test_curve = early_stop)" : "",
           v[0], cfg->lr, cfg->batch, v[1], cfg->output_scale, cfg->conv_scale);
    if (cfg->rewind_iteration > 0 && cfg->rewind_schedule == REWIND_CONTINUE)
        printf("survivors rewound to iteration %lld; later rounds train iterations %lld to %lld "
               "(rewind_schedule continue: round 0's data order, a fresh optimizer)\n",
               (long long)cfg->rewind_iteration, (long long)cfg->rewind_iteration, (long long)cfg->iterations);
    else if (cfg->rewind_iteration > 0)
        printf("survivors rewound to iteration %lld; later rounds train iterations 0 to %lld "
               "(rewind_schedule restart: the data order from the start)\n",
               (long long)cfg->rewind_iteration, (long long)cfg->iterations);
    else
        printf("survivors reset to theta0\n");
    int per_round = cfg->n_per_round > 0;
    config_value(cfg, per_round ? "sweep.per_round" : "sweep.rates", v[0], sizeof v[0]);
    config_value(cfg, "sweep.rounds", v[1], sizeof v[1]);
    config_value(cfg, "sweep.seeds", v[2], sizeof v[2]);
    config_value(cfg, "prune.controls", v[3], sizeof v[3]);
    printf("  grid      %s %s x rounds %s x seeds %s = %d trials; controls %s\n", per_round ? "per_round" : "rates",
           v[0], v[1], v[2], grid_size(cfg), v[3]);
}

/* Trainings of cell t (distinct ones: the arms share round 0) and how many are done. */
static void cell_trainings(const graph_t *g, const int8_t *nst, int t, int *total, int *done)
{
    *total = *done = 0;
    for (int arm = 0; arm < N_ARMS; arm++)
        for (int k = arm == ARM_TICKET ? 0 : 1; k <= g->cell_rounds[t]; k++) {
            int32_t x = graph_cell_node(g, t, arm, k);
            if (x >= 0) {
                (*total)++;
                *done += nst[x] == STATUS_DONE;
            }
        }
}

enum { SHOW_PENDING, SHOW_DONE, SHOW_FAILED, SHOW_PARTIAL };

/* One line of trial t; returns what it showed (SHOW_*), or an error code (< 0). */
static int status_print_trial(store_t *s, const config_t *cfg, const graph_t *g, const int8_t *st,
                              const int8_t *nst, int t, trial_result_t *res)
{
    static const char *names[] = {"pending", "done", "failed", "partial"};
    trial_t tr = grid_trial(cfg, t);
    int total, done, rc, rank;
    cell_trainings(g, nst, t, &total, &done);
    int k = st[t] == STATUS_DONE || st[t] == STATUS_FAILED ? st[t] : done > 0 ? SHOW_PARTIAL : SHOW_PENDING;
    char trainings[32], host[64], err[160];
    double wall;
    snprintf(trainings, sizeof trainings, "%d/%d", done, total);
    printf("%-6d %-8g %-6d %-8lld %-8s ", t, tr.rate, tr.rounds, (long long)tr.seed, names[k]);
    if (k == SHOW_PENDING || k == SHOW_PARTIAL) {
        printf("%s\n", trainings);
        return k;
    }
    trial_result_clear(res);
    if ((rc = store_read_trial(s, t, res)) || (rc = store_read_ledger(s, t, &wall, &rank, host, err)))
        return rc;
    printf("%-9s %-5d %-16.16s %9.1f %9.4f %9.4f%s%s\n", trainings, rank, host, wall,
           res->density[ARM_TICKET][tr.rounds], res->es_test_acc[ARM_TICKET][tr.rounds], err[0] ? "  " : "", err);
    return k;
}

/* The advice on the done trainings (status [N]) that ran OpenBLAS's generic
 * kernels (prov_blas_advice), printed; nothing for a file of a release that
 * did not record them. */
static int status_blas(store_t *s, const char *path, int N, const int8_t *status)
{
    prov_t here, *rows = ts_calloc((size_t)N + 1, sizeof *rows);
    int8_t *done = ts_calloc((size_t)N + 1, 1);
    char out[4096];
    int recorded = 0, rc = rows && done ? store_read_prov(s, rows, &recorded) : TS_ERUN;
    for (int x = 0; !rc && x < N; x++)
        done[x] = status[x] == STATUS_DONE;
    prov_here(&here);
    if (!rc && recorded && (rc = prov_blas_advice(rows, done, N, here.field[PROV_CPU], blas_cpu_isa(), path,
                                                  out, sizeof out)) > 0) {
        fputs(out, stdout);
        rc = 0;
    }
    free(rows);
    free(done);
    return rc;
}

/* The trials' lines and counts, the trainings' counts; *outcome as merge's. */
static int status_report(store_t *s, const char *path, const config_t *cfg, const graph_t *g,
                         trial_result_t *res, int *outcome)
{
    int T = grid_size(cfg), n[4] = {0}, m[3] = {0}, rc;
    int8_t *st = calloc((size_t)T + 1, 1), *nst = calloc((size_t)g->N + 1, 1);
    double *nwall = calloc((size_t)g->N + 1, sizeof *nwall), secs = 0;
    if (!st || !nst || !nwall) {
        rc = ts_fail(TS_ERUN, "out of memory");
        goto out_free;
    }
    if ((rc = store_read_status(s, st)) || (rc = store_read_nodes(s, nst, nwall)))
        goto out_free;
    printf("%-6s %-8s %-6s %-8s %-8s %-9s %-5s %-16s %9s %9s %9s  %s\n", "trial", "rate", "rounds", "seed",
           "status", "trainings", "rank", "host", "wall_s", "density", "es_acc", "error");
    for (int t = 0; t < T; t++) {
        int k = status_print_trial(s, cfg, g, st, nst, t, res);
        if (k < 0) {
            rc = k;
            goto out_free;
        }
        n[k]++;
    }
    for (int x = 0; x < g->N; x++) {
        m[nst[x] >= 0 && nst[x] <= 2 ? nst[x] : 0]++;
        if (nst[x] == STATUS_DONE && nwall[x] == nwall[x])
            secs += nwall[x];
    }
    printf("%s: %d trials: %d done, %d failed, %d pending", path, T, n[SHOW_DONE], n[SHOW_FAILED],
           n[SHOW_PENDING] + n[SHOW_PARTIAL]);
    if (n[SHOW_PARTIAL])
        printf(" (%d of them partial: some of their trainings done)", n[SHOW_PARTIAL]);
    printf("\n");
    printf("%s: %d trainings (%lld without sharing): %d done, %d failed, %d pending; %.1f s of training done\n",
           path, g->N, (long long)g->unshared, m[1], m[2], m[0], secs);
    char mix[1024];
    if (store_numerics(s, g->N, nst, mix, sizeof mix) > 1) /* trainings done on different numerics */
        printf("%s: %s\n", path, mix);
    if ((rc = status_blas(s, path, g->N, nst)))
        goto out_free;
    int pending = n[SHOW_PENDING] + n[SHOW_PARTIAL];
    *outcome = pending ? EXIT_INTERRUPTED : n[SHOW_FAILED] ? EXIT_TRIALS_FAILED : 0;
out_free:
    free(st);
    free(nst);
    free(nwall);
    return rc;
}

/* status --job: the file's job as a job file (its resolved configuration). */
static int status_job(const char *path)
{
    config_t *cfg = calloc(1, sizeof *cfg);
    int shape[3], rc;
    char hash[17];
    if (!cfg)
        return ts_fail(TS_ERUN, "out of memory");
    if (!(rc = store_peek(path, cfg, shape, hash, NULL))) {
        char *text = config_to_string(cfg);
        if (text)
            printf("; the job of %s (config hash %s)\n%s", path, hash, text);
        else
            rc = TS_ERUN;
        free(text);
    }
    free(cfg);
    return rc;
}

static int cmd_status(int argc, char **argv, int *outcome)
{
    *outcome = 0;
    if (wants_help(argc, argv)) {
        usage_command("status");
        return 0;
    }
    const char *path = NULL;
    int job_only = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--job"))
            job_only = 1;
        else if (argv[i][0] == '-' && argv[i][1])
            return ts_fail(TS_EINPUT, "status: unknown option '%s' (see status --help)", argv[i]);
        else if (path)
            return ts_fail(TS_EINPUT, "status: unexpected argument '%s' (ticketsweep status FILE.h5)", argv[i]);
        else
            path = argv[i];
    }
    if (!path)
        return ts_fail(TS_EINPUT, "status: usage: ticketsweep status FILE.h5 (see status --help)");
    if (job_only)
        return status_job(path);
    config_t *cfg = calloc(1, sizeof *cfg);
    net_t layout = {0};
    graph_t g = {0};
    store_t *s = NULL;
    trial_result_t res = {0};
    int shape[3], rc, shared = 1;
    char hash[17];
    if (!cfg)
        return ts_fail(TS_ERUN, "out of memory");
    if ((rc = store_peek(path, cfg, shape, hash, &shared)) ||
        (rc = net_layout(&layout, cfg, shape[0], shape[1], shape[2], DATA_CLASSES)) ||
        (rc = graph_plan(&g, cfg, &layout, shared)) ||
        (rc = trial_result_create(&res, cfg, &layout)) ||
        (rc = store_open(&s, path, MPI_COMM_SELF, cfg, &layout, &g, 1)))
        goto out;
    printf("%s: a sweep of %d trials (job hash %s%s)\n", path, grid_size(cfg), hash,
           shared ? "" : ", --no-share");
    status_print_job(cfg, shape);
    rc = status_report(s, path, cfg, &g, &res, outcome);
    int rc2 = store_close(s);
    rc = rc ? rc : rc2;
    if (!rc && *outcome) {
        char cmd[PATH_MAX + 128];
        resume_command(cmd, sizeof cmd, "JOB.ini", path, NULL);
        printf("%s: to %s: %s\n    (JOB.ini: the job file the sweep was started with; "
               "ticketsweep status %s --job > JOB.ini writes it)\n",
               path, *outcome == EXIT_INTERRUPTED ? "finish the sweep" : "run the failed trials again", cmd,
               path);
    }
out:
    trial_result_free(&res);
    graph_free(&g);
    net_free(&layout);
    free(cfg);
    return rc;
}

static void unknown_command(const char *cmd)
{
    static const char *const commands[] = {"run", "merge", "status", "--help", "--version"};
    ts_suggest_t sg;
    if (!*cmd) {
        fprintf(stderr, "ticketsweep: no command given (run, merge, status; see --help)\n");
        return;
    }
    ts_suggest_init(&sg, cmd);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        ts_suggest_add(&sg, commands[i]);
    const char *near = ts_suggest_best(&sg);
    fprintf(stderr, "ticketsweep: unknown command '%s'%s%s%s (run, merge, status; see --help)\n", cmd,
            near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
}

int main(int argc, char **argv)
{
    int provided = MPI_THREAD_SINGLE;
    /* FUNNELED: only the main thread calls MPI; the claim's heartbeat thread
     * (claim.c) and the training threads (par.h) make no MPI call */
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "ticketsweep: MPI_Init_thread failed\n");
        return EXIT_FAILURE;
    }
    t_init = ts_now();
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    if (provided < MPI_THREAD_FUNNELED && world_rank == 0)
        fprintf(stderr, "ticketsweep: warning: this MPI gives thread level %d, below MPI_THREAD_FUNNELED: "
                        "ticketsweep's other threads make no MPI call, but this MPI does not promise that "
                        "is safe (use an MPI built with thread support)\n", provided);
    for (int i = 0, used = 0; i < argc && used < (int)sizeof command_line; i++)
        used += snprintf(command_line + used, sizeof command_line - used, "%s%s", i ? " " : "", argv[i]);
    par_init();
    int code = 0;
    const char *cmd = argc > 1 ? argv[1] : "";
    if (!strcmp(cmd, "run")) {
        code = cmd_run(argc - 1, argv + 1);
    } else if (!strcmp(cmd, "merge") || !strcmp(cmd, "status")) {
        int rc = 0;
        if (world_rank == 0) {
            rc = !strcmp(cmd, "merge") ? cmd_merge(argc - 1, argv + 1, &code)
                                       : cmd_status(argc - 1, argv + 1, &code);
            if (rc)
                fprintf(stderr, "ticketsweep: %s\n", ts_errmsg());
        }
        MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
        MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
        code = rc ? exit_code(rc) : code;
    } else if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        if (world_rank == 0)
            usage(stdout);
    } else if (!strcmp(cmd, "--version")) {
        if (world_rank == 0)
            printf("ticketsweep %s (results format %d)\n", ts_version(), STORE_VERSION);
    } else {
        if (world_rank == 0)
            unknown_command(cmd);
        code = EXIT_INPUT;
    }
    MPI_Finalize();
    return code;
}
