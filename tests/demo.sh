#!/usr/bin/env bash
# `make run`: bpftool on each of the six map types that rust_arraymap.ko serves, in the VM: the
# module's reference count rises with every map and falls when they are gone, each map's fdinfo
# names the module, rmmod is refused while a map lives. Runs as root inside the VM:
# demo.sh OUTDIR
set -uo pipefail

OUT=$1
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${TESTS_BIN:-$TOP/tests/build}
REFCNT=/sys/module/rust_arraymap/refcnt
D=/sys/fs/bpf/demo
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mkdir -p $D
# Kernel messages on the console: warnings and worse only (splats still show).
dmesg -n 5

ok=0 bad=0 results=()
step() { printf '\n$ %s\n' "$*"; "$@"; }
# say TEXT: a line that explains what comes (or came) on the screen.
say() { printf '  # %s\n' "$*"; }
expect() {
	if [ "$1" = "$2" ]; then
		echo "  -> $3: yes"; ok=$((ok + 1)); results+=("ok $((${#results[@]} + 1)) $3")
	else
		echo "  -> $3: NO (got $1)"; bad=$((bad + 1)); results+=("not ok $((${#results[@]} + 1)) $3")
	fi
}
refs() { cat $REFCNT; }

step insmod "$TOP/rust_arraymap.ko"
# The module's own lines of the kernel log (not the kernel command line, which names the cache).
step dmesg --notime --level=info | grep '^rust_arraymap:'
expect "$(refs)" 0 "no map yet, refcount 0"

echo; echo "== ARRAY"
step bpftool map create $D/array type array key 4 value 8 entries 4 name demo_array
step bpftool map update pinned $D/array key 1 0 0 0 value 0x2a 0 0 0 0 0 0 0
step bpftool map lookup pinned $D/array key 1 0 0 0
say "keys are 0 to 3: key 4 is out of range, and the kernel says so as for C (E2BIG):"
step bpftool map update pinned $D/array key 4 0 0 0 value 1 0 0 0 0 0 0 0
step bpftool map dump pinned $D/array
expect "$(refs)" 1 "the ARRAY pins the module"

echo; echo "== PERCPU_ARRAY"
step bpftool map create $D/percpu type percpu_array key 4 value 4 entries 2 name demo_percpu
say "one value, written to every CPU's copy; read back per CPU:"
step bpftool map update pinned $D/percpu key 0 0 0 0 value 7 0 0 0
step bpftool map lookup pinned $D/percpu key 0 0 0 0

echo; echo "== PROG_ARRAY, holding a loaded XDP program"
step bpftool prog load "$BIN/demo.bpf.o" $D/prog
step bpftool map create $D/progs type prog_array key 4 value 4 entries 4 name demo_progs
step bpftool map update pinned $D/progs key 0 0 0 0 value pinned $D/prog
step bpftool map dump pinned $D/progs

echo; echo "== PERF_EVENT_ARRAY"
step bpftool map create $D/events type perf_event_array key 4 value 4 entries 2 name demo_events
say "bpftool event_pipe opens a perf event per CPU, stores each in the map and reads them;"
say "stopped after 1 s (its \"Stopping...\"), it takes them out again with its files:"
step timeout 1 bpftool map event_pipe pinned $D/events

echo; echo "== CGROUP_ARRAY"
step bpftool map create $D/cgroups type cgroup_array key 4 value 4 entries 1 name demo_cgroups
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup
say "the value of a CGROUP_ARRAY is a cgroup's fd: fd 3 of bpftool, the cgroup v2 root (3</sys/fs/cgroup):"
step bpftool map update pinned $D/cgroups key 0 0 0 0 value 3 0 0 0 3</sys/fs/cgroup
say "user space cannot read a cgroup back: ENOTSUPP (errno 524, which bpftool cannot name), as for C:"
step bpftool map lookup pinned $D/cgroups key 0 0 0 0

echo; echo "== ARRAY_OF_MAPS, holding the ARRAY"
step bpftool map create $D/outer type array_of_maps key 4 value 4 entries 2 name demo_outer \
	inner_map pinned $D/array
step bpftool map update pinned $D/outer key 0 0 0 0 value pinned $D/array
step bpftool map dump pinned $D/outer

echo; echo "== who serves them"
step bpftool map show
step "$BIN/amtest" owner $D/array $D/percpu $D/progs $D/events $D/cgroups $D/outer | tee "$OUT/owners"
expect "$(grep -c ': rust_arraymap$' "$OUT/owners")" 6 "fdinfo: ops_owner rust_arraymap for the six maps"
# Six maps and the outer map's inner-map template, which keeps the ARRAY's ops.
expect "$(refs)" 7 "six maps and an inner-map template pin the module"
step rmmod rust_arraymap
expect "$?" 1 "rmmod is refused while the maps exist"

step rm -r $D
for _ in $(seq 50); do [ "$(refs)" = 0 ] && break; sleep 0.1; done
echo "  module refcount: $(refs)"
expect "$(refs)" 0 "the maps are freed, refcount back to 0"
step rmmod rust_arraymap
expect "$?" 0 "rmmod succeeds"
echo
dmesg | "$TOP/scripts/find-splats.sh"
expect "$?" 0 "the kernel log is clean"
printf '%s\n' "KTAP version 1" "1..${#results[@]}" "${results[@]}" >"$OUT/result.ktap"
echo "$ok passed, $bad failed"
