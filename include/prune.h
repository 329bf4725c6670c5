/*
 * prune.h - pruning a float mask by a score of each weight (its magnitude, or
 * another criterion of its initial and final values), and at random.
 *
 * A segment is a range [off, off + len) of the parameter block (one layer's
 * weights). Counts are exact: prune_count(alive, q) = round(q * alive), and
 * among equal scores the lower index goes first, so the result is fully
 * deterministic.
 */
#ifndef TS_PRUNE_H
#define TS_PRUNE_H

#include <stddef.h>

#include "rng.h"

typedef struct {
    size_t off, len;
} prune_seg_t;

/*
 * prune.criterion: the score of a weight from w_init (the values its training
 * started from: theta0, or the rewind point) and w_final (its trained
 * values); the lowest scores are pruned (Zhou, Lan, Liu & Yosinski,
 * "Deconstructing Lottery Tickets", NeurIPS 2019). The values are the key's
 * choices, in order.
 */
enum {
    PRUNE_MAGNITUDE = 0,           /* |w_final| */
    PRUNE_MAGNITUDE_INCREASE,      /* |w_final| - |w_init| (signed) */
    PRUNE_MOVEMENT,                /* |w_final - w_init| */
    PRUNE_LARGE_INIT_LARGE_FINAL,  /* min(|w_init|, |w_final|): large at both */
    PRUNE_LARGE_INIT,              /* |w_init| */
    PRUNE_N_CRITERIA
};
/* The criteria's names, as [prune] criterion spells them (PRUNE_* order). */
extern const char *const prune_criterion_names[PRUNE_N_CRITERIA];

/* round(q * alive), halves away from zero. */
size_t prune_count(size_t alive, double q);
/* Active entries (mask != 0) in a segment. */
size_t prune_alive(const float *mask, prune_seg_t seg);
/* The score of a weight under criterion (PRUNE_*), in float: the same bits
 * wherever it is computed. */
float prune_score(int criterion, float w_init, float w_final);
/* Set mask = 0 for the `count` active entries of lowest prune_score (signed:
 * -2 goes before 1) over all the segments together (one segment: layer-wise;
 * several: one threshold over them), ties to the lower index. w_init and
 * w_final are parameter blocks; w_init is not read under PRUNE_MAGNITUDE (it
 * may be NULL). Returns 0, or TS_ERUN when out of memory. */
int prune_criterion(int criterion, const float *w_init, const float *w_final, float *mask,
                    const prune_seg_t *segs, int n_segs, size_t count);
/* prune_criterion under PRUNE_MAGNITUDE: the `count` active entries of
 * smallest |w| over the segments together. */
int prune_magnitude(const float *w, float *mask, const prune_seg_t *segs, int n_segs, size_t count);
/* Set mask = 0 for the `count` active entries of lowest score[i] (score
 * indexed as the parameter block's weights) over the segments together,
 * ties to the lower index: pruning by precomputed scores (pai.h). Returns
 * 0, or TS_ERUN when out of memory. */
int prune_scores(const float *score, float *mask, const prune_seg_t *segs, int n_segs, size_t count);
/* Set mask = 0 for `count` active entries of seg chosen uniformly at random. */
int prune_random(float *mask, prune_seg_t seg, size_t count, rng_t *r);
/* The most scratch a pruning of n_weights weights allocates while it runs
 * (prune_criterion's: a score and an index a weight), in bytes. */
double prune_bytes(size_t n_weights);

#endif
