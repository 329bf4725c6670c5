/*
 * rng.c - counter-based generator: value(key, n) = mix(key + (n + 1) * golden),
 * with splitmix64's finaliser as the mixing function (a bijection with good
 * avalanche), as in Java's SplittableRandom.
 */
#include <math.h>

#include "rng.h"

static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#define GOLDEN 0x9e3779b97f4a7c15ULL

uint64_t rng_key(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b)
{
    uint64_t k = mix64(seed + GOLDEN);
    k = mix64(k ^ (purpose * GOLDEN));
    k = mix64(k ^ (a + 0x632be59bd9b4e019ULL));
    return mix64(k ^ (b + 0x8cb92ba72f3d8dd7ULL));
}

void rng_init(rng_t *r, uint64_t key)
{
    r->key = key;
    r->ctr = 0;
}

uint64_t rng_u64(rng_t *r)
{
    return mix64(r->key + (++r->ctr) * GOLDEN);
}

float rng_uniform(rng_t *r)
{
    return (float)(rng_u64(r) >> 40) * (1.0f / 16777216.0f);
}

uint64_t rng_below(rng_t *r, uint64_t n)
{
    /* Rejection sampling removes the modulo bias. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = rng_u64(r);
    while (x >= limit);
    return x % n;
}

double rng_normal(rng_t *r)
{
    /* 53-bit uniforms; u1 in (0, 1] so log() is finite. */
    double u1 = ((rng_u64(r) >> 11) + 1) * (1.0 / 9007199254740992.0);
    double u2 = (rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void rng_shuffle(rng_t *r, int32_t *idx, int64_t n)
{
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)rng_below(r, (uint64_t)i + 1);
        int32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
