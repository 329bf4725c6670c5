/*
 * config.h - the job file: INI (libinih) -> config_t, defaults, validation.
 *
 * Every key lives in one table (config.c) that holds its default, its help
 * text and how to parse and print it; `ticketsweep --help` prints that table.
 * Unknown sections and keys, duplicates and malformed values are errors that
 * name the file and line ("jobs/x.ini:12: ..."). Overrides from the command
 * line (`--set section.key=value`) are applied after the file and named
 * "--set section.key" in messages.
 */
#ifndef TS_CONFIG_H
#define TS_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "optim.h" /* OPT_*: train.optimizer */
#include "prune.h" /* PRUNE_*: prune.criterion */

#define CFG_MAX_LIST 64    /* entries in a list value (rates, rounds, seeds) */
#define CFG_MAX_LAYERS 16  /* hidden layers; also conv entries */
#define CFG_POOL (-1)      /* a 2x2 max-pool in model.conv */
#define CFG_MAX_ROUNDS 254 /* a mask byte counts rounds 0..254 active */
#define CFG_PATH 1024
#define CFG_MAX_KEYS 64    /* keys in the table (config.c checks) */
#define CFG_MAX_SOURCES 4  /* job files and texts one config_t is read from */

enum { KERNELS_AUTO = 0, KERNELS_DENSE = 1, KERNELS_SPARSE = 2 };
/* train.test_curve: where a training evaluates the test set */
enum { TEST_CURVE_FULL = 0, TEST_CURVE_EARLY_STOP = 1 };
enum { SCOPE_LAYERWISE = 0, SCOPE_GLOBAL = 1 };
/* prune.controls: the arm a >= 1 of graph.h (ARM_*) is bit 1 << (a - 1) */
enum {
    CTRL_REINIT = 1, CTRL_RANDOM = 2, CTRL_SIGNED_REINIT = 4, CTRL_RESHUFFLE = 8,
    CTRL_SIGNED_CONSTANT = 16, CTRL_SNIP = 32, CTRL_SYNFLOW = 64, CTRL_MAGNITUDE_INIT = 128,
    CTRL_GRASP = 256
};
#define CTRL_OF_ARM(arm) (1 << ((arm) - 1))
/* prune.rewind_schedule: what a round after the first trains from the rewind point */
enum { REWIND_CONTINUE = 0, REWIND_RESTART = 1 };
enum { FORMAT_IDX = 0, FORMAT_CIFAR10 = 1 };
enum { SPLIT_LAST = 0, SPLIT_RANDOM = 1 };
enum { NORM_AUTO = 0, NORM_NONE = 1, NORM_STANDARD = 2 };
enum { WEIGHTS_NONE = 0, WEIGHTS_FINAL = 1 };
enum { CURVES_CELLS = 0, CURVES_TRAININGS = 1 };
enum { ARCH_CUSTOM = 0, ARCH_LENET300, ARCH_CONV2, ARCH_CONV4, ARCH_CONV6 };

/* Where a key was set, in 8 bytes; config_where writes it out ("file:line",
 * "--set section.key" or "default", with " (model.arch)" when the preset
 * set it). */
typedef struct {
    int32_t line;     /* CFG_FROM_FILE: the line */
    uint8_t from;     /* CFG_FROM_* */
    uint8_t source;   /* CFG_FROM_FILE: the file's name in config_t.sources */
    uint8_t via_arch; /* set by model.arch's preset, which was set here */
} config_pos_t;
enum { CFG_FROM_DEFAULT = 0, CFG_FROM_FILE = 1, CFG_FROM_SET = 2 };

typedef struct {
    /* [data] */
    char train_images[CFG_PATH], train_labels[CFG_PATH];
    char test_images[CFG_PATH], test_labels[CFG_PATH];
    int64_t validation;
    int format; /* FORMAT_*: idx (MNIST) or cifar10 (train_images: a comma list of batch files) */
    int split;  /* SPLIT_*: validation = the last `validation` training images, or a random draw */
    int64_t split_seed; /* SPLIT_RANDOM: the draw's seed (the job's, not a trial's) */
    int normalize; /* NORM_*: auto = standard for cifar10, none for idx */
    /* [model] */
    int arch;   /* ARCH_*: a preset that fills conv and hidden (only while parsing) */
    int conv[CFG_MAX_LAYERS]; /* output channels of 3x3 convolutions, or CFG_POOL */
    int n_conv;
    int hidden[CFG_MAX_LAYERS];
    int n_hidden;
    double dropout; /* on the outputs of hidden fully connected layers, while training */
    /* [train] */
    int optimizer; /* OPT_* (optim.h) */
    double lr, momentum, beta1, beta2, eps;
    int batch;
    int64_t iterations, eval_every;
    int kernels; /* KERNELS_*: fully connected products over the survivors or dense */
    int chunks;  /* pieces of a minibatch (0: auto, config_chunks); results depend on it */
    int test_curve; /* TEST_CURVE_*: the test set at every evaluation point (full), or only
                       at the early stop and the end (early_stop; the same summary) */
    /* [prune] */
    int scope;
    int criterion; /* PRUNE_* (prune.h): the score whose lowest a round prunes */
    double output_scale, conv_scale;
    int64_t rewind_iteration;
    int rewind_schedule; /* REWIND_*: with rewind_iteration = k > 0, rounds >= 1 train steps
                            k..iterations with round 0's data order (continue) or the full
                            iterations from step 0's order (restart); trial_start_iter */
    int controls; /* CTRL_* bits */
    int pai_scope;       /* SCOPE_*: pruning at initialisation, one threshold over every
                            pruned layer (global) or the ticket's own plan (layerwise) */
    int pai_images;      /* the scoring batch of snip: this many training images a class */
    int64_t pai_seed;    /* the scoring batch's draw: rng_key(seed, RNG_PAI, pai_seed, 0) */
    int synflow_iterations; /* synflow's prune-and-rescore steps to the target density */
    double grasp_temperature; /* grasp: T of the loss softmax(logits / T) its g and H g are of */
    int pai_shuffle;     /* 1: each pruning-at-initialisation mask permuted within each layer
                            (Frankle et al. 2021's ablation), keyed by the node's key */
    /* [sweep] */
    double rates[CFG_MAX_LIST];
    int n_rates;
    double per_round[CFG_MAX_LIST]; /* instead of rates: the fraction pruned each round */
    int n_per_round;
    int rounds[CFG_MAX_LIST];
    int n_rounds;
    int64_t seeds[CFG_MAX_LIST];
    int n_seeds;
    int64_t rewinds[CFG_MAX_LIST]; /* instead of rewind_iteration: the rewind axis (grid.h) */
    int n_rewinds;
    int criteria; /* instead of criterion: the criterion axis, PRUNE_* bits (grid.h); 0: none */
    /* [analysis] linear mode connectivity (trial.h: the instability analysis) */
    int copies;        /* trainings of each analysed start (0: off, else >= 2): copy 0 is the
                          sweep's own training, the others differ only in data order */
    int interpolation; /* points on the line between two copies' final weights, endpoints included */
    int64_t data_seeds[CFG_MAX_LIST]; /* each copy's data-order seed (0: the sweep's order);
                                         empty: 0, 1, ..., copies - 1 */
    int n_data_seeds;
    /* [output] */
    int weights; /* WEIGHTS_*: store each training's trained weights */
    int curves;  /* CURVES_*: the learning curves a row per cell and round, or per training */

    /* Where each key was set (table order), and the names of the files and
     * texts read (config_load, config_load_string; from the fifth on, a name
     * takes the last slot). */
    config_pos_t where[CFG_MAX_KEYS];
    char sources[CFG_MAX_SOURCES][CFG_PATH];
    int n_sources;
} config_t;

/* Fill cfg with the defaults. */
void config_defaults(config_t *cfg);
/* Parse an INI job file into cfg (on top of what is there). TS_EINPUT on error. */
int config_load(config_t *cfg, const char *path);
/* Parse "section.key=value" and apply it. TS_EINPUT on error. */
int config_set(config_t *cfg, const char *assignment);
/* Parse INI text held in memory (the `config` attribute of a results file). */
int config_load_string(config_t *cfg, const char *text, const char *name);
/* train.chunks = 0 (auto) takes the largest divisor of the batch up to this. */
#define CFG_AUTO_CHUNKS 12
/* The chunks a batch of `batch` runs in for train.chunks = want: want when it
 * divides the batch, 0 (auto) the largest divisor up to CFG_AUTO_CHUNKS; in
 * general the largest divisor of batch not above want (>= 1). */
int config_chunks(int batch, int want);
/* Check ranges and relations between keys; the message names the key and where it was set. */
int config_validate(const config_t *cfg);
/* Where key "section.key" was set (for messages from later checks): "file:line",
 * "--set section.key" or "default" (a static buffer, one of four in turn:
 * valid until the fourth call after; "?" for an unknown key). */
const char *config_where(const config_t *cfg, const char *section_key);
/* The resolved configuration as INI text, every key in table order; a valid job file.
 * Returns a malloc'd string (caller frees) or NULL. */
char *config_to_string(const config_t *cfg);
/* 16 hex digits: FNV-1a 64 of config_to_string(). */
void config_hash(const config_t *cfg, char out[17]);
/* Write to buf (size len) the keys whose values differ between two resolved texts,
 * as "a.b (x -> y), ..."; returns how many differ. A key old_text lacks (written
 * before the key existed) counts as its default, or, for a key whose default
 * is not what files before it did, as that value (train.kernels: dense;
 * prune.rewind_schedule: restart where the text rewinds, rewind_iteration > 0). */
int config_diff(const char *old_text, const char *new_text, char *buf, size_t len);
/* The value of key "section.key" as the resolved text writes it ("0.8, 0.9",
 * "reinit, random", a path); "" for an unknown key. */
void config_value(const config_t *cfg, const char *section_key, char *out, size_t len);
/* The paper architecture whose model.conv and model.hidden cfg has ("lenet300",
 * "conv2", "conv4", "conv6"), else "custom": the resolved text keeps no arch. */
const char *config_arch_name(const config_t *cfg);
/* Print every key with its default and meaning (for --help). */
void config_print_help(FILE *out);

#endif
