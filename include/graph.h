/*
 * graph.h - a sweep as a graph of trainings, each computed once.
 *
 * A node is one training: (seed, arm, rewind point, criterion, pruning
 * history up to round k). Its identity is what determines its result: the
 * seed, the arm, for rounds k >= 1 the rewind point its chain starts from
 * and the criterion its chain is pruned by (the cell's k of the rewind axis
 * and criterion of the criterion axis, grid.h; round 0 records every k,
 * leaves its children's masks by each one's criterion, and is one node for
 * all of them) and the pruning
 * counts of rounds 1..k (per layer; under global scope one count for the
 * layers pooled under one threshold and one per layer left out), which
 * the job's scope, scales and rates fix before anything trains: round r
 * removes prune_count(alive, q_layer) of a layer's alive weights. So round 0
 * of a seed is one node for the whole grid, and a ticket round is shared by
 * every cell whose counts agree up to that round. (What the whole job fixes,
 * such as the training length or prune.rewind_schedule, is the job's: its
 * config hash, which a resume or a merge must match; so nodes of two jobs
 * that differ in it are never taken for one another.) The random streams are
 * keyed by the seed, the counts and the arm, not by the rewind point or the
 * criterion: the chains of two values share them (a cell of an axis with
 * value v is then bit for bit the one-value job of v, and a file of one
 * value keeps the keys it had before the axes); a node's identity includes
 * rw and ci, and the planner never merges two chains that differ in them. Ticket nodes form a tree per
 * seed; each ticket node of round k >= 1 has at most one twin of each arm
 * the job asks for: a reinit twin (trains its mask from a fresh init), a
 * random twin (a random mask with its per-layer survivor counts, nested in
 * the random twin of its parent), sign controls and pruning at
 * initialisation (see the arms below).
 *
 * What a node needs before it can run (its dependencies):
 *   ticket k   the ticket node of round k-1 (its trained weights give this
 *              node's mask; with rewinding, round 0 also gives the start)
 *   reinit k   the same: the twin ticket's mask
 *   random k   the ticket node of round k-1 (the twin's survivor counts) and
 *              the random node of round k-1 (the mask it prunes further)
 *   signed_reinit, reshuffle, signed_constant k   as reinit
 *   snip, synflow, magnitude_init, grasp k   nothing (theta0 and the planned counts
 *              of its twin's rounds make its mask), or with rewinding the
 *              seed's round 0 (the rewind point it starts from)
 * Nodes are numbered in a topological order (dependencies first), seed by
 * seed. Every random stream of a training (reinit weights, random masks,
 * dropout) is keyed by the node's key, a hash of its identity, so a shared
 * node gives the same result whichever cell asked for it first.
 *
 * Each rank can plan the same graph from the job alone (no messages). The
 * planner knows nothing of ranks, files or training.
 */
#ifndef TS_GRAPH_H
#define TS_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "grid.h"
#include "net.h"

/*
 * The arms: the ticket, and the trainings the job compares it with (its
 * [prune] controls, each a leaf of the graph, one twin per ticket node of
 * round >= 1). The values are the file's (/nodes/arm, the arm axis of
 * /trials/nodes) and fixed: a new arm comes at the end. How each gets its
 * mask and its start (graph_arm_mask, trial.c):
 *   reinit           the ticket's mask, a fresh random initialisation
 *   random           a random mask with the ticket's per-layer counts, nested
 *   signed_reinit    the ticket's mask, fresh magnitudes with the start's signs
 *   reshuffle        the ticket's mask, the start's surviving values permuted
 *                    within each layer
 *   signed_constant  the ticket's mask, +/- the layer's init std with the
 *                    start's signs
 *   snip, synflow, magnitude_init, grasp
 *                    pruning at initialisation (pai.h): theta0 pruned in one
 *                    shot, by a score of theta0, to the ticket round's
 *                    planned survivors (with prune.pai_shuffle, then permuted
 *                    within each layer); then trained as a ticket
 * (the start: theta0, or the rewind point when rewinding).
 */
enum {
    ARM_TICKET, ARM_REINIT, ARM_RANDOM, ARM_SIGNED_REINIT, ARM_RESHUFFLE, ARM_SIGNED_CONSTANT,
    ARM_SNIP, ARM_SYNFLOW, ARM_MAGNITUDE_INIT, ARM_GRASP, N_ARMS
};
/* Arms of the files before the sign controls and pruning at initialisation:
 * a job of only these keeps /trials/nodes [T, 3, R+1] (graph_t.A); and of the
 * files before grasp: a job without it keeps [T, 9, R+1]. */
#define ARMS_V1 3
#define ARMS_V2 9
_Static_assert(ARMS_V2 == ARM_GRASP, "the arms before grasp");

/* Where an arm's mask comes from. */
enum {
    ARM_MASK_TICKET, /* the ticket: pruned by its parent */
    ARM_MASK_TWIN,   /* its twin ticket's (reinit, the sign controls): no history of its own */
    ARM_MASK_RANDOM, /* its own, pruned at random from its previous random training's */
    ARM_MASK_INIT    /* its own, pruned from theta0's scores (pruning at initialisation) */
};
static inline int graph_arm_mask(int arm)
{
    switch (arm) { /* every arm named: a new one must say where its mask comes from */
    case ARM_TICKET: return ARM_MASK_TICKET;
    case ARM_RANDOM: return ARM_MASK_RANDOM;
    case ARM_SNIP: case ARM_SYNFLOW: case ARM_MAGNITUDE_INIT: case ARM_GRASP: return ARM_MASK_INIT;
    case ARM_REINIT: case ARM_SIGNED_REINIT: case ARM_RESHUFFLE: case ARM_SIGNED_CONSTANT:
    default: return ARM_MASK_TWIN;
    }
}
/* The arm makes a mask history of its own (its row of /nodes/mask, written by
 * itself; a ticket's is written by its parent). */
static inline int graph_arm_own_mask(int arm)
{
    int m = graph_arm_mask(arm);
    return m == ARM_MASK_RANDOM || m == ARM_MASK_INIT;
}

/*
 * The kinds of node. With analysis.copies = C >= 2 every ticket training x
 * (the analysed trainings: the dense round 0 and each ticket round) has, for
 * each of its analysis sets i (round 0 under sweep.rewind: one per k of the
 * axis, its copies splitting there; else one), C - 1 copies and a line:
 *   copy j of (x, i)  the training x again, from the same start under the same
 *                     mask, with data-order seed j (trial.h: the instability
 *                     analysis); it depends on what x depends on, so it runs
 *                     beside x, on any rank; its final weights are its output
 *   line (x, i)       the test and validation sets along the lines between
 *                     every pair of x's final weights (copy 0) and its copies';
 *                     it depends on x and on the C - 1 copies, which are the
 *                     nodes right before it
 * Extra nodes come after the trainings (ids N .. NA - 1), per analysed
 * training in id order, set by set: copies 1 .. C - 1, then the line. They
 * carry x's seed, rw, ci, round and key (graph_train gives x), and are in no
 * cell's row (/trials/nodes): a line writes its cells' /instability rows.
 */
enum { NODE_TRAIN, NODE_COPY, NODE_LINE };

typedef struct {
    int32_t seed_i;        /* index into cfg->seeds */
    int16_t rw;            /* rounds >= 1: index of its chain's rewind point in the rewind axis
                              (grid_rewinds); round 0: 0 (it records every k) */
    int8_t ci;             /* rounds >= 1: index of its chain's criterion in the criterion axis
                              (grid_criteria); round 0: 0 (its children's each their own) */
    int8_t arm;            /* ARM_* (extra nodes: ARM_TICKET) */
    int8_t kind;           /* NODE_* */
    int16_t set;           /* extra nodes: the analysis set (round 0 under sweep.rewind: the
                              rewind index its copies split at; else 0) */
    int16_t copy;          /* copies: j (1 .. C - 1); lines: 0 */
    int32_t extra;         /* analysed trainings: their first extra node (-1: none); copies:
                              their row of /copies (a training's copy 0 has the row before its
                              first copy's: graph_copy0_row); lines: their row of /lines */
    int16_t round;         /* k */
    int32_t prev;          /* ticket: parent (round k-1); random: random node of round k-1
                              (the seed's round-0 ticket at k = 1); the other arms: -1;
                              extra nodes: the training they analyse */
    int32_t twin;          /* the ticket node of this round (itself for tickets) */
    int32_t dep[2];        /* dependencies (see above), -1 for none; copies: their training's;
                              lines: none here (graph_deps) */
    int32_t ctl[N_ARMS];   /* tickets: their twin of each arm, -1 for none */
    int32_t first_child, next_sibling; /* the ticket tree */
    int64_t cut;           /* tickets of round >= 1: offset of this round's counts in g->cuts */
    uint64_t key;          /* identity: keys every random stream of the training */
    float cost;            /* trainings on the longest path from here to the end, this one included */
} graph_node_t;

typedef struct {
    int N;                 /* trainings (nodes 0 .. N - 1: what /nodes has a row for) */
    int NA;                /* all nodes: the trainings, then the copies and lines (N without
                              the analysis) */
    int C;                 /* analysis.copies (0: no analysis) */
    int K;                 /* the rewind axis's length (1 without it): round 0's analysis sets */
    int n_copy_rows;       /* rows of /copies: per analysed training, copy 0 (the training
                              itself) and its copies */
    int n_lines;           /* lines (rows of /lines) */
    int T, R1;             /* cells, largest round count + 1 */
    int A;                 /* arms in cell_node: ARMS_V1 when the job asks for no later arm
                              (the files before them), else ARMS_V2 when it asks for no
                              grasp (the files before it), else N_ARMS */
    int n_cut;             /* counts per round (see cut_of) */
    int n_segs;            /* prunable layers */
    int seg_layer[NET_MAX_LAYERS]; /* net layer of each prunable layer */
    size_t seg_len[NET_MAX_LAYERS];/* its weights */
    double seg_scale[NET_MAX_LAYERS]; /* its share of the per-round rate: output_scale,
                                         conv_scale or 1 */
    int cut_of[NET_MAX_LAYERS];    /* its entry in a round's counts; under global scope the
                                      layers of scale 1 share entry 0 (one threshold), the
                                      others have their own (layer-wise at their scale) */
    int pooled[NET_MAX_LAYERS];    /* 1: in the global pool */
    int shared;            /* 0: planned with --no-share (every cell its own nodes) */
    graph_node_t *nodes;   /* [N] */
    int64_t *cuts;         /* pruning counts of ticket rounds, n_cut per node */
    int32_t *cell_node;    /* [T][A][R1]: node of (cell, arm, round), -1 none;
                              round 0 of every arm is the ticket's round 0 */
    int32_t *cell_rounds;  /* [T] */
    int32_t *inc_off;      /* [N + 1]: training x appears in (cell, arm) pairs inc[inc_off[x] ..] */
    int32_t *inc;          /* t * N_ARMS + arm */
    int32_t *dpt_off;      /* [NA + 1]: nodes that depend on x: dpt[dpt_off[x] ..] */
    int32_t *dpt;
    int64_t unshared;      /* trainings the cells would run without sharing */
    int cap;               /* allocated nodes */
    int32_t *hash;         /* [hcap] node ids, -1 empty (ticket children by parent and counts) */
    size_t hcap;
} graph_t;

/*
 * Plan the graph of cfg's grid for the layer table of net (its shapes only).
 * share = 0 gives every cell its own nodes (the unshared computation, for
 * checking). Returns 0 or TS_ERUN (out of memory).
 */
int graph_plan(graph_t *g, const config_t *cfg, const net_t *net, int share);
/* Release what graph_plan made; g is left empty (a second call is safe). */
void graph_free(graph_t *g);

/* The training node y is (itself, or the one a copy or line analyses). */
static inline int32_t graph_train(const graph_t *g, int32_t y)
{
    return g->nodes[y].kind == NODE_TRAIN ? y : g->nodes[y].prev;
}

/* Analysis sets of training x: 0 (not analysed), else K for an analysed
 * round 0 under sweep.rewind, 1 otherwise. */
int graph_sets(const graph_t *g, int32_t x);

/* The line of analysed training x's set i. */
static inline int32_t graph_line(const graph_t *g, int32_t x, int i)
{
    return g->nodes[x].extra + i * g->C + g->C - 1;
}

/* The analysis set of a cell's round k whose rewind index is rewind_i: a
 * round 0 is analysed from each k of the axis, a later round once. */
static inline int graph_cell_set(int round, int rewind_i)
{
    return round == 0 ? rewind_i : 0;
}

/* The j-th final weights line y reads: its training's (copy 0), then its
 * copies' (the nodes right before it). */
static inline int32_t graph_line_input(const graph_t *g, int32_t y, int j)
{
    return j ? y - g->C + j : g->nodes[y].prev;
}

/* The row of /copies of analysed training x's copy 0 (the training itself). */
static inline int32_t graph_copy0_row(const graph_t *g, int32_t x)
{
    return g->nodes[g->nodes[x].extra].extra - 1;
}

/* The row of /copies holding the final weights of y: a copy's own, or an
 * analysed training's copy 0. */
static inline int32_t graph_copy_row(const graph_t *g, int32_t y)
{
    return g->nodes[y].kind == NODE_COPY ? g->nodes[y].extra : graph_copy0_row(g, y);
}

/* Dependencies of node y into d (at most 16 + 1, the most copies a line reads
 * and its training); returns how many. */
int graph_deps(const graph_t *g, int32_t y, int32_t *d);
#define GRAPH_MAX_DEPS 17
/* A line's cost (its priority in the ready heap): above any chain's. */
#define GRAPH_LINE_FIRST 1e30f

/* Node of (cell t, arm, round k), -1 when none. */
static inline int32_t graph_cell_node(const graph_t *g, int t, int arm, int k)
{
    if (arm >= g->A)
        return -1;
    return g->cell_node[((size_t)t * (size_t)g->A + (size_t)arm) * (size_t)g->R1 + (size_t)k];
}

/* Pruning counts of ticket node x's round (n_cut values); NULL for round 0. */
static inline const int64_t *graph_cut(const graph_t *g, int x)
{
    return g->nodes[x].round > 0 ? g->cuts + g->nodes[x].cut : NULL;
}

/*
 * The mask histories training x reads: *a the one its mask comes from (a
 * ticket: its own, made by its parent; reinit and the sign controls: their
 * twin ticket's; a random training: its previous random training's), *b its
 * twin ticket's (random only); -1 for none (pruning at initialisation reads
 * none).
 */
static inline void graph_inputs(const graph_t *g, int x, int32_t *a, int32_t *b)
{
    x = graph_train(g, x); /* a copy or line reads what its training reads */
    const graph_node_t *n = &g->nodes[x];
    *a = *b = -1;
    switch (graph_arm_mask(n->arm)) {
    case ARM_MASK_TICKET: *a = x; break;
    case ARM_MASK_TWIN: *a = n->twin; break;
    case ARM_MASK_RANDOM: *a = n->prev; *b = n->twin; break;
    default: break;
    }
}

/* The training whose outputs hold the mask history of node y; -1 for a round
 * 0, whose history (all ones) no training makes. */
static inline int32_t graph_producer(const graph_t *g, int32_t y)
{
    const graph_node_t *n = &g->nodes[y];
    if (n->round == 0)
        return -1;
    return graph_arm_own_mask(n->arm) ? y : n->prev;
}

/* Number of ticket children of node x. */
int graph_children(const graph_t *g, int x);

/* The nodes the cells of shard I of N (t mod N = I) need: mine[x] = 1
 * for each, 0 for the others (mine: g->NA bytes, the caller's): the trainings
 * in their rows, and those trainings' copies and lines. */
void graph_shard_nodes(const graph_t *g, int shard_i, int shard_n, char *mine);

/* Bytes the planned graph holds (for --dry-run and the benchmark). */
size_t graph_bytes(const graph_t *g);

/*
 * A heap of trainings, the highest key first, then the lowest id: the
 * scheduler's ready list (keys: the nodes' cost, the remaining work) and
 * plan_sim's replay of it (a copy of those costs). Training x's key is the
 * float at key + x * stride bytes; a holds up to the graph's NA + 1 entries
 * (the caller's); n counts them.
 */
typedef struct {
    int32_t *a;
    int n;
    const char *key;
    size_t stride;
} graph_heap_t;

void graph_heap_push(graph_heap_t *h, int32_t x);
/* Take out the top entry (n > 0). */
void graph_heap_pop(graph_heap_t *h);

#endif
