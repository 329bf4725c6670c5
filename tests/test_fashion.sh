#!/bin/sh
# End to end on the real data: LeNet-300-100 on Fashion-MNIST (Debian's
# dataset-fashion-mnist) for a short budget learns a sane accuracy, dense and
# pruned, and the file's numbers agree with themselves.
. "$(dirname "$0")/lib.sh"
D=/usr/share/datasets/fashion-mnist
[ -e $D/train-images-idx3-ubyte.gz ] || fail "dataset-fashion-mnist is not installed (make deps)"
cat >"$W/f.ini" <<JOB
[train]
iterations = 600
eval_every = 200
[sweep]
rates = 0.8
rounds = 2
seeds = 1
[prune]
controls = random
JOB
"$TS" run "$W/f.ini" -o "$W/f.h5" 2>"$W/log" || { cat "$W/log"; fail "run"; }
"$PY" - "$W/f.h5" "$TOP/tools/python" <<'PY' || fail "accuracy or consistency"
import h5py, numpy as np, sys
sys.path.insert(0, sys.argv[2])
import ticketsweep
f = h5py.File(sys.argv[1], "r")
masks = ticketsweep.load(sys.argv[1]).mask_rounds(0)
acc = f["summary/final_test_acc"][0]
es = f["summary/early_stop_test_acc"][0]
dens = f["summary/density"][0]
print("final test acc per round", acc, "density", dens)
assert acc[0] > 0.78, acc            # dense LeNet after 600 Adam steps: ~0.82-0.84
assert acc[2] > 0.75, acc            # 20 % of the weights left
assert abs(dens[2] - 0.2) < 0.01, dens
# early-stop accuracy is the test accuracy at the minimum validation loss
vl, ta, it = f["curves/val_loss"][0], f["curves/test_acc"][0], f["curves/iteration"][:]
for r in range(3):
    k = int(np.argmin(vl[r]))
    assert es[r] == ta[r, k] and f["summary/early_stop_iter"][0, r] == it[k]
# mask counts agree with the density
n = sum(masks[l].size for l in ("fc1", "fc2", "fc3"))
act = sum((masks[l] > 2).sum() for l in ("fc1", "fc2", "fc3"))
assert act / n == dens[2], (act / n, dens[2])
# theta0 of the seed is in the file, Glorot-scaled: std sqrt(2 / (784 + 300))
w = f["init/fc1/weight"][0]
assert w.shape == (300, 784) and abs(w.std() / np.sqrt(2 / 1084) - 1) < 0.02, w.std()
PY
exit 0
