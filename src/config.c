/*
 * config.c - the job's keys: the table of every job-file key (its section,
 * type, field of config_t, default and help: one place, which also prints
 * the help), finding a key and the name meant by a misspelt one, the
 * defaults, model.arch's presets, where each key was set, and the
 * validation after parsing, one flat list of checks. What a value of each
 * type is: config_value.c; the INI text: config_ini.c.
 */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"
#include "err.h"

#define FASHION "/usr/share/datasets/fashion-mnist/"

const key_t_ config_keys[] = {
    {"data", "train_images", K_PATH, F(train_images), 0, FASHION "train-images-idx3-ubyte.gz", NULL,
     "training images, MNIST IDX format, plain or gzip"},
    {"data", "train_labels", K_PATH, F(train_labels), 0, FASHION "train-labels-idx1-ubyte.gz", NULL,
     "training labels"},
    {"data", "test_images", K_PATH, F(test_images), 0, FASHION "t10k-images-idx3-ubyte.gz", NULL,
     "test images"},
    {"data", "test_labels", K_PATH, F(test_labels), 0, FASHION "t10k-labels-idx1-ubyte.gz", NULL,
     "test labels"},
    {"data", "validation", K_I64, F(validation), 0, "5000", NULL,
     "images held out of the end of the training file for validation (same for every trial)"},
    {"data", "format", K_CHOICE, F(format), 0, "idx", "idx|cifar10",
     "idx: MNIST files; cifar10: binary batches (train_images: comma list of files; labels unused)"},
    {"data", "split", K_CHOICE, F(split), 0, "last", "last|random",
     "which training images validate: the last `validation` of the file(s), or a random draw of them"},
    {"data", "split_seed", K_I64, F(split_seed), 0, "0", NULL,
     "split = random: the seed of the draw (the job's, the same for every trial and seed)"},
    {"data", "normalize", K_CHOICE, F(normalize), 0, "auto", "auto|none|standard",
     "inputs: none (pixel / 255), standard (then minus the training split's mean, over its std, "
     "per channel), auto (standard for cifar10, none for idx)"},
    {"model", "arch", K_CHOICE, F(arch), 0, "custom", "custom|lenet300|conv2|conv4|conv6",
     "custom (conv and hidden as given) or a paper architecture that sets them"},
    {"model", "conv", K_LAYERS, F(conv), F(n_conv), "", NULL,
     "3x3 convolutions (output channels) and 2x2 max-pools before the hidden layers, e.g. 64, 64, pool"},
    {"model", "hidden", K_INTLIST, F(hidden), F(n_hidden), "300, 100", NULL,
     "hidden fully connected layer widths (LeNet-300-100)"},
    {"model", "dropout", K_DOUBLE, F(dropout), 0, "0", NULL,
     "dropout probability on the hidden fully connected layers while training"},
    {"train", "optimizer", K_CHOICE, F(optimizer), 0, "adam", "adam|sgd", "adam or sgd (with momentum)"},
    {"train", "lr", K_DOUBLE, F(lr), 0, "0.0012", NULL, "learning rate"},
    {"train", "momentum", K_DOUBLE, F(momentum), 0, "0.9", NULL, "SGD momentum"},
    {"train", "beta1", K_DOUBLE, F(beta1), 0, "0.9", NULL, "Adam beta1"},
    {"train", "beta2", K_DOUBLE, F(beta2), 0, "0.999", NULL, "Adam beta2"},
    {"train", "eps", K_DOUBLE, F(eps), 0, "1e-08", NULL, "Adam epsilon"},
    {"train", "batch", K_INT, F(batch), 0, "60", NULL, "minibatch size"},
    {"train", "iterations", K_I64, F(iterations), 0, "50000", NULL, "training iterations per round"},
    {"train", "eval_every", K_I64, F(eval_every), 0, "1000", NULL,
     "evaluate every this many iterations (and at 0 and at the end)"},
    {"train", "test_curve", K_CHOICE, F(test_curve), 0, "full", "full|early_stop",
     "full: the test set at every evaluation point; early_stop: only at the early stop (minimum "
     "validation loss) and the end: the same summary for less evaluation, test curves NaN elsewhere"},
    {"train", "kernels", K_CHOICE, F(kernels), 0, "auto", "auto|dense|sparse",
     "fully connected products: over the surviving weights only (sparse), dense, or auto (per layer, the faster at its density)"},
    {"train", "chunks", K_INT, F(chunks), 0, "0", NULL,
     "a minibatch's convolutions run in this many chunks of its images, their gradients summed chunk by "
     "chunk, and its dense products in fixed column blocks: up to this many threads share a training's "
     "convolutions, and the results depend on it, never on --threads; a divisor of train.batch, or 0: "
     "the largest divisor up to 12; 1: one piece, the bits of releases before it"},
    {"prune", "scope", K_CHOICE, F(scope), 0, "layerwise", "layerwise|global",
     "layerwise: each layer loses its share; global: one threshold (of the criterion's score) over the "
     "layers of scale 1"},
    {"prune", "criterion", K_CHOICE, F(criterion), 0, "magnitude",
     "magnitude|magnitude_increase|movement|large_init_large_final|large_init",
     "which weights a round keeps, by a score of w_init (what the training started from: theta0, or the "
     "rewind point) and w_final (the trained weights), the lowest pruned: magnitude |w_final|; "
     "magnitude_increase |w_final| - |w_init|; movement |w_final - w_init|; large_init_large_final "
     "min(|w_init|, |w_final|): a weight survives only when large at both; large_init |w_init|"},
    {"prune", "output_scale", K_DOUBLE, F(output_scale), 0, "0.5", NULL,
     "the output layer is pruned at this multiple of the per-round rate (0: never; global: 1 pools it)"},
    {"prune", "conv_scale", K_DOUBLE, F(conv_scale), 0, "1", NULL,
     "convolutions are pruned at this multiple of the per-round rate (0: never; global: 1 pools them)"},
    {"prune", "rewind_iteration", K_I64, F(rewind_iteration), 0, "0", NULL,
     "0: reset survivors to theta0; k > 0: to their values at iteration k of round 0"},
    {"prune", "rewind_schedule", K_CHOICE, F(rewind_schedule), 0, "continue", "continue|restart",
     "rewind_iteration = k > 0: rounds after the first train steps k..iterations continuing round 0's "
     "data order (continue, as open_lth) or the full iterations with the data order from step 0 (restart)"},
    {"prune", "controls", K_FLAGS, F(controls), 0, "none",
     "reinit|random|signed_reinit|reshuffle|signed_constant|snip|synflow|magnitude_init|grasp",
     "none, or a list of arms beside the ticket: reinit (same mask, fresh init), random (random mask, "
     "from theta0 or the rewind point), signed_reinit (same mask, fresh magnitudes with theta0's signs), "
     "reshuffle (same mask, theta0's surviving values permuted in each layer), signed_constant (same "
     "mask, +/- the layer's init std with theta0's signs), and pruning at initialisation to each "
     "round's density: snip (|theta * dL/dtheta| on a scoring batch), synflow (iterative, no data), "
     "magnitude_init (|theta0|), grasp (theta * Hg on a scoring batch, gradient flow kept)"},
    {"prune", "pai_scope", K_CHOICE, F(pai_scope), 0, "global", "layerwise|global",
     "snip, synflow, magnitude_init, grasp: one threshold over every pruned layer (global, as their papers), "
     "or the ticket's plan: each layer (or prune.scope's pool) to the ticket's count (layerwise)"},
    {"prune", "pai_images", K_INT, F(pai_images), 0, "10", NULL,
     "snip, grasp: the scoring batch's training images of each class"},
    {"prune", "pai_seed", K_I64, F(pai_seed), 0, "0", NULL,
     "snip, grasp: the scoring batch's draw (with the trial's seed)"},
    {"prune", "synflow_iterations", K_INT, F(synflow_iterations), 0, "100", NULL,
     "synflow: prune-and-rescore steps to the target density (exponential schedule)"},
    {"prune", "grasp_temperature", K_DOUBLE, F(grasp_temperature), 0, "200", NULL,
     "grasp: T of the loss its gradient and Hessian-vector product are of, softmax(logits / T) (Wang et al.: 200)"},
    {"prune", "pai_shuffle", K_CHOICE, F(pai_shuffle), 0, "false", "false|true",
     "true: each pruning-at-initialisation mask permuted at random within each layer, its counts kept "
     "(Frankle et al. 2021's ablation; compare two jobs)"},
    {"sweep", "rates", K_DLIST, F(rates), F(n_rates), "0.8, 0.9", NULL,
     "pruning rates: fraction of each layer's weights removed by the last round (crossed with rounds)"},
    {"sweep", "per_round", K_DLIST, F(per_round), F(n_per_round), "", NULL,
     "instead of rates: fraction pruned each round (the paper's schedule: 0.2); rate = 1 - (1 - q)^rounds"},
    {"sweep", "rounds", K_INTLIST, F(rounds), F(n_rounds), "1, 2", NULL,
     "pruning round counts (1..254)"},
    {"sweep", "seeds", K_I64LIST, F(seeds), F(n_seeds), "1, 2", NULL, "seeds (theta0 and data order)"},
    {"sweep", "rewind", K_I64LIST, F(rewinds), F(n_rewinds), "", NULL,
     "instead of prune.rewind_iteration: rewind iterations crossed with the grid (each cell rewinds to "
     "its k; a seed's round 0 trains once and records the weights at every k)"},
    {"sweep", "criterion", K_FLAGS, F(criteria), 0, "none",
     "magnitude|magnitude_increase|movement|large_init_large_final|large_init",
     "none, or instead of prune.criterion: criteria crossed with the grid, in this order whatever the "
     "list's (each cell prunes by its own; a seed's round 0 trains once for all)"},
    {"analysis", "copies", K_INT, F(copies), 0, "0", NULL,
     "instability analysis (linear mode connectivity): 0 off, or n >= 2: the dense network and each "
     "ticket round are trained n times from the same start and mask, differing only in data order "
     "(copy 0: the sweep's own training), and evaluated along the line between each pair's final weights"},
    {"analysis", "interpolation", K_INT, F(interpolation), 0, "30", NULL,
     "copies >= 2: points evaluated on each line (test and validation sets), both endpoints included"},
    {"analysis", "data_seeds", K_I64LIST, F(data_seeds), F(n_data_seeds), "", NULL,
     "copies >= 2: each copy's data-order seed, the first 0 (the sweep's own order); empty: 0, 1, .., "
     "copies - 1. Two copies of one seed train the same bits (instability exactly 0)"},
    {"output", "weights", K_CHOICE, F(weights), 0, "none", "none|final",
     "none, or final: store each distinct training's trained weights once (/nodes/weights)"},
    {"output", "curves", K_CHOICE, F(curves), 0, "cells", "cells|trainings",
     "where the learning curves go: cells, a row per cell and round of every arm (/curves, as before), "
     "or trainings, a row per distinct training (/nodes/curves: results format 5, smaller when cells "
     "share trainings; the readers give the cells' curves either way)"},
};
#define NKEYS ((int)(sizeof config_keys / sizeof config_keys[0]))
const int config_n_keys = NKEYS;
_Static_assert(NKEYS <= CFG_MAX_KEYS, "config_t.where has CFG_MAX_KEYS slots");

int config_key_find(const char *section, const char *name)
{
    for (int i = 0; i < NKEYS; i++)
        if (!strcmp(config_keys[i].section, section) && !strcmp(config_keys[i].name, name))
            return i;
    return -1;
}

int config_section_known(const char *section)
{
    for (int i = 0; i < NKEYS; i++)
        if (!strcmp(config_keys[i].section, section))
            return 1;
    return 0;
}

/* The known section closest to section, or NULL (points into sg). */
const char *config_section_suggest(ts_suggest_t *sg, const char *section)
{
    ts_suggest_init(sg, section);
    for (int i = 0; i < NKEYS; i++)
        if (i == 0 || strcmp(config_keys[i].section, config_keys[i - 1].section))
            ts_suggest_add(sg, config_keys[i].section);
    return ts_suggest_best(sg);
}

/* The closest name among the keys of section (any section when NULL); its
 * index or -1. */
static int key_near(const char *section, const char *name)
{
    ts_suggest_t sg;
    ts_suggest_init(&sg, name);
    for (int i = 0; i < NKEYS; i++)
        if (!section || !strcmp(config_keys[i].section, section))
            ts_suggest_add(&sg, config_keys[i].name);
    const char *best = ts_suggest_best(&sg);
    for (int i = 0; best && i < NKEYS; i++)
        if ((!section || !strcmp(config_keys[i].section, section)) && !strcmp(config_keys[i].name, best))
            return i;
    return -1;
}

/*
 * The key meant by an unknown section.name, or -1: a close name in the same
 * section (the closest section when section is not one), else the same name
 * in another section, else (for a known section) a close name in any section.
 */
int config_key_suggest(const char *section, const char *name)
{
    ts_suggest_t sg;
    int known = config_section_known(section);
    const char *near = known ? section : config_section_suggest(&sg, section);
    int k = near ? key_near(near, name) : -1;
    for (int i = 0; k < 0 && i < NKEYS; i++)
        if (!strcmp(config_keys[i].name, name))
            k = i;
    return k >= 0 || !known ? k : key_near(NULL, name);
}


void config_defaults(config_t *cfg)
{
    char why[256];
    memset(cfg, 0, sizeof *cfg);
    for (int i = 0; i < NKEYS; i++) {
        const char *err = config_key_parse(&config_keys[i], cfg, config_keys[i].def, why, sizeof why);
        (void)err; /* the table's defaults are tested by the test suite */
        cfg->where[i] = (config_pos_t){.from = CFG_FROM_DEFAULT};
    }
}

/* --- model.arch: a preset for model.conv and model.hidden --- */

static const struct {
    const char *conv, *hidden;
} arch_presets[] = {
    [ARCH_LENET300] = {"", "300, 100"},
    [ARCH_CONV2] = {"64, 64, pool", "256, 256"},
    [ARCH_CONV4] = {"64, 64, pool, 128, 128, pool", "256, 256"},
    [ARCH_CONV6] = {"64, 64, pool, 128, 128, pool, 256, 256, pool", "256, 256"},
};

const char *config_arch_name(const config_t *cfg)
{
    static const char *const names[] = {[ARCH_LENET300] = "lenet300", [ARCH_CONV2] = "conv2",
                                        [ARCH_CONV4] = "conv4", [ARCH_CONV6] = "conv6"};
    char conv[256], hidden[256];
    config_value(cfg, "model.conv", conv, sizeof conv);
    config_value(cfg, "model.hidden", hidden, sizeof hidden);
    for (int a = ARCH_LENET300; a <= ARCH_CONV6; a++)
        if (!strcmp(conv, arch_presets[a].conv) && !strcmp(hidden, arch_presets[a].hidden))
            return names[a];
    return "custom";
}

/* Where key k was set, written out into buf (see config_pos_t); returns buf. */
static const char *pos_text(const config_t *cfg, int k, char *buf, size_t len)
{
    const config_pos_t *w = &cfg->where[k];
    const char *arch = w->via_arch ? " (model.arch)" : "";
    if (w->from == CFG_FROM_FILE)
        snprintf(buf, len, "%s:%d%s", cfg->sources[w->source], w->line, arch);
    else if (w->from == CFG_FROM_SET)
        snprintf(buf, len, "--set %s.%s%s", config_keys[k].section, config_keys[k].name, arch);
    else
        snprintf(buf, len, "default");
    return buf;
}

/* The slot of source name in cfg->sources, added when new (from the fifth
 * on, names share the last slot). */
uint8_t config_source_slot(config_t *cfg, const char *name)
{
    for (int i = 0; i < cfg->n_sources; i++)
        if (!strncmp(cfg->sources[i], name, CFG_PATH - 1))
            return (uint8_t)i;
    int i = cfg->n_sources < CFG_MAX_SOURCES ? cfg->n_sources++ : CFG_MAX_SOURCES - 1;
    snprintf(cfg->sources[i], sizeof cfg->sources[i], "%s", name);
    return (uint8_t)i;
}

/*
 * After key k was set from `where`: a preset in model.arch fills model.conv
 * and model.hidden, so setting both is a conflict, whichever comes first.
 * The resolved text leaves arch out: conv and hidden carry its values, and a
 * job spelling them out is the same job. Returns NULL or a reason.
 */
/* A reason names a place that may be a long path: cut to why's size, as it
 * always was (the message quotes at most the reason's first 255 bytes). */
#if defined __GNUC__ && !defined __clang__
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
const char *config_arch_apply(config_t *cfg, int k, config_pos_t where, char *why, size_t wlen)
{
    int k_arch = config_key_find("model", "arch"), k_conv = config_key_find("model", "conv");
    int k_hidden = config_key_find("model", "hidden");
    if (k == k_arch && cfg->arch != ARCH_CUSTOM) {
        const int set_by[2] = {k_conv, k_hidden};
        for (int i = 0; i < 2; i++) {
            int j = set_by[i];
            if (cfg->where[j].from != CFG_FROM_DEFAULT && !cfg->where[j].via_arch) {
                char at[CFG_PATH + 48];
                snprintf(why, wlen, "conflicts with model.%s set at %s: an arch preset sets model.conv and model.hidden",
                         config_keys[j].name, pos_text(cfg, j, at, sizeof at));
                return why;
            }
        }
        config_key_parse(&config_keys[k_conv], cfg, arch_presets[cfg->arch].conv, why, wlen);
        config_key_parse(&config_keys[k_hidden], cfg, arch_presets[cfg->arch].hidden, why, wlen);
        where.via_arch = 1;
        cfg->where[k_conv] = cfg->where[k_hidden] = where;
    } else if ((k == k_conv || k == k_hidden) && cfg->arch != ARCH_CUSTOM) {
        char at[CFG_PATH + 48];
        snprintf(why, wlen, "conflicts with model.arch set at %s: use arch = custom to give conv and hidden",
                 pos_text(cfg, k_arch, at, sizeof at));
        return why;
    }
    return NULL;
}
#if defined __GNUC__ && !defined __clang__
#pragma GCC diagnostic pop
#endif

const char *config_where(const config_t *cfg, const char *section_key)
{
    const char *dot = strchr(section_key, '.');
    char section[64];
    if (!dot || (size_t)(dot - section_key) >= sizeof section)
        return "?";
    snprintf(section, sizeof section, "%.*s", (int)(dot - section_key), section_key);
    int k = config_key_find(section, dot + 1);
    static char ring[4][CFG_PATH + 48]; /* a message may name two places */
    static int next;
    if (k < 0)
        return "?";
    next = (next + 1) % 4;
    return pos_text(cfg, k, ring[next], sizeof ring[next]);
}

/* --- validation: one flat list of checks --- */

#define BAD(key, ...) bad(cfg, key, __VA_ARGS__)
static int bad(const config_t *cfg, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int bad(const config_t *cfg, const char *key, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return ts_fail(TS_EINPUT, "%s: %s %s", config_where(cfg, key), key, what);
}

int config_chunks(int batch, int want)
{
    int top = want > 0 ? want : CFG_AUTO_CHUNKS, c = top < batch ? top : batch;
    while (c > 1 && batch % c)
        c--;
    return c > 0 ? c : 1;
}

/* prune.criterion, or the criterion axis sweep.criterion instead: the key
 * other than its default (magnitude, which a job's resolved text writes
 * beside the axis) with the axis is an error. */
static int validate_criterion(const config_t *cfg)
{
    if (cfg->criteria && cfg->criterion != PRUNE_MAGNITUDE)
        return ts_fail(TS_EINPUT, "%s: sweep.criterion and prune.criterion (%s) are both given: prune by "
                       "one criterion (prune.criterion) or cross a list (sweep.criterion); keep one",
                       config_where(cfg, "sweep.criterion"), config_where(cfg, "prune.criterion"));
    return 0;
}

/* prune.rewind_iteration, or the rewind axis sweep.rewind instead (one of
 * them: the key other than 0 beside the axis is an error): each k in [0,
 * iterations], none twice, and under rewind_schedule = continue below
 * iterations (the later rounds need a step to train). */
static int validate_rewind(const config_t *cfg)
{
    /* 0 is the key's "no rewinding", which a job's resolved text writes beside the axis */
    if (cfg->n_rewinds > 0 && cfg->rewind_iteration != 0)
        return ts_fail(TS_EINPUT, "%s: sweep.rewind and prune.rewind_iteration (%s) are both given: "
                       "rewind to one iteration (prune.rewind_iteration) or cross a list (sweep.rewind); keep one",
                       config_where(cfg, "sweep.rewind"), config_where(cfg, "prune.rewind_iteration"));
    const char *key = cfg->n_rewinds > 0 ? "sweep.rewind" : "prune.rewind_iteration";
    const int64_t *ks = cfg->n_rewinds > 0 ? cfg->rewinds : &cfg->rewind_iteration;
    int n = cfg->n_rewinds > 0 ? cfg->n_rewinds : 1;
    for (int i = 0; i < n; i++) {
        if (ks[i] < 0 || ks[i] > cfg->iterations)
            return BAD(key, "%s%lld is outside [0, train.iterations = %lld]", cfg->n_rewinds ? "entry " : "= ",
                       (long long)ks[i], (long long)cfg->iterations);
        for (int j = 0; j < i; j++)
            if (ks[j] == ks[i])
                return BAD(key, "lists %lld twice", (long long)ks[i]);
        if (cfg->rewind_schedule == REWIND_CONTINUE && ks[i] > 0 && ks[i] == cfg->iterations)
            return BAD(key,
                       "%s train.iterations = %lld leaves the rounds after the first no step to train with "
                       "prune.rewind_schedule = continue (%s): rewind earlier, or set rewind_schedule = restart",
                       cfg->n_rewinds ? "entry" : "=", (long long)cfg->iterations,
                       config_where(cfg, "prune.rewind_schedule"));
    }
    return 0;
}

int config_validate(const config_t *cfg)
{
    int rc;
    if (cfg->validation < 1)
        return BAD("data.validation", "= %lld must be at least 1", (long long)cfg->validation);
    if (cfg->split_seed < 0)
        return BAD("data.split_seed", "= %lld is negative", (long long)cfg->split_seed);
    if (cfg->n_hidden < 1)
        return BAD("model.hidden", "is empty: give at least one layer width");
    for (int i = 0; i < cfg->n_hidden; i++)
        if (cfg->hidden[i] < 1 || cfg->hidden[i] > 65536)
            return BAD("model.hidden", "entry %d is %d: widths must be in [1, 65536]", i + 1,
                       cfg->hidden[i]);
    if (cfg->n_hidden > CFG_MAX_LAYERS - 1)
        return BAD("model.hidden", "has %d layers: at most %d", cfg->n_hidden, CFG_MAX_LAYERS - 1);
    for (int i = 0; i < cfg->n_conv; i++)
        if (cfg->conv[i] != CFG_POOL && (cfg->conv[i] < 1 || cfg->conv[i] > 4096))
            return BAD("model.conv", "entry %d is %d: channels must be in [1, 4096] (or pool)", i + 1,
                       cfg->conv[i]);
    if (!(cfg->dropout >= 0 && cfg->dropout < 1))
        return BAD("model.dropout", "= %g is outside [0, 1)", cfg->dropout);
    if (!(cfg->lr > 0))
        return BAD("train.lr", "= %g must be positive", cfg->lr);
    if (cfg->momentum < 0 || cfg->momentum >= 1)
        return BAD("train.momentum", "= %g is outside [0, 1)", cfg->momentum);
    if (cfg->beta1 < 0 || cfg->beta1 >= 1)
        return BAD("train.beta1", "= %g is outside [0, 1)", cfg->beta1);
    if (cfg->beta2 < 0 || cfg->beta2 >= 1)
        return BAD("train.beta2", "= %g is outside [0, 1)", cfg->beta2);
    if (!(cfg->eps > 0))
        return BAD("train.eps", "= %g must be positive", cfg->eps);
    if (cfg->batch < 1)
        return BAD("train.batch", "= %d must be at least 1", cfg->batch);
    if (cfg->chunks < 0 || (cfg->chunks > 0 && cfg->batch % cfg->chunks))
        return BAD("train.chunks", "= %d does not divide train.batch = %d: choose a divisor of the batch, or 0 (%d here)",
                   cfg->chunks, cfg->batch, config_chunks(cfg->batch, 0));
    if (cfg->iterations < 1 || cfg->iterations > 1000000000)
        return BAD("train.iterations", "= %lld is outside [1, 1e9]", (long long)cfg->iterations);
    if (cfg->eval_every < 1)
        return BAD("train.eval_every", "= %lld must be at least 1", (long long)cfg->eval_every);
    if (cfg->output_scale < 0 || cfg->output_scale > 1)
        return BAD("prune.output_scale", "= %g is outside [0, 1]", cfg->output_scale);
    if (cfg->conv_scale < 0 || cfg->conv_scale > 1)
        return BAD("prune.conv_scale", "= %g is outside [0, 1]", cfg->conv_scale);
    if ((rc = validate_rewind(cfg)) || (rc = validate_criterion(cfg)))
        return rc;
    if (cfg->pai_images < 1 || cfg->pai_images > 100000)
        return BAD("prune.pai_images", "= %d is outside [1, 100000]", cfg->pai_images);
    if (cfg->pai_seed < 0)
        return BAD("prune.pai_seed", "= %lld is negative", (long long)cfg->pai_seed);
    if (cfg->synflow_iterations < 1 || cfg->synflow_iterations > 100000)
        return BAD("prune.synflow_iterations", "= %d is outside [1, 100000]", cfg->synflow_iterations);
    if (!(cfg->grasp_temperature > 0) || cfg->grasp_temperature > 1e6)
        return BAD("prune.grasp_temperature", "= %g is outside (0, 1e6]", cfg->grasp_temperature);
    if (cfg->copies != 0 && (cfg->copies < 2 || cfg->copies > 16))
        return BAD("analysis.copies", "= %d: 0 (no instability analysis) or 2..16 copies (a pair at least)",
                   cfg->copies);
    if (cfg->interpolation < 2 || cfg->interpolation > 1001)
        return BAD("analysis.interpolation", "= %d is outside [2, 1001] (the two endpoints at least)",
                   cfg->interpolation);
    if (cfg->n_data_seeds > 0 && cfg->n_data_seeds != cfg->copies)
        return BAD("analysis.data_seeds", "lists %d seeds for analysis.copies = %d (%s): one a copy, or none",
                   cfg->n_data_seeds, cfg->copies, config_where(cfg, "analysis.copies"));
    if (cfg->n_data_seeds > 0 && cfg->data_seeds[0] != 0)
        return BAD("analysis.data_seeds", "starts with %lld: copy 0 is the sweep's own training, data-order seed 0",
                   (long long)cfg->data_seeds[0]);
    for (int i = 0; i < cfg->n_data_seeds; i++)
        if (cfg->data_seeds[i] < 0)
            return BAD("analysis.data_seeds", "entry %lld is negative", (long long)cfg->data_seeds[i]);
    if (cfg->n_per_round > 0 && cfg->n_rates > 0 && strcmp(config_where(cfg, "sweep.rates"), "default"))
        return ts_fail(TS_EINPUT, "%s: sweep.per_round and sweep.rates (%s) are both given: a sweep is "
                       "either crossed (rates x rounds) or per-round (per_round x rounds); keep one",
                       config_where(cfg, "sweep.per_round"), config_where(cfg, "sweep.rates"));
    if (cfg->n_rates < 1 && cfg->n_per_round < 1)
        return BAD("sweep.rates", "is empty: give sweep.rates or sweep.per_round");
    for (int i = 0; i < cfg->n_per_round; i++) {
        if (!(cfg->per_round[i] > 0 && cfg->per_round[i] < 1))
            return BAD("sweep.per_round", "entry %g is outside (0, 1)", cfg->per_round[i]);
        for (int j = 0; j < i; j++)
            if (cfg->per_round[j] == cfg->per_round[i])
                return BAD("sweep.per_round", "lists %g twice", cfg->per_round[i]);
    }
    if (cfg->n_rounds < 1)
        return BAD("sweep.rounds", "is empty");
    if (cfg->n_seeds < 1)
        return BAD("sweep.seeds", "is empty");
    for (int i = 0; i < cfg->n_rates; i++) {
        if (cfg->rates[i] < 0 || cfg->rates[i] >= 1)
            return BAD("sweep.rates", "entry %g is outside [0, 1)", cfg->rates[i]);
        for (int j = 0; j < i; j++)
            if (cfg->rates[j] == cfg->rates[i])
                return BAD("sweep.rates", "lists %g twice", cfg->rates[i]);
    }
    for (int i = 0; i < cfg->n_rounds; i++) {
        if (cfg->rounds[i] < 1 || cfg->rounds[i] > CFG_MAX_ROUNDS)
            return BAD("sweep.rounds", "entry %d is outside [1, %d] (a mask byte counts rounds)",
                       cfg->rounds[i], CFG_MAX_ROUNDS);
        for (int j = 0; j < i; j++)
            if (cfg->rounds[j] == cfg->rounds[i])
                return BAD("sweep.rounds", "lists %d twice", cfg->rounds[i]);
    }
    for (int i = 0; i < cfg->n_seeds; i++) {
        if (cfg->seeds[i] < 0)
            return BAD("sweep.seeds", "entry %lld is negative", (long long)cfg->seeds[i]);
        for (int j = 0; j < i; j++)
            if (cfg->seeds[j] == cfg->seeds[i])
                return BAD("sweep.seeds", "lists %lld twice", (long long)cfg->seeds[i]);
    }
    return 0;
}

void config_value(const config_t *cfg, const char *section_key, char *out, size_t len)
{
    const char *dot = strchr(section_key, '.');
    char section[64];
    out[0] = 0;
    if (!dot || (size_t)(dot - section_key) >= sizeof section)
        return;
    snprintf(section, sizeof section, "%.*s", (int)(dot - section_key), section_key);
    int k = config_key_find(section, dot + 1);
    if (k >= 0)
        config_key_format(&config_keys[k], cfg, out, len);
}

void config_print_help(FILE *out)
{
    const char *section = "";
    for (int i = 0; i < NKEYS; i++) {
        if (strcmp(section, config_keys[i].section)) {
            section = config_keys[i].section;
            fprintf(out, "  [%s]\n", section);
        }
        fprintf(out, "    %-17s %s\n%22s default: %s", config_keys[i].name, config_keys[i].help, "", config_keys[i].def);
        if (config_keys[i].choices) {
            char list[256];
            config_choices_text(config_keys[i].choices, list, sizeof list);
            fprintf(out, "; %s: %s", config_keys[i].type == K_FLAGS ? "none or a list of" : "one of", list);
        }
        fprintf(out, "\n");
    }
}
