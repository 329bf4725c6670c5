#!/usr/bin/python3
"""Read a ticketsweep results file (format "ticketsweep-results", version 2).

The layout is described in README.md, "The results file". This module gives it back as numpy
arrays, with the rows of trials that are not done hidden (their contents are
undefined in the file):

    import ticketsweep
    with ticketsweep.load("sweep.h5") as r:
        r.trials                  # one row per trial: index, rate, rounds, seed, status, error
        r.mask(t, 2)              # {layer: bool [out, in]}: weights of trial t active in round 2
        r.mask(t, 2, "random")    # the same for the random-mask control
        r.theta0(seed)            # {layer: (weight [out, in], bias [out])}
        r.curves("ticket", "test_acc")   # float [T, R+1, E], NaN where there is no run
        r.iterations              # int [E]: the iteration of each evaluation point
        r.summary("reinit")       # one row per (done trial, round): density, early stop, ...

Arms are "ticket", "reinit" and "random" (r.arms lists those in the file);
metrics are train_loss, val_loss, val_acc, test_loss, test_acc; accuracies are
fractions in [0, 1]. The reinit control trains the ticket's masks, so
mask(t, r, "reinit") is the ticket's mask.

Run as a script, it prints the trial table: ticketsweep.py RESULTS.h5
"""
import argparse
import configparser
import sys

import h5py
import numpy as np

FORMAT = "ticketsweep-results"
FORMAT_VERSION = 2
ARMS = ("ticket", "reinit", "random")
METRICS = ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc")
SUMMARY_FIELDS = ("density", "early_stop_iter", "early_stop_test_acc", "final_test_acc")
PENDING, DONE, FAILED = 0, 1, 2
STATUS_NAMES = {PENDING: "pending", DONE: "done", FAILED: "failed"}


def _layer_order(name):
    """The model's order of layer names: conv1, conv2, ..., then fc1, fc2, ..."""
    conv = name.startswith("conv")
    return (not conv, int(name[4:] if conv else name[2:]))


class FormatError(ValueError):
    """The file is not a results file this module can read."""


def _str(value):
    """An HDF5 string (attribute or dataset element) as a Python str."""
    if isinstance(value, (bytes, np.bytes_)):
        return value.decode("utf-8", "replace")
    return str(value)


class Results:
    """An open results file. Use load(path); close() or a with-block ends it.

    Attributes: path, trials (structured array, see below), rates, rounds_grid,
    seeds (the grid), layers (["conv1", ..., "fc1", ...]: the model's order), arms (present arms), iterations,
    n_weights (prunable weights), config (configparser of the resolved job),
    config_text, attrs (root attributes as Python values), done (bool [T]).

    trials fields: index, rate, rounds, seed, status (0 pending, 1 done,
    2 failed), error (str, "" unless failed).
    """

    def __init__(self, path):
        self.path = path
        try:
            self.file = h5py.File(path, "r")
        except OSError as e:
            raise FormatError(f"{path}: cannot open as HDF5: {e}") from None
        try:
            self._check_format()
            self._read_tables()
        except Exception:
            self.file.close()
            raise

    def _check_format(self):
        f, p = self.file, self.path
        fmt = _str(f.attrs["format"]) if "format" in f.attrs else None
        if fmt != FORMAT:
            raise FormatError(f"{p}: not a ticketsweep results file (format attribute is "
                              f"{fmt!r}, expected {FORMAT!r})")
        ver = f.attrs.get("format_version")
        if ver is None or np.ndim(ver) != 0 or int(ver) != FORMAT_VERSION:
            sw = _str(f.attrs.get("software_version", "?"))
            raise FormatError(f"{p}: format_version is {ver!r}, this reader knows version "
                              f"{FORMAT_VERSION} only; use the reader shipped with the "
                              f"ticketsweep that wrote the file ({sw})")

    def _read_tables(self):
        f = self.file
        self.attrs = {k: (_str(v) if isinstance(v, (bytes, np.bytes_, str)) else v.item()
                          if np.ndim(v) == 0 and hasattr(v, "item") else v)
                      for k, v in f.attrs.items()}
        self.config_text = self.attrs.get("config", "")
        self.config = configparser.ConfigParser(interpolation=None)
        self.config.read_string(self.config_text)
        # a per_round job has /grid/per_round (fraction pruned each round) instead of /grid/rates
        self.per_round = f["grid/per_round"][:] if "grid/per_round" in f else None
        self.rates = f["grid/rates"][:] if "grid/rates" in f else np.unique(f["trials/rate"][:])
        self.rounds_grid = f["grid/rounds"][:]
        self.seeds = f["grid/seeds"][:]
        tr = f["trials"]
        T = tr["status"].shape[0]
        self.trials = np.zeros(T, dtype=[("index", "i8"), ("rate", "f8"), ("rounds", "i4"),
                                         ("seed", "i8"), ("status", "i1"), ("error", "O")])
        self.trials["index"] = np.arange(T)
        for k in ("rate", "rounds", "seed", "status"):
            self.trials[k] = tr[k][:]
        self.trials["error"] = [_str(e) for e in tr["error"][:]]
        self.done = self.trials["status"] == DONE
        self.iterations = f["curves/iteration"][:]
        self.layers = sorted(f["masks"].keys(), key=_layer_order)
        self.n_weights = sum(int(np.prod(f["masks"][l].shape[1:])) for l in self.layers)
        self.arms = tuple(a for a in ARMS if a == "ticket" or f"controls/{a}" in f)

    # -- helpers ------------------------------------------------------------
    def _group(self, arm):
        if arm not in ARMS:
            raise ValueError(f"unknown arm {arm!r}; arms are {', '.join(ARMS)}")
        if arm not in self.arms:
            raise KeyError(f"{self.path}: no {arm} control in this file (prune.controls of the "
                           f"job did not name it); arms present: {', '.join(self.arms)}")
        return self.file if arm == "ticket" else self.file[f"controls/{arm}"]

    def _seed_index(self, seed):
        hit = np.flatnonzero(self.seeds == seed)
        if not hit.size:
            raise KeyError(f"{self.path}: seed {seed} is not in the grid "
                           f"(seeds: {', '.join(map(str, self.seeds))})")
        return int(hit[0])

    def _per_seed(self, group, seed):
        s = self._seed_index(seed)
        return {l: (self.file[f"{group}/{l}/weight"][s], self.file[f"{group}/{l}/bias"][s])
                for l in self.layers}

    # -- the API ------------------------------------------------------------
    def mask(self, t, round, arm="ticket"):
        """{layer: bool [out, in]}: weights of trial t active in `round`
        (0 = dense, up to the trial's rounds). arm "random" gives the random
        control's masks; "ticket" and "reinit" the ticket's."""
        if not 0 <= t < len(self.trials):
            raise IndexError(f"trial {t} is out of range [0, {len(self.trials)})")
        if not self.done[t]:
            raise ValueError(f"trial {t} is {STATUS_NAMES.get(int(self.trials['status'][t]), '?')},"
                             " its masks are undefined")
        n = int(self.trials["rounds"][t])
        if not 0 <= round <= n:
            raise ValueError(f"trial {t} has rounds 0..{n}, not {round}")
        g = self._group("ticket" if arm == "reinit" else arm)
        return {l: g["masks"][l][t] > round for l in self.layers}

    def theta0(self, seed):
        """{layer: (weight [out, in], bias [out])}: the initial weights of `seed`."""
        return self._per_seed("init", seed)

    def rewind(self, seed):
        """Like theta0, the rewind point (only in files with rewind_iteration > 0)."""
        if "rewind" not in self.file:
            raise KeyError(f"{self.path}: no /rewind (the job had rewind_iteration = 0)")
        return self._per_seed("rewind", seed)

    def node(self, t, round, arm="ticket"):
        """The training (row of /nodes) behind `round` of trial t's `arm`; trials
        share trainings (round 0 of a seed is one training for all its trials)."""
        if not 0 <= t < len(self.trials):
            raise IndexError(f"trial {t} is out of range [0, {len(self.trials)})")
        n = int(self.trials["rounds"][t])
        if not 0 <= round <= n:
            raise ValueError(f"trial {t} has rounds 0..{n}, not {round}")
        if arm not in ARMS:
            raise ValueError(f"unknown arm {arm!r}; arms are {', '.join(ARMS)}")
        x = int(self.file["trials/nodes"][t, ARMS.index(arm), round])
        if x < 0:
            raise ValueError(f"trial {t} has no {arm} arm (the job's controls)")
        return x

    def weights(self, t, round, arm="ticket"):
        """{layer: (weight, bias)}: the trained weights of `round` of trial t's
        `arm` (files of jobs with [output] weights = final)."""
        if "nodes/weights" not in self.file:
            raise KeyError(f"{self.path}: no /nodes/weights (the job had [output] weights = none)")
        x = self.node(t, round, arm)
        if int(self.file["nodes/status"][x]) != 1:
            raise ValueError(f"trial {t} {arm} round {round}: its training is not done")
        flat = self.file["nodes/weights"][x]
        out, off = {}, 0
        for l in self.layers:  # the parameter block: each layer's weight, then its bias
            ws, bs = self.file[f"init/{l}/weight"].shape[1:], self.file[f"init/{l}/bias"].shape[1:]
            nw, nb = int(np.prod(ws)), int(np.prod(bs))
            out[l] = (flat[off:off + nw].reshape(ws), flat[off + nw:off + nw + nb].reshape(bs))
            off += nw + nb
        return out

    def curves(self, arm, metric):
        """float [T, R+1, E]: `metric` of `arm` at each evaluation point, NaN for
        rounds a trial does not have and for trials that are not done."""
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; metrics are {', '.join(METRICS)}")
        c = self._group(arm)["curves"][metric][:]
        c[~self.done] = np.nan
        return c

    def summary(self, arm="ticket"):
        """The per-round summary of `arm` over done trials, as a table with one
        row per (done trial, round 0..rounds): trial, rate, rounds, seed, round,
        density, early_stop_iter, early_stop_test_acc, final_test_acc."""
        g = self._group(arm)["summary"]
        data = {k: g[k][:] for k in SUMMARY_FIELDS}
        rows = [(t, r) for t in np.flatnonzero(self.done)
                for r in range(int(self.trials["rounds"][t]) + 1)]
        out = np.zeros(len(rows), dtype=[("trial", "i8"), ("rate", "f8"), ("rounds", "i4"),
                                         ("seed", "i8"), ("round", "i4"), ("density", "f8"),
                                         ("early_stop_iter", "i4"),
                                         ("early_stop_test_acc", "f4"),
                                         ("final_test_acc", "f4")])
        if not rows:
            return out
        t, r = (np.array(x) for x in zip(*rows))
        out["trial"], out["round"] = t, r
        for k in ("rate", "rounds", "seed"):
            out[k] = self.trials[k][t]
        for k in SUMMARY_FIELDS:
            out[k] = data[k][t, r]
        return out

    def close(self):
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load(path):
    """Open a results file; raises FormatError when it is not format 1."""
    return Results(path)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Print the trial table of a ticketsweep results file.")
    ap.add_argument("results", help="results file (HDF5) written by ticketsweep run")
    a = ap.parse_args(argv)
    try:
        r = load(a.results)
    except (FormatError, OSError) as e:
        sys.exit(f"ticketsweep.py: {e}")
    with r:
        print(f"{a.results}: {len(r.trials)} trials, arms {', '.join(r.arms)}, "
              f"{r.n_weights} prunable weights, {r.attrs.get('software_version', '?')}")
        print(f"{'trial':>5} {'rate':>8} {'rounds':>6} {'seed':>6}  {'status':<8} "
              "final density / es acc")
        summ = r.file["summary"]
        dens, acc = summ["density"], summ["early_stop_test_acc"]
        for row in r.trials:
            t, n = int(row["index"]), int(row["rounds"])
            extra = (f"{dens[t, n]:.4f} / {acc[t, n]:.4f}" if r.done[t] else row["error"])
            print(f"{t:>5} {row['rate']:>8g} {n:>6} {row['seed']:>6}  "
                  f"{STATUS_NAMES.get(int(row['status']), '?'):<8} {extra}")


if __name__ == "__main__":
    main()
