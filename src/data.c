/* data.c - load IDX files, check them against each other, split off validation. */
#include <stdlib.h>
#include <string.h>

#include "data.h"
#include "err.h"
#include "idx.h"

/* Turn an image/label pair into a dataset of rows [first, first + n). */
static int make_split(dataset_t *ds, const idx_t *img, const idx_t *lab, int64_t first, int64_t n)
{
    ds->n = n;
    ds->dim = img->rows * img->cols;
    ds->x = ts_malloc((size_t)n * ds->dim * sizeof(float));
    ds->y = ts_malloc((size_t)n);
    if (!ds->x || !ds->y)
        return TS_ERUN;
    const uint8_t *src = img->data + (size_t)first * ds->dim;
    for (size_t i = 0; i < (size_t)n * ds->dim; i++)
        ds->x[i] = src[i] * (1.0f / 255.0f);
    memcpy(ds->y, lab->data + first, (size_t)n);
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

/* Load the image/label files named by keys img_key and lab_key ("data.train_images"). */
static int load_pair(idx_t *img, idx_t *lab, const config_t *cfg, const char *img_key,
                     const char *img_path, const char *lab_key, const char *lab_path)
{
    int rc = idx_load_images(img, img_path);
    if (rc)
        return key_fault(cfg, img_key, rc);
    if ((rc = idx_load_labels(lab, lab_path)))
        return key_fault(cfg, lab_key, rc);
    if (img->n != lab->n)
        return key_fault(cfg, lab_key,
                         ts_fail(TS_EINPUT, "%s: %lld labels, but %s has %lld images", lab_path,
                                 (long long)lab->n, img_path, (long long)img->n));
    for (int64_t i = 0; i < lab->n; i++)
        if (lab->data[i] >= DATA_CLASSES)
            return key_fault(cfg, lab_key,
                             ts_fail(TS_EINPUT, "%s: label %d of item %lld is out of range [0, %d)",
                                     lab_path, lab->data[i], (long long)i, DATA_CLASSES));
    return 0;
}

int data_load(data_t *d, const config_t *cfg)
{
    idx_t tri = {0}, trl = {0}, tei = {0}, tel = {0};
    memset(d, 0, sizeof *d);
    int rc = load_pair(&tri, &trl, cfg, "data.train_images", cfg->train_images,
                       "data.train_labels", cfg->train_labels);
    if (rc)
        goto out;
    if ((rc = load_pair(&tei, &tel, cfg, "data.test_images", cfg->test_images, "data.test_labels",
                        cfg->test_labels)))
        goto out;
    if (tei.rows != tri.rows || tei.cols != tri.cols) {
        rc = key_fault(cfg, "data.test_images",
                       ts_fail(TS_EINPUT, "%s: images are %dx%d, but the training images are %dx%d",
                               cfg->test_images, tei.rows, tei.cols, tri.rows, tri.cols));
        goto out;
    }
    if (cfg->validation >= tri.n) {
        rc = ts_fail(TS_EINPUT, "%s: data.validation = %lld leaves no training images (%s has %lld)",
                     config_where(cfg, "data.validation"), (long long)cfg->validation,
                     cfg->train_images, (long long)tri.n);
        goto out;
    }
    int64_t ntrain = tri.n - cfg->validation;
    if (cfg->batch > ntrain) {
        rc = ts_fail(TS_EINPUT, "%s: train.batch = %d is larger than the training set (%lld images)",
                     config_where(cfg, "train.batch"), cfg->batch, (long long)ntrain);
        goto out;
    }
    d->rows = tri.rows;
    d->cols = tri.cols;
    d->channels = 1;
    if ((rc = make_split(&d->train, &tri, &trl, 0, ntrain)) ||
        (rc = make_split(&d->val, &tri, &trl, ntrain, cfg->validation)) ||
        (rc = make_split(&d->test, &tei, &tel, 0, tei.n)))
        goto out;
out:
    idx_free(&tri);
    idx_free(&trl);
    idx_free(&tei);
    idx_free(&tel);
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
