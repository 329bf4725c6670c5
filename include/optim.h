/*
 * optim.h - Adam and SGD with momentum, fused with masking.
 *
 * One pass over the parameter block updates each parameter and, where the mask
 * is 0, forces the parameter, its gradient and its moments to exactly 0: a
 * pruned weight can never regrow through momentum. The update formulas are
 * PyTorch's (torch.optim.Adam, torch.optim.SGD with momentum, no dampening).
 * Adam runs in vector registers (AVX-512, AVX or SSE2, chosen at run time)
 * with the same operations in the same order as the scalar formula: results
 * are bit for bit the same on every path.
 */
#ifndef TS_OPTIM_H
#define TS_OPTIM_H

#include <stddef.h>
#include <stdint.h>

/* The optimizers (train.optimizer of a job file, config.h). */
enum { OPT_ADAM = 0, OPT_SGD = 1 };

typedef struct {
    int kind; /* OPT_ADAM or OPT_SGD */
    float lr, momentum, beta1, beta2, eps;
    int64_t t;  /* steps taken */
    float step, inv_sqrt_bc2; /* Adam's coefficients of step t (optim_tick): lr / (1 - beta1^t),
                                 1 / sqrt(1 - beta2^t) */
    size_t n;
    float *m;   /* [n] first moment (Adam) or momentum buffer (SGD) */
    float *v;   /* [n] second moment (Adam only) */
} optim_t;

/*
 * Make an optimizer of `kind` (OPT_ADAM or OPT_SGD) for a parameter block of n
 * floats: allocates its moment buffers (zeroed; o owns them, optim_free
 * releases them). Returns 0, or TS_ERUN when out of memory (o is then empty
 * and optim_free is still safe).
 */
int optim_create(optim_t *o, int kind, size_t n, float lr, float momentum, float beta1,
                 float beta2, float eps);
/* Zero the state (a new training run). */
void optim_reset(optim_t *o);
/* One step: params -= update(grads); then params, grads, moments *= mask. */
void optim_step(optim_t *o, float *params, float *grads, const float *mask);
/* A step in parts (a net whose layers keep their parameters in several
 * blocks: net_step): optim_tick once, then optim_update for each block: its
 * n parameters w and gradients g (masked as by optim_step; mask NULL: all 1),
 * whose moments are entries [off, off + n) of the optimizer's. Every
 * parameter gets the bits optim_step would give it. */
void optim_tick(optim_t *o);
void optim_update(optim_t *o, float *w, float *g, const float *mask, size_t off, size_t n);
/* Release the buffers; o is left empty. */
void optim_free(optim_t *o);
/* The vector path Adam takes on this CPU: "avx512f", "avx", "sse2" or "scalar"
 * (the same bits whichever; recorded with the results as provenance). */
const char *optim_kernel(void);

#endif
