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
 *   PAI_GRASP      theta * (H g), g = dL/dtheta and H the Hessian of L, the
 *                  mean cross-entropy of softmax(logits / T) on SNIP's
 *                  scoring batch, both over the weights (Wang, Zhang & Grosse,
 *                  "Picking Winning Tickets Before Training by Preserving
 *                  Gradient Flow", ICLR 2020; T = 200 theirs): the paper's
 *                  score is -theta * Hg with its largest removed, the same
 *                  masks as pruning the lowest theta * Hg (Synaptic-Flow's
 *                  convention). Signed: no absolute value.
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

enum { PAI_SNIP, PAI_SYNFLOW, PAI_MAGNITUDE, PAI_GRASP };

/* How a mask is scored: the method, and what it reads of the job. */
typedef struct {
    int method;         /* PAI_* */
    int iterations;     /* PAI_SYNFLOW: steps of scoring and pruning */
    double temperature; /* PAI_GRASP: T of softmax(logits / T) */
} pai_opts_t;

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
 * H v for the Hessian H of the mean cross-entropy of softmax(logits / T) of
 * batch at params theta (in pieces of at most `piece` rows), v over the
 * weights (v's first n_weights entries are read; the biases' direction is 0),
 * into hv [n_params]: exactly, by an R-operator pass on the model's kernels
 * with ReLU' and the pooling's maxima fixed at theta (pai_hvp.c), as
 * autograd's double backward. net gives the layer table only (not changed;
 * dropout ignored). Allocates pai_hvp_bytes(net, min(piece, batch->n)) and
 * frees it. Returns 0 or TS_ERUN (out of memory).
 */
int pai_hvp(const net_t *net, const float *theta, const double *v, const pai_batch_t *batch, int piece, double T,
            double *hv);
double pai_hvp_bytes(const net_t *layout, int rows);

/* The doubles of scratch pai_scores and pai_mask need for `method` on a net
 * of n_params parameters: n_params, GraSP 2 n_params. */
size_t pai_scratch(int method, size_t n_params);

/*
 * Scores of every weight of net at params theta (n_params) into score
 * [n_weights] by o->method: PAI_SNIP and PAI_GRASP on batch (in pieces of at
 * most `piece` rows: the net's training batch), PAI_SYNFLOW with theta's
 * absolute values times net->mask (its prunable weights; biases are taken as
 * 0), PAI_MAGNITUDE |theta|. Uses net's params, grads and activations (the
 * net is left dense; its params hold theta, SynFlow's |theta| * mask) and g,
 * pai_scratch(method) doubles: on return SNIP's and GraSP's gradient g
 * [n_params] (GraSP's at temperature T), then GraSP's H g [n_params] (its
 * weights' part; the biases' rows of H times g too). Dropout is off while
 * scoring. Returns 0, or TS_ERUN (net_backward failed: its message).
 */
int pai_scores(const pai_opts_t *o, net_t *net, const float *theta, const pai_batch_t *batch, int piece,
               double *g, float *score);

/*
 * The mask of theta pruned at initialisation into net->mask (biases 1): the
 * scores of o->method (SynFlow: o->iterations steps of scoring and pruning on
 * the schedule above), each group down to its keep. score: n_weights floats,
 * g: pai_scratch(method) doubles, both scratch. Returns 0 or TS_ERUN.
 */
int pai_mask(const pai_opts_t *o, net_t *net, const float *theta, const pai_batch_t *batch, int piece,
             const pai_group_t *groups, int n_groups, double *g, float *score);

#endif
