#!/usr/bin/env bash
# Boot the patched kernel in QEMU with virtme-ng and run a guest script in it.
# usage: run-vm.sh GUEST-SCRIPT [ARGS...]   (runs inside the root)
#
# The guest script writes its KTAP report to $OUT/result.ktap (a directory
# shared read-write with the guest) and may leave the kernel log it followed in
# $OUT/kernel.log. vng's own exit status means little in console-fallback mode,
# so the verdict is scripts/ktap-verdict.sh's count of the results, made red by
# a VM that did not power off in time (a hang, even after the last result) and
# by any kernel report (scripts/find-splats.sh) on the console or in the log.
# The last line printed is "N passed, N failed, N skipped"; exit 1 on a failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

script=$1
shift
# With KDIR (a kernel tree of the user's, make module KDIR=...), that tree's kernel boots.
kimg=${KIMG:-${KDIR:-$KBUILD_OUT}/arch/x86/boot/bzImage}
[ -e "$kimg" ] || die "no kernel image at $kimg"
out=${VM_OUT:-$CACHE/vm-out}
rm -rf "$out"
mkdir -p "$out"

vng_args=(--verbose --run "$kimg" --cpus "${VM_CPUS:-2}" --memory "${VM_MEM:-2G}"
	--append root=/dev/root --rwdir "$out")
# VM_APPEND: more words for the kernel's command line (make test's second VM shape).
for arg in ${BOOT_ARGS[@]+"${BOOT_ARGS[@]}"} ${VM_APPEND:-}; do
	vng_args+=(--append "$arg")
done

# KVM where it works; these machines have /dev/kvm but guests die there.
kvm=--disable-kvm
if [ -w /dev/kvm ] && [ "${VM_KVM:-probe}" != no ]; then
	if timeout 60 vng "${vng_args[@]}" --exec "echo kvm-probe-ok" 2>&1 | grep -q '^kvm-probe-ok'; then
		kvm=
	fi
fi
# Extra QEMU options (make bench's deterministic mode: instruction counting).
qemu_opts=${VM_QEMU_OPTS:-}
# VM_TCG_THREAD=single|multi: how TCG runs the vCPUs (QEMU's default for an x86 guest: multi,
# one host thread each), unless VM_QEMU_OPTS chose an -accel. Multi-threaded, QEMU 10.0 has
# been seen to run kernel text as it was during a live patch after the patch was done, which
# oopses (make test's poke_race part boots single-threaded for that; Documentation/testing.rst).
if [ -n "$kvm" ] && [ -n "${VM_TCG_THREAD:-}" ] && [[ " $qemu_opts " != *" -accel "* ]]; then
	qemu_opts="-accel tcg,thread=$VM_TCG_THREAD${qemu_opts:+ $qemu_opts}"
fi
# (One word: vng's parser takes a separate value that starts with "-" for an option.)
[ -z "$qemu_opts" ] || vng_args+=("--qemu-opts=$qemu_opts")
# What the guest scripts test, for the variant of the kernel that boots (scripts/lib.sh).
# (The series check's Rust choice is a Rust-only kernel for the guest.)
guest_env="env VARIANT=${VARIANT#series-} SHORT=${SHORT:-} FUZZ_SEED=${FUZZ_SEED:-} FUZZ_OPS=${FUZZ_OPS:-}"
guest_env+=" STRESS_SECONDS=${STRESS_SECONDS:-}"
guest_env+=" KO=$MODULE_OUT/rust_arraymap.ko TESTS_BIN=$TESTS_OUT"
log "booting $(basename "$kimg") in QEMU (${kvm:+TCG${qemu_opts:+ $qemu_opts}, }${kvm:-KVM}) for $(basename "$script")"

# QEMU under TCG on 2 host cores has been seen to abort while the guest boots
# (an assertion in iotlb_to_section, under heavy host load). A boot that never
# reached the guest script is retried: nothing under test has run by then.
for attempt in 1 2 3; do
	rm -f "$out/result.ktap"
	# Show the guest's output live, without the boot chatter (mawk reads a pipe in blocks
	# unless interactive: a guest that prints little would show nothing for minutes).
	# timeout's status tells a hang (124); vng's own means little.
	set +e
	timeout "${VM_TIMEOUT:-2400}" vng "${vng_args[@]}" $kvm --exec "$guest_env $script $out $*" 2>&1 |
		tee "$out/console.log" |
		mawk -W interactive '/virtme-ng-init: starting script/ { on = 1; next } on && !/^virtme-ng-init:/ { print; fflush() }'
	vm_status=${PIPESTATUS[0]}
	set -e
	grep -q 'virtme-ng-init: starting script' "$out/console.log" && break
	log "attempt $attempt: the VM died before the guest script started:"
	grep -E 'qemu-system|Kernel panic' "$out/console.log" | head -n 5 >&2 || true
done

# Each problem of the run as a whole (a hang, kernel reports) is one failure more.
problems=0
verdict_ok=1
verdict=$("$TOP/scripts/ktap-verdict.sh" "$out/result.ktap") || verdict_ok=0
if [ "$vm_status" = 124 ]; then
	log "the VM did not power off within ${VM_TIMEOUT:-2400}s (a hang); console: $out/console.log"
	problems=$((problems + 1))
fi
# Kernel reports: on the console (what the kernel printed until power-off) and in the whole
# log the guest followed, every level.
klogs=("$out/console.log")
[ -e "$out/kernel.log" ] && klogs+=("$out/kernel.log")
# (find-splats.sh itself passes over virtme-ng-init's own lines.)
if ! "$TOP/scripts/find-splats.sh" "${klogs[@]}" >"$out/splats.txt"; then
	log "the kernel reported (all in $out/splats.txt):"
	head -n 20 "$out/splats.txt" >&2
	problems=$((problems + 1))
fi
if [ "$problems" != 0 ]; then
	passed=${verdict%% passed*}
	rest=${verdict#*, }
	failed=${rest%% failed*}
	skipped=${verdict##*, }
	skipped=${skipped%% skipped}
	echo "${passed:-0} passed, $((${failed:-0} + problems)) failed, ${skipped:-0} skipped"
	exit 1
fi
echo "$verdict"
[ "$verdict_ok" = 1 ]
