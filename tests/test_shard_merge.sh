#!/bin/sh
# Job-array shards: --shard I/N runs only trials t mod N = I into its own file
# with the full layout; merge of the shards equals a one-job run; the shard
# defaults from Slurm's array variables; shards of different jobs are refused.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"

"$TS" run "$W/job.ini" -o "$W/one.h5" 2>/dev/null || fail "one-job run"
for i in 0 1; do
    "$TS" run "$W/job.ini" --shard $i/3 -o "$W/s$i.h5" 2>"$W/log" || { cat "$W/log"; fail "shard $i"; }
done
# shard 2 from Slurm's array variables (array 5-7: task 7 is shard 2 of 3), default name
(cd "$W" && SLURM_ARRAY_TASK_ID=7 SLURM_ARRAY_TASK_MIN=5 SLURM_ARRAY_TASK_COUNT=3 "$TS" run job.ini 2>log) ||
    { cat "$W/log"; fail "shard from SLURM_ARRAY_*"; }
[ -e "$W/job.shard2of3.h5" ] || fail "default shard file name"
[ "$(statuses "$W/s0.h5")" = "10010010" ] || fail "shard 0 ran $(statuses "$W/s0.h5")"
[ "$(statuses "$W/job.shard2of3.h5")" = "00100100" ] || fail "shard 2 ran $(statuses "$W/job.shard2of3.h5")"

"$TS" merge "$W/merged.h5" "$W/s0.h5" "$W/s1.h5" "$W/job.shard2of3.h5" 2>"$W/log" || { cat "$W/log"; fail "merge"; }
same_data "$W/one.h5" "$W/merged.h5" || fail "merged data differ from a one-job run"
# overlapping inputs with the same data are fine
"$TS" merge "$W/m2.h5" "$W/s0.h5" "$W/one.h5" 2>/dev/null || fail "merge with overlap"
same_data "$W/one.h5" "$W/m2.h5" || fail "overlap merge differs"
# a partial merge leaves the rest pending
"$TS" merge "$W/m3.h5" "$W/s0.h5" 2>/dev/null; rc=$?
[ $rc = 3 ] || fail "merge leaving trials pending: exit $rc, want 3"
[ "$(statuses "$W/m3.h5")" = "10010010" ] || fail "partial merge $(statuses "$W/m3.h5")"

# shards of another job are refused, naming the difference; nothing is written
"$TS" run "$W/job.ini" --shard 1/3 -o "$W/other.h5" --set train.lr=0.002 2>/dev/null || fail "other job"
"$TS" merge "$W/bad.h5" "$W/s0.h5" "$W/other.h5" 2>"$W/err"; rc=$?
[ $rc = 2 ] || fail "merge of different jobs: exit $rc"
grep -q "train.lr" "$W/err" || fail "merge message: $(cat "$W/err")"
[ ! -e "$W/bad.h5" ] || fail "refused merge left a file"
# a shard written by an earlier release (its resolved job lacks keys added
# since, so its hash differs) is the same job: the keys decide, as --resume
older_file "$W/s1.h5" "$W/s1old.h5" split split_seed normalize
"$PY" -c 'import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r+") as f: f.attrs["config_hash"] = np.bytes_(b"0123456789abcdef")' "$W/s1old.h5" ||
    fail "setting an older hash"
"$TS" merge "$W/m4.h5" "$W/s0.h5" "$W/s1old.h5" "$W/job.shard2of3.h5" 2>"$W/log" ||
    { cat "$W/log"; fail "merge with a shard of an earlier release"; }
same_data "$W/one.h5" "$W/m4.h5" || fail "merge with an older shard differs"
# the output of merge is not overwritten without --force
sum=$(md5sum <"$W/merged.h5")
"$TS" merge "$W/merged.h5" "$W/s0.h5" 2>/dev/null && fail "merge over an existing file"
[ "$(md5sum <"$W/merged.h5")" = "$sum" ] || fail "existing merge output changed"
# a malformed --shard is an input error
"$TS" run "$W/job.ini" --shard 3/3 -o "$W/x.h5" 2>/dev/null; [ $? = 2 ] || fail "--shard 3/3 accepted"
exit 0
