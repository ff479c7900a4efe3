#!/usr/bin/env bash
# `make run`: a short bpftool session in the VM showing an ARRAY map served by
# rust_arraymap.ko: the module's refcount rises while the map lives and falls
# when it is gone; each map's fdinfo names the module. Runs as root inside the VM:
# demo.sh OUTDIR
set -uo pipefail

OUT=$1
TOP=$(cd "$(dirname "$0")/.." && pwd)
REFCNT=/sys/module/rust_arraymap/refcnt
PIN=/sys/fs/bpf/demo
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
# Kernel messages on the console: warnings and worse only (splats still show).
dmesg -n 5

ok=0 bad=0 results=()
step() { printf '\n$ %s\n' "$*"; "$@"; }
expect() {
	if [ "$1" = "$2" ]; then
		echo "  -> $3: yes"; ok=$((ok + 1)); results+=("ok $((${#results[@]} + 1)) $3")
	else
		echo "  -> $3: NO (got $1)"; bad=$((bad + 1)); results+=("not ok $((${#results[@]} + 1)) $3")
	fi
}

step insmod "$TOP/rust_arraymap.ko"
step dmesg --notime | grep rust_arraymap
echo "  module refcount: $(cat $REFCNT)"
expect "$(cat $REFCNT)" 0 "no map yet, refcount 0"

step bpftool map create $PIN type array key 4 value 8 entries 4 name demo
echo "  module refcount: $(cat $REFCNT)"
expect "$(cat $REFCNT)" 1 "the new ARRAY map pins the module"
step bpftool map update pinned $PIN key 1 0 0 0 value 0x2a 0 0 0 0 0 0 0
step bpftool map update pinned $PIN key 4 0 0 0 value 1 0 0 0 0 0 0 0
step bpftool map dump pinned $PIN
step bpftool map show pinned $PIN
# fdinfo names the module that serves a map (patch 11): one map of each array type and a HASH.
step "${TESTS_BIN:-$TOP/tests/build}/amtest" ops-owner | tee "$OUT/ops-owner"
expect "$(grep -c ' rust_arraymap$' "$OUT/ops-owner")" 6 "fdinfo: ops_owner rust_arraymap for all six array types"
expect "$(grep -c '^hash -$' "$OUT/ops-owner")" 1 "fdinfo: no ops_owner for a built-in HASH map"
step rmmod rust_arraymap
expect "$?" 1 "rmmod is refused while the map exists"

step rm $PIN
for _ in $(seq 50); do [ "$(cat $REFCNT)" = 0 ] && break; sleep 0.1; done
echo "  module refcount: $(cat $REFCNT)"
expect "$(cat $REFCNT)" 0 "the map is freed, refcount back to 0"
step rmmod rust_arraymap
expect "$?" 0 "rmmod succeeds"
echo
dmesg | "$TOP/scripts/find-splats.sh"
expect "$?" 0 "the kernel log is clean"
printf '%s\n' "KTAP version 1" "1..${#results[@]}" "${results[@]}" >"$OUT/result.ktap"
echo "$ok passed, $bad failed"
