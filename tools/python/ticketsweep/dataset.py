"""ticketsweep.dataset: a results file as an xarray Dataset on the grid's own dimensions.

Results.to_xarray() calls to_xarray(r). A trial table has one row per cell of
the grid; here the cells are laid out on the grid's axes instead, so that
means over seeds, selections of a rate and a round, and learning curves are
one line each:

    ds = r.to_xarray()
    acc = (ds.early_stop_test_acc.sel(arm="ticket")          # [rate, rounds, seed, round]
           .stack(cell=["rate", "rounds", "round"]).dropna("cell", how="all"))  # the rounds reached
    stats = xr.Dataset({"mean": acc.mean("seed"), "std": acc.std("seed", ddof=1)}).to_dataframe()
    print(stats[["weights_remaining", "mean", "std"]].sort_values("weights_remaining"))
    near = abs(ds.weights_remaining - 20).argmin(dim=["rate", "rounds", "round"])
    curve = ds.test_acc.sel(arm="ticket").isel(near).mean("seed")   # [iteration]

Dimensions, in this order:
  rate       the grid's pruning rates (a per_round job: per_round, the
             fraction pruned each round, instead)
  rounds     the grid's round counts
  rewind     with the rewind axis (sweep.rewind) only: its rewind iterations k
             (then every [.., rounds, seed, ..] below is [.., rounds, rewind, seed, ..])
  criterion  with the criterion axis (sweep.criterion) only: its criteria's names
             (after rewind, before seed, as rewind)
  seed       the grid's seeds
  arm        "ticket", then the controls the file has ("reinit", "random")
  round      0 (dense) to the largest round count
  iteration  the evaluation points (curves only)

Data variables (floats; NaN where a cell does not reach: a round beyond the
cell's rounds, a trial that is not done, and whatever NaN the file holds,
e.g. the points of a round before its start under rewind_schedule =
continue, or the test curves of a job with test_curve = early_stop away
from each run's early stop and end; see Results.curves):
  density, early_stop_iter, early_stop_test_acc, final_test_acc
             [rate, rounds, seed, arm, round]: the summary (float64;
             accuracies are fractions; early_stop_iter as float for its NaN)
  train_loss, val_loss, val_acc, test_loss, test_acc
             [rate, rounds, seed, arm, round, iteration] (float32): the curves
  status     [rate, rounds, seed]: the trial's status (0 pending, 1 done, 2 failed)

Coordinates besides the dimensions': weights_remaining [rate, rounds, round]
(percent of the prunable weights active in that round: the densities of the
done runs, which every seed and arm of a cell share, times 100; NaN where no
run is done), trial [rate, rounds, seed] (the trial's index in r.trials),
per_round [rate, rounds] (in a per_round job: rate [per_round, rounds], the
fraction gone after the last round).

Attributes: the file's root attributes (software_version, format, created,
...), its job as text under "job" (the resolved job file: ds.attrs["job"]),
the file's path under "source", and test_curve, rewind_iteration and
rewind_schedule as the reader reads them.
"""
import warnings

import numpy as np

from .fields import DONE, METRICS, SUMMARY_FIELDS

SUMMARY_DOC = {
    "density": "fraction of the prunable weights active in the round",
    "early_stop_iter": "iteration of minimum validation loss (absolute)",
    "early_stop_test_acc": "test accuracy at the early-stop iteration (fraction)",
    "final_test_acc": "test accuracy at the end of the round's training (fraction)",
}


def _place(values, grid, what, exact):
    """The index in grid of each of values (np.isclose unless exact); raises
    ValueError naming the first value the grid lacks."""
    grid = np.asarray(grid)
    hit = (values[:, None] == grid[None, :]) if exact else np.isclose(values[:, None], grid[None, :])
    missing = ~hit.any(axis=1)
    if missing.any():
        raise ValueError(f"a trial's {what} {values[missing][0]!r} is not in the grid's "
                         f"{what} ({', '.join(map(str, grid))})")
    return hit.argmax(axis=1)


def to_xarray(r):
    """The xarray Dataset of Results r (see the module's text). Reads every
    curve into memory: [cells x arms x rounds x evaluations] float32 per
    metric. Needs xarray (Debian: python3-xarray)."""
    try:
        import xarray as xr
    except ImportError:
        raise ImportError("ticketsweep.to_xarray() needs xarray (Debian: apt-get install "
                          "python3-xarray); table() and to_csv() do not") from None
    per_round = r.per_round is not None
    axis = "per_round" if per_round else "rate"
    axis_values = r.per_round if per_round else r.rates
    tr = r.trials
    ia = _place(tr[axis], axis_values, axis, exact=False)
    ir = _place(tr["rounds"], r.rounds_grid, "rounds", exact=True)
    iseed = _place(tr["seed"], r.seeds, "seed", exact=True)
    # the cell's dimensions: the rate axis, rounds, the rewind axis (sweep.rewind), seed
    cell = [axis, "rounds"] + list(r.chain_axes) + ["seed"]
    values = {"rewind": r.rewinds, "criterion": np.array(r.criteria, dtype=object)}
    at = (ia, ir) + tuple(_place(tr[a], values[a], a, exact=True) for a in r.chain_axes) + (iseed,)
    sizes = {axis: len(axis_values), "rounds": len(r.rounds_grid), "rewind": len(r.rewinds),
             "criterion": len(r.criteria), "seed": len(r.seeds)}
    shape = tuple(sizes[d] for d in cell)
    trial = np.full(shape, -1, dtype=np.int64)
    if len(set(zip(*at))) != len(tr):
        raise ValueError(f"{r.path}: two trials share a cell of the grid")
    trial[at] = tr["index"]
    status = np.zeros(shape, dtype=np.int8)
    status[at] = tr["status"]

    n_round = r.file["trials/nodes"].shape[2]
    # a trial's own rounds, done trials only: elsewhere the file's rows are undefined
    reach = (np.arange(n_round)[None, :] <= tr["rounds"][:, None]) & (tr["status"] == DONE)[:, None]
    dims5 = tuple(cell) + ("arm", "round")
    data = {}
    for k in SUMMARY_FIELDS:
        out = np.full(shape + (len(r.arms), n_round), np.nan)
        for a, arm in enumerate(r.arms):
            v = r._group(arm)["summary"][k][:].astype(np.float64)
            v[~reach] = np.nan
            out[at + (a,)] = v
        data[k] = xr.Variable(dims5, out, {"description": SUMMARY_DOC[k]})
    for m in METRICS:
        out = np.full(shape + (len(r.arms), n_round, len(r.iterations)), np.nan, dtype=np.float32)
        for a, arm in enumerate(r.arms):
            c = r.curves(arm, m)
            c[~reach] = np.nan
            out[at + (a,)] = c
        data[m] = xr.Variable(dims5 + ("iteration",), out, {"description": f"{m} at each evaluation"})
    data["status"] = xr.Variable(tuple(cell), status,
                                 {"description": "trial status: 0 pending, 1 done, 2 failed"})

    with warnings.catch_warnings():  # a cell and round no run reached: NaN, quietly
        warnings.simplefilter("ignore", category=RuntimeWarning)
        # every cell's dimension after rounds (rewind, seed) and arm: the same counts
        remaining = 100 * np.nanmean(data["density"].values, axis=tuple(range(2, len(cell) + 1)))
    rounds = np.asarray(r.rounds_grid, dtype=float)[None, :]
    other = (1 - (1 - axis_values[:, None]) ** (1 / rounds) if not per_round
             else 1 - (1 - axis_values[:, None]) ** rounds)
    coords = {
        axis: axis_values, "rounds": r.rounds_grid, "seed": r.seeds, "arm": list(r.arms),
        **{a: (list(r.criteria) if a == "criterion" else r.rewinds) for a in r.chain_axes},
        "round": np.arange(n_round), "iteration": r.iterations,
        "weights_remaining": ((axis, "rounds", "round"), remaining,
                              {"units": "%", "description": "weights remaining in the round"}),
        "trial": (tuple(cell), trial, {"description": "index in r.trials (-1: none)"}),
        ("rate" if per_round else "per_round"): ((axis, "rounds"), other),
    }
    attrs = {k: v for k, v in r.attrs.items() if k != "config"}
    attrs.update(job=r.config_text, source=str(r.path), test_curve=r.test_curve,
                 rewind_iteration=r.rewind_iteration, rewind_schedule=r.rewind_schedule)
    return xr.Dataset(data, coords=coords, attrs=attrs)
