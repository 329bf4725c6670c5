/*
 * sched_worker.c - a training on this rank, rank 0's or a worker's (which
 * histories it reads and produces, its output buffers, running and writing
 * it: sched_run_here), and a worker's loop: ask rank 0 for work, train what it
 * sends, report (sched_run_worker). The protocol is described in sched.c.
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

/* ---------- inputs of a training (which histories: graph_inputs, graph_producer) ---------- */

int sched_sends_weights(const sched_t *s, int x)
{
    return s->g->nodes[x].kind == NODE_COPY || graph_sets(s->g, x) > 0;
}

int sched_needs_rewind(const sched_t *s, int x)
{
    const graph_node_t *n = &s->g->nodes[x];
    return n->kind != NODE_LINE && n->round > 0 && n->arm != ARM_REINIT && grid_rewind(s->cfg, n->rw) > 0; /* every arm but
                                               reinit starts from the ticket's start, or its signs */
}

/* Training x produces its seed's rewind points (round 0 of a ticket, rewinding). */
int sched_makes_rewind(const sched_t *s, int x)
{
    const graph_node_t *n = &s->g->nodes[x];
    return n->kind == NODE_TRAIN && n->round == 0 && n->arm == ARM_TICKET && grid_rewinding(s->cfg);
}

int sched_rewind_slot(const sched_t *s, int x)
{
    const graph_node_t *n = &s->g->nodes[x];
    return n->seed_i * s->K + n->rw;
}

/* The i-th mask history training x produces, -1 past the last: a ticket's
 * children in graph order, a random or pruning-at-initialisation training's
 * own (graph_arm_own_mask; nobody reads the latter's but its mask row). This
 * is the order of its output buffers and of the messages that carry them to
 * rank 0. */
int32_t sched_output_id(const graph_t *g, int32_t x, int i)
{
    const graph_node_t *n = &g->nodes[x];
    if (n->kind != NODE_TRAIN) /* a copy's or line's output is no history */
        return -1;
    if (graph_arm_own_mask(n->arm))
        return i == 0 ? x : -1;
    if (n->arm != ARM_TICKET)
        return -1;
    int32_t c = n->first_child;
    while (c >= 0 && i-- > 0)
        c = g->nodes[c].next_sibling;
    return c;
}
/* ---------- running a training here ---------- */

/* Output buffers for the histories training x produces (sched_output_id order). */
static int out_buffers(sched_t *s, int x, uint8_t ***children, uint8_t **own)
{
    const graph_node_t *n = &s->g->nodes[x];
    int n_out = 0;
    while (sched_output_id(s->g, x, n_out) >= 0)
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
    *own = n->kind == NODE_TRAIN && graph_arm_own_mask(n->arm) ? s->out_hist[0] : n->round == 0 ? s->ones : NULL;
    return 0;
}

/* Write node x, which ended with status (a training, a copy, a line). */
static int write_node(sched_t *s, int x, int status, uint8_t **children, const uint8_t *own, int root_rewind,
                      double wall)
{
    const graph_node_t *n = &s->g->nodes[x];
    if (n->kind == NODE_COPY)
        return store_write_copy(s->store, x, status, s->res.error, s->weights, wall, s->rank, s->host);
    if (n->kind == NODE_LINE)
        return store_write_line(s->store, x, &s->res, status, wall, s->rank, s->host);
    return store_write_node(s->store, x, &s->res, status, children, own, root_rewind ? s->rewind : NULL,
                            s->weights, wall, s->rank, s->host, &s->prov);
}

/* Run training x from inputs a, b (and the rewind point) and write it. */
int sched_run_here(sched_t *s, int x, const uint8_t *a, const uint8_t *b, outcome_t *o)
{
    const graph_node_t *n = &s->g->nodes[x];
    uint8_t **children, *own;
    double t0 = ts_now();
    int rc = out_buffers(s, x, &children, &own);
    if (rc)
        return rc;
    node_in_t in = {a, b, sched_needs_rewind(s, x) ? s->rewind : NULL,
                    n->kind == NODE_LINE ? s->ctx.copy_w : NULL};
    int root_rewind = sched_makes_rewind(s, x);
    node_out_t out = {children, n->kind == NODE_TRAIN && graph_arm_own_mask(n->arm) ? own : NULL,
                      root_rewind ? s->rewind : NULL, s->weights};
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
            rc = write_node(s, x, status, children, own_hist, root_rewind, t1 - t0);
    }
    *o = (outcome_t){x, status, s->rank, ts_now() - t0, ts_now() - t1, s->res.density, s->res.es_test_acc, 0};
    return rc;
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
    while (sched_output_id(g, c, i) != y)
        i++;
    memcpy(buf, s->out_hist[i], s->W);
    return buf;
}

/*
 * A worker's loop: ask rank 0 for work (the report of the last training is the
 * request), train and write what it is given, until told to stop. Returns 0 or
 * TS_ERUN (the store failed).
 */
int sched_run_worker(sched_t *s)
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
        if (c.rewind == IN_SENT) {
            memcpy(s->rewind, p, s->P * sizeof(float));
            p += s->P * sizeof(float);
        }
        if (c.copies) /* a line: the final weights it reads */
            memcpy(s->ctx.copy_w, p, (size_t)s->g->C * s->P * sizeof(float));
        outcome_t o;
        double wait = ts_now() - asked;
        int rc = sched_run_here(s, x, ia, ib, &o);
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
            for (int i = 0; sched_output_id(s->g, x, i) >= 0; i++)
                MPI_Send(s->out_hist[i], (int)s->W, MPI_BYTE, 0, TAG_STATE, s->comm);
            if (sched_makes_rewind(s, x))
                MPI_Send(s->rewind, (int)((size_t)s->K * s->P * sizeof(float)), MPI_BYTE, 0, TAG_STATE,
                         s->comm);
            if (sched_sends_weights(s, x))
                MPI_Send(s->weights, (int)(s->P * sizeof(float)), MPI_BYTE, 0, TAG_STATE, s->comm);
        }
    }
}
