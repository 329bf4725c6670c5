#!/bin/sh
# tests/data/test_cifar.sh - the paper's Conv-2 job on the real CIFAR-10.
#
# Runs jobs/conv2-paper.ini as it is, from the repository root (its data paths
# are relative: data/cifar-10-batches-bin/...), on the binary batches `make
# data` fetched, cut down on the command line to one trial of one pruning round
# and 200 iterations a training (about 2.5 minutes on one core: most of it is
# the four evaluations of 15,000 images). Checks: exit 0, the trial done, the
# images 3x32x32, the job's own data paths in the file, and a test accuracy
# far above chance (> 0.35 dense and pruned; measured 0.49-0.51).
# With DATA_DIR other than data/, the data paths are overridden to point there.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
cd "$TOP" || fail "cd $TOP"
C=${DATA_DIR:-data}/cifar-10-batches-bin
for f in data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin; do
    [ -f "$C/$f" ] || fail "$C/$f is missing: run make data"
done
set --
if [ "$(cd "$C/.." && pwd)" != "$TOP/data" ]; then
    set -- --set "data.train_images=$C/data_batch_1.bin, $C/data_batch_2.bin, $C/data_batch_3.bin, $C/data_batch_4.bin, $C/data_batch_5.bin" \
        --set "data.test_images=$C/test_batch.bin"
fi
"$TS" run jobs/conv2-paper.ini -o "$W/cifar.h5" --set train.iterations=200 \
    --set train.eval_every=200 --set sweep.per_round=0.36 --set sweep.rounds=1 \
    --set sweep.seeds=1 --set prune.controls=none "$@" 2>"$W/log" ||
    { rc=$?; cat "$W/log"; fail "run exited $rc"; }
"$PY" - "$W/cifar.h5" "$C/" <<'PY' || fail "results"
import h5py, sys
f = h5py.File(sys.argv[1], "r")
assert list(f["trials/status"][:]) == [1], f["trials/status"][:]
assert list(f.attrs["input_shape"]) == [3, 32, 32], f.attrs["input_shape"]
cfg = f.attrs["config"]
cfg = cfg.decode() if isinstance(cfg, bytes) else cfg
assert sys.argv[2] + "data_batch_5.bin" in cfg and sys.argv[2] + "test_batch.bin" in cfg, cfg
acc = f["summary/final_test_acc"][0]
print("CIFAR-10 final test accuracy per round", acc, "density", f["summary/density"][0])
assert len(acc) == 2 and min(acc) > 0.35, acc
PY
exit 0
