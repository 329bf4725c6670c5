/*
 * fuzz_store.c - libFuzzer harness for the results-file reader (store.c).
 *
 * Each input is a whole file, written into a temporary file (in TMPDIR, else
 * on /dev/shm where there is one: HDF5 resolves a path's symbolic links, so
 * the /proc/self/fd/N of fuzz_memfd.h will not do; a crash leaves it there),
 * and read the way `ticketsweep status` reads it (src/main.c
 * cmd_status) and `merge` and `--resume` read their inputs: store_peek, the
 * job's layer table and trainings, store_open (read-only, MPI_COMM_SELF),
 * then every trial and node status, the rows and ledger of every trial that
 * is not pending, the provenance, the mask history of every training done and
 * the rewind point of every seed. Beyond the sanitizers, it checks:
 *   - a refusal is TS_EINPUT or TS_ERUN with a one-line message; store_peek's
 *     names the file;
 *   - an accepted file gives a hash of at most 16 characters, an input shape
 *     of 1 to 3 channels and positive sizes, NUL-terminated strings (ledger,
 *     error) and statuses STATUS_*;
 *   - accepted or refused, every file, dataset, group and attribute the
 *     reader opened is closed (a file left open would be read again, stale,
 *     by the next open of it).
 * A violation aborts, so libFuzzer keeps the input as a crash.
 *
 * Jobs too large for a small input are skipped, not read: the store allocates
 * every dataset in full when it creates a file, so a job whose trials or
 * layers go past the caps below cannot be held by the fuzzer's inputs, and
 * reading one would only make the harness run out of memory in graph_plan or
 * trial_result_create, before the file is looked at.
 *
 * MPI: store_open takes a communicator, so MPI is initialised first
 * (LLVMFuzzerInitialize, or the first input of a replay; finalised at exit);
 * the reads themselves make no MPI call. Leaks are not checked (see
 * __lsan_default_options).
 *
 * Built by `make fuzz-bin` with store.c compiled for it (Makefile, "Fuzzing");
 * tests/test_fuzz_regress.c replays saved inputs through fuzz_store_one()
 * with the normal compiler.
 */
#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "data.h"
#include "err.h"
#include "graph.h"
#include "grid.h"
#include "net.h"
#include "store.h"
#include "trial.h"

#define STORE_FUZZ_MAX_CELL_ROWS 4096  /* trials x (largest round count + 1) */
#define STORE_FUZZ_MAX_EVALS 4096      /* evaluations of a round */
#define STORE_FUZZ_MAX_PARAMS (1 << 22)

static void store_fuzz_abort(const char *what, const char *msg)
{
    fprintf(stderr, "fuzz_store: %s: [%s]\n", what, msg ? msg : "(null)");
    abort();
}

/* A refusal: rc is TS_EINPUT or TS_ERUN with a non-empty message of one line
 * (naming path when path is not NULL). Returns rc. */
static int store_fuzz_refused(int rc, const char *path)
{
    const char *msg = ts_errmsg();
    if (getenv("FUZZ_STORE_VERBOSE")) /* what the reader said, to see how far an input gets */
        fprintf(stderr, "fuzz_store: refused (%d): %s\n", rc, msg);
    if (rc != TS_EINPUT && rc != TS_ERUN)
        store_fuzz_abort("refused with a code other than TS_EINPUT or TS_ERUN", msg);
    if (!msg[0] || strchr(msg, '\n'))
        store_fuzz_abort("refused without a message of one line", msg);
    if (path && (strncmp(msg, path, strlen(path)) || msg[strlen(path)] != ':'))
        store_fuzz_abort("message does not name the file", msg);
    return rc;
}

static void store_fuzz_mpi_finalize(void)
{
    int done = 0;
    MPI_Finalized(&done);
    if (!done)
        MPI_Finalize();
}

/* MPI, once per process: store_open calls MPI_Comm_rank on its communicator. */
static void store_fuzz_mpi_init(void)
{
    int inited = 0;
    MPI_Initialized(&inited);
    if (inited)
        return;
    /* plugins stay loaded, so that leak reports name them (the suppressions) */
    setenv("OMPI_MCA_mca_base_component_disable_dlclose", "1", 0);
    setenv("PMIX_MCA_mca_base_component_disable_dlclose", "1", 0);
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS)
        store_fuzz_abort("MPI_Init failed", "");
    atexit(store_fuzz_mpi_finalize);
}

static char store_fuzz_path[4096];

static void store_fuzz_remove(void)
{
    unlink(store_fuzz_path);
}

/* Make the temporary file hold exactly data[0..size) and return its path (the
 * same all along; removed at a normal exit). A failure aborts: the harness
 * cannot run. */
static const char *store_fuzz_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0) {
        const char *dir = getenv("TMPDIR");
        if (!dir || !*dir || strlen(dir) > sizeof store_fuzz_path - 20)
            dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(store_fuzz_path, sizeof store_fuzz_path, "%s/fuzz_store.XXXXXX", dir);
        fd = mkstemp(store_fuzz_path);
        if (fd < 0) {
            perror(store_fuzz_path);
            abort();
        }
        atexit(store_fuzz_remove);
    }
    if (ftruncate(fd, 0) || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) {
        perror(store_fuzz_path);
        abort();
    }
    return store_fuzz_path;
}

/* A job small enough for the inputs (see the head comment). */
static int store_fuzz_small_job(const config_t *cfg)
{
    long long rows = (long long)grid_size(cfg) * (grid_max_rounds(cfg) + 1);
    return rows > 0 && rows <= STORE_FUZZ_MAX_CELL_ROWS && trial_eval_count(cfg) <= STORE_FUZZ_MAX_EVALS;
}

/* What is left of an accepted trial read: its strings end within their buffers. */
static void store_fuzz_check_trial(const trial_result_t *res, const char *host, const char *err)
{
    if (!memchr(res->error, 0, sizeof res->error) || !memchr(host, 0, 64) || !memchr(err, 0, 160))
        store_fuzz_abort("a string read from the file is not terminated", "");
    if (res->status < STATUS_PENDING || res->status > STATUS_FAILED)
        store_fuzz_abort("a trial status outside STATUS_*", "");
}

/* Read everything status, merge and resume read from an open file s. */
static int store_fuzz_read(store_t *s, const config_t *cfg, const net_t *net, const graph_t *g,
                           trial_result_t *res)
{
    int T = grid_size(cfg), rc = 0;
    int8_t *st = calloc((size_t)T + 1, 1), *nst = calloc((size_t)g->N + 1, 1);
    double *nwall = calloc((size_t)g->N + 1, sizeof *nwall);
    uint8_t *counts = malloc(net->n_weights + 1);
    float *rewind = malloc(net->n_params * sizeof(float) + 1);
    char host[64], err[160], mix[1024];
    if (!st || !nst || !nwall || !counts || !rewind) {
        rc = ts_fail(TS_ERUN, "out of memory");
        goto out_free;
    }
    if ((rc = store_read_status(s, st)) || (rc = store_read_nodes(s, nst, nwall)))
        goto out_free;
    for (int t = 0; t < T; t++) {
        double wall;
        int rank;
        if (st[t] == STATUS_PENDING)
            continue;
        trial_result_clear(res);
        if ((rc = store_read_trial(s, t, res)) || (rc = store_read_ledger(s, t, &wall, &rank, host, err)))
            goto out_free;
        store_fuzz_check_trial(res, host, err);
    }
    if ((rc = store_numerics(s, g->N, nst, mix, sizeof mix)) < 0)
        goto out_free;
    if (!memchr(mix, 0, sizeof mix))
        store_fuzz_abort("the numerics line is not terminated", "");
    rc = 0;
    for (int x = 0; x < g->N; x++)
        if (nst[x] == STATUS_DONE && graph_arm_mask(g->nodes[x].arm) != ARM_MASK_TWIN &&
            (rc = store_read_counts(s, x, counts)))
            goto out_free;
    for (int si = 0; cfg->rewind_iteration > 0 && si < cfg->n_seeds; si++)
        if ((rc = store_read_rewind(s, si, rewind)))
            goto out_free;
out_free:
    free(st);
    free(nst);
    free(nwall);
    free(counts);
    free(rewind);
    return rc;
}

/* Read one input as a results file, as status does; abort on a broken contract. */
int fuzz_store_one(const uint8_t *data, size_t size);
int fuzz_store_one(const uint8_t *data, size_t size)
{
    store_fuzz_mpi_init();
    const char *path = store_fuzz_file(data, size);
    config_t *cfg = calloc(1, sizeof *cfg);
    net_t layout = {0};
    graph_t g = {0};
    trial_result_t res = {0};
    store_t *s = NULL;
    int shape[3], shared = -1, rc;
    char hash[17];
    if (!cfg)
        return 0;
    ts_fail(0, "%s", "");
    if ((rc = store_peek(path, cfg, shape, hash, &shared))) {
        store_fuzz_refused(rc, path);
        goto out;
    }
    if (strlen(hash) > 16 || shape[0] < 1 || shape[0] > DATA_MAX_CHANNELS || shape[1] < 1 || shape[2] < 1)
        store_fuzz_abort("accepted a hash or an input shape out of range", path);
    if (!store_fuzz_small_job(cfg))
        goto out;
    if ((rc = net_layout(&layout, cfg, shape[0], shape[1], shape[2], DATA_CLASSES))) {
        store_fuzz_refused(rc, NULL);
        goto out;
    }
    if (layout.n_params > STORE_FUZZ_MAX_PARAMS)
        goto out;
    if ((rc = graph_plan(&g, cfg, &layout, shared)) || (rc = trial_result_create(&res, cfg, &layout)) ||
        (rc = store_open(&s, path, MPI_COMM_SELF, cfg, &layout, &g, 1))) {
        store_fuzz_refused(rc, NULL);
        goto out;
    }
    if ((rc = store_fuzz_read(s, cfg, &layout, &g, &res)))
        store_fuzz_refused(rc, NULL);
    if ((rc = store_close(s)))
        store_fuzz_refused(rc, NULL);
out:
    trial_result_free(&res);
    graph_free(&g);
    net_free(&layout);
    free(cfg);
    /* (not datatypes: store.c keeps its string types for the process) */
    if (H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE | H5F_OBJ_DATASET | H5F_OBJ_GROUP | H5F_OBJ_ATTR) != 0) {
        char what[128];
        snprintf(what, sizeof what, "files %ld, datasets %ld, groups %ld, types %ld, attributes %ld",
                 (long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE),
                 (long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_DATASET),
                 (long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_GROUP),
                 (long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_DATATYPE),
                 (long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ATTR));
        store_fuzz_abort("HDF5 objects are left open", what);
    }
    return 0;
}

#ifndef FUZZ_NO_MAIN
/* Open MPI, PMIx and hwloc keep allocations until exit (tests/bad/lsan.supp). */
/* No leak checking: after MPI_Init, Open MPI's threads allocate while inputs
 * run, from plugins LeakSanitizer cannot name (so no suppression matches),
 * and HDF5 keeps what it frees in free lists. A handle the reader fails to
 * close shows another way: HDF5 then keeps the file open and the next input
 * reads the old one (see store_open). */
const char *__lsan_default_options(void);
const char *__lsan_default_options(void)
{
    return "detect_leaks=0";
}

/* HDF5 asks malloc for the sizes a damaged file's metadata says, some of them
 * absurd (H5C_protect); in a real run malloc returns NULL and HDF5 fails the
 * call, so it does here. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libmpi.so\nleak:libopen-pal.so\nleak:libopen-rte.so\nleak:libhwloc.so\n"
           "leak:libpmix.so\nleak:libevent\nleak:mca_\n";
}

/* MPI before the first input: libFuzzer counts an input's allocations, and
 * those of MPI_Init, kept until exit, are no leak of the reader's. */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    store_fuzz_mpi_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_store_one(data, size);
}
#endif
