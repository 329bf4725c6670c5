/*
 * config_keys.h - what config.c (the key table and the validation),
 * config_value.c (what a value of each type is) and config_ini.c (the job
 * as INI text) share, and nobody else sees. The public face is config.h.
 */
#ifndef TS_CONFIG_KEYS_H
#define TS_CONFIG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"

/* One row of the key table: a job-file key, where its value lives in
 * config_t, its default and its help. */
typedef enum {
    K_PATH, K_INT, K_I64, K_DOUBLE, K_INTLIST, K_I64LIST, K_DLIST, K_CHOICE, K_FLAGS,
    K_LAYERS /* ints or "pool" (CFG_POOL) */
} ktype_t;

typedef struct {
    const char *section, *name;
    ktype_t type;
    size_t off;       /* offset of the value in config_t */
    size_t count_off; /* lists: offset of the int count */
    const char *def;
    const char *choices; /* K_CHOICE / K_FLAGS: "a|b|c", index = value (flags: bit) */
    const char *help;
} key_t_;

#define F(field) offsetof(config_t, field)


extern const key_t_ config_keys[]; /* the table: one row per key, in job-file order */
extern const int config_n_keys;

/* Key (section, name)'s index in the table, or -1. */
int config_key_find(const char *section, const char *name);
/* 1 when some key has this section. */
int config_section_known(const char *section);
/* The known section closest to section, or NULL (points into sg). */
const char *config_section_suggest(ts_suggest_t *sg, const char *section);
/* The key meant by an unknown section.name, or -1 (see config.c). */
int config_key_suggest(const char *section, const char *name);
/* s without leading and trailing white space (trailing cut in place). */
char *config_trim(char *s);
/* Parse value into key k's field of cfg: NULL, or why it is not a value of
 * the key (why, wlen: room for a reason that names the value). */
const char *config_key_parse(const key_t_ *k, config_t *cfg, const char *value, char *why, size_t wlen);
/* "a, b, c" for the choices "a|b|c" of a key, into out. */
void config_choices_text(const char *choices, char *out, size_t len);
/* Key k's value in cfg, as the resolved text writes it. */
void config_key_format(const key_t_ *k, const config_t *cfg, char *out, size_t len);
/* The slot of source name in cfg->sources, added when new. */
uint8_t config_source_slot(config_t *cfg, const char *name);
/* After key k was set from `where`: model.arch's preset into model.conv and
 * model.hidden, or why the two conflict; NULL or a reason. */
const char *config_arch_apply(config_t *cfg, int k, config_pos_t where, char *why, size_t wlen);

#endif
