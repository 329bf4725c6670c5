/*
 * data.h - the three splits a trial uses: train, validation, test.
 *
 * The validation split is the last `validation` images of the training file:
 * fixed by the configuration, the same for every trial and seed. Pixels are
 * scaled to [0, 1]; labels must be below DATA_CLASSES.
 */
#ifndef TS_DATA_H
#define TS_DATA_H

#include <stdint.h>

#include "config.h"

#define DATA_CLASSES 10

typedef struct {
    int64_t n;
    int dim;     /* features per example (rows * cols * channels) */
    float *x;    /* [n][dim], owned */
    uint8_t *y;  /* [n], owned */
} dataset_t;

typedef struct {
    dataset_t train, val, test;
    int rows, cols, channels;
} data_t;

/* Load the files named by cfg and split them. TS_EINPUT with a message naming
 * the file (or the job-file key) and the fault. */
int data_load(data_t *d, const config_t *cfg);
void data_free(data_t *d);
/* Bytes the three splits hold. */
double data_bytes(const data_t *d);

#endif
