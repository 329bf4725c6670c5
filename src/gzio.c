/* gzio.c - see gzio.h. */
#include <errno.h>
#include <string.h>

#include "err.h"
#include "gzio.h"

int gzio_error(gzFile f, const char *path, const char *what)
{
    int zerr;
    const char *msg = gzerror(f, &zerr);
    size_t plen = strlen(path);
    if (zerr == Z_ERRNO)
        return ts_fail(TS_EINPUT, "%s: cannot read: %s", path, strerror(errno));
    /* zlib's message starts with the path: do not say it twice */
    if (!strncmp(msg, path, plen) && !strncmp(msg + plen, ": ", 2))
        msg += plen + 2;
    return ts_fail(TS_EINPUT, "%s: corrupt gzip data%s%s: %s", path, what ? " in " : "",
                   what ? what : "", msg);
}
