#!/bin/sh
# Kill -9 of the whole job at several moments (while the file is being made,
# during trials, at random points that land in writes), and of a single
# worker rank: the file always opens with h5py, every trial marked done has
# complete data, and --resume completes it to the data of an uninterrupted run.
# A changed configuration on --resume is refused, naming the keys.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
SLOW="--set train.iterations=8000 --set model.hidden=64,32"

mpirun_ts 2 run "$W/job.ini" -o "$W/ref.h5" $SLOW 2>"$W/log" || { cat "$W/log"; fail "reference run"; }

# check_opens FILE: h5py opens it, and every done trial's rows are complete
check_opens() {
    "$PY" - "$1" "$TOP/tools/python" <<'PY' || fail "killed file does not open or has incomplete done trials"
import h5py, numpy as np, sys
sys.path.insert(0, sys.argv[2])
import ticketsweep
f = h5py.File(sys.argv[1], "r")
r = ticketsweep.load(sys.argv[1])
st = f["trials/status"][:]
for t in np.flatnonzero(st == 1):
    n = f["trials/rounds"][t]
    acc = f["summary/early_stop_test_acc"][t, : n + 1]
    assert np.all(np.isfinite(acc)) and np.all(acc > 0), (t, acc)
    assert r.mask_rounds(t)["fc1"].max() == n + 1, t
PY
}

# run_and_kill DELAY NP: start a run, kill -9 everything it started after DELAY s
run_and_kill() {
    mpirun_session /dev/null "$2" run "$W/job.ini" -o "$W/k.h5" $SLOW --resume
    pid=$!
    sleep "$1"
    kill_session "$pid"
}

for delay in 0.05 1.0 2.5; do
    run_and_kill $delay 2
    [ -e "$W/k.h5" ] && check_opens "$W/k.h5"
done
[ -e "$W/k.h5" ] || fail "no file after all the kills"
echo "after kills: $(statuses "$W/k.h5")"
mpirun_ts 2 run "$W/job.ini" -o "$W/k.h5" $SLOW --resume 2>"$W/log" || { cat "$W/log"; fail "resume after kill -9"; }
[ "$(statuses "$W/k.h5")" = "11111111" ] || fail "resume did not finish: $(statuses "$W/k.h5")"
same_data "$W/ref.h5" "$W/k.h5" || fail "resumed data differ from an uninterrupted run"

# kill -9 of one worker rank only: the job ends, the file resumes
mpirun_session /dev/null 3 run "$W/job.ini" -o "$W/w.h5" $SLOW
pid=$!
sleep 1.2
kill_worker "$pid"
wait "$pid"; rc=$?
[ $rc != 0 ] || fail "killing a worker should fail the job"
kill_session "$pid"
check_opens "$W/w.h5"
"$TS" run "$W/job.ini" -o "$W/w.h5" $SLOW --resume 2>"$W/log" || { cat "$W/log"; fail "resume after a worker died"; }
same_data "$W/ref.h5" "$W/w.h5" || fail "data after a dead worker differ"

# a changed configuration is refused with the keys that differ, file untouched
sum=$(md5sum <"$W/w.h5")
"$TS" run "$W/job.ini" -o "$W/w.h5" $SLOW --set train.lr=0.01 --set sweep.seeds=1,3 --resume 2>"$W/err"; rc=$?
[ $rc = 2 ] || fail "changed config: exit $rc"
grep -q "train.lr" "$W/err" && grep -q "sweep.seeds" "$W/err" || fail "changed config message: $(cat "$W/err")"
[ "$(wc -l <"$W/err")" = 1 ] || fail "changed config: one line expected: $(cat "$W/err")"
[ "$(md5sum <"$W/w.h5")" = "$sum" ] || fail "refused resume changed the file"
exit 0
