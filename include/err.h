/*
 * err.h - the library's error convention.
 *
 * Library functions return 0 on success or a negative code, and leave a
 * one-line, human-readable message in a per-process buffer that the caller
 * (main, or the scheduler) prints. Only main ends the program.
 *
 *   TS_EINPUT   the user's input is wrong (job file, data file, options):
 *               main exits with status 2.
 *   TS_ERUN     anything else (I/O failure, out of memory, MPI/HDF5 error).
 */
#ifndef TS_ERR_H
#define TS_ERR_H

#include <stddef.h>

enum { TS_OK = 0, TS_ERUN = -1, TS_EINPUT = -2 };

/* Format a message into the error buffer and return code (for `return ts_fail(...)`). */
int ts_fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The last message set by ts_fail; "" when none. */
const char *ts_errmsg(void);
/* Allocation helpers: on failure they set the error buffer and return NULL. */
void *ts_calloc(size_t n, size_t size);
void *ts_malloc(size_t size);

/*
 * Fault injection for the tests: TICKETSWEEP_FAULT=NAME:RANK[:N] makes the
 * N-th call (counted from 1, per process) of ts_fault(NAME, RANK) on that
 * rank fail, every call when N is absent. Returns TS_ERUN with the message
 * "injected fault in NAME on rank RANK (call N, TICKETSWEEP_FAULT)", else 0.
 * Names: store_create, store_write_node, store_write_cell, store_write_theta0,
 * recv (a scheduler message received).
 */
int ts_fault(const char *name, int rank);

/*
 * "Did you mean ...?" for a misspelt name: feed every valid name to
 * ts_suggest_add, then ts_suggest_best gives the closest one, or NULL when
 * none is close enough to be worth saying. Close means an edit distance
 * (insertions, deletions, substitutions and swaps of neighbours, ignoring
 * case) of at most 1 + (the longer length) / 3 and below the shorter length,
 * or one name starting with
 * the other (3 characters at least: `reinitialise` -> `reinit`). When several
 * names are equally closest (`conv5`: conv2, conv4, conv6) none is suggested.
 * Names longer than TS_SUGGEST_MAX are never suggested.
 */
#define TS_SUGGEST_MAX 64
typedef struct {
    const char *typed;          /* borrowed: must outlive the suggester */
    char best[TS_SUGGEST_MAX];  /* the closest name so far ("" when none) */
    int score;                  /* its distance; lower is closer */
    int ties;                   /* other names as close as best */
} ts_suggest_t;

/* Start a suggester for the name the user typed (borrowed). */
void ts_suggest_init(ts_suggest_t *s, const char *typed);
/* Offer one valid name (copied when it is the closest so far). */
void ts_suggest_add(ts_suggest_t *s, const char *name);
/* The closest name, or NULL; points into s. */
const char *ts_suggest_best(const ts_suggest_t *s);
/* Edit distance (optimal string alignment) of a and b, ignoring case; strings
 * longer than TS_SUGGEST_MAX count as far from everything (INT_MAX / 2). */
int ts_edit_distance(const char *a, const char *b);

#endif
