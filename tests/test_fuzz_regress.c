/*
 * test_fuzz_regress.c - replay the fuzzers' saved inputs with the normal compiler.
 *
 * Every file in tests/fuzz/regress_config/ and tests/fuzz/corpus_config/ goes
 * through fuzz_config_one(), every file in tests/fuzz/regress_idx/ and
 * tests/fuzz/corpus_idx/ through fuzz_idx_one(), every file in
 * tests/fuzz/corpus_cifar/ (and regress_cifar/, once the fuzzer breaks on
 * something) through fuzz_cifar_one(), every file in tests/fuzz/regress_store/
 * and tests/fuzz/corpus_store/ through fuzz_store_one() (each child
 * initialises MPI for itself): the same entry points and contract
 * checks the libFuzzer harnesses use (`make fuzz`). Each input runs
 * in a child process, so a crash or a broken contract (the harness aborts)
 * names its file and the others still run. Under `make DEBUG=1` the children
 * run with the sanitizers, like the fuzzers; without them, a child may map
 * only 1 GiB more than the parent, as libFuzzer's malloc limit would allow.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

#define FUZZ_NO_MAIN
#include "fuzz/fuzz_cifar.c"
#include "fuzz/fuzz_config.c"
#include "fuzz/fuzz_idx.c"
#include "fuzz/fuzz_store.c"

typedef int (*entry_fn)(const uint8_t *data, size_t size);

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* Without ASan (which reserves terabytes of address space), cap the child's
 * address space at what it has now plus 1 GiB. */
static void limit_memory(void)
{
#ifndef UNDER_ASAN
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%lu", &pages) == 1) {
        rlim_t cap = (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE) + ((rlim_t)1 << 30);
        struct rlimit rl = {cap, cap};
        setrlimit(RLIMIT_AS, &rl);
    }
    if (f)
        fclose(f);
#endif
}

/* Read a whole file into a malloc'd block; NULL on failure. */
static uint8_t *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long len;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)len + 1);
        if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) {
            free(buf);
            buf = NULL;
        }
        *size = (size_t)len;
    }
    fclose(f);
    return buf;
}

/* Run fn on path in a child; 1 when it returned normally. */
static int replay(entry_fn fn, const char *path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return 0;
    if (pid == 0) {
        size_t size = 0;
        limit_memory();
        uint8_t *data = slurp(path, &size);
        if (!data) {
            perror(path);
            _exit(3);
        }
        fn(data, size);
        free(data);
        exit(0); /* not _exit: under ASan, LeakSanitizer checks the child at exit */
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return 0;
    if (WIFSIGNALED(status))
        fprintf(stderr, "  %s: killed by signal %d\n", path, WTERMSIG(status));
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Replay every regular file of dir; returns how many there were. */
static int replay_dir(entry_fn fn, const char *top, const char *dir)
{
    char path[4096];
    int n = 0;
    snprintf(path, sizeof path, "%s/tests/fuzz/%s", top, dir);
    DIR *d = opendir(path);
    CHECK(d != NULL, "cannot open %s", path);
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/tests/fuzz/%s/%s", top, dir, e->d_name);
        CHECK(replay(fn, path), "%s breaks the contract or crashes (see above)", path);
        n++;
    }
    closedir(d);
    return n;
}

int main(int argc, char **argv)
{
    const char *top = getenv("TOP") ? getenv("TOP") : ".";
    int n;
    n = replay_dir(fuzz_config_one, top, "regress_config");
    CHECK(n >= 1, "regress_config has %d inputs", n);
    n = replay_dir(fuzz_config_one, top, "corpus_config");
    CHECK(n >= 1, "corpus_config has %d inputs", n);
    n = replay_dir(fuzz_idx_one, top, "regress_idx");
    CHECK(n >= 1, "regress_idx has %d inputs", n);
    n = replay_dir(fuzz_idx_one, top, "corpus_idx");
    CHECK(n >= 1, "corpus_idx has %d inputs", n);
    n = replay_dir(fuzz_cifar_one, top, "corpus_cifar");
    CHECK(n >= 1, "corpus_cifar has %d inputs", n);
    /* regress_cifar/ comes with the first input the CIFAR-10 fuzzer breaks on */
    char optional[4096];
    snprintf(optional, sizeof optional, "%s/tests/fuzz/regress_cifar", top);
    if (access(optional, F_OK) == 0)
        replay_dir(fuzz_cifar_one, top, "regress_cifar");
    n = replay_dir(fuzz_store_one, top, "regress_store");
    CHECK(n >= 1, "regress_store has %d inputs", n);
    n = replay_dir(fuzz_store_one, top, "corpus_store");
    CHECK(n >= 1, "corpus_store has %d inputs", n);
    return check_summary(argc > 0 ? argv[0] : "test_fuzz_regress");
}
