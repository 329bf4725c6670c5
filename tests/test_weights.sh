#!/bin/sh
# [output] weights = final: each distinct training's trained weights stored
# once (/nodes/weights), read back by trial, round and arm with the Python
# reader: pruned weights exactly 0, shared trainings one row, the same data
# on 1 and 2 ranks; without the key no weights are stored.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
"$TS" run "$W/job.ini" -o "$W/w1.h5" --set output.weights=final 2>"$W/log" || { cat "$W/log"; fail "run"; }
mpirun_ts 2 run "$W/job.ini" -o "$W/w2.h5" --set output.weights=final 2>"$W/log" || { cat "$W/log"; fail "run -np 2"; }
same_data "$W/w1.h5" "$W/w2.h5" || fail "weights differ between 1 and 2 ranks"
"$TS" run "$W/job.ini" -o "$W/none.h5" 2>/dev/null || fail "run without weights"
PYTHONPATH="$TOP/tests" "$PY" - "$W" "$TOP/tools/python" <<'PY' || fail "weights checks"
import sys
import numpy as np
sys.path.insert(0, sys.argv[2])
import ticketsweep as ts
from pycheck import check, done, failures
r = ts.load(sys.argv[1] + "/w1.h5")
for t in range(len(r.trials)):
    n = int(r.trials["rounds"][t])
    for arm in ("ticket", "reinit", "random"):
        for k in range(n + 1):
            w, m = r.weights(t, k, arm), r.mask(t, k, arm)
            for l in r.layers:
                check(np.all(w[l][0][~m[l]] == 0), f"trial {t} {arm} round {k} {l}: pruned weights not 0")
                check(np.count_nonzero(w[l][0][m[l]]) > 0.99 * m[l].sum(), f"{l}: survivors were trained to 0?")
    theta0 = r.theta0(int(r.trials["seed"][t]))
    w0 = r.weights(t, 0)
    check(not np.array_equal(w0["fc1"][0], theta0["fc1"][0]), "round 0 weights equal theta0: not trained")
# trials of one seed share round 0: one training, one row
same_seed = [t for t in range(len(r.trials)) if r.trials["seed"][t] == r.trials["seed"][0]]
check(len({r.node(t, 0) for t in same_seed}) == 1, "round 0 is not one training per seed")
check(r.node(0, 0, "random") == r.node(0, 0), "a control's round 0 is the ticket's")
try:
    ts.load(sys.argv[1] + "/none.h5").weights(0, 0)
    check(False, "a file without weights gave weights")
except KeyError as e:
    check("weights = none" in str(e), f"message: {e}")
print("weights checks:", failures(), "failed")
done()
PY
exit 0
