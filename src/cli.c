/*
 * cli.c - the command line: each command's usage, `run`'s options and the
 * command that resumes a sweep (cli.h). Parses and prints; runs nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "cli.h"
#include "config.h"
#include "err.h"
#include "par.h"
#include "util.h"

int cli_parse_claim_timeout(const char *s, double *out)
{
    char *end;
    *out = strtod(s, &end);
    if (end == s || *end || !(*out >= CLAIM_TIMEOUT_MIN) || *out > 1e7)
        return ts_fail(TS_EINPUT, "--claim-timeout '%s': expected seconds >= %.0f", s, CLAIM_TIMEOUT_MIN);
    return 0;
}

int cli_exit_code(int rc)
{
    return rc == TS_EINPUT ? EXIT_INPUT : EXIT_RUNTIME;
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

void cli_usage(FILE *out)
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

/* `ticketsweep COMMAND --help`: the command's usage. */
void cli_usage_command(FILE *out, const char *cmd)
{
    if (!strcmp(cmd, "run")) {
        fprintf(out, "usage: " USAGE_RUN "\n");
        usage_run(out);
    } else if (!strcmp(cmd, "merge")) {
        fprintf(out, "usage: " USAGE_MERGE "\n");
        usage_merge(out);
    } else {
        fprintf(out, "usage: " USAGE_STATUS "\n");
        usage_status(out);
    }
}

int cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return 1;
    return 0;
}


void cli_append_arg(char *buf, size_t len, size_t *used, const char *arg)
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

void cli_append_job_args(char *buf, size_t len, size_t *used, const run_args_t *a)
{
    for (int i = 0; i < a->n_sets; i++) {
        cli_append_arg(buf, len, used, "--set");
        cli_append_arg(buf, len, used, a->sets[i]);
    }
    if (a->shard_n > 1) {
        char shard[32];
        snprintf(shard, sizeof shard, "%d/%d", a->shard_i, a->shard_n);
        cli_append_arg(buf, len, used, "--shard");
        cli_append_arg(buf, len, used, shard);
    }
    if (a->no_share)
        cli_append_arg(buf, len, used, "--no-share");
}

void cli_resume_command(char *buf, size_t len, const char *job, const char *output, const run_args_t *a)
{
    size_t used = (size_t)snprintf(buf, len, "mpirun ... ticketsweep run");
    cli_append_arg(buf, len, &used, job);
    cli_append_arg(buf, len, &used, "-o");
    cli_append_arg(buf, len, &used, output);
    if (a)
        cli_append_job_args(buf, len, &used, a);
    cli_append_arg(buf, len, &used, "--resume");
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


/* `run`'s options (cli.h). */
int cli_parse_run(int argc, char **argv, run_args_t *a)
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
            if (cli_parse_claim_timeout(optarg, &a->claim_timeout))
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

void cli_unknown_command(FILE *out, const char *cmd)
{
    static const char *const commands[] = {"run", "merge", "status", "--help", "--version"};
    ts_suggest_t sg;
    if (!*cmd) {
        fprintf(out, "ticketsweep: no command given (run, merge, status; see --help)\n");
        return;
    }
    ts_suggest_init(&sg, cmd);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        ts_suggest_add(&sg, commands[i]);
    const char *near = ts_suggest_best(&sg);
    fprintf(out, "ticketsweep: unknown command '%s'%s%s%s (run, merge, status; see --help)\n", cmd,
            near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
}

