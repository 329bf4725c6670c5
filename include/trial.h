/*
 * trial.h - the trainings of the lottery-ticket experiment: iterative magnitude
 * pruning with resets to theta0 (or to a rewind point), and its controls.
 *
 * The unit of work is one training, a node of the sweep's graph (graph.h):
 * trial_run_node trains it from its inputs (the mask history of its ticket,
 * the rewind point) and produces what its dependents need (the masks of its
 * ticket children, pruned from its trained weights; a random control's own
 * mask history). A mask history is a byte per weight: in how many of rounds
 * 0..k the weight was active; masks are nested, so the mask of round k is
 * `counts == k + 1`, and the history of a cell's last round is the cell's
 * mask row in the results file.
 *
 * A cell (trial) of n rounds is n + 1 ticket trainings; after round r < n each
 * layer loses round(q * alive) of its surviving weights with the smallest
 * trained magnitude, or the lowest score of another prune.criterion of the
 * trained weights and those the training started from, theta0 or (when
 * rewinding) the rewind point (prune.h) (the output layer at output_scale * q,
 * convolutions at conv_scale * q; global scope: round(q * alive) over all
 * layers). Controls:
 *   reinit  each round's mask trained again from a fresh random init;
 *   random  a random mask with the ticket's per-layer counts, nested across
 *           rounds, trained from theta0 (or the rewind point);
 *   signed_reinit, reshuffle, signed_constant, snip, synflow, magnitude_init, grasp
 *           graph.h's arms.
 * Round 0 of every control is the dense network: the ticket's round 0 is
 * recorded there, so controls train rounds 1..n.
 *
 * Everything a training computes depends only on (config, data, node); no
 * MPI, no files. A poll callback, called once per minibatch and between
 * evaluation batches, lets a caller serve other work or stop the training.
 */
#ifndef TS_TRIAL_H
#define TS_TRIAL_H

#include <stdint.h>

#include "config.h"
#include "data.h"
#include "graph.h"
#include "grid.h"
#include "net.h"
#include "optim.h"

enum { M_TRAIN_LOSS, M_VAL_LOSS, M_VAL_ACC, M_TEST_LOSS, M_TEST_ACC, N_METRICS };
/* What the instability analysis measures at each point of a line between
 * two copies (the results file's /instability datasets). */
enum { I_TEST_ERROR, I_TEST_LOSS, I_VAL_ERROR, N_INST };
extern const char *const trial_inst_names[N_INST]; /* "test_error", "test_loss", "val_error" */
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
    float *rewind;                    /* [n_params] the cell's rewind point, or NULL (no rewinding) */
    int pairs, A;                     /* analysis.copies: pairs of copies, points on a line; 0: off */
    float *inst[N_INST];              /* [R1][pairs][A] the ticket's rounds, NaN past; NULL: off */
    float *inst_value;                /* [R1][pairs] instability, NaN past */
    int status;                       /* STATUS_* */
    char error[160];                  /* reason when failed */
} trial_result_t;

/* What one training produces for the results file: one round of one arm. */
typedef struct {
    int E;
    float *curves[N_METRICS]; /* [E]; NaN at points before the training's start, and the
                                 test metrics with test_curve = early_stop but at the
                                 early stop and the last point */
    double density;           /* fraction of weights active */
    int32_t es_iter;          /* early-stop iteration (minimum validation loss, first on ties) */
    float es_test_acc, final_test_acc;
    int pairs, A;             /* instability analysis (node_result_analysis), else 0 */
    float *inst[N_INST];      /* [pairs][A] along each line of a line node (graph.h), which
                                 alone writes them (every value; no other node reads them) */
    float *inst_value;        /* [pairs] the largest test error on the line minus the mean of
                                 its endpoints' */
    char error[160];          /* reason when failed */
} node_result_t;

/* A training's inputs (see trial_run_node). */
typedef struct {
    const uint8_t *counts;        /* ticket: its own mask history; reinit and the sign controls:
                                     their twin ticket's; random: its previous random node's
                                     (all 1 at round 1); pruning at initialisation: none */
    const uint8_t *ticket_counts; /* random: the twin ticket's history (per-layer survivors) */
    const float *rewind;          /* the rewind point of the seed at the node's k, or NULL: start
                                     from theta0 */
    const float *copies;          /* a line (graph.h): the final weights of its training (copy
                                     0) and of its copies, [C][n_params] */
} node_in_t;

/* Where a training puts what its dependents need; NULL fields are not wanted. */
typedef struct {
    uint8_t **children; /* ticket: history of each ticket child, in graph order */
    uint8_t *counts;    /* random, pruning at initialisation: its own history */
    float *rewind;      /* ticket round 0, rewinding: parameters at each k of the rewind axis
                           [K][n_params] (grid_rewinds) */
    float *weights;     /* trained parameters [n_params] (a copy's: its final weights) */
} node_out_t;

typedef int (*trial_poll_fn)(void *arg); /* nonzero: stop the trial now */

typedef struct {
    const config_t *cfg;  /* the job; during a training with sweep.rewind or sweep.criterion, view */
    config_t *view;       /* with sweep.rewind or sweep.criterion (else NULL): the job as a
                             training of rewind index rw and criterion index ci
                             (graph_node_t) sees it, the one-value job with
                             prune.rewind_iteration = k_rw and prune.criterion = its ci-th
                             (trial_run_node fills it) */
    const data_t *data;
    net_t net;
    optim_t opt;
    int64_t *eval_iters; /* [E] */
    int E;
    float *theta0;      /* [n_params] of the current trial's seed */
    float *start;       /* [n_params] where the next training starts */
    float *child_mask;  /* [n_params] pruning scratch; a training's own mask is net.mask */
    float *best;        /* [n_params] test_curve = early_stop: the parameters at the training's
                           lowest validation loss so far (the early-stop point); else NULL */
    int64_t theta0_seed; /* seed theta0 holds, or -1 */
    float *xb;          /* [batch][dim] gathered minibatch */
    float *xe;          /* [net.max_batch][dim] inputs of an evaluation batch */
    uint8_t *yb;        /* [batch] */
    int32_t *perm;      /* [n_train] this epoch's order */
    trial_poll_fn poll;
    void *poll_arg;
    int evaluating;     /* 1 while trial_evaluate runs (a poll then is not a step) */
    /* analysis.copies >= 2 (else NULL): room for the final weights a line
     * reads (node_in_t.copies), its caller's to fill */
    float *copy_w;      /* [copies][n_params] */
    /* timing of the last run (for benchmarks), seconds */
    double t_train, t_eval;
} trial_ctx_t;

/*
 * Evaluation schedule, in absolute iterations: 0, eval_every, 2 eval_every,
 * ..., and iterations; with rewind_schedule = continue and a rewind_iteration
 * k > 0 that is not a multiple of eval_every, k too (where the rounds after
 * the first start). Every training of a job has these points (the results
 * file's /curves/iteration); a training that starts at k evaluates those
 * >= k and leaves the others NaN.
 */
int trial_eval_count(const config_t *cfg);
int64_t trial_eval_iter(const config_t *cfg, int e);
/* The iteration at which a training of round `round` starts (its first
 * step is that step of the seed's data order, its first evaluation there):
 * k = rewind_iteration for the rounds >= 1 of every arm under
 * rewind_schedule = continue, else 0. It ends at `iterations`. */
int64_t trial_start_iter(const config_t *cfg, int round);
/* The images a training of `round` evaluates on data: the validation set at
 * each of its evaluation points (those from trial_start_iter on), the test
 * set at each too with test_curve = full, at two of them with early_stop
 * (the early stop and the end: one when they are the same point, which a
 * plan cannot know, so two are counted). For pricing a training. */
double trial_eval_images(const config_t *cfg, const data_t *data, int round);

/*
 * Make a trainer for cfg's model and training settings on `data` (borrowed:
 * cfg and data must outlive c): the network (net_create), the optimizer and
 * every buffer a training needs, allocated once, so trainings never allocate.
 * The sweep's grid in cfg is not used. Returns 0, TS_EINPUT (a model that
 * does not fit the data, e.g. a pool on an odd map) or TS_ERUN (out of
 * memory); on failure c is left empty and trial_ctx_free is safe.
 */
int trial_ctx_create(trial_ctx_t *c, const config_t *cfg, const data_t *data);
/* Release everything trial_ctx_create made. */
void trial_ctx_free(trial_ctx_t *c);

/* What trial_ctx_create allocates (besides the data), in bytes, by kind. */
typedef struct {
    double model;    /* the net's parameter blocks, the optimizer's state, theta0, start, pruning
                        scratch, and with test_curve = early_stop the early-stop copy */
    double acts;     /* activations of a training and an evaluation batch, deltas */
    double col;      /* im2col scratch */
    double dnn;      /* oneDNN's buffers (kernels = auto or sparse on a build with oneDNN) */
    double batches;  /* the inputs of a training and an evaluation batch, the epoch's order */
} trial_mem_t;
/* The bytes of a trainer for cfg on data whose model has layout's layer table
 * (any net_create of the model); by kind into *parts when not NULL. */
double trial_ctx_bytes(const config_t *cfg, const net_t *layout, const data_t *data,
                       trial_mem_t *parts);

/* The scratch a pruning-at-initialisation training allocates while it makes
 * its mask (init_mask: scores, the gradient in double, snip's scoring batch),
 * in bytes; 0 when the job has no such arm. Its pruning's scratch is
 * prune_bytes'. */
double trial_pai_bytes(const config_t *cfg, const net_t *layout, const data_t *data);

/* Rows for one cell of cfg's grid on net's layer table (R1 = the grid's
 * largest round count + 1), cleared to pending. Returns 0 or TS_ERUN. */
int trial_result_create(trial_result_t *r, const config_t *cfg, const net_t *net);
/* Release the rows; r is left empty (safe on a failed create, and twice). */
void trial_result_free(trial_result_t *r);
/* 1 when two results hold the same bytes in every row (used by merge). */
int trial_result_equal(const trial_result_t *a, const trial_result_t *b);
/* Pad every row with NaN / -1 / 0 and mark it pending (before a run or a read). */
void trial_result_clear(trial_result_t *r);

/* theta0 of a seed: depends only on (seed, architecture). */
void trial_theta0(const net_t *net, int64_t seed, float *dst);

/*
 * The instability analysis (linear mode connectivity, Frankle et al. 2020).
 * With analysis.copies = C >= 2 every ticket training (the dense round 0 and
 * each ticket round; not the controls) is trained C times: copy 0 is the
 * training itself, copy j > 0 starts from the same weights with the same mask
 * and differs only in its data order, the stream rng_key(seed, RNG_DATA,
 * epoch, trial_data_seed(cfg, j)) (seed 0 is the sweep's own order, so copy
 * 0's bits are those of a job without the analysis). A round 0 with
 * rewind_iteration = k > 0 is the dense network from k: its copies share the
 * sweep's order for steps 0..k-1 (they train those steps again: the weights
 * at k are the rewind point, the optimizer's state there the training's) and
 * take their own from step k on; a later round's copies differ from their
 * first step. With sweep.rewind, round 0 (one training for every k) is
 * analysed from each k of the axis (its analysis set i: C - 1 copies each,
 * copy 0 shared); a cell's round 0 holds the set of its own k. Then for each
 * pair (i < j, in the order (0,1), (0,2), .., (1,2), ..) the test and
 * validation sets are evaluated at A = analysis.interpolation points alpha =
 * a / (A - 1) of the line trial_interpolate draws between the two copies'
 * final weights. The copies and the lines are nodes of the graph of their
 * own (graph.h: NODE_COPY, NODE_LINE), run by trial_run_node like a training:
 * spread over the ranks, each written when done, resumed one by one.
 */
/* Copy j's data-order seed: analysis.data_seeds[j], or j when none is listed. */
int64_t trial_data_seed(const config_t *cfg, int j);
/* Pairs of copies analysed (C (C - 1) / 2; 0 when the analysis is off). */
int trial_pairs(const config_t *cfg);
/* The step from which copies take their own data order: rewind_iteration for
 * round 0, the training's first step for later rounds. */
int64_t trial_copy_split(const config_t *cfg, int round);
/* Point alpha of the line from wi (alpha 0) to wj (alpha 1), under mask:
 * dst = mask * (wi + alpha (wj - wi)), wi and wj themselves (times the mask)
 * at the endpoints, so those are the copies' own weights bit for bit; n floats. */
void trial_interpolate(size_t n, const float *wi, const float *wj, const float *mask, double alpha,
                       float *dst);
/* Room in r for the analysis of cfg (none when it is off); 0 or TS_ERUN
 * (out of memory: r is then freed, node_result_free safe). */
int node_result_analysis(node_result_t *r, const config_t *cfg);

/* Rows for one training's results with E evaluations (r owns them;
 * node_result_free releases them). Returns 0 or TS_ERUN (out of memory; r is
 * then empty and node_result_free is safe). */
int node_result_create(node_result_t *r, int E);
/* Release the rows; r is left empty. */
void node_result_free(node_result_t *r);

/*
 * Train node x of graph g from `in` (see node_in_t); results into res, what
 * dependents need into out. A copy (graph.h) trains its training again in its
 * data order, its final weights into out->weights; a line evaluates the lines
 * between in->copies into res's instability rows. Every evaluation point has the mean training
 * loss and the validation loss and accuracy; the test loss and accuracy are
 * there too with test_curve = full, and with early_stop only at the early
 * stop (the first point of lowest validation loss) and the last point, the
 * two the summary reads, evaluated at the end on a copy of the parameters
 * kept at the early stop and on the final ones: the same bits as full's
 * (NaN at the other points). With sweep.rewind or sweep.criterion the
 * training runs under c->view, the job with its chain's k and criterion as
 * the one values (a ticket round 0 records every k into out->rewind, and
 * prunes each child by that child's chain's criterion and rewind point).
 * Returns 0, TRIAL_FAILED (res->error says why, e.g. divergence),
 * TRIAL_ABORTED (the poll hook asked to stop) or TS_ERUN.
 */
int trial_run_node(trial_ctx_t *c, const graph_t *g, int x, const node_in_t *in,
                   const node_out_t *out, node_result_t *res);

/*
 * What trial_run_node does before it trains: node x's mask into c->net.mask
 * and the values it starts from into c->start (its arm's, graph.h, from
 * `in`: theta0 of its seed, made into c->theta0 when another seed's is
 * there, the rewind point, its mask history), and, for the arms with a
 * history of their own (random, pruning at initialisation), that history
 * into own when not NULL. Returns 0 or TS_ERUN.
 */
int trial_prepare_node(trial_ctx_t *c, const graph_t *g, int x, const node_in_t *in, uint8_t *own);

/* Run cell (trial) t on its own, every training here in order, into res: for
 * tests and benchmarks. Same return values as trial_run_node (res->status
 * DONE, FAILED or PENDING). */
int trial_run(trial_ctx_t *c, const trial_t *t, trial_result_t *res);

/* Evaluate the current parameters on a split: mean loss and accuracy. Calls
 * the poll hook between batches: TRIAL_ABORTED when it asked to stop, else 0. */
int trial_evaluate(trial_ctx_t *c, const dataset_t *ds, double *loss, double *acc);

#endif
