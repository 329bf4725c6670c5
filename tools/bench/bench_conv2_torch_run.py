#!/usr/bin/python3
"""bench_conv2_torch_run.py - the PyTorch reference of `make bench`'s whole Conv-2 runs.

What `ticketsweep run jobs/conv2-paper.ini` does for --trainings trainings of
--iters steps with an evaluation point at step 0 and at the end, as a user
sees it, in one process on one thread: read CIFAR-10's binary batches from
--data, hold out 5,000 random training images for validation, standardise
per channel with the training split's mean and std, then for each training
build Conv-2 (3x3 convolutions 64, 64 with ReLU, 2x2 max-pool, Linear 16384
-> 256 -> 256 -> 10), Adam (lr 2e-4), batches of 60 from a shuffled order,
and evaluate the validation and test sets (loss and accuracy, batches of
1,000, no_grad) at the two points. Prints "torch_run_seconds X" (the
process's wall clock from its start, imports included) and the accuracies
(so that the work is seen to be done).
"""
import argparse
import os
import time

T0 = time.monotonic()
import numpy as np  # noqa: E402
import torch  # noqa: E402


def load(path):
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
    return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].astype(np.int64)


def evaluate(model, x, y, lossf):
    model.eval()
    loss, ok = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            z = model(x[i : i + 1000])
            loss += lossf(z, y[i : i + 1000]).item()
            ok += (z.argmax(1) == y[i : i + 1000]).sum().item()
    model.train()
    return loss / len(x), ok / len(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="data/cifar-10-batches-bin")
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--trainings", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1)
    parts = [load(os.path.join(args.data, f"data_batch_{i}.bin")) for i in range(1, 6)]
    x = np.concatenate([p[0] for p in parts]).astype(np.float32) / 255
    y = np.concatenate([p[1] for p in parts])
    xt, yt = load(os.path.join(args.data, "test_batch.bin"))
    xt = xt.astype(np.float32) / 255
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    val, tr = order[:5000], order[5000:]
    mean = x[tr].mean(axis=(0, 2, 3), keepdims=True)
    std = x[tr].std(axis=(0, 2, 3), keepdims=True)
    xtr, xv, xte = [torch.from_numpy((a - mean) / std) for a in (x[tr], x[val], xt)]
    ytr, yv, yte = torch.from_numpy(y[tr]), torch.from_numpy(y[val]), torch.from_numpy(yt)
    nn = torch.nn
    lossf = nn.CrossEntropyLoss()
    for t in range(args.trainings):
        model = nn.Sequential(
            nn.Conv2d(3, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16384, 256), nn.ReLU(), nn.Linear(256, 256),
            nn.ReLU(), nn.Linear(256, 10))
        opt = torch.optim.Adam(model.parameters(), lr=2e-4)
        perm = torch.randperm(len(xtr))
        evaluate(model, xv, yv, lossf), evaluate(model, xte, yte, lossf)
        for s in range(args.iters):
            idx = perm[(s * 60) % (len(xtr) - 60):][:60]
            opt.zero_grad()
            loss = lossf(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            loss.item()
        _, va = evaluate(model, xv, yv, lossf)
        _, ta = evaluate(model, xte, yte, lossf)
        print(f"torch_run_training_{t} val_acc {va:.4f} test_acc {ta:.4f}")
    print(f"torch_run_seconds {time.monotonic() - T0:.3f}")


main()
