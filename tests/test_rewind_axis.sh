#!/bin/sh
# The rewind axis (sweep.rewind, docs/job-files.md) end to end, on the tiny
# job crossed with rewind = 0, 20, 30 (evaluated every 20: 30 joins the
# evaluation points), pruning by movement (whose w_init is each chain's
# rewind point), the reinit, random and snip arms, and the instability
# analysis (2 copies, 5 points a line):
#   - every cell of value k equals bit for bit the cell of the job with
#     prune.rewind_iteration = k alone (masks of every arm, summary, curves
#     at that job's points, /instability with round 0 analysed from k, and
#     the /rewind rows of k), under continue and under restart
#     (tests/axis_cells.py);
#   - a seed's round 0 is one training for the whole axis: the trainings
#     are the one-value jobs' less (K - 1) round 0s a seed;
#   - /grid/rewind, /trials/rewind in the grid's order (rate, rounds,
#     rewind, seed), /curves/iteration with every k, /rewind a row per
#     (seed, k);
#   - the same data on 1 and 3 ranks, 1 and 2 threads, after a fault and
#     --resume, and through shards and merge;
#   - status and --dry-run name the axis (the dry run prices each chain
#     from its own k);
#   - the readers: the ticketsweep package (r.rewinds, each cell's rewind,
#     find(rewind=), start_iteration(round, t), rewind(seed, k) equal to the
#     one-value files' /rewind, summary and CSV with a rewind column,
#     to_xarray's rewind dimension), lth_report (accuracy per k, rewind.png
#     and rewind.csv, instability_k.png), python3 -m ticketsweep.instability
#     on the one file giving the rows it gives on the three one-value files,
#     and load_ticketsweep.m (when Octave is installed).
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
sed -i 's/^controls = .*/controls = reinit, random, snip\ncriterion = movement/' "$W/job.ini"
cat >>"$W/job.ini" <<'EOF'
[analysis]
copies = 2
interpolation = 5
EOF
AX="--set sweep.rewind=0,20,30"
run() { out=$1; shift; "$TS" run "$W/job.ini" -o "$out" "$@" 2>"$W/log" || { cat "$W/log"; fail "run $out $*"; }; }

# --- a cell of k is the one-value job of k ---
# shellcheck disable=SC2086
run "$W/a1.h5" $AX
for k in 0 20 30; do run "$W/k$k.h5" --set prune.rewind_iteration=$k; done
# format 4 for the axis's file (a reader from before the axes refuses it), 3 for a job without
[ "$(h5_attr "$W/a1.h5" format_version)" = 4 ] && [ "$(h5_attr "$W/k20.h5" format_version)" = 3 ] ||
    fail "format versions $(h5_attr "$W/a1.h5" format_version) (axis), $(h5_attr "$W/k20.h5" format_version) (one k)"
"$PY" "$(dirname "$0")/axis_cells.py" "$W/a1.h5" rewind "$W/k0.h5" "$W/k20.h5" "$W/k30.h5" ||
    fail "continue: a cell differs from its one-value job"
# shellcheck disable=SC2086
run "$W/r1.h5" $AX --set prune.rewind_schedule=restart --set analysis.copies=0
for k in 0 20 30; do run "$W/rk$k.h5" --set prune.rewind_iteration=$k --set prune.rewind_schedule=restart --set analysis.copies=0; done
"$PY" "$(dirname "$0")/axis_cells.py" "$W/r1.h5" rewind "$W/rk0.h5" "$W/rk20.h5" "$W/rk30.h5" ||
    fail "restart: a cell differs from its one-value job"

# --- the file: the axis, the cells' order, round 0 once a seed ---
PYTHONPATH="$TOP/tests" "$PY" - "$W/a1.h5" "$W/k0.h5" "$W/k20.h5" "$W/k30.h5" "$W/r1.h5" <<'PY' || fail "the file's layout"
import sys
import h5py
import numpy as np
from pycheck import check, done
f = h5py.File(sys.argv[1], "r")
ones = [h5py.File(p, "r") for p in sys.argv[2:5]]
restart = h5py.File(sys.argv[5], "r")
K, S = 3, 2
check(list(f["grid/rewind"][:]) == [0, 20, 30], "grid/rewind %s" % f["grid/rewind"][:])
rates, rounds, seeds = f["grid/rates"][:], f["grid/rounds"][:], f["grid/seeds"][:]
T = len(rates) * len(rounds) * K * S
check(len(f["trials/rewind"]) == T, "trials/rewind has %d cells, want %d" % (len(f["trials/rewind"]), T))
for t in range(T):  # rate-major, then rounds, then rewind, then seed
    s, k, n, r = t % S, t // S % K, t // (S * K) % len(rounds), t // (S * K * len(rounds))
    check(f["trials/seed"][t] == seeds[s] and f["trials/rewind"][t] == [0, 20, 30][k] and
          f["trials/rounds"][t] == rounds[n] and f["trials/rate"][t] == rates[r], "cell %d's place" % t)
check(list(f["curves/iteration"][:]) == [0, 20, 30, 40, 60], "continue: points %s" % f["curves/iteration"][:])
check(list(restart["curves/iteration"][:]) == [0, 20, 40, 60], "restart: points %s" % restart["curves/iteration"][:])
rnd, arm = f["nodes/round"][:], f["nodes/arm"][:]
check(((rnd == 0) & (arm == 0)).sum() == S, "round 0 trained %d times for %d seeds" % (((rnd == 0) & (arm == 0)).sum(), S))
want = sum(len(o["nodes/round"]) for o in ones) - (K - 1) * S
check(len(rnd) == want, "%d trainings, the one-value jobs' less the shared round 0s: %d" % (len(rnd), want))
check(f["rewind/fc1/weight"].shape[0] == S * K, "/rewind rows %d, want seeds x rewind points" % f["rewind/fc1/weight"].shape[0])
check((f["trials/status"][:] == 1).all(), "not every cell done")
v = f["instability/value"][:, 0, 0]
check(np.isfinite(v).all() and len(set(v[f["trials/seed"][:] == seeds[0]])) == K,
      "round 0's instability: one value a k (%s)" % v)
done()
PY

# --- ranks, threads, a fault and --resume, shards and merge ---
# shellcheck disable=SC2086
same_anyhow "$W/a1.h5" "$W/job.ini" $AX
# shellcheck disable=SC2086
run "$W/t2.h5" $AX --threads 2
same_data "$W/a1.h5" "$W/t2.h5" || fail "1 and 2 threads differ"

# --- status and --dry-run ---
"$TS" status "$W/a1.h5" >"$W/status" 2>&1 || { cat "$W/status"; fail "status"; }
grep -q "x rewind 0, 20, 30 x seeds" "$W/status" || { cat "$W/status"; fail "status: the grid"; }
grep -q "rewound to each iteration of sweep.rewind = 0, 20, 30" "$W/status" || { cat "$W/status"; fail "status: the schedule"; }
# shellcheck disable=SC2086
"$TS" run "$W/job.ini" $AX --dry-run >"$W/dry" 2>&1 || { cat "$W/dry"; fail "--dry-run"; }
grep -q "cells: 24 " "$W/dry" || { cat "$W/dry"; fail "--dry-run: the cells"; }
grep -q "per training of a later round of its chain: .* (30 steps from the rewind point 30, 3 evaluations)" "$W/dry" &&
    grep -q "(40 steps from the rewind point 20, 4 evaluations)" "$W/dry" ||
    { cat "$W/dry"; fail "--dry-run: each chain's later rounds"; }

# --- the readers ---
PYTHONPATH="$TOP/tools/python:$TOP/tests" "$PY" - "$W/a1.h5" "$W/k0.h5" "$W/k20.h5" "$W/k30.h5" <<'PY' || fail "the Python reader"
import sys
import numpy as np
import ticketsweep
from pycheck import check, done
r = ticketsweep.load(sys.argv[1])
ones = [ticketsweep.load(p) for p in sys.argv[2:]]
check(r.rewind_axis and list(r.rewinds) == [0, 20, 30], "r.rewinds %s" % r.rewinds)
check(list(r.trials["rewind"]) == list(r.file["trials/rewind"][:]), "trials['rewind']")
check(not ones[1].rewind_axis and (ones[1].trials["rewind"] == 20).all(), "a one-value file's cells: k 20")
t = r.find(rate=0.8, rounds=2, seed=2, rewind=30)
check(r.trial(t).rewind == 30 and r.start_iteration(1, t) == 30 and r.start_iteration(0, t) == 0,
      "find(rewind=30), trial(t).rewind, start_iteration(1, t)")
try:
    r.find(rate=0.8, rounds=2, seed=2)
    check(False, "find without rewind found one of three cells")
except ValueError as e:
    check("rewind" in str(e), "find's message names rewind: %s" % e)
for k, one in zip((20, 30), ones[1:]):
    for seed in (1, 2):
        a, b = r.rewind(seed, k), one.rewind(seed)
        check(all(np.array_equal(a[l][0], b[l][0]) and np.array_equal(a[l][1], b[l][1]) for l in a),
              "rewind(%d, %d) differs from the one-value file's" % (seed, k))
check("rewind" in r.summary().dtype.names and r.table_columns[3] == "rewind", "summary/table: rewind column")
check("rewind" not in ones[0].summary().dtype.names and "rewind" not in ones[0].table_columns,
      "a file without the axis: no rewind column")
try:
    import xarray  # noqa: F401
    ds = r.to_xarray()
    check(ds.sizes["rewind"] == 3 and list(ds["rewind"].values) == [0, 20, 30], "to_xarray: rewind dimension")
    acc = ds.early_stop_test_acc.sel(arm="ticket", rewind=30, seed=2, rate=0.8, rounds=2).values
    check(np.array_equal(acc[:3], r.file["summary/early_stop_test_acc"][t].astype(float)), "to_xarray: a cell's values")
except ImportError:
    print("(no xarray: to_xarray not checked)")
done()
PY
"$PY" "$TOP/tools/lth_report.py" "$W/a1.h5" -o "$W/rep" >"$W/rep.log" 2>&1 || { cat "$W/rep.log"; fail "lth_report"; }
for x in rewind.png rewind.csv instability_k.png accuracy.png instability.csv; do
    [ -s "$W/rep/$x" ] || fail "lth_report wrote no $x"
done
grep -q "^## rewind.png" "$W/rep/captions.md" || fail "lth_report: no caption of rewind.png"
head -1 "$W/rep/summary.csv" | grep -q "^arm,rounds,rate,rewind,round," || fail "lth_report: summary.csv has no rewind column"
# arms.csv: a row per ticket group of summary.csv (so one per k), the rewind column beside rate
head -1 "$W/rep/arms.csv" | grep -q "^rounds,rate,rewind,round,weights_remaining_pct,n_seeds,ticket_es_acc," ||
    fail "lth_report: arms.csv has no rewind column: $(head -1 "$W/rep/arms.csv")"
[ "$(($(wc -l <"$W/rep/arms.csv") - 1))" = "$(grep -c "^ticket," "$W/rep/summary.csv")" ] ||
    fail "lth_report: arms.csv's rows are not summary.csv's ticket groups"
[ "$(grep -c '^ticket,' "$W/rep/rewind.csv")" -ge 6 ] || { cat "$W/rep/rewind.csv"; fail "rewind.csv: too few rows"; }
grep -q "for each k of the rewind axis (0, 20, 30" "$W/rep/captions.md" || fail "lth_report: the captions do not name the axis"
PYTHONPATH="$TOP/tools/python" "$PY" -m ticketsweep.instability "$W/a1.h5" >"$W/one.csv" 2>"$W/k.log" ||
    { cat "$W/k.log"; fail "ticketsweep.instability on the axis's file"; }
PYTHONPATH="$TOP/tools/python" "$PY" -m ticketsweep.instability "$W/k0.h5" "$W/k20.h5" "$W/k30.h5" >"$W/three.csv" 2>"$W/k.log" ||
    { cat "$W/k.log"; fail "ticketsweep.instability on the one-value files"; }
cmp -s "$W/one.csv" "$W/three.csv" || { diff "$W/one.csv" "$W/three.csv" | head; fail "ticketsweep.instability: one file and three differ"; }
[ "$(cut -d, -f1 "$W/one.csv" | sort -u | tr '\n' ' ')" = "0 20 30 k " ] || { cat "$W/one.csv"; fail "ticketsweep.instability: the ks"; }
if command -v octave >/dev/null 2>&1; then
    octave --no-gui --quiet --eval "
      addpath('$TOP/tools/octave');
      r = load_ticketsweep('$W/a1.h5');
      assert(r.grid.rewind_axis && isequal(r.grid.rewind(:)', [0 20 30]));
      assert(isequal(r.trials.rewind(:)', repmat([0 0 20 20 30 30], 1, 4)));
      assert(size(r.rewind.fc1.weight, 3) == 2 * 3);
      o = load_ticketsweep('$W/k20.h5');
      assert(~o.grid.rewind_axis && o.grid.rewind == 20 && all(o.trials.rewind == 20));
      assert(isequal(r.rewind.fc1.weight(:, :, 2), o.rewind.fc1.weight(:, :, 1)));
      disp('octave ok');" >"$W/oct" 2>&1
    grep -q "octave ok" "$W/oct" || { cat "$W/oct"; fail "load_ticketsweep.m: the rewind axis"; }
fi
echo "ok"
