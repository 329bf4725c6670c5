/*
 * util.h - two small things several modules need: a monotonic clock and the
 * program's version string.
 */
#ifndef TS_UTIL_H
#define TS_UTIL_H

/* Seconds on CLOCK_MONOTONIC: for durations only (not a wall-clock time). */
double ts_now(void);
/* The version: `git describe` of the checkout it was built from (the Makefile
 * passes it in; a fixed release number with the commit when no tag is
 * reachable), or the fixed release number when built without git (a tarball).
 * A static string. */
const char *ts_version(void);

#endif
