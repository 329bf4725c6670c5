#!/bin/sh
# Stop signals: SIGUSR1 (what Slurm's --signal sends, forwarded by mpirun to
# every rank) lets trials in flight finish within --grace, closes the file and
# exits 3; SIGTERM with --grace 0 abandons the trials in flight, leaving them
# pending; either way --resume completes the sweep to an uninterrupted run's data.
# The command that resumes the run is printed as soon as the signal arrives
# (under mpirun, SIGINT and SIGTERM kill the ranks a few seconds later).
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
# the resume command comes at once, before the trainings in flight end, with the run's --set options
hint="ticketsweep: to resume: mpirun ... ticketsweep run $W/job.ini -o $W/u.h5 --set train.iterations=16000 --set model.hidden=64,32 --resume"
grep -qxF "$hint" "$W/log" || { cat "$W/log"; fail "no resume command at the signal"; }
awk -v h="$hint" '$0 == h { seen = 1 } /^ticketsweep: trials [0-9]* done/ { exit !seen }' "$W/log" ||
    fail "the resume command came after the end of the run"
grep -q "^ticketsweep: interrupted; to finish: mpirun ... ticketsweep run $W/job.ini -o $W/u.h5 --set" "$W/log" ||
    fail "no resume command at the end"
st=$(node_statuses "$W/u.h5")
case $st in *0*) ;; *) fail "SIGUSR1 at 2 s should leave trainings pending: $st" ;; esac
case $st in *1*) ;; *) fail "SIGUSR1: in-flight trainings should have finished: $st" ;; esac
# resume with the command as printed
args=$(sed -n 's/^ticketsweep: to resume: mpirun \.\.\. ticketsweep //p' "$W/log")
eval "mpirun_ts 2 $args" 2>"$W/log" || { cat "$W/log"; fail "resume after SIGUSR1 with the printed command"; }
same_data "$W/ref.h5" "$W/u.h5" || fail "data after SIGUSR1 + resume differ"

# SIGINT to mpirun: mpirun signals the ranks and may kill them within seconds, so
# the resume command must be out by then (the file is not resumed here)
mpirun --oversubscribe --bind-to none -np 2 "$TS" run "$W/job.ini" -o "$W/i.h5" $SLOW --shard 0/2 2>"$W/log" &
pid=$!
sleep 2
kill -INT $pid
wait $pid
grep -qxF "ticketsweep: to resume: mpirun ... ticketsweep run $W/job.ini -o $W/i.h5 --set train.iterations=16000 --set model.hidden=64,32 --shard 0/2 --resume" "$W/log" ||
    { cat "$W/log"; fail "SIGINT to mpirun: no resume command (with --shard)"; }

# SIGTERM to a single process, no grace: the trial in flight is abandoned. A
# training here takes about a second on a quiet machine, so a signal can land
# between two: then nothing is in flight, and it is sent again, later, to a
# fresh run (each attempt must still exit 3)
abandoned=0
for delay in 1.5 2.3 3.1 0.9; do
    rm -f "$W/t.h5"
    "$TS" run "$W/job.ini" -o "$W/t.h5" $SLOW --grace 0 2>"$W/log" &
    pid=$!
    sleep $delay
    kill -TERM $pid
    wait $pid; rc=$?
    [ $rc = 3 ] || { cat "$W/log"; fail "SIGTERM after $delay s: exit $rc, want 3"; }
    if grep -q "abandoned (left pending)" "$W/log"; then abandoned=1; break; fi
done
[ $abandoned = 1 ] || { cat "$W/log"; fail "SIGTERM --grace 0 did not abandon the trial in flight (4 attempts)"; }
"$PY" -c 'import h5py,sys; h5py.File(sys.argv[1],"r")["trials/status"][:]' "$W/t.h5" || fail "file after SIGTERM"
"$TS" run "$W/job.ini" -o "$W/t.h5" $SLOW --resume 2>"$W/log" || { cat "$W/log"; fail "resume after SIGTERM"; }
same_data "$W/ref.h5" "$W/t.h5" || fail "data after SIGTERM + resume differ"
exit 0
