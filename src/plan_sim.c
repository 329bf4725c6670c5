/*
 * plan_sim.c - the scheduler's rule replayed over a graph (see plan_sim.h).
 *
 * An event simulation: the events are the ends of trainings, one per busy
 * rank, taken in time order (workers before rank 0 at the same moment, then
 * by rank). Each end marks its training done, makes its dependents ready and,
 * as rank 0 does on a report, serves the waiting workers in rank order; once
 * every end of a moment is served, rank 0, if free, takes the top ready
 * training. The ready queue and the worker's preference are sched_root.c's
 * (before, heap_*, pick), on the copy of the graph's fields in
 * plan_sim_graph_t.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "plan_sim.h"

enum { S_WAIT, S_READY, S_RUN, S_DONE };

typedef struct {
    double t;  /* when the training ends */
    int key;   /* its rank; rank 0 as `ranks`, so that it comes after the workers */
} event_t;

typedef struct {
    const plan_sim_graph_t *g;
    const double *secs;
    int ranks;
    double now;
    int8_t *state;      /* [n] S_* */
    int32_t *unmet;     /* [n] dependencies to run not yet done */
    int32_t *dpt_off;   /* [n + 1] dependents of x: dpt[dpt_off[x] ..], ascending (graph.c's order) */
    int32_t *dpt;
    graph_heap_t ready; /* [n] higher priority first, then the lower id (keys: g->prio) */
    event_t *ev;        /* [ranks] heap: earliest end first */
    int ev_n;
    int32_t *running;   /* [ranks] training, -1 none */
    int32_t *cache_of;  /* [ranks] the last training a rank finished, -1 none */
    char *idle;         /* [ranks] a worker waiting for a training */
    int32_t *rank_of;   /* [n] or NULL */
    int busy, done;
    plan_sim_result_t *out;
} sim_t;

/* ---------- the ready queue: sched_root.c's order (graph_heap_t) ---------- */

/* The top ready training, -1 none (entries taken out of order are dropped here). */
static int32_t ready_top(sim_t *s)
{
    while (s->ready.n > 0 && s->state[s->ready.a[0]] != S_READY)
        graph_heap_pop(&s->ready);
    return s->ready.n > 0 ? s->ready.a[0] : -1;
}

/* ---------- the ends of trainings ---------- */

static int ev_before(const event_t *a, const event_t *b)
{
    return a->t != b->t ? a->t < b->t : a->key < b->key;
}

static void ev_push(sim_t *s, event_t e)
{
    int i = s->ev_n++;
    s->ev[i] = e;
    while (i > 0 && ev_before(&s->ev[i], &s->ev[(i - 1) / 2])) {
        event_t t = s->ev[i];
        s->ev[i] = s->ev[(i - 1) / 2];
        s->ev[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

static event_t ev_pop(sim_t *s)
{
    event_t top = s->ev[0];
    s->ev[0] = s->ev[--s->ev_n];
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->ev_n && ev_before(&s->ev[l], &s->ev[m]))
            m = l;
        if (r < s->ev_n && ev_before(&s->ev[r], &s->ev[m]))
            m = r;
        if (m == i)
            break;
        event_t t = s->ev[i];
        s->ev[i] = s->ev[m];
        s->ev[m] = t;
        i = m;
    }
    return top;
}

/* ---------- rank 0's rule ---------- */

/* sched_root.c's pick: the top ready training, or for a worker a ready dependent
 * of its last training, as high in priority, whose mask that training made. */
static int32_t pick(sim_t *s, int r)
{
    int32_t top = ready_top(s);
    if (top < 0 || r == 0 || s->cache_of[r] < 0)
        return top;
    int32_t c = s->cache_of[r];
    for (int32_t i = s->dpt_off[c]; i < s->dpt_off[c + 1]; i++) {
        int32_t d = s->dpt[i];
        if (s->state[d] == S_READY && !(s->g->prio[d] < s->g->prio[top]) && s->g->src[d] == c)
            return d;
    }
    return top;
}

static void start(sim_t *s, int32_t x, int r)
{
    s->state[x] = S_RUN;
    s->running[r] = x;
    if (s->rank_of)
        s->rank_of[x] = r;
    ev_push(s, (event_t){s->now + s->secs[x], r == 0 ? s->ranks : r});
    if (++s->busy > s->out->peak)
        s->out->peak = s->busy;
}

/* sched_root.c's feed_idle: the waiting workers, in rank order, while trainings are ready. */
static void feed_idle(sim_t *s)
{
    for (int r = 1; r < s->ranks; r++) {
        if (!s->idle[r])
            continue;
        int32_t x = pick(s, r);
        if (x < 0)
            return;
        s->idle[r] = 0;
        start(s, x, r);
    }
}

/* The training on rank r ended now: its dependents may be ready. */
static void finish(sim_t *s, int r)
{
    int32_t x = s->running[r];
    s->running[r] = -1;
    s->busy--;
    s->done++;
    s->state[x] = S_DONE;
    s->cache_of[r] = x;
    s->out->makespan = s->now;
    for (int32_t i = s->dpt_off[x]; i < s->dpt_off[x + 1]; i++) {
        int32_t d = s->dpt[i];
        if (s->state[d] == S_WAIT && --s->unmet[d] == 0) {
            s->state[d] = S_READY;
            graph_heap_push(&s->ready, d);
        }
    }
}

/* ---------- set-up ---------- */

static int check_input(const plan_sim_graph_t *g, const double *secs, int ranks)
{
    if (ranks < 1)
        return ts_fail(TS_EINPUT, "plan_sim: %d ranks: a layout needs at least one", ranks);
    for (int x = 0; x < g->n; x++) {
        for (int32_t i = g->dep_off[x]; i < g->dep_off[x + 1]; i++)
            if (g->dep[i] >= x || g->dep[i] < 0)
                return ts_fail(TS_EINPUT, "plan_sim: training %d depends on %d: dependencies come first",
                               x, g->dep[i]);
        if (g->run[x] && !(secs[x] >= 0 && isfinite(secs[x])))
            return ts_fail(TS_EINPUT, "plan_sim: training %d costs %g s", x, secs[x]);
    }
    return 0;
}

/* Dependents in graph.c's order (build_csr): for each x ascending, its dependencies in slot order. */
static void build_dependents(sim_t *s)
{
    const plan_sim_graph_t *g = s->g;
    for (int x = 0; x < g->n; x++)
        for (int32_t i = g->dep_off[x]; i < g->dep_off[x + 1]; i++)
            s->dpt_off[g->dep[i] + 1]++;
    for (int x = 0; x < g->n; x++)
        s->dpt_off[x + 1] += s->dpt_off[x];
    int32_t *fill = s->unmet; /* zeroed, free until the waits are counted */
    for (int x = 0; x < g->n; x++)
        for (int32_t i = g->dep_off[x]; i < g->dep_off[x + 1]; i++)
            s->dpt[s->dpt_off[g->dep[i]] + fill[g->dep[i]]++] = x;
    memset(fill, 0, (size_t)g->n * sizeof *fill);
}

/* The longest chain of trainings to run (seconds and trainings) into out. */
static void critical_path(const plan_sim_graph_t *g, const double *secs, double *down, int32_t *len,
                          plan_sim_result_t *out)
{
    for (int x = g->n - 1; x >= 0; x--) { /* dependents have larger ids */
        if (!g->run[x])
            continue;
        down[x] += secs[x];
        len[x] += 1;
        if (down[x] > out->critical || (down[x] == out->critical && len[x] > out->critical_len)) {
            out->critical = down[x];
            out->critical_len = len[x];
        }
        for (int32_t i = g->dep_off[x]; i < g->dep_off[x + 1]; i++) {
            int32_t p = g->dep[i];
            if (down[x] > down[p] || (down[x] == down[p] && len[x] > len[p])) {
                down[p] = down[x];
                len[p] = len[x];
            }
        }
    }
}

int plan_sim_run(const plan_sim_graph_t *g, const double *secs, int ranks, plan_sim_result_t *out,
                 int32_t *rank_of)
{
    int rc = check_input(g, secs, ranks);
    if (rc)
        return rc;
    memset(out, 0, sizeof *out);
    size_t n = (size_t)g->n, R = (size_t)ranks;
    sim_t s = {.g = g, .secs = secs, .ranks = ranks, .rank_of = rank_of, .out = out};
    s.state = calloc(n + 1, sizeof *s.state);
    s.unmet = calloc(n + 1, sizeof *s.unmet);
    s.dpt_off = calloc(n + 1, sizeof *s.dpt_off);
    s.dpt = calloc((size_t)g->dep_off[n] + 1, sizeof *s.dpt);
    s.ready.a = calloc(n + 1, sizeof *s.ready.a);
    s.ready.key = (const char *)g->prio;
    s.ready.stride = sizeof *g->prio;
    s.ev = calloc(R, sizeof *s.ev);
    s.running = calloc(R, sizeof *s.running);
    s.cache_of = calloc(R, sizeof *s.cache_of);
    s.idle = calloc(R, 1);
    double *down = calloc(n + 1, sizeof *down);
    int32_t *len = calloc(n + 1, sizeof *len);
    if (!s.state || !s.unmet || !s.dpt_off || !s.dpt || !s.ready.a || !s.ev || !s.running ||
        !s.cache_of || !s.idle || !down || !len) {
        rc = ts_fail(TS_ERUN, "plan_sim: out of memory for %d trainings on %d ranks", g->n, ranks);
        goto out_free;
    }
    build_dependents(&s);
    critical_path(g, secs, down, len, out);
    int to_run = 0;
    for (int x = 0; x < g->n; x++) {
        s.state[x] = g->run[x] ? S_WAIT : S_DONE;
        if (rank_of)
            rank_of[x] = -1;
        if (!g->run[x])
            continue;
        to_run++;
        out->work += secs[x];
        for (int32_t i = g->dep_off[x]; i < g->dep_off[x + 1]; i++) /* one not run here counts as done */
            s.unmet[x] += g->run[g->dep[i]] != 0;
    }
    for (int x = 0; x < g->n; x++)
        if (s.state[x] == S_WAIT && s.unmet[x] == 0) {
            s.state[x] = S_READY;
            graph_heap_push(&s.ready, x);
        }
    for (int r = 0; r < ranks; r++) {
        s.running[r] = s.cache_of[r] = -1;
        s.idle[r] = r > 0; /* every worker asks at the start */
    }
    /* rank 0 serves the waiting workers first, then takes a training itself */
    for (;;) {
        feed_idle(&s);
        int32_t x = s.running[0] < 0 ? ready_top(&s) : -1;
        if (x >= 0)
            start(&s, x, 0);
        if (s.ev_n == 0)
            break;
        s.now = s.ev[0].t;
        while (s.ev_n > 0 && s.ev[0].t == s.now) { /* this moment's ends, workers first */
            event_t e = ev_pop(&s);
            int r = e.key == ranks ? 0 : e.key;
            finish(&s, r);
            if (r > 0)
                s.idle[r] = 1;
            feed_idle(&s);
        }
    }
    out->trainings = s.done;
    if (s.done != to_run) /* cannot happen with dependencies first; kept as sched_root.c keeps it */
        rc = ts_fail(TS_ERUN, "plan_sim: %d trainings can never start", to_run - s.done);
out_free:
    free(s.state), free(s.unmet), free(s.dpt_off), free(s.dpt), free(s.ready.a);
    free(s.ev), free(s.running), free(s.cache_of), free(s.idle), free(down), free(len);
    return rc;
}

int plan_sim_graph_create(plan_sim_graph_t *s, const graph_t *g, const char *run)
{
    size_t n = (size_t)g->NA, deps = 0;
    int32_t d[GRAPH_MAX_DEPS];
    memset(s, 0, sizeof *s);
    s->n = g->NA;
    for (int x = 0; x < g->NA; x++)
        deps += (size_t)graph_deps(g, x, d);
    s->dep_off = malloc((n + 1) * sizeof *s->dep_off);
    s->dep = malloc((deps + 1) * sizeof *s->dep);
    s->prio = malloc((n + 1) * sizeof *s->prio);
    s->src = malloc((n + 1) * sizeof *s->src);
    s->run = malloc(n + 1);
    if (!s->dep_off || !s->dep || !s->prio || !s->src || !s->run) {
        plan_sim_graph_free(s);
        return ts_fail(TS_ERUN, "plan_sim: out of memory for %d trainings", g->NA);
    }
    s->dep_off[0] = 0;
    for (int x = 0; x < g->NA; x++) {
        int32_t a, b, nd = graph_deps(g, x, d);
        memcpy(s->dep + s->dep_off[x], d, (size_t)nd * sizeof *d);
        s->dep_off[x + 1] = s->dep_off[x] + nd;
        s->prio[x] = g->nodes[x].cost;
        graph_inputs(g, x, &a, &b);
        s->src[x] = a >= 0 ? graph_producer(g, a) : -1;
        s->run[x] = run ? run[x] != 0 : 1;
    }
    return 0;
}

void plan_sim_graph_free(plan_sim_graph_t *s)
{
    free(s->dep_off);
    free(s->dep);
    free(s->prio);
    free(s->src);
    free(s->run);
    memset(s, 0, sizeof *s);
}

double plan_sim_serial_fraction(double t1, double tm, int m)
{
    if (m <= 1 || !(t1 > 0) || !(tm > 0))
        return 1;
    double f = ((double)m * tm / t1 - 1) / (double)(m - 1);
    return f < 0 ? 0 : f > 1 ? 1 : f;
}

double plan_sim_amdahl(double t1, double tm, int m, int t)
{
    if (t == m)
        return tm;
    double f = plan_sim_serial_fraction(t1, tm, m);
    return t1 * (f + (1 - f) / (double)(t > 1 ? t : 1));
}

int plan_sim_layouts(int cores, int *t)
{
    int n = 0;
    for (long p = 1; p <= cores && n < 31; p *= 2)
        if (cores % p == 0)
            t[n++] = (int)p;
    if (n == 0 || t[n - 1] != cores)
        t[n++] = cores;
    return n;
}

int plan_sim_timed(const int *used, int n, int here, int *timed)
{
    int k = 1, beyond = 0;
    timed[0] = 1;
    for (int i = 0; i < n; i++) {
        if (used[i] > here)
            beyond = 1;
        else if (used[i] > timed[k - 1])
            timed[k++] = used[i];
    }
    if (beyond && here > timed[k - 1])
        timed[k++] = here;
    return k;
}

int plan_sim_best(const double *wall, const char *fits, int n, double slack)
{
    int best = -1;
    for (int i = 0; i < n; i++)
        if (fits[i] && (best < 0 || wall[i] < wall[best]))
            best = i;
    for (int i = 0; best > 0 && i < best; i++)
        if (fits[i] && wall[i] <= (1 + slack) * wall[best])
            return i;
    return best;
}
