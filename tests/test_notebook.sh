#!/bin/sh
# test_notebook.sh - tools/python/examples/analysis.ipynb, executed with
# nbconvert (the kernel: Debian's python3 with the package installed as pip
# puts it, --target) on two fresh small results files: a crossed sweep with
# both controls and a per_round sweep with the reinit control. Every cell
# runs (nbconvert fails on a cell error: a copy with a planted error shows
# it does); the notebook draws the three figures of the report and the
# xarray learning curve (PNGs that decode to real sizes); it says the file's
# trial counts and the binary's version; its summary table has the rows of
# lth_report's summary.csv; its claims cell gives the claim tables for the
# per_round job and says why there are none for the crossed one. The
# notebook is kept in the repository without outputs.
. "$(dirname "$0")/lib.sh"
[ -x "$TS" ] || fail "$TS is missing: run make first"
"$PY" -c 'import nbformat, nbconvert, ipykernel, xarray' 2>/dev/null ||
    fail "python3-nbconvert, python3-ipykernel or python3-xarray is not installed (make deps installs them)"
NB=$TOP/tools/python/examples/analysis.ipynb
export PYTHONDONTWRITEBYTECODE=1 HOME="$W/home" MPLBACKEND=
mkdir -p "$HOME"

"$PY" - "$NB" <<'PY' || fail "the notebook in the repository"
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nbformat.validate(nb)
dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
assert not dirty, f"cells {dirty} keep outputs: clear them before committing"
PY

"$PY" -m pip install --quiet --no-build-isolation --no-index --no-deps --target "$W/pkg" "$TOP/tools/python" \
    >"$W/pip.log" 2>&1 || { cat "$W/pip.log"; fail "pip install --target"; }
export PYTHONPATH="$W/pkg"

small_data "$W/data"
tiny_job "$W/job.ini" "$W/data"
"$TS" run "$W/job.ini" -o "$W/r.h5" >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "run"; }
"$TS" run "$W/job.ini" -o "$W/pr.h5" --set sweep.rates= --set sweep.per_round=0.3 --set sweep.rounds=3 \
    --set prune.controls=reinit >"$W/run.log" 2>&1 || { cat "$W/run.log"; fail "run per_round"; }
version=$("$TS" --version | awk '{print $2}')

for n in r pr; do
    TICKETSWEEP_RESULTS="$W/$n.h5" "$PY" -m nbconvert --to notebook --execute \
        --ExecutePreprocessor.timeout=600 "$NB" --output-dir "$W" --output "run_$n.ipynb" \
        >"$W/nb_$n.log" 2>&1 || { tail -n 30 "$W/nb_$n.log"; fail "the notebook failed on $n.h5"; }
    "$PY" -m ticketsweep.report "$W/$n.h5" -o "$W/rep_$n" --format png >/dev/null 2>&1 || fail "lth_report $n.h5"
    "$PY" - "$W/run_$n.ipynb" "$W/$n.h5" "$W/rep_$n/summary.csv" "$version" "$n" <<'PY' ||
import base64, csv, struct, sys
import h5py, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
f = h5py.File(sys.argv[2], "r")
rows = list(csv.reader(open(sys.argv[3])))
version, name = sys.argv[4], sys.argv[5]
errors = []
outs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
if [o for o in outs if o.output_type == "error"]:
    errors.append("an error output")
pngs = [o.data["image/png"] for o in outs if "data" in o and "image/png" in o.data]
for p in pngs:
    raw = base64.b64decode(p)
    w, h = struct.unpack(">II", raw[16:24]) if raw[:8] == b"\x89PNG\r\n\x1a\n" else (0, 0)
    if w < 200 or h < 150:
        errors.append(f"a figure of {w}x{h} pixels")
if len(pngs) != 4:
    errors.append(f"{len(pngs)} figures, want 4 (three of the report, the xarray curve)")
text = "".join(o.get("text", "") for o in outs if o.output_type == "stream")
st = f["trials/status"][:]
if f"{len(st)} trials ({(st == 1).sum()} done)" not in text or f"package {version}" not in text:
    errors.append(f"the first cell does not say the trials and version {version}: {text[:200]!r}")
html = [o.data["text/html"] for o in outs if "data" in o and "text/html" in o.data]
summary = [h for h in html if "weights_remaining_pct" in h]
if len(summary) != 1 or summary[0].count("<tr") != len(rows):
    errors.append(f"the summary table has not the {len(rows) - 1} rows of summary.csv")
claims = [h for h in html if "claims" in h]
want = "4. ticket against reinit" if name == "pr" else "this job is not one"
if len(claims) != 1 or want not in claims[0]:
    errors.append(f"the claims cell does not say {want!r}")
if len([h for h in html if "weights_remaining_pct" not in h and "<th>weights_remaining</th>" in h
        and "<th>mean</th>" in h and "<th>std</th>" in h]) != 1:
    errors.append("no xarray mean/std table")
for e in errors:
    print(f"FAIL ({name}):", e)
sys.exit(1 if errors else 0)
PY
    fail "the executed notebook on $n.h5"
done

# a cell that fails fails the run
"$PY" - "$NB" "$W/planted.ipynb" <<'PY' || fail "could not plant an error"
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
nb.cells.insert(3, nbformat.v4.new_code_cell('raise RuntimeError("planted error")'))
nbformat.write(nb, sys.argv[2])
PY
if TICKETSWEEP_RESULTS="$W/r.h5" "$PY" -m nbconvert --to notebook --execute "$W/planted.ipynb" \
    --output-dir "$W" --output planted_out.ipynb >"$W/planted.log" 2>&1; then
    fail "nbconvert passed a notebook whose cell raises"
fi
grep -q "planted error" "$W/planted.log" || { tail -n 20 "$W/planted.log"; fail "no message for the planted error"; }
echo "notebook: ok"
