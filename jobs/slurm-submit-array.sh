#!/bin/sh
# jobs/slurm-submit-array.sh - submit a sharded sweep: a job array of N shards
# (jobs/slurm-array.sbatch) and the merge job (jobs/slurm-merge.sbatch) that runs once
# every shard succeeded. Run it from the ticketsweep folder:
#
#   jobs/slurm-submit-array.sh [--sbatch-option...] [JOB.ini] [N] [SHARD_DIR] [OUT.h5]
#
#   --sbatch-option  leading options go to the array's sbatch, e.g. --ntasks=4
#                    --cpus-per-task=8 --time=02:00:00 (4 ranks of 8 threads a task; the
#                    merge job keeps its own small request)
#   JOB.ini          the sweep (default jobs/demo.ini)
#   N                the number of shards (default 8)
#   SHARD_DIR        the shards' folder (default shards-<job name>)
#   OUT.h5           the merged file (default <job name>.h5)
#
# For both jobs, sbatch also reads SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_QOS, ... from
# the environment. If a shard fails, the merge job is cancelled (--kill-on-invalid-dep);
# fix the cause, resubmit that task alone (sbatch --array=I jobs/slurm-array.sbatch
# JOB.ini N SHARD_DIR), then the merge (see jobs/slurm-merge.sbatch).
#
# Prints the two job ids: "array job A" and "merge job M" lines.
set -eu

here=$(dirname "$0")
array_opts=""
while [ $# -gt 0 ]; do
    case "$1" in
        --) shift; break ;;
        -*) array_opts="$array_opts $1"; shift ;;
        *) break ;;
    esac
done
job=${1:-jobs/demo.ini}
name=$(basename "${job%.*}")
n=${2:-8}
dir=${3:-shards-$name}
out=${4:-$name.h5}

[ -r "$job" ] || { echo "slurm-submit-array: $job: no such job file" >&2; exit 2; }
case "$n" in '' | *[!0-9]* | 0) echo "slurm-submit-array: N '$n': expected a count >= 1" >&2; exit 2 ;; esac
mkdir -p "$dir"

# --parsable prints "JOBID" or "JOBID;CLUSTER"
# shellcheck disable=SC2086  # array_opts is a list of options
array=$(sbatch --parsable --array="0-$((n - 1))" $array_opts "$here/slurm-array.sbatch" "$job" "$n" "$dir")
array=${array%%;*}
echo "array job $array: $n shards of $job into $dir/"
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
        "$here/slurm-merge.sbatch" "$job" "$n" "$dir" "$out")
merge=${merge%%;*}
echo "merge job $merge: writes $out when every shard succeeded"
