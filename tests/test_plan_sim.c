/*
 * test_plan_sim - the scheduler's rule replayed (plan_sim.h) on small graphs
 * made by hand whose makespans are worked out below: a chain, a fan-out,
 * rank 0 training too, longest remaining path first, a worker keeping its
 * chain, trainings not to run, bad input; then on a planned graph (LeNet, a
 * crossed grid): every training runs once, after its dependencies, never two
 * at once on a rank, and the makespan lies between the critical path and the
 * work over the ranks. Amdahl's extrapolation at its fixed points; the
 * layouts of a node, the thread counts timed for them, the best one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "plan_sim.h"

#define MAXN 64

/* A hand-made graph: dependencies, priorities and sources set by the test. */
typedef struct {
    plan_sim_graph_t g;
    int32_t dep2[2 * MAXN]; /* each training's two dependencies, -1 for none */
    int32_t dep_off[MAXN + 1], dep[2 * MAXN]; /* the same as plan_sim's rows */
    float prio[MAXN];
    int32_t src[MAXN];
    char run[MAXN];
} hand_t;

/* The rows of dependencies from dep2. */
static void hand_rows(hand_t *h)
{
    h->dep_off[0] = 0;
    for (int x = 0; x < h->g.n; x++) {
        h->dep_off[x + 1] = h->dep_off[x];
        for (int d = 0; d < 2; d++)
            if (h->dep2[2 * x + d] >= 0)
                h->dep[h->dep_off[x + 1]++] = h->dep2[2 * x + d];
    }
}

/* n trainings, none depending on another, all to run, priority 1. */
static void hand_init(hand_t *h, int n)
{
    memset(h, 0, sizeof *h);
    h->g = (plan_sim_graph_t){n, h->dep_off, h->dep, h->prio, h->src, h->run};
    for (int x = 0; x < n; x++) {
        h->dep2[2 * x] = h->dep2[2 * x + 1] = -1;
        h->prio[x] = 1;
        h->src[x] = -1;
        h->run[x] = 1;
    }
    hand_rows(h);
}

/* x depends on p, and reads the mask p made (a ticket round on its parent). */
static void hand_dep(hand_t *h, int x, int p)
{
    h->dep2[2 * x + (h->dep2[2 * x] >= 0)] = p;
    h->src[x] = p;
    hand_rows(h);
}

/* The priorities the planner gives: trainings on the longest path from here. */
static void hand_longest(hand_t *h)
{
    for (int x = 0; x < h->g.n; x++)
        h->prio[x] = 1;
    for (int x = h->g.n - 1; x >= 0; x--)
        for (int d = 0; d < 2; d++) {
            int p = h->dep2[2 * x + d];
            if (p >= 0 && h->prio[p] < h->prio[x] + 1)
                h->prio[p] = h->prio[x] + 1;
        }
}

static int near(double a, double b)
{
    return fabs(a - b) <= 1e-9 * (1 + fabs(b));
}

/* A chain of 4 (1, 2, 3, 4 s): 10 s however many ranks; the chain is the critical path. */
static void test_chain(void)
{
    hand_t h;
    plan_sim_result_t r;
    double secs[] = {1, 2, 3, 4};
    hand_init(&h, 4);
    for (int x = 1; x < 4; x++)
        hand_dep(&h, x, x - 1);
    hand_longest(&h);
    for (int ranks = 1; ranks <= 5; ranks += 2) {
        CHECK(plan_sim_run(&h.g, secs, ranks, &r, NULL) == 0, "chain: %s", ts_errmsg());
        CHECK(near(r.makespan, 10), "chain on %d ranks: %g s, want 10", ranks, r.makespan);
        CHECK(near(r.critical, 10) && r.critical_len == 4, "chain: critical %g s, %d trainings",
              r.critical, r.critical_len);
        CHECK(near(r.work, 10) && r.peak == 1 && r.trainings == 4, "chain: work %g, peak %d, %d run",
              r.work, r.peak, r.trainings);
    }
}

/* A root of 1 s, then 6 trainings of 2 s: on 3 ranks 1 + 2 rounds of 2 s = 5 s;
 * on 6 ranks 3 s; on 4 ranks 1 + 2 + 2 = 5 s (two are left for the second round). */
static void test_fan_out(void)
{
    hand_t h;
    plan_sim_result_t r;
    double secs[] = {1, 2, 2, 2, 2, 2, 2};
    hand_init(&h, 7);
    for (int x = 1; x < 7; x++)
        hand_dep(&h, x, 0);
    hand_longest(&h);
    int ranks[] = {1, 3, 4, 6, 8};
    double want[] = {13, 5, 5, 3, 3};
    for (int i = 0; i < 5; i++) {
        CHECK(plan_sim_run(&h.g, secs, ranks[i], &r, NULL) == 0, "fan-out: %s", ts_errmsg());
        CHECK(near(r.makespan, want[i]), "fan-out on %d ranks: %g s, want %g", ranks[i], r.makespan,
              want[i]);
        CHECK(r.peak == (ranks[i] < 6 ? ranks[i] : 6), "fan-out on %d ranks: %d at once", ranks[i], r.peak);
    }
    CHECK(near(r.critical, 3) && r.critical_len == 2, "fan-out: critical %g s, %d trainings",
          r.critical, r.critical_len);
}

/* Rank 0 trains too: two trainings of 5 s take 5 s on 2 ranks (rank 0 takes
 * the second; the worker, asking first, the first), 10 s on one. */
static void test_rank0_trains(void)
{
    hand_t h;
    plan_sim_result_t r;
    int32_t rank_of[2];
    double secs[] = {5, 5};
    hand_init(&h, 2);
    CHECK(plan_sim_run(&h.g, secs, 2, &r, rank_of) == 0, "rank 0: %s", ts_errmsg());
    CHECK(near(r.makespan, 5), "2 trainings on 2 ranks: %g s, want 5", r.makespan);
    CHECK(rank_of[0] == 1 && rank_of[1] == 0, "the worker takes the top one, rank 0 the next: ranks %d, %d",
          rank_of[0], rank_of[1]);
    CHECK(plan_sim_run(&h.g, secs, 1, &r, rank_of) == 0, "rank 0 alone: %s", ts_errmsg());
    CHECK(near(r.makespan, 10) && rank_of[0] == 0 && rank_of[1] == 0, "rank 0 alone: %g s", r.makespan);

    /* Ends at the same moment: the worker's report is served first. w (0) on
     * the worker and z (1) on rank 0 end at 1 s; z's child (2) and w's (3,
     * its mask from elsewhere) are equal but for the id. The worker, served
     * first, finds only 3 ready; rank 0 takes 2. */
    hand_t h2;
    int32_t rank4[4];
    double secs4[] = {1, 1, 1, 1};
    hand_init(&h2, 4);
    hand_dep(&h2, 2, 1);
    hand_dep(&h2, 3, 0);
    h2.src[3] = -1;
    hand_longest(&h2);
    CHECK(plan_sim_run(&h2.g, secs4, 2, &r, rank4) == 0, "same moment: %s", ts_errmsg());
    CHECK(rank4[0] == 1 && rank4[1] == 0 && rank4[3] == 1 && rank4[2] == 0,
          "same moment: ranks %d %d %d %d, want 1 0 0 1", rank4[0], rank4[1], rank4[2], rank4[3]);
}

/* Longest remaining path first: D (0), E (1) alone, A (2) -> B (3) -> C (4),
 * 1 s each, on 2 ranks. The chain goes first: 3 s; lowest id first would
 * start D and E and end at 4 s. */
static void test_longest_first(void)
{
    hand_t h;
    plan_sim_result_t r;
    int32_t rank_of[5];
    double secs[] = {1, 1, 1, 1, 1};
    hand_init(&h, 5);
    hand_dep(&h, 3, 2);
    hand_dep(&h, 4, 3);
    hand_longest(&h);
    CHECK(plan_sim_run(&h.g, secs, 2, &r, rank_of) == 0, "longest first: %s", ts_errmsg());
    CHECK(near(r.makespan, 3), "longest first: %g s, want 3", r.makespan);
    CHECK(rank_of[2] == 1 && rank_of[3] == 1 && rank_of[4] == 1, "the chain stays on worker 1: %d %d %d",
          rank_of[2], rank_of[3], rank_of[4]);
    for (int x = 0; x < 5; x++) /* every training equal: the planner's order alone */
        h.prio[x] = 1;
    CHECK(plan_sim_run(&h.g, secs, 2, &r, NULL) == 0, "lowest id first: %s", ts_errmsg());
    CHECK(near(r.makespan, 4), "lowest id first: %g s, want 4", r.makespan);
}

/* A worker keeps its chain: a0 b0 c0 (ids 0-2, 1 s) with children a1 b1 c1
 * (ids 3-5, 1 s), 2 ranks. At 1 s the worker (ran a0) takes c0, the top;
 * rank 0 (ran b0) takes a1, the top. At 2 s the worker (ran c0) takes c1
 * although b1 is the top (same priority, lower id); rank 0 then b1. */
static void test_affinity(void)
{
    hand_t h;
    plan_sim_result_t r;
    int32_t rank_of[6];
    double secs[] = {1, 1, 1, 1, 1, 1};
    hand_init(&h, 6);
    for (int x = 3; x < 6; x++)
        hand_dep(&h, x, x - 3);
    hand_longest(&h);
    CHECK(plan_sim_run(&h.g, secs, 2, &r, rank_of) == 0, "affinity: %s", ts_errmsg());
    int want[] = {1, 0, 1, 0, 0, 1};
    for (int x = 0; x < 6; x++)
        CHECK(rank_of[x] == want[x], "affinity: training %d on rank %d, want %d", x, rank_of[x], want[x]);
    CHECK(near(r.makespan, 3), "affinity: %g s, want 3", r.makespan);
    h.src[5] = -1; /* c1's mask from elsewhere: the worker takes the top, b1 */
    CHECK(plan_sim_run(&h.g, secs, 2, &r, rank_of) == 0, "no affinity: %s", ts_errmsg());
    CHECK(rank_of[4] == 1 && rank_of[5] == 0, "no affinity: b1 on %d, c1 on %d", rank_of[4], rank_of[5]);
}

/* Trainings not to run count as done: of the chain 0 -> 1 -> 2 (1, 2, 4 s),
 * only 1 and 2 run: 6 s; and only 2: 4 s. */
static void test_not_run(void)
{
    hand_t h;
    plan_sim_result_t r;
    int32_t rank_of[3];
    double secs[] = {1, 2, 4};
    hand_init(&h, 3);
    hand_dep(&h, 1, 0);
    hand_dep(&h, 2, 1);
    hand_longest(&h);
    h.run[0] = 0;
    CHECK(plan_sim_run(&h.g, secs, 2, &r, rank_of) == 0, "not run: %s", ts_errmsg());
    CHECK(near(r.makespan, 6) && r.trainings == 2 && rank_of[0] == -1, "0 done before: %g s, %d run",
          r.makespan, r.trainings);
    CHECK(near(r.critical, 6) && r.critical_len == 2, "0 done before: critical %g s", r.critical);
    h.run[1] = 0;
    CHECK(plan_sim_run(&h.g, secs, 2, &r, NULL) == 0 && near(r.makespan, 4), "only 2: %g s", r.makespan);
}

static void test_bad_input(void)
{
    hand_t h;
    plan_sim_result_t r;
    double secs[] = {1, 1, 1};
    hand_init(&h, 3);
    CHECK(plan_sim_run(&h.g, secs, 0, &r, NULL) == TS_EINPUT, "0 ranks accepted");
    hand_dep(&h, 1, 2);
    CHECK(plan_sim_run(&h.g, secs, 2, &r, NULL) == TS_EINPUT, "a dependency after its dependent accepted");
    CHECK(strstr(ts_errmsg(), "training 1 depends on 2") != NULL, "message: %s", ts_errmsg());
    hand_init(&h, 3);
    secs[1] = NAN;
    CHECK(plan_sim_run(&h.g, secs, 2, &r, NULL) == TS_EINPUT, "a NaN cost accepted");
    h.run[1] = 0; /* a training not run may cost anything */
    CHECK(plan_sim_run(&h.g, secs, 2, &r, NULL) == 0, "the cost of a training not run checked");
}

/* A planned graph: the crossed LeNet grid with controls, 2 seeds. */
static void test_planned(void)
{
    config_t *c = calloc(1, sizeof *c);
    graph_t g;
    net_t net;
    plan_sim_graph_t s;
    config_defaults(c);
    c->rates[0] = 0.36, c->rates[1] = 0.488, c->rates[2] = 0.5904, c->n_rates = 3;
    c->rounds[0] = 2, c->rounds[1] = 3, c->rounds[2] = 4, c->n_rounds = 3;
    c->seeds[0] = 1, c->seeds[1] = 2, c->n_seeds = 2;
    c->controls = CTRL_REINIT | CTRL_RANDOM;
    CHECK(net_layout(&net, c, 1, 28, 28, 10) == 0 && graph_plan(&g, c, &net, 1) == 0, "plan");
    CHECK(plan_sim_graph_create(&s, &g, NULL) == 0, "sim graph");
    double *secs = calloc((size_t)g.N, sizeof *secs), work = 0;
    int32_t *rank_of = calloc((size_t)g.N, sizeof *rank_of);
    for (int x = 0; x < g.N; x++) /* sparser rounds cost less, the controls differ */
        work += secs[x] = 10.0 / (1 + g.nodes[x].round) + g.nodes[x].arm;
    for (int ranks = 1; ranks <= 64; ranks *= 4) {
        plan_sim_result_t r;
        CHECK(plan_sim_run(&s, secs, ranks, &r, rank_of) == 0, "planned: %s", ts_errmsg());
        CHECK(r.trainings == g.N && near(r.work, work), "planned: %d of %d run", r.trainings, g.N);
        CHECK(r.makespan >= r.critical - 1e-9 && r.makespan >= work / ranks - 1e-9,
              "%d ranks: %g s below the critical path %g or the work %g over the ranks", ranks, r.makespan,
              r.critical, work / ranks);
        CHECK(r.peak <= ranks, "%d ranks: %d at once", ranks, r.peak);
        int bad = 0;
        for (int x = 0; x < g.N; x++)
            bad += rank_of[x] < 0 || rank_of[x] >= ranks;
        CHECK(bad == 0, "%d ranks: %d trainings without a rank", ranks, bad);
        if (ranks == 1)
            CHECK(near(r.makespan, work), "one rank: %g s, the work is %g", r.makespan, work);
        if (ranks >= g.N) /* a rank for every training: only the dependencies hold it up */
            CHECK(near(r.makespan, r.critical), "%d ranks: %g s, critical %g", ranks, r.makespan, r.critical);
    }
    /* the same sources as the scheduler's: a ticket's is its parent, a reinit's its twin's parent */
    int bad = 0;
    for (int x = 0; x < g.N; x++) {
        const graph_node_t *n = &g.nodes[x];
        int32_t want = n->round == 0 ? -1
                       : n->arm == ARM_RANDOM ? (n->round == 1 ? -1 : n->prev)
                                              : g.nodes[n->twin].prev;
        bad += s.src[x] != want;
    }
    CHECK(bad == 0, "planned: %d sources differ from the scheduler's", bad);
    free(secs);
    free(rank_of);
    plan_sim_graph_free(&s);
    plan_sim_graph_free(&s); /* a second free is safe */
    graph_free(&g);

    /* the instability analysis: copies and lines replayed as nodes. Trainings
     * and copies 1 s, lines 0.25 s: with a rank for every node, the longest
     * chain (round 0 to the last round of 4, 5 trainings) and its last
     * round's line, whose copy runs beside that round: 5.25 s */
    c->copies = 2;
    CHECK(graph_plan(&g, c, &net, 1) == 0 && plan_sim_graph_create(&s, &g, NULL) == 0, "plan with copies");
    secs = calloc((size_t)g.NA, sizeof *secs);
    int copies = 0, lines = 0;
    for (int x = 0; x < g.NA; x++) {
        secs[x] = g.nodes[x].kind == NODE_LINE ? 0.25 : 1;
        copies += g.nodes[x].kind == NODE_COPY, lines += g.nodes[x].kind == NODE_LINE;
    }
    CHECK(s.n == g.NA && copies == lines && lines > 0, "%d nodes of %d, %d copies, %d lines", s.n, g.NA, copies,
          lines);
    plan_sim_result_t r;
    CHECK(plan_sim_run(&s, secs, g.NA, &r, NULL) == 0, "with copies: %s", ts_errmsg());
    CHECK(r.trainings == g.NA && near(r.makespan, 5.25) && near(r.critical, 5.25),
          "with copies, a rank a node: %d run, %g s, critical %g", r.trainings, r.makespan, r.critical);
    CHECK(plan_sim_run(&s, secs, 1, &r, NULL) == 0 && near(r.makespan, g.N + copies + 0.25 * lines),
          "with copies, one rank: %g s", r.makespan);
    bad = 0; /* a copy or line reads the mask its training reads: the same source */
    for (int x = g.N; x < g.NA; x++)
        bad += s.src[x] != s.src[g.nodes[x].prev];
    CHECK(bad == 0, "with copies: %d sources differ from their training's", bad);
    free(secs);
    plan_sim_graph_free(&s);
    graph_free(&g);
    net_free(&net);
    free(c);
}

static void test_amdahl(void)
{
    /* 10 s on one thread, 6 s on 2: f = 0.2; on 4 threads 10 (0.2 + 0.8 / 4) = 4 s */
    CHECK(near(plan_sim_serial_fraction(10, 6, 2), 0.2), "f = %g", plan_sim_serial_fraction(10, 6, 2));
    CHECK(near(plan_sim_amdahl(10, 6, 2, 4), 4), "4 threads: %g s", plan_sim_amdahl(10, 6, 2, 4));
    CHECK(near(plan_sim_amdahl(10, 6, 2, 2), 6) && near(plan_sim_amdahl(10, 6, 2, 1), 10), "fixed points");
    /* nothing measured beyond one thread: no speed-up */
    CHECK(near(plan_sim_amdahl(10, 10, 1, 128), 10), "m = 1: %g s", plan_sim_amdahl(10, 10, 1, 128));
    /* slower on more threads (noise): f = 1, no speed-up beyond; faster than
     * linear: f = 0, linear */
    CHECK(near(plan_sim_amdahl(10, 11, 2, 8), 10), "slower: %g s", plan_sim_amdahl(10, 11, 2, 8));
    CHECK(near(plan_sim_amdahl(10, 4, 2, 8), 1.25), "superlinear: %g s", plan_sim_amdahl(10, 4, 2, 8));
    /* today's trainer: the same time on 2 threads, the same on 128 */
    CHECK(near(plan_sim_amdahl(10, 10, 2, 128), 10), "no speed-up: %g s", plan_sim_amdahl(10, 10, 2, 128));
}

/* The layouts of a node, the thread counts timed, the best layout. */
static void test_layouts(void)
{
    int t[32], timed[34], n;
    n = plan_sim_layouts(128, t);
    CHECK(n == 8 && t[0] == 1 && t[7] == 128, "128 cores: %d layouts, %d .. %d threads", n, t[0], t[n - 1]);
    n = plan_sim_layouts(96, t); /* 1, 2, 4, 8, 16, 32 and 96 */
    CHECK(n == 7 && t[5] == 32 && t[6] == 96, "96 cores: %d layouts, then %d, %d", n, t[5], t[6]);
    n = plan_sim_layouts(1, t);
    CHECK(n == 1 && t[0] == 1, "1 core: %d layouts", n);
    n = plan_sim_layouts(3, t);
    CHECK(n == 2 && t[0] == 1 && t[1] == 3, "3 cores: %d layouts", n);
    /* on 2 cores, layouts up to 128 threads: 1, 2 timed; on 8 cores 1, 2, 4, 8 */
    n = plan_sim_layouts(128, t);
    int k = plan_sim_timed(t, n, 2, timed);
    CHECK(k == 2 && timed[1] == 2, "2 cores: %d timed", k);
    k = plan_sim_timed(t, n, 8, timed);
    CHECK(k == 4 && timed[3] == 8, "8 cores: %d timed, up to %d", k, timed[k - 1]);
    /* 6 cores, layouts of 12: 1, 2, 4 timed and 6, the anchor beyond */
    n = plan_sim_layouts(12, t);
    k = plan_sim_timed(t, n, 6, timed);
    CHECK(k == 4 && timed[2] == 4 && timed[3] == 6, "6 cores for 12: %d timed, %d, %d", k, timed[2], timed[3]);
    /* a machine larger than the layouts: only theirs */
    n = plan_sim_layouts(4, t);
    k = plan_sim_timed(t, n, 64, timed);
    CHECK(k == 3 && timed[2] == 4, "64 cores for 4: %d timed", k);
    k = plan_sim_timed(t, n, 1, timed);
    CHECK(k == 1, "1 core: %d timed", k);
    /* the best: the fastest that fits, or fewer threads within 5 % */
    double wall[] = {100, 97, 90, 50, 95};
    char fits[] = {1, 1, 1, 0, 1};
    CHECK(plan_sim_best(wall, fits, 5, 0.05) == 2, "best: %d, want 2 (3 does not fit)",
          plan_sim_best(wall, fits, 5, 0.05));
    fits[3] = 1;
    CHECK(plan_sim_best(wall, fits, 5, 0.05) == 3, "best: %d, want 3", plan_sim_best(wall, fits, 5, 0.05));
    wall[3] = 96; /* the fastest is 2 (90); 0 and 1 are more than 5 % slower */
    CHECK(plan_sim_best(wall, fits, 5, 0.05) == 2, "best: %d, want 2", plan_sim_best(wall, fits, 5, 0.05));
    wall[0] = 94; /* within 5 % of 90: the fewest threads win */
    CHECK(plan_sim_best(wall, fits, 5, 0.05) == 0, "within 5 %%: %d, want 0", plan_sim_best(wall, fits, 5, 0.05));
    CHECK(plan_sim_best(wall, fits, 5, 0) == 2, "no slack: %d, want 2", plan_sim_best(wall, fits, 5, 0));
    memset(fits, 0, sizeof fits);
    CHECK(plan_sim_best(wall, fits, 5, 0.05) == -1, "none fits");
}

int main(int argc, char **argv)
{
    (void)argc;
    test_chain();
    test_fan_out();
    test_rank0_trains();
    test_longest_first();
    test_affinity();
    test_not_run();
    test_bad_input();
    test_planned();
    test_amdahl();
    test_layouts();
    return check_summary(argv[0]);
}
