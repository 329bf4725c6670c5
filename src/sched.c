/*
 * sched.c - rank 0 hands out trials (see sched.h).
 *
 * Protocol, all on one communicator:
 *   worker -> 0, TAG_REPORT: double[REPORT_LEN] = {kind, outcome_t fields}
 *            kind REPORT_READY (first request) or REPORT_TRIAL (a trial ended).
 *   0 -> worker, TAG_CTRL: int = a trial index to run, CTRL_STOP, or CTRL_ABORT
 *            (abandon the trial in flight; sent only to busy workers, so a
 *            worker's poll hook that finds a TAG_CTRL message knows it is that).
 * One tag in each direction keeps the messages between two ranks in order.
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
#include "sched.h"

enum { TAG_REPORT = 11, TAG_CTRL = 12 };
enum { REPORT_READY = 0, REPORT_TRIAL = 1 };
enum { CTRL_STOP = -1, CTRL_ABORT = -2 };

/* What rank 0 learns of a trial that ended (the progress line's figures). */
typedef struct {
    int trial, status, rank;
    double wall;          /* seconds in trial_run and the writes */
    double write;         /* seconds of those in store_write_trial */
    double density, acc;  /* the ticket's last round */
    double wait;          /* seconds the worker waited for this trial after asking */
} outcome_t;
#define REPORT_LEN 8

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

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
    MPI_Comm comm;
    int rank, size;
    const config_t *cfg;
    store_t *store;
    const sched_opts_t *opts;
    trial_ctx_t ctx;
    trial_result_t res;
    char host[MPI_MAX_PROCESSOR_NAME];
    /* rank 0 only */
    int *queue, qlen, qpos;
    char *busy;            /* [size]: worker has a trial in flight */
    int active;            /* workers not yet told to stop */
    int stopping, aborting;
    double deadline, t0;
    int done, failed, abandoned, total;
    double cost_total, cost_done; /* grid_cost units: the ETA weighs trials by cost */
    double busy_seconds, write_seconds, wait_seconds;
    int waits;
    double serve_seconds; /* rank 0's time answering reports */
    int served;
    int tty;
} sched_t;

/* ---------- progress output (rank 0) ---------- */

static void print_progress(sched_t *s)
{
    double el = now() - s->t0;
    int finished = s->done + s->failed, running = 0;
    for (int r = 0; r < s->size; r++)
        running += s->busy[r];
    double rate = el > 0 ? finished / el : 0;
    char eta[32] = "?";
    if (s->cost_done > 0)
        snprintf(eta, sizeof eta, "%.0f s", el * (s->cost_total - s->cost_done) / s->cost_done);
    if (s->tty) {
        int width = 30, fill = s->total ? width * finished / s->total : width;
        fprintf(stderr, "\r[%.*s%*s] %d/%d done, %d failed, %d running, %.2f trials/s, ETA %s   ",
                fill, "##############################", width - fill, "", s->done, s->total,
                s->failed, running, rate, eta);
    } else {
        fprintf(stderr, "progress: %d/%d done, %d failed, %d running, %.2f trials/s, ETA %s\n",
                s->done, s->total, s->failed, running, rate, eta);
    }
    fflush(stderr);
}

static void report_trial(sched_t *s, const outcome_t *o)
{
    int t = o->trial, status = o->status, rank = o->rank;
    double wall = o->wall;
    trial_t tr = grid_trial(s->cfg, t);
    s->cost_done += grid_cost(s->cfg, &tr);
    if (status == STATUS_DONE)
        s->done++;
    else if (status == STATUS_FAILED)
        s->failed++;
    else
        s->abandoned++;
    s->busy_seconds += wall;
    s->write_seconds += o->write;
    if (rank > 0) {
        s->wait_seconds += o->wait;
        s->waits++;
    }
    if (s->tty)
        fprintf(stderr, "\r\033[K");
    if (status == STATUS_DONE)
        fprintf(stderr,
                "trial %d (rate %g, rounds %d, seed %lld): done on rank %d in %.1f s; round %d: "
                "density %.4f, early-stop test acc %.4f\n",
                t, tr.rate, tr.rounds, (long long)tr.seed, rank, wall, tr.rounds, o->density, o->acc);
    else
        fprintf(stderr, "trial %d (rate %g, rounds %d, seed %lld): %s on rank %d after %.1f s\n", t,
                tr.rate, tr.rounds, (long long)tr.seed,
                status == STATUS_FAILED ? "FAILED" : "abandoned (left pending)", rank, wall);
    print_progress(s);
}

/* ---------- rank 0: dispatch ---------- */

static void begin_stop(sched_t *s)
{
    if (s->stopping)
        return;
    s->stopping = 1;
    s->deadline = now() + s->opts->grace_seconds;
    if (s->tty)
        fprintf(stderr, "\r\033[K");
    fprintf(stderr, "ticketsweep: signal %d: no new trials; trials in flight get %.0f s to finish\n",
            (int)stop_signal, s->opts->grace_seconds);
}

/* Tell busy workers to abandon their trials (once the grace time is over). */
static void abort_workers(sched_t *s)
{
    if (s->aborting)
        return;
    s->aborting = 1;
    int msg = CTRL_ABORT;
    for (int r = 1; r < s->size; r++)
        if (s->busy[r])
            MPI_Send(&msg, 1, MPI_INT, r, TAG_CTRL, s->comm);
}

/* Answer one report from a worker. */
static void serve_one(sched_t *s, MPI_Status *st)
{
    double m[REPORT_LEN], t0 = now();
    int src = st->MPI_SOURCE;
    MPI_Recv(m, REPORT_LEN, MPI_DOUBLE, src, TAG_REPORT, s->comm, MPI_STATUS_IGNORE);
    if ((int)m[0] == REPORT_TRIAL) {
        outcome_t o = {(int)m[1], (int)m[2], src, m[3], m[4], m[5], m[6], m[7]};
        s->busy[src] = 0;
        report_trial(s, &o);
    }
    int next = CTRL_STOP;
    if (!s->stopping && s->qpos < s->qlen) {
        next = s->queue[s->qpos++];
        s->busy[src] = 1;
    } else {
        s->active--;
    }
    MPI_Send(&next, 1, MPI_INT, src, TAG_CTRL, s->comm);
    s->serve_seconds += now() - t0;
    s->served++;
}

/* Serve every report waiting now; returns how many. */
static int serve_pending(sched_t *s)
{
    int n = 0, flag;
    MPI_Status st;
    for (;;) {
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_REPORT, s->comm, &flag, &st);
        if (!flag)
            return n;
        serve_one(s, &st);
        n++;
    }
}

static void check_stop(sched_t *s)
{
    if (stop_signal && !s->stopping)
        begin_stop(s);
    if (s->stopping && !s->aborting && now() >= s->deadline)
        abort_workers(s);
}

/* Rank 0's poll hook: serve, then say whether its own trial must be abandoned. */
static int poll_root(void *arg)
{
    sched_t *s = arg;
    if (s->size > 1)
        serve_pending(s);
    check_stop(s);
    return s->aborting;
}

/* A worker's poll hook: a message from rank 0 during a trial can only be ABORT. */
static int poll_worker(void *arg)
{
    sched_t *s = arg;
    int flag, msg;
    MPI_Iprobe(0, TAG_CTRL, s->comm, &flag, MPI_STATUS_IGNORE);
    if (!flag)
        return 0;
    MPI_Recv(&msg, 1, MPI_INT, 0, TAG_CTRL, s->comm, MPI_STATUS_IGNORE);
    return 1;
}

/* Run trial t here and write it. Returns 0, or TS_ERUN when the store fails. */
static int run_one(sched_t *s, int t, outcome_t *o)
{
    trial_t tr = grid_trial(s->cfg, t);
    double t0 = now();
    int rc = s->opts->run ? s->opts->run(s->opts->run_arg, &tr, &s->res)
                          : trial_run(&s->ctx, &tr, &s->res);
    if (rc == TS_ERUN) { /* e.g. out of memory: the trial fails, the sweep goes on */
        s->res.status = STATUS_FAILED;
        snprintf(s->res.error, sizeof s->res.error, "%s", ts_errmsg());
    }
    double t1 = now();
    rc = 0;
    if (s->res.status != STATUS_PENDING && s->store) /* abandoned: nothing to write */
        rc = store_write_trial(s->store, t, &s->res, t1 - t0, s->rank, s->host);
    *o = (outcome_t){t, s->res.status, s->rank, now() - t0, now() - t1,
                     s->res.density[ARM_TICKET][tr.rounds], s->res.es_test_acc[ARM_TICKET][tr.rounds], 0};
    return rc;
}

static int cmp_cost_desc(const void *a, const void *b, void *arg)
{
    const config_t *cfg = arg;
    int ta = *(const int *)a, tb = *(const int *)b;
    trial_t x = grid_trial(cfg, ta), y = grid_trial(cfg, tb);
    double ca = grid_cost(cfg, &x), cb = grid_cost(cfg, &y);
    if (ca != cb)
        return ca > cb ? -1 : 1;
    return (ta > tb) - (ta < tb);
}

static int run_root(sched_t *s, const char *to_run)
{
    int T = grid_size(s->cfg), rc = 0;
    s->queue = ts_calloc((size_t)T, sizeof(int));
    s->busy = ts_calloc((size_t)s->size, 1);
    if (!s->queue || !s->busy)
        return TS_ERUN;
    for (int t = 0; t < T; t++)
        if (to_run[t])
            s->queue[s->qlen++] = t;
    qsort_r(s->queue, (size_t)s->qlen, sizeof(int), cmp_cost_desc, (void *)s->cfg);
    s->total = s->qlen;
    for (int i = 0; i < s->qlen; i++) {
        trial_t tr = grid_trial(s->cfg, s->queue[i]);
        s->cost_total += grid_cost(s->cfg, &tr);
    }
    s->active = s->size - 1;
    s->tty = isatty(2);
    s->t0 = now();
    s->ctx.poll = poll_root;
    s->ctx.poll_arg = s;

    for (;;) {
        check_stop(s);
        /* waiting workers first: rank 0 takes a trial only when none is asking */
        if (s->size > 1)
            serve_pending(s);
        if (!s->stopping && s->qpos < s->qlen) {
            outcome_t o;
            s->busy[0] = 1;
            if ((rc = run_one(s, s->queue[s->qpos++], &o)))
                break;
            s->busy[0] = 0;
            report_trial(s, &o);
            continue;
        }
        if (s->active == 0)
            break;
        if (!serve_pending(s)) {
            struct timespec ms = {0, 1000000}; /* idle manager: ~0 CPU */
            nanosleep(&ms, NULL);
        }
    }
    if (s->tty)
        fprintf(stderr, "\n");
    return rc;
}

static int run_worker(sched_t *s)
{
    double m[REPORT_LEN] = {REPORT_READY};
    s->ctx.poll = poll_worker;
    s->ctx.poll_arg = s;
    for (;;) {
        int t;
        double asked = now();
        MPI_Send(m, REPORT_LEN, MPI_DOUBLE, 0, TAG_REPORT, s->comm);
        /* An ABORT sent while our report was on its way is stale: the answer
         * to the report follows it. */
        do
            MPI_Recv(&t, 1, MPI_INT, 0, TAG_CTRL, s->comm, MPI_STATUS_IGNORE);
        while (t == CTRL_ABORT);
        if (t == CTRL_STOP)
            return 0;
        outcome_t o;
        double wait = now() - asked;
        int rc = run_one(s, t, &o);
        if (rc)
            return rc;
        double r[REPORT_LEN] = {REPORT_TRIAL, o.trial, o.status, o.wall, o.write, o.density, o.acc, wait};
        memcpy(m, r, sizeof m);
    }
}

int sched_run(MPI_Comm comm, const config_t *cfg, const data_t *data, store_t *store,
              const sched_opts_t *opts, const char *to_run, sched_stats_t *stats)
{
    sched_t s;
    int rc, len;
    memset(&s, 0, sizeof s);
    s.comm = comm;
    s.cfg = cfg;
    s.store = store;
    s.opts = opts;
    MPI_Comm_rank(comm, &s.rank);
    MPI_Comm_size(comm, &s.size);
    MPI_Get_processor_name(s.host, &len);
    double t0 = now();
    if ((rc = trial_ctx_create(&s.ctx, cfg, data)) ||
        (rc = trial_result_create(&s.res, cfg, &s.ctx.net)))
        goto out;
    if (s.rank == 0 && store) /* theta0 of every seed: known before any trial */
        for (int i = 0; i < cfg->n_seeds && !rc; i++) {
            trial_theta0(&s.ctx.net, cfg->seeds[i], s.ctx.theta0);
            rc = store_write_theta0(store, i, s.ctx.theta0);
        }
    if (!rc)
        rc = s.rank == 0 ? run_root(&s, to_run) : run_worker(&s);
    if (s.rank == 0 && stats) {
        stats->done = s.done;
        stats->failed = s.failed;
        stats->pending = s.total - s.done - s.failed;
        stats->interrupted = s.stopping;
        stats->seconds = now() - t0;
        stats->busy_seconds = s.busy_seconds;
        stats->write_seconds = s.write_seconds;
        stats->serve_seconds = s.serve_seconds;
        stats->served = s.served;
        stats->wait_seconds = s.wait_seconds;
        stats->waits = s.waits;
    }
out:
    trial_result_free(&s.res);
    trial_ctx_free(&s.ctx);
    free(s.queue);
    free(s.busy);
    return rc;
}
