#!/bin/sh
# Results do not depend on the threads: a sweep's file is the same bytes at
# --threads 1, 3 (more than the cores here) and on 2 ranks of 2 threads, for
# an MLP (dense and auto: sparse kernels on the thin rounds) and a
# convolutional net (kernels dense: im2col; auto: oneDNN's convolutions
# where the build has them), and a run resumed at another thread count
# finishes as an uninterrupted one. A file from before train.chunks (one
# piece: the earlier release's bits) resumes only as such.
. "$(dirname "$0")/lib.sh"
# small nets split between the threads as wide ones do (par.h)
export TICKETSWEEP_THREAD_MIN_WORK=0

small_data "$W/d" 1200 300
cat >"$W/mlp.ini" <<JOB
[data]
train_images = $W/d/train-images
train_labels = $W/d/train-labels
test_images = $W/d/test-images
test_labels = $W/d/test-labels
validation = 200
[model]
hidden = 200, 100
[train]
batch = 24
iterations = 60
eval_every = 20
[prune]
controls = random
[sweep]
rates = 0.9
rounds = 3
seeds = 1, 2
JOB
cifar_data "$W/c" 150 60
cat >"$W/conv.ini" <<JOB
[data]
format = cifar10
train_images = $W/c/data_batch_1.bin, $W/c/data_batch_2.bin
test_images = $W/c/test_batch.bin
validation = 50
[model]
conv = 16, 16, pool
hidden = 32
[train]
batch = 12
iterations = 30
eval_every = 10
[prune]
controls = random
[sweep]
rates = 0.5
rounds = 1
seeds = 1, 2
JOB

# same_bits JOB NAME [--set ...]: the job at 1 thread, at 3, and on 2 ranks of 2
same_bits() {
    job=$1 name=$2
    shift 2
    "$TS" run "$job" -o "$W/$name-t1.h5" --threads 1 "$@" >"$W/log" 2>&1 || { cat "$W/log"; fail "$name at 1 thread"; }
    "$TS" run "$job" -o "$W/$name-t3.h5" --threads 3 "$@" >"$W/log" 2>&1 || { cat "$W/log"; fail "$name at 3 threads"; }
    same_data "$W/$name-t1.h5" "$W/$name-t3.h5" || fail "$name: 3 threads' file differs from 1 thread's"
    mpirun_ts 2 run "$job" -o "$W/$name-r2t2.h5" --threads 2 "$@" >"$W/log" 2>&1 || { cat "$W/log"; fail "$name on 2 ranks x 2 threads"; }
    same_data "$W/$name-t1.h5" "$W/$name-r2t2.h5" || fail "$name: 2 ranks x 2 threads' file differs from 1 thread's"
}

same_bits "$W/mlp.ini" mlp-dense --set train.kernels=dense
same_bits "$W/mlp.ini" mlp-auto --set train.kernels=auto
same_bits "$W/conv.ini" conv-dense --set train.kernels=dense
same_bits "$W/conv.ini" conv-auto --set train.kernels=auto
same_bits "$W/conv.ini" conv-one --set train.chunks=1
"$PY" - "$W/mlp-auto-t1.h5" "$W/conv-auto-t1.h5" <<'PY' || fail "the runs did not exercise the kernels they were meant to"
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    # the thin rounds (10 % and less of fc1) run over their survivors under auto
    assert f.attrs["config"].decode().count("kernels = auto") == 1
with h5py.File(sys.argv[2], "r") as f:
    conv = f["nodes/conv"][0].decode()
    print("convolutions:", conv)
PY

# the default: the cores of the affinity mask, shared by the node's ranks;
# and the run's context says how many
"$TS" run "$W/conv.ini" -o "$W/conv-default.h5" >"$W/log" 2>&1 || { cat "$W/log"; fail "default threads"; }
cores=$(env -u OMP_NUM_THREADS nproc) # nproc obeys OMP_NUM_THREADS
grep -q "threads per rank: $cores" "$W/log" || { cat "$W/log"; fail "the run's context does not say $cores threads per rank"; }
same_data "$W/conv-auto-t1.h5" "$W/conv-default.h5" || fail "the default threads' file differs"
mpirun_ts 2 run "$W/conv.ini" -o "$W/conv-default2.h5" >"$W/log" 2>&1 || { cat "$W/log"; fail "default threads, 2 ranks"; }
want=$((cores / 2)); [ $want -ge 1 ] || want=1
grep -q "threads per rank: $want" "$W/log" || { cat "$W/log"; fail "2 unbound ranks do not share the $cores cores ($want threads each)"; }

# a run stopped part way and resumed at another thread count
"$TS" run "$W/mlp.ini" -o "$W/stop.h5" --threads 1 --set train.iterations=600 --set train.eval_every=200 \
    >"$W/log" 2>&1 &
pid=$!
wait_until 60 sh -c "grep -q 'done on rank' '$W/log'" || { kill $pid; fail "no training finished"; }
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 3 ] || [ $rc -eq 0 ] || { cat "$W/log"; fail "stopped run: exit $rc"; }
"$TS" run "$W/mlp.ini" -o "$W/stop.h5" --threads 3 --resume --set train.iterations=600 --set train.eval_every=200 \
    >"$W/log" 2>&1 || { cat "$W/log"; fail "resume at 3 threads"; }
"$TS" run "$W/mlp.ini" -o "$W/whole.h5" --threads 2 --set train.iterations=600 --set train.eval_every=200 \
    >"$W/log" 2>&1 || { cat "$W/log"; fail "uninterrupted run"; }
same_data "$W/whole.h5" "$W/stop.h5" || fail "a run resumed at another thread count differs from an uninterrupted one"

# a file from before train.chunks: its batches were one piece
older_file "$W/conv-one-t1.h5" "$W/old.h5" chunks
"$TS" run "$W/conv.ini" -o "$W/old.h5" --resume >"$W/log" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$W/log"; fail "resume of a file from before train.chunks with chunks = auto: exit $rc, not 2"; }
grep -q "train.chunks (1 -> 0)" "$W/log" || { cat "$W/log"; fail "the message does not name train.chunks"; }
"$TS" run "$W/conv.ini" -o "$W/old.h5" --resume --set train.chunks=1 --threads 2 >"$W/log" 2>&1 ||
    { cat "$W/log"; fail "resume with train.chunks = 1"; }
echo "ok"
