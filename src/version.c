/*
 * version.c - ts_version (util.h). A file of its own because the Makefile
 * compiles it with the checkout's `git describe` (TS_GIT_DESCRIBE, and
 * TS_GIT_TAGGED when a tag is reachable) and rebuilds it alone when that
 * changes.
 */
#include "util.h"

/* The fixed release number: the version of a build without git. */
#define TS_RELEASE "0.1.0"

const char *ts_version(void)
{
#if defined TS_GIT_DESCRIBE && defined TS_GIT_TAGGED
    return TS_GIT_DESCRIBE; /* v0.2.0-3-gabc1234-dirty, less the v */
#elif defined TS_GIT_DESCRIBE
    return TS_RELEASE "+g" TS_GIT_DESCRIBE; /* no tag reachable: the commit, as semver build metadata */
#else
    return TS_RELEASE;
#endif
}
