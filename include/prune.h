/*
 * prune.h - magnitude pruning and random pruning of a float mask.
 *
 * A segment is a range [off, off + len) of the parameter block (one layer's
 * weights). Counts are exact: prune_count(alive, q) = round(q * alive), and
 * among equal magnitudes the lower index goes first, so the result is fully
 * deterministic.
 */
#ifndef TS_PRUNE_H
#define TS_PRUNE_H

#include <stddef.h>

#include "rng.h"

typedef struct {
    size_t off, len;
} prune_seg_t;

/* round(q * alive), halves away from zero. */
size_t prune_count(size_t alive, double q);
/* Active entries (mask != 0) in a segment. */
size_t prune_alive(const float *mask, prune_seg_t seg);
/* Set mask = 0 for the `count` active entries of smallest |w| over all the
 * segments together (one segment: layer-wise; all layers: global).
 * Returns 0, or TS_ERUN when out of memory. */
int prune_magnitude(const float *w, float *mask, const prune_seg_t *segs, int n_segs, size_t count);
/* Set mask = 0 for `count` active entries of seg chosen uniformly at random. */
int prune_random(float *mask, prune_seg_t seg, size_t count, rng_t *r);
/* The most scratch a pruning of n_weights weights allocates while it runs
 * (prune_magnitude's: a magnitude and an index a weight), in bytes. */
double prune_bytes(size_t n_weights);

#endif
