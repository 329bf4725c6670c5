/*
 * gzio.h - what the readers of zlib-read files (idx, cifar) share.
 */
#ifndef TS_GZIO_H
#define TS_GZIO_H

#include <zlib.h>

/* After gzread failed on path: set a one-line TS_EINPUT message saying why (a
 * read error, or corrupt gzip data, "in <what>" when what is not NULL) and
 * return TS_EINPUT. */
int gzio_error(gzFile f, const char *path, const char *what);

#endif
