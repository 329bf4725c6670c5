/*
 * test_blas: the cblas door against the naive loop, for every transpose
 * combination; and the generic-core check: which core names are generic,
 * which OPENBLAS_CORETYPE mends which CPU, the advice's words, and this CPU's
 * instruction sets against /proc/cpuinfo's flags.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "rng.h"

static void fill(float *x, int n, rng_t *r)
{
    for (int i = 0; i < n; i++)
        x[i] = (float)rng_normal(r);
}

/* Whether /proc/cpuinfo's first "flags" line has flag; -1 when there is none. */
static int cpuinfo_flag(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[8192];
    int has = -1;
    while (f && has < 0 && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5))
            continue;
        has = 0;
        for (char *t = strtok(strchr(line, ':'), ": \t\n"); t && !has; t = strtok(NULL, " \t\n"))
            has = !strcmp(t, flag);
    }
    if (f)
        fclose(f);
    return has;
}

static void check_generic(void)
{
    const char *generic[] = {"Prescott", "prescott", "Katmai", "Core2", "Nehalem", "Atom", "Barcelona",
                             "Unknown", "generic"};
    const char *own[] = {"Haswell", "SkylakeX", "Cooperlake", "Zen", "Sandybridge", "Bulldozer", "", NULL};
    for (size_t i = 0; i < sizeof generic / sizeof generic[0]; i++)
        CHECK(blas_core_generic(generic[i]), "'%s' is generic", generic[i]);
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        CHECK(!blas_core_generic(own[i]), "'%s' is not generic", own[i] ? own[i] : "(null)");

    const char *want[] = {NULL, "Haswell", "SkylakeX", "Cooperlake"};
    for (int isa = BLAS_ISA_OLDER; isa <= BLAS_ISA_AVX512_BF16; isa++) {
        const char *r = blas_core_remedy("Prescott", (blas_isa_t)isa);
        CHECK(want[isa] ? r && !strcmp(r, want[isa]) : !r, "Prescott on %s: remedy %s",
              blas_isa_name((blas_isa_t)isa), r ? r : "none");
        CHECK(!blas_core_remedy("Haswell", (blas_isa_t)isa), "Haswell on %s: nothing to mend",
              blas_isa_name((blas_isa_t)isa));
    }

    char out[1024];
    CHECK(blas_core_advice("Prescott", BLAS_ISA_AVX512, NULL, out, sizeof out) == 1, "advice given");
    CHECK(strstr(out, "generic 'Prescott' kernels on a CPU with AVX-512 (OpenBLAS did not recognise") &&
              strstr(out, "export OPENBLAS_CORETYPE=SkylakeX for every rank") &&
              strstr(out, "keep it for all its resumes") && !strchr(out, '\n'),
          "advice: '%s'", out);
    CHECK(blas_core_advice("Core2", BLAS_ISA_AVX2, "Core2", out, sizeof out) == 1 &&
              strstr(out, "(OPENBLAS_CORETYPE=Core2 asks for them)") &&
              strstr(out, "OPENBLAS_CORETYPE=Haswell"),
          "advice when OPENBLAS_CORETYPE chose the core: '%s'", out);
    CHECK(blas_core_advice("Cooperlake", BLAS_ISA_AVX512_BF16, NULL, out, sizeof out) == 0 && !out[0],
          "no advice for the CPU's own core: '%s'", out);
    CHECK(blas_core_advice("Prescott", BLAS_ISA_OLDER, NULL, out, sizeof out) == 0 && !out[0],
          "no advice for a CPU without AVX2: '%s'", out);
    char tiny[24];
    CHECK(blas_core_advice("Prescott", BLAS_ISA_AVX2, "", tiny, sizeof tiny) == 1 &&
              strlen(tiny) == sizeof tiny - 1,
          "cut to the room given: '%s'", tiny);

    /* this CPU, as the kernel lists its flags */
    if (cpuinfo_flag("fpu") < 0) {
        fprintf(stderr, "test_blas: no flags in /proc/cpuinfo: this CPU's instruction sets not checked\n");
        return;
    }
    int avx512 = cpuinfo_flag("avx512f") && cpuinfo_flag("avx512dq") && cpuinfo_flag("avx512bw") &&
                 cpuinfo_flag("avx512vl");
    blas_isa_t here = avx512 && cpuinfo_flag("avx512_bf16") ? BLAS_ISA_AVX512_BF16
                      : avx512                               ? BLAS_ISA_AVX512
                      : cpuinfo_flag("avx2") && cpuinfo_flag("fma") ? BLAS_ISA_AVX2
                                                                    : BLAS_ISA_OLDER;
    CHECK(blas_cpu_isa() == here, "this CPU: %s, /proc/cpuinfo says %s", blas_isa_name(blas_cpu_isa()),
          blas_isa_name(here));
}

int main(int argc, char **argv)
{
    (void)argc;
    rng_t r;
    rng_init(&r, rng_key(1, 99, 0, 0));
    blas_init();
    const int shapes[][3] = {{60, 300, 784}, {7, 5, 3}, {1, 10, 100}, {33, 17, 65}};
    for (int s = 0; s < 4; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++) {
                int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
                float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
                float *c1 = malloc(sizeof(float) * m * n), *c2 = malloc(sizeof(float) * m * n);
                fill(a, m * k, &r);
                fill(b, k * n, &r);
                fill(c1, m * n, &r);
                for (int i = 0; i < m * n; i++)
                    c2[i] = c1[i];
                int lda = ta ? m : k, ldb = tb ? k : n;
                blas_sgemm(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 1.0f, c1, n);
                blas_sgemm_naive(ta, tb, m, n, k, 0.5f, a, lda, b, ldb, 1.0f, c2, n);
                double worst = 0;
                for (int i = 0; i < m * n; i++) {
                    double e = fabs(c1[i] - c2[i]) / (1 + fabs(c2[i]));
                    worst = e > worst ? e : worst;
                }
                CHECK(worst < 1e-4, "shape %dx%dx%d ta=%d tb=%d: rel error %g", m, n, k, ta, tb, worst);
                free(a), free(b), free(c1), free(c2);
            }
    check_generic();
    return check_summary(argv[0]);
}
