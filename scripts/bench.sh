#!/usr/bin/env bash
# make bench: C and Rust measured alternately in one boot (tests/bench.sh), once per mode, then
# the table and chart in Documentation/. Runs inside the root.
#   wall    QEMU as for the tests (multi-threaded TCG): guest time is host time.
#   icount  single-threaded TCG with -icount shift=0,sleep=off: the guest clock advances one
#           nanosecond per executed instruction, so a ratio is an instruction-count ratio that
#           repeats run to run (not a cycle count: caches and branch costs are not modelled).
#           The guest takes every CPU but CPU 0 offline (tests/bench.sh).
# BENCH_MODES picks modes (default both, "wall icount"), BENCH_ROUNDS the rounds per boot
# (default 5 in wall mode, 4 in icount mode, whose first is a warm-up), BENCH_ICOUNT_RUNS the
# boots of icount mode (default 3: its spread is the run-to-run spread of the ratios). A run
# with a failed operation, a map served by the wrong side, a missing side or a kernel report is
# red, and leaves Documentation/ alone.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

status=0
tsvs=()
for mode in ${BENCH_MODES:-wall icount}; do
	case $mode in
	wall) opts= kvm=${VM_KVM:-} runs=1 rounds=${BENCH_ROUNDS:-5} ;;
	icount)
		opts="-accel tcg,thread=single -icount shift=0,sleep=off" kvm=no
		runs=${BENCH_ICOUNT_RUNS:-3} rounds=${BENCH_ROUNDS:-4}
		;;
	*) die "unknown bench mode $mode (known: wall icount)" ;;
	esac
	files=
	for run in $(seq "$runs"); do
		out=$CACHE/vm-out-bench-$mode
		[ "$runs" = 1 ] || out+=-$run
		log "bench, $mode mode: boot $run of $runs, $rounds rounds"
		VM_OUT=$out VM_QEMU_OPTS=$opts VM_KVM=$kvm "$TOP/scripts/run-vm.sh" \
			"$TOP/tests/bench.sh" "$rounds" "$mode" || status=1
		files+=${files:+,}$out/bench.tsv
	done
	tsvs+=("$mode=$files")
done
release=$(cat "${KDIR:-$KBUILD_OUT}/include/config/kernel.release")
if [ "$status" != 0 ]; then
	/usr/bin/python3 "$TOP/scripts/bench-report.py" --check "$TOP/Documentation" "$release" "${tsvs[@]}" || true
	die "a bench run failed: Documentation/ left as it was"
fi
/usr/bin/python3 "$TOP/scripts/bench-report.py" "$TOP/Documentation" "$release" "${tsvs[@]}"
log "wrote Documentation/performance.rst and Documentation/performance.png"
