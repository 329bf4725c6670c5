#!/bin/sh
# tests/cluster/test_slurm.sh - the Slurm job scripts on a real one-node Slurm cluster.
#
# Starts munged, slurmctld and slurmd from Debian's packages with everything of theirs
# (munge key and socket, slurm.conf, state, spool, logs) in the scratch folder and
# ports of its own (docs: /work/shared/recipes/local-slurm.md), then:
#   1. jobs/slurm-submit-array.sh on the tiny job: a 4-task array (each task mpirun -np
#      2 --shard I/4 into its own file) and the dependent merge. Checks every shard
#      holds exactly its trials, the merged file has all trials done and the same data
#      as a one-job run (h5diff without the ledger and root attributes).
#   2. jobs/slurm-sweep.sbatch through sbatch --wait, one rank of 2 threads
#      (--cpus-per-task=2: mpirun --map-by slot:PE=2, --threads 2): exit 0, same data as
#      the one-job run.
#   3. jobs/slurm-sweep.sbatch on a slower job, interrupted with SIGUSR1 to the batch
#      shell (what --signal=B:USR1@120 sends): the trap forwards it to mpirun, the run
#      leaves trials pending and exits 3, the job requeues itself, the next run resumes
#      with --resume and finishes every trial.
# Stops every daemon and job process it started, by PID, on any exit.
# Skips only when not root or the Slurm/munge packages are not installed.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to start munged, slurmctld and slurmd"
for b in /usr/sbin/munged /usr/sbin/slurmctld /usr/sbin/slurmd sbatch scontrol scancel squeue sinfo \
         munge unmunge setpriv ss h5diff; do
    command -v "$b" >/dev/null 2>&1 ||
        skip "$b not found: make test-cluster installs slurm-wlm slurmctld slurmd slurm-client munge"
done
[ -x "$TS" ] || fail "$TS: not built (run make)"
export TS

T=$W/slurm
pids=""          # daemons we started
cleanup() {
    trap - EXIT INT TERM HUP
    if [ -n "$pids" ]; then
        # our cluster's jobs first (SLURM_CONF points at our controller only)
        scancel --quiet --user=root >/dev/null 2>&1
        i=0
        while [ $i -lt 20 ] && [ -n "$(squeue -h -o %i 2>/dev/null)" ]; do sleep 0.25; i=$((i + 1)); done
    fi
    # job processes that outlived their job (mpirun, ticketsweep): whatever else runs
    # in our scratch folder, by PID
    cd / || :
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        case " $$ $pids " in *" $p "*) continue ;; esac
        case "$(readlink "/proc/$p/cwd" 2>/dev/null)" in "$W"|"$W"/*) kill -9 "$p" 2>/dev/null ;; esac
    done
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 40 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

show_logs() {
    for f in "$T"/log/* "$W"/*.out; do
        [ -f "$f" ] && { echo "--- $f"; tail -n 25 "$f"; }
    done
}
die() { show_logs; fail "$@"; }

# A free TCP port of the loopback range we pick from (ss: listening sockets).
free_port() {
    p=$1
    while ss -Htln "sport = :$p" | grep -q .; do p=$((p + 1)); done
    echo "$p"
}

# --- start the cluster ---------------------------------------------------------------
start=$(date +%s)
chmod 755 "$W"           # slurm and munge must reach their folders inside it
mkdir -p "$T/state" "$T/spool" "$T/log" "$T/munge"
chown slurm:slurm "$T/state" "$T/log"
chown munge:munge "$T/munge"
chmod 755 "$T/munge"
# a key of our own: nothing of the system's munge is used or changed
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 2>/dev/null
chown munge:munge "$T/munge/munge.key"
chmod 600 "$T/munge/munge.key"
sock=$T/munge/munge.socket
setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged --foreground \
    --socket="$sock" --key-file="$T/munge/munge.key" --pid-file="$T/munge/munged.pid" \
    --log-file="$T/munge/munged.log" --seed-file="$T/munge/munged.seed" \
    >"$T/log/munged.out" 2>&1 &
pids="$pids $!"
i=0
until munge -S "$sock" -n 2>/dev/null | unmunge -S "$sock" >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 50 ] || { cat "$T/log/munged.out" "$T/munge/munged.log" 2>/dev/null; fail "munged did not start"; }
    sleep 0.1
done

H=$(hostname -s)
NCPU=$(nproc)
MEM=$(awk '/MemTotal/{print int($2/1024*0.9)}' /proc/meminfo)
CTLD_PORT=$(free_port 26817)
SLURMD_PORT=$(free_port $((CTLD_PORT + 1)))
export SLURM_CONF="$T/slurm.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=tstest
SlurmctldHost=$H(127.0.0.1)
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$sock,cred_expire=5
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
MailProg=/bin/true
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
InactiveLimit=0
KillWait=5
MinJobAge=4
SchedulerParameters=batch_sched_delay=0,sched_interval=1,bf_interval=1
NodeName=$H NodeAddr=127.0.0.1 CPUs=$NCPU RealMemory=$MEM State=UNKNOWN
PartitionName=debug Nodes=$H Default=YES MaxTime=INFINITE State=UP
EOF
/usr/sbin/slurmctld -D -f "$SLURM_CONF" >"$T/log/slurmctld.out" 2>&1 &
pids="$! $pids"
/usr/sbin/slurmd -D -f "$SLURM_CONF" >"$T/log/slurmd.out" 2>&1 &
pids="$! $pids"
i=0
until [ "$(sinfo -h -o %t 2>/dev/null)" = idle ]; do
    i=$((i + 1))
    [ $i -lt 100 ] || die "the node did not come up idle: $(sinfo -h -o '%t %E' 2>&1)"
    sleep 0.1
done
echo "cluster up in $(($(date +%s) - start)) s (ports $CTLD_PORT, $SLURMD_PORT)"

# job_state ID: the job's state, once it has left the queue's active states.
wait_job() {
    i=0
    while :; do
        st=$(scontrol show job -o "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')
        case "$st" in
            PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|REQUEUE_HOLD|REQUEUE_FED|RESIZING|SUSPENDED|"")
                [ -n "$st" ] || [ $i -lt 20 ] || { echo GONE; return; } ;;
            *) echo "$st"; return ;;
        esac
        i=$((i + 1))
        [ $i -lt 300 ] || { echo TIMEOUT; return; }
        sleep 0.2
    done
}

# statuses FILE: the /trials/status row as one string, e.g. 11111111
statuses() {
    "$PY" -c 'import sys, h5py; print("".join(str(int(s)) for s in h5py.File(sys.argv[1], "r")["/trials/status"][:]))' "$1"
}

same_data() {
    h5diff --exclude-path /trials/wall_seconds --exclude-path /trials/rank \
        --exclude-path /trials/host \
        --exclude-path /nodes/wall_seconds --exclude-path /nodes/rank --exclude-path /nodes/host --exclude-attribute / "$1" "$2" >"$W/h5diff.out" 2>&1 ||
        { head -n 30 "$W/h5diff.out"; die "$2: data differ from the one-job run $1"; }
}

small_data "$W/data"
tiny_job "$W/job.ini" "$W/data"
mpirun_ts 2 run "$W/job.ini" -o "$W/ref.h5" >"$W/ref.log" 2>&1 || { cat "$W/ref.log"; fail "the reference run failed"; }
cd "$W" || fail "cd $W"

# --- 1. array + dependent merge --------------------------------------------------------
t0=$(date +%s)
"$TOP/jobs/slurm-submit-array.sh" --ntasks=2 --time=5 "$W/job.ini" 4 "$W/shards" "$W/merged.h5" \
    >"$W/submit.out" 2>&1 || { cat "$W/submit.out"; die "slurm-submit-array.sh failed"; }
array=$(sed -n 's/^array job \([0-9][0-9]*\).*/\1/p' "$W/submit.out")
merge=$(sed -n 's/^merge job \([0-9][0-9]*\).*/\1/p' "$W/submit.out")
[ -n "$array" ] && [ -n "$merge" ] || { cat "$W/submit.out"; die "no job ids from slurm-submit-array.sh"; }
scontrol show job -o "$merge" | grep -q "Dependency=afterok:${array}_\*" ||
    die "merge job $merge does not depend on array $array: $(scontrol show job -o "$merge")"
st=$(wait_job "$merge")
[ "$st" = COMPLETED ] || die "merge job $merge: $st"
for i in 0 1 2 3; do
    log=$W/ticketsweep-shard-${array}_$i.out
    grep -q "task $i: ticketsweep exited with status 0" "$log" 2>/dev/null || die "array task $i did not succeed"
    want=$("$PY" -c "print(''.join('1' if t % 4 == $i else '0' for t in range(8)))")
    got=$(statuses "$W/shards/job.shard${i}of4.h5")
    [ "$got" = "$want" ] || die "shard $i: trial statuses $got, expected $want"
done
grep -q "8 trials: 8 done, 0 failed, 0 pending" "$W/ticketsweep-merge-$merge.out" ||
    die "the merge job did not report 8 done trials"
[ "$(statuses "$W/merged.h5")" = 11111111 ] || die "merged.h5: statuses $(statuses "$W/merged.h5")"
same_data "$W/ref.h5" "$W/merged.h5"
echo "array + merge: $(($(date +%s) - t0)) s"

# --- 2. the single sweep through sbatch --wait -----------------------------------------
t0=$(date +%s)
sbatch --wait --nodes=1 --ntasks-per-node=1 --cpus-per-task=2 --time=5 --output="$W/sweep-%j.out" \
    "$TOP/jobs/slurm-sweep.sbatch" "$W/job.ini" "$W/sweep.h5" >"$W/sbatch.out" 2>&1 ||
    { cat "$W/sbatch.out"; die "the sweep job failed"; }
grep -q "ticketsweep exited with status 0" "$W"/sweep-*.out || die "the sweep job's log has no success"
grep -q "slurm-sweep: 1 ranks of 2 thread(s)" "$W"/sweep-*.out &&
    grep -q "^ticketsweep .* --threads 2\$" "$W"/sweep-*.out || die "the sweep job did not run 1 rank of 2 threads"
[ "$(statuses "$W/sweep.h5")" = 11111111 ] || die "sweep.h5: statuses $(statuses "$W/sweep.h5")"
same_data "$W/ref.h5" "$W/sweep.h5"
echo "sweep: $(($(date +%s) - t0)) s"

# --- 3. stop before the time limit, requeue, resume ------------------------------------
t0=$(date +%s)
# about 1 s per trial: the signal comes while trials are in flight and others wait
sed 's/^iterations = .*/iterations = 2500/; s/^eval_every = .*/eval_every = 500/' "$W/job.ini" >"$W/slow.ini"
job=$(sbatch --parsable --nodes=1 --ntasks-per-node=2 --time=5 --output="$W/slow-%j.out" \
    "$TOP/jobs/slurm-sweep.sbatch" "$W/slow.ini" "$W/slow.h5") || die "sbatch of the slow sweep failed"
job=${job%%;*}
# once a trial is done, the run is in full flight: signal the batch shell only
i=0
until grep -q "^trial .* done on rank" "$W/slow-$job.out" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 150 ] || die "the slow sweep did not start"
    sleep 0.1
done
scancel --batch --signal=USR1 "$job" || die "scancel --batch --signal=USR1 failed"
st=$(wait_job "$job")
log=$W/slow-$job.out
[ "$st" = COMPLETED ] || die "the interrupted sweep ended $st"
grep -q "SIGUSR1: asking ticketsweep to stop" "$log" || die "the trap did not see SIGUSR1"
grep -q "ticketsweep exited with status 3" "$log" || die "the interrupted run did not exit with 3"
grep -q "[1-7] done, 0 failed, [1-7] pending" "$log" || die "the interrupted run did not leave trials pending"
grep -q "requeueing job $job" "$log" || die "the job did not requeue itself"
grep -q "(restart 1).*--resume" "$log" || die "the requeued run did not resume"
grep -q "ticketsweep exited with status 0" "$log" || die "the resumed run did not finish"
[ "$(statuses "$W/slow.h5")" = 11111111 ] || die "slow.h5: statuses $(statuses "$W/slow.h5")"
echo "interrupt + requeue + resume: $(($(date +%s) - t0)) s"
echo "slurm: all checks passed"
