#!/bin/sh
# [train] test_curve end to end: the tiny sweep run with test_curve = full and
# = early_stop (fully connected on the sparse kernels; a convolution on
# oneDNN where the build has it, under 2 ranks) holds the same /summary
# datasets, the same training-loss and validation curves, masks and trained
# weights, bit for bit; its test curves are NaN except at each training's
# early stop and last point, where they are full's bits. The readers say so:
# the ticketsweep package's test_curve and test_points, lth_report's curves figure
# (validation lines, test markers, a caption that says why), and
# load_ticketsweep.m's test_curve (when octave is installed), status. A resume with
# the other value is refused naming the key; a file made before the key
# reads as full. --dry-run prices the test set at two points.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
# a learning rate at which some validation losses turn up before the end:
# the early-stop copy is then evaluated (the test checks that it happened)
FAST="--set train.lr=0.1 --set train.eval_every=10 --set output.weights=final"
run() { out=$1; shift; "$TS" run "$W/job.ini" -o "$out" $FAST "$@" >"$W/log" 2>&1 ||
    { cat "$W/log"; fail "run $*"; }; }
run "$W/full.h5" --set train.kernels=sparse
run "$W/early.h5" --set train.kernels=sparse --set train.test_curve=early_stop
CONV="--set model.conv=4,pool --set train.iterations=40 $FAST"
mpirun_ts 2 run "$W/job.ini" -o "$W/cfull.h5" $CONV >"$W/log" 2>&1 || { cat "$W/log"; fail "conv, full"; }
mpirun_ts 2 run "$W/job.ini" -o "$W/cearly.h5" $CONV --set train.test_curve=early_stop >"$W/log" 2>&1 ||
    { cat "$W/log"; fail "conv, early_stop"; }

PYTHONPATH="$TOP/tests" "$PY" - "$W" "$TOP/tools/python" <<'PY' || fail "early_stop against full"
import sys
import h5py
import numpy as np
w, tools = sys.argv[1], sys.argv[2]
sys.path.insert(0, tools)
import ticketsweep
from pycheck import check, done
same = lambda a, b: a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
for full, early in (("full", "early"), ("cfull", "cearly")):
    n_before = 0
    f, e = h5py.File(f"{w}/{full}.h5", "r"), h5py.File(f"{w}/{early}.h5", "r")
    it = f["curves/iteration"][:]
    check(same(f["nodes/weights"][:], e["nodes/weights"][:]), f"{early}: trained weights differ")
    for g in ("", "controls/reinit/", "controls/random/"):
        for k in ("density", "early_stop_iter", "early_stop_test_acc", "final_test_acc"):
            check(same(f[g + "summary/" + k][:], e[g + "summary/" + k][:]), f"{early}: {g}summary/{k} differs")
        for k in ("train_loss", "val_loss", "val_acc"):
            check(same(f[g + "curves/" + k][:], e[g + "curves/" + k][:]), f"{early}: {g}curves/{k} differs")
        for layer in f[g + "masks"] if g + "masks" in f else ():
            check(same(f[g + "masks/" + layer][:], e[g + "masks/" + layer][:]), f"{early}: {g}masks differ")
        es = f[g + "summary/early_stop_iter"][:]          # [T, R+1], -1 past a trial's rounds
        run = es >= 0
        at = (it[None, None, :] == es[:, :, None]) | (np.arange(len(it)) == len(it) - 1)[None, None, :]
        n_before += int(np.sum(run & (es != it[-1])))
        for k in ("test_loss", "test_acc"):
            cf, ce = f[g + "curves/" + k][:], e[g + "curves/" + k][:]
            keep = run[:, :, None] & at
            check(same(cf[keep], ce[keep]) and not np.isnan(ce[keep]).any(),
                  f"{early}: {g}{k} at the early stop and the end differs from full")
            check(np.isnan(ce[~keep]).all(), f"{early}: {g}{k} has values away from the early stop and the end")
            check(not np.isnan(cf[run]).any(), f"{full}: {g}{k}: full has NaN in a run")
    # the reader
    with ticketsweep.load(f"{w}/{early}.h5") as r, ticketsweep.load(f"{w}/{full}.h5") as rf:
        check(r.test_curve == "early_stop" and rf.test_curve == "full", f"test_curve {r.test_curve}, {rf.test_curve}")
        for arm in r.arms:
            check(np.array_equal(r.test_points(arm), ~np.isnan(r.curves(arm, "test_acc"))),
                  f"{early}: test_points({arm}) is not where the test curve has values")
            check(np.array_equal(rf.test_points(arm), ~np.isnan(rf.curves(arm, "test_acc"))),
                  f"{full}: test_points({arm}) is not where the test curve has values")
    check(n_before > 0, f"{full}: no training stopped before its last point: the copy went untested")
    print(f"{full}: {n_before} early stops before the last point")
done()
PY

# the report: validation lines, test markers, a caption that says why
PYTHONPATH="$TOP/tools/python" "$PY" -m ticketsweep.report "$W/early.h5" -o "$W/rep" --format svg >"$W/rep.log" 2>&1 ||
    { cat "$W/rep.log"; fail "lth_report on an early_stop file"; }
grep -q "^Validation accuracy during training.*test_curve = early_stop.*markers give the test accuracy" \
    "$W/rep/captions.md" || { cat "$W/rep/captions.md"; fail "captions.md does not say what curves.svg shows"; }
"$PY" - "$W" "$TOP/tools/python" <<'PY' || fail "curves figure of an early_stop file"
import sys
import numpy as np
w, tools = sys.argv[1], sys.argv[2]
sys.path.insert(0, tools)
import ticketsweep
from ticketsweep import report as lth_report
with ticketsweep.load(f"{w}/early.h5") as r:
    by_arm = {arm: lth_report.make_groups(r, arm, "cell", 2) for arm in r.arms}
    fig = lth_report.plot_curves(r, by_arm, 5, None, "minmax")
    bad = 0
    for ax, arm in zip(fig.axes, r.arms):
        lines = [l for l in ax.lines if l.get_linestyle() != "None"]
        marks = [l for l in ax.lines if l.get_linestyle() == "None"]
        # every line is a whole validation curve (no NaN), every marker a test accuracy there
        ok = lines and all(not np.isnan(l.get_ydata()).any() for l in lines) and len(marks) == 2 * len(lines)
        val = r.curves(arm, "val_acc") * 100
        ok = ok and all(np.nanmin(val) - 1e-9 <= l.get_ydata()[0] <= np.nanmax(val) + 1e-9 for l in lines)
        lo, hi = ax.get_ylim()
        ok = ok and all(lo <= m.get_ydata()[0] <= hi for m in marks)
        if not ok:
            print(f"FAIL: {arm}: {len(lines)} lines, {len(marks)} markers")
            bad += 1
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    if "test, early stop" not in labels or "test, end" not in labels:
        print("FAIL: legend", labels)
        bad += 1
sys.exit(1 if bad else 0)
PY

# MATLAB / Octave reader
if command -v octave >/dev/null 2>&1; then
    # the answer goes to a file: Octave 7 may print "error: ignoring const
    # execution_exception& while preparing to exit" on a headless exit
    octave --no-gui --quiet --norc --eval "addpath('$TOP/tools/octave'); a = load_ticketsweep('$W/early.h5'); \
        b = load_ticketsweep('$W/full.h5'); f = fopen('$W/oct', 'w'); \
        fprintf(f, '%s %s', a.test_curve, b.test_curve); fclose(f);" >"$W/octave.out" 2>&1 ||
        { cat "$W/octave.out"; fail "octave"; }
    [ "$(cat "$W/oct")" = "early_stop full" ] || fail "load_ticketsweep.m test_curve: $(cat "$W/oct")"
else
    echo "octave not installed: load_ticketsweep.m not checked"
fi

# status says it
"$TS" status "$W/early.h5" >"$W/status" 2>&1 || { cat "$W/status"; fail "status"; }
grep -q "schedule .*evaluated every 10 (the test set at the early stop and the end only" "$W/status" ||
    { cat "$W/status"; fail "status does not say test_curve = early_stop"; }

# a resume with the other value is refused, naming the key
"$TS" run "$W/job.ini" -o "$W/early.h5" --resume $FAST --set train.kernels=sparse >"$W/log" 2>&1
rc=$?
[ $rc -eq 2 ] || { cat "$W/log"; fail "resume of an early_stop file with full: exit $rc, not 2"; }
grep -q "train.test_curve (early_stop -> full)" "$W/log" || { cat "$W/log"; fail "the refusal does not name the key"; }
# a file from before the key: full
older_file "$W/full.h5" "$W/old.h5" test_curve
"$TS" run "$W/job.ini" -o "$W/old.h5" --resume $FAST --set train.kernels=sparse >"$W/log" 2>&1 ||
    { cat "$W/log"; fail "resume of a file made before the key"; }
"$PY" -c "import sys; sys.path.insert(0, '$TOP/tools/python'); import ticketsweep; assert ticketsweep.load('$W/old.h5').test_curve == 'full'" ||
    fail "ticketsweep package: a file from before the key is not full"

# --dry-run: the validation set at every point, the test set at two
"$TS" run "$W/job.ini" -o "$W/dry.h5" --dry-run --set train.test_curve=early_stop >"$W/dry" 2>&1 || { cat "$W/dry"; fail "dry run"; }
grep -q "^per training: .* 4 evaluations of the validation set at .*, 2 of the test set at" "$W/dry" &&
    grep -q "^evaluations: .*test_curve = full: .*, early_stop x0\.[0-9]* of it" "$W/dry" ||
    { cat "$W/dry"; fail "dry run of early_stop"; }
"$TS" run "$W/job.ini" -o "$W/dry.h5" --dry-run >"$W/dry" 2>&1 || { cat "$W/dry"; fail "dry run"; }
grep -q "^evaluations: .*test_curve = early_stop (.*): .*, x0\.[0-9]*$" "$W/dry" || { cat "$W/dry"; fail "dry run of full"; }
exit 0
