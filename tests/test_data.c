/*
 * test_data: the data are kept as pixel bytes and turned into floats per batch
 * (data_inputs); those floats must be the very bits the loader used to store
 * when it converted every pixel up front: byte * (1/255) for MNIST-format
 * files, and for CIFAR-10 files the same, then normalised in place with the
 * training split's per-channel mean and standard deviation (computed over the
 * floats). The old arithmetic is written out here as it was and compared
 * bit for bit, for whole splits, for rows in a shuffled order, and after the
 * block was moved (data_move) or attached elsewhere as another process would
 * (data_attach on a byte copy of the data_t).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cifar.h"
#include "data.h"
#include "err.h"
#include "rng.h"

static char dir[] = "/tmp/tsdataXXXXXX";

static void put_be32(FILE *f, uint32_t v)
{
    unsigned char b[4] = {v >> 24, v >> 16, v >> 8, (unsigned char)v};
    fwrite(b, 1, 4, f);
}

/* Random bytes, with every value 0..255 present (the table's whole range). */
static void fill(uint8_t *x, size_t n, rng_t *r)
{
    for (size_t i = 0; i < n; i++)
        x[i] = i < 256 ? (uint8_t)i : (uint8_t)rng_below(r, 256);
}

/* Old data.c: floats of rows [first, first + n) of a [.][dim] byte file set. */
static float *old_floats(const uint8_t *px, int64_t first, int64_t n, int dim)
{
    float *x = malloc((size_t)n * dim * sizeof(float));
    const uint8_t *src = px + (size_t)first * dim;
    for (size_t i = 0; x && i < (size_t)n * dim; i++)
        x[i] = src[i] * (1.0f / 255.0f);
    return x;
}

/* Old data.c's normalise() on one split, with the training split's statistics. */
static void old_normalise(float *x, int64_t n, int channels, int hw, const double *mean,
                          const double *std)
{
    for (int64_t i = 0; i < n; i++)
        for (int c = 0; c < channels; c++) {
            float *p = x + ((size_t)i * channels + c) * hw;
            float m = (float)mean[c], inv = std[c] > 0 ? (float)(1.0 / std[c]) : 1.0f;
            for (int k = 0; k < hw; k++)
                p[k] = (p[k] - m) * inv;
        }
}

/* data_inputs of the whole split, in order and by a shuffled row list, equal want. */
static void check_split(const char *what, const data_t *d, const dataset_t *ds, const float *want)
{
    size_t row = (size_t)ds->dim;
    float *got = malloc((size_t)ds->n * row * sizeof(float)), *one = malloc(row * sizeof(float));
    int32_t *rows = malloc((size_t)ds->n * sizeof *rows);
    CHECK(got && one && rows, "out of memory");
    if (!got || !one || !rows)
        goto out;
    data_inputs(d, ds, NULL, 0, (int)ds->n, got);
    CHECK(!memcmp(got, want, (size_t)ds->n * row * sizeof(float)), "%s: whole split differs", what);
    rng_t r;
    rng_init(&r, rng_key(5, 6, 7, 8));
    for (int64_t i = 0; i < ds->n; i++)
        rows[i] = (int32_t)i;
    rng_shuffle(&r, rows, ds->n);
    data_inputs(d, ds, rows, 0, (int)ds->n, got);
    int bad = 0;
    for (int64_t i = 0; i < ds->n; i++)
        bad += memcmp(got + (size_t)i * row, want + (size_t)rows[i] * row, row * sizeof(float)) != 0;
    CHECK(bad == 0, "%s: %d shuffled rows differ", what, bad);
    data_inputs(d, ds, NULL, ds->n - 1, 1, one);
    CHECK(!memcmp(one, want + (size_t)(ds->n - 1) * row, row * sizeof(float)), "%s: last row", what);
out:
    free(got), free(one), free(rows);
}

static void test_cifar(void)
{
    enum { N1 = 230, N2 = 170, NTE = 90, VAL = 40, HW = 1024 };
    rng_t r;
    rng_init(&r, rng_key(1, 2, 3, 4));
    uint8_t *px = malloc((size_t)(N1 + N2 + NTE) * CIFAR_PIXELS), lab[N1 + N2 + NTE];
    if (!px)
        return;
    fill(px, (size_t)(N1 + N2 + NTE) * CIFAR_PIXELS, &r);
    /* one channel darker, so the three statistics differ */
    for (size_t i = 0; i < (size_t)(N1 + N2 + NTE); i++)
        for (int k = 0; k < HW; k++)
            px[i * CIFAR_PIXELS + 2 * HW + k] /= 3;
    const char *names[3] = {"b1.bin", "b2.bin", "test.bin"};
    int counts[3] = {N1, N2, NTE}, at = 0;
    char path[3][128];
    for (int f = 0; f < 3; f++) {
        snprintf(path[f], sizeof path[f], "%s/%s", dir, names[f]);
        FILE *out = fopen(path[f], "wb");
        for (int i = 0; out && i < counts[f]; i++, at++) {
            lab[at] = (uint8_t)rng_below(&r, 10);
            fputc(lab[at], out);
            fwrite(px + (size_t)at * CIFAR_PIXELS, 1, CIFAR_PIXELS, out);
        }
        if (out)
            fclose(out);
    }
    config_t cfg;
    config_defaults(&cfg);
    cfg.format = FORMAT_CIFAR10;
    snprintf(cfg.train_images, sizeof cfg.train_images, "%s, %s", path[0], path[1]);
    snprintf(cfg.test_images, sizeof cfg.test_images, "%s", path[2]);
    cfg.validation = VAL;
    cfg.batch = 10;
    data_t d;
    int rc = data_load(&d, &cfg);
    CHECK(rc == 0, "load: %s", ts_errmsg());
    if (rc) {
        free(px);
        return;
    }
    int64_t ntr = N1 + N2 - VAL;
    CHECK(d.train.n == ntr && d.val.n == VAL && d.test.n == NTE && d.train.dim == CIFAR_PIXELS,
          "split sizes %lld %lld %lld", (long long)d.train.n, (long long)d.val.n, (long long)d.test.n);
    CHECK(d.normalised && d.channels == 3, "CIFAR-10 is normalised per channel");
    CHECK(d.block_bytes == (size_t)(N1 + N2 + NTE) * (CIFAR_PIXELS + 1), "block %zu bytes", d.block_bytes);
    CHECK(!memcmp(d.train.y, lab, (size_t)ntr) && !memcmp(d.val.y, lab + ntr, VAL) &&
          !memcmp(d.test.y, lab + N1 + N2, NTE), "labels");

    /* the old way: floats, statistics of the training split, normalised in place */
    float *tr = old_floats(px, 0, ntr, CIFAR_PIXELS), *va = old_floats(px, ntr, VAL, CIFAR_PIXELS);
    float *te = old_floats(px, N1 + N2, NTE, CIFAR_PIXELS);
    double mean[3], sd[3];
    cifar_channel_stats(tr, ntr, 3, HW, mean, sd);
    CHECK(!memcmp(mean, d.mean, sizeof mean) && !memcmp(sd, d.std, sizeof sd),
          "statistics from bytes equal those from floats: mean %.17g/%.17g std %.17g/%.17g", mean[0],
          d.mean[0], sd[0], d.std[0]);
    old_normalise(tr, ntr, 3, HW, mean, sd);
    old_normalise(va, VAL, 3, HW, mean, sd);
    old_normalise(te, NTE, 3, HW, mean, sd);
    check_split("cifar train", &d, &d.train, tr);
    check_split("cifar val", &d, &d.val, va);
    check_split("cifar test", &d, &d.test, te);

    /* another process's view: the data_t as bytes, the block copied */
    data_t other;
    memcpy(&other, &d, sizeof other);
    uint8_t *copy = malloc(d.block_bytes);
    if (copy) {
        memcpy(copy, d.train.x, d.block_bytes);
        data_attach(&other, copy);
        CHECK(other.own == NULL, "an attached data_t owns nothing");
        check_split("attached train", &other, &other.train, tr);
        check_split("attached test", &other, &other.test, te);
        data_free(&other); /* owns nothing: frees nothing */
    }
    /* the block moved elsewhere: same inputs, the old block freed */
    uint8_t *dst = malloc(d.block_bytes);
    if (dst) {
        data_move(&d, dst);
        CHECK(d.train.x == dst && d.own == NULL, "moved");
        check_split("moved val", &d, &d.val, va);
    }
    data_free(&d);
    free(dst), free(copy), free(tr), free(va), free(te), free(px);
}

static void write_idx(const char *name, uint32_t magic, int n, int rows, int cols, const uint8_t *b)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    put_be32(f, magic);
    put_be32(f, (uint32_t)n);
    if (magic == 2051) {
        put_be32(f, (uint32_t)rows);
        put_be32(f, (uint32_t)cols);
    }
    fwrite(b, 1, (size_t)n * (magic == 2051 ? rows * cols : 1), f);
    fclose(f);
}

static void test_idx(void)
{
    enum { NTR = 120, NTE = 30, VAL = 20, R = 7, C = 5 };
    rng_t r;
    rng_init(&r, rng_key(9, 9, 9, 9));
    uint8_t tr[NTR * R * C], te[NTE * R * C], ltr[NTR], lte[NTE];
    fill(tr, sizeof tr, &r);
    fill(te, sizeof te, &r);
    for (int i = 0; i < NTR; i++)
        ltr[i] = (uint8_t)rng_below(&r, 10);
    for (int i = 0; i < NTE; i++)
        lte[i] = (uint8_t)rng_below(&r, 10);
    write_idx("tr-img", 2051, NTR, R, C, tr);
    write_idx("tr-lab", 2049, NTR, 0, 0, ltr);
    write_idx("te-img", 2051, NTE, R, C, te);
    write_idx("te-lab", 2049, NTE, 0, 0, lte);
    config_t cfg;
    config_defaults(&cfg);
    snprintf(cfg.train_images, sizeof cfg.train_images, "%s/tr-img", dir);
    snprintf(cfg.train_labels, sizeof cfg.train_labels, "%s/tr-lab", dir);
    snprintf(cfg.test_images, sizeof cfg.test_images, "%s/te-img", dir);
    snprintf(cfg.test_labels, sizeof cfg.test_labels, "%s/te-lab", dir);
    cfg.validation = VAL;
    cfg.batch = 10;
    data_t d;
    int rc = data_load(&d, &cfg);
    CHECK(rc == 0, "load: %s", ts_errmsg());
    if (rc)
        return;
    CHECK(!d.normalised && d.channels == 1 && d.train.dim == R * C, "MNIST format: byte / 255");
    float *a = old_floats(tr, 0, NTR - VAL, R * C), *b = old_floats(tr, NTR - VAL, VAL, R * C);
    float *c = old_floats(te, 0, NTE, R * C);
    check_split("idx train", &d, &d.train, a);
    check_split("idx val", &d, &d.val, b);
    check_split("idx test", &d, &d.test, c);
    CHECK(!memcmp(d.val.y, ltr + NTR - VAL, VAL) && !memcmp(d.test.y, lte, NTE), "labels");
    CHECK(data_bytes(&d) == (double)(NTR + NTE) * (R * C + 1), "data_bytes %g", data_bytes(&d));
    free(a), free(b), free(c);
    data_free(&d);

    /* a refused job leaves nothing */
    cfg.batch = NTR;
    CHECK(data_load(&d, &cfg) == TS_EINPUT && strstr(ts_errmsg(), "train.batch"), "batch too large: %s",
          ts_errmsg());
    CHECK(d.own == NULL && d.train.x == NULL, "nothing held after an error");
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_cifar();
    test_idx();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {
    }
    return check_summary(argv[0]);
}
