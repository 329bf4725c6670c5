#!/bin/sh
# bench_threads.sh - `make bench`, section 10: one training on the machine's
# cores against one core (ticketsweep run --threads), and Conv-2's whole runs
# against PyTorch's. tools/bench/bench.sh runs it last; alone: BUILD=build
# tools/bench/bench_threads.sh (after `make bench` built the programs).
#
#   a  tools/bench/bench_threads.c in one process, T threads and 1 alternating step
#      by step (wall clock: waiting for the slowest thread is part of a step):
#      Conv-2 (random CIFAR-shaped input) and LeNet-300-100 dense and at 5 %
#      of its weights (sparse kernels): a training step and an evaluation;
#      and a step at 1 thread with train.chunks = 1 (the earlier release's
#      arithmetic) against the chunked one, what chunking costs one thread.
#   b  whole runs of jobs/conv2-paper.ini on the real CIFAR-10 (data/: make
#      data): 2 trainings of 200 steps, an evaluation point at 0 and 200
#      (5,000 validation and 10,000 test images each), --threads T against
#      --threads 1, alternating, wall clock of the whole process; and at one
#      thread against tools/bench/bench_conv2_torch_run.py, the same work in
#      PyTorch on one thread, start-up included.
# T is the machine's cores (BENCH_THREADS to choose); BENCH_RUNS=0 skips b.
# Wall clock needs a
# quiet machine: the load before and after is printed with the table.
# Prints a table and appends it to $BENCH_OUT (tools/bench/bench-results.txt).
set -eu
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
REPS=${BENCH_REPS:-3}
OUT=${BENCH_OUT:-tools/bench/bench-results.txt}
T=${BENCH_THREADS:-$(getconf _NPROCESSORS_ONLN)}
PY=/usr/bin/python3
TS=$BUILD/ticketsweep
BTH=$BUILD/bench_threads
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
. tools/bench/bench_lib.sh
for f in "$BTH" "$TS"; do [ -x "$f" ] || die "$f is missing: run 'make bench', not this script"; done
W=$(mktemp -d /tmp/tsbench.XXXXXX)
trap 'rm -rf "$W"' EXIT
export TMPDIR="$W"
now() { date +%s.%N; }
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- a: steps and evaluations --------------------------------------------------
for r in $(seq "$REPS"); do
    progress "threads: Conv-2 step and evaluation at $T threads and 1 ($r of $REPS)"
    "$BTH" --arch conv2 --threads "$T" --iters 16 --eval 3000 >>"$W/conv2" || die "bench_threads conv2 failed"
    progress "threads: LeNet-300-100 dense and at 5 % ($r of $REPS)"
    "$BTH" --arch lenet --threads "$T" --iters 300 --eval 10000 >>"$W/lenet" || die "bench_threads lenet failed"
    "$BTH" --arch lenet --threads "$T" --iters 300 --eval 10000 --density 0.05 >>"$W/lenet5" ||
        die "bench_threads lenet 5 % failed"
done
# med FILE KEY: the median of KEY's values over the repetitions
med() { awk -v k="$2" '$1 == k { print $2 }' "$W/$1" | median; }

# ---- b: whole Conv-2 runs on CIFAR-10 --------------------------------------------
have_data=0
[ -e data/cifar-10-batches-bin/data_batch_5.bin ] && [ "${BENCH_RUNS:-1}" != 0 ] && have_data=1
run() { # run THREADS: wall seconds of a whole ticketsweep run
    t0=$(now)
    "$TS" run jobs/conv2-paper.ini -o "$W/run.h5" --force --threads "$1" --set train.iterations=200 \
        --set train.eval_every=200 --set sweep.rounds=1 --set sweep.seeds=1 --set prune.controls=none \
        >"$W/run.log" 2>&1 || { cat "$W/run.log" >&2; die "the Conv-2 run failed"; }
    calc %.3f "$(now) - $t0"
}
if [ $have_data = 1 ]; then
    "$PY" -c 'import torch' 2>/dev/null || die "PyTorch is missing: apt-get install python3-torch"
    for r in $(seq "$REPS"); do
        progress "threads: whole Conv-2 runs, $T threads, 1 thread, PyTorch ($r of $REPS; about a minute each)"
        a=$(run "$T")
        b=$(run 1)
        t0=$(now)
        OMP_NUM_THREADS=1 "$PY" tools/bench/bench_conv2_torch_run.py --iters 200 --trainings 2 >"$W/torch.log" 2>&1 ||
            { cat "$W/torch.log" >&2; die "the PyTorch run failed"; }
        c=$(calc %.3f "$(now) - $t0")
        echo "$a" >>"$W/runT"
        echo "$b" >>"$W/run1"
        echo "$c" >>"$W/runtorch"
        calc %.4f "$b / $a" >>"$W/runratio"
        calc %.4f "$c / $b" >>"$W/torchratio"
    done
fi
load1=$(cut -d' ' -f1-3 /proc/loadavg)

{
    echo "ticketsweep bench, section 10 (threads inside a training), $(date -u '+%Y-%m-%d %H:%M UTC'), revision $(git describe --always --dirty 2>/dev/null || echo ?)"
    echo "machine:   $(getconf _NPROCESSORS_ONLN) cores; T = $T threads against 1; load $load0 before, $load1 after"
    echo "method:    wall clock; T threads and 1 alternate step by step (evaluation by evaluation, run by"
    echo "           run); medians of $REPS repetitions of per-pair ratios; train.chunks = $(val conv2_chunks "$W/conv2") for batch 60"
    printf '%-44s %10s %10s %7s %8s  %s\n' "figure" "T threads" "1 thread" "ratio" "target" ""
    row() { # row LABEL FILE KEY TARGET
        printf '%-44s %9.2fms %9.2fms %6.2fx %8s  %s\n' "$1" "$(calc %.4f "1000 * $(med "$2" "$3_step_tN_s")")" \
            "$(calc %.4f "1000 * $(med "$2" "$3_step_t1_s")")" "$(med "$2" "$3_step_speedup")" ">= $4x" \
            "$(verdict "$(med "$2" "$3_step_speedup") >= $4")"
    }
    erow() {
        printf '%-44s %9.1fms %9.1fms %6.2fx %8s  %s\n' "$1" "$(calc %.4f "1000 * $(med "$2" "$3_eval_tN_s")")" \
            "$(calc %.4f "1000 * $(med "$2" "$3_eval_t1_s")")" "$(med "$2" "$3_eval_speedup")" "${4:+>= }$4${4:+x}" \
            "${4:+$(verdict "$(med "$2" "$3_eval_speedup") >= ${4:-0}")}"
    }
    row "Conv-2 step (batch 60, Adam, oneDNN)" conv2 conv2 1.8
    erow "Conv-2 evaluation (3,000 images)" conv2 conv2 1.9
    row "LeNet-300-100 step, dense" lenet lenet 1.5
    erow "LeNet-300-100 evaluation (10,000), dense" lenet lenet 1.8
    row "LeNet-300-100 step at 5 % (sparse)" lenet5 lenet_d0.05 1.3
    erow "LeNet-300-100 evaluation at 5 %" lenet5 lenet_d0.05 ""
    echo "one thread, each alone: the chunked step (train.chunks = $(val conv2_chunks "$W/conv2")) against train.chunks = 1 (the earlier arithmetic)"
    printf '%-44s %9.1fms %9.1fms %6.2fx\n' "  Conv-2" \
        "$(calc %.4f "1000 * $(med conv2 conv2_step_t1_alone_s)")" "$(calc %.4f "1000 * $(med conv2 conv2_step_chunks1_s)")" \
        "$(calc %.3f "$(med conv2 conv2_step_chunks1_s) / $(med conv2 conv2_step_t1_alone_s)")"
    printf '%-44s %9.2fms %9.2fms %6.2fx\n' "  LeNet-300-100 dense" \
        "$(calc %.4f "1000 * $(med lenet lenet_step_t1_alone_s)")" "$(calc %.4f "1000 * $(med lenet lenet_step_chunks1_s)")" \
        "$(calc %.3f "$(med lenet lenet_step_chunks1_s) / $(med lenet lenet_step_t1_alone_s)")"
    if [ $have_data = 1 ]; then
        printf '%-44s %9.1fs  %9.1fs  %6.2fx %8s  %s\n' "Conv-2 whole run, 2 x 200 steps + 4 evaluations" \
            "$(m runT)" "$(m run1)" "$(m runratio)" ">= 1.8x" "$(verdict "$(m runratio) >= 1.8")"
        printf '%-44s %9.1fs  %9.1fs  %6.2fx %8s  %s\n' "  at 1 thread against PyTorch (1 thread)" \
            "$(m run1)" "$(m runtorch)" "$(m torchratio)" ">= 2.3x" "$(verdict "$(m torchratio) >= 2.3")"
        echo "  (columns of that line: ticketsweep, PyTorch; the ratio is PyTorch's time over ticketsweep's)"
    else
        echo "Conv-2 whole runs: skipped (no data/: make data; or BENCH_RUNS=0)"
    fi
} >"$W/table"
cat "$W/table"
{ cat "$W/table"; echo; } >>"$OUT"
