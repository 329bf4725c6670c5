#!/bin/sh
# prune.rewind_schedule end to end, on the tiny job rewinding to iteration 30
# (evaluated every 20, so 30 joins the evaluation points):
#   - continue: the same data on 1 and 2 ranks; every arm's rounds after the
#     first are NaN before 30 and evaluated from 30 on, early stops >= 30;
#     status and --dry-run say it;
#   - a round that prunes nothing (rate 0), trained by SGD without momentum
#     (no optimizer state), ends on round 0's final weights bit for bit, for
#     the ticket and the random control (with restart it does not);
#   - a results file from before the key (no rewind_schedule in its config)
#     reads as restart: status says so, a resume with the default names the
#     key, a resume with restart finishes its pending rounds into the data of
#     an uninterrupted restart run; without rewinding it resumes as it is;
#   - a resume or a merge that changes the key is refused;
#   - with TS_BEFORE=BINARY (a ticketsweep from before the key, e.g. main's
#     built elsewhere): its rewinding sweep equals ours with restart, and its
#     sweep without rewinding ours with the default, on 1 and 2 ranks; its
#     shard merges with ours made with restart, not with continue;
#   - the readers: the ticketsweep package (start_iteration, NaN before it),
#     lth_report, lenet_claims and conv_claims --reach, and
#     load_ticketsweep.m in Octave (when installed).
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
RW="--set prune.rewind_iteration=30 --set train.eval_every=20"
run() { out=$1; shift; "$TS" run "$W/job.ini" -o "$out" $RW "$@" 2>"$W/log" || { cat "$W/log"; fail "run $out $*"; }; }

# --- continue: ranks, the curves' shape, status, --dry-run ---
run "$W/c1.h5"
# shellcheck disable=SC2086
mpirun_ts 2 run "$W/job.ini" -o "$W/c2.h5" $RW 2>"$W/log" || { cat "$W/log"; fail "run -np 2"; }
same_data "$W/c1.h5" "$W/c2.h5" || fail "continue: 1 and 2 ranks differ"
PYTHONPATH="$TOP/tests" "$PY" - "$W/c1.h5" <<'PY' || fail "continue: the curves"
import sys
import h5py
import numpy as np
from pycheck import check, done
f = h5py.File(sys.argv[1], "r")
its = f["curves/iteration"][:]
check(list(its) == [0, 20, 30, 40, 60], f"evaluation points {list(its)}")
before, start = its < 30, its == 30
rounds = f["trials/rounds"][:]
check((f["trials/status"][:] == 1).all(), "not every trial done")
for g in ("", "controls/reinit/", "controls/random/"):
    c = {m: f[g + "curves/" + m][:] for m in ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc")}
    es = f[g + "summary/early_stop_iter"][:]
    for t, n in enumerate(rounds):
        for m, v in c.items():
            check(np.isfinite(v[t, 0, 1:]).all(), f"{g}{m} trial {t} round 0 not evaluated everywhere")
            for k in range(1, n + 1):
                check(np.isnan(v[t, k, before]).all(), f"{g}{m} trial {t} round {k}: not NaN before 30")
                want = its > 30 if m == "train_loss" else its >= 30
                check(np.isfinite(v[t, k, want]).all(), f"{g}{m} trial {t} round {k}: missing from 30 on")
        check((es[t, 1:n + 1] >= 30).all(), f"{g}early stop trial {t}: {es[t]} (rounds >= 1 start at 30)")
done()
PY
"$TS" status "$W/c1.h5" >"$W/status" 2>&1 || { cat "$W/status"; fail "status"; }
grep -q "survivors rewound to iteration 30; later rounds train iterations 30 to 60 (rewind_schedule continue" \
    "$W/status" || { cat "$W/status"; fail "status: the schedule"; }
"$TS" run "$W/job.ini" $RW --dry-run >"$W/dry" 2>&1 || { cat "$W/dry"; fail "--dry-run"; }
grep -q "per training of a later round: .* (30 steps from the rewind point, 3 evaluations)" "$W/dry" ||
    { cat "$W/dry"; fail "--dry-run: the later rounds' cost"; }

# --- a round that prunes nothing reproduces round 0 from the rewind point ---
ZERO="--set sweep.rates=0 --set sweep.rounds=1 --set sweep.seeds=3 --set train.optimizer=sgd
      --set train.momentum=0 --set prune.controls=random --set output.weights=final"
# shellcheck disable=SC2086
run "$W/zero.h5" $ZERO
# shellcheck disable=SC2086
run "$W/zero-restart.h5" $ZERO --set prune.rewind_schedule=restart
PYTHONPATH="$TOP/tests" "$PY" - "$W/zero.h5" "$W/zero-restart.h5" <<'PY' || fail "a round that prunes nothing"
import sys
import h5py
import numpy as np
from pycheck import check, done
for path, cont in ((sys.argv[1], True), (sys.argv[2], False)):
    f = h5py.File(path, "r")
    w, rnd, arm = f["nodes/weights"][:], f["nodes/round"][:], f["nodes/arm"][:]
    check(len(w) == 3, f"{path}: {len(w)} trainings, want 3 (round 0, ticket and random round 1)")
    r0 = w[rnd == 0][0]
    for a, name in ((0, "ticket"), (2, "random")):
        r1 = w[(rnd == 1) & (arm == a)][0]
        check(np.array_equal(r0.view(np.uint32), r1.view(np.uint32)) == cont,
              f"{path}: {name} round 1's final weights {'differ from' if cont else 'equal'} round 0's")
    if cont:
        its = f["curves/iteration"][:]
        for m in ("val_loss", "test_acc"):
            v = f["curves/" + m][0]
            check(np.array_equal(v[0, its >= 30], v[1, its >= 30]), f"{m}: round 1 from 30 on is not round 0's")
done()
PY

# --- a file from before the key reads as restart ---
run "$W/restart.h5" --set prune.rewind_schedule=restart
older_file "$W/restart.h5" "$W/old.h5" rewind_schedule
"$TS" status "$W/old.h5" >"$W/status" 2>&1 || { cat "$W/status"; fail "status of a file from before the key"; }
grep -q "later rounds train iterations 0 to 60 (rewind_schedule restart" "$W/status" ||
    { cat "$W/status"; fail "status: a file from before the key is not read as restart"; }
"$TS" status "$W/old.h5" --job | grep -q "^rewind_schedule = restart$" || fail "status --job: not restart"
"$TS" run "$W/job.ini" -o "$W/old.h5" $RW --resume >"$W/log" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$W/log"; fail "resume with the default (continue) of a restart file: exit $rc, not 2"; }
grep -q "prune.rewind_schedule (restart -> continue)" "$W/log" || { cat "$W/log"; fail "the message does not name the key"; }
# its pruned rounds pending, as a run stopped after round 0 leaves them
"$PY" - "$W/old.h5" <<'PY' || fail "could not mark the pruned rounds pending"
import sys
import h5py
with h5py.File(sys.argv[1], "r+") as f:
    st = f["nodes/status"]
    v = st[:]
    v[f["nodes/round"][:] > 0] = 0
    st[:] = v
    f["trials/status"][:] = 0
PY
"$TS" run "$W/job.ini" -o "$W/old.h5" $RW --resume --set prune.rewind_schedule=restart >"$W/log" 2>&1 ||
    { cat "$W/log"; fail "resume of a file from before the key with restart"; }
same_data "$W/old.h5" "$W/restart.h5" || fail "the resumed file from before the key is not the restart run's data"
# without rewinding the schedules are one: such a file resumes with the default
"$TS" run "$W/job.ini" -o "$W/k0.h5" 2>"$W/log" || { cat "$W/log"; fail "run without rewinding"; }
older_file "$W/k0.h5" "$W/k0-old.h5" rewind_schedule
"$TS" run "$W/job.ini" -o "$W/k0-old.h5" --resume >"$W/log" 2>&1 ||
    { cat "$W/log"; fail "a file from before the key without rewinding does not resume with the default"; }

# --- the key is part of the job: resume and merge refuse a change ---
"$TS" run "$W/job.ini" -o "$W/c1.h5" $RW --resume --set prune.rewind_schedule=restart >"$W/log" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "prune.rewind_schedule (continue -> restart)" "$W/log" ||
    { cat "$W/log"; fail "resume with another schedule: exit $rc"; }
run "$W/s0.h5" --shard 0/2
run "$W/s1.h5" --shard 1/2 --set prune.rewind_schedule=restart
"$TS" merge "$W/m.h5" "$W/s0.h5" "$W/s1.h5" >"$W/log" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "from a different job.*prune.rewind_schedule (continue -> restart)" "$W/log" ||
    { cat "$W/log"; fail "merge of shards with different schedules: exit $rc"; }

# --- against a binary from before the key (optional) ---
if [ -n "${TS_BEFORE:-}" ]; then
    "$TS_BEFORE" run "$W/job.ini" -o "$W/before.h5" $RW --set output.weights=final 2>"$W/log" ||
        { cat "$W/log"; fail "TS_BEFORE run"; }
    "$TS_BEFORE" run "$W/job.ini" -o "$W/before-k0.h5" --set output.weights=final 2>"$W/log" ||
        { cat "$W/log"; fail "TS_BEFORE run without rewinding"; }
    for np in 1 2; do
        # shellcheck disable=SC2086
        mpirun_ts $np run "$W/job.ini" -o "$W/now$np.h5" $RW --set output.weights=final \
            --set prune.rewind_schedule=restart 2>"$W/log" || { cat "$W/log"; fail "run restart -np $np"; }
        mpirun_ts $np run "$W/job.ini" -o "$W/now-k0-$np.h5" --set output.weights=final 2>"$W/log" ||
            { cat "$W/log"; fail "run without rewinding -np $np"; }
        # shellcheck disable=SC2086
        h5diff -q $LEDGER --exclude-attribute / "$W/before.h5" "$W/now$np.h5" ||
            fail "restart on $np rank(s) is not the data of $TS_BEFORE"
        # shellcheck disable=SC2086
        h5diff -q $LEDGER --exclude-attribute / "$W/before-k0.h5" "$W/now-k0-$np.h5" ||
            fail "no rewinding on $np rank(s) is not the data of $TS_BEFORE"
    done
    # a shard of the old binary merges with one of ours made with restart, not with continue
    "$TS_BEFORE" run "$W/job.ini" -o "$W/before-s0.h5" --shard 0/2 $RW --set output.weights=final 2>"$W/log" ||
        { cat "$W/log"; fail "TS_BEFORE shard"; }
    run "$W/now-s1.h5" --shard 1/2 --set output.weights=final --set prune.rewind_schedule=restart
    "$TS" merge "$W/mixed.h5" "$W/before-s0.h5" "$W/now-s1.h5" >"$W/log" 2>&1 || { cat "$W/log"; fail "merge old + restart"; }
    # shellcheck disable=SC2086
    h5diff -q $LEDGER --exclude-attribute / "$W/before.h5" "$W/mixed.h5" || fail "merged old + restart shards"
    run "$W/now-s1c.h5" --shard 1/2 --set output.weights=final
    "$TS" merge "$W/mixed2.h5" "$W/before-s0.h5" "$W/now-s1c.h5" >"$W/log" 2>&1 &&
        fail "merged a shard from before the key with a continue shard"
    grep -q "prune.rewind_schedule (restart -> continue)" "$W/log" || { cat "$W/log"; fail "merge: the key not named"; }
    echo "TS_BEFORE: restart and no rewinding equal $TS_BEFORE's data; its shards merge with restart's"
fi

# --- the readers ---
PYTHONPATH="$TOP/tests" "$PY" - "$TOP/tools/python" "$W/c1.h5" "$W/old.h5" <<'PY' || fail "the ticketsweep package"
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
import ticketsweep
from pycheck import check, done
with ticketsweep.load(sys.argv[2]) as r:
    check((r.rewind_iteration, r.rewind_schedule) == (30, "continue"), f"{r.rewind_iteration} {r.rewind_schedule}")
    check([r.start_iteration(k) for k in range(3)] == [0, 30, 30], "start_iteration")
    for arm in r.arms:
        v = r.curves(arm, "test_acc")
        for k in (1, 2):
            before = r.iterations < r.start_iteration(k)
            has = r.trials["rounds"] >= k
            check(np.isnan(v[has][:, k][:, before]).all() and np.isfinite(v[has][:, k][:, ~before]).all(),
                  f"{arm} round {k}: NaN exactly before start_iteration")
    s = r.summary("reinit")
    check((s["early_stop_iter"][s["round"] > 0] >= 30).all(), "reinit early stops before 30")
with ticketsweep.load(sys.argv[3]) as r:
    check((r.rewind_iteration, r.rewind_schedule) == (30, "restart"), "a file from before the key: not restart")
    check(r.start_iteration(1) == 0, "restart: round 1 starts at 0")
done()
PY
PYTHONPATH="$TOP/tools/python" "$PY" -m ticketsweep.report "$W/c1.h5" -o "$W/report" >"$W/log" 2>&1 || { cat "$W/log"; fail "lth_report.py"; }
grep -q "rounds after the first train iterations 30 to 60" "$W/report/captions.md" &&
    grep -q "the pruned rounds from iteration 30, where they start" "$W/report/captions.md" ||
    { cat "$W/report/captions.md"; fail "lth_report.py: the captions do not give the schedule"; }
run "$W/pr.h5" --set sweep.rates= --set sweep.per_round=0.3 --set sweep.rounds=3 --set prune.controls=reinit
PYTHONPATH="$TOP/tools/python" "$PY" -m ticketsweep.lenet_claims "$W/pr.h5" >"$W/lenet" 2>&1 || { cat "$W/lenet"; fail "lenet_claims.py"; }
grep -q "^Rewinding to iteration 30, rewind_schedule continue" "$W/lenet" || { cat "$W/lenet"; fail "lenet_claims.py: no note"; }
PYTHONPATH="$TOP/tools/python" "$PY" -m ticketsweep.conv_claims "$W/pr.h5" --reach 100 >"$W/conv" 2>&1 || { cat "$W/conv"; fail "conv_claims.py"; }
# a loss below 100 is reached where a round is first evaluated: 0 for round 0, 30 after
grep -q '^| 0 | .* | 0 / 0 | 0 / 0 |$' "$W/conv" && grep -q '^| 3 | .* | 30 / 30 | 30 / 30 |$' "$W/conv" ||
    { cat "$W/conv"; fail "conv_claims.py --reach: the pruned rounds are first evaluated at 30"; }
if command -v octave >/dev/null 2>&1; then
    cat >"$W/o.m" <<EOF
addpath('$TOP/tools/octave');
r = load_ticketsweep('$W/c1.h5');
t = find(r.trials.rounds == 2, 1);
e = r.iteration < r.start_iteration(2);
ok = r.rewind_iteration == 30 && strcmp(r.rewind_schedule, 'continue') && isequal(r.start_iteration, [0; 30; 30]) ...
     && all(isnan(r.curves.random.val_loss(e, 2, t))) && all(~isnan(r.curves.random.val_loss(~e, 2, t)));
o = load_ticketsweep('$W/old.h5');
ok = ok && strcmp(o.rewind_schedule, 'restart') && isequal(o.start_iteration, [0; 0; 0]);
printf('octave: %d\n', ok);
EOF
    (cd "$W" && octave --no-gui --no-window-system -q o.m) >"$W/olog" 2>&1
    grep -q "^octave: 1$" "$W/olog" || { cat "$W/olog"; fail "load_ticketsweep.m"; }
fi
exit 0
