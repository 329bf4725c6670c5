/*
 * pai.h - pruning at initialisation: a mask for theta0 from a score of each
 * weight computed before any training, the baselines of Frankle, Dziugaite,
 * Roy & Carbin, "Pruning Neural Networks at Initialization: Why Are We
 * Missing the Mark?" (ICLR 2021):
 *   PAI_SNIP       |theta * dL/dtheta|, L the mean cross-entropy of a scoring
 *                  batch (Lee, Ajanthan & Torr, "SNIP", ICLR 2019)
 *   PAI_SYNFLOW    |theta * dR/dtheta|, R the sum of the outputs for an
 *                  all-ones input through |theta| (biases 0: theta0's), no
 *                  data; pruned in `iterations` steps, the kept fraction of
 *                  each group going down exponentially to its target
 *                  (Tanaka, Kunin, Yamins & Ganguli, "SynFlow", NeurIPS 2020)
 *   PAI_MAGNITUDE  |theta|
 * The lowest scores are pruned, ties to the lower index (prune_scores). A
 * group is a set of layers pruned under one threshold down to `keep`
 * survivors: one group over every pruned layer is the papers' global scope.
 *
 * The module knows the model (net.h) and pruning, nothing of ranks, files or
 * the sweep: the caller gives theta0, the scoring batch and the counts.
 */
#ifndef TS_PAI_H
#define TS_PAI_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "prune.h"

enum { PAI_SNIP, PAI_SYNFLOW, PAI_MAGNITUDE };

typedef struct {
    prune_seg_t segs[NET_MAX_LAYERS];
    int n_segs;
    size_t keep; /* survivors the group ends with */
} pai_group_t;

/* A scoring batch: n rows of inputs x [n][dim] and labels y [n]. */
typedef struct {
    const float *x;
    const uint8_t *y;
    int n;
} pai_batch_t;

/*
 * Scores of every weight of net at params theta (n_params) into score
 * [n_weights]: PAI_SNIP on batch (in pieces of at most `piece` rows: the
 * net's training batch), PAI_SYNFLOW with theta's absolute values times
 * net->mask (its prunable weights; biases are taken as 0), PAI_MAGNITUDE
 * |theta|. Uses net's params, grads and activations (the net is left dense,
 * its params holding what the pass used) and g [n_params] doubles of
 * scratch. Dropout is off while scoring. Returns 0, or TS_ERUN (net_backward
 * failed: its message).
 */
int pai_scores(int method, net_t *net, const float *theta, const pai_batch_t *batch, int piece,
               double *g, float *score);

/*
 * The mask of theta pruned at initialisation into net->mask (biases 1): the
 * scores of `method` (SynFlow: `iterations` steps of scoring and pruning on
 * the schedule above), each group down to its keep. score: n_weights floats,
 * g: n_params doubles, both scratch. Returns 0 or TS_ERUN.
 */
int pai_mask(int method, net_t *net, const float *theta, const pai_batch_t *batch, int piece,
             const pai_group_t *groups, int n_groups, int iterations, double *g, float *score);

#endif
