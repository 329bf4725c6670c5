/*
 * cifar.c - CIFAR-10 binary files through zlib's gzread, which reads plain
 * files unchanged and gunzips compressed ones (see cifar.h for the format).
 *
 * Each file is read in stages of whole records; labels and pixels are split
 * into two blocks that grow by doubling as records arrive, so memory follows
 * what the files hold, not what their names promise. A file's faults are
 * reported in the order a person can act on them: cannot open or read, empty,
 * wrong size (which also catches CIFAR-100 files, whose records are 3074
 * bytes), then the first bad label.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "cifar.h"
#include "err.h"
#include "gzio.h"

/* Records read per gzread stage: 768 KiB. */
#define CIFAR_STAGE_RECORDS 256
/* More records than this (6.4 GB; CIFAR-10 has 60000) are surely not CIFAR-10
 * data; also stops a read of an endless file such as /dev/zero. */
#define CIFAR_MAX_RECORDS ((int64_t)1 << 21)
/* The smallest capacity the blocks grow to. */
#define CIFAR_FIRST_CAP 1024

/* Read up to len bytes into buf, stopping early only at the end of the data;
 * *got receives the count. Returns 0, or TS_EINPUT on a read error, corrupt
 * gzip data, or a gzip stream cut short (zlib then reports Z_BUF_ERROR). */
static int read_stage(gzFile f, const char *path, uint8_t *buf, size_t len, size_t *got)
{
    *got = 0;
    while (*got < len) {
        int n = gzread(f, buf + *got, (unsigned)(len - *got));
        if (n < 0)
            return gzio_error(f, path, NULL);
        if (n == 0) {
            int zerr;
            gzerror(f, &zerr);
            if (zerr == Z_BUF_ERROR)
                return ts_fail(TS_EINPUT, "%s: truncated gzip stream", path);
            if (zerr != Z_OK)
                return gzio_error(f, path, NULL);
            break;
        }
        *got += (size_t)n;
    }
    return 0;
}

/* Make room for `need` records in out->pixels and out->labels (capacity *cap,
 * doubled as needed). Returns 0 or TS_ERUN; the blocks stay valid on failure. */
static int grow(cifar_t *out, int64_t *cap, int64_t need, const char *path)
{
    if (need <= *cap)
        return 0;
    int64_t want = *cap * 2 > need ? *cap * 2 : need;
    if (want < CIFAR_FIRST_CAP)
        want = CIFAR_FIRST_CAP;
    uint8_t *p = realloc(out->pixels, (size_t)want * CIFAR_PIXELS);
    if (!p)
        return ts_fail(TS_ERUN, "%s: out of memory for %lld images", path, (long long)want);
    out->pixels = p;
    uint8_t *l = realloc(out->labels, (size_t)want);
    if (!l)
        return ts_fail(TS_ERUN, "%s: out of memory for %lld labels", path, (long long)want);
    out->labels = l;
    *cap = want;
    return 0;
}

/* Append the records of one file to out (capacity *cap), using stage
 * [CIFAR_STAGE_RECORDS * CIFAR_RECORD] as the read buffer. Returns 0 or an
 * error; on error out may hold part of the file (the caller frees it). */
static int load_file(cifar_t *out, int64_t *cap, const char *path, uint8_t *stage)
{
    errno = 0;
    gzFile f = gzopen(path, "rb");
    if (!f)
        return ts_fail(TS_EINPUT, "%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
    int rc = 0;
    int64_t bytes = 0, first = out->n, bad_rec = -1;
    unsigned bad_label = 0;
    const size_t stage_len = (size_t)CIFAR_STAGE_RECORDS * CIFAR_RECORD;
    for (;;) {
        size_t got;
        if ((rc = read_stage(f, path, stage, stage_len, &got)))
            goto out_close;
        bytes += (int64_t)got;
        int64_t recs = (int64_t)(got / CIFAR_RECORD);
        if (out->n + recs > CIFAR_MAX_RECORDS) {
            rc = ts_fail(TS_EINPUT, "%s: more than %lld records in all: not CIFAR-10 data?", path,
                         (long long)CIFAR_MAX_RECORDS);
            goto out_close;
        }
        if ((rc = grow(out, cap, out->n + recs, path)))
            goto out_close;
        for (int64_t r = 0; r < recs; r++) {
            const uint8_t *rec = stage + (size_t)r * CIFAR_RECORD;
            /* keep going after a bad label: a wrong size explains it better */
            if (rec[0] >= CIFAR_CLASSES && bad_rec < 0) {
                bad_rec = out->n - first;
                bad_label = rec[0];
            }
            out->labels[out->n] = rec[0];
            memcpy(out->pixels + (size_t)out->n * CIFAR_PIXELS, rec + 1, CIFAR_PIXELS);
            out->n++;
        }
        /* the stage is a whole number of records: only the last one can be short */
        if (got < stage_len)
            break;
    }
    const char *what = gzdirect(f) ? "" : " uncompressed";
    if (bytes == 0)
        rc = ts_fail(TS_EINPUT, "%s: empty file: expected CIFAR-10 records of %d bytes", path,
                     CIFAR_RECORD);
    else if (bytes % CIFAR_RECORD)
        rc = ts_fail(TS_EINPUT,
                     "%s: size %lld bytes%s is not a multiple of %d (a CIFAR-10 record is 1 label "
                     "byte + %d pixel bytes)%s",
                     path, (long long)bytes, what, CIFAR_RECORD, CIFAR_PIXELS,
                     bytes % (CIFAR_RECORD + 1) ? "" : "; 3074-byte records are CIFAR-100");
    else if (bad_rec >= 0)
        rc = ts_fail(TS_EINPUT, "%s: record %lld (counting from 0) has label %u: expected 0-9", path,
                     (long long)bad_rec, bad_label);
out_close:
    gzclose(f);
    return rc;
}

int cifar_load(cifar_t *out, const char *const *paths, int n_paths)
{
    memset(out, 0, sizeof *out);
    if (!paths || n_paths <= 0)
        return ts_fail(TS_EINPUT, "no CIFAR-10 files given");
    uint8_t *stage = ts_malloc((size_t)CIFAR_STAGE_RECORDS * CIFAR_RECORD);
    if (!stage)
        return TS_ERUN;
    /* Reserve what the plain files' sizes promise, so the usual case does not
     * double and copy; gzip files hold more than their size, and grow. */
    int64_t cap = 0, expect = 0;
    for (int i = 0; i < n_paths; i++) {
        struct stat st;
        if (!stat(paths[i], &st) && S_ISREG(st.st_mode))
            expect += (int64_t)st.st_size / CIFAR_RECORD;
    }
    int rc = 0;
    if (expect > 0 && expect <= CIFAR_MAX_RECORDS)
        (void)grow(out, &cap, expect, paths[0]); /* on failure the reading grows or fails */
    for (int i = 0; i < n_paths && !rc; i++)
        rc = load_file(out, &cap, paths[i], stage);
    free(stage);
    if (rc) {
        cifar_free(out);
        return rc;
    }
    /* give back the doubling's slack (a failed shrink keeps the larger blocks) */
    uint8_t *p = realloc(out->pixels, (size_t)out->n * CIFAR_PIXELS);
    if (p)
        out->pixels = p;
    uint8_t *l = realloc(out->labels, (size_t)out->n);
    if (l)
        out->labels = l;
    out->channels = CIFAR_CHANNELS;
    out->rows = CIFAR_ROWS;
    out->cols = CIFAR_COLS;
    return 0;
}

void cifar_free(cifar_t *c)
{
    free(c->pixels);
    free(c->labels);
    memset(c, 0, sizeof *c);
}

void cifar_channel_stats(const float *x, int64_t n, int channels, int hw, double *mean,
                         double *std)
{
    double count = (double)n * hw;
    for (int c = 0; c < channels; c++) {
        double s = 0;
        for (int64_t i = 0; i < n; i++) {
            const float *p = x + ((size_t)i * channels + c) * hw;
            for (int k = 0; k < hw; k++)
                s += p[k];
        }
        double m = count > 0 ? s / count : 0;
        double ss = 0;
        for (int64_t i = 0; i < n; i++) {
            const float *p = x + ((size_t)i * channels + c) * hw;
            for (int k = 0; k < hw; k++) {
                double d = p[k] - m;
                ss += d * d;
            }
        }
        mean[c] = m;
        std[c] = count > 0 ? sqrt(ss / count) : 0;
    }
}

void cifar_channel_stats_bytes(const uint8_t *x, int64_t n, int channels, int hw,
                               const float *value, double *mean, double *std)
{
    double count = (double)n * hw;
    for (int c = 0; c < channels; c++) {
        double s = 0;
        for (int64_t i = 0; i < n; i++) {
            const uint8_t *p = x + ((size_t)i * channels + c) * hw;
            for (int k = 0; k < hw; k++)
                s += value[p[k]];
        }
        double m = count > 0 ? s / count : 0;
        double ss = 0;
        for (int64_t i = 0; i < n; i++) {
            const uint8_t *p = x + ((size_t)i * channels + c) * hw;
            for (int k = 0; k < hw; k++) {
                double d = value[p[k]] - m;
                ss += d * d;
            }
        }
        mean[c] = m;
        std[c] = count > 0 ? sqrt(ss / count) : 0;
    }
}
