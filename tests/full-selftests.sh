#!/usr/bin/env bash
# The kernel's BPF selftest runners, whole, on whatever kernel boots (make full-selftests, from
# scripts/full-selftests.sh). Runs as root inside the VM (scripts/run-vm.sh):
#   full-selftests.sh OUT SELFTESTS PART[,PART...]
#   PART  test_verifier | test_maps | test_progs:FIRST-LAST (test numbers, as test_progs -n)
# Each part writes OUT/PART/ (PART with ':' as '_'): out.N, what the runner printed on its N-th
# run, and for test_progs json.N, its --json-summary. test_progs runs again from the test after
# the one that ended a run (its watchdog, a crash), which goes into OUT/PART/ended-by, and
# OUT/PART/list has the names of all tests by number (test_progs -l). Then
# "done PART SECONDS" goes into OUT/progress. The kernel log is followed into OUT/kernel.log.
# No verdict on the tests here: scripts/full-selftests-report.py compares two kernels' results.
# One KTAP line per part says only that it ran to its end.
set -uo pipefail

OUT=$1
SELFTESTS=$2
PARTS=$3
# test_progs kills a test that runs longer than this (its watchdog, SIGSEGV); 120 s by default,
# which TCG reaches for some tests that finish.
WATCHDOG=${FULL_WATCHDOG:-600}

. "$(dirname "$0")/selftests-setup.sh"
IFS=, read -ra parts <<<"$PARTS"
ktap "KTAP version 1"
ktap "1..${#parts[@]}"

# run_progs DIR FIRST LAST: test_progs over the tests FIRST..LAST, again from the next test
# whenever a run ends early.
run_progs() {
	local dir=$1 first=$2 last=$3 n=0 done_upto
	# The names by number (line N: test N), for a test that ends a run before it reports.
	./test_progs -l >"$dir/list" 2>/dev/null
	while [ "$first" -le "$last" ]; do
		n=$((n + 1))
		echo "# test_progs -n $first-$last (run $n)"
		./test_progs -n "$first-$last" -w "$WATCHDOG" --json-summary="$dir/json.$n" \
			>"$dir/out.$n" 2>&1
		echo "exit $?" >"$dir/rc.$n"
		# The last test it reported ("#N name:..." is printed when test N is over).
		done_upto=$(sed -n 's/^#\([0-9][0-9]*\)[ /].*:\(OK\|SKIP\|FAIL\).*/\1/p' "$dir/out.$n" |
			sort -n | tail -n 1)
		done_upto=${done_upto:-$((first - 1))}
		[ "$done_upto" -ge "$last" ] && break
		# Listed tests past the end are not run: the last number the list has.
		grep -q '^Summary: ' "$dir/out.$n" && break
		echo "$((done_upto + 1)) $(grep -m1 -E 'WATCHDOG: test case .* terminating|Caught signal' "$dir/out.$n")" \
			>>"$dir/ended-by"
		first=$((done_upto + 2))
	done
}

cd "$SELFTESTS" || exit 1
i=0
for part in "${parts[@]}"; do
	i=$((i + 1))
	dir=$OUT/${part//:/_}
	mkdir -p "$dir"
	start=$SECONDS
	echo "<14>full-selftests: begin $part" >/dev/kmsg
	case $part in
	test_verifier) ./test_verifier >"$dir/out.1" 2>&1; echo "exit $?" >"$dir/rc.1" ;;
	test_maps) ./test_maps >"$dir/out.1" 2>&1; echo "exit $?" >"$dir/rc.1" ;;
	test_progs:*-*)
		range=${part#test_progs:}
		run_progs "$dir" "${range%-*}" "${range#*-}" ;;
	*) ktap "not ok $i $part # unknown part"; continue ;;
	esac
	echo "<14>full-selftests: end $part" >/dev/kmsg
	echo "done $part $((SECONDS - start))" >>"$OUT/progress"
	ktap "ok $i $part # $((SECONDS - start)) s"
done
sleep 1
