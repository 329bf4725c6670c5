/*
 * fuzz_cifar.c - libFuzzer harness for the CIFAR-10 reader.
 *
 * Each input is a whole file (plain or gzip) loaded with cifar_load through
 * in-memory files (fuzz_memfd.h). Beyond the sanitizers, it checks:
 *   - a refusal is TS_EINPUT with one line of message naming the file at
 *     fault, and leaves *out all zero (inputs are small: running out of
 *     memory means the reader believed something other than the bytes);
 *   - a plain file (not gzip) is accepted exactly when it is a non-empty
 *     whole number of 3073-byte records with labels 0-9, and then the labels
 *     and pixels are the records' bytes;
 *   - an accepted file has n > 0, shape 3x32x32 and labels 0-9, and loading
 *     it twice in one call gives twice the records, in order;
 *   - a plain file cut in two at a record boundary loads as the whole does:
 *     the same records, or a refusal that names one of the two parts;
 *   - cifar_channel_stats of accepted pixels lies within the pixels' range.
 * A violation aborts, so libFuzzer keeps the input as a crash.
 *
 * Built by `make fuzz-bin`; tests/test_fuzz_regress.c replays saved inputs
 * through fuzz_cifar_one() with the normal compiler.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cifar.h"
#include "err.h"
#include "fuzz_memfd.h"

static void cifar_fuzz_abort(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_cifar: %s: [%s]\n", what, msg ? msg : "(null)");
    abort();
}

/* Load paths[0..n) into *c with *c filled with garbage first (the reader must
 * initialise it); check the refusal contract. Returns cifar_load's code. */
static int cifar_fuzz_load(cifar_t *c, const char *const *paths, int n)
{
    memset(c, 0xa5, sizeof *c);
    ts_fail(0, "%s", "");
    int rc = cifar_load(c, paths, n);
    if (!rc)
        return 0;
    const char *msg = ts_errmsg();
    if (rc != TS_EINPUT)
        cifar_fuzz_abort("refused with a code other than TS_EINPUT", msg);
    int named = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(paths[i]);
        named |= !strncmp(msg, paths[i], len) && msg[len] == ':';
    }
    if (!named)
        cifar_fuzz_abort("message does not name a file", msg);
    if (strchr(msg, '\n'))
        cifar_fuzz_abort("message spans more than one line", msg);
    if (c->n || c->pixels || c->labels || c->channels || c->rows || c->cols)
        cifar_fuzz_abort("refused but left something behind", msg);
    return rc;
}

/* What an accepted load must look like whatever the input: sizes, labels, and
 * every byte readable (ASan sees a block too short). */
static void cifar_fuzz_check_accepted(const cifar_t *c, const char *path)
{
    if (c->n <= 0 || !c->pixels || !c->labels)
        cifar_fuzz_abort("accepted without records", path);
    if (c->channels != CIFAR_CHANNELS || c->rows != CIFAR_ROWS || c->cols != CIFAR_COLS)
        cifar_fuzz_abort("accepted with a shape other than 3x32x32", path);
    volatile uint8_t sum = 0;
    for (int64_t i = 0; i < c->n; i++) {
        if (c->labels[i] >= CIFAR_CLASSES)
            cifar_fuzz_abort("accepted a label above 9", path);
        for (size_t p = 0; p < CIFAR_PIXELS; p++)
            sum ^= c->pixels[(size_t)i * CIFAR_PIXELS + p];
    }
    (void)sum;
}

/* The records of a plain file: a non-empty whole number of them, all labels 0-9. */
static int cifar_fuzz_valid_plain(const uint8_t *data, size_t size)
{
    if (size == 0 || size % CIFAR_RECORD)
        return 0;
    for (size_t r = 0; r < size / CIFAR_RECORD; r++)
        if (data[r * CIFAR_RECORD] >= CIFAR_CLASSES)
            return 0;
    return 1;
}

/* c holds exactly the records of data[0..size), a plain file. */
static int cifar_fuzz_same_records(const cifar_t *c, const uint8_t *data, size_t size)
{
    if (c->n != (int64_t)(size / CIFAR_RECORD))
        return 0;
    for (size_t r = 0; r < size / CIFAR_RECORD; r++) {
        const uint8_t *rec = data + r * CIFAR_RECORD;
        if (c->labels[r] != rec[0] || memcmp(c->pixels + r * CIFAR_PIXELS, rec + 1, CIFAR_PIXELS))
            return 0;
    }
    return 1;
}

/* Per-channel statistics of the first images accepted (a few: the function
 * does not depend on the bytes' origin): a mean within [0, 255] and a
 * standard deviation within [0, 128] (half the range at most). */
static void cifar_fuzz_check_stats(const cifar_t *c, const char *path)
{
    int64_t images = c->n < 8 ? c->n : 8;
    size_t n = (size_t)images * CIFAR_PIXELS;
    float *x = malloc(n * sizeof(float));
    if (!x)
        return;
    for (size_t i = 0; i < n; i++)
        x[i] = c->pixels[i];
    double mean[CIFAR_CHANNELS], std[CIFAR_CHANNELS];
    cifar_channel_stats(x, images, CIFAR_CHANNELS, CIFAR_ROWS * CIFAR_COLS, mean, std);
    for (int ch = 0; ch < CIFAR_CHANNELS; ch++)
        if (!(mean[ch] >= 0 && mean[ch] <= 255 && std[ch] >= 0 && std[ch] <= 128))
            cifar_fuzz_abort("channel statistics outside the pixels' range", path);
    free(x);
}

/* A plain file cut after its first half of records into two files loads as
 * the whole did (whole_rc, whole). */
static void cifar_fuzz_check_split(const uint8_t *data, size_t size, int whole_rc,
                                   const cifar_t *whole)
{
    size_t cut = size / CIFAR_RECORD / 2 * CIFAR_RECORD;
    if (cut == 0 || cut == size)
        return;
    const char *parts[2] = {fuzz_memfd(1, data, cut), fuzz_memfd(2, data + cut, size - cut)};
    cifar_t c;
    int rc = cifar_fuzz_load(&c, parts, 2);
    if ((rc == 0) != (whole_rc == 0))
        cifar_fuzz_abort(rc ? "refused in two parts, accepted whole" : "accepted in two parts, refused whole",
                         rc ? ts_errmsg() : parts[0]);
    if (!rc && (c.n != whole->n || memcmp(c.labels, whole->labels, (size_t)c.n) ||
                memcmp(c.pixels, whole->pixels, (size_t)c.n * CIFAR_PIXELS)))
        cifar_fuzz_abort("two parts load other records than the whole", parts[0]);
    cifar_free(&c);
}

/* Load one input as a CIFAR-10 file, alone, twice over and cut in two; abort
 * on a broken contract. */
int fuzz_cifar_one(const uint8_t *data, size_t size);
int fuzz_cifar_one(const uint8_t *data, size_t size)
{
    const char *path = fuzz_memfd(0, data, size);
    int plain = !(size >= 2 && data[0] == 0x1f && data[1] == 0x8b);
    cifar_t c;
    int rc = cifar_fuzz_load(&c, &path, 1);
    if (plain && (rc == 0) != cifar_fuzz_valid_plain(data, size))
        cifar_fuzz_abort(rc ? "refused a valid plain file" : "accepted an invalid plain file",
                         rc ? ts_errmsg() : path);
    if (plain)
        cifar_fuzz_check_split(data, size, rc, &c);
    if (rc)
        return 0;
    cifar_fuzz_check_accepted(&c, path);
    if (plain && !cifar_fuzz_same_records(&c, data, size))
        cifar_fuzz_abort("records differ from the file's bytes", path);
    cifar_fuzz_check_stats(&c, path);

    const char *twice[2] = {path, path};
    cifar_t c2;
    if (cifar_fuzz_load(&c2, twice, 2))
        cifar_fuzz_abort("refused a file twice that it accepted once", ts_errmsg());
    if (c2.n != 2 * c.n)
        cifar_fuzz_abort("a file twice is not twice the records", path);
    for (int k = 0; k < 2; k++)
        if (memcmp(c2.labels + k * c.n, c.labels, (size_t)c.n) ||
            memcmp(c2.pixels + (size_t)(k * c.n) * CIFAR_PIXELS, c.pixels, (size_t)c.n * CIFAR_PIXELS))
            cifar_fuzz_abort("a file twice does not repeat the records", path);
    cifar_free(&c2);
    cifar_free(&c);
    return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_cifar_one(data, size);
}
#endif
