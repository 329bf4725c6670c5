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
lenet --set train.kernels=auto >"$W/auto" 2>"$W/err" || { cat "$W/err"; fail "auto dry run"; }
grep -q "^thinner trainings (kernels = auto, 6 densities timed):.* at 1.6[0-9] % of the weights" "$W/auto" ||
    fail "auto: $(grep thinner "$W/auto")"
# (1.62 %: the hidden layers keep 0.5^6, the output 0.75^6). Rounds 2..6 keep 25 .. 1.6 % of the hidden layers' weights: sparse there is
# 2-12x faster than dense (make bench), so the 13 trainings are worth far fewer
awk -v w="$(worth "$W/auto")" 'BEGIN { exit !(w > 1 && w < 10) }' ||
    fail "kernels = auto: $(worth "$W/auto") dense trainings' worth, want 1..10 of 13"
echo "kernels = auto: $(worth "$W/auto") dense trainings' worth of 13"
exit 0
