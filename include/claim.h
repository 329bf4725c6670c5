/*
 * claim.h - one writer per results file: a claim file beside it.
 *
 * Before a sweep (`run`) or a merge writes OUT.h5, it takes OUT.h5.claim: a
 * small text file naming the host, PID, start time, job hash and the time of
 * the last heartbeat of the process that writes OUT.h5. The claim is made
 * atomically (a complete temporary file hard-linked to the claim's name:
 * link(2) fails if the name exists, on local file systems and on NFS v3+,
 * Lustre and GPFS, where flock is unreliable), refreshed by a helper thread
 * every few seconds (write a temporary file, rename it over the claim), and
 * removed by claim_release. A second writer finds the claim and is refused.
 *
 * A claim is stale, and the next writer takes it over (says so on the log),
 * when
 *   - it is unreadable or damaged (empty, garbage, cut short): with a warning;
 *   - its host is this host and its PID is gone (kill(pid, 0) fails with
 *     ESRCH) or, where /proc tells, has ended (a zombie not yet reaped) or
 *     is now another process (another start time);
 *   - its host is another host, and either its heartbeat is older than the
 *     timeout, or it was made by an earlier run of this same Slurm job
 *     (SLURM_JOB_ID equal, SLURM_RESTART_COUNT lower): Slurm ends a job's
 *     processes before it starts the job again.
 * Taking over renames the stale claim aside, checks that what was moved is
 * what was judged stale (else puts it back), and then makes a new claim.
 * Hosts' clocks are assumed to agree to well within the timeout (NTP).
 *
 * No MPI here: the caller decides which rank claims (rank 0). The heartbeat
 * thread makes no MPI or HDF5 call and blocks every signal.
 */
#ifndef TS_CLAIM_H
#define TS_CLAIM_H

#include <stdio.h>

#define CLAIM_FORMAT "ticketsweep-claim"
#define CLAIM_VERSION 1
#define CLAIM_SUFFIX ".claim"
#define CLAIM_TIMEOUT_DEFAULT 300.0 /* seconds without heartbeat before another host's claim is stale */
#define CLAIM_TIMEOUT_MIN 15.0      /* three heartbeats at the longest interval */
#define CLAIM_HEARTBEAT_MAX 5.0     /* seconds between heartbeats, at most */

typedef struct claim claim_t;

typedef struct {
    double timeout;   /* another host's claim is stale after this many seconds without
                       * heartbeat; 0: CLAIM_TIMEOUT_DEFAULT */
    double heartbeat; /* seconds between refreshes; 0: min(CLAIM_HEARTBEAT_MAX, timeout / 6) */
    const char *what; /* what the claimant does, for the file: "run", "merge" */
    FILE *log;        /* takeovers and warnings, one line each ("ticketsweep: ..."); NULL: silent */
} claim_opts_t;

/*
 * Claim results_path for this process: create results_path + ".claim" naming
 * this host and PID and job_hash (the job's config hash, 16 hex digits), and
 * start the heartbeat. A stale claim is taken over (one line on opts->log).
 *
 * Returns 0 and *out (owned: give it to claim_release); or TS_EINPUT when a
 * live claim holds the file (the message names the file, the holder's host
 * and PID, how long ago it last showed life, and what to do), when the claim
 * was made by another claim format version, or when the claim file cannot be
 * created (missing or read-only directory); or TS_ERUN (other I/O errors, no
 * thread). On error *out is NULL and nothing is left on disk.
 */
int claim_take(claim_t **out, const char *results_path, const char *job_hash,
               const claim_opts_t *opts);

/* 1 when the heartbeat found the claim replaced by another writer's (it then
 * stops refreshing it and claim_release leaves it alone), else 0. */
int claim_lost(claim_t *c);

/* Stop the heartbeat, remove the claim file if it is still ours, free c.
 * NULL is fine. Returns 0, or TS_ERUN when the claim could not be removed
 * (the message says which file; the next run will find it stale). */
int claim_release(claim_t *c);

#endif
