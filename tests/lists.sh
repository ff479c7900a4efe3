# shellcheck shell=bash
# The lists of tests, tests/suite.list and tests/selftests.list, as the guest's run-suite.sh and
# the host's scripts/list-tests.sh read them: one parser, one check of the names T= gives.
# Sourced, never run; needs TOP.

SUITE_LIST=${SUITE_LIST:-$TOP/tests/suite.list}
SELFTESTS_LIST=${SELFTESTS_LIST:-$TOP/tests/selftests.list}

# list_entries FILE: its entries without comments, as "field|field|...", spaces around | trimmed.
list_entries() {
	sed -e 's/#.*//' -e 's/[[:space:]]*|[[:space:]]*/|/g' -e 's/^[[:space:]]*//' \
		-e 's/[[:space:]]*$//' "$1" | grep -v '^$'
}

# suite_kernel VARIANT: the KERNELS word of tests/suite.list for a kernel variant.
suite_kernel() {
	case $1 in
	debug) echo debug ;;
	rust | series-rust) echo rust ;;
	*) echo test ;;
	esac
}

# suite_tests KERNEL: the suite's tests that KERNEL runs (test, debug, short, rust), in order; the
# whole make test-debug (debug) runs make test's and its own.
suite_tests() {
	local name kernels what
	while IFS='|' read -r name kernels what; do
		case ",$kernels," in
		*",$1,"*) echo "$name" ;;
		*",test,"*) [ "$1" = debug ] && echo "$name" ;;
		esac
	done < <(list_entries "$SUITE_LIST")
	return 0
}

# runnable_selftests: the names of the selftests' list's entries that run (not skip entries).
runnable_selftests() {
	list_entries "$SELFTESTS_LIST" | awk -F'|' '$3 != "skip" { print $2 }'
}

# runnable_names KERNEL NAMES: each name of NAMES (comma-separated) that runs something: a suite
# test KERNEL runs, or an entry of the selftests' list that is not a skip entry.
runnable_names() {
	local t tests selftests
	tests=$(suite_tests "$1")
	selftests=$(runnable_selftests)
	for t in ${2//,/ }; do
		grep -qxF -- "$t" <<<"$tests" || grep -qxF -- "$t" <<<"$selftests" && echo "$t"
	done
	return 0
}

# unknown_names KERNEL NAMES: each name of NAMES (comma-separated) that is neither a suite test
# KERNEL runs nor an entry of the selftests' list, one per line.
unknown_names() {
	local t tests selftests
	tests=$(suite_tests "$1")
	selftests=$(list_entries "$SELFTESTS_LIST" | cut -d'|' -f2)
	for t in ${2//,/ }; do
		grep -qxF -- "$t" <<<"$tests" || grep -qxF -- "$t" <<<"$selftests" || echo "$t"
	done
}
