/*
 * merge.h - `ticketsweep merge`: the shard files of one job (run --shard I/N)
 * into one results file, in one process (MPI_COMM_SELF).
 *
 * Every shard must hold the same job (config hash and input shape). The
 * merged file is built under OUT.merging and renamed to OUT only when
 * complete, so an existing OUT (with force) is replaced by a whole merge or
 * not at all. OUT is claimed (claim.h) for the time of the merge.
 */
#ifndef TS_MERGE_H
#define TS_MERGE_H

#include <stdio.h>

typedef struct {
    int force;            /* replace OUT when it exists */
    double claim_timeout; /* OUT's claim from another host is stale after this (claim.h) */
    FILE *log;            /* the claim's takeovers and warnings; NULL: silent */
} merge_opts_t;

typedef struct {
    int merged;             /* trials copied from the shards (done or failed) */
    int failed, pending;    /* trials of the merged file failed, pending */
    char numerics[1024];    /* the numerics of the merged trainings (prov_mix) when
                               they were made on more than one setup, else "" */
} merge_counts_t;

/*
 * Merge shards[0..n) into out. Returns 0 and *counts; or TS_EINPUT (a shard
 * is not a results file, is from another job, out exists without force or is
 * also an input, a live claim holds out, two shards disagree on a trial), or
 * TS_ERUN (I/O, memory), with the message set; on error out is untouched
 * and no OUT.merging is left.
 */
int merge_shards(const char *out, char *const *shards, int n, const merge_opts_t *opts,
                 merge_counts_t *counts);

#endif
