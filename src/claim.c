/*
 * claim.c - one writer per results file (see claim.h for the rules).
 *
 * The claim file is text, one "key = value" a line, '#' lines are comments:
 *
 *   format = ticketsweep-claim        format_version = 1
 *   results = OUT.h5                  what = run | merge
 *   host = node17                     pid = 12345
 *   pid_start = 8912345               (Linux: the process's start time in clock
 *                                      ticks since boot, 0 where unknown)
 *   token = 32 hex digits             (this claim's identity)
 *   job_hash = 16 hex digits          (the job's config hash)
 *   started = 1764000000.123          heartbeat = 1764000035.456 (Unix seconds)
 *   heartbeat_every = 5               slurm_job = 4711 (empty outside Slurm)
 *   slurm_restart = 0                 end = ok   (last: a file cut short lacks it)
 *
 * A claim is never seen half-written: every version of it is written in full
 * to CLAIM.tmp.TOKEN first, then linked onto the claim's name, which must be
 * free: a heartbeat moves its claim aside to CLAIM.held.TOKEN first and puts
 * it back if what it moved was not its own (swap_in), so a claim that a
 * taker made after the heartbeat's last read is never overwritten. Where the file system has no hard links, the claim
 * is made with O_CREAT | O_EXCL and written in place (a reader may then, for
 * an instant, see it empty and take it for damaged).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "claim.h"
#include "err.h"

#define CLAIM_MAX_BYTES 4096 /* a larger file is not a claim */
#define HOST_LEN 256
#define TOKEN_LEN 32
#define TAKE_ATTEMPTS 8      /* claims that change under us this often: give up */

struct claim {
    char results[PATH_MAX];
    char file[PATH_MAX + 16];  /* results + ".claim" */
    char tmp[PATH_MAX + 64];   /* file + ".tmp." + token: the next version of the claim */
    char host[HOST_LEN];
    long pid;
    unsigned long long pid_start;
    char token[TOKEN_LEN + 1];
    char job_hash[17];
    char what[16];
    double started, every, timeout;
    char slurm_job[32];
    long slurm_restart;
    FILE *log;
    /* the heartbeat thread; mu guards stop and lost */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running, stop, lost, warned;
};

/* A claim file as read back. */
typedef struct {
    char host[HOST_LEN], token[TOKEN_LEN + 1], job_hash[17], what[16], slurm_job[32];
    long pid, slurm_restart, version;
    unsigned long long pid_start;
    double started, heartbeat;
    int has_end;
} claim_info_t;

enum { PARSE_OK = 0, PARSE_BAD = 1, PARSE_VERSION = 2 };
enum { READ_OK = 0, READ_MISSING = 1 };

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Linux: process pid's state (field 3 of /proc/PID/stat: 'Z' for a zombie,
 * which has ended but is not yet reaped) and start time in clock ticks since
 * boot (field 22, tells a live PID from a reused one). Returns 0, or -1 where
 * unknown (no /proc, no such process). */
static int proc_stat(long pid, char *state, unsigned long long *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* the command name (field 2) is in parentheses and may hold spaces */
    char *p = strrchr(buf, ')');
    if (!p || p[1] != ' ' || !p[2])
        return -1;
    *state = p[2];
    /* after ")": field 3 (state) ... field 22; p ends on the space before it */
    for (int field = 3; field <= 22 && p; field++)
        p = strchr(p + 1, ' ');
    if (!p || sscanf(p + 1, "%llu", start) != 1)
        return -1;
    return 0;
}

static unsigned long long proc_start(long pid)
{
    char state;
    unsigned long long start;
    return proc_stat(pid, &state, &start) == 0 ? start : 0;
}

/* 32 random hex digits: /dev/urandom, else the clock, PID and an address. */
static void make_token(char out[TOKEN_LEN + 1])
{
    unsigned char r[TOKEN_LEN / 2];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, r, sizeof r) : -1;
    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)sizeof r) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
                     ((uint64_t)getpid() << 40) ^ (uint64_t)(uintptr_t)out;
        for (size_t i = 0; i < sizeof r; i++) {
            h = (h ^ i) * 0x100000001b3ULL;
            r[i] = (unsigned char)(h >> 32);
        }
    }
    for (size_t i = 0; i < sizeof r; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* The claim's text with the given heartbeat time; returns its length. A
 * change that older readers would misjudge needs CLAIM_VERSION + 1. */
static int claim_format(const claim_t *c, double heartbeat, char *buf, size_t len)
{
    return snprintf(buf, len,
                    "# ticketsweep: %s is being written by the process below (docs/running.md: One writer per results file)\n"
                    "format = %s\nformat_version = %d\nresults = %s\nwhat = %s\nhost = %s\npid = %ld\n"
                    "pid_start = %llu\ntoken = %s\njob_hash = %s\nstarted = %.3f\nheartbeat = %.3f\n"
                    "heartbeat_every = %g\nslurm_job = %s\nslurm_restart = %ld\nend = ok\n",
                    c->results, CLAIM_FORMAT, CLAIM_VERSION, c->results, c->what, c->host, c->pid,
                    c->pid_start, c->token, c->job_hash, c->started, heartbeat, c->every, c->slurm_job,
                    c->slurm_restart);
}

/* Write the claim, heartbeat now, to c->tmp in full and flush it to the file
 * system. Returns 0 or an errno value. (The helpers the heartbeat thread
 * calls return errno values and never ts_fail: the error buffer belongs to
 * the main thread.) */
static int write_tmp(const claim_t *c)
{
    char text[CLAIM_MAX_BYTES];
    int n = claim_format(c, wall_now(), text, sizeof text);
    if (n < 0 || n >= (int)sizeof text)
        return ENAMETOOLONG;
    int fd = open(c->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    errno = 0;
    ssize_t w = write(fd, text, (size_t)n);
    int e = w == n ? 0 : errno ? errno : ENOSPC;
    if (!e && fsync(fd) != 0 && errno != EINVAL)
        e = errno;
    if (close(fd) != 0 && !e)
        e = errno;
    if (e)
        unlink(c->tmp);
    return e;
}

/* write_tmp's failure as the error message. */
static int fail_write(const claim_t *c, int e)
{
    int input = e == ENOENT || e == EACCES || e == EROFS || e == ENOTDIR || e == EPERM || e == ENAMETOOLONG;
    return ts_fail(input ? TS_EINPUT : TS_ERUN,
                   "%s: cannot create the claim file (does the directory exist and is it writable?): %s", c->file,
                   strerror(e));
}

/*
 * Put c->tmp in place as the claim, only if there is none. Returns 0 (ours
 * now), 1 (a claim exists) or an errno value negated. link(2) is atomic on
 * NFS too; if its reply is lost, the retried call fails although it worked:
 * the link count of tmp tells (open(2), on O_EXCL and NFS).
 */
static int link_claim(const claim_t *c)
{
    if (link(c->tmp, c->file) == 0)
        return 0;
    int e = errno;
    struct stat st;
    if (stat(c->tmp, &st) == 0 && st.st_nlink == 2)
        return 0;
    if (e == EEXIST)
        return 1;
    if (e != EPERM && e != EOPNOTSUPP && e != ENOSYS && e != EMLINK)
        return -e;
    /* no hard links here: exclusive create, then write in place */
    char text[CLAIM_MAX_BYTES];
    int n = claim_format(c, wall_now(), text, sizeof text);
    int fd = open(c->file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno == EEXIST ? 1 : -errno;
    errno = 0;
    e = write(fd, text, (size_t)n) == n ? 0 : errno ? errno : ENOSPC;
    if (close(fd) != 0 && !e)
        e = errno;
    if (e)
        unlink(c->file);
    return -e;
}

/* Read a claim file into buf (CLAIM_MAX_BYTES + 1). Returns READ_OK with *len
 * (CLAIM_MAX_BYTES + 1: too large), READ_MISSING, or an errno value negated
 * when it exists but cannot be read. */
static int read_claim(const char *path, char *buf, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? READ_MISSING : -errno;
    size_t got = 0;
    while (got < CLAIM_MAX_BYTES + 1) {
        ssize_t n = read(fd, buf + got, CLAIM_MAX_BYTES + 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            /* ESTALE: replaced by a heartbeat between open and read (NFS) */
            return e == ESTALE ? READ_MISSING : -e;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    *len = got;
    return READ_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = 0;
    return s;
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno)
        return -1;
    *out = v;
    return 0;
}

static int parse_time(const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v) || v < 0)
        return -1;
    *out = v;
    return 0;
}

/* Copy a value into a fixed field; -1 when it does not fit. */
static int copy_field(char *dst, size_t len, const char *v)
{
    if (strlen(v) >= len)
        return -1;
    memcpy(dst, v, strlen(v) + 1);
    return 0;
}

/*
 * Parse claim text (len bytes, not NUL-terminated). Returns PARSE_OK,
 * PARSE_BAD with what is wrong in why, or PARSE_VERSION (a claim of another
 * format version: ci->version).
 */
static int parse_claim(const char *text, size_t len, claim_info_t *ci, char *why, size_t wlen)
{
    char buf[CLAIM_MAX_BYTES + 1];
    int have_format = 0, have_version = 0, have_host = 0, have_pid = 0, have_beat = 0, line_no = 0;
    memset(ci, 0, sizeof *ci);
    if (len == 0)
        return snprintf(why, wlen, "empty file"), PARSE_BAD;
    if (len > CLAIM_MAX_BYTES)
        return snprintf(why, wlen, "larger than %d bytes", CLAIM_MAX_BYTES), PARSE_BAD;
    if (memchr(text, 0, len))
        return snprintf(why, wlen, "binary data"), PARSE_BAD;
    memcpy(buf, text, len);
    buf[len] = 0;
    for (char *line = buf, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        line_no++;
        char *l = trim(line);
        if (!*l || *l == '#')
            continue;
        if (ci->has_end)
            return snprintf(why, wlen, "line %d: text after the end line", line_no), PARSE_BAD;
        char *eq = strchr(l, '=');
        if (!eq)
            return snprintf(why, wlen, "line %d is not key = value", line_no), PARSE_BAD;
        *eq = 0;
        char *k = trim(l), *v = trim(eq + 1);
        int bad = 0;
        if (!strcmp(k, "format"))
            bad = strcmp(v, CLAIM_FORMAT) != 0, have_format = 1;
        else if (!strcmp(k, "format_version"))
            bad = parse_long(v, &ci->version), have_version = 1;
        else if (!strcmp(k, "host"))
            bad = copy_field(ci->host, sizeof ci->host, v) || !*v, have_host = 1;
        else if (!strcmp(k, "pid"))
            bad = parse_long(v, &ci->pid) || ci->pid < 1 || ci->pid > INT_MAX, have_pid = 1;
        else if (!strcmp(k, "pid_start"))
            bad = sscanf(v, "%llu", &ci->pid_start) != 1;
        else if (!strcmp(k, "token"))
            bad = copy_field(ci->token, sizeof ci->token, v) || !*v;
        else if (!strcmp(k, "job_hash"))
            bad = copy_field(ci->job_hash, sizeof ci->job_hash, v);
        else if (!strcmp(k, "what"))
            bad = copy_field(ci->what, sizeof ci->what, v);
        else if (!strcmp(k, "started"))
            bad = parse_time(v, &ci->started);
        else if (!strcmp(k, "heartbeat"))
            bad = parse_time(v, &ci->heartbeat), have_beat = 1;
        else if (!strcmp(k, "slurm_job"))
            bad = copy_field(ci->slurm_job, sizeof ci->slurm_job, v);
        else if (!strcmp(k, "slurm_restart"))
            bad = parse_long(v, &ci->slurm_restart);
        else if (!strcmp(k, "end"))
            ci->has_end = 1;
        /* other keys: from a later release of the same format version; ignored */
        if (bad)
            return snprintf(why, wlen, "line %d: bad %s", line_no, k), PARSE_BAD;
    }
    if (!have_format)
        return snprintf(why, wlen, "not a ticketsweep claim (no format line)"), PARSE_BAD;
    if (!have_version)
        return snprintf(why, wlen, "no format_version"), PARSE_BAD;
    if (ci->version != CLAIM_VERSION)
        return PARSE_VERSION;
    if (!ci->has_end)
        return snprintf(why, wlen, "cut short (no end line)"), PARSE_BAD;
    if (!have_host || !have_pid || !have_beat || !ci->token[0])
        return snprintf(why, wlen, "%s missing", !have_host ? "host" : !have_pid ? "pid" : !have_beat ? "heartbeat" : "token"),
               PARSE_BAD;
    return PARSE_OK;
}

/*
 * Is the claim ci stale for c? Returns 1 (stale: why says so, for the
 * takeover notice) or 0 (live: why says how it showed life, for the refusal).
 */
static int is_stale(const claim_t *c, const claim_info_t *ci, char *why, size_t wlen)
{
    double age = wall_now() - ci->heartbeat;
    if (age < 0)
        age = 0; /* its clock is ahead of ours */
    if (!strcmp(ci->host, c->host)) {
        /* on its own host the process itself is the proof: a live writer may
         * miss heartbeats (stopped with SIGSTOP, a swapping node) and still
         * write later, so the heartbeat does not count here */
        char state;
        unsigned long long start;
        if (kill((pid_t)ci->pid, 0) != 0 && errno == ESRCH)
            return snprintf(why, wlen, "PID %ld is gone", ci->pid), 1;
        if (proc_stat(ci->pid, &state, &start) == 0) {
            if (state == 'Z' || state == 'X')
                return snprintf(why, wlen, "PID %ld has ended", ci->pid), 1;
            if (ci->pid_start && start != ci->pid_start)
                return snprintf(why, wlen, "PID %ld is now another process", ci->pid), 1;
        }
        return snprintf(why, wlen, "running on this host, last heartbeat %.0f s ago", age), 0;
    }
    /* another host: its processes are out of sight; Slurm's word, or silence */
    if (c->slurm_job[0] && !strcmp(ci->slurm_job, c->slurm_job) && ci->slurm_restart < c->slurm_restart)
        return snprintf(why, wlen, "an earlier run (restart %ld) of this Slurm job %s, which Slurm ended", ci->slurm_restart,
                        c->slurm_job),
               1;
    if (age > c->timeout)
        return snprintf(why, wlen, "no heartbeat for %.0f s, more than the claim timeout of %.0f s", age, c->timeout),
               1;
    return snprintf(why, wlen, "last heartbeat %.0f s ago", age), 0;
}

/* The refusal: one line with the file, the holder, its last sign of life and what to do. */
static int refuse(const claim_t *c, const claim_info_t *ci, const char *life)
{
    char expiry[HOST_LEN + 128] = "";
    if (strcmp(ci->host, c->host))
        snprintf(expiry, sizeof expiry, "; if host %s is down, the claim expires %.0f s after its last heartbeat "
                 "(--claim-timeout)", ci->host, c->timeout);
    return ts_fail(TS_EINPUT,
                   "%s: is being written by another ticketsweep %s (host %s, PID %ld, %s; claim %s): "
                   "wait for it to end or stop it, then try again%s%s",
                   c->results, ci->what[0] ? ci->what : "run", ci->host, ci->pid, life, c->file,
                   strcmp(c->what, "run") ? "" : " (--resume continues the file)", expiry);
}

/* Put a claim that was moved aside to `moved` back under the claim's name,
 * never over a claim made since (link; rename where the file system has no
 * hard links); `moved` is gone after. */
static void put_back(const claim_t *c, const char *moved)
{
    if (link(moved, c->file) != 0 && errno != EEXIST)
        rename(moved, c->file);
    unlink(moved);
}

/*
 * Move the stale claim (whose bytes were seen[0..len)) out of the way:
 * rename it aside, and check that what moved is what was judged. Returns 0
 * (gone), 1 (it changed meanwhile: put back; judge again) or a negative code.
 */
static int move_aside(const claim_t *c, const char *seen, size_t len)
{
    char aside[PATH_MAX + 64], now[CLAIM_MAX_BYTES + 1];
    size_t nlen = 0;
    snprintf(aside, sizeof aside, "%s.stale.%s", c->file, c->token);
    if (rename(c->file, aside) != 0)
        return errno == ENOENT ? 1
                               : ts_fail(TS_ERUN, "%s: cannot move the stale claim aside: %s", c->file, strerror(errno));
    if (read_claim(aside, now, &nlen) == READ_OK && nlen == len && !memcmp(now, seen, len)) {
        unlink(aside);
        return 0;
    }
    /* a heartbeat or another taker replaced it after we read it: put it
     * back, then look again */
    put_back(c, aside);
    return 1;
}

/* Remove what a stale claim's owner may have left: its next version. */
static void remove_leftovers(const claim_t *c, const claim_info_t *ci)
{
    char path[PATH_MAX + 64];
    if (!ci->token[0] || strchr(ci->token, '/'))
        return;
    snprintf(path, sizeof path, "%s.tmp.%s", c->file, ci->token);
    unlink(path);
}

static void warn(claim_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Once our claim is made: remove what an ended writer left beside it where
 * there was no claim of its to take over, CLAIM.held.TOKEN and CLAIM.tmp.TOKEN
 * (a heartbeat stopped between moving its claim aside and linking the next
 * version in leaves both, and no claim file), and CLAIM.stale.TOKEN (a taker
 * stopped between moving a stale claim aside and removing it). A held or tmp
 * file holds its owner's claim, TOKEN's; a stale file the claim its taker
 * judged, another's. Only one whose claim is_stale says has ended goes, with
 * a line on the log: a writer mid-refresh is alive, and keeps its files.
 */
static void sweep_leftovers(claim_t *c)
{
    char dirpath[PATH_MAX + 16], path[PATH_MAX + 320], buf[CLAIM_MAX_BYTES + 1], why[256];
    snprintf(dirpath, sizeof dirpath, "%s", c->file);
    char *slash = strrchr(dirpath, '/');
    const char *base = slash ? slash + 1 : c->file;
    if (slash)
        slash[slash == dirpath] = 0; /* "/x.claim" -> "/" */
    else
        snprintf(dirpath, sizeof dirpath, ".");
    size_t blen = strlen(base);
    DIR *d = opendir(dirpath);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        const char *rest = e->d_name + blen, *token;
        if (strncmp(e->d_name, base, blen))
            continue;
        int aside = !strncmp(rest, ".stale.", 7); /* the claim of another than TOKEN */
        if (aside)
            token = rest + 7;
        else if (!strncmp(rest, ".held.", 6) || !strncmp(rest, ".tmp.", 5))
            token = rest + (rest[1] == 'h' ? 6 : 5);
        else
            continue;
        size_t len;
        claim_info_t ci;
        if (!strcmp(token, c->token))
            continue;
        snprintf(path, sizeof path, "%s/%s", dirpath, e->d_name);
        if (read_claim(path, buf, &len) != READ_OK || parse_claim(buf, len, &ci, why, sizeof why) != PARSE_OK ||
            (!aside && strcmp(ci.token, token)) || !is_stale(c, &ci, why, sizeof why))
            continue; /* not a whole claim (one being written), not its owner's, or its owner lives */
        if (unlink(path) == 0)
            warn(c, "ticketsweep: %s: removed %s, left by host %s, PID %ld (%s)\n", c->results, path, ci.host,
                 ci.pid, why);
    }
    if (d)
        closedir(d);
}

/* ---------- the heartbeat ---------- */

static void warn(claim_t *c, const char *fmt, ...)
{
    va_list ap;
    if (!c->log)
        return;
    va_start(ap, fmt);
    vfprintf(c->log, fmt, ap);
    va_end(ap);
    fflush(c->log);
}

/*
 * Put c->tmp in place of our claim, never over anyone else's: move the claim
 * aside (rename is atomic: whatever is there moves), check that what moved is
 * ours, then link c->tmp in only if no claim appeared meanwhile (link_claim).
 * A claim a taker made after our last read is put back, never overwritten (a
 * rename of c->tmp onto the claim would replace it unseen). Returns 0
 * (refreshed), 1 (the claim is not ours) or an errno value negated; c->tmp
 * is gone after it.
 */
static int swap_in(claim_t *c)
{
    char held[PATH_MAX + 64], buf[CLAIM_MAX_BYTES + 1], why[128];
    size_t len;
    claim_info_t ci;
    int rc;
    snprintf(held, sizeof held, "%s.held.%s", c->file, c->token);
    if (rename(c->file, held) != 0) {
        rc = errno == ENOENT ? link_claim(c) : -errno; /* removed meanwhile: put ours back */
        unlink(c->tmp);
        return rc == 1 ? 0 : rc; /* one made meanwhile: the next beat judges it */
    }
    if (read_claim(held, buf, &len) != READ_OK || parse_claim(buf, len, &ci, why, sizeof why) != PARSE_OK ||
        strcmp(ci.token, c->token)) {
        rc = 1; /* a taker's: back in place */
    } else {
        rc = link_claim(c);
        if (rc == 0 || rc == 1) { /* 1: a claim made in the instant ours was aside */
            unlink(held);
            unlink(c->tmp);
            return rc;
        }
    }
    put_back(c, held);
    unlink(c->tmp);
    return rc;
}

/* One refresh. Returns 1 when the claim is no longer ours, else 0 (a failure
 * to write is warned once and tried again at the next beat). */
static int refresh(claim_t *c)
{
    char buf[CLAIM_MAX_BYTES + 1], why[128];
    size_t len;
    claim_info_t ci;
    int r = read_claim(c->file, buf, &len), e = 0;
    if (r == READ_OK) {
        if (parse_claim(buf, len, &ci, why, sizeof why) != PARSE_OK) {
            warn(c, "ticketsweep: warning: %s: this run's claim was overwritten (%s); another run may write %s\n",
                 c->file, why, c->results);
            return 1;
        }
        if (strcmp(ci.token, c->token)) {
            warn(c, "ticketsweep: warning: %s: this run's claim was taken over by host %s, PID %ld; "
                    "another run may write %s\n", c->file, ci.host, ci.pid, c->results);
            return 1;
        }
    }
    if (r < 0)
        e = -r;
    else if (!(e = write_tmp(c))) {
        if (r == READ_MISSING) {
            /* removed (by hand, or moved aside for an instant by a taker): put it
             * back, never over one made meanwhile (the next beat judges that) */
            int l = link_claim(c);
            e = l < 0 ? -l : 0;
            unlink(c->tmp);
        } else {
            int l = swap_in(c);
            if (l == 1) {
                warn(c, "ticketsweep: warning: %s: this run's claim was taken over while it was refreshed; "
                        "another run may write %s\n", c->file, c->results);
                return 1;
            }
            e = l < 0 ? -l : 0;
        }
    }
    if (e && !c->warned)
        warn(c, "ticketsweep: warning: %s: cannot refresh the claim: %s (will try again)\n", c->file, strerror(e));
    c->warned |= e != 0;
    return 0;
}

/* The heartbeat thread: refresh every c->every seconds until told to stop
 * or the claim is lost. It touches only the claim's files and c (mu). */
static void *heartbeat(void *arg)
{
    claim_t *c = arg;
    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        double t = (double)until.tv_sec + until.tv_nsec * 1e-9 + c->every;
        until.tv_sec = (time_t)t;
        until.tv_nsec = (long)((t - (double)until.tv_sec) * 1e9);
        while (!c->stop && pthread_cond_timedwait(&c->cv, &c->mu, &until) != ETIMEDOUT)
            ;
        if (c->stop)
            break;
        pthread_mutex_unlock(&c->mu);
        int lost = refresh(c);
        pthread_mutex_lock(&c->mu);
        if (lost) {
            c->lost = 1;
            break;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Start the heartbeat thread with every signal blocked (they belong to the
 * main thread: the scheduler's stop handlers) and a small stack. */
static int start_heartbeat(claim_t *c)
{
    pthread_condattr_t ca;
    pthread_attr_t ta;
    sigset_t all, old;
    int e = pthread_condattr_init(&ca);
    if (!e) {
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        e = pthread_cond_init(&c->cv, &ca);
        pthread_condattr_destroy(&ca);
    }
    if (e)
        return ts_fail(TS_ERUN, "%s: cannot start the claim's heartbeat: %s", c->file, strerror(e));
    if ((e = pthread_mutex_init(&c->mu, NULL)))
        goto out_cond;
    if ((e = pthread_attr_init(&ta)))
        goto out_mutex;
    pthread_attr_setstacksize(&ta, 256 * 1024);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = pthread_create(&c->thread, &ta, heartbeat, c);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&ta);
    if (e)
        goto out_mutex;
    c->running = 1;
    return 0;
out_mutex:
    pthread_mutex_destroy(&c->mu);
out_cond:
    pthread_cond_destroy(&c->cv);
    return ts_fail(TS_ERUN, "%s: cannot start the claim's heartbeat thread: %s", c->file, strerror(e));
}

/* ---------- take and release ---------- */

/* Fill in who we are. Returns 0 or TS_EINPUT (a name too long). */
static int claim_init(claim_t *c, const char *results, const char *job_hash, const claim_opts_t *o)
{
    if (strlen(results) + 1 > sizeof c->results)
        return ts_fail(TS_EINPUT, "%s: the results file's name is too long", results);
    /* the claim is line-based: a line break in the name would damage it */
    if (strpbrk(results, "\n\r"))
        return ts_fail(TS_EINPUT, "%s: the results file's name holds a line break", results);
    snprintf(c->results, sizeof c->results, "%s", results);
    snprintf(c->file, sizeof c->file, "%s%s", results, CLAIM_SUFFIX);
    make_token(c->token);
    snprintf(c->tmp, sizeof c->tmp, "%s.tmp.%s", c->file, c->token);
    if (gethostname(c->host, sizeof c->host) != 0 || !c->host[0])
        snprintf(c->host, sizeof c->host, "localhost");
    c->host[sizeof c->host - 1] = 0;
    c->pid = (long)getpid();
    c->pid_start = proc_start(c->pid);
    snprintf(c->job_hash, sizeof c->job_hash, "%s", job_hash ? job_hash : "");
    snprintf(c->what, sizeof c->what, "%s", o && o->what ? o->what : "run");
    c->timeout = o && o->timeout > 0 ? o->timeout : CLAIM_TIMEOUT_DEFAULT;
    c->every = o && o->heartbeat > 0 ? o->heartbeat : fmin(CLAIM_HEARTBEAT_MAX, c->timeout / 6);
    c->log = o ? o->log : NULL;
    c->started = wall_now();
    const char *job = getenv("SLURM_JOB_ID"), *restart = getenv("SLURM_RESTART_COUNT");
    if (job && strlen(job) < sizeof c->slurm_job && !strpbrk(job, "\n\r"))
        snprintf(c->slurm_job, sizeof c->slurm_job, "%s", job);
    if (!c->slurm_job[0] || !restart || parse_long(restart, &c->slurm_restart))
        c->slurm_restart = 0;
    return 0;
}

/*
 * A claim at c->file stands in our way: judge it. Returns 0 when it is gone
 * now (stale and moved aside, or released meanwhile: try again), or a
 * negative code (live: the refusal; or an error). *notice gets the takeover
 * line to print once our own claim is made.
 */
static int clear_way(claim_t *c, char *notice, size_t nlen)
{
    char buf[CLAIM_MAX_BYTES + 1], why[256];
    size_t len;
    claim_info_t ci;
    notice[0] = 0; /* only the judgement that cleared the way is told */
    int r = read_claim(c->file, buf, &len);
    if (r < 0)
        return ts_fail(TS_EINPUT, "%s: cannot read the claim file %s: %s: remove it if no other run writes %s",
                       c->results, c->file, strerror(-r), c->results);
    if (r == READ_MISSING)
        return 0;
    int p = parse_claim(buf, len, &ci, why, sizeof why);
    if (p == PARSE_VERSION)
        return ts_fail(TS_EINPUT,
                       "%s: claimed with claim format version %ld, this ticketsweep knows version %d: "
                       "use the release that made it, or remove %s if no run writes %s",
                       c->results, ci.version, CLAIM_VERSION, c->file, c->results);
    if (p == PARSE_BAD)
        snprintf(notice, nlen, "ticketsweep: warning: %s: not a valid claim (%s): taken as stale and replaced\n",
                 c->file, why);
    else if (!is_stale(c, &ci, why, sizeof why))
        return refuse(c, &ci, why);
    else
        snprintf(notice, nlen, "ticketsweep: %s: taking over the stale claim of host %s, PID %ld (%s)\n",
                 c->results, ci.host, ci.pid, why);
    r = move_aside(c, buf, len);
    if (r == 0 && p == PARSE_OK)
        remove_leftovers(c, &ci);
    return r < 0 ? r : 0;
}

int claim_take(claim_t **out, const char *results_path, const char *job_hash, const claim_opts_t *opts)
{
    char notice[2 * PATH_MAX + 512] = "";
    int rc;
    *out = NULL;
    claim_t *c = ts_calloc(1, sizeof *c);
    if (!c)
        return TS_ERUN;
    if ((rc = claim_init(c, results_path, job_hash, opts)))
        goto out_free;
    if ((rc = write_tmp(c))) {
        rc = fail_write(c, rc);
        goto out_free;
    }
    /* link, or judge what is in the way and clear it; a claim released or
     * replaced while we look sends us round again */
    for (int attempt = 0;; attempt++) {
        if (attempt == TAKE_ATTEMPTS) {
            rc = ts_fail(TS_ERUN, "%s: the claim changed %d times while we looked: is something else removing it?",
                         c->file, TAKE_ATTEMPTS);
            goto out_unlink;
        }
        if ((rc = link_claim(c)) == 0)
            break;
        if (rc < 0) {
            rc = fail_write(c, -rc);
            goto out_unlink;
        }
        if ((rc = clear_way(c, notice, sizeof notice)) < 0)
            goto out_unlink;
    }
    unlink(c->tmp); /* the claim's name holds it now */
    if (notice[0])
        warn(c, "%s", notice);
    sweep_leftovers(c);
    if ((rc = start_heartbeat(c))) {
        /* a claim without heartbeat would look dead to other hosts within the
         * timeout, and two writers would follow: give it up instead */
        unlink(c->file);
        goto out_free;
    }
    *out = c;
    return 0;
out_unlink:
    unlink(c->tmp);
out_free:
    free(c);
    return rc;
}

int claim_lost(claim_t *c)
{
    if (!c || !c->running)
        return c ? c->lost : 0;
    pthread_mutex_lock(&c->mu);
    int lost = c->lost;
    pthread_mutex_unlock(&c->mu);
    return lost;
}

int claim_release(claim_t *c)
{
    char buf[CLAIM_MAX_BYTES + 1], why[128];
    size_t len;
    claim_info_t ci;
    int rc = 0;
    if (!c)
        return 0;
    if (c->running) {
        pthread_mutex_lock(&c->mu);
        c->stop = 1;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
        pthread_join(c->thread, NULL);
        pthread_cond_destroy(&c->cv);
        pthread_mutex_destroy(&c->mu);
    }
    unlink(c->tmp);
    /* remove it only while it is ours: a taker's claim stays */
    if (!c->lost && read_claim(c->file, buf, &len) == READ_OK &&
        parse_claim(buf, len, &ci, why, sizeof why) == PARSE_OK && !strcmp(ci.token, c->token) &&
        unlink(c->file) != 0 && errno != ENOENT)
        rc = ts_fail(TS_ERUN, "%s: cannot remove the claim: %s (the next run will take it over)", c->file,
                     strerror(errno));
    free(c);
    return rc;
}
