#!/bin/sh
# A failure on one rank while the results file is being created (injected
# with TICKETSWEEP_FAULT=store_create:RANK, after the datasets are made): every
# rank learns of it before the next collective step, so the job ends promptly
# (no rank waits forever) with exit 1 and one message; the half-made
# OUT.h5.partial is removed, and an existing OUT.h5 (--force) is untouched.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"

for rank in 1 0; do
    rm -f "$W/out.h5"
    TICKETSWEEP_FAULT=store_create:$rank timeout 120 mpirun --oversubscribe --bind-to none -np 2 \
        "$TS" run "$W/job.ini" -o "$W/out.h5" 2>"$W/err"
    rc=$?
    [ $rc != 124 ] || fail "fault on rank $rank: the job hung"
    [ $rc = 1 ] || { cat "$W/err"; fail "fault on rank $rank: exit $rc, want 1"; }
    grep -q "injected fault in store_create on rank $rank" "$W/err" || { cat "$W/err"; fail "no message"; }
    [ ! -e "$W/out.h5" ] && [ ! -e "$W/out.h5.partial" ] || fail "fault on rank $rank left a file: $(ls "$W")"
done

# an existing file survives a failed --force
"$TS" run "$W/job.ini" -o "$W/out.h5" 2>/dev/null || fail "a clean run"
sum=$(md5sum <"$W/out.h5")
TICKETSWEEP_FAULT=store_create:1 timeout 120 mpirun --oversubscribe --bind-to none -np 2 \
    "$TS" run "$W/job.ini" -o "$W/out.h5" --force 2>"$W/err"
rc=$?
[ $rc = 1 ] || { cat "$W/err"; fail "--force with a fault: exit $rc, want 1"; }
[ "$(md5sum <"$W/out.h5")" = "$sum" ] || fail "a failed --force changed the existing file"
[ ! -e "$W/out.h5.partial" ] || fail "a failed --force left OUT.h5.partial"
exit 0
