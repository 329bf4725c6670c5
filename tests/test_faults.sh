#!/bin/sh
# No error is dropped: a failure injected at a write or a message of a running
# sweep (TICKETSWEEP_FAULT=NAME:RANK:N, the N-th call failing) on rank 0 or a
# worker ends the job promptly with a non-zero exit and one line naming it;
# --resume then completes the file to the data of an uninterrupted run. And a
# run whose claim is taken over stops at once, says why, and leaves the other
# run's claim alone.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"

mpirun_ts 2 run "$W/job.ini" -o "$W/ref.h5" 2>"$W/log" || { cat "$W/log"; fail "reference run"; }

# NAME:RANK:N, chosen to land in the middle of the sweep (the tiny job: 20
# trainings, 8 cells; rank 0 writes the cells' statuses and theta0)
for fault in store_write_node:0:2 store_write_node:1:3 store_write_cell:0:1 store_write_cell:0:5 store_write_cell:0:8 \
    store_write_theta0:0 recv:0:2 recv:1:4; do
    rm -f "$W/f.h5"
    TICKETSWEEP_FAULT=$fault timeout 120 mpirun --oversubscribe --bind-to none -np 2 \
        "$TS" run "$W/job.ini" -o "$W/f.h5" 2>"$W/err"
    rc=$?
    [ $rc != 124 ] || fail "$fault: the job hung"
    [ $rc != 0 ] || { cat "$W/err"; fail "$fault: exit 0 after a failure"; }
    name=${fault%%:*} rank=${fault#*:}
    rank=${rank%%:*}
    [ "$(grep -c "injected fault in $name on rank $rank" "$W/err")" = 1 ] ||
        { cat "$W/err"; fail "$fault: no one line naming the fault"; }
    [ -e "$W/f.h5" ] || fail "$fault: no file to resume"
    st=$(statuses "$W/f.h5")
    [ "$st" != 11111111 ] || fail "$fault: every cell done although the run failed"
    mpirun_ts 2 run "$W/job.ini" -o "$W/f.h5" --resume 2>"$W/log" || { cat "$W/log"; fail "$fault: resume"; }
    [ "$(statuses "$W/f.h5")" = 11111111 ] || fail "$fault: resume did not finish: $(statuses "$W/f.h5")"
    same_data "$W/ref.h5" "$W/f.h5" || fail "$fault: resumed data differ from an uninterrupted run"
    echo "$fault: exit $rc, statuses after the fault $st, resumed to the reference"
done

# A claim taken over mid-run: the run stops within a few heartbeats (every
# 2.5 s with --claim-timeout 15), says so, and the taker's claim stays.
SLOW="--set train.iterations=8000 --set model.hidden=64,32"
rm -f "$W/c.h5"
mpirun_session "$W/c.err" 2 run "$W/job.ini" -o "$W/c.h5" $SLOW --claim-timeout 15
pid=$!
wait_until 60 grep -q '^trial .*: done' "$W/c.err" || { kill_session "$pid"; fail "no trial done in 60 s"; }
cat >"$W/c.h5.claim.new" <<CLAIM
format = ticketsweep-claim
format_version = 1
results = $W/c.h5
what = run
host = elsewhere.invalid
pid = 4242
pid_start = 0
token = 0123456789abcdef0123456789abcdef
job_hash = 0123456789abcdef
started = $(date +%s)
heartbeat = $(date +%s)
heartbeat_every = 5
slurm_job =
slurm_restart = 0
end = ok
CLAIM
mv "$W/c.h5.claim.new" "$W/c.h5.claim"
t0=$(date +%s)
wait "$pid"
rc=$?
t1=$(date +%s)
kill_session "$pid"
[ $rc != 0 ] || fail "a run whose claim was taken over exited 0"
[ $((t1 - t0)) -le 20 ] || fail "the run went on for $((t1 - t0)) s after its claim was taken"
grep -q "taken over by host elsewhere.invalid, PID 4242" "$W/c.err" || { cat "$W/c.err"; fail "no warning naming the taker"; }
grep -q "claim was taken over by another run: this run stops" "$W/c.err" || { cat "$W/c.err"; fail "no stop line"; }
grep -q "^host = elsewhere.invalid" "$W/c.h5.claim" || fail "the taker's claim was overwritten or removed"
echo "claim taken over: stopped after $((t1 - t0)) s, exit $rc"
exit 0
