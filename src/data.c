/* data.c - load IDX or CIFAR-10 files, check them against each other, split off
 * validation, normalise CIFAR-10 per channel with the training split's statistics. */
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "data.h"
#include "err.h"
#include "idx.h"

/* Images and labels of one file set, whatever the format: [n][channels][rows][cols]. */
typedef cifar_t images_t;

/* Turn rows [first, first + n) of a file set into a dataset, pixels scaled to [0, 1]. */
static int make_split(dataset_t *ds, const images_t *im, int64_t first, int64_t n)
{
    ds->n = n;
    ds->dim = im->channels * im->rows * im->cols;
    ds->x = ts_malloc((size_t)n * ds->dim * sizeof(float));
    ds->y = ts_malloc((size_t)n);
    if (!ds->x || !ds->y)
        return TS_ERUN;
    const uint8_t *src = im->pixels + (size_t)first * ds->dim;
    for (size_t i = 0; i < (size_t)n * ds->dim; i++)
        ds->x[i] = src[i] * (1.0f / 255.0f);
    memcpy(ds->y, im->labels + first, (size_t)n);
    return 0;
}

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

/* Per-channel normalisation with the training split's statistics (CIFAR-10). */
static void normalise(data_t *d)
{
    double mean[CIFAR_CHANNELS], std[CIFAR_CHANNELS];
    int hw = d->rows * d->cols;
    cifar_channel_stats(d->train.x, d->train.n, d->channels, hw, mean, std);
    dataset_t *splits[3] = {&d->train, &d->val, &d->test};
    for (int s = 0; s < 3; s++)
        for (int64_t i = 0; i < splits[s]->n; i++)
            for (int c = 0; c < d->channels; c++) {
                float *x = splits[s]->x + ((size_t)i * d->channels + c) * hw;
                float m = (float)mean[c], inv = std[c] > 0 ? (float)(1.0 / std[c]) : 1.0f;
                for (int p = 0; p < hw; p++)
                    x[p] = (x[p] - m) * inv;
            }
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
    if (rc)
        goto out;
    if (te.rows != tr.rows || te.cols != tr.cols) { /* one format: same channels */
        rc = key_fault(cfg, "data.test_images",
                       ts_fail(TS_EINPUT, "%s: images are %dx%d, but the training images are %dx%d",
                               cfg->test_images, te.rows, te.cols, tr.rows, tr.cols));
        goto out;
    }
    if (cfg->validation >= tr.n) {
        rc = ts_fail(TS_EINPUT, "%s: data.validation = %lld leaves no training images (%s has %lld)",
                     config_where(cfg, "data.validation"), (long long)cfg->validation,
                     cfg->train_images, (long long)tr.n);
        goto out;
    }
    int64_t ntrain = tr.n - cfg->validation;
    if (cfg->batch > ntrain) {
        rc = ts_fail(TS_EINPUT, "%s: train.batch = %d is larger than the training set (%lld images)",
                     config_where(cfg, "train.batch"), cfg->batch, (long long)ntrain);
        goto out;
    }
    d->rows = tr.rows;
    d->cols = tr.cols;
    d->channels = tr.channels;
    if ((rc = make_split(&d->train, &tr, 0, ntrain)) ||
        (rc = make_split(&d->val, &tr, ntrain, cfg->validation)) ||
        (rc = make_split(&d->test, &te, 0, te.n)))
        goto out;
    if (cifar)
        normalise(d);
out:
    cifar_free(&tr);
    cifar_free(&te);
    if (rc)
        data_free(d);
    return rc;
}

static void split_free(dataset_t *ds)
{
    free(ds->x);
    free(ds->y);
    ds->x = NULL;
    ds->y = NULL;
}

void data_free(data_t *d)
{
    split_free(&d->train);
    split_free(&d->val);
    split_free(&d->test);
}

double data_bytes(const data_t *d)
{
    const dataset_t *s[] = {&d->train, &d->val, &d->test};
    double b = 0;
    for (int i = 0; i < 3; i++)
        b += (double)s[i]->n * ((double)s[i]->dim * sizeof(float) + 1);
    return b;
}
