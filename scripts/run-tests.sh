#!/usr/bin/env bash
# make test: the suite in the VM (tests/run-suite.sh), with the kernel's BPF selftests built by
# scripts/build-selftests.sh, then the check of the harness itself (scripts/check-harness.sh).
# With T=name,... only those suite tests and selftest entries run, and the harness check does
# not. With VARIANT=rust (make rust-only) the suite's tests that need no C twin run on the
# Rust-only kernel. With VARIANT=debug (make test-debug) the suite runs on the sanitizer kernel, with the
# fault-injection table and kmemleak's scans, and the harness check does not. Runs inside the
# root. The last line is the sum: "N passed, N failed, N skipped".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# Each part's output is shown as it comes and kept (not re-opened through /dev/stderr, which
# would truncate a log file that the caller's stderr points to); its last line is its verdict.
rc=0
saved=$CACHE/make-test${VARIANT:+-$VARIANT}
# The sanitizer kernel runs about 3 times slower: its whole run (suite and selftests) took
# 98 min on 2026-12-03 (warm), so it gets 2 h; its short pass (~25 min) 90 min.
if [ "$VARIANT" = debug ]; then
	if [ -n "${SHORT:-}" ]; then
		export VM_TIMEOUT=${VM_TIMEOUT:-5400}
	else
		export VM_TIMEOUT=${VM_TIMEOUT:-7200}
	fi
fi
VM_OUT=${VM_OUT:-$CACHE/vm-out${VARIANT:+-$VARIANT}} \
	"$TOP/scripts/run-vm.sh" "$TOP/tests/run-suite.sh" "$ARTIFACTS/selftests-bpf" ${T:+"$T"} |
	tee "$saved-suite.out" || rc=1
parts=("$saved-suite.out")
if [ -z "${T:-}" ] && [ -z "$VARIANT" ]; then
	# The second VM shape (scripts/run-shape.sh): per-CPU copies of CPUs that are not online,
	# and a hole among the online ones.
	"$TOP/scripts/run-shape.sh" | tee "$CACHE/make-test-shape.out" || rc=1
	parts+=("$CACHE/make-test-shape.out")
	# poke_race: a direct tail call re-patched while it runs (tests/pokerace.sh), in a boot of
	# its own with single-threaded TCG, the one mode QEMU runs live-patched text right in
	# (Documentation/testing.rst); 60 s on the C maps, 60 s on the module's.
	log "poke_race: PROG_ARRAY slot changes re-patching a running direct tail call"
	VM_OUT=$CACHE/vm-out-pokerace VM_TCG_THREAD=single \
		"$TOP/scripts/run-vm.sh" "$TOP/tests/pokerace.sh" "${POKE_SECONDS:-60}" |
		tee "$CACHE/make-test-pokerace.out" || rc=1
	parts+=("$CACHE/make-test-pokerace.out")
	"$TOP/scripts/check-harness.sh" | tee "$CACHE/make-test-harness.out" || rc=1
	parts+=("$CACHE/make-test-harness.out")
fi
# "P passed, F failed, S skipped" of the parts, added up.
"$TOP/scripts/sum-verdicts.sh" "${parts[@]}"
exit $rc
