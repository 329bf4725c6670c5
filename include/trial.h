/*
 * trial.h - one lottery-ticket trial: iterative magnitude pruning with resets
 * to theta0 (or to a rewind point), and its controls.
 *
 * Round 0 trains the dense network from theta0. After round r < n each layer
 * loses round(q * alive) of its surviving weights with the smallest trained
 * magnitude, q = 1 - (1 - p)^(1/n) (the output layer at output_scale * q), the
 * survivors are reset and trained again: n + 1 trainings. Controls:
 *   reinit  each round's mask trained again from a fresh random init;
 *   random  a random mask with the ticket's per-layer counts, nested across
 *           rounds, trained from theta0.
 * Round 0 of either control is the dense network: the ticket's round 0 is
 * recorded there (for the random control it is the same run bit for bit; for
 * reinit, a dense network from another random init is the same experiment as
 * the ticket's own dense network from theta0), so controls train rounds 1..n.
 * Layer-wise, convolutions lose conv_scale * q a round, the output layer
 * output_scale * q.
 *
 * Everything a trial computes depends only on (config, data, trial); no MPI,
 * no files. A poll callback, called once per minibatch, lets a caller serve
 * other work or stop the trial.
 */
#ifndef TS_TRIAL_H
#define TS_TRIAL_H

#include <stdint.h>

#include "config.h"
#include "data.h"
#include "grid.h"
#include "net.h"
#include "optim.h"

enum { ARM_TICKET, ARM_REINIT, ARM_RANDOM, N_ARMS };
enum { M_TRAIN_LOSS, M_VAL_LOSS, M_VAL_ACC, M_TEST_LOSS, M_TEST_ACC, N_METRICS };
extern const char *const trial_arm_names[N_ARMS];    /* "ticket", "reinit", "random" */
extern const char *const trial_metric_names[N_METRICS];

/* Trial outcomes beyond TS_OK / TS_ERUN. */
enum { TRIAL_FAILED = -3, TRIAL_ABORTED = -4 };

/* Status values in the results file. */
enum { STATUS_PENDING = 0, STATUS_DONE = 1, STATUS_FAILED = 2 };

/* What one trial produces: exactly the rows it owns in the results file. */
typedef struct {
    int R1;                /* grid's largest round count + 1 (row length) */
    int E;                 /* evaluation points */
    size_t n_weights, n_params;
    float *curves[N_ARMS][N_METRICS]; /* [R1][E], NaN past the trial's rounds */
    double *density[N_ARMS];          /* [R1] fraction of weights active, NaN past */
    int32_t *es_iter[N_ARMS];         /* [R1] early-stop iteration, -1 past */
    float *es_test_acc[N_ARMS];       /* [R1] test accuracy there */
    float *final_test_acc[N_ARMS];    /* [R1] */
    uint8_t *masks[N_ARMS];           /* [n_weights] rounds active; reinit shares the ticket's */
    float *rewind;                    /* [n_params] rewind point, or NULL (no rewinding) */
    int status;                       /* STATUS_* */
    char error[160];                  /* reason when failed */
} trial_result_t;

typedef int (*trial_poll_fn)(void *arg); /* nonzero: stop the trial now */

typedef struct {
    const config_t *cfg;
    const data_t *data;
    net_t net;
    optim_t opt;
    int64_t *eval_iters; /* [E] */
    int E;
    float *theta0;      /* [n_params] of the current trial's seed */
    float *start;       /* [n_params] where the next training starts */
    float *ticket_mask; /* [n_params] */
    float *random_mask; /* [n_params] */
    float *xb;          /* [batch][dim] gathered minibatch */
    uint8_t *yb;        /* [batch] */
    int32_t *perm;      /* [n_train] this epoch's order */
    trial_poll_fn poll;
    void *poll_arg;
    int evaluating;     /* 1 while trial_evaluate runs (a poll then is not a step) */
    /* timing of the last run (for benchmarks), seconds */
    double t_train, t_eval;
} trial_ctx_t;

/* Evaluation schedule: 0, eval_every, 2 eval_every, ..., and iterations. */
int trial_eval_count(const config_t *cfg);
int64_t trial_eval_iter(const config_t *cfg, int e);

int trial_ctx_create(trial_ctx_t *c, const config_t *cfg, const data_t *data);
void trial_ctx_free(trial_ctx_t *c);

int trial_result_create(trial_result_t *r, const config_t *cfg, const net_t *net);
void trial_result_free(trial_result_t *r);
/* 1 when two results hold the same bytes in every row (used by merge). */
int trial_result_equal(const trial_result_t *a, const trial_result_t *b);
/* Pad every row with NaN / -1 / 0 and mark it pending (before a run or a read). */
void trial_result_clear(trial_result_t *r);

/* theta0 of a seed: depends only on (seed, architecture). */
void trial_theta0(const net_t *net, int64_t seed, float *dst);

/* Run trial t into res. Returns 0 (res->status DONE), TRIAL_FAILED (status FAILED,
 * res->error says why, e.g. divergence), TRIAL_ABORTED (poll asked to stop;
 * res is pending) or TS_ERUN. */
int trial_run(trial_ctx_t *c, const trial_t *t, trial_result_t *res);

/* Evaluate the current parameters on a split: mean loss and accuracy. Calls
 * the poll hook between batches: TRIAL_ABORTED when it asked to stop, else 0. */
int trial_evaluate(trial_ctx_t *c, const dataset_t *ds, double *loss, double *acc);

#endif
