/*
 * graph.c - the planner (graph.h): the sweep's distinct trainings, planned
 * from the job alone, the same on every rank.
 *
 * A node is one training, identified by its seed, its arm and the pruning
 * counts of its rounds 1..k, and for rounds >= 1 its rewind point and
 * criterion (the indices rw and ci of the cell's k and criterion in their
 * axes). graph_plan walks the cells of the grid in
 * order; for each it starts at the seed's round-0 node (one per seed when
 * sharing) and, round by round, computes the counts the round removes
 * (round_cut: q of each layer's, or of the pooled layers', survivors) and
 * looks the ticket child up by (parent, rewind and criterion indices, counts) in a hash table (ticket_child,
 * which makes it when new), so two cells whose counts agree up to a round
 * reach the same node. Each ticket node gets its twin of each arm the job
 * asks for once (control_twin), keyed by the ticket's key and the arm. Nodes are appended as they are first needed, so a
 * node's dependencies always come before it: the ids are a topological
 * order. Afterwards build_csr lays out, as compressed rows, the (cell, arm)
 * pairs each node belongs to (what its results are written into) and the
 * nodes that depend on it (what it makes ready), and each node's cost, the
 * longest chain of trainings from it to the end (the scheduler's priority).
 * The hash table is dropped once planning is done. With the instability
 * analysis, plan_analysis appends each ticket training's copies and lines
 * (graph.h) after the trainings, before the rows are laid out.
 */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "graph.h"
#include "prune.h"
#include "rng.h"

/* prune.controls' bits (config.h) follow the arms' numbers, as its choices do (config.c) */
_Static_assert(CTRL_OF_ARM(ARM_REINIT) == CTRL_REINIT && CTRL_OF_ARM(ARM_RANDOM) == CTRL_RANDOM &&
                   CTRL_OF_ARM(ARM_SIGNED_REINIT) == CTRL_SIGNED_REINIT &&
                   CTRL_OF_ARM(ARM_RESHUFFLE) == CTRL_RESHUFFLE &&
                   CTRL_OF_ARM(ARM_SIGNED_CONSTANT) == CTRL_SIGNED_CONSTANT && CTRL_OF_ARM(ARM_SNIP) == CTRL_SNIP &&
                   CTRL_OF_ARM(ARM_SYNFLOW) == CTRL_SYNFLOW && CTRL_OF_ARM(ARM_MAGNITUDE_INIT) == CTRL_MAGNITUDE_INIT &&
                   CTRL_OF_ARM(ARM_GRASP) == CTRL_GRASP,
               "prune.controls bit of an arm");

/* FNV-1a over a round's n counts. */
static uint64_t fnv_cut(const int64_t *c, int n)
{
    uint64_t h = 1469598103934665603ull;
    const unsigned char *p = (const unsigned char *)c;
    for (size_t i = 0; i < (size_t)n * sizeof *c; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* The hash slot of the ticket child of `parent` pruned by `cut` (open
 * addressing, linear probing; hcap a power of two). */
static size_t slot_of(const graph_t *g, int32_t parent, int rw, int ci, const int64_t *cut)
{
    uint64_t h = fnv_cut(cut, g->n_cut) ^ ((uint64_t)(uint32_t)parent * 0x9e3779b97f4a7c15ull) ^
                 ((uint64_t)rw * 0xc2b2ae3d27d4eb4full) ^ ((uint64_t)ci * 0x165667b19e3779f9ull);
    return (size_t)(h ^ (h >> 29)) & (g->hcap - 1);
}

/* A new node; returns its id or -1 when out of memory. */
static int32_t add_node(graph_t *g, int seed_i, int rw, int ci, int arm, int round, int32_t prev,
                        uint64_t key)
{
    if (g->N == g->cap) {
        int cap = g->cap ? 2 * g->cap : 1024;
        graph_node_t *n = realloc(g->nodes, (size_t)cap * sizeof *n);
        int64_t *c = realloc(g->cuts, (size_t)cap * (size_t)g->n_cut * sizeof *c);
        if (n)
            g->nodes = n;
        if (c)
            g->cuts = c;
        if (!n || !c)
            return -1;
        g->cap = cap;
    }
    int32_t x = g->N++;
    graph_node_t *nd = &g->nodes[x];
    memset(nd, 0, sizeof *nd);
    nd->seed_i = seed_i;
    nd->rw = (int16_t)rw;
    nd->ci = (int8_t)ci;
    nd->arm = (int8_t)arm;
    nd->round = (int16_t)round;
    nd->prev = prev;
    nd->twin = arm == ARM_TICKET ? x : -1;
    nd->dep[0] = nd->dep[1] = -1;
    for (int a = 0; a < N_ARMS; a++)
        nd->ctl[a] = -1;
    nd->first_child = nd->next_sibling = -1;
    nd->extra = -1;
    nd->cut = (int64_t)x * g->n_cut;
    nd->key = key;
    return x;
}

/* Double the hash table (4096 slots at first) and put every ticket node of
 * round >= 1 back in; 0, or -1 when out of memory (the old table is kept). */
static int grow_hash(graph_t *g)
{
    size_t cap = g->hcap ? 2 * g->hcap : 4096;
    int32_t *h = malloc(cap * sizeof *h);
    if (!h)
        return -1;
    free(g->hash);
    g->hash = h;
    g->hcap = cap;
    memset(h, 0xff, cap * sizeof *h);
    for (int32_t x = 0; x < g->N; x++) {
        const graph_node_t *n = &g->nodes[x];
        if (n->arm != ARM_TICKET || n->round == 0)
            continue;
        size_t i = slot_of(g, n->prev, n->rw, n->ci, g->cuts + n->cut);
        while (h[i] >= 0)
            i = (i + 1) & (cap - 1);
        h[i] = x;
    }
    return 0;
}

/* The ticket child of `parent` in the chain of rewind index rw and criterion
 * index ci (the cell's: round 0's children differ by them) pruned by `cut`,
 * made when new; -1 when out of memory. */
static int32_t ticket_child(graph_t *g, int32_t parent, int rw, int ci, const int64_t *cut)
{
    if ((size_t)g->N * 2 >= g->hcap && grow_hash(g))
        return -1;
    size_t i = slot_of(g, parent, rw, ci, cut);
    for (; g->hash[i] >= 0; i = (i + 1) & (g->hcap - 1)) {
        const graph_node_t *n = &g->nodes[g->hash[i]];
        if (n->prev == parent && n->rw == rw && n->ci == ci && !memcmp(g->cuts + n->cut, cut, (size_t)g->n_cut * sizeof *cut))
            return g->hash[i];
    }
    const graph_node_t *p = &g->nodes[parent];
    uint64_t key = rng_key(p->key, RNG_NODE, fnv_cut(cut, g->n_cut), (uint64_t)p->round + 1);
    int32_t x = add_node(g, p->seed_i, rw, ci, ARM_TICKET, p->round + 1, parent, key);
    if (x < 0)
        return -1;
    memcpy(g->cuts + g->nodes[x].cut, cut, (size_t)g->n_cut * sizeof *cut);
    g->nodes[x].dep[0] = parent;
    g->nodes[x].next_sibling = g->nodes[parent].first_child;
    g->nodes[parent].first_child = x;
    g->hash[i] = x;
    return x;
}

/* The twin of arm `arm` of ticket node x, made when new. Its dependencies
 * (graph.h): the ticket's parent (whose pruning gives the twin's mask or its
 * counts) and, random, the previous random twin; pruning at initialisation
 * needs no mask, only, when rewinding, the seed's round 0 (`root`). */
static int32_t control_twin(graph_t *g, int32_t x, int arm, int32_t random_prev, int32_t root,
                            int rewinding)
{
    if (g->nodes[x].ctl[arm] >= 0)
        return g->nodes[x].ctl[arm];
    const graph_node_t *t = &g->nodes[x];
    uint64_t key = rng_key(t->key, RNG_NODE, (uint64_t)arm, 0);
    int32_t c = add_node(g, t->seed_i, t->rw, t->ci, arm, t->round, arm == ARM_RANDOM ? random_prev : -1, key);
    if (c < 0)
        return -1;
    graph_node_t *n = &g->nodes[c];
    n->twin = x;
    if (graph_arm_mask(arm) != ARM_MASK_INIT)
        n->dep[0] = g->nodes[x].prev;
    else if (rewinding)
        n->dep[0] = root;
    if (arm == ARM_RANDOM && n->round >= 2)
        n->dep[1] = random_prev;
    g->nodes[x].ctl[arm] = c;
    return c;
}

/* Counts pruned in the round after `alive` (updated, per layer or, for the
 * global pool, in its entry 0), per the job's scope and scales. */
static void round_cut(const graph_t *g, double q, int64_t *alive, int64_t *cut)
{
    int pool = 0;
    for (int s = 0; s < g->n_segs; s++)
        if (!g->pooled[s]) {
            int c = g->cut_of[s];
            cut[c] = (int64_t)prune_count((size_t)alive[c], q * g->seg_scale[s]);
            alive[c] -= cut[c];
        } else {
            pool = 1;
        }
    if (pool) { /* one threshold over the pooled layers: only their total is known before training */
        cut[0] = (int64_t)prune_count((size_t)alive[0], q);
        alive[0] -= cut[0];
    }
}

/* Layer scales and where each layer's count goes (see graph.h). */
static void plan_segments(graph_t *g, const config_t *cfg, const net_t *net)
{
    int global = cfg->scope == SCOPE_GLOBAL, any_pooled = 0;
    for (int l = 0; l < net->n_layers; l++) {
        if (!net_has_params(&net->layers[l]) || !net->layers[l].n_w)
            continue;
        int s = g->n_segs++;
        g->seg_layer[s] = l;
        g->seg_len[s] = net->layers[l].n_w;
        g->seg_scale[s] = l == net->n_layers - 1             ? cfg->output_scale
                          : net->layers[l].kind == NET_CONV ? cfg->conv_scale
                                                            : 1.0;
        g->pooled[s] = global && g->seg_scale[s] == 1.0;
        any_pooled |= g->pooled[s];
    }
    g->n_cut = any_pooled;
    for (int s = 0; s < g->n_segs; s++)
        g->cut_of[s] = g->pooled[s] ? 0 : g->n_cut++;
}

int graph_sets(const graph_t *g, int32_t x)
{
    const graph_node_t *n = &g->nodes[x];
    if (g->C < 2 || n->kind != NODE_TRAIN || n->arm != ARM_TICKET)
        return 0;
    return n->round == 0 ? g->K : 1;
}

int graph_deps(const graph_t *g, int32_t y, int32_t *d)
{
    const graph_node_t *n = &g->nodes[y];
    int k = 0;
    if (n->kind == NODE_LINE) { /* its training, and its copies */
        for (int j = 0; j < g->C; j++)
            d[k++] = graph_line_input(g, y, j);
        return k;
    }
    for (int i = 0; i < 2; i++)
        if (n->dep[i] >= 0)
            d[k++] = n->dep[i];
    return k;
}

/* The copies and lines of every analysed training (graph.h: NODE_COPY,
 * NODE_LINE), after the trainings; 0, or -1 when out of memory. */
static int plan_analysis(graph_t *g)
{
    int N = g->N, row = 0;
    for (int32_t x = 0; x < N; x++) {
        int S = graph_sets(g, x);
        if (!S)
            continue;
        row++; /* copy 0: the training itself */
        for (int i = 0; i < S; i++)
            for (int j = 1; j <= g->C; j++) {
                const graph_node_t *t = &g->nodes[x];
                int32_t y = add_node(g, t->seed_i, t->rw, t->ci, ARM_TICKET, t->round, x, t->key);
                if (y < 0)
                    return -1;
                graph_node_t *n = &g->nodes[y], *tx = &g->nodes[x];
                if (i == 0 && j == 1)
                    tx->extra = y;
                n->kind = j < g->C ? NODE_COPY : NODE_LINE;
                n->set = (int16_t)i;
                n->copy = (int16_t)(j < g->C ? j : 0);
                n->twin = x;
                n->extra = j < g->C ? row++ : g->n_lines++;
                if (j < g->C) {
                    n->dep[0] = tx->dep[0];
                    n->dep[1] = tx->dep[1];
                }
            }
    }
    g->n_copy_rows = row;
    return 0;
}

/*
 * The planned graph's compressed rows: inc (the (cell, arm) pairs, as
 * t * N_ARMS + arm, that each node appears in, from cell_node), dpt (the
 * nodes that depend on each node, from their dep[]), and every node's cost
 * (the longest chain of trainings from it, itself included: dependents have
 * higher ids, so one backward pass computes it). 0, or -1 when out of memory.
 */
static int build_csr(graph_t *g)
{
    int N = g->N, NA = g->NA;
    int32_t d[GRAPH_MAX_DEPS];
    size_t rows = (size_t)g->T * g->A * g->R1;
    g->inc_off = calloc((size_t)N + 1, sizeof *g->inc_off);
    g->dpt_off = calloc((size_t)NA + 1, sizeof *g->dpt_off);
    if (!g->inc_off || !g->dpt_off)
        return -1;
    for (size_t i = 0; i < rows; i++)
        if (g->cell_node[i] >= 0)
            g->inc_off[g->cell_node[i] + 1]++;
    for (int x = 0; x < NA; x++)
        for (int i = 0, n = graph_deps(g, x, d); i < n; i++)
            g->dpt_off[d[i] + 1]++;
    for (int x = 0; x < N; x++)
        g->inc_off[x + 1] += g->inc_off[x];
    for (int x = 0; x < NA; x++)
        g->dpt_off[x + 1] += g->dpt_off[x];
    g->inc = malloc((size_t)g->inc_off[N] * sizeof *g->inc + 1);
    g->dpt = malloc((size_t)g->dpt_off[NA] * sizeof *g->dpt + 1);
    int32_t *fill = calloc((size_t)NA + 1, sizeof *fill);
    if (!g->inc || !g->dpt || !fill) {
        free(fill);
        return -1;
    }
    for (size_t i = 0; i < rows; i++) {
        int32_t x = g->cell_node[i];
        if (x >= 0) {
            int32_t r = (int32_t)(i / (size_t)g->R1); /* t * A + arm */
            g->inc[g->inc_off[x] + fill[x]++] = r / g->A * N_ARMS + r % g->A;
        }
    }
    memset(fill, 0, ((size_t)NA + 1) * sizeof *fill);
    for (int x = 0; x < NA; x++)
        for (int i = 0, n = graph_deps(g, x, d); i < n; i++)
            g->dpt[g->dpt_off[d[i]] + fill[d[i]]++] = x;
    free(fill);
    /* longest path: dependents come after their dependencies (a line, a
     * few evaluations, counts as none of a training) */
    for (int x = 0; x < NA; x++)
        g->nodes[x].cost = g->nodes[x].kind == NODE_LINE ? 0 : 1;
    for (int x = NA - 1; x >= 0; x--)
        for (int i = 0, n = graph_deps(g, x, d); i < n; i++) {
            float c = g->nodes[x].cost + (g->nodes[d[i]].kind == NODE_LINE ? 0 : 1);
            if (g->nodes[d[i]].cost < c)
                g->nodes[d[i]].cost = c;
        }
    /* a line runs as soon as it can: it is short, and rank 0 holds the
     * weights it reads until it starts */
    for (int x = N; x < NA; x++)
        if (g->nodes[x].kind == NODE_LINE)
            g->nodes[x].cost = GRAPH_LINE_FIRST;
    return 0;
}

/* Plan cfg's grid (graph.h; the walk: this file's head). With share = 0
 * every cell starts from a round-0 node of its own and so shares nothing. */
int graph_plan(graph_t *g, const config_t *cfg, const net_t *net, int share)
{
    memset(g, 0, sizeof *g);
    g->T = grid_size(cfg);
    g->R1 = grid_max_rounds(cfg) + 1;
    g->shared = !!share;
    plan_segments(g, cfg, net);
    int arms[N_ARMS] = {1}, n_ctl = 0;
    g->A = ARMS_V1;
    for (int a = 1; a < N_ARMS; a++) {
        arms[a] = !!(cfg->controls & CTRL_OF_ARM(a));
        n_ctl += arms[a];
        if (arms[a] && a >= g->A) /* the first file layout that has the arm */
            g->A = a < ARMS_V2 ? ARMS_V2 : N_ARMS;
    }
    size_t rows = (size_t)g->T * g->A * g->R1;
    int32_t *root = malloc((size_t)cfg->n_seeds * sizeof *root);
    g->cell_node = malloc(rows * sizeof *g->cell_node);
    g->cell_rounds = malloc((size_t)g->T * sizeof *g->cell_rounds);
    if (!root || !g->cell_node || !g->cell_rounds)
        goto oom;
    memset(root, 0xff, (size_t)cfg->n_seeds * sizeof *root);
    memset(g->cell_node, 0xff, rows * sizeof *g->cell_node);
    for (int t = 0; t < g->T; t++) {
        trial_t tr = grid_trial(cfg, t);
        int64_t alive[NET_MAX_LAYERS], cut[NET_MAX_LAYERS];
        int32_t x = share ? root[tr.seed_i] : -1;
        if (x < 0 && (x = add_node(g, tr.seed_i, 0, 0, ARM_TICKET, 0, -1,
                                   rng_key((uint64_t)tr.seed, RNG_NODE, 0, 0))) < 0)
            goto oom;
        root[tr.seed_i] = x;
        g->cell_rounds[t] = tr.rounds;
        g->unshared += (tr.rounds + 1) + (int64_t)tr.rounds * n_ctl;
        for (int a = 0; a < N_ARMS; a++)
            if (arms[a])
                g->cell_node[((size_t)t * g->A + a) * g->R1] = x;
        memset(alive, 0, sizeof alive);
        for (int s = 0; s < g->n_segs; s++)
            alive[g->cut_of[s]] += (int64_t)g->seg_len[s];
        int32_t rnd = x, root0 = x;
        for (int k = 1; k <= tr.rounds; k++) {
            round_cut(g, tr.q, alive, cut);
            int32_t c = ticket_child(g, x, tr.rewind_i, tr.criterion_i, cut);
            if (c < 0)
                goto oom;
            g->cell_node[((size_t)t * g->A + ARM_TICKET) * g->R1 + k] = c;
            for (int a = 1; a < N_ARMS; a++) {
                if (!arms[a])
                    continue;
                int32_t r = control_twin(g, c, a, rnd, root0, tr.rewind > 0);
                if (r < 0)
                    goto oom;
                if (a == ARM_RANDOM)
                    rnd = r;
                g->cell_node[((size_t)t * g->A + a) * g->R1 + k] = r;
            }
            x = c;
        }
    }
    free(root);
    free(g->hash); /* only needed while planning */
    g->hash = NULL;
    g->hcap = 0;
    g->C = cfg->copies >= 2 ? cfg->copies : 0;
    grid_rewinds(cfg, &g->K);
    int trainings = g->N;
    if (plan_analysis(g))
        goto oom_nofree;
    g->NA = g->N;
    g->N = trainings;
    if (build_csr(g))
        goto oom_nofree;
    return 0;
oom:
    free(root);
oom_nofree:
    graph_free(g);
    return ts_fail(TS_ERUN, "out of memory planning the graph of trainings");
}

void graph_free(graph_t *g)
{
    free(g->nodes);
    free(g->cuts);
    free(g->cell_node);
    free(g->cell_rounds);
    free(g->inc_off);
    free(g->inc);
    free(g->dpt_off);
    free(g->dpt);
    free(g->hash);
    memset(g, 0, sizeof *g);
}

int graph_children(const graph_t *g, int x)
{
    int n = 0;
    for (int32_t c = g->nodes[x].first_child; c >= 0; c = g->nodes[c].next_sibling)
        n++;
    return n;
}

void graph_shard_nodes(const graph_t *g, int shard_i, int shard_n, char *mine)
{
    memset(mine, 0, (size_t)g->NA);
    for (int t = 0; t < g->T; t++)
        for (int arm = 0; t % shard_n == shard_i && arm < N_ARMS; arm++)
            for (int k = 0; k < g->R1; k++) {
                int32_t x = graph_cell_node(g, t, arm, k);
                if (x >= 0)
                    mine[x] = 1;
            }
    for (int y = g->N; y < g->NA; y++) /* a training's copies and lines go with it */
        mine[y] = mine[g->nodes[y].prev];
}

size_t graph_bytes(const graph_t *g)
{
    return (size_t)g->cap * (sizeof *g->nodes + (size_t)g->n_cut * sizeof *g->cuts) +
           (size_t)g->T * g->A * g->R1 * sizeof *g->cell_node + (size_t)g->T * sizeof(int32_t) +
           ((size_t)g->N + (size_t)g->NA + 2) * sizeof(int32_t) +
           (size_t)(g->inc_off ? g->inc_off[g->N] : 0) * sizeof(int32_t) +
           (size_t)(g->dpt_off ? g->dpt_off[g->NA] : 0) * sizeof(int32_t);
}

/* a above b in h: the higher key, then the lower id */
static int heap_before(const graph_heap_t *h, int32_t a, int32_t b)
{
    float ka = *(const float *)(h->key + (size_t)a * h->stride);
    float kb = *(const float *)(h->key + (size_t)b * h->stride);
    return ka != kb ? ka > kb : a < b;
}

void graph_heap_push(graph_heap_t *h, int32_t x)
{
    int i = h->n++;
    h->a[i] = x;
    while (i > 0 && heap_before(h, h->a[i], h->a[(i - 1) / 2])) {
        int32_t t = h->a[i];
        h->a[i] = h->a[(i - 1) / 2];
        h->a[(i - 1) / 2] = t;
        i = (i - 1) / 2;
    }
}

void graph_heap_pop(graph_heap_t *h)
{
    h->a[0] = h->a[--h->n];
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && heap_before(h, h->a[l], h->a[m]))
            m = l;
        if (r < h->n && heap_before(h, h->a[r], h->a[m]))
            m = r;
        if (m == i)
            break;
        int32_t t = h->a[i];
        h->a[i] = h->a[m];
        h->a[m] = t;
        i = m;
    }
}
