#!/bin/sh
# bench_pss.sh - the memory a sweep's ranks take together, as the kernel
# counts it: run TS under `mpirun -np NP` to the end and sample, every PERIOD
# seconds, the Pss of every rank (/proc/PID/smaps_rollup: each page divided
# among the processes that map it, so a node's shared data count once in the
# sum). Prints "key value" lines: pss_max_mb (the largest sum over the
# samples, MB = 1e6 bytes), pss_median_mb, samples, ranks, seconds, and
# the run's data line.
#
#   tools/bench/bench_pss.sh TS JOB.ini [ARG...]     ARGs go to `TS run JOB.ini`
#
# Environment: NP (2), PERIOD (0.5). Used by tools/bench/bench.sh (section 8); run
# it alone with another binary (e.g. an older release) to compare.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 TS JOB.ini [ARG...]" >&2; exit 2; }
TS=$(readlink -f "$1")
JOB=$2
shift 2
NP=${NP:-2}
PERIOD=${PERIOD:-0.5}
W=$(mktemp -d /tmp/tspss.XXXXXX)
trap 'rm -rf "$W"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 TMPDIR="$W"

# the run in a session of its own, so that its processes can be found
setsid sh -c 'exec "$@" >"$0" 2>&1' "$W/log" mpirun --oversubscribe --bind-to none -np "$NP" \
    "$TS" run "$JOB" -o "$W/out.h5" --force "$@" &
sid=$!
start=$(date +%s.%N)
: >"$W/sums"
while kill -0 "$sid" 2>/dev/null; do
    sum=0 n=0
    for p in $(pgrep -s "$sid" 2>/dev/null); do
        [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$TS" ] || continue
        kb=$(awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null) || kb=
        [ -n "$kb" ] || continue
        sum=$((sum + kb)) n=$((n + 1))
    done
    # only samples that saw every rank (not start-up or shut-down)
    [ "$n" = "$NP" ] && echo "$sum" >>"$W/sums"
    sleep "$PERIOD"
done
wait "$sid" || { tail -n 20 "$W/log" >&2; echo "bench_pss: the run failed" >&2; exit 1; }
end=$(date +%s.%N)
[ -s "$W/sums" ] || { echo "bench_pss: no sample saw all $NP ranks" >&2; exit 1; }
sort -n "$W/sums" | awk -v s="$start" -v e="$end" -v np="$NP" '
    { v[NR] = $1 } END {
        printf "pss_max_mb %.1f\npss_median_mb %.1f\nsamples %d\nranks %d\nseconds %.1f\n",
            v[NR] * 1024 / 1e6, v[int((NR + 1) / 2)] * 1024 / 1e6, NR, np, e - s }'
grep -m1 '^  data: ' "$W/log" | sed 's/^  /data_line /' || true
