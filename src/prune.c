/* prune.c - see prune.h. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "err.h"
#include "prune.h"

size_t prune_count(size_t alive, double q)
{
    return (size_t)floor(q * (double)alive + 0.5);
}

size_t prune_alive(const float *mask, prune_seg_t seg)
{
    size_t n = 0;
    for (size_t i = 0; i < seg.len; i++)
        n += mask[seg.off + i] != 0;
    return n;
}

typedef struct {
    float score;
    uint32_t idx; /* position in the parameter block */
} cand_t;

/* Lowest score first (signed), then the lower index. */
static int cand_cmp(const void *pa, const void *pb)
{
    const cand_t *a = pa, *b = pb;
    if (a->score != b->score)
        return a->score < b->score ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

const char *const prune_criterion_names[PRUNE_N_CRITERIA] = {"magnitude", "magnitude_increase", "movement",
                                                             "large_init_large_final", "large_init"};

float prune_score(int criterion, float w_init, float w_final)
{
    switch (criterion) {
    case PRUNE_MAGNITUDE_INCREASE:
        return fabsf(w_final) - fabsf(w_init);
    case PRUNE_MOVEMENT:
        return fabsf(w_final - w_init);
    case PRUNE_LARGE_INIT_LARGE_FINAL:
        return fminf(fabsf(w_init), fabsf(w_final));
    case PRUNE_LARGE_INIT:
        return fabsf(w_init);
    default: /* PRUNE_MAGNITUDE */
        return fabsf(w_final);
    }
}

int prune_criterion(int criterion, const float *w_init, const float *w_final, float *mask,
                    const prune_seg_t *segs, int n_segs, size_t count)
{
    size_t total = 0;
    for (int s = 0; s < n_segs; s++)
        total += prune_alive(mask, segs[s]);
    if (count == 0)
        return 0;
    if (count > total)
        count = total;
    cand_t *c = ts_malloc(total * sizeof *c);
    if (!c)
        return TS_ERUN;
    size_t n = 0;
    /* magnitude never reads w_init (NULL allowed): the loop of the releases before criteria */
    for (int s = 0; s < n_segs; s++)
        for (size_t i = segs[s].off; i < segs[s].off + segs[s].len; i++)
            if (mask[i] != 0)
                c[n++] = (cand_t){criterion == PRUNE_MAGNITUDE ? fabsf(w_final[i])
                                                               : prune_score(criterion, w_init[i], w_final[i]),
                                  (uint32_t)i};
    qsort(c, n, sizeof *c, cand_cmp);
    for (size_t i = 0; i < count; i++)
        mask[c[i].idx] = 0;
    free(c);
    return 0;
}

int prune_scores(const float *score, float *mask, const prune_seg_t *segs, int n_segs, size_t count)
{
    size_t total = 0, n = 0;
    for (int s = 0; s < n_segs; s++)
        total += prune_alive(mask, segs[s]);
    if (count == 0)
        return 0;
    count = count > total ? total : count;
    cand_t *c = ts_malloc(total * sizeof *c);
    if (!c)
        return TS_ERUN;
    for (int s = 0; s < n_segs; s++)
        for (size_t i = segs[s].off; i < segs[s].off + segs[s].len; i++)
            if (mask[i] != 0)
                c[n++] = (cand_t){score[i], (uint32_t)i};
    qsort(c, n, sizeof *c, cand_cmp);
    for (size_t i = 0; i < count; i++)
        mask[c[i].idx] = 0;
    free(c);
    return 0;
}

int prune_magnitude(const float *w, float *mask, const prune_seg_t *segs, int n_segs, size_t count)
{
    return prune_criterion(PRUNE_MAGNITUDE, NULL, w, mask, segs, n_segs, count);
}

double prune_bytes(size_t n_weights)
{
    return (double)n_weights * sizeof(cand_t);
}

int prune_random(float *mask, prune_seg_t seg, size_t count, rng_t *r)
{
    size_t n = 0;
    uint32_t *alive = ts_malloc(seg.len * sizeof *alive + 1);
    if (!alive)
        return TS_ERUN;
    for (size_t i = seg.off; i < seg.off + seg.len; i++)
        if (mask[i] != 0)
            alive[n++] = (uint32_t)i;
    if (count > n)
        count = n;
    /* partial Fisher-Yates: the first `count` slots become a uniform sample */
    for (size_t i = 0; i < count; i++) {
        size_t j = i + (size_t)rng_below(r, n - i);
        uint32_t t = alive[i];
        alive[i] = alive[j];
        alive[j] = t;
        mask[alive[i]] = 0;
    }
    free(alive);
    return 0;
}
