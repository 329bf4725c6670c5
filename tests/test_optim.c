/*
 * test_optim: pruned weights stay exactly zero through many Adam and SGD steps
 * (parameter, gradient and both moments), active ones move; and one Adam step
 * equals PyTorch's formula computed here in double.
 */
#include <math.h>
#include <string.h>

#include "check.h"
#include "optim.h"
#include "rng.h"

static void run(int kind)
{
    enum { N = 1000 };
    static float w[N], g[N], mask[N];
    optim_t o;
    rng_t r;
    rng_init(&r, 9);
    CHECK(optim_create(&o, kind, N, 1e-2f, 0.9f, 0.9f, 0.999f, 1e-8f) == 0, "create");
    for (int i = 0; i < N; i++) {
        w[i] = (float)rng_normal(&r);
        mask[i] = i % 3 ? 1.0f : 0.0f;
        if (!mask[i])
            w[i] = 0;
    }
    float w0[N];
    memcpy(w0, w, sizeof w);
    for (int step = 0; step < 500; step++) {
        for (int i = 0; i < N; i++) /* gradients everywhere, pruned entries too */
            g[i] = (float)rng_normal(&r) + 0.5f;
        optim_step(&o, w, g, mask);
    }
    int zero_bad = 0, moved = 0;
    for (int i = 0; i < N; i++) {
        if (!mask[i])
            zero_bad += w[i] != 0 || g[i] != 0 || o.m[i] != 0 || (o.v && o.v[i] != 0);
        else
            moved += w[i] != w0[i];
    }
    CHECK(zero_bad == 0, "optimizer %d: %d pruned entries not exactly zero", kind, zero_bad);
    CHECK(moved == N - N / 3 - 1, "optimizer %d: %d active entries moved", kind, moved);
    optim_free(&o);
}

static void adam_formula(void)
{
    optim_t o;
    float w[2] = {1.0f, -2.0f}, g[2] = {0.5f, -0.25f}, mask[2] = {1, 1};
    optim_create(&o, OPT_ADAM, 2, 1e-3f, 0, 0.9f, 0.999f, 1e-8f);
    double ew[2] = {1.0, -2.0}, m[2] = {0}, v[2] = {0};
    for (int t = 1; t <= 3; t++) {
        optim_step(&o, w, g, mask);
        for (int i = 0; i < 2; i++) {
            double gi = i ? -0.25 : 0.5;
            m[i] = 0.9 * m[i] + 0.1 * gi;
            v[i] = 0.999 * v[i] + 0.001 * gi * gi;
            double bc1 = 1 - pow(0.9, t), bc2 = 1 - pow(0.999, t);
            ew[i] -= 1e-3 / bc1 * m[i] / (sqrt(v[i]) / sqrt(bc2) + 1e-8);
        }
        g[0] = 0.5f, g[1] = -0.25f;
    }
    CHECK(fabs(w[0] - ew[0]) < 1e-6 && fabs(w[1] - ew[1]) < 1e-6, "adam: %g %g want %g %g", w[0], w[1], ew[0], ew[1]);
    optim_free(&o);
}

int main(int argc, char **argv)
{
    (void)argc;
    run(OPT_ADAM);
    run(OPT_SGD);
    adam_formula();
    return check_summary(argv[0]);
}
