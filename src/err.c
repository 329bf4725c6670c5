/* err.c - see err.h: one error buffer per process, set by ts_fail, and the
 * "did you mean" suggester that messages about misspelt names use. */
#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

int ts_fault(const char *name, int rank)
{
    static long calls; /* of the one name the variable gives */
    const char *f = getenv("TICKETSWEEP_FAULT");
    size_t n = strlen(name);
    if (!f || strncmp(f, name, n) || f[n] != ':')
        return 0;
    char *end;
    long r = strtol(f + n + 1, &end, 10), nth = *end == ':' ? strtol(end + 1, NULL, 10) : 0;
    if (r != rank)
        return 0;
    calls++;
    if (nth > 0 && calls != nth)
        return 0;
    return ts_fail(TS_ERUN, "injected fault in %s on rank %d (call %ld, TICKETSWEEP_FAULT)", name, rank, calls);
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

int ts_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > TS_SUGGEST_MAX || m > TS_SUGGEST_MAX)
        return INT_MAX / 2;
    /* d[i][j]: distance of a's first i characters to b's first j; three rows
     * suffice, the swap looks two rows back */
    int rows[3][TS_SUGGEST_MAX + 1];
    for (size_t j = 0; j <= m; j++)
        rows[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int *cur = rows[i % 3], *up = rows[(i - 1) % 3], *up2 = rows[(i + 1) % 3];
        cur[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int d = up[j - 1] + (ca != cb);
            if (up[j] + 1 < d)
                d = up[j] + 1;
            if (cur[j - 1] + 1 < d)
                d = cur[j - 1] + 1;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && up2[j - 2] + 1 < d)
                d = up2[j - 2] + 1;
            cur[j] = d;
        }
    }
    return rows[n % 3][m];
}

void ts_suggest_init(ts_suggest_t *s, const char *typed)
{
    s->typed = typed;
    s->best[0] = 0;
    s->score = INT_MAX;
    s->ties = 0;
}

/* 1 when the shorter of a and b (3 characters at least) begins the longer. */
static int is_prefix(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b), k = n < m ? n : m;
    return k >= 3 && !strncasecmp(a, b, k);
}

void ts_suggest_add(ts_suggest_t *s, const char *name)
{
    size_t n = strlen(s->typed), m = strlen(name);
    int limit = 1 + (int)((n > m ? n : m) / 3);
    int d = ts_edit_distance(s->typed, name);
    if (d >= (int)(n < m ? n : m)) /* nothing of one is left in the other: `bar` is not `lr` */
        limit = -1;
    if (m >= TS_SUGGEST_MAX || (d > limit && !is_prefix(s->typed, name)))
        return;
    if (d > limit) /* a prefix: as close as the farthest name still suggested */
        d = limit < 0 ? d : limit;
    if (d < s->score) {
        s->score = d;
        s->ties = 0;
        memcpy(s->best, name, m + 1);
    } else if (d == s->score && strcmp(name, s->best)) {
        s->ties++;
    }
}

const char *ts_suggest_best(const ts_suggest_t *s)
{
    return s->best[0] && !s->ties ? s->best : NULL;
}
