#!/bin/sh
# `ticketsweep status` and the commands' --help: status prints the job (model,
# data, schedule, grid), a line per trial with `partial` for a trial some of
# whose trainings are done (read from /nodes/status alone), the counts, and the
# command that resumes the sweep; it exits like merge (0 complete, 3 some
# pending, 4 some failed), changes nothing and claims nothing. `status --job`
# writes a job file that resumes the sweep. Each command answers --help with
# its own usage on stdout, exit 0.
. "$(dirname "$0")/lib.sh"
[ -x "$TS" ] || fail "$TS is missing: run make first"
"$PY" -c 'import h5py' 2>/dev/null || skip "python3-h5py is not installed"
cd "$W" || exit 1
small_data data
tiny_job job.ini data

# --- --help of each command ---------------------------------------------------
for cmd in run merge status; do
    "$TS" $cmd --help >help.out 2>help.err; rc=$?
    [ $rc = 0 ] || fail "$cmd --help: exit $rc"
    [ ! -s help.err ] || fail "$cmd --help wrote on stderr: $(cat help.err)"
    head -n 1 help.out | grep -q "^usage: ticketsweep $cmd " || fail "$cmd --help: first line $(head -n 1 help.out)"
    grep -q "Exit status of $cmd" help.out || fail "$cmd --help does not give its exit status"
    for other in run merge status; do
        [ $other = $cmd ] || ! grep -q "^usage: ticketsweep $other" help.out || fail "$cmd --help shows $other's usage"
    done
done
"$TS" status -h | grep -q "^usage: ticketsweep status" || fail "status -h"
"$TS" merge out.h5 a.h5 --help | grep -q "^usage: ticketsweep merge" || fail "merge ... --help"
"$TS" run --help | grep -q "one of: custom, lenet300, conv2, conv4, conv6" || fail "run --help does not list the arch values"
"$TS" --help >help.out && grep -q "^usage: ticketsweep run" help.out && grep -q "ticketsweep merge" help.out &&
    grep -q "ticketsweep status" help.out || fail "--help lacks a command"
"$TS" stauts x.h5 2>err; rc=$?
[ $rc = 2 ] && grep -q "unknown command 'stauts'; did you mean 'status'?" err || fail "misspelt command: exit $rc: $(cat err)"

# --- a partial file: shard 1/3 leaves trials pending, some of them partly done -------
"$TS" run job.ini -o part.h5 --shard 1/3 >run.log 2>&1 || { cat run.log; fail "shard run"; }
md5sum part.h5 >part.md5
"$TS" status part.h5 >st.out 2>st.err; rc=$?
[ $rc = 3 ] || { cat st.out st.err; fail "status of a file with pending trials: exit $rc, want 3"; }
[ ! -s st.err ] || fail "status wrote on stderr: $(cat st.err)"
md5sum -c --quiet part.md5 || fail "status changed the file"
[ ! -e part.h5.claim ] || fail "status made a claim"
# the job
grep -q "^  model     custom: hidden 16, 8; input 1x8x8" st.out || fail "model line: $(grep model st.out)"
grep -q "^  data      idx: train data/train-images, data/train-labels; test data/test-images, data/test-labels" st.out ||
    fail "data line: $(grep ' data ' st.out)"
grep -q "^  schedule  60 iterations a round, evaluated every 20; adam, lr 0.0012, batch 20" st.out ||
    fail "schedule line: $(grep schedule st.out)"
grep -q "^  grid      rates 0.5, 0.8 x rounds 1, 2 x seeds 1, 2 = 8 trials; controls reinit, random" st.out ||
    fail "grid line: $(grep grid st.out)"
# the trials, against the file: done where /trials/status says so; partial where some
# of the trial's trainings (/trials/nodes -> /nodes/status) are done; pending otherwise
"$PY" - part.h5 st.out <<'PYEOF' || fail "trial lines"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
st, nst, nodes = f["trials/status"][:], f["nodes/status"][:], f["trials/nodes"][:]
lines = {int(l.split()[0]): l.split() for l in open(sys.argv[2]) if l[:1].isdigit()}
assert sorted(lines) == list(range(len(st))), sorted(lines)
seen = set()
for t in range(len(st)):
    x = set(int(v) for v in nodes[t].ravel() if v >= 0)
    done = sum(nst[v] == 1 for v in x)
    want = {1: "done", 2: "failed"}.get(int(st[t]), "partial" if done else "pending")
    got = lines[t]
    assert got[4] == want, (t, got, want)
    assert got[5] == f"{done}/{len(x)}", (t, got, done, len(x))
    seen.add(want)
assert {"done", "partial"} <= seen, seen
PYEOF
n_done=$(grep -c "^[0-9].* done " st.out)
n_part=$(grep -c "^[0-9].* partial " st.out)
grep -q "^part.h5: 8 trials: $n_done done, 0 failed, $((8 - n_done)) pending ($n_part of them partial: some of their trainings done)\$" st.out ||
    fail "trial counts: $(grep ' trials: ' st.out)"
grep -q "^part.h5: [0-9]* trainings ([0-9]* without sharing): [0-9]* done, 0 failed, [0-9]* pending" st.out ||
    fail "training counts: $(grep ' trainings ' st.out)"
grep -q "^part.h5: to finish the sweep: mpirun ... ticketsweep run JOB.ini -o part.h5 --resume\$" st.out ||
    fail "no resume command: $(tail -n 2 st.out)"

# --- status --job gives the job back; resuming with it completes the sweep ----------
"$TS" status part.h5 --job >back.ini || fail "status --job"
"$TS" run back.ini -o part.h5 --resume >run2.log 2>&1 || { cat run2.log; fail "resume with the job of status --job"; }
"$TS" status part.h5 >st2.out; rc=$?
[ $rc = 0 ] || fail "status of a complete file: exit $rc, want 0"
grep -q "^part.h5: 8 trials: 8 done, 0 failed, 0 pending\$" st2.out || fail "complete counts: $(grep ' trials: ' st2.out)"
grep -q "to finish\|--resume" st2.out && fail "a resume command for a complete file"
"$TS" run job.ini -o ref.h5 >/dev/null 2>&1 || fail "reference run"
same_data ref.h5 part.h5 || fail "shard + resume from status --job differs from one run"

# --- a failed trial (none pending): exit 4 and the command that runs it again --------
cp ref.h5 failed.h5
"$PY" -c 'import h5py,sys; f=h5py.File(sys.argv[1],"r+"); f["trials/status"][3]=2; f["trials/error"][3]=b"diverged: test"' failed.h5
"$TS" status failed.h5 >st3.out; rc=$?
[ $rc = 4 ] || fail "status with a failed trial: exit $rc, want 4"
grep -q "^3 .* failed .*diverged: test" st3.out || fail "failed line: $(grep '^3 ' st3.out)"
grep -q "^failed.h5: to run the failed trials again: mpirun ... ticketsweep run JOB.ini -o failed.h5 --resume" st3.out ||
    fail "no resume command for failed trials: $(tail -n 2 st3.out)"

# --- a per_round job with a paper architecture -----------------------------------
sed -e '/^hidden/d' -e 's/^rates = .*/per_round = 0.3/' -e 's/^seeds = .*/seeds = 4/' job.ini >pr.ini
"$TS" run pr.ini -o pr.h5 --set model.arch=lenet300 --set train.iterations=20 >pr.log 2>&1 || { cat pr.log; fail "per_round run"; }
"$TS" status pr.h5 >st4.out || fail "status of the per_round file"
grep -q "^  model     lenet300: hidden 300, 100;" st4.out || fail "arch: $(grep model st4.out)"
grep -q "^  grid      per_round 0.3 x rounds 1, 2 x seeds 4 = 2 trials; controls reinit, random" st4.out ||
    fail "per_round grid: $(grep grid st4.out)"

# --- bad use --------------------------------------------------------------------
"$TS" status part.h5 --bogus 2>err; rc=$?
[ $rc = 2 ] && grep -q "unknown option '--bogus'" err || fail "unknown option: exit $rc: $(cat err)"
exit 0
