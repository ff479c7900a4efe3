#!/usr/bin/env bash
# Boot the patched kernel in QEMU with virtme-ng and run a guest script in it.
# usage: run-vm.sh GUEST-SCRIPT [ARGS...]   (runs inside the root)
#
# The guest script writes its KTAP report to $OUT/result.ktap (a directory
# shared read-write with the guest) and ends it with "N passed, N failed".
# vng's own exit status means little in console-fallback mode, so the verdict
# is that last line; no line (panic, hang, timeout) is a failure.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

script=$1
shift
kimg=${KIMG:-$KBUILD_OUT/arch/x86/boot/bzImage}
[ -e "$kimg" ] || die "no kernel image at $kimg"
out="$CACHE/vm-out"
rm -rf "$out"
mkdir -p "$out"

vng_args=(--verbose --run "$kimg" --cpus "${VM_CPUS:-2}" --memory "${VM_MEM:-2G}"
	--append root=/dev/root --rwdir "$out")

# KVM where it works; these machines have /dev/kvm but guests die there.
kvm=--disable-kvm
if [ -w /dev/kvm ] && [ "${VM_KVM:-probe}" != no ]; then
	if timeout 60 vng "${vng_args[@]}" --exec "echo kvm-probe-ok" 2>&1 | grep -q '^kvm-probe-ok'; then
		kvm=
	fi
fi
log "booting $(basename "$kimg") in QEMU (${kvm:+TCG, }${kvm:-KVM}) for $(basename "$script")"

# QEMU under TCG on 2 host cores has been seen to abort while the guest boots
# (an assertion in iotlb_to_section, under heavy host load). A boot that never
# reached the guest script is retried: nothing under test has run by then.
for attempt in 1 2 3; do
	rm -f "$out/result.ktap"
	# Show the guest's output live, without the boot chatter.
	timeout "${VM_TIMEOUT:-2400}" vng "${vng_args[@]}" $kvm --exec "$script $out $*" 2>&1 |
		tee "$out/console.log" |
		awk '/virtme-ng-init: starting script/ { on = 1; next } on && !/^virtme-ng-init:/ { print; fflush() }' || true
	grep -q 'virtme-ng-init: starting script' "$out/console.log" && break
	log "attempt $attempt: the VM died before the guest script started:"
	grep -E 'qemu-system|Kernel panic' "$out/console.log" | head -n 5 >&2 || true
done

verdict=$(tail -n 1 "$out/result.ktap" 2>/dev/null || true)
if ! [[ "$verdict" =~ ^[0-9]+\ passed,\ [0-9]+\ failed$ ]]; then
	log "the guest gave no verdict (panic, hang or timeout); console: $out/console.log"
	grep -E 'Kernel panic|BUG:|Oops|WARNING:' "$out/console.log" | head -n 20 >&2 || true
	echo "0 passed, 1 failed"
	exit 1
fi
# A splat after the suite's own dmesg check (at power-off) fails the run too.
splat='WARNING: CPU|cut here|BUG:|Oops|Kernel panic|KASAN|circular locking|detected stall'
if grep -v '^virtme-ng-init:' "$out/console.log" | grep -qE "$splat"; then
	log "the kernel complained on the console:"
	grep -v '^virtme-ng-init:' "$out/console.log" | grep -E "$splat" | head -n 20 >&2
	passed=${verdict%% passed*}
	failed=${verdict#*, }
	failed=${failed%% failed}
	echo "$passed passed, $((failed + 1)) failed"
	exit 1
fi
echo "$verdict"
[[ "$verdict" =~ \ 0\ failed$ ]]
