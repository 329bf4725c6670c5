#!/bin/sh
# Run the whole test suite: every C test binary (build/tests/test_*) and every
# shell test (tests/test_*.sh). A test passes with exit status 0, is skipped
# with 77 (it prints why), fails otherwise. Ends with "N passed, N failed".
#
#   tests/run.sh [PATTERN]     only tests whose name contains PATTERN
#   TEST_DIR=tests/cluster tests/run.sh
#                              the shell tests of another folder (default tests);
#                              the C test binaries run only with the default
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD TS="$PWD/$BUILD/ticketsweep" TOP="$PWD"
pattern=${1:-}
TEST_DIR=${TEST_DIR:-tests}
bins=""
[ "$TEST_DIR" = tests ] && bins="$BUILD/tests/test_*"
passed=0 failed=0 skipped=0 failures=""
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

# shellcheck disable=SC2086
for t in $bins "$TEST_DIR"/test_*.sh; do
    [ -x "$t" ] || [ "${t%.sh}" != "$t" ] || continue
    name=$(basename "$t")
    case "$name" in *"$pattern"*) ;; *) continue ;; esac
    start=$(date +%s)
    if [ "${t%.sh}" != "$t" ]; then sh "$t" >"$log/out" 2>&1; else "$t" >"$log/out" 2>&1; fi
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1)); echo "PASS  $name (${secs}s)"
    elif [ $rc -eq 77 ]; then
        skipped=$((skipped + 1)); echo "SKIP  $name: $(tail -n 1 "$log/out")"
    else
        failed=$((failed + 1)); failures="$failures $name"
        echo "FAIL  $name (exit $rc, ${secs}s)"; sed 's/^/    | /' "$log/out" | tail -n 40
    fi
done
[ -n "$failures" ] && echo "failed:$failures"
[ $skipped -gt 0 ] && echo "$skipped skipped"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ] && [ $passed -gt 0 ]
