/*
 * pai_hvp.c - GraSP's Hessian-vector product (pai.h: pai_hvp), exactly: one
 * R-operator pass (Pearlmutter, "Fast Exact Multiplication by the Hessian",
 * 1994) over the net's layer table, on the kernels the model's passes use
 * (blas_sgemm, conv_forward, conv_backward, the 2x2 pooling).
 *
 * Why not a finite difference of gradients: the float passes' rounding needs
 * a step of about 1e-3 of theta, and at that size many ReLUs (and pooling
 * maxima) change side in a 100-image batch; each change moves the gradient
 * by a jump that the difference divides by the step, so H g comes out wrong
 * on whole rows (against PyTorch's double backward: correlation 0.5 at a step
 * of 1e-3, exact only at 1e-7, below float's resolution). The R pass
 * differentiates the net as its passes do, ReLU' and the pooling's choice
 * fixed at theta, which is what autograd's double backward computes.
 *
 * For a direction v over the weights (biases 0) the forward pass carries
 * R{h} = d h / d eps of theta + eps v beside each layer's output h:
 *     fc, conv   R{a} = W R{h_in} + V h_in;  R{h} = relu'(a) R{a}
 *     pool       R{h} = R{h_in} at the maximum's index
 * and the backward carries R{d} beside d = dL/dh:
 *     logits     d = (p - onehot) / (T n), p = softmax(z / T);
 *                R{d} = (p * R{z} - p (p . R{z})) / (T^2 n)
 *     fc, conv   R{dW} = R{d_a} h_in^T + d_a R{h_in}^T,  R{db} = sum R{d_a},
 *                R{d_in} = W^T R{d_a} + V^T d_a   (d_a = relu'(a) d)
 * and H v is R{grad}: the weights' R{dW} and the biases' R{db}. Every
 * product is a plain call on one thread, so the bits do not depend on the
 * rank or the thread count.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "conv.h"
#include "err.h"
#include "pai.h"

/* A pass's buffers for b rows: each layer's output h and its R{h}, the
 * pools' maxima, and the backward's scratch (sizes: hvp_sizes). */
typedef struct {
    float *h[NET_MAX_LAYERS], *rh[NET_MAX_LAYERS]; /* [b][L->out] */
    int32_t *arg[NET_MAX_LAYERS];                  /* pools: [b][L->out] */
    float *d, *rd, *dp, *rdp, *tmp;                /* [b][largest layer] */
    float *dw, *db, *zb;                           /* [largest n_w], [largest out_c] x 2 */
    float *col;                                    /* im2col of one image, largest */
    float *v;                                      /* [n_weights] the direction */
    void *block;
} hvp_buf_t;

/* What the buffers' sizes follow from: per row, the layers' outputs (twice:
 * h and R{h}) and the pools' maxima; the largest layer (its input too), the
 * largest weight block, output channels and im2col. */
typedef struct {
    size_t acts, args, big, nw, oc, col;
} hvp_dims_t;

static hvp_dims_t hvp_dims(const net_t *net)
{
    hvp_dims_t d = {0, 0, (size_t)net->in_c * net->in_h * net->in_w, 1, 1, 1};
    for (int l = 0; l < net->n_layers; l++) {
        const net_layer_t *L = &net->layers[l];
        d.acts += 2 * L->out;
        d.args += L->kind == NET_POOL ? L->out : 0;
        d.big = L->out > d.big ? L->out : d.big;
        d.nw = L->n_w > d.nw ? L->n_w : d.nw;
        d.oc = (size_t)L->out_c > d.oc ? (size_t)L->out_c : d.oc;
        if (L->kind == NET_CONV) {
            size_t c = conv_col_floats(L->in_c, L->in_h, L->in_w);
            d.col = c > d.col ? c : d.col;
        }
    }
    return d;
}

/* The floats (and ints: the pools' maxima) of the buffers for b rows. */
static void hvp_sizes(const net_t *net, int b, size_t *floats, size_t *ints)
{
    hvp_dims_t d = hvp_dims(net);
    *floats = (size_t)b * (d.acts + 5 * d.big) + d.nw + 2 * d.oc + d.col + net->n_weights;
    *ints = (size_t)b * d.args;
}

double pai_hvp_bytes(const net_t *layout, int rows)
{
    size_t f, i;
    hvp_sizes(layout, rows, &f, &i);
    return (double)f * sizeof(float) + (double)i * sizeof(int32_t);
}

/* B's buffers for b rows of net, in one block (B->block); 0 or TS_ERUN. */
static int hvp_alloc(hvp_buf_t *B, const net_t *net, int b)
{
    size_t nf, ni;
    hvp_dims_t d = hvp_dims(net);
    hvp_sizes(net, b, &nf, &ni);
    memset(B, 0, sizeof *B);
    float *p = ts_malloc(nf * sizeof(float) + ni * sizeof(int32_t) + 1);
    if (!p)
        return TS_ERUN;
    memset(p, 0, nf * sizeof(float));
    B->block = p;
    int32_t *q = (int32_t *)(p + nf);
    for (int l = 0; l < net->n_layers; l++) {
        const net_layer_t *L = &net->layers[l];
        B->h[l] = p, p += (size_t)b * L->out;
        B->rh[l] = p, p += (size_t)b * L->out;
        if (L->kind == NET_POOL)
            B->arg[l] = q, q += (size_t)b * L->out;
    }
    float **s[] = {&B->d, &B->rd, &B->dp, &B->rdp, &B->tmp};
    for (size_t k = 0; k < sizeof s / sizeof s[0]; k++)
        *s[k] = p, p += (size_t)b * d.big;
    B->dw = p, p += d.nw;
    B->db = p, p += d.oc;
    B->zb = p, p += d.oc; /* zero biases: R{a} has none */
    B->col = p, p += d.col;
    B->v = p;
    return 0;
}

/* y [b][out] = x [b][in] W^T (+ bias when not NULL; beta 1 adds to y). */
static void fc_prod(const net_layer_t *L, const float *x, const float *w, const float *bias, int b, float beta,
                    float *y)
{
    if (bias)
        for (int i = 0; i < b; i++)
            memcpy(y + (size_t)i * L->out, bias, L->out * sizeof *y), beta = 1;
    blas_sgemm(false, true, b, (int)L->out, (int)L->in, 1.0f, x, (int)L->in, w, (int)L->in, beta, y,
               (int)L->out);
}

/* The forward pass of layer l at its weights w and R-pass with direction v:
 * h and rh from x and rx (NULL: the input, fixed). */
static void layer_forward(hvp_buf_t *B, const net_layer_t *L, int l, const float *w, const float *bias,
                          const float *v, const float *x, const float *rx, int b)
{
    float *h = B->h[l], *rh = B->rh[l];
    size_t n = (size_t)b * L->out;
    if (L->kind == NET_POOL) {
        conv_pool_forward(x, b, L->in_c, L->in_h, L->in_w, h, B->arg[l]);
        for (size_t k = 0; k < n; k++)
            rh[k] = rx ? rx[B->arg[l][k]] : 0;
        return;
    }
    if (L->kind == NET_CONV) {
        conv_forward(x, w, bias, b, L->in_c, L->out_c, L->in_h, L->in_w, B->col, h);
        conv_forward(x, v, B->zb, b, L->in_c, L->out_c, L->in_h, L->in_w, B->col, rh);
        if (rx) {
            conv_forward(rx, w, B->zb, b, L->in_c, L->out_c, L->in_h, L->in_w, B->col, B->tmp);
            for (size_t k = 0; k < n; k++)
                rh[k] += B->tmp[k];
        }
    } else {
        fc_prod(L, x, w, bias, b, 0, h);
        fc_prod(L, x, v, NULL, b, 0, rh);
        if (rx)
            fc_prod(L, rx, w, NULL, b, 1, rh);
    }
    for (size_t k = 0; L->relu && k < n; k++)
        if (!(h[k] > 0))
            h[k] = 0, rh[k] = 0;
}

/* The logits' d and R{d} of the mean cross-entropy of softmax(z / T) over n
 * rows (this piece's b of them), into B->d and B->rd. */
static void loss_r(hvp_buf_t *B, const net_layer_t *L, int l, const uint8_t *y, int b, double T, int n)
{
    int k = (int)L->out;
    for (int i = 0; i < b; i++) {
        const float *z = B->h[l] + (size_t)i * k, *rz = B->rh[l] + (size_t)i * k;
        double mx = z[0], sum = 0, pr = 0;
        for (int j = 1; j < k; j++)
            mx = z[j] > mx ? z[j] : mx;
        for (int j = 0; j < k; j++)
            sum += exp(((double)z[j] - mx) / T);
        for (int j = 0; j < k; j++)
            pr += exp(((double)z[j] - mx) / T) / sum * rz[j];
        for (int j = 0; j < k; j++) {
            double p = exp(((double)z[j] - mx) / T) / sum;
            B->d[(size_t)i * k + j] = (float)((p - (j == y[i])) / (T * n));
            B->rd[(size_t)i * k + j] = (float)(p * (rz[j] - pr) / (T * T * n));
        }
    }
}

/* hv [n] += a [n] (float) in double. */
static void add_to(double *hv, const float *a, size_t n)
{
    for (size_t k = 0; k < n; k++)
        hv[k] += (double)a[k];
}

/* Layer l's backward and R-backward: B->d, B->rd (at its output, ReLU'
 * applied) to its R{dW} and R{db} added into hw and hb, and d, rd at its
 * input into B->dp, B->rdp (not for the first layer, `first`). x, rx: its
 * input and R{input} (rx NULL: 0). */
static void layer_backward(hvp_buf_t *B, const net_layer_t *L, int l, const float *w, const float *v,
                           const float *x, const float *rx, int b, int first, double *hw, double *hb)
{
    int ic = L->in_c, oc = L->out_c, hh = L->in_h, ww = L->in_w;
    size_t nin = (size_t)b * L->in;
    if (L->kind == NET_POOL) {
        conv_pool_backward(B->d, B->arg[l], b, ic, hh, ww, B->dp);
        conv_pool_backward(B->rd, B->arg[l], b, ic, hh, ww, B->rdp);
        return;
    }
    if (L->kind == NET_CONV) {
        /* R{dW} = rd (x) x + d (x) rx; R{d_in} = W^T rd + V^T d; d_in = W^T d */
        conv_backward(x, w, B->rd, b, ic, oc, hh, ww, B->col, B->dw, B->db, first ? NULL : B->rdp);
        add_to(hw, B->dw, L->n_w), add_to(hb, B->db, (size_t)oc);
        if (rx) {
            conv_backward(rx, w, B->d, b, ic, oc, hh, ww, B->col, B->dw, B->db, NULL);
            add_to(hw, B->dw, L->n_w);
        }
        if (first)
            return;
        conv_backward(x, v, B->d, b, ic, oc, hh, ww, B->col, B->dw, B->db, B->tmp);
        for (size_t k = 0; k < nin; k++)
            B->rdp[k] += B->tmp[k];
        conv_backward(x, w, B->d, b, ic, oc, hh, ww, B->col, B->dw, B->db, B->dp);
        return;
    }
    int out = (int)L->out, in = (int)L->in;
    blas_sgemm(true, false, out, in, b, 1.0f, B->rd, out, x, in, 0.0f, B->dw, in);
    if (rx)
        blas_sgemm(true, false, out, in, b, 1.0f, B->d, out, rx, in, 1.0f, B->dw, in);
    add_to(hw, B->dw, L->n_w);
    for (int i = 0; i < b; i++)
        add_to(hb, B->rd + (size_t)i * out, (size_t)out);
    if (first)
        return;
    blas_sgemm(false, false, b, in, out, 1.0f, B->rd, out, w, in, 0.0f, B->rdp, in);
    blas_sgemm(false, false, b, in, out, 1.0f, B->d, out, v, in, 1.0f, B->rdp, in);
    blas_sgemm(false, false, b, in, out, 1.0f, B->d, out, w, in, 0.0f, B->dp, in);
}

/* One piece of b rows: its share (b of n rows) of H v added into hv. */
static void hvp_piece(hvp_buf_t *B, const net_t *net, const float *theta, const float *x, const uint8_t *y,
                      int b, int n, double T, double *hv)
{
    int top = net->n_layers - 1;
    for (int l = 0; l <= top; l++) {
        const net_layer_t *L = &net->layers[l];
        layer_forward(B, L, l, theta + L->w_off, theta + L->b_off, B->v + L->w_off, l ? B->h[l - 1] : x,
                      l ? B->rh[l - 1] : NULL, b);
    }
    loss_r(B, &net->layers[top], top, y, b, T, n);
    for (int l = top; l >= 0; l--) {
        const net_layer_t *L = &net->layers[l];
        if (l < top && L->relu) /* d and rd arrive at its output: through ReLU' */
            for (size_t k = 0; k < (size_t)b * L->out; k++)
                if (!(B->h[l][k] > 0))
                    B->d[k] = 0, B->rd[k] = 0;
        layer_backward(B, L, l, theta + L->w_off, B->v + L->w_off, l ? B->h[l - 1] : x, l ? B->rh[l - 1] : NULL,
                       b, l == 0, hv + L->w_off, hv + L->b_off);
        float *t = B->d;
        B->d = B->dp, B->dp = t;
        t = B->rd, B->rd = B->rdp, B->rdp = t;
    }
}

int pai_hvp(const net_t *net, const float *theta, const double *v, const pai_batch_t *batch, int piece, double T,
            double *hv)
{
    hvp_buf_t B;
    int b0 = batch->n < piece ? batch->n : piece;
    if (hvp_alloc(&B, net, b0 > 0 ? b0 : 1))
        return TS_ERUN;
    size_t dim = (size_t)net->in_c * net->in_h * net->in_w;
    for (size_t i = 0; i < net->n_weights; i++)
        B.v[i] = (float)v[i];
    memset(hv, 0, net->n_params * sizeof *hv);
    for (int r = 0; r < batch->n; r += piece) {
        int b = batch->n - r < piece ? batch->n - r : piece;
        hvp_piece(&B, net, theta, batch->x + (size_t)r * dim, batch->y + r, b, batch->n, T, hv);
    }
    free(B.block);
    return 0;
}
