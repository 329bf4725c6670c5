#!/bin/sh
# The instability analysis's copies and lines are nodes of the graph of their
# own (graph.h: NODE_COPY, NODE_LINE), on the tiny job with copies = 3:
#   - the log counts them; in a finished file every row of /copies and
#     /lines is done, copy 0's final weights (/copies/weights) are the
#     training's own (/nodes/weights, [output] weights = final) bit for bit,
#     the other copies' are not, and the reader's copy_weights gives them;
#   - a run stopped part way (a fault in the 50th write, on one rank: after
#     the 38 trainings, which go first) leaves some copies or lines done and
#     some pending; --resume runs exactly the nodes
#     the file says are pending (trainings, copies and lines: nothing done is
#     run again) and ends with the data of an uninterrupted run;
#   - a file of an earlier release (no /copies: its copies trained inside
#     their training) is refused by --resume and by merge: exit 2, one line
#     that says so, the file untouched.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
cat >>"$W/job.ini" <<'EOF'
[analysis]
copies = 3
interpolation = 4
[output]
weights = final
EOF

"$TS" run "$W/job.ini" -o "$W/a.h5" 2>"$W/log" || { cat "$W/log"; fail "run"; }
grep -q "instability analysis: 28 copies, 14 lines; 80 to run" "$W/log" ||
    { grep trainings "$W/log"; fail "the log does not count the copies and lines"; }

PYTHONPATH="$TOP/tests" "$PY" - "$W/a.h5" "$TOP/tools/python" <<'PY' || fail "/copies"
import sys
import h5py
import numpy as np
sys.path.insert(0, sys.argv[2])
import ticketsweep
from pycheck import check, done

f = h5py.File(sys.argv[1], "r")
c, l = f["copies"], f["lines"]
check(len(c["node"]) == 14 * 3 and len(l["node"]) == 14, f"rows: {len(c['node'])} copies, {len(l['node'])} lines")
check((c["status"][:] == 1).all() and (l["status"][:] == 1).all(), "a copy or line not done")
check(list(c["copy"][:3]) == [0, 1, 2] and list(c["data_seed"][:3]) == [0, 1, 2], "copies' numbers and seeds")
arms = f["nodes/arm"][:]
check(sorted(set(c["node"][:])) == sorted(np.flatnonzero(arms == 0)), "a row for every ticket training")
w, cw = f["nodes/weights"], c["weights"]
for r in range(len(c["node"])):
    x, j = int(c["node"][r]), int(c["copy"][r])
    same = np.array_equal(cw[r].view(np.uint32), w[x].view(np.uint32))
    check(same == (j == 0), f"row {r}: copy {j} of training {x}: {'equal to' if same else 'differs from'} "
                            f"its training's weights")
res = ticketsweep.load(sys.argv[1])
t = int(np.flatnonzero(res.done)[0])
for k in range(int(res.trials["rounds"][t]) + 1):
    own, c0, c2 = res.weights(t, k), res.copy_weights(t, k, 0), res.copy_weights(t, k, 2)
    for layer in own:
        check(np.array_equal(own[layer][0], c0[layer][0]), f"copy_weights({t}, {k}, 0) {layer}")
        check(not np.array_equal(own[layer][0], c2[layer][0]), f"copy_weights({t}, {k}, 2) {layer}")
done()
PY

# stopped part way, then resumed: exactly the pending nodes run
rm -f "$W/f.h5"
TICKETSWEEP_FAULT=store_write_node:0:50 timeout 120 "$TS" run "$W/job.ini" -o "$W/f.h5" 2>"$W/err" &&
    fail "exit 0 after an injected fault"
counts=$("$PY" -c '
import h5py, sys
f = h5py.File(sys.argv[1], "r")
st = [f[p][:] for p in ("nodes/status", "copies/status", "lines/status")]
# copy 0 is its training: its row is not a node of its own
c0 = f["copies/copy"][:] == 0
done = (st[0] == 1).sum() + (st[1][~c0] == 1).sum() + (st[2] == 1).sum()
print(int(done), int(len(st[0]) + (~c0).sum() + len(st[2]) - done), int((st[1][~c0] == 1).sum() + (st[2] == 1).sum()))
' "$W/f.h5")
set -- $counts
echo "stopped run: $1 nodes done, $2 pending, $3 of them copies or lines"
[ "$3" -gt 0 ] && [ "$2" -gt 0 ] || fail "the stopped run left $3 copies or lines done and $2 nodes pending"
mpirun_ts 2 run "$W/job.ini" -o "$W/f.h5" --resume 2>"$W/log" || { cat "$W/log"; fail "resume"; }
grep -q "; $2 to run" "$W/log" || { grep trainings "$W/log"; fail "resume: not the $2 pending nodes to run"; }
same_data "$W/a.h5" "$W/f.h5" || fail "resumed data differ from an uninterrupted run"

# a file of an earlier release: no /copies
cp "$W/a.h5" "$W/old.h5"
"$PY" -c '
import h5py, sys
with h5py.File(sys.argv[1], "r+") as f:
    del f["copies"], f["lines"]
    f["trials/status"][0] = 0
' "$W/old.h5"
cp "$W/old.h5" "$W/old-before.h5"
"$TS" run "$W/job.ini" -o "$W/old.h5" --resume 2>"$W/err"
rc=$?
[ $rc = 2 ] || { cat "$W/err"; fail "resume of an earlier release's file: exit $rc, not 2"; }
grep -q "was made by an earlier release, whose instability analysis trained the copies inside" "$W/err" ||
    { cat "$W/err"; fail "resume of an earlier release's file: no clear line"; }
[ "$(grep -c . "$W/err")" -le 2 ] || { cat "$W/err"; fail "resume of an earlier release's file: more than a line"; }
cmp -s "$W/old.h5" "$W/old-before.h5" || fail "the refused file was changed"
"$TS" merge "$W/m.h5" "$W/old.h5" 2>"$W/err"
rc=$?
[ $rc = 2 ] || { cat "$W/err"; fail "merge of an earlier release's shard: exit $rc, not 2"; }
grep -q "earlier release" "$W/err" || { cat "$W/err"; fail "merge of an earlier release's shard: no clear line"; }
[ ! -e "$W/m.h5" ] || fail "a refused merge left its output"
exit 0
