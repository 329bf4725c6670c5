#!/bin/sh
# Failing trials: a learning rate far too large makes trials diverge; they
# are marked failed with the reason, the sweep goes on to the end, and the
# exit status (4) says some failed. `status` shows the failures, and reads a
# file while a job is still writing it.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"

mpirun_ts 2 run "$W/job.ini" -o "$W/f.h5" --set train.optimizer=sgd --set train.lr=1e30 2>"$W/log"; rc=$?
[ $rc = 4 ] || { cat "$W/log"; fail "diverging sweep: exit $rc, want 4"; }
[ "$(statuses "$W/f.h5")" = "22222222" ] || fail "every trial should be failed: $(statuses "$W/f.h5")"
"$PY" - "$W/f.h5" <<'PY' || fail "failure reasons not recorded"
import h5py, sys
e = h5py.File(sys.argv[1], "r")["trials/error"][:]
assert all(b"diverged" in x for x in e), e
PY
"$TS" status "$W/f.h5" >"$W/st"; rc=$?
[ $rc = 4 ] || fail "status of a failed sweep: exit $rc, want 4"
grep -q "8 failed" "$W/st" && grep -q "diverged" "$W/st" || { cat "$W/st"; fail "status shows failures"; }
# resume reruns failed trials (here they fail again, deterministically)
"$TS" run "$W/job.ini" -o "$W/f.h5" --set train.optimizer=sgd --set train.lr=1e30 --resume 2>"$W/log"
grep -q "8 to run" "$W/log" || fail "resume should rerun failed trials"

# status while another job writes the file: trials of a second or so each (a
# few under the sanitizers), read from the moment the file appears until it
# holds a finished trial; every reading must succeed
"$TS" run "$W/job.ini" -o "$W/live.h5" --set train.iterations=10000 2>/dev/null &
pid=$!
trial_written() {
    [ -e "$W/live.h5" ] || return 1
    "$TS" status "$W/live.h5" >"$W/st2" 2>&1
    [ $? = 3 ] || { cat "$W/st2"; kill $pid; fail "status on a file being written: exit $?, want 3"; }
    grep -q "trials: [1-9][0-9]* done" "$W/st2"
}
wait_until 120 trial_written || { cat "$W/st2"; kill $pid; fail "no trial written in 120 s"; }
kill $pid 2>/dev/null; wait $pid
grep -q "8 trials:" "$W/st2" && grep -q ", [1-9][0-9]* pending" "$W/st2" || { cat "$W/st2"; fail "status of an unfinished file"; }
exit 0
