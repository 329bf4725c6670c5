#!/bin/sh
# One copy of the data per node: the first rank of a node reads the files and
# the node's other ranks map them from an MPI shared-memory window.
#   - results are bit-identical with 1 process (no window), 2 and 3 ranks
#     sharing, 2 ranks with a copy each (TICKETSWEEP_SHARED_DATA=0), and a
#     --no-share run (every cell on its own), on MNIST-format (an MLP) and
#     CIFAR-10-format data (a conv net, normalised per channel), each also
#     with a random validation split (the reading rank puts the rows in split
#     order before it shares them) and the MLP with standard inputs;
#   - the run's context has exactly one data line: read by 1 of 3 ranks,
#     a window of exactly the data's bytes;
#   - while a sweep runs, every rank maps one and the same file read-only
#     (the window's backing file), and only one rank read the data files;
#   - bad data: one message, exit 2, under 3 ranks.
. "$(dirname "$0")/lib.sh"
small_data "$W/mn"
tiny_job "$W/mlp.ini" "$W/mn"
cifar_data "$W/cf"
cat >"$W/cf.ini" <<JOB
[data]
format = cifar10
train_images = $W/cf/data_batch_1.bin, $W/cf/data_batch_2.bin
test_images = $W/cf/test_batch.bin
validation = 60
[model]
conv = 4, pool, 8
hidden = 16
[train]
batch = 20
iterations = 30
eval_every = 15
lr = 0.002
[prune]
conv_scale = 0.5
controls = reinit, random
[sweep]
rates = 0.5
rounds = 1, 2
seeds = 7, 8
JOB
sed 's/^validation = .*/&\nsplit = random\nsplit_seed = 5\nnormalize = standard/' "$W/mlp.ini" >"$W/mlprs.ini"
sed 's/^validation = .*/&\nsplit = random\nsplit_seed = 6/' "$W/cf.ini" >"$W/cfrs.ini"
# not the training ledger, and not /nodes: --no-share has another graph
NODES="--exclude-path /nodes --exclude-path /trials/nodes"
for j in mlp cf mlprs cfrs; do
    "$TS" run "$W/$j.ini" -o "$W/$j.1.h5" 2>"$W/$j.1.log" || { cat "$W/$j.1.log"; fail "$j: one process"; }
    [ "$(grep -c '^  data: .*read by the one process' "$W/$j.1.log")" = 1 ] || fail "$j: one process: data line"
    for np in 2 3; do
        mpirun_ts $np run "$W/$j.ini" -o "$W/$j.$np.h5" 2>"$W/$j.$np.log" || { cat "$W/$j.$np.log"; fail "$j: np $np"; }
        same_data "$W/$j.1.h5" "$W/$j.$np.h5" || fail "$j: np $np (shared data) differs from one process"
    done
    TICKETSWEEP_SHARED_DATA=0 mpirun_ts 2 run "$W/$j.ini" -o "$W/$j.own.h5" \
        2>"$W/$j.own.log" || { cat "$W/$j.own.log"; fail "$j: np 2, a copy each"; }
    grep -q "read by 2 of 2 ranks, a copy each (TICKETSWEEP_SHARED_DATA=0)" "$W/$j.own.log" ||
        fail "$j: TICKETSWEEP_SHARED_DATA=0: $(grep 'data:' "$W/$j.own.log")"
    same_data "$W/$j.3.h5" "$W/$j.own.h5" || fail "$j: shared and private copies differ"
    mpirun_ts 2 run "$W/$j.ini" -o "$W/$j.noshare.h5" --no-share 2>"$W/$j.noshare.log" ||
        { cat "$W/$j.noshare.log"; fail "$j: --no-share"; }
    # shellcheck disable=SC2086
    h5diff -q $LEDGER $NODES --exclude-attribute / "$W/$j.2.h5" "$W/$j.noshare.h5" ||
        fail "$j: --no-share gives other data than shared trainings"
done

# the random split is another validation set, so other curves
for j in mlp cf; do
    h5diff -q $LEDGER --exclude-attribute / "$W/$j.1.h5" "$W/${j}rs.1.h5" >/dev/null &&
        fail "$j: split = random gives the same data as split = last"
    grep -Eq "^  validation: (200|60) random training images \(split_seed [56]\); inputs: \(pixel / 255 - mean\)" \
        "$W/${j}rs.3.log" || fail "${j}rs: validation and inputs line: $(grep 'validation:' "$W/${j}rs.3.log")"
done

# the data line of 3 ranks on one node: one reader, a window of the data's bytes
# (MLP: (1200 + 300) images x (64 pixels + 1 label); CIFAR: (300 + 60) x 3073)
for j in mlp:97500 cf:1106280; do
    log=$W/${j%%:*}.3.log bytes=${j#*:}
    [ "$(grep -c '^  data: ' "$log")" = 1 ] || fail "${j%%:*}: not one data line: $(grep 'data:' "$log")"
    grep -q "read by 1 of 3 ranks, one per node, .* MPI shared-memory window of $bytes bytes (1 node)" "$log" ||
        fail "${j%%:*}: data line: $(grep 'data:' "$log")"
done

# While a sweep runs: every rank maps the same file read-only, of at least the
# data's size (the window's backing file), and only rank 0 opened the data files.
small_data "$W/big" 20000 2000
tiny_job "$W/long.ini" "$W/big"
sed -i 's/^iterations = .*/iterations = 4000/; s/^eval_every = .*/eval_every = 1000/' "$W/long.ini"
setsid sh -c 'exec "$@" 2>"$0"' "$W/long.log" mpirun --oversubscribe --bind-to none -np 3 "$TS" run \
    "$W/long.ini" -o "$W/long.h5" &
sid=$!
wait_until 120 grep -qs "^progress\|^trial " "$W/long.log" || { cat "$W/long.log"; fail "the long sweep did not start"; }
exe=$(readlink -f "$TS")
ranks=$(for p in $(pgrep -s "$sid"); do [ "$(readlink "/proc/$p/exe")" = "$exe" ] && echo "$p"; done)
[ "$(echo "$ranks" | wc -w)" = 3 ] || fail "expected 3 rank processes, found: $ranks"
# read-only shared mappings of a file: path, inode, bytes; one line each
"$PY" - $ranks >"$W/maps" <<'PYEOF'
import sys
for pid in sys.argv[1:]:
    for line in open(f"/proc/{pid}/maps"):
        f = line.split()
        if len(f) >= 6 and f[1].startswith("r--s") and f[5].startswith("/"):
            a, b = (int(v, 16) for v in f[0].split("-"))
            print(f[5], f[4], b - a)
PYEOF
kill -USR1 "$sid" 2>/dev/null || pkill -USR1 -s "$sid" -x mpirun
wait "$sid"
# (20000 + 2000) x 65 bytes; the pages wholly inside them are read-only (the
# window's first and last pages hold Open MPI's state or other ranks' parts)
bytes=$((22000 * 65)) need=$((22000 * 65 - 2 * 4096))
awk -v need=$need -v bytes=$bytes '$3 >= need && $3 <= bytes { print $1, $2 }' "$W/maps" | sort |
    uniq -c >"$W/shared"
awk '$1 == 3' "$W/shared" | grep -q . ||
    { cat "$W/maps"; fail "no file mapped read-only by all 3 ranks in $need..$bytes bytes (the data)"; }
grep -q "read by 1 of 3 ranks" "$W/long.log" || fail "long sweep: $(grep 'data:' "$W/long.log")"

# bad data under 3 ranks: the reading rank says why, once; exit 2
sed 's/^validation = .*/validation = 5000/' "$W/mlp.ini" >"$W/bad.ini"
mpirun -q --oversubscribe --bind-to none -np 3 "$TS" run "$W/bad.ini" -o "$W/bad.h5" 2>"$W/bad.log"
rc=$?
[ $rc = 2 ] || { cat "$W/bad.log"; fail "bad data under 3 ranks: exit $rc, want 2"; }
[ "$(grep -c . "$W/bad.log")" = 1 ] && grep -q "data.validation = 5000 leaves no training images" "$W/bad.log" ||
    { cat "$W/bad.log"; fail "bad data under 3 ranks: not one line"; }
[ ! -e "$W/bad.h5" ] || fail "bad data left a results file"
exit 0
