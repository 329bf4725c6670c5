#!/usr/bin/python3
"""Accuracy reference: train a ticketsweep job's dense network (round 0) in PyTorch.

The same model, data, split, inputs, initial weights, data order, optimiser
and early-stopping rule as ticketsweep's round 0 (the dense network), so the
only differences left are floating-point ones (the order of the sums in the
products and the reductions):

  data     MNIST-format IDX files (plain or .gz) or CIFAR-10 binary batches
           (--format cifar10, train_images a comma list); the validation set
           as ticketsweep draws it: the last --validation training images
           (--split last) or a random draw (--split random, --split-seed S:
           the last V of a Fisher-Yates shuffle keyed by rng_key(S, 7, 0, 0),
           both parts in file order: data_split_rows in src/data.c)
  inputs   byte * float32(1/255); --normalize standard (auto: for cifar10) then
           (x - mean[c]) * (1/std[c]) in float32 with the training part's
           per-channel mean and population std, as src/data.c's table
  model    --conv (3x3 convolutions, padding 1, and 2x2 max-pools, e.g.
           "64, 64, pool": Conv-2) then Linear-ReLU-...-Linear (--hidden), the
           conv output flattened in NCHW order (PyTorch's view(b, -1))
  init     with --compare: theta0 of the seed read from the results file
           (/init); without: Normal(0, sqrt(2 / (fan_in + fan_out))) weights
           (fans times 9 for convolutions), biases 0, from PyTorch's generator
  order    each epoch a Fisher-Yates shuffle of the training rows keyed by
           rng_key(seed, 2, epoch, 0) (ticketsweep's counter-based generator,
           src/rng.c, mirrored here), minibatches of --batch in that order, the
           last partial batch dropped (src/trial.c)
  training Adam (or SGD with momentum), mean cross-entropy over the minibatch
  eval     validation loss/accuracy and test loss/accuracy at iteration 0,
           every --eval-every iterations and at the end, in batches of 1,000;
           early stop = the evaluation point of minimum validation loss (the
           first one on ties)

  torch_reference.py --iterations 15000 --eval-every 500 --seeds 1,2,3
  torch_reference.py --compare sweep.h5     # settings and theta0 from the file's
                                            # job, side by side with its round 0
  torch_reference.py --compare sweep.h5 --out DIR   # also the curves as CSV
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
            "hidden": "300,100", "conv": "", "validation": 5000, "optimizer": "adam", "momentum": 0.9,
            "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "format": "idx", "split": "last",
            "split_seed": 0, "normalize": "auto", "dropout": 0.0}
# option name -> (section, key) in a ticketsweep job
JOB_KEYS = {"iterations": ("train", "iterations"), "eval_every": ("train", "eval_every"),
            "seeds": ("sweep", "seeds"), "lr": ("train", "lr"), "batch": ("train", "batch"),
            "hidden": ("model", "hidden"), "conv": ("model", "conv"), "validation": ("data", "validation"),
            "optimizer": ("train", "optimizer"), "momentum": ("train", "momentum"),
            "beta1": ("train", "beta1"), "beta2": ("train", "beta2"), "eps": ("train", "eps"),
            "format": ("data", "format"), "split": ("data", "split"), "split_seed": ("data", "split_seed"),
            "normalize": ("data", "normalize"), "dropout": ("model", "dropout"),
            "train_images": ("data", "train_images"), "train_labels": ("data", "train_labels"),
            "test_images": ("data", "test_images"), "test_labels": ("data", "test_labels")}
EVAL_CHUNK = 1000


def die(msg):
    sys.exit(f"torch_reference.py: {msg}")


# --- ticketsweep's random numbers (src/rng.c) ----------------------------------

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
RNG_DATA, RNG_SPLIT = 2, 7


def mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def rng_key(seed, purpose, a, b):
    k = mix64((seed + GOLDEN) & M64)
    k = mix64(k ^ ((purpose * GOLDEN) & M64))
    k = mix64(k ^ ((a + 0x632BE59BD9B4E019) & M64))
    return mix64(k ^ ((b + 0x8CB92BA72F3D8DD7) & M64))


def _mix64_np(z):
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def rng_shuffle(key, n):
    """rng_shuffle(rng_init(key), identity of n): Fisher-Yates from the top, j =
    rng_below(i + 1), which draws the counters 1, 2, ... (one each unless a
    draw is rejected, which has probability below n / 2^64: then the scalar
    path redraws exactly as the C code does)."""
    idx = np.arange(n, dtype=np.int64)
    if n < 2:
        return idx
    ctr = np.arange(1, n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        x = _mix64_np(np.uint64(key) + ctr * np.uint64(GOLDEN))
    bounds = np.arange(n, 1, -1, dtype=np.uint64)  # i + 1 for i = n - 1 .. 1
    limits = np.array([M64 - M64 % int(b) for b in bounds], dtype=np.uint64) if n < 4096 else None
    if limits is None:  # every limit is above 2^64 - 2^32 for these n; a value that high is a rare event
        rejected = x >= np.uint64(M64 - (1 << 32))
    else:
        rejected = x >= limits
    if rejected.any():  # mirror the scalar generator exactly
        c, js = 0, []
        for i in range(n - 1, 0, -1):
            lim = M64 - M64 % (i + 1)
            while True:
                c += 1
                v = mix64((key + c * GOLDEN) & M64)
                if v < lim:
                    break
            js.append(v % (i + 1))
        js = np.array(js, dtype=np.int64)
    else:
        js = (x % bounds).astype(np.int64)
    for i, j in zip(range(n - 1, 0, -1), js.tolist()):
        idx[i], idx[j] = idx[j], idx[i]
    return idx


def split_rows(n, v, seed):
    """data_split_rows: the training rows then the validation rows, each ascending."""
    order = rng_shuffle(rng_key(seed, RNG_SPLIT, 0, 0), n)
    is_val = np.zeros(n, bool)
    is_val[order[n - v:]] = True
    return np.concatenate([np.flatnonzero(~is_val), np.flatnonzero(is_val)])


# --- data ----------------------------------------------------------------------

def read_idx(path, magic):
    """An IDX file (plain or gzip) as a uint8 array; dies with the path on a bad header."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == b"\x1f\x8b":  # gzip, whatever the name (as ticketsweep's reader)
            raw = gzip.decompress(raw)
    except OSError as e:
        die(f"{path}: {e}")
    ndim = 3 if magic == 2051 else 1
    if len(raw) < 4 + 4 * ndim or struct.unpack(">I", raw[:4])[0] != magic:
        die(f"{path}: not an IDX {'image' if ndim == 3 else 'label'} file (expected magic {magic})")
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != math.prod(dims):
        die(f"{path}: header says {dims}, file holds {data.size} bytes")
    return (data.reshape(dims[0], 1, dims[1], dims[2]) if ndim == 3 else data)


def read_cifar(paths):
    """CIFAR-10 binary batches (a comma list) as (uint8 [n, 3, 32, 32], labels [n])."""
    xs, ys = [], []
    for p in [p.strip() for p in paths.split(",") if p.strip()]:
        try:
            raw = np.fromfile(p, np.uint8)
        except OSError as e:
            die(f"{p}: {e}")
        if raw.size == 0 or raw.size % 3073:
            die(f"{p}: {raw.size} bytes is not a multiple of 3073 (a CIFAR-10 binary batch)")
        rec = raw.reshape(-1, 3073)
        ys.append(rec[:, 0])
        xs.append(rec[:, 1:].reshape(-1, 3, 32, 32))
    return np.concatenate(xs), np.concatenate(ys)


def load_data(a, torch):
    """(train, val, test) as (x float32 [n, c, h, w], y int64 [n]) tensors, split and
    scaled like ticketsweep; also the statistics used (or None)."""
    if a.format == "cifar10":
        xtr, ytr = read_cifar(a.train_images)
        xte, yte = read_cifar(a.test_images)
    else:
        xtr, ytr = read_idx(a.train_images, 2051), read_idx(a.train_labels, 2049)
        xte, yte = read_idx(a.test_images, 2051), read_idx(a.test_labels, 2049)
    if len(xtr) != len(ytr) or len(xte) != len(yte):
        die("image and label files have different lengths")
    if not 0 < a.validation < len(xtr):
        die(f"--validation {a.validation} is outside [1, {len(xtr)})")
    n = len(xtr) - a.validation
    if a.split == "random":
        rows = split_rows(len(xtr), a.validation, a.split_seed)
        xtr, ytr = xtr[rows], ytr[rows]
    channels = xtr.shape[1]
    scaled = np.arange(256, dtype=np.float32) * np.float32(1.0 / 255.0)  # byte * (1.0f / 255.0f)
    standard = a.normalize == "standard" or (a.normalize == "auto" and a.format == "cifar10")
    table, stats = np.tile(scaled, (channels, 1)), None
    if standard:  # cifar_channel_stats_bytes on the training part, then the float table
        mean, std = [], []
        for c in range(channels):
            counts = np.bincount(xtr[:n, c].ravel(), minlength=256).astype(np.float64)
            total = counts.sum()
            m = float((counts * scaled.astype(np.float64)).sum() / total)
            d = scaled.astype(np.float64) - m
            mean.append(m)
            std.append(math.sqrt(float((counts * d * d).sum() / total)))
        for c in range(channels):
            inv = np.float32(1.0 / std[c]) if std[c] > 0 else np.float32(1.0)
            table[c] = (scaled - np.float32(mean[c])) * inv
        stats = (mean, std)

    def t(x, y):
        f = np.empty(x.shape, np.float32)
        for c in range(channels):
            f[:, c] = table[c][x[:, c]]
        return torch.from_numpy(f), torch.from_numpy(y.astype(np.int64))
    return (t(xtr[:n], ytr[:n]), t(xtr[n:], ytr[n:]), t(xte, yte)), stats


# --- model ---------------------------------------------------------------------

def build(torch, a, shape, seed, theta0=None):
    """The network; weights from theta0 ({layer: (weight, bias)}) when given."""
    c, h, w = shape
    mods, names = [], []
    for e in a.conv:
        if e == "pool":
            mods.append(torch.nn.MaxPool2d(2))
            h, w = h // 2, w // 2
        else:
            mods += [torch.nn.Conv2d(c, e, 3, padding=1), torch.nn.ReLU()]
            names.append((f"conv{len(names) + 1}", mods[-2], c * 9, e * 9))
            c = e
    mods.append(torch.nn.Flatten())
    dims = [c * h * w] + a.hidden + [10]
    for i, (fin, fout) in enumerate(zip(dims, dims[1:])):
        mods.append(torch.nn.Linear(fin, fout))
        names.append((f"fc{i + 1}", mods[-1], fin, fout))
        if i < len(dims) - 2:
            mods.append(torch.nn.ReLU())
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, m, fan_in, fan_out in names:
            if theta0 is not None:
                if name not in theta0 or tuple(theta0[name][0].shape) != tuple(m.weight.shape):
                    die(f"theta0 of {name} in the results file does not fit the model "
                        f"({None if name not in theta0 else theta0[name][0].shape} vs {tuple(m.weight.shape)})")
                m.weight.copy_(torch.from_numpy(np.ascontiguousarray(theta0[name][0])))
                m.bias.copy_(torch.from_numpy(np.ascontiguousarray(theta0[name][1])))
            else:
                m.weight.normal_(0.0, math.sqrt(2.0 / (fan_in + fan_out)), generator=g)
                m.bias.zero_()
    return torch.nn.Sequential(*mods)


def evaluate(torch, net, data):
    x, y = data
    loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), EVAL_CHUNK):
            out = net(x[i:i + EVAL_CHUNK])
            loss += torch.nn.functional.cross_entropy(out, y[i:i + EVAL_CHUNK], reduction="sum").item()
            correct += (out.argmax(1) == y[i:i + EVAL_CHUNK]).sum().item()
    return loss / len(y), correct / len(y)


def train_one(torch, a, data, seed, theta0=None):
    """One dense run; returns a dict with the evaluation curve and the early stop."""
    train, val, test = data
    net = build(torch, a, tuple(train[0].shape[1:]), seed, theta0)
    if a.optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=a.lr, betas=(a.beta1, a.beta2), eps=a.eps)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=a.lr, momentum=a.momentum)
    n, B = train[0].shape[0], a.batch
    # the results file's points when comparing (a rewind point off the grid is one too)
    evals = a.evals or sorted(set(list(range(0, a.iterations, a.eval_every)) + [a.iterations]))
    curve, loss_sum, loss_n = [], 0.0, 0
    epoch, pos, t0 = 0, 0, time.time()
    perm = torch.from_numpy(rng_shuffle(rng_key(seed, RNG_DATA, epoch, 0), n))
    for it in range(a.iterations + 1):
        if it == evals[len(curve)]:
            net.eval()
            vl, va = evaluate(torch, net, val)
            tl, ta = evaluate(torch, net, test)
            net.train()
            curve.append((it, loss_sum / loss_n if loss_n else float("nan"), vl, va, tl, ta))
            loss_sum, loss_n = 0.0, 0
            if it == a.iterations:
                break
        if pos + B > n:  # drop the last partial batch; a new epoch, a new order
            epoch, pos = epoch + 1, 0
            perm = torch.from_numpy(rng_shuffle(rng_key(seed, RNG_DATA, epoch, 0), n))
        idx = perm[pos:pos + B]
        pos += B
        loss = torch.nn.functional.cross_entropy(net(train[0][idx]), train[1][idx])
        if not math.isfinite(loss.item()):
            die(f"seed {seed}: loss is {loss.item()} at iteration {it}")
        loss_sum, loss_n = loss_sum + loss.item(), loss_n + 1
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    # minimum validation loss, compared as the float32 ticketsweep stores
    vls = np.array([c[2] for c in curve], np.float32)
    best = int(np.argmin(vls))
    return {"seed": seed, "curve": curve, "es_iter": curve[best][0], "es_acc": curve[best][5],
            "final_acc": curve[-1][5], "seconds": time.time() - t0}


# --- the results file ----------------------------------------------------------

def ticketsweep_round0(path, seeds):
    """{seed: run dict} of round 0 (the dense network) of each seed in a results
    file, from the first trial of the seed whose round-0 training is done (its
    trial need not be: a run stopped after round 0 will do), and
    {seed: theta0}."""
    import ticketsweep
    out, theta = {}, {}
    with ticketsweep.load(path) as r:
        f = r.file
        nodes, nstat = f["trials/nodes"][:], f["nodes/status"][:]
        its = f["curves/iteration"][:]
        metrics = ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc")
        for t, seed in enumerate(f["trials/seed"][:]):
            seed = int(seed)
            x = int(nodes[t, 0, 0])
            if seed not in seeds or seed in out or x < 0 or nstat[x] != 1:
                continue
            cv = [f[f"curves/{m}"][t, 0] for m in metrics]
            curve = [(int(its[e]),) + tuple(float(c[e]) for c in cv) for e in range(len(its))]
            out[seed] = {"seed": seed, "curve": curve, "es_iter": int(f["summary/early_stop_iter"][t, 0]),
                         "es_acc": float(f["summary/early_stop_test_acc"][t, 0]),
                         "final_acc": float(f["summary/final_test_acc"][t, 0]),
                         "seconds": float(f["nodes/wall_seconds"][x])}
            theta[seed] = r.theta0(seed)
    return out, theta


def _ints(text):
    if isinstance(text, list):
        return text
    return [int(s) for s in str(text).replace(" ", "").split(",") if s]


def _layers(text):
    if isinstance(text, list):
        return text
    return [s if s == "pool" else int(s) for s in str(text).replace(" ", "").split(",") if s]


CONVERT = {"iterations": int, "eval_every": int, "batch": int, "validation": int, "lr": float,
           "momentum": float, "beta1": float, "beta2": float, "eps": float, "seeds": _ints,
           "hidden": _ints, "conv": _layers, "optimizer": str, "split_seed": int, "dropout": float}


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
            die(f"bad value of {name}: {e}")
        if from_job is not None and given != from_job:
            differ.append(f"{name}: {given} here, {from_job} in the job")
        setattr(a, name, given)
    if a.iterations < 1 or a.eval_every < 1 or a.batch < 1 or not a.seeds or not a.hidden:
        die("iterations, eval-every and batch must be >= 1, seeds and hidden non-empty")
    if a.optimizer not in ("adam", "sgd"):
        die(f"optimizer {a.optimizer!r} is not adam or sgd")
    if a.dropout:
        die("dropout is not mirrored (ticketsweep draws its masks from its own generator)")
    for name, ok in (("format", ("idx", "cifar10")), ("split", ("last", "random")),
                     ("normalize", ("auto", "none", "standard"))):
        if getattr(a, name) not in ok:
            die(f"{name} {getattr(a, name)!r} is not one of {', '.join(ok)}")
    return differ


def mean_std(v):
    v = np.asarray(v, float)
    return v.mean(), (v.std(ddof=1) if len(v) > 1 else float("nan"))


def write_csv(path, run):
    with open(path, "w") as f:
        f.write("iteration,train_loss,val_loss,val_acc,test_loss,test_acc\n")
        for c in run["curve"]:
            f.write(",".join([str(c[0])] + [repr(float(v)) if v == v else "" for v in c[1:]]) + "\n")


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
    ap.add_argument("--conv", help="convolutions and pools, e.g. '64,64,pool' (default none)")
    ap.add_argument("--validation", type=int, help="images held out of the training file (default 5000)")
    ap.add_argument("--split", choices=("last", "random"), help="which images validate (default last)")
    ap.add_argument("--split-seed", dest="split_seed", type=int, help="the random split's seed (default 0)")
    ap.add_argument("--normalize", choices=("auto", "none", "standard"), help="inputs (default auto)")
    ap.add_argument("--format", choices=("idx", "cifar10"), help="data files (default idx)")
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
                    help="a ticketsweep results file: take unset options from its job and theta0 "
                         "from its /init, and print its round-0 (dense) accuracies next to these")
    ap.add_argument("--out", metavar="DIR", help="write each run's curve (torch_seedS.csv, "
                    "ticketsweep_seedS.csv) and summary.csv there")
    a = ap.parse_args()
    a.dropout = None

    ts, theta, job, its = {}, {}, None, None
    if a.compare:
        sys.dont_write_bytecode = True  # no __pycache__ in tools/
        # the ticketsweep package, from the checkout (tools/python; this file is in tools/bench)
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
        import ticketsweep
        try:
            with ticketsweep.load(a.compare) as r:
                job, its = r.config, [int(i) for i in r.iterations]
        except (ticketsweep.FormatError, OSError) as e:
            die(str(e))
    differ = resolve(a, job)
    a.evals = None
    if its and not any(d.startswith(("iterations:", "eval_every:")) for d in differ):
        a.evals = its
    if a.compare:
        ts, theta = ticketsweep_round0(a.compare, a.seeds)
        for d in differ:
            print(f"warning: not like for like: {d}", file=sys.stderr)
        missing = [s for s in a.seeds if s not in ts]
        if missing:
            print(f"warning: {a.compare} has no done round 0 for seeds {missing} (their theta0 is "
                  f"PyTorch's draw)", file=sys.stderr)

    import torch
    torch.set_num_threads(a.threads)
    data, stats = load_data(a, torch)
    shape = tuple(data[0][0].shape[1:])
    arch = ("conv " + ",".join(map(str, a.conv)) + "; " if a.conv else "") + "hidden " + \
        ",".join(map(str, a.hidden))
    print(f"PyTorch {torch.__version__}, {a.threads} thread(s); {arch}; input {'x'.join(map(str, shape))}; "
          f"{a.optimizer} lr {a.lr:g}, batch {a.batch}, {a.iterations} iterations, eval every "
          f"{a.eval_every}; train/val/test {len(data[0][1])}/{len(data[1][1])}/{len(data[2][1])} "
          f"(split {a.split}{f' seed {a.split_seed}' if a.split == 'random' else ''}); inputs "
          + ("pixel / 255" if stats is None else "standardised: mean " +
             ", ".join(f"{m:.4f}" for m in stats[0]) + "; std " + ", ".join(f"{s:.4f}" for s in stats[1])))
    hdr = f"{'seed':>6} {'es iter':>8} {'es test acc':>12} {'final test acc':>15} {'seconds':>8}"
    if ts:
        hdr += f"   | ticketsweep: {'es iter':>8} {'es test acc':>12} {'final test acc':>15}"
    print(hdr, flush=True)
    if a.out:
        os.makedirs(a.out, exist_ok=True)
    runs = []
    for seed in a.seeds:
        r = train_one(torch, a, data, seed, theta.get(seed))
        runs.append(r)
        line = (f"{seed:>6} {r['es_iter']:>8} {r['es_acc']:>12.4f} {r['final_acc']:>15.4f} "
                f"{r['seconds']:>8.1f}")
        if seed in ts:
            line += f"   | {'':>12} {ts[seed]['es_iter']:>8} {ts[seed]['es_acc']:>12.4f} " \
                    f"{ts[seed]['final_acc']:>15.4f}"
        print(line, flush=True)
        if a.out:
            write_csv(os.path.join(a.out, f"torch_seed{seed}.csv"), r)
            if seed in ts:
                write_csv(os.path.join(a.out, f"ticketsweep_seed{seed}.csv"), ts[seed])
    es, fin = mean_std([r["es_acc"] for r in runs]), mean_std([r["final_acc"] for r in runs])
    tv = [ts[r["seed"]] for r in runs if r["seed"] in ts]
    tes, tfin = mean_std([v["es_acc"] for v in tv]), mean_std([v["final_acc"] for v in tv])
    for name, col in (("mean", 0), ("std", 1)):
        it = f"{np.mean([r['es_iter'] for r in runs]):>8.0f}" if col == 0 else " " * 8
        line = f"{name:>6} {it} {es[col]:>12.4f} {fin[col]:>15.4f} {'':>8}"
        if tv:
            tit = f"{np.mean([v['es_iter'] for v in tv]):>8.0f}" if col == 0 else " " * 8
            line += f"   | {'':>12} {tit} {tes[col]:>12.4f} {tfin[col]:>15.4f}"
        print(line)
    if tv:
        for name, p, q in (("early-stop", es, tes), ("final", fin, tfin)):
            se = math.sqrt((p[1] ** 2 / len(runs) if len(runs) > 1 else 0) +
                           (q[1] ** 2 / len(tv) if len(tv) > 1 else 0))
            print(f"{name} test accuracy: PyTorch - ticketsweep = {p[0] - q[0]:+.4f} "
                  f"(standard error of the difference {se:.4f})")
    if a.out:
        with open(os.path.join(a.out, "summary.csv"), "w") as f:
            f.write("seed,impl,es_iter,es_test_acc,final_test_acc,seconds\n")
            for r in runs:
                for impl, x in (("ticketsweep", ts.get(r["seed"])), ("torch", r)):
                    if x:
                        f.write(f"{r['seed']},{impl},{x['es_iter']},{x['es_acc']:.4f},"
                                f"{x['final_acc']:.4f},{x['seconds']:.1f}\n")


if __name__ == "__main__":
    main()
