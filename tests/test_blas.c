/* test_blas: the cblas door against the naive loop, for every transpose combination. */
#include <math.h>
#include <stdlib.h>

#include "blas.h"
#include "check.h"
#include "rng.h"

static void fill(float *x, int n, rng_t *r)
{
    for (int i = 0; i < n; i++)
        x[i] = (float)rng_normal(r);
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
    return check_summary(argv[0]);
}
