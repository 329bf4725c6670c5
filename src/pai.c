/*
 * pai.c - pruning at initialisation (pai.h): SNIP's, SynFlow's, magnitude's
 * and GraSP's scores of theta0 and the one-shot (SynFlow: iterated) pruning
 * of each group down to its survivors.
 *
 * The gradients come from the model's own passes (net_forward, net_backward,
 * on the dense kernels: the reference products, the same bits on every
 * rank), so what a score is follows from the passes the trainer tests
 * against finite differences (tests/test_grad.c), and tests/test_arms.c
 * checks the scores themselves: SNIP against finite differences of the
 * loss, SynFlow's conservation (each layer's scores sum to R), GraSP's
 * Hessian-vector product (pai_hvp.c) against finite differences of
 * g . grad L along each coordinate (H is symmetric: another route to H g).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "pai.h"

/* Dropout off for the scoring passes (a forward without its generator keeps
 * no flags, and the backward would read stale ones); the layers' flags
 * saved into `saved` and put back by the caller. */
static void dropout_off(net_t *net, int *saved)
{
    for (int l = 0; l < net->n_layers; l++) {
        saved[l] = net->layers[l].dropout;
        net->layers[l].dropout = 0;
    }
}

static void dropout_on(net_t *net, const int *saved)
{
    for (int l = 0; l < net->n_layers; l++)
        net->layers[l].dropout = saved[l];
}

/* The logits' deltas of the mean cross-entropy of softmax(logits / T) over
 * b rows: (softmax(z / T) - onehot) / (T b), in double, into net->deltas. */
static void tempered_deltas(net_t *net, const uint8_t *y, int b, double T)
{
    const net_layer_t *L = &net->layers[net->n_layers - 1];
    const float *z = net->acts + L->act_off;
    float *d = net->deltas + L->act_off;
    int k = (int)L->out;
    for (int i = 0; i < b; i++) {
        const float *zi = z + (size_t)i * k;
        double mx = zi[0], sum = 0;
        for (int j = 1; j < k; j++)
            mx = zi[j] > mx ? zi[j] : mx;
        for (int j = 0; j < k; j++)
            sum += exp(((double)zi[j] - mx) / T);
        for (int j = 0; j < k; j++)
            d[(size_t)i * k + j] = (float)((exp(((double)zi[j] - mx) / T) / sum - (j == y[i])) / (T * b));
    }
}

/* g = dL/dtheta at net->params of the batch's mean loss, summed piece by
 * piece (each piece's mean gradient weighted by its share of the rows), in
 * double. T = 0: L the cross-entropy as training computes it (net_loss:
 * SNIP); T > 0: the cross-entropy of softmax(logits / T) (GraSP). */
static int batch_grad(net_t *net, const pai_batch_t *batch, int piece, double T, double *g)
{
    size_t dim = (size_t)net->in_c * net->in_h * net->in_w;
    memset(g, 0, net->n_params * sizeof *g);
    for (int r = 0; r < batch->n; r += piece) {
        int b = batch->n - r < piece ? batch->n - r : piece;
        const float *x = batch->x + (size_t)r * dim;
        net_forward(net, x, b, NULL);
        if (T > 0)
            tempered_deltas(net, batch->y + r, b, T);
        else
            net_loss(net, batch->y + r, b, NULL, 1); /* deltas: (softmax - onehot) / b */
        if (net_backward(net, x, b))
            return TS_ERUN;
        double w = (double)b / (double)batch->n;
        for (size_t i = 0; i < net->n_params; i++)
            g[i] += w * (double)net->grads[i];
    }
    return 0;
}

/* GraSP: g = dL/dtheta at theta (L at temperature T) on the model's passes,
 * then hg = H g for the weights' part of g (biases are not pruned, so the
 * direction has none: as Wang et al.'s and Synaptic-Flow's, which take both
 * vectors over the prunable weights only), exactly (pai_hvp). */
static int grasp_hvp(net_t *net, const float *theta, const pai_batch_t *batch, int piece, double T,
                     double *g, double *hg)
{
    int rc;
    memcpy(net->params, theta, net->n_params * sizeof(float));
    if ((rc = batch_grad(net, batch, piece, T, g)))
        return rc;
    return pai_hvp(net, theta, g, batch, piece, T, hg); /* reads g's weights only */
}

/* SynFlow: g = dR/dtheta at params = |theta| * mask, biases 0, for R the sum
 * of the outputs of one all-ones input (every activation is then >= 0, so
 * the ReLUs pass everything: R is a polynomial in the weights). */
static int synflow_grad(net_t *net, const float *theta, double *g)
{
    size_t dim = (size_t)net->in_c * net->in_h * net->in_w;
    float *ones = malloc(dim * sizeof *ones);
    if (!ones)
        return ts_fail(TS_ERUN, "out of memory scoring synflow");
    for (size_t i = 0; i < dim; i++)
        ones[i] = 1.0f;
    for (size_t i = 0; i < net->n_weights; i++)
        net->params[i] = fabsf(theta[i]) * net->mask[i];
    memset(net->params + net->n_weights, 0, (net->n_params - net->n_weights) * sizeof(float));
    int rc = net_set_kernels(net, KERNELS_DENSE) < 0 ? TS_ERUN : 0;
    if (!rc) {
        net_forward(net, ones, 1, NULL);
        const net_layer_t *T = &net->layers[net->n_layers - 1];
        for (size_t j = 0; j < T->out; j++) /* dR/d(output) = 1 */
            net->deltas[T->act_off + j] = 1.0f;
        rc = net_backward(net, ones, 1) ? TS_ERUN : 0;
    }
    for (size_t i = 0; !rc && i < net->n_params; i++)
        g[i] = (double)net->grads[i];
    free(ones);
    return rc;
}

size_t pai_scratch(int method, size_t n_params)
{
    return method == PAI_GRASP ? 2 * n_params : n_params;
}

int pai_scores(const pai_opts_t *o, net_t *net, const float *theta, const pai_batch_t *batch, int piece,
               double *g, float *score)
{
    int saved[NET_MAX_LAYERS], rc = 0;
    size_t W = net->n_weights, P = net->n_params;
    if (o->method == PAI_MAGNITUDE) {
        for (size_t i = 0; i < W; i++)
            score[i] = fabsf(theta[i]);
        return 0;
    }
    dropout_off(net, saved);
    if (o->method == PAI_SYNFLOW) {
        rc = synflow_grad(net, theta, g);
        for (size_t i = 0; !rc && i < W; i++)
            score[i] = (float)fabs((double)net->params[i] * g[i]);
    } else {
        memcpy(net->params, theta, P * sizeof(float));
        rc = net_set_kernels(net, KERNELS_DENSE) < 0 ? TS_ERUN : 0;
        if (!rc && o->method == PAI_SNIP)
            rc = batch_grad(net, batch, piece, 0, g);
        for (size_t i = 0; !rc && o->method == PAI_SNIP && i < W; i++)
            score[i] = (float)fabs((double)theta[i] * g[i]);
        if (!rc && o->method == PAI_GRASP)
            rc = grasp_hvp(net, theta, batch, piece, o->temperature, g, g + P);
        /* Synaptic-Flow's convention (Pruners/pruners.py, class GraSP: the
         * score theta * Hg, the masks keeping the scores above the
         * threshold), which is Wang et al.'s: their S = -theta * Hg with the
         * largest S removed. Here the lowest scores go, so theta * Hg. */
        for (size_t i = 0; !rc && o->method == PAI_GRASP && i < W; i++)
            score[i] = (float)((double)theta[i] * g[P + i]);
    }
    dropout_on(net, saved);
    return rc;
}

/* Survivors of a group now (the mask's). */
static size_t group_alive(const net_t *net, const pai_group_t *gr)
{
    size_t n = 0;
    for (int s = 0; s < gr->n_segs; s++)
        n += prune_alive(net->mask, gr->segs[s]);
    return n;
}

int pai_mask(const pai_opts_t *o, net_t *net, const float *theta, const pai_batch_t *batch, int piece,
             const pai_group_t *groups, int n_groups, double *g, float *score)
{
    int rc;
    for (size_t i = 0; i < net->n_params; i++)
        net->mask[i] = 1.0f;
    size_t len[NET_MAX_LAYERS];
    for (int k = 0; k < n_groups; k++)
        len[k] = group_alive(net, &groups[k]);
    int steps = o->method == PAI_SYNFLOW ? o->iterations : 1;
    for (int it = 1; it <= steps; it++) {
        if ((rc = pai_scores(o, net, theta, batch, piece, g, score)))
            return rc;
        for (int k = 0; k < n_groups; k++) {
            const pai_group_t *gr = &groups[k];
            /* the kept fraction after step it: (keep / len)^(it / steps), exactly keep at the end */
            size_t want = gr->keep;
            if (it < steps && len[k] > 0) {
                double f = pow((double)gr->keep / (double)len[k], (double)it / steps);
                want = (size_t)floor(f * (double)len[k] + 0.5);
                want = want < gr->keep ? gr->keep : want;
            }
            size_t alive = group_alive(net, gr);
            if (alive > want &&
                (rc = prune_scores(score, net->mask, gr->segs, gr->n_segs, alive - want)))
                return rc;
        }
    }
    return 0;
}
