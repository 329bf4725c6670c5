/*
 * idx.h - reader for the MNIST IDX format (plain or gzip-compressed).
 *
 * Images: magic 2051, then n, rows, cols (big-endian uint32), then n*rows*cols
 * uint8 pixels. Labels: magic 2049, then n, then n uint8 labels. Compression is
 * detected by zlib, so "x.gz" and "x" both work.
 */
#ifndef TS_IDX_H
#define TS_IDX_H

#include <stdint.h>

typedef struct {
    int64_t n;       /* number of items */
    int rows, cols;  /* 0 for label files */
    uint8_t *data;   /* [n][rows][cols] pixels or [n] labels; owned, idx_free */
} idx_t;

/* Load an image file (magic 2051). Returns 0, or TS_EINPUT with a message
 * naming the file and the fault (wrong magic, truncated header or body). */
int idx_load_images(idx_t *out, const char *path);
/* Load a label file (magic 2049). */
int idx_load_labels(idx_t *out, const char *path);
/* Release the data of an idx_load_* (idx->data is then NULL; a second call is safe). */
void idx_free(idx_t *idx);

#endif
