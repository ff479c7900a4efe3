#!/usr/bin/env bash
# make bench: C and Rust measured alternately in one boot (tests/bench.sh), once per mode, then
# the table and chart in Documentation/. Runs inside the root.
#   wall    QEMU as for the tests (multi-threaded TCG): guest time is host time.
#   icount  single-threaded TCG with -icount shift=0,sleep=off: the guest clock advances one
#           nanosecond per executed instruction, so a ratio is an instruction-count ratio that
#           repeats run to run (not a cycle count: caches and branch costs are not modelled).
# BENCH_MODES picks modes (default both, "wall icount"), BENCH_ROUNDS the rounds (default 5;
# about 15 min in wall mode and 12 in icount mode on these machines). A run
# with a failed operation, a map served by the wrong side, a missing side or a kernel report is
# red, and leaves Documentation/ alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rounds=${BENCH_ROUNDS:-5}
status=0
tsvs=()
for mode in ${BENCH_MODES:-wall icount}; do
	case $mode in
	wall) opts= kvm=${VM_KVM:-} ;;
	icount) opts="-accel tcg,thread=single -icount shift=0,sleep=off" kvm=no ;;
	*) die "unknown bench mode $mode (known: wall icount)" ;;
	esac
	out=$CACHE/vm-out-bench-$mode
	log "bench, $mode mode: $rounds rounds"
	VM_OUT=$out VM_QEMU_OPTS=$opts VM_KVM=$kvm "$TOP/scripts/run-vm.sh" "$TOP/tests/bench.sh" \
		"$rounds" || status=1
	tsvs+=("$mode=$out/bench.tsv")
done
release=$(cat "${KDIR:-$KBUILD_OUT}/include/config/kernel.release")
if [ "$status" != 0 ]; then
	/usr/bin/python3 "$TOP/scripts/bench-report.py" --check "$TOP/Documentation" "$release" "${tsvs[@]}" || true
	die "a bench run failed: Documentation/ left as it was"
fi
/usr/bin/python3 "$TOP/scripts/bench-report.py" "$TOP/Documentation" "$release" "${tsvs[@]}"
log "wrote Documentation/performance.rst and Documentation/performance.png"
