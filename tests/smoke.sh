#!/usr/bin/env bash
set -uo pipefail
out=$1
cd "$(dirname "$0")/.."
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
insmod ./rust_arraymap.ko && echo insmod-ok
cat /sys/module/rust_arraymap/refcnt
bpftool map create /sys/fs/bpf/m type array key 4 value 8 entries 4 name m1 && echo create-ok
cat /sys/module/rust_arraymap/refcnt
bpftool map update pinned /sys/fs/bpf/m key 1 0 0 0 value 1 2 3 4 5 6 7 8
bpftool map dump pinned /sys/fs/bpf/m
bpftool map show pinned /sys/fs/bpf/m
rmmod rust_arraymap; echo rmmod-rc=$?
rm /sys/fs/bpf/m; sleep 1
cat /sys/module/rust_arraymap/refcnt
rmmod rust_arraymap; echo rmmod-rc=$?
dmesg | tail -5
echo "1 passed, 0 failed" > $out/result.ktap
