/* optim.c - see optim.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"
#include "optim.h"

int optim_create(optim_t *o, int kind, size_t n, float lr, float momentum, float beta1,
                 float beta2, float eps)
{
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->lr = lr;
    o->momentum = momentum;
    o->beta1 = beta1;
    o->beta2 = beta2;
    o->eps = eps;
    o->n = n;
    o->m = ts_calloc(n, sizeof(float));
    o->v = kind == OPT_ADAM ? ts_calloc(n, sizeof(float)) : NULL;
    if (!o->m || (kind == OPT_ADAM && !o->v)) {
        optim_free(o);
        return TS_ERUN;
    }
    return 0;
}

void optim_reset(optim_t *o)
{
    o->t = 0;
    memset(o->m, 0, o->n * sizeof(float));
    if (o->v)
        memset(o->v, 0, o->n * sizeof(float));
}

static void adam_step(optim_t *o, float *restrict w, float *restrict g, const float *restrict mask)
{
    float *restrict m = o->m, *restrict v = o->v;
    const float b1 = o->beta1, b2 = o->beta2, eps = o->eps;
    /* PyTorch: w -= lr / bc1 * m / (sqrt(v) / sqrt(bc2) + eps) */
    const float step = (float)(o->lr / (1.0 - pow(o->beta1, (double)o->t)));
    const float inv_sqrt_bc2 = (float)(1.0 / sqrt(1.0 - pow(o->beta2, (double)o->t)));
    for (size_t i = 0; i < o->n; i++) {
        float k = mask[i];
        float gi = g[i] * k;
        float mi = b1 * m[i] + (1 - b1) * gi;
        float vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi * k;
        v[i] = vi * k;
        g[i] = gi;
        w[i] = (w[i] - step * mi / (sqrtf(vi) * inv_sqrt_bc2 + eps)) * k;
    }
}

static void sgd_step(optim_t *o, float *restrict w, float *restrict g, const float *restrict mask)
{
    float *restrict buf = o->m;
    const float mu = o->momentum, lr = o->lr;
    for (size_t i = 0; i < o->n; i++) {
        float k = mask[i];
        float gi = g[i] * k;
        /* PyTorch's first step sets buf = g, which equals mu * 0 + g */
        float bi = mu * buf[i] + gi;
        buf[i] = bi * k;
        g[i] = gi;
        w[i] = (w[i] - lr * bi) * k;
    }
}

void optim_step(optim_t *o, float *params, float *grads, const float *mask)
{
    o->t++;
    if (o->kind == OPT_ADAM)
        adam_step(o, params, grads, mask);
    else
        sgd_step(o, params, grads, mask);
}

void optim_free(optim_t *o)
{
    free(o->m);
    free(o->v);
    o->m = o->v = NULL;
}
