#!/bin/sh
# tools/build-inih.sh SRC PREFIX - build libinih for ticketsweep, on a machine
# that has none (most clusters), from upstream inih's source: SRC is the folder
# of a release (git clone --branch r62 https://github.com/benhoyt/inih, or an
# unpacked release tarball; r55 and later). Installs PREFIX/include/ini.h,
# PREFIX/lib/libinih.a and PREFIX/lib/pkgconfig/inih.pc; then build
# ticketsweep with INIH_DIR=PREFIX. Needs only a C compiler (CC, default cc)
# and ar.
#
# Why not upstream's meson build as it is: src/config.c sets inih's parser
# options at run time (ini_stop_on_first_error, ini_allow_multiline,
# ini_use_stack, ini_allow_realloc, ini_max_line, ini_initial_alloc), and
# only Debian's libinih has them as variables; upstream inih fixes them when
# ini.c is compiled. So this script compiles upstream's ini.c with the values
# src/config.c sets, and adds those variables (declared in the installed
# ini.h) for config.c to set: setting them changes nothing, which is right
# while config.c sets the values compiled in here.
#
#   tools/build-inih.sh --check   exit 0 when src/config.c still sets the
#                                 values below (the test suite runs it)
set -eu

# The options src/config.c's parse_common sets, as upstream's macros and
# as the lines that set them there (CFG_LINE is 8192).
OPTS="-DINI_STOP_ON_FIRST_ERROR=1 -DINI_ALLOW_MULTILINE=0 -DINI_USE_STACK=0 \
-DINI_ALLOW_REALLOC=0 -DINI_MAX_LINE=8192 -DINI_INITIAL_ALLOC=8192"
CONFIG_LINES="#define CFG_LINE 8192
ini_stop_on_first_error = 1;
ini_allow_multiline = 0;
ini_use_stack = 0;
ini_allow_realloc = 0;
ini_max_line = ini_initial_alloc = CFG_LINE;"

die() {
    echo "build-inih: $*" >&2
    exit 1
}

# check_config: src/config.c sets the options compiled in here, no others.
check_config() {
    cfg=$(dirname "$0")/../src/config.c
    [ -f "$cfg" ] || return 0
    while IFS= read -r l; do
        grep -qF "$l" "$cfg" || die "src/config.c no longer has '$l': make OPTS and CONFIG_LINES in $0 agree with it"
    done <<EOF
$CONFIG_LINES
EOF
    set=$(grep -o 'ini_[a-z_]* =' "$cfg" | sort -u | tr '\n' ' ')
    [ "$set" = "ini_allow_multiline = ini_allow_realloc = ini_initial_alloc = ini_max_line = ini_stop_on_first_error = ini_use_stack = " ] ||
        die "src/config.c sets other inih options ($set): add them to OPTS and CONFIG_LINES in $0"
}

if [ "${1:-}" = --check ]; then
    check_config
    exit 0
fi
[ $# -eq 2 ] || die "usage: tools/build-inih.sh SRC PREFIX (SRC: upstream inih's source folder)"
src=$1 prefix=$2
check_config
if [ ! -f "$src/ini.c" ] || [ ! -f "$src/ini.h" ]; then
    die "$src has no ini.c and ini.h: give the folder of an inih release (git clone --branch r62 https://github.com/benhoyt/inih)"
fi
! grep -q 'ini_stop_on_first_error' "$src/ini.h" ||
    die "$src/ini.h already declares the run-time options (Debian's libinih): build it with its own meson build"
grep -q '^#endif /\* INI_H \*/' "$src/ini.h" || die "$src/ini.h does not end with '#endif /* INI_H */': not upstream's ini.h?"
grep -q 'INI_INITIAL_ALLOC' "$src/ini.h" || die "$src is older than inih r52 (no INI_INITIAL_ALLOC): take r55 or later"

CC=${CC:-cc}
case $prefix in /*) ;; *) prefix=$(pwd)/$prefix ;; esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/build-inih.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/ini_options.c" <<'EOF'
/* ini_options.c - the run-time parser options of Debian's libinih, for
 * ticketsweep's src/config.c to set. ini.c beside it was compiled with the
 * same values as macros (tools/build-inih.sh), so setting them changes nothing. */
#include <stdbool.h>
bool ini_stop_on_first_error = 1;
bool ini_allow_multiline = 0;
bool ini_use_stack = 0;
bool ini_allow_realloc = 0;
int ini_max_line = 8192;
int ini_initial_alloc = 8192;
EOF
# shellcheck disable=SC2086 # OPTS is a word list
$CC -O2 -fPIC $OPTS -I"$src" -c "$src/ini.c" -o "$tmp/ini.o"
$CC -O2 -fPIC -c "$tmp/ini_options.c" -o "$tmp/ini_options.o"

mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
rm -f "$prefix/lib/libinih.a"
ar rcs "$prefix/lib/libinih.a" "$tmp/ini.o" "$tmp/ini_options.o"
{
    sed '/^#endif \/\* INI_H \*\//,$d' "$src/ini.h"
    cat <<'EOF'
/* Added by ticketsweep's tools/build-inih.sh: the run-time options of
   Debian's libinih, which ticketsweep sets. This library was compiled with
   INI_STOP_ON_FIRST_ERROR=1, INI_ALLOW_MULTILINE=0, INI_USE_STACK=0,
   INI_ALLOW_REALLOC=0, INI_MAX_LINE=INI_INITIAL_ALLOC=8192: setting these
   to other values has no effect. */
#include <stdbool.h>
extern bool ini_stop_on_first_error;
extern bool ini_allow_multiline;
extern bool ini_use_stack;
extern bool ini_allow_realloc;
extern int ini_max_line;
extern int ini_initial_alloc;

#endif /* INI_H */
EOF
} >"$prefix/include/ini.h"
version=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$src/meson.build" 2>/dev/null | head -n 1)
cat >"$prefix/lib/pkgconfig/inih.pc" <<EOF
prefix=$prefix
Name: inih
Description: simple INI file parser (built by ticketsweep's tools/build-inih.sh)
Version: ${version:-unknown}
Cflags: -I\${prefix}/include
Libs: -L\${prefix}/lib -linih
EOF
echo "build-inih: installed libinih ${version:-} into $prefix; build ticketsweep with INIH_DIR=$prefix" >&2
