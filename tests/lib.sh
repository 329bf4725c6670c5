# tests/lib.sh - shared helpers for the shell tests (source it).
#
# Gives: $TS (the binary), $W (a scratch folder removed on exit), mpirun_ts
# (mpirun with the flags a test needs), fail MSG (print and exit 1), skip MSG
# (exit 77), wait_until SECONDS CMD (poll for a condition), small_data DIR
# (writes tiny MNIST-format files), cifar_data DIR (CIFAR-10-format files),
# tiny_job FILE DATADIR (a job file that trains in well under a second per
# trial), mpirun_session / kill_worker / kill_session (start a run in a
# session of its own and kill -9 one rank of it, or all of it), older_file
# SRC DST KEY... (a results file as a release before those keys wrote it).
# A test's inline Python (a heredoc run by PYTHONPATH="$TOP/tests" "$PY") takes
# check and done from tests/pycheck.py.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${BUILD:-build}
TS=${TS:-$TOP/$BUILD/ticketsweep}
PY=/usr/bin/python3
W=$(mktemp -d /tmp/tstest.XXXXXX)
trap 'rm -rf "$W"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_hwloc_base_binding_policy=none
# keep Open MPI's session files out of shared /tmp clutter
export TMPDIR=$W

# A sanitizer build (make test DEBUG=1): memory errors and undefined behaviour
# end the run with an error. Open MPI keeps allocations until exit, so leak
# checking of MPI processes is left to the tests that set WANT_LEAKS=1 and
# their suppressions (test_bad_input.sh); the C unit tests check leaks.
case "$BUILD" in
*debug*)
    [ -n "${WANT_LEAKS:-}" ] || export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1"
    ;;
esac

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "skipped: $*"; exit 77; }

# wait_until SECONDS CMD [ARG...]: run CMD every 0.1 s until it succeeds (0);
# 1 when it still has not after SECONDS. Wait for a condition, not a time.
wait_until() {
    end=$(($(date +%s) + $1))
    shift
    until "$@"; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.1
    done
}
mpirun_ts() { np=$1; shift; mpirun --oversubscribe --bind-to none -np "$np" "$TS" "$@"; }

# mpirun_session OUT NP ARG...: mpirun_ts NP ARG... in the background, in a
# session of its own (setsid), stdout and stderr into OUT; $! is its leader,
# whose PID is the session's id for kill_worker and kill_session.
mpirun_session() {
    ms_out=$1 np=$2
    shift 2
    setsid sh -c 'out=$1; shift; exec "$@" >"$out" 2>&1' sh "$ms_out" \
        mpirun --oversubscribe --bind-to none -np "$np" "$TS" "$@" &
}

# kill_worker LEADER: kill -9 one rank (not rank 0's mpirun) of the session
# mpirun_session started.
kill_worker() {
    victim=""
    for p in $(pgrep -s "$1" -f "$TS"); do
        [ "$p" != "$1" ] && victim=$p
    done
    [ -n "$victim" ] || fail "no worker process found"
    kill -9 "$victim"
}

# kill_session LEADER: kill -9 whatever is left of the session mpirun_session
# started, and return once all of it has ended.
kill_session() {
    pkill -9 -s "$1" 2>/dev/null
    wait "$1" 2>/dev/null
    pkill -9 -s "$1" 2>/dev/null
    while pgrep -s "$1" >/dev/null; do sleep 0.1; done
}

# small_data DIR [N_TRAIN] [N_TEST]: learnable 8x8 images, 10 classes (class k is
# a bright block at position k plus noise), gzip for train, plain for test.
small_data() {
    "$PY" - "$1" "${2:-1200}" "${3:-300}" <<'PYEOF'
import gzip, struct, sys, os
import numpy as np
d, ntr, nte = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(d, exist_ok=True)
rng = np.random.default_rng(7)
def make(n):
    y = rng.integers(0, 10, n).astype(np.uint8)
    x = rng.integers(0, 60, (n, 8, 8)).astype(np.uint8)
    for i, k in enumerate(y):
        r, c = divmod(int(k), 4)
        x[i, r*2:r*2+2, c*2:c*2+2] = 200 + rng.integers(0, 55)
    return x, y
def write(path, x, y, gz):
    op = gzip.open if gz else open
    with op(path + "-images", "wb") as f:
        f.write(struct.pack(">IIII", 2051, len(x), 8, 8)); f.write(x.tobytes())
    with op(path + "-labels", "wb") as f:
        f.write(struct.pack(">II", 2049, len(y))); f.write(y.tobytes())
write(os.path.join(d, "train"), *make(ntr), True)
write(os.path.join(d, "test"), *make(nte), False)
PYEOF
}

# cifar_data DIR [N_TRAIN_PER_FILE] [N_TEST]: CIFAR-10-format batches
# data_batch_1.bin, data_batch_2.bin and test_batch.bin: class k is a coloured
# square at a place of its own, on noise.
cifar_data() {
    "$PY" - "$1" "${2:-150}" "${3:-60}" <<'PYEOF'
import os, sys
import numpy as np
d, ntr, nte = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(d, exist_ok=True)
rng = np.random.default_rng(3)
def cifar(path, n):
    y = rng.integers(0, 10, n).astype(np.uint8)
    x = rng.integers(0, 80, (n, 3, 32, 32)).astype(np.uint8)
    for i, k in enumerate(y):
        r, c = divmod(int(k), 4)
        x[i, k % 3, r * 8 : r * 8 + 8, c * 8 : c * 8 + 8] = 250
    with open(path, "wb") as f:
        for i in range(n):
            f.write(bytes([y[i]])); f.write(x[i].tobytes())
cifar(os.path.join(d, "data_batch_1.bin"), ntr)
cifar(os.path.join(d, "data_batch_2.bin"), ntr)
cifar(os.path.join(d, "test_batch.bin"), nte)
PYEOF
}

# tiny_job FILE DATADIR: rates x rounds x seeds = 2 x 2 x 2 trials on small_data.
tiny_job() {
    cat >"$1" <<JOBEOF
[data]
train_images = $2/train-images
train_labels = $2/train-labels
test_images = $2/test-images
test_labels = $2/test-labels
validation = 200
[model]
hidden = 16, 8
[train]
batch = 20
iterations = 60
eval_every = 20
[prune]
controls = reinit, random
[sweep]
rates = 0.5, 0.8
rounds = 1, 2
seeds = 1, 2
JOBEOF
}

# scale_job FILE DATADIR: tiny_job's model and data on a 128-cell grid (2 rates x
# 4 round counts x 16 seeds, 976 trainings of 40 steps): tests/cluster/test_scale.sh
# and make bench's section 12 (tools/bench/bench_scale.sh).
scale_job() {
    tiny_job "$1" "$2"
    sed -i -e 's/^iterations = .*/iterations = 40/' -e 's/^rates = .*/rates = 0.2, 0.5/' \
        -e 's/^rounds = .*/rounds = 1, 2, 3, 4/' \
        -e 's/^seeds = .*/seeds = 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16/' "$1"
}

# same_data A B: the two results files hold the same data (everything but the
# ledgers and the root attributes, which hold times), and the same job.
LEDGER="--exclude-path /trials/wall_seconds --exclude-path /trials/rank --exclude-path /trials/host
        --exclude-path /nodes/wall_seconds --exclude-path /nodes/rank --exclude-path /nodes/host
        --exclude-path /copies/wall_seconds --exclude-path /copies/rank --exclude-path /copies/host
        --exclude-path /lines/wall_seconds --exclude-path /lines/rank --exclude-path /lines/host"
same_data() {
    # shellcheck disable=SC2086
    h5diff -q $LEDGER --exclude-attribute / "$1" "$2" ||
        { h5diff -r $LEDGER --exclude-attribute / "$1" "$2" | head -20; return 1; }
    [ "$(h5_attr "$1" config_hash)" = "$(h5_attr "$2" config_hash)" ] || { echo "config_hash differs"; return 1; }
}

# same_anyhow REF JOB [ARGS...]: the run of JOB with ARGS gives REF's data
# on 3 ranks, after a fault (the 4th training written on rank 1) and --resume
# on 2 ranks, and as 2 shards merged; files go to $W/anyhow-*.h5.
same_anyhow() {
    sa_ref=$1 sa_job=$2
    shift 2
    mpirun_ts 3 run "$sa_job" -o "$W/anyhow-3.h5" "$@" 2>"$W/log" || { cat "$W/log"; fail "run -np 3 $*"; }
    same_data "$sa_ref" "$W/anyhow-3.h5" || fail "1 and 3 ranks differ ($*)"
    rm -f "$W/anyhow-f.h5"
    TICKETSWEEP_FAULT=store_write_node:1:4 timeout 120 mpirun --oversubscribe --bind-to none -np 2 \
        "$TS" run "$sa_job" -o "$W/anyhow-f.h5" "$@" 2>"$W/err" && fail "exit 0 after an injected fault ($*)"
    [ "$(node_statuses "$W/anyhow-f.h5" | tr -d 1)" != "" ] || fail "every training done although the run failed"
    mpirun_ts 2 run "$sa_job" -o "$W/anyhow-f.h5" "$@" --resume 2>"$W/log" || { cat "$W/log"; fail "resume $*"; }
    same_data "$sa_ref" "$W/anyhow-f.h5" || fail "resumed data differ from an uninterrupted run ($*)"
    for sa_i in 0 1; do
        "$TS" run "$sa_job" -o "$W/anyhow-s$sa_i.h5" "$@" --shard $sa_i/2 2>"$W/log" || { cat "$W/log"; fail "shard $sa_i/2"; }
    done
    "$TS" merge "$W/anyhow-m.h5" "$W/anyhow-s0.h5" "$W/anyhow-s1.h5" 2>"$W/log" || { cat "$W/log"; fail "merge"; }
    same_data "$sa_ref" "$W/anyhow-m.h5" || fail "merged shards differ from one run ($*)"
}

# h5_attr FILE NAME: a root attribute's value.
h5_attr() {
    "$PY" -c 'import h5py,sys; v=h5py.File(sys.argv[1],"r").attrs[sys.argv[2]]; print(v.decode() if isinstance(v,bytes) else v)' "$1" "$2"
}

# statuses FILE: the /trials/status vector as one string, e.g. "11110000".
statuses() {
    "$PY" -c 'import h5py,sys; print("".join(str(s) for s in h5py.File(sys.argv[1],"r")["trials/status"][:]))' "$1"
}

# node_statuses FILE: the /nodes/status vector (one per training) as one string.
node_statuses() {
    "$PY" -c 'import h5py,sys; print("".join(str(s) for s in h5py.File(sys.argv[1],"r")["nodes/status"][:]))' "$1"
}

# older_file SRC DST KEY...: DST = SRC with the KEY lines (names, e.g. kernels)
# taken out of its stored job, as a release before those keys wrote it (a
# fixed-length string, as ticketsweep writes it); the job hash is left as is.
older_file() {
    of_src=$1 of_dst=$2
    shift 2
    cp "$of_src" "$of_dst"
    "$PY" - "$of_dst" "$@" <<'PY' || fail "could not make $of_dst without $*"
import sys
import h5py
import numpy as np
with h5py.File(sys.argv[1], "r+") as f:
    text = f.attrs["config"]
    text = text.decode() if isinstance(text, bytes) else text
    old = "\n".join(l for l in text.split("\n") if l.split(" = ")[0] not in sys.argv[2:])
    assert old != text, "no such key"
    f.attrs["config"] = np.bytes_(old.encode())
PY
}
