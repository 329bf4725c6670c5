/*
 * cifar.h - reader for the CIFAR-10 binary format, plain or gzip-compressed.
 *
 * A file is a sequence of 3073-byte records: 1 label byte (0-9), then 3072
 * pixel bytes, 1024 red, 1024 green, 1024 blue, each plane 32x32 row-major.
 * The distribution has data_batch_1.bin ... data_batch_5.bin and
 * test_batch.bin of 10000 records each; any count is accepted here.
 * Compression is detected by zlib, so "x.bin.gz" and "x.bin" both work.
 */
#ifndef TS_CIFAR_H
#define TS_CIFAR_H

#include <stdint.h>

#define CIFAR_CHANNELS 3
#define CIFAR_ROWS 32
#define CIFAR_COLS 32
#define CIFAR_PIXELS (CIFAR_CHANNELS * CIFAR_ROWS * CIFAR_COLS) /* 3072 */
#define CIFAR_RECORD (1 + CIFAR_PIXELS)                         /* 3073 bytes */
#define CIFAR_CLASSES 10

typedef struct {
    int64_t n;                 /* images */
    int channels, rows, cols;  /* 3, 32, 32 */
    uint8_t *pixels;           /* [n][3][32][32], owned, cifar_free */
    uint8_t *labels;           /* [n], each 0-9, owned */
} cifar_t;

/* Load paths[0..n_paths) and concatenate their records in that order. Returns
 * 0, or TS_EINPUT with one line naming the file and the fault (cannot open or
 * read, empty, size not a multiple of 3073 bytes, a label above 9 and its
 * record), or TS_ERUN when out of memory. On error *out is all zero and holds
 * nothing. */
int cifar_load(cifar_t *out, const char *const *paths, int n_paths);
/* Free what cifar_load allocated and zero *c; safe on a zeroed cifar_t. */
void cifar_free(cifar_t *c);

/* Per-channel mean and population standard deviation (divide by the count)
 * over n images x [n][channels][hw]: mean [channels], std [channels]. Sums in
 * double, two passes (mean, then squared deviations) for accuracy. n == 0
 * gives means 0 and std 0. */
void cifar_channel_stats(const float *x, int64_t n, int channels, int hw, double *mean,
                         double *std);
/* The same over images of bytes, byte b counting as value[b] ([256]): bit for
 * bit what cifar_channel_stats gives on the floats value[x[i]] (the same sums
 * in the same order), without making those floats. */
void cifar_channel_stats_bytes(const uint8_t *x, int64_t n, int channels, int hw,
                               const float *value, double *mean, double *std);

#endif
