/*
 * store.h - the results file (HDF5, format "ticketsweep-results" version 2).
 *
 * Parallel pattern (IOR, and the HDF Group's collective calling rules): all
 * ranks of comm create or open the file through the MPI-IO driver and create
 * or open every object together, up front; the file is then flushed, and from
 * there on only raw-data writes happen with independent transfers. A training
 * (a node of the graph, graph.h) is written by the rank that ran it: its round
 * of every cell it belongs to, the mask histories its dependents need, then
 * its status. A cell's status is written by rank 0 once all its trainings are
 * written. So a job killed at any moment leaves a file whose structure is
 * intact, in which every training and every cell with status done has
 * complete data, and from which a resume restarts only the trainings that
 * were in flight. store_close is collective.
 *
 * Layout: see docs/results-file.md.
 */
#ifndef TS_STORE_H
#define TS_STORE_H

#include <mpi.h>
#include <stdint.h>

#include "config.h"
#include "graph.h"
#include "net.h"
#include "prov.h"
#include "trial.h"

#define STORE_FORMAT "ticketsweep-results"
/* Version 3 drops the per-cell masks of version 2 (/masks, /controls/random/
 * masks: cells x weights bytes where cells share their trainings); readers
 * derive a cell's masks from /trials/nodes and /nodes/mask. Version 2 files
 * still open, resume (their cells keep getting mask rows) and merge. */
/* Version 4 is version 3 with the grid's chain axes ([sweep] rewind,
 * [sweep] criterion: /grid/rewind, /trials/rewind, K rows a seed in /rewind,
 * /grid/criterion, /trials/criterion); only a job with an axis writes it, so
 * a reader from before the axes refuses such a file instead of reading its
 * cells without their k or criterion. A job without them writes version 3. */
/* Version 5 keeps the learning curves a row per training (/nodes/curves),
 * not per cell and round of every arm ([output] curves = trainings: cells
 * share trainings, so the per-cell rows repeat them); only such a job writes
 * it, so a reader from before refuses the file instead of missing /curves. */
#define STORE_VERSION 5
#define STORE_VERSION_MIN 2
#define STORE_VERSION_PLAIN 3 /* a file made now by a job without the chain axes */
#define STORE_VERSION_AXES 4  /* ... with them */

/* The format version a file made now for cfg gets. */
int store_version_for(const config_t *cfg);

/* An open results file: its HDF5 ids, dataset slots and scratch (store.c).
 * Made by store_create or store_open, released by store_close. */
typedef struct store store_t;

/* Create path (collective over comm) and set *out to its handle (owned: give
 * it to store_close). Fails with TS_EINPUT if it exists and !overwrite, or
 * TS_ERUN (memory, HDF5, MPI), agreed on every rank; *out is then NULL and no
 * file is left. cfg, net and g are borrowed: they must outlive the handle.
 * Rank 0 writes the grid, trial and node tables, evaluation iterations and
 * pending statuses; theta0 comes with store_write_theta0. */
int store_create(store_t **out, const char *path, MPI_Comm comm, const config_t *cfg,
                 const net_t *net, const graph_t *g, int overwrite);
/* Open an existing file for resuming or merging (collective) and set *out to
 * its handle (owned: give it to store_close; cfg, net and g are borrowed).
 * Checks the format and version, that the file's job equals cfg (else
 * TS_EINPUT naming the keys that differ) and that it holds g's trainings;
 * on error *out is NULL. readonly opens without file locking. */
int store_open(store_t **out, const char *path, MPI_Comm comm, const config_t *cfg,
               const net_t *net, const graph_t *g, int readonly);
/* Read the job and the input shape (channels, rows, cols) of a results file
 * without opening it for writing (serial, no locking): for resume, merge and
 * status. cfg is filled from the file's `config` attribute; *shared (when not
 * NULL) says whether the file's trainings were shared between cells. */
int store_peek(const char *path, config_t *cfg, int shape[3], char hash[17], int *shared);
/* theta0 of every seed of the job (trial_theta0), each into its row of /init
 * (independent writes; one rank, before any training reads the file). 0, or
 * TS_ERUN (out of memory, a failed write) with the message set. */
int store_write_theta0(store_t *s);
/*
 * Write training x (any rank, independent writes): its results in round k of
 * every (cell, arm) it belongs to (and, where it is a cell's last round, the
 * cell's mask row and the padding of later rounds), the mask histories of
 * its ticket children (children[i], graph order; NULL when none) and its own
 * (own: random nodes and roots), the seed's rewind point (round 0), its trained
 * parameters ([output] weights = final, a block of net.h's order, stored per
 * layer, weight then bias; NULL otherwise), then its provenance
 * (prov: what this rank ran with, prov_here; NULL or a file without the
 * datasets: not recorded), its ledger and status (STATUS_DONE or
 * STATUS_FAILED with nr->error).
 */
int store_write_node(store_t *s, int x, const node_result_t *nr, int status, uint8_t *const *children,
                     const uint8_t *own, const float *rewind, const float *weights, double wall, int rank,
                     const char *host, const prov_t *prov);
/* Every node's provenance into rows [N]; *recorded = 0 (rows untouched) when
 * the file has none (made by an earlier release). A file of a release that
 * recorded fewer fields leaves the later ones untouched too (a caller's
 * zeroed rows read "": not recorded). Rows of trainings that are not done
 * hold undefined strings. */
int store_read_prov(store_t *s, prov_t *rows, int *recorded);
/* How the numerics of the done trainings (status [N], STATUS_*) were made,
 * in one line into line (prov_mix): returns the number of setups (0: none
 * recorded or none done; 1: all the same, line ""), or a negative code with
 * the message set. */
int store_numerics(store_t *s, int N, const int8_t *status, char *line, size_t len);
/* Copy y's row of /copies (graph.h: a copy node, or an analysed training
 * for its copy 0; any rank, independent writes): its final weights when
 * done, then its ledger and status. */
int store_write_copy(store_t *s, int y, int status, const char *error, const float *weights, double wall,
                     int rank, const char *host);
/* Line y's results (nr's instability rows) in round k of each cell of its
 * training and set, then its ledger and status in /lines. */
int store_write_line(store_t *s, int y, const node_result_t *nr, int status, double wall, int rank,
                     const char *host);
/* The final weights of copy y (a copy node, or an analysed training: copy 0)
 * from /copies/weights [n_params]. */
int store_read_copy(store_t *s, int y, float *weights);
/* The statuses and wall seconds of every node, trainings, copies and lines
 * ([NA] each, graph.h's ids); the copies' and lines' pending (NaN) when the
 * file has no /copies (an earlier release's). */
int store_read_all_nodes(store_t *s, int8_t *status, double *wall);
/* Whether the file has the copies' and lines' tables its job's analysis
 * needs (always, unless analysis.copies >= 2 and an earlier release made it). */
int store_has_copies(const store_t *s);
/* Cell t's ledger and status (rank 0, once its trainings are written). */
int store_write_cell(store_t *s, int t, int status, const char *error, double wall, int rank,
                     const char *host);
/* Every node's status and wall seconds, [N] each. */
int store_read_nodes(store_t *s, int8_t *status, double *wall);
/* Whether the file keeps a mask row per cell (format version 2; store.h). */
int store_cell_masks(const store_t *s);

/* Node x's mask history [n_weights]: the masks of its chain of rounds
 * (written by their parents or by themselves) added up; a pruning-at-
 * initialisation training's, its one mask as the history of its round k
 * (k + 1 where active). A training that trains its twin's mask has none. */
int store_read_counts(store_t *s, int x, uint8_t *counts);
/* Rewind point `row` of /rewind [n_params]: seed_i * K + rewind_i (grid.h). */
int store_read_rewind(store_t *s, int row, float *rewind);
/* Copy the row of copy or line y (graph.h; an analysed training: its copy 0)
 * from src to dst: the copy's final weights, the ledger, the status last (merge). */
int store_copy_extra(store_t *dst, store_t *src, int y, uint8_t *buf);
/* Copy node x's row (history, provenance, ledger, status) from src to dst (merge). */
int store_copy_node(store_t *dst, store_t *src, int x, uint8_t *buf);
/* Write trial t's rows from res, then its ledger (wall, rank, host), then its status. */
int store_write_trial(store_t *s, int t, const trial_result_t *res, double wall, int rank,
                      const char *host);
/* Read trial t's rows into res (res->status from the file). */
int store_read_trial(store_t *s, int t, trial_result_t *res);
/* Cell t's ticket summary only (status: never the masks or curves):
 * density[R1] and the early-stop test accuracy es_acc[R1] of each round. */
/* H5Dwrite calls this rank made through s so far (the run reports their sum). */
long long store_write_count(const store_t *s);

int store_read_summary(store_t *s, int t, double *density, float *es_acc);
/* Read every trial's status, [T]. */
int store_read_status(store_t *s, int8_t *status);
/* Read trial t's ledger. */
int store_read_ledger(store_t *s, int t, double *wall, int *rank, char host[64], char error[160]);
/* Flush (collective). */
int store_flush(store_t *s);
/* Bytes the file will take once every trial is written (its datasets' sizes). */
double store_estimate_bytes(const config_t *cfg, const net_t *net, const graph_t *g);
/* Bytes free for unprivileged users on the file system that holds path's
 * folder; -1 when unknown. */
double store_free_bytes(const char *path);
/* Close the file (collective) and free s; NULL is fine. 0, or TS_ERUN when
 * HDF5 could not close it (the file may then be incomplete). */
int store_close(store_t *s);

#endif
