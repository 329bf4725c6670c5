/*
 * sched.c - rank 0 hands out trainings (see sched.h).
 *
 * Protocol, all on one communicator:
 *   worker -> 0, TAG_REPORT: double[REPORT_LEN] = {kind, outcome_t fields},
 *            kind REPORT_READY (first request) or REPORT_NODE (a training
 *            ended); after a REPORT_NODE with status done, TAG_STATE
 *            messages with what the training produced, in a fixed order:
 *            the mask history of each ticket child (graph order), a random
 *            node's own history, the rewind point (round 0, rewinding); with
 *            status failed, the error text.
 *   0 -> worker, TAG_CTRL: bytes = ctrl_t, then the inputs it says are sent
 *            (history A, history B, rewind point); or a ctrl_t whose node is
 *            CTRL_STOP or CTRL_ABORT (abandon the training in flight; sent
 *            only to busy workers, so a worker's poll hook that finds a
 *            TAG_CTRL message knows it is that).
 * One tag per kind and direction keeps the messages between two ranks in order.
 *
 * A training's inputs: A is the history its mask comes from (ticket: its own;
 * reinit: its twin's; random: its previous random node's), B the twin
 * ticket's (random only). A worker keeps what its last training produced;
 * rank 0 sends an input only when the worker does not hold it already.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "grid.h"
#include "prov.h"
#include "sched.h"
#include "util.h"

enum { TAG_REPORT = 11, TAG_CTRL = 12, TAG_STATE = 13 };
enum { REPORT_READY = 0, REPORT_NODE = 1 };
enum { CTRL_STOP = -1, CTRL_ABORT = -2 };
enum { IN_NONE = 0, IN_SENT = 1, IN_CACHED = 2, IN_ONES = 3 };
enum { N_WAIT, N_READY, N_RUN, N_DONE, N_FAILED, N_OFF }; /* a training at rank 0 */

typedef struct {
    int32_t node;
    int8_t a, b, rewind; /* IN_* */
    int8_t pad;
} ctrl_t;

/* What rank 0 learns of a training that ended. */
typedef struct {
    int node, status, rank;
    double wall;          /* seconds in the training and its writes */
    double write;         /* seconds of those in store_write_node */
    double density, acc;  /* its density and early-stop test accuracy */
    double wait;          /* seconds the worker waited for it after asking */
} outcome_t;
#define REPORT_LEN 8
#define ERROR_LEN 160

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
    stop_signal = sig;
}

void sched_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

typedef struct {
    MPI_Comm comm;
    int rank, size;
    const config_t *cfg;
    const graph_t *g;
    store_t *store;
    const sched_opts_t *opts;
    trial_ctx_t ctx;
    node_result_t res;
    size_t W, P;           /* weights (history bytes), parameters */
    char host[MPI_MAX_PROCESSOR_NAME];
    prov_t prov;           /* this rank's numerics, recorded with each training */
    /* what this rank's last training produced (workers: its cache) */
    uint8_t **out_hist;    /* [cap] children's histories, then a random node's own */
    int out_cap;
    float *rewind;         /* [P] a rewind point: made by round 0 here, or received */
    float *weights;        /* [P] trained weights ([output] weights = final), or NULL */
    uint8_t *in_a, *in_b, *ones; /* [W] inputs; all-ones history of a round 0 */
    char *msg;             /* dispatch message buffer */
    size_t msg_cap;

    /* rank 0 only */
    const sched_plan_t *plan;
    int8_t *state;         /* [N] N_* */
    int32_t *unmet;        /* [N] dependencies not done */
    int32_t *need;         /* [N] trainings still to start that read this history */
    uint8_t **hist;        /* [N] histories held for them */
    float **rewinds;       /* [seeds] */
    graph_heap_t ready; /* ready trainings, most remaining work first (keys: the nodes' cost) */
    double *node_wall;     /* [N] */
    int32_t *cell_left;    /* [T] (cell, arm, round) entries not finished */
    int8_t *cell_failed;   /* [T] */
    int32_t *cache_of;     /* [size] the training whose outputs a rank holds, -1 */
    int32_t *rewind_of;    /* [size] the seed whose rewind point a rank holds, -1 */
    int32_t *running;      /* [size] its training, -1 idle */
    char *idle;            /* [size] asked for work and waits */
    char (*hosts)[MPI_MAX_PROCESSOR_NAME];
    int active;            /* workers not yet told to stop */
    int stopping, aborting;
    double deadline, t0;
    int to_run, done, failed, skipped, abandoned, cells_total, cells_done, cells_failed;
    double held, peak_held, sent;
    double busy_seconds, write_seconds, wait_seconds;
    int waits;
    double serve_seconds;
    int served;
    int tty;
    int error;             /* a failure inside the poll hook, for the main loop */
} sched_t;

/* ---------- the ready heap (rank 0): most remaining work first, then lowest id ---------- */

/* The top ready training (entries taken out of order are skipped lazily). */
static int32_t heap_top(sched_t *s)
{
    while (s->ready.n > 0 && s->state[s->ready.a[0]] != N_READY)
        graph_heap_pop(&s->ready);
    return s->ready.n > 0 ? s->ready.a[0] : -1;
}

/* ---------- inputs of a training (which histories: graph_inputs, graph_producer) ---------- */

static int needs_rewind(const sched_t *s, int x)
{
    const graph_node_t *n = &s->g->nodes[x];
    return s->cfg->rewind_iteration > 0 && n->round > 0 && n->arm != ARM_REINIT;
}

/* Training x produces its seed's rewind point (round 0 of a ticket, rewinding). */
static int makes_rewind(const sched_t *s, int x)
{
    const graph_node_t *n = &s->g->nodes[x];
    return s->cfg->rewind_iteration > 0 && n->round == 0 && n->arm == ARM_TICKET;
}

/* The i-th mask history training x produces, -1 past the last: a ticket's
 * children in graph order, a random training's own. This is the order of
 * its output buffers and of the messages that carry them to rank 0. */
static int32_t output_id(const graph_t *g, int32_t x, int i)
{
    const graph_node_t *n = &g->nodes[x];
    if (n->arm == ARM_RANDOM)
        return i == 0 ? x : -1;
    if (n->arm != ARM_TICKET)
        return -1;
    int32_t c = n->first_child;
    while (c >= 0 && i-- > 0)
        c = g->nodes[c].next_sibling;
    return c;
}

/* ---------- progress output (rank 0) ---------- */

static void print_progress(sched_t *s)
{
    double el = ts_now() - s->t0;
    int finished = s->done + s->failed + s->skipped, running = 0;
    /* without a terminal, a line a training up to 1,000 trainings, else a line
     * per 1/1000 of them (and the last): the log of 10^6 trainings stays short */
    int every = !s->tty && s->to_run > 1000 ? s->to_run / 1000 : 1;
    if (finished % every && finished != s->to_run)
        return;
    for (int r = 0; r < s->size; r++)
        running += s->running[r] >= 0;
    char eta[32] = "?";
    if (s->done + s->failed > 0) /* this run's trainings only: right after a resume too */
        snprintf(eta, sizeof eta, "%.0f s", el * (s->to_run - finished) / (s->done + s->failed));
    if (s->tty) {
        int width = 30, fill = s->to_run ? width * finished / s->to_run : width;
        fprintf(stderr, "\r[%.*s%*s] %d/%d trainings, %d failed, %d running; cells %d/%d; ETA %s   ",
                fill, "##############################", width - fill, "", s->done, s->to_run,
                s->failed + s->skipped, running, s->cells_done, s->cells_total, eta);
    } else {
        fprintf(stderr, "progress: %d/%d trainings done, %d failed, %d running; %d/%d cells; ETA %s\n",
                s->done, s->to_run, s->failed + s->skipped, running, s->cells_done, s->cells_total, eta);
    }
    fflush(stderr);
}

static void clear_line(sched_t *s)
{
    if (s->tty)
        fprintf(stderr, "\r\033[K");
}

/* ---------- rank 0: bookkeeping ---------- */

static void hold(sched_t *s, int32_t y, uint8_t *h)
{
    s->hist[y] = h;
    s->held += (double)s->W;
    if (s->held > s->peak_held)
        s->peak_held = s->held;
}

static void release(sched_t *s, int32_t y)
{
    if (y >= 0 && --s->need[y] == 0 && s->hist[y]) {
        free(s->hist[y]);
        s->hist[y] = NULL;
        s->held -= (double)s->W;
    }
}

/* History y is needed by a training still to start and not held yet. */
static int wanted(const sched_t *s, int32_t y)
{
    return s->need[y] > 0 && !s->hist[y];
}

/* Where rank 0 keeps seed si's rewind point (allocated on first use); NULL when out of memory. */
static float *rewind_slot(sched_t *s, int si)
{
    if (!s->rewinds[si])
        s->rewinds[si] = ts_malloc(s->P * sizeof(float));
    return s->rewinds[si];
}

/* Cell t is finished (o: the training that finished it, or NULL): its status. */
static int finish_cell(sched_t *s, int t, const outcome_t *o, const char *error)
{
    int rank = o ? o->rank : -1;
    const graph_t *g = s->g;
    trial_t tr = grid_trial(s->cfg, t);
    double wall = 0;
    int failed = s->cell_failed[t];
    for (int a = 0; a < N_ARMS; a++) /* the cell's distinct trainings */
        for (int k = a == ARM_TICKET ? 0 : 1; k <= tr.rounds; k++) {
            int32_t x = graph_cell_node(g, t, a, k);
            if (x >= 0 && s->node_wall[x] == s->node_wall[x])
                wall += s->node_wall[x];
        }
    failed ? s->cells_failed++ : s->cells_done++;
    clear_line(s);
    int32_t last = graph_cell_node(g, t, ARM_TICKET, tr.rounds);
    if (!failed && o && o->node == last)
        fprintf(stderr,
                "trial %d (rate %g, rounds %d, seed %lld): done on rank %d; %.1f s of training; "
                "round %d: density %.4f, early-stop test acc %.4f\n",
                t, tr.rate, tr.rounds, (long long)tr.seed, rank, wall, tr.rounds, o->density, o->acc);
    else if (!failed)
        fprintf(stderr, "trial %d (rate %g, rounds %d, seed %lld): done on rank %d; %.1f s of training\n",
                t, tr.rate, tr.rounds, (long long)tr.seed, rank, wall);
    else
        fprintf(stderr, "trial %d (rate %g, rounds %d, seed %lld): FAILED: %s\n", t, tr.rate,
                tr.rounds, (long long)tr.seed, error ? error : "");
    if (!s->store || s->error) /* after an error (the claim lost): nothing more written */
        return 0;
    int rc = ts_fault("store_write_cell", s->rank);
    return rc ? rc : store_write_cell(s->store, t, failed ? STATUS_FAILED : STATUS_DONE, failed ? error : "",
                                      wall, rank, rank >= 0 ? s->hosts[rank] : "");
}

/* Training x will not run here (failed, or a dependency failed): so its dependents. */
static void fail_node(sched_t *s, int32_t x, const char *why, const outcome_t *o);

/* The (cell, arm, round) entries of training x are final. */
static int finish_entries(sched_t *s, int32_t x, int ok, const outcome_t *o, const char *why)
{
    const graph_t *g = s->g;
    int rc = 0;
    for (int32_t i = g->inc_off[x]; i < g->inc_off[x + 1]; i++) {
        int t = g->inc[i] / N_ARMS;
        if (!s->plan->cells[t])
            continue;
        if (!ok)
            s->cell_failed[t] = 1;
        if (--s->cell_left[t] == 0) {
            int rc2 = finish_cell(s, t, o, why);
            rc = rc ? rc : rc2;
        }
    }
    return rc;
}

static void fail_node(sched_t *s, int32_t x, const char *why, const outcome_t *o)
{
    const graph_t *g = s->g;
    if (finish_entries(s, x, 0, o, why) && !s->error)
        s->error = TS_ERUN;
    for (int32_t i = g->dpt_off[x]; i < g->dpt_off[x + 1]; i++) {
        int32_t d = g->dpt[i];
        if (s->state[d] == N_WAIT || s->state[d] == N_READY) {
            s->state[d] = N_FAILED;
            s->skipped++;
            int32_t a, b;
            graph_inputs(g, d, &a, &b);
            release(s, a);
            release(s, b);
            fail_node(s, d, why, o);
        }
    }
}

/* Training x ended on rank `rank` with status; its outputs are in hist[] already. */
static int node_ended(sched_t *s, const outcome_t *o, const char *error)
{
    const graph_t *g = s->g;
    int32_t x = o->node;
    const graph_node_t *n = &g->nodes[x];
    s->running[o->rank] = -1;
    s->busy_seconds += o->wall;
    s->write_seconds += o->write;
    if (o->rank > 0) {
        s->wait_seconds += o->wait;
        s->waits++;
    }
    if (o->status != STATUS_DONE) /* its output buffers may hold a part of something */
        s->cache_of[o->rank] = s->rewind_of[o->rank] = -1;
    if (o->status == STATUS_PENDING) { /* abandoned */
        s->state[x] = N_WAIT;
        s->abandoned++;
        clear_line(s);
        fprintf(stderr, "training %d (seed %lld, %s round %d): abandoned (left pending) on rank %d after %.1f s\n",
                x, (long long)s->cfg->seeds[n->seed_i], trial_arm_names[n->arm], n->round, o->rank, o->wall);
        print_progress(s);
        return 0;
    }
    s->node_wall[x] = o->wall;
    int rc = 0;
    if (o->status == STATUS_DONE) {
        s->state[x] = N_DONE;
        s->done++;
        s->cache_of[o->rank] = x;
        if (n->arm == ARM_TICKET && n->round == 0 && s->cfg->rewind_iteration > 0)
            s->rewind_of[o->rank] = n->seed_i;
        for (int32_t i = g->dpt_off[x]; i < g->dpt_off[x + 1]; i++) {
            int32_t d = g->dpt[i];
            if (s->state[d] == N_WAIT && --s->unmet[d] == 0) {
                s->state[d] = N_READY;
                graph_heap_push(&s->ready, d);
            }
        }
        rc = finish_entries(s, x, 1, o, NULL);
    } else {
        s->state[x] = N_FAILED;
        s->failed++;
        clear_line(s);
        fprintf(stderr, "training %d (seed %lld, %s round %d): FAILED on rank %d: %s\n", x,
                (long long)s->cfg->seeds[n->seed_i], trial_arm_names[n->arm], n->round, o->rank, error);
        fail_node(s, x, error, o);
    }
    print_progress(s);
    return rc;
}

/* ---------- running a training here ---------- */

/* Output buffers for the histories training x produces (output_id order). */
static int out_buffers(sched_t *s, int x, uint8_t ***children, uint8_t **own)
{
    const graph_node_t *n = &s->g->nodes[x];
    int n_out = 0;
    while (output_id(s->g, x, n_out) >= 0)
        n_out++;
    if (n_out > s->out_cap) {
        uint8_t **p = realloc(s->out_hist, (size_t)n_out * sizeof *p);
        if (!p)
            return TS_ERUN;
        for (int i = s->out_cap; i < n_out; i++)
            p[i] = NULL;
        s->out_hist = p;
        s->out_cap = n_out;
    }
    for (int i = 0; i < n_out; i++)
        if (!s->out_hist[i] && !(s->out_hist[i] = ts_malloc(s->W + 1)))
            return TS_ERUN;
    *children = n->arm == ARM_TICKET && n_out ? s->out_hist : NULL;
    *own = n->arm == ARM_RANDOM ? s->out_hist[0] : n->round == 0 ? s->ones : NULL;
    return 0;
}

/* Run training x from inputs a, b (and the rewind point) and write it. */
static int run_here(sched_t *s, int x, const uint8_t *a, const uint8_t *b, outcome_t *o)
{
    const graph_node_t *n = &s->g->nodes[x];
    uint8_t **children, *own;
    double t0 = ts_now();
    int rc = out_buffers(s, x, &children, &own);
    if (rc)
        return rc;
    node_in_t in = {a, b, needs_rewind(s, x) ? s->rewind : NULL};
    int root_rewind = makes_rewind(s, x);
    node_out_t out = {children, n->arm == ARM_RANDOM ? own : NULL, root_rewind ? s->rewind : NULL,
                      s->weights};
    rc = s->opts->run ? s->opts->run(s->opts->run_arg, &s->ctx, s->g, x, &in, &out, &s->res)
                      : trial_run_node(&s->ctx, s->g, x, &in, &out, &s->res);
    int status = rc == 0 ? STATUS_DONE : rc == TRIAL_ABORTED ? STATUS_PENDING : STATUS_FAILED;
    if (rc == TS_ERUN) /* e.g. out of memory: the training fails, the sweep goes on */
        snprintf(s->res.error, sizeof s->res.error, "%s", ts_errmsg());
    const uint8_t *own_hist = n->arm == ARM_TICKET ? (n->round == 0 ? s->ones : a) : own;
    double t1 = ts_now();
    rc = 0;
    if (s->error) /* rank 0 after an error (the claim lost): nothing more written */
        status = STATUS_PENDING;
    if (status != STATUS_PENDING && s->store) { /* abandoned: nothing to write */
        rc = ts_fault("store_write_node", s->rank);
        if (!rc)
            rc = store_write_node(s->store, x, &s->res, status, children, own_hist,
                                  root_rewind ? s->rewind : NULL, s->weights, t1 - t0, s->rank, s->host,
                                  &s->prov);
    }
    *o = (outcome_t){x, status, s->rank, ts_now() - t0, ts_now() - t1, s->res.density, s->res.es_test_acc, 0};
    return rc;
}

/* ---------- rank 0: dispatch ---------- */

static void begin_stop(sched_t *s)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    s->deadline = ts_now() + s->opts->grace_seconds;
    clear_line(s);
    fprintf(stderr, "ticketsweep: signal %d: no new trainings; trainings in flight get %.0f s to finish\n",
            (int)stop_signal, s->opts->grace_seconds);
    /* now, not at the end: mpirun kills the ranks soon after SIGINT or SIGTERM */
    if (s->opts->resume_hint)
        fprintf(stderr, "ticketsweep: to resume: %s\n", s->opts->resume_hint);
    fflush(stderr);
}

static void send_ctrl(sched_t *s, int r, int32_t node)
{
    ctrl_t c = {node, 0, 0, 0, 0};
    MPI_Send(&c, sizeof c, MPI_BYTE, r, TAG_CTRL, s->comm);
}

/* Tell busy workers to abandon their trainings (once the grace time is over). */
static void abort_workers(sched_t *s)
{
    if (s->aborting)
        return;
    s->aborting = 1;
    for (int r = 1; r < s->size; r++)
        if (s->running[r] >= 0)
            send_ctrl(s, r, CTRL_ABORT);
}

/* Rank 0's copy of history y for training use: held, or all-ones for a round 0. */
static const uint8_t *held_hist(sched_t *s, int32_t y)
{
    return y < 0 ? NULL : s->g->nodes[y].round == 0 ? s->ones : s->hist[y];
}

/* The ready training for rank r: the top one, or one as good whose inputs r holds.
 * (plan_sim.c replays this rule, feed_idle's order and run_root's to price a
 * layout before the run: a change here belongs there too.) */
static int32_t pick(sched_t *s, int r)
{
    int32_t top = heap_top(s);
    if (top < 0 || r == 0 || s->cache_of[r] < 0)
        return top;
    const graph_t *g = s->g;
    int32_t c = s->cache_of[r];
    for (int32_t i = g->dpt_off[c]; i < g->dpt_off[c + 1]; i++) {
        int32_t d = g->dpt[i], a, b;
        if (s->state[d] != N_READY || g->nodes[d].cost < g->nodes[top].cost)
            continue;
        graph_inputs(g, d, &a, &b);
        if (a >= 0 && graph_producer(g, a) == c)
            return d;
    }
    return top;
}

static void take(sched_t *s, int32_t x, int r)
{
    s->state[x] = N_RUN;
    s->running[r] = x;
}

static void put_input(sched_t *s, int8_t *mode, char **p, int r, int32_t y)
{
    const graph_t *g = s->g;
    if (y < 0)
        *mode = IN_NONE;
    else if (g->nodes[y].round == 0)
        *mode = IN_ONES;
    else if (graph_producer(g, y) == s->cache_of[r])
        *mode = IN_CACHED;
    else {
        *mode = IN_SENT;
        memcpy(*p, s->hist[y], s->W);
        *p += s->W;
        s->sent += (double)s->W;
    }
}

/* Send training x to worker r with the inputs it does not hold. */
static void dispatch(sched_t *s, int32_t x, int r)
{
    int32_t a, b;
    graph_inputs(s->g, x, &a, &b);
    ctrl_t c = {x, 0, 0, IN_NONE, 0};
    char *p = s->msg + sizeof c;
    put_input(s, &c.a, &p, r, a);
    put_input(s, &c.b, &p, r, b);
    if (needs_rewind(s, x)) {
        int si = s->g->nodes[x].seed_i;
        if (s->rewind_of[r] == si)
            c.rewind = IN_CACHED;
        else {
            c.rewind = IN_SENT;
            memcpy(p, s->rewinds[si], s->P * sizeof(float));
            p += s->P * sizeof(float);
            s->sent += (double)s->P * sizeof(float);
            s->rewind_of[r] = si;
        }
    }
    memcpy(s->msg, &c, sizeof c);
    take(s, x, r);
    MPI_Send(s->msg, (int)(p - s->msg), MPI_BYTE, r, TAG_CTRL, s->comm);
    release(s, a);
    release(s, b);
}

/* Receive one TAG_STATE message from src into buf (NULL: into scratch, dropped). */
static int recv_state(sched_t *s, int src, void *buf, size_t bytes)
{
    int rc = ts_fault("recv", s->rank);
    if (rc)
        return rc;
    if (MPI_Recv(buf ? buf : s->msg, (int)bytes, MPI_BYTE, src, TAG_STATE, s->comm, MPI_STATUS_IGNORE))
        return ts_fail(TS_ERUN, "rank 0: cannot receive the outputs of rank %d's training", src);
    return 0;
}

/* Take in what a worker's training produced (after its report). */
static int recv_outputs(sched_t *s, int src, const outcome_t *o, char *error)
{
    const graph_t *g = s->g;
    const graph_node_t *n = &g->nodes[o->node];
    if (o->status == STATUS_FAILED) {
        int rc = recv_state(s, src, error, ERROR_LEN);
        error[ERROR_LEN - 1] = 0;
        return rc;
    }
    if (o->status != STATUS_DONE)
        return 0;
    int32_t y;
    for (int i = 0; (y = output_id(g, o->node, i)) >= 0; i++) {
        uint8_t *h = wanted(s, y) ? ts_malloc(s->W + 1) : NULL;
        if (wanted(s, y) && !h)
            return TS_ERUN;
        if (recv_state(s, src, h, s->W)) { /* not wanted: into scratch, dropped */
            free(h);
            return TS_ERUN;
        }
        if (h)
            hold(s, y, h);
    }
    if (makes_rewind(s, o->node)) {
        float *rw = rewind_slot(s, n->seed_i);
        if (!rw)
            return TS_ERUN;
        return recv_state(s, src, rw, s->P * sizeof(float));
    }
    return 0;
}

/* Give waiting workers the ready trainings. */
static void feed_idle(sched_t *s)
{
    for (int r = 1; r < s->size && !s->stopping; r++) {
        if (!s->idle[r])
            continue;
        int32_t x = pick(s, r);
        if (x < 0)
            return;
        s->idle[r] = 0;
        dispatch(s, x, r);
    }
}

static int all_finished(const sched_t *s)
{
    return s->done + s->failed + s->skipped == s->to_run;
}

/* Stop the idle workers once nothing more will be handed out. */
static void stop_idle(sched_t *s)
{
    int nothing_left = s->stopping || all_finished(s);
    for (int r = 1; r < s->size && nothing_left; r++)
        if (s->idle[r]) {
            s->idle[r] = 0;
            send_ctrl(s, r, CTRL_STOP);
            s->active--;
        }
}

/* Answer one report from a worker. */
static int serve_one(sched_t *s, MPI_Status *st)
{
    double m[REPORT_LEN], t0 = ts_now();
    int src = st->MPI_SOURCE, rc = 0;
    char error[ERROR_LEN] = "";
    MPI_Recv(m, REPORT_LEN, MPI_DOUBLE, src, TAG_REPORT, s->comm, MPI_STATUS_IGNORE);
    if ((int)m[0] == REPORT_NODE) {
        outcome_t o = {(int)m[1], (int)m[2], src, m[3], m[4], m[5], m[6], m[7]};
        if (!(rc = recv_outputs(s, src, &o, error)))
            rc = node_ended(s, &o, error);
        /* an error ends the sweep: this worker is not fed again (its
         * remaining messages, if a receive failed, are never read) */
        if (rc || (rc = s->error))
            return rc;
    }
    s->idle[src] = 1;
    feed_idle(s);
    stop_idle(s);
    s->serve_seconds += ts_now() - t0;
    s->served++;
    return rc;
}

/* Serve every report waiting now; returns how many, or TS_ERUN (s->error
 * set: the sweep ends). */
static int serve_pending(sched_t *s)
{
    int n = 0, flag;
    MPI_Status st;
    if (s->error)
        return TS_ERUN;
    for (;;) {
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_REPORT, s->comm, &flag, &st);
        if (!flag)
            return n;
        if (serve_one(s, &st)) {
            s->error = TS_ERUN;
            return TS_ERUN;
        }
        n++;
    }
}

static void check_stop(sched_t *s)
{
    if (!s->error && s->opts->lost && s->opts->lost(s->opts->lost_arg))
        s->error = ts_fail(TS_ERUN, "the results file's claim was taken over by another run: this run "
                                    "stops and writes nothing more (see the warning above)");
    if (stop_signal && !s->stopping) {
        begin_stop(s);
        stop_idle(s);
    }
    if (s->stopping && !s->aborting && ts_now() >= s->deadline)
        abort_workers(s);
}

/* Rank 0's poll hook: serve, then say whether its own training must be
 * abandoned (a stop's grace time is over, or an error ends the sweep). */
static int poll_root(void *arg)
{
    sched_t *s = arg;
    check_stop(s);
    if (s->size > 1 && !s->error)
        serve_pending(s);
    return s->aborting || s->error;
}

/* A worker's poll hook: a message from rank 0 during a training can only be ABORT. */
static int poll_worker(void *arg)
{
    sched_t *s = arg;
    int flag;
    ctrl_t c;
    MPI_Iprobe(0, TAG_CTRL, s->comm, &flag, MPI_STATUS_IGNORE);
    if (!flag)
        return 0;
    MPI_Recv(&c, sizeof c, MPI_BYTE, 0, TAG_CTRL, s->comm, MPI_STATUS_IGNORE);
    return 1;
}

/* Rank 0 runs training x itself. */
static int run_root_node(sched_t *s, int32_t x)
{
    int32_t a, b;
    outcome_t o;
    graph_inputs(s->g, x, &a, &b);
    take(s, x, 0);
    if (needs_rewind(s, x))
        memcpy(s->rewind, s->rewinds[s->g->nodes[x].seed_i], s->P * sizeof(float));
    int rc = run_here(s, x, held_hist(s, a), held_hist(s, b), &o);
    if (rc || (rc = s->error))
        return rc;
    release(s, a);
    release(s, b);
    /* keep what it produced for the trainings that need it */
    if (o.status == STATUS_DONE) {
        int32_t y;
        for (int i = 0; (y = output_id(s->g, x, i)) >= 0; i++)
            if (wanted(s, y)) {
                hold(s, y, s->out_hist[i]);
                s->out_hist[i] = NULL;
            }
        if (makes_rewind(s, x)) {
            float *rw = rewind_slot(s, s->g->nodes[x].seed_i);
            if (!rw)
                return TS_ERUN;
            memcpy(rw, s->rewind, s->P * sizeof(float));
        }
    }
    return node_ended(s, &o, s->res.error);
}

double sched_root_bytes(const graph_t *g, int ranks)
{
    sched_t s;
    double N = g->N + 1.0, T = g->T + 1.0;
    return N * (sizeof *s.state + sizeof *s.unmet + sizeof *s.need + sizeof *s.hist + sizeof *s.ready.a +
                sizeof *s.node_wall) +
           T * (sizeof *s.cell_left + sizeof *s.cell_failed) +
           (double)ranks * (sizeof *s.cache_of + sizeof *s.rewind_of + sizeof *s.running + sizeof *s.idle +
                            sizeof *s.hosts);
}

/* Rank 0's tables (sched_root_bytes counts them), and the histories of an
 * earlier run that this one needs. */
static int root_setup(sched_t *s)
{
    const graph_t *g = s->g;
    const sched_plan_t *pl = s->plan;
    int N = g->N, T = g->T, rc = 0;
    s->state = ts_calloc((size_t)N + 1, 1);
    s->unmet = ts_calloc((size_t)N + 1, sizeof *s->unmet);
    s->need = ts_calloc((size_t)N + 1, sizeof *s->need);
    s->hist = ts_calloc((size_t)N + 1, sizeof *s->hist);
    s->ready.a = ts_calloc((size_t)N + 1, sizeof *s->ready.a);
    s->ready.key = (const char *)&g->nodes[0].cost;
    s->ready.stride = sizeof g->nodes[0];
    s->node_wall = ts_calloc((size_t)N + 1, sizeof *s->node_wall);
    s->cell_left = ts_calloc((size_t)T + 1, sizeof *s->cell_left);
    s->cell_failed = ts_calloc((size_t)T + 1, 1);
    s->rewinds = ts_calloc((size_t)s->cfg->n_seeds, sizeof *s->rewinds);
    s->cache_of = ts_calloc((size_t)s->size, sizeof *s->cache_of);
    s->rewind_of = ts_calloc((size_t)s->size, sizeof *s->rewind_of);
    s->running = ts_calloc((size_t)s->size, sizeof *s->running);
    s->idle = ts_calloc((size_t)s->size, 1);
    if (!s->state || !s->unmet || !s->need || !s->hist || !s->ready.a || !s->node_wall ||
        !s->cell_left || !s->cell_failed || !s->rewinds || !s->cache_of || !s->rewind_of ||
        !s->running || !s->idle)
        return TS_ERUN;
    for (int r = 0; r < s->size; r++)
        s->cache_of[r] = s->rewind_of[r] = s->running[r] = -1;
    for (int x = 0; x < N; x++) {
        s->node_wall[x] = pl->wall ? pl->wall[x] : NAN;
        s->state[x] = pl->done && pl->done[x] ? N_DONE : pl->to_run[x] ? N_WAIT : N_OFF;
    }
    for (int x = 0; x < N; x++) {
        if (s->state[x] != N_WAIT)
            continue;
        s->to_run++;
        const graph_node_t *n = &g->nodes[x];
        for (int d = 0; d < 2; d++)
            s->unmet[x] += n->dep[d] >= 0 && s->state[n->dep[d]] != N_DONE;
        int32_t a, b;
        graph_inputs(g, x, &a, &b);
        if (a >= 0)
            s->need[a]++;
        if (b >= 0)
            s->need[b]++;
    }
    /* histories whose producer finished in an earlier run: from the file */
    for (int y = 0; y < N && !rc; y++) {
        int32_t p = graph_producer(g, y);
        if (s->need[y] == 0 || p < 0 || s->state[p] != N_DONE)
            continue;
        uint8_t *h = ts_malloc(s->W + 1);
        if (!h)
            return TS_ERUN;
        hold(s, y, h);
        rc = s->store ? store_read_counts(s->store, y, h) : 0;
    }
    for (int si = 0; si < s->cfg->n_seeds && !rc && s->cfg->rewind_iteration > 0; si++)
        for (int x = 0; x < N; x++) {
            const graph_node_t *n = &g->nodes[x];
            if (n->seed_i != si || n->arm != ARM_TICKET || n->round != 0 || s->state[x] != N_DONE)
                continue;
            float *rw = rewind_slot(s, si);
            if (!rw)
                return TS_ERUN;
            rc = s->store ? store_read_rewind(s->store, si, rw) : 0;
            break;
        }
    if (rc)
        return rc;
    for (int x = 0; x < N; x++)
        if (s->state[x] == N_WAIT && s->unmet[x] == 0) {
            s->state[x] = N_READY;
            graph_heap_push(&s->ready, x);
        }
    /* cells: entries still to finish; those finished already get their status now */
    for (int t = 0; t < T; t++) {
        if (!pl->cells[t])
            continue;
        s->cells_total++;
        for (int a = 0; a < N_ARMS; a++)
            for (int k = 0; k < g->R1; k++) {
                int32_t x = graph_cell_node(g, t, a, k);
                s->cell_left[t] += x >= 0 && s->state[x] != N_DONE;
            }
    }
    for (int t = 0; t < T && !rc; t++)
        if (pl->cells[t] && s->cell_left[t] == 0)
            rc = finish_cell(s, t, NULL, NULL);
    return rc;
}

/*
 * Rank 0's loop: set up the tables (root_setup), then until every training
 * given is finished (or a stop signal and its grace time end): serve the
 * workers' reports first, then train the top ready training itself, serving
 * between its minibatches. Returns 0 or TS_ERUN (the store failed, out of
 * memory); trainings that failed are outcomes, not errors.
 */
static int run_root(sched_t *s)
{
    int rc = 0; /* set by root_setup when hosts were allocated */
    s->hosts = ts_calloc((size_t)s->size, sizeof *s->hosts);
    MPI_Gather(s->host, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, s->hosts ? (void *)s->hosts : (void *)s->msg,
               s->hosts ? MPI_MAX_PROCESSOR_NAME : 0, MPI_CHAR, 0, s->comm);
    if (!s->hosts || (rc = root_setup(s)))
        return s->hosts ? rc : TS_ERUN;
    s->active = s->size - 1;
    s->tty = isatty(2);
    s->t0 = ts_now();
    s->ctx.poll = poll_root;
    s->ctx.poll_arg = s;
    for (;;) {
        check_stop(s);
        /* waiting workers first: rank 0 takes a training only when none is asking */
        if ((s->size > 1 && serve_pending(s) < 0) || s->error)
            return TS_ERUN;
        int32_t x = s->stopping ? -1 : pick(s, 0);
        if (x >= 0) {
            if ((rc = run_root_node(s, x)))
                return rc;
            feed_idle(s);
            stop_idle(s);
            continue;
        }
        stop_idle(s);
        if (s->active == 0)
            break;
        int busy = 0;
        for (int r = 1; r < s->size; r++)
            busy += s->running[r] >= 0;
        if (!busy && !s->stopping && heap_top(s) < 0 && !all_finished(s))
            return ts_fail(TS_ERUN, "internal error: %d trainings can never start (dependencies not run)",
                           s->to_run - s->done - s->failed - s->skipped);
        int served = serve_pending(s);
        if (served < 0)
            return TS_ERUN;
        if (!served) {
            struct timespec ms = {0, 1000000}; /* idle manager: ~0 CPU */
            nanosleep(&ms, NULL);
        }
    }
    if (s->tty)
        fprintf(stderr, "\n");
    return 0;
}

/* A worker's input from the dispatch message (or its cache). */
static const uint8_t *get_input(sched_t *s, int mode, const char **p, int32_t y, uint8_t *buf)
{
    const graph_t *g = s->g;
    if (mode == IN_NONE)
        return NULL;
    if (mode == IN_ONES)
        return s->ones;
    if (mode == IN_SENT) {
        memcpy(buf, *p, s->W);
        *p += s->W;
        return buf;
    }
    /* IN_CACHED: among the outputs of this rank's last training */
    int32_t c = graph_producer(g, y);
    int i = 0;
    while (output_id(g, c, i) != y)
        i++;
    memcpy(buf, s->out_hist[i], s->W);
    return buf;
}

/*
 * A worker's loop: ask rank 0 for work (the report of the last training is the
 * request), train and write what it is given, until told to stop. Returns 0 or
 * TS_ERUN (the store failed).
 */
static int run_worker(sched_t *s)
{
    double m[REPORT_LEN] = {REPORT_READY};
    MPI_Gather(s->host, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, NULL, 0, MPI_CHAR, 0, s->comm);
    s->ctx.poll = poll_worker;
    s->ctx.poll_arg = s;
    MPI_Send(m, REPORT_LEN, MPI_DOUBLE, 0, TAG_REPORT, s->comm);
    for (;;) {
        ctrl_t c;
        MPI_Status st;
        int len;
        double asked = ts_now();
        /* An ABORT sent while our report was on its way is stale: the answer
         * to the report follows it. */
        do {
            MPI_Probe(0, TAG_CTRL, s->comm, &st);
            MPI_Get_count(&st, MPI_BYTE, &len);
            if (len < (int)sizeof c || (size_t)len > s->msg_cap)
                return ts_fail(TS_ERUN, "rank %d: a message of %d bytes from rank 0 (expected %zu to %zu)",
                               s->rank, len, sizeof c, s->msg_cap);
            MPI_Recv(s->msg, len, MPI_BYTE, 0, TAG_CTRL, s->comm, MPI_STATUS_IGNORE);
            int rc = ts_fault("recv", s->rank);
            if (rc)
                return rc;
            memcpy(&c, s->msg, sizeof c);
        } while (c.node == CTRL_ABORT);
        if (c.node == CTRL_STOP)
            return 0;
        int32_t x = c.node, a, b;
        const char *p = s->msg + sizeof c;
        graph_inputs(s->g, x, &a, &b);
        const uint8_t *ia = get_input(s, c.a, &p, a, s->in_a);
        const uint8_t *ib = get_input(s, c.b, &p, b, s->in_b);
        if (c.rewind == IN_SENT)
            memcpy(s->rewind, p, s->P * sizeof(float));
        outcome_t o;
        double wait = ts_now() - asked;
        int rc = run_here(s, x, ia, ib, &o);
        if (rc)
            return rc;
        /* the report is the next request; what the training produced follows it */
        double r[REPORT_LEN] = {REPORT_NODE, o.node, o.status, o.wall, o.write, o.density, o.acc, wait};
        MPI_Send(r, REPORT_LEN, MPI_DOUBLE, 0, TAG_REPORT, s->comm);
        if (o.status == STATUS_FAILED) {
            char err[ERROR_LEN] = {0};
            snprintf(err, sizeof err, "%s", s->res.error);
            MPI_Send(err, ERROR_LEN, MPI_BYTE, 0, TAG_STATE, s->comm);
        } else if (o.status == STATUS_DONE) {
            for (int i = 0; output_id(s->g, x, i) >= 0; i++)
                MPI_Send(s->out_hist[i], (int)s->W, MPI_BYTE, 0, TAG_STATE, s->comm);
            if (makes_rewind(s, x))
                MPI_Send(s->rewind, (int)(s->P * sizeof(float)), MPI_BYTE, 0, TAG_STATE, s->comm);
        }
    }
}

static void root_free(sched_t *s)
{
    if (s->hist)
        for (int x = 0; x < s->g->N; x++)
            free(s->hist[x]);
    if (s->rewinds)
        for (int i = 0; i < s->cfg->n_seeds; i++)
            free(s->rewinds[i]);
    free(s->state), free(s->unmet), free(s->need), free(s->hist), free(s->ready.a);
    free(s->node_wall), free(s->cell_left), free(s->cell_failed), free(s->rewinds);
    free(s->cache_of), free(s->rewind_of), free(s->running), free(s->idle), free(s->hosts);
}

int sched_run(MPI_Comm comm, const config_t *cfg, const data_t *data, const graph_t *g,
              store_t *store, const sched_opts_t *opts, const sched_plan_t *plan,
              sched_stats_t *stats)
{
    sched_t s;
    int rc = 0, len;
    memset(&s, 0, sizeof s);
    s.comm = comm;
    s.cfg = cfg;
    s.g = g;
    s.store = store;
    s.opts = opts;
    s.plan = plan;
    MPI_Comm_rank(comm, &s.rank);
    MPI_Comm_size(comm, &s.size);
    MPI_Get_processor_name(s.host, &len);
    prov_here(&s.prov);
    double t0 = ts_now();
    if ((rc = trial_ctx_create(&s.ctx, cfg, data)) ||
        (rc = node_result_create(&s.res, trial_eval_count(cfg))))
        goto out_agree;
    prov_conv(&s.prov, net_conv_kernels(&s.ctx.net, cfg->kernels));
    s.W = s.ctx.net.n_weights;
    s.P = s.ctx.net.n_params;
    s.msg_cap = sizeof(ctrl_t) + 2 * s.W + s.P * sizeof(float) + ERROR_LEN;
    s.msg = ts_malloc(s.msg_cap);
    s.in_a = ts_malloc(s.W + 1);
    s.in_b = ts_malloc(s.W + 1);
    s.ones = ts_malloc(s.W + 1);
    s.rewind = ts_calloc(s.P, sizeof(float));
    if (cfg->weights == WEIGHTS_FINAL && !(s.weights = ts_malloc(s.P * sizeof(float)))) {
        rc = TS_ERUN;
        goto out_agree;
    }
    if (!s.msg || !s.in_a || !s.in_b || !s.ones || !s.rewind) {
        rc = TS_ERUN;
        goto out_agree;
    }
    memset(s.ones, 1, s.W);
out_agree:
    MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MIN, comm);
    if (rc)
        goto out;
    if (s.rank == 0 && store && !(rc = ts_fault("store_write_theta0", 0))) /* theta0 of every seed */
        rc = store_write_theta0(store);
    /* a failed write ends every rank, not rank 0 alone (the workers would wait for it) */
    MPI_Allreduce(MPI_IN_PLACE, &rc, 1, MPI_INT, MPI_MIN, comm);
    s.ctx.theta0_seed = -1;
    if (!rc)
        rc = s.rank == 0 ? run_root(&s) : run_worker(&s);
    if (s.rank == 0 && stats) {
        stats->done = s.done;
        stats->failed = s.failed + s.skipped;
        stats->pending = s.to_run - s.done - s.failed - s.skipped;
        stats->cells_done = s.cells_done;
        stats->cells_failed = s.cells_failed;
        stats->cells_pending = s.cells_total - s.cells_done - s.cells_failed;
        stats->interrupted = s.stopping;
        stats->seconds = ts_now() - t0;
        stats->busy_seconds = s.busy_seconds;
        stats->write_seconds = s.write_seconds;
        stats->serve_seconds = s.serve_seconds;
        stats->served = s.served;
        stats->wait_seconds = s.wait_seconds;
        stats->waits = s.waits;
        stats->sent_bytes = s.sent;
        stats->peak_held_bytes = s.peak_held;
    }
out:
    if (s.rank == 0)
        root_free(&s);
    for (int i = 0; i < s.out_cap; i++)
        free(s.out_hist[i]);
    free(s.out_hist);
    free(s.msg), free(s.in_a), free(s.in_b), free(s.ones), free(s.rewind), free(s.weights);
    node_result_free(&s.res);
    trial_ctx_free(&s.ctx);
    return rc;
}
