#!/bin/sh
# The parity runs of README's "Parity with PyTorch" table, from the repository
# root after `make` and `make data` (2-core machine, one process each, niced;
# the results files stay out of git: /tmp/parity/*.h5). Outputs: this folder.
set -eu
mkdir -p /tmp/parity
# LeNet-300-100 on MNIST: the paper job (random split of 5,000, standard
# inputs), dense only (round 0 of a one-round cell), 5,000 steps, eval every 100
build/ticketsweep run jobs/lenet300-paper.ini -o /tmp/parity/lenet.h5 --force \
    --set sweep.rounds=1 --set sweep.seeds=1,2 --set prune.controls=none \
    --set train.iterations=5000 --set train.eval_every=100
/usr/bin/python3 tools/bench/torch_reference.py --compare /tmp/parity/lenet.h5 \
    --out tools/bench/results/parity/lenet300-mnist | tee tools/bench/results/parity/lenet300-mnist/output.txt
# Conv-2 on CIFAR-10: the paper job, dense only, 2,000 steps, eval every 200;
# stopped (SIGUSR1) once both seeds' round-0 trainings were done: the round-1
# trainings are not needed, and torch_reference.py reads round 0 from the
# raw datasets
build/ticketsweep run jobs/conv2-paper.ini -o /tmp/parity/conv2.h5 --force --grace 0 \
    --set sweep.rounds=1 --set sweep.seeds=1,2 --set prune.controls=none \
    --set train.iterations=2000 --set train.eval_every=200 2>/tmp/parity/conv2.log &
pid=$!
until grep -q "progress: 2/4 trainings done" /tmp/parity/conv2.log; do sleep 5; done
kill -USR1 $pid
wait $pid || true   # exit status 3: stopped, the round-0 trainings kept
/usr/bin/python3 tools/bench/torch_reference.py --compare /tmp/parity/conv2.h5 \
    --out tools/bench/results/parity/conv2-cifar10 | tee tools/bench/results/parity/conv2-cifar10/output.txt
