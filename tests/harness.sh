# shellcheck shell=bash
# The guest side of make test's harness, sourced by tests/run-suite.sh (and, through it, by
# tests/selftests.sh and the harness's own check). Needs $OUT, $LOGS, $TOP, $KO.
#
# Every test is a "point": harness_point runs it in a process group of its own under a timeout,
# then holds it to the same postconditions whatever the test itself said:
#   - the kernel log written meanwhile (all levels, from a follower started at boot, so neither
#     the console's log level nor a wrapped ring buffer hides anything) has no report that
#     scripts/find-splats.sh knows;
#   - the kernel's taint mask gained no bit but TAINT_OOT_MODULE (rust_arraymap.ko itself) and
#     TAINT_TEST (its KUnit tests, run at every load);
#   - if rust_arraymap is loaded, its reference count drains to 0: a map the test leaked would
#     otherwise keep the module loaded and turn every later "C" run into a run on the module
#     (on the Rust-only kernel, VARIANT=rust, nothing is loaded: the maps are built in);
#   - every BPF program, map and link, removed cgroup and kprobe the point made is gone (C's and
#     Rust's alike: what an fd array took from a program, a cgroup, a perf event or an inner map
#     and never gave back keeps it listed here).
# One KTAP line per point, numbered in order; scripts/ktap-verdict.sh checks them on the host.

# Exported: points run in child shells.
export HARNESS_MARK='rust_arraymap-harness:'
export KLOG=$OUT/kernel.log
export REFCNT=/sys/module/rust_arraymap/refcnt
export MAPS_CREATED=/sys/kernel/debug/rust_arraymap/maps_created
# The taint bits a run may gain: O (12), out-of-tree modules (rust_arraymap, bpf_testmod), and
# N (18), test code ran (the module's KUnit suites at every load, the suite's test-only modules,
# MODULE_INFO(test, "Y")).
export TAINT_ALLOWED=$(((1 << 12) | (1 << 18)))
export POINT_TIMEOUT=${POINT_TIMEOUT:-900}

report() { echo "$*" | tee -a "$OUT/result.ktap"; }

# The Rust-only kernel (VARIANT=rust, make rust-only) has the array maps built in: no module to
# load or unload, and no map pins anything.
if [ "${VARIANT:-}" = rust ]; then
	loaded() { false; }
	load() { :; }
	unload() { :; }
else
	loaded() { [ -e /sys/module/rust_arraymap ]; }
	load() { loaded || insmod "$KO"; }
	unload() { ! loaded || rmmod rust_arraymap; }
fi
refs() { if loaded; then cat $REFCNT; else echo -1; fi; }

# wait_refs N: maps are freed after an RCU grace period and a work item.
wait_refs() {
	local i
	for i in $(seq 100); do
		[ "$(refs)" = "$1" ] && return 0
		sleep 0.1
	done
	echo "module refcnt is $(refs), expected $1"
	return 1
}

# maps_created: the Rust code's per-type creation counts ("array 3" ...), empty when the module
# is unloaded (built in, they count from the boot on).
maps_created() { if [ -r $MAPS_CREATED ]; then cat $MAPS_CREATED; fi; }

# served_delta BEFORE AFTER: "type n" for each type whose count grew between the two readings.
served_delta() {
	awk 'NR == FNR { before[$1] = $2; next } $2 > before[$1] { print $1, $2 - before[$1] }' \
		<(echo "$1") <(echo "$2")
}

# require_served TYPES DELTA: each type of the comma-separated TYPES ("-": none) grew in DELTA.
require_served() {
	local t missing=0
	[ "$1" = - ] && return 0
	for t in ${1//,/ }; do
		grep -q "^$t [1-9]" <<<"$2" && continue
		echo "the Rust code created no $t map: no proof that it served the type under test"
		missing=1
	done
	return $missing
}

# served_summary DELTA: "array 3, prog_array 1" (or "none") for a KTAP line.
served_summary() {
	local s
	s=$(awk 'NF { printf "%s%s %s", sep, $1, $2; sep = ", " }' <<<"$1")
	echo "${s:-none}"
}

# What a point may not leave behind (tests/lifetimes.c): BPF programs, maps and links by id,
# removed cgroups something still holds (cgroup.stat's nr_dying_descendants, counted), registered
# kprobes (a perf event's, say). "lifetimes live" lists them; "lifetimes left FILE" waits up to
# 10 s (puts are deferred: RCU, work items) for everything it did not list in FILE to be gone.
# objects_left BEFORE-FILE: prints what is left, described, and fails if anything is.
objects_left() {
	local left o
	left=$(lifetimes left "$1") && return 0
	while read -r o; do
		case $o in
		prog\ * | map\ * | link\ *) echo "$o: $(bpftool ${o% *} show id ${o#* } 2>&1 | head -n1)" ;;
		*) echo "$o" ;;
		esac
	done <<<"$left"
	return 1
}

# The kernel log: one follower for the whole boot, markers around every point.
klog_start() {
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	# For the object check (cgroup.stat).
	mountpoint -q /sys/fs/cgroup || mount -t cgroup2 none /sys/fs/cgroup
	# Line-buffered: klog_sync waits for the follower's markers.
	stdbuf -oL dmesg --follow >"$KLOG" 2>&1 &
	KLOG_PID=$!
	TAINT_START=$(cat /proc/sys/kernel/tainted)
}
kmark() { echo "<14>$HARNESS_MARK $*" >/dev/kmsg; }
# klog_sync LINE: wait until the follower has written marker LINE (it is asynchronous).
klog_sync() {
	local i
	for i in $(seq 100); do
		grep -qF "$HARNESS_MARK $1" "$KLOG" && return 0
		sleep 0.1
	done
	echo "the kernel log follower did not write '$1' (pid $KLOG_PID)"
	return 1
}
# klog_segment "N NAME": the kernel log between the markers of point N, NAME.
klog_segment() {
	awk -v b="$HARNESS_MARK begin $1" -v e="$HARNESS_MARK end $1" '
		function ends(s, t) { return length(s) >= length(t) && substr(s, length(s) - length(t) + 1) == t }
		ends($0, b) { on = 1; next }
		ends($0, e) { exit }
		on' "$KLOG"
}

# new_taint SINCE: the taint bits gained since the mask SINCE, less those a run may gain.
new_taint() { echo $(($(cat /proc/sys/kernel/tainted) & ~$1 & ~TAINT_ALLOWED)); }

# harness_point NAME FUNC [ARGS...]: one KTAP result for FUNC and the postconditions above.
# FUNC may write a one-line summary for the KTAP line to $POINT_SUMMARY.
harness_point() {
	local name=$1 rc start secs taint0 taint log summary
	shift
	n=$((n + 1))
	log=$LOGS/${name//\//_}.log
	export POINT_SUMMARY=$log.summary
	rm -f "$POINT_SUMMARY"
	taint0=$(cat /proc/sys/kernel/tainted)
	lifetimes live >"$log.objects0"
	# Markers carry the point's number: unique, and no name is a prefix of another's marker.
	kmark "begin $n $name"
	start=$(date +%s.%N)
	# Its own process group (timeout's), killed whole when the time is up.
	timeout -k 10 "$POINT_TIMEOUT" bash -c '"$@"' harness_point "$@" </dev/null >"$log" 2>&1
	rc=$?
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	{
		case $rc in 124 | 137) echo "timed out after ${POINT_TIMEOUT}s: killed" ;; esac
		if loaded && ! wait_refs 0; then
			echo "a reference to rust_arraymap outlived the test"
			rc=1
		fi
		if ! objects_left "$log.objects0" >"$log.objects"; then
			echo "objects outlived the test (tests/harness.sh, objects_left):"
			cat "$log.objects"
			rc=1
		fi
		kmark "end $n $name"
		klog_sync "end $n $name" || rc=1
		if ! klog_segment "$n $name" | "$TOP/scripts/find-splats.sh" >"$log.splats"; then
			echo "the kernel reported (full log: kernel.log):"
			cat "$log.splats"
			rc=1
		fi
		taint=$(new_taint "$taint0")
		if [ "$taint" != 0 ]; then
			echo "the kernel's taint mask gained $taint (/proc/sys/kernel/tainted)"
			rc=1
		fi
	} >>"$log" 2>&1
	summary=$(cat "$POINT_SUMMARY" 2>/dev/null)
	if [ $rc = 0 ]; then
		pass=$((pass + 1))
		report "ok $n $name # ${secs%??????}s${summary:+; $summary}"
	else
		fail=$((fail + 1))
		sed 's/^/# /' "$log" | tail -n 40 | tee -a "$OUT/result.ktap"
		report "not ok $n $name${summary:+ # $summary}"
	fi
}

# harness_skip NAME WHY: a KTAP result that is reported as skipped, never as passed.
harness_skip() {
	n=$((n + 1))
	skip=$((skip + 1))
	report "ok $n $1 # SKIP $2"
}

# The whole run's kernel log and taint, after everything else.
check_kernel_log() {
	kmark "end of run"
	klog_sync "end of run" || return 1
	if ! "$TOP/scripts/find-splats.sh" "$KLOG"; then
		echo "the kernel reported during the run (all levels, $KLOG)"
		return 1
	fi
}
check_taint() {
	local taint
	taint=$(new_taint "$TAINT_START")
	echo "tainted: $(cat /proc/sys/kernel/tainted) at the end, $TAINT_START at the start"
	[ "$taint" = 0 ] || { echo "gained taint bits $taint beyond TAINT_OOT_MODULE"; return 1; }
}
