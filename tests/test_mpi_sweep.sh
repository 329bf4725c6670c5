#!/bin/sh
# Sweeps under mpirun: the data are bit-identical for -np 1, 2, 3 and 5 (only
# the ledger differs); more ranks than trials end cleanly; status reads the
# file; an existing file is refused without --resume/--force, untouched.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"

"$TS" run "$W/job.ini" -o "$W/np1.h5" 2>"$W/log1" || { cat "$W/log1"; fail "np 1 run"; }
[ "$(statuses "$W/np1.h5")" = "11111111" ] || fail "np 1: not all done: $(statuses "$W/np1.h5")"
for np in 2 3 5; do
    mpirun_ts $np run "$W/job.ini" -o "$W/np$np.h5" 2>"$W/log$np" || { cat "$W/log$np"; fail "np $np run"; }
    same_data "$W/np1.h5" "$W/np$np.h5" || fail "np $np data differ from np 1"
done
# the ledger shows that several ranks did work
"$PY" - "$W/np3.h5" <<'PY' || fail "np 3: work not spread over ranks"
import h5py, sys
r = set(h5py.File(sys.argv[1], "r")["trials/rank"][:])
sys.exit(0 if len(r) >= 2 else 1)
PY

# more ranks than trials: 2 trials, 5 ranks
mpirun_ts 5 run "$W/job.ini" -o "$W/few.h5" --set sweep.rates=0.5 --set sweep.rounds=1 2>"$W/logf" ||
    { cat "$W/logf"; fail "more ranks than trials"; }
[ "$(statuses "$W/few.h5")" = "11" ] || fail "more ranks than trials: $(statuses "$W/few.h5")"

# status on a finished file
"$TS" status "$W/np2.h5" >"$W/st" || fail "status exit $?"
grep -q "8 trials: 8 done, 0 failed, 0 pending" "$W/st" || { cat "$W/st"; fail "status counts"; }
[ "$(grep -c ' done ' "$W/st")" = 8 ] || fail "status: 8 trial lines"

# an existing output is refused and left as it was
sum=$(md5sum <"$W/np1.h5")
"$TS" run "$W/job.ini" -o "$W/np1.h5" 2>"$W/err"; rc=$?
[ $rc = 2 ] || fail "existing output: exit $rc, want 2"
grep -q "already exists" "$W/err" || fail "existing output: message: $(cat "$W/err")"
[ "$(md5sum <"$W/np1.h5")" = "$sum" ] || fail "existing output changed"
# --resume on a complete file runs nothing and changes no data
"$TS" run "$W/job.ini" -o "$W/np1.h5" --resume 2>"$W/err" || fail "resume of a done file: $(cat "$W/err")"
grep -q "0 to run" "$W/err" || fail "resume of a done file ran trials"
same_data "$W/np1.h5" "$W/np2.h5" || fail "resume of a done file changed data"
exit 0
