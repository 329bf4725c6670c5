/*
 * test_prov: the provenance of this process (prov_here) and the one-line
 * summary of a file's trainings (prov_mix): one setup says nothing, several
 * name each field that differs with its values and counts, rows not done do
 * not count, empty values read "unset" (environment) or "not recorded"; and
 * the advice on trainings that ran OpenBLAS's generic kernels
 * (prov_blas_advice): only done rows of a generic core, one line per setup,
 * judged by this CPU's instruction sets on this CPU's model and hedged on
 * another.
 */
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "err.h"
#include "optim.h"
#include "prov.h"

static void set(prov_t *p, const char *cpu, const char *core, const char *env)
{
    memset(p, 0, sizeof *p);
    snprintf(p->field[PROV_CPU], PROV_LEN, "%s", cpu);
    snprintf(p->field[PROV_SIMD], PROV_LEN, "adam avx; compiled for x86-64-v2");
    snprintf(p->field[PROV_BLAS_CORE], PROV_LEN, "%s", core);
    snprintf(p->field[PROV_CORETYPE], PROV_LEN, "%s", env);
}

static int starts(const char *s, const char *prefix)
{
    return !strncmp(s, prefix, strlen(prefix));
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_init();
    prov_t here;
    prov_here(&here);
    CHECK(here.field[PROV_CPU][0] != 0, "a CPU model");
    CHECK(!strcmp(here.field[PROV_BLAS_CORE], blas_core()) && blas_core()[0], "OpenBLAS core '%s'",
          here.field[PROV_BLAS_CORE]);
    char want[PROV_LEN];
    snprintf(want, sizeof want, "adam %s; compiled for ", optim_kernel());
    CHECK(!strncmp(here.field[PROV_SIMD], want, strlen(want)), "simd '%s'", here.field[PROV_SIMD]);
    const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
    CHECK(!strcmp(here.field[PROV_CORETYPE], ct ? ct : ""), "OPENBLAS_CORETYPE as set");
    CHECK(!strcmp(here.field[PROV_L2_SIZE], l2 ? l2 : ""), "OPENBLAS_L2_SIZE as set");
    CHECK(!strcmp(prov_names[PROV_CPU], "cpu") && !strcmp(prov_names[PROV_BLAS_CORE], "blas_core"),
          "dataset names");

    enum { N = 6 };
    prov_t rows[N];
    int8_t done[N] = {1, 1, 1, 1, 1, 0};
    char line[512];
    for (int i = 0; i < N; i++)
        set(&rows[i], "Xeon", "SkylakeX", "");
    CHECK(prov_mix(rows, done, N, line, sizeof line) == 1 && line[0] == 0, "one setup: '%s'", line);
    set(&rows[5], "EPYC", "Zen", "Zen"); /* not done: does not count */
    CHECK(prov_mix(rows, done, N, line, sizeof line) == 1 && line[0] == 0, "a row not done: '%s'", line);
    set(&rows[1], "Xeon", "Haswell", "Haswell");
    set(&rows[3], "Xeon", "Haswell", "Haswell");
    int k = prov_mix(rows, done, N, line, sizeof line);
    CHECK(k == 2, "two setups: %d", k);
    CHECK(!strcmp(line, "numerics from 2 setups: blas_core 'SkylakeX' (3), 'Haswell' (2); "
                        "openblas_coretype 'unset' (3), 'Haswell' (2)"),
          "line: '%s'", line);
    rows[4].field[PROV_CPU][0] = 0; /* a shard of an earlier release */
    k = prov_mix(rows, done, N, line, sizeof line);
    CHECK(k == 3 && strstr(line, "cpu 'Xeon' (4), 'not recorded' (1)"), "%d: '%s'", k, line);
    char tiny[16];
    CHECK(prov_mix(rows, done, N, tiny, sizeof tiny) == 3 && strlen(tiny) == sizeof tiny - 1,
          "cut to the room given: '%s'", tiny);
    int8_t none[N] = {0};
    CHECK(prov_mix(rows, none, N, line, sizeof line) == 0 && line[0] == 0, "nothing done");

    /* generic kernels: rows 0, 2 on this CPU, row 3 on another, row 5 not done */
    char adv[4096];
    for (int i = 0; i < N; i++)
        set(&rows[i], "Xeon", "Prescott", "");
    set(&rows[1], "Xeon", "SkylakeX", "SkylakeX");
    set(&rows[3], "Other", "Prescott", "");
    set(&rows[4], "Xeon", "Cooperlake", "");
    k = prov_blas_advice(rows, done, N, "Xeon", BLAS_ISA_AVX512, "f.h5", adv, sizeof adv);
    CHECK(k == 2, "two setups of generic rows: %d: '%s'", k, adv);
    CHECK(starts(adv, "f.h5: 2 trainings ran OpenBLAS's generic 'Prescott' kernels on a CPU with AVX-512 ") &&
              strstr(adv, "export OPENBLAS_CORETYPE=SkylakeX"),
          "this CPU's line: '%s'", adv);
    const char *other = strchr(adv, '\n');
    CHECK(other && starts(other, "\nf.h5: 1 training ran OpenBLAS's generic 'Prescott' kernels on 'Other', "
                                 "not this machine's CPU: "),
          "another CPU's line: '%s'", other ? other : "");
    CHECK(adv[strlen(adv) - 1] == '\n', "lines end in a newline");
    k = prov_blas_advice(rows, done, N, "Xeon", BLAS_ISA_OLDER, "f.h5", adv, sizeof adv);
    CHECK(k == 1 && strstr(adv, "'Other'") && !strstr(adv, "export"),
          "a CPU without AVX2: only the other CPU's line: '%s'", adv);
    k = prov_blas_advice(rows, done, N, "Other", BLAS_ISA_AVX2, "f.h5", adv, sizeof adv);
    CHECK(k == 2 && strstr(adv, "1 training ran OpenBLAS's generic 'Prescott' kernels on a CPU with AVX2") &&
              strstr(adv, "2 trainings ran OpenBLAS's generic 'Prescott' kernels on 'Xeon'"),
          "judged from the other machine: '%s'", adv);
    set(&rows[0], "Xeon", "Core2", "Core2");
    k = prov_blas_advice(rows, done, N, "Xeon", BLAS_ISA_AVX2, "f.h5", adv, sizeof adv);
    CHECK(k == 3 && strstr(adv, "1 training ran OpenBLAS's generic 'Core2' kernels") &&
              strstr(adv, "OPENBLAS_CORETYPE=Core2 asks for them"),
          "a setup per OPENBLAS_CORETYPE: '%s'", adv);
    for (int i = 0; i < N; i++)
        set(&rows[i], "Xeon", "Haswell", "");
    set(&rows[5], "Xeon", "Prescott", ""); /* not done */
    CHECK(prov_blas_advice(rows, done, N, "Xeon", BLAS_ISA_AVX512, "f.h5", adv, sizeof adv) == 0 && !adv[0],
          "no generic row done: '%s'", adv);
    return check_summary(argv[0]);
}
