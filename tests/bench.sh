#!/usr/bin/env bash
# `make bench`, in the VM: every measurement of ambench on the built-in C map and on
# rust_arraymap.ko, alternating C, Rust, C, Rust... for ROUNDS rounds in this one boot.
#   bench.sh OUTDIR [ROUNDS [MODE]]
# In MODE icount (scripts/bench.sh's deterministic mode) every CPU but CPU 0 is taken offline
# first: the guest clock counts the instructions of all vCPUs, so work on another CPU (deferred
# frees, RCU, kworkers) would land in the measured time. The possible CPUs stay, and with them
# the per-CPU copies of a PERCPU_ARRAY.
# Writes OUTDIR/bench.tsv (round, impl, operation, ns or FAIL, what served the map: builtin
# or rust_arraymap, from its fdinfo) and ends OUTDIR/result.ktap with "N passed, N failed":
# a failed ambench (an operation that failed) or a kernel report fails the run.
set -uo pipefail

OUT=$1
ROUNDS=${2:-5}
MODE=${3:-wall}
TOP=$(cd "$(dirname "$0")/.." && pwd)
KO=$TOP/rust_arraymap.ko
BENCH=$TOP/tests/build/ambench
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup
dmesg -n 5

loaded() { [ -e /sys/module/rust_arraymap ]; }
use_impl() {
	if [ "$1" = c ]; then
		! loaded || rmmod rust_arraymap
	else
		loaded || insmod "$KO"
	fi
}

pass=0 fail=0 n=0
result() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then pass=$((pass + 1)); echo "ok $n $2" | tee -a "$OUT/result.ktap"
	else fail=$((fail + 1)); echo "not ok $n $2" | tee -a "$OUT/result.ktap"; fi
}

printf 'KTAP version 1\n' >"$OUT/result.ktap"
ok=0
if [ "$MODE" = icount ]; then
	for cpu in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ -e "$cpu" ] || continue
		echo 0 >"$cpu" || ok=1
	done
	online=$(cat /sys/devices/system/cpu/online)
	echo "# online CPUs: $online, possible: $(cat /sys/devices/system/cpu/possible)"
	[ "$online" = 0 ] || ok=1
	result $ok "icount mode: CPU 0 alone online"
fi
printf 'round\timpl\top\tns\tserver\n' >"$OUT/bench.tsv"
ok=0
for r in $(seq "$ROUNDS"); do
	# Alternate which one goes first, so that neither always runs right after the other's
	# deferred frees (maps are freed from RCU callbacks and a workqueue).
	order="c rust"
	[ $((r % 2)) = 0 ] && order="rust c"
	for impl in $order; do
		echo "# round $r/$ROUNDS: $impl"
		use_impl $impl || ok=1
		for what in syscall prog fd lifecycle; do
			"$BENCH" $what >"$OUT/run.txt" || { ok=1; echo "ambench $what failed"; }
			sed "s/^/$r\t$impl\t/" "$OUT/run.txt" >>"$OUT/bench.tsv"
		done
		if [ $impl = rust ]; then
			for _ in $(seq 100); do [ "$(cat /sys/module/rust_arraymap/refcnt)" = 0 ] && break; sleep 0.1; done
		fi
		sleep 1 # let the deferred frees of this run finish before the next one
	done
done
result $ok "all $ROUNDS rounds ran, every timed operation succeeded"
ok=0

# Single-op syscalls on large values, with a C map (created before insmod) and a Rust map
# alive side by side and measured alternately: under TCG, where and when a 4 MiB map is
# allocated shows in these timings (see Documentation/performance.rst).
echo "# coexisting maps"
use_impl c
bpftool map create /sys/fs/bpf/c4k type array key 4 value 4096 entries 1024 name c4k || ok=1
use_impl rust
bpftool map create /sys/fs/bpf/r4k type array key 4 value 4096 entries 1024 name r4k || ok=1
for r in $(seq "$ROUNDS"); do
	for impl in c rust; do
		"$BENCH" pinned /sys/fs/bpf/${impl:0:1}4k >"$OUT/run.txt" || { ok=1; echo "ambench pinned failed"; }
		sed -E "s/^(update|lookup) [^\t]*/syscall \1 4096B, maps side by side/; s/^/$r\t$impl\t/" \
			"$OUT/run.txt" >>"$OUT/bench.tsv"
	done
done
result $ok "the side-by-side rounds ran, every timed operation succeeded"
rm -f /sys/fs/bpf/c4k /sys/fs/bpf/r4k

# The inlined lookup must be the very same instructions.
use_impl c && "$BENCH" xlated >"$OUT/xlated.c"
use_impl rust && "$BENCH" xlated >"$OUT/xlated.rust"
use_impl c
diff -u "$OUT/xlated.c" "$OUT/xlated.rust" >"$OUT/xlated.diff"
result $? "xlated lookup program identical (C vs Rust)"
dmesg | "$TOP/scripts/find-splats.sh"
result $? "dmesg clean"
echo "1..$n" | tee -a "$OUT/result.ktap"
echo "# $pass passed, $fail failed" | tee -a "$OUT/result.ktap"
