#!/usr/bin/python3
"""bench_conv2_torch.py - the PyTorch reference of the Conv-2/4/6 lines of `make bench`.

The same models as tools/bench/bench_conv2.c (--arch conv2|conv4|conv6): 3x3
convolutions (padding 1) with ReLU, 64, 64, pool[, 128, 128, pool[, 256,
256, pool]], then Linear(flat, 256), ReLU, Linear(256, 256), ReLU,
Linear(256, 10); Adam (lr 2e-4), batch 60 of random 3x32x32 inputs, one
thread. Each step (zero_grad, forward, cross-entropy, backward, step,
loss.item()) is timed in CPU seconds of this thread; prints
"torch_ARCH_samples_per_s X" (batch over the median step).
"""
import argparse
import time

import numpy as np
import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=20)
    ap.add_argument("--arch", choices=("conv2", "conv4", "conv6"), default="conv2")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1)
    nn = torch.nn
    layers, c, hw = [], 3, 32
    for width in (64, 128, 256)[: {"conv2": 1, "conv4": 2, "conv6": 3}[args.arch]]:
        layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU(), nn.Conv2d(width, width, 3, padding=1),
                   nn.ReLU(), nn.MaxPool2d(2)]
        c, hw = width, hw // 2
    model = nn.Sequential(
        *layers, nn.Flatten(), nn.Linear(c * hw * hw, 256), nn.ReLU(),
        nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    x = torch.rand(60, 3, 32, 32)
    y = torch.randint(0, 10, (60,))
    lossf = nn.CrossEntropyLoss()
    times = []
    for _ in range(args.iters):
        t0 = time.thread_time()
        opt.zero_grad(set_to_none=True)
        loss = lossf(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        times.append(time.thread_time() - t0)
    print(f"torch_{args.arch}_samples_per_s {60 / float(np.median(times)):.2f}")


if __name__ == "__main__":
    main()
