/*
 * graph.h - a sweep as a graph of trainings, each computed once.
 *
 * A node is one training: (seed, arm, pruning history up to round k). Its
 * identity is what determines its result: the seed, the arm and the pruning
 * counts of rounds 1..k (per layer; under global scope one count for the
 * layers pooled under one threshold and one per layer left out), which
 * the job's scope, scales and rates fix before anything trains: round r
 * removes prune_count(alive, q_layer) of a layer's alive weights. So round 0
 * of a seed is one node for the whole grid, and a ticket round is shared by
 * every cell whose counts agree up to that round. (What the whole job fixes,
 * such as the training length or prune.rewind_schedule, is the job's: its
 * config hash, which a resume or a merge must match; so nodes of two jobs
 * that differ in it are never taken for one another.) Ticket nodes form a tree per
 * seed; each ticket node of round k >= 1 has at most one reinit twin (trains
 * its mask from a fresh init) and one random twin (a random mask with its
 * per-layer survivor counts, nested in the random twin of its parent).
 *
 * What a node needs before it can run (its dependencies):
 *   ticket k   the ticket node of round k-1 (its trained weights give this
 *              node's mask; with rewinding, round 0 also gives the start)
 *   reinit k   the same: the twin ticket's mask
 *   random k   the ticket node of round k-1 (the twin's survivor counts) and
 *              the random node of round k-1 (the mask it prunes further)
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

enum { ARM_TICKET, ARM_REINIT, ARM_RANDOM, N_ARMS };

typedef struct {
    int32_t seed_i;        /* index into cfg->seeds */
    int8_t arm;            /* ARM_* */
    int16_t round;         /* k */
    int32_t prev;          /* ticket: parent (round k-1); random: random node of round k-1
                              (the seed's round-0 ticket at k = 1); reinit: -1 */
    int32_t twin;          /* the ticket node of this round (itself for tickets) */
    int32_t dep[2];        /* dependencies (see above), -1 for none */
    int32_t ctl[N_ARMS];   /* tickets: their reinit and random twins, -1 for none */
    int32_t first_child, next_sibling; /* the ticket tree */
    int64_t cut;           /* tickets of round >= 1: offset of this round's counts in g->cuts */
    uint64_t key;          /* identity: keys every random stream of the training */
    float cost;            /* trainings on the longest path from here to the end, this one included */
} graph_node_t;

typedef struct {
    int N;                 /* nodes */
    int T, R1;             /* cells, largest round count + 1 */
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
    int32_t *cell_node;    /* [T][N_ARMS][R1]: node of (cell, arm, round), -1 none;
                              round 0 of every arm is the ticket's round 0 */
    int32_t *cell_rounds;  /* [T] */
    int32_t *inc_off;      /* [N + 1]: node x appears in (cell, arm) pairs inc[inc_off[x] ..] */
    int32_t *inc;          /* t * N_ARMS + arm */
    int32_t *dpt_off;      /* [N + 1]: nodes that depend on x: dpt[dpt_off[x] ..] */
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

/* Node of (cell t, arm, round k), -1 when none. */
static inline int32_t graph_cell_node(const graph_t *g, int t, int arm, int k)
{
    return g->cell_node[((size_t)t * N_ARMS + (size_t)arm) * (size_t)g->R1 + (size_t)k];
}

/* Pruning counts of ticket node x's round (n_cut values); NULL for round 0. */
static inline const int64_t *graph_cut(const graph_t *g, int x)
{
    return g->nodes[x].round > 0 ? g->cuts + g->nodes[x].cut : NULL;
}

/*
 * The mask histories training x reads: *a the one its mask comes from (a
 * ticket: its own, made by its parent; a reinit: its twin ticket's; a random
 * training: its previous random training's), *b its twin ticket's (random
 * only); -1 for none.
 */
static inline void graph_inputs(const graph_t *g, int x, int32_t *a, int32_t *b)
{
    const graph_node_t *n = &g->nodes[x];
    *b = -1;
    if (n->arm == ARM_TICKET)
        *a = x;
    else if (n->arm == ARM_REINIT)
        *a = n->twin;
    else {
        *a = n->prev;
        *b = n->twin;
    }
}

/* The training whose outputs hold the mask history of node y; -1 for a round
 * 0, whose history (all ones) no training makes. */
static inline int32_t graph_producer(const graph_t *g, int32_t y)
{
    const graph_node_t *n = &g->nodes[y];
    if (n->round == 0)
        return -1;
    return n->arm == ARM_RANDOM ? y : n->prev;
}

/* Number of ticket children of node x. */
int graph_children(const graph_t *g, int x);

/* The trainings the cells of shard I of N (t mod N = I) need: mine[x] = 1
 * for each, 0 for the others (mine: g->N bytes, the caller's). */
void graph_shard_nodes(const graph_t *g, int shard_i, int shard_n, char *mine);

/* Bytes the planned graph holds (for --dry-run and the benchmark). */
size_t graph_bytes(const graph_t *g);

/*
 * A heap of trainings, the highest key first, then the lowest id: the
 * scheduler's ready list (keys: the nodes' cost, the remaining work) and
 * plan_sim's replay of it (a copy of those costs). Training x's key is the
 * float at key + x * stride bytes; a holds up to the graph's N + 1 entries
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
