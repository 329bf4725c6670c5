#!/bin/sh
# Stop signals: SIGUSR1 (what Slurm's --signal sends, forwarded by mpirun to
# every rank) lets trials in flight finish within --grace, closes the file and
# exits 3; SIGTERM with --grace 0 abandons the trials in flight, leaving them
# pending; either way --resume completes the sweep to an uninterrupted run's data.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
SLOW="--set train.iterations=16000 --set model.hidden=64,32"

"$TS" run "$W/job.ini" -o "$W/ref.h5" $SLOW 2>/dev/null || fail "reference run"

# SIGUSR1 to mpirun, long grace: trials in flight finish, exit status 3
mpirun --oversubscribe --bind-to none -np 2 "$TS" run "$W/job.ini" -o "$W/u.h5" $SLOW --grace 60 2>"$W/log" &
pid=$!
sleep 2
kill -USR1 $pid
wait $pid; rc=$?
[ $rc = 3 ] || { cat "$W/log"; fail "SIGUSR1: exit $rc, want 3"; }
grep -q "signal 10: no new trainings" "$W/log" || fail "SIGUSR1: no stop message"
grep -q "abandoned" "$W/log" && fail "SIGUSR1 with a long grace abandoned a trial"
grep -q -- "--resume" "$W/log" || fail "no resume hint printed"
st=$(node_statuses "$W/u.h5")
case $st in *0*) ;; *) fail "SIGUSR1 at 2 s should leave trainings pending: $st" ;; esac
case $st in *1*) ;; *) fail "SIGUSR1: in-flight trainings should have finished: $st" ;; esac
mpirun_ts 2 run "$W/job.ini" -o "$W/u.h5" $SLOW --resume 2>"$W/log" || { cat "$W/log"; fail "resume after SIGUSR1"; }
same_data "$W/ref.h5" "$W/u.h5" || fail "data after SIGUSR1 + resume differ"

# SIGTERM to a single process, no grace: the trial in flight is abandoned
"$TS" run "$W/job.ini" -o "$W/t.h5" $SLOW --grace 0 2>"$W/log" &
pid=$!
sleep 1.5
kill -TERM $pid
wait $pid; rc=$?
[ $rc = 3 ] || { cat "$W/log"; fail "SIGTERM: exit $rc, want 3"; }
grep -q "abandoned (left pending)" "$W/log" || { cat "$W/log"; fail "SIGTERM --grace 0 did not abandon the trial in flight"; }
"$PY" -c 'import h5py,sys; h5py.File(sys.argv[1],"r")["trials/status"][:]' "$W/t.h5" || fail "file after SIGTERM"
"$TS" run "$W/job.ini" -o "$W/t.h5" $SLOW --resume 2>"$W/log" || { cat "$W/log"; fail "resume after SIGTERM"; }
same_data "$W/ref.h5" "$W/t.h5" || fail "data after SIGTERM + resume differ"
exit 0
