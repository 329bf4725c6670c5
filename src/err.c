/* err.c - see err.h: one error buffer per process, set by ts_fail. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "err.h"

static char errbuf[1024];

int ts_fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, sizeof errbuf, fmt, ap);
    va_end(ap);
    return code;
}

const char *ts_errmsg(void)
{
    return errbuf;
}

void *ts_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        ts_fail(TS_ERUN, "out of memory allocating %zu x %zu bytes", n, size);
    return p;
}

void *ts_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        ts_fail(TS_ERUN, "out of memory allocating %zu bytes", size);
    return p;
}
