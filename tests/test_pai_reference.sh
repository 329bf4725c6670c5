#!/bin/sh
# test_pai_reference.sh - tools/bench/pai_reference.py recomputes the scores of
# pruning at initialisation (snip, synflow, magnitude_init, grasp) at theta0 in
# PyTorch (float64 autograd) and checks the masks ticketsweep pruned with
# them, on LeNet-300-100 (8x8 inputs) and Conv-2 (32x32x3, CIFAR-10 format):
# one-shot masks equal the reference's top scores but within 1e-4 of the
# threshold (GraSP's H g by PyTorch's double backward, at temperature 200), SynFlow's iterated masks agree on at least 99 % of the kept
# weights, every mask keeps the ticket round's count. Skipped without
# python3-torch.
. "$(dirname "$0")/lib.sh"
"$PY" -c 'import torch, h5py, numpy' 2>/dev/null || skip "python3-torch, python3-h5py or python3-numpy is not installed"
export PYTHONDONTWRITEBYTECODE=1
small_data "$W/d"
cifar_data "$W/c"
tiny_job "$W/job.ini" "$W/d"
set -- --set "prune.controls=snip, synflow, magnitude_init, grasp" --set prune.synflow_iterations=20 \
    --set train.iterations=2 --set train.eval_every=1 --set sweep.rates=0.8 --set sweep.rounds=2 --set sweep.seeds=3
"$TS" run "$W/job.ini" -o "$W/lenet.h5" --set model.hidden=300,100 "$@" 2>"$W/log" || { cat "$W/log"; fail "LeNet run"; }
"$PY" "$TOP/tools/bench/pai_reference.py" "$W/lenet.h5" >"$W/ref.log" 2>&1 || { cat "$W/ref.log"; fail "LeNet-300-100"; }
cat "$W/ref.log"
[ "$(grep -c ': 2 trainings, ok' "$W/ref.log")" = 4 ] || fail "LeNet-300-100: not every arm checked"
sed "s|^train_images = .*|train_images = $W/c/data_batch_1.bin|; s|^test_images = .*|test_images = $W/c/test_batch.bin|;
     s|^validation = .*|validation = 30\nformat = cifar10|; s|^hidden = .*|arch = conv2|" "$W/job.ini" >"$W/conv.ini"
"$TS" run "$W/conv.ini" -o "$W/conv2.h5" "$@" --set sweep.rounds=1 2>"$W/log" || { cat "$W/log"; fail "Conv-2 run"; }
"$PY" "$TOP/tools/bench/pai_reference.py" "$W/conv2.h5" >"$W/ref.log" 2>&1 || { cat "$W/ref.log"; fail "Conv-2"; }
cat "$W/ref.log"
[ "$(grep -c ': 1 trainings, ok' "$W/ref.log")" = 4 ] || fail "Conv-2: not every arm checked"
exit 0
