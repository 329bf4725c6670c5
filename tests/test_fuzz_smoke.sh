#!/bin/sh
# Every libFuzzer harness tests/fuzz/fuzz_NAME.c runs for FUZZ_SMOKE_SECONDS
# (5 by default), niced, on its seed corpus tests/fuzz/corpus_NAME and its
# dictionary if any: it builds (make test runs make fuzz-bin first), it starts,
# it executes inputs, and it finds nothing wrong in that time. A crash is kept
# as $BUILD/fuzz/smoke-crash-*; see the Makefile's fuzz section for what to do
# with it. Skipped when clang cannot build libFuzzer harnesses.
#
# fuzz_store feeds damaged HDF5 files to the HDF5 library, which crashes on
# some of them inside its own parser (Debian's 1.10.8: object headers and
# attribute messages; not ours to fix): it runs with -fork=1 -ignore_crashes=1,
# and each crash it keeps is replayed and fails the test unless it is
# libhdf5's alone (whose, below).
. "$(dirname "$0")/lib.sh"
why=$("$TOP/tools/build/have_libfuzzer.sh") || skip "$why"
secs=${FUZZ_SMOKE_SECONDS:-5}
out=$TOP/$BUILD/fuzz
n=0

# whose NAME CRASH: "ours" or "hdf5": where the replayed crash happens. Ours
# when, in the stack of the crash or in that of the block it touched (its
# allocation or release), the first frame in our code or libhdf5 is ours:
# HDF5 writing past a buffer we sized wrong is our error. Three runs: some of
# libhdf5's crashes need its state from a first read of the same file. A
# crash that does not come back counts as ours.
whose() {
    ASAN_OPTIONS= UBSAN_OPTIONS=print_stacktrace=1 "$out/$1" -runs=3 -artifact_prefix="$W/replay-" "$2" 2>&1 |
        awk -v top="$TOP" '
            /(allocated|freed) by thread/ { seen = 0 }
            /^ *#[0-9]+ / && !seen {
                if (index($0, top "/src/") || index($0, top "/tests/")) { ours = 1; seen = 1 }
                else if ($0 ~ /libhdf5/) { hdf5 = 1; seen = 1 }
            }
            END { print ours || !hdf5 ? "ours" : "hdf5" }'
}
for src in "$TOP"/tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    h=${name#fuzz_}
    [ -x "$out/$name" ] || fail "$out/$name is not built: run make fuzz-bin (make test does)"
    [ -d "$TOP/tests/fuzz/corpus_$h" ] || fail "$name has no seed corpus tests/fuzz/corpus_$h"
    dict=
    [ -f "$TOP/tests/fuzz/$h.dict" ] && dict=-dict=$TOP/tests/fuzz/$h.dict
    mkdir -p "$W/corpus_$h"
    fork=
    [ "$h" = store ] && fork="-fork=1 -ignore_crashes=1"
    rm -f "$out/smoke-$h-"*
    # leak checking stays on even in a DEBUG=1 run: the harnesses use no MPI,
    # but fuzz_store, which turns it off itself (__lsan_default_options)
    # shellcheck disable=SC2086
    ASAN_OPTIONS= nice -n 10 "$out/$name" -max_total_time="$secs" -print_final_stats=1 \
        -artifact_prefix="$out/smoke-$h-" $fork $dict "$W/corpus_$h" "$TOP/tests/fuzz/corpus_$h" \
        >"$W/$h.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$W/$h.log")
    # fork mode reports its totals on its progress lines: "#RUNS: cov: ..."
    [ -n "$fork" ] && runs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$W/$h.log" | tail -n 1)
    hdf5=0
    if [ -n "$fork" ]; then
        for c in "$out/smoke-$h-"crash-* "$out/smoke-$h-"leak-*; do
            [ -f "$c" ] || continue
            if [ "$(whose "$name" "$c")" = hdf5 ]; then
                hdf5=$((hdf5 + 1))
                rm -f "$c"
            else
                tail -n 30 "$W/$h.log"
                fail "$name: a crash in our code; the input is kept as $c"
            fi
        done
    fi
    # fork mode exits with its last job's status (1 after one of libhdf5's
    # crashes); its crashes are the files triaged above, and "exiting" says
    # it ended by itself
    [ -n "$fork" ] && grep -q '^INFO: exiting: ' "$W/$h.log" && rc=0
    if [ $rc != 0 ]; then
        tail -n 30 "$W/$h.log"
        fail "$name: exit $rc after ${runs:-?} inputs; the input is kept as $(sed -n 's/.*Test unit written to //p' "$W/$h.log")"
    fi
    [ "${runs:-0}" -gt 0 ] || { tail -n 30 "$W/$h.log"; fail "$name executed no input"; }
    if [ $hdf5 -gt 0 ]; then
        echo "$name: $runs inputs in $secs s, nothing found in our code ($hdf5 crashes inside libhdf5)"
    else
        echo "$name: $runs inputs in $secs s, nothing found"
    fi
    n=$((n + 1))
done
[ $n -gt 0 ] || fail "no harness tests/fuzz/fuzz_*.c"
