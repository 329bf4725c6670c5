/*
 * sched.c - the sweep scheduler (see sched.h): its protocol, the stop signals
 * and sched_run, which sets a rank up and runs rank 0's side (sched_root.c) or a
 * worker's (sched_worker.c); what they share is sched_impl.h.
 *
 * Protocol, all on one communicator:
 *   worker -> 0, TAG_REPORT: double[REPORT_LEN] = {kind, outcome_t fields},
 *            kind REPORT_READY (first request) or REPORT_NODE (a training
 *            ended); after a REPORT_NODE with status done, TAG_STATE
 *            messages with what the training produced, in a fixed order:
 *            the mask history of each ticket child (graph order), a random
 *            node's own history, the rewind point (round 0, rewinding), the
 *            final weights (an analysed training, a copy: graph.h); with
 *            status failed, the error text.
 *   0 -> worker, TAG_CTRL: bytes = ctrl_t, then the inputs it says are sent
 *            (history A, history B, rewind point, and for a line the C final
 *            weights it reads); or a ctrl_t whose node is
 *            CTRL_STOP or CTRL_ABORT (abandon the training in flight; sent
 *            only to busy workers, so a worker's poll hook that finds a
 *            TAG_CTRL message knows it is that).
 * One tag per kind and direction keeps the messages between two ranks in order.
 *
 * A training's inputs: A is the history its mask comes from (ticket: its own;
 * reinit: its twin's; random: its previous random node's), B the twin
 * ticket's (random only); a copy's and a line's are their training's. A
 * worker keeps what its last training produced; rank 0 sends an input only
 * when the worker does not hold it already. Final weights are held at rank 0
 * only while a line that reads them has not started.
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

volatile sig_atomic_t sched_stop_signal;

static void on_signal(int sig)
{
    sched_stop_signal = sig;
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

double sched_rank_bytes(const config_t *cfg, const net_t *net, const graph_t *g)
{
    int children = 0; /* the most outputs one training makes (out_buffers) */
    for (int x = 0; x < g->N; x++)
        if (g->nodes[x].arm == ARM_TICKET) {
            int c = graph_children(g, x);
            children = c > children ? c : children;
        }
    double W = (double)net->n_weights + 1, P = (double)net->n_params * sizeof(float);
    double msg = sizeof(ctrl_t) + 2 * W + (1 + (g->C > 1 ? g->C : 1)) * P + ERROR_LEN;
    int K;
    grid_rewinds(cfg, &K);
    return msg + 3 * W /* in_a, in_b, ones */ + (children + 1) * W + K * P /* rewind */ +
           (cfg->weights == WEIGHTS_FINAL || g->C ? P : 0);
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
        (rc = node_result_create(&s.res, trial_eval_count(cfg))) ||
        (rc = node_result_analysis(&s.res, cfg)))
        goto out_agree;
    prov_conv(&s.prov, net_conv_kernels(&s.ctx.net, cfg->kernels));
    s.W = s.ctx.net.n_weights;
    s.P = s.ctx.net.n_params;
    int C = g->C > 1 ? g->C : 1; /* a line's message: its copies' final weights */
    s.msg_cap = sizeof(ctrl_t) + 2 * s.W + (size_t)(1 + C) * s.P * sizeof(float) + ERROR_LEN;
    s.msg = ts_malloc(s.msg_cap);
    s.in_a = ts_malloc(s.W + 1);
    s.in_b = ts_malloc(s.W + 1);
    s.ones = ts_malloc(s.W + 1);
    grid_rewinds(cfg, &s.K);
    s.rewind = ts_calloc((size_t)s.K * s.P, sizeof(float));
    if ((cfg->weights == WEIGHTS_FINAL || g->C) && !(s.weights = ts_malloc(s.P * sizeof(float)))) {
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
        rc = s.rank == 0 ? sched_run_root(&s) : sched_run_worker(&s);
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
        sched_root_free(&s);
    for (int i = 0; i < s.out_cap; i++)
        free(s.out_hist[i]);
    free(s.out_hist);
    free(s.msg), free(s.in_a), free(s.in_b), free(s.ones), free(s.rewind), free(s.weights);
    node_result_free(&s.res);
    trial_ctx_free(&s.ctx);
    return rc;
}
