"""ticketsweep.results: read a ticketsweep results file (format "ticketsweep-results", versions 2 and 3).

The layout is described in README.md, "The results file". This module gives it back as numpy
arrays, with the rows of trials that are not done hidden (their contents are
undefined in the file):

    import ticketsweep
    with ticketsweep.load("sweep.h5") as r:
        print(r.trials)           # one row per trial: index, rate, per_round, rounds, seed, status, error, rewind
        t = r.find(rate=0.8, rounds=2, seed=1)   # the index of that trial (rewind=k too with sweep.rewind)
        r.trial(t)                # Trial(index=..., rate=0.8, ..., status='done', error='')
        r.mask(t, 2)              # {layer: bool [out, in]}: weights of trial t active in round 2
        r.mask(t, 2, "random")    # the same for the random-mask control
        r.mask_rounds(t)          # {layer: uint8 [out, in]}: rounds each weight was active in
        r.theta0(seed)            # {layer: (weight [out, in], bias [out])}
        r.curves("ticket", "val_acc")    # float [T, R+1, E], NaN where there is no run
        r.test_curve              # "full" or "early_stop": where the test curves have values
        r.iterations              # int [E]: the iteration of each evaluation point
        r.start_iteration(round)  # where that round's trainings start (NaN before it in curves)
        r.summary("reinit")       # one row per (done trial, round): density, early stop, ...
        r.table()                 # pandas DataFrame: one row per done trial x arm x round
        r.to_csv("sweep.csv")     # the same rows as CSV (no pandas needed)
        ds = r.to_xarray()        # xarray Dataset on the grid's own dimensions (ticketsweep.dataset)
        i = r.instability()       # [analysis] copies >= 2: the lines between copies (Instability)
        r.instability_summary()   # one row per (done trial, round, pair): density, instability

With rewind_iteration = k > 0 and rewind_schedule = continue, every arm's
rounds after the first train iterations k..T (r.start_iteration(round) is k):
their curves are NaN at the evaluation points before k, and early-stop
iterations are absolute (>= k). r.rewind_iteration and r.rewind_schedule give
the job's values (a file written before rewind_schedule existed reads as
"restart" when it rewinds, as ticketsweep reads it).

With the criterion axis ([sweep] criterion = magnitude, movement:
r.criterion_axis is True) every cell prunes by its own criterion: r.criteria
is the axis (names, in prune.criterion's order), r.trials["criterion"] each
cell's (in a file without the axis, the job's prune.criterion), and
find(criterion=), trial(t).criterion, the summary's and the table's
criterion column and to_xarray()'s criterion dimension (after rewind) follow
the rewind axis's pattern below; round 0 is one training for every criterion
of a seed.

With the rewind axis ([sweep] rewind = 0, 100, 500: r.rewind_axis is True)
every cell has its own k: r.rewinds is the axis, r.trials["rewind"] each
cell's k (in a file without the axis, r.rewind_iteration for every cell),
r.start_iteration(round, t) a cell's start, r.rewind(seed, k) the weights of
seed's round 0 at k; summary(), table() and to_csv() gain a rewind column,
and to_xarray() a rewind dimension. Round 0 is one training for every k of a
seed; its instability in a cell is the dense network's from the cell's k.

With [train] test_curve = early_stop (r.test_curve), a training evaluated the
test set only where the summary needs it: its test_loss and test_acc curves
are NaN except at its early-stop point and its last point (the validation
and training curves are whole; the summary is what test_curve = full gives,
bit for bit). r.test_points(arm) marks those points.

With [analysis] copies >= 2 (r.copies; 0 without the analysis) every ticket
training (round 0: the dense network) was trained r.copies times from the same
start and mask in different data orders, and evaluated at r.alpha along the
line between each pair's final weights: r.instability() gives the errors
there and the instability (largest test error on the line minus the mean of
the endpoints'), NaN for trials not done and rounds a trial does not have.

Arms are "ticket" and the controls of [prune] controls: "reinit", "random",
the sign controls "signed_reinit", "reshuffle", "signed_constant", and the
pruning-at-initialisation arms "snip", "synflow", "magnitude_init", "grasp"
(r.arms lists those in the file, in that order); metrics are train_loss, val_loss,
val_acc, test_loss, test_acc; accuracies are fractions in [0, 1]. reinit and
the sign controls train the ticket's masks, so mask(t, r, "reinit") is the
ticket's mask; the pruning-at-initialisation arms' masks are their trainings'
rows of /nodes/mask.

Only table() needs pandas (Debian's python3-pandas) and to_xarray() xarray
(python3-xarray); they are imported there, so the rest works without them.

`python3 -m ticketsweep RESULTS.h5 [--csv OUT.csv]` prints the trial table (main).
"""
import argparse
import collections
import configparser
import csv
import sys

import h5py
import numpy as np

from .fields import DONE, FAILED, METRICS, PENDING, STATUS_NAMES, SUMMARY_FIELDS  # noqa: F401 (re-exported)

FORMAT = "ticketsweep-results"
FORMAT_VERSION = 5
# version 3 dropped the per-cell /masks of version 2; both read the same here
# (masks come from /trials/nodes and /nodes/mask in either); version 4 is
# version 3 with the grid's rewind or criterion axis (only such a job writes it);
# version 5 keeps the learning curves a row per training (/nodes/curves, with
# [output] curves = trainings), from which curves() gives the cells' rows
FORMAT_VERSIONS = (2, 3, 4, 5)
ARMS = ("ticket", "reinit", "random", "signed_reinit", "reshuffle", "signed_constant", "snip", "synflow",
        "magnitude_init", "grasp")  # the file's arm numbers (/nodes/arm, the arm axis of /trials/nodes)
TWIN_MASK_ARMS = ("reinit", "signed_reinit", "reshuffle", "signed_constant")  # train the ticket's mask
INIT_ARMS = ("snip", "synflow", "magnitude_init", "grasp")  # pruning at initialisation: one-shot masks, not nested


TABLE_COLUMNS = ("trial", "rate", "rounds", "seed", "arm", "round") + SUMMARY_FIELDS

Instability = collections.namedtuple("Instability", "alpha data_seed pairs test_error test_loss val_error value")
Instability.__doc__ = """The instability analysis of a file ([analysis] copies >= 2): alpha [A]
(the points of a line, 0 to 1), data_seed [C] (each copy's data-order seed; copy 0 is the
sweep's own training), pairs (the (i, j) copies of each line, i < j), test_error, test_loss,
val_error [T, R+1, pairs, A] along each line of the ticket's rounds (round 0: the dense
network), value [T, R+1, pairs] (the largest test error on the line minus the mean of its
endpoints'); NaN for trials not done and rounds a trial does not have."""

Trial = collections.namedtuple("Trial", "index rate per_round rounds seed status error")
Trial.__doc__ = """One trial (cell) of the grid: index t, its pruning rate (the fraction of
each layer's weights gone after the last round), per_round (the fraction pruned each
round), rounds, seed, status ("pending", "done" or "failed") and error ("" unless failed)."""

# the chain axes a cell can have besides rate, rounds and seed, in the grid's order, with
# their numpy types: sweep.rewind (k) and sweep.criterion (a name)
CHAIN_AXES = (("rewind", "i8"), ("criterion", "O"))
_TRIAL_TYPES = {(): Trial}


def _trial_type(axes):
    """Trial, with a field for each chain axis of the file (axes: their names)."""
    if axes not in _TRIAL_TYPES:
        _TRIAL_TYPES[axes] = collections.namedtuple("Trial", Trial._fields + axes)
        _TRIAL_TYPES[axes].__doc__ = ("A trial of a file with the chain axes " + ", ".join(axes) +
                                      ": Trial's fields and the cell's value of each.")
    return _TRIAL_TYPES[axes]


class TrialTable(np.ndarray):
    """The trial table: a numpy structured array, one row per trial, fields index,
    rate, per_round, rounds, seed, status (0 pending, 1 done, 2 failed) and error,
    that prints as a table. A field (trials["rate"]) is a plain numpy array."""

    def __array_finalize__(self, obj):
        self.chain_axes = getattr(obj, "chain_axes", ())  # columns of the file's chain axes

    def __getitem__(self, key):
        out = super().__getitem__(key)
        if isinstance(out, np.ndarray) and out.dtype.names is None:
            return out.view(np.ndarray)
        return out

    def __str__(self):
        if self.dtype.names is None or self.ndim != 1:
            return str(self.view(np.ndarray))
        axes = self.chain_axes
        head = ("index", "rate", "per_round", "rounds") + axes + ("seed", "status", "error")
        rows = [(str(int(r["index"])), f"{r['rate']:.6g}", f"{r['per_round']:.6g}", str(int(r["rounds"])))
                + tuple(str(r[a]) for a in axes)
                + (str(int(r["seed"])), STATUS_NAMES.get(int(r["status"]), "?"), str(r["error"]))
                for r in self]
        text = len(head) - 2  # status and error: left-aligned
        width = [max([len(h)] + [len(row[i]) for row in rows]) for i, h in enumerate(head)]
        fmt = lambda row: "  ".join((c.ljust if i >= text else c.rjust)(width[i])  # noqa: E731
                                    for i, c in enumerate(row)).rstrip()
        return "\n".join([fmt(head)] + [fmt(row) for row in rows])

    __repr__ = __str__


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
    config_text, attrs (root attributes as Python values), done (bool [T]),
    rewind_iteration (k, 0 without rewinding), rewind_schedule ("continue" or
    "restart": see start_iteration), test_curve ("full": the test set at every
    evaluation point; "early_stop": only at each run's early stop and end, see
    test_points; a file from before the key reads as "full").

    trials fields: index, rate, per_round (the fraction pruned each round: the
    grid's per_round in a per_round job, 1 - (1 - rate)^(1/rounds) in a crossed
    one), rounds, seed, status (0 pending, 1 done, 2 failed), error (str, ""
    unless failed). print(r.trials) prints it as a table; r.trial(t) gives one
    row as a Trial with named fields; r.find(...) the index of a trial.
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
        if ver is None or np.ndim(ver) != 0 or int(ver) not in FORMAT_VERSIONS:
            sw = _str(f.attrs.get("software_version", "?"))
            raise FormatError(f"{p}: format_version is {ver!r}, this reader knows versions "
                              f"{', '.join(map(str, FORMAT_VERSIONS))}; use the reader shipped with the "
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
        trials = np.zeros(T, dtype=[("index", "i8"), ("rate", "f8"), ("per_round", "f8"), ("rounds", "i4"),
                                    ("seed", "i8"), ("status", "i1"), ("error", "O"), ("rewind", "i8"),
                                    ("criterion", "O")])
        trials["index"] = np.arange(T)
        for k in ("rate", "rounds", "seed", "status"):
            trials[k] = tr[k][:]
        trials["error"] = [_str(e) for e in tr["error"][:]]
        self.rewind_iteration = self.config.getint("prune", "rewind_iteration", fallback=0)
        # the rewind axis (sweep.rewind): cells rate, rounds, rewind, seed; else one k for all
        self.rewind_axis = "grid/rewind" in f
        self.rewinds = f["grid/rewind"][:] if self.rewind_axis else np.array([self.rewind_iteration])
        trials["rewind"] = tr["rewind"][:] if self.rewind_axis else self.rewind_iteration
        # the criterion axis (sweep.criterion): names, in prune.criterion's order
        self.criterion_axis = "grid/criterion" in f
        job_criterion = self.config.get("prune", "criterion", fallback="magnitude").strip()
        self.criteria = ([_str(c) for c in f["grid/criterion"][:]] if self.criterion_axis else [job_criterion])
        trials["criterion"] = ([_str(c) for c in tr["criterion"][:]] if self.criterion_axis else job_criterion)
        # the chain axes the file has, in the grid's order (columns and fields after rounds)
        self.chain_axes = tuple(a for a, on in (("rewind", self.rewind_axis), ("criterion", self.criterion_axis))
                                if on)
        if self.per_round is not None:  # trials are rate-major: axis index t // (rounds x rewinds x seeds)
            per_rate = len(self.rounds_grid) * len(self.rewinds) * len(self.seeds)
            trials["per_round"] = self.per_round[trials["index"] // per_rate]
        else:
            trials["per_round"] = 1 - (1 - trials["rate"]) ** (1.0 / trials["rounds"])
        self.trials = trials.view(TrialTable)
        self.trials.chain_axes = self.chain_axes
        self.done = self.trials["status"] == DONE
        self.iterations = f["curves/iteration"][:]
        # a file from before the key: its rewinding rounds restarted (ticketsweep reads it so)
        self.rewind_schedule = self.config.get("prune", "rewind_schedule", fallback=None) or (
            "restart" if self.rewind_iteration > 0 else "continue")
        self.test_curve = self.config.get("train", "test_curve", fallback="full")
        self.layers = sorted(f["init"].keys(), key=_layer_order)
        self._shapes = [f[f"init/{l}/weight"].shape[1:] for l in self.layers]
        self.n_weights = sum(int(np.prod(s)) for s in self._shapes)
        self._mask_row = f["nodes/mask_row"][:]
        self._twin = f["nodes/twin"][:]
        self.arms = tuple(a for a in ARMS if a == "ticket" or f"controls/{a}" in f)
        self.copies = self.config.getint("analysis", "copies", fallback=0)
        self.alpha = f["instability/alpha"][:] if "instability" in f else None

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

    def _grid_text(self):
        axis = (f"per_round {', '.join(f'{q:g}' for q in self.per_round)}" if self.per_round is not None
                else f"rates {', '.join(f'{p:g}' for p in self.rates)}")
        rewind = f"; rewind {', '.join(map(str, self.rewinds))}" if self.rewind_axis else ""
        rewind += f"; criterion {', '.join(self.criteria)}" if self.criterion_axis else ""
        return (f"{axis}; rounds {', '.join(map(str, self.rounds_grid))}{rewind}; "
                f"seeds {', '.join(map(str, self.seeds))}")

    # -- the API ------------------------------------------------------------
    def trial(self, t):
        """Trial t as a Trial (named fields: index, rate, per_round, rounds, seed,
        status "pending"/"done"/"failed", error; with the rewind axis also rewind)."""
        if not 0 <= int(t) < len(self.trials):
            raise IndexError(f"trial {t} is out of range [0, {len(self.trials)})")
        row = self.trials[int(t)]
        fields = (int(row["index"]), float(row["rate"]), float(row["per_round"]), int(row["rounds"]),
                  int(row["seed"]), STATUS_NAMES.get(int(row["status"]), "?"), str(row["error"]))
        extra = tuple(int(row[a]) if a == "rewind" else str(row[a]) for a in self.chain_axes)
        return _trial_type(self.chain_axes)(*fields, *extra)

    def find(self, rate=None, rounds=None, seed=None, per_round=None, rewind=None, criterion=None):
        """The index of the one trial with these values (those given; rates are
        compared with np.isclose, so 0.8 finds a rate stored as 0.7999999999;
        rewind: the cell's k of the rewind axis; criterion: its name).
        Raises LookupError when no trial matches, ValueError when several do."""
        sel = np.ones(len(self.trials), dtype=bool)
        asked = []
        for name, value in (("rate", rate), ("per_round", per_round)):
            if value is not None:
                sel &= np.isclose(self.trials[name], float(value))
                asked.append(f"{name}={float(value):g}")
        for name, value in (("rounds", rounds), ("seed", seed), ("rewind", rewind)):
            if value is not None:
                sel &= self.trials[name] == int(value)
                asked.append(f"{name}={int(value)}")
        if criterion is not None:
            sel &= self.trials["criterion"] == str(criterion)
            asked.append(f"criterion={criterion}")
        if not asked:
            raise TypeError("find() needs at least one of rate, rounds, seed, per_round, rewind, criterion")
        hits = np.flatnonzero(sel)
        if not len(hits):
            raise LookupError(f"{self.path}: no trial with {', '.join(asked)} (the grid: {self._grid_text()})")
        if len(hits) > 1:
            shown = ", ".join(map(str, hits[:10])) + (", ..." if len(hits) > 10 else "")
            missing = [n for n, v in (("rate", rate if per_round is None else per_round), ("rounds", rounds),
                                      ("seed", seed)) + tuple((a, {"rewind": rewind, "criterion": criterion}[a])
                                                              for a in self.chain_axes)
                       if v is None]
            raise ValueError(f"{self.path}: {len(hits)} trials match {', '.join(asked)}: {shown} "
                             f"(give {' and '.join(missing)} too)")
        return int(hits[0])

    def _check_round(self, t, round=None):
        if not 0 <= t < len(self.trials):
            raise IndexError(f"trial {t} is out of range [0, {len(self.trials)})")
        if not self.done[t]:
            raise ValueError(f"trial {t} is {STATUS_NAMES.get(int(self.trials['status'][t]), '?')},"
                             " its masks are undefined")
        n = int(self.trials["rounds"][t])
        if round is not None and not 0 <= round <= n:
            raise ValueError(f"trial {t} has rounds 0..{n}, not {round}")
        return n

    def _node_mask(self, x):
        """bool [n_weights]: the mask training x trained (a reinit control's
        is its twin ticket's), from its row of /nodes/mask."""
        row = int(self._mask_row[x])
        if row < 0:
            row = int(self._mask_row[self._twin[x]])
        bits = self.file["nodes/mask"][row]
        return np.unpackbits(bits, bitorder="little")[:self.n_weights].astype(bool)

    def _by_layer(self, flat):
        out, off = {}, 0
        for l, shape in zip(self.layers, self._shapes):
            n = int(np.prod(shape))
            out[l] = flat[off:off + n].reshape(shape)
            off += n
        return out

    def mask(self, t, round, arm="ticket"):
        """{layer: bool [out, in]} (convolutions [out, in, 3, 3]): weights of
        trial t active in `round` (0 = dense, up to the trial's rounds). arm
        "random" gives the random control's masks, snip, synflow,
        magnitude_init and grasp their own; "ticket", "reinit" and the sign controls the
        ticket's. Read from the training behind the round (/trials/nodes,
        /nodes/mask): a cell's masks are its trainings', stored once."""
        self._check_round(t, round)
        self._group(arm)  # refuses an arm the file lacks
        x = self.node(t, round, "ticket" if arm in TWIN_MASK_ARMS else arm)
        return self._by_layer(self._node_mask(x))

    def mask_rounds(self, t, arm="ticket"):
        """{layer: uint8 [out, in]}: in how many rounds of trial t each weight
        was active (rounds 0..k exactly when the value is > k: masks are
        nested); what format 2 stored per cell in /masks. The masks of snip,
        synflow, magnitude_init and grasp are one-shot prunings of theta0, not nested:
        theirs is only a count."""
        n = self._check_round(t)
        self._group(arm)
        flat = np.zeros(self.n_weights, dtype=np.uint8)
        for k in range(n + 1):
            flat += self._node_mask(self.node(t, k, "ticket" if arm in TWIN_MASK_ARMS else arm))
        return self._by_layer(flat)


    def theta0(self, seed):
        """{layer: (weight [out, in], bias [out])}: the initial weights of `seed`."""
        return self._per_seed("init", seed)

    def rewind(self, seed, k=None):
        """Like theta0, the rewind point: seed's round 0 after k steps (only in
        files that rewind). k: a value of the rewind axis (needed with
        sweep.rewind); /rewind holds a row per (seed, k), seed-major."""
        if "rewind" not in self.file:
            raise KeyError(f"{self.path}: no /rewind (the job had rewind_iteration = 0)")
        if k is None and len(self.rewinds) > 1:
            raise ValueError(f"{self.path}: rewind(seed, k) needs k, one of {', '.join(map(str, self.rewinds))}")
        hit = np.flatnonzero(self.rewinds == (self.rewinds[0] if k is None else k))
        if not hit.size:
            raise KeyError(f"{self.path}: k = {k} is not a rewind point of the job "
                           f"({', '.join(map(str, self.rewinds))})")
        row = self._seed_index(seed) * len(self.rewinds) + int(hit[0])
        return {l: (self.file[f"rewind/{l}/weight"][row], self.file[f"rewind/{l}/bias"][row])
                for l in self.layers}

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
        a = ARMS.index(arm)
        x = int(self.file["trials/nodes"][t, a, round]) if a < self.file["trials/nodes"].shape[1] else -1
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
        return self._split_params(self.file["nodes/weights"][x])

    def _split_params(self, flat):
        """{layer: (weight, bias)} of a row of /nodes/weights or /copies/weights."""
        out, off = {}, 0
        for l in self.layers:  # the row: each layer's weight, then its bias
            ws, bs = self.file[f"init/{l}/weight"].shape[1:], self.file[f"init/{l}/bias"].shape[1:]
            nw, nb = int(np.prod(ws)), int(np.prod(bs))
            out[l] = (flat[off:off + nw].reshape(ws), flat[off + nw:off + nw + nb].reshape(bs))
            off += nw + nb
        return out

    def copy_weights(self, t, round, copy):
        """{layer: (weight, bias)}: the final weights of copy `copy` of the ticket's
        `round` of trial t in the instability analysis (copy 0 the training itself;
        round 0 with the rewind axis: the copy of trial t's k). The endpoints of the
        lines in instability(). Files of this release on ([analysis] copies >= 2)."""
        if "copies" not in self.file:
            raise KeyError(f"{self.path}: no /copies (the job had [analysis] copies = 0, or an earlier "
                           f"release made the file)")
        g = self.file["copies"]
        C = len(self.file["instability/data_seed"])
        if not 0 <= copy < C:
            raise ValueError(f"copy {copy} is out of range [0, {C})")
        x = self.node(t, round, "ticket")
        k = int(np.flatnonzero(self.rewinds == self.trials["rewind"][t])[0]) if round == 0 else 0
        node, rw, cp = g["node"][:], g["rewind_index"][:], g["copy"][:]
        rows = np.flatnonzero((node == x) & (cp == copy) & ((rw == k) | (copy == 0)))
        if len(rows) != 1:
            raise ValueError(f"trial {t} round {round}: no row of /copies for copy {copy}")
        if int(g["status"][rows[0]]) != 1:
            raise ValueError(f"trial {t} round {round}: copy {copy} is not done")
        return self._split_params(g["weights"][rows[0]])

    def start_iteration(self, round, t=None):
        """The iteration at which the trainings of `round` (every arm) start:
        k, the rewind iteration (of trial t's cell with the rewind axis), for
        rounds >= 1 under rewind_schedule = continue (they train iterations
        k..T, continuing round 0's data order), else 0. Their curves are NaN
        at the points of `iterations` before it."""
        if t is None and self.rewind_axis:
            raise ValueError(f"{self.path}: the cells rewind to {', '.join(map(str, self.rewinds))}: "
                             f"start_iteration(round, t) needs the trial")
        if round > 0 and self.rewind_schedule == "continue":
            return int(self.trials["rewind"][t]) if t is not None else self.rewind_iteration
        return 0

    def curves(self, arm, metric):
        """float [T, R+1, E]: `metric` of `arm` at each evaluation point, NaN for
        rounds a trial does not have, for trials that are not done, and at the
        points before a round's start_iteration (train_loss also at the start).
        With test_curve = "early_stop", test_loss and test_acc are NaN also at
        every point but each run's early stop and last point (test_points)."""
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; metrics are {', '.join(METRICS)}")
        if "nodes/curves" in self.file:  # a row per training: each cell's round is its training's row
            self._group(arm)  # an arm the job has, or the same error as below
            rows = self.file["nodes/curves/" + metric][:]
            x = self.file["trials/nodes"][:, ARMS.index(arm), :]
            c = np.where((x >= 0)[..., None], rows[np.maximum(x, 0)], np.float32(np.nan)).astype(np.float32)
        else:
            c = self._group(arm)["curves"][metric][:]
        c[~self.done] = np.nan
        return c

    def test_points(self, arm="ticket"):
        """bool [T, R+1, E]: the evaluation points of `arm` where the test set was
        evaluated, for done trials and the rounds they have: every point from a
        round's start_iteration with test_curve = "full"; with "early_stop" the
        early stop (early_stop_iter) and the last point only."""
        val = self.curves(arm, "val_loss")
        have = ~np.isnan(val)
        if self.test_curve == "full":
            return have
        es = self._group(arm)["summary"]["early_stop_iter"][:]
        at_es = self.iterations[None, None, :] == es[:, :, None]
        at_end = np.zeros_like(have)
        at_end[:, :, -1] = True
        return have & (at_es | at_end)

    def summary(self, arm="ticket"):
        """The per-round summary of `arm` over done trials, as a table with one
        row per (done trial, round 0..rounds): trial, rate, rounds, seed, round,
        density, early_stop_iter, early_stop_test_acc, final_test_acc."""
        g = self._group(arm)["summary"]
        data = {k: g[k][:] for k in SUMMARY_FIELDS}
        rows = [(t, r) for t in np.flatnonzero(self.done)
                for r in range(int(self.trials["rounds"][t]) + 1)]
        axis = [a for a in CHAIN_AXES if a[0] in self.chain_axes]
        out = np.zeros(len(rows), dtype=[("trial", "i8"), ("rate", "f8"), ("rounds", "i4")] + axis +
                                        [("seed", "i8"), ("round", "i4"), ("density", "f8"),
                                         ("early_stop_iter", "i4"),
                                         ("early_stop_test_acc", "f4"),
                                         ("final_test_acc", "f4")])
        if not rows:
            return out
        t, r = (np.array(x) for x in zip(*rows))
        out["trial"], out["round"] = t, r
        for k in ("rate", "rounds", "seed") + self.chain_axes:
            out[k] = self.trials[k][t]
        for k in SUMMARY_FIELDS:
            out[k] = data[k][t, r]
        return out

    def _table_rows(self):
        """The rows of table() as a numpy structured array (arm as str)."""
        parts = []
        for a_i, arm in enumerate(self.arms):
            s = self.summary(arm)
            axis = [a for a in CHAIN_AXES if a[0] in self.chain_axes]
            part = np.zeros(len(s), dtype=[("trial", "i8"), ("rate", "f8"), ("rounds", "i4")] + axis + [
                                           ("seed", "i8"),
                                           ("arm", "O"), ("round", "i4"), ("density", "f8"),
                                           ("early_stop_iter", "i4"), ("early_stop_test_acc", "f4"),
                                           ("final_test_acc", "f4"), ("_arm_i", "i4")])
            for k in s.dtype.names:
                part[k] = s[k]
            part["arm"] = arm
            part["_arm_i"] = a_i
            parts.append(part)
        rows = np.concatenate(parts)
        rows = rows[np.lexsort((rows["round"], rows["_arm_i"], rows["trial"]))]
        return rows[list(self.table_columns)]

    @property
    def table_columns(self):
        """The columns of table() and to_csv(): TABLE_COLUMNS, with rewind and
        criterion after rounds in a file with those axes."""
        return TABLE_COLUMNS[:3] + self.chain_axes + TABLE_COLUMNS[3:]

    def table(self):
        """A pandas DataFrame with one row per done trial x arm x round (rounds 0
        to the trial's rounds; arms in the order ticket, reinit, random, those in
        the file), ordered by trial, arm, round; columns trial, rate, rounds,
        seed, arm, round, density, early_stop_iter, early_stop_test_acc,
        final_test_acc. Needs pandas (Debian: python3-pandas)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("ticketsweep.table() needs pandas (Debian: apt-get install python3-pandas); "
                              "to_csv() and summary() do not") from None
        rows = self._table_rows()
        return pd.DataFrame({k: rows[k] for k in self.table_columns})

    def instability(self):
        """The instability analysis as an Instability (namedtuple: alpha, data_seed,
        pairs, test_error, test_loss, val_error, value; see its doc). Raises KeyError
        when the job did not ask for it ([analysis] copies = 0)."""
        if "instability" not in self.file:
            raise KeyError(f"{self.path}: no /instability (the job had [analysis] copies = 0; "
                           f"set copies = 2 for the instability analysis)")
        g = self.file["instability"]
        C = len(g["data_seed"])
        pairs = [(i, j) for i in range(C) for j in range(i + 1, C)]
        out = {}
        for k in ("test_error", "test_loss", "val_error", "value"):
            v = g[k][:].astype(np.float32)
            v[~self.done] = np.nan  # rows of trials not done are undefined in the file
            out[k] = v
        return Instability(g["alpha"][:], g["data_seed"][:], pairs, out["test_error"], out["test_loss"],
                           out["val_error"], out["value"])

    def instability_summary(self):
        """One row per (done trial, round, pair of copies) of the instability
        analysis: a numpy structured array with fields trial, rate, rounds, seed,
        round, density (fraction of the prunable weights active), pair (its index
        in instability().pairs), value (the instability), test_error_0 and
        test_error_1 (the line's endpoints: the two copies' final test errors),
        test_error_max (the largest on the line)."""
        ins = self.instability()
        s = self.summary("ticket")
        P = len(ins.pairs)
        axis = [a for a in CHAIN_AXES if a[0] in self.chain_axes]
        out = np.zeros(len(s) * P, dtype=[("trial", "i8"), ("rate", "f8"), ("rounds", "i4")] + axis + [
                                           ("seed", "i8"),
                                           ("round", "i4"), ("density", "f8"), ("pair", "i4"), ("value", "f4"),
                                           ("test_error_0", "f4"), ("test_error_1", "f4"),
                                           ("test_error_max", "f4")])
        for p in range(P):
            rows = out[p::P]
            for k in ("trial", "rate", "rounds", "seed", "round", "density") + self.chain_axes:
                rows[k] = s[k]
            rows["pair"] = p
            t, r = s["trial"], s["round"]
            line = ins.test_error[t, r, p]
            rows["value"] = ins.value[t, r, p]
            rows["test_error_0"], rows["test_error_1"] = line[:, 0], line[:, -1]
            rows["test_error_max"] = line.max(axis=1) if len(line) else []
        return out

    def to_xarray(self):
        """An xarray Dataset of the sweep on the grid's own dimensions (rate or
        per_round, rounds, seed, arm, round, iteration): the summary and the
        curves, NaN where a cell does not reach, weights_remaining per round as
        a coordinate, the job in its attributes. Needs xarray (Debian:
        python3-xarray); see ticketsweep.dataset."""
        from .dataset import to_xarray
        return to_xarray(self)

    def to_csv(self, path):
        """Write the rows of table() to path as CSV, with a header line; floats
        in their shortest exact form, NaN as an empty field. No pandas needed;
        pandas.read_csv(path, float_precision="round_trip") reads the same
        values back (its default parser may be off in the last bit)."""
        rows = self._table_rows()

        def cell(v):
            if isinstance(v, np.float32):  # its shortest text that reads back as the same float32
                return "" if np.isnan(v) else str(v)
            if isinstance(v, (float, np.floating)):
                return "" if np.isnan(v) else repr(float(v))
            return str(v)
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(self.table_columns)
            for row in rows:
                w.writerow([cell(row[k]) for k in self.table_columns])

    def close(self):
        self.file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def load(path):
    """Open a results file; raises FormatError when it is not format 2 or 3."""
    return Results(path)


def main(argv=None):
    """`python3 -m ticketsweep`: print the trial table of a results file (and
    with --csv write the rows of to_csv)."""
    ap = argparse.ArgumentParser(prog="python3 -m ticketsweep",
                                 description="Print the trial table of a ticketsweep results file.")
    ap.add_argument("results", help="results file (HDF5) written by ticketsweep run")
    ap.add_argument("--csv", metavar="OUT.csv", help="also write the per-round table (to_csv) there")
    a = ap.parse_args(argv)
    try:
        r = load(a.results)
    except (FormatError, OSError) as e:
        sys.exit(f"{ap.prog}: {e}")
    with r:
        print(f"{a.results}: {len(r.trials)} trials, arms {', '.join(r.arms)}, "
              f"{r.n_weights} prunable weights, {r.attrs.get('software_version', '?')}")
        if r.test_curve != "full":
            print(f"test_curve = {r.test_curve}: the test curves hold only each run's early-stop "
                  "and last points (the validation curves are whole)")
        rw = lambda row: "".join(f" {str(row[a]):>9}" for a in r.chain_axes)  # noqa: E731
        print(f"{'trial':>5} {'rate':>8} {'rounds':>6}{rw({a: a for a in r.chain_axes})} {'seed':>6}  {'status':<8} "
              "final density / es acc")
        summ = r.file["summary"]
        dens, acc = summ["density"], summ["early_stop_test_acc"]
        for row in r.trials:
            t, n = int(row["index"]), int(row["rounds"])
            extra = (f"{dens[t, n]:.4f} / {acc[t, n]:.4f}" if r.done[t] else row["error"])
            print(f"{t:>5} {row['rate']:>8g} {n:>6}{rw(row)} {row['seed']:>6}  "
                  f"{STATUS_NAMES.get(int(row['status']), '?'):<8} {extra}")
        if a.csv:
            r.to_csv(a.csv)

