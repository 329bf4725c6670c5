#!/usr/bin/python3
"""bench_torch.py - the PyTorch reference for `make bench` (tools/bench/bench.sh).

Trains LeNet-300-100 (784-300-100-10, ReLU, softmax cross-entropy) with Adam
(PyTorch's own torch.optim.Adam, lr 0.0012, betas 0.9/0.999, eps 1e-8) on
Fashion-MNIST in minibatches of 60 on one thread: the same model, optimizer,
batch, data split (the last 5000 training images held out) and thread count
as ticketsweep's trainer. Each epoch draws a fresh permutation, batches are
gathered with an index (x[idx]), the last partial batch is dropped, and every
step reads the loss back (loss.item()), as ticketsweep checks it for
divergence.

The loop is the idiomatic fast one: tensors preloaded in memory (no
DataLoader), zero_grad(set_to_none=True). --foreach picks the multi-tensor
Adam; bench.sh runs both and keeps the faster as the reference.
--mask adds what a lottery-ticket trainer in PyTorch has to do on top: after
each step, multiply every weight by its mask (all ones here).

Every step is timed in CPU seconds of the main thread (time.thread_time: on a
shared machine, time spent waiting for a core is not work; torch runs on this
one thread with one BLAS thread), and samples/s is the batch over the median
step, as bench_train reports; the wall-clock rate over the whole run is
printed too. Prints one line per figure, "key value", for bench.sh:
    torch_version 1.13.1   torch_blas ...   torch_samples_per_s 12345.6
"""
import argparse
import gzip
import os
import sys
import time

import numpy as np
import torch


def read_idx(path):
    """An MNIST IDX file (plain or gzip) as a numpy array."""
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rb") as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--iters", type=int, default=2000, help="timed training steps")
    ap.add_argument("--warmup", type=int, default=100, help="untimed steps first")
    ap.add_argument("--batch", type=int, default=60)
    ap.add_argument("--validation", type=int, default=5000)
    ap.add_argument("--foreach", action="store_true", help="multi-tensor Adam")
    ap.add_argument("--mask", action="store_true", help="apply weight masks after each step")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(a.seed)
    x = read_idx(os.path.join(a.data, "train-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte.gz"))
    n = len(x) - a.validation
    X = torch.from_numpy(x[:n].reshape(n, -1).astype(np.float32) / 255.0)
    Y = torch.from_numpy(y[:n].astype(np.int64))

    model = torch.nn.Sequential(
        torch.nn.Linear(784, 300), torch.nn.ReLU(),
        torch.nn.Linear(300, 100), torch.nn.ReLU(),
        torch.nn.Linear(100, 10))
    opt = torch.optim.Adam(model.parameters(), lr=0.0012, betas=(0.9, 0.999), eps=1e-8,
                           foreach=a.foreach)
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    masks = [torch.ones_like(w) for w in weights]
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(a.seed)
    B = a.batch

    def run(steps, stamps=None):
        perm, pos, total = torch.randperm(n, generator=gen), 0, 0.0
        for _ in range(steps):
            if stamps is not None:
                stamps.append(time.thread_time())
            if pos + B > n:  # drop the last partial batch, as ticketsweep does
                perm, pos = torch.randperm(n, generator=gen), 0
            idx = perm[pos:pos + B]
            pos += B
            loss = loss_fn(model(X[idx]), Y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if a.mask:
                with torch.no_grad():
                    for w, m in zip(weights, masks):
                        w.mul_(m)
            total += loss.item()
        return total

    run(a.warmup)
    stamps = []
    t0 = time.perf_counter()
    total = run(a.iters, stamps)
    stamps.append(time.thread_time())
    secs = time.perf_counter() - t0
    # the median step, as bench_train reports: robust to a shared machine
    step = sorted(b - a for a, b in zip(stamps, stamps[1:]))
    med = step[len(step) // 2] if len(step) % 2 else 0.5 * (step[len(step) // 2 - 1] + step[len(step) // 2])
    if total != total:
        sys.exit("bench_torch.py: training diverged (loss is NaN)")
    # The BLAS torch actually called: Debian's build says BLAS_INFO=generic and
    # goes through libblas.so.3, which the alternatives system points somewhere.
    blas = "unknown"
    with open("/proc/self/maps") as f:
        libs = sorted({l.split()[-1] for l in f if "blas" in l.split()[-1].rsplit("/", 1)[-1]})
    if libs:  # the implementation (libopenblas*) rather than the libblas.so.3 shim
        blas = os.path.realpath(sorted(libs, key=lambda p: "openblas" not in os.path.basename(p))[0])
    print("torch_version", torch.__version__)
    print("torch_blas", blas)
    print("torch_threads", torch.get_num_threads())
    print("torch_steps", a.iters)
    print("torch_seconds %.6f" % secs)
    print("torch_step_s %.9f" % med)
    print("torch_samples_per_s %.1f" % (B / med))
    print("torch_wall_samples_per_s %.1f" % (a.iters * B / secs))


if __name__ == "__main__":
    main()
