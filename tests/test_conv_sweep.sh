#!/bin/sh
# Convolutional networks end to end: a small conv net on a Fashion-MNIST
# subset learns, its data are bit-identical under -np 1 and 2, conv masks keep
# their [T, out, in, 3, 3] shape and lose exactly round(conv_scale * q * alive)
# a round; and the paper's Conv-2 (arch = conv2) runs on CIFAR-10-format files
# the test writes, with the layer shapes of the paper.
. "$(dirname "$0")/lib.sh"
D=/usr/share/datasets/fashion-mnist
[ -e $D/train-images-idx3-ubyte.gz ] || fail "dataset-fashion-mnist is not installed (make deps)"
"$PY" - "$W" <<'PY'
import gzip, os, struct, sys
import numpy as np
w = sys.argv[1]
D = "/usr/share/datasets/fashion-mnist/"
def idx(name, n, images):
    with gzip.open(D + name) as f:
        data = f.read()
    if images:
        return np.frombuffer(data, np.uint8, offset=16)[: n * 784]
    return np.frombuffer(data, np.uint8, offset=8)[:n]
for split, src, n in (("train", "train", 1200), ("test", "t10k", 300)):
    x, y = idx(src + "-images-idx3-ubyte.gz", n, True), idx(src + "-labels-idx1-ubyte.gz", n, False)
    with open(f"{w}/{split}-images", "wb") as f:
        f.write(struct.pack(">IIII", 2051, n, 28, 28)); f.write(x.tobytes())
    with open(f"{w}/{split}-labels", "wb") as f:
        f.write(struct.pack(">II", 2049, n)); f.write(y.tobytes())
PY
cifar_data "$W" # data_batch_1.bin, data_batch_2.bin (150 images each), test_batch.bin (60)
cat >"$W/conv.ini" <<JOB
[data]
train_images = $W/train-images
train_labels = $W/train-labels
test_images = $W/test-images
test_labels = $W/test-labels
validation = 200
[model]
conv = 4, pool, 8, pool
hidden = 32
[train]
batch = 20
iterations = 300
eval_every = 100
lr = 0.003
[prune]
conv_scale = 0.5
controls = random
[sweep]
rates = 0.75
rounds = 2
seeds = 1, 2
JOB
"$TS" run "$W/conv.ini" -o "$W/c1.h5" 2>"$W/log" || { cat "$W/log"; fail "conv run, one process"; }
mpirun_ts 2 run "$W/conv.ini" -o "$W/c2.h5" 2>"$W/log" || { cat "$W/log"; fail "conv run, two ranks"; }
same_data "$W/c1.h5" "$W/c2.h5" || fail "conv data differ between -np 1 and -np 2"
"$PY" - "$W/c1.h5" "$TOP/tools/python" <<'PY' || fail "conv results"
import h5py, numpy as np, sys
sys.path.insert(0, sys.argv[2])
import ticketsweep
f = h5py.File(sys.argv[1], "r")
r = ticketsweep.load(sys.argv[1])
masks, rnd = r.mask_rounds(0), r.mask_rounds(0, "random")
assert "masks" not in f and r.layers == ["conv1", "conv2", "fc1", "fc2"], r.layers
assert masks["conv1"].shape == (4, 1, 3, 3) and masks["conv2"].shape == (8, 4, 3, 3)
assert masks["fc1"].shape == (32, 8 * 7 * 7), masks["fc1"].shape
assert f["init/conv2/weight"].shape == (2, 8, 4, 3, 3) and f["init/conv2/bias"].shape == (2, 8)
assert tuple(f.attrs["input_shape"]) == (1, 28, 28)
q = 1 - (1 - 0.75) ** 0.5
for layer, scale in (("conv1", 0.5), ("conv2", 0.5), ("fc1", 1.0), ("fc2", 0.5)):
    m = masks[layer]
    alive = m.size
    for r in range(3):
        assert (m > r).sum() == alive, (layer, r, (m > r).sum(), alive)
        alive -= int(np.floor(q * scale * alive + 0.5))
    assert (rnd[layer] > 2).sum() == (m > 2).sum(), layer
acc = f["summary/final_test_acc"][:]
print("final test accuracy per trial and round", acc)
assert acc.min() > 0.6, acc
PY

# the paper's Conv-2 on CIFAR-10-format data
cat >"$W/c10.ini" <<JOB
[data]
format = cifar10
train_images = $W/data_batch_1.bin, $W/data_batch_2.bin
test_images = $W/test_batch.bin
validation = 60
[model]
arch = conv2
[train]
batch = 20
iterations = 12
eval_every = 6
lr = 0.0002
[prune]
conv_scale = 0.5
[sweep]
rates = 0.5
rounds = 1
seeds = 7
JOB
"$TS" run "$W/c10.ini" -o "$W/c10.h5" 2>"$W/log" || { cat "$W/log"; fail "conv2 on CIFAR-10 files"; }
"$PY" - "$W/c10.h5" <<'PY' || fail "conv2 layout"
import h5py, sys
f = h5py.File(sys.argv[1], "r")
shapes = {k: f["init/" + k + "/weight"].shape[1:] for k in f["init"]}
assert shapes == {"conv1": (64, 3, 3, 3), "conv2": (64, 64, 3, 3), "fc1": (256, 64 * 16 * 16),
                  "fc2": (256, 256), "fc3": (10, 256)}, shapes
assert tuple(f.attrs["input_shape"]) == (3, 32, 32)
assert f["trials/status"][0] == 1
PY
exit 0
