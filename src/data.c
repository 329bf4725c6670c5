/*
 * data.c - load IDX or CIFAR-10 files, check them against each other, split
 * off validation (the last images, or a seeded random draw put in place by
 * reordering the rows), and keep the pixel bytes in one block; the per-channel
 * normalisation (data.normalize = standard, the training split's statistics)
 * becomes a table of the 256 values a byte can take in each channel (see
 * data.h).
 */
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "data.h"
#include "err.h"
#include "idx.h"
#include "rng.h"

/* Images and labels of one file set, whatever the format: [n][channels][rows][cols]. */
typedef cifar_t images_t;

/* Put in front of the message of a bad file where its key was set:
 * "jobs/x.ini:3: data.train_images: /data/x: truncated body ...". */
static int key_fault(const config_t *cfg, const char *key, int rc)
{
    char msg[1024];
    if (rc != TS_EINPUT)
        return rc;
    snprintf(msg, sizeof msg, "%s", ts_errmsg());
    return ts_fail(rc, "%s: %s: %s", config_where(cfg, key), key, msg);
}

/* Load the IDX image/label files named by keys img_key and lab_key ("data.train_images"). */
static int load_idx(images_t *out, const config_t *cfg, const char *img_key, const char *img_path,
                    const char *lab_key, const char *lab_path)
{
    idx_t img = {0}, lab = {0};
    int rc = idx_load_images(&img, img_path);
    if (rc)
        return key_fault(cfg, img_key, rc);
    if ((rc = idx_load_labels(&lab, lab_path)))
        rc = key_fault(cfg, lab_key, rc);
    else if (img.n != lab.n)
        rc = key_fault(cfg, lab_key,
                       ts_fail(TS_EINPUT, "%s: %lld labels, but %s has %lld images", lab_path,
                               (long long)lab.n, img_path, (long long)img.n));
    for (int64_t i = 0; !rc && i < lab.n; i++)
        if (lab.data[i] >= DATA_CLASSES)
            rc = key_fault(cfg, lab_key,
                           ts_fail(TS_EINPUT, "%s: label %d of item %lld is out of range [0, %d)",
                                   lab_path, lab.data[i], (long long)i, DATA_CLASSES));
    if (rc) {
        idx_free(&img);
        idx_free(&lab);
        return rc;
    }
    *out = (images_t){img.n, 1, img.rows, img.cols, img.data, lab.data};
    return 0;
}

/* Load CIFAR-10 batches: `paths` is a comma-separated list of files. */
static int load_cifar(images_t *out, const config_t *cfg, const char *key, const char *paths)
{
    char buf[CFG_PATH];
    const char *list[64];
    int n = 0;
    snprintf(buf, sizeof buf, "%s", paths);
    for (char *tok = strtok(buf, ","); tok && n < 64; tok = strtok(NULL, ",")) {
        while (*tok == ' ')
            tok++;
        char *e = tok + strlen(tok);
        while (e > tok && e[-1] == ' ')
            *--e = 0;
        if (*tok)
            list[n++] = tok;
    }
    return key_fault(cfg, key, cifar_load(out, list, n));
}

/*
 * data.normalize = standard: the per-channel statistics of the training split
 * (validation excluded) and the table of inputs. Pixels used to be stored as the float
 * v = byte * (1/255), then normalised in place as (v - (float)mean) * (float)(1/std):
 * the table holds exactly those float operations for each byte value (C11
 * mode does not fuse a multiplication and an addition), and the statistics
 * are summed over v in the same order as before.
 */
static void make_table(data_t *d)
{
    float scaled[256];
    int hw = d->rows * d->cols;
    for (int b = 0; b < 256; b++)
        scaled[b] = b * (1.0f / 255.0f);
    cifar_channel_stats_bytes(d->train.x, d->train.n, d->channels, hw, scaled, d->mean, d->std);
    for (int c = 0; c < d->channels; c++) {
        float m = (float)d->mean[c], inv = d->std[c] > 0 ? (float)(1.0 / d->std[c]) : 1.0f;
        d->shift[c] = m, d->scale[c] = inv;
        for (int b = 0; b < 256; b++)
            d->table[c][b] = (scaled[b] - m) * inv;
    }
    d->normalised = 1;
}

/* The checks between the two file sets and the job (one place, in order). */
static int check_sets(const config_t *cfg, const images_t *tr, const images_t *te)
{
    if (te->rows != tr->rows || te->cols != tr->cols) /* one format: same channels */
        return key_fault(cfg, "data.test_images",
                         ts_fail(TS_EINPUT, "%s: images are %dx%d, but the training images are %dx%d",
                                 cfg->test_images, te->rows, te->cols, tr->rows, tr->cols));
    if (tr->channels > DATA_MAX_CHANNELS)
        return ts_fail(TS_EINPUT, "%s: %d channels, at most %d", cfg->train_images, tr->channels,
                       DATA_MAX_CHANNELS);
    if (cfg->validation >= tr->n)
        return ts_fail(TS_EINPUT, "%s: data.validation = %lld leaves no training images (%s has %lld)",
                       config_where(cfg, "data.validation"), (long long)cfg->validation,
                       cfg->train_images, (long long)tr->n);
    if (cfg->batch > tr->n - cfg->validation)
        return ts_fail(TS_EINPUT, "%s: train.batch = %d is larger than the training set (%lld images)",
                       config_where(cfg, "train.batch"), cfg->batch,
                       (long long)(tr->n - cfg->validation));
    return 0;
}

int data_split_rows(int64_t n, int64_t v, int64_t seed, int32_t *rows)
{
    uint8_t *is_val = ts_calloc((size_t)n + 1, 1);
    int32_t *order = ts_malloc(((size_t)n + 1) * sizeof *order);
    rng_t r;
    if (!is_val || !order) {
        free(is_val);
        free(order);
        return TS_ERUN;
    }
    for (int64_t i = 0; i < n; i++)
        order[i] = (int32_t)i;
    rng_init(&r, rng_key((uint64_t)seed, RNG_SPLIT, 0, 0));
    rng_shuffle(&r, order, n);
    for (int64_t i = n - v; i < n; i++)
        is_val[order[i]] = 1;
    /* each part in file order, as with split = last: only the draw is random */
    int64_t t = 0, u = n - v;
    for (int64_t i = 0; i < n; i++)
        rows[is_val[i] ? u++ : t++] = (int32_t)i;
    free(is_val);
    free(order);
    return 0;
}

/*
 * Reorder n rows of `size` bytes in place so that row i becomes the old row
 * rows[i] (a permutation): each cycle is followed with one row of scratch,
 * so a CIFAR-10 training set (150 MB) needs no second copy.
 */
static int permute_rows(uint8_t *x, size_t size, const int32_t *rows, int64_t n)
{
    uint8_t *done = ts_calloc((size_t)n + 1, 1), *tmp = ts_malloc(size);
    if (!done || !tmp) {
        free(done);
        free(tmp);
        return TS_ERUN;
    }
    for (int64_t i = 0; i < n; i++) {
        if (done[i])
            continue;
        memcpy(tmp, x + (size_t)i * size, size);
        for (int64_t j = i;;) {
            int64_t k = rows[j];
            done[j] = 1;
            if (k == i) { /* the cycle closes: the old row i is in tmp */
                memcpy(x + (size_t)j * size, tmp, size);
                break;
            }
            memcpy(x + (size_t)j * size, x + (size_t)k * size, size);
            j = k;
        }
    }
    free(done);
    free(tmp);
    return 0;
}

/* data.split = random: put tr's rows (images and labels) in split order. */
static int apply_split(images_t *tr, const config_t *cfg)
{
    size_t dim = (size_t)tr->channels * tr->rows * tr->cols;
    int32_t *rows = ts_malloc(((size_t)tr->n + 1) * sizeof *rows);
    int rc = rows ? data_split_rows(tr->n, cfg->validation, cfg->split_seed, rows) : TS_ERUN;
    if (!rc)
        rc = permute_rows(tr->pixels, dim, rows, tr->n);
    if (!rc)
        rc = permute_rows(tr->labels, 1, rows, tr->n);
    free(rows);
    return rc;
}

/*
 * Make tr's pixel block the data's block: grow it (realloc: big blocks are
 * remapped, not copied) to hold the test images and both label arrays after
 * the training images, in the order data_attach expects.
 */
static int build_block(data_t *d, images_t *tr, const images_t *te, int64_t ntrain)
{
    size_t dim = (size_t)tr->channels * tr->rows * tr->cols;
    size_t bytes = ((size_t)tr->n + (size_t)te->n) * (dim + 1);
    uint8_t *block = realloc(tr->pixels, bytes);
    if (!block)
        return ts_fail(TS_ERUN, "out of memory for the data (%zu bytes)", bytes);
    tr->pixels = NULL; /* now the block's */
    memcpy(block + (size_t)tr->n * dim, te->pixels, (size_t)te->n * dim);
    memcpy(block + ((size_t)tr->n + te->n) * dim, tr->labels, (size_t)tr->n);
    memcpy(block + ((size_t)tr->n + te->n) * dim + tr->n, te->labels, (size_t)te->n);
    d->rows = tr->rows;
    d->cols = tr->cols;
    d->channels = tr->channels;
    d->train = (dataset_t){ntrain, (int)dim, NULL, NULL};
    d->val = (dataset_t){tr->n - ntrain, (int)dim, NULL, NULL};
    d->test = (dataset_t){te->n, (int)dim, NULL, NULL};
    d->block_bytes = bytes;
    data_attach(d, block);
    d->own = block;
    return 0;
}

int data_load(data_t *d, const config_t *cfg)
{
    images_t tr = {0}, te = {0};
    int cifar = cfg->format == FORMAT_CIFAR10, rc;
    memset(d, 0, sizeof *d);
    if (cifar)
        rc = load_cifar(&tr, cfg, "data.train_images", cfg->train_images);
    else
        rc = load_idx(&tr, cfg, "data.train_images", cfg->train_images, "data.train_labels",
                      cfg->train_labels);
    if (rc)
        goto out;
    if (cifar)
        rc = load_cifar(&te, cfg, "data.test_images", cfg->test_images);
    else
        rc = load_idx(&te, cfg, "data.test_images", cfg->test_images, "data.test_labels",
                      cfg->test_labels);
    if (rc || (rc = check_sets(cfg, &tr, &te)))
        goto out;
    if (cfg->split == SPLIT_RANDOM && (rc = apply_split(&tr, cfg)))
        goto out;
    if ((rc = build_block(d, &tr, &te, tr.n - cfg->validation)))
        goto out;
    d->split = cfg->split;
    d->split_seed = cfg->split_seed;
    if (cfg->normalize == NORM_STANDARD || (cfg->normalize == NORM_AUTO && cifar))
        make_table(d);
out:
    cifar_free(&tr);
    cifar_free(&te);
    if (rc)
        data_free(d);
    return rc;
}

void data_attach(data_t *d, const uint8_t *block)
{
    size_t dim = (size_t)d->train.dim, n_file = (size_t)(d->train.n + d->val.n);
    const uint8_t *labels = block + (n_file + (size_t)d->test.n) * dim;
    d->train.x = block;
    d->val.x = block + (size_t)d->train.n * dim;
    d->test.x = block + n_file * dim;
    d->train.y = labels;
    d->val.y = labels + d->train.n;
    d->test.y = labels + n_file;
    d->own = NULL;
}

void data_move(data_t *d, uint8_t *dst)
{
    uint8_t *old = d->own;
    memcpy(dst, d->train.x, d->block_bytes);
    data_attach(d, dst);
    free(old);
}

void data_free(data_t *d)
{
    free(d->own);
    memset(d, 0, sizeof *d);
}

double data_bytes(const data_t *d)
{
    return (double)d->block_bytes;
}

void data_describe(const data_t *d, char *out, size_t len)
{
    size_t used;
    if (d->split == SPLIT_RANDOM)
        used = (size_t)snprintf(out, len, "validation: %lld random training images (split_seed %lld); ",
                                (long long)d->val.n, (long long)d->split_seed);
    else
        used = (size_t)snprintf(out, len, "validation: the last %lld training images; ",
                                (long long)d->val.n);
    if (used >= len)
        return;
    if (!d->normalised) {
        snprintf(out + used, len - used, "inputs: pixel / 255");
        return;
    }
    used += (size_t)snprintf(out + used, len - used,
                             "inputs: (pixel / 255 - mean) / std per channel, the training split's: mean");
    for (int c = 0; c < d->channels && used < len; c++)
        used += (size_t)snprintf(out + used, len - used, "%s %.4f", c ? "," : "", d->mean[c]);
    if (used < len)
        used += (size_t)snprintf(out + used, len - used, "; std");
    for (int c = 0; c < d->channels && used < len; c++)
        used += (size_t)snprintf(out + used, len - used, "%s %.4f", c ? "," : "", d->std[c]);
}

/*
 * A row's floats are computed, not looked up: (byte * (1/255) - shift) *
 * scale are the table's own float operations (exact conversion of the byte,
 * then three roundings, never fused in C11 mode), so the bits are the
 * table's, and the loop vectorises where 784 table loads a row did not (a
 * tenth of an evaluation at low density went to them).
 */
void data_inputs(const data_t *d, const dataset_t *ds, const int32_t *rows, int64_t first, int n,
                 float *dst)
{
    size_t dim = (size_t)ds->dim, hw = dim / (size_t)d->channels;
    for (int i = 0; i < n; i++) {
        const uint8_t *restrict src = ds->x + (size_t)(rows ? rows[i] : first + i) * dim;
        float *restrict out = dst + (size_t)i * dim;
        if (!d->normalised) {
            for (size_t k = 0; k < dim; k++) /* vectorised: byte to float, one multiplication */
                out[k] = src[k] * (1.0f / 255.0f);
            continue;
        }
        for (int c = 0; c < d->channels; c++) {
            const float m = d->shift[c], inv = d->scale[c];
            for (size_t k = (size_t)c * hw; k < (size_t)(c + 1) * hw; k++)
                out[k] = ((float)src[k] * (1.0f / 255.0f) - m) * inv;
        }
    }
}
