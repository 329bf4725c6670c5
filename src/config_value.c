/*
 * config_value.c - what a value of each key type is (config_keys.h): the
 * text of a job file's value parsed into config_t (numbers, lists, choices
 * with a suggestion for a misspelt one, layer lists, paths that must read
 * back through libinih) and written back as the resolved text spells it.
 * The key table itself is config.c's.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"
#include "err.h"

/* --- value parsers: 0 or a static reason string --- */

char *config_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

/* 1 when s, written as "key = s", reads back as s: no line break, and no ';'
 * first or after a space (inih takes it for a comment). */
static int ini_safe(const char *s)
{
    for (const char *c = s; *c; c++)
        if (*c == '\n' || *c == '\r' || (*c == ';' && (c == s || isspace((unsigned char)c[-1]))))
            return 0;
    return 1;
}

static const char *parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (end == s || *end)
        return "is not an integer";
    if (errno == ERANGE)
        return "is out of range";
    *out = v;
    return NULL;
}

static const char *parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end)
        return "is not a number";
    if (!isfinite(v))
        return "is not finite";
    /* underflow too: a subnormal would not read back from its printed form */
    if (errno == ERANGE || (v != 0 && fabs(v) < DBL_MIN))
        return "is out of range";
    *out = v;
    return NULL;
}

/* Split a comma list in place into at most max items; returns count or -1 on
 * an empty entry, -2 on too many. */
static int split_list(char *s, char **items, int max)
{
    int n = 0;
    if (!*config_trim(s))
        return 0;
    for (char *tok = s;; n++) {
        char *comma = strchr(tok, ',');
        if (comma)
            *comma = 0;
        if (n == max)
            return -2;
        items[n] = config_trim(tok);
        if (!*items[n])
            return -1;
        if (!comma)
            return n + 1;
        tok = comma + 1;
    }
}

static int choice_index(const char *choices, const char *v)
{
    int idx = 0;
    size_t len = strlen(v);
    for (const char *c = choices; *c; idx++) {
        const char *bar = strchr(c, '|');
        size_t clen = bar ? (size_t)(bar - c) : strlen(c);
        if (clen == len && !strncmp(c, v, len))
            return idx;
        if (!bar)
            break;
        c = bar + 1;
    }
    return -1;
}

/* choices "a|b|c" as "a, b, c" into out (len >= 1). */
void config_choices_text(const char *choices, char *out, size_t len)
{
    size_t j = 0;
    for (const char *c = choices; *c && j + 3 < len; c++) {
        if (*c == '|') {
            out[j++] = ',';
            out[j++] = ' ';
        } else {
            out[j++] = *c;
        }
    }
    out[j] = 0;
}

/* The choice closest to v (NULL when none is close: see ts_suggest_add). */
static const char *choice_suggest(ts_suggest_t *sg, const char *choices, const char *v)
{
    char one[TS_SUGGEST_MAX];
    ts_suggest_init(sg, v);
    for (const char *c = choices; *c;) {
        const char *bar = strchr(c, '|');
        size_t clen = bar ? (size_t)(bar - c) : strlen(c);
        snprintf(one, sizeof one, "%.*s", (int)clen, c);
        ts_suggest_add(sg, one);
        if (!bar)
            break;
        c = bar + 1;
    }
    return ts_suggest_best(sg);
}

/* "is not one of a, b, c" (prefix: what comes before, "" or "entry 'x' "), with
 * "; did you mean 'b'?" when a choice is close to v. Written into why. */
static const char *not_a_choice(const key_t_ *k, const char *v, const char *prefix, char *why, size_t wlen)
{
    ts_suggest_t sg;
    const char *near = choice_suggest(&sg, k->choices, v);
    size_t used = (size_t)snprintf(why, wlen, "%sis not one of %s", prefix, k->type == K_FLAGS ? "none, " : "");
    if (used < wlen)
        config_choices_text(k->choices, why + used, wlen - used);
    used = strlen(why);
    if (near && used < wlen)
        snprintf(why + used, wlen - used, "; did you mean '%s'?", near);
    return why;
}

/* Parse value for key k into cfg. Returns NULL or a reason ("is not a number"). */
const char *config_key_parse(const key_t_ *k, config_t *cfg, const char *value, char *why, size_t wlen)
{
    char buf[CFG_PATH * 2];
    char *items[CFG_MAX_LIST];
    char *base = (char *)cfg + k->off;
    const char *err = NULL;
    if (strlen(value) >= sizeof buf)
        return "is too long";
    strcpy(buf, value);
    char *v = config_trim(buf);
    switch (k->type) {
    case K_PATH:
        if (!*v)
            return "is empty";
        if (strlen(v) >= CFG_PATH)
            return "is too long";
        /* The resolved text (the results file's `config`) must read back the same:
         * INI has no escapes, so refuse what inih would cut off or split. */
        if (!ini_safe(v))
            return "contains a line break or a ';' after a space (not allowed in a job file)";
        strcpy(base, v);
        return NULL;
    case K_INT: {
        int64_t x;
        if ((err = parse_i64(v, &x)))
            return err;
        if (x < -2147483647 || x > 2147483647)
            return "is out of range";
        *(int *)base = (int)x;
        return NULL;
    }
    case K_I64:
        return parse_i64(v, (int64_t *)base);
    case K_DOUBLE:
        return parse_double(v, (double *)base);
    case K_CHOICE: {
        int c = choice_index(k->choices, v);
        if (c < 0)
            return not_a_choice(k, v, "", why, wlen);
        *(int *)base = c;
        return NULL;
    }
    case K_FLAGS: {
        int n = split_list(v, items, CFG_MAX_LIST), bits = 0;
        if (n < 0)
            return "has an empty list entry";
        if (n == 1 && !strcmp(items[0], "none")) {
            *(int *)base = 0;
            return NULL;
        }
        for (int i = 0; i < n; i++) {
            int c = choice_index(k->choices, items[i]);
            if (c < 0) {
                char prefix[128];
                snprintf(prefix, sizeof prefix, "entry '%.100s' ", items[i]);
                return not_a_choice(k, items[i], prefix, why, wlen);
            }
            if (bits & (1 << c)) {
                snprintf(why, wlen, "lists '%s' twice", items[i]);
                return why;
            }
            bits |= 1 << c;
        }
        *(int *)base = bits;
        return NULL;
    }
    case K_INTLIST:
    case K_I64LIST:
    case K_DLIST:
    case K_LAYERS: {
        /* model.hidden and model.conv hold fewer entries than the other lists */
        int max = k->off == F(hidden) || k->off == F(conv) ? CFG_MAX_LAYERS - 1 : CFG_MAX_LIST;
        int n = split_list(v, items, max);
        if (n == -1)
            return "has an empty list entry";
        if (n == -2) {
            snprintf(why, wlen, "has more than %d entries", max);
            return why;
        }
        for (int i = 0; i < n && !err; i++) {
            int64_t x;
            double d;
            if (k->type == K_LAYERS && !strcmp(items[i], "pool")) {
                ((int *)base)[i] = CFG_POOL;
            } else if (k->type == K_DLIST) {
                if (!(err = parse_double(items[i], &d)))
                    ((double *)base)[i] = d;
            } else if (!(err = parse_i64(items[i], &x))) {
                if (k->type == K_I64LIST)
                    ((int64_t *)base)[i] = x;
                else if (x < -2147483647 || x > 2147483647)
                    err = "is out of range";
                else
                    ((int *)base)[i] = (int)x;
            }
            if (err) {
                snprintf(why, wlen, "entry '%s' %s", items[i], err);
                return why;
            }
        }
        *(int *)((char *)cfg + k->count_off) = n;
        return NULL;
    }
    }
    return "has an unknown type";
}

/* Shortest "%g" text that reads back as exactly x. */
static int fmt_double(char *out, size_t len, double x)
{
    int n = 0;
    for (int prec = 6; prec <= 17; prec++) {
        n = snprintf(out, len, "%.*g", prec, x);
        if (strtod(out, NULL) == x)
            break;
    }
    return n;
}

/* Canonical text of key k's value: the same value always prints the same. */
void config_key_format(const key_t_ *k, const config_t *cfg, char *out, size_t len)
{
    const char *base = (const char *)cfg + k->off;
    size_t used = 0;
    out[0] = 0;
    switch (k->type) {
    case K_PATH:
        snprintf(out, len, "%s", base);
        return;
    case K_INT:
        snprintf(out, len, "%d", *(const int *)base);
        return;
    case K_I64:
        snprintf(out, len, "%lld", (long long)*(const int64_t *)base);
        return;
    case K_DOUBLE:
        fmt_double(out, len, *(const double *)base);
        return;
    case K_CHOICE: {
        int want = *(const int *)base, idx = 0;
        for (const char *c = k->choices; *c; idx++) {
            const char *bar = strchr(c, '|');
            size_t clen = bar ? (size_t)(bar - c) : strlen(c);
            if (idx == want) {
                snprintf(out, len, "%.*s", (int)clen, c);
                return;
            }
            if (!bar)
                return;
            c = bar + 1;
        }
        return;
    }
    case K_FLAGS: {
        int bits = *(const int *)base, idx = 0;
        if (!bits) {
            snprintf(out, len, "none");
            return;
        }
        for (const char *c = k->choices; *c; idx++) {
            const char *bar = strchr(c, '|');
            size_t clen = bar ? (size_t)(bar - c) : strlen(c);
            if (bits & (1 << idx))
                used += snprintf(out + used, len - used, "%s%.*s", used ? ", " : "", (int)clen, c);
            if (!bar)
                return;
            c = bar + 1;
        }
        return;
    }
    case K_INTLIST:
    case K_I64LIST:
    case K_DLIST:
    case K_LAYERS: {
        int n = *(const int *)((const char *)cfg + k->count_off);
        if (k->off == F(rates) && cfg->n_per_round > 0) /* per_round replaces the default rates */
            n = 0;
        for (int i = 0; i < n && used < len; i++) {
            const char *sep = i ? ", " : "";
            if (k->type == K_LAYERS && ((const int *)base)[i] == CFG_POOL)
                used += snprintf(out + used, len - used, "%spool", sep);
            else if (k->type == K_INTLIST || k->type == K_LAYERS)
                used += snprintf(out + used, len - used, "%s%d", sep, ((const int *)base)[i]);
            else if (k->type == K_I64LIST)
                used += snprintf(out + used, len - used, "%s%lld", sep,
                                 (long long)((const int64_t *)base)[i]);
            else
                {
                used += snprintf(out + used, len - used, "%s", sep);
                used += fmt_double(out + used, len - used, ((const double *)base)[i]);
            }
        }
        return;
    }
    }
}
