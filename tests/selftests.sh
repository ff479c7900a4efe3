#!/usr/bin/env bash
# The kernel's BPF selftests of tests/selftests.list, each run on the built-in maps and then
# with rust_arraymap.ko loaded, in this boot. Sourced by tests/run-suite.sh, which provides
# report(), load(), unload(), wait_refs() and $LOGS.
#
# Whether the module served maps in the Rust run is measured, not assumed: a kprobe on the
# module's rust_arraymap_bypass_spec_v1() (called once per map the module creates) counts them.

SELFTESTS_LIST=$TOP/tests/selftests.list
TRACING=/sys/kernel/tracing

# The list without comments, as "runner|name|expect|why" with the spaces around | trimmed.
selftests_entries() {
	sed -e 's/#.*//' -e 's/[[:space:]]*|[[:space:]]*/|/g' -e 's/^[[:space:]]*//' \
		-e 's/[[:space:]]*$//' "$SELFTESTS_LIST" | grep -v '^$'
}

selftests_count() { selftests_entries | wc -l; }

# Counting the maps the module creates.
probe_on() {
	mountpoint -q $TRACING || mount -t tracefs nodev $TRACING || return 1
	echo 'p:rust_arraymap_maps rust_arraymap:rust_arraymap_bypass_spec_v1' >>$TRACING/kprobe_events &&
		echo 1 >$TRACING/events/kprobes/rust_arraymap_maps/enable
}
probe_hits() { awk '$1 == "rust_arraymap_maps" { print $2 }' $TRACING/kprobe_profile; }
probe_off() {
	echo 0 >$TRACING/events/kprobes/rust_arraymap_maps/enable 2>/dev/null
	echo '-:rust_arraymap_maps' >>$TRACING/kprobe_events 2>/dev/null
	true
}

# selftest_run RUNNER NAME LOG: 0 if the test ran and passed.
selftest_run() {
	local runner=$1 name=$2 log=$3 rc
	(
		cd "$SELFTESTS" || exit 1
		case $runner in
		test_progs) timeout 900 ./test_progs -a "$name" ;;
		test_maps_array) timeout 900 ./test_maps_array "$name" ;;
		*) echo "unknown runner $runner"; exit 2 ;;
		esac
	) >"$log" 2>&1
	rc=$?
	# A test_progs run in which nothing passed (all skipped) did not test anything.
	if [ $rc = 0 ] && [ "$runner" = test_progs ] && grep -q '^Summary: 0/' "$log"; then
		echo "(nothing passed: every subtest was skipped)" >>"$log"
		return 1
	fi
	return $rc
}

# Results: "pass" or "FAIL".
res() { if [ "$1" = 0 ]; then echo pass; else echo FAIL; fi; }

run_selftests() {
	local runner name expect why c r maps tag log
	while IFS='|' read -r runner name expect why; do
		n=$((n + 1))
		tag="selftest:$runner:$name"
		log=$LOGS/selftest-${runner}-${name//\//_}
		if [ -z "${SELFTESTS:-}" ] || [ ! -x "$SELFTESTS/$runner" ]; then
			fail=$((fail + 1))
			report "# $tag: the selftests were not built (no $runner in '${SELFTESTS:-}')"
			report "not ok $n $tag"
			continue
		fi
		if [ "$expect" = skip ]; then
			report "ok $n $tag # SKIP $why"
			continue
		fi
		unload
		selftest_run "$runner" "$name" "$log.c"
		c=$?
		load && probe_on
		selftest_run "$runner" "$name" "$log.rust"
		r=$?
		maps=$(probe_hits)
		probe_off
		wait_refs 0 >>"$log.rust" 2>&1
		local summary="C $(res $c), Rust $(res $r), module created ${maps:-?} maps"
		if [ $c = 0 ] && [ $r = 0 ]; then
			pass=$((pass + 1))
			report "ok $n $tag # $summary"
		elif [ "$expect" = xfail ] && [ $c != 0 ] && [ $r != 0 ]; then
			report "# $tag fails on C too: $why"
			report "ok $n $tag # SKIP xfail: $summary"
		else
			fail=$((fail + 1))
			[ $c != 0 ] && { report "# C run:"; grep -E 'FAIL|Summary|test_maps' "$log.c" | tail -n 15 | sed 's/^/#   /' | tee -a "$OUT/result.ktap"; }
			[ $r != 0 ] && { report "# Rust run:"; grep -E 'FAIL|Summary|test_maps' "$log.rust" | tail -n 15 | sed 's/^/#   /' | tee -a "$OUT/result.ktap"; }
			report "not ok $n $tag # $summary"
		fi
	done < <(selftests_entries)
}
