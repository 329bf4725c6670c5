#!/bin/sh
# The arms beside reinit and random (graph.h), end to end on the tiny job:
#   - every arm at once: the same bytes on 1 rank and on 3 (a shared node
#     gives the same bits whichever rank ran it), with rewinding too;
#   - the ticket, reinit and random rows (their trainings' masks too) are
#     those of the job without the new arms (adding arms changes nothing of
#     the others);
#   - every arm has the ticket's density in every round; /trials/nodes is
#     [T, 10, R+1] (a job without grasp: [T, 9, R+1], as before grasp) and names trainings of the right arm; the sign controls have
#     no mask row (they train their twin's), pruning at initialisation has
#     its own, at the ticket's density;
#   - prune.pai_shuffle: the same bytes on 1 and 3 ranks, each pruning-at-
#     initialisation mask with the unshuffled one's count in every layer but
#     moved, the other arms untouched;
#   - a run stopped by a failing write resumes to the data of an
#     uninterrupted run;
#   - the run's context and status name the arms;
#   - the Python reader lists every arm, gives each its masks (pruning at
#     initialisation from /nodes/mask, at the ticket's counts), and
#     lth_report draws a line per arm and lists them in its table.
. "$(dirname "$0")/lib.sh"
export TICKETSWEEP_THREAD_MIN_WORK=0
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
ALL="reinit, random, signed_reinit, reshuffle, signed_constant, snip, synflow, magnitude_init, grasp"
set -- --set "prune.controls=$ALL" --set output.weights=final --set prune.synflow_iterations=10

"$TS" run "$W/job.ini" -o "$W/base.h5" --set output.weights=final 2>"$W/log" || { cat "$W/log"; fail "base run"; }
# a job of the arms before grasp keeps the file of before it: /trials/nodes [T, 9, R+1]
"$TS" run "$W/job.ini" -o "$W/v2.h5" --set "prune.controls=reinit, snip" 2>"$W/log" || { cat "$W/log"; fail "snip run"; }
"$PY" -c 'import h5py, sys; s = h5py.File(sys.argv[1], "r")["trials/nodes"].shape; assert s[1] == 9, s' "$W/v2.h5" ||
    fail "a job without grasp: /trials/nodes is not [T, 9, R+1]"
"$TS" run "$W/job.ini" -o "$W/all1.h5" "$@" 2>"$W/log" || { cat "$W/log"; fail "run of every arm"; }
grep -q "controls = $ALL" "$W/log" || { cat "$W/log"; fail "the context does not name the arms"; }
mpirun_ts 3 run "$W/job.ini" -o "$W/all3.h5" "$@" 2>"$W/log" || { cat "$W/log"; fail "-np 3"; }
same_data "$W/all1.h5" "$W/all3.h5" || fail "every arm: 1 and 3 ranks differ"
"$TS" status "$W/all1.h5" >"$W/status" 2>&1 || { cat "$W/status"; fail "status"; }
grep -q "controls $ALL" "$W/status" || { cat "$W/status"; fail "status does not name the arms"; }

"$PY" - "$W/all1.h5" "$W/base.h5" <<'PY' || fail "the arms' rows"
import sys
import h5py
import numpy as np
a, b = (h5py.File(f, "r") for f in sys.argv[1:])
arms = ["ticket", "reinit", "random", "signed_reinit", "reshuffle", "signed_constant", "snip", "synflow",
        "magnitude_init", "grasp"]
for p in ("curves/val_loss", "curves/test_acc", "summary/density", "summary/early_stop_iter",
          "controls/reinit/curves/val_loss", "controls/random/summary/early_stop_test_acc", "init/fc1/weight"):
    assert np.array_equal(a[p][:], b[p][:], equal_nan=True), p
# the ticket's and the random control's trainings (their masks too) are the first rows of the
# file without the new arms: the planner adds the new arms' twins after them, round by round
for arm_i in (0, 1, 2):
    xa, xb = a["trials/nodes"][:, arm_i], b["trials/nodes"][:, arm_i]
    ok = xa >= 0
    assert np.array_equal(ok, xb >= 0), arm_i
    ra, rb = a["nodes/mask_row"][:][xa[ok]], b["nodes/mask_row"][:][xb[ok]]
    assert np.array_equal(ra >= 0, rb >= 0), arm_i
    for i, j in zip(ra[ra >= 0], rb[rb >= 0]):
        assert np.array_equal(a["nodes/mask"][i], b["nodes/mask"][j]), (arm_i, i, j)
tn = a["trials/nodes"][:]
assert tn.shape[1] == len(arms) and b["trials/nodes"].shape[1] == 3, (tn.shape, b["trials/nodes"].shape)
arm, rnd, mrow = a["nodes/arm"][:], a["nodes/round"][:], a["nodes/mask_row"][:]
d = a["summary/density"][:]
W = sum(np.prod(a["init"][l]["weight"].shape[1:]) for l in a["init"])
for i, name in enumerate(arms[1:], 1):
    dd = a[f"controls/{name}/summary/density"][:]
    assert np.array_equal(dd, d, equal_nan=True), (name, dd, d)
    x = tn[:, i, 1:]
    x = x[x >= 0]
    assert len(x) and (arm[x] == i).all() and (tn[:, i, 0] == tn[:, 0, 0]).all(), name
    assert f"controls/{name}/masks" not in a, name  # format 3: the masks are the trainings' rows
    if name in ("reinit", "signed_reinit", "reshuffle", "signed_constant"):
        assert (mrow[x] == -1).all(), name
    if name in ("snip", "synflow", "magnitude_init", "grasp"):
        assert (mrow[x] >= 0).all(), name
        for t in range(tn.shape[0]):
            for k in range(1, a["trials/rounds"][t] + 1):
                bits = np.unpackbits(a["nodes/mask"][mrow[tn[t, i, k]]], bitorder="little")[:W]
                assert abs(bits.sum() / W - d[t, k]) < 1e-12, (name, t, k, bits.sum() / W, d[t, k])
# the sign controls differ from reinit and from one another
acc = {n: a[f"controls/{n}/curves/val_loss"][:] for n in arms[1:]}
for n in ("signed_reinit", "reshuffle", "signed_constant"):
    assert not np.array_equal(acc[n], acc["reinit"], equal_nan=True), n
PY

export PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$TOP/tools/python
"$PY" - "$W/all1.h5" <<'PY' || fail "the reader"
import sys
import numpy as np
import ticketsweep
with ticketsweep.load(sys.argv[1]) as r:
    assert r.arms == ticketsweep.ARMS, r.arms
    t = r.find(rate=0.8, rounds=2, seed=1)
    tk = r.mask(t, 2)
    for arm in r.arms:
        m = r.mask(t, 2, arm)
        n = sum(int(v.sum()) for v in m.values())
        assert n == sum(int(v.sum()) for v in tk.values()), (arm, n)
        same = all(np.array_equal(m[l], tk[l]) for l in m)
        assert same == (arm in ("ticket", "reinit", "signed_reinit", "reshuffle", "signed_constant")), arm
        assert r.node(t, 2, arm) >= 0 and len(r.summary(arm))
    assert sorted(set(r.table()["arm"])) == sorted(r.arms)
PY
"$PY" "$TOP/tools/lth_report.py" "$W/all1.h5" -o "$W/rep" >"$W/rep.log" 2>&1 || { cat "$W/rep.log"; fail "lth_report"; }
for arm in signed_reinit reshuffle signed_constant snip synflow magnitude_init grasp; do
    grep -q "$arm" "$W/rep/summary.csv" || { ls "$W/rep"; fail "lth_report's table lacks $arm"; }
    head -1 "$W/rep/arms.csv" | grep -q ",${arm}_es_acc,${arm}_es_iter" ||
        { head -1 "$W/rep/arms.csv"; fail "lth_report's arms.csv lacks $arm"; }
done

# the Octave loader: every arm, and its masks as the Python reader gives them
if command -v octave >/dev/null 2>&1; then
    octave --no-gui --quiet --norc --eval "addpath('$TOP/tools/octave'); r = load_ticketsweep('$W/all1.h5');
        disp(strjoin(r.arms', ',')); t = 8; m = r.masks.snip.fc1(:, :, t).' > 2;
        printf('snip %d\n', nnz(m)); m = r.masks.ticket.fc1(:, :, t).' > 2; printf('ticket %d\n', nnz(m));
        printf('fields %d\n', isfield(r.masks, 'signed_reinit'))" >"$W/octave.out" 2>&1 ||
        { cat "$W/octave.out"; fail "Octave could not load every arm"; }
    grep -q "^ticket,reinit,random,signed_reinit,reshuffle,signed_constant,snip,synflow,magnitude_init,grasp$" \
        "$W/octave.out" || { cat "$W/octave.out"; fail "Octave: the arms"; }
    "$PY" - "$W/all1.h5" "$W/octave.out" <<'PY' || fail "Octave's masks differ from Python's"
import sys
import ticketsweep
out = dict(l.split() for l in open(sys.argv[2]) if l.startswith(("snip ", "ticket ", "fields ")))
with ticketsweep.load(sys.argv[1]) as r:
    t = 7  # Octave's trial 8
    assert r.trials["rounds"][t] == 2, r.trials[t]
    for arm in ("snip", "ticket"):
        assert int(out[arm]) == int(r.mask(t, 2, arm)["fc1"].sum()), (arm, out[arm])
    assert out["fields"] == "0", "the sign controls train the ticket's masks: no masks of their own"
PY
fi

# rewinding: the sign controls and pruning at initialisation start from the rewind point, on every rank count
"$TS" run "$W/job.ini" -o "$W/rw1.h5" "$@" --set prune.rewind_iteration=20 --set prune.pai_scope=layerwise \
    2>"$W/log" || { cat "$W/log"; fail "rewinding run"; }
mpirun_ts 3 run "$W/job.ini" -o "$W/rw3.h5" "$@" --set prune.rewind_iteration=20 --set prune.pai_scope=layerwise \
    2>"$W/log" || { cat "$W/log"; fail "rewinding -np 3"; }
same_data "$W/rw1.h5" "$W/rw3.h5" || fail "rewinding: 1 and 3 ranks differ"

# prune.pai_shuffle: the same bytes on 1 and 3 ranks; each pruning-at-initialisation mask keeps the
# unshuffled one's count in every layer and moves, the other arms' data are the unshuffled job's
"$TS" run "$W/job.ini" -o "$W/sh1.h5" "$@" --set prune.pai_shuffle=true 2>"$W/log" || { cat "$W/log"; fail "shuffled run"; }
mpirun_ts 3 run "$W/job.ini" -o "$W/sh3.h5" "$@" --set prune.pai_shuffle=true 2>"$W/log" || { cat "$W/log"; fail "shuffled -np 3"; }
same_data "$W/sh1.h5" "$W/sh3.h5" || fail "pai_shuffle: 1 and 3 ranks differ"
"$TS" status "$W/sh1.h5" 2>&1 | grep -q "controls $ALL (pai_shuffle: " || fail "status does not say the masks are shuffled"
PYTHONPATH=$TOP/tests "$PY" - "$W/all1.h5" "$W/sh1.h5" <<'PY' || fail "pai_shuffle's masks"
import sys
import h5py
import numpy as np
import masks_h5
a, b = (h5py.File(f, "r") for f in sys.argv[1:])
sizes = [int(np.prod(a[f"init/{l}/weight"].shape[1:])) for l in masks_h5.layers(a)]
edges = np.cumsum([0] + sizes)
arm, mrow = a["nodes/arm"][:], a["nodes/mask_row"][:]
assert np.array_equal(arm, b["nodes/arm"][:]) and np.array_equal(mrow, b["nodes/mask_row"][:])
for p in ("curves/val_loss", "summary/early_stop_test_acc", "controls/reinit/curves/val_loss",
          "controls/random/curves/val_loss", "controls/signed_constant/curves/val_loss"):
    assert np.array_equal(a[p][:], b[p][:], equal_nan=True), p
init = np.flatnonzero(arm >= 6)  # snip, synflow, magnitude_init, grasp
assert len(init) and (mrow[init] >= 0).all()
for x in init:
    ma, mb = (np.unpackbits(f["nodes/mask"][mrow[x]], bitorder="little")[:edges[-1]] for f in (a, b))
    for lo, hi in zip(edges[:-1], edges[1:]):
        assert ma[lo:hi].sum() == mb[lo:hi].sum(), (x, lo, ma[lo:hi].sum(), mb[lo:hi].sum())
        assert 0 < ma[lo:hi].sum() < hi - lo or np.array_equal(ma[lo:hi], mb[lo:hi]), x
        assert not 0 < ma[lo:hi].sum() < hi - lo or not np.array_equal(ma[lo:hi], mb[lo:hi]), (x, "not moved")
PY

# a failed write stops the run; --resume completes it to the same data
TICKETSWEEP_FAULT=store_write_node:0:40 "$TS" run "$W/job.ini" -o "$W/r.h5" "$@" >"$W/log" 2>&1 &&
    { cat "$W/log"; fail "the injected fault did not stop the run"; }
"$TS" run "$W/job.ini" -o "$W/r.h5" "$@" --resume 2>"$W/log" || { cat "$W/log"; fail "resume"; }
same_data "$W/all1.h5" "$W/r.h5" || fail "resumed data differ from an uninterrupted run"
exit 0
