/*
 * store.h - the results file (HDF5, format "ticketsweep-results" version 1).
 *
 * Parallel pattern (IOR, and the HDF Group's collective calling rules): all
 * ranks of comm create or open the file through the MPI-IO driver and create
 * or open every object together, up front; the file is then flushed, and from
 * there on only raw-data writes happen, each rank writing its own trial's rows
 * with independent transfers, the trial's status last. So a job killed at any
 * moment leaves a file whose structure is intact and in which every trial with
 * status done has complete data. store_close is collective.
 *
 * Layout: see README.md, "The results file".
 */
#ifndef TS_STORE_H
#define TS_STORE_H

#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>

#include "config.h"
#include "net.h"
#include "trial.h"

#define STORE_FORMAT "ticketsweep-results"
#define STORE_VERSION 1
#define STORE_MAX_DS 128

typedef struct {
    char path[96];
    hid_t id;
    int kind;   /* what a trial row holds: see store.c */
    int arm, metric, layer;
    hid_t memtype;
} store_ds_t;

typedef struct {
    hid_t file;
    MPI_Comm comm;
    int rank;
    int T, R1, E, n_seeds;
    const config_t *cfg;
    const net_t *net;      /* the layer table: shapes of masks and theta0 */
    int n_ds;
    store_ds_t ds[STORE_MAX_DS];
    char path[CFG_PATH];
} store_t;

/* Create path (collective over comm). Fails with TS_EINPUT if it exists and
 * !overwrite. Rank 0 writes the grid, trial table, evaluation iterations and
 * pending statuses; theta0 comes with store_write_theta0. */
int store_create(store_t *s, const char *path, MPI_Comm comm, const config_t *cfg,
                 const net_t *net, int overwrite);
/* Open an existing file for resuming or merging (collective). Checks the format
 * and version, and that the file's job equals cfg (else TS_EINPUT naming the
 * keys that differ). readonly opens without file locking. */
int store_open(store_t *s, const char *path, MPI_Comm comm, const config_t *cfg,
               const net_t *net, int readonly);
/* Read the job and the input shape (channels, rows, cols) of a results file
 * without opening it for writing (serial, no locking): for resume, merge and
 * status. cfg is filled from the file's `config` attribute. */
int store_peek(const char *path, config_t *cfg, int shape[3], char hash[17]);
/* theta0 of seed index si (independent write; any rank). */
int store_write_theta0(store_t *s, int si, const float *theta0);
/* Write trial t's rows from res, then its ledger (wall, rank, host), then its status. */
int store_write_trial(store_t *s, int t, const trial_result_t *res, double wall, int rank,
                      const char *host);
/* Read trial t's rows into res (res->status from the file). */
int store_read_trial(store_t *s, int t, trial_result_t *res);
/* Read every trial's status, [T]. */
int store_read_status(store_t *s, int8_t *status);
/* Read trial t's ledger. */
int store_read_ledger(store_t *s, int t, double *wall, int *rank, char host[64], char error[160]);
/* Flush (collective). */
int store_flush(store_t *s);
/* Bytes the file will take once every trial is written (its datasets' sizes). */
double store_estimate_bytes(const config_t *cfg, const net_t *net);
/* Bytes free for unprivileged users on the file system that holds path's
 * folder; -1 when unknown. */
double store_free_bytes(const char *path);
/* Close (collective). */
int store_close(store_t *s);

#endif
