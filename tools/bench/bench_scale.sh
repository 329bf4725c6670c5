#!/bin/sh
# tools/bench/bench_scale.sh - `make bench`, section 12: a sweep on many ranks. The
# 128-cell sweep of tests/cluster/test_scale.sh (2 rates x 4 round counts x 16 seeds,
# 976 small trainings on test data) on mpirun -np 2, 64 and 256, oversubscribed on
# this machine's cores: rank 0's time per dispatch (answering a request), the run's
# start-up after MPI_Init (job, data, plan, file), the sweep, closing the file, and
# the wall clock of the whole mpirun (launch and MPI_Init/Finalize included), each
# against -np 2 in the same run. Oversubscribed ranks share 2 cores, so these are
# the costs of many processes on few cores (context switches, MPI's progress), an
# upper bound for a cluster's; README's Scale section says how they extrapolate.
#
#   BUILD=build tools/bench/bench_scale.sh      (after make; SCALE_RANKS="2 64 256")
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
TS=$PWD/$BUILD/ticketsweep
OUT=${BENCH_OUT:-tools/bench/bench-results.txt}
RANKS=${SCALE_RANKS:-2 64 256}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
[ -x "$TS" ] || { echo "bench_scale: $TS is missing: run make" >&2; exit 1; }
W=$(mktemp -d /tmp/tsscale.XXXXXX)
trap 'rm -rf "$W"' EXIT
# the test suite's small data and its 128-cell job
D=$W
(. tests/lib.sh && small_data "$D/d" && scale_job "$D/job.ini" "$D/d") >/dev/null 2>&1 ||
    { echo "bench_scale: cannot make the test data" >&2; exit 1; }
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for np in $RANKS; do
    echo "bench_scale: mpirun -np $np ticketsweep run (128 cells, 976 trainings)" >&2
    t0=$(date +%s.%N)
    mpirun --oversubscribe --bind-to none -np "$np" "$TS" run "$W/job.ini" -o "$W/np$np.h5" --force \
        2>"$W/log$np" || { tail -5 "$W/log$np" >&2; echo "bench_scale: -np $np failed" >&2; exit 1; }
    t1=$(date +%s.%N)
    awk -v np="$np" -v wall="$(echo "$t1 - $t0" | bc -l)" '
        /dispatch [0-9.]+ us per request/ { for (i = 1; i <= NF; i++) if ($i == "dispatch") d = $(i + 1) }
        /^ticketsweep: start-up/ { s = $3; sw = $12; c = $17 }
        END { printf "%s %s %s %s %s %s\n", np, d, s, sw, c, wall }' "$W/log$np" >>"$W/rows"
done
{
    echo "ticketsweep bench, section 12 (a sweep on many ranks), $(date -u '+%Y-%m-%d %H:%M UTC'), revision $(git describe --always --dirty 2>/dev/null || echo '?')"
    echo "machine:   $(getconf _NPROCESSORS_ONLN) cores, every rank oversubscribed on them; load $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after"
    echo "job:       tests/cluster/test_scale.sh's: 128 cells, 976 trainings of a 64-16-8-10 MLP (40 steps)"
    printf '%-6s %14s %10s %9s %9s %10s   %s\n' ranks "dispatch (us)" "start-up" sweep closing "mpirun" "against -np ${RANKS%% *} (dispatch, start-up, wall)"
    awk 'NR == 1 { d0 = $2; s0 = $3; w0 = $6 }
         { printf "%-6s %14.1f %9.2fs %8.2fs %8.2fs %9.1fs   %.1fx, %.1fx, %.1fx\n", $1, $2, $3, $4, $5, $6,
                  (d0 > 0 ? $2 / d0 : 0), (s0 > 0 ? $3 / s0 : 0), (w0 > 0 ? $6 / w0 : 0) }' "$W/rows"
    echo
} >"$W/table"
cat "$W/table"
cat "$W/table" >>"$OUT"
