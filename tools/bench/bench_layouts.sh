#!/bin/sh
# tools/bench/bench_layouts.sh - the paper jobs' wall clock on a cluster's nodes, from
# `ticketsweep run JOB --dry-run --cores C --nodes N` (docs/cluster.md: Ranks and threads on a
# node): for each job and node count, the 1-thread layout (C ranks of 1 thread a node)
# against the best layout, with the critical path; then the speed-up of a training on T
# threads as the first job's dry run measured it here and extrapolated it.
#
#   tools/bench/bench_layouts.sh [JOB.ini...]
#       (default: jobs/conv2-paper.ini jobs/conv4-paper.ini jobs/lenet300-paper.ini)
#
# Environment: BUILD (build), LAYOUT_CORES (128), LAYOUT_NODES ("1 16": one dry run a job
# prices them all, from one timing),
# LAYOUT_OUT (a folder to keep every dry run's whole output in; default: not kept).
# The jobs read the real data: `make data` first, and run from the repository's top.
# Every dry run times the job's trainings on this machine, at 1 thread and at the
# layouts' threads up to its cores: run it with nothing else running (a compute node),
# or the figures carry the other processes' load. Exit status 1 when a dry run fails.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
TS=$BUILD/ticketsweep
CORES=${LAYOUT_CORES:-128}
NODES=${LAYOUT_NODES:-1 16}
[ $# -gt 0 ] || set -- jobs/conv2-paper.ini jobs/conv4-paper.ini jobs/lenet300-paper.ini
[ -x "$TS" ] || { echo "bench_layouts: $TS is missing: run make" >&2; exit 1; }
W=$(mktemp -d /tmp/tslayouts.XXXXXX)
trap 'rm -rf "$W"' EXIT

nodes=$(echo "$NODES" | tr ' ' ',')
echo "layouts of nodes of $CORES cores, from --dry-run: trainings timed here ($(hostname), load" \
     "$(cut -d' ' -f1-3 /proc/loadavg)), revision $(git describe --always --dirty 2>/dev/null || echo '?')"
printf '%-16s %5s %16s %10s %10s %9s %14s\n' job nodes "1 thread (R x 1)" best wall "of 1 thr" "critical path"
first=""
for job in "$@"; do
    name=$(basename "${job%.*}")
    out=$W/$name
    echo "bench_layouts: $TS run $job --dry-run --cores $CORES --nodes $nodes" >&2
    "$TS" run "$job" --dry-run --cores "$CORES" --nodes "$nodes" >"$out" 2>"$out.err" ||
        { cat "$out.err" >&2; echo "bench_layouts: the dry run of $job failed" >&2; exit 1; }
    [ -z "${LAYOUT_OUT:-}" ] || { mkdir -p "$LAYOUT_OUT" && cp "$out" "$LAYOUT_OUT/$name.txt"; }
    [ -n "$first" ] || first=$out
    # a row a node count: its block's 1-thread layout, best layout and that one's critical path
    awk -v job="$name" -v C="$CORES" '
        function h(s) { return s < 7200 ? sprintf("%.0f min", s / 60) : sprintf("%.1f h", s / 3600) }
        /^layouts: / { n = $2 }
        /^  layout / { rt = $2 "x" $4; sub(/:$/, "", rt); wall[n, rt] = $6
                       for (i = 1; i < NF; i++) if ($i == "path") crit[n, rt] = $(i + 1) }
        /^best layout: [0-9]/ { bt = $3 "x" $5; w = wall[n, bt]
                       printf "%-16s %5s %16s %10s %10s %9s %14s\n", job, n, h(wall[n, C "x1"]), $3 " x " $5,
                              h(w), sprintf("%.2f", w / wall[n, C "x1"]), h(crit[n, bt]) }
        /^best layout on/ { printf "%-16s %5s %16s %10s\n", job, n, h(wall[n, C "x1"]), "none fits" }' "$out"
done
echo "a training on T threads ($(sed -n 's/^dry run of \([^ ]*\) .*/\1/p' "$first")), as the dry run timed it here and extrapolated it:"
sed -n '/^threads: /,/^memory: /p' "$first" | sed '$d' | sed 's/^/  /'
