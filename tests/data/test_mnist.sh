#!/bin/sh
# tests/data/test_mnist.sh - the paper's LeNet-300-100 job on the real MNIST.
#
# Runs jobs/lenet300-paper.ini as it is, from the repository root (its data
# paths are relative: data/mnist/...), on the files `make data` fetched, cut
# down on the command line to one trial of one pruning round and 300
# iterations a training. Checks: exit 0, the trial done, the images 28x28, the
# job's own data paths in the file, and a test accuracy MNIST reaches within a
# few hundred Adam steps (> 0.9 dense and pruned; measured 0.94-0.95).
# With DATA_DIR other than data/, the data paths are overridden to point there.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
cd "$TOP" || fail "cd $TOP"
D=${DATA_DIR:-data}
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -f "$D/mnist/$f" ] || fail "$D/mnist/$f is missing: run make data"
done
set --
if [ "$(cd "$D" && pwd)" != "$TOP/data" ]; then
    set -- --set "data.train_images=$D/mnist/train-images-idx3-ubyte" \
        --set "data.train_labels=$D/mnist/train-labels-idx1-ubyte" \
        --set "data.test_images=$D/mnist/t10k-images-idx3-ubyte" \
        --set "data.test_labels=$D/mnist/t10k-labels-idx1-ubyte"
fi
"$TS" run jobs/lenet300-paper.ini -o "$W/mnist.h5" --set train.iterations=300 \
    --set train.eval_every=100 --set sweep.per_round=0.67232 --set sweep.rounds=1 \
    --set sweep.seeds=1 --set prune.controls=none "$@" 2>"$W/log" ||
    { rc=$?; cat "$W/log"; fail "run exited $rc"; }
"$PY" - "$W/mnist.h5" "$D/mnist/" <<'PY' || fail "results"
import h5py, sys
f = h5py.File(sys.argv[1], "r")
assert list(f["trials/status"][:]) == [1], f["trials/status"][:]
assert list(f.attrs["input_shape"]) == [1, 28, 28], f.attrs["input_shape"]
cfg = f.attrs["config"]
cfg = cfg.decode() if isinstance(cfg, bytes) else cfg
assert sys.argv[2] + "train-images-idx3-ubyte" in cfg, cfg
acc = f["summary/final_test_acc"][0]
print("MNIST final test accuracy per round", acc, "density", f["summary/density"][0])
assert len(acc) == 2 and min(acc) > 0.9, acc
PY
exit 0
