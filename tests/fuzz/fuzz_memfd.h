/*
 * fuzz_memfd.h - the fuzz harnesses' inputs as files that never touch the disk.
 *
 * The readers take paths and open them with zlib's gzopen, so each input is
 * written into a memfd and handed over as "/proc/self/fd/N": a real path,
 * opened afresh (offset 0) by every gzopen, and nothing written to disk.
 */
#ifndef TS_FUZZ_MEMFD_H
#define TS_FUZZ_MEMFD_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_MEMFD_SLOTS 4

/* Make in-memory file number slot (0 .. FUZZ_MEMFD_SLOTS - 1) hold exactly
 * data[0..size) and return its path (static storage, the same for a slot
 * all along). The file is made on first use and kept for the process. A
 * failing memfd or write aborts: the harness cannot run without it. */
static const char *fuzz_memfd(int slot, const uint8_t *data, size_t size)
{
    static int fd[FUZZ_MEMFD_SLOTS] = {-1, -1, -1, -1};
    static char path[FUZZ_MEMFD_SLOTS][64];
    if (slot < 0 || slot >= FUZZ_MEMFD_SLOTS)
        abort();
    if (fd[slot] < 0) {
        fd[slot] = memfd_create("fuzz_input", 0);
        if (fd[slot] < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path[slot], sizeof path[slot], "/proc/self/fd/%d", fd[slot]);
    }
    if (ftruncate(fd[slot], 0) || (size && pwrite(fd[slot], data, size, 0) != (ssize_t)size)) {
        perror("memfd write");
        abort();
    }
    return path[slot];
}

#endif
