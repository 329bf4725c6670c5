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

#endif
