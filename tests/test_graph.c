/*
 * test_graph - the planner: distinct trainings of crossed and per_round grids,
 * with controls, global scope, rewinding and shards; the graph's structure
 * (dependencies first, rounds and arms where the cells say); the identity of a
 * training (its key) the same whether cells share it or not; the pruning
 * counts exactly as specified.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "graph.h"
#include "prune.h"

/* LeNet-300-100 on 28x28 inputs: the paper's shapes. */
static config_t *lenet(void)
{
    config_t *c = calloc(1, sizeof *c);
    config_defaults(c);
    c->n_rates = c->n_rounds = c->n_seeds = 0;
    return c;
}

static void set_list(double *dst, int *n, const double *v, int k)
{
    memcpy(dst, v, (size_t)k * sizeof *v);
    *n = k;
}

/* Plan cfg on LeNet-300-100 and return the number of distinct trainings. */
static int plan(const config_t *c, int share, graph_t *g, net_t *net)
{
    CHECK(net_layout(net, c, 1, 28, 28, 10) == 0, "net");
    int rc = graph_plan(g, c, net, share);
    CHECK(rc == 0, "plan");
    return rc ? -1 : g->N;
}

/* Structure: dependencies come first; the cells' nodes are of their arm and round. */
static void check_structure(const graph_t *g, const char *what)
{
    int bad = 0;
    for (int x = 0; x < g->N; x++)
        for (int d = 0; d < 2; d++)
            bad += g->nodes[x].dep[d] >= x;
    CHECK(bad == 0, "%s: %d dependencies after their dependents", what, bad);
    bad = 0;
    for (int t = 0; t < g->T; t++)
        for (int a = 0; a < N_ARMS; a++)
            for (int k = 0; k < g->R1; k++) {
                int32_t x = graph_cell_node(g, t, a, k);
                if (x < 0)
                    continue;
                const graph_node_t *n = &g->nodes[x];
                bad += n->round != k || (k > 0 ? n->arm != a : n->arm != ARM_TICKET);
                bad += k > g->cell_rounds[t];
            }
    CHECK(bad == 0, "%s: %d cell entries of the wrong arm or round", what, bad);
}

static void test_counts(void)
{
    config_t *c = lenet();
    graph_t g;
    net_t net;
    int64_t seeds[] = {1, 2};

    /* the crossed grid: 36 trainings a seed, 23 distinct */
    set_list(c->rates, &c->n_rates, (double[]){0.36, 0.488, 0.5904}, 3);
    c->rounds[0] = 2, c->rounds[1] = 3, c->rounds[2] = 4, c->n_rounds = 3;
    c->seeds[0] = 1, c->n_seeds = 1;
    CHECK(plan(c, 1, &g, &net) == 23, "crossed 3 x 3: %d distinct, want 23", g.N);
    CHECK(g.unshared == 36, "crossed 3 x 3: %lld unshared, want 36", (long long)g.unshared);
    check_structure(&g, "crossed");
    graph_free(&g);
    net_free(&net);
    CHECK(plan(c, 0, &g, &net) == 36, "crossed --no-share: %d, want 36", g.N);
    graph_free(&g);
    net_free(&net);

    /* the demo's grid: 4 rates x rounds 1, 3 x 2 seeds with the random control */
    set_list(c->rates, &c->n_rates, (double[]){0.5, 0.8, 0.9, 0.97}, 4);
    c->rounds[0] = 1, c->rounds[1] = 3, c->n_rounds = 2;
    memcpy(c->seeds, seeds, sizeof seeds), c->n_seeds = 2;
    c->controls = CTRL_RANDOM;
    CHECK(plan(c, 1, &g, &net) == 66, "demo: %d distinct, want 66", g.N);
    CHECK(g.unshared == 80, "demo: %lld unshared, want 80", (long long)g.unshared);
    check_structure(&g, "demo");
    graph_free(&g);
    net_free(&net);

    /* per_round: the paper's chain, 5 seeds, reinit: 21 + 20 a seed, whatever
     * round counts are listed (the cells are prefixes of one chain) */
    c->n_rates = 0;
    set_list(c->per_round, &c->n_per_round, (double[]){0.2}, 1);
    c->rounds[0] = 20, c->n_rounds = 1;
    for (int i = 0; i < 5; i++)
        c->seeds[i] = i + 1;
    c->n_seeds = 5;
    c->controls = CTRL_REINIT;
    CHECK(plan(c, 1, &g, &net) == 205, "paper chain: %d distinct, want 205", g.N);
    graph_free(&g);
    net_free(&net);
    c->rounds[0] = 5, c->rounds[1] = 10, c->rounds[2] = 15, c->rounds[3] = 20, c->n_rounds = 4;
    CHECK(plan(c, 1, &g, &net) == 205, "per_round, 4 round counts: %d distinct, want 205", g.N);
    CHECK(g.unshared == 5 * (6 + 11 + 16 + 21 + 5 + 10 + 15 + 20), "per_round unshared %lld",
          (long long)g.unshared);
    check_structure(&g, "per_round");
    /* cell (0.2, 5) is the chain of cell (0.2, 20) cut at round 5 */
    int same = 1;
    for (int k = 0; k <= 5; k++)
        same &= graph_cell_node(&g, 0, ARM_TICKET, k) == graph_cell_node(&g, 3 * 5, ARM_TICKET, k);
    CHECK(same, "per_round: round counts share their chain");
    graph_free(&g);
    net_free(&net);

    /* rewinding changes where survivors restart, not which trainings exist */
    c->rewind_iteration = 100;
    CHECK(plan(c, 1, &g, &net) == 205, "rewinding: %d distinct, want 205", g.N);
    graph_free(&g);
    net_free(&net);
    c->rewind_iteration = 0;

    /* the rewind axis: round 0 once a seed, every chain from it its own
     * (the same counts and keys as the one-value job's, another rw) */
    c->rewinds[0] = 0, c->rewinds[1] = 100, c->rewinds[2] = 500, c->n_rewinds = 3;
    CHECK(plan(c, 1, &g, &net) == 5 + 3 * 200, "rewind axis of 3: %d distinct, want 605", g.N);
    check_structure(&g, "rewind axis");
    int r0 = 0, apart = 1, keys = 1;
    for (int x = 0; x < g.N; x++)
        r0 += g.nodes[x].round == 0;
    for (int t = 0; t + 5 < g.T && t < 15; t++) { /* cells t and t + 5: the next k, same seed */
        trial_t a = grid_trial(c, t), b = grid_trial(c, t + 5);
        if (a.rewind_i == 2)
            continue;
        apart &= graph_cell_node(&g, t, ARM_TICKET, 0) == graph_cell_node(&g, t + 5, ARM_TICKET, 0) &&
                 a.seed_i == b.seed_i && b.rewind_i == a.rewind_i + 1;
        for (int k = 1; k <= a.rounds; k++) {
            int32_t x = graph_cell_node(&g, t, ARM_TICKET, k), y = graph_cell_node(&g, t + 5, ARM_TICKET, k);
            apart &= x != y && g.nodes[x].rw == a.rewind_i && g.nodes[y].rw == b.rewind_i;
            keys &= g.nodes[x].key == g.nodes[y].key;
        }
    }
    CHECK(r0 == 5, "rewind axis: round 0 trained %d times for 5 seeds", r0);
    CHECK(apart, "rewind axis: one round 0 a seed, the later rounds apart by k (grid order rate, rounds, rewind, seed)");
    CHECK(keys, "rewind axis: the chains' random streams are keyed as the one-value jobs'");
    graph_free(&g);
    net_free(&net);
    c->n_rewinds = 0;

    /* the criterion axis: as the rewind axis, round 0 once a seed, a chain a criterion */
    c->criteria = (1 << PRUNE_MAGNITUDE) | (1 << PRUNE_MOVEMENT);
    CHECK(plan(c, 1, &g, &net) == 5 + 2 * 200, "criterion axis of 2: %d distinct, want 405", g.N);
    check_structure(&g, "criterion axis");
    trial_t t0 = grid_trial(c, 0), t5 = grid_trial(c, 5);
    CHECK(t0.criterion == PRUNE_MAGNITUDE && t5.criterion == PRUNE_MOVEMENT && t0.seed_i == t5.seed_i &&
              graph_cell_node(&g, 0, ARM_TICKET, 0) == graph_cell_node(&g, 5, ARM_TICKET, 0) &&
              graph_cell_node(&g, 0, ARM_TICKET, 1) != graph_cell_node(&g, 5, ARM_TICKET, 1) &&
              g.nodes[graph_cell_node(&g, 5, ARM_TICKET, 1)].ci == 1,
          "criterion axis: cells 0 and 5 (magnitude, movement) share round 0, not round 1");
    graph_free(&g);
    net_free(&net);
    c->criteria = 0;

    /* both controls: one reinit and one random twin per ticket round >= 1 */
    c->controls = CTRL_REINIT | CTRL_RANDOM;
    CHECK(plan(c, 1, &g, &net) == 5 * (21 + 20 + 20), "both controls: %d", g.N);
    int deps_ok = 1;
    for (int x = 0; x < g.N; x++) {
        const graph_node_t *n = &g.nodes[x];
        if (n->arm == ARM_RANDOM && n->round >= 2)
            deps_ok &= n->dep[1] == n->prev && g.nodes[n->prev].arm == ARM_RANDOM &&
                        g.nodes[n->prev].round == n->round - 1;
        if (n->arm != ARM_TICKET)
            deps_ok &= n->dep[0] == g.nodes[n->twin].prev;
    }
    CHECK(deps_ok, "controls depend on the ticket's previous round (and random on its own)");
    graph_free(&g);
    net_free(&net);
    free(c);
}

/* Global scope: one count a round over the pooled layers (scale 1), the
 * others layer-wise at their scale; cells agree when the counts do. */
static void test_global(void)
{
    config_t *c = lenet();
    graph_t g;
    net_t net;
    c->scope = SCOPE_GLOBAL;
    set_list(c->rates, &c->n_rates, (double[]){0.36, 0.488, 0.5904}, 3);
    c->rounds[0] = 2, c->rounds[1] = 3, c->rounds[2] = 4, c->n_rounds = 3;
    c->seeds[0] = 7, c->n_seeds = 1;
    plan(c, 1, &g, &net); /* output_scale 0.5 (the default): the output layer on its own */
    CHECK(g.n_cut == 2, "global: the pool and the output layer: %d counts a round", g.n_cut);
    CHECK(g.pooled[0] && g.pooled[1] && !g.pooled[2], "global: the hidden layers are pooled");
    trial_t tr = grid_trial(c, 0);
    int32_t x = graph_cell_node(&g, 0, ARM_TICKET, 1);
    const int64_t *cut = graph_cut(&g, x);
    CHECK(cut[0] == (int64_t)prune_count(300 * 784 + 100 * 300, tr.q), "pool count %lld, want %zu",
          (long long)cut[0], prune_count(300 * 784 + 100 * 300, tr.q));
    CHECK(cut[1] == (int64_t)prune_count(1000, tr.q * 0.5), "output count %lld", (long long)cut[1]);
    CHECK(g.N == 23, "global crossed: %d distinct, want 23", g.N);
    graph_free(&g);
    net_free(&net);
    c->output_scale = 1; /* everything in one pool */
    plan(c, 1, &g, &net);
    x = graph_cell_node(&g, 0, ARM_TICKET, 1);
    CHECK(g.n_cut == 1 && graph_cut(&g, x)[0] == (int64_t)prune_count(266200, tr.q),
          "global over all layers: %d counts, %lld pruned", g.n_cut, (long long)graph_cut(&g, x)[0]);
    graph_free(&g);
    net_free(&net);
    c->output_scale = 0; /* the output layer left out (open_lth's default) */
    plan(c, 1, &g, &net);
    x = graph_cell_node(&g, 0, ARM_TICKET, 2);
    CHECK(graph_cut(&g, x)[1] == 0, "output_scale 0 leaves the output layer whole");
    graph_free(&g);
    net_free(&net);
    free(c);
}

/* Layer-wise counts exactly as specified, and the same keys shared or not. */
static void test_identity(void)
{
    config_t *c = lenet();
    graph_t g, u;
    net_t net, net2;
    set_list(c->rates, &c->n_rates, (double[]){0.5, 0.9}, 2);
    c->rounds[0] = 1, c->rounds[1] = 3, c->n_rounds = 2;
    c->seeds[0] = 1, c->seeds[1] = 2, c->n_seeds = 2;
    c->controls = CTRL_REINIT | CTRL_RANDOM;
    plan(c, 1, &g, &net);
    plan(c, 0, &u, &net2);
    int keys_ok = 1, counts_ok = 1;
    for (int t = 0; t < g.T; t++) {
        trial_t tr = grid_trial(c, t);
        size_t alive[3] = {300 * 784, 100 * 300, 10 * 100};
        for (int k = 0; k <= tr.rounds; k++) {
            for (int a = 0; a < N_ARMS; a++) {
                int32_t x = graph_cell_node(&g, t, a, k), y = graph_cell_node(&u, t, a, k);
                keys_ok &= (x < 0) == (y < 0) && (x < 0 || g.nodes[x].key == u.nodes[y].key);
            }
            if (k == 0)
                continue;
            const int64_t *cut = graph_cut(&g, graph_cell_node(&g, t, ARM_TICKET, k));
            for (int l = 0; l < 3; l++) {
                size_t want = prune_count(alive[l], l == 2 ? tr.q * c->output_scale : tr.q);
                counts_ok &= cut[l] == (int64_t)want;
                alive[l] -= want;
            }
        }
    }
    CHECK(keys_ok, "a training's key is the same shared or not");
    CHECK(counts_ok, "layer-wise counts are round(q * alive) per layer, the output at half rate");
    int distinct = 1;
    for (int x = 0; x < g.N && distinct; x++)
        for (int y = 0; y < x && distinct; y++)
            distinct = g.nodes[x].key != g.nodes[y].key;
    CHECK(distinct, "distinct trainings have distinct keys");
    graph_free(&g);
    graph_free(&u);
    net_free(&net);
    net_free(&net2);
    free(c);
}

/* Shards (cells t mod N = I): N dividing the seeds shares everything. */
static void test_shards(void)
{
    config_t *c = lenet();
    graph_t g;
    net_t net;
    set_list(c->rates, &c->n_rates, (double[]){0.5, 0.8}, 2);
    c->rounds[0] = 1, c->rounds[1] = 2, c->n_rounds = 2;
    for (int i = 0; i < 4; i++)
        c->seeds[i] = i;
    c->n_seeds = 4;
    plan(c, 1, &g, &net);
    char *mine = calloc((size_t)g.N, 1);
    for (int n = 1; n <= 4; n++) {
        int total = 0;
        for (int i = 0; i < n; i++) {
            memset(mine, 0, (size_t)g.N);
            for (int t = i; t < g.T; t += n)
                for (int k = 0; k < g.R1; k++) {
                    int32_t x = graph_cell_node(&g, t, ARM_TICKET, k);
                    if (x >= 0)
                        mine[x] = 1;
                }
            for (int x = 0; x < g.N; x++)
                total += mine[x];
        }
        if (4 % n == 0)
            CHECK(total == g.N, "%d shards of 4 seeds: %d trainings in all, want %d", n, total, g.N);
        else
            CHECK(total > g.N, "%d shards of 4 seeds repeat shared trainings: %d of %d", n, total, g.N);
    }
    free(mine);
    graph_free(&g);
    net_free(&net);
    free(c);
}

/* The instability analysis's nodes (graph.h: NODE_COPY, NODE_LINE): after
 * the trainings, per ticket training and set, copies 1..C-1 with their
 * training's dependencies (so they can run beside it), then a line on the
 * training and those copies; rows of /copies (copy 0 first) and /lines in
 * order; the shards take a training's copies and lines with it. */
static void test_analysis(void)
{
    config_t *c = lenet();
    graph_t g;
    net_t net;
    set_list(c->rates, &c->n_rates, (double[]){0.5, 0.8}, 2);
    c->rounds[0] = 1, c->rounds[1] = 2, c->n_rounds = 2;
    c->seeds[0] = 1, c->seeds[1] = 2, c->n_seeds = 2;
    c->controls = CTRL_REINIT;
    c->copies = 3;
    c->rewinds[0] = 0, c->rewinds[1] = 100, c->n_rewinds = 2; /* round 0: two sets */
    plan(c, 1, &g, &net);
    int tickets = 0, round0 = 0, bad = 0, row = 0, line = 0;
    for (int x = 0; x < g.N; x++) {
        tickets += g.nodes[x].arm == ARM_TICKET, round0 += g.nodes[x].round == 0;
        bad += g.nodes[x].kind != NODE_TRAIN;
    }
    CHECK(bad == 0 && g.C == 3 && g.K == 2, "trainings first: %d extra among them", bad);
    int sets = tickets + round0; /* round 0 from each of the 2 k */
    CHECK(g.NA - g.N == sets * 3 && g.n_lines == sets && g.n_copy_rows == tickets + 2 * sets,
          "%d extra nodes, %d lines, %d rows of /copies for %d ticket trainings", g.NA - g.N, g.n_lines,
          g.n_copy_rows, tickets);
    bad = 0;
    for (int x = 0; x < g.N; x++) {
        int S = graph_sets(&g, x);
        bad += S != (g.nodes[x].arm != ARM_TICKET ? 0 : g.nodes[x].round == 0 ? 2 : 1);
        if (!S)
            continue;
        bad += graph_copy0_row(&g, x) != row++; /* copy 0, then each set's copies */
        for (int i = 0; i < S; i++) {
            int32_t y = graph_line(&g, x, i), d[GRAPH_MAX_DEPS];
            const graph_node_t *l = &g.nodes[y];
            bad += l->kind != NODE_LINE || l->prev != x || l->set != i || l->extra != line++ ||
                   graph_deps(&g, y, d) != 3 || d[0] != x || l->cost < 1e29f;
            for (int j = 1; j < 3; j++) {
                const graph_node_t *cp = &g.nodes[y - 3 + j];
                bad += d[j] != y - 3 + j || cp->kind != NODE_COPY || cp->copy != j || cp->prev != x ||
                       cp->set != i || cp->extra != row++ || cp->round != g.nodes[x].round ||
                       cp->key != g.nodes[x].key || cp->dep[0] != g.nodes[x].dep[0] ||
                       cp->dep[1] != g.nodes[x].dep[1] || graph_train(&g, y - 3 + j) != x;
            }
        }
    }
    CHECK(bad == 0 && row == g.n_copy_rows && line == g.n_lines, "%d copies or lines out of place", bad);
    char *mine = calloc((size_t)g.NA, 1);
    graph_shard_nodes(&g, 1, 2, mine);
    bad = 0;
    for (int y = g.N; y < g.NA; y++)
        bad += mine[y] != mine[g.nodes[y].prev];
    CHECK(bad == 0, "shards: %d copies or lines apart from their training", bad);
    free(mine);
    graph_free(&g);
    net_free(&net);
    free(c);
}

int main(int argc, char **argv)
{
    (void)argc;
    test_counts();
    test_global();
    test_identity();
    test_shards();
    test_analysis();
    return check_summary(argv[0]);
}
