/*
 * data.h - the three splits a trial uses: train, validation, test.
 *
 * The validation split is `validation` images of the training file(s): the
 * last ones (data.split = last), or a random draw seeded by data.split_seed
 * (data.split = random; data_split_rows). Either way it is fixed by the job,
 * the same for every trial and seed, and the loader puts the rows in the
 * block in split order, so every process that attaches the block sees the
 * same sets. Labels must be below DATA_CLASSES.
 *
 * The images stay as they are in the files: one byte a pixel, in one block
 * (about a quarter of what floats would take: 55 MB for MNIST, 184 MB for
 * CIFAR-10). The trainer turns the rows it uses into floats when it uses them
 * (data_inputs: a minibatch, an evaluation batch), with the arithmetic that
 * the loader once applied to every pixel up front, so the floats are the
 * same bits: byte * (1/255) (data.normalize = none: MNIST-format files by
 * default), or (byte * (1/255) - mean[c]) * (1/std[c]) with the training
 * split's per-channel statistics (cifar_channel_stats_bytes), all in float
 * (data.normalize = standard: CIFAR-10 files by default), which data_load
 * tabulates per channel and byte value.
 *
 * Because the block is read only after loading, several processes can share
 * one copy: data_load puts it in memory of its own, data_move copies it
 * elsewhere (e.g. into an MPI shared-memory window) and data_attach lets
 * another process use a block that was filled for a data_t it received as
 * plain bytes. Nothing here knows of MPI.
 */
#ifndef TS_DATA_H
#define TS_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define DATA_CLASSES 10
#define DATA_MAX_CHANNELS 3

typedef struct {
    int64_t n;
    int dim;             /* features per example (channels * rows * cols) */
    const uint8_t *x;    /* [n][dim] pixel bytes, in the data_t's block */
    const uint8_t *y;    /* [n] labels, in the block */
} dataset_t;

/*
 * The block holds [train + val images][test images][train + val labels][test
 * labels]: the training file's rows in split order (data_split_rows), so val
 * follows train; with data.split = last that is file order.
 * Every field but the pointers is plain data: a data_t copied byte for byte
 * into another process and given the same block with data_attach describes
 * the same data there.
 */
typedef struct {
    dataset_t train, val, test;
    int rows, cols, channels;
    int split;           /* SPLIT_*, and its seed: for data_describe */
    int64_t split_seed;
    int normalised;      /* 0: byte / 255; 1: table (data.normalize = standard) */
    float table[DATA_MAX_CHANNELS][256]; /* normalised: the input of a byte value, per channel */
    float shift[DATA_MAX_CHANNELS], scale[DATA_MAX_CHANNELS]; /* normalised: table[c][b] is
                          (b * (1/255) - shift[c]) * scale[c] in float arithmetic */
    double mean[DATA_MAX_CHANNELS], std[DATA_MAX_CHANNELS]; /* normalised: the statistics */
    size_t block_bytes;  /* bytes of the block */
    uint8_t *own;        /* the block when this data_t owns it (data_load), else NULL */
} data_t;

/*
 * The training file's rows (n of them) in split order into rows[n]: the
 * training rows rows[0 .. n - v), then the validation rows rows[n - v .. n),
 * each part ascending (file order). The validation rows are the last v of a
 * Fisher-Yates shuffle of 0 .. n - 1 driven by rng_key(seed, RNG_SPLIT, 0, 0):
 * a uniform draw of v rows, fixed by the seed. 0, or TS_ERUN when out of
 * memory (rows untouched then).
 */
int data_split_rows(int64_t n, int64_t v, int64_t seed, int32_t *rows);

/* Load the files named by cfg, check them and split them, into a block this
 * data_t owns. TS_EINPUT with a message naming the file (or the job-file key)
 * and the fault; TS_ERUN when out of memory. On error *d holds nothing. */
int data_load(data_t *d, const config_t *cfg);
/* Copy the block to dst (block_bytes bytes), free the old one if owned, and
 * point the splits there: the caller owns dst and keeps it while d is used. */
void data_move(data_t *d, uint8_t *dst);
/* Point the splits of d into block, which holds the bytes of a data_t equal
 * to *d in its counts and dimensions (a copy made elsewhere); d owns nothing. */
void data_attach(data_t *d, const uint8_t *block);
/* Free the block if d owns it; zero *d. Safe on a zeroed data_t. */
void data_free(data_t *d);
/* Bytes of the block (the images and labels of the three splits). */
double data_bytes(const data_t *d);
/* One line (no newline) for the run's context: which images validate and
 * what the inputs are ("validation: 5000 random training images (split_seed
 * 0); inputs: (pixel / 255 - mean) / std, the training split's, mean 0.1307
 * std 0.3081"). */
void data_describe(const data_t *d, char *out, size_t len);

/*
 * The float inputs of n rows of split ds into dst [n][dim]: row rows[i] for
 * i < n, or rows first .. first + n - 1 when rows is NULL. The same bits as
 * the pixels' values used to be when the loader stored floats.
 */
void data_inputs(const data_t *d, const dataset_t *ds, const int32_t *rows, int64_t first, int n,
                 float *dst);

#endif
