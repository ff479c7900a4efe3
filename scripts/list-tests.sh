#!/usr/bin/env bash
# make list-tests: the names T= takes, with what each covers: the suite's tests
# (tests/suite.list), with the kernels they run on, and the kernel's selftest entries
# (tests/selftests.list). With --check, the check of T= that make test, make rust-only and
# make test-debug run on the host before they build anything:
#   list-tests.sh                          the lists
#   list-tests.sh --check VARIANT NAMES    exit 2, naming the valid names, when a name of NAMES
#                                          (comma-separated) is no test of VARIANT's run, or
#                                          when all of them are skip entries (nothing would run)
# Runs on the host: bash, sed and grep only.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
. "$TOP/tests/lists.sh"

if [ "${1:-}" = --check ]; then
	variant=${2:-} names=${3:-}
	kernel=$(suite_kernel "$variant")
	bad=$(unknown_names "$kernel" "$names" | tr '\n' ' ')
	if [ -z "$bad" ]; then
		[ -z "$names" ] || [ -n "$(runnable_names "$kernel" "$names")" ] && exit 0
		# A run of skip entries alone would be green with nothing run.
		echo "error: T=$names names only skip entries of tests/selftests.list: nothing would run" >&2
		exit 2
	fi
	case $kernel in
	rust) what="make rust-only" ;;
	debug) what="make test-debug" ;;
	*) what="make test" ;;
	esac
	{
		echo "error: T= names what $what does not run: $bad"
		echo "Its suite tests:"
		suite_tests "$kernel" | tr '\n' ' ' | fold -s -w 96 | sed 's/^/  /'
		echo
		echo "and the selftest entries of tests/selftests.list (make list-tests says what each covers)."
	} >&2
	exit 2
fi

echo "Suite tests (tests/suite.list), in the order they run. Kernels: test = make test (and"
echo "make test-debug), debug = make test-debug only, short = make test-debug SHORT=1 too,"
echo "rust = make rust-only, shape = make test's second VM shape (tests/cpu-shape.sh)."
echo
list_entries "$SUITE_LIST" | awk -F'|' '{ printf "  %-29s %-18s %s\n", $1, $2, $3 }'
echo
echo "Selftest entries (tests/selftests.list): on make test (C, then the module) and on"
echo "make rust-only; a skip entry is reported as skipped with its reason."
echo
list_entries "$SELFTESTS_LIST" | awk -F'|' '{ printf "  %-45s %-7s %s\n", $1 ":" $2, $3, $5 }'
