/*
 * run.h - `ticketsweep run JOB.ini`, on every rank of MPI_COMM_WORLD.
 */
#ifndef TS_RUN_H
#define TS_RUN_H

/* Parse run's options (argv[0] = "run"), load the job and the data, plan the
 * trainings, claim and create (or open, --resume) the results file and run
 * the sweep; with --dry-run price it instead. command_line is the command as
 * typed, for the run's context. Collective over MPI_COMM_WORLD. Returns the
 * exit status (0 or EXIT_* of cli.h); a failure after the ranks went their
 * own ways ends the job with MPI_Abort. */
int run_command(int argc, char **argv, const char *command_line);

/* When MPI_Init_thread returned (ts_now()), for the run's start-up time. */
void run_started(double when);

#endif
