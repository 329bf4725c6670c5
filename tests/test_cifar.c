/*
 * test_cifar: the CIFAR-10 reader on small files this test writes into a temp
 * directory, plain and gzip: two files concatenated in either order (labels
 * and every pixel in place), and bad files - truncated record, label 10,
 * empty, missing, a directory, CIFAR-100-sized records, a cut gzip stream, a
 * bad second file after a good one - each giving TS_EINPUT with the file's
 * name and the fault, and nothing left allocated. Then the per-channel
 * statistics on a known array.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "cifar.h"
#include "err.h"

static char dir[] = "/tmp/tscifarXXXXXX";

/* The pixel byte p of a record made with (label, seed): a pattern that differs
 * between records, channels and positions. */
static uint8_t pixel(int label, int seed, int p)
{
    return (uint8_t)(label * 31 + seed * 101 + p * 7 + p / 1024 * 13);
}

/* Fill n records [n][3073] with labels[i] and pixels pixel(labels[i], seeds[i], p). */
static void make_records(uint8_t *buf, int n, const int *labels, const int *seeds)
{
    for (int i = 0; i < n; i++) {
        uint8_t *rec = buf + (size_t)i * CIFAR_RECORD;
        rec[0] = (uint8_t)labels[i];
        for (int p = 0; p < CIFAR_PIXELS; p++)
            rec[1 + p] = pixel(labels[i], seeds[i], p);
    }
}

/* Write buf into dir/name (gzip-compressed when gz); returns the path (static
 * storage: one of four rotating buffers, so a few paths can be held at once). */
static const char *write_file(const char *name, const void *buf, size_t len, int gz)
{
    static char paths[4][256];
    static int next;
    char *path = paths[next++ % 4];
    snprintf(path, sizeof paths[0], "%s/%s", dir, name);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        if (!f || (len && gzwrite(f, buf, (unsigned)len) != (int)len) || gzclose(f) != Z_OK)
            fprintf(stderr, "  cannot write %s\n", path);
    } else {
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
            fprintf(stderr, "  cannot write %s\n", path);
    }
    return path;
}

/* cifar_load(paths) must fail with TS_EINPUT naming bad_path and saying fragment. */
static void expect_bad(const char *const *paths, int n, const char *bad_path,
                       const char *fragment)
{
    cifar_t c;
    memset(&c, 0xff, sizeof c); /* garbage in: the loader must zero it */
    int rc = cifar_load(&c, paths, n);
    CHECK(rc == TS_EINPUT, "%s: rc %d (%s)", bad_path, rc, ts_errmsg());
    CHECK(strstr(ts_errmsg(), bad_path) != NULL, "message names %s: %s", bad_path, ts_errmsg());
    CHECK(strstr(ts_errmsg(), fragment) != NULL, "message '%s' has '%s'", ts_errmsg(), fragment);
    CHECK(strchr(ts_errmsg(), '\n') == NULL, "one line: %s", ts_errmsg());
    CHECK(c.pixels == NULL && c.labels == NULL && c.n == 0, "nothing left allocated");
}

/* Every label and pixel of c equal the records made with labels/seeds [n]. */
static void expect_records(const cifar_t *c, int n, const int *labels, const int *seeds)
{
    CHECK(c->n == n, "n = %lld, want %d", (long long)c->n, n);
    CHECK(c->channels == 3 && c->rows == 32 && c->cols == 32, "shape %d %d %d", c->channels,
          c->rows, c->cols);
    if (c->n != n)
        return;
    for (int i = 0; i < n; i++) {
        CHECK(c->labels[i] == labels[i], "label %d = %d, want %d", i, c->labels[i], labels[i]);
        int wrong = 0;
        for (int p = 0; p < CIFAR_PIXELS; p++)
            wrong += c->pixels[(size_t)i * CIFAR_PIXELS + p] != pixel(labels[i], seeds[i], p);
        CHECK(wrong == 0, "image %d: %d pixels wrong", i, wrong);
    }
}

static void test_load(void)
{
    static uint8_t a[3 * CIFAR_RECORD], b[2 * CIFAR_RECORD];
    const int la[3] = {3, 0, 9}, sa[3] = {1, 2, 3};
    const int lb[2] = {5, 1}, sb[2] = {4, 5};
    make_records(a, 3, la, sa);
    make_records(b, 2, lb, sb);
    const char *paths[2];
    paths[0] = write_file("data_batch_1.bin", a, sizeof a, 0);
    paths[1] = write_file("data_batch_2.bin.gz", b, sizeof b, 1);

    cifar_t c;
    int rc = cifar_load(&c, paths, 2);
    CHECK(rc == 0, "load a + b: %s", ts_errmsg());
    if (!rc) {
        const int l[5] = {3, 0, 9, 5, 1}, s[5] = {1, 2, 3, 4, 5};
        expect_records(&c, 5, l, s);
    }
    cifar_free(&c);
    CHECK(c.pixels == NULL && c.labels == NULL && c.n == 0, "cifar_free zeroes");
    cifar_free(&c); /* safe twice */

    const char *swapped[2] = {paths[1], paths[0]};
    rc = cifar_load(&c, swapped, 2);
    CHECK(rc == 0, "load b + a: %s", ts_errmsg());
    if (!rc) {
        const int l[5] = {5, 1, 3, 0, 9}, s[5] = {4, 5, 1, 2, 3};
        expect_records(&c, 5, l, s);
    }
    cifar_free(&c);

    rc = cifar_load(&c, paths, 1);
    CHECK(rc == 0, "load a alone: %s", ts_errmsg());
    if (!rc)
        expect_records(&c, 3, la, sa);
    cifar_free(&c);
}

static void test_bad(void)
{
    static uint8_t recs[3 * CIFAR_RECORD];
    const int labels[3] = {2, 7, 4}, seeds[3] = {6, 7, 8};
    make_records(recs, 3, labels, seeds);
    char good[300]; /* kept past write_file's rotating buffers */
    snprintf(good, sizeof good, "%s", write_file("good.bin", recs, sizeof recs, 0));
    const char *p;

    p = write_file("truncated.bin", recs, 2 * CIFAR_RECORD - 5, 0);
    expect_bad(&p, 1, p, "size 6141 bytes is not a multiple of 3073");
    expect_bad(&p, 1, p, "1 label byte + 3072 pixel bytes");
    p = write_file("truncated.bin.gz", recs, 2 * CIFAR_RECORD - 5, 1);
    expect_bad(&p, 1, p, "6141 bytes uncompressed");

    recs[CIFAR_RECORD] = 10; /* record 1's label */
    p = write_file("label10.bin", recs, sizeof recs, 0);
    expect_bad(&p, 1, p, "record 1 (counting from 0) has label 10");
    recs[CIFAR_RECORD] = 7;

    p = write_file("empty.bin", "", 0, 0);
    expect_bad(&p, 1, p, "empty");
    p = write_file("empty.bin.gz", "", 0, 1);
    expect_bad(&p, 1, p, "empty");

    char missing[300];
    snprintf(missing, sizeof missing, "%s/no_such_batch.bin", dir);
    p = missing;
    expect_bad(&p, 1, missing, "cannot open");
    p = dir;
    expect_bad(&p, 1, dir, "cannot read");

    /* CIFAR-100 records carry two label bytes: 3074 bytes */
    static uint8_t c100[2 * (CIFAR_RECORD + 1)];
    p = write_file("cifar100.bin", c100, sizeof c100, 0);
    expect_bad(&p, 1, p, "CIFAR-100");

    /* a gzip stream cut in the middle of its data */
    p = write_file("whole.bin.gz", recs, sizeof recs, 1);
    FILE *f = fopen(p, "rb");
    static uint8_t gz[4 * CIFAR_RECORD];
    size_t n = f ? fread(gz, 1, sizeof gz, f) : 0;
    if (f)
        fclose(f);
    CHECK(n > 40, "read back the gzip file (%zu bytes)", n);
    p = write_file("cut.bin.gz", gz, n / 2, 0);
    expect_bad(&p, 1, p, "truncated gzip stream");

    /* a bad file after a good one: its name, not the good one's */
    const char *two[2] = {good, write_file("second.bin", recs, CIFAR_RECORD + 1, 0)};
    expect_bad(two, 2, two[1], "not a multiple");
    CHECK(strstr(ts_errmsg(), "good.bin") == NULL, "names only the bad file: %s", ts_errmsg());

    cifar_t c;
    CHECK(cifar_load(&c, two, 0) == TS_EINPUT, "no files given");
}

static void test_stats(void)
{
    /* x [n = 2][channels = 2][hw = 3] */
    const float x[12] = {
        1, 2, 3, /* image 0, channel 0 */
        0, 2, 0, /* image 0, channel 1 */
        4, 5, 6, /* image 1, channel 0 */
        2, 0, 2, /* image 1, channel 1 */
    };
    double mean[2] = {-1, -1}, sd[2] = {-1, -1};
    cifar_channel_stats(x, 2, 2, 3, mean, sd);
    /* channel 0: 1..6, mean 3.5, population variance 17.5 / 6; channel 1: +-1 around 1 */
    CHECK(fabs(mean[0] - 3.5) < 1e-12, "mean[0] %g", mean[0]);
    CHECK(fabs(sd[0] - sqrt(17.5 / 6)) < 1e-12, "std[0] %g, want %g", sd[0], sqrt(17.5 / 6));
    CHECK(fabs(mean[1] - 1) < 1e-12, "mean[1] %g", mean[1]);
    CHECK(fabs(sd[1] - 1) < 1e-12, "std[1] %g", sd[1]);

    /* a large constant-plus-offset array: the two-pass std has no cancellation */
    enum { N = 1000, HW = 1024 };
    float *big = malloc((size_t)N * 3 * HW * sizeof(float));
    for (size_t i = 0; i < (size_t)N * 3 * HW; i++)
        big[i] = 1000.0f + ((i & 1) ? 0.5f : -0.5f) + (float)((i / HW) % 3);
    double m3[3], s3[3];
    cifar_channel_stats(big, N, 3, HW, m3, s3);
    for (int c = 0; c < 3; c++) {
        CHECK(fabs(m3[c] - (1000 + c)) < 1e-9, "big mean[%d] %.12g", c, m3[c]);
        CHECK(fabs(s3[c] - 0.5) < 1e-9, "big std[%d] %.12g", c, s3[c]);
    }
    free(big);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_load();
    test_bad();
    test_stats();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {
    }
    return check_summary(argv[0]);
}
