#!/bin/sh
# [output] curves = trainings: the learning curves a row per distinct training
# (/nodes/curves, results format 5) instead of a row per cell, round and arm
# (/curves, /controls/<arm>/curves), on the tiny job with more rounds (cells
# share their trainings):
#   - the file is format 5 and has no per-cell curves; every cell's curve,
#     taken from its training's row through /trials/nodes, is the per-cell
#     file's row bit for bit (NaN included), every arm and metric; the rest
#     of the data (summaries, masks, /instability) is the same;
#   - the same data on 3 ranks, after a fault and --resume, through shards
#     and merge (same_anyhow);
#   - the file is smaller, and --dry-run's estimate of it too;
#   - the Python reader's curves() and the Octave loader's r.curves give the
#     cells' curves from it, equal to the per-cell file's.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
sed -i 's/^rounds = .*/rounds = 1, 2, 3, 4/' "$W/job.ini"
cat >>"$W/job.ini" <<'EOF'
[analysis]
copies = 2
interpolation = 3
EOF
sed 's/^\[analysis\]/[output]\ncurves = trainings\n[analysis]/' "$W/job.ini" >"$W/tr.ini"

"$TS" run "$W/job.ini" -o "$W/cells.h5" 2>"$W/log" || { cat "$W/log"; fail "run, curves per cell"; }
"$TS" run "$W/tr.ini" -o "$W/tr.h5" 2>"$W/log" || { cat "$W/log"; fail "run, curves per training"; }
[ "$(h5_attr "$W/tr.h5" format_version)" = 5 ] && [ "$(h5_attr "$W/cells.h5" format_version)" = 3 ] ||
    fail "format versions: $(h5_attr "$W/tr.h5" format_version) and $(h5_attr "$W/cells.h5" format_version)"

"$PY" - "$W/cells.h5" "$W/tr.h5" "$TOP/tests" <<'PY' || fail "curves per training"
import sys
import h5py
import numpy as np
sys.path.insert(0, sys.argv[3])
from pycheck import check, done

a, b = h5py.File(sys.argv[1], "r"), h5py.File(sys.argv[2], "r")
arms = ("ticket", "reinit", "random")
check(sorted(b["curves"]) == ["iteration"] and "controls/reinit/curves" not in b,
      f"per-cell curves in the per-training file: {sorted(b['curves'])}")
tn = b["trials/nodes"][:]
N = len(b["nodes/arm"])
for m in ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc"):
    rows = b["nodes/curves/" + m][:]
    check(rows.shape == (N, len(b["curves/iteration"])), f"/nodes/curves/{m}: shape {rows.shape}")
    for i, arm in enumerate(arms):
        x = tn[:, i, :]
        cells = np.where((x >= 0)[..., None], rows[np.maximum(x, 0)], np.float32(np.nan)).astype(np.float32)
        want = a[("" if arm == "ticket" else f"controls/{arm}/") + "curves/" + m][:]
        check(np.array_equal(cells.view(np.uint32), want.view(np.uint32)), f"{arm} {m}: a cell's curve differs")
done()
PY
for p in /summary /controls/reinit/summary /controls/random/summary /nodes/mask /instability /trials/nodes; do
    h5diff -q "$W/cells.h5" "$W/tr.h5" $p $p || fail "$p differs between the two layouts"
done

same_anyhow "$W/tr.h5" "$W/tr.ini"

small=$(stat -c %s "$W/tr.h5") big=$(stat -c %s "$W/cells.h5")
[ "$small" -lt "$big" ] || fail "per training $small bytes, per cell $big"
est() { "$TS" run "$1" -o "$W/est.h5" --dry-run 2>&1 | sed -n 's/^results file: about \([0-9.e+]*\) MB.*/\1/p'; }
"$PY" -c 'import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); sys.exit(not a < b)' "$(est "$W/tr.ini")" \
    "$(est "$W/job.ini")" || fail "--dry-run: the file estimate is not smaller ($(est "$W/tr.ini") MB, $(est "$W/job.ini") MB)"
"$TS" status "$W/tr.h5" >"$W/st" 2>&1 || { cat "$W/st"; fail "status"; }

# the readers give the cells' curves
"$PY" - "$W/cells.h5" "$W/tr.h5" "$TOP/tools/python:$TOP/tests" <<'PY' || fail "the Python reader"
import sys
for p in sys.argv[3].split(":"):
    sys.path.insert(0, p)
import numpy as np
import ticketsweep
from pycheck import check, done

a, b = ticketsweep.load(sys.argv[1]), ticketsweep.load(sys.argv[2])
for arm in ("ticket", "reinit", "random"):
    for m in ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc"):
        ca, cb = a.curves(arm, m), b.curves(arm, m)
        check(ca.shape == cb.shape and np.array_equal(ca.view(np.uint32), cb.view(np.uint32)),
              f"curves({arm}, {m}) differ")
s1, s2 = a.summary("ticket"), b.summary("ticket")
check(np.array_equal(s1, s2), "summary() differs")
check(np.array_equal(a.test_points("reinit"), b.test_points("reinit")), "test_points() differ")
done()
PY
if command -v octave >/dev/null 2>&1; then
    octave --no-gui --quiet --eval "
      addpath('$TOP/tools/octave');
      a = load_ticketsweep('$W/cells.h5'); b = load_ticketsweep('$W/tr.h5');
      assert(b.format_version == 5);
      for arm = {'ticket', 'reinit', 'random'}
        for m = {'train_loss', 'val_loss', 'val_acc', 'test_loss', 'test_acc'}
          x = a.curves.(arm{1}).(m{1}); y = b.curves.(arm{1}).(m{1});
          d = a.trials.status == 1;   % rows of cells not done are undefined in either
          assert(isequal(size(x), size(y)) && isequaln(x(:, :, d), y(:, :, d)), [arm{1} ' ' m{1}]);
        end
      end
      disp('octave ok');" >"$W/oct" 2>&1
    grep -q "octave ok" "$W/oct" || { cat "$W/oct"; fail "load_ticketsweep.m: curves per training"; }
fi
exit 0
