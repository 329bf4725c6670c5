#!/bin/sh
# prune.criterion end to end, on the tiny job:
#   - criterion = magnitude (in the job file) is the job without the key: the
#     same data and job hash; a results file made before the key (no
#     criterion in its stored job) reads as magnitude: status shows it, a
#     resume carries on, a resume with another criterion names the key;
#   - movement (layer-wise) and magnitude_increase (global scope, rewinding
#     to iteration 20: w_init is the rewind point, sent between ranks) keep
#     other masks than magnitude with the same per-layer counts (the same
#     densities), and the same bytes on 1 rank, 2 ranks and 2 threads;
#   - the run's context, status and --dry-run name the criterion.
. "$(dirname "$0")/lib.sh"
# small nets split between the threads as wide ones do (par.h)
export TICKETSWEEP_THREAD_MIN_WORK=0
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
sed 's/^controls = reinit, random$/&\ncriterion = magnitude/' "$W/job.ini" >"$W/mag.ini"
grep -q "^criterion = magnitude$" "$W/mag.ini" || fail "could not write the job with the key"
run() { out=$1 job=$2; shift 2; "$TS" run "$job" -o "$out" --set output.weights=final "$@" 2>"$W/log" ||
    { cat "$W/log"; fail "run $job $*"; }; }

run "$W/none.h5" "$W/job.ini"
run "$W/mag.h5" "$W/mag.ini"
same_data "$W/none.h5" "$W/mag.h5" || fail "criterion = magnitude differs from the job without the key"

# a file from before the key
older_file "$W/none.h5" "$W/old.h5" criterion
"$TS" status "$W/old.h5" >"$W/status" 2>&1 || { cat "$W/status"; fail "status of a file made before the key"; }
grep -q "pruning layerwise by magnitude," "$W/status" || { cat "$W/status"; fail "status: not magnitude"; }
"$TS" status "$W/old.h5" --job | grep -q "^criterion = magnitude$" || fail "status --job: not magnitude"
"$TS" run "$W/mag.ini" -o "$W/old.h5" --resume --set output.weights=final >"$W/log" 2>&1 ||
    { cat "$W/log"; fail "resume of a file made before the key"; }
"$TS" run "$W/job.ini" -o "$W/old.h5" --resume --set output.weights=final --set prune.criterion=movement \
    >"$W/log" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "made by a different job (1 key differs: prune.criterion (magnitude -> movement))" "$W/log" ||
    { cat "$W/log"; fail "resume with another criterion: exit $rc"; }

# the other criteria: the same bytes however run
for c in "movement" "magnitude_increase --set prune.scope=global --set prune.rewind_iteration=20"; do
    name=${c%% *}
    # shellcheck disable=SC2086
    set -- --set prune.criterion=$c
    run "$W/$name-1.h5" "$W/job.ini" --threads 1 "$@"
    grep -q "^    criterion = $name$" "$W/log" || { cat "$W/log"; fail "$name: the context does not name it"; }
    run "$W/$name-t2.h5" "$W/job.ini" --threads 2 "$@"
    same_data "$W/$name-1.h5" "$W/$name-t2.h5" || fail "$name: 1 and 2 threads differ"
    mpirun_ts 2 run "$W/job.ini" -o "$W/$name-np2.h5" --set output.weights=final --threads 1 "$@" 2>"$W/log" ||
        { cat "$W/log"; fail "$name: -np 2"; }
    same_data "$W/$name-1.h5" "$W/$name-np2.h5" || fail "$name: 1 and 2 ranks differ"
    # shellcheck disable=SC2086
    run "$W/$name-mag.h5" "$W/job.ini" ${c#"$name"}
    "$TS" status "$W/$name-1.h5" | grep -q "pruning [a-z]* by $name," || fail "$name: status does not name it"
    "$TS" run "$W/job.ini" -o "$W/x.h5" --dry-run "$@" | grep -q "^pruning: [a-z]* by $name," ||
        fail "$name: --dry-run does not name it"
    "$PY" - "$W/$name-1.h5" "$W/$name-mag.h5" "$TOP/tools/python" <<'PY' || fail "$name against magnitude"
import sys
import h5py
import numpy as np
sys.path.insert(0, sys.argv[3])
import ticketsweep
c, m = (h5py.File(f, "r") for f in sys.argv[1:3])
rc, rm = (ticketsweep.load(f) for f in sys.argv[1:3])
# the same counts: densities equal, arm by arm
for arm in ("", "controls/reinit/", "controls/random/"):
    dc, dm = c[arm + "summary/density"][:], m[arm + "summary/density"][:]
    assert np.array_equal(dc, dm, equal_nan=True), (arm, dc, dm)
# round 0 (dense, before any pruning) is the same training
r0 = c["nodes/round"][:] == 0
assert r0.any() and np.array_equal(c["nodes/weights"][:][r0], m["nodes/weights"][:][r0])
# other ticket masks, in every layer
for layer in rc.layers:
    mc = np.stack([rc.mask_rounds(t)[layer] for t in range(len(rc.trials))])
    mm = np.stack([rm.mask_rounds(t)[layer] for t in range(len(rm.trials))])
    assert mc.shape == mm.shape and (mc != mm).any(), f"{layer}: the masks are magnitude's"
PY
done
exit 0
