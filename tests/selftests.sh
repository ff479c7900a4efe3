# shellcheck shell=bash
# The kernel's BPF selftests of tests/selftests.list, each run on the built-in maps and then
# with rust_arraymap.ko loaded, in this boot. Sourced by tests/run-suite.sh after
# tests/harness.sh, whose harness_point runs each entry.
#
# What counts (one implementation, selftest_counts):
# - test_progs: its per-subtest lines "#N/M test/sub:OK|SKIP|FAIL" and, for a test without
#   subtests, "#N test:OK|SKIP|FAIL". A run passes only if it exited 0, at least one subtest
#   ran, none failed and none was skipped: a skip the list does not name (and exclude with -b)
#   is a failure, so is a filter that matched nothing ("Summary: 1/0 PASSED").
# - test_maps_array: its line "test_maps_array NAME: OK, 0 SKIPPED".
# The Rust run must also show, in the module's per-type counts, that the module created at least
# one map of every type the entry names.

SELFTESTS_LIST=${SELFTESTS_LIST:-$TOP/tests/selftests.list}
# Expectation "timing": a test racing a short timer, which the TCG guest can lose on either side;
# a side that failed with the lost race's own message (and no other failure) runs again, up to
# this many times in all (the point's summary says when it took more than one). The Rust side
# may lose the race at most once more than the C side did (selftest_lost_more).
SELFTEST_TIMING_TRIES=3
SELFTEST_TIMING_LOST='FAIL:err unexpected err: actual 42 != expected 0$'

# The list without comments, as "runner|name|expect|types|why" (tests/lists.sh).
# (None without a selftests directory: make test's second VM shape runs the suite's tests only.)
selftests_entries() { [ -z "$SELFTESTS" ] || list_entries "$SELFTESTS_LIST"; }

# selftest_excluded RUNNER NAME: the -b arguments for the list's skipped subtests of test NAME.
selftest_excluded() {
	local runner name expect types why
	while IFS='|' read -r runner name expect types why; do
		[ "$runner" = "$1" ] && [ "$expect" = skip ] && [ "${name%%/*}" = "${2%%/*}" ] &&
			[ "$name" != "$2" ] && printf -- '-b\n%s\n' "$name"
	done < <(selftests_entries)
}

# selftest_counts RUNNER LOG NAME: "ok skip fail" units of one run's output.
selftest_counts() {
	case $1 in
	test_progs)
		# A filter naming a subtest counts subtest lines only: "#N test:OK" with every subtest
		# filtered out is the filter matching nothing.
		awk -v subtests_only="$([[ $3 == */* ]] && echo 1)" '
			/^#[0-9]+\/[0-9]+ / && match($0, /:(OK|SKIP|FAIL)$/) {
				split(substr($1, 2), num, "/"); hassub[num[1]] = 1
				res[substr($0, RSTART + 1)]++
				next
			}
			/^#[0-9]+ +[^ ]+:/ { line[substr($1, 2)] = $0 }
			END {
				for (t in line) {
					if (t in hassub || subtests_only) continue
					if (line[t] ~ /:FAIL/) res["FAIL"]++
					else if (line[t] ~ /SKIP/) res["SKIP"]++
					else if (line[t] ~ /:OK$/) res["OK"]++
				}
				printf "%d %d %d\n", res["OK"], res["SKIP"], res["FAIL"]
			}' "$2"
		;;
	test_maps_array)
		if grep -qE '^test_maps_array [a-z_]+: OK, 0 SKIPPED$' "$2"; then echo "1 0 0"
		elif grep -qE '^test_maps_array [a-z_]+: OK, [0-9]+ SKIPPED$' "$2"; then echo "0 1 0"
		else echo "0 0 1"
		fi
		;;
	esac
}

# selftest_run RUNNER NAME LOG: runs one side; prints why it does not count as a pass.
selftest_run() {
	local runner=$1 name=$2 log=$3 rc ok skipped failed
	local -a excluded
	mapfile -t excluded < <(selftest_excluded "$runner" "$name")
	(
		cd "$SELFTESTS" || exit 1
		case $runner in
		test_progs) ./test_progs -a "$name" "${excluded[@]}" ;;
		test_maps_array) ./test_maps_array "$name" ;;
		*) echo "unknown runner $runner"; exit 2 ;;
		esac
	) >"$log" 2>&1
	rc=$?
	read -r ok skipped failed < <(selftest_counts "$runner" "$log" "$name")
	echo "$ok ok, $skipped skipped, $failed failed" >"$log.counts"
	[ "$rc" = 0 ] || echo "exit status $rc"
	[ "$failed" = 0 ] || grep -E ':FAIL|FAIL' "$log" | tail -n 15
	[ "$skipped" = 0 ] || {
		echo "$skipped skipped (name each expected skip in tests/selftests.list):"
		grep -E ':SKIP|SKIPPED' "$log" | head -n 15
	}
	[ "$ok" -gt 0 ] || echo "no subtest ran and passed (the filter matched nothing?)"
	[ "$rc" = 0 ] && [ "$failed" = 0 ] && [ "$skipped" = 0 ] && [ "$ok" -gt 0 ]
}

# selftest_side RUNNER NAME LOG TRIES: one side, run again after a failure whose only FAIL lines
# are SELFTEST_TIMING_LOST's, up to TRIES runs in all; each failed run's log is kept as
# LOG.try<N>, " after N runs" goes into LOG.tries when it took more than one, and the number of
# runs that lost the race into LOG.lost.
selftest_side() {
	local i rc lost=0 again
	: >"$3.tries"
	for ((i = 1; ; i++)); do
		selftest_run "$1" "$2" "$3" >"$3.verdict"
		rc=$?
		again=
		[ "$rc" != 0 ] && selftest_lost_race "$3" && lost=$((lost + 1)) again=1
		[ -n "$again" ] && [ "$i" -lt "$4" ] || break
		cp "$3" "$3.try$i"
	done
	echo "$lost" >"$3.lost"
	[ "$i" = 1 ] || echo " after $i runs" >"$3.tries"
	return $rc
}

# selftest_lost_more LOG: whether the Rust side of a timing entry lost its race more often than
# C's (LOG.rust.lost against LOG.c.lost, from selftest_side): more than once more than C did. A
# module whose timers fire after their cancel would lose it more often than C, and the reruns
# must not hide that. On the test kernel a lost race is rare on either side (once, on C's side,
# by 2026-12-07), so two more than C is taken for a defect, not for luck.
selftest_lost_more() {
	local c r
	c=$(cat "$1.c.lost") r=$(cat "$1.rust.lost")
	[ "$r" -gt $((c + 1)) ] || return 1
	echo "Rust lost the timer race $r times, C $c: more than once more than C"
}

# selftest_lost_race LOG: whether the run failed with the timing race's message and nothing else
# (test_progs repeats a failing test's FAIL lines: the subtest's, the test's, the summary's).
selftest_lost_race() {
	grep -qE "$SELFTEST_TIMING_LOST" "$1" &&
		! grep -E ':FAIL' "$1" | grep -vE "$SELFTEST_TIMING_LOST" | grep -vqE '^#[0-9]+(/[0-9]+)? +[^ ]+:FAIL$'
}

# selftest_point RUNNER NAME TYPES [TRIES]: C, then Rust; both must pass with the same subtest
# counts and the Rust run must show the module serving TYPES. TRIES (1): runs per side at most
# (selftest_side), the Rust side losing the race at most once more than C (selftest_lost_more).
# On the Rust-only kernel (VARIANT=rust) the one run on its built-in maps must pass and show
# them serving TYPES.
selftest_point() {
	local runner=$1 name=$2 types=$3 tries=${4:-1} log c r before after delta
	log=$LOGS/selftest-${runner}-${name//\//_}
	[ -x "$SELFTESTS/$runner" ] || { echo "the selftests were not built (no $runner in '$SELFTESTS')"; return 1; }
	if [ "$VARIANT" = rust ]; then
		before=$(maps_created)
		selftest_side "$runner" "$name" "$log.rust" "$tries"
		r=$?
		delta=$(served_delta "$before" "$(maps_created)")
		echo "Rust $(cat "$log.rust.counts")$(cat "$log.rust.tries"); Rust created: $(served_summary "$delta")" >"$POINT_SUMMARY"
		[ $r = 0 ] || { echo "Rust run:"; sed 's/^/  /' "$log.rust.verdict"; }
		require_served "$types" "$delta" || r=1
		return $r
	fi
	unload || { echo "cannot unload rust_arraymap for the C run"; return 1; }
	selftest_side "$runner" "$name" "$log.c" "$tries"
	c=$?
	load || { echo "cannot load rust_arraymap for the Rust run"; return 1; }
	before=$(maps_created)
	selftest_side "$runner" "$name" "$log.rust" "$tries"
	r=$?
	after=$(maps_created)
	delta=$(served_delta "$before" "$after")
	echo "C $(cat "$log.c.counts")$(cat "$log.c.tries"), Rust $(cat "$log.rust.counts")$(cat "$log.rust.tries"); module created: $(served_summary "$delta")" >"$POINT_SUMMARY"
	[ $c = 0 ] || { echo "C run:"; sed 's/^/  /' "$log.c.verdict"; }
	[ $r = 0 ] || { echo "Rust run:"; sed 's/^/  /' "$log.rust.verdict"; }
	if ! cmp -s "$log.c.counts" "$log.rust.counts"; then
		echo "C and Rust ran different subtests: C $(cat "$log.c.counts"), Rust $(cat "$log.rust.counts")"
		r=1
	fi
	selftest_lost_more "$log" && r=1
	require_served "$types" "$delta" || r=1
	[ $c = 0 ] && [ $r = 0 ]
}

# run_selftests [FILTER...]: one point per entry of the list (all, or those FILTER names).
run_selftests() {
	local runner name expect types why
	# The unprivileged halves of the verifier tests (Spectre masking of array accesses): the test
	# kernel boots with unprivileged BPF off (2), which may be changed to 0.
	sysctl -q kernel.unprivileged_bpf_disabled=0
	while IFS='|' read -r runner name expect types why; do
		selected "$name" || continue
		[ -z "${SHORT:-}" ] || expect=short
		case $expect in
		short) harness_skip "selftest:$runner:$name" "$SHORT_WHY" ;;
		pass) harness_point "selftest:$runner:$name" selftest_point "$runner" "$name" "$types" ;;
		timing)
			if [ "$VARIANT" = debug ]; then
				harness_skip "selftest:$runner:$name" "on the sanitizer kernel: $why"
			else
				harness_point "selftest:$runner:$name" selftest_point "$runner" "$name" "$types" \
					"$SELFTEST_TIMING_TRIES"
			fi ;;
		skip) harness_skip "selftest:$runner:$name" "$why" ;;
		*) harness_point "selftest:$runner:$name" fail_with "unknown expectation '$expect' in the list" ;;
		esac
	done < <(selftests_entries)
}

# selftests_count [FILTER...]: the number of points run_selftests will report.
selftests_count() {
	local runner name rest c=0
	while IFS='|' read -r runner name rest; do
		selected "$name" && c=$((c + 1))
	done < <(selftests_entries)
	echo $c
}
