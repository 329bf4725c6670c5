#!/bin/sh
# bench.sh - `make bench`: ticketsweep's training speed, side by side with the
# references it is judged against, all measured in the same run.
#
#   1 training throughput (samples/s) of LeNet-300-100 (Adam, batch 60, one
#     thread, Fashion-MNIST) against PyTorch on the same model, optimizer,
#     batch, thread count and number of steps (tools/bench/bench_torch.py; the faster
#     of its two Adam implementations, for-loop or foreach, is the reference);
#   2 the roofline: GEMM FLOP/s of a training step against cblas_sgemm alone on
#     the same eight products, per step (tools/bench/bench_train.c);
#   3 where a training step's time goes;
#   4 sweep throughput of build/ticketsweep with 2 MPI ranks against 1, next to
#     the machine's own ceiling (two single-thread sgemm loops at once against
#     one, in the same run);
#   5 the scheduler alone against mpi4py's MPIPoolExecutor; 6 Conv-2, Conv-4
#     and Conv-6 against PyTorch (kernels = auto: convolutions on oneDNN where
#     the build has it; kernels = dense: im2col + sgemm), the GEMM FLOP/s of
#     the step against cblas_sgemm on the same shapes, a step in pieces; 7 the training graph: trainings with and without sharing, the
#     demo against --no-share, a resume after kill -9 mid-chain, the planner
#     at 100,000 cells; 8 the memory of NP ranks on one node (summed PSS
#     while short sweeps of the paper's LeNet-300-100 on MNIST and Conv-2 on
#     CIFAR-10 run; the data of data/, `make data`), next to the targets;
#     11 the paper jobs' wall clock on one and on 16 nodes of 128 cores, 1
#     thread against the best layout of ranks x threads (their dry runs);
#     12 a 128-cell sweep on 2, 64 and 256 ranks (tools/bench/bench_scale.sh):
#     rank 0's time per dispatch, start-up, sweep, closing and mpirun's wall.
#
# The machine may be shared, so 1-3 are per-step CPU times of the one thread
# that does the work (waiting for a core is not work), medians over steps; the
# C and Python runs alternate REPS times and every ratio is the median of the
# per-repetition ratios. Wall-clock rates are printed next to them. 4 is wall
# clock, so it comes with what the machine gave: the cores the sweep got (its
# CPU seconds over its wall seconds) and the ceiling at the time (NP sgemm
# loops at once against one); and with two estimates that other users do not
# move: NP times the 1-rank sweep's CPU seconds over the NP-rank sweep's
# (duplicated start-up, imbalance and MPI waiting all count against it), and
# NP trainings at once against one in per-step CPU time (what ranks cost each
# other through shared caches and memory).
#
# The table's head names the kernels OpenBLAS ran (its core, and a warning
# when that is its generic fallback on a CPU with AVX2 or AVX-512: docs/cluster.md,
# "Numerics: pinning the BLAS kernels"); OPENBLAS_CORETYPE is left as the
# caller set it.
#
# Prints a table and appends it to $BENCH_OUT (default tools/bench/bench-results.txt)
# for docs/performance.md to quote. Environment: BUILD (build), BENCH_REPS (3),
# BENCH_ITERS (500 steps per training: bench_train runs two trainings and
# PyTorch the same total), BENCH_SWEEP_REPS (3), BENCH_NP (2).
# Not part of `make test`: timings do not belong in a pass/fail suite.
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
REPS=${BENCH_REPS:-3}
ITERS=${BENCH_ITERS:-500}
SWEEP_REPS=${BENCH_SWEEP_REPS:-3}
NP=${BENCH_NP:-2}
OUT=${BENCH_OUT:-tools/bench/bench-results.txt}
PY=/usr/bin/python3
BT=$BUILD/bench_train
TS=$BUILD/ticketsweep
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

. tools/bench/bench_lib.sh
for f in "$BT" "$TS"; do [ -x "$f" ] || die "$f is missing: run 'make bench', not this script"; done
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: apt-get install time"
"$PY" -c 'import torch' 2>/dev/null ||
    die "PyTorch is missing ($PY -c 'import torch' fails): apt-get install python3-torch"

W=$(mktemp -d /tmp/tsbench.XXXXXX)
trap 'rm -rf "$W"' EXIT
export TMPDIR="$W" # Open MPI's session files


# ---- the kernels OpenBLAS runs here: every figure below depends on them -----
"$BT" --blas >"$W/blas" || die "$BT --blas failed"
blas_core=$(val blas_core "$W/blas")
blas_isa=$(val blas_cpu_isa "$W/blas")
blas_advice=$(val blas_advice "$W/blas")
blas_line="OpenBLAS core $blas_core (OPENBLAS_CORETYPE ${OPENBLAS_CORETYPE:-unset}; the CPU has $blas_isa)"
progress "$blas_line"
[ -z "$blas_advice" ] || progress "warning: this machine runs $blas_advice"

# ---- the machine -------------------------------------------------------------
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
fam=$(awk -F': ' '/^cpu family/ { print $2; exit }' /proc/cpuinfo)
mod=$(awk -F': ' '/^model\t/ { print $2; exit }' /proc/cpuinfo)
mhz=$(awk -F': ' '/^cpu MHz/ { printf "%.0f", $2; exit }' /proc/cpuinfo)
simd=$(grep -m1 -o -w -e avx512f -e avx2 /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//')
l2=$(lscpu 2>/dev/null | awk -F': *' '/^L2 cache/ { print $2 }')
l3=$(lscpu 2>/dev/null | awk -F': *' '/^L3 cache/ { print $2 }')
cores=$(getconf _NPROCESSORS_ONLN) # not nproc: it obeys OMP_NUM_THREADS
load0=$(cut -d' ' -f1-3 /proc/loadavg)
blaslib=$(ldd "$BT" | awk '/libopenblas/ { print $3; exit }')
ompi=$(mpirun --version 2>/dev/null | awk 'NR == 1 { print $NF }')
hdf5=$(pkg-config --modversion hdf5-openmpi 2>/dev/null || echo "?")
gccv=$(gcc -dumpfullversion 2>/dev/null || echo "?")
torchv=$(dpkg-query -W -f='${Version}' python3-torch 2>/dev/null ||
    "$PY" -c 'import torch; print(torch.__version__)')
pyv=$("$PY" -c 'import platform; print(platform.python_version())')
rev=$(git describe --always --dirty 2>/dev/null || echo "?")

# ---- 1-3: bench_train and PyTorch, alternating --------------------------------
steps=$((2 * ITERS))
r=1
while [ "$r" -le "$REPS" ]; do
    progress "repetition $r/$REPS: ticketsweep ($steps training steps, the roofline, the parts)"
    "$BT" --iters "$ITERS" --reps 1 >"$W/c.$r" 2>"$W/c.$r.err" ||
        { cat "$W/c.$r.err" >&2; die "bench_train failed"; }
    progress "repetition $r/$REPS: PyTorch ($steps steps, for-loop Adam, then foreach Adam)"
    "$PY" tools/bench/bench_torch.py --iters "$steps" >"$W/t.$r" || die "bench_torch.py failed"
    "$PY" tools/bench/bench_torch.py --iters "$steps" --foreach >"$W/f.$r" ||
        die "bench_torch.py --foreach failed"
    c=$(val train_samples_per_s "$W/c.$r")
    t=$(val torch_samples_per_s "$W/t.$r")
    f=$(val torch_samples_per_s "$W/f.$r")
    cw=$(val train_wall_samples_per_s "$W/c.$r")
    tw=$(val torch_wall_samples_per_s "$W/t.$r")
    fw=$(val torch_wall_samples_per_s "$W/f.$r")
    echo "$c" >>"$W/c_sps"
    calc %.1f "($t > $f ? $t : $f)" >>"$W/t_sps"
    calc %.4f "$c / ($t > $f ? $t : $f)" >>"$W/ratio_torch"
    echo "$cw" >>"$W/c_wall"
    calc %.1f "($tw > $fw ? $tw : $fw)" >>"$W/t_wall"
    calc %.4f "$cw / ($tw > $fw ? $tw : $fw)" >>"$W/ratio_wall"
    [ "$(calc %d "($f > $t)")" = 1 ] && echo foreach >>"$W/t_kind" || echo for-loop >>"$W/t_kind"
    for k in roofline step_gflops gemm_gflops step_s gemm_fwd_s gemm_bwd_s forward_s loss_s \
        backward_s optim_s rest_s eval_point_s; do
        val "$k" "$W/c.$r" >>"$W/$k"
    done
    r=$((r + 1))
done
c_sps=$(m c_sps); t_sps=$(m t_sps); r_torch=$(m ratio_torch)
c_wall=$(m c_wall); t_wall=$(m t_wall); r_wall=$(m ratio_wall)
t_kind=$(sort "$W/t_kind" | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
roof=$(m roofline); sgf=$(m step_gflops); ggf=$(m gemm_gflops)
step=$(m step_s); gfw=$(m gemm_fwd_s); gbw=$(m gemm_bwd_s)
fwd=$(m forward_s); loss=$(m loss_s); bwd=$(m backward_s); opt=$(m optim_s); rest=$(m rest_s)
ev=$(m eval_point_s)
evimg=$(val eval_images "$W/c.1")
blas=$(val blas "$W/c.1")
tblas=$(val torch_blas "$W/t.1")

# ---- 4: scaling ---------------------------------------------------------------
# A fixed small sweep: 16 trials of LeNet-300-100, 40 trainings of 400 steps;
# the scheduler's longest-first queue splits them evenly over 2 ranks, and 8
# trials a rank keep the wait for the last one short.
TRIALS=16
cat >"$W/scale.ini" <<EOF
[train]
iterations = 400
eval_every = 400
[sweep]
rates = 0.8, 0.9
rounds = 1, 2
seeds = 1, 2, 3, 4
EOF
# sweep NP: seconds of the sweep itself (ticketsweep's "N done ... in X s",
# after start-up and data loading, which every rank does at once), wall
# seconds of the whole mpirun, and the CPU seconds all its processes used
sweep() {
    /usr/bin/time -f "%e %U %S" -o "$W/time" \
        mpirun --oversubscribe -np "$1" "$TS" run "$W/scale.ini" -o "$W/scale.h5" --force \
        >"$W/sweep.out" 2>&1 || { tail -n 20 "$W/sweep.out" >&2; die "the scaling sweep failed (np $1)"; }
    sec=$(sed -n 's/.* done, .* in \([0-9.]*\) s.*/\1/p' "$W/sweep.out" | tail -n 1)
    [ -n "$sec" ] || die "no sweep time in the output of ticketsweep (np $1)"
    [ "$1" = 1 ] || grep "rank utilisation" "$W/sweep.out" >>"$W/sweepsum"
    echo "$sec $(awk '{ printf "%s %.2f", $1, $2 + $3 }' "$W/time")"
}
# together KEY ARGS...: bench_train ARGS alone, then NP copies at once; prints
# the copies' KEY summed over the lone run's KEY, and averaged over it
together() {
    k=$1
    shift
    "$BT" "$@" >"$W/one" || die "bench_train $* failed"
    i=1
    while [ $i -le "$NP" ]; do
        "$BT" "$@" >"$W/many.$i" &
        i=$((i + 1))
    done
    wait
    one=$(val "$k" "$W/one")
    sum=$(for f in "$W"/many.*; do val "$k" "$f"; done | awk '{ s += $1 } END { print s }')
    rm -f "$W"/many.*
    calc "%.4f %.4f" "$sum / $one, $sum / $NP / $one"
}
r=1
while [ "$r" -le "$SWEEP_REPS" ]; do
    progress "scaling $r/$SWEEP_REPS: the sweep with 1 rank and with $NP"
    if [ $((r % 2)) = 1 ]; then # alternate the order: load that drifts hits both
        set -- $(sweep 1) $(sweep "$NP")
    else
        set -- $(sweep "$NP") $(sweep 1)
        set -- "$4" "$5" "$6" "$1" "$2" "$3"
    fi
    # $1 $2 $3: sweep, wall and CPU seconds with 1 rank; $4 $5 $6 with NP
    calc %.4f "$1 / $4" >>"$W/scale"
    calc %.4f "$2 / $5" >>"$W/scale_wall"
    calc %.4f "$NP * $3 / $6" >>"$W/scale_cpu"
    calc %.3f "$3 / $2" >>"$W/share1"
    calc %.3f "$6 / $5" >>"$W/shareN"
    echo "$1" >>"$W/sweep1"
    echo "$4" >>"$W/sweepN"
    progress "scaling $r/$SWEEP_REPS: $NP sgemm loops at once against one; $NP trainings against one"
    set -- $(together gemm_wall_gflops --only gemm --iters "$ITERS")
    echo "$1" >>"$W/ceiling"
    set -- $(together step_s --only train --iters "$ITERS" --reps 1)
    calc %.4f "$NP / $2" >>"$W/estimate"
    r=$((r + 1))
done
scale=$(m scale); scale_w=$(m scale_wall); scale_c=$(m scale_cpu); ceil=$(m ceiling); est=$(m estimate)
share1=$(m share1); shareN=$(m shareN); s1=$(m sweep1); sN=$(m sweepN)
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- 5: the scheduler ------------------------------------------------------------
# bench_sched: SCHED_TASKS empty trials through sched_run (rank 0 serves between
# its own trials, as in a sweep) at 8 and 16 ranks, against mpi4py's
# MPIPoolExecutor mapping a no-op over as many tasks on as many ranks (its
# workers started before the clock). Then the overhead inside a normal sweep:
# ticketsweep's own summary of the scaling sweep above (HDF5 writes' share of
# trial time, rank utilisation, workers' wait per trial).
SCHED_TASKS=${BENCH_SCHED_TASKS:-4096}
cat >"$W/pool.py" <<'POOLEOF'
import sys, time
from mpi4py.futures import MPIPoolExecutor
def noop(i):
    return i
if __name__ == "__main__":
    n = int(sys.argv[1])
    with MPIPoolExecutor() as ex:
        list(ex.map(noop, range(16)))
        t = time.perf_counter()
        list(ex.map(noop, range(n)))
        print(n / (time.perf_counter() - t))
POOLEOF
for np in 8 16; do
    progress "scheduler: $np ranks, $SCHED_TASKS empty trials, against MPIPoolExecutor"
    for i in $(seq "$REPS"); do
        mpirun --oversubscribe --bind-to none -np $np "$BUILD/bench_sched" "$SCHED_TASKS" 2>/dev/null |
            awk '{ print $2 / $3, $4 }' >>"$W/sched$np"
        mpirun --oversubscribe --bind-to none -np $np "$PY" -m mpi4py.futures "$W/pool.py" \
            "$SCHED_TASKS" 2>/dev/null >>"$W/pool$np"
    done
done
sched8=$(awk '{print $1}' "$W/sched8" | median); pool8=$(m pool8)
sched16=$(awk '{print $1}' "$W/sched16" | median); pool16=$(m pool16)
serve16=$(awk '{print $2}' "$W/sched16" | median)
# ticketsweep's own summary of the NP-rank scaling sweeps, medians
util=$(sed -n 's/.*rank utilisation \([0-9.]*\)%.*/\1/p' "$W/sweepsum" | median)
h5share=$(sed -n 's/.*HDF5 writes \([0-9.]*\)%.*/\1/p' "$W/sweepsum" | median)
waited=$(sed -n 's/.* \([0-9.]*\) us waited.*/\1/p' "$W/sweepsum" | median)

# ---- 6: Conv-2, Conv-4, Conv-6 ---------------------------------------------------
# bench_conv2 runs kernels = auto and kernels = dense alternately in one process;
# PyTorch alternates with it, process by process.
for a in conv2 conv4 conv6; do
    progress "$a: ticketsweep (auto and dense) against PyTorch, and against cblas_sgemm"
    for i in $(seq "$REPS"); do
        "$BUILD/bench_conv2" --arch $a --iters 12 >"$W/cv$a.$i"
        "$PY" tools/bench/bench_conv2_torch.py --arch $a --iters 12 >"$W/cvt$a.$i"
        t=$(val torch_${a}_samples_per_s "$W/cvt$a.$i")
        echo "$(val ${a}_samples_per_s "$W/cv$a.$i") $t" | awk '{ print $1 / $2 }' >>"$W/cvratio$a"
        echo "$(val ${a}_dense_samples_per_s "$W/cv$a.$i") $t" | awk '{ print $1 / $2 }' >>"$W/cvdratio$a"
        echo "$t" >>"$W/cvtsps$a"
        for k in samples_per_s dense_samples_per_s sgemm_share gflops dense_gflops parts_s \
            part_conv_fwd_s part_conv_bwd_s part_reorders_s part_pool_relu_s part_fc_s part_loss_s \
            part_optimizer_s; do
            val ${a}_$k "$W/cv$a.$i" >>"$W/cv$a.$k"
        done
    done
    val ${a}_convs "$W/cv$a.1" >"$W/cv$a.convs"
done

# ---- 7: the training graph ------------------------------------------------------
# Trainings with and without sharing (--dry-run: nothing trains), the demo's
# wall clock shared against --no-share on NP ranks, the cost of a resume after
# a kill -9 mid-chain (a per_round chain of 13 trainings killed once 5 were
# reported done: the trainings the resume ran and its wall clock against a
# whole run), and the planner at 100,000 cells (time and bytes per rank).
progress "training graph: trainings with and without sharing"
FASHION=/usr/share/datasets/fashion-mnist
for j in demo lenet300-paper; do
    "$TS" run "jobs/$j.ini" --dry-run --set data.train_images=$FASHION/train-images-idx3-ubyte.gz \
        --set data.train_labels=$FASHION/train-labels-idx1-ubyte.gz \
        --set data.test_images=$FASHION/t10k-images-idx3-ubyte.gz \
        --set data.test_labels=$FASHION/t10k-labels-idx1-ubyte.gz \
        >"$W/dry.$j" 2>&1 || { cat "$W/dry.$j" >&2; die "dry run of $j failed"; }
done
dtr() { sed -n 's/^trainings: \([0-9]*\) distinct of \([0-9]*\).*/\1 of \2/p' "$W/dry.$1"; }
DEMO_ITERS=${BENCH_DEMO_ITERS:-2000}
demo_run() {
    /usr/bin/time -f "%e" -o "$W/dtime" mpirun --oversubscribe --bind-to none -np "$NP" "$TS" run \
        jobs/demo.ini -o "$W/demo.h5" --force --set train.iterations="$DEMO_ITERS" "$@" \
        >"$W/demo.out" 2>&1 || { tail -n 20 "$W/demo.out" >&2; die "demo run failed"; }
    cat "$W/dtime"
}
progress "training graph: the demo, shared and --no-share ($NP ranks)"
demo_shared=$(demo_run)
demo_noshare=$(demo_run --no-share)
mkdir -p "$W/chain"
"$PY" - "$W/chain" <<'PYEOF'
import os, struct, sys
import numpy as np
d = sys.argv[1]
rng = np.random.default_rng(7)
for name, n in (("train", 1200), ("test", 300)):
    y = rng.integers(0, 10, n).astype(np.uint8)
    x = rng.integers(0, 60, (n, 8, 8)).astype(np.uint8)
    for i, k in enumerate(y):
        r, c = divmod(int(k), 4)
        x[i, r*2:r*2+2, c*2:c*2+2] = 200
    with open(os.path.join(d, name + "-images"), "wb") as f:
        f.write(struct.pack(">IIII", 2051, n, 8, 8)); f.write(x.tobytes())
    with open(os.path.join(d, name + "-labels"), "wb") as f:
        f.write(struct.pack(">II", 2049, n)); f.write(y.tobytes())
PYEOF
cat >"$W/chain.ini" <<CHAINEOF
[data]
train_images = $W/chain/train-images
train_labels = $W/chain/train-labels
test_images = $W/chain/test-images
test_labels = $W/chain/test-labels
validation = 200
[model]
hidden = 128, 64
[train]
batch = 20
iterations = 20000
eval_every = 5000
[prune]
controls = reinit
[sweep]
per_round = 0.5
rounds = 6
seeds = 5
CHAINEOF
progress "training graph: resume after kill -9 mid-chain"
/usr/bin/time -f "%e" -o "$W/ctime" mpirun --oversubscribe --bind-to none -np "$NP" "$TS" run \
    "$W/chain.ini" -o "$W/chain.h5" --force >"$W/chain.out" 2>&1 || die "chain run failed"
chain_full=$(cat "$W/ctime")
rm -f "$W/chain.h5"
setsid sh -c 'exec "$@" 2>"$0"' "$W/klog" mpirun --oversubscribe --bind-to none -np "$NP" "$TS" run \
    "$W/chain.ini" -o "$W/chain.h5" &
kpid=$!
i=0
until grep -q "^progress: 5/" "$W/klog" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 6000 ] || die "the chain run never reported 5 trainings"
    sleep 0.1
done
pkill -9 -s "$kpid" || true
wait "$kpid" 2>/dev/null || true
while pgrep -s "$kpid" >/dev/null; do sleep 0.1; done
/usr/bin/time -f "%e" -o "$W/rtime" mpirun --oversubscribe --bind-to none -np "$NP" "$TS" run \
    "$W/chain.ini" -o "$W/chain.h5" --resume >"$W/resume.out" 2>&1 || die "chain resume failed"
chain_resume=$(cat "$W/rtime")
chain_redo=$(sed -n 's/.*; \([0-9]*\) to run$/\1/p' "$W/resume.out" | head -n 1)
progress "training graph: planning 100,000 cells"
"$BUILD/bench_graph" >"$W/graph"

# ---- 8: memory --------------------------------------------------------------------
# The ranks of a node share one copy of the data (an MPI shared-memory window)
# and hold their own trainer besides. tools/bench/bench_pss.sh samples every rank's
# Pss (/proc/PID/smaps_rollup: a shared page counts once in the sum) every
# 0.5 s while a short sweep runs to its end, and keeps the largest sum: one
# seed a rank, one round after round 0, so each rank goes through every phase
# (evaluations, training, pruning, round 1). The targets are for 2 ranks.
# Conv-2's evaluations of 15,000 CIFAR-10 images make it the long one (about
# 5 minutes on 2 busy cores). Without data/ (`make data`) it is skipped.
pss_seeds=$(seq -s, 1 "$NP")
pss_lenet="" pss_conv2=""
if [ -e data/mnist/train-images-idx3-ubyte ] && [ -e data/cifar-10-batches-bin/data_batch_5.bin ]; then
    progress "memory: LeNet-300-100 on MNIST, $NP ranks, summed PSS"
    NP=$NP tools/bench/bench_pss.sh "$TS" jobs/lenet300-paper.ini --set train.iterations=300 \
        --set train.eval_every=100 --set sweep.rounds=1 --set sweep.seeds="$pss_seeds" >"$W/pss_lenet" ||
        die "the LeNet memory sweep failed"
    progress "memory: Conv-2 on CIFAR-10, $NP ranks, summed PSS (about 5 minutes)"
    NP=$NP tools/bench/bench_pss.sh "$TS" jobs/conv2-paper.ini --set train.iterations=4 --set train.eval_every=4 \
        --set sweep.rounds=1 --set sweep.seeds="$pss_seeds" --set prune.controls=none >"$W/pss_conv2" ||
        die "the Conv-2 memory sweep failed"
    pss_lenet=$(val pss_max_mb "$W/pss_lenet")
    pss_conv2=$(val pss_max_mb "$W/pss_conv2")
else
    progress "memory: skipped (no data/: make data)"
fi

# ---- 9: thin tickets ------------------------------------------------------------
# Side by side in one process: the same steps and evaluations with every
# product dense and over the survivors (CPU time, medians); then the paper's
# LeNet trajectory (round 0 and 20 rounds at 20 %, 1,000 steps a training,
# an evaluation point every 100: the paper job's ratio) through trial_run,
# dense and auto, its time in dense trainings (the dense run's mean).
progress "thin tickets: steps and evaluations by density, dense against sparse"
"$BUILD/bench_sparse" --iters 300 --reps "$REPS" >"$W/sparse" || die "bench_sparse failed"
progress "thin tickets: each layer's crossover"
"$BUILD/bench_sparse" --layers --reps "$REPS" >"$W/sparse_layers" || die "bench_sparse --layers failed"
progress "thin tickets: Conv-2 at rounds of its schedule, dense and auto (about 3 minutes)"
"$BUILD/bench_sparse" --conv2 --iters 10 --reps "$REPS" >"$W/sparse_conv2" || die "bench_sparse --conv2 failed"
progress "thin tickets: the 20-round trajectory, dense and auto (about a minute)"
"$BUILD/bench_sparse" --trajectory 1000 >"$W/sparse_traj" || die "bench_sparse --trajectory failed"
sp5=$(awk '$1 == "round_13.43" { print $6 }' "$W/sparse")
ev5=$(awk '$1 == "round_13.43" { print $10 }' "$W/sparse")
traj=$(val trajectory_dense_trainings "$W/sparse_traj")
evsh_d=$(val trajectory_dense_eval_share "$W/sparse_traj")
evsh_a=$(val trajectory_auto_eval_share "$W/sparse_traj")

# ---- 11: layouts ------------------------------------------------------------------
# The paper jobs' wall clock on nodes of 128 cores, 1 and 16 of them: 1 thread
# against the best layout of ranks x threads, from their dry runs (the
# scheduler replayed over the graph, trainings timed here at 1 and 2 threads,
# Amdahl's law beyond); and the speed-up of a Conv-2 training on T threads
# (tools/bench/bench_layouts.sh). Without data/ (`make data`) it is skipped.
if [ -e data/mnist/train-images-idx3-ubyte ] && [ -e data/cifar-10-batches-bin/data_batch_5.bin ]; then
    progress "layouts: the paper jobs' dry runs on nodes of 128 cores (a few minutes)"
    BUILD=$BUILD tools/bench/bench_layouts.sh >"$W/layouts" || die "tools/bench/bench_layouts.sh failed"
else
    echo "skipped: no data/ (make data)" >"$W/layouts"
fi

# ---- the table ------------------------------------------------------------------
# a wall-clock scaling figure means little when the machine itself would not
# give NP processes 1.85 times what it gives one
trust=""
[ "$(calc %d "($ceil < 1.85)")" = 1 ] && trust=" (unreliable: see the ceiling)"
ms() { calc %.3f "$1 * 1000"; }
pct() { calc %.1f "100 * $1 / $step"; }
row() { printf '  %-46s %8s %6s%%\n' "$1" "$(ms "$2")" "$(pct "$2")"; }
{
    echo "ticketsweep bench, $(date -u '+%Y-%m-%d %H:%M UTC'), revision $rev, host $(hostname)"
    echo "machine:   $cpu (family $fam model $mod, $mhz MHz), $cores cores, $simd, L2 $l2, L3 $l3"
    echo "blas:      $blas_line"
    [ -z "$blas_advice" ] || echo "           warning: this machine runs $blas_advice"
    echo "libraries: $blas"
    echo "           ticketsweep links $blaslib"
    echo "           PyTorch $torchv (Python $pyv) calls $tblas"
    echo "           Open MPI $ompi, HDF5 $hdf5, gcc $gccv; one BLAS thread everywhere"
    echo "load:      $load0 before, $load1 after (1, 5, 15 min)"
    echo "method:    $REPS alternating repetitions of $steps training steps a side (batch 60,"
    echo "           Adam, Fashion-MNIST); per-step CPU time of the working thread, medians;"
    echo "           ratios are medians of per-repetition ratios"
    echo
    printf '%-36s %12s %20s %7s %8s  %s\n' "figure" "ticketsweep" "reference" "ratio" "target" ""
    printf '%-36s %12s %20s %6sx %8s  %s\n' "1 training samples/s" "$c_sps" "PyTorch $t_sps" \
        "$(calc %.2f "$r_torch")" ">= 1.5x" "$(verdict "$r_torch >= 1.5")"
    printf '%-36s %12s %20s %6sx\n' "  the same in wall clock, whole runs" "$c_wall" "PyTorch $t_wall" \
        "$(calc %.2f "$r_wall")"
    printf '%-36s %12s %20s %7s %8s  %s\n' "2 step GFLOP/s (GEMM FLOPs)" "$sgf" "cblas_sgemm $ggf" \
        "$(calc %.1f%% "100 * $roof")" ">= 80%" "$(verdict "$roof >= 0.8")"
    printf '%-36s %12s %20s %6sx %8s  %s\n' "4 sweep trials/s, $NP ranks vs 1" "$(calc %.3f "$TRIALS / $sN")" \
        "1 rank $(calc %.3f "$TRIALS / $s1")" "$(calc %.2f "$scale")" ">= 1.85x" "$(verdict "$scale >= 1.85")$trust"
    printf '%-36s %12s %20s %6sx\n' "  the same, whole mpirun" "" "" "$(calc %.2f "$scale_w")"
    printf '%-36s %12s %20s\n' "  cores the sweep got (CPU/wall)" "$shareN of $NP" "1 rank $share1 of 1"
    printf '%-36s %12s %20s %6sx\n' "  machine ceiling: $NP sgemm loops vs 1" "" "" "$(calc %.2f "$ceil")"
    printf '%-36s %12s %20s %6sx %8s  %s\n' "  with a core per rank: sweep" "" "CPU-time estimate" \
        "$(calc %.2f "$scale_c")" ">= 1.85x" "$(verdict "$scale_c >= 1.85")"
    printf '%-36s %12s %20s %6sx %8s  %s\n' "  with a core per rank: training" "" "CPU-time estimate" \
        "$(calc %.2f "$est")" ">= 1.85x" "$(verdict "$est >= 1.85")"
    printf '%-36s %12s %20s %6sx %8s  %s\n' "5 dispatch trials/s, 8 ranks" "$(calc %.0f "$sched8")" \
        "MPIPool $(calc %.0f "$pool8")" "$(calc %.1f "$sched8 / $pool8")" ">= 10x" \
        "$(verdict "$sched8 >= 5000 && $sched8 / $pool8 >= 10")"
    printf '%-36s %12s %20s %6sx %8s  %s\n' "  16 ranks" "$(calc %.0f "$sched16")" \
        "MPIPool $(calc %.0f "$pool16")" "$(calc %.1f "$sched16 / $pool16")" ">= 10x" \
        "$(verdict "$sched16 >= 5000 && $sched16 / $pool16 >= 10")"
    printf '%-36s %12s\n' "  rank 0's time per request, 16 ranks" "$(calc %.1f "$serve16") us"
    printf '%-36s %12s %20s %7s %8s  %s\n' "  HDF5 writes, share of trial time" "${h5share:-?}%" \
        "(scaling sweep)" "" "< 2%" "$(verdict "${h5share:-100} < 2")"
    printf '%-36s %12s %20s\n' "  rank utilisation, workers' wait" "${util:-?}%" "${waited:-?} us/trial"
    echo "6 Conv-2/4/6 (batch 60, Adam, 3x32x32): convolutions under kernels = auto: $(cat "$W/cvconv2.convs")"
    for a in conv2 conv4 conv6; do
        A=$(echo $a | sed 's/conv/Conv-/')
        printf '%-36s %12s %20s %6sx %8s  %s\n' "  $A samples/s, kernels = auto" "$(m cv$a.samples_per_s)" \
            "PyTorch $(m cvtsps$a)" "$(calc %.2f "$(m cvratio$a)")" ">= 2x" "$(verdict "$(m cvratio$a) >= 2")"
        printf '%-36s %12s %20s %6sx\n' "  $A samples/s, kernels = dense" "$(m cv$a.dense_samples_per_s)" \
            "PyTorch $(m cvtsps$a)" "$(calc %.2f "$(m cvdratio$a)")"
        printf '%-36s %12s %20s %7s\n' "  $A GFLOP/s auto, dense; sgemm share" "$(m cv$a.gflops)" \
            "dense $(m cv$a.dense_gflops)" "$(calc %.1f%% "100 * $(m cv$a.sgemm_share)")"
        printf '  %s step in pieces, auto, ms:' "$A"
        for k in conv_fwd conv_bwd reorders pool_relu fc loss optimizer; do
            printf ' %s %s' "$k" "$(calc %.1f "1000 * $(m cv$a.part_${k}_s)")"
        done
        printf ' (sum %s, whole step %s)\n' "$(calc %.1f "1000 * $(m cv$a.parts_s)")" \
            "$(calc %.1f "60000 / $(m cv$a.samples_per_s)")"
    done
    printf '%-36s %12s\n' "7 trainings: demo (distinct of all)" "$(dtr demo)"
    printf '%-36s %12s\n' "  lenet300-paper (per_round 0.2 x 20)" "$(dtr lenet300-paper)"
    printf '%-36s %12s %20s %6sx\n' "  demo wall s, $NP ranks, shared" "$demo_shared" \
        "--no-share $demo_noshare" "$(calc %.2f "$demo_noshare / $demo_shared")"
    printf '%-36s %12s %20s %6s%%\n' "  resume after kill -9 at 5 of 13, s" "$chain_resume" \
        "whole run $chain_full" "$(calc %.0f "100 * $chain_resume / $chain_full")"
    printf '%-36s %12s %20s\n' "  trainings the resume ran" "${chain_redo:-?} of 13" "(8 + those in flight)"
    printf '%-36s %12s %20s\n' "  plan of $(val cells "$W/graph") cells, s" \
        "$(calc %.2f "$(val plan_seconds "$W/graph")")" "$(val trainings "$W/graph") trainings"
    printf '%-36s %12s %20s\n' "  plan bytes per rank, MB" "$(calc %.0f "$(val plan_bytes "$W/graph") / 1e6")" \
        "rank 0 +$(calc %.0f "$(val root_table_bytes "$W/graph") / 1e6") MB"
    if [ -n "$pss_lenet" ]; then
        printf '%-36s %12s %20s %7s %8s  %s\n' "8 memory, $NP ranks: summed PSS, MB" "" "" "" "" ""
        printf '%-36s %12s %20s %7s %8s  %s\n' "  LeNet-300-100, MNIST (55 MB data)" "$pss_lenet" "" "" \
            "<= 200" "$(verdict "$pss_lenet <= 200")"
        printf '%-36s %12s %20s %7s %8s  %s\n' "  Conv-2, CIFAR-10 (184 MB data)" "$pss_conv2" "" "" \
            "<= 900" "$(verdict "$pss_conv2 <= 900")"
    else
        printf '%-36s %12s\n' "8 memory" "skipped: no data/ (make data)"
    fi
    printf '%-36s %12s %20s %6sx %8s  %s\n' "9 LeNet step at 5 % weights, auto" "" "dense" "$sp5" \
        ">= 4x" "$(verdict "$sp5 >= 4")"
    printf '%-36s %12s %20s %6sx %8s  %s\n' "  evaluation point at 5 %" "" "dense" "$ev5" \
        ">= 4x" "$(verdict "$ev5 >= 4")"
    printf '%-36s %12s %20s %7s %8s  %s\n' "  20-round trajectory, dense trainings" "$traj" \
        "21 all dense" "" "<= 8" "$(verdict "$traj <= 8")"
    printf '%-36s %12s %20s\n' "  evaluation's share of the time" "$(calc %.1f%% "100 * $evsh_a") auto" \
        "$(calc %.1f%% "100 * $evsh_d") dense"
    echo
    echo "9 thin tickets, by density (kernels = dense, sparse, auto; ms):"
    grep -v '^# the 20' "$W/sparse" | sed 's/^/  /'
    echo "  each layer alone (a training step's products, batch 60; us):"
    grep -E '^(#|crossover)' "$W/sparse_layers" | sed 's/^/  /'
    sed 's/^/  /' "$W/sparse_traj"
    sed 's/^/  /' "$W/sparse_conv2"
    echo
    echo "11 layouts (tools/bench/bench_layouts.sh):"
    sed 's/^/  /' "$W/layouts"
    echo
    echo "PyTorch reference: $t_kind Adam was the faster (in most repetitions)."
    echo
    echo "3 where a training step goes ($(ms "$step") ms per step)"
    printf '  %-46s %8s %7s\n' "part" "ms/step" "share"
    row "forward GEMMs" "$gfw"
    row "forward bias + ReLU (beyond the GEMMs)" "$(calc %.9f "$fwd - $gfw")"
    row "loss (softmax cross-entropy and its gradient)" "$loss"
    row "backward GEMMs (weight and input gradients)" "$gbw"
    row "backward ReLU' + bias gradients (beyond GEMMs)" "$(calc %.9f "$bwd - $gbw")"
    row "Adam update + masking (one fused pass)" "$opt"
    row "batch gathering, loop (the step's remainder)" "$rest"
    printf '  %-46s %8s ms per evaluation point (%s images)\n' "evaluation" "$(ms "$ev")" "$evimg"
    printf '  %-46s %7s%% of a default run (a point per 1000 steps)\n' "" \
        "$(calc %.1f "100 * $ev / ($ev + 1000 * $step)")"
} >"$W/table"
cat "$W/table"
{ cat "$W/table"; echo; } >>"$OUT"
progress "appended to $OUT"

# ---- 10: threads inside a training (its own script and table) ------------------
BUILD=$BUILD BENCH_OUT=$OUT BENCH_REPS=$REPS tools/bench/bench_threads.sh

# ---- 12: a sweep on many ranks (its own script and table) ----------------------
BUILD=$BUILD BENCH_OUT=$OUT tools/bench/bench_scale.sh
