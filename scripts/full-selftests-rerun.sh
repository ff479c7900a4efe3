#!/usr/bin/env bash
# make full-selftests-rerun: after make full-selftests, each test_progs unit whose verdict
# differed between the C and the Rust-only kernel runs again alone, FULL_RERUN_ROUNDS times (3)
# on each kernel (tests/selftests-rerun.sh, one boot per kernel, single-threaded TCG as
# test_progs ran), so that a verdict that changes from run to run on one kernel is told from
# one that follows the implementation; then Documentation/selftests-full.rst is written again
# with the rounds' verdicts beside each difference. Runs inside the root.
# Results: $CACHE/full-selftests/<c|rust>/rerun/ (verdicts: "NAME ROUND VERDICT").
set -euo pipefail
. "$(dirname "$0")/lib.sh"

results=$CACHE/full-selftests
rounds=${FULL_RERUN_ROUNDS:-3}
[ -s "$results/c/meta" ] && [ -s "$results/rust/meta" ] ||
	die "no results of make full-selftests for both kernels in $results"
mapfile -t names < <("$TOP/scripts/full-selftests-report.py" "$results/c" "$results/rust" --differing)
if [ "${#names[@]}" = 0 ]; then
	log "no unit has different verdicts: nothing to rerun"
	exit 0
fi
log "rerunning ${#names[@]} units, $rounds rounds each on each kernel: ${names[*]}"
for side in c rust; do
	rm -rf "${results:?}/$side/rerun"
	(
		[ "$side" = rust ] && export VARIANT=rust || export VARIANT=
		. "$TOP/scripts/lib.sh"
		VM_TCG_THREAD=single VM_TIMEOUT=${FULL_VM_TIMEOUT:-7200} VM_OUT=$results/$side/rerun \
			"$TOP/scripts/run-vm.sh" "$TOP/tests/selftests-rerun.sh" \
			"$KBUILD_OUT/selftests-bpf" "$rounds" "${names[@]}" || true
	)
done
"$TOP/scripts/full-selftests-report.py" "$results/c" "$results/rust" \
	>"$TOP/Documentation/selftests-full.rst"
log "Documentation/selftests-full.rst written, with the reruns"
