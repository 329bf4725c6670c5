/*
 * test_config: the defaults are valid; the resolved text reads back to the
 * same configuration (and hash); errors carry file:line or the key; --set
 * overrides; config_diff names the keys that differ.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "err.h"

static int parse(config_t *c, const char *text)
{
    config_defaults(c);
    int rc = config_load_string(c, text, "job.ini");
    return rc ? rc : config_validate(c);
}

static void expect_error(const char *text, const char *fragment)
{
    config_t c;
    int rc = parse(&c, text);
    CHECK(rc == TS_EINPUT, "'%s' should fail", text);
    CHECK(strstr(ts_errmsg(), fragment) != NULL, "'%s': message '%s' lacks '%s'", text, ts_errmsg(), fragment);
}

/*
 * prune.criterion: each value reads as its PRUNE_* and writes back; the
 * default is magnitude; a criterion is part of the job (the hash, the diff);
 * a text from before the key (no criterion line) is the magnitude job.
 */
static void test_criterion(void)
{
    static const char *const names[PRUNE_N_CRITERIA] = {
        "magnitude", "magnitude_increase", "movement", "large_init_large_final", "large_init"};
    config_t a, b;
    char job[128], val[64], diff[512], h0[17], h1[17];
    config_defaults(&a);
    CHECK(a.criterion == PRUNE_MAGNITUDE, "default criterion %d", a.criterion);
    char *def = config_to_string(&a);
    CHECK(def && strstr(def, "\ncriterion = magnitude\n"), "the resolved text lists the criterion");
    config_hash(&a, h0);
    for (int i = 0; i < PRUNE_N_CRITERIA; i++) {
        snprintf(job, sizeof job, "[prune]\ncriterion = %s\n", names[i]);
        CHECK(parse(&a, job) == 0 && a.criterion == i, "%s reads as %d, not %d", names[i], i, a.criterion);
        /* the default job but for the criterion (a job text read by
           config_load_string would take the values of keys added later) */
        config_defaults(&a);
        snprintf(job, sizeof job, "prune.criterion=%s", names[i]);
        CHECK(config_set(&a, job) == 0 && a.criterion == i, "--set %s", job);
        config_value(&a, "prune.criterion", val, sizeof val);
        CHECK(!strcmp(val, names[i]), "%s writes back as %s", names[i], val);
        char *text = config_to_string(&a);
        CHECK(text && parse(&b, text) == 0 && b.criterion == i, "%s: round trip", names[i]);
        config_hash(&a, h1);
        CHECK(!strcmp(h0, h1) == (i == PRUNE_MAGNITUDE), "%s: hash %s, magnitude's %s", names[i], h1, h0);
        /* a text from before the key: its absence reads as magnitude */
        char *old = text ? strdup(def) : NULL, *cut = old ? strstr(old, "criterion = ") : NULL;
        if (cut)
            memmove(cut, strchr(cut, '\n') + 1, strlen(strchr(cut, '\n') + 1) + 1);
        int n = old ? config_diff(old, text, diff, sizeof diff) : -1;
        char want[128];
        snprintf(want, sizeof want, "prune.criterion (magnitude -> %s)", names[i]);
        CHECK(cut && (i == PRUNE_MAGNITUDE ? n == 0 : n == 1 && !strcmp(diff, want)),
              "%s against a text without the key: %d (%s)", names[i], n, diff);
        CHECK(old && parse(&b, old) == 0 && b.criterion == PRUNE_MAGNITUDE, "a text without the key reads as magnitude");
        free(old);
        free(text);
    }
    free(def);
    expect_error("[prune]\ncriterion = magnitud\n",
                 "job.ini:2: prune.criterion = 'magnitud' is not one of magnitude, magnitude_increase, movement, "
                 "large_init_large_final, large_init; did you mean 'magnitude'?");
    expect_error("[prune]\ncriterion = magnitude, movement\n", "job.ini:2: prune.criterion");
}

int main(int argc, char **argv)
{
    (void)argc;
    config_t a, b;
    config_defaults(&a);
    CHECK(config_validate(&a) == 0, "defaults valid: %s", ts_errmsg());
    CHECK(a.n_hidden == 2 && a.hidden[0] == 300 && a.hidden[1] == 100, "LeNet-300-100 default");
    CHECK(a.batch == 60 && a.lr == 0.0012 && a.optimizer == OPT_ADAM, "paper's Adam defaults");
    test_criterion();

    CHECK(parse(&a, "[sweep]\nrates = 0.2, 0.5\nseeds = 3\n[prune]\ncontrols = random, reinit\n") == 0, "parse: %s", ts_errmsg());
    CHECK(a.n_rates == 2 && a.rates[1] == 0.5 && a.n_seeds == 1 && a.seeds[0] == 3, "lists");
    CHECK(a.controls == (CTRL_REINIT | CTRL_RANDOM), "controls flags %d", a.controls);
    CHECK(!strcmp(config_where(&a, "sweep.rates"), "job.ini:2"), "where: %s", config_where(&a, "sweep.rates"));
    char *text = config_to_string(&a);
    CHECK(parse(&b, text) == 0, "resolved text parses: %s", ts_errmsg());
    char h1[17], h2[17];
    config_hash(&a, h1);
    config_hash(&b, h2);
    CHECK(!strcmp(h1, h2), "hash survives a round trip: %s %s", h1, h2);

    CHECK(config_set(&b, "train.lr=0.5") == 0 && b.lr == 0.5, "--set");
    CHECK(!strcmp(config_where(&b, "train.lr"), "--set train.lr"), "where of --set");
    char *text2 = config_to_string(&b), diff[512];
    CHECK(config_diff(text, text2, diff, sizeof diff) == 1 && strstr(diff, "train.lr (0.0012 -> 0.5)"), "diff: %s", diff);
    config_hash(&b, h2);
    CHECK(strcmp(h1, h2), "hash changes with a value");
    /* a text written before data.split and data.normalize existed: their
     * defaults are the old behaviour, so no difference; other values differ */
    char *old_text = strdup(text), *cut;
    while (old_text && ((cut = strstr(old_text, "split = ")) || (cut = strstr(old_text, "split_seed = ")) ||
                        (cut = strstr(old_text, "normalize = "))))
        memmove(cut, strchr(cut, '\n') + 1, strlen(strchr(cut, '\n') + 1) + 1);
    CHECK(old_text && !strstr(old_text, "split") && config_diff(old_text, text, diff, sizeof diff) == 0,
          "a key absent from the old text counts as its default: %s", diff);
    CHECK(config_set(&b, "data.split=random") == 0 && config_set(&b, "data.normalize=standard") == 0,
          "--set split, normalize");
    free(text2);
    text2 = config_to_string(&b);
    CHECK(old_text && config_diff(old_text, text2, diff, sizeof diff) == 3 &&
              strstr(diff, "data.split (last -> random)") && strstr(diff, "data.normalize (auto -> standard)"),
          "diff: %s", diff);
    free(old_text);
    free(text);
    free(text2);

    /* format = cifar10 reads no label files: the resolved text leaves them
     * out; a text that still lists them (files before that rule) is the same
     * job, and the text without them is the same job as before */
    config_defaults(&b);
    CHECK(config_set(&b, "data.format=cifar10") == 0, "--set format");
    text = config_to_string(&b);
    CHECK(text && !strstr(text, "train_labels") && !strstr(text, "test_labels") && strstr(text, "test_images"),
          "cifar10: no label paths in the resolved text");
    CHECK(text && parse(&a, text) == 0 && config_diff(text, text, diff, sizeof diff) == 0, "round trip");
    old_text = text ? malloc(strlen(text) + 256) : NULL;
    if (old_text) {
        char *v = strstr(text, "validation = ");
        snprintf(old_text, strlen(text) + 256, "%.*strain_labels = /x/a\ntest_labels = /x/b\n%s",
                 (int)(v - text), text, v);
    }
    CHECK(old_text && strstr(old_text, "train_labels = /x/a") && config_diff(old_text, text, diff, sizeof diff) == 0 &&
              config_diff(text, old_text, diff, sizeof diff) == 0,
          "labels listed by an older cifar10 text: no difference (%s)", diff);
    config_defaults(&a);
    text2 = config_to_string(&a);
    CHECK(text2 && strstr(text2, "train_labels = ") && strstr(text2, "test_labels = "), "idx keeps its label paths");
    free(old_text);
    free(text);
    free(text2);

    expect_error("[sweep]\nrates = 1.5\n", "job.ini:2: sweep.rates");
    expect_error("[sweep]\nrates = nan\n", "job.ini:2: sweep.rates");
    expect_error("[train]\nlr = inf\n", "not finite");
    expect_error("[train]\nlr = 0\n", "train.lr");
    expect_error("[train]\nbatch = ten\n", "job.ini:2: train.batch");
    expect_error("[train]\nbatch = 10\nbatch = 20\n", "job.ini:3: train.batch is set twice");
    expect_error("[trian]\nbatch = 10\n", "job.ini:2: unknown section [trian]");
    expect_error("[train]\nbatchsize = 10\n", "job.ini:2: unknown key 'batchsize'");
    /* misspelt names and values: the closest valid one is suggested */
    expect_error("[train]\niteration = 10\n", "job.ini:2: unknown key 'iteration' in [train]; did you mean 'iterations'?");
    expect_error("[pruning]\nscope = global\n", "unknown section [pruning]; did you mean [prune]?");
    expect_error("[prune]\nrates = 0.5\n", "unknown key 'rates' in [prune]; did you mean 'rates' in [sweep]?");
    expect_error("lr = 0.5\n", "'lr' comes before any [section]; it belongs in [train]");
    expect_error("[prune]\ncontrols = reinitialise\n",
                 "entry 'reinitialise' is not one of none, reinit, random, signed_reinit, reshuffle, signed_constant, snip, synflow, magnitude_init, grasp; did you mean 'reinit'?");
    expect_error("[train]\noptimizer = adamw\n", "is not one of adam, sgd; did you mean 'adam'?");
    expect_error("[model]\narch = lenet\n", "is not one of custom, lenet300, conv2, conv4, conv6; did you mean 'lenet300'?");
    config_t c;
    CHECK(parse(&c, "[model]\narch = conv5\n") == TS_EINPUT && !strstr(ts_errmsg(), "did you mean"),
          "a tie (conv2, conv4, conv6) suggests nothing: %s", ts_errmsg());
    CHECK(parse(&c, "[train]\nbogus = 1\n") == TS_EINPUT && !strstr(ts_errmsg(), "did you mean"),
          "nothing close, nothing suggested: %s", ts_errmsg());
    CHECK(parse(&c, "[train]\nbar = 1\n") == TS_EINPUT && !strstr(ts_errmsg(), "did you mean"),
          "'bar' is not 'lr': %s", ts_errmsg());
    config_defaults(&c);
    CHECK(config_set(&c, "train.iteration=5") == TS_EINPUT &&
          strstr(ts_errmsg(), "unknown key train.iteration; did you mean train.iterations?"), "--set: %s", ts_errmsg());
    CHECK(config_set(&c, "trian.lr=5") == TS_EINPUT && strstr(ts_errmsg(), "did you mean train.lr?"),
          "--set, section: %s", ts_errmsg());
    CHECK(config_set(&c, "prune.rates=0.5") == TS_EINPUT && strstr(ts_errmsg(), "did you mean sweep.rates?"),
          "--set, other section: %s", ts_errmsg());
    CHECK(config_set(&c, "foo.bar=5") == TS_EINPUT && !strstr(ts_errmsg(), "did you mean"),
          "--set, nothing close: %s", ts_errmsg());
    CHECK(ts_edit_distance("iteration", "iterations") == 1 && ts_edit_distance("trian", "train") == 1 &&
          ts_edit_distance("ADAM", "adam") == 0 && ts_edit_distance("", "abc") == 3 &&
          ts_edit_distance("kitten", "sitting") == 3, "edit distances");
    expect_error("[sweep]\nrounds = 0\n", "sweep.rounds");
    expect_error("[sweep]\nrounds = 255\n", "sweep.rounds");
    expect_error("[sweep]\nseeds = 1, 1\n", "lists 1 twice");
    expect_error("[sweep]\nseeds =\n", "sweep.seeds is empty");
    expect_error("[model]\nhidden = 300, 0\n", "model.hidden");
    expect_error("[train]\neval_every = 0\n", "train.eval_every");
    expect_error("[prune]\ncontrols = reinit, bogus\n", "bogus");
    expect_error("[sweep\nrates = 0.5\n", "job.ini:1: syntax error");
    expect_error("just text\n", "job.ini:1");
    CHECK(config_set(&a, "trainlr=1") == TS_EINPUT && strstr(ts_errmsg(), "section.key=value"), "malformed --set");
    CHECK(config_set(&a, "train.nope=1") == TS_EINPUT && strstr(ts_errmsg(), "unknown key"), "unknown --set key");
    CHECK(config_load(&a, "/nonexistent/job.ini") == TS_EINPUT && strstr(ts_errmsg(), "/nonexistent/job.ini"), "missing file");

    /* lines longer than libinih's default buffer (199 characters), indented
     * keys, comments: read the same whatever build of libinih links */
    {
        char *t = malloc(16384), *big = malloc(9000);
        size_t n = (size_t)sprintf(t, "  [sweep]\n   rates = ");
        for (int i = 1; i <= 60; i++)
            n += (size_t)sprintf(t + n, "%s0.%02d", i > 1 ? ", " : "", i);
        sprintf(t + n, " ; the rates %0300d\n\tseeds = 7\n[data]\ntrain_images = /%0400d/x.gz\n", 0, 0);
        CHECK(parse(&a, t) == 0, "a long line: %s", ts_errmsg());
        CHECK(a.n_rates == 60 && a.rates[0] == 0.01 && a.rates[59] == 0.60, "the long line's 60 rates: %d", a.n_rates);
        CHECK(a.n_seeds == 1 && a.seeds[0] == 7, "an indented key after a long line");
        CHECK(strlen(a.train_images) == 406 && !strcmp(config_where(&a, "data.train_images"), "job.ini:5"),
              "a 400-character path on line 5: %zu %s", strlen(a.train_images), config_where(&a, "data.train_images"));
        sprintf(t, "[sweep]\nrates = 0.1, x%0300d\n", 0);
        expect_error(t, "job.ini:2: sweep.rates = '0.1, x000");
        sprintf(t, "[sweep]\nrates = 0.1\nrates = 0.1, %0300d\n", 0);
        expect_error(t, "job.ini:3: sweep.rates is set twice (first on line 2)");
        sprintf(t, "[sweep]\nrates = 0.1, x%0300d\nbad line\n", 1);
        expect_error(t, "job.ini:2: sweep.rates = '0.1, x000");
        sprintf(t, "[sweep]\nnot a key\nrates = 0.1, x%0300d\n", 1);
        expect_error(t, "job.ini:2: syntax error");
        memset(big, '7', 8999);
        big[8998] = 0;
        snprintf(t, 16384, "[sweep]\nseeds = 1\nrates = %s\n", big);
        expect_error(t, "job.ini:3: line is too long (at most 8189 characters)");
        free(t);
        free(big);
    }

    return check_summary(argv[0]);
}
