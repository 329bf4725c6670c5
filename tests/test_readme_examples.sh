#!/bin/sh
# test_readme_examples.sh - every fenced example of README.md and docs/*.md runs, and says
# what it should.
#
# The ```python, ```matlab and ```sh blocks of README.md and of the pages in docs/ are the
# examples a user copies;
# commands that cannot run here (make, downloads, 64 ranks) are indented blocks instead.
# This test makes demo.h5 from jobs/demo.ini itself (its grid: 4 rates x rounds 1, 3 x 2
# seeds, the random control) on small synthetic data with a small model and 200
# iterations, so it runs in seconds, and demo_w.h5, the same with [output] weights =
# final; and a virtual environment with the Python package installed (tools/python, as
# README installs it). Each block then runs on its own, in a fresh folder that looks like
# the repository root after `make run` (demo.h5, tools/, build/): python blocks in a fresh
# python of that environment, matlab blocks in headless GNU Octave (skipped, with a note,
# when Octave is not installed), sh blocks with sh -e, the environment's bin/ first in
# PATH and HOME a folder of the test's. A block's output and variables are
# checked against the file read with h5py: the trial it picks has 3 rounds, its mask
# counts equal density x weights, printed values equal the file's. A runnable block
# that no check here knows fails the test: a new example needs its check.
. "$(dirname "$0")/lib.sh"

"$PY" -c 'import h5py, numpy, matplotlib' 2>/dev/null ||
    skip "python3-h5py, python3-numpy or python3-matplotlib is not installed"
[ -x "$TS" ] || fail "$TS is missing: run make first"
export PYTHONDONTWRITEBYTECODE=1

small_data "$W/data"
D=$W/data
set -- --set "data.train_images=$D/train-images" --set "data.train_labels=$D/train-labels" \
    --set "data.test_images=$D/test-images" --set "data.test_labels=$D/test-labels" \
    --set data.validation=200 --set model.hidden=16,8 --set train.batch=20 \
    --set train.iterations=200 --set train.eval_every=40
"$TS" run "$TOP/jobs/demo.ini" -o "$W/demo.h5" "$@" >"$W/run.log" 2>&1 ||
    { cat "$W/run.log"; fail "the demo job on small data failed"; }
"$TS" run "$TOP/jobs/demo.ini" -o "$W/demo_w.h5" "$@" --set output.weights=final >"$W/run_w.log" 2>&1 ||
    { cat "$W/run_w.log"; fail "the demo job with weights = final failed"; }

# the package as a user installs it: offline, Debian's pip, numpy and h5py from the system
/usr/bin/python3 -m venv --system-site-packages --without-pip "$W/venv" || fail "python3 -m venv"
"$W/venv/bin/python" -m pip install --quiet --no-build-isolation --no-index "$TOP/tools/python" \
    >"$W/pip.log" 2>&1 || { cat "$W/pip.log"; fail "pip install ./tools/python"; }
export PATH="$W/venv/bin:$PATH" HOME="$W/home"
mkdir -p "$HOME"

cat >"$W/readme_dump.m" <<'EOF'
function readme_dump(out)
% The numeric and logical variables of the caller, one a line: name, class, size, values.
  names = evalin('caller', 'who');
  fid = fopen(out, 'w');
  for i = 1:numel(names)
    x = evalin('caller', names{i});
    if isnumeric(x) || islogical(x)
      fprintf(fid, '%s\t%s\t%s\t%s\n', names{i}, class(x), sprintf('%d ', size(x)), ...
              sprintf('%.17g ', double(x(:))));
    end
  end
  fclose(fid);
end
EOF

cat >"$W/examples.py" <<'PYEOF'
"""Run README's fenced examples and check them (see tests/test_readme_examples.sh).

examples.py TOP W BUILD          run every block, print a line per block, exit 1 on a failure
examples.py --python FILE CHECK  (internal) run one python block in this fresh interpreter,
                                 then its check on its namespace and output
"""
import contextlib, csv, glob, io, os, re, shutil, subprocess, sys

TOP = "."

FENCE = re.compile(r"^```(\w*)\s*$")
RUN = {"python", "matlab", "sh"}


def blocks(readme):
    """[(line of the first code line, language, code)] of the fenced blocks."""
    out, lang, start, code = [], None, 0, []
    name = os.path.relpath(readme, TOP)
    for i, line in enumerate(open(readme).read().splitlines(), 1):
        m = FENCE.match(line)
        if lang is None and m:
            lang, start, code = m.group(1) or "text", i + 1, []
        elif lang is not None and line.strip() == "```":
            out.append((f"{name}:{start}", start, lang, "\n".join(code) + "\n"))
            lang = None
        elif lang is not None:
            code.append(line)
    if lang is not None:
        raise SystemExit(f"{name}:{start - 1}: a ``` block that never ends")
    return out


# --- the checks: check_NAME(env) returns a list of failures ----------------------------
# env: out (stdout), dir (the block's folder), f (demo.h5 in h5py), ns (python: the
# block's variables), vars (matlab: {name: (class, size, values)}).

def h5():
    import h5py
    return h5py.File("demo.h5", "r")


def three_round_trial(f):
    """The trial the examples must pick: the first done one with 3 rounds."""
    import numpy as np
    done = f["trials/status"][:] == 1
    return int(np.flatnonzero(done & (f["trials/rounds"][:] == 3))[0])


def rounds_active(f, t, arm="ticket"):
    """{layer: uint8 [out, in]}: in how many rounds each weight of trial t's
    arm was active, from the file alone (tests/masks_h5.py)."""
    import masks_h5  # on PYTHONPATH (below)
    return masks_h5.rounds_active(f, t, arm)


def active(f, t, k, group=""):
    """Weights of trial t active in round k (all layers), and all weights."""
    masks = rounds_active(f, t, "random" if "random" in group else "ticket")
    return (sum(int((masks[l] > k).sum()) for l in masks),
            sum(int(masks[l].size) for l in masks))


def density_count(f, t, k, group=""):
    """density x weights, which must be a whole number of weights."""
    n_all = active(f, t, k, group)[1]
    d = float(f[group + "summary/density"][t, k]) * n_all
    return round(d) if abs(d - round(d)) < 1e-6 else None


def check_h5py(env):
    import numpy as np
    f, out, ns, errs = env["f"], env["out"], env["ns"], []
    done = f["trials/status"][:] == 1
    dens = f["summary/density"][:][done]
    acc = f["summary/early_stop_test_acc"][:][done]
    ok = np.isfinite(dens)
    want = np.c_[100 * dens[ok], acc[ok]]
    table = out[:out.index("trial ")] if "trial " in out else out
    nums = np.array([float(x) for x in re.findall(r"[-+]?\d+\.?\d*(?:e[-+]?\d+)?", table)])
    if nums.size != want.size or not np.allclose(nums.reshape(want.shape), want, rtol=1e-6):
        errs.append(f"the printed table ({nums.size} numbers) is not % weights remaining and "
                    f"accuracy of the done rounds ({want.shape[0]} rows)")
    if ok.sum() != sum(int(n) + 1 for n in f["trials/rounds"][:][done]):
        errs.append("NaN densities do not mark exactly the rounds trials do not have")
    t = three_round_trial(f)
    if int(ns.get("t", -1)) != t:
        errs.append(f"t = {ns.get('t')}, not the first done trial with 3 rounds ({t})")
    m = ns.get("m", {})
    if sorted(m) != sorted(f["init"]) or m["fc1"].shape != f["init/fc1/weight"].shape[1:]:
        errs.append(f"m is not {{layer: [out, in]}}: {[(l, v.shape) for l, v in m.items()]}")
    n, n_all = active(f, t, 2)
    want_n = density_count(f, t, 2)
    line = re.search(r"trial (\d+) round 2: (\d+) of (\d+) weights active, density ([\d.]+)", out)
    if not line:
        errs.append(f"no 'trial T round 2: N of W weights active' line in {out[-200:]!r}")
    elif (int(line[1]), int(line[2]), int(line[3])) != (t, want_n, n_all) or n != want_n or \
            abs(float(line[4]) - f["summary/density"][t, 2]) > 5e-5 or not 0 < n < n_all:
        errs.append(f"printed {line[0]!r}: want trial {t}, density x weights = {want_n} of {n_all}")
    return errs


def check_reader(env):
    import numpy as np
    f, out, ns, errs = env["f"], env["out"], env["ns"], []
    T = len(f["trials/status"])
    # print(r.trials) is a table: a line per trial, "index rate per_round rounds seed status"
    listed = {int(m_[1]) for m_ in re.finditer(r"^\s*(\d+)\s+[0-9.]+\s+[0-9.]+\s+\d+\s+\d+\s+\w+", out, re.M)}
    if listed != set(range(T)):
        errs.append("print(r.trials) does not list every trial")
    # t = r.find(rate=0.8, rounds=3, seed=1): that cell's index, done, with 3 rounds
    rate, rounds, seed = f["trials/rate"][:], f["trials/rounds"][:], f["trials/seed"][:]
    hit = np.flatnonzero(np.isclose(rate, 0.8) & (rounds == 3) & (seed == 1))
    t = int(hit[0]) if len(hit) == 1 else None
    if t is None or ns.get("t") != t or type(ns.get("t")) is not int or f["trials/status"][t] != 1:
        errs.append(f"t = {ns.get('t')!r}, not the done trial (rate 0.8, rounds 3, seed 1) = {t}")
        return errs
    if f"Trial(index={t}, rate=0.8" not in out:
        errs.append("print(r.trial(t)) does not show the trial")
    df = ns.get("df")
    if df is not None and len(df) != sum(int(n) + 1 for n in rounds) * 2:  # ticket + random arms
        errs.append(f"r.table() has {len(df)} rows, not one per done trial x arm x round")
    m = ns["m"]
    ra = rounds_active(f, t)
    for l in ra:
        if not np.array_equal(m[l], ra[l] > 2):
            errs.append(f"m[{l!r}] is not trial {t}'s mask in round 2")
    want_n, n_all = density_count(f, t, 2), active(f, t, 2)[1]
    line = re.search(r"^(\d+) of (\d+) weights active in round 2$", out, re.M)
    if not line or (int(line[1]), int(line[2])) != (want_n, n_all):
        errs.append(f"active weights printed {line[0] if line else None!r}, density x weights "
                    f"is {want_n} of {n_all}")
    s = ns["s"]
    g = f["controls/random/summary"]
    if len(s) != sum(int(n) + 1 for n in f["trials/rounds"][:]) or \
            any(row["density"] != g["density"][row["trial"], row["round"]] for row in s):
        errs.append("r.summary('random') is not the random control's summary per round")
    row = s[(s["trial"] == t) & (s["round"] == 2)]
    if len(row) != 1 or f"{row['density'][0]:.6f}"[:6] not in out:
        errs.append(f"the printed summary row of trial {t} round 2 is not {row}")
    x = ns["x"]
    if x != f["trials/nodes"][t, 2, 2] or f["nodes/arm"][x] != 2 or f["nodes/round"][x] != 2:
        errs.append(f"x = {x}: not the random control's round-2 training of trial {t}")
    if "w" in ns:   # the commented weights line, run on demo_w.h5 (weights = final)
        w = ns["w"]
        for l in ra:
            wt, b = w[l]
            if wt.shape != f[f"init/{l}/weight"].shape[1:] or b.shape != f[f"init/{l}/bias"].shape[1:]:
                errs.append(f"w[{l!r}]: shapes {wt.shape}, {b.shape}")
            elif np.any(wt[~(ra[l] > 2)] != 0) or not np.any(wt != 0):
                errs.append(f"w[{l!r}]: weights outside trial {t}'s round-2 mask are not zero")
    return errs


def check_matlab(env):
    import numpy as np
    f, out, v, errs = env["f"], env["out"], env["vars"], []
    t = three_round_trial(f)
    if "t" not in v or v["t"][2] != [t + 1]:
        errs.append(f"t = {v.get('t')}, not the first done trial with 3 rounds ({t + 1} in Octave)")
        return errs
    acc = f["summary/early_stop_test_acc"][t].astype(float)
    got = v.get("acc", (None, [], []))[2]
    if len(got) != len(acc) or not np.array_equal(np.array(got), acc, equal_nan=True):
        errs.append(f"acc = {got}, the file has {list(acc)}")
    shown = out[out.index("acc ="):] if "acc =" in out else ""
    if len(re.findall(r"\d\.\d+|NaN", shown.split("\n\n\n")[0])) < len(acc):
        errs.append(f"acc is not displayed: {out[:300]!r}")
    m2 = rounds_active(f, t)["fc1"] > 2
    if "m2" not in v or v["m2"][0] != "logical" or v["m2"][1] != list(m2.shape):
        errs.append(f"m2: {v.get('m2', ('?', '?'))[:2]}, want logical {list(m2.shape)} ([out, in])")
    elif not np.array_equal(np.array(v["m2"][2]).reshape(m2.shape[::-1]).T, m2) or \
            not 0 < m2.sum() < m2.size:
        errs.append(f"m2 ({sum(v['m2'][2]):.0f} active) is not trial {t}'s fc1 mask in round 2 "
                    f"({m2.sum()} active)")
    line = re.search(r"^(\d+) of (\d+) fc1 weights active in round 2$", out, re.M)
    if not line or (int(line[1]), int(line[2])) != (int(m2.sum()), m2.size):
        errs.append(f"printed {line[0] if line else None!r}, want {m2.sum()} of {m2.size}")
    return errs


def check_report(env, formats):
    f, d, out, errs = env["f"], env["dir"], env["out"], []
    arms = ["ticket"] + [a for a in ("reinit", "random") if f"controls/{a}" in f]
    rounds = f["trials/rounds"][:]
    cells = len(set(zip(f["trials/rate"][:], rounds)))
    # a group per arm: the dense network, and each round k >= 1 of each cell
    per_arm = 1 + sum(int(n) for _, n in set(zip(f["trials/rate"][:], rounds)))
    want = {f"{n}.{e}" for n in ("accuracy", "early_stop", "curves") for e in formats}
    want |= {"summary.csv", "captions.md"} | ({"arms.csv"} if len(arms) > 1 else set())
    have = set(os.listdir(os.path.join(d, "report"))) if os.path.isdir(os.path.join(d, "report")) else set()
    if have != want:
        errs.append(f"report/ holds {sorted(have)}, want {sorted(want)}")
        return errs
    rows = list(csv.DictReader(open(os.path.join(d, "report", "summary.csv"))))
    if len(rows) != len(arms) * per_arm or {r["arm"] for r in rows} != set(arms) or \
            any(r["n_seeds"] != str(len(f["grid/seeds"])) for r in rows):
        errs.append(f"summary.csv: {len(rows)} rows, want {len(arms)} arms x {per_arm} groups "
                    f"of {len(f['grid/seeds'])} seeds ({cells} cells)")
    table = [l for l in out.splitlines() if l.startswith("| ")]
    if len(table) != 1 + len(rows):
        errs.append(f"the markdown table has {len(table)} lines, want {1 + len(rows)}")
    return errs


def check_xarray(env):
    """The xarray block: its statistics per cell and round and its learning curve are
    the file's numbers (h5py), and the curve's round is one nearest 20 %."""
    import numpy as np
    f, ns, errs = env["f"], env["ns"], []
    done = f["trials/status"][:] == 1
    rate, rounds, seed = f["trials/rate"][:], f["trials/rounds"][:], f["trials/seed"][:]
    ds, stats, near, curve = ns["ds"], ns["stats"], ns["near"], ns["curve"]
    want_sizes = {"rate": len(f["grid/rates"]), "rounds": len(f["grid/rounds"]),
                  "seed": len(f["grid/seeds"]), "arm": 2, "round": f["curves/test_acc"].shape[1],
                  "iteration": len(f["curves/iteration"])}
    if dict(ds.sizes) != want_sizes or str(want_sizes)[:-1].split("'iteration'")[0] not in env["out"]:
        errs.append(f"ds sizes {dict(ds.sizes)}, want {want_sizes}")
    acc, cells = f["summary/early_stop_test_acc"], {}
    for t in np.flatnonzero(done):
        for k in range(rounds[t] + 1):
            cells.setdefault((round(float(rate[t]), 9), int(rounds[t]), k), []).append(float(acc[t, k]))
    if len(stats) != len(cells):
        errs.append(f"stats has {len(stats)} rows, the file {len(cells)} cells x rounds")
    for (p, n, k), row in stats.iterrows():
        v = cells.get((round(float(p), 9), int(n), int(k)), [np.nan])
        if abs(row["mean"] - np.mean(v)) > 1e-6 or abs(row["std"] - np.std(v, ddof=1)) > 1e-6:
            errs.append(f"stats row {(p, n, k)}: {row['mean']}, {row['std']}; file {v}")
    if f"{stats['mean'].iloc[0]:.6f}"[:6] not in env["out"]:
        errs.append("stats is not printed")
    p, n, k = (float(ds.rate[near["rate"]]), int(ds.rounds[near["rounds"]]), int(ds["round"][near["round"]]))
    dens = f["summary/density"][:]
    best = min(abs(100 * dens[t, j] - 20) for t in np.flatnonzero(done) for j in range(rounds[t] + 1))
    ts = np.flatnonzero(done & np.isclose(rate, p) & (rounds == n))
    if len(ts) != len(f["grid/seeds"]) or abs(abs(100 * dens[ts[0], k] - 20) - best) > 1e-9:
        errs.append(f"the curve's round ({p}, {n}, {k}) is not one nearest 20 % ({best:.3f} away)")
    raw = np.mean([f["controls/random/curves/test_acc"][t, k] for t in ts], axis=0)
    if curve.dims != ("iteration",) or not np.allclose(curve.values, raw, rtol=1e-6):
        errs.append(f"curve is not the random control's mean test_acc of trials {list(ts)}, round {k}")
    return errs


def check_install(env):
    """README's install block: ~/ts-venv holds the package and its commands, and the
    version it prints is the binary's."""
    out, errs = env["out"], []
    venv = os.path.join(os.environ["HOME"], "ts-venv")
    want = subprocess.run([env["ts"], "--version"], capture_output=True, text=True).stdout.split()[1]
    if out.strip().splitlines()[-1:] != [want]:
        errs.append(f"the block printed {out.strip()[-80:]!r}, not the binary's version {want}")
    for c in ("lth_report", "lenet_claims", "conv_claims"):
        if not os.access(os.path.join(venv, "bin", c), os.X_OK):
            errs.append(f"{venv}/bin/{c} is not there")
    where = subprocess.run([os.path.join(venv, "bin", "python"), "-c",
                            "import ticketsweep; print(ticketsweep.__file__)"],
                           capture_output=True, text=True, cwd="/").stdout.strip()
    if not where.startswith(venv + "/"):
        errs.append(f"ts-venv's python imports ticketsweep from {where!r}, not from the venv")
    return errs


def check_page(env):
    """lth_report --format html: share/ holds report.html (the three figures inside it,
    no script), summary.csv, captions.md and, with controls, arms.csv, and no figure
    files."""
    d, errs = env["dir"], []
    have = set(os.listdir(os.path.join(d, "share"))) if os.path.isdir(os.path.join(d, "share")) else set()
    if have != {"report.html", "summary.csv", "captions.md"} | ({"arms.csv"} if "controls" in env["f"] else set()):
        return [f"share/ holds {sorted(have)}"]
    page = open(os.path.join(d, "share", "report.html")).read()
    if page.count('src="data:image/png;base64,') != 3 or "<script" in page:
        errs.append("report.html does not hold the three figures, or has a script")
    return errs


def check_status(env):
    f, out, errs = env["f"], env["out"], []
    T = len(f["trials/status"])
    lines = [l for l in out.splitlines() if re.match(r"^\d+\s", l)]
    if len(lines) != T or f"demo.h5: {T} trials: {T} done, 0 failed, 0 pending" not in out:
        errs.append(f"status: {len(lines)} trial lines of {T}, counts {out.splitlines()[-2:]}")
    return errs + check_report(env, ("png",))


# (what identifies the block, language, check)
CHECKS = [
    (r'h5py\.File\("demo\.h5"', "python", check_h5py),
    (r"r\.to_xarray\(\)", "python", check_xarray),   # before check_reader: it loads demo.h5 too
    (r'ticketsweep\.load\("demo\.h5"\)', "python", check_reader),
    (r"load_ticketsweep\('demo\.h5'\)", "matlab", check_matlab),
    (r"ticketsweep status demo\.h5", "sh", check_status),
    (r"^lth_report demo\.h5 -o report --format png,pdf$", "sh",
     lambda env: check_report(env, ("png", "pdf"))),
    (r"^lth_report demo\.h5 -o share --format html$", "sh", check_page),
    (r"pip install --no-build-isolation --no-index \./tools/python$", "sh", check_install),
]


def find_check(lang, code):
    for i, (pattern, l, fn) in enumerate(CHECKS):
        if l == lang and re.search(pattern, code, re.M):
            return i
    return None


# --- running a block -------------------------------------------------------------------

def python_block(path, which):
    """In this fresh interpreter: the block at README's line numbers, then its check."""
    code = open(path).read()
    ns = {"__name__": "__main__"}
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "README.md", "exec"), ns)
    out = buf.getvalue()
    sys.stdout.write(out)
    env = {"out": out, "dir": os.getcwd(), "ns": ns, "f": h5()}
    errs = CHECKS[int(which)][2](env)
    for e in errs:
        print("CHECK:", e)
    sys.exit(1 if errs else 0)


def folder(w, n, top, build, h5name):
    d = os.path.join(w, "ex", str(n))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    os.symlink(os.path.join(w, h5name), os.path.join(d, "demo.h5"))
    os.symlink(os.path.join(top, "tools"), os.path.join(d, "tools"))
    os.symlink(os.path.join(top, build), os.path.join(d, "build"))
    return d


def run_block(n, line, lang, code, which, top, w, build, h5name="demo.h5", have_octave=True):
    """Run one block in its own folder; returns (status, log). status: ok, FAIL or skip."""
    d = folder(w, n, top, build, h5name)
    env = dict(os.environ)
    if lang == "python":
        path = os.path.join(d, "example.py")
        open(path, "w").write("\n" * (line - 1) + code)   # tracebacks name README's lines
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--python", path,
                            str(which)], cwd=d, capture_output=True, text=True, env=env)
        return ("ok" if p.returncode == 0 else "FAIL"), p.stdout + p.stderr
    if lang == "matlab":
        if not have_octave:
            return "skip", "octave is not installed"
        p = subprocess.run(["octave", "--no-gui", "--quiet", "--norc", "--eval",
                            f"addpath('{w}'); {code}\nreadme_dump('vars.txt');"],
                           cwd=d, capture_output=True, text=True, env=env)
        log = p.stdout + p.stderr
        if p.returncode != 0:
            return "FAIL", log
        v = {}
        for row in open(os.path.join(d, "vars.txt")):
            name, cls, size, vals = row.rstrip("\n").split("\t")
            v[name] = (cls, [int(x) for x in size.split()], [float(x) for x in vals.split()])
        if "t" in v:
            v["t"] = (v["t"][0], v["t"][1], [int(x) for x in v["t"][2]])
    else:
        p = subprocess.run(["sh", "-e", "-c", code], cwd=d, capture_output=True, text=True,
                           env=env)
        log = p.stdout + p.stderr
        if p.returncode != 0:
            return "FAIL", log
        v = None
    cwd = os.getcwd()
    os.chdir(d)
    try:
        errs = CHECKS[which][2]({"out": p.stdout, "dir": d, "vars": v, "f": h5(),
                                 "ts": os.path.join(top, build, "ticketsweep")})
    finally:
        os.chdir(cwd)
    return ("FAIL" if errs else "ok"), log + "".join(f"CHECK: {e}\n" for e in errs)


def main(top, w, build):
    global TOP
    TOP = top
    have_octave = shutil.which("octave") is not None
    pages = [os.path.join(top, "README.md")] + sorted(glob.glob(os.path.join(top, "docs", "*.md")))
    found = [b for page in pages for b in blocks(page)]
    runnable = [(where, line, lang, code) for where, line, lang, code in found if lang in RUN]
    failed, seen = 0, set()
    for n, (where, line, lang, code) in enumerate(runnable):
        which = find_check(lang, code)
        if which is None:
            print(f"FAIL {where} ({lang}): no check in tests/test_readme_examples.sh "
                  "knows this example; add one")
            failed += 1
            continue
        seen.add(which)
        runs = [("demo.h5", code)]
        if lang == "python" and re.search(r"^\s*# (\w+ = r\.weights\(.*)$", code, re.M):
            # the commented weights line too, on a file that has the weights
            runs.append(("demo_w.h5", re.sub(r"^(\s*)# (\w+ = r\.weights\(.*)$", r"\1\2", code,
                                             flags=re.M)))
        for h5name, c in runs:
            status, log = run_block(f"{n}{h5name[4:-3]}", line, lang, c, which, top, w, build,
                                    h5name, have_octave)
            print(f"{status:4}  {where} ({lang}, on {h5name})")
            if status == "FAIL":
                failed += 1
                print("    | " + "\n    | ".join(log.rstrip().splitlines()[-25:]))
            elif status == "skip":
                print(f"      skipped: {log}")
    others = sorted({lang for _, _, lang, _ in found if lang not in RUN})
    print(f"{len(runnable)} runnable blocks ({len(found)} fenced; not run: {others or 'none'})")
    missing = [CHECKS[i][0] for i in range(len(CHECKS)) if i not in seen]
    if missing:
        print(f"FAIL: README and docs/ have no block matching {missing}: an example was removed or its "
              "check is stale")
        failed += 1
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    if sys.argv[1] == "--python":
        python_block(sys.argv[2], sys.argv[3])
    else:
        main(*sys.argv[1:4])
PYEOF

# tests/masks_h5.py for the checks (the blocks and their checks run in child processes)
PYTHONPATH=$TOP/tests "$W/venv/bin/python" "$W/examples.py" "$TOP" "$W" "$BUILD" || fail "README examples"
echo "README examples: ok"
