#!/bin/sh
# tests/test_bad_input.sh - run every bad-input case of tests/bad/ against the binary.
#
# The rule for bad input: exit status 2, exactly one line on stderr that names
# the file (and line or key) and what is wrong, no crash, and no file changed:
# an existing output is byte-identical afterwards and no new file is left.
#
# A case is a folder tests/bad/NAME/ with
#   args       the arguments of ticketsweep (one line; @DATA@ and @BAD@ are
#              replaced by the good and the bad data folders)
#   expect     fragments the stderr line must contain, one a line (same placeholders)
#   status     the expected exit status
#   job.ini    optional: copied (placeholders replaced) into the run folder
#   prior      optional: a fixture copied to out.h5 before the run (DIR: a
#              folder; NONE: no out.h5, and no run with one)
#   mpi        optional: also run under `mpirun -np 2`
#   ulimit     optional: `ulimit -v` (KiB) for the run (not under ASan)
#   known_bug  optional: first line the checks a known bug outside the tested
#              code breaks (status lines prefix fragment files), then what it is;
#              those checks only warn (BAD_STRICT=1: they fail too)
#   note       optional: why the case is there
#
# Each case runs in a fresh folder holding job.ini and the fixtures: real.h5 (a
# finished sweep of tests/bad/base.ini), shard0.h5 (its shard 0/2),
# shard0-changed.h5 (the same with other data for trial 0), other.h5 (a shard
# of another job), truncated.h5 (real.h5 cut short), foreign.h5 (HDF5 without
# the format attribute), v6.h5 (format_version 6, newer than this release's), notes.txt and empty.h5.
# Without `prior` it runs twice: with no out.h5 (none may appear) and with
# out.h5 a copy of real.h5 (it must stay byte-identical). After every run the
# folder's listing and checksums must be unchanged.
#
#   sh tests/test_bad_input.sh [PATTERN]     only cases whose name contains PATTERN
#   BUILD=build-debug TS=$PWD/build-debug/ticketsweep sh tests/test_bad_input.sh
#   BAD_JOBS=N (default 4) runs at a time

# Listing and checksums of a folder.
snapshot() {
    (cd "$1" && find . | LC_ALL=C sort && find . -type f -exec md5sum {} + | LC_ALL=C sort)
}

subst() {
    sed -e "s|@DATA@|$DATA|g" -e "s|@BAD@|$BAD|g" "$1"
}

# run_one CASE MODE: MODE is fresh, existing, prior or mpi. Writes $W/res/CASE.MODE:
# "ok", or one line per broken check ("check: what").
run_one() {
    name=$1 mode=$2 c=$CASES/$1
    d=$W/run/$name.$mode out=$W/log/$name.$mode res=$W/res/$name.$mode
    mkdir -p "$d"
    cp "$FIX"/* "$d/"
    [ -f "$c/job.ini" ] && subst "$c/job.ini" >"$d/job.ini"
    prior=
    [ -f "$c/prior" ] && prior=$(cat "$c/prior")
    [ "$mode" = existing ] && prior=real.h5
    if [ "$prior" = NONE ]; then
        :
    elif [ "$prior" = DIR ]; then
        mkdir "$d/out.h5"
    elif [ -n "$prior" ]; then
        cp "$FIX/$prior" "$d/out.h5"
    fi
    args=$(subst "$c/args")
    lim=unlimited
    [ -f "$c/ulimit" ] && [ "$asan" = 0 ] && lim=$(cat "$c/ulimit")
    snapshot "$d" >"$out.before"
    # a session directory of its own: Open MPI's singletons and mpiruns that
    # start at once in one TMPDIR race to create ompi.<host>.<uid> ("File
    # exists"); left for the test's end (a daemon may still clean it up)
    tmp=$(mktemp -d "$W/t.XXXXXX")
    set -f
    # shellcheck disable=SC2086
    if [ "$mode" = mpi ]; then
        (cd "$d" && ulimit -v "$lim" && OMPI_MCA_orte_tag_output=1 TMPDIR=$tmp \
            mpirun -q --oversubscribe --bind-to none -np 2 "$TS" $args >"$out.out" 2>"$out.err")
    else
        (cd "$d" && ulimit -v "$lim" && TMPDIR=$tmp "$TS" $args >"$out.out" 2>"$out.err")
    fi
    rc=$?
    set +f
    snapshot "$d" >"$out.after"
    # LeakSanitizer's thread-stopping tracer sometimes crashes on Open MPI's
    # threads: that is not the program's fault; run again without leak checking.
    if grep -q 'LeakSanitizer has encountered a fatal error' "$out.err" && [ -z "${BAD_NO_LSAN:-}" ]; then
        rm -rf "$d"
        BAD_NO_LSAN=1
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
        export ASAN_OPTIONS
        run_one "$name" "$mode"
        echo "$name.$mode" >>"$W/lsan_retried"
        return
    fi

    : >"$res"
    # under mpirun, rank lines are tagged "[1,R]<stderr>:"; the rest is mpirun's
    sed -E 's/^\[[0-9]+,[0-9]+\]<stderr>://' "$out.err" >"$out.line"
    line=$(head -n 1 "$out.line")
    want=$(cat "$c/status")
    [ "$rc" = "$want" ] || echo "status: exit $rc, expected $want" >>"$res"
    crash='ERROR: [A-Za-z]*Sanitizer|runtime error: |Segmentation fault|core dumped|Aborted|exited on signal'
    if [ "$rc" -ge 128 ] || grep -qE "$crash" "$out.err"; then
        echo "crash: exit $rc; $(grep -m1 -E "$crash" "$out.err")" >>"$res"
    fi
    n=$(awk 'END { print NR }' "$out.err")
    [ "$n" = 1 ] || echo "lines: $n lines on stderr, expected 1" >>"$res"
    case $line in
        "ticketsweep: "*) ;;
        *) echo "prefix: the line does not start with 'ticketsweep: '" >>"$res" ;;
    esac
    subst "$c/expect" >"$out.expect"
    while IFS= read -r frag; do
        [ -z "$frag" ] && continue
        case $line in
            *"$frag"*) ;;
            *) echo "fragment: '$frag' is not in the message" >>"$res" ;;
        esac
    done <"$out.expect"
    [ -s "$out.out" ] && echo "stdout: something was printed on stdout" >>"$res"
    if ! cmp -s "$out.before" "$out.after"; then
        echo "files: the run folder changed: $(diff "$out.before" "$out.after" | grep '^[<>]' | head -n 3 | tr '\n' ' ')" >>"$res"
    fi
    [ -s "$res" ] || echo ok >"$res"
}

# One run, in a process of its own (the script calls itself through xargs -P).
if [ "${1:-}" = --one ]; then
    run_one "$2" "$3"
    exit 0
fi

WANT_LEAKS=1 # this test checks leaks itself, with its suppressions
. "$(dirname "$0")/lib.sh"

CASES=$TOP/tests/bad
JOBS=${BAD_JOBS:-4}
STRICT=${BAD_STRICT:-0}
pattern=${1:-}
[ -x "$TS" ] || skip "no binary $TS (run make)"
command -v mpirun >/dev/null 2>&1 || skip "mpirun not found"
"$PY" -c 'import h5py, numpy' 2>/dev/null || skip "python3-h5py and python3-numpy are needed"
ldd "$TS" 2>/dev/null | grep -q libasan && asan=1 || asan=0

# Under `make DEBUG=1`: LeakSanitizer reports only leaks outside Open MPI and friends.
export OMPI_MCA_mca_base_component_disable_dlclose=1 PMIX_MCA_mca_base_component_disable_dlclose=1
export LSAN_OPTIONS="suppressions=$CASES/lsan.supp:print_suppressions=0:fast_unwind_on_malloc=0"

DATA=$W/data BAD=$W/bad FIX=$W/fix
mkdir -p "$FIX" "$W/run" "$W/log" "$W/res"

# --- data: small_data, and bad files made from it ---
small_data "$DATA" 1200 300
"$PY" - "$DATA" "$BAD" <<'PYEOF' || fail "cannot make the bad data files"
import gzip, os, struct, sys
import numpy as np
d, b = sys.argv[1], sys.argv[2]
os.makedirs(b + "/seven", exist_ok=True)
tri = gzip.open(d + "/train-images").read()
trl = gzip.open(d + "/train-labels").read()
tei = open(d + "/test-images", "rb").read()
tel = open(d + "/test-labels", "rb").read()
def put(name, data):
    with open(os.path.join(b, name), "wb") as f:
        f.write(data)
def gz(data):
    return gzip.compress(data, mtime=0)
put("empty", b"")
put("header-cut-images", tei[:10])
put("body-cut-images", tei[:-100])
put("body-cut-images.gz", gz(tri[:-100]))
put("body-cut-labels.gz", gz(trl[:-1]))
z = open(d + "/train-images", "rb").read()
put("cut-images.gz", z[:len(z) // 2])
c = bytearray(z)
c[len(c) // 2] ^= 0xFF
c[len(c) // 2 + 1] ^= 0x55
put("corrupt-images.gz", bytes(c))
c = bytearray(gz(tri))
c[10] |= 0x06  # first deflate block: BTYPE 11, which does not exist
put("bad-block-images.gz", bytes(c))
c = bytearray(z)
c[-5] ^= 0x01  # CRC-32 in the gzip trailer
put("crc-images.gz", bytes(c))
put("zero-images", struct.pack(">IIII", 2051, 0, 8, 8))
put("zero-rows-images", struct.pack(">IIII", 2051, 1, 0, 8) + bytes(8))
put("huge-images", struct.pack(">IIII", 2051, 1024, 4096, 4096) + bytes(100))
put("short-labels", struct.pack(">II", 2049, 299) + tel[8:-1])
r = bytearray(tel)
r[8 + 17] = 10
put("range-labels", bytes(r))
put("trailing-labels", tel + b"\0")
def seven(img):
    n = struct.unpack(">I", img[4:8])[0]
    x = np.frombuffer(img[16:], np.uint8).reshape(n, 8, 8)[:, :, :7]
    return struct.pack(">IIII", 2051, n, 8, 7) + x.tobytes()
put("seven-images", seven(tei))
put("seven/train-images", seven(tri))
put("seven/train-labels", trl)
put("seven/test-images", seven(tei))
put("seven/test-labels", tel)
PYEOF

# --- fixtures: results files ---
sed "s|@DATA@|$DATA|g" "$CASES/base.ini" >"$FIX/job.ini"
(cd "$FIX" && "$TS" run job.ini -o real.h5 >"$W/log/fix1" 2>&1) || { cat "$W/log/fix1"; fail "cannot make real.h5"; }
(cd "$FIX" && "$TS" run job.ini -o other.h5 --shard 1/2 --set train.lr=0.002 >"$W/log/fix2" 2>&1) ||
    { cat "$W/log/fix2"; fail "cannot make other.h5"; }
(cd "$FIX" && "$TS" run job.ini -o shard0.h5 --shard 0/2 >"$W/log/fix3" 2>&1) ||
    { cat "$W/log/fix3"; fail "cannot make shard0.h5"; }
rm -f "$FIX/job.ini"
"$PY" - "$FIX" <<'PYEOF' || fail "cannot make the HDF5 fixtures"
import shutil, sys
import h5py, numpy as np
fix = sys.argv[1]
with h5py.File(fix + "/foreign.h5", "w") as f:  # another program's file
    f["x"] = np.arange(3)
    f.attrs["config"] = "[train]\nlr = 0.1\n"
shutil.copy(fix + "/shard0.h5", fix + "/shard0-changed.h5")
with h5py.File(fix + "/shard0-changed.h5", "r+") as f:  # trial 0 with other data
    assert f["/trials/status"][0] == 1
    acc = f["/summary/final_test_acc"]
    a = acc[...]
    a[0, 0] += 0.25
    acc[...] = a
shutil.copy(fix + "/real.h5", fix + "/v6.h5")
with h5py.File(fix + "/v6.h5", "r+") as f:
    assert f.attrs["format_version"] == 3
    f.attrs["format_version"] = np.int32(6)
PYEOF
head -c 30000 "$FIX/real.h5" >"$FIX/truncated.h5"
echo "these are notes, not results" >"$FIX/notes.txt"
: >"$FIX/empty.h5"
(cd "$FIX" && md5sum ./* >"$W/fix.md5")
(cd "$DATA" && md5sum ./* >"$W/data.md5")

# --- the runs, JOBS at a time ---
export TS CASES DATA BAD FIX W asan
ncases=0
: >"$W/runs"
for c in "$CASES"/*/; do
    name=$(basename "$c")
    case $name in *"$pattern"*) ;; *) continue ;; esac
    for f in args expect status; do
        [ -f "$c/$f" ] || fail "$name: no $f file"
    done
    ncases=$((ncases + 1))
    modes=fresh
    if [ -f "$c/prior" ]; then modes=prior; else modes="fresh existing"; fi
    [ -f "$c/mpi" ] && modes="$modes mpi"
    for m in $modes; do
        echo "$name $m" >>"$W/runs"
    done
done
[ "$ncases" -gt 0 ] || fail "no cases match '$pattern'"
runs=$(awk 'END { print NR }' "$W/runs")
xargs -P "$JOBS" -n 2 sh "$0" --one <"$W/runs"
[ "$(find "$W/res" -type f | wc -l)" = "$runs" ] || fail "some runs left no result"

# --- report ---
failed=0 known=0
for r in "$W"/res/*; do
    run=$(basename "$r") name=${run%.*} mode=${run##*.}
    c=$CASES/$name
    kb=
    [ -f "$c/known_bug" ] && [ "$STRICT" != 1 ] && kb=$(head -n 1 "$c/known_bug")
    if [ "$(cat "$r")" = ok ]; then
        [ -n "$kb" ] && echo "XPASS $run: the known bug seems fixed; remove $name/known_bug"
        continue
    fi
    bad=0 seen=0
    while IFS= read -r l; do
        check=${l%%:*}
        case " $kb " in
            *" $check "*) seen=1 ;;
            *) bad=1 ;;
        esac
    done <"$r"
    if [ $bad = 1 ]; then
        failed=$((failed + 1))
        echo "FAIL  $run: $(tr '\n' ';' <"$r")"
        echo "      args: $(subst "$c/args" | cut -c1-200)"
        sed 's/^/      stderr| /' "$W/log/$run.err" | head -n 5
    elif [ $seen = 1 ]; then
        known=$((known + 1))
        echo "KNOWN $run: $(sed -n 2p "$c/known_bug")"
    fi
done

# nothing may have touched the shared data and fixtures either
(cd "$FIX" && md5sum -c --quiet "$W/fix.md5") || { failed=$((failed + 1)); echo "FAIL  a fixture changed"; }
(cd "$DATA" && md5sum -c --quiet "$W/data.md5") || { failed=$((failed + 1)); echo "FAIL  a data file changed"; }

[ -f "$W/lsan_retried" ] &&
    echo "$(wc -l <"$W/lsan_retried") runs were run again without leak checking (LeakSanitizer's tracer crashed)"
echo "$ncases cases, $runs runs: $failed failed, $known known bugs outside the tested code"
[ $failed = 0 ]
