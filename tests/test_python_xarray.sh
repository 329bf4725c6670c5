#!/bin/sh
# test_python_xarray.sh - Results.to_xarray() (ticketsweep.dataset) checked
# against the files read with h5py: a crossed sweep with both controls
# (rates x rounds x seeds), a copy where a trial failed and one is pending,
# and a per_round sweep with the reinit control. For each: the dimensions
# (rate or per_round, rounds, seed, arm, round, iteration) in that order with
# the grid's values; every summary field and curve of every trial, arm and
# round equal to the file's, NaN for rounds beyond the cell's and for trials
# not done (and nowhere else that the file has a value); status and trial
# per cell; weights_remaining the percent density that every done seed and
# arm of a cell share; the job in the attributes. Then README's two one-line
# analyses: mean and std over seeds of the early-stop accuracy per cell and
# round, and the learning curve at the round nearest a density, against the
# same numbers computed from the raw datasets.
. "$(dirname "$0")/lib.sh"
"$PY" -c 'import xarray' 2>/dev/null || fail "python3-xarray is not installed (make deps installs it)"
[ -x "$TS" ] || fail "$TS is missing: run make first"
export PYTHONDONTWRITEBYTECODE=1 PYTHONPATH="$TOP/tools/python"

small_data "$W/data"
tiny_job "$W/job.ini" "$W/data"
"$TS" run "$W/job.ini" -o "$W/r.h5" >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "run"; }
"$TS" run "$W/job.ini" -o "$W/pr.h5" --set sweep.rates= --set sweep.per_round=0.3 --set sweep.rounds=3 \
    --set prune.controls=reinit >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "run per_round"; }

"$PY" - "$W" <<'PY' || fail "to_xarray against h5py"
import shutil, sys
import h5py
import numpy as np
import xarray as xr
import ticketsweep

w = sys.argv[1]
shutil.copy(f"{w}/r.h5", f"{w}/partial.h5")
with h5py.File(f"{w}/partial.h5", "r+") as f:
    f["trials/status"][0] = 2
    f["trials/status"][7] = 0
errors = []


def check(ok, msg):
    if not ok:
        errors.append(msg)


def same(a, b):
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


for name in ("r", "partial", "pr"):
    f = h5py.File(f"{w}/{name}.h5", "r")
    with ticketsweep.load(f"{w}/{name}.h5") as r:
        ds = r.to_xarray()
    axis = "per_round" if "grid/per_round" in f else "rate"
    grid = {axis: f[f"grid/{'per_round' if axis == 'per_round' else 'rates'}"][:],
            "rounds": f["grid/rounds"][:], "seed": f["grid/seeds"][:]}
    arms = ["ticket"] + [a for a in ("reinit", "random") if f"controls/{a}" in f]
    groups = {"ticket": "", "reinit": "controls/reinit/", "random": "controls/random/"}
    R1, E = f["curves/val_loss"].shape[1:]
    want_dims = (axis, "rounds", "seed", "arm", "round", "iteration")
    check(ds.test_acc.dims == want_dims, f"{name}: curve dims {ds.test_acc.dims}")
    check(ds.density.dims == want_dims[:5], f"{name}: summary dims {ds.density.dims}")
    check(dict(ds.sizes) == {axis: len(grid[axis]), "rounds": len(grid["rounds"]),
                             "seed": len(grid["seed"]), "arm": len(arms), "round": R1, "iteration": E},
          f"{name}: sizes {dict(ds.sizes)}")
    for k, v in grid.items():
        check(np.array_equal(ds[k].values, v), f"{name}: coordinate {k} {ds[k].values} != {v}")
    check(list(ds.arm.values) == arms, f"{name}: arms {list(ds.arm.values)}")
    check(np.array_equal(ds.iteration.values, f["curves/iteration"][:]), f"{name}: iterations")
    job = f.attrs["config"]
    check(ds.attrs["job"] == (job.decode() if isinstance(job, bytes) else job), f"{name}: attrs job")
    sv = f.attrs["software_version"]
    check(ds.attrs["software_version"] == (sv.decode() if isinstance(sv, bytes) else sv),
          f"{name}: attrs software_version")

    status, rounds = f["trials/status"][:], f["trials/rounds"][:]
    axis_of = f["trials/rate"][:] if axis == "rate" else None
    seen = set()
    dens = {}  # (a, n, k) -> [100 x density of every done seed and arm]
    for t in range(len(status)):
        if axis == "rate":
            a = int(np.flatnonzero(np.isclose(grid["rate"], axis_of[t]))[0])
        else:  # rate-major: per_round index t // (rounds x seeds)
            a = t // (len(grid["rounds"]) * len(grid["seed"]))
        n = int(np.flatnonzero(grid["rounds"] == rounds[t])[0])
        s = int(np.flatnonzero(grid["seed"] == f["trials/seed"][t])[0])
        seen.add((a, n, s))
        check(int(ds.trial.values[a, n, s]) == t, f"{name}: trial coordinate of cell {(a, n, s)}")
        check(int(ds.status.values[a, n, s]) == status[t], f"{name}: status of trial {t}")
        for ai, arm in enumerate(arms):
            g = groups[arm]
            for k in range(R1):
                reach = status[t] == 1 and k <= rounds[t]
                for field in ("density", "early_stop_iter", "early_stop_test_acc", "final_test_acc"):
                    got = ds[field].values[a, n, s, ai, k]
                    raw = float(f[g + "summary/" + field][t, k])
                    check((got == raw) if reach else np.isnan(got),
                          f"{name}: {field} trial {t} {arm} round {k}: {got} (file {raw}, reach {reach})")
                for m in ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc"):
                    got = ds[m].values[a, n, s, ai, k]
                    raw = f[g + "curves/" + m][t, k] if reach else np.full(E, np.nan, np.float32)
                    check(same(got, raw), f"{name}: {m} trial {t} {arm} round {k}")
                    if reach and m == "val_acc":
                        check(not np.isnan(got[-1]), f"{name}: val_acc ends in NaN, trial {t} round {k}")
                if reach:
                    dens.setdefault((a, n, k), []).append(100 * f[g + "summary/density"][t, k])
    check(len(seen) == len(status) == int(np.prod(ds.status.shape)), f"{name}: not one trial per cell")
    wr = ds.weights_remaining
    check(wr.dims == (axis, "rounds", "round"), f"{name}: weights_remaining dims {wr.dims}")
    for (a, n, k), v in dens.items():
        check(max(v) - min(v) < 1e-9, f"{name}: the densities of cell {(a, n)} round {k} differ: {v}")
        check(abs(wr.values[a, n, k] - np.mean(v)) < 1e-9, f"{name}: weights_remaining {(a, n, k)}")
    check(int(np.isfinite(wr.values).sum()) == len(dens), f"{name}: weights_remaining where nothing ran")

    # README's analyses, against the raw datasets
    acc = ds.early_stop_test_acc.sel(arm="ticket").stack(cell=[axis, "rounds", "round"]).dropna(
        "cell", how="all")
    tab = xr.Dataset({"mean": acc.mean("seed"), "std": acc.std("seed", ddof=1)}).to_dataframe()
    raw_acc = f["summary/early_stop_test_acc"]
    cells = {}
    for t in np.flatnonzero(status == 1):
        key = (float(f["trials/rate"][t]) if axis == "rate" else None, int(rounds[t]))
        for k in range(rounds[t] + 1):
            cells.setdefault(key + (k,), []).append(float(raw_acc[t, k]))
    check(len(tab) == len(cells), f"{name}: {len(tab)} rows of mean/std, {len(cells)} cells x rounds")
    for idx, row in tab.iterrows():
        key = dict(zip(tab.index.names, idx))
        rate = key[axis] if axis == "rate" else None
        v = cells.get((rate, int(key["rounds"]), int(key["round"])))
        if v is None:
            check(False, f"{name}: a row for {key} that the file has no done run of")
            continue
        check(abs(row["mean"] - np.mean(v)) < 1e-6, f"{name}: mean {key}: {row['mean']} vs {np.mean(v)}")
        sd = np.std(v, ddof=1) if len(v) > 1 else np.nan
        check(np.isclose(row["std"], sd, atol=1e-6, equal_nan=True), f"{name}: std {key}: {row['std']} vs {sd}")
        check(abs(row["weights_remaining"] - dens[tuple(
            int(np.flatnonzero(np.isclose(ds[d].values, key[d]))[0]) for d in (axis, "rounds", "round"))][0]) < 1e-9,
              f"{name}: the row's weights_remaining")
    # the learning curve at the round nearest a density: the round that stands most apart
    v = wr.values
    idx = [i for i in np.ndindex(v.shape) if np.isfinite(v[i])]
    gap = {i: min([abs(v[i] - v[j]) for j in idx if j != i] + [np.inf]) for i in idx}
    ak, nk, kk = max(idx, key=lambda i: gap[i])
    check(gap[(ak, nk, kk)] > 1, f"{name}: no round stands apart: {v}")
    target = float(v[ak, nk, kk]) + 0.4 * min(gap[(ak, nk, kk)], 5)
    near = abs(ds.weights_remaining - target).argmin(dim=[axis, "rounds", "round"])
    curve = ds.test_acc.sel(arm="ticket").isel(near).mean("seed")
    ts = [t for t in ds.trial.values[ak, nk] if status[t] == 1]
    raw = np.mean(np.array([f["curves/test_acc"][t, kk] for t in ts]), axis=0)
    check(curve.dims == ("iteration",) and np.allclose(curve.values, raw, rtol=1e-6, equal_nan=True)
          and np.isfinite(raw).all(),
          f"{name}: the curve nearest {target:.2f} % is not the mean of trials {ts}, round {kk}")

# r.table() is as it was: the rows of to_csv, a pandas frame
with ticketsweep.load(f"{w}/r.h5") as r:
    check(list(r.table().columns) == list(ticketsweep.TABLE_COLUMNS), "table() columns")
for e in errors[:30]:
    print("FAIL:", e)
sys.exit(1 if errors else 0)
PY
echo "to_xarray: ok"
