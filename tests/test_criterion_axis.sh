#!/bin/sh
# The criterion axis (sweep.criterion, docs/job-files.md) end to end, on the
# tiny job rewinding to 20 (the criteria that read w_init read the rewind
# point) with the reinit, random and snip arms, crossed with criterion =
# movement, magnitude, large_init_large_final (listed out of order: the axis
# is in prune.criterion's order):
#   - every cell of criterion c equals bit for bit the cell of the job with
#     prune.criterion = c alone (masks of every arm, summary, curves, the
#     rewind points; tests/axis_cells.py);
#   - a seed's round 0 is one training for every criterion: the trainings
#     are the one-criterion jobs' less (C - 1) round 0s a seed;
#   - /grid/criterion (the names, in that order), /trials/criterion in the
#     grid's order (rate, rounds, rewind, criterion, seed);
#   - the same data on 1 and 3 ranks, after a fault and --resume, through
#     shards and merge, and with the rewind axis crossed too (1 and 3 ranks);
#   - status names the axis;
#   - the readers: the ticketsweep package (r.criteria, each cell's
#     criterion, find(criterion=), a criterion column, to_xarray's
#     criterion dimension), lth_report (a line per criterion, the column in
#     summary.csv), load_ticketsweep.m (when Octave is installed).
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
sed -i 's/^controls = .*/controls = reinit, random, snip\nrewind_iteration = 20/' "$W/job.ini"
AX="--set sweep.criterion=movement,magnitude,large_init_large_final"
run() { out=$1; shift; "$TS" run "$W/job.ini" -o "$out" "$@" 2>"$W/log" || { cat "$W/log"; fail "run $out $*"; }; }

# --- a cell of criterion c is the job of c alone ---
# shellcheck disable=SC2086
run "$W/a1.h5" $AX
for c in magnitude movement large_init_large_final; do run "$W/c-$c.h5" --set prune.criterion=$c; done
[ "$(h5_attr "$W/a1.h5" format_version)" = 4 ] && [ "$(h5_attr "$W/c-movement.h5" format_version)" = 3 ] ||
    fail "format versions $(h5_attr "$W/a1.h5" format_version) (axis), $(h5_attr "$W/c-movement.h5" format_version) (one criterion)"
"$PY" "$(dirname "$0")/axis_cells.py" "$W/a1.h5" criterion "$W/c-magnitude.h5" "$W/c-movement.h5" \
    "$W/c-large_init_large_final.h5" || fail "a cell differs from its one-criterion job"

# --- the file: the axis, the cells' order, round 0 once a seed ---
"$PY" - "$W/a1.h5" "$W/c-magnitude.h5" "$W/c-movement.h5" "$W/c-large_init_large_final.h5" <<'PY' || fail "the file's layout"
import sys
import h5py
f = h5py.File(sys.argv[1], "r")
ones = [h5py.File(p, "r") for p in sys.argv[2:]]
bad = []
names = [b"magnitude", b"movement", b"large_init_large_final"]
if list(f["grid/criterion"][:]) != names:
    bad.append("grid/criterion %s" % f["grid/criterion"][:])
C, S, T = 3, 2, len(f["trials/status"])
for t in range(T):
    if f["trials/criterion"][t] != names[t // S % C] or f["trials/seed"][t] != f["grid/seeds"][t % S]:
        bad.append("cell %d's place" % t)
rnd, arm = f["nodes/round"][:], f["nodes/arm"][:]
if ((rnd == 0) & (arm == 0)).sum() != S:
    bad.append("round 0 trained %d times for %d seeds" % (((rnd == 0) & (arm == 0)).sum(), S))
want = sum(len(o["nodes/round"]) for o in ones) - (C - 1) * S
if len(rnd) != want:
    bad.append("%d trainings, the one-criterion jobs' less the shared round 0s: %d" % (len(rnd), want))
for b in bad:
    print("FAIL:", b)
sys.exit(1 if bad else 0)
PY

# --- ranks, a fault and --resume, shards and merge, both axes ---
# shellcheck disable=SC2086
same_anyhow "$W/a1.h5" "$W/job.ini" $AX
BOTH="--set sweep.criterion=magnitude,movement --set sweep.rewind=0,20,30 --set prune.rewind_iteration=0"
# shellcheck disable=SC2086
run "$W/b1.h5" $BOTH
# shellcheck disable=SC2086
mpirun_ts 3 run "$W/job.ini" -o "$W/b3.h5" $BOTH 2>"$W/log" || { cat "$W/log"; fail "both axes, -np 3"; }
same_data "$W/b1.h5" "$W/b3.h5" || fail "both axes: 1 and 3 ranks differ"
# a cell of both axes: the rewind axis's cell of its criterion alone
# shellcheck disable=SC2086
run "$W/bm.h5" --set sweep.rewind=0,20,30 --set prune.rewind_iteration=0 --set prune.criterion=movement
"$PY" - "$W/b1.h5" "$W/bm.h5" <<'PY' || fail "both axes: a movement cell differs from the rewind axis's job of movement"
import sys
import h5py
b, m = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
sel = [t for t in range(len(b["trials/status"])) if b["trials/criterion"][t] == b"movement"]
bad = len(sel) != len(m["trials/status"])
for u, t in enumerate(sel):  # the criterion axis is inside the rewind axis: the order is kept
    for g in ("summary/density", "summary/early_stop_test_acc", "summary/final_test_acc", "curves/val_loss",
              "controls/random/summary/final_test_acc"):
        bad |= b[g][t].tobytes() != m[g][u].tobytes() or b["trials/rewind"][t] != m["trials/rewind"][u]
print("both axes: %d movement cells %s" % (len(sel), "differ" if bad else "ok"))
sys.exit(1 if bad else 0)
PY

# --- status and the readers ---
"$TS" status "$W/a1.h5" >"$W/status" 2>&1 || { cat "$W/status"; fail "status"; }
grep -q "x criterion magnitude, movement, large_init_large_final x seeds" "$W/status" ||
    { cat "$W/status"; fail "status: the grid"; }
PYTHONPATH="$TOP/tools/python:$TOP/tests" "$PY" - "$W/a1.h5" "$W/c-movement.h5" <<'PY' || fail "the Python reader"
import sys
import numpy as np
import ticketsweep
from pycheck import check, done
r, one = ticketsweep.load(sys.argv[1]), ticketsweep.load(sys.argv[2])
check(r.criterion_axis and r.criteria == ["magnitude", "movement", "large_init_large_final"], "r.criteria %s" % r.criteria)
check(list(r.trials["criterion"]) == [x.decode() for x in r.file["trials/criterion"][:]], "trials['criterion']")
check(not one.criterion_axis and set(one.trials["criterion"]) == {"movement"}, "a one-criterion file's cells")
t = r.find(rate=0.8, rounds=2, seed=2, criterion="movement")
check(r.trial(t).criterion == "movement", "find(criterion=), trial(t).criterion")
check("criterion" in r.summary().dtype.names and "criterion" in r.table_columns, "summary/table: criterion column")
check("criterion" not in one.summary().dtype.names, "a file without the axis: no criterion column")
try:
    import xarray  # noqa: F401
    ds = r.to_xarray()
    check(list(ds["criterion"].values) == r.criteria, "to_xarray: criterion dimension")
    acc = ds.final_test_acc.sel(arm="ticket", criterion="movement", seed=2, rate=0.8, rounds=2).values
    check(np.array_equal(acc[:3], r.file["summary/final_test_acc"][t].astype(float)), "to_xarray: a cell's values")
except ImportError:
    print("(no xarray: to_xarray not checked)")
done()
PY
"$PY" "$TOP/tools/lth_report.py" "$W/a1.h5" -o "$W/rep" >"$W/rep.log" 2>&1 || { cat "$W/rep.log"; fail "lth_report"; }
head -1 "$W/rep/summary.csv" | grep -q "^arm,rounds,rate,criterion,round," || fail "lth_report: summary.csv has no criterion column"
[ "$(grep -c '^ticket,1,0.5,movement,' "$W/rep/summary.csv")" = 1 ] || { cat "$W/rep/summary.csv"; fail "lth_report: the movement cell"; }
if command -v octave >/dev/null 2>&1; then
    octave --no-gui --quiet --eval "
      addpath('$TOP/tools/octave');
      r = load_ticketsweep('$W/a1.h5');
      assert(isequal(r.grid.criterion(:)', {'magnitude', 'movement', 'large_init_large_final'}));
      assert(strcmp(r.trials.criterion{3}, 'movement') && numel(r.trials.criterion) == 24);
      o = load_ticketsweep('$W/c-movement.h5');
      assert(isequal(o.grid.criterion, {'movement'}) && all(strcmp(o.trials.criterion, 'movement')));
      disp('octave ok');" >"$W/oct" 2>&1
    grep -q "octave ok" "$W/oct" || { cat "$W/oct"; fail "load_ticketsweep.m: the criterion axis"; }
fi
echo "ok"
