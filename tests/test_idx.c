/*
 * test_idx: the IDX reader on small files this test writes, plain and gzip,
 * and on corrupt ones: wrong magic, truncated header and body, trailing data,
 * corrupt gzip. Each bad file must give TS_EINPUT with the file's name.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "err.h"
#include "idx.h"

static char dir[] = "/tmp/tsidxXXXXXX";

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = (unsigned char)v;
}

static const char *write_file(const char *name, const void *buf, size_t len, int gz)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        gzwrite(f, buf, (unsigned)len);
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        fwrite(buf, 1, len, f);
        fclose(f);
    }
    return path;
}

static void expect_bad(const char *path, const char *fragment, int images)
{
    idx_t x;
    int rc = images ? idx_load_images(&x, path) : idx_load_labels(&x, path);
    CHECK(rc == TS_EINPUT, "%s: rc %d", path, rc);
    CHECK(strstr(ts_errmsg(), path) != NULL, "message names the file: %s", ts_errmsg());
    CHECK(strstr(ts_errmsg(), fragment) != NULL, "message '%s' has '%s'", ts_errmsg(), fragment);
    CHECK(x.data == NULL, "nothing left allocated");
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!mkdtemp(dir))
        return 1;
    unsigned char img[16 + 3 * 4 * 5];
    be32(img, 2051), be32(img + 4, 3), be32(img + 8, 4), be32(img + 12, 5);
    for (int i = 0; i < 60; i++)
        img[16 + i] = (unsigned char)(i * 4);
    unsigned char lab[8 + 3] = {0};
    be32(lab, 2049), be32(lab + 4, 3);
    lab[8] = 1, lab[9] = 9, lab[10] = 0;

    for (int gz = 0; gz < 2; gz++) {
        idx_t x;
        const char *p = write_file(gz ? "img.gz" : "img", img, sizeof img, gz);
        CHECK(idx_load_images(&x, p) == 0, "load images gz=%d: %s", gz, ts_errmsg());
        CHECK(x.n == 3 && x.rows == 4 && x.cols == 5, "dims %lld %d %d", (long long)x.n, x.rows, x.cols);
        CHECK(x.data && x.data[59] == 236, "pixel");
        idx_free(&x);
        p = write_file(gz ? "lab.gz" : "lab", lab, sizeof lab, gz);
        CHECK(idx_load_labels(&x, p) == 0, "load labels gz=%d", gz);
        CHECK(x.n == 3 && x.data[1] == 9, "labels");
        idx_free(&x);
    }
    expect_bad(write_file("magic", lab, sizeof lab, 0), "wrong magic", 1);
    expect_bad(write_file("magic2", img, sizeof img, 1), "wrong magic", 0);
    expect_bad(write_file("short_header", img, 10, 0), "truncated header", 1);
    expect_bad(write_file("short_body", img, sizeof img - 1, 1), "truncated body", 1);
    expect_bad(write_file("short_labels", lab, sizeof lab - 2, 0), "truncated body", 0);
    unsigned char longer[sizeof img + 1];
    memcpy(longer, img, sizeof img);
    longer[sizeof img] = 7;
    expect_bad(write_file("trailing", longer, sizeof longer, 0), "trailing data", 1);
    /* a gzip stream with its body damaged */
    write_file("good.gz", img, sizeof img, 1);
    char gpath[256];
    snprintf(gpath, sizeof gpath, "%s/good.gz", dir);
    FILE *f = fopen(gpath, "rb");
    unsigned char buf[512];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    for (size_t i = 12; i < n - 8; i++)
        buf[i] ^= 0x5a;
    expect_bad(write_file("corrupt.gz", buf, n, 0), "", 1);
    idx_t x;
    char missing[300];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    CHECK(idx_load_images(&x, missing) == TS_EINPUT && strstr(ts_errmsg(), "cannot open"), "missing file: %s", ts_errmsg());

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) {
    }
    return check_summary(argv[0]);
}
