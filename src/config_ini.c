/*
 * config_ini.c - the job as INI text: a job file or a results file's
 * resolved text read through libinih (config_load, config_load_string),
 * --set, and the resolved text written, hashed and compared (config_diff).
 * What a key is and what its values are is config.c's (the key table).
 *
 * libinih's handler does not see line numbers, so we feed it lines through
 * ini_parse_stream with a reader that counts them.
 */
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_keys.h"
#include "err.h"

/* --- INI parsing with line numbers --- */

/*
 * libinih as its makers build it by default (Debian's, Spack's, a release
 * compiled as it comes) reads lines of at most 199 characters into a buffer
 * on the stack, takes an indented line for the continuation of the value
 * above (INI_ALLOW_MULTILINE), and goes on after an error. We set none of
 * its options: what we need of it we do around it, so any build of it reads
 * a job the same way.
 *
 * - The reader takes each line of the file (or text) whole, up to CFG_LINE
 *   bytes, and counts it; a longer line is refused by its number.
 * - It drops the line's indentation, which inih would otherwise read as a
 *   continuation: an indented key is a key, as always.
 * - A line longer than inih's buffer (num) is handed over in pieces: the
 *   first holds "key = " and the start of the value, each further piece is
 *   indented, so inih passes it to the handler as a continuation of the
 *   same key, and the handler joins the value again. A piece ends and
 *   starts beside characters that are not white space (inih trims pieces)
 *   nor a comment's ';' or '#'; an inline comment (" ;") is cut from a long
 *   line first, as inih cuts it from a short one.
 * - After the first error the handler records, the reader stops; inih's own
 *   syntax errors are told from the handler's by their line.
 */
#define CFG_LINE 8192 /* a line, its "\r\n" and the NUL */

typedef struct {
    config_t *cfg;
    const char *name; /* file name for messages */
    FILE *f;          /* file, or NULL when parsing text */
    const char *text; /* remaining text */
    int line;         /* lines of the file read so far */
    int too_long;     /* the line that does not fit CFG_LINE bytes, or 0 */
    int seen[CFG_MAX_KEYS]; /* the line each key was set on, 0: not yet */
    char buf[CFG_LINE];     /* the current line, indentation and line break dropped */
    size_t len, at;         /* its length; where the next piece starts (len: all handed over) */
    int fed;                /* lines handed to inih so far (pieces count one each) */
    int *first, n_first, cap_first; /* [n_first] inih's line number of each line's first piece */
    int oom;                /* the reader ran out of memory */
    int uncut;              /* a long line with nowhere to cut it, or 0 */
    int cont;               /* the piece being parsed continues the key above */
    int more;               /* pieces of the current line follow */
    char value[CFG_LINE];   /* a long line's value, joined */
    char section[256], key[256]; /* the long line's section and key */
    int msg_line;           /* the line p->msg is about (0: no message) */
    char msg[CFG_PATH + 256];
} parse_t;

/* The next line of the file or text into p->buf (without its indentation and
 * trailing white space); 0 at the end, or for a line that does not fit. */
static int next_line(parse_t *p)
{
    char *s = p->buf;
    int more;
    if (p->f) {
        if (!fgets(s, CFG_LINE, p->f))
            return 0;
        int c = getc(p->f);
        if (c != EOF)
            ungetc(c, p->f);
        more = c != EOF;
    } else {
        if (!*p->text)
            return 0;
        const char *nl = strchr(p->text, '\n');
        size_t len = nl ? (size_t)(nl - p->text + 1) : strlen(p->text);
        if (len > CFG_LINE - 1)
            len = CFG_LINE - 1;
        memcpy(s, p->text, len);
        s[len] = 0;
        p->text += len;
        more = *p->text != 0;
    }
    size_t len = strlen(s);
    p->line++;
    if (len > 0 && len == CFG_LINE - 1 && s[len - 1] != '\n' && more) {
        p->too_long = p->line;
        return 0;
    }
    size_t lead = strspn(s, " \t\f\v\r\n");
    memmove(s, s + lead, len - lead + 1);
    len -= lead;
    while (len > 0 && isspace((unsigned char)s[len - 1]))
        s[--len] = 0;
    p->len = len;
    p->at = 0;
    p->more = 0;
    return 1;
}

/* A piece may end before s[i]: it ends and the next starts beside characters
 * that are neither white space nor a comment's start. */
static int can_cut(const char *s, size_t i)
{
    return !isspace((unsigned char)s[i - 1]) && !isspace((unsigned char)s[i]) && s[i] != ';' && s[i] != '#';
}

/* Where a piece of p->buf from `from`, at most room bytes and more than
 * min, ends when the rest does not fit; 0: nowhere. */
static size_t cut_at(const parse_t *p, size_t from, size_t room, size_t min)
{
    for (size_t i = from + room; i > from + min; i--)
        if (can_cut(p->buf, i))
            return i;
    return 0;
}

/*
 * A long line, made ready to be cut: its inline comment dropped (what inih
 * would drop: from a ';' after white space in the value); the end of
 * "key =" in *sep. A section header or a key name too long for a piece is
 * cut short (inih keeps 49 bytes of a section's name; messages quote 64 of
 * a key's): the error about it reads as before. 0 when it is no key =
 * value (a comment, a syntax error): inih then sees the line's start only.
 */
static int prepare_long(parse_t *p, size_t room, size_t *sep)
{
    char *s = p->buf;
    size_t eq = strcspn(s, "=:"), keep = room - 8;
    if (*s == '[') {
        char *close = strchr(s, ']');
        if (!close || (size_t)(close - s) < keep)
            return 0;
        s[keep + 1] = ']'; /* "[" and keep bytes of the name */
        s[p->len = keep + 2] = 0;
        *sep = p->len;
        return 1;
    }
    if (*s == ';' || *s == '#' || !s[eq])
        return 0;
    if (eq + 1 >= keep) { /* no key of ours: let the handler say so */
        memcpy(s + keep, " =", 3);
        *sep = p->len = keep + 2;
        return 1;
    }
    for (size_t i = eq + 1; s[i]; i++)
        if (s[i] == ';' && isspace((unsigned char)s[i - 1])) {
            p->len = i;
            break;
        }
    while (p->len > 0 && isspace((unsigned char)s[p->len - 1]))
        p->len--;
    s[p->len] = 0;
    *sep = eq + 1;
    return 1;
}

/* inih's reader: the next piece of a line (see above) into str (num bytes). */
static char *reader(char *str, int num, void *stream)
{
    parse_t *p = stream;
    size_t room = num > 3 ? (size_t)num - 3 : 0; /* a piece, a leading space, "\n", NUL */
    if (p->msg_line || (!p->more && !next_line(p)))
        return NULL;
    p->cont = p->at > 0;
    size_t end, sep = 0;
    int rest = 1; /* hand the rest of the line over too */
    if (!p->cont && p->len > room + 1 && !prepare_long(p, room, &sep))
        end = room + 1, rest = 0; /* no key = value to cut: inih sees its start (a comment, a syntax error) */
    else if (p->len - p->at <= (p->cont ? room : room + 1))
        end = p->len;
    else if (!(end = cut_at(p, p->at, p->cont ? room : room + 1, p->cont ? 0 : sep))) {
        p->uncut = p->line; /* white space or ';' all along a piece: nowhere to cut */
        return NULL;
    }
    snprintf(str, (size_t)num, "%s%.*s\n", p->cont ? " " : "", (int)(end - p->at), p->buf + p->at);
    if (!p->cont) {
        if (p->n_first == p->cap_first) {
            int cap = p->cap_first ? 2 * p->cap_first : 64, *f = realloc(p->first, (size_t)cap * sizeof *f);
            if (!f) {
                p->oom = 1;
                return NULL;
            }
            p->first = f;
            p->cap_first = cap;
        }
        p->first[p->n_first++] = p->fed + 1;
    }
    p->fed++;
    p->at = end;
    p->more = rest && end < p->len;
    return str;
}

/* The line of the file that inih's line number n is (a piece of). */
static int file_line(const parse_t *p, int n)
{
    int i = 0;
    while (i < p->n_first && p->first[i] <= n)
        i++;
    return i;
}

/* The message for a key the table does not have, with what was likely meant. */
static void unknown_key(parse_t *p, const char *section, const char *name)
{
    ts_suggest_t sg;
    const char *near;
    int k;
    if (!*section) {
        for (k = config_n_keys - 1; k >= 0 && strcmp(config_keys[k].name, name); k--)
            ;
        snprintf(p->msg, sizeof p->msg, "%s:%d: '%.64s' comes before any [section]%s%s%s", p->name,
                 p->line, name, k >= 0 ? "; it belongs in [" : "", k >= 0 ? config_keys[k].section : "",
                 k >= 0 ? "]" : "");
    } else if (!config_section_known(section)) {
        near = config_section_suggest(&sg, section);
        snprintf(p->msg, sizeof p->msg, "%s:%d: unknown section [%.64s]%s%s%s", p->name, p->line, section,
                 near ? "; did you mean [" : "", near ? near : "", near ? "]?" : "");
    } else if ((k = config_key_suggest(section, name)) >= 0 && strcmp(config_keys[k].section, section)) {
        snprintf(p->msg, sizeof p->msg, "%s:%d: unknown key '%.64s' in [%s]; did you mean '%s' in [%s]?",
                 p->name, p->line, name, section, config_keys[k].name, config_keys[k].section);
    } else {
        snprintf(p->msg, sizeof p->msg, "%s:%d: unknown key '%.64s' in [%s]%s%s%s", p->name, p->line, name,
                 section, k >= 0 ? "; did you mean '" : "", k >= 0 ? config_keys[k].name : "", k >= 0 ? "'?" : "");
    }
}

/* Set key (section, name) of the current line to value: 1, or 0 with the
 * message in p->msg. */
static int set_key(parse_t *p, const char *section, const char *name, const char *value)
{
    char why[256];
    int k = config_key_find(section, name);
    if (k < 0) {
        unknown_key(p, section, name);
        return 0;
    }
    if (p->seen[k]) {
        snprintf(p->msg, sizeof p->msg, "%s:%d: %s.%s is set twice (first on line %d)", p->name,
                 p->line, section, name, p->seen[k]);
        return 0;
    }
    p->seen[k] = p->line;
    config_pos_t where = {.from = CFG_FROM_FILE, .line = p->line, .source = config_source_slot(p->cfg, p->name)};
    const char *err = config_key_parse(&config_keys[k], p->cfg, value, why, sizeof why);
    if (!err)
        err = config_arch_apply(p->cfg, k, where, why, sizeof why);
    if (err) {
        /* quote at most 100 characters of the value: the reason must fit the message */
        snprintf(p->msg, sizeof p->msg, "%s:%d: %s.%s = '%.100s%s' %s", p->name, p->line, section,
                 name, value, strlen(value) > 100 ? "..." : "", err);
        return 0;
    }
    p->cfg->where[k] = where;
    return 1;
}

/* inih's handler: a key of a line, or a piece of a long line's value. */
static int handler(void *user, const char *section, const char *name, const char *value)
{
    parse_t *p = user;
    int ok = 1;
    if (!name) /* a section header alone (inih built to say so) */
        return 1;
    value = value ? value : "";
    if (p->cont) { /* the value of the key above goes on */
        size_t n = strlen(p->value);
        snprintf(p->value + n, sizeof p->value - n, "%s", value);
        if (!p->more)
            ok = set_key(p, p->section, p->key, p->value);
    } else if (p->more) { /* the first piece of a long line */
        snprintf(p->section, sizeof p->section, "%s", section);
        snprintf(p->key, sizeof p->key, "%s", name);
        snprintf(p->value, sizeof p->value, "%s", value);
    } else {
        ok = set_key(p, section, name, value);
    }
    if (!ok)
        p->msg_line = p->line;
    return ok;
}

static int parse_common(parse_t *p)
{
    int rc = ini_parse_stream(reader, p, handler, p), line = rc > 0 ? file_line(p, rc) : 0;
    free(p->first);
    p->first = NULL;
    if (p->oom || rc == -2)
        return ts_fail(TS_ERUN, "%s: out of memory while parsing", p->name);
    if (p->too_long)
        return ts_fail(TS_EINPUT, "%s:%d: line is too long (at most %d characters)", p->name,
                       p->too_long, CFG_LINE - 3);
    if (p->uncut)
        return ts_fail(TS_EINPUT, "%s:%d: a value holds a long run of white space or ';' characters: "
                       "no place to break the line for libinih", p->name, p->uncut);
    if (rc == 0)
        return 0;
    /* the first error of the file: the handler's, or inih's on an earlier line */
    if (p->msg_line && (rc < 0 || line >= p->msg_line))
        return ts_fail(TS_EINPUT, "%s", p->msg);
    return ts_fail(TS_EINPUT, "%s:%d: syntax error (expected [section] or key = value)", p->name, line);
}

int config_load(config_t *cfg, const char *path)
{
    parse_t p = {.cfg = cfg, .name = path};
    p.f = fopen(path, "r");
    if (!p.f)
        return ts_fail(TS_EINPUT, "%s: cannot open job file: %s", path, strerror(errno));
    int rc = parse_common(&p);
    fclose(p.f);
    return rc;
}

static int lookup(const char *text, const char *section, const char *name, char *val, size_t len);

/* A resolved text that rewinds (prune.rewind_iteration present and not 0). */
static int text_rewinds(const char *text)
{
    char v[64];
    return lookup(text, "prune", "rewind_iteration", v, sizeof v) && strcmp(v, "0");
}

/*
 * A key added after results files existed whose default is not what those
 * files' runs did: the value they had in effect, so that such a file reads as
 * made with it and compares equal to a job that sets it (a resume carries on
 * as it was made). `applies`, when set, limits that to the texts where the
 * old behaviour differs from the default's: elsewhere the key reads as its
 * default, which computes the same. A new key whose default keeps the old
 * behaviour needs no entry: an absent key reads as its default (config_diff).
 */
static const struct {
    const char *section, *name, *value;
    int (*applies)(const char *text);
} added_keys[] = {
    {"train", "kernels", "dense", NULL}, /* every product was dense before train.kernels */
    {"train", "chunks", "1", NULL},       /* every batch was one piece before train.chunks */
    /* rewinding files trained every round the full iterations from step 0's
     * data order; without rewinding both schedules are one */
    {"prune", "rewind_schedule", "restart", text_rewinds},
};

/* The value key k had in a resolved text written before it existed, or NULL
 * when that is its default. */
static const char *absent_value(const key_t_ *k, const char *text)
{
    for (size_t i = 0; i < sizeof added_keys / sizeof added_keys[0]; i++)
        if (!strcmp(added_keys[i].section, k->section) && !strcmp(added_keys[i].name, k->name))
            return !added_keys[i].applies || added_keys[i].applies(text) ? added_keys[i].value : NULL;
    return NULL;
}

int config_load_string(config_t *cfg, const char *text, const char *name)
{
    parse_t p = {.cfg = cfg, .name = name, .text = text};
    int rc = parse_common(&p);
    /* a results file made before a key existed ran as its absent value says */
    for (size_t i = 0; !rc && i < sizeof added_keys / sizeof added_keys[0]; i++) {
        char val[64], why[256];
        int k = config_key_find(added_keys[i].section, added_keys[i].name);
        if (k >= 0 && !lookup(text, config_keys[k].section, config_keys[k].name, val, sizeof val) &&
            (!added_keys[i].applies || added_keys[i].applies(text)) &&
            config_key_parse(&config_keys[k], cfg, added_keys[i].value, why, sizeof why))
            rc = ts_fail(TS_ERUN, "%s: %s.%s = %s: %s", name, config_keys[k].section, config_keys[k].name,
                         added_keys[i].value, why);
    }
    return rc;
}

int config_set(config_t *cfg, const char *assignment)
{
    char section[64], name[64], why[256];
    /* messages quote the assignment: it must not break them in two */
    if (strpbrk(assignment, "\r\n"))
        return ts_fail(TS_EINPUT, "--set '%.*s...': contains a line break",
                       (int)strcspn(assignment, "\r\n"), assignment);
    const char *dot = strchr(assignment, '.');
    const char *eq = strchr(assignment, '=');
    if (!dot || !eq || dot > eq || dot == assignment || eq == dot + 1 ||
        (size_t)(dot - assignment) >= sizeof section || (size_t)(eq - dot - 1) >= sizeof name)
        return ts_fail(TS_EINPUT, "--set '%s': expected section.key=value", assignment);
    snprintf(section, sizeof section, "%.*s", (int)(dot - assignment), assignment);
    snprintf(name, sizeof name, "%.*s", (int)(eq - dot - 1), dot + 1);
    char *s = config_trim(section), *n = config_trim(name);
    int k = config_key_find(s, n);
    if (k < 0) {
        int near = config_key_suggest(s, n);
        return ts_fail(TS_EINPUT, "--set '%s': unknown key %s.%s%s%s%s%s%s", assignment, s, n,
                       near >= 0 ? "; did you mean " : "", near >= 0 ? config_keys[near].section : "",
                       near >= 0 ? "." : "", near >= 0 ? config_keys[near].name : "", near >= 0 ? "?" : "");
    }
    config_pos_t where = {.from = CFG_FROM_SET};
    const char *err = config_key_parse(&config_keys[k], cfg, eq + 1, why, sizeof why);
    if (!err)
        err = config_arch_apply(cfg, k, where, why, sizeof why);
    if (err)
        return ts_fail(TS_EINPUT, "--set %s.%s = '%s' %s", s, n, eq + 1, err);
    cfg->where[k] = where;
    return 0;
}

/* --- resolved text, hash, diff, help --- */

/* The label files are not read when format = cifar10 (the batches hold the
 * labels): the resolved text leaves them out rather than show paths that
 * were never opened. is_cifar: that text's or config's format. */
static int key_unused(int k, int is_cifar)
{
    return is_cifar && (config_keys[k].off == F(train_labels) || config_keys[k].off == F(test_labels));
}

static int text_is_cifar(const char *text);

char *config_to_string(const config_t *cfg)
{
    size_t cap = 1 << 16, used = 0;
    char *out = ts_malloc(cap);
    char val[CFG_PATH * 2];
    const char *section = "";
    if (!out)
        return NULL;
    out[0] = 0;
    for (int i = 0; i < config_n_keys; i++) {
        if (config_keys[i].off == F(arch)) /* expanded into conv and hidden */
            continue;
        if (key_unused(i, cfg->format == FORMAT_CIFAR10))
            continue;
        config_key_format(&config_keys[i], cfg, val, sizeof val);
        if (strcmp(section, config_keys[i].section)) {
            section = config_keys[i].section;
            used += snprintf(out + used, cap - used, "%s[%s]\n", i ? "\n" : "", section);
        }
        used += snprintf(out + used, cap - used, "%s = %s\n", config_keys[i].name, val);
        if (used >= cap) {
            free(out);
            ts_fail(TS_ERUN, "resolved configuration is too long");
            return NULL;
        }
    }
    return out;
}

void config_hash(const config_t *cfg, char out[17])
{
    char *text = config_to_string(cfg);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const char *c = text ? text : ""; *c; c++)
        h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
    free(text);
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

/* Find "name = value" of key k inside section in resolved text; copies value. */
static int lookup(const char *text, const char *section, const char *name, char *val, size_t len)
{
    char cur[64] = "";
    const char *line = text;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t l = nl ? (size_t)(nl - line) : strlen(line);
        if (line[0] == '[' && l > 2 && l < sizeof cur)
            snprintf(cur, sizeof cur, "%.*s", (int)(l - 2), line + 1);
        else if (!strcmp(cur, section)) {
            size_t nlen = strlen(name);
            if (l > nlen + 3 && !strncmp(line, name, nlen) && !strncmp(line + nlen, " = ", 3)) {
                snprintf(val, len, "%.*s", (int)(l - nlen - 3), line + nlen + 3);
                return 1;
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return 0;
}

static int text_is_cifar(const char *text)
{
    char v[32];
    return lookup(text, "data", "format", v, sizeof v) && !strcmp(v, "cifar10");
}

/*
 * The canonical text of key k's default into out. A resolved text written
 * before key k existed ran as its default runs (a new key's default keeps the
 * old behaviour), so such a text is read as holding the default.
 */
static int key_default_text(int k, char *out, size_t len)
{
    char why[256];
    config_t *d = ts_malloc(sizeof *d);
    if (!d)
        return 0;
    memset(d, 0, sizeof *d);
    int ok = !config_key_parse(&config_keys[k], d, config_keys[k].def, why, sizeof why);
    if (ok)
        config_key_format(&config_keys[k], d, out, len);
    free(d);
    return ok;
}

int config_diff(const char *old_text, const char *new_text, char *buf, size_t len)
{
    char a[CFG_PATH * 2], b[CFG_PATH * 2];
    size_t used = 0;
    int n = 0;
    buf[0] = 0;
    for (int i = 0; i < config_n_keys; i++) {
        int ha = lookup(old_text, config_keys[i].section, config_keys[i].name, a, sizeof a);
        int hb = lookup(new_text, config_keys[i].section, config_keys[i].name, b, sizeof b);
        /* a key one side leaves out as unused (files before that rule list it) */
        if ((!ha && key_unused(i, text_is_cifar(old_text))) ||
            (!hb && key_unused(i, text_is_cifar(new_text))))
            continue;
        if (!ha && hb && absent_value(&config_keys[i], old_text))
            ha = snprintf(a, sizeof a, "%s", absent_value(&config_keys[i], old_text)) > 0;
        else if (!ha && hb)
            ha = key_default_text(i, a, sizeof a);
        if (!ha)
            snprintf(a, sizeof a, "(absent)");
        if (!hb)
            snprintf(b, sizeof b, "(absent)");
        if (strcmp(a, b)) {
            if (used < len)
                used += snprintf(buf + used, len - used, "%s%s.%s (%s -> %s)", n ? ", " : "",
                                 config_keys[i].section, config_keys[i].name, a, b);
            n++;
        }
    }
    return n;
}
