#!/bin/sh
# [train] kernels end to end: a sweep whose fully connected products all run
# over the survivors (kernels = sparse) is the same data on 1 and 2 ranks,
# keeps pruned weights exactly 0, and learns as the dense sweep does (within
# float rounding: the accuracies close, not equal); auto's round 0 (nothing
# pruned, every layer dense) is the dense sweep's bit for bit. A results
# file made before the key existed (no train.kernels in its config) was made
# dense: status reads it, a resume with the default names the key, and a
# resume with kernels = dense carries on.
# Convolutions: with kernels = auto a conv sweep (a Winograd layer, an
# evaluation batch whose last slice is shorter than the training batch) runs
# on oneDNN where the build has it (/nodes/conv says so), gives the same data
# run to run and on 1 and 2 ranks whatever OMP_NUM_THREADS says, keeps
# pruned weights exactly 0 and learns as kernels = dense (im2col) does.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
run() { out=$1; shift; "$TS" run "$W/job.ini" -o "$out" "$@" 2>"$W/log" || { cat "$W/log"; fail "run $*"; }; }
run "$W/sparse1.h5" --set train.kernels=sparse --set output.weights=final
mpirun_ts 2 run "$W/job.ini" -o "$W/sparse2.h5" --set train.kernels=sparse --set output.weights=final \
    2>"$W/log" || { cat "$W/log"; fail "run -np 2"; }
same_data "$W/sparse1.h5" "$W/sparse2.h5" || fail "kernels = sparse: 1 and 2 ranks differ"
run "$W/dense.h5" --set train.kernels=dense --set output.weights=final
run "$W/auto.h5" --set output.weights=final
PYTHONPATH="$TOP/tests" "$PY" - "$W" <<'PY' || fail "sparse against dense"
import sys
import h5py
import numpy as np
from pycheck import check, done
w = sys.argv[1]
s, d, a = (h5py.File(f"{w}/{n}.h5", "r") for n in ("sparse1", "dense", "auto"))
# pruned weights exactly 0 in every stored training: the mask of a node's
# round is its row of /nodes/mask (bitsets per layer), so compare with the
# dense file's zeros instead: where dense has a pruned weight (0), sparse too
ws, wd = s["nodes/weights"][:], d["nodes/weights"][:]
check(ws.shape == wd.shape, "weights shapes")
check(np.all(ws[wd == 0] == 0), "a weight dense pruned (0) is not 0 on the sparse path")
diff = np.abs(ws - wd).max()
check(0 < diff < 0.05, f"sparse and dense weights: largest difference {diff} (rounding, not a bug, expected small)")
for arm in ("", "controls/reinit/", "controls/random/"):
    ts, td = s[arm + "curves/test_acc"][:], d[arm + "curves/test_acc"][:]
    ok = ~np.isnan(td)
    gap = np.abs(ts[ok] - td[ok]).max()
    check(gap <= 0.05, f"{arm or 'ticket '}test accuracy: sparse and dense differ by up to {gap}")
r0 = d["nodes/round"][:] == 0
check(r0.any() and np.array_equal(a["nodes/weights"][:][r0], wd[r0]),
      "auto's round 0 (every layer whole: dense kernels) is not the dense run's")
done()
PY

# a file from before train.kernels: its config without the key
older_file "$W/dense.h5" "$W/old.h5" kernels
"$TS" status "$W/old.h5" >"$W/status" 2>&1 || { cat "$W/status"; fail "status of a file made before the key"; }
"$TS" run "$W/job.ini" -o "$W/old.h5" --resume --set output.weights=final >"$W/log" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$W/log"; fail "resume with kernels = auto of a dense-made file: exit $rc, not 2"; }
grep -q "train.kernels (dense -> auto)" "$W/log" || { cat "$W/log"; fail "the message does not name train.kernels"; }
"$TS" run "$W/job.ini" -o "$W/old.h5" --resume --set output.weights=final --set train.kernels=dense \
    >"$W/log" 2>&1 || { cat "$W/log"; fail "resume with kernels = dense"; }

# --- convolutions ---
cifar_data "$W/c" 150 60
cat >"$W/conv.ini" <<JOB
[data]
format = cifar10
train_images = $W/c/data_batch_1.bin, $W/c/data_batch_2.bin
test_images = $W/c/test_batch.bin
validation = 50
[model]
conv = 16, 16, pool, 16, pool
hidden = 32
[train]
batch = 12
iterations = 40
eval_every = 20
lr = 0.002
[prune]
conv_scale = 0.5
controls = random
[sweep]
rates = 0.6
rounds = 1
seeds = 1
[output]
weights = final
JOB
expect="im2col+sgemm"
grep -q TS_HAVE_DNNL "$TOP/$BUILD/config.mk" && expect="oneDNN"
"$TS" run "$W/conv.ini" -o "$W/ca1.h5" 2>"$W/log" || { cat "$W/log"; fail "conv, auto"; }
grep -q "convolutions $expect" "$W/log" || { grep numerics "$W/log"; fail "the context does not say: convolutions $expect"; }
OMP_NUM_THREADS=2 DNNL_VERBOSE=1 "$TS" run "$W/conv.ini" -o "$W/ca2.h5" >"$W/out" 2>"$W/log" ||
    { cat "$W/log"; fail "conv, auto, again"; }
# oneDNN's own word: one thread, whatever OMP_NUM_THREADS says
[ "$expect" != oneDNN ] || grep -q "^onednn_verbose,info,cpu,runtime:OpenMP,nthr:1$" "$W/out" ||
    { grep -m 3 verbose "$W/out"; fail "oneDNN does not run on one thread"; }
same_data "$W/ca1.h5" "$W/ca2.h5" || fail "conv, kernels = auto: two runs differ"
OMP_NUM_THREADS=3 mpirun_ts 2 run "$W/conv.ini" -o "$W/ca3.h5" 2>"$W/log" || { cat "$W/log"; fail "conv, auto, -np 2"; }
same_data "$W/ca1.h5" "$W/ca3.h5" || fail "conv, kernels = auto: 1 and 2 ranks differ"
"$TS" run "$W/conv.ini" -o "$W/cd.h5" --set train.kernels=dense 2>"$W/log" || { cat "$W/log"; fail "conv, dense"; }
"$PY" - "$W/ca1.h5" "$W/cd.h5" "$expect" <<'PY' || fail "conv: auto against dense"
import sys
import h5py
import numpy as np
a, d = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
conv = {v.decode() for v in a["nodes/conv"][:]}
assert len(conv) == 1 and next(iter(conv)).startswith(sys.argv[3]), conv
assert {v.decode() for v in d["nodes/conv"][:]} == {"im2col+sgemm"}
wa, wd = a["nodes/weights"][:], d["nodes/weights"][:]
# as many weights pruned, and exactly 0, on both paths (which ones may
# differ at the threshold, by rounding)
assert (wa == 0).sum() == (wd == 0).sum() > wa.size // 10, ((wa == 0).sum(), (wd == 0).sum())
diff = np.abs(wa - wd).max()
assert diff < 0.05, f"auto against dense weights: {diff}"
# round 0 (nothing pruned: every fully connected layer dense under auto too)
# differs only by the convolutions' kernels: not at all without oneDNN
r0 = a["nodes/round"][:] == 0
d0 = np.abs(wa[r0] - wd[r0]).max()
assert (d0 == 0) if sys.argv[3] == "im2col+sgemm" else (d0 > 0), f"round 0, auto against dense: {d0}"
for arm in ("", "controls/random/"):
    ta, td = a[arm + "curves/test_acc"][:], d[arm + "curves/test_acc"][:]
    ok = ~np.isnan(td)
    assert np.abs(ta[ok] - td[ok]).max() <= 0.05, (arm, ta, td)
PY
# a conv file of an earlier release (no /nodes/conv: its convolutions ran on
# im2col) is not resumed on oneDNN, which would mix the two unrecorded
cp "$W/ca1.h5" "$W/cold.h5"
"$PY" -c 'import h5py,sys; f=h5py.File(sys.argv[1],"r+"); f["nodes"].pop("conv")' "$W/cold.h5"
"$TS" run "$W/conv.ini" -o "$W/cold.h5" --resume >"$W/log" 2>&1
rc=$?
if [ "$expect" = oneDNN ]; then
    [ $rc -eq 2 ] && grep -q "no /nodes/conv.*DNNL_DIR=no" "$W/log" ||
        { cat "$W/log"; fail "resume of a conv file without /nodes/conv on oneDNN: exit $rc"; }
else
    [ $rc -eq 0 ] || { cat "$W/log"; fail "resume of a conv file without /nodes/conv on im2col: exit $rc"; }
fi
"$TS" status "$W/cold.h5" >"$W/log" 2>&1 || { cat "$W/log"; fail "status of a conv file without /nodes/conv"; }
exit 0
