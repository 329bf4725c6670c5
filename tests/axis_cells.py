"""axis_cells: a cell of a crossed chain axis (sweep.rewind, sweep.criterion)
against the job that gives the axis's value alone (prune.rewind_iteration =
k, prune.criterion = c), bit for bit.

    python3 axis_cells.py AXIS.h5 KEY ONE_0.h5 ONE_1.h5 ...   (KEY: rewind or criterion)

ONE_i is the one-value job of the axis's i-th value. For every cell of AXIS
with value index i, the cell of ONE_i with the same rate, rounds and seed
must hold the same masks (every arm, every round), the same summary
(density, early stop and its accuracy, final accuracy), the same
instability analysis (/instability, every round; round 0 from its k) and curves
at ONE_i's evaluation points (the axis's file may evaluate more: the starts
of the other values' continued rounds); and AXIS's /rewind rows of value i
must be ONE_i's (KEY criterion: AXIS's /rewind must be each ONE_i's). train_loss, the mean training loss since the previous
point, is compared where that point is the same in both files (an extra
point of another value splits a window). Prints what differs; exits 1 when
anything does.
"""
import sys

import h5py
import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__file__))
import masks_h5  # noqa: E402

SUMMARY = ("density", "early_stop_iter", "early_stop_test_acc", "final_test_acc")
METRICS = ("train_loss", "val_loss", "val_acc", "test_loss", "test_acc")


def arms(f):
    out = [("ticket", "")]
    for a in ("reinit", "random"):
        if "controls/" + a in f:
            out.append((a, "controls/%s/" % a))
    return out


def same(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def main():
    ax_path, key, ones = sys.argv[1], sys.argv[2], sys.argv[3:]
    ax = h5py.File(ax_path, "r")
    values = ax["grid/" + key][:]
    if len(values) != len(ones):
        sys.exit("%s: %d values, %d one-value files" % (ax_path, len(values), len(ones)))
    per = ax["trials/" + key][:]
    bad = checked = 0
    its = ax["curves/iteration"][:]
    for i, path in enumerate(ones):
        one = h5py.File(path, "r")
        pick = np.isin(its, one["curves/iteration"][:])
        # a point's training-loss window: from the previous point of its own file
        prev_ax = np.concatenate([[-1], its[:-1]])[pick]
        oi = one["curves/iteration"][:]
        window = prev_ax == np.concatenate([[-1], oi[:-1]])
        if not (its[pick] == one["curves/iteration"][:]).all():
            print("FAIL: %s's evaluation points are not among the axis file's" % path)
            bad += 1
        cells = {(r, n, s): t for t, (r, n, s) in enumerate(zip(one["trials/rate"][:], one["trials/rounds"][:],
                                                               one["trials/seed"][:]))}
        for t in np.flatnonzero(per == values[i]):
            u = cells[(ax["trials/rate"][t], ax["trials/rounds"][t], ax["trials/seed"][t])]
            n = int(ax["trials/rounds"][t])
            for arm, pre in arms(one):
                for m in SUMMARY:
                    a, b = ax[pre + "summary/" + m][t, :n + 1], one[pre + "summary/" + m][u, :n + 1]
                    if not same(a, b):
                        print("FAIL: %s cell %d (%s %s) %s%s: %s != %s" % (ax_path, t, key, values[i], pre, m, a, b))
                        bad += 1
                for m in METRICS:
                    a, b = ax[pre + "curves/" + m][t, :n + 1][:, pick], one[pre + "curves/" + m][u, :n + 1]
                    if m == "train_loss":
                        a, b = a[:, window], b[:, window]
                    if not same(a, b):
                        print("FAIL: cell %d (%s %s) %scurves/%s differ" % (t, key, values[i], pre, m))
                        bad += 1
                if arm == "ticket" and "instability" in one:  # the ticket's lines, round 0's from its k
                    for m in ("value", "test_error", "test_loss", "val_error"):
                        a, b = ax["instability/" + m][t, :n + 1], one["instability/" + m][u, :n + 1]
                        if not same(a, b):
                            print("FAIL: cell %d (%s %s) instability/%s differs" % (t, key, values[i], m))
                            bad += 1
                ma, mb = masks_h5.rounds_active(ax, t, arm), masks_h5.rounds_active(one, u, arm)
                for layer in ma:
                    if not same(ma[layer], mb[layer]):
                        print("FAIL: cell %d (%s %s) %s masks of %s differ" % (t, key, values[i], arm, layer))
                        bad += 1
            checked += 1
        if "rewind" in one:  # the rewind points: of the axis's value i, or the same rows
            S, K = len(ax["grid/seeds"]), len(values) if key == "rewind" else 1
            for layer in one["rewind"]:
                for part in ("weight", "bias"):
                    a = ax["rewind/%s/%s" % (layer, part)][:]
                    a = a.reshape((S, K) + a.shape[1:])[:, i if key == "rewind" else 0]
                    if not same(a, one["rewind/%s/%s" % (layer, part)][:]):
                        print("FAIL: /rewind/%s/%s of %s %s differs" % (layer, part, key, values[i]))
                        bad += 1
    if checked != len(per):
        print("FAIL: %d of %d cells checked" % (checked, len(per)))
        bad += 1
    print("%d cells of %s against %d one-value files: %s" % (checked, ax_path, len(ones), "ok" if not bad else "%d differences" % bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
