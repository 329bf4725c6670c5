#!/bin/sh
# run --dry-run: writes nothing, counts what the sweep would run (the same
# trainings a real run records), and prices the thinner trainings of a
# per-round schedule at their density: with kernels = dense every training
# costs one dense training; with kernels = auto the sparse rounds of
# LeNet-300-100 (Fashion-MNIST, the job-file defaults) cost less.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"

"$TS" run "$W/job.ini" -o "$W/dry.h5" --dry-run >"$W/out" 2>"$W/err" || { cat "$W/err"; fail "dry run"; }
[ ! -e "$W/dry.h5" ] || fail "a dry run wrote its results file"
n=$(sed -n 's/^trainings: \([0-9]*\) distinct.*/\1/p' "$W/out")
"$TS" run "$W/job.ini" -o "$W/real.h5" 2>/dev/null || fail "real run"
[ "$n" = "$(node_statuses "$W/real.h5" | tr -d '\n' | wc -c)" ] ||
    fail "dry run counts $n trainings, the run recorded $(node_statuses "$W/real.h5")"

# Layouts (--cores C --nodes N): R x T = C for T = 1, 2, 4 and C; the
# scheduler replayed over the trainings to run; the best layout's launch
# lines. Times are this machine's (noisy): the checks are of structure and of
# what holds whatever the times (a wall clock never below the critical path;
# with a rank for every training, the wall clock is the critical path).
layouts() { sed -n 's/^  layout \([0-9]*\) x \([0-9]*\): .*/\1x\2/p' "$1" | tr '\n' ' '; }
"$TS" run "$W/job.ini" --dry-run --cores 12 --nodes 3 >"$W/lay" 2>"$W/err" || { cat "$W/err"; fail "--cores 12 --nodes 3"; }
[ "$(layouts "$W/lay")" = "12x1 6x2 3x4 1x12 " ] || fail "12 cores: layouts $(layouts "$W/lay")"
grep -q "^layouts: 3 nodes of 12 cores.* replayed over the $n trainings" "$W/lay" ||
    fail "the layouts' header: $(grep '^layouts' "$W/lay")"
grep -q "^threads: .*timed here on 1" "$W/lay" && grep -q "^  1 thread: a dense training" "$W/lay" &&
    grep -q "^  12 threads: .*(Amdahl" "$W/lay" || fail "the threads' table: $(grep -A5 '^threads' "$W/lay")"
# wall_crit FILE: "RxT WALL CRITICAL TRAININGS" a layout
wall_crit() {
    sed -n 's/^  layout \([0-9]*\) x \([0-9]*\): wall \([0-9.e+-]*\) s.*, critical path \([0-9.e+-]*\) s.* over \([0-9]*\) trainings*, .*/\1x\2 \3 \4 \5/p' "$1"
}
# every layout: the wall clock at least the critical path, a chain of round 0 and
# 1 or 2 rounds here (which one is longest depends on the timings: a round-1
# leaf of rate 0.8 in one round, or round 0 and 2 rounds of it in two)
[ "$(wall_crit "$W/lay" | wc -l)" = 4 ] || fail "layout lines: $(grep '^  layout' "$W/lay")"
wall_crit "$W/lay" | awk '$2 < $3 * (1 - 1e-6) || ($4 != 2 && $4 != 3) { print; bad = 1 } END { exit bad }' ||
    { grep "^  layout" "$W/lay"; fail "wall clock below the critical path, or a chain not of 2 or 3 trainings"; }
# memory: a node's data once and R ranks (12 x 1 needs 12 times a rank, 1 x 12 one)
awk '/^  layout 12 x 1:/ { a = $(NF - 3) } /^  layout 1 x 12:/ { b = $(NF - 3) }
     END { exit !(a > 11 * b && a < 13 * b) }' "$W/lay" || fail "memory a node: $(grep '^  layout' "$W/lay")"
best=$(sed -n 's/^best layout: \([0-9]*\) x \([0-9]*\) on 3 nodes.*/\1 \2/p' "$W/lay")
[ -n "$best" ] || fail "no best layout: $(grep '^best' "$W/lay")"
set -- $best
grep -q "^  mpirun -np $(($1 * 3)) --map-by ppr:$1:node:PE=$2 ticketsweep run $W/job.ini --threads $2\$" "$W/lay" &&
    grep -q "^  srun -N 3 -n $(($1 * 3)) -c $2 --cpu-bind=cores ticketsweep run $W/job.ini --threads $2\$" "$W/lay" ||
    fail "best $1 x $2: launch lines $(grep -A2 '^best' "$W/lay")"
# several node counts from one timing: a block each, the same threads' table
"$TS" run "$W/job.ini" --dry-run --cores 4 --nodes 1,3 >"$W/lay13" 2>"$W/err" || { cat "$W/err"; fail "--nodes 1,3"; }
[ "$(grep -c '^layouts: ' "$W/lay13")" = 2 ] && grep -q "^layouts: 1 node of 4 cores" "$W/lay13" &&
    grep -q "^layouts: 3 nodes of 4 cores" "$W/lay13" && [ "$(grep -c '^threads: ' "$W/lay13")" = 1 ] &&
    [ "$(grep -c '^best layout: .* on 1 node ' "$W/lay13")" = 1 ] &&
    [ "$(grep -c '^best layout: .* on 3 nodes ' "$W/lay13")" = 1 ] || fail "--nodes 1,3: $(grep -e '^layouts' -e '^best' "$W/lay13")"
# a rank for every training: nothing waits but for its dependencies
"$TS" run "$W/job.ini" --dry-run --cores 64 --shard 1/2 --set train.iterations=40 >"$W/lay64" 2>"$W/err" ||
    { cat "$W/err"; fail "--cores 64"; }
wall_crit "$W/lay64" | awk '$1 == "64x1" { found = 1; if ($2 != $3) { print; exit 1 } } END { exit !found }' ||
    fail "64 ranks for fewer trainings: the wall clock is not the critical path"
m=$(sed -n 's/^trainings in shard 1\/2: \([0-9]*\)/\1/p' "$W/lay64")
grep -q "replayed over the $m trainings (of this shard)" "$W/lay64" || fail "shard: $(grep '^layouts' "$W/lay64")"
grep -q "^  mpirun .* ticketsweep run $W/job.ini --set train.iterations=40 --shard 1/2 --threads [0-9]*\$" "$W/lay64" ||
    fail "shard: the launch line $(grep mpirun "$W/lay64")"
# this machine by default: its cores, one node, its memory
"$TS" run "$W/job.ini" --dry-run >"$W/here" 2>"$W/err" || { cat "$W/err"; fail "layouts here"; }
C=$(nproc)
grep -q "^layouts: 1 node of $C cores" "$W/here" && grep -q "^  layout $C x 1: " "$W/here" &&
    grep -q "^  layout 1 x $C: " "$W/here" && grep -q "^memory: this machine has" "$W/here" ||
    fail "this machine ($C cores): $(grep -A4 '^layouts' "$W/here")"
# bad values: one line, exit 2
for bad in "--cores 0" "--cores x" "--cores 65537" "--cores 2.5" "--nodes 0" "--nodes -1" "--nodes 1,,3" \
           "--nodes 1,2," "--nodes 1,2,3,4,5,6,7,8,9" "--cores 65536 --nodes 1,65536" "--cores" "--nodes"; do
    # shellcheck disable=SC2086
    "$TS" run "$W/job.ini" --dry-run $bad >"$W/out" 2>"$W/err"
    rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$W/err")" = 1 ] && grep -q -- "--cores\|--nodes" "$W/err" ||
        fail "$bad: exit $rc, $(cat "$W/err")"
done
for opt in "--cores 4" "--nodes 2"; do
    # shellcheck disable=SC2086
    "$TS" run "$W/job.ini" -o "$W/x.h5" $opt >"$W/out" 2>"$W/err"
    rc=$?
    [ $rc -eq 2 ] && [ "$(wc -l <"$W/err")" = 1 ] && grep -q "add --dry-run" "$W/err" && [ ! -e "$W/x.h5" ] ||
        fail "$opt without --dry-run: exit $rc, $(cat "$W/err")"
done

# worth: the estimate in dense trainings; "per training" is the dense one
worth() { sed -n "s/.*core-hours, \([0-9.e+]*\) dense trainings' worth.*/\1/p" "$1"; }
lenet() {
    "$TS" run "$W/lenet.ini" -o "$W/l.h5" --dry-run --set sweep.per_round=0.5 --set sweep.rounds=6 \
        --set sweep.seeds=1 --set train.iterations=2000 --set train.eval_every=500 "$@"
}
printf '[prune]\ncontrols = reinit\n' >"$W/lenet.ini"
lenet --set train.kernels=dense >"$W/dense" 2>"$W/err" || { cat "$W/err"; fail "dense dry run"; }
d=$(sed -n 's/^trainings: \([0-9]*\) distinct.*/\1/p' "$W/dense")
[ "$d" = 13 ] || fail "round 0 + 6 ticket rounds + 6 reinit: $d trainings"
[ "$(worth "$W/dense")" = 13 ] || fail "kernels = dense: $(worth "$W/dense") dense trainings' worth, want 13"
grep -q "^thinner trainings" "$W/dense" && fail "kernels = dense timed thinner trainings"
# the layouts' dense training at one thread is the one priced above
[ "$(sed -n 's/^per training: \([0-9.e+]*\) s dense.*/\1/p' "$W/dense")" = \
  "$(sed -n 's/^  1 thread: a dense training \([0-9.e+]*\) s.*/\1/p' "$W/dense")" ] ||
    fail "the dense training: $(grep -e '^per training' -e '^  1 thread' "$W/dense")"
lenet --set train.kernels=auto >"$W/auto" 2>"$W/err" || { cat "$W/err"; fail "auto dry run"; }
grep -q "^thinner trainings (kernels = auto, 6 densities timed):.* at 1.6[0-9] % of the weights" "$W/auto" ||
    fail "auto: $(grep thinner "$W/auto")"
# (1.62 %: the hidden layers keep 0.5^6, the output 0.75^6). Rounds 2..6 keep 25 .. 1.6 % of the hidden layers' weights: sparse there is
# 2-12x faster than dense (make bench), so the 13 trainings are worth far fewer
awk -v w="$(worth "$W/auto")" 'BEGIN { exit !(w > 1 && w < 10) }' ||
    fail "kernels = auto: $(worth "$W/auto") dense trainings' worth, want 1..10 of 13"
echo "kernels = auto: $(worth "$W/auto") dense trainings' worth of 13"
exit 0
