#!/bin/sh
# Numerics' provenance: every training records the CPU model, the trainer's
# vector path and compile target, OpenBLAS's core type and the values of
# OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, and what ran the convolutions
# (/nodes/cpu, /nodes/simd, /nodes/blas_core, /nodes/openblas_coretype,
# /nodes/openblas_l2_size, /nodes/conv: "none" for this MLP);
# read back, they are this machine's. `status` and `merge` say in one line
# when a file mixes setups (made here by editing a copy: the tests never set
# OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE). A file of an earlier release (no
# such datasets, or none but conv) resumes and reads as before. Where OpenBLAS
# runs its generic kernels on a CPU with AVX2 or AVX-512, run, status and
# --dry-run say so, and only then.
. "$(dirname "$0")/lib.sh"
small_data "$W/d"
tiny_job "$W/job.ini" "$W/d"
mpirun_ts 2 run "$W/job.ini" -o "$W/a.h5" 2>"$W/log" || { cat "$W/log"; fail "run"; }
grep -q "^  numerics (rank 0; each training records its own): " "$W/log" || fail "no numerics line in the context"

# blas_core_of FILE: the one core FILE's trainings recorded
blas_core_of() { "$PY" -c 'import h5py,sys; (c,)={v.decode() for v in h5py.File(sys.argv[1],"r")["nodes/blas_core"][:]}; print(c)' "$1"; }
n_done=$("$PY" -c 'import h5py,sys; print(int((h5py.File(sys.argv[1],"r")["nodes/status"][:] == 1).sum()))' "$W/a.h5")

# what this machine says, the way the trainer finds it
lib=$(ldd "$TS" | awk '/libopenblas/ { print $3; exit }')
"$PY" - "$W/a.h5" "$lib" <<'PY' || fail "provenance read back"
import ctypes, os, sys
import h5py
f = h5py.File(sys.argv[1], "r")
done = f["nodes/status"][:] == 1
assert done.all(), "all trainings done"
def col(k):
    return {v.decode() for v in f["nodes/" + k][:][done]}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), None)
assert col("cpu") == {cpu}, (col("cpu"), cpu)
ob = ctypes.CDLL(sys.argv[2])
ob.openblas_get_corename.restype = ctypes.c_char_p
assert col("blas_core") == {ob.openblas_get_corename().decode()}, col("blas_core")
flags = next(l for l in open("/proc/cpuinfo") if l.startswith("flags")).split()
kernel = "avx512f" if "avx512f" in flags else "avx" if "avx" in flags else "sse2"
(simd,) = col("simd")
assert simd.startswith(f"adam {kernel}; compiled for "), simd
assert col("openblas_coretype") == {os.environ.get("OPENBLAS_CORETYPE", "")}
assert col("openblas_l2_size") == {os.environ.get("OPENBLAS_L2_SIZE", "")}
assert col("conv") == {"none"}, col("conv")
PY
"$TS" status "$W/a.h5" >"$W/st" || fail "status"
grep -q "numerics" "$W/st" && fail "status of a file of one setup: $(grep numerics "$W/st")"

# OpenBLAS's generic kernels on a CPU with AVX2 or AVX-512: run (once, rank
# 0), status and --dry-run say so, naming the OPENBLAS_CORETYPE that mends it,
# exactly when the recorded core is generic and /proc/cpuinfo has the flags.
# First with the core OpenBLAS chose here; then with its name read as
# 'Prescott' (a shim preloaded in place of openblas_get_corename: the tests
# never set OPENBLAS_CORETYPE), so that both cases run on either kind of
# machine.
# remedy FILE: what the lines must name for FILE's trainings, "" for no line
remedy() {
    "$PY" - "$1" <<'PY'
import sys, h5py
(core,) = {v.decode() for v in h5py.File(sys.argv[1], "r")["nodes/blas_core"][:]}
# OpenBLAS's x86 cores older than AVX (driver/others/dynamic.c), and GENERIC builds'
generic = {"unknown", "generic", "prescott", "katmai", "coppermine", "northwood", "banias", "athlon",
           "atom", "core2", "penryn", "dunnington", "nehalem", "opteron", "opteron_sse3",
           "opteron(sse3)", "barcelona", "nano", "bobcat"}
flags = set(next((l for l in open("/proc/cpuinfo") if l.startswith("flags")), "").split())
avx512 = {"avx512f", "avx512dq", "avx512bw", "avx512vl"} <= flags
print("" if core.lower() not in generic else
      "Cooperlake" if avx512 and "avx512_bf16" in flags else
      "SkylakeX" if avx512 else "Haswell" if {"avx2", "fma"} <= flags else "")
PY
}
# said WHAT OUT PATTERN REMEDY: OUT has one line PATTERN naming REMEDY if
# REMEDY, else no line about generic kernels at all
said() {
    if [ -n "$4" ]; then
        [ "$(grep -c "$3.*OpenBLAS's generic '.*' kernels on a CPU with .*: export OPENBLAS_CORETYPE=$4 for every rank" "$2")" = 1 ] ||
            { cat "$2"; fail "$1: no one line naming OPENBLAS_CORETYPE=$4"; }
    else
        ! grep -q "generic '.*' kernels" "$2" || { cat "$2"; fail "$1: a generic-kernels line, none expected"; }
    fi
}
r=$(remedy "$W/a.h5") || fail "remedy"
said "run" "$W/log" "^ticketsweep: warning: rank 0's node runs " "$r"
said "status" "$W/st" "^$W/a.h5: $n_done trainings ran " "$r"
"$TS" run "$W/job.ini" --dry-run >"$W/dry" 2>"$W/err" || { cat "$W/err"; fail "dry run"; }
said "dry run" "$W/dry" "^warning: this machine runs " "$r"
grep -q "^per training: .*; OpenBLAS core $(blas_core_of "$W/a.h5"))$" "$W/dry" || { cat "$W/dry"; fail "dry run: no core"; }
echo "OpenBLAS core here: $(blas_core_of "$W/a.h5"); remedy: ${r:-none}"

cc -shared -fPIC -o "$W/prescott.so" -x c - <<'C' || fail "cc: the shim"
const char *openblas_get_corename(void);
const char *openblas_get_corename(void) { return "Prescott"; }
C
# (ASan wants to be first in the preload list; here it need not)
shim() { LD_PRELOAD="$W/prescott.so" ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" "$@"; }
shim "$TS" run "$W/job.ini" -o "$W/p.h5" 2>"$W/plog" || { cat "$W/plog"; fail "run as Prescott"; }
[ "$(blas_core_of "$W/p.h5")" = Prescott ] || fail "the shim: the run recorded $(blas_core_of "$W/p.h5")"
r=$(remedy "$W/p.h5") || fail "remedy"
said "run as Prescott" "$W/plog" "^ticketsweep: warning: rank 0's node runs " "$r"
"$TS" status "$W/p.h5" >"$W/st" || fail "status as Prescott"
said "status as Prescott" "$W/st" "^$W/p.h5: $n_done trainings ran " "$r"
shim "$TS" run "$W/job.ini" --dry-run >"$W/dry" 2>"$W/err" || { cat "$W/err"; fail "dry run as Prescott"; }
said "dry run as Prescott" "$W/dry" "^warning: this machine runs " "$r"
# a file from another kind of node: its instruction sets are not recorded
"$PY" -c 'import h5py,sys; d=h5py.File(sys.argv[1],"r+")["nodes/cpu"]; x=d[:]; x[:]=b"Other CPU"; d[:]=x' "$W/p.h5"
"$TS" status "$W/p.h5" >"$W/st" || fail "status of another CPU's file"
[ "$(grep -c "^$W/p.h5: $n_done trainings ran OpenBLAS's generic 'Prescott' kernels on 'Other CPU', not this machine's CPU: .*AVX2 or AVX-512" "$W/st")" = 1 ] ||
    { cat "$W/st"; fail "status of another CPU's file: no one line"; }

# mixed: a copy whose first three trainings say they ran with other kernels
cp "$W/a.h5" "$W/mixed.h5"
"$PY" - "$W/mixed.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r+")
for k, v in (("blas_core", b"Haswell"), ("openblas_coretype", b"Haswell")):
    d = f["nodes/" + k]; x = d[:]; x[:3] = v; d[:] = x
PY
"$TS" status "$W/mixed.h5" >"$W/st" || fail "status of the mixed file"
[ "$(grep -c numerics "$W/st")" = 1 ] || { cat "$W/st"; fail "status: not one numerics line"; }
n=$("$PY" -c 'import h5py,sys; print(len(h5py.File(sys.argv[1],"r")["nodes/status"]))' "$W/a.h5")
grep -q "^$W/mixed.h5: numerics from 2 setups: blas_core 'Haswell' (3), '.*' ($((n - 3))); openblas_coretype 'Haswell' (3), '.*' ($((n - 3)))$" "$W/st" ||
    { cat "$W/st"; fail "status: numerics line"; }
grep -q "8 trials: 8 done" "$W/st" || fail "status: no trials' counts"

# merge: one shard of this machine, one edited as if from another: one warning line
"$TS" run "$W/job.ini" -o "$W/s0.h5" --shard 0/2 2>"$W/log" || { cat "$W/log"; fail "shard 0"; }
"$TS" run "$W/job.ini" -o "$W/s1.h5" --shard 1/2 2>"$W/log" || { cat "$W/log"; fail "shard 1"; }
"$TS" merge "$W/m.h5" "$W/s0.h5" "$W/s1.h5" 2>"$W/log" || { cat "$W/log"; fail "merge"; }
grep -q numerics "$W/log" && fail "merge of one setup warns: $(cat "$W/log")"
same_data "$W/a.h5" "$W/m.h5" || fail "merged data differ"
"$PY" - "$W/s1.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r+")
d = f["nodes/blas_core"]; x = d[:]; x[:] = b"Zen"; d[:] = x
PY
"$TS" merge "$W/m2.h5" "$W/s0.h5" "$W/s1.h5" 2>"$W/log" || { cat "$W/log"; fail "merge of mixed shards"; }
[ "$(grep -c "^ticketsweep: warning: $W/m2.h5: numerics from 2 setups: blas_core " "$W/log")" = 1 ] ||
    { cat "$W/log"; fail "merge: no one-line warning"; }
"$TS" status "$W/m2.h5" | grep -q "numerics from 2 setups: blas_core" || fail "status of the merged file"

# a file of an earlier release (no provenance datasets): resumes, reads, merges
"$TS" run "$W/job.ini" -o "$W/old.h5" --shard 0/2 2>"$W/log" || { cat "$W/log"; fail "shard 0 again"; }
"$PY" - "$W/old.h5" <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r+")
for k in ("cpu", "simd", "blas_core", "openblas_coretype", "openblas_l2_size", "conv"):
    del f["nodes/" + k]
PY
"$TS" run "$W/job.ini" -o "$W/old.h5" --resume 2>"$W/log" || { cat "$W/log"; fail "resume of an old file"; }
# shellcheck disable=SC2086
h5diff -q $LEDGER --exclude-path /nodes/cpu --exclude-path /nodes/simd --exclude-path /nodes/blas_core \
    --exclude-path /nodes/openblas_coretype --exclude-path /nodes/openblas_l2_size --exclude-path /nodes/conv \
    --exclude-attribute / "$W/a.h5" "$W/old.h5" || fail "the resumed old file's data differ"
"$TS" status "$W/old.h5" >"$W/st" || fail "status of an old file"
grep -q numerics "$W/st" && fail "status of an old file: $(grep numerics "$W/st")"
"$TS" run "$W/job.ini" -o "$W/old0.h5" --shard 0/2 2>/dev/null || fail "shard 0, third"
"$PY" -c 'import h5py,sys; f=h5py.File(sys.argv[1],"r+"); [f["nodes"].pop(k) for k in ("cpu","simd","blas_core","openblas_coretype","openblas_l2_size","conv")]' "$W/old0.h5"
"$TS" merge "$W/m3.h5" "$W/old0.h5" "$W/s1.h5" 2>"$W/log" || { cat "$W/log"; fail "merge with an old shard"; }
grep -q "cpu .*'not recorded'" "$W/log" || { cat "$W/log"; fail "merge with an old shard: not recorded"; }

# a file of the release before /nodes/conv: resumes, its other fields kept
"$TS" run "$W/job.ini" -o "$W/pre.h5" --shard 0/2 2>/dev/null || fail "shard 0, fourth"
"$PY" -c 'import h5py,sys; f=h5py.File(sys.argv[1],"r+"); f["nodes"].pop("conv")' "$W/pre.h5"
"$TS" run "$W/job.ini" -o "$W/pre.h5" --resume 2>"$W/log" || { cat "$W/log"; fail "resume of a file without conv"; }
"$PY" - "$W/pre.h5" <<'PY' || fail "a file without conv: provenance not kept"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert "conv" not in f["nodes"]
assert all(v for v in f["nodes/blas_core"][:]), "blas_core recorded for every training"
PY
"$TS" run "$W/job.ini" -o "$W/pre0.h5" --shard 0/2 2>/dev/null || fail "shard 0, fifth"
"$PY" -c 'import h5py,sys; f=h5py.File(sys.argv[1],"r+"); f["nodes"].pop("conv")' "$W/pre0.h5"
"$TS" merge "$W/m4.h5" "$W/pre0.h5" "$W/s1.h5" 2>"$W/log" || { cat "$W/log"; fail "merge with a shard without conv"; }
grep -q "conv 'not recorded'" "$W/log" || { cat "$W/log"; fail "merge with a shard without conv: not recorded"; }
exit 0
