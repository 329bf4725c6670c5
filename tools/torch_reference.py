#!/usr/bin/python3
"""Accuracy reference: train the dense MLP of a ticketsweep job in PyTorch.

Same model, data, split, initialisation distribution, optimiser, batching and
early-stopping rule as ticketsweep's round 0 (the dense network):

  data     MNIST-format IDX files (plain or .gz); pixels / 255; the last
           --validation training images are the validation set, the first
           N - V the training set; the test file is the test set
  model    Linear-ReLU-...-Linear, hidden widths --hidden (LeNet-300-100)
  init     weights Normal(0, sqrt(2 / (fan_in + fan_out))), biases 0
  training Adam (or SGD with momentum), mean cross-entropy over minibatches of
           --batch, each epoch a fresh shuffle, the last partial batch dropped
  eval     validation loss/accuracy and test accuracy at iteration 0, every
           --eval-every iterations and at the end; early stop = the evaluation
           point of minimum validation loss (the first one on ties)

The random streams differ from ticketsweep's, so single runs differ; means
over seeds should agree within the seed-to-seed spread.

  torch_reference.py --iterations 15000 --eval-every 500 --seeds 1,2,3
  torch_reference.py --compare sweep.h5     # settings from the file's job,
                                            # side by side with its round 0
"""
import argparse
import gzip
import math
import os
import struct
import sys
import time

import numpy as np

DATA_DIR = "/usr/share/datasets/fashion-mnist"
FILES = {"train_images": "train-images-idx3-ubyte.gz", "train_labels": "train-labels-idx1-ubyte.gz",
         "test_images": "t10k-images-idx3-ubyte.gz", "test_labels": "t10k-labels-idx1-ubyte.gz"}
# ticketsweep's defaults (ticketsweep --help)
DEFAULTS = {"iterations": 50000, "eval_every": 1000, "seeds": "1,2", "lr": 1.2e-3, "batch": 60,
            "hidden": "300,100", "validation": 5000, "optimizer": "adam", "momentum": 0.9,
            "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}
# option name -> (section, key) in a ticketsweep job
JOB_KEYS = {"iterations": ("train", "iterations"), "eval_every": ("train", "eval_every"),
            "seeds": ("sweep", "seeds"), "lr": ("train", "lr"), "batch": ("train", "batch"),
            "hidden": ("model", "hidden"), "validation": ("data", "validation"),
            "optimizer": ("train", "optimizer"), "momentum": ("train", "momentum"),
            "beta1": ("train", "beta1"), "beta2": ("train", "beta2"), "eps": ("train", "eps"),
            "train_images": ("data", "train_images"), "train_labels": ("data", "train_labels"),
            "test_images": ("data", "test_images"), "test_labels": ("data", "test_labels")}


def read_idx(path, magic):
    """An IDX file (plain or gzip) as a uint8 array; dies with the path on a bad header."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        sys.exit(f"torch_reference.py: {path}: {e}")
    ndim = 3 if magic == 2051 else 1
    if len(raw) < 4 + 4 * ndim or struct.unpack(">I", raw[:4])[0] != magic:
        sys.exit(f"torch_reference.py: {path}: not an IDX {'image' if ndim == 3 else 'label'} "
                 f"file (expected magic {magic})")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != math.prod(dims):
        sys.exit(f"torch_reference.py: {path}: header says {dims}, file holds {data.size} bytes")
    return data.reshape(dims[0], -1) if ndim == 3 else data


def load_data(a, torch):
    """(train, val, test) as (x float32 [n, dim], y int64 [n]) tensors, split like ticketsweep."""
    xtr, ytr = read_idx(a.train_images, 2051), read_idx(a.train_labels, 2049)
    xte, yte = read_idx(a.test_images, 2051), read_idx(a.test_labels, 2049)
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        sys.exit("torch_reference.py: image and label files have different lengths")
    if not 0 <= a.validation < len(xtr):
        sys.exit(f"torch_reference.py: --validation {a.validation} leaves no training images "
                 f"({len(xtr)} in {a.train_images})")
    n = len(xtr) - a.validation

    def t(x, y):
        return (torch.from_numpy(x.astype(np.float32) / np.float32(255)),
                torch.from_numpy(y.astype(np.int64)))
    return t(xtr[:n], ytr[:n]), t(xtr[n:], ytr[n:]), t(xte, yte)


def build(torch, dims, seed):
    """The MLP with ticketsweep's initialisation distribution."""
    g = torch.Generator().manual_seed(seed)
    layers = []
    for i, (fin, fout) in enumerate(zip(dims, dims[1:])):
        lin = torch.nn.Linear(fin, fout)
        with torch.no_grad():
            lin.weight.normal_(0.0, math.sqrt(2.0 / (fin + fout)), generator=g)
            lin.bias.zero_()
        layers += [lin] + ([torch.nn.ReLU()] if i < len(dims) - 2 else [])
    return torch.nn.Sequential(*layers)


def evaluate(torch, net, data):
    x, y = data
    with torch.no_grad():
        out = net(x)
        loss = torch.nn.functional.cross_entropy(out, y).item()
        acc = (out.argmax(1) == y).float().mean().item()
    return loss, acc


def train_one(torch, a, data, seed):
    """One dense run; returns a dict with the evaluation curve and the early stop."""
    train, val, test = data
    dims = [train[0].shape[1]] + a.hidden + [10]
    net = build(torch, dims, seed)
    if a.optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum)
    order = torch.Generator().manual_seed(seed + 1_000_003)
    n, B = train[0].shape[0], a.batch
    evals = sorted(set(list(range(0, a.iterations, a.eval_every)) + [a.iterations]))
    curve = []
    perm, pos, t0 = torch.randperm(n, generator=order), 0, time.time()
    for it in range(a.iterations + 1):
        if it == evals[len(curve)]:
            vl, va = evaluate(torch, net, val)
            tl, ta = evaluate(torch, net, test)
            curve.append((it, vl, va, tl, ta))
            if it == a.iterations:
                break
        if pos + B > n:  # drop the last partial batch
            perm, pos = torch.randperm(n, generator=order), 0
        idx = perm[pos:pos + B]
        pos += B
        loss = torch.nn.functional.cross_entropy(net(train[0][idx]), train[1][idx])
        if not math.isfinite(loss.item()):
            sys.exit(f"torch_reference.py: seed {seed}: loss is {loss.item()} at iteration {it}")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    best = min(range(len(curve)), key=lambda i: (curve[i][1], i))
    return {"seed": seed, "curve": curve, "es_iter": curve[best][0], "es_acc": curve[best][4],
            "final_acc": curve[-1][4], "seconds": time.time() - t0}


def ticketsweep_round0(path, seeds):
    """{seed: (es_iter, es_acc, final_acc)} of round 0 of the first done trial of
    each seed in a ticketsweep results file (round 0 is the same network in
    every trial of a seed)."""
    import ticketsweep
    with ticketsweep.load(path) as r:
        out = {}
        for row in r.summary("ticket"):
            if row["round"] == 0 and row["seed"] not in out:
                out[int(row["seed"])] = (int(row["early_stop_iter"]),
                                         float(row["early_stop_test_acc"]),
                                         float(row["final_test_acc"]))
        return {s: out[s] for s in seeds if s in out}, r.config


def _ints(text):
    if isinstance(text, list):
        return text
    return [int(s) for s in str(text).replace(" ", "").split(",") if s]


CONVERT = {"iterations": int, "eval_every": int, "batch": int, "validation": int, "lr": float,
           "momentum": float, "beta1": float, "beta2": float, "eps": float, "seeds": _ints,
           "hidden": _ints, "optimizer": str}


def resolve(a, job):
    """Fill unset options from the results file's job (if any), then the defaults,
    and convert them; returns the options given here that differ from the job."""
    differ = []
    for name, default in list(DEFAULTS.items()) + [(k, None) for k in FILES]:
        sec, key = JOB_KEYS[name]
        conv = CONVERT.get(name, str)
        from_job = job.get(sec, key, fallback=None) if job else None
        given = getattr(a, name)
        try:
            if from_job is not None:
                from_job = conv(from_job)
            if given is None:
                given = from_job if from_job is not None else (
                    default if default is not None else os.path.join(a.data_dir, FILES[name]))
            given = conv(given)
        except ValueError as e:
            sys.exit(f"torch_reference.py: bad value of {name}: {e}")
        if from_job is not None and given != from_job:
            differ.append(f"{name}: {given} here, {from_job} in the job")
        setattr(a, name, given)
    if a.iterations < 1 or a.eval_every < 1 or a.batch < 1 or not a.seeds or not a.hidden:
        sys.exit("torch_reference.py: iterations, eval-every and batch must be >= 1, "
                 "seeds and hidden non-empty")
    if a.optimizer not in ("adam", "sgd"):
        sys.exit(f"torch_reference.py: optimizer {a.optimizer!r} is not adam or sgd")
    return differ


def mean_std(v):
    v = np.asarray(v, float)
    return v.mean(), (v.std(ddof=1) if len(v) > 1 else float("nan"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="\n\n".join(__doc__.split("\n\n")[1:]),
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iterations", type=int, help="training iterations (default 50000)")
    ap.add_argument("--eval-every", dest="eval_every", type=int,
                    help="evaluate every this many iterations (default 1000)")
    ap.add_argument("--seeds", help="comma-separated seeds (default 1,2)")
    ap.add_argument("--lr", type=float, help="learning rate (default 0.0012)")
    ap.add_argument("--batch", type=int, help="minibatch size (default 60)")
    ap.add_argument("--hidden", help="hidden widths, comma-separated (default 300,100)")
    ap.add_argument("--validation", type=int, help="images held out of the end of the "
                    "training file (default 5000)")
    ap.add_argument("--optimizer", choices=("adam", "sgd"), help="default adam")
    ap.add_argument("--momentum", type=float, help="SGD momentum (default 0.9)")
    ap.add_argument("--beta1", type=float, help="Adam beta1 (default 0.9)")
    ap.add_argument("--beta2", type=float, help="Adam beta2 (default 0.999)")
    ap.add_argument("--eps", type=float, help="Adam epsilon (default 1e-8)")
    ap.add_argument("--data-dir", default=DATA_DIR,
                    help=f"folder with the four Fashion-MNIST .gz files (default {DATA_DIR})")
    for k in FILES:
        ap.add_argument("--" + k.replace("_", "-"), dest=k,
                        help=f"path of {k} (overrides --data-dir)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    ap.add_argument("--compare", metavar="RESULTS.h5",
                    help="a ticketsweep results file: take unset options from its job and "
                         "print its round-0 (dense) accuracies next to these")
    a = ap.parse_args()

    ts, job = ({}, None)
    if a.compare:
        sys.dont_write_bytecode = True  # no __pycache__ in tools/
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import ticketsweep
        try:
            with ticketsweep.load(a.compare) as r:
                job = r.config
        except (ticketsweep.FormatError, OSError) as e:
            sys.exit(f"torch_reference.py: {e}")
    differ = resolve(a, job)
    if a.compare:
        ts, _ = ticketsweep_round0(a.compare, a.seeds)
        for d in differ:
            print(f"warning: not like for like: {d}", file=sys.stderr)
        missing = [s for s in a.seeds if s not in ts]
        if missing:
            print(f"warning: {a.compare} has no done trial for seeds {missing}", file=sys.stderr)

    import torch
    torch.set_num_threads(a.threads)
    data = load_data(a, torch)
    print(f"PyTorch {torch.__version__}, {a.threads} thread(s); MLP "
          f"{'-'.join(map(str, [data[0][0].shape[1]] + a.hidden + [10]))}, {a.optimizer} lr {a.lr:g}, "
          f"batch {a.batch}, {a.iterations} iterations, eval every {a.eval_every}; "
          f"train/val/test {len(data[0][1])}/{len(data[1][1])}/{len(data[2][1])}")
    hdr = f"{'seed':>6} {'es iter':>8} {'es test acc':>12} {'final test acc':>15} {'seconds':>8}"
    if ts:
        hdr += f"   | ticketsweep: {'es iter':>8} {'es test acc':>12} {'final test acc':>15}"
    print(hdr)
    runs = []
    for seed in a.seeds:
        r = train_one(torch, a, data, seed)
        runs.append(r)
        line = (f"{seed:>6} {r['es_iter']:>8} {r['es_acc']:>12.4f} {r['final_acc']:>15.4f} "
                f"{r['seconds']:>8.1f}")
        if seed in ts:
            line += f"   | {'':>12} {ts[seed][0]:>8} {ts[seed][1]:>12.4f} {ts[seed][2]:>15.4f}"
        print(line, flush=True)
    es, fin = mean_std([r["es_acc"] for r in runs]), mean_std([r["final_acc"] for r in runs])
    tv = list(ts.values())
    tes, tfin = mean_std([v[1] for v in tv]), mean_std([v[2] for v in tv])
    for name, col in (("mean", 0), ("std", 1)):
        it = f"{np.mean([r['es_iter'] for r in runs]):>8.0f}" if col == 0 else " " * 8
        line = f"{name:>6} {it} {es[col]:>12.4f} {fin[col]:>15.4f} {'':>8}"
        if ts:
            tit = f"{np.mean([v[0] for v in tv]):>8.0f}" if col == 0 else " " * 8
            line += f"   | {'':>12} {tit} {tes[col]:>12.4f} {tfin[col]:>15.4f}"
        print(line)
    if ts:
        for name, p, q in (("early-stop", es, tes), ("final", fin, tfin)):
            se = math.sqrt((p[1] ** 2 / len(runs) if len(runs) > 1 else 0) +
                           (q[1] ** 2 / len(ts) if len(ts) > 1 else 0))
            print(f"{name} test accuracy: PyTorch - ticketsweep = {p[0] - q[0]:+.4f} "
                  f"(standard error of the difference {se:.4f})")


if __name__ == "__main__":
    main()
