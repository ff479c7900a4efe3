#!/usr/bin/env bash
# Run a command inside the toolchain root, in a private mount namespace: the
# mounts die with the command, so deleting the cache never touches the host.
# The repo, the cache (and KDIR, if set) appear at the same paths inside as
# outside.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

root=${RA_ROOT:-$ROOT}
[ -d "$root" ] || die "no root at $root: run scripts/make-root.sh"

exec unshare --mount --propagation private -- /bin/bash -euo pipefail -c '
	root=$1 top=$2 cache=$3 cwd=$4; shift 4
	mount --rbind /dev "$root/dev"
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	dirs=("$top" "$cache")
	# A kernel tree of the user (make module KDIR=...) is needed inside too.
	case "${KDIR:-}" in "" | "$top"/* | "$cache"/*) ;; *) dirs+=("$(realpath "$KDIR")") ;; esac
	for d in "${dirs[@]}"; do
		mkdir -p "$root$d"
		mount --bind "$d" "$root$d"
	done
	exec chroot "$root" /usr/bin/env -i HOME=/root TERM="${TERM:-dumb}" \
		PATH=/opt/vng/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 \
		RUST_ARRAYMAP_CACHE="$cache" ${CI:+"CI=$CI"} ${KDIR:+"KDIR=$KDIR"} \
		${VM_KVM:+"VM_KVM=$VM_KVM"} ${VM_TIMEOUT:+"VM_TIMEOUT=$VM_TIMEOUT"} ${VM_TCG_THREAD:+"VM_TCG_THREAD=$VM_TCG_THREAD"} \
		${VM_CPUS:+"VM_CPUS=$VM_CPUS"} ${VM_MEM:+"VM_MEM=$VM_MEM"} ${VM_QEMU_OPTS:+"VM_QEMU_OPTS=$VM_QEMU_OPTS"} \
		${POKE_SECONDS:+"POKE_SECONDS=$POKE_SECONDS"} ${FULL_PROGS_SHARDS:+"FULL_PROGS_SHARDS=$FULL_PROGS_SHARDS"} \
		${FULL_SIDES:+"FULL_SIDES=$FULL_SIDES"} ${FULL_VM_TIMEOUT:+"FULL_VM_TIMEOUT=$FULL_VM_TIMEOUT"} \
		${FULL_WATCHDOG:+"FULL_WATCHDOG=$FULL_WATCHDOG"} ${FULL_RESUME:+"FULL_RESUME=$FULL_RESUME"} ${FULL_RERUN_ROUNDS:+"FULL_RERUN_ROUNDS=$FULL_RERUN_ROUNDS"} \
		${BENCH_ROUNDS:+"BENCH_ROUNDS=$BENCH_ROUNDS"} ${BENCH_MODES:+"BENCH_MODES=$BENCH_MODES"} ${BENCH_ICOUNT_RUNS:+"BENCH_ICOUNT_RUNS=$BENCH_ICOUNT_RUNS"} ${T:+"T=$T"} ${MUTANTS:+"MUTANTS=$MUTANTS"} ${MUTANT_STAGES:+"MUTANT_STAGES=$MUTANT_STAGES"} ${VARIANT:+"VARIANT=$VARIANT"} ${SHORT:+"SHORT=$SHORT"} \
		${FUZZ_SEED:+"FUZZ_SEED=$FUZZ_SEED"} ${FUZZ_OPS:+"FUZZ_OPS=$FUZZ_OPS"} ${STRESS_SECONDS:+"STRESS_SECONDS=$STRESS_SECONDS"} \
		${HARNESS_HANG_TIMEOUT:+"HARNESS_HANG_TIMEOUT=$HARNESS_HANG_TIMEOUT"} /bin/bash -c "cd \"\$0\" 2>/dev/null || cd /; exec \"\$@\"" "$cwd" "$@"
' in-root "$root" "$TOP" "$CACHE" "$PWD" "$@"
