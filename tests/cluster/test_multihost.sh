#!/bin/sh
# tests/cluster/test_multihost.sh - one sweep across three "hosts" with a hostfile.
#
# Builds three network namespaces, each a host with its own address (10.77.0.1-3) and
# host name (h1-h3), joined by a bridge in a fourth namespace (docs:
# /work/shared/recipes/multi-host-mpi.md). mpirun runs inside h1 with a hostfile of
# the three addresses and a launcher agent (written into the scratch folder) that
# enters a host's namespace the way ssh would log in; MPI and Open MPI's own traffic
# go over TCP between those addresses only. All ranks write one shared results file in
# the scratch folder. One host trains on 2 threads (h2: --threads 2, by mpirun's
# MPMD form, one program per host), the others on 1. Checks:
#   - the data equal a one-host run's (h5diff without the ledger and root attributes),
#     with trainings of the 2-thread host among them;
#   - /trials/host names more than one host, and only h1-h3; /trials/rank agrees;
#   - traffic really crossed the namespaces' links (byte counters of h2 and h3);
#   - kill -9 of h3's ranks mid-sweep, then --resume on h1 and h2 with their threads
#     swapped (h1 2, h2 1): the file kept every training reported done, and the data
#     equal a one-host run's.
# Tears down the namespaces and stops every process it started, by PID, on any exit.
# Skips only when network namespaces cannot be made here.
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to make network namespaces"
for b in ip unshare hostname timeout h5diff; do
    command -v "$b" >/dev/null 2>&1 || skip "$b not found"
done
[ -x "$TS" ] || fail "$TS: not built (run make)"

# Namespace names are global: make ours unique to this run.
pre=tsmh$$
probe=${pre}probe
ip netns add "$probe" 2>/dev/null || skip "network namespaces are not allowed here (ip netns add failed)"
ip netns del "$probe"

made=""
cleanup() {
    trap - EXIT INT TERM HUP
    for ns in $made; do
        # processes still inside a host (a hung or killed run): by PID
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    done
    for ns in $made; do ip netns del "$ns" 2>/dev/null; done
    rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# --- the hosts -----------------------------------------------------------------------
sw=${pre}sw
ip netns add "$sw" || fail "ip netns add $sw"
made="$sw"
ip -n "$sw" link add br0 type bridge && ip -n "$sw" link set br0 up || fail "bridge in $sw"
for i in 1 2 3; do
    ns=${pre}h$i
    ip netns add "$ns" || fail "ip netns add $ns"
    made="$ns $made"
    ip -n "$sw" link add "p$i" type veth peer name eth0 netns "$ns" &&
        ip -n "$sw" link set "p$i" master br0 up &&
        ip -n "$ns" addr add "10.77.0.$i/24" dev eth0 &&
        ip -n "$ns" link set eth0 up &&
        ip -n "$ns" link set lo up || fail "network of $ns"
done
# addresses, not names: nothing to look up, nothing leaves
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n10.77.0.3 slots=1\n' >"$W/hostfile"

# The launcher agent: Open MPI calls it like ssh (agent [options] HOST COMMAND...).
# It enters HOST's namespace with a fresh environment, as a login would, in a UTS
# namespace of its own named after the host.
cat >"$W/agent" <<EOF
#!/bin/sh
while [ \$# -gt 0 ]; do case "\$1" in -[opli]) shift 2;; -*) shift;; *) break;; esac; done
host=\$1; shift
case "\$host" in 10.77.0.[123]) ;; *) echo "agent: unknown host \$host" >&2; exit 255;; esac
n=\${host##*.}
exec env -i PATH="\$PATH" HOME="\$HOME" TMPDIR="$W" ip netns exec "${pre}h\$n" \\
    unshare --uts sh -c "hostname h\$n && \$*"
EOF
chmod +x "$W/agent"

small_data "$W/data"
tiny_job "$W/job.ini" "$W/data"
# a little more work per trial, so that every rank gets some
sed -i 's/^iterations = .*/iterations = 300/; s/^eval_every = .*/eval_every = 100/' "$W/job.ini"

start=$(date +%s)
mpirun_ts 3 run "$W/job.ini" -o "$W/onehost.h5" >"$W/onehost.log" 2>&1 ||
    { cat "$W/onehost.log"; fail "the one-host run failed"; }
echo "one host: $(($(date +%s) - start)) s"

start=$(date +%s)
# mpirun inside h1; the timeout (by PID) guards against a hang
timeout -k 5 60 ip netns exec "${pre}h1" unshare --uts sh -c "hostname h1 && \
    mpirun --hostfile '$W/hostfile' -np 3 --bind-to none \
      --mca plm_rsh_agent '$W/agent' --mca btl tcp,self \
      --mca oob_tcp_if_include 10.77.0.0/24 --mca btl_tcp_if_include 10.77.0.0/24 \
      --mca oob_tcp_keepalive_time 1 --mca oob_tcp_keepalive_intvl 1 --mca oob_tcp_keepalive_probes 2 \
      -np 1 '$TS' run '$W/job.ini' -o '$W/multi.h5' --threads 1 : \
      -np 1 '$TS' run '$W/job.ini' -o '$W/multi.h5' --threads 2 : \
      -np 1 '$TS' run '$W/job.ini' -o '$W/multi.h5' --threads 1" >"$W/multi.log" 2>&1
rc=$?
echo "three hosts: $(($(date +%s) - start)) s"
[ $rc -eq 0 ] || { tail -n 40 "$W/multi.log"; fail "the three-host run exited with $rc"; }
grep -q "ranks 3 on 3 hosts" "$W/multi.log" || { head -n 5 "$W/multi.log"; fail "ticketsweep did not see 3 hosts"; }
grep -q "^ticketsweep .*multi.h5 --threads 1\$" "$W/multi.log" || { head -n 2 "$W/multi.log"; fail "rank 0's command line"; }

h5diff --exclude-path /trials/wall_seconds --exclude-path /trials/rank --exclude-path /trials/host \
    --exclude-path /nodes/wall_seconds --exclude-path /nodes/rank --exclude-path /nodes/host \
    --exclude-attribute / "$W/onehost.h5" "$W/multi.h5" >"$W/h5diff.out" 2>&1 ||
    { head -n 30 "$W/h5diff.out"; fail "the three-host file differs from the one-host run"; }

"$PY" - "$W/multi.h5" <<'PYEOF' || fail "the ledger of the three-host run is wrong"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
status = f["/trials/status"][:]
hosts = [h.decode() for h in f["/trials/host"][:]]
ranks = [int(r) for r in f["/trials/rank"][:]]
print("trials per host:", {h: hosts.count(h) for h in sorted(set(hosts))})
ok = True
if not (status == 1).all():
    print("not every trial is done:", status); ok = False
if not set(hosts) <= {"h1", "h2", "h3"}:
    print("host names other than h1-h3:", set(hosts)); ok = False
if len(set(hosts)) < 2:
    print("all trials on one host:", set(hosts)); ok = False
# one rank per host, in hostfile order: rank r runs on h(r+1)
for h, r in zip(hosts, ranks):
    if h != "h%d" % (r + 1):
        print("rank %d ran on %s" % (r, h)); ok = False
# rank 1 (h2) trained on 2 threads: some of the data compared are its
node_ranks = f["/nodes/rank"][:]
print("trainings per rank:", {int(r): int((node_ranks == r).sum()) for r in sorted(set(node_ranks))})
if not (node_ranks == 1).any():
    print("no training on rank 1, the host of 2 threads"); ok = False
sys.exit(0 if ok else 1)
PYEOF

# The ranks on h2 and h3 reached the others through their veth: their counters moved.
for i in 2 3; do
    rx=$(ip netns exec "${pre}h$i" cat /sys/class/net/eth0/statistics/rx_bytes)
    tx=$(ip netns exec "${pre}h$i" cat /sys/class/net/eth0/statistics/tx_bytes)
    [ "$rx" -gt 2000 ] && [ "$tx" -gt 2000 ] ||
        fail "h$i's link carried only $rx bytes in, $tx out: the run did not use TCP between hosts"
done
# Kill -9 one host's ranks mid-sweep (h3: its processes, by PID), then resume
# on the two others: the file keeps every training reported done, and the
# resumed data equal a one-host run's.
sed -i 's/^iterations = .*/iterations = 20000/; s/^eval_every = .*/eval_every = 5000/; s/^hidden = .*/hidden = 64, 32/' \
    "$W/job.ini"
mpirun_ts 2 run "$W/job.ini" -o "$W/ref2.h5" >"$W/ref2.log" 2>&1 || { cat "$W/ref2.log"; fail "reference of the kill run"; }
timeout -k 5 120 ip netns exec "${pre}h1" unshare --uts sh -c "hostname h1 && \
    mpirun --hostfile '$W/hostfile' --bind-to none \
      --mca plm_rsh_agent '$W/agent' --mca btl tcp,self \
      --mca oob_tcp_if_include 10.77.0.0/24 --mca btl_tcp_if_include 10.77.0.0/24 \
      -np 1 '$TS' run '$W/job.ini' -o '$W/kill.h5' --threads 1 : \
      -np 1 '$TS' run '$W/job.ini' -o '$W/kill.h5' --threads 2 : \
      -np 1 '$TS' run '$W/job.ini' -o '$W/kill.h5' --threads 1" >"$W/kill.log" 2>&1 &
kpid=$!
i=0
until grep -q "^progress: 6/" "$W/kill.log" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 600 ] || { tail -n 20 "$W/kill.log"; fail "the kill run never reported 6 trainings"; }
    sleep 0.1
done
for p in $(ip netns pids "${pre}h3"); do kill -9 "$p" 2>/dev/null; done
wait "$kpid"
rc=$?
[ $rc -ne 0 ] || fail "the run whose h3 ranks were killed exited 0"
for ns in h1 h2 h3; do for p in $(ip netns pids "${pre}$ns"); do kill -9 "$p" 2>/dev/null; done; done
reported=$(sed -n 's/^progress: \([0-9]*\)\/.*/\1/p' "$W/kill.log" | tail -n 1)
kept=$("$PY" -c 'import h5py,sys; print(int((h5py.File(sys.argv[1],"r")["nodes/status"][:] == 1).sum()))' "$W/kill.h5")
[ "$kept" -ge "$reported" ] || fail "h3 killed after $reported reported trainings: the file keeps $kept"
[ "$kept" -lt 38 ] || fail "the kill came after the end of the sweep ($kept of 38 trainings done)"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' >"$W/hostfile2"
timeout -k 5 120 ip netns exec "${pre}h1" unshare --uts sh -c "hostname h1 && \
    mpirun --hostfile '$W/hostfile2' --bind-to none \
      --mca plm_rsh_agent '$W/agent' --mca btl tcp,self \
      --mca oob_tcp_if_include 10.77.0.0/24 --mca btl_tcp_if_include 10.77.0.0/24 \
      -np 1 '$TS' run '$W/job.ini' -o '$W/kill.h5' --resume --threads 2 : \
      -np 1 '$TS' run '$W/job.ini' -o '$W/kill.h5' --resume --threads 1" >"$W/resume.log" 2>&1 ||
    { tail -n 30 "$W/resume.log"; fail "the resume on h1 and h2 failed"; }
h5diff --exclude-path /trials/wall_seconds --exclude-path /trials/rank --exclude-path /trials/host \
    --exclude-path /nodes/wall_seconds --exclude-path /nodes/rank --exclude-path /nodes/host \
    --exclude-attribute / "$W/ref2.h5" "$W/kill.h5" >"$W/h5diff2.out" 2>&1 ||
    { head -n 30 "$W/h5diff2.out"; fail "resumed after losing h3: data differ from a one-host run"; }
echo "killed h3 after $reported reported trainings; the file kept $kept; resumed on h1, h2: equal"
echo "multihost: all checks passed"
