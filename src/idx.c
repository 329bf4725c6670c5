/*
 * idx.c - MNIST IDX files through zlib's gzread, which reads plain files
 * unchanged and gunzips compressed ones.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "err.h"
#include "gzio.h"
#include "idx.h"

#define IDX_MAGIC_IMAGES 2051
#define IDX_MAGIC_LABELS 2049
/* Larger files than this are surely not MNIST-like data: refuse early. */
#define IDX_MAX_BYTES ((int64_t)1 << 34)
/* The body is read into a block that starts this large and doubles. */
#define IDX_FIRST_CHUNK ((size_t)1 << 20)

/* Read exactly len bytes; returns 0, or TS_EINPUT naming what was short. The
 * part (header or body) is `total` bytes, of which earlier calls read `before`. */
static int read_full(gzFile f, const char *path, void *buf, size_t len, size_t before,
                     size_t total, const char *what)
{
    size_t got = 0;
    while (got < len) {
        unsigned chunk = len - got > (1u << 30) ? (1u << 30) : (unsigned)(len - got);
        int n = gzread(f, (char *)buf + got, chunk);
        if (n < 0)
            return gzio_error(f, path, what);
        if (n == 0) {
            /* gzread returns 0 at EOF, but also when the compressed stream ends early */
            int zerr;
            gzerror(f, &zerr);
            if (zerr != Z_OK && zerr != Z_BUF_ERROR)
                return gzio_error(f, path, what);
            return ts_fail(TS_EINPUT, "%s: truncated %s: expected %zu bytes, found %zu",
                           path, what, total, before + got);
        }
        got += (size_t)n;
    }
    return 0;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int idx_load(idx_t *out, const char *path, uint32_t want_magic)
{
    memset(out, 0, sizeof *out);
    gzFile f = gzopen(path, "rb");
    if (!f)
        return ts_fail(TS_EINPUT, "%s: cannot open: %s", path, strerror(errno ? errno : ENOENT));
    int ndim = want_magic == IDX_MAGIC_IMAGES ? 3 : 1;
    unsigned char hdr[16];
    /* the magic first, so that a label file given as images says so */
    int rc = read_full(f, path, hdr, 4, 0, 4 + 4 * (size_t)ndim, "header");
    if (rc)
        goto out_close;
    uint32_t magic = be32(hdr);
    if (magic != want_magic) {
        rc = ts_fail(TS_EINPUT, "%s: wrong magic number %u: expected %u (IDX %s file)", path,
                     magic, want_magic, ndim == 3 ? "image" : "label");
        goto out_close;
    }
    if ((rc = read_full(f, path, hdr + 4, 4 * (size_t)ndim, 4, 4 + 4 * (size_t)ndim, "header")))
        goto out_close;
    out->n = be32(hdr + 4);
    if (ndim == 3) {
        out->rows = (int)be32(hdr + 8);
        out->cols = (int)be32(hdr + 12);
        if (out->rows <= 0 || out->cols <= 0 || out->rows > 4096 || out->cols > 4096) {
            rc = ts_fail(TS_EINPUT, "%s: implausible image size %dx%d", path, out->rows,
                         out->cols);
            goto out_close;
        }
    }
    int64_t item = ndim == 3 ? (int64_t)out->rows * out->cols : 1;
    if (out->n <= 0 || out->n * item > IDX_MAX_BYTES) {
        rc = ts_fail(TS_EINPUT, "%s: implausible item count %lld", path, (long long)out->n);
        goto out_close;
    }
    /* Grow the block as the body arrives, doubling: a header that claims more
     * than the file holds must not make us allocate it (16 GiB for a 16-byte file). */
    size_t len = (size_t)(out->n * item);
    for (size_t got = 0; got < len;) {
        size_t chunk = got > IDX_FIRST_CHUNK ? got : IDX_FIRST_CHUNK;
        if (chunk > len - got)
            chunk = len - got;
        uint8_t *grown = realloc(out->data, got + chunk);
        if (!grown) {
            rc = ts_fail(TS_ERUN, "%s: out of memory for %zu bytes", path, got + chunk);
            goto out_close;
        }
        out->data = grown;
        if ((rc = read_full(f, path, out->data + got, chunk, got, len, "body")))
            goto out_close;
        got += chunk;
    }
    /* Anything after the body means the header does not describe the file; a
     * gzip stream damaged in its body often shows only here, at its checksum. */
    unsigned char extra;
    int n = gzread(f, &extra, 1);
    if (n < 0) {
        rc = gzio_error(f, path, "body");
        goto out_close;
    }
    if (n > 0) {
        rc = ts_fail(TS_EINPUT, "%s: trailing data after %lld items", path, (long long)out->n);
        goto out_close;
    }
out_close:
    gzclose(f);
    if (rc)
        idx_free(out);
    return rc;
}

int idx_load_images(idx_t *out, const char *path)
{
    return idx_load(out, path, IDX_MAGIC_IMAGES);
}

int idx_load_labels(idx_t *out, const char *path)
{
    return idx_load(out, path, IDX_MAGIC_LABELS);
}

void idx_free(idx_t *idx)
{
    free(idx->data);
    idx->data = NULL;
}
