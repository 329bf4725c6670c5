#!/bin/sh
# lenet_claims and conv_claims (ticketsweep.lenet_claims, .conv_claims: from the
# checkout, and once through tools/*.py, the old paths README's paper
# sections give) on a small per_round sweep
# with the reinit control: both print their claims table and one row per
# round reached; a file with no pruned round done yet is refused by
# conv_claims with a message, not a traceback; lenet_claims reads the
# files of one sweep split by seed together.
. "$(dirname "$0")/lib.sh"
export PYTHONPATH="$TOP/tools/python" PYTHONDONTWRITEBYTECODE=1
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
"$TS" run "$W/job.ini" -o "$W/r.h5" --set sweep.rates= --set sweep.per_round=0.3 --set sweep.rounds=3 \
    --set prune.controls=reinit 2>"$W/log" || { cat "$W/log"; fail "run"; }
"$PY" -m ticketsweep.lenet_claims "$W/r.h5" >"$W/lenet" 2>&1 || { cat "$W/lenet"; fail "lenet_claims"; }
grep -q '^| 4. ticket against reinit' "$W/lenet" || { cat "$W/lenet"; fail "lenet_claims: no claim 4 row"; }
"$PY" -m ticketsweep.conv_claims "$W/r.h5" conv2 >"$W/conv" 2>&1 || { cat "$W/conv"; fail "conv_claims"; }
grep -q 'rounds 0..3 done for every seed' "$W/conv" || { cat "$W/conv"; fail "conv_claims: rounds reached"; }
[ "$(grep -c '^| [0-3] | ' "$W/conv")" = 4 ] || { cat "$W/conv"; fail "conv_claims: not one row per round"; }
"$PY" -m ticketsweep.conv_claims "$W/r.h5" --reach 100 >"$W/reach" 2>&1 || { cat "$W/reach"; fail "conv_claims --reach"; }
grep -q '^| 3 | .* | 0 / 0 | 0 / 0 |$' "$W/reach" || { cat "$W/reach"; fail "conv_claims --reach: a loss below 100 is reached at iteration 0 by both seeds"; }
"$TOP/tools/conv_claims.py" "$W/r.h5" --reach 0 >"$W/reach0" 2>&1 || fail "conv_claims --reach 0"
grep -q '^| 3 | .* | never | never |$' "$W/reach0" || { cat "$W/reach0"; fail "conv_claims --reach 0: never reached"; }
# lenet_claims over two files of one sweep (other seeds; kernels may differ):
# the seeds of both; the same seed twice, or another job, is refused
"$TS" run "$W/job.ini" -o "$W/r7.h5" --set sweep.rates= --set sweep.per_round=0.3 --set sweep.rounds=3 \
    --set prune.controls=reinit --set sweep.seeds=7 --set train.kernels=sparse 2>"$W/log" || { cat "$W/log"; fail "run seed 7"; }
"$TOP/tools/lenet_claims.py" "$W/r.h5" "$W/r7.h5" >"$W/two" 2>&1 || { cat "$W/two"; fail "lenet_claims, two files"; }
seeds=$("$PY" -c 'import h5py,sys; print(", ".join(str(s) for s in h5py.File(sys.argv[1], "r")["grid/seeds"][:]) + ", 7")' "$W/r.h5")
grep -q "^$W/r.h5, $W/r7.h5: [0-9]* seeds ($seeds)" "$W/two" || { head -1 "$W/two"; fail "lenet_claims: not the seeds of both files ($seeds)"; }
"$PY" -m ticketsweep.lenet_claims "$W/r.h5" "$W/r.h5" >"$W/dup" 2>&1 && fail "lenet_claims took a seed twice"
grep -q "a seed is in two files" "$W/dup" || { cat "$W/dup"; fail "lenet_claims: no message for a seed twice"; }
"$TS" run "$W/job.ini" -o "$W/lr.h5" --set sweep.rates= --set sweep.per_round=0.3 --set sweep.rounds=3 \
    --set prune.controls=reinit --set sweep.seeds=8 --set train.lr=0.002 2>"$W/log" || { cat "$W/log"; fail "run lr"; }
"$PY" -m ticketsweep.lenet_claims "$W/r.h5" "$W/lr.h5" >"$W/other" 2>&1 && fail "lenet_claims took another job"
grep -q "is another job than .*: train.lr differ" "$W/other" || { cat "$W/other"; fail "lenet_claims: no message for another job"; }
for c in 8 9 10; do grep -q "^| $c\\. " "$W/conv" || { cat "$W/conv"; fail "conv_claims: no claim $c"; }; done
"$TS" run "$W/job.ini" -o "$W/r0.h5" --set sweep.rates= --set sweep.per_round=0.3 --set sweep.rounds=1 \
    --set sweep.seeds=1 --set prune.controls=reinit 2>"$W/log" || { cat "$W/log"; fail "run round 0"; }
"$PY" -c 'import h5py,sys
f = h5py.File(sys.argv[1], "r+")
st = f["nodes/status"]; r = f["nodes/round"][:]
v = st[:]; v[r > 0] = 0; st[:] = v' "$W/r0.h5" || fail "could not mark round 1 pending"
"$PY" -m ticketsweep.conv_claims "$W/r0.h5" >"$W/conv0" 2>&1 && { cat "$W/conv0"; fail "conv_claims accepted a file without a pruned round"; }
grep -q 'no pruned round done yet' "$W/conv0" || { cat "$W/conv0"; fail "conv_claims: no message"; }
exit 0
