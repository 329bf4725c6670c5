/*
 * check.h - the test suite's tiny check macros (redis testhelp.h style).
 *
 * CHECK(cond, fmt, ...) records a failure with file:line and a message and
 * goes on; a test binary ends with `return check_summary(argv[0]);`, which
 * prints "name: N checks, M failed" and returns non-zero when any failed.
 */
#ifndef TS_CHECK_H
#define TS_CHECK_H

#include <stdio.h>

static int check_total, check_failed;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        check_total++;                                                        \
        if (!(cond)) {                                                        \
            check_failed++;                                                   \
            fprintf(stderr, "  FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                     \
            fprintf(stderr, "\n");                                            \
        }                                                                     \
    } while (0)

static inline int check_summary(const char *name)
{
    fprintf(stderr, "%s: %d checks, %d failed\n", name, check_total, check_failed);
    return check_failed != 0 || check_total == 0;
}

#endif
