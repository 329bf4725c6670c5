/*
 * rng.h - counter-based random numbers.
 *
 * A stream is a 64-bit key; the n-th number of a stream is a pure function of
 * (key, n), so no stream depends on what else ran in the process. Keys are
 * derived with rng_key(seed, purpose, a, b): theta0 is rng_key(seed,
 * RNG_INIT, 0, 0), the data order rng_key(seed, RNG_DATA, epoch, 0), and so on.
 */
#ifndef TS_RNG_H
#define TS_RNG_H

#include <stdint.h>

enum rng_purpose {
    RNG_INIT = 1,    /* theta0 of a seed */
    RNG_DATA = 2,    /* minibatch order: a = epoch */
    RNG_REINIT = 3,  /* reinit control's weights (seed: the node's key) */
    RNG_RANDOM = 4,  /* random-mask control's mask (seed: the node's key) */
    RNG_DROPOUT = 5, /* dropout masks: a = arm, b = round (seed: the node's key) */
    RNG_NODE = 6,    /* a training's identity (graph.c): chained over its pruning history */
    RNG_SPLIT = 7,   /* the random validation split (seed: data.split_seed) */
    RNG_RESHUFFLE = 8, /* the reshuffle control's permutations: a = layer (seed: the node's key) */
    RNG_PAI = 9,     /* snip's and grasp's scoring batch: a = prune.pai_seed (seed: the trial's seed) */
    RNG_PAI_SHUFFLE = 10, /* prune.pai_shuffle's permutations: a = layer (seed: the node's key) */
};

typedef struct {
    uint64_t key;
    uint64_t ctr;
} rng_t;

/* The key of the stream for (seed, purpose: RNG_*, a, b): a hash, so
 * neighbouring arguments give unrelated streams. */
uint64_t rng_key(uint64_t seed, uint64_t purpose, uint64_t a, uint64_t b);
/* Start r at the first number of the stream `key`. */
void rng_init(rng_t *r, uint64_t key);
/* The stream's next 64 random bits. */
uint64_t rng_u64(rng_t *r);
/* Uniform in [0, 1) with 24 random bits (exact in float). */
float rng_uniform(rng_t *r);
/* Uniform integer in [0, n), unbiased. */
uint64_t rng_below(rng_t *r, uint64_t n);
/* Standard normal (Box-Muller on two uniforms; uses two counters). */
double rng_normal(rng_t *r);
/* Fisher-Yates shuffle of idx[0..n). */
void rng_shuffle(rng_t *r, int32_t *idx, int64_t n);

#endif
