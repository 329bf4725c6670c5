/*
 * status.h - `ticketsweep status FILE.h5 [--job]`, in one process.
 */
#ifndef TS_STATUS_H
#define TS_STATUS_H

/* Print the results file's job and a line per trial, or with --job only the
 * job as a job file (argv[0] = "status"). Read-only, claims nothing. Returns
 * 0 with *outcome the exit status (0 complete, EXIT_INTERRUPTED some trials
 * pending, EXIT_TRIALS_FAILED some failed), or an error code with the
 * message set. */
int status_command(int argc, char **argv, int *outcome);

#endif
