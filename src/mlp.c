/*
 * mlp.c - forward and backward passes of the MLP through blas_sgemm.
 *
 * Forward of a layer: Z = A W^T + b, done as "copy b into every row of Z,
 * then sgemm with beta = 1" (the bias rides in the product's own pass over
 * Z), then ReLU in place (not on the last layer).
 * Backward: dW = dZ^T A, dA = dZ W; then one pass over dA turns it into dZ
 * of the layer below (zero where that activation was not positive) and sums
 * its columns into that layer's bias gradient. The top layer's bias gradient
 * is summed from the loss's deltas.
 *
 * Nothing here allocates: every buffer was sized by mlp_create.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "err.h"
#include "mlp.h"

int mlp_create(mlp_t *m, int in, const int *hidden, int n_hidden, int classes, int max_batch)
{
    memset(m, 0, sizeof *m);
    m->n_layers = n_hidden + 1;
    m->max_batch = max_batch;
    size_t off = 0, act = 0;
    m->act_off = ts_calloc((size_t)m->n_layers, sizeof *m->act_off);
    if (!m->act_off)
        return TS_ERUN;
    for (int l = 0; l < m->n_layers; l++) {
        mlp_layer_t *L = &m->layers[l];
        snprintf(L->name, sizeof L->name, "fc%d", l + 1);
        L->in = l == 0 ? in : hidden[l - 1];
        L->out = l == n_hidden ? classes : hidden[l];
        L->w_off = off;
        off += (size_t)L->in * L->out;
        L->b_off = off;
        off += (size_t)L->out;
        m->n_weights += (size_t)L->in * L->out;
        m->act_off[l] = act;
        act += (size_t)max_batch * L->out;
    }
    m->n_params = off;
    m->params = ts_calloc(off, sizeof(float));
    m->grads = ts_calloc(off, sizeof(float));
    m->mask = ts_calloc(off, sizeof(float));
    m->acts = ts_calloc(act, sizeof(float));
    m->deltas = ts_calloc(act, sizeof(float));
    if (!m->params || !m->grads || !m->mask || !m->acts || !m->deltas) {
        mlp_free(m);
        return TS_ERUN;
    }
    for (size_t i = 0; i < off; i++)
        m->mask[i] = 1.0f;
    return 0;
}

void mlp_free(mlp_t *m)
{
    free(m->params);
    free(m->grads);
    free(m->mask);
    free(m->acts);
    free(m->deltas);
    free(m->act_off);
    memset(m, 0, sizeof *m);
}

void mlp_init_params(const mlp_t *m, float *dst, uint64_t seed, int purpose, uint64_t salt)
{
    for (int l = 0; l < m->n_layers; l++) {
        const mlp_layer_t *L = &m->layers[l];
        rng_t r;
        rng_init(&r, rng_key(seed, (uint64_t)purpose, (uint64_t)l, salt));
        double std = sqrt(2.0 / (L->in + L->out));
        float *w = dst + L->w_off;
        for (size_t i = 0; i < (size_t)L->in * L->out; i++)
            w[i] = (float)(std * rng_normal(&r));
        memset(dst + L->b_off, 0, (size_t)L->out * sizeof(float));
    }
}

const float *mlp_forward(mlp_t *m, const float *x, int b)
{
    const float *a = x;
    for (int l = 0; l < m->n_layers; l++) {
        const mlp_layer_t *L = &m->layers[l];
        float *z = m->acts + m->act_off[l];
        const float *bias = m->params + L->b_off;
        for (int i = 0; i < b; i++)
            memcpy(z + (size_t)i * L->out, bias, (size_t)L->out * sizeof(float));
        blas_sgemm(false, true, b, L->out, L->in, 1.0f, a, L->in, m->params + L->w_off, L->in,
                   1.0f, z, L->out);
        if (l < m->n_layers - 1)
            for (size_t i = 0; i < (size_t)b * L->out; i++)
                z[i] = z[i] > 0 ? z[i] : 0;
        a = z;
    }
    return a;
}

double mlp_loss(mlp_t *m, const uint8_t *y, int b, int64_t *correct, int want_grad)
{
    const mlp_layer_t *L = &m->layers[m->n_layers - 1];
    const float *logits = m->acts + m->act_off[m->n_layers - 1];
    float *d = m->deltas + m->act_off[m->n_layers - 1];
    int k = L->out;
    double loss = 0;
    int64_t ok = 0;
    float inv_b = 1.0f / (float)b;
    for (int i = 0; i < b; i++) {
        const float *z = logits + (size_t)i * k;
        int arg = 0;
        float mx = z[0];
        for (int j = 1; j < k; j++)
            if (z[j] > mx) {
                mx = z[j];
                arg = j;
            }
        float sum = 0;
        float *di = d + (size_t)i * k;
        if (want_grad) /* keep each exponential for the gradient: one expf per logit */
            for (int j = 0; j < k; j++) {
                di[j] = expf(z[j] - mx);
                sum += di[j];
            }
        else
            for (int j = 0; j < k; j++)
                sum += expf(z[j] - mx);
        loss += (double)(logf(sum) + mx - z[y[i]]);
        ok += arg == y[i];
        if (want_grad) {
            float inv = 1.0f / sum;
            for (int j = 0; j < k; j++)
                di[j] = di[j] * inv * inv_b;
            di[y[i]] -= inv_b;
        }
    }
    if (correct)
        *correct = ok;
    return loss;
}

/* db[j] = sum over the b rows of dz[i][j], rows in order. */
static void column_sums(const float *restrict dz, int b, int n, float *restrict db)
{
    memset(db, 0, (size_t)n * sizeof(float));
    for (int i = 0; i < b; i++)
        for (int j = 0; j < n; j++)
            db[j] += dz[(size_t)i * n + j];
}

/* ReLU' and the bias gradient in one pass: dz = a > 0 ? dz : 0 over [b][n],
 * and db = its column sums (rows in order, as column_sums). */
static void relu_grad_sums(float *restrict dz, const float *restrict a, int b, int n,
                           float *restrict db)
{
    memset(db, 0, (size_t)n * sizeof(float));
    for (int i = 0; i < b; i++) {
        float *restrict d = dz + (size_t)i * n;
        const float *restrict ai = a + (size_t)i * n;
        for (int j = 0; j < n; j++) {
            d[j] = ai[j] > 0 ? d[j] : 0;
            db[j] += d[j];
        }
    }
}

void mlp_backward(mlp_t *m, const float *x, int b)
{
    int top = m->n_layers - 1;
    column_sums(m->deltas + m->act_off[top], b, m->layers[top].out,
                m->grads + m->layers[top].b_off);
    for (int l = top; l >= 0; l--) {
        const mlp_layer_t *L = &m->layers[l];
        const float *dz = m->deltas + m->act_off[l];
        const float *a = l ? m->acts + m->act_off[l - 1] : x;
        blas_sgemm(true, false, L->out, L->in, b, 1.0f, dz, L->out, a, L->in, 0.0f,
                   m->grads + L->w_off, L->in);
        if (l == 0)
            break;
        /* dA of the layer below, then its ReLU' and bias gradient in one pass */
        float *dprev = m->deltas + m->act_off[l - 1];
        blas_sgemm(false, false, b, L->in, L->out, 1.0f, dz, L->out, m->params + L->w_off, L->in,
                   0.0f, dprev, L->in);
        relu_grad_sums(dprev, m->acts + m->act_off[l - 1], b, L->in,
                       m->grads + m->layers[l - 1].b_off);
    }
}
