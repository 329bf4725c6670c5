#!/bin/sh
# tests/cluster/test_scale.sh - many ranks on one machine, as a new user would try
# them: a 128-cell sweep (2 rates x 4 round counts x 16 seeds, 976 distinct small
# trainings) on mpirun -np 64 and -np 256 (oversubscribed) gives the data of
# -np 1 bit for bit; `status` reads the 256-rank file; --resume of the finished
# file at -np 64 has nothing to do and changes no data. Prints each run's
# start-up, sweep and closing times and rank 0's dispatch time per request
# (oversubscribed: times of this machine's cores shared by 256 processes, not
# of a cluster). In make test-cluster: about 3 minutes on 2 cores.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"

small_data "$W/d"
scale_job "$W/job.ini" "$W/d"

# figures NP LOG: one line of a run's figures
figures() {
    printf '%4s ranks: %s; %s\n' "$1" "$(sed -n 's/^ticketsweep: start-up/start-up/p' "$2")" \
        "$(grep -o 'dispatch [0-9.]* us per request' "$2")"
}

"$TS" run "$W/job.ini" -o "$W/np1.h5" 2>"$W/log1" || { cat "$W/log1"; fail "-np 1"; }
grep -q "trainings 976 done, 0 failed, 0 pending" "$W/log1" || fail "-np 1: not 976 trainings: $(tail -3 "$W/log1")"
figures 1 "$W/log1"
for np in 64 256; do
    timeout 600 mpirun --oversubscribe --bind-to none -np $np "$TS" run "$W/job.ini" -o "$W/np$np.h5" \
        2>"$W/log$np"
    rc=$?
    [ $rc != 124 ] || fail "-np $np: no end in 600 s"
    [ $rc = 0 ] || { tail -20 "$W/log$np"; fail "-np $np: exit $rc"; }
    grep -q "trials 128 done, 0 failed, 0 pending; trainings 976 done" "$W/log$np" ||
        fail "-np $np: $(grep '^ticketsweep: trials' "$W/log$np")"
    same_data "$W/np1.h5" "$W/np$np.h5" || fail "-np $np: data differ from -np 1"
    [ "$("$PY" -c 'import h5py,sys; print(len(set(h5py.File(sys.argv[1],"r")["nodes/rank"][:])))' "$W/np$np.h5")" -gt 16 ] ||
        fail "-np $np: the trainings ran on few ranks"
    figures $np "$W/log$np"
done

"$TS" status "$W/np256.h5" >"$W/status" 2>&1 || { cat "$W/status"; fail "status of the 256-rank file"; }
grep -q "128 done" "$W/status" || fail "status: $(head -5 "$W/status")"
cp "$W/np256.h5" "$W/again.h5"
timeout 600 mpirun --oversubscribe --bind-to none -np 64 "$TS" run "$W/job.ini" -o "$W/again.h5" --resume \
    2>"$W/logr" || { tail -20 "$W/logr"; fail "--resume at -np 64"; }
grep -q "0 to run" "$W/logr" || fail "--resume of a finished file ran trainings: $(grep 'to run' "$W/logr")"
same_data "$W/np1.h5" "$W/again.h5" || fail "--resume at -np 64 changed the data"
figures "64 (--resume)" "$W/logr"
exit 0
