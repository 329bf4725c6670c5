#!/bin/sh
# One writer per results file: a run claims OUT.h5 (OUT.h5.claim, refreshed
# while it runs, removed at every end). A second run or merge on the same file
# is refused with exit 2 and one line naming the holder, and touches nothing;
# `status` works and claims nothing. A stale claim (this host: its PID died;
# another host: an old heartbeat, or an earlier run of the same Slurm job) is
# taken over and the run says so; damaged claims too, with a warning.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
SLOW="--set train.iterations=8000 --set model.hidden=64,32"
HOST=$(hostname)
cd "$W" || fail "cd $W"

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds; 1 after SECONDS
wait_for() {
    n=$(($1 * 10)); shift
    while ! "$@"; do
        n=$((n - 1))
        [ $n -gt 0 ] || return 1
        sleep 0.1
    done
}
has_done_line() { grep -q '^trial .*: done' "$1"; }
beat() { sed -n 's/^heartbeat = //p' "$1" 2>/dev/null; }
beat_moved() { [ -n "$(beat "$1")" ] && [ "$(beat "$1")" != "$2" ]; }
is_stopped() { case $(ps -o stat= -p "$1") in T*) return 0 ;; esac; return 1; }
one_line() { [ "$(wc -l <"$1")" = 1 ] || fail "$2: one line expected on stderr: $(cat "$1")"; }

# forge FILE HOST PID HEARTBEAT [SLURM_JOB SLURM_RESTART]: FILE.claim as another run writes it
forge() {
    cat >"$1.claim" <<EOF
format = ticketsweep-claim
format_version = 1
results = $1
what = run
host = $2
pid = $3
pid_start = 0
token = 0123456789abcdef0123456789abcdef
job_hash = 0000000000000000
started = $4
heartbeat = $4
heartbeat_every = 5
slurm_job = ${5:-}
slurm_restart = ${6:-0}
end = ok
EOF
}

"$TS" run job.ini -o ref.h5 $SLOW 2>log || { cat log; fail "reference run"; }
[ ! -e ref.h5.claim ] || fail "the reference run left its claim"
"$TS" run job.ini -o fast.h5 2>log || { cat log; fail "fast reference run"; }

# --- 1. a run holds the file: others are refused and change nothing ---------------
"$TS" run job.ini -o a.h5 $SLOW --claim-timeout 15 2>a.log &
apid=$!
wait_for 240 has_done_line a.log || { cat a.log; fail "run A did not start its trials"; }
[ -e a.h5.claim ] || fail "run A has no claim file"
grep -q "^pid = $apid\$" a.h5.claim && grep -q "^host = $HOST\$" a.h5.claim || fail "claim content: $(cat a.h5.claim)"
b0=$(beat a.h5.claim)
wait_for 30 beat_moved a.h5.claim "$b0" || fail "the heartbeat did not move in 30 s (every 2.5 s with --claim-timeout 15)"
kill -STOP $apid
wait_for 10 is_stopped $apid || fail "run A did not stop"
cp a.h5 a.copy && cp a.h5.claim claim.copy
ls a.h5* >ls.before

"$TS" run job.ini -o a.h5 $SLOW --resume 2>err; rc=$?
[ $rc = 2 ] || fail "second run --resume: exit $rc, want 2: $(cat err)"
one_line err "second run"
grep -q "^ticketsweep: a.h5: is being written by another ticketsweep run (host $HOST, PID $apid, running on this host, last heartbeat [0-9]* s ago; claim a.h5.claim): wait for it to end or stop it" err ||
    fail "refusal message: $(cat err)"
"$TS" run job.ini -o a.h5 $SLOW --force 2>err; rc=$?
[ $rc = 2 ] && grep -q "PID $apid" err || fail "--force stole a live claim: exit $rc: $(cat err)"
mpirun_ts 2 run job.ini -o a.h5 $SLOW --resume >/dev/null 2>err; rc=$?
[ $rc = 2 ] && grep -q "PID $apid" err || fail "second run under mpirun: exit $rc: $(cat err)"
"$TS" merge a.h5 fast.h5 --force 2>err; rc=$?
[ $rc = 2 ] && grep -q "a.h5: is being written by another ticketsweep run (host $HOST, PID $apid" err ||
    fail "merge into a claimed file: exit $rc: $(cat err)"
"$TS" status a.h5 >status.out 2>err; rc=$?
[ $rc = 3 ] || fail "status during a run: exit $rc, want 3 (trials pending): $(cat err)"
grep -q "^a.h5: 8 trials" status.out || fail "status output: $(tail -1 status.out)"

cmp a.h5 a.copy || fail "refused runs changed the results file"
cmp a.h5.claim claim.copy || fail "refused runs or status changed the claim"
ls a.h5* >ls.after
cmp ls.before ls.after || fail "refused runs left files: $(diff ls.before ls.after)"
kill -CONT $apid
wait $apid || { cat a.log; fail "run A failed"; }
[ ! -e a.h5.claim ] || fail "run A left its claim"
same_data ref.h5 a.h5 || fail "run A's data differ from a run alone"

# status claims nothing
"$TS" status ref.h5 >/dev/null 2>&1 || fail "status"
[ ! -e ref.h5.claim ] || fail "status made a claim"

# --- 2. kill -9, then resume on this host: the dead run's claim is taken over -------
"$TS" run job.ini -o k.h5 $SLOW 2>k.log &
kpid=$!
wait_for 240 has_done_line k.log || { cat k.log; fail "run K did not start its trials"; }
kill -9 $kpid
wait $kpid
[ -e k.h5.claim ] || fail "kill -9 should leave the claim"
"$TS" run job.ini -o k.h5 $SLOW --resume 2>log || { cat log; fail "resume after kill -9"; }
grep -q "^ticketsweep: k.h5: taking over the stale claim of host $HOST, PID $kpid (PID $kpid is gone)" log ||
    fail "takeover message: $(grep claim log)"
[ ! -e k.h5.claim ] || fail "the resumed run left its claim"
same_data ref.h5 k.h5 || fail "resumed data differ from an uninterrupted run"

# --- 3. the claim goes on an interrupted exit and on an error ----------------------
"$TS" run job.ini -o t.h5 $SLOW --grace 0 2>t.log &
tpid=$!
wait_for 240 has_done_line t.log || { cat t.log; fail "run T did not start its trials"; }
kill -TERM $tpid
wait $tpid; rc=$?
[ $rc = 3 ] || { cat t.log; fail "SIGTERM: exit $rc, want 3"; }
[ ! -e t.h5.claim ] || fail "the interrupted run left its claim"
"$TS" run job.ini -o e.h5 --set data.train_images="$W/none" 2>err; rc=$?
[ $rc = 2 ] || fail "missing data: exit $rc"
[ ! -e e.h5.claim ] && [ ! -e e.h5 ] || fail "the failed run left files: $(ls e.h5*)"

# --- 4. claims from another host -----------------------------------------------------
now=$(date +%s)
forge f.h5 elsewhere.invalid 4242 $((now - 3600))
"$TS" run job.ini -o f.h5 2>log || { cat log; fail "old claim from another host"; }
grep -q "^ticketsweep: f.h5: taking over the stale claim of host elsewhere.invalid, PID 4242 (no heartbeat for 36[0-9][0-9] s, more than the claim timeout of 300 s)" log ||
    fail "takeover message: $(grep claim log)"
[ ! -e f.h5.claim ] || fail "claim left after the takeover run"
same_data fast.h5 f.h5 || fail "data after a takeover differ"

forge g.h5 elsewhere.invalid 4242 "$now"
cp g.h5.claim claim.copy
ls g.h5* >ls.before
"$TS" run job.ini -o g.h5 2>err; rc=$?
[ $rc = 2 ] || fail "fresh claim from another host: exit $rc: $(cat err)"
one_line err "fresh claim"
grep -q "g.h5: is being written by another ticketsweep run (host elsewhere.invalid, PID 4242, last heartbeat [0-9]* s ago; claim g.h5.claim): .*if host elsewhere.invalid is down, the claim expires 300 s after its last heartbeat (--claim-timeout)" err ||
    fail "refusal message: $(cat err)"
ls g.h5* >ls.after
cmp ls.before ls.after && cmp g.h5.claim claim.copy || fail "the refused run touched files"
# an existing file with --force: untouched
cp fast.h5 g.h5 && cp fast.h5 g.copy
"$TS" run job.ini -o g.h5 --force 2>err; rc=$?
[ $rc = 2 ] && cmp g.h5 g.copy || fail "--force over a live claim from another host: exit $rc: $(cat err)"
# 100 s without heartbeat: live by default, stale with --claim-timeout 60
forge g.h5 elsewhere.invalid 4242 $((now - 100))
"$TS" run job.ini -o g.h5 --resume 2>err; rc=$?
[ $rc = 2 ] || fail "100 s old claim, timeout 300: exit $rc"
"$TS" run job.ini -o g.h5 --resume --claim-timeout 60 2>log || { cat log; fail "--claim-timeout 60"; }
grep -q "taking over the stale claim of host elsewhere.invalid" log || fail "no takeover message: $(cat log)"
"$TS" run job.ini -o g.h5 --claim-timeout 5 2>err; rc=$?
[ $rc = 2 ] && grep -q -- "--claim-timeout '5': expected seconds >= 15" err || fail "--claim-timeout 5: exit $rc: $(cat err)"

# Slurm requeue: a claim of an earlier run of this job is the dead predecessor's
forge s.h5 node9.invalid 77 "$now" 4711 0
SLURM_JOB_ID=4712 SLURM_RESTART_COUNT=1 "$TS" run job.ini -o s.h5 2>err; rc=$?
[ $rc = 2 ] || fail "another Slurm job's live claim: exit $rc"
SLURM_JOB_ID=4711 SLURM_RESTART_COUNT=1 "$TS" run job.ini -o s.h5 2>log || { cat log; fail "requeued run"; }
grep -q "taking over the stale claim of host node9.invalid, PID 77 (an earlier run (restart 0) of this Slurm job 4711" log ||
    fail "requeue takeover message: $(cat log)"

# --- 5. merge claims its output --------------------------------------------------
for i in 0 1; do
    "$TS" run job.ini --shard $i/2 -o sh$i.h5 2>log || { cat log; fail "shard $i"; }
done
forge m.h5 elsewhere.invalid 4242 "$now"
"$TS" merge m.h5 sh0.h5 sh1.h5 2>err; rc=$?
[ $rc = 2 ] || fail "merge into a claimed file: exit $rc: $(cat err)"
one_line err "merge refusal"
grep -q "m.h5: is being written by another ticketsweep run (host elsewhere.invalid, PID 4242" err || fail "merge refusal: $(cat err)"
[ ! -e m.h5 ] && [ ! -e m.h5.merging ] || fail "the refused merge left files"
"$TS" merge m.h5 sh0.h5 sh1.h5 --force 2>err; rc=$?
[ $rc = 2 ] || fail "merge --force stole a live claim"
forge m.h5 elsewhere.invalid 4242 $((now - 3600))
"$TS" merge m.h5 sh0.h5 sh1.h5 2>log || { cat log; fail "merge over a stale claim"; }
grep -q "taking over the stale claim of host elsewhere.invalid" log || fail "merge takeover message: $(cat log)"
[ ! -e m.h5.claim ] || fail "merge left its claim"
same_data fast.h5 m.h5 || fail "merged data differ"

# --- 6. damaged claims: stale, with a warning, never a crash -----------------------
sed -n '1,8p' claim.copy >cut.claim # a real claim cut short
printf 'format = ticketsweep-claim\nformat_vers' >half.claim
for bad in empty garbage binary cut half; do
    case $bad in
        empty) : >b.h5.claim ;;
        garbage) echo "this is not a claim" >b.h5.claim ;;
        binary) head -c 300 /dev/urandom >b.h5.claim ;;
        *) cp $bad.claim b.h5.claim ;;
    esac
    rm -f b.h5
    "$TS" run job.ini -o b.h5 2>log; rc=$?
    [ $rc = 0 ] || { cat log; fail "$bad claim: exit $rc"; }
    [ "$(grep -c "warning: b.h5.claim: not a valid claim" log)" = 1 ] || fail "$bad claim: warning: $(grep claim log)"
    [ ! -e b.h5.claim ] || fail "$bad claim: claim left"
done
exit 0
