#!/bin/sh
# Every libFuzzer harness tests/fuzz/fuzz_NAME.c runs for FUZZ_SMOKE_SECONDS
# (5 by default), niced, on its seed corpus tests/fuzz/corpus_NAME and its
# dictionary if any: it builds (make test runs make fuzz-bin first), it starts,
# it executes inputs, and it finds nothing wrong in that time. A crash is kept
# as $BUILD/fuzz/smoke-crash-*; see the Makefile's fuzz section for what to do
# with it. Skipped when clang cannot build libFuzzer harnesses.
. "$(dirname "$0")/lib.sh"
why=$("$TOP/tools/have_libfuzzer.sh") || skip "$why"
secs=${FUZZ_SMOKE_SECONDS:-5}
out=$TOP/$BUILD/fuzz
n=0
for src in "$TOP"/tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    h=${name#fuzz_}
    [ -x "$out/$name" ] || fail "$out/$name is not built: run make fuzz-bin (make test does)"
    [ -d "$TOP/tests/fuzz/corpus_$h" ] || fail "$name has no seed corpus tests/fuzz/corpus_$h"
    dict=
    [ -f "$TOP/tests/fuzz/$h.dict" ] && dict=-dict=$TOP/tests/fuzz/$h.dict
    mkdir -p "$W/corpus_$h"
    # the harnesses use no MPI: leak checking stays on even in a DEBUG=1 run
    # shellcheck disable=SC2086
    ASAN_OPTIONS= nice -n 10 "$out/$name" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="$out/smoke-" $dict "$W/corpus_$h" "$TOP/tests/fuzz/corpus_$h" \
        >"$W/$h.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$W/$h.log")
    if [ $rc != 0 ]; then
        tail -n 30 "$W/$h.log"
        fail "$name: exit $rc after ${runs:-?} inputs; the input is kept as $(sed -n 's/.*Test unit written to //p' "$W/$h.log")"
    fi
    [ "${runs:-0}" -gt 0 ] || { tail -n 30 "$W/$h.log"; fail "$name executed no input"; }
    echo "$name: $runs inputs in $secs s, nothing found"
    n=$((n + 1))
done
[ $n -gt 0 ] || fail "no harness tests/fuzz/fuzz_*.c"
