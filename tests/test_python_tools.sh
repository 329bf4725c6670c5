#!/bin/sh
# test_python_tools.sh - the Python reader (ticketsweep.results) and the report
# (ticketsweep.report; tools/python, from the checkout) on a tiny sweep, checked against the file read with
# h5py directly: trial table, mask counts against densities, theta0, curves and
# summary rows, refusal of foreign files, summary.csv against means computed
# here from the raw datasets (identifying columns first, values rounded as
# documented, the markdown table the same), the done-only rule on a copy where
# trials are marked failed or pending; the figures: --format png,pdf,svg (and
# refusals), one column wide (3.3 in) with 8-9 pt text, legends and captions
# that name the bars, bands and seeds (none of them with one seed), rings on
# exactly the groups whose early stop is the last evaluation, learning curves
# whose y range holds every line and band from iteration 0. With the criterion
# axis, alone and crossed with the rewind axis: criterion.csv and rewind.csv
# against means computed from the raw datasets, criterion.png and rewind.png
# written, one column wide, drawing those points (a line per density and
# criterion in rewind.png). The instability analysis with the rewind axis, the
# criterion axis and both: instability.csv and python3 -m ticketsweep.instability
# against means computed from the raw datasets per k, criterion and density,
# instability.png and instability_k.png drawing those points (a line per k and
# criterion, per density and criterion), interpolation.png a panel per density
# and a line per k and criterion at the mean over seeds of the file's lines.
# Trials by name (print(r.trials), r.trial, r.find) and the per-round table
# (table() with pandas, skipped with a message when python3-pandas is missing;
# to_csv() without).
. "$(dirname "$0")/lib.sh"

"$PY" -c 'import h5py, numpy, matplotlib' 2>/dev/null ||
    skip "python3-h5py, python3-numpy or python3-matplotlib is not installed"
[ -x "$TS" ] || fail "$TS is missing: run make first"
TOOLS=$TOP/tools/python
export PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$TOP/tools/python:$TOP/tests

small_data "$W/data"
tiny_job "$W/job.ini" "$W/data"
"$TS" run "$W/job.ini" -o "$W/r.h5" --force >"$W/run.log" 2>&1 ||
    { cat "$W/run.log"; fail "ticketsweep run failed"; }

# Copies for the refusal and done-only checks.
"$PY" - "$W" <<'PYEOF' || fail "could not make the modified copies"
import shutil, sys, h5py, numpy as np
w = sys.argv[1]
for name, edit in (("badformat", lambda f: f.attrs.modify("format", np.bytes_("something-else"))),
                   ("badversion", lambda f: f.attrs.modify("format_version", np.int32(6))),
                   ("partial", None), ("nonedone", None), ("mixed", None)):
    shutil.copy(f"{w}/r.h5", f"{w}/{name}.h5")
    with h5py.File(f"{w}/{name}.h5", "r+") as f:
        if edit:
            edit(f)
        elif name == "partial":     # trial 0 failed, trial 7 pending; rows hold garbage
            st = f["trials/status"]; st[0] = 2; st[7] = 0
            f["trials/error"][0] = np.bytes_("diverged: test")
            f["summary/early_stop_test_acc"][0, :] = 123.0
        elif name == "nonedone":
            f["trials/status"][:] = 0
        else:   # the report's file: rate 0.8's tickets stop early, the rest as they ran
            es = f["summary/early_stop_iter"]
            for t in range(len(f["trials/rate"])):
                if f["trials/rate"][t] == 0.8:
                    es[t, 1:f["trials/rounds"][t] + 1] = 20
PYEOF

# --- the reader against h5py --------------------------------------------------
"$PY" - "$TOOLS" "$W" <<'PYEOF' || fail "reader checks"
import sys, h5py, numpy as np
sys.path.insert(0, sys.argv[1]); w = sys.argv[2]
import ticketsweep as ts
import masks_h5
errors = []
def check(ok, msg):
    if not ok:
        errors.append(msg)

def read_arm(f, arm):
    return f if arm == "ticket" else f[f"controls/{arm}"]

for name in ("r", "partial"):
    path = f"{w}/{name}.h5"
    f = h5py.File(path, "r")
    r = ts.load(path)
    T = f["trials/status"].shape[0]
    done = f["trials/status"][:] == 1
    # trial table
    check(len(r.trials) == T == 8, f"{name}: {len(r.trials)} trials, file has {T}")
    check(np.array_equal(r.trials["index"], np.arange(T)), f"{name}: index column")
    for k in ("rate", "rounds", "seed", "status"):
        check(np.array_equal(r.trials[k], f["trials/" + k][:]), f"{name}: trials.{k} differs")
    check(list(r.trials["error"]) == [e.decode() for e in f["trials/error"][:]], f"{name}: errors")
    check(np.array_equal(r.done, done), f"{name}: done flags")
    check(r.arms == ("ticket", "reinit", "random"), f"{name}: arms {r.arms}")
    check(np.array_equal(r.iterations, [0, 20, 40, 60]), f"{name}: iterations {r.iterations}")
    layers = sorted(f["init"])
    check("masks" not in f, f"{name}: per-cell /masks in a format 3 file")
    nw = sum(f[f"init/{l}/weight"][0].size for l in layers)
    check(r.n_weights == nw == 64 * 16 + 16 * 8 + 8 * 10, f"{name}: n_weights {r.n_weights}")
    # masks: counts equal density x weights, nested, reinit = ticket, bad rounds refused
    for t in np.flatnonzero(done):
        n = int(f["trials/rounds"][t])
        for arm in ("ticket", "random"):
            dens = read_arm(f, arm)["summary/density"][t]
            raws = masks_h5.rounds_active(f, t, arm)
            check(all(np.array_equal(raws[l], v) for l, v in r.mask_rounds(t, arm).items()),
                  f"{name}: trial {t} {arm}: mask_rounds")
            prev = None
            for rr in range(n + 1):
                m = r.mask(t, rr, arm)
                check(sorted(m) == layers, f"{name}: mask layers {sorted(m)}")
                cnt = sum(int(v.sum()) for v in m.values())
                want = dens[rr] * nw
                check(abs(want - round(want)) < 1e-6 and cnt == round(want),
                      f"{name}: trial {t} {arm} round {rr}: {cnt} active, density says {want}")
                for l in layers:
                    check(m[l].dtype == bool and m[l].shape == f["init"][l]["weight"].shape[1:],
                          f"{name}: mask {l} dtype/shape")
                    raw = raws[l]
                    check(np.array_equal(m[l], raw > rr), f"{name}: mask {l} != raw > {rr}")
                    if prev is not None:
                        check(not np.any(m[l] & ~prev[l]), f"{name}: masks not nested")
                prev = m
            check(0.0 < dens[n] < dens[0] == 1.0, f"{name}: trial {t} {arm} densities {dens}")
        re = r.mask(t, n, "reinit"); tk = r.mask(t, n)
        check(all(np.array_equal(re[l], tk[l]) for l in layers), f"{name}: reinit mask")
        try:
            r.mask(t, n + 1)
            check(False, f"{name}: mask(t, rounds + 1) accepted")
        except ValueError:
            pass
    for t in np.flatnonzero(~done):
        try:
            r.mask(t, 0)
            check(False, f"{name}: mask of a trial that is not done accepted")
        except ValueError:
            pass
    # theta0 per seed
    for s_i, seed in enumerate(f["grid/seeds"][:]):
        th = r.theta0(int(seed))
        for l in layers:
            check(np.array_equal(th[l][0], f[f"init/{l}/weight"][s_i]) and
                  np.array_equal(th[l][1], f[f"init/{l}/bias"][s_i]), f"{name}: theta0 {seed} {l}")
    try:
        r.theta0(999)
        check(False, f"{name}: theta0 of a seed not in the grid accepted")
    except KeyError:
        pass
    # curves and summary: equal for done trials, NaN / absent for the others
    for arm in r.arms:
        g = read_arm(f, arm)
        for metric in ts.METRICS:
            c = r.curves(arm, metric)
            raw = g["curves/" + metric][:]
            check(c.shape == raw.shape, f"{name}: curves shape")
            check(np.array_equal(c[done], raw[done], equal_nan=True), f"{name}: {arm} {metric}")
            check(np.all(np.isnan(c[~done])), f"{name}: {arm} {metric} rows not done not NaN")
        s = r.summary(arm)
        rows = [(t, rr) for t in np.flatnonzero(done) for rr in range(f["trials/rounds"][t] + 1)]
        check(len(s) == len(rows), f"{name}: {arm} summary has {len(s)} rows, want {len(rows)}")
        for row, (t, rr) in zip(s, rows):
            check(row["trial"] == t and row["round"] == rr, f"{name}: summary row order")
            check(row["seed"] == f["trials/seed"][t] and row["rate"] == f["trials/rate"][t],
                  f"{name}: summary cell")
            for k in ts.SUMMARY_FIELDS:
                check(row[k] == g["summary/" + k][t, rr], f"{name}: {arm} {k}[{t},{rr}]")
    r.close()
    f.close()

# foreign files are refused with a clear message
for bad, words in (("badformat", "not a ticketsweep results file"), ("badversion", "format_version")):
    try:
        ts.load(f"{w}/{bad}.h5")
        check(False, f"{bad}.h5 was accepted")
    except ts.FormatError as e:
        check(words in str(e) and bad in str(e), f"{bad}.h5: unclear message: {e}")
for e in errors[:30]:
    print("FAIL:", e)
print(f"reader: {len(errors)} errors")
sys.exit(1 if errors else 0)
PYEOF

# --- trials by name: print(r.trials), r.trial(t), r.find(...); table() and to_csv() ---
sed -e 's/^rates = .*/per_round = 0.3, 0.6/' -e 's/^seeds = .*/seeds = 5/' "$W/job.ini" >"$W/pr.ini"
"$TS" run "$W/pr.ini" -o "$W/pr.h5" >"$W/pr.log" 2>&1 || { cat "$W/pr.log"; fail "per_round run"; }
"$PY" -m ticketsweep "$W/r.h5" --csv "$W/script.csv" >/dev/null || fail "python3 -m ticketsweep --csv"
if "$PY" -c 'import pandas' 2>/dev/null; then
    have_pandas=1
else
    have_pandas=0
    echo "python tools: table() checks skipped: python3-pandas is not installed (to_csv is checked without it)"
fi
"$PY" - "$TOOLS" "$W" "$have_pandas" <<'PYEOF' || fail "trial, find, table, to_csv checks"
import csv, sys, h5py, numpy as np
sys.path.insert(0, sys.argv[1]); w = sys.argv[2]; have_pandas = sys.argv[3] == "1"
import ticketsweep as ts
errors = []
def check(ok, msg):
    if not ok:
        errors.append(msg)
def raises(exc, fn, words=()):
    try:
        fn()
    except exc as e:
        return all(x in str(e) for x in words)
    except Exception as e:
        errors.append(f"{fn}: {type(e).__name__} {e}, not {exc.__name__}")
        return True
    return False

for name in ("r", "partial", "pr"):
    path = f"{w}/{name}.h5"
    f = h5py.File(path, "r")
    r = ts.load(path)
    T = len(r.trials)
    st, rate, rounds, seed = (f["trials/" + k][:] for k in ("status", "rate", "rounds", "seed"))
    if "grid/per_round" in f:
        q = f["grid/per_round"][:][np.arange(T) // (len(f["grid/rounds"]) * len(f["grid/seeds"]))]
        check(np.allclose(rate, 1 - (1 - q) ** rounds, rtol=1e-12), f"{name}: per_round rates")
    else:
        q = 1 - (1 - rate) ** (1 / rounds)
    check(np.allclose(r.trials["per_round"], q, rtol=1e-12, atol=0), f"{name}: trials.per_round {r.trials['per_round']}")
    # print(r.trials): a header and one readable line per trial
    lines = str(r.trials).splitlines()
    check(lines[0].split() == ["index", "rate", "per_round", "rounds", "seed", "status", "error"],
          f"{name}: table header {lines[0]!r}")
    check(len(lines) == T + 1 and repr(r.trials) == str(r.trials), f"{name}: {len(lines)} table lines")
    for t in range(T):
        cols = lines[t + 1].split(None, 6)
        want = [str(t), f"{rate[t]:.6g}", f"{q[t]:.6g}", str(rounds[t]), str(seed[t]), ts.STATUS_NAMES[st[t]]]
        check(cols[:6] == want, f"{name}: table line {t}: {cols} != {want}")
        # r.trial(t): named fields
        x = r.trial(t)
        check(x == (t, rate[t], q[t], rounds[t], seed[t], ts.STATUS_NAMES[st[t]], f["trials/error"][t].decode())
              and x.index == t and x.seed == seed[t] and x.status == ts.STATUS_NAMES[st[t]] and
              isinstance(x.rate, float) and isinstance(x.rounds, int), f"{name}: trial({t}) = {x}")
        # find: by rate (or per_round), rounds and seed, tolerating rounding
        check(r.find(rate=rate[t], rounds=rounds[t], seed=seed[t]) == t, f"{name}: find trial {t}")
        check(r.find(rate=rate[t] * (1 + 1e-12), rounds=int(rounds[t]), seed=int(seed[t])) == t,
              f"{name}: find with a rounded rate")
        check(r.find(per_round=round(float(q[t]), 9), rounds=rounds[t], seed=seed[t]) == t,
              f"{name}: find by per_round")
    check(raises(IndexError, lambda: r.trial(T)), f"{name}: trial(T) accepted")
    check(raises(LookupError, lambda: r.find(rate=0.123, rounds=1), (path, "no trial with rate=0.123, rounds=1")),
          f"{name}: find of a missing trial")
    check(raises(LookupError, lambda: r.find(seed=99), ("seeds",)), f"{name}: find of a missing seed")
    check(raises(ValueError, lambda: r.find(rounds=1), ("trials match rounds=1", "give rate and seed")),
          f"{name}: an ambiguous find")
    check(raises(TypeError, lambda: r.find()), f"{name}: find() with nothing")
    # to_csv, checked against h5py: one row per done trial x arm x round
    want = []
    for t in np.flatnonzero(st == 1):
        for arm in r.arms:
            g = f if arm == "ticket" else f["controls/" + arm]
            for k in range(rounds[t] + 1):
                want.append([t, rate[t], rounds[t], seed[t], arm, k] +
                            [g["summary/" + c][t, k] for c in ts.SUMMARY_FIELDS])
    r.to_csv(f"{w}/{name}.csv")
    with open(f"{w}/{name}.csv") as fh:
        got = list(csv.reader(fh))
    check(tuple(got[0]) == ts.TABLE_COLUMNS, f"{name}: csv header {got[0]}")
    check(len(got) == len(want) + 1, f"{name}: csv has {len(got) - 1} rows, want {len(want)}")
    types = (int, float, int, int, str, int, float, int, np.float32, np.float32)
    for row, exp in zip(got[1:], want):
        vals = [ty(v) for ty, v in zip(types, row)]
        check(vals == [ty(e) for ty, e in zip(types, exp)], f"{name}: csv row {row} != {exp}")
    if name == "r":
        check(open(f"{w}/script.csv").read() == open(f"{w}/r.csv").read(), "python3 -m ticketsweep --csv differs")
    if have_pandas:
        df = r.table()
        check(tuple(df.columns) == ts.TABLE_COLUMNS, f"{name}: table columns {list(df.columns)}")
        check(len(df) == len(want), f"{name}: table has {len(df)} rows, want {len(want)}")
        check(str(df["early_stop_test_acc"].dtype) == "float32" and str(df["round"].dtype) == "int32" and
              str(df["density"].dtype) == "float64", f"{name}: table dtypes {dict(df.dtypes)}")
        for row, exp in zip(df.itertuples(index=False), want):
            check(list(row) == exp, f"{name}: table row {list(row)} != {exp}")
        import pandas as pd
        back = pd.read_csv(f"{w}/{name}.csv", float_precision="round_trip")
        check(back.shape == df.shape and all(np.array_equal(back[c].to_numpy().astype(df[c].dtype), df[c].to_numpy())
                                             for c in df.columns), f"{name}: to_csv does not read back as table()")
    r.close()
    f.close()
for e in errors[:30]:
    print("FAIL:", e)
print(f"trials/find/table: {len(errors)} errors")
sys.exit(1 if errors else 0)
PYEOF

# the module works without pandas: only table() needs it, and says so
"$PY" - "$TOOLS" "$W" <<'PYEOF' || fail "ticketsweep without pandas"
import sys
sys.modules["pandas"] = None  # import pandas now raises ImportError
sys.path.insert(0, sys.argv[1])
import ticketsweep as ts
with ts.load(sys.argv[2] + "/r.h5") as r:
    r.to_csv(sys.argv[2] + "/nopandas.csv")
    assert open(sys.argv[2] + "/nopandas.csv").read() == open(sys.argv[2] + "/r.csv").read()
    try:
        r.table()
        sys.exit("table() worked without pandas")
    except ImportError as e:
        assert "python3-pandas" in str(e), e
PYEOF

# --- the report ---------------------------------------------------------------
# mixed.h5 (r.h5 with early stops before the last evaluation) in every format; partial.h5
# in the default (png only); one.h5 has one seed.
"$TS" run "$W/job.ini" -o "$W/one.h5" --set sweep.seeds=1 >"$W/run1.log" 2>&1 ||
    { cat "$W/run1.log"; fail "ticketsweep run (one seed) failed"; }
"$PY" -m ticketsweep.report "$W/mixed.h5" -o "$W/rep" --format png,pdf,SVG,png >"$W/rep.md" 2>"$W/rep.err" ||
    { cat "$W/rep.err"; fail "lth_report failed"; }
"$TOP/tools/lth_report.py" "$W/partial.h5" -o "$W/rep_partial" >/dev/null 2>"$W/partial.err" ||
    { cat "$W/partial.err"; fail "lth_report failed on a file with failed trials"; }
grep -q "2 of 8 trials are not done" "$W/partial.err" || fail "no note about trials not done"
"$PY" -m ticketsweep.report "$W/one.h5" -o "$W/rep_one" --format svg >/dev/null 2>"$W/one.err" ||
    { cat "$W/one.err"; fail "lth_report failed on a one-seed file"; }
for bad in badformat badversion nonedone; do
    if "$PY" -m ticketsweep.report "$W/$bad.h5" -o "$W/rep_bad" >/dev/null 2>"$W/bad.err"; then
        fail "lth_report accepted $bad.h5"
    fi
    grep -q "$bad.h5" "$W/bad.err" || { cat "$W/bad.err"; fail "message does not name $bad.h5"; }
done
for fmt in gif png,jpg ""; do
    if "$PY" -m ticketsweep.report "$W/r.h5" -o "$W/rep_fmt" --format "$fmt" >/dev/null 2>"$W/fmt.err"; then
        fail "lth_report accepted --format '$fmt'"
    fi
    grep -q -- "--format '$fmt': expected one or more of png, pdf, svg" "$W/fmt.err" ||
        { cat "$W/fmt.err"; fail "--format '$fmt': unclear message"; }
done
[ ! -e "$W/rep_fmt" ] || fail "a refused --format still wrote $W/rep_fmt"

"$PY" - "$W" "$TOOLS" <<'PYEOF' || fail "report checks"
import csv, math, os, re, sys, h5py, numpy as np
w = sys.argv[1]
sys.path.insert(0, sys.argv[2])
import ticketsweep
from ticketsweep import report as lth_report
import matplotlib
import matplotlib.image as mpimg
errors = []
def check(ok, msg):
    if not ok:
        errors.append(msg)

def expected(path):
    """{(arm, rounds, rate, round): stats} computed from the raw datasets."""
    f = h5py.File(path, "r")
    st, rate, rounds, seed = (f["trials/" + k][:] for k in ("status", "rate", "rounds", "seed"))
    last = f["curves/iteration"][-1]
    out = {}
    for arm in ("ticket", "reinit", "random"):
        g = f if arm == "ticket" else f["controls/" + arm]
        d, it, es, fin = (g["summary/" + k][:] for k in
                          ("density", "early_stop_iter", "early_stop_test_acc", "final_test_acc"))
        pts = {}
        for t in range(len(st)):
            if st[t] != 1:
                continue
            for rr in range(rounds[t] + 1):
                key = (arm, "", "", 0) if rr == 0 else (arm, int(rounds[t]), float(rate[t]), rr)
                pts.setdefault(key, {}).setdefault(int(seed[t]), []).append(
                    (d[t, rr], it[t, rr], es[t, rr], fin[t, rr], it[t, rr] == last))
        for key, by_seed in pts.items():
            ps = np.array([np.mean(np.array(v, float), axis=0) for v in by_seed.values()])
            out[key] = {"weights_remaining_pct": ps[:, 0].mean() * 100, "n_seeds": len(ps),
                        "es_test_acc_mean": ps[:, 2].mean(),
                        "es_test_acc_std": ps[:, 2].std(ddof=1) if len(ps) > 1 else math.nan,
                        "es_test_acc_min": ps[:, 2].min(), "es_test_acc_max": ps[:, 2].max(),
                        "es_iter_mean": ps[:, 1].mean(),
                        "n_seeds_es_at_last_eval": int(np.sum(ps[:, 4] > 0)),
                        "final_test_acc_mean": ps[:, 3].mean()}
    return out

# rounding: how a value is written and how far it may be from the exact one
ACC = ("es_test_acc_mean", "es_test_acc_std", "es_test_acc_min", "es_test_acc_max",
       "final_test_acc_mean")
def well_written(k, text, v):
    if k in ACC:
        return (text == "" and math.isnan(v)) or (re.fullmatch(r"\d\.\d{4}", text) is not None
                                                  and abs(float(text) - v) <= 5e-5 + 1e-9)
    if k == "weights_remaining_pct":
        return text == f"{v:.4g}"
    if k == "es_iter_mean":
        return re.fullmatch(r"\d+(\.\d)?", text) is not None and abs(float(text) - v) <= 0.05 + 1e-9
    return text == str(v)

columns = ["arm", "rounds", "rate", "round", "weights_remaining_pct", "n_seeds",
           "es_test_acc_mean", "es_test_acc_std", "es_test_acc_min", "es_test_acc_max",
           "es_iter_mean", "n_seeds_es_at_last_eval", "final_test_acc_mean"]
for rep, h5 in (("rep", "mixed"), ("rep_partial", "partial"), ("rep_one", "one")):
    want = expected(f"{w}/{h5}.h5")
    with open(f"{w}/{rep}/summary.csv") as fh:
        rows = list(csv.DictReader(fh))
    check(rows and list(rows[0]) == columns, f"{rep}: csv header {list(rows[0]) if rows else None}")
    got = {}
    for row in rows:
        key = (row["arm"], int(row["rounds"]) if row["rounds"] else "",
               float(row["rate"]) if row["rate"] else "", int(row["round"]))
        check(key not in got, f"{rep}: duplicate row {key}")
        got[key] = row
    check(set(got) == set(want), f"{rep}: groups {sorted(set(got) ^ set(want), key=str)} differ")
    for key in set(got) & set(want):
        for k, v in want[key].items():
            check(well_written(k, got[key][k], v), f"{rep}: {key} {k} = {got[key][k]!r}, h5py gives {v}")
    if h5 == "mixed":   # 3 arms x (dense + 2 rates x (1 + 2 rounds)) = 3 x 7 groups, 2 seeds each
        check(len(rows) == 21 and all(int(r["n_seeds"]) == 2 for r in rows), f"{rep}: {len(rows)} rows")
        cut = sum(int(r["n_seeds_es_at_last_eval"]) > 0 for r in rows)
        check(0 < cut < len(rows), f"{rep}: {cut} of {len(rows)} groups stop at the last evaluation: "
              "the tiny sweep no longer tests both kinds")
    elif h5 == "partial":   # trial 0 (rate 0.5, 1 round, seed 1) failed: that group has 1 seed left
        check(int(got[("ticket", 1, 0.5, 1)]["n_seeds"]) == 1, f"{rep}: failed trial counted")
        check(float(got[("ticket", 1, 0.5, 1)]["es_test_acc_mean"]) < 1, f"{rep}: garbage row used")
        check(got[("ticket", 1, 0.5, 1)]["es_test_acc_std"] == "", f"{rep}: std of one seed written")
    else:
        check(all(r["n_seeds"] == "1" and r["es_test_acc_std"] == "" for r in rows),
              f"{rep}: one seed: n_seeds and std {[(r['n_seeds'], r['es_test_acc_std']) for r in rows]}")

# arms.csv: the arms side by side, each value summary.csv's for that arm and group
for rep in ("rep", "rep_partial", "rep_one"):
    with open(f"{w}/{rep}/summary.csv") as fh:
        srows = {(r["arm"], r["rounds"], r["rate"], r["round"]): r for r in csv.DictReader(fh)}
    with open(f"{w}/{rep}/arms.csv") as fh:
        arows = list(csv.DictReader(fh))
    arms = ("ticket", "reinit", "random")
    check(arows and list(arows[0]) == ["rounds", "rate", "round", "weights_remaining_pct", "n_seeds"] +
          [f"{a}_{f}" for a in arms for f in ("es_acc", "es_iter")], f"{rep}: arms.csv header")
    check(len(arows) == sum(k[0] == "ticket" for k in srows), f"{rep}: arms.csv has {len(arows)} rows")
    for row in arows:
        key = (row["rounds"], row["rate"], row["round"])
        t = srows[("ticket",) + key]
        check(row["weights_remaining_pct"] == t["weights_remaining_pct"] and row["n_seeds"] == t["n_seeds"],
              f"{rep}: arms.csv {key}: the ticket's group")
        for a in arms:
            s_row = srows.get((a,) + key)
            check(s_row is not None and row[f"{a}_es_acc"] == s_row["es_test_acc_mean"] and
                  row[f"{a}_es_iter"] == s_row["es_iter_mean"],
                  f"{rep}: arms.csv {key} {a}: {row[f'{a}_es_acc']}, {row[f'{a}_es_iter']} against summary.csv")

# the markdown table on stdout has the same rows, the same text
md = [l for l in open(f"{w}/rep.md").read().splitlines() if l.startswith("|")]
check(len(md) == 2 + 21, f"markdown: {len(md)} table lines")
check([c.strip() for c in md[0].strip("|").split("|")] == columns, "markdown header")
with open(f"{w}/rep/summary.csv") as fh:
    csv_rows = [[c.strip() for c in r] for r in csv.reader(fh)][1:]
check([[c.strip() for c in l.strip("|").split("|")] for l in md[2:]] == csv_rows,
      "markdown rows differ from summary.csv")

# the files: every format asked for once (png,pdf,SVG,png), only png by default
for rep, exts in (("rep", ("png", "pdf", "svg")), ("rep_partial", ("png",)), ("rep_one", ("svg",))):
    names = {f"{n}.{e}" for n in ("accuracy", "early_stop", "curves") for e in exts}
    names |= {"summary.csv", "captions.md", "arms.csv"}
    check(set(os.listdir(f"{w}/{rep}")) == names,
          f"{rep}: files {sorted(os.listdir(f'{w}/{rep}'))}, want {sorted(names)}")

# one column of a paper: 3.3 in wide (3.0 to 3.6 with the tight bounding box), 8-9 pt text
def inches_ok(x, what):
    check(3.0 <= x <= 3.6, f"{what}: {x:.2f} in wide, not about 3.3")
for name in ("accuracy", "early_stop", "curves"):
    p = f"{w}/rep/{name}.png"
    raw = open(p, "rb").read()
    img = mpimg.imread(p)
    check(raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 20000, f"{name}.png: {len(raw)} bytes")
    inches_ok(img.shape[1] / 300, f"{name}.png at 300 dpi")
    check(0.6 < img.shape[0] / img.shape[1] < 1.5, f"{name}.png: {img.shape}")
    rgb = (img[..., :3] * 255).astype(np.uint32)
    colors = len(np.unique(rgb[..., 0] << 16 | rgb[..., 1] << 8 | rgb[..., 2]))
    check(img[..., :3].std() > 0.03 and colors > 50,
          f"{name}.png: std {img[..., :3].std():.3f}, {colors} colours")
    pdf = open(f"{w}/rep/{name}.pdf", "rb").read()
    box = re.search(rb"/MediaBox \[ *0 0 ([\d.]+) ([\d.]+) *\]", pdf)
    check(pdf[:5] == b"%PDF-" and box is not None, f"{name}.pdf: not a PDF with a MediaBox")
    if box:
        inches_ok(float(box.group(1)) / 72, f"{name}.pdf")
    check(b"/FontFile2" in pdf, f"{name}.pdf: text is not embedded as TrueType (Type 42)")
    for rep in ("rep", "rep_one"):
        svg = open(f"{w}/{rep}/{name}.svg").read()
        m = re.search(r'<svg [^>]*width="([\d.]+)pt"', svg)
        check(m is not None, f"{rep}/{name}.svg: no width")
        if m:
            inches_ok(float(m.group(1)) / 72, f"{rep}/{name}.svg")
        sizes = {float(x) for x in re.findall(r"font: (?:\w+ )*([\d.]+)px", svg)}
        check(sizes and sizes <= {8.0, 9.0}, f"{rep}/{name}.svg: font sizes {sorted(sizes)}, want 8-9 pt")

# legends and captions: what the bars and bands are, over how many seeds; none with one seed
def svg_text(rep, name):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", open(f"{w}/{rep}/{name}.svg").read()))
caps = open(f"{w}/rep/captions.md").read()
caps1 = open(f"{w}/rep_one/captions.md").read()
for name in ("accuracy", "early_stop"):
    t2, t1 = svg_text("rep", name), svg_text("rep_one", name)
    check("mean of 2 seeds, bars: min-max" in t2, f"{name}.svg (2 seeds): legend {t2[-300:]!r}")
    check("one seed, no bars" in t1 and "min-max" not in t1 and "seeds" not in t1,
          f"{name}.svg (1 seed): legend {t1[-300:]!r}")
    check("cut off by the training length" in t2, f"{name}.svg: no legend entry for cut-off points")
    svg2 = open(f"{w}/rep/{name}.svg").read()
    svg1 = open(f"{w}/rep_one/{name}.svg").read()
    check("LineCollection" in svg2 and "LineCollection" not in svg1,
          f"{name}.svg: error bars with 2 seeds, none with 1")
t2, t1 = svg_text("rep", "curves"), svg_text("rep_one", "curves")
check("mean of 2 seeds, band: min-max" in t2, f"curves.svg (2 seeds): legend {t2[-300:]!r}")
check("one seed, no band" in t1 and "min-max" not in t1, f"curves.svg (1 seed): legend {t1[-300:]!r}")
check("PolyCollection" in open(f"{w}/rep/curves.svg").read() and
      "PolyCollection" not in open(f"{w}/rep_one/curves.svg").read(), "curves.svg: bands with 2 seeds, none with 1")
check(caps.count("mean over 2 seeds; bars: min-max over seeds") == 2 and
      "Lines: mean over 2 seeds; bands: min-max over seeds" in caps, "captions.md (2 seeds): seeds and bars")
check(caps1.count("One seed: no bars.") == 2 and "One seed: no band." in caps1 and "min-max" not in caps1,
      "captions.md (1 seed): seeds and bars")
for n in ("accuracy", "early_stop", "curves"):
    check(f"## {n}.png, {n}.pdf, {n}.svg" in caps and f"## {n}.svg\n" in caps1, f"captions.md: no caption of {n}")
with open(f"{w}/rep/summary.csv") as fh:
    rows = list(csv.DictReader(fh))
cut = sum(int(r["n_seeds_es_at_last_eval"]) > 0 for r in rows)
check(caps.count(f"Ringed points ({cut} of {len(rows)})") == 2 and "cut off by the training length" in caps,
      f"captions.md: the cut-off points are not counted ({cut} of {len(rows)})")

# the figures themselves, drawn again through the module: the rings are the groups whose
# early stop is at the last evaluation; every text is 8-9 pt; the curves' y range holds every
# line and band, iteration 0 included
with ticketsweep.load(f"{w}/mixed.h5") as r:
    r.rewind_iteration = 0
    by_arm = {arm: lth_report.make_groups(r, arm, "cell", 2) for arm in r.arms}
    figs = {"accuracy": lth_report.plot_vs_density(r, by_arm, "es_acc", "acc", "minmax", 100),
            "early_stop": lth_report.plot_vs_density(r, by_arm, "es_iter", "it", "minmax"),
            "curves": lth_report.plot_curves(r, by_arm, 5, None, "minmax")}
    for name, fig in figs.items():
        check(abs(fig.get_figwidth() - 3.3) < 1e-9, f"{name}: figure {fig.get_figwidth()} in wide")
        for t in fig.findobj(matplotlib.text.Text):
            if t.get_visible() and t.get_text().strip():
                check(8 <= t.get_fontsize() <= 9, f"{name}: text {t.get_text()!r} at {t.get_fontsize()} pt")
        if name != "curves":
            ax = fig.axes[0]
            rings = sum(len(l.get_xdata()) for l in ax.lines
                        if l.get_markerfacecolor() == "none" and l.get_linestyle() == "None")
            dense = sum(int(r_["n_seeds_es_at_last_eval"]) > 0 for r_ in rows if r_["round"] == "0")
            # a line per arm and schedule: the dense group sits on each schedule's line
            want = cut + dense * (len(r.rounds_grid) - 1)
            check(rings == want, f"{name}: {rings} ringed points, the CSV says {want}")
            continue
        it = r.iterations
        for ax in fig.axes:
            lo, hi = ax.get_ylim()
            check(ax.get_xlim()[0] <= it[0] == 0 and ax.get_xlim()[1] >= it[-1],
                  f"curves: x range {ax.get_xlim()} misses iterations {it[0]}..{it[-1]}")
            ys = [l.get_ydata() for l in ax.lines] + \
                 [p.vertices[:, 1] for c in ax.collections for p in c.get_paths()]
            check(len(ax.lines) >= 3 and len(ax.collections) == len(ax.lines),
                  f"curves: {len(ax.lines)} lines, {len(ax.collections)} bands")
            for y in ys:
                check(lo <= np.nanmin(y) and np.nanmax(y) <= hi,
                      f"curves: y range {lo:.1f}..{hi:.1f} crops a line or band {np.nanmin(y):.1f}..{np.nanmax(y):.1f}")
            y0 = [l.get_ydata()[0] for l in ax.lines]
            check(min(y0) < 40, f"curves: iteration 0 at {y0}, not near chance (10 %)")
for e in errors[:30]:
    print("FAIL:", e)
print(f"report: {len(errors)} errors")
sys.exit(1 if errors else 0)
PYEOF
# --- the chain axes in the report: criterion.png/.csv, rewind.png/.csv ---------
# criterion.csv and rewind.csv against means computed here from the raw datasets
# (a seed's rows of one density, k and criterion averaged first); with both axes
# rewind.png keeps the criteria apart (a line per density and criterion)
"$TS" run "$W/job.ini" -o "$W/crit.h5" --set sweep.criterion=magnitude,movement,large_init_large_final \
    >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "run with the criterion axis"; }
"$TS" run "$W/job.ini" -o "$W/both.h5" --set sweep.criterion=magnitude,movement --set sweep.rewind=0,20 \
    >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "run with both axes"; }
for n in crit both; do
    "$PY" -m ticketsweep.report "$W/$n.h5" -o "$W/rep_$n" --format png,svg,html >/dev/null 2>"$W/$n.err" ||
        { cat "$W/$n.err"; fail "lth_report on $n.h5"; }
done
"$PY" - "$W" "$TOOLS" <<'PYEOF' || fail "report checks: the chain axes"
import csv, os, sys, h5py, numpy as np
w = sys.argv[1]
sys.path.insert(0, sys.argv[2])
import matplotlib
matplotlib.use("Agg")
import matplotlib.image as mpimg
import ticketsweep
from ticketsweep import report as lth_report
errors = []
def check(ok, msg):
    if not ok:
        errors.append(msg)

def expected(path):
    """{(arm, pct, k, criterion): per-seed early-stop accuracies} from the raw datasets
    (k None without the rewind axis)."""
    f = h5py.File(path, "r")
    st, rounds, seed, crit = (f["trials/" + k][:] for k in ("status", "rounds", "seed", "criterion"))
    rew = f["trials/rewind"][:] if "trials/rewind" in f else [None] * len(st)
    out = {}
    for arm in ("ticket", "reinit", "random"):
        g = f if arm == "ticket" else f["controls/" + arm]
        d, es = g["summary/density"][:], g["summary/early_stop_test_acc"][:]
        pts = {}
        for t in range(len(st)):
            if st[t] != 1:
                continue
            k = None if rew[t] is None else int(rew[t])
            for rr in range(rounds[t] + 1):
                key = (arm, float(f"{100 * d[t, rr]:.4g}"), k, crit[t].decode())
                pts.setdefault(key, {}).setdefault(int(seed[t]), []).append(float(es[t, rr]))
        out.update({key: np.array([np.mean(v) for v in by_seed.values()]) for key, by_seed in pts.items()})
    return out

def read(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))

STATS = ("es_test_acc_mean", "es_test_acc_min", "es_test_acc_max")
for h5, ks, crits in (("crit", [None], ["magnitude", "movement", "large_init_large_final"]),
                      ("both", [0, 20], ["magnitude", "movement"])):
    want = expected(f"{w}/{h5}.h5")
    rep = f"{w}/rep_{h5}"
    axes = (["rewind"] if ks != [None] else []) + ["criterion"]
    header = ["arm"] + axes + ["weights_remaining_pct", "n_seeds"] + list(STATS)
    files = ["criterion.csv"] + (["rewind.csv"] if "rewind" in axes else [])
    tables = {}
    for name in files:
        rows = read(f"{rep}/{name}")
        check(rows and list(rows[0]) == header, f"{h5}/{name}: header {list(rows[0]) if rows else None}")
        got = {}
        for row in rows:
            key = (row["arm"], float(row["weights_remaining_pct"]),
                   int(row["rewind"]) if "rewind" in row else None, row["criterion"])
            check(key not in got, f"{h5}/{name}: row {key} twice")
            got[key] = row
            v = want.get(key)
            check(v is not None, f"{h5}/{name}: {key} is no point of the file")
            if v is None:
                continue
            check(row["n_seeds"] == str(len(v)), f"{h5}/{name} {key}: n_seeds {row['n_seeds']}, want {len(v)}")
            for c, x in zip(STATS, (v.mean(), v.min(), v.max())):
                check(abs(float(row[c]) - x) <= 5e-5 + 1e-9, f"{h5}/{name} {key}: {c} {row[c]}, the file gives {x:.6f}")
        # every arm, k and criterion at each density drawn; the densest and the sparsest among them
        pcts = sorted({k[1] for k in got}, reverse=True)
        all_pcts = sorted({k[1] for k in want}, reverse=True)
        check(2 <= len(pcts) <= 5 and pcts[0] == all_pcts[0] and pcts[-1] == all_pcts[-1],
              f"{h5}/{name}: densities {pcts} of {all_pcts}")
        check(set(got) == {(a, p, k, c) for a in ("ticket", "reinit", "random") for p in pcts for k in ks
                           for c in crits}, f"{h5}/{name}: {len(got)} rows, not every arm x density x k x criterion")
        tables[name] = got
        # the criteria differ somewhere, or mixing them up would pass unseen
        check(any(len({round(float(want[("ticket", p, k, c)].mean()), 6) for c in crits}) > 1
                  for p in pcts for k in ks), f"{h5}: the tiny sweep no longer tells the criteria apart")
    if len(tables) == 2:
        check(tables["criterion.csv"] == tables["rewind.csv"], f"{h5}: criterion.csv and rewind.csv differ")

    # the figures: written, one column wide; drawn again, their points are the CSV's
    names = ["criterion"] + (["rewind"] if "rewind" in axes else [])
    for n in names:
        for ext in ("png", "svg"):
            check(os.path.getsize(f"{rep}/{n}.{ext}") > 5000, f"{h5}: {n}.{ext} is (nearly) empty")
        img = mpimg.imread(f"{rep}/{n}.png")
        check(3.0 <= img.shape[1] / 300 <= 3.6, f"{h5}/{n}.png: {img.shape[1] / 300:.2f} in wide, not about 3.3")
    caps = open(f"{rep}/captions.md").read()
    page = open(f"{rep}/report.html").read()
    for n in names:
        check(f"## {n}.png, {n}.svg" in caps, f"{h5}: no caption of {n}")
        check(f'<figure id="{n}">' in page, f"{h5}: report.html has no {n} figure")
    check(not os.path.exists(f"{rep}/rewind.csv") or "rewind" in axes, f"{h5}: rewind.csv without the axis")
    svg = open(f"{rep}/criterion.svg").read()
    check(all(c in svg for c in crits) and "Pruning criterion" in svg,
          f"{h5}: criterion.svg does not name the criteria")
    with ticketsweep.load(f"{w}/{h5}.h5") as r:
        points = {arm: lth_report.axis_points(r, arm, 5, None) for arm in r.arms}
        figs = {n: lth_report.AXIS_PLOTS[n](r, points, "minmax") for n in names}
        for n, fig in figs.items():
            check(abs(fig.get_figwidth() - 3.3) < 1e-9, f"{h5}/{n}: figure {fig.get_figwidth()} in wide")
            for ax, arm in zip(fig.axes, r.arms):
                # criterion: a series per density and k across the criteria; rewind: a line per density and criterion
                per = len(ks) if n == "criterion" else len(crits)
                check(len(ax.containers) == len(pcts) * per,
                      f"{h5}/{n} {arm}: {len(ax.containers)} series, want {len(pcts)} densities x {per}")
                ys = sorted(float(y) for c in ax.containers for y in c.lines[0].get_ydata())
                csv_ys = sorted(100 * float(v.mean()) for (a, p, k, c), v in want.items()
                                if a == arm and p in pcts and k in ks)
                check(len(ys) == len(csv_ys) and np.allclose(ys, csv_ys, atol=1e-9),
                      f"{h5}/{n} {arm}: the points drawn are not the file's")
for e in errors[:30]:
    print("FAIL:", e)
print(f"chain axes: {len(errors)} errors")
sys.exit(1 if errors else 0)
PYEOF
# --- the instability analysis with the chain axes: instability.csv/.png, instability_k.png,
# python3 -m ticketsweep.instability ---------------------------------------------------------
# each (k, criterion, density) against means computed here from the raw datasets (a seed's
# distinct lines, by their training's node, averaged first), with the rewind axis, the
# criterion axis and both: the criteria kept apart (a row and a line each)
for v in "ins_k:--set sweep.rewind=0,20" "ins_crit:--set sweep.criterion=magnitude,movement" \
         "ins_both:--set sweep.criterion=magnitude,movement --set sweep.rewind=0,20"; do
    n=${v%%:*}
    # shellcheck disable=SC2086
    "$TS" run "$W/job.ini" -o "$W/$n.h5" ${v#*:} --set analysis.copies=2 --set analysis.interpolation=3 \
        >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "run $n with copies = 2"; }
    "$PY" -m ticketsweep.report "$W/$n.h5" -o "$W/rep_$n" >/dev/null 2>"$W/$n.err" ||
        { cat "$W/$n.err"; fail "lth_report on $n.h5"; }
    "$PY" -m ticketsweep.instability "$W/$n.h5" >"$W/$n.k.csv" 2>"$W/$n.err" ||
        { cat "$W/$n.err"; fail "ticketsweep.instability on $n.h5"; }
done
"$PY" - "$W" <<'PYEOF' || fail "report checks: instability with the chain axes"
import csv, sys, h5py, numpy as np
import matplotlib
matplotlib.use("Agg")
import ticketsweep
from ticketsweep import report as lth_report
from pycheck import check, done
w = sys.argv[1]

def expected(path):
    """{(k, criterion, pct): (per-seed instability in %, mean endpoint error in %)} from the
    raw datasets; a line is (its ticket training's node, pair), so a training shared by
    cells (round 0 by every criterion of a seed and k) counts once a seed."""
    f = h5py.File(path, "r")
    st, rounds, seed = (f["trials/" + x][:] for x in ("status", "rounds", "seed"))
    rew = f["trials/rewind"][:] if "trials/rewind" in f else np.zeros(len(st), int)
    # without the axis: the job's, prune.criterion's default
    crit = [c.decode() for c in f["trials/criterion"][:]] if "trials/criterion" in f else ["magnitude"] * len(st)
    nodes, d = f["trials/nodes"][:, 0, :], f["summary/density"][:]
    val, err = f["instability/value"][:], f["instability/test_error"][:]
    lines = {}
    for t in np.flatnonzero(st == 1):
        for rr in range(rounds[t] + 1):
            key = (int(rew[t]), crit[t], float(f"{100 * d[t, rr]:.4g}"))
            for p in range(val.shape[2]):
                e = err[t, rr, p]
                lines.setdefault(key, {}).setdefault(int(seed[t]), {})[(nodes[t, rr], p)] = (
                    float(val[t, rr, p]), 100 * (float(e[0]) + float(e[-1])) / 2)
    return {key: (100 * np.array([np.mean([v for v, _ in ls.values()]) for ls in by_seed.values()]),
                  np.mean([e for ls in by_seed.values() for _, e in ls.values()]))
            for key, by_seed in lines.items()}

def interp_expected(path):
    """{(k, criterion, pct): test error (%) along the line, alpha by alpha}: per cell
    a seed's distinct lines (by node and pair) averaged, then the mean over seeds."""
    f = h5py.File(path, "r")
    st, rounds, seed = (f["trials/" + x][:] for x in ("status", "rounds", "seed"))
    rew = f["trials/rewind"][:] if "trials/rewind" in f else np.zeros(len(st), int)
    crit = [c.decode() for c in f["trials/criterion"][:]] if "trials/criterion" in f else ["magnitude"] * len(st)
    nodes, d, err = f["trials/nodes"][:, 0, :], f["summary/density"][:], f["instability/test_error"][:]
    lines = {}
    for t in np.flatnonzero(st == 1):
        for rr in range(rounds[t] + 1):
            key = (int(rew[t]), crit[t], float(f"{100 * d[t, rr]:.4g}"))
            for p in range(err.shape[2]):
                lines.setdefault(key, {}).setdefault(int(seed[t]), {})[(nodes[t, rr], p)] = 100 * err[t, rr, p]
    return {key: np.mean([np.mean(list(ls.values()), axis=0) for ls in by_seed.values()], axis=0)
            for key, by_seed in lines.items()}

def read(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))

STATS = ("instability_mean", "instability_min", "instability_max")
for h5, ks, crits in (("ins_k", [0, 20], ["magnitude"]), ("ins_crit", [0], ["magnitude", "movement"]),
                      ("ins_both", [0, 20], ["magnitude", "movement"])):
    want = expected(f"{w}/{h5}.h5")
    axes = (["rewind"] if len(ks) > 1 else []) + (["criterion"] if len(crits) > 1 else [])
    # the criteria differ somewhere, or mixing them up would pass unseen
    check(len(crits) == 1 or any(len({round(want[(k, c, p)][0].mean(), 6) for c in crits}) > 1
                                 for k, _, p in want), f"{h5}: the tiny sweep no longer tells the criteria apart")
    for name, cols, kcol in (("instability.csv", axes + list(lth_report.INSTABILITY_COLUMNS), "rewind"),
                             ("module", ["k"] + axes[len(ks) > 1:] +
                              ["weights_remaining_pct", "n_seeds"] + list(STATS), "k")):
        rows = read(f"{w}/rep_{h5}/instability.csv" if name == "instability.csv" else f"{w}/{h5}.k.csv")
        check(rows and list(rows[0]) == cols, f"{h5}/{name}: header {list(rows[0]) if rows else None}, want {cols}")
        got = set()
        for row in rows:
            key = (int(row.get(kcol, 0)), row.get("criterion", crits[0]), float(row["weights_remaining_pct"]))
            check(key not in got, f"{h5}/{name}: row {key} twice")
            got.add(key)
            if key not in want:
                check(False, f"{h5}/{name}: {key} is no point of the file")
                continue
            v, ends = want[key]
            check(row["n_seeds"] == str(len(v)), f"{h5}/{name} {key}: n_seeds {row['n_seeds']}, want {len(v)}")
            for c, x in zip(STATS, (v.mean(), v.min(), v.max())):
                check(abs(float(row[c]) - x) <= 5e-4 + 1e-9, f"{h5}/{name} {key}: {c} {row[c]}, the file gives {x:.4f}")
            if "endpoint_error_mean" in row:
                check(abs(float(row["endpoint_error_mean"]) - ends) <= 5e-4 + 1e-9,
                      f"{h5}/{name} {key}: endpoint_error_mean {row['endpoint_error_mean']}, the file gives {ends:.4f}")
        check(got == set(want), f"{h5}/{name}: {len(got)} rows, want one per k x criterion x density ({len(want)})")
    # the figures drawn again: a line per k and criterion (instability), per density and
    # criterion (instability_k), at the file's means
    with ticketsweep.load(f"{w}/{h5}.h5") as r:
        for n, fig, per, x_of in (("instability", lth_report.plot_instability(r, "minmax"), len(ks) * len(crits),
                                   lambda k, c, p: p),
                                  ("instability_k", lth_report.plot_instability_k(r) if len(ks) > 1 else None,
                                   len({p for _, _, p in want}) * len(crits), lambda k, c, p: k)):
            if fig is None:
                continue
            ax = fig.axes[0]
            check(len(ax.containers) == per, f"{h5}/{n}: {len(ax.containers)} lines, want {per}")
            drawn = sorted((float(x), round(float(y), 9)) for c in ax.containers
                           for x, y in zip(*c.lines[0].get_data()))
            pts = sorted((float(x_of(*key)), round(float(v.mean()), 9)) for key, (v, _) in want.items())
            check(len(drawn) == len(pts) and np.allclose(drawn, pts, atol=1e-6),
                  f"{h5}/{n}: the points drawn are not the file's")
        # interpolation.png: a panel per density, in it a line per k and criterion at the
        # file's per-cell mean curve over seeds
        fig = lth_report.plot_interpolation(r, 3, "minmax")
        curves = interp_expected(f"{w}/{h5}.h5")
        pcts = sorted({p for _, _, p in curves}, reverse=True)
        check(len(fig.axes) == min(3, len(pcts)), f"{h5}/interpolation: {len(fig.axes)} panels, want {min(3, len(pcts))}")
        seen = []
        for ax in fig.axes:
            # the title has 3 significant digits, the file's densities 4
            title = ax.get_title(loc="left").split(" %")[0]
            cands = [q for q in pcts if f"{q:.3g}" == title]
            check(len(cands) == 1, f"{h5}/interpolation: panel {title} % is not one density of the file")
            p = cands[0] if cands else None
            for line in ax.lines:
                lab = dict(x.split(" = ") if " = " in x else ("criterion", x) for x in line.get_label().split(", "))
                key = (int(lab.get("k", ks[0])), lab.get("criterion", crits[0]), p)
                seen.append(key)
                check(key in curves and np.allclose(line.get_ydata(), curves[key], atol=1e-6),
                      f"{h5}/interpolation {key}: the line drawn is not the file's mean over seeds")
        check(len(seen) == len(set(seen)) == len(fig.axes) * len(ks) * len(crits),
              f"{h5}/interpolation: {len(seen)} lines ({len(set(seen))} distinct), want one per density, k "
              f"and criterion ({len(fig.axes) * len(ks) * len(crits)})")
done()
PYEOF
echo "python tools: ok"
