#!/bin/sh
# Results format 3 against format 2: a trial's masks are stored once, per
# training (/nodes/mask), and no dataset grows with trials x weights; a file
# of format 2 (per-trial /masks as well) still reads in Python, resumes (it
# stays format 2 and its new trials get their /masks rows, equal to what the
# trainings say) and merges (into format 3) to the data of a clean run.
#
# The format-2 files are made from this release's shards the way that
# release laid them out (docs/results-file.md): /masks/<layer> and
# /controls/random/masks/<layer>, uint8 [T, out, in], the rounds each weight
# was active, for the done trials; format_version = 2.
. "$(dirname "$0")/lib.sh"
[ -x "$TS" ] || fail "$TS: not built (run make)"
export PYTHONDONTWRITEBYTECODE=1 PYTHONPATH=$TOP/tools/python
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
NOMASKS="--exclude-path /masks --exclude-path /controls/random/masks"

"$TS" run "$W/job.ini" -o "$W/a.h5" 2>"$W/log" || { cat "$W/log"; fail "clean run"; }

# format 3: no per-trial masks, nothing of trials x weights
"$PY" - "$W/a.h5" <<'PY' || fail "format 3 layout"
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
assert int(f.attrs["format_version"]) == 3, f.attrs["format_version"]
T = len(f["trials/status"])
W = sum(f[f"init/{l}/weight"][0].size for l in f["init"])
big = []
f.visititems(lambda name, o: big.append((name, o.shape)) if isinstance(o, h5py.Dataset) and
             o.ndim >= 2 and o.shape[0] == T and np.prod(o.shape[1:]) >= W else None)
assert not big, f"datasets of trials x weights: {big}"
assert "masks" not in f and "masks" not in f["controls/random"], "per-trial masks"
PY

# to_v2 FILE: lay FILE out as format 2 (its done trials' /masks from the trainings)
to_v2() {
    "$PY" - "$1" <<'PY' || fail "could not make a format-2 file"
import sys, h5py, numpy as np
import ticketsweep
path = sys.argv[1]
r = ticketsweep.load(path)
T, done = len(r.trials), np.flatnonzero(r.done)
rows = {arm: {t: r.mask_rounds(int(t), arm) for t in done} for arm in ("ticket", "random")}
shapes = [r.file[f"init/{l}/weight"].shape[1:] for l in r.layers]
r.close()
with h5py.File(path, "r+") as f:
    for arm, pre in (("ticket", ""), ("random", "controls/random/")):
        for l, s in zip(ticketsweep.load(path).layers, shapes):
            d = f.create_dataset(f"{pre}masks/{l}", (T,) + s, dtype="u1")
            for t in done:
                d[t] = rows[arm][t][l]
    f.attrs.modify("format_version", np.int32(2))
PY
}

# a format-2 shard resumes as format 2; the rows the resume writes agree with the trainings
"$TS" run "$W/job.ini" -o "$W/v2.h5" --shard 0/2 2>"$W/log" || { cat "$W/log"; fail "shard 0"; }
to_v2 "$W/v2.h5"
"$TS" status "$W/v2.h5" >"$W/st" 2>&1; [ $? = 3 ] || fail "status of a format-2 file with pending trials: not exit 3"
grep -q "8 trials: 4 done, 0 failed, 4 pending" "$W/st" || { cat "$W/st"; fail "status of a format-2 file"; }
"$TS" run "$W/job.ini" -o "$W/v2.h5" --resume 2>"$W/log" || { cat "$W/log"; fail "resume of a format-2 file"; }
# shellcheck disable=SC2086
h5diff -q $LEDGER $NOMASKS --exclude-attribute / "$W/a.h5" "$W/v2.h5" ||
    fail "the resumed format-2 file's data differ from a clean run's"
"$PY" - "$W/v2.h5" <<'PY' || fail "the resumed format-2 file's masks"
import sys, h5py, numpy as np
import ticketsweep
f = h5py.File(sys.argv[1], "r")
assert int(f.attrs["format_version"]) == 2, "a resume changed the file's format"
r = ticketsweep.load(sys.argv[1])
assert r.done.all(), r.trials
for t in range(len(r.trials)):
    for arm, pre in (("ticket", ""), ("random", "controls/random/")):
        mr = r.mask_rounds(t, arm)
        for l in r.layers:
            # rows written by this release's writer (the resumed trials) and by to_v2
            assert np.array_equal(f[f"{pre}masks/{l}"][t], mr[l]), (t, arm, l)
            for k in range(int(r.trials["rounds"][t]) + 1):
                assert np.array_equal(r.mask(t, k, arm)[l], f[f"{pre}masks/{l}"][t] > k), (t, arm, l, k)
PY

# a format-2 shard and a format-3 shard merge into format 3, a clean run's data
"$TS" run "$W/job.ini" -o "$W/s0.h5" --shard 0/2 2>/dev/null || fail "shard 0 again"
"$TS" run "$W/job.ini" -o "$W/s1.h5" --shard 1/2 2>/dev/null || fail "shard 1"
to_v2 "$W/s0.h5"
"$TS" merge "$W/m.h5" "$W/s0.h5" "$W/s1.h5" 2>"$W/log" || { cat "$W/log"; fail "merge of format 2 and 3"; }
same_data "$W/a.h5" "$W/m.h5" || fail "merged data differ from a clean run's"
[ "$(h5_attr "$W/m.h5" format_version)" = 3 ] || fail "the merged file is not format 3"
# merged twice (a trial in both shards: compared, and the format-2 copy's masks do not count)
"$TS" merge "$W/m2.h5" "$W/s0.h5" "$W/v2.h5" 2>"$W/log" || { cat "$W/log"; fail "merge with an overlap"; }
same_data "$W/a.h5" "$W/m2.h5" || fail "merged data (overlap) differ from a clean run's"

# a newer format is refused with one line, exit 2
cp "$W/a.h5" "$W/v6.h5"
"$PY" -c 'import h5py, numpy, sys; h5py.File(sys.argv[1], "r+").attrs.modify("format_version", numpy.int32(6))' "$W/v6.h5"
"$TS" status "$W/v6.h5" >"$W/out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q "format version 6, this ticketsweep reads versions 2 to 5" "$W/out" ||
    { cat "$W/out"; fail "format 4: exit $rc"; }
exit 0
