#!/bin/sh
# test_fp_contract.sh - the numerics flags (the Makefile's NUM_CFLAGS:
# -ffp-contract=off, no fast-math) reach the compile line after the user's
# CFLAGS, so CFLAGS cannot undo them: the compile line make prints for
# tests/test_fp_contract.c with CFLAGS='-ffp-contract=fast -ffast-math' has
# them after those, and the binary built by that line still finds no fused
# multiply-add. The same line without NUM_CFLAGS builds a binary that finds
# one (where the CPU has FMA): the check can fail.
. "$(dirname "$0")/lib.sh"
unset MAKEFLAGS MFLAGS MAKELEVEL
user='-ffp-contract=fast -ffast-math'
# line [VAR=VALUE...]: the command make would run to link the test into $W/fp
line() {
    make -C "$TOP" -n -W tests/test_fp_contract.c BUILD="$BUILD" CFLAGS="$user" "$@" \
        "$BUILD/tests/test_fp_contract" 2>/dev/null | grep -- "-o $BUILD/tests/test_fp_contract\$" |
        sed "s|-o $BUILD/tests/test_fp_contract\$|-o $W/fp|"
}
cmd=$(line)
[ -n "$cmd" ] || fail "make -n printed no compile line for tests/test_fp_contract.c"
case $cmd in
*"$user "*"-ffp-contract=off -fno-fast-math"*) ;;
*) fail "the numerics flags do not follow the user's CFLAGS: $cmd" ;;
esac
(cd "$TOP" && eval "$cmd") || fail "could not build with: $cmd"
"$W/fp"
rc=$?
[ $rc -ne 77 ] || skip "this CPU has no FMA"
[ $rc -eq 0 ] || fail "built with CFLAGS='$user', a multiply and an add were fused"

# without the Makefile's flags the user's contraction wins: the test sees it
cmd=$(line NUM_CFLAGS=)
case $cmd in *-ffp-contract=off*) fail "NUM_CFLAGS= still gave -ffp-contract=off: $cmd" ;; esac
(cd "$TOP" && eval "$cmd") || fail "could not build with: $cmd"
if "$W/fp" >/dev/null 2>&1; then
    fail "built with -ffp-contract=fast and no NUM_CFLAGS, test_fp_contract found no fused multiply-add"
fi
exit 0
