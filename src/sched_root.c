/*
 * sched_root.c - rank 0's side of the scheduler (sched.h; the messages and
 * the state are sched_impl.h's): the ready trainings, longest remaining path
 * first; the histories held for trainings still to start; the cells' status
 * once all their trainings are written; handing trainings to idle workers
 * with the inputs they lack; serving reports between rank 0's own
 * minibatches; stopping on a signal; and ending the sweep at once on an error
 * that is not a training's own (s->error).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "grid.h"
#include "sched_impl.h"
#include "util.h"

/* ---------- the ready heap (rank 0): most remaining work first, then lowest id ---------- */

/* The top ready training (entries taken out of order are skipped lazily). */
static int32_t heap_top(sched_t *s)
{
    while (s->ready.n > 0 && s->state[s->ready.a[0]] != N_READY)
        graph_heap_pop(&s->ready);
    return s->ready.n > 0 ? s->ready.a[0] : -1;
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
    /* the instability analysis's copies and lines are counted with the trainings */
    const char *what = s->g->NA > s->g->N ? "trainings, copies and lines" : "trainings";
    if (s->tty) {
        int width = 30, fill = s->to_run ? width * finished / s->to_run : width;
        fprintf(stderr, "\r[%.*s%*s] %d/%d %s, %d failed, %d running; cells %d/%d; ETA %s   ",
                fill, "##############################", width - fill, "", s->done, s->to_run, what,
                s->failed + s->skipped, running, s->cells_done, s->cells_total, eta);
    } else {
        fprintf(stderr, "progress: %d/%d %s done, %d failed, %d running; %d/%d cells; ETA %s\n",
                s->done, s->to_run, what, s->failed + s->skipped, running, s->cells_done, s->cells_total, eta);
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

static void hold_fw(sched_t *s, int32_t y, float *w)
{
    s->fw[y] = w;
    s->held += (double)s->P * sizeof(float);
    if (s->held > s->peak_held)
        s->peak_held = s->held;
}

static void release_fw(sched_t *s, int32_t y)
{
    if (--s->fw_need[y] == 0 && s->fw[y]) {
        free(s->fw[y]);
        s->fw[y] = NULL;
        s->held -= (double)s->P * sizeof(float);
    }
}

/* The final weights of y are needed by a line still to start and not held yet. */
static int wanted_fw(const sched_t *s, int32_t y)
{
    return s->fw_need[y] > 0 && !s->fw[y];
}

/* Node x has started (or will never start): what rank 0 held for it alone goes. */
static void release_inputs(sched_t *s, int32_t x)
{
    int32_t a, b;
    graph_inputs(s->g, x, &a, &b);
    release(s, a);
    release(s, b);
    for (int j = 0; s->g->nodes[x].kind == NODE_LINE && j < s->g->C; j++)
        release_fw(s, graph_line_input(s->g, x, j));
}

/* What node x is, for the log: "training 12 (seed 1, ticket round 2)", "copy 1
 * of training 12 (...)", "the line of training 12 (...)". */
static const char *node_text(const sched_t *s, int32_t x, char *buf, size_t len)
{
    const graph_node_t *n = &s->g->nodes[x];
    int32_t t = graph_train(s->g, x);
    char what[48] = "";
    if (n->kind == NODE_COPY)
        snprintf(what, sizeof what, "copy %d of ", n->copy);
    else if (n->kind == NODE_LINE)
        snprintf(what, sizeof what, "the line of ");
    int off = snprintf(buf, len, "%straining %d (seed %lld, %s round %d", what, t,
                       (long long)s->cfg->seeds[n->seed_i], trial_arm_names[n->arm], n->round);
    if (n->kind != NODE_TRAIN && n->round == 0 && s->g->K > 1 && off > 0 && (size_t)off < len)
        off += snprintf(buf + off, len - (size_t)off, ", from k = %lld", (long long)grid_rewind(s->cfg, n->set));
    if (off > 0 && (size_t)off < len)
        snprintf(buf + off, len - (size_t)off, ")");
    return buf;
}

/* Where rank 0 keeps seed si's rewind points, [K][P] (allocated on first
 * use); NULL when out of memory. */
static float *rewind_slot(sched_t *s, int si)
{
    if (!s->rewinds[si])
        s->rewinds[si] = ts_malloc((size_t)s->K * s->P * sizeof(float));
    return s->rewinds[si];
}

/* The rewind point training x starts from (sched_needs_rewind), held at rank 0. */
static const float *rewind_of_node(const sched_t *s, int32_t x)
{
    const graph_node_t *n = &s->g->nodes[x];
    return s->rewinds[n->seed_i] + (size_t)n->rw * s->P;
}

/* Cell t is finished (o: the training that finished it, or NULL): its status. */
static int finish_cell(sched_t *s, int t, const outcome_t *o, const char *error)
{
    int rank = o ? o->rank : -1;
    const graph_t *g = s->g;
    trial_t tr = grid_trial(s->cfg, t);
    double wall = 0;
    int failed = s->cell_failed[t];
    for (int a = 0; a < N_ARMS; a++) /* the cell's distinct trainings, and its copies and lines */
        for (int k = a == ARM_TICKET ? 0 : 1; k <= tr.rounds; k++) {
            int32_t x = graph_cell_node(g, t, a, k);
            if (x >= 0 && s->node_wall[x] == s->node_wall[x])
                wall += s->node_wall[x];
            int32_t y = x >= 0 && graph_sets(g, x) ? graph_line(g, x, graph_cell_set(k, tr.rewind_i)) : -1;
            for (int j = 0; y >= 0 && j < g->C; j++) { /* the line, then its copies */
                int32_t z = j ? graph_line_input(g, y, j) : y;
                if (s->node_wall[z] == s->node_wall[z])
                    wall += s->node_wall[z];
            }
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

/* The (cell, arm, round) entries of training x, or the (cell, round)
 * instability rows of line x, are final (a copy is no cell's entry: its line is). */
static int finish_entries(sched_t *s, int32_t x, int ok, const outcome_t *o, const char *why)
{
    const graph_t *g = s->g;
    const graph_node_t *n = &g->nodes[x];
    int32_t tx = graph_train(g, x);
    int rc = 0;
    if (n->kind == NODE_COPY)
        return 0;
    for (int32_t i = g->inc_off[tx]; i < g->inc_off[tx + 1]; i++) {
        int t = g->inc[i] / N_ARMS;
        if (!s->plan->cells[t])
            continue;
        if (n->kind == NODE_LINE && (g->inc[i] % N_ARMS != ARM_TICKET ||
                                     graph_cell_set(n->round, grid_trial(s->cfg, t).rewind_i) != n->set))
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
            release_inputs(s, d);
            fail_node(s, d, why, o);
        }
    }
}

/* Training x ended on rank `rank` with status; its outputs are in hist[] already. */
static int node_ended(sched_t *s, const outcome_t *o, const char *error)
{
    const graph_t *g = s->g;
    int32_t x = o->node;
    char what[160];
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
        fprintf(stderr, "%s: abandoned (left pending) on rank %d after %.1f s\n", node_text(s, x, what, sizeof what),
                o->rank, o->wall);
        print_progress(s);
        return 0;
    }
    s->node_wall[x] = o->wall;
    int rc = 0;
    if (o->status == STATUS_DONE) {
        s->state[x] = N_DONE;
        s->done++;
        s->cache_of[o->rank] = x;
        if (sched_makes_rewind(s, x)) /* its row 0 */
            s->rewind_of[o->rank] = g->nodes[x].seed_i * s->K;
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
        fprintf(stderr, "%s: FAILED on rank %d: %s\n", node_text(s, x, what, sizeof what), o->rank, error);
        fail_node(s, x, error, o);
    }
    print_progress(s);
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
            (int)sched_stop_signal, s->opts->grace_seconds);
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
 * (plan_sim.c replays this rule, feed_idle's order and sched_run_root's to price a
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

/* Send node x to worker r with the inputs it does not hold (a line: with the
 * final weights it reads). */
static void dispatch(sched_t *s, int32_t x, int r)
{
    int32_t a, b;
    graph_inputs(s->g, x, &a, &b);
    ctrl_t c = {x, 0, 0, IN_NONE, s->g->nodes[x].kind == NODE_LINE};
    char *p = s->msg + sizeof c;
    put_input(s, &c.a, &p, r, a);
    put_input(s, &c.b, &p, r, b);
    if (sched_needs_rewind(s, x)) {
        int slot = sched_rewind_slot(s, x);
        if (s->rewind_of[r] == slot)
            c.rewind = IN_CACHED;
        else {
            c.rewind = IN_SENT;
            memcpy(p, rewind_of_node(s, x), s->P * sizeof(float));
            p += s->P * sizeof(float);
            s->sent += (double)s->P * sizeof(float);
            s->rewind_of[r] = slot;
        }
    }
    for (int j = 0; c.copies && j < s->g->C; j++) {
        memcpy(p, s->fw[graph_line_input(s->g, x, j)], s->P * sizeof(float));
        p += s->P * sizeof(float);
        s->sent += (double)s->P * sizeof(float);
    }
    memcpy(s->msg, &c, sizeof c);
    take(s, x, r);
    MPI_Send(s->msg, (int)(p - s->msg), MPI_BYTE, r, TAG_CTRL, s->comm);
    release_inputs(s, x);
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
    for (int i = 0; (y = sched_output_id(g, o->node, i)) >= 0; i++) {
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
    if (sched_makes_rewind(s, o->node)) {
        float *rw = rewind_slot(s, n->seed_i);
        if (!rw || recv_state(s, src, rw, (size_t)s->K * s->P * sizeof(float)))
            return TS_ERUN;
    }
    if (sched_sends_weights(s, o->node)) { /* for its lines: kept while one is to start */
        float *w = wanted_fw(s, o->node) ? ts_malloc(s->P * sizeof(float)) : NULL;
        if (wanted_fw(s, o->node) && !w)
            return TS_ERUN;
        if (recv_state(s, src, w, s->P * sizeof(float))) {
            free(w);
            return TS_ERUN;
        }
        if (w)
            hold_fw(s, o->node, w);
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
    if (sched_stop_signal && !s->stopping) {
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
/* Rank 0 runs training x itself. */
static int run_root_node(sched_t *s, int32_t x)
{
    int32_t a, b;
    outcome_t o;
    graph_inputs(s->g, x, &a, &b);
    take(s, x, 0);
    if (sched_needs_rewind(s, x))
        memcpy(s->rewind, rewind_of_node(s, x), s->P * sizeof(float));
    for (int j = 0; s->g->nodes[x].kind == NODE_LINE && j < s->g->C; j++)
        memcpy(s->ctx.copy_w + (size_t)j * s->P, s->fw[graph_line_input(s->g, x, j)], s->P * sizeof(float));
    int rc = sched_run_here(s, x, held_hist(s, a), held_hist(s, b), &o);
    if (rc || (rc = s->error))
        return rc;
    release_inputs(s, x);
    /* keep what it produced for the trainings that need it */
    if (o.status == STATUS_DONE) {
        int32_t y;
        for (int i = 0; (y = sched_output_id(s->g, x, i)) >= 0; i++)
            if (wanted(s, y)) {
                hold(s, y, s->out_hist[i]);
                s->out_hist[i] = NULL;
            }
        if (sched_makes_rewind(s, x)) {
            float *rw = rewind_slot(s, s->g->nodes[x].seed_i);
            if (!rw)
                return TS_ERUN;
            memcpy(rw, s->rewind, (size_t)s->K * s->P * sizeof(float));
        }
        if (sched_sends_weights(s, x) && wanted_fw(s, x)) {
            float *w = ts_malloc(s->P * sizeof(float));
            if (!w)
                return TS_ERUN;
            memcpy(w, s->weights, s->P * sizeof(float));
            hold_fw(s, x, w);
        }
    }
    return node_ended(s, &o, s->res.error);
}

double sched_root_bytes(const graph_t *g, int ranks)
{
    sched_t s;
    double N = g->N + 1.0, NA = g->NA + 1.0, T = g->T + 1.0;
    return N * (sizeof *s.need + sizeof *s.hist) +
           NA * (sizeof *s.state + sizeof *s.unmet + sizeof *s.ready.a + sizeof *s.node_wall + sizeof *s.fw_need +
                 sizeof *s.fw) +
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
    int N = g->N, NA = g->NA, T = g->T, rc = 0;
    s->state = ts_calloc((size_t)NA + 1, 1);
    s->unmet = ts_calloc((size_t)NA + 1, sizeof *s->unmet);
    s->need = ts_calloc((size_t)N + 1, sizeof *s->need);
    s->hist = ts_calloc((size_t)N + 1, sizeof *s->hist);
    s->fw_need = ts_calloc((size_t)NA + 1, sizeof *s->fw_need);
    s->fw = ts_calloc((size_t)NA + 1, sizeof *s->fw);
    s->ready.a = ts_calloc((size_t)NA + 1, sizeof *s->ready.a);
    s->ready.key = (const char *)&g->nodes[0].cost;
    s->ready.stride = sizeof g->nodes[0];
    s->node_wall = ts_calloc((size_t)NA + 1, sizeof *s->node_wall);
    s->cell_left = ts_calloc((size_t)T + 1, sizeof *s->cell_left);
    s->cell_failed = ts_calloc((size_t)T + 1, 1);
    s->rewinds = ts_calloc((size_t)s->cfg->n_seeds, sizeof *s->rewinds);
    s->cache_of = ts_calloc((size_t)s->size, sizeof *s->cache_of);
    s->rewind_of = ts_calloc((size_t)s->size, sizeof *s->rewind_of);
    s->running = ts_calloc((size_t)s->size, sizeof *s->running);
    s->idle = ts_calloc((size_t)s->size, 1);
    if (!s->state || !s->unmet || !s->need || !s->hist || !s->fw_need || !s->fw || !s->ready.a || !s->node_wall ||
        !s->cell_left || !s->cell_failed || !s->rewinds || !s->cache_of || !s->rewind_of ||
        !s->running || !s->idle)
        return TS_ERUN;
    for (int r = 0; r < s->size; r++)
        s->cache_of[r] = s->rewind_of[r] = s->running[r] = -1;
    for (int x = 0; x < NA; x++) {
        s->node_wall[x] = pl->wall ? pl->wall[x] : NAN;
        s->state[x] = pl->done && pl->done[x] ? N_DONE : pl->to_run[x] ? N_WAIT : N_OFF;
    }
    for (int x = 0; x < NA; x++) {
        if (s->state[x] != N_WAIT)
            continue;
        s->to_run++;
        int32_t d[GRAPH_MAX_DEPS];
        for (int i = 0, n = graph_deps(g, x, d); i < n; i++)
            s->unmet[x] += s->state[d[i]] != N_DONE;
        int32_t a, b;
        graph_inputs(g, x, &a, &b);
        if (a >= 0)
            s->need[a]++;
        if (b >= 0)
            s->need[b]++;
        for (int j = 0; g->nodes[x].kind == NODE_LINE && j < g->C; j++)
            s->fw_need[graph_line_input(g, x, j)]++;
    }
    /* final weights a line still to run reads, made in an earlier run: from the file */
    for (int y = 0; y < NA && !rc; y++) {
        if (s->fw_need[y] == 0 || s->state[y] != N_DONE)
            continue;
        float *w = ts_malloc(s->P * sizeof(float));
        if (!w)
            return TS_ERUN;
        hold_fw(s, y, w);
        rc = s->store ? store_read_copy(s->store, y, w) : 0;
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
    for (int si = 0; si < s->cfg->n_seeds && !rc && grid_rewinding(s->cfg); si++)
        for (int x = 0; x < N; x++) {
            const graph_node_t *n = &g->nodes[x];
            if (n->seed_i != si || n->arm != ARM_TICKET || n->round != 0 || s->state[x] != N_DONE)
                continue;
            float *rw = rewind_slot(s, si);
            if (!rw)
                return TS_ERUN;
            for (int i = 0; i < s->K && !rc && s->store; i++)
                rc = store_read_rewind(s->store, si * s->K + i, rw + (size_t)i * s->P);
            break;
        }
    if (rc)
        return rc;
    for (int x = 0; x < NA; x++)
        if (s->state[x] == N_WAIT && s->unmet[x] == 0) {
            s->state[x] = N_READY;
            graph_heap_push(&s->ready, x);
        }
    /* cells: entries still to finish; those finished already get their status now */
    for (int t = 0; t < T; t++) {
        if (!pl->cells[t])
            continue;
        s->cells_total++;
        int rw = grid_trial(s->cfg, t).rewind_i;
        for (int a = 0; a < N_ARMS; a++)
            for (int k = 0; k < g->R1; k++) {
                int32_t x = graph_cell_node(g, t, a, k);
                s->cell_left[t] += x >= 0 && s->state[x] != N_DONE;
                /* and the line of its ticket round (its instability rows) */
                int32_t y = a == ARM_TICKET && x >= 0 && graph_sets(g, x) ? graph_line(g, x, graph_cell_set(k, rw)) : -1;
                s->cell_left[t] += y >= 0 && s->state[y] != N_DONE;
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
int sched_run_root(sched_t *s)
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
void sched_root_free(sched_t *s)
{
    if (s->hist)
        for (int x = 0; x < s->g->N; x++)
            free(s->hist[x]);
    if (s->fw)
        for (int x = 0; x < s->g->NA; x++)
            free(s->fw[x]);
    if (s->rewinds)
        for (int i = 0; i < s->cfg->n_seeds; i++)
            free(s->rewinds[i]);
    free(s->state), free(s->unmet), free(s->need), free(s->hist), free(s->fw_need), free(s->fw), free(s->ready.a);
    free(s->node_wall), free(s->cell_left), free(s->cell_failed), free(s->rewinds);
    free(s->cache_of), free(s->rewind_of), free(s->running), free(s->idle), free(s->hosts);
}
