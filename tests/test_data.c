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
 *
 * The random validation split (data.split = random): data_split_rows is a
 * permutation of the file's rows (disjoint and complete parts, each in file
 * order), the same for a seed and another for another seed; data_load puts
 * those rows, images and labels, in the sets; normalize = standard on an
 * MNIST-format file uses the statistics of that training part, none on
 * CIFAR-10 leaves byte / 255; and a trial trains on such data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cifar.h"
#include "data.h"
#include "err.h"
#include "rng.h"
#include "synth.h"
#include "trial.h"
#include "blas.h"

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

    /* normalize = none: byte / 255; split = random: the rows data_split_rows names */
    cfg.normalize = NORM_NONE;
    cfg.split = SPLIT_RANDOM;
    cfg.split_seed = 3;
    int32_t *rows = malloc((N1 + N2) * sizeof *rows);
    if (rows && data_split_rows(N1 + N2, VAL, 3, rows) == 0 && data_load(&d, &cfg) == 0) {
        CHECK(!d.normalised, "normalize = none on CIFAR-10");
        int bad = 0;
        for (int64_t i = 0; i < VAL; i++)
            bad += d.val.y[i] != lab[rows[ntr + i]] ||
                   memcmp(d.val.x + i * CIFAR_PIXELS, px + (size_t)rows[ntr + i] * CIFAR_PIXELS, CIFAR_PIXELS);
        for (int64_t i = 0; i < ntr; i++)
            bad += d.train.y[i] != lab[rows[i]] ||
                   memcmp(d.train.x + i * CIFAR_PIXELS, px + (size_t)rows[i] * CIFAR_PIXELS, CIFAR_PIXELS);
        CHECK(bad == 0, "CIFAR-10 random split: %d rows not where the split puts them", bad);
        float *f = old_floats(d.test.x, 0, NTE, CIFAR_PIXELS);
        if (f)
            check_split("cifar none test", &d, &d.test, f);
        free(f);
        data_free(&d);
    } else {
        CHECK(0, "CIFAR-10 random split: %s", ts_errmsg());
    }
    free(rows);
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

/* rows[0..n) is a permutation of 0..n-1 whose two parts [0, n - v) and
 * [n - v, n) ascend. */
static int is_split(const int32_t *rows, int64_t n, int64_t v)
{
    uint8_t *seen = calloc((size_t)n, 1);
    int ok = seen != NULL;
    for (int64_t i = 0; ok && i < n; i++) {
        ok = rows[i] >= 0 && rows[i] < n && !seen[rows[i]];
        if (ok)
            seen[rows[i]] = 1;
        if (ok && i > 0 && i != n - v)
            ok = rows[i - 1] < rows[i];
    }
    free(seen);
    return ok;
}

static void test_split_rows(void)
{
    enum { N = 1000, V = 150 };
    static int32_t a[N], b[N], c[N];
    CHECK(data_split_rows(N, V, 7, a) == 0 && data_split_rows(N, V, 7, b) == 0 &&
          data_split_rows(N, V, 8, c) == 0, "split rows: %s", ts_errmsg());
    CHECK(is_split(a, N, V) && is_split(c, N, V), "a permutation: disjoint, complete, each part in file order");
    CHECK(!memcmp(a, b, sizeof a), "the same seed draws the same split");
    int same = 0, tail = 0;
    for (int i = N - V; i < N; i++) {
        for (int j = N - V; j < N; j++)
            same += a[i] == c[j];
        tail += a[i] >= N - V;
    }
    CHECK(same < V / 2, "another seed draws another split (%d of %d validation rows shared)", same, V);
    CHECK(tail < V / 2, "not the last rows (%d of %d validation rows among the last %d)", tail, V, V);
    /* spread over the file: both halves give validation rows */
    int first_half = 0;
    for (int i = N - V; i < N; i++)
        first_half += a[i] < N / 2;
    CHECK(first_half > V / 4 && first_half < 3 * V / 4, "%d of %d validation rows in the first half",
          first_half, V);
    /* the extremes: every row but one validates, one row validates */
    int32_t one[5];
    CHECK(data_split_rows(5, 4, 1, one) == 0 && is_split(one, 5, 4), "v = n - 1");
    CHECK(data_split_rows(5, 1, 1, one) == 0 && is_split(one, 5, 1), "v = 1");
}

/* An IDX file set of synth images (synth.h) with split = random: the sets hold
 * the rows data_split_rows names; normalize = standard uses the statistics of
 * that training part; a trial learns on them. */
static void test_idx_random_split(void)
{
    enum { NTR = 1200, NTE = 300, VAL = 200, DIM = 64 };
    static uint8_t x[NTR * DIM], y[NTR], xt[NTE * DIM], yt[NTE];
    static int32_t rows[NTR];
    synth_split(x, y, NTR, 1);
    synth_split(xt, yt, NTE, 3);
    write_idx("s-tr-img", 2051, NTR, 8, 8, x);
    write_idx("s-tr-lab", 2049, NTR, 0, 0, y);
    write_idx("s-te-img", 2051, NTE, 8, 8, xt);
    write_idx("s-te-lab", 2049, NTE, 0, 0, yt);
    config_t cfg;
    synth_config(&cfg);
    snprintf(cfg.train_images, sizeof cfg.train_images, "%s/s-tr-img", dir);
    snprintf(cfg.train_labels, sizeof cfg.train_labels, "%s/s-tr-lab", dir);
    snprintf(cfg.test_images, sizeof cfg.test_images, "%s/s-te-img", dir);
    snprintf(cfg.test_labels, sizeof cfg.test_labels, "%s/s-te-lab", dir);
    cfg.validation = VAL;
    cfg.split = SPLIT_RANDOM;
    cfg.split_seed = 42;
    cfg.normalize = NORM_STANDARD;
    data_t d;
    int rc = data_load(&d, &cfg);
    CHECK(rc == 0, "load: %s", ts_errmsg());
    if (rc)
        return;
    CHECK(data_split_rows(NTR, VAL, 42, rows) == 0, "rows");
    CHECK(d.train.n == NTR - VAL && d.val.n == VAL && d.test.n == NTE, "sizes");
    int bad = 0;
    for (int64_t i = 0; i < NTR; i++) {
        const dataset_t *ds = i < NTR - VAL ? &d.train : &d.val;
        int64_t k = i < NTR - VAL ? i : i - (NTR - VAL);
        bad += memcmp(ds->x + k * DIM, x + (size_t)rows[i] * DIM, DIM) || ds->y[k] != y[rows[i]];
    }
    CHECK(bad == 0, "%d rows of the sets are not the file's rows the split names", bad);
    CHECK(!memcmp(d.test.x, xt, sizeof xt) && !memcmp(d.test.y, yt, sizeof yt), "the test set as it was");

    /* standard: one channel, the statistics of the training part, in float as CIFAR-10's */
    uint8_t *trx = malloc((size_t)(NTR - VAL) * DIM);
    if (trx) {
        for (int64_t i = 0; i < NTR - VAL; i++)
            memcpy(trx + i * DIM, x + (size_t)rows[i] * DIM, DIM);
        float *want = old_floats(trx, 0, NTR - VAL, DIM);
        double mean, sd;
        cifar_channel_stats(want, NTR - VAL, 1, DIM, &mean, &sd);
        CHECK(d.normalised && mean == d.mean[0] && sd == d.std[0], "standard: mean %g/%g std %g/%g", mean,
              d.mean[0], sd, d.std[0]);
        old_normalise(want, NTR - VAL, 1, DIM, &mean, &sd);
        check_split("standard idx train", &d, &d.train, want);
        free(want);
        free(trx);
    }
    char what[512];
    data_describe(&d, what, sizeof what);
    CHECK(strstr(what, "200 random training images (split_seed 42)") && strstr(what, "mean"), "describe: %s",
          what);

    /* a trial trains on the random split and learns */
    trial_ctx_t c;
    trial_result_t res;
    cfg.rates[0] = 0.5;
    cfg.n_rates = 1;
    cfg.rounds[0] = 1;
    cfg.n_rounds = 1;
    rc = trial_ctx_create(&c, &cfg, &d);
    CHECK(rc == 0, "trainer: %s", ts_errmsg());
    if (!rc && trial_result_create(&res, &cfg, &c.net) == 0) {
        trial_t t = {.index = 0, .rate = 0.5, .rounds = 1, .seed = 5};
        CHECK(trial_run(&c, &t, &res) == 0, "trial on the random split: %s", ts_errmsg());
        float acc = res.final_test_acc[ARM_TICKET][0];
        CHECK(acc > 0.9f, "dense final test accuracy %g on the random split", acc);
        trial_result_free(&res);
    }
    trial_ctx_free(&c);
    data_free(&d);

    /* another split_seed: another validation set */
    cfg.split_seed = 43;
    if (data_load(&d, &cfg) == 0) {
        CHECK(memcmp(d.val.x, x + (size_t)rows[NTR - VAL] * DIM, DIM) ||
              memcmp(d.val.x + DIM, x + (size_t)rows[NTR - VAL + 1] * DIM, DIM), "split_seed 43 differs from 42");
        data_free(&d);
    }
    /* split = last with normalize = none: the file's last rows, byte / 255 */
    cfg.split = SPLIT_LAST;
    cfg.normalize = NORM_NONE;
    if (data_load(&d, &cfg) == 0) {
        CHECK(!d.normalised && !memcmp(d.val.x, x + (size_t)(NTR - VAL) * DIM, (size_t)VAL * DIM),
              "last split, no normalisation");
        data_free(&d);
    }
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    blas_init();
    test_cifar();
    test_idx();
    test_split_rows();
    test_idx_random_split();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {
    }
    return check_summary(argv[0]);
}
