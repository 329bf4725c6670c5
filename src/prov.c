/* prov.c - see prov.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "err.h"
#include "optim.h"
#include "prov.h"

const char *const prov_names[PROV_FIELDS] = {"cpu", "simd", "blas_core", "openblas_coretype",
                                             "openblas_l2_size", "conv"};

/* What the compiler was told the CPU can do (-march): the code outside the
 * run-time dispatched kernels uses at most this. */
static const char *build_target(void)
{
#if defined(__x86_64__) && defined(__AVX512F__)
    return "x86-64-v4";
#elif defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
    return "x86-64-v3";
#elif defined(__x86_64__) && defined(__SSE4_2__)
    return "x86-64-v2";
#elif defined(__x86_64__)
    return "x86-64";
#elif defined(__aarch64__)
    return "aarch64";
#else
    return "unknown";
#endif
}

/* The value of "key : value" from /proc/cpuinfo's first processor, or "". */
static void cpuinfo(const char *key, char *out, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    size_t klen = strlen(key);
    out[0] = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, key, klen) || (line[klen] != ' ' && line[klen] != '\t' && line[klen] != ':'))
            continue;
        char *v = strchr(line, ':');
        if (!v)
            continue;
        for (v++; *v == ' ' || *v == '\t'; v++)
            ;
        v[strcspn(v, "\n")] = 0;
        snprintf(out, len, "%s", v);
        break;
    }
    if (f)
        fclose(f);
}

void prov_here(prov_t *p)
{
    memset(p, 0, sizeof *p);
    cpuinfo("model name", p->field[PROV_CPU], PROV_LEN);
    if (!p->field[PROV_CPU][0]) /* e.g. some ARM kernels: "CPU part" names the core */
        cpuinfo("CPU part", p->field[PROV_CPU], PROV_LEN);
    if (!p->field[PROV_CPU][0]) /* "" means "not recorded" in a file */
        snprintf(p->field[PROV_CPU], PROV_LEN, "unknown");
    snprintf(p->field[PROV_SIMD], PROV_LEN, "adam %s; compiled for %s", optim_kernel(), build_target());
    snprintf(p->field[PROV_BLAS_CORE], PROV_LEN, "%s", blas_core());
    const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
    snprintf(p->field[PROV_CORETYPE], PROV_LEN, "%s", ct ? ct : "");
    snprintf(p->field[PROV_L2_SIZE], PROV_LEN, "%s", l2 ? l2 : "");
}

void prov_conv(prov_t *p, const char *kernels)
{
    snprintf(p->field[PROV_CONV], PROV_LEN, "%s", kernels);
}

/* Append to out as far as it has room (*at: its length so far). */
__attribute__((format(printf, 4, 5))) static void put(char *out, size_t len, size_t *at,
                                                      const char *fmt, ...)
{
    if (*at + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out + *at, len - *at, fmt, ap);
    va_end(ap);
    if (n > 0)
        *at = *at + (size_t)n < len ? *at + (size_t)n : len - 1;
}

/* Rows a and b name the same setup (the strings, not what follows them). */
static int same_setup(const prov_t *a, const prov_t *b)
{
    for (int k = 0; k < PROV_FIELDS; k++)
        if (strncmp(a->field[k], b->field[k], PROV_LEN))
            return 0;
    return 1;
}

int prov_mix(const prov_t *rows, const int8_t *done, int n, char *out, size_t len)
{
    int *first = malloc(((size_t)n + 1) * sizeof *first), *count = malloc(((size_t)n + 1) * sizeof *count);
    size_t at = 0;
    int setups = 0;
    if (len)
        out[0] = 0;
    if (!first || !count) {
        free(first), free(count);
        return ts_fail(TS_ERUN, "out of memory");
    }
    /* whole setups: distinct rows, in order of first appearance */
    for (int i = 0; i < n; i++) {
        if (!done[i])
            continue;
        int j = 0;
        while (j < setups && !same_setup(&rows[first[j]], &rows[i]))
            j++;
        if (j == setups)
            first[setups++] = i;
    }
    if (setups <= 1)
        goto out;
    put(out, len, &at, "numerics from %d setups:", setups);
    for (int k = 0; k < PROV_FIELDS; k++) {
        int values = 0;
        for (int i = 0; i < n; i++) {
            if (!done[i])
                continue;
            int j = 0;
            while (j < values && strncmp(rows[first[j]].field[k], rows[i].field[k], PROV_LEN))
                j++;
            if (j == values) {
                first[values] = i;
                count[values++] = 0;
            }
            count[j]++;
        }
        if (values < 2)
            continue;
        put(out, len, &at, " %s", prov_names[k]);
        for (int j = 0; j < values; j++) {
            const char *v = rows[first[j]].field[k];
            if (!v[0])
                v = k == PROV_CORETYPE || k == PROV_L2_SIZE ? "unset" : "not recorded";
            put(out, len, &at, j ? ", '%.95s' (%d)" : " '%.95s' (%d)", v, count[j]);
        }
        put(out, len, &at, ";");
    }
    if (at && out[at - 1] == ';')
        out[--at] = 0;
out:
    free(first), free(count);
    return setups;
}

int prov_blas_advice(const prov_t *rows, const int8_t *done, int n, const char *here_cpu, blas_isa_t isa,
                     const char *prefix, char *out, size_t len)
{
    int *first = malloc(((size_t)n + 1) * sizeof *first), *count = malloc(((size_t)n + 1) * sizeof *count);
    int setups = 0, lines = 0;
    size_t at = 0;
    if (len)
        out[0] = 0;
    if (!first || !count) {
        free(first), free(count);
        return ts_fail(TS_ERUN, "out of memory");
    }
    /* the setups of the generic rows, in order of first appearance */
    for (int i = 0; i < n; i++) {
        if (!done[i] || !blas_core_generic(rows[i].field[PROV_BLAS_CORE]))
            continue;
        int j = 0;
        while (j < setups && (strncmp(rows[first[j]].field[PROV_CPU], rows[i].field[PROV_CPU], PROV_LEN) ||
                              strncmp(rows[first[j]].field[PROV_BLAS_CORE], rows[i].field[PROV_BLAS_CORE],
                                      PROV_LEN) ||
                              strncmp(rows[first[j]].field[PROV_CORETYPE], rows[i].field[PROV_CORETYPE],
                                      PROV_LEN)))
            j++;
        if (j == setups) {
            first[setups] = i;
            count[setups++] = 0;
        }
        count[j]++;
    }
    for (int j = 0; j < setups; j++) {
        const prov_t *r = &rows[first[j]];
        const char *core = r->field[PROV_BLAS_CORE], *cpu = r->field[PROV_CPU];
        char advice[1024];
        if (!strncmp(cpu, here_cpu, PROV_LEN)) {
            if (!blas_core_advice(core, isa, r->field[PROV_CORETYPE], advice, sizeof advice))
                continue; /* this CPU has no wider kernels to offer */
        } else {
            /* another kind of node: only one of them can tell its instruction sets */
            snprintf(advice, sizeof advice,
                     "OpenBLAS's generic '%.40s' kernels on '%.95s', not this machine's CPU: "
                     "`ticketsweep status` on such a node says whether its CPU has AVX2 or AVX-512, "
                     "where OPENBLAS_CORETYPE would give dense trainings 2-3x faster kernels (docs/cluster.md, "
                     "\"Numerics: pinning the BLAS kernels\")",
                     core, cpu[0] ? cpu : "a CPU not recorded");
        }
        put(out, len, &at, "%s: %d training%s ran %s\n", prefix, count[j], count[j] == 1 ? "" : "s", advice);
        lines++;
    }
    free(first), free(count);
    return lines;
}
