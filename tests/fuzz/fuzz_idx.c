/*
 * fuzz_idx.c - libFuzzer harness for the IDX reader.
 *
 * Each input is a whole file (plain or gzip) loaded with idx_load_images and
 * idx_load_labels through a memfd named as /proc/self/fd/N (fuzz_memfd.h), so
 * gzopen sees a real path and nothing touches the disk. Beyond the sanitizers, it checks:
 *   - a refusal is TS_EINPUT with one line of message naming the file, and
 *     leaves no data behind (inputs are small: running out of memory means
 *     the reader believed a header over the file's real length);
 *   - an accepted file has n > 0, plausible sizes and data, and its header
 *     says what the reader returned (for plain files: exactly the file size).
 * A violation aborts, so libFuzzer keeps the input as a crash.
 *
 * Built by `make fuzz`; tests/test_fuzz_regress.c replays the saved crashes
 * through fuzz_idx_one() with the normal compiler.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "fuzz_memfd.h"
#include "idx.h"

static void idx_fuzz_abort(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_idx: %s: [%s]\n", what, msg ? msg : "(null)");
    abort();
}

static uint32_t idx_fuzz_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void check_one(const idx_t *idx, int rc, const char *path, const uint8_t *data, size_t size,
                      int images)
{
    if (rc) {
        const char *msg = ts_errmsg();
        if (rc != TS_EINPUT)
            idx_fuzz_abort("refused with a code other than TS_EINPUT", msg);
        if (strncmp(msg, path, strlen(path)) || msg[strlen(path)] != ':')
            idx_fuzz_abort("message does not name the file", msg);
        if (strchr(msg, '\n'))
            idx_fuzz_abort("message spans more than one line", msg);
        if (idx->data)
            idx_fuzz_abort("refused but left data behind", msg);
        return;
    }
    if (idx->n <= 0 || !idx->data)
        idx_fuzz_abort("accepted an empty file", path);
    if (images && (idx->rows <= 0 || idx->cols <= 0))
        idx_fuzz_abort("accepted images without a size", path);
    int64_t item = images ? (int64_t)idx->rows * idx->cols : 1;
    size_t hdr = images ? 16 : 8;
    /* A plain file (not gzip) must be exactly header + body. */
    if (size >= 2 && !(data[0] == 0x1f && data[1] == 0x8b)) {
        if (size != hdr + (size_t)(idx->n * item))
            idx_fuzz_abort("accepted a plain file whose size disagrees with its header", path);
        if (idx_fuzz_be32(data) != (images ? 2051u : 2049u) || idx_fuzz_be32(data + 4) != (uint32_t)idx->n)
            idx_fuzz_abort("accepted a plain file whose header disagrees", path);
        if (memcmp(idx->data, data + hdr, (size_t)(idx->n * item)))
            idx_fuzz_abort("data differs from the file's body", path);
    }
    /* Touch every byte so ASan sees the whole block is ours. */
    volatile uint8_t sum = 0;
    for (int64_t i = 0; i < idx->n * item; i++)
        sum ^= idx->data[i];
    (void)sum;
}

/* Load one input as an image file and as a label file; abort on a broken contract. */
int fuzz_idx_one(const uint8_t *data, size_t size);
int fuzz_idx_one(const uint8_t *data, size_t size)
{
    const char *path = fuzz_memfd(0, data, size);
    for (int images = 0; images < 2; images++) {
        idx_t idx;
        memset(&idx, 0xa5, sizeof idx); /* the reader must initialise it */
        ts_fail(0, "%s", "");
        int rc = images ? idx_load_images(&idx, path) : idx_load_labels(&idx, path);
        check_one(&idx, rc, path, data, size, images);
        idx_free(&idx);
    }
    return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_idx_one(data, size);
}
#endif
