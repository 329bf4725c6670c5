#!/bin/sh
# Resume training by training: a per_round chain (one seed, 6 rounds, the
# reinit control: 13 trainings) killed with kill -9 mid-chain, the whole job
# or one worker rank, after a given number of trainings were reported done.
# The file keeps every training reported done (the loss is at most the
# trainings in flight), --resume runs exactly the trainings not done, and the
# result equals an uninterrupted run's, bit for bit.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
cat >"$W/job.ini" <<EOF
[data]
train_images = $W/d/train-images
train_labels = $W/d/train-labels
test_images = $W/d/test-images
test_labels = $W/d/test-labels
validation = 200
[model]
hidden = 64, 32
[train]
batch = 20
iterations = 20000
eval_every = 5000
; the test kills ranks mid-training: the sparse kernels would finish this
; small net's thin rounds before the kill lands ("no worker process found")
kernels = dense
[prune]
controls = reinit
rewind_iteration = 10
[sweep]
per_round = 0.5
rounds = 3, 6
seeds = 5
EOF
N=13

mpirun_ts 2 run "$W/job.ini" -o "$W/ref.h5" 2>"$W/log" || { cat "$W/log"; fail "reference run"; }
grep -q "trainings: $N distinct of 20" "$W/log" || { cat "$W/log"; fail "expected $N distinct trainings of 20"; }

# done_nodes FILE: trainings with status done in the file
done_nodes() {
    "$PY" -c 'import h5py,sys; print(int((h5py.File(sys.argv[1],"r")["nodes/status"][:] == 1).sum()))' "$1"
}

# kill_after K NP FILE [worker]: start a run, kill -9 all of it (or one worker
# rank) once rank 0 has reported K trainings done; prints what it reported
kill_after() {
    mpirun_session "$W/klog" "$2" run "$W/job.ini" -o "$3" --resume
    pid=$!
    i=0
    until grep -q "^progress: $1/" "$W/klog" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 1200 ] || { kill_session "$pid"; fail "no progress line $1/ in 120 s"; }
        sleep 0.1
    done
    if [ "${4:-}" = worker ]; then
        kill_worker "$pid"
        wait "$pid" 2>/dev/null # the job ends by itself
    fi
    kill_session "$pid"
    sed -n 's/^progress: \([0-9]*\)\/.*/\1/p' "$W/klog" | tail -n 1
}

# the whole job, twice in a row (after 3 trainings, then 4 more of the resumed run)
for k in 3 4; do
    reported=$(kill_after $k 2 "$W/k.h5") || exit 1
    before=$(done_nodes "$W/k.h5")
    [ "$before" -ge "$reported" ] || fail "kill after $reported reported trainings: the file keeps $before"
    [ "$before" -lt $N ] || fail "the kill came after the end ($before of $N done)"
done
mpirun_ts 2 run "$W/job.ini" -o "$W/k.h5" --resume 2>"$W/log" || { cat "$W/log"; fail "resume"; }
grep -q "; $((N - before)) to run" "$W/log" || { grep trainings "$W/log"; fail "resume should run $((N - before)) trainings"; }
same_data "$W/ref.h5" "$W/k.h5" || fail "resumed chain differs from an uninterrupted run"

# one worker rank of three, mid-chain; then resume on one process
reported=$(kill_after 5 3 "$W/w.h5" worker) || exit 1
before=$(done_nodes "$W/w.h5")
[ "$before" -ge "$reported" ] || fail "worker killed after $reported reported trainings: the file keeps $before"
"$TS" run "$W/job.ini" -o "$W/w.h5" --resume 2>"$W/log" || { cat "$W/log"; fail "resume after a dead worker"; }
grep -q "; $((N - before)) to run" "$W/log" || { grep trainings "$W/log"; fail "resume should run $((N - before)) trainings"; }
same_data "$W/ref.h5" "$W/w.h5" || fail "chain after a dead worker differs"
echo "kept $before of $N trainings after killing a worker at $reported reported"
exit 0
