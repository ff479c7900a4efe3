#!/usr/bin/env bash
# make test: the suite in the VM (tests/run-suite.sh), with the kernel's BPF selftests built by
# scripts/build-selftests.sh, then the check of the harness itself (scripts/check-harness.sh).
# With T=name,... only those suite tests and selftest entries run, and the harness check does
# not. Runs inside the root. The last line is the sum: "N passed, N failed, N skipped".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Each part's output is shown as it comes and kept (not re-opened through /dev/stderr, which
# would truncate a log file that the caller's stderr points to); its last line is its verdict.
rc=0
"$TOP/scripts/run-vm.sh" "$TOP/tests/run-suite.sh" "${KDIR:-$KBUILD_OUT}/selftests-bpf" ${T:+"$T"} |
	tee "$CACHE/make-test-suite.out" || rc=1
suite=$(tail -n 1 "$CACHE/make-test-suite.out")
harness="0 passed, 0 failed"
if [ -z "${T:-}" ]; then
	"$TOP/scripts/check-harness.sh" | tee "$CACHE/make-test-harness.out" || rc=1
	harness=$(tail -n 1 "$CACHE/make-test-harness.out")
fi
# "P passed, F failed[, S skipped]" of both, added up.
sum() { sed -E 's/^([0-9]+) passed, ([0-9]+) failed(, ([0-9]+) skipped)?$/\1 \2 \4/' <<<"$1"; }
read -r p1 f1 s1 <<<"$(sum "$suite")"
read -r p2 f2 s2 <<<"$(sum "$harness")"
echo "$((${p1:-0} + ${p2:-0})) passed, $((${f1:-1} + ${f2:-1})) failed, $((${s1:-0} + ${s2:-0})) skipped"
exit $rc
