/*
 * test_claim: the claim file of a results file (src/claim.c), without MPI.
 * A claim is made, refreshed and removed; a live claim refuses a second
 * writer with a message naming the holder; stale claims (dead PID on this
 * host, old heartbeat from another host, an earlier run of the same Slurm
 * job) and damaged ones (empty, garbage, binary, cut short, too large) are
 * taken over with a line on the log; another format version is refused; the
 * heartbeat notices a claim taken from it and puts back a removed one. What
 * an ended writer left beside the claim (CLAIM.held.TOKEN, CLAIM.tmp.TOKEN)
 * goes when the next claim is made, and a live writer's stays.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "claim.h"
#include "err.h"

static char dir[PATH_MAX], out[PATH_MAX + 16], cfile[PATH_MAX + 32], host[256];
static char *logbuf;
static size_t loglen;
static FILE *logfile;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void pause_ms(int ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The whole of a small file into buf ("" when missing); its length, or -1. */
static long slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    buf[0] = 0;
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return (long)n;
}

/* Write a file whole (a new file renamed into place: a running heartbeat
 * never sees it half-written). */
static void put(const char *path, const char *text, size_t len)
{
    char tmp[PATH_MAX + 64];
    snprintf(tmp, sizeof tmp, "%s.put", path);
    FILE *f = fopen(tmp, "wb");
    CHECK(f && fwrite(text, 1, len, f) == len && fclose(f) == 0 && rename(tmp, path) == 0, "cannot write %s",
          path);
}

static char forged[2048]; /* the last forged claim's text */

/* A claim as another process would write it (its text kept in forged).
 * version 0: CLAIM_VERSION; end 0: cut before the end line. */
static void forge(const char *h, long pid, double beat, const char *slurm_job, long restart, int version, int end)
{
    char text[2048];
    int n = snprintf(text, sizeof text,
                     "format = ticketsweep-claim\nformat_version = %d\nresults = %s\nwhat = run\nhost = %s\n"
                     "pid = %ld\npid_start = 0\ntoken = forged0123456789abcdef0123456789\n"
                     "job_hash = 0123456789abcdef\nstarted = %.3f\nheartbeat = %.3f\nheartbeat_every = 5\n"
                     "slurm_job = %s\nslurm_restart = %ld\n%s",
                     version ? version : CLAIM_VERSION, out, h, pid, beat - 10, beat, slurm_job, restart,
                     end ? "end = ok\n" : "");
    snprintf(forged, sizeof forged, "%s", text);
    put(cfile, text, (size_t)n);
}

/* Files in dir besides out's claim: none may be left by take or release. A
 * live claim's heartbeat makes its next version beside the claim for an
 * instant (CLAIM.tmp.TOKEN, CLAIM.held.TOKEN): a file counts only if it is
 * still there after a second. */
static int strays_now(int quiet)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "out.h5.claim")) {
            if (!quiet)
                fprintf(stderr, "  stray file %s\n", e->d_name);
            n++;
        }
    if (d)
        closedir(d);
    return n;
}

static int strays(void)
{
    for (int i = 0; i < 100 && strays_now(1); i++)
        pause_ms(10);
    return strays_now(0);
}

static int log_has(const char *s)
{
    fflush(logfile);
    return logbuf && strstr(logbuf, s) != NULL;
}

static void log_clear(void)
{
    fflush(logfile);
    rewind(logfile);
    if (logbuf)
        logbuf[0] = 0;
}

static claim_opts_t opts(void)
{
    return (claim_opts_t){.timeout = 300, .heartbeat = 0.05, .what = "run", .log = logfile};
}

/* Take out's claim; 0 or the code. The claim, when taken, is released at once
 * unless keep. */
static int take(claim_t **c, int keep)
{
    claim_opts_t o = opts();
    int rc = claim_take(c, out, "fedcba9876543210", &o);
    if (!rc && !keep) {
        CHECK(claim_release(*c) == 0, "release: %s", ts_errmsg());
        *c = NULL;
    }
    return rc;
}

static void test_take_refresh_release(void)
{
    claim_t *c = NULL, *c2 = (claim_t *)1;
    char text[4096], pid[32], pid_msg[48];
    CHECK(take(&c, 1) == 0 && c, "take: %s", ts_errmsg());
    CHECK(slurp(cfile, text, sizeof text) > 0, "no claim file");
    snprintf(pid, sizeof pid, "pid = %ld\n", (long)getpid());
    snprintf(pid_msg, sizeof pid_msg, "PID %ld,", (long)getpid());
    CHECK(strstr(text, "format = ticketsweep-claim\n") && strstr(text, pid) && strstr(text, "end = ok\n") &&
              strstr(text, "job_hash = fedcba9876543210\n") && strstr(text, host),
          "claim content:\n%s", text);
    CHECK(strays() == 0, "files left beside the claim");

    /* a second writer (this very process: its PID is alive) is refused */
    long before = slurp(cfile, text, sizeof text);
    CHECK(take(&c2, 1) == TS_EINPUT && c2 == NULL, "second take: %s", ts_errmsg());
    const char *m = ts_errmsg();
    CHECK(strstr(m, out) && strstr(m, host) && strstr(m, pid_msg) && strstr(m, "last heartbeat") &&
              strstr(m, "wait for it to end") && !strchr(m, '\n'),
          "refusal message: %s", m);
    CHECK(before > 0 && strays() == 0, "the refused take left files");

    /* the heartbeat moves */
    const char *h = strstr(text, "heartbeat = ");
    double first = h ? atof(h + 12) : 0, later = first;
    for (int i = 0; i < 200 && later <= first; i++) {
        pause_ms(20);
        if (slurp(cfile, text, sizeof text) > 0 && (h = strstr(text, "heartbeat = ")))
            later = atof(h + 12);
    }
    CHECK(later > first, "heartbeat did not move: %f", first);
    CHECK(!claim_lost(c), "lost its own claim");
    CHECK(claim_release(c) == 0, "release: %s", ts_errmsg());
    CHECK(access(cfile, F_OK) != 0 && strays() == 0, "release left files");
    CHECK(claim_release(NULL) == 0, "release(NULL)");
}

static void test_stale(void)
{
    claim_t *c;
    /* another host, heartbeat an hour old: taken over */
    forge("elsewhere.example", 4242, now() - 3600, "", 0, 0, 1);
    log_clear();
    CHECK(take(&c, 0) == 0, "old heartbeat: %s", ts_errmsg());
    CHECK(log_has("taking over the stale claim of host elsewhere.example, PID 4242 (no heartbeat for"),
          "takeover notice: %s", logbuf);
    CHECK(access(cfile, F_OK) != 0 && strays() == 0, "files left after takeover + release");

    /* another host, fresh heartbeat: refused, claim untouched */
    char a[4096], b[4096];
    forge("elsewhere.example", 4242, now() - 2, "", 0, 0, 1);
    slurp(cfile, a, sizeof a);
    CHECK(take(&c, 0) == TS_EINPUT, "fresh heartbeat from another host taken");
    CHECK(strstr(ts_errmsg(), "host elsewhere.example, PID 4242, last heartbeat 2 s ago") &&
              strstr(ts_errmsg(), "expires 300 s after its last heartbeat (--claim-timeout)"),
          "refusal: %s", ts_errmsg());
    slurp(cfile, b, sizeof b);
    CHECK(!strcmp(a, b) && strays() == 0, "refused take changed the claim");
    /* a clock ahead of ours is a fresh heartbeat too */
    forge("elsewhere.example", 4242, now() + 600, "", 0, 0, 1);
    CHECK(take(&c, 0) == TS_EINPUT, "heartbeat from the future taken");

    /* this host, a PID that has ended but is not reaped yet (a zombie): taken
     * over (Linux) */
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    char text[4096];
    snprintf(text, sizeof text, "/proc/%ld/stat", (long)child);
    if (access(text, R_OK) == 0) {
        for (int i = 0; i < 250 && slurp(text, a, sizeof a) > 0 && !strstr(a, ") Z "); i++)
            pause_ms(20);
        forge(host, child, now(), "", 0, 0, 1);
        log_clear();
        CHECK(take(&c, 0) == 0, "zombie PID: %s", ts_errmsg());
        snprintf(text, sizeof text, "PID %ld has ended", (long)child);
        CHECK(log_has(text), "zombie notice: %s", logbuf);
    }
    /* this host, dead PID: taken over */
    waitpid(child, NULL, 0);
    forge(host, child, now(), "", 0, 0, 1);
    log_clear();
    CHECK(take(&c, 0) == 0, "dead PID: %s", ts_errmsg());
    char gone[64];
    snprintf(gone, sizeof gone, "PID %ld is gone", (long)child);
    CHECK(log_has(gone), "dead PID notice: %s", logbuf);

    /* this host, live PID (our parent), heartbeat old: still live */
    forge(host, getppid(), now() - 3600, "", 0, 0, 1);
    CHECK(take(&c, 0) == TS_EINPUT && strstr(ts_errmsg(), "running on this host"), "live PID: %s", ts_errmsg());

    /* Linux: a live PID with another start time is a reused PID */
    if (access("/proc/self/stat", R_OK) == 0) {
        char *p;
        unlink(cfile);
        CHECK(take(&c, 1) == 0, "take: %s", ts_errmsg());
        slurp(cfile, text, sizeof text);
        p = strstr(text, "pid_start = ");
        CHECK(p && strtoull(p + 12, NULL, 10) > 0, "no start time in the claim:\n%s", text);
        claim_release(c);
        forge(host, getppid(), now(), "", 0, 0, 1);
        slurp(cfile, text, sizeof text);
        p = strstr(text, "pid_start = 0");
        if (p) {
            p[12] = '7'; /* the parent did not start at tick 7 after boot */
            put(cfile, text, strlen(text));
        }
        log_clear();
        CHECK(take(&c, 0) == 0 && log_has("is now another process"), "reused PID: %s %s", ts_errmsg(), logbuf);
    }
    unlink(cfile);
}

/* A heartbeat killed between moving its claim aside and linking the next
 * version in: no claim, CLAIM.held.TOKEN and CLAIM.tmp.TOKEN left. */
static void test_leftovers(void)
{
    claim_t *c;
    char held[PATH_MAX + 128], tmp[PATH_MAX + 128], aside[PATH_MAX + 128], msg[2 * PATH_MAX + 640];
    snprintf(held, sizeof held, "%s.held.forged0123456789abcdef0123456789", cfile);
    snprintf(tmp, sizeof tmp, "%s.tmp.forged0123456789abcdef0123456789", cfile);
    /* a taker's name, the judged claim inside (its owner: the forged one) */
    snprintf(aside, sizeof aside, "%s.stale.taker0123456789abcdef0123456789", cfile);
    pid_t child = fork();
    if (child == 0)
        _exit(0);
    waitpid(child, NULL, 0);
    for (int live = 0; live < 2; live++) {
        /* the owner: a PID that has ended, then a live one (our parent) */
        forge(host, live ? (long)getppid() : (long)child, now(), "", 0, 0, 1);
        CHECK(link(cfile, tmp) == 0 && link(cfile, aside) == 0 && rename(cfile, held) == 0,
              "cannot lay out the leftovers");
        log_clear();
        CHECK(take(&c, 0) == 0, "take beside leftovers (%s owner): %s", live ? "live" : "ended", ts_errmsg());
        if (!live) {
            CHECK(access(held, F_OK) != 0 && access(tmp, F_OK) != 0 && access(aside, F_OK) != 0 && strays() == 0,
                  "an ended writer's leftovers stay");
            const char *gone[] = {held, aside};
            for (int i = 0; i < 2; i++) {
                snprintf(msg, sizeof msg, "removed %s, left by host %s, PID %ld (PID %ld is gone)", gone[i], host,
                         (long)child, (long)child);
                CHECK(log_has(msg), "no line for the removed leftover %s: %s", gone[i], logbuf);
            }
        } else {
            CHECK(access(held, F_OK) == 0 && access(tmp, F_OK) == 0 && access(aside, F_OK) == 0,
                  "a live writer's files were removed");
            CHECK(!log_has("removed"), "a live writer's files: %s", logbuf);
            unlink(held);
            unlink(tmp);
            unlink(aside);
        }
    }
}

static void test_slurm(void)
{
    claim_t *c;
    setenv("SLURM_JOB_ID", "4711", 1);
    setenv("SLURM_RESTART_COUNT", "2", 1);
    forge("node9", 77, now(), "4711", 1, 0, 1);
    log_clear();
    CHECK(take(&c, 0) == 0, "earlier run of this Slurm job: %s", ts_errmsg());
    CHECK(log_has("an earlier run (restart 1) of this Slurm job 4711"), "Slurm notice: %s", logbuf);
    forge("node9", 77, now(), "4711", 2, 0, 1);
    CHECK(take(&c, 0) == TS_EINPUT, "the same run of this Slurm job taken");
    forge("node9", 77, now(), "4712", 0, 0, 1);
    CHECK(take(&c, 0) == TS_EINPUT, "another Slurm job's claim taken");
    unsetenv("SLURM_JOB_ID");
    unsetenv("SLURM_RESTART_COUNT");
    forge("node9", 77, now(), "4711", 1, 0, 1);
    CHECK(take(&c, 0) == TS_EINPUT, "outside Slurm, a fresh claim taken");
    unlink(cfile);
}

static void test_damaged(void)
{
    static const struct {
        const char *name, *text;
        size_t len;
    } cases[] = {
#define TEXT(s) s, sizeof(s) - 1
        {"empty", TEXT("")},
        {"garbage", TEXT("hello world\n")},
        {"binary", TEXT("format = ticketsweep-claim\n\0\1\2")},
        {"no format line", TEXT("host = a\npid = 3\n")},
        {"bad pid", TEXT("format = ticketsweep-claim\nformat_version = 1\npid = -3\n")},
#undef TEXT
    };
    claim_t *c;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put(cfile, cases[i].text, cases[i].len);
        log_clear();
        CHECK(take(&c, 0) == 0, "%s claim: %s", cases[i].name, ts_errmsg());
        CHECK(log_has("not a valid claim") && log_has("taken as stale"), "%s: warning: %s", cases[i].name, logbuf);
        CHECK(access(cfile, F_OK) != 0 && strays() == 0, "%s: files left", cases[i].name);
    }
    /* a live claim cut short (no end line) is damaged too */
    forge(host, getppid(), now(), "", 0, 0, 0);
    log_clear();
    CHECK(take(&c, 0) == 0 && log_has("cut short"), "truncated claim: %s %s", ts_errmsg(), logbuf);
    /* a claim cut inside a line */
    forge(host, getppid(), now(), "", 0, 0, 1);
    char text[4096];
    long n = slurp(cfile, text, sizeof text);
    put(cfile, text, (size_t)(n / 2));
    log_clear();
    CHECK(take(&c, 0) == 0 && log_has("not a valid claim"), "half a claim: %s %s", ts_errmsg(), logbuf);
    /* too large */
    char *big = malloc(6000);
    memset(big, 'x', 6000);
    put(cfile, big, 6000);
    free(big);
    log_clear();
    CHECK(take(&c, 0) == 0 && log_has("larger than 4096 bytes"), "large file: %s %s", ts_errmsg(), logbuf);
    /* another format version: refused with a hint */
    forge("elsewhere.example", 4242, now() - 3600, "", 0, 2, 1);
    CHECK(take(&c, 0) == TS_EINPUT && strstr(ts_errmsg(), "claim format version 2"), "version 2: %s", ts_errmsg());
    unlink(cfile);
}

static void test_heartbeat_sees_others(void)
{
    claim_t *c = NULL;
    char text[4096];
    /* removed by hand: put back by the next beat */
    CHECK(take(&c, 1) == 0, "take: %s", ts_errmsg());
    unlink(cfile);
    int i;
    for (i = 0; i < 250 && access(cfile, F_OK) != 0; i++)
        pause_ms(20);
    CHECK(access(cfile, F_OK) == 0, "a removed claim was not put back");
    CHECK(!claim_lost(c), "put-back claim counted lost");

    /* replaced by another writer's claim: lost, and left alone on release */
    log_clear();
    forge("elsewhere.example", 99, now(), "", 0, 0, 1);
    long n = slurp(cfile, text, sizeof text);
    for (i = 0; i < 250 && !claim_lost(c); i++)
        pause_ms(20);
    CHECK(claim_lost(c), "the heartbeat did not notice the claim was taken");
    CHECK(log_has("taken over by host elsewhere.example, PID 99"), "lost warning: %s", logbuf);
    CHECK(claim_release(c) == 0, "release of a lost claim: %s", ts_errmsg());
    char after[4096];
    CHECK(slurp(cfile, after, sizeof after) == n && !strcmp(text, after), "release removed another's claim");
    unlink(cfile);
}

/* A taker's claim that lands while a heartbeat refreshes (between its read
 * and its write) is never overwritten: the heartbeat finds it and gives up.
 * Many rounds against a heartbeat every millisecond, each forging at another
 * moment of the beat. */
static void test_refresh_race(void)
{
    claim_opts_t o = opts();
    o.heartbeat = 0.001;
    char text[4096], after[4096];
    int overwritten = 0, rounds = 150;
    for (int r = 0; r < rounds; r++) {
        claim_t *c = NULL;
        CHECK(claim_take(&c, out, "fedcba9876543210", &o) == 0, "take: %s", ts_errmsg());
        struct timespec ts = {0, (r % 20) * 50000L}; /* 0 to 1 ms into the beat */
        nanosleep(&ts, NULL);
        forge("elsewhere.example", 99, now(), "", 0, 0, 1);
        /* its text as forged: the file itself may be aside for an instant (a
         * beat moving it to look at it), and would read as missing */
        long n = (long)strlen(forged);
        snprintf(text, sizeof text, "%s", forged);
        int i;
        for (i = 0; i < 200 && !claim_lost(c); i++)
            pause_ms(5);
        /* still ours after a second: the forged claim was overwritten unseen */
        overwritten += !claim_lost(c) || slurp(cfile, after, sizeof after) != n || strcmp(text, after);
        claim_release(c);
        unlink(cfile);
    }
    CHECK(overwritten == 0, "a taker's claim was overwritten by the heartbeat in %d of %d rounds", overwritten,
          rounds);
    CHECK(strays() == 0, "files left by the heartbeat");
}

static void test_bad_places(void)
{
    claim_t *c = (claim_t *)1;
    claim_opts_t o = opts();
    char p[PATH_MAX + 64];
    snprintf(p, sizeof p, "%s/nodir/out.h5", dir);
    CHECK(claim_take(&c, p, "x", &o) == TS_EINPUT && c == NULL, "missing folder");
    CHECK(strstr(ts_errmsg(), "nodir/out.h5.claim: cannot create the claim file"), "missing folder: %s", ts_errmsg());
    if (geteuid() != 0) { /* root writes anywhere */
        snprintf(p, sizeof p, "%s/ro", dir);
        mkdir(p, 0555);
        snprintf(p, sizeof p, "%s/ro/out.h5", dir);
        CHECK(claim_take(&c, p, "x", &o) == TS_EINPUT, "read-only folder");
        snprintf(p, sizeof p, "%s/ro", dir);
        rmdir(p);
    }
    snprintf(p, sizeof p, "%s/two\nlines.h5", dir);
    CHECK(claim_take(&c, p, "x", &o) == TS_EINPUT && strstr(ts_errmsg(), "line break"), "a name with a line break");
    CHECK(strays() == 0, "files left");
}

int main(int argc, char **argv)
{
    (void)argc;
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/claimtest.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    snprintf(out, sizeof out, "%s/out.h5", dir);
    snprintf(cfile, sizeof cfile, "%s.claim", out);
    gethostname(host, sizeof host);
    logfile = open_memstream(&logbuf, &loglen);
    if (!logfile)
        return 1;

    test_take_refresh_release();
    test_stale();
    test_slurm();
    test_leftovers();
    test_damaged();
    test_heartbeat_sees_others();
    test_refresh_race();
    test_bad_places();

    fclose(logfile);
    free(logbuf);
    unlink(cfile);
    rmdir(dir);
    return check_summary(argv[0]);
}
