#!/bin/sh
# The instability analysis ([analysis] copies, docs/job-files.md) end to end,
# on the tiny job with copies = 2 and 5 points a line:
#   - the data are the same on 1 and 3 ranks, on 1 and 2 threads, after a
#     failure and --resume, and through shards and merge, and on 1 and 3
#     ranks with every other arm as well (which leaves /instability as it is);
#   - copy 0 is the sweep's own training: the ticket's curves, summary and
#     masks equal a run without the analysis;
#   - /instability: alpha, data_seed, and for every done trial and round the
#     line's alpha-0 point equals the curves' last point bit for bit (test
#     error = 1 - test_acc as float32, test loss, validation error), value =
#     largest test error - the mean of the endpoints', NaN past a trial's
#     rounds; copies given the same data-order seed: instability exactly 0,
#     also with rewinding;
#   - status and --dry-run say it (the dry run prices the copies and lines);
#   - the readers: r.instability() and instability_summary(), lth_report's
#     instability and interpolation figures, instability against k from a
#     file per k (python3 -m ticketsweep.instability), load_ticketsweep.m
#     (when Octave is installed).
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
cat >>"$W/job.ini" <<'EOF'
[analysis]
copies = 2
interpolation = 5
EOF
run() { out=$1; shift; "$TS" run "$W/job.ini" -o "$out" "$@" 2>"$W/log" || { cat "$W/log"; fail "run $out $*"; }; }

run "$W/a1.h5"
mpirun_ts 3 run "$W/job.ini" -o "$W/a3.h5" 2>"$W/log" || { cat "$W/log"; fail "run -np 3"; }
same_data "$W/a1.h5" "$W/a3.h5" || fail "1 and 3 ranks differ"
run "$W/t2.h5" --threads 2
same_data "$W/a1.h5" "$W/t2.h5" || fail "1 and 2 threads differ"

# a failure mid-sweep, then --resume: the data of the uninterrupted run
rm -f "$W/f.h5"
TICKETSWEEP_FAULT=store_write_node:1:3 timeout 120 mpirun --oversubscribe --bind-to none -np 2 \
    "$TS" run "$W/job.ini" -o "$W/f.h5" 2>"$W/err" && fail "exit 0 after an injected fault"
[ "$(statuses "$W/f.h5")" != 11111111 ] || fail "every cell done although the run failed"
mpirun_ts 2 run "$W/job.ini" -o "$W/f.h5" --resume 2>"$W/log" || { cat "$W/log"; fail "resume"; }
same_data "$W/a1.h5" "$W/f.h5" || fail "resumed data differ from an uninterrupted run"

# with every other arm too (issue 25's): the same bits on 1 and 3 ranks, and
# the ticket's analysis the same as without them
sed 's/^controls = .*/controls = reinit, random, signed_reinit, reshuffle, signed_constant, snip, synflow, magnitude_init, grasp/' \
    "$W/job.ini" >"$W/arms.ini"
"$TS" run "$W/arms.ini" -o "$W/arms1.h5" 2>"$W/log" || { cat "$W/log"; fail "every arm, one rank"; }
mpirun_ts 3 run "$W/arms.ini" -o "$W/arms3.h5" 2>"$W/log" || { cat "$W/log"; fail "every arm, 3 ranks"; }
same_data "$W/arms1.h5" "$W/arms3.h5" || fail "every arm: 1 and 3 ranks differ"
h5diff -q "$W/a1.h5" "$W/arms1.h5" /instability /instability || fail "the other arms changed the analysis"

# shards and merge carry /instability
run "$W/s0.h5" --shard 0/2
run "$W/s1.h5" --shard 1/2
"$TS" merge "$W/m.h5" "$W/s0.h5" "$W/s1.h5" 2>"$W/log" || { cat "$W/log"; fail "merge"; }
same_data "$W/a1.h5" "$W/m.h5" || fail "merged shards differ from one run"

# copy 0 is the training of a job without the analysis
run "$W/plain.h5" --set analysis.copies=0
for p in /curves /summary /nodes/mask /controls; do
    h5diff -q "$W/plain.h5" "$W/a1.h5" $p $p || fail "$p differs from a run without the analysis"
done

# the same data-order seed twice: flat lines (and with rewinding, where round
# 0's copies share its first 30 steps)
run "$W/same.h5" --set analysis.data_seeds=0,0
run "$W/same-rw.h5" --set analysis.data_seeds=0,0 --set prune.rewind_iteration=30
run "$W/rw.h5" --set prune.rewind_iteration=30

PYTHONPATH="$TOP/tests" "$PY" - "$W/a1.h5" "$W/same.h5" "$W/same-rw.h5" "$W/rw.h5" "$TOP/tools/python" <<'PY' || fail "/instability"
import sys
import h5py
import numpy as np
sys.path.insert(0, sys.argv[5])
import ticketsweep
from pycheck import check, done
def bits(a, b):
    return np.array_equal(np.asarray(a, np.float32).view(np.uint32), np.asarray(b, np.float32).view(np.uint32))
for path in sys.argv[1:5]:
    f = h5py.File(path, "r")
    i = f["instability"]
    check(np.array_equal(i["alpha"][:], np.arange(5) / 4.0), f"{path}: alpha {i['alpha'][:]}")
    seeds = [0, 0] if "same" in path else [0, 1]
    check(list(i["data_seed"][:]) == seeds, f"{path}: data_seed {i['data_seed'][:]}")
    T, R1 = f["trials/status"].shape[0], f["curves/test_acc"].shape[1]
    check(i["test_error"].shape == (T, R1, 1, 5) and i["value"].shape == (T, R1, 1), f"{path}: shapes")
    check((f["trials/status"][:] == 1).all(), f"{path}: not every trial done")
    one = np.float32(1)
    for t, n in enumerate(f["trials/rounds"][:]):
        for k in range(R1):
            te, tl, ve = (i[m][t, k, 0] for m in ("test_error", "test_loss", "val_error"))
            v = i["value"][t, k, 0]
            if k > n:
                check(np.isnan(te).all() and np.isnan(v), f"{path}: trial {t} round {k}: not NaN past the rounds")
                continue
            check(bits(te[0], one - f["curves/test_acc"][t, k, -1]), f"{path}: trial {t} round {k}: alpha 0 test error")
            check(bits(tl[0], f["curves/test_loss"][t, k, -1]), f"{path}: trial {t} round {k}: alpha 0 test loss")
            check(bits(ve[0], one - f["curves/val_acc"][t, k, -1]), f"{path}: trial {t} round {k}: alpha 0 val error")
            check(bits(v, te.max() - np.float32(0.5) * (te[0] + te[-1])), f"{path}: trial {t} round {k}: value {v}")
            if "same" in path:
                check(v == 0 and all(bits(x[1:], np.repeat(x[0], 4)) for x in (te, tl, ve)),
                      f"{path}: trial {t} round {k}: same seeds, line not flat (value {v})")
            else:
                check(not bits(tl[0], tl[-1]), f"{path}: trial {t} round {k}: the copies end on the same loss")
    with ticketsweep.load(path) as r:
        ins = r.instability()
        check(r.copies == 2 and ins.pairs == [(0, 1)], f"{path}: reader: copies {r.copies}, pairs {ins.pairs}")
        check(bits(ins.value, i["value"][:]), f"{path}: reader: value")
        s = r.instability_summary()
        check(len(s) == int((r.trials["rounds"] + 1).sum()), f"{path}: instability_summary has {len(s)} rows")
        check(bits(s["value"], i["value"][:][s["trial"], s["round"], 0]), f"{path}: instability_summary values")
done()
PY

"$TS" status "$W/a1.h5" >"$W/status" 2>&1 || { cat "$W/status"; fail "status"; }
grep -q "analysis  instability: 2 copies of every ticket training (data-order seeds 0, 1), 5 points" "$W/status" ||
    { cat "$W/status"; fail "status: the analysis"; }
"$TS" run "$W/job.ini" --dry-run >"$W/dry" 2>&1 || { cat "$W/dry"; fail "--dry-run"; }
grep -q "instability analysis (analysis.copies = 2, interpolation = 5): 14 ticket trainings analysed, each with 1 more copy (14 trainings) and 5 evaluations" "$W/dry" ||
    { cat "$W/dry"; fail "--dry-run: the analysis' cost"; }

"$PY" "$TOP/tools/lth_report.py" "$W/a1.h5" -o "$W/rep" >"$W/rep.log" 2>&1 || { cat "$W/rep.log"; fail "lth_report"; }
for x in instability.png interpolation.png instability.csv; do
    [ -s "$W/rep/$x" ] || fail "lth_report wrote no $x"
done
grep -q "^## instability.png" "$W/rep/captions.md" || fail "lth_report: no caption of instability.png"

# instability against k, one file per k
PYTHONPATH="$TOP/tools/python" "$PY" -m ticketsweep.instability "$W/a1.h5" "$W/rw.h5" -o "$W/k.png" >"$W/k.csv" 2>"$W/k.log" ||
    { cat "$W/k.log"; fail "ticketsweep.instability"; }
[ -s "$W/k.png" ] || fail "ticketsweep.instability drew nothing"
grep -q "^0,100,2," "$W/k.csv" && grep -q "^30,100,2," "$W/k.csv" || { cat "$W/k.csv"; fail "ticketsweep.instability: rows"; }

if command -v octave >/dev/null 2>&1; then
    octave --no-gui --quiet --eval "
      addpath('$TOP/tools/octave');
      r = load_ticketsweep('$W/a1.h5');
      i = r.instability;
      assert(isequal(size(i.test_error), [5, 1, 3, 8]));
      assert(isequal(i.pairs, [0, 1]));
      assert(isequal(i.alpha, (0:4).' / 4));
      t = 3; k = 2;
      assert(i.test_error(1, 1, k+1, t) == single(1) - single(r.curves.ticket.test_acc(end, k+1, t)));
      assert(isnan(i.value(1, 3, 1)));
      disp('octave ok');" >"$W/oct" 2>&1
    grep -q "octave ok" "$W/oct" || { cat "$W/oct"; fail "load_ticketsweep.m: instability"; }
fi
exit 0
