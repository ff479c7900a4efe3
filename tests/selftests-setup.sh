# shellcheck shell=bash
# What the kernel's runners need of the guest, for tests/full-selftests.sh and
# tests/selftests-rerun.sh: bpffs, debugfs and tracefs mounted, unprivileged BPF on (the kernel
# boots with it off, 2: the runners have unprivileged halves), the kernel log followed into
# $OUT/kernel.log, and $OUT/kernel saying which kernel ran (what FULL_RESUME compares).
# Sourced, never run; needs OUT.
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
mountpoint -q /sys/kernel/tracing || mount -t tracefs none /sys/kernel/tracing
sysctl -q kernel.unprivileged_bpf_disabled=0
dmesg -n 5
stdbuf -oL dmesg --follow >"$OUT/kernel.log" 2>&1 &
echo "kernel $(uname -rv)" >"$OUT/kernel"

# ktap LINE: a line of $OUT/result.ktap, echoed.
ktap() { echo "$*" >>"$OUT/result.ktap"; echo "$*"; }
: >"$OUT/result.ktap"
