/*
 * fuzz_config.c - libFuzzer harness for the job-file parser.
 *
 * Each input is INI text: config_load_string on top of the defaults, then
 * config_validate, as `ticketsweep run` does with a job file. What follows a
 * NUL byte, if anything, is applied before validation with config_set, like a
 * `--set` option. Beyond the sanitizers, it checks the contract the command
 * line relies on:
 *   - a refusal is TS_EINPUT with exactly one line of message that names the
 *     input ("fuzz.ini:N: ...", "--set ..." or the key's origin);
 *   - an accepted job prints (config_to_string) as a job file that loads and
 *     validates again, to the same text and the same hash, and config_diff of
 *     the text with itself is empty.
 * A violation aborts, so libFuzzer keeps the input as a crash.
 *
 * Built by `make fuzz`; tests/test_fuzz_regress.c replays the saved crashes
 * through fuzz_config_one() with the normal compiler.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "err.h"

#define FUZZ_NAME "fuzz.ini"

static void config_fuzz_abort(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_config: %s: [%s]\n", what, msg ? msg : "(null)");
    abort();
}

/* One message line that names where the fault is. */
static void check_message(const char *msg)
{
    if (!msg[0])
        config_fuzz_abort("refused without a message", msg);
    if (strchr(msg, '\n'))
        config_fuzz_abort("message spans more than one line", msg);
    if (strncmp(msg, FUZZ_NAME ":", strlen(FUZZ_NAME ":")) && strncmp(msg, "default: ", 9) &&
        strncmp(msg, "--set ", 6))
        config_fuzz_abort("message does not name the job file", msg);
}

/* Parse and validate one input of any bytes; abort on a broken contract. */
int fuzz_config_one(const uint8_t *data, size_t size);
int fuzz_config_one(const uint8_t *data, size_t size)
{
    static config_t cfg, again;
    char *text = malloc(size + 2);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = text[size + 1] = 0;
    const char *nul = memchr(text, 0, size);
    const char *assignment = nul && nul + 1 < text + size ? nul + 1 : NULL;

    config_defaults(&cfg);
    ts_fail(0, "%s", "");
    int rc = config_load_string(&cfg, text, FUZZ_NAME);
    if (!rc && assignment)
        rc = config_set(&cfg, assignment);
    if (!rc)
        rc = config_validate(&cfg);
    free(text);
    if (rc) {
        if (rc != TS_EINPUT)
            config_fuzz_abort("refused with a code other than TS_EINPUT", ts_errmsg());
        check_message(ts_errmsg());
        return 0;
    }

    /* Accepted: the resolved text is itself a valid job that resolves the same. */
    char *resolved = config_to_string(&cfg);
    if (!resolved)
        config_fuzz_abort("config_to_string failed", ts_errmsg());
    config_defaults(&again);
    if (config_load_string(&again, resolved, "resolved") || config_validate(&again))
        config_fuzz_abort("resolved text is refused", ts_errmsg());
    char *resolved2 = config_to_string(&again);
    if (!resolved2 || strcmp(resolved, resolved2))
        config_fuzz_abort("resolved text does not resolve to itself", resolved2);
    char h1[17], h2[17], diff[256];
    config_hash(&cfg, h1);
    config_hash(&again, h2);
    if (strcmp(h1, h2))
        config_fuzz_abort("hash changes on a round trip", h2);
    if (config_diff(resolved, resolved2, diff, sizeof diff) != 0)
        config_fuzz_abort("config_diff of equal texts is not empty", diff);
    free(resolved);
    free(resolved2);
    return 0;
}

#ifndef FUZZ_NO_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_config_one(data, size);
}
#endif
