/*
 * main.c - `ticketsweep COMMAND`: start MPI and hand the command line to
 * its command: run (run.c), merge (merge.c, through cmd_merge below),
 * status (status.c); --help and --version. The options and usage texts are
 * cli.c's. The only place that ends the program (with an exit status of
 * cli.h).
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "claim.h"
#include "cli.h"
#include "err.h"
#include "merge.h"
#include "par.h"
#include "run.h"
#include "status.h"
#include "store.h"
#include "util.h"

/* `ticketsweep merge OUT.h5 SHARD.h5...` (one process): merge.c does the work. */
static int cmd_merge(int argc, char **argv, int *outcome)
{
    int force = 0, n = 0;
    double claim_timeout = CLAIM_TIMEOUT_DEFAULT;
    if (cli_wants_help(argc, argv)) {
        cli_usage_command(stdout, "merge");
        *outcome = 0;
        return 0;
    }
    char **files = ts_calloc((size_t)argc + 1, sizeof *files); /* every file named: no limit */
    if (!files)
        return TS_ERUN;
    for (int i = 1; i < argc; i++) {
        int rc = 0;
        if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
            force = 1;
        else if (!strncmp(argv[i], "--claim-timeout=", 16))
            rc = cli_parse_claim_timeout(argv[i] + 16, &claim_timeout);
        else if (!strcmp(argv[i], "--claim-timeout"))
            rc = i + 1 == argc ? ts_fail(TS_EINPUT, "option --claim-timeout needs a value")
                               : cli_parse_claim_timeout(argv[++i], &claim_timeout);
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

int main(int argc, char **argv)
{
    static char command_line[4096]; /* as typed: getopt_long permutes argv */
    int provided = MPI_THREAD_SINGLE, world_rank;
    /* FUNNELED: only the main thread calls MPI; the claim's heartbeat thread
     * (claim.c) and the training threads (par.h) make no MPI call */
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "ticketsweep: MPI_Init_thread failed\n");
        return EXIT_RUNTIME;
    }
    run_started(ts_now());
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
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
        code = run_command(argc - 1, argv + 1, command_line);
    } else if (!strcmp(cmd, "merge") || !strcmp(cmd, "status")) {
        int rc = 0;
        if (world_rank == 0) {
            rc = !strcmp(cmd, "merge") ? cmd_merge(argc - 1, argv + 1, &code)
                                       : status_command(argc - 1, argv + 1, &code);
            if (rc)
                fprintf(stderr, "ticketsweep: %s\n", ts_errmsg());
        }
        MPI_Bcast(&rc, 1, MPI_INT, 0, MPI_COMM_WORLD);
        MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
        code = rc ? cli_exit_code(rc) : code;
    } else if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        if (world_rank == 0)
            cli_usage(stdout);
    } else if (!strcmp(cmd, "--version")) {
        if (world_rank == 0)
            printf("ticketsweep %s (results format %d)\n", ts_version(), STORE_VERSION);
    } else {
        if (world_rank == 0)
            cli_unknown_command(stderr, cmd);
        code = EXIT_INPUT;
    }
    MPI_Finalize();
    return code;
}
