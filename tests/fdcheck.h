/*
 * fdcheck.h - analytic derivatives against central finite differences, for
 * the gradient tests (test_grad, test_conv; kann's kad_check_grad does the
 * same for its graphs).
 *
 * fd_check moves each parameter p[i] by -h and +h, evaluates the loss, and
 * compares analytic[i] with the central difference by the relative error
 *
 *     |analytic - numeric| / max(floor, |analytic| + |numeric|)
 *
 * where floor keeps the rounding noise of float losses in near-zero
 * derivatives from counting. A derivative disagrees when its error is above
 * tol. Every derivative counts towards the worst error, NaN included, with
 * one exception, and only where the loss may have kinks (a ReLU or a max
 * switching inside [p - h, p + h] makes the central difference meaningless):
 * a disagreeing derivative is a kink, and left out of the worst error, when
 * the loss bends inside the step (its one-sided differences disagree) and the
 * analytic derivative agrees with the one-sided difference on the side
 * without the bend. A wrong derivative on a smooth stretch of the loss agrees
 * with neither side, so it is never excused. The caller checks both numbers:
 * the worst error, and how many kinks it can believe in.
 */
#ifndef TS_FDCHECK_H
#define TS_FDCHECK_H

#include <math.h>
#include <stdio.h>

typedef double (*fd_loss_fn)(void *ctx);

typedef struct {
    float h;      /* step */
    double floor; /* least denominator of the relative error */
    double tol;   /* a relative error above this is a disagreement */
    int kinks;    /* the loss may have kinks: excuse them (see above) */
} fd_opts_t;

typedef struct {
    size_t n;               /* derivatives compared */
    int bad;                /* of which disagree, kinks not counted */
    int kinks;              /* of which are excused as kinks */
    double worst;           /* largest error over the n - kinks others; NaN if one was NaN */
    const char *worst_what; /* where it is: worst_what[worst_i] */
    size_t worst_i;
} fd_stats_t;

static inline double fd_rel_err(double analytic, double numeric, double floor)
{
    return fabs(analytic - numeric) / fmax(floor, fabs(analytic) + fabs(numeric));
}

static inline void fd_stats_init(fd_stats_t *s)
{
    *s = (fd_stats_t){.worst = 0, .worst_what = "(none)"};
}

/* Compare analytic[i] with the finite differences of loss(ctx) in p[i], for
 * every i in [0, n), and add the result to *s (so one fd_stats_t can sum up
 * several blocks). p is restored; each disagreement and kink is printed to
 * stderr as "what[i]", the first ten of a call. */
static inline void fd_check(fd_stats_t *s, const fd_opts_t *o, const char *what, float *p,
                            size_t n, const float *analytic, fd_loss_fn loss, void *ctx)
{
    int printed = 0;
    double l0 = loss(ctx); /* every p[i] is put back exactly: the same for all */
    for (size_t i = 0; i < n; i++) {
        float keep = p[i];
        p[i] = keep + o->h;
        double lp = loss(ctx);
        p[i] = keep - o->h;
        double lm = loss(ctx);
        p[i] = keep;
        double central = (lp - lm) / (2.0 * o->h), fwd = (lp - l0) / o->h, bwd = (l0 - lm) / o->h;
        double e = fd_rel_err(analytic[i], central, o->floor);
        int kink = 0;
        if (!(e <= o->tol) && o->kinks && fd_rel_err(fwd, bwd, o->floor) > o->tol)
            kink = fd_rel_err(analytic[i], fwd, o->floor) <= o->tol ||
                   fd_rel_err(analytic[i], bwd, o->floor) <= o->tol;
        s->n++;
        if (!(e <= o->tol) && printed++ < 10)
            fprintf(stderr, "  %s[%zu]: analytic %g numeric %g (one-sided %g, %g)%s\n", what, i,
                    analytic[i], central, bwd, fwd, kink ? ": a kink, excused" : "");
        if (kink) {
            s->kinks++;
            continue;
        }
        s->bad += !(e <= o->tol);
        if (!isnan(s->worst) && !(e <= s->worst)) {
            s->worst = e;
            s->worst_what = what;
            s->worst_i = i;
        }
    }
    if (printed > 10)
        fprintf(stderr, "  %s: %d more not shown\n", what, printed - 10);
}

#endif
