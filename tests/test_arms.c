/*
 * test_arms: the arms beside the ticket and the random control (graph.h).
 *   - sign controls (trial_prepare_node, at the last round of a cell): the
 *     ticket's mask exactly; signed_reinit keeps theta0's sign on every
 *     survivor with other magnitudes; reshuffle's survivors of each layer are
 *     a permutation of theta0's survivors there (sorted, equal) and moved;
 *     signed_constant is +/- the layer's init std with theta0's sign; the
 *     same bits from a fresh trainer; trained weights 0 where the mask is 0;
 *     with rewinding the signs and values are the rewind point's;
 *   - pruning at initialisation: exact counts, per layer under pai_scope =
 *     layerwise (the ticket's own per-layer counts) and in total under
 *     global (the scale-0 output layer dense); its own history active in its
 *     round only; magnitude_init keeps the largest |theta0|;
 *   - SNIP's gradient against central finite differences of the scoring
 *     batch's mean loss (pieces of 7 rows summed into one gradient), on an
 *     MLP and a small conv net, and its score = |theta * g|;
 *   - SynFlow's conservation (Tanaka et al.): on linear layers and ReLUs
 *     without biases, each layer's scores sum to R, the summed output of an
 *     all-ones input through |theta|; and its iterated mask hits the count;
 *   - GraSP, on an MLP and a small conv net (conv, pool): its gradient g
 *     against central finite differences of the batch's mean loss at
 *     temperature T, its Hessian-vector product H g (pai_hvp's R pass)
 *     against central finite differences of g . grad L (H is symmetric, so
 *     d/dtheta_i (g . grad L) = (H g)_i: the product along each coordinate,
 *     where the R pass goes along g), and its score = theta * H g;
 *   - prune.pai_shuffle: each layer of each pruning-at-initialisation mask a
 *     permutation of the unshuffled one (the same count in every layer),
 *     moved, and the same bits from another trainer (check_shuffle).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blas.h"
#include "check.h"
#include "err.h"
#include "fdcheck.h"
#include "pai.h"
#include "synth.h"
#include "trial.h"

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The prunable layers' survivors in a mask: per layer into n[] (net order). */
static size_t alive_layers(const net_t *net, const float *mask, size_t *n)
{
    size_t total = 0;
    for (int l = 0; l < net->n_layers; l++) {
        const net_layer_t *L = &net->layers[l];
        n[l] = 0;
        for (size_t i = 0; i < L->n_w; i++)
            n[l] += mask[L->w_off + i] != 0;
        total += n[l];
    }
    return total;
}

/* One cell's ticket and its twins of every arm at its last round. */
static void check_cell(const char *what, config_t *cfg, const data_t *d, int rewinding)
{
    trial_ctx_t c, c2;
    trial_result_t res;
    graph_t g;
    int ok = trial_ctx_create(&c, cfg, d) == 0 && trial_ctx_create(&c2, cfg, d) == 0 &&
             trial_result_create(&res, cfg, &c.net) == 0;
    CHECK(ok, "%s: trainer: %s", what, ts_errmsg());
    if (!ok)
        return;
    net_t *net = &c.net;
    size_t W = net->n_weights, P = net->n_params;
    trial_t t = grid_trial(cfg, 0);
    CHECK(trial_run(&c, &t, &res) == 0, "%s: trial: %s", what, ts_errmsg());
    CHECK(graph_plan(&g, cfg, net, 1) == 0, "%s: plan", what);
    int k = t.rounds;
    const uint8_t *ticket = res.masks[ARM_TICKET]; /* the twin ticket's history at round k */
    float *theta0 = malloc(P * sizeof *theta0), *mask = malloc(P * sizeof *mask);
    float *a = malloc(P * sizeof *a), *b = malloc(P * sizeof *b), *orig = malloc(P * sizeof *orig);
    uint8_t *own = malloc(W + 1);
    trial_theta0(net, t.seed, theta0);
    const float *base = rewinding ? res.rewind : theta0;
    for (size_t i = 0; i < P; i++)
        mask[i] = i < W ? ticket[i] > k : 1.0f;
    size_t want[NET_MAX_LAYERS], have[NET_MAX_LAYERS];
    size_t want_total = alive_layers(net, mask, want);

    for (int arm = ARM_SIGNED_REINIT; arm < N_ARMS; arm++) {
        int32_t x = graph_cell_node(&g, 0, arm, k);
        CHECK(x >= 0 && g.nodes[x].arm == arm, "%s: %s node", what, trial_arm_names[arm]);
        if (x < 0)
            continue;
        int twin = graph_arm_mask(arm) == ARM_MASK_TWIN;
        node_in_t in = {twin ? ticket : NULL, NULL, rewinding ? res.rewind : NULL, NULL};
        memset(own, 0xee, W);
        CHECK(trial_prepare_node(&c, &g, x, &in, own) == 0, "%s: %s prepare: %s", what,
              trial_arm_names[arm], ts_errmsg());
        memcpy(a, c.start, P * sizeof *a);
        CHECK(trial_prepare_node(&c2, &g, x, &in, NULL) == 0 && !memcmp(a, c2.start, P * sizeof *a) &&
                  !memcmp(net->mask, c2.net.mask, P * sizeof(float)),
              "%s: %s: another trainer gives other bits", what, trial_arm_names[arm]);
        size_t bad_mask = 0, bad_sign = 0, same_mag = 0, bad_const = 0, moved = 0;
        if (twin) {
            for (size_t i = 0; i < W; i++)
                bad_mask += net->mask[i] != mask[i];
            for (size_t i = W; i < P; i++)
                bad_mask += net->mask[i] != 1.0f;
            CHECK(bad_mask == 0, "%s: %s: %zu weights off the ticket's mask", what, trial_arm_names[arm],
                  bad_mask);
            for (size_t i = W; i < P; i++)
                bad_sign += a[i] != base[i]; /* biases: the start's */
            CHECK(bad_sign == 0, "%s: %s: biases are not the start's", what, trial_arm_names[arm]);
            bad_sign = 0;
        }
        for (int l = 0; twin && l < net->n_layers; l++) {
            const net_layer_t *L = &net->layers[l];
            size_t m = 0;
            for (size_t i = L->w_off; i < L->w_off + L->n_w; i++) {
                if (mask[i] == 0)
                    continue;
                bad_sign += signbit(a[i]) != signbit(base[i]);
                same_mag += fabsf(a[i]) == fabsf(base[i]);
                bad_const += fabsf(a[i]) != (float)net_init_std(L);
                moved += a[i] != base[i];
                b[m] = a[i];
                orig[m++] = base[i]; /* the start's survivors */
            }
            if (arm == ARM_RESHUFFLE && m) {
                qsort(b, m, sizeof *b, cmp_float);
                qsort(orig, m, sizeof *orig, cmp_float);
                CHECK(!memcmp(b, orig, m * sizeof *b), "%s: reshuffle: layer %s is not a permutation of "
                      "the start's survivors", what, L->name);
            }
        }
        if (arm == ARM_SIGNED_REINIT)
            CHECK(bad_sign == 0 && same_mag < want_total / 20,
                  "%s: signed_reinit: %zu signs differ, %zu magnitudes are the start's", what, bad_sign, same_mag);
        if (arm == ARM_SIGNED_CONSTANT)
            CHECK(bad_sign == 0 && bad_const == 0, "%s: signed_constant: %zu signs, %zu magnitudes off", what,
                  bad_sign, bad_const);
        if (arm == ARM_RESHUFFLE)
            CHECK(moved > want_total / 2, "%s: reshuffle moved only %zu of %zu", what, moved, want_total);
        if (twin) { /* trained: exactly 0 off the mask */
            node_result_t nr;
            float *wts = malloc(P * sizeof *wts);
            node_out_t out = {NULL, NULL, NULL, wts};
            CHECK(node_result_create(&nr, c.E) == 0 && trial_run_node(&c, &g, x, &in, &out, &nr) == 0,
                  "%s: %s trains", what, trial_arm_names[arm]);
            size_t nz = 0;
            for (size_t i = 0; i < W; i++)
                nz += mask[i] == 0 && wts[i] != 0;
            CHECK(nz == 0, "%s: %s: %zu pruned weights trained away from 0", what, trial_arm_names[arm], nz);
            CHECK(fabs(nr.density - (double)want_total / W) < 1e-12, "%s: %s density", what,
                  trial_arm_names[arm]);
            node_result_free(&nr);
            free(wts);
            continue;
        }
        /* pruning at initialisation */
        size_t total = alive_layers(net, net->mask, have), bad_own = 0;
        for (size_t i = 0; i < W; i++)
            bad_own += own[i] != (net->mask[i] != 0 ? k + 1 : 0);
        CHECK(bad_own == 0, "%s: %s: its history is not its mask at round %d", what, trial_arm_names[arm], k);
        CHECK(total == want_total, "%s: %s keeps %zu weights, the ticket %zu", what, trial_arm_names[arm],
              total, want_total);
        for (int l = 0; l < net->n_layers; l++) {
            const net_layer_t *L = &net->layers[l];
            int own_count = cfg->scope == SCOPE_LAYERWISE || l == net->n_layers - 1; /* not pooled */
            if ((cfg->pai_scope == SCOPE_LAYERWISE && own_count) ||
                (l == net->n_layers - 1 && cfg->output_scale == 0))
                CHECK(have[l] == want[l], "%s: %s layer %s keeps %zu, the ticket %zu", what,
                      trial_arm_names[arm], L->name, have[l], want[l]);
        }
        if (arm == ARM_MAGNITUDE_INIT && cfg->pai_scope == SCOPE_GLOBAL) {
            float lo_kept = INFINITY, hi_cut = 0; /* every kept |theta0| >= every pruned one */
            const net_layer_t *O = &net->layers[net->n_layers - 1];
            size_t end = cfg->output_scale == 0 ? O->w_off : W; /* the output layer kept dense */
            for (size_t i = 0; i < end; i++) {
                if (net->mask[i] != 0 && fabsf(theta0[i]) < lo_kept)
                    lo_kept = fabsf(theta0[i]);
                if (net->mask[i] == 0 && fabsf(theta0[i]) > hi_cut)
                    hi_cut = fabsf(theta0[i]);
            }
            CHECK(lo_kept >= hi_cut, "%s: magnitude_init kept %g, pruned %g", what, lo_kept, hi_cut);
        }
        if (rewinding)
            CHECK(!memcmp(c.start, res.rewind, P * sizeof(float)), "%s: %s does not start at the rewind point",
                  what, trial_arm_names[arm]);
    }
    free(theta0), free(mask), free(a), free(b), free(orig), free(own);
    graph_free(&g);
    trial_result_free(&res);
    trial_ctx_free(&c);
    trial_ctx_free(&c2);
}

typedef struct {
    net_t *n;
    const float *x;
    const uint8_t *y;
    int b;
} loss_case_t;

static double mean_loss(void *ctx)
{
    loss_case_t *c = ctx;
    net_forward(c->n, c->x, c->b, NULL);
    return net_loss(c->n, c->y, c->b, NULL, 0) / c->b;
}

/*
 * prune.pai_shuffle: every pruning-at-initialisation node of cfg's plan, its
 * mask made by trainers of the job without and with the shuffle: in every
 * layer the shuffled mask keeps exactly the count of the unshuffled one (a
 * binary mask with a layer's count is a permutation of any other), moves
 * weights in every layer it does not keep whole or empty, and a second
 * trainer gives the same bits.
 */
static void check_shuffle(const char *what, const config_t *cfg, const data_t *d)
{
    config_t c0 = *cfg, c1 = *cfg;
    c0.pai_shuffle = 0, c1.pai_shuffle = 1;
    trial_ctx_t a, b, b2;
    graph_t g;
    int ok = trial_ctx_create(&a, &c0, d) == 0 && trial_ctx_create(&b, &c1, d) == 0 &&
             trial_ctx_create(&b2, &c1, d) == 0 && graph_plan(&g, &c1, &b.net, 1) == 0;
    CHECK(ok, "%s: trainers: %s", what, ts_errmsg());
    if (!ok)
        return;
    const net_t *net = &b.net;
    int nodes = 0;
    for (int x = 0; x < g.N; x++) {
        int arm = g.nodes[x].arm;
        if (graph_arm_mask(arm) != ARM_MASK_INIT)
            continue;
        node_in_t in = {NULL, NULL, NULL, NULL};
        CHECK(trial_prepare_node(&a, &g, x, &in, NULL) == 0 && trial_prepare_node(&b, &g, x, &in, NULL) == 0 &&
                  trial_prepare_node(&b2, &g, x, &in, NULL) == 0,
              "%s: %s prepare: %s", what, trial_arm_names[arm], ts_errmsg());
        CHECK(!memcmp(b.net.mask, b2.net.mask, net->n_params * sizeof(float)),
              "%s: %s node %d: another trainer shuffles other bits", what, trial_arm_names[arm], x);
        size_t n0[NET_MAX_LAYERS], n1[NET_MAX_LAYERS];
        alive_layers(net, a.net.mask, n0);
        alive_layers(net, b.net.mask, n1);
        for (int l = 0; l < net->n_layers; l++) {
            const net_layer_t *L = &net->layers[l];
            size_t moved = 0;
            for (size_t i = L->w_off; i < L->w_off + L->n_w; i++)
                moved += a.net.mask[i] != b.net.mask[i];
            CHECK(n0[l] == n1[l], "%s: %s node %d layer %s keeps %zu shuffled, %zu not", what, trial_arm_names[arm],
                  x, L->name, n1[l], n0[l]);
            if (n0[l] > 0 && n0[l] < L->n_w)
                CHECK(moved > 0, "%s: %s node %d layer %s: the shuffle moved nothing", what, trial_arm_names[arm], x,
                      L->name);
        }
        nodes++;
    }
    CHECK(nodes == 8, "%s: %d pruning-at-initialisation nodes, want 8 (4 arms, 2 rounds)", what, nodes);
    graph_free(&g);
    trial_ctx_free(&a), trial_ctx_free(&b), trial_ctx_free(&b2);
}

/* A scoring case: a net of `conv` entries and one hidden layer of 12 on 8x8
 * inputs, theta drawn with init_seed, `rows` inputs uniform in [0, 1) from
 * data_seed labelled i % 10, the mask all ones. Returns 0 (checked) when the
 * net cannot be made; score_case_free releases it. */
typedef struct {
    net_t n;
    float *theta, *x; /* [n_params], [rows][64] */
    uint8_t y[32];
    pai_batch_t batch;
} score_case_t;

static int score_case(score_case_t *c, const char *what, const int *conv, int n_conv, int rows, int piece,
                      uint64_t init_seed, uint64_t data_seed)
{
    config_t cfg;
    config_defaults(&cfg);
    for (int i = 0; i < n_conv; i++)
        cfg.conv[i] = conv[i];
    cfg.n_conv = n_conv;
    cfg.hidden[0] = 12;
    cfg.n_hidden = 1;
    int ok = rows <= 32 && net_create(&c->n, &cfg, 1, 8, 8, 10, piece, rows) == 0;
    CHECK(ok, "%s: net: %s", what, ts_errmsg());
    if (!ok)
        return 0;
    c->theta = malloc(c->n.n_params * sizeof *c->theta);
    c->x = malloc((size_t)rows * 64 * sizeof *c->x);
    net_init_params(&c->n, c->theta, init_seed, RNG_INIT, 0);
    rng_t r;
    rng_init(&r, rng_key(data_seed, 99, 0, 0));
    for (int i = 0; i < rows * 64; i++)
        c->x[i] = rng_uniform(&r);
    for (int i = 0; i < rows; i++)
        c->y[i] = (uint8_t)(i % 10);
    for (size_t i = 0; i < c->n.n_params; i++)
        c->n.mask[i] = 1.0f;
    c->batch = (pai_batch_t){c->x, c->y, rows};
    return 1;
}

static void score_case_free(score_case_t *c)
{
    free(c->theta), free(c->x);
    net_free(&c->n);
}

/* SNIP on a net with `conv` entries: its gradient against finite differences. */
static void check_snip(const char *what, const int *conv, int n_conv)
{
    enum { ROWS = 30, PIECE = 7 };
    score_case_t sc;
    if (!score_case(&sc, what, conv, n_conv, ROWS, PIECE, 5, 6))
        return;
    net_t n = sc.n;
    float *theta = sc.theta, *x = sc.x;
    const uint8_t *y = sc.y;
    float *score = malloc(n.n_weights * sizeof *score), *gf = malloc(n.n_params * sizeof *gf);
    double *g = malloc(n.n_params * sizeof *g);
    pai_batch_t batch = sc.batch;
    pai_opts_t po = {PAI_SNIP, 1, 0};
    CHECK(pai_scores(&po, &n, theta, &batch, PIECE, g, score) == 0, "%s: scores", what);
    size_t bad = 0;
    for (size_t i = 0; i < n.n_weights; i++)
        bad += score[i] != (float)fabs((double)theta[i] * g[i]);
    CHECK(bad == 0, "%s: %zu scores are not |theta * g|", what, bad);
    for (size_t i = 0; i < n.n_params; i++)
        gf[i] = (float)g[i];
    memcpy(n.params, theta, n.n_params * sizeof *theta);
    loss_case_t lc = {&n, x, y, ROWS};
    fd_opts_t o = {.h = 1e-3f, .floor = 1e-2, .tol = 2e-2, .kinks = 1};
    fd_stats_t st;
    fd_stats_init(&st);
    fd_check(&st, &o, what, n.params, n.n_params, gf, mean_loss, &lc);
    CHECK(st.bad == 0 && st.kinks <= 2 && st.worst < 2e-2,
          "%s: SNIP gradient against finite differences: %d disagree, %d kinks, worst %g", what, st.bad,
          st.kinks, st.worst);
    free(score), free(gf), free(g);
    sc.n = n; /* the copy the checks used, kernels and all */
    score_case_free(&sc);
}

typedef struct {
    net_t *n;
    const pai_batch_t *batch;
    double T;
    int piece;
    const double *g0; /* grad_phi: the fixed g */
    double *g;        /* scratch: pai_scratch(PAI_GRASP) */
    float *theta, *score;
} grasp_case_t;

/* The batch's mean cross-entropy of softmax(logits / T) at n->params. */
static double tempered_loss(void *ctx)
{
    grasp_case_t *c = ctx;
    double L = 0;
    int rows = c->batch->n, k = 10;
    size_t dim = 64;
    for (int r = 0; r < rows; r += c->piece) {
        int b = rows - r < c->piece ? rows - r : c->piece;
        const float *z = net_forward(c->n, c->batch->x + (size_t)r * dim, b, NULL);
        for (int i = 0; i < b; i++) {
            double mx = z[i * k], s = 0;
            for (int j = 1; j < k; j++)
                mx = fmax(mx, z[i * k + j]);
            for (int j = 0; j < k; j++)
                s += exp((z[i * k + j] - mx) / c->T);
            L += log(s) - (z[i * k + c->batch->y[r + i]] - mx) / c->T;
        }
    }
    return L / rows;
}

/* g0 . grad L at n->params (L at temperature T), the gradient from pai_scores. */
static double grad_phi(void *ctx)
{
    grasp_case_t *c = ctx;
    pai_opts_t o = {PAI_GRASP, 1, c->T};
    memcpy(c->theta, c->n->params, c->n->n_params * sizeof(float));
    if (pai_scores(&o, c->n, c->theta, c->batch, c->piece, c->g, c->score))
        return NAN;
    double phi = 0;
    for (size_t i = 0; i < c->n->n_weights; i++)
        phi += c->g0[i] * c->g[i];
    return phi;
}

/* GraSP on a net with `conv` entries: g and H g against finite differences. */
static void check_grasp(const char *what, const int *conv, int n_conv, float h)
{
    enum { ROWS = 30, PIECE = 7 };
    score_case_t sc;
    if (!score_case(&sc, what, conv, n_conv, ROWS, PIECE, 5, 6))
        return;
    net_t n = sc.n;
    float *theta = sc.theta;
    size_t P = n.n_params, W = n.n_weights;
    float *t2 = malloc(P * sizeof *t2), *score = malloc(W * sizeof *score), *s2 = malloc(W * sizeof *s2);
    float *gf = malloc(P * sizeof *gf);
    double *g = malloc(pai_scratch(PAI_GRASP, P) * sizeof *g), *g2 = malloc(pai_scratch(PAI_GRASP, P) * sizeof *g2);
    pai_batch_t batch = sc.batch;
    /* T = 2, not GraSP's 200: a loss far from flat, so the differences have digits to compare
     * (200 itself is tools/bench/pai_reference.py's, against PyTorch) */
    grasp_case_t gc = {&n, &batch, 2.0, PIECE, g, g2, t2, s2};
    pai_opts_t o = {PAI_GRASP, 1, gc.T};
    CHECK(pai_scores(&o, &n, theta, &batch, PIECE, g, score) == 0, "%s: scores", what);
    size_t bad = 0;
    double hmax = 0;
    for (size_t i = 0; i < W; i++) {
        bad += score[i] != (float)((double)theta[i] * g[P + i]);
        hmax = fmax(hmax, fabs(g[P + i]));
    }
    CHECK(bad == 0 && hmax > 0, "%s: %zu scores are not theta * Hg (largest |Hg| %g)", what, bad, hmax);
    fd_stats_t st;
    fd_opts_t fo = {.h = h, .floor = 1e-2, .tol = 2e-2, .kinks = 1};
    for (size_t i = 0; i < P; i++)
        gf[i] = (float)g[i];
    memcpy(n.params, theta, P * sizeof *theta);
    fd_stats_init(&st);
    fd_check(&st, &fo, what, n.params, P, gf, tempered_loss, &gc);
    CHECK(st.bad == 0 && st.kinks <= 2 && st.worst < 2e-2,
          "%s: GraSP's gradient against finite differences: %d disagree, %d kinks, worst %g", what, st.bad,
          st.kinks, st.worst);
    for (size_t i = 0; i < P; i++) /* scaled to order 1: the floor is absolute */
        gf[i] = (float)(g[P + i] / hmax);
    double *g0 = malloc(P * sizeof *g0);
    for (size_t i = 0; i < P; i++)
        g0[i] = i < W ? g[i] / hmax : 0; /* the direction: g's weights */
    gc.g0 = g0;
    fd_opts_t ho = {.h = h, .floor = 1e-2, .tol = 3e-2, .kinks = 1};
    fd_stats_init(&st);
    fd_check(&st, &ho, what, n.params, P, gf, grad_phi, &gc);
    CHECK(st.bad == 0 && st.kinks <= 12 && st.worst < 3e-2,
          "%s: GraSP's H g against finite differences of g . grad L: %d disagree, %d kinks, worst %g", what,
          st.bad, st.kinks, st.worst);
    free(t2), free(score), free(s2), free(gf), free(g), free(g2), free(g0);
    sc.n = n; /* the copy the checks used, kernels and all */
    score_case_free(&sc);
}

/* pai_hvp on a conv after a conv, a pool and two fc layers, where the
 * coordinates' finite differences cross a kink at nearly every step: H is
 * symmetric, u . H v = v . H u for random u and v (the R pass's cross terms
 * between two layers come in pairs, one from each side: a missing or wrong one
 * breaks the symmetry). The loss's own second differences along v cross
 * kinks there too (they grow as 1 / step), so the product's values on such a
 * net are left to tools/bench/pai_reference.py: Conv-2 against PyTorch's
 * double backward. */
static void check_hvp_symmetric(void)
{
    static const int conv[] = {3, 4, CFG_POOL};
    enum { ROWS = 12, PIECE = 5 };
    score_case_t sc;
    if (!score_case(&sc, "hvp", conv, 3, ROWS, PIECE, 7, 8))
        return;
    net_t n = sc.n;
    float *theta = sc.theta;
    size_t P = n.n_params, W = n.n_weights;
    double *u = malloc(P * sizeof *u), *v = malloc(P * sizeof *v), *hu = malloc(P * sizeof *hu),
           *hv = malloc(P * sizeof *hv);
    rng_t r;
    rng_init(&r, rng_key(9, 99, 0, 0));
    for (size_t i = 0; i < P; i++) { /* directions of theta's size, layer by layer */
        u[i] = i < W ? (rng_uniform(&r) - 0.5) * fabs(theta[i]) * 4 : 0;
        v[i] = i < W ? (rng_uniform(&r) - 0.5) * fabs(theta[i]) * 4 : 0;
    }
    pai_batch_t batch = sc.batch;
    double T = 2;
    CHECK(pai_hvp(&n, theta, u, &batch, PIECE, T, hu) == 0 && pai_hvp(&n, theta, v, &batch, PIECE, T, hv) == 0,
          "hvp: %s", ts_errmsg());
    double uhv = 0, vhu = 0, norm = 0;
    for (size_t i = 0; i < W; i++) {
        uhv += u[i] * hv[i], vhu += v[i] * hu[i];
        norm += fabs(u[i] * hv[i]) + fabs(v[i] * hu[i]);
    }
    CHECK(norm > 0 && fabs(uhv - vhu) <= 1e-5 * norm, "hvp: u.Hv %.9g, v.Hu %.9g (of %g)", uhv, vhu, norm);
    free(u), free(v), free(hu), free(hv);
    sc.n = n; /* the copy the checks used, kernels and all */
    score_case_free(&sc);
}

/* SynFlow on LeNet-like linear layers and ReLUs: conservation per layer. */
static void check_synflow(void)
{
    config_t cfg;
    net_t n;
    config_defaults(&cfg);
    cfg.hidden[0] = 40;
    cfg.hidden[1] = 20;
    cfg.n_hidden = 2;
    int ok = net_create(&n, &cfg, 1, 8, 8, 10, 4, 4) == 0;
    CHECK(ok, "synflow: net: %s", ts_errmsg());
    if (!ok)
        return;
    float *theta = malloc(n.n_params * sizeof *theta), *score = malloc(n.n_weights * sizeof *score);
    double *g = malloc(n.n_params * sizeof *g);
    net_init_params(&n, theta, 8, RNG_INIT, 0);
    for (size_t i = 0; i < n.n_params; i++)
        n.mask[i] = 1.0f;
    pai_opts_t o = {PAI_SYNFLOW, 20, 0};
    CHECK(pai_scores(&o, &n, theta, NULL, 4, g, score) == 0, "synflow: scores");
    float ones[64];
    for (int i = 0; i < 64; i++)
        ones[i] = 1.0f;
    const float *out = net_forward(&n, ones, 1, NULL); /* params: |theta|, biases 0 */
    double R = 0;
    for (int j = 0; j < 10; j++)
        R += out[j];
    CHECK(R > 0, "synflow: R = %g", R);
    for (int l = 0; l < n.n_layers; l++) {
        const net_layer_t *L = &n.layers[l];
        double sum = 0;
        for (size_t i = 0; i < L->n_w; i++)
            sum += score[L->w_off + i];
        CHECK(fabs(sum - R) <= 1e-4 * R, "synflow: layer %s's scores sum to %.9g, R = %.9g", L->name, sum, R);
    }
    /* the iterated mask: exactly the count, global over the three layers */
    pai_group_t gr = {.n_segs = 0, .keep = n.n_weights / 10};
    for (int l = 0; l < n.n_layers; l++)
        gr.segs[gr.n_segs++] = (prune_seg_t){n.layers[l].w_off, n.layers[l].n_w};
    CHECK(pai_mask(&o, &n, theta, NULL, 4, &gr, 1, g, score) == 0, "synflow: mask");
    size_t kept = 0, per[NET_MAX_LAYERS];
    kept = alive_layers(&n, n.mask, per);
    CHECK(kept == gr.keep, "synflow: kept %zu, want %zu", kept, gr.keep);
    CHECK(per[0] > 0 && per[1] > 0 && per[2] > 0, "synflow: a layer was cut off (%zu %zu %zu)", per[0], per[1],
          per[2]);
    free(theta), free(score), free(g);
    net_free(&n);
}

int main(int argc, char **argv)
{
    (void)argc;
    blas_init();
    data_t d;
    config_t cfg;
    synth_data(&d);
    synth_config(&cfg);
    cfg.iterations = 40;
    cfg.eval_every = 20;
    cfg.controls = CTRL_SIGNED_REINIT | CTRL_RESHUFFLE | CTRL_SIGNED_CONSTANT | CTRL_SNIP | CTRL_SYNFLOW |
                   CTRL_MAGNITUDE_INIT | CTRL_GRASP;
    cfg.synflow_iterations = 10;
    cfg.rates[0] = 0.8;
    cfg.n_rates = 1;
    cfg.rounds[0] = 2;
    cfg.n_rounds = 1;
    cfg.n_seeds = 1;
    cfg.pai_scope = SCOPE_LAYERWISE;
    check_cell("layerwise", &cfg, &d, 0);
    cfg.pai_scope = SCOPE_GLOBAL;
    cfg.output_scale = 0;
    check_cell("global, output layer kept", &cfg, &d, 0);
    cfg.output_scale = 0.5;
    cfg.scope = SCOPE_GLOBAL;
    cfg.pai_scope = SCOPE_LAYERWISE;
    cfg.rewind_iteration = 20;
    check_cell("rewinding, prune.scope global", &cfg, &d, 1);
    cfg.rewind_iteration = 0;
    cfg.pai_scope = SCOPE_GLOBAL;
    check_shuffle("pai_shuffle, global", &cfg, &d);
    cfg.pai_scope = SCOPE_LAYERWISE;
    check_shuffle("pai_shuffle, layerwise", &cfg, &d);

    static const int conv[] = {3, CFG_POOL};
    check_snip("snip mlp", NULL, 0);
    check_snip("snip conv", conv, 2);
    /* steps: the gradient jumps where a ReLU or a pooling maximum changes side
     * (a kink), and is float: the conv net's many shared weights want the
     * smaller step */
    check_grasp("grasp mlp", NULL, 0, 1e-3f);
    check_grasp("grasp conv", conv, 2, 3e-4f);
    check_hvp_symmetric();
    check_synflow();
    data_free(&d);
    return check_summary(argv[0]);
}
