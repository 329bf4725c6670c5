#!/bin/sh
# A full disk: a sweep whose file cannot fit is refused before any training
# with the estimate; a disk that fills up during the run gives a clear error,
# and the file resumes to an uninterrupted run's data once there is room.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
mkdir -p "$W/full"
mount -t tmpfs -o size=2m tmpfs "$W/full" 2>/dev/null || skip "cannot mount tmpfs here"
trap 'umount "$W/full" 2>/dev/null; rm -rf "$W"' EXIT
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
SLOW="--set train.iterations=8000 --set model.hidden=64,32"
"$TS" run "$W/job.ini" -o "$W/ref.h5" $SLOW 2>/dev/null || fail "reference run"

# too large from the start: refused with the estimate, nothing written
"$TS" run "$W/job.ini" -o "$W/full/big.h5" $SLOW --set sweep.seeds="$(seq -s, 1 64)" 2>"$W/err"; rc=$?
[ $rc = 2 ] || fail "oversized sweep: exit $rc, want 2: $(cat "$W/err")"
grep -q "needs about .* MB, but its file system has .* MB free" "$W/err" || fail "oversized sweep message: $(cat "$W/err")"
[ -z "$(ls "$W/full")" ] || fail "oversized sweep left files: $(ls "$W/full")"

# the disk fills up while the sweep runs
"$TS" run "$W/job.ini" -o "$W/full/r.h5" $SLOW 2>"$W/err" &
pid=$!
i=0
while [ $i -lt 100 ] && ! [ -e "$W/full/r.h5" ]; do sleep 0.1; i=$((i + 1)); done
dd if=/dev/zero of="$W/full/filler" bs=4k 2>/dev/null
wait $pid; rc=$?
[ $rc = 1 ] || fail "disk full during the run: exit $rc, want 1: $(cat "$W/err")"
grep -q "file system is full" "$W/err" ||
    fail "disk full message: $(tail -3 "$W/err")"
rm "$W/full/filler"
"$TS" run "$W/job.ini" -o "$W/full/r.h5" $SLOW --resume 2>"$W/err" || fail "resume after a full disk: $(tail -3 "$W/err")"
same_data "$W/ref.h5" "$W/full/r.h5" || fail "data after a full disk differ"
exit 0
