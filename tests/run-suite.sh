#!/usr/bin/env bash
# The rust_arraymap test suite. Runs as root inside the test VM (scripts/run-vm.sh):
#   run-suite.sh OUTDIR [SELFTESTS-DIR [NAME,...]]
# Every comparison runs the same probe on the built-in C map (module unloaded) and on the
# module, in this one boot. With NAMEs (make test T=...), only those suite tests and selftest
# entries run, under the same harness. KTAP on stdout and in OUTDIR/result.ktap; the host takes
# the verdict from its results (scripts/ktap-verdict.sh). scripts/run-vm.sh sets KO (the module),
# TESTS_BIN (the probes) and VARIANT (debug: the sanitizer kernel of make test-debug, which adds
# the fault-injection table and kmemleak's scans; rust: the Rust-only kernel of make rust-only,
# whose array maps are built in, where the tests that need no C twin run once, on them).
set -uo pipefail

OUT=$1
SELFTESTS=${2:-}
ONLY=${3:-}
TOP=$(cd "$(dirname "$0")/.." && pwd)
KO=${KO:-$TOP/rust_arraymap.ko}
VARIANT=${VARIANT:-}
# SHORT=1 (make test-debug SHORT=1, CI's pass on the sanitizer kernel): only the suite tests that
# tests/suite.list marks "short" run (the sanitizers' own ground: allocation failures, extreme
# inputs, special fields freed, deferred clears, the fuzzer and the racing lifecycles); the
# selftests and the other suite tests, which make test runs on the test kernel, are reported as
# skipped, with this reason.
SHORT=${SHORT:-}
FUZZ_SEED=${FUZZ_SEED:-}
FUZZ_OPS=${FUZZ_OPS:-}
STRESS_SECONDS=${STRESS_SECONDS:-}
SHORT_WHY="left out of the short debug pass (SHORT=1)"
LOGS=$OUT/logs
BPFFS=/sys/fs/bpf
mkdir -p "$LOGS"

. "$TOP/tests/harness.sh"

mountpoint -q $BPFFS || mount -t bpf bpf $BPFFS
# The console shows warnings and worse; the harness reads the whole log (tests/harness.sh).
dmesg -n 5
export PATH=${TESTS_BIN:-$TOP/tests/build}:$PATH

fail_with() { echo "$*"; return 1; }

# served_by FILE OWNER: every "map-served-by: WHAT OWNER" line of a probe's stderr FILE (the maps
# it names as under test, tests/common.h) names OWNER ("-": the built-in code).
served_by() {
	local bad
	bad=$(awk -v o="$2" '$1 == "map-served-by:" && $NF != o' "$1")
	[ -z "$bad" ] && return 0
	echo "maps under test not served by ${2/#-/the built-in code}:"
	echo "$bad"
	return 1
}

# compare NAME TYPES CMD...: run CMD on the C map, then on the module; stdout, stderr and exit
# codes must match, and the module's per-type counts must show it created a map of each of
# TYPES (comma-separated) in the Rust run. stderr is compared without the probes'
# "module-refs-while-open:" lines (-1 with the module unloaded) and without the owner that ends
# their "map-served-by:" lines, which must be the built-in code's in the C run and the module's
# in the Rust run.
compare() {
	local name=$1 types=$2 crc rrc refs_seen before after delta
	[ "$VARIANT" != rust ] || { once "$@"; return; }
	shift 2
	unload || fail_with "cannot unload rust_arraymap for the C run" || return 1
	"$@" >"$LOGS/$name.c" 2>"$LOGS/$name.c.err"
	crc=$?
	load || fail_with "cannot load rust_arraymap for the Rust run" || return 1
	before=$(maps_created)
	"$@" >"$LOGS/$name.rust" 2>"$LOGS/$name.rust.err"
	rrc=$?
	after=$(maps_created)
	delta=$(served_delta "$before" "$after")
	echo "module created: $(served_summary "$delta")" >"$POINT_SUMMARY"
	cat "$LOGS/$name.rust"
	if [ "$crc" != 0 ] || [ "$rrc" != 0 ]; then
		echo "exit codes: C $crc, Rust $rrc"
		cat "$LOGS/$name.c.err" "$LOGS/$name.rust.err"
		return 1
	fi
	if ! diff -u "$LOGS/$name.c" "$LOGS/$name.rust"; then
		echo "C and Rust differ (stdout)"
		return 1
	fi
	if ! diff -u <(stderr_compared "$LOGS/$name.c.err") <(stderr_compared "$LOGS/$name.rust.err"); then
		echo "C and Rust differ (stderr)"
		return 1
	fi
	served_by "$LOGS/$name.c.err" - && served_by "$LOGS/$name.rust.err" rust_arraymap || return 1
	require_served "$types" "$delta" || return 1
	refs_seen=$(sed -n 's/^module-refs-while-open: //p' "$LOGS/$name.rust.err" | sort -n | head -n1)
	if [ -n "$refs_seen" ] && [ "$refs_seen" -lt 1 ]; then
		echo "the module did not serve the maps (refcnt $refs_seen while they were open)"
		return 1
	fi
	wait_refs 0
}

# stderr_compared FILE: a probe's stderr as compare compares it.
stderr_compared() {
	grep -v '^module-refs-while-open: ' "$1" | sed 's/^\(map-served-by: .*\) [^ ]*$/\1/'
}

# once NAME TYPES CMD...: compare on the Rust-only kernel (VARIANT=rust), which has no C twin:
# CMD runs once, on the built-in Rust maps, and must succeed, with the per-type counts showing a
# map of each of TYPES created meanwhile. The test's own checks then read $LOGS/NAME.rust.
once() {
	local name=$1 types=$2 rc before after delta
	shift 2
	before=$(maps_created)
	"$@" >"$LOGS/$name.rust" 2>"$LOGS/$name.rust.err"
	rc=$?
	after=$(maps_created)
	delta=$(served_delta "$before" "$after")
	echo "Rust created: $(served_summary "$delta")" >"$POINT_SUMMARY"
	cat "$LOGS/$name.rust"
	[ "$rc" = 0 ] || { echo "exit code $rc"; cat "$LOGS/$name.rust.err"; return 1; }
	# Built in, the Rust maps name no module.
	served_by "$LOGS/$name.rust.err" - || return 1
	require_served "$types" "$delta"
}

# --- tests -----------------------------------------------------------------------------

# The Rust-only kernel (make rust-only): arraymap.c is not built, its six ops tables and the
# functions behind them are not in the kernel; the Rust tables that bpf_types.h names are, and
# served the maps created before user space ran (bpf_preload's); a map of each type now is
# theirs, and fdinfo names no module for it.
C_TABLES="array_map_ops percpu_array_map_ops prog_array_map_ops perf_event_array_map_ops
	cgroup_array_map_ops array_of_maps_map_ops"
C_FUNCTIONS="array_map_alloc percpu_array_map_lookup_elem prog_fd_array_get_ptr
	perf_event_fd_array_get_ptr cgroup_fd_array_get_ptr array_of_map_alloc"
test_builtin_tables() {
	local sym rc=0 before after
	for sym in $C_TABLES $C_FUNCTIONS; do
		awk -v s="$sym" '$3 == s { found = 1 } END { exit !found }' /proc/kallsyms &&
			{ echo "$sym is in /proc/kallsyms: arraymap.c is built"; rc=1; }
	done
	for sym in $C_TABLES; do
		awk -v s="rust_$sym" '$3 == s { found = 1 } END { exit !found }' /proc/kallsyms ||
			{ echo "rust_$sym is not in /proc/kallsyms"; rc=1; }
	done
	dmesg | grep -q 'rust_arraymap: built in: BPF_MAP_TYPE_ARRAY' ||
		{ echo "no message of the built-in init"; rc=1; }
	echo "created before the suite: $MAPS_AT_START"
	grep -q '^array [1-9]' <<<"$MAPS_AT_START" ||
		{ echo "no ARRAY created by the Rust code before the suite (bpf_preload's)"; rc=1; }
	before=$(maps_created)
	amtest ops-owner >"$LOGS/builtin_tables.owners" || rc=1
	after=$(maps_created)
	cat "$LOGS/builtin_tables.owners"
	require_served array,percpu_array,prog_array,perf_event_array,cgroup_array,array_of_maps \
		"$(served_delta "$before" "$after")" || rc=1
	grep -v -- ' -$' "$LOGS/builtin_tables.owners" && { echo "fdinfo names a module"; rc=1; }
	return $rc
}

# bpf_preload (CONFIG_BPF_PRELOAD): its iterators, loaded at late_initcall by the light skeleton
# (which made an ARRAY and read its struct bpf_array directly), are pinned in every bpffs mount
# and list the maps and programs of the kernel, a map made now among them.
test_bpf_preload() {
	local d=/tmp/preload-bpffs rc=0
	mkdir -p $d && mount -t bpf bpf $d || return 1
	bpftool map create $BPFFS/preload_probe type array key 4 value 8 entries 7 name preload_probe ||
		rc=1
	ls $d
	cat $d/maps.debug $d/progs.debug || rc=1
	grep -qx '  id name             max_entries  cur_entries' $d/maps.debug &&
		grep -qE '^ *[0-9]+ preload_probe +7 ' $d/maps.debug ||
		{ echo "maps.debug does not list the map made now"; rc=1; }
	grep -q ' dump_bpf_map ' $d/progs.debug && grep -q ' dump_bpf_prog ' $d/progs.debug ||
		{ echo "progs.debug does not list the iterators"; rc=1; }
	rm -f $BPFFS/preload_probe
	umount $d
	return $rc
}

test_module_loads() {
	unload && load || return 1
	dmesg | grep -q 'rust_arraymap: serving BPF_MAP_TYPE_ARRAY' || { echo "no registration message"; return 1; }
	[ "$(refs)" = 0 ]
}

# The module's KUnit suites (#[kunit_tests] in rust/), which KUnit runs when the module loads:
# each suite's results from debugfs. A suite missing, a case not ok, or no case at all fails;
# every suite is read, so that all that fail are named. The suites are those the sources
# declare, so a new one cannot go unchecked.
test_kunit() {
	local s f counts rc=0 suites
	suites=$(grep -rhoE 'kunit_tests\([a-z_]+\)' "$TOP/rust" | sed 's/kunit_tests(\(.*\))/\1/' | sort -u)
	[ -n "$suites" ] || { echo "no #[kunit_tests] suite in $TOP/rust"; return 1; }
	unload && load || return 1
	: >"$LOGS/kunit.table"
	for s in $suites; do
		f=/sys/kernel/debug/kunit/$s/results
		[ -r "$f" ] || { echo "no KUnit suite $s in /sys/kernel/debug/kunit"; rc=1; continue; }
		cp "$f" "$LOGS/kunit.$s.ktap"
		cat "$f"
		# The test cases: "    ok N name", "    not ok N name", "    ok N name # SKIP ...".
		counts=$(awk '/^    not ok [0-9]+ /{f++; next} /^    ok [0-9]+ .*# SKIP/{s++; next}
			/^    ok [0-9]+ /{p++} END{printf "%d %d %d", p, f, s}' "$f")
		set -- $counts
		echo "KUnit $s: $1 passed, $2 failed, $3 skipped" >>"$LOGS/kunit.table"
		if ! "$TOP/scripts/ktap-verdict.sh" "$f" >/dev/null; then
			echo "KUnit suite $s failed: $(grep '^    not ok' "$f" | tr '\n' ' ')"
			rc=1
		elif [ "$1" = 0 ] || [ "$2" != 0 ] || [ "$3" != 0 ]; then
			echo "KUnit suite $s: $1 passed, $2 failed, $3 skipped"
			rc=1
		fi
	done
	return $rc
}

test_module_serves_array() {
	load || return 1
	bpftool map create $BPFFS/serve type array key 4 value 8 entries 4 name serve || return 1
	[ "$(refs)" = 1 ] || { echo "refcnt $(refs) with one ARRAY map, expected 1"; return 1; }
	bpftool map create $BPFFS/serve2 type array key 4 value 64 entries 1000 name serve2 || return 1
	[ "$(refs)" = 2 ] || { echo "refcnt $(refs) with two ARRAY maps, expected 2"; return 1; }
	rm $BPFFS/serve $BPFFS/serve2
	wait_refs 0
}

test_module_serves_percpu_array() {
	load || return 1
	bpftool map create $BPFFS/pserve type percpu_array key 4 value 8 entries 4 name pserve ||
		return 1
	[ "$(refs)" = 1 ] || { echo "refcnt $(refs) with one PERCPU_ARRAY map, expected 1"; return 1; }
	if rmmod rust_arraymap 2>/dev/null; then echo "rmmod accepted with a PERCPU_ARRAY map"; return 1; fi
	rm $BPFFS/pserve
	wait_refs 0
}

test_module_serves_fd_arrays() {
	load || return 1
	local t n=0
	bpftool map create $BPFFS/fd_inner type array key 4 value 8 entries 4 name fd_inner || return 1
	n=1
	for t in prog_array perf_event_array cgroup_array; do
		bpftool map create $BPFFS/fd_$t type $t key 4 value 4 entries 4 name fd_$t || return 1
		n=$((n + 1))
		[ "$(refs)" = $n ] || { echo "refcnt $(refs) after creating a $t, expected $n"; return 1; }
		if rmmod rust_arraymap 2>/dev/null; then echo "rmmod accepted with a $t"; return 1; fi
	done
	bpftool map create $BPFFS/fd_aom type array_of_maps key 4 value 4 entries 4 name fd_aom \
		inner_map pinned $BPFFS/fd_inner || return 1
	# The outer map and its inner-map template, which keeps the inner ARRAY's ops.
	n=$((n + 2))
	[ "$(refs)" = $n ] || { echo "refcnt $(refs) after creating an array_of_maps, expected $n"; return 1; }
	if rmmod rust_arraymap 2>/dev/null; then echo "rmmod accepted with an array_of_maps"; return 1; fi
	rm $BPFFS/fd_*
	wait_refs 0
}

# /proc/PID/fdinfo of a map names the module that serves it ("ops_owner:", patch 11): the
# module for each of the six types when it is loaded, nothing for the built-in maps.
test_fdinfo_ops_owner() {
	local t
	unload || return 1
	amtest ops-owner >"$LOGS/fdinfo_ops_owner.c" || return 1
	load || return 1
	amtest ops-owner >"$LOGS/fdinfo_ops_owner.rust" || return 1
	paste "$LOGS/fdinfo_ops_owner.c" "$LOGS/fdinfo_ops_owner.rust"
	for t in array percpu_array prog_array perf_event_array cgroup_array array_of_maps; do
		grep -qx "$t -" "$LOGS/fdinfo_ops_owner.c" ||
			{ echo "the built-in $t map shows an ops_owner"; return 1; }
		grep -qx "$t rust_arraymap" "$LOGS/fdinfo_ops_owner.rust" ||
			{ echo "the $t map served by the module does not name it"; return 1; }
	done
	grep -qx "hash -" "$LOGS/fdinfo_ops_owner.rust" ||
		{ echo "a HASH map shows an ops_owner"; return 1; }
	wait_refs 0
}

# regtest_fallbacks: how many notices of the kernel log say that a map of type 2 (ARRAY) was
# created with the built-in ops while bpf_regtest, in its init, had registered its own (patch 7).
regtest_fallbacks() {
	dmesg | grep -c 'bpf: map type 2 created with the built-in ops: bpf_regtest is in its init' ||
		true
}

# The rules of bpf_map_type_register() (tests/kmod/bpf_regtest.c, whose init fails if one is
# broken): ops the verifier's s32 call offset cannot reach are refused (-ERANGE); a map created
# while a module is still in its init is not served by that module's ops, and the kernel log says
# so.
test_register_rules() {
	local before
	unload || return 1
	before=$(regtest_fallbacks)
	insmod "${TESTS_BIN:-$TOP/tests/build}/kmod/bpf_regtest.ko" ||
		{ dmesg | grep bpf_regtest | tail -n 3; return 1; }
	rmmod bpf_regtest
	[ "$(regtest_fallbacks)" -gt "$before" ] ||
		{ echo "no notice of the map created with the built-in ops during bpf_regtest's init"; return 1; }
}

# rust_arraymap's init while another module holds CGROUP_ARRAY's ops (bpf_regtest hold_type=8):
# insmod fails with EBUSY, and the types it had registered before are given back.
test_register_conflict() {
	local ko=${TESTS_BIN:-$TOP/tests/build}/kmod/bpf_regtest.ko out rc=0 t
	unload || return 1
	insmod "$ko" hold_type=8 || return 1
	if out=$(insmod "$KO" 2>&1); then
		echo "rust_arraymap loaded although CGROUP_ARRAY's ops were taken"
		rc=1
	elif [[ "$out" != *"Device or resource busy"* ]]; then
		echo "insmod failed otherwise than with EBUSY: $out"
		rc=1
	fi
	# (Its CGROUP_ARRAY line fails: bpf_regtest's ops create no map.)
	amtest ops-owner >"$LOGS/register_conflict.owners" 2>&1
	rmmod bpf_regtest || rc=1
	unload || rc=1
	for t in array percpu_array prog_array perf_event_array array_of_maps; do
		grep -qx "$t -" "$LOGS/register_conflict.owners" ||
			{ echo "$t not given back to the built-in ops after the failed insmod"; rc=1; }
	done
	return $rc
}

# A module whose init fails after registering ARRAY, 10 times, while maps of the type are
# created back to back (amtest create-until): each creation must be served by the built-in ops
# (the module's would fail it), some of them during the inits (the kernel log's notice), each
# init fail with EAGAIN (EPROTO: its ops served a map), and nothing be reported (on
# the sanitizer kernel: no use of the freed module).
test_register_failing_init() {
	local ko=${TESTS_BIN:-$TOP/tests/build}/kmod/bpf_regtest.ko stop=$LOGS/regtest.stop
	local i pid out rc=0 before after
	unload || return 1
	rm -f "$stop"
	before=$(regtest_fallbacks)
	amtest create-until "$stop" &
	pid=$!
	for i in $(seq 10); do
		if out=$(insmod "$ko" fail_init_ms=200 2>&1); then
			rmmod bpf_regtest
			echo "init $i did not fail"
			rc=1
		elif [[ "$out" != *"Resource temporarily unavailable"* ]]; then
			echo "init $i: $out"
			rc=1
		fi
	done
	touch "$stop"
	wait $pid || rc=1
	[ ! -e /sys/module/bpf_regtest ] || { echo "bpf_regtest still loaded"; rc=1; }
	after=$(regtest_fallbacks)
	echo "$((after - before)) notices of maps created with the built-in ops"
	[ "$after" -gt "$before" ] ||
		{ echo "no notice of the maps created with the built-in ops during the inits"; rc=1; }
	return $rc
}

test_other_types_untouched() {
	load || return 1
	bpftool map create $BPFFS/h type hash key 4 value 8 entries 4 name h || return 1
	bpftool map create $BPFFS/p type percpu_hash key 4 value 8 entries 4 name p || return 1
	local r
	r=$(refs)
	rm $BPFFS/h $BPFFS/p
	[ "$r" = 0 ] || { echo "refcnt $r with HASH and PERCPU_HASH maps, expected 0"; return 1; }
}

# A bpftool session; ids and the map's name vary, the rest must not.
bpftool_session() {
	local pin=$BPFFS/session
	rm -f $pin
	bpftool map create $pin type array key 4 value 8 entries 8 name session || return 1
	echo "module-refs-while-open: $(refs)" >&2
	bpftool map update pinned $pin key 3 0 0 0 value 0x11 0x22 0x33 0x44 0x55 0x66 0x77 0x88 || return 1
	bpftool map update pinned $pin key 7 0 0 0 value 1 0 0 0 0 0 0 0 || return 1
	bpftool map update pinned $pin key 8 0 0 0 value 1 0 0 0 0 0 0 0 2>&1 | sed 's/^Error: //'
	bpftool map update pinned $pin key 3 0 0 0 value 9 9 9 9 9 9 9 9 noexist 2>&1 | sed 's/^Error: //'
	bpftool map lookup pinned $pin key 3 0 0 0 || return 1
	bpftool map lookup pinned $pin key 9 0 0 0 2>&1 | sed 's/^Error: //'
	bpftool map getnext pinned $pin key 3 0 0 0
	bpftool map getnext pinned $pin key 7 0 0 0 2>&1 | sed 's/^Error: //'
	bpftool map getnext pinned $pin
	bpftool map delete pinned $pin key 3 0 0 0 2>&1 | sed 's/^Error: //'
	bpftool map dump pinned $pin || return 1
	bpftool -j map dump pinned $pin || return 1
	echo
	bpftool map show pinned $pin | sed 's/^[0-9]*: /ID: /'
	bpftool map freeze pinned $pin || return 1
	bpftool map update pinned $pin key 1 0 0 0 value 1 1 1 1 1 1 1 1 2>&1 | sed 's/^Error: //'
	bpftool map show pinned $pin | sed 's/^[0-9]*: /ID: /'
	bpftool map create $BPFFS/session2 type array key 4 value 8 entries 0 name bad 2>&1 | sed 's/^Error: //'
	bpftool map create $BPFFS/session2 type array key 2 value 8 entries 4 name bad 2>&1 | sed 's/^Error: //'
	bpftool map create $BPFFS/session2 type array key 4 value 8 entries 4 name mm flags 0x400 &&
		bpftool map show pinned $BPFFS/session2 | sed 's/^[0-9]*: /ID: /' && rm $BPFFS/session2
	rm $pin
}

test_bpftool_session() {
	compare bpftool_session array bpftool_session || return 1
	grep -q 'value: 11 22 33 44 55 66 77 88' "$LOGS/bpftool_session.rust" ||
		{ echo "updated value not read back"; return 1; }
}

test_errno_cases() {
	compare errno_cases array,percpu_array amtest errno || return 1
	grep -q '^create max_entries=0: EINVAL$' "$LOGS/errno_cases.rust" &&
		grep -q '^create btf-key-struct-of-4-bytes: EINVAL$' "$LOGS/errno_cases.rust" &&
		grep -q '^update NOEXIST: EEXIST$' "$LOGS/errno_cases.rust" &&
		grep -q '^percpu lookup: ok sum=' "$LOGS/errno_cases.rust" ||
		{ echo "unexpected errno table"; return 1; }
}

test_limits() {
	# The unprivileged half: a creator without CAP_BPF, whose array sizes are rounded up to a
	# power of two (Spectre v1). The test kernel boots with unprivileged BPF off (2), which may
	# be changed to 0 (the selftests do the same).
	sysctl -q kernel.unprivileged_bpf_disabled=0 || return 1
	compare limits array,percpu_array limits || return 1
	local log=$LOGS/limits.rust
	grep -q '^unpriv array entries 2^31+1: E2BIG$' "$log" &&
		grep -q '^unpriv array entries U32_MAX: E2BIG$' "$log" &&
		grep -q '^root array value KMALLOC_MAX_SIZE: ok$' "$log" &&
		grep -q '^root array value INT_MAX: ENOMEM$' "$log" &&
		grep -q '^root array value INT_MAX+1: E2BIG$' "$log" &&
		grep -q '^root percpu_array percpu value PCPU_MIN_UNIT_SIZE: ok$' "$log" &&
		grep -q '^unpriv percpu_array percpu value PCPU_MIN_UNIT_SIZE+1: E2BIG$' "$log" ||
		{ echo "unexpected results at the limits"; return 1; }
}

# make test-debug: every allocation of each operation failed in turn (tests/failnth.c). The
# results must be C's; the number of points per op, C and Rust, goes into the log as a table.
failnth_side() {
	local side=c
	loaded && side=rust
	FAILNTH_DETAIL=$LOGS/failnth.$side failnth
}

test_fault_injection() {
	local cg=/sys/fs/cgroup
	mountpoint -q $cg || mount -t cgroup2 none $cg || return 1
	compare fault_injection array,percpu_array,prog_array,perf_event_array,cgroup_array,array_of_maps \
		failnth_side || return 1
	# The table, also into the KTAP output (after the point, by the main loop).
	{
		echo "operation | failure points C | Rust | results at the failure points (C = Rust); without"
		paste -d'|' <(sed -n 's/: \([0-9]*\) points:.*/ | \1/p' "$LOGS/failnth.c") \
			<(sed -n 's/.*: \([0-9]*\) points:.*/ \1 /p' "$LOGS/failnth.rust") \
			<(sed -n 's/.*: failures return \(.*\); then \(.*\)/ \1; \2/p' \
				"$LOGS/fault_injection.rust")
	} | tee "$LOGS/fault_injection.table"
	echo "$(tail -n 1 "$LOGS/fault_injection.rust"): failure points C" \
		"$(sed -n 's/.*, \([0-9]*\) failure points$/\1/p' "$LOGS/failnth.c"), Rust" \
		"$(sed -n 's/.*, \([0-9]*\) failure points$/\1/p' "$LOGS/failnth.rust"); results equal" \
		>"$POINT_SUMMARY"
	grep -q '^create array: failures return ENOMEM' "$LOGS/fault_injection.rust" ||
		{ echo "no failed allocation in the creation of an ARRAY"; return 1; }
}

# kmemleak (make test-debug): nothing unreferenced since the start of the run. An object is
# reported once it is 5 s old and no scan found a reference to it; two scans, as syzkaller does.
kmemleak_scan() {
	local k=/sys/kernel/debug/kmemleak
	sleep 6
	echo scan >$k && echo scan >$k || return 1
	cat $k >"$LOGS/kmemleak.$1"
	local leaks
	leaks=$(grep -c '^unreferenced object' "$LOGS/kmemleak.$1")
	echo "kmemleak: $leaks unreferenced objects" >"$POINT_SUMMARY"
	[ "$leaks" = 0 ] || { head -n 60 "$LOGS/kmemleak.$1"; return 1; }
}

# make test-debug: what the sanitizers reported in the whole run (0 each, or the run failed).
sanitizer_summary() {
	local kasan ubsan leaks
	kasan=$(grep -c 'BUG: KASAN' "$KLOG")
	ubsan=$(grep -c 'UBSAN:' "$KLOG")
	# An object both scans report is one leak.
	leaks=$(cat "$LOGS"/kmemleak.* 2>/dev/null | grep '^unreferenced object' | sort -u | wc -l)
	echo "KASAN reports $kasan, UBSAN reports $ubsan, kmemleak leaks $leaks" | tee "$POINT_SUMMARY"
	[ "$kasan$ubsan$leaks" = 000 ]
}

# The differential fuzzer (tests/mapfuzz.c): C maps and their Rust twins, created side by side
# in one boot, fed the same random operations. FUZZ_SEED and FUZZ_OPS (make fuzz) choose the
# run; the sanitizer kernel, about 3 times slower, runs a tenth of the ops, its short pass (CI)
# a fiftieth.
test_fuzz() {
	local cg=/sys/fs/cgroup ops=${FUZZ_OPS:-1000000} rc
	[ "$VARIANT" = debug ] && ops=${FUZZ_OPS:-100000}
	[ -n "$SHORT" ] && ops=${FUZZ_OPS:-20000}
	[ "$SUITE_KERNEL" = shape ] && ops=${FUZZ_OPS:-100000}
	mountpoint -q $cg || mount -t cgroup2 none $cg || return 1
	# Some maps are created without CAP_BPF and friends (Spectre v1 rounding and masking).
	sysctl -q kernel.unprivileged_bpf_disabled=0 || return 1
	unload || return 1
	mapfuzz -k "$KO" -n "$ops" ${FUZZ_SEED:+-s "$FUZZ_SEED"} >"$LOGS/fuzz.out" 2>"$LOGS/fuzz.err"
	rc=$?
	cat "$LOGS/fuzz.out"
	head -n 60 "$LOGS/fuzz.err"
	tail -n 1 "$LOGS/fuzz.out" >"$POINT_SUMMARY"
	[ "$rc" = 0 ] || return 1
	awk -v want="$ops" 'END { exit !($1 >= want && $2 == "ops," && $3 == 0) }' "$LOGS/fuzz.out" ||
		{ echo "fewer than $ops ops, or divergences"; return 1; }
}

# Racing lifecycles (tests/stress.c) for STRESS_SECONDS (60; 30 in a short pass): writers (also
# under BPF_F_LOCK), BPF programs, fd-array slots under tail calls, perf events stored, closed and
# cleared while a program outputs to them, iterators closed last, map churn and an rmmod/insmod
# racer; every value its last writer's, rmmod after every round.
test_stress() {
	local cg=/sys/fs/cgroup rc
	mountpoint -q $cg || mount -t cgroup2 none $cg || return 1
	unload || return 1
	local seconds=${STRESS_SECONDS:-60}
	[ -n "$SHORT" ] && seconds=${STRESS_SECONDS:-30}
	stress -k "$KO" -t "$seconds" >"$LOGS/stress.out" 2>"$LOGS/stress.err"
	rc=$?
	cat "$LOGS/stress.out"
	head -n 60 "$LOGS/stress.err"
	tail -n 1 "$LOGS/stress.out" >"$POINT_SUMMARY"
	[ "$rc" = 0 ] && grep -q ' 0 errors, 0 lost values$' "$LOGS/stress.out"
}

test_skeleton_prog() {
	compare skeleton_prog array,array_of_maps amtest skel || return 1
	# Inlined: no helper call may remain in the lookup program, which starts with
	# "r1 += offsetof(struct bpf_array, value)"; the inner ARRAY lookup of prog_inner is
	# inlined the same way, through the inner-map template's ops.
	local lookup value_off
	lookup=$(sed -n '/# xlated prog_lookup/,/# xlated prog_inner/p' "$LOGS/skeleton_prog.rust")
	if grep -q '^85 ' <<<"$lookup"; then
		echo "the lookup was not inlined"
		return 1
	fi
	value_off=$(grep -m1 '^07 1 0 0 ' <<<"$lookup")
	[ -n "$value_off" ] || { echo "no inlined lookup"; return 1; }
	sed -n '/# xlated prog_inner/,$p' "$LOGS/skeleton_prog.rust" | grep -qx "$value_off" ||
		{ echo "the inner lookup was not inlined"; return 1; }
	grep -q '^outer update with 8-entry inner: EINVAL$' "$LOGS/skeleton_prog.rust" ||
		{ echo "a mismatching inner map was accepted"; return 1; }
	grep -q '^update from itself: ok, value 347$' "$LOGS/skeleton_prog.rust" ||
		{ echo "an element updated from itself changed"; return 1; }
}

test_batch_ops() {
	compare batch_ops array amtest batch || return 1
	grep -q '^lookup_batch round 2: ENOENT count=2 token=' "$LOGS/batch_ops.rust" ||
		{ echo "the last batch does not end with ENOENT and 2 elements"; return 1; }
}

# The module's chunked batches against the generic functions, case by case (tests/batchtest.c).
test_batch_differential() {
	compare batch_differential array,percpu_array batchtest || return 1
	grep -q '^array8 all: ok count=1024 out=1023 ' "$LOGS/batch_differential.rust" &&
		grep -q '^percpu8 page 146: ENOENT count=2 out=1023 ' "$LOGS/batch_differential.rust" ||
		{ echo "unexpected batch results"; return 1; }
}

test_map_hash() {
	compare map_hash array amtest hash || return 1
	grep -qE '^hash: ok [0-9a-f]{64}$' "$LOGS/map_hash.rust" || { echo "no hash"; return 1; }
}

test_spin_lock() {
	compare spin_lock array amtest spinlock || return 1
	# (Both phases: 16-byte values with a BPF program, 4096-byte values from 4 threads.)
	[ "$(grep -c 'torn reads 0, errors 0$' "$LOGS/spin_lock.rust")" = 2 ]
}

test_mmap() {
	compare mmap array amtest mmap || return 1
	grep -q '^update seen through the mapping: 777$' "$LOGS/mmap.rust" &&
		grep -q '^value 512 through page 1: 1536$' "$LOGS/mmap.rust" ||
		{ echo "values not shared through the mapping"; return 1; }
}

test_map_iter() {
	compare map_iter array amtest iter || return 1
	grep -q '^15: 225$' "$LOGS/map_iter.rust" && grep -q '^end of map$' "$LOGS/map_iter.rust" ||
		{ echo "the iterator did not see every element"; return 1; }
}

test_kptr() {
	local cg=/sys/fs/cgroup
	mountpoint -q $cg || mount -t cgroup2 none $cg || return 1
	compare kptr array,percpu_array amtest kptr $cg || return 1
	grep -q '^released when the map was freed: yes$' "$LOGS/kptr.rust" &&
		grep -q '^unreferenced kptr stored: 1$' "$LOGS/kptr.rust" &&
		grep -q '^PERCPU_ARRAY with a kptr copied out: 1 CPU tagged, 0 kernel pointers$' "$LOGS/kptr.rust"
}

test_wq() {
	compare wq array amtest wq || return 1
	grep -q '^wq: start 0, ran 1$' "$LOGS/wq.rust" &&
		grep -q '^wq started, map dropped: start 0$' "$LOGS/wq.rust"
}

test_task_work() {
	compare task_work array amtest task-work || return 1
	grep -q '^task_work on self: schedule 0, ran 1$' "$LOGS/task_work.rust" &&
		grep -q '^task_work on a sleeping child: schedule 0$' "$LOGS/task_work.rust"
}

test_timers() {
	compare timers array amtest timers || return 1
	grep -q '^timers: run 2, err 0, fired 4$' "$LOGS/timers.rust" &&
		grep -q '^timers overwritten before firing: run 2, fired 0$' "$LOGS/timers.rust" &&
		grep -q '^timers cancelled at once (bpf_timer_cancel_async): run 2, err 0, cancelled 4, fired 0$' \
			"$LOGS/timers.rust"
}

# PERCPU_ARRAY through bpftool: per-CPU values in, out, dumped.
bpftool_percpu_session() {
	local pin=$BPFFS/psession
	rm -f $pin
	bpftool map create $pin type percpu_array key 4 value 4 entries 3 name psession || return 1
	echo "module-refs-while-open: $(refs)" >&2
	bpftool map update pinned $pin key 1 0 0 0 value 0x11 0x22 0x33 0x44 || return 1
	bpftool map update pinned $pin key 3 0 0 0 value 1 0 0 0 2>&1 | sed 's/^Error: //'
	bpftool map lookup pinned $pin key 1 0 0 0 || return 1
	bpftool map lookup pinned $pin key 3 0 0 0 2>&1 | sed 's/^Error: //'
	bpftool map dump pinned $pin || return 1
	bpftool -j map dump pinned $pin || return 1
	echo
	bpftool map show pinned $pin | sed 's/^[0-9]*: /ID: /'
	rm $pin
}

test_bpftool_percpu_session() {
	compare bpftool_percpu_session percpu_array bpftool_percpu_session || return 1
	grep -q '"cpu":1,' "$LOGS/bpftool_percpu_session.rust" ||
		{ echo "no second CPU in the dump"; return 1; }
}

# Possible but offline CPUs keep their copies: CPU 1 goes offline in the middle.
percpu_offline_cpu() {
	local pin=$BPFFS/poffline cpu1=/sys/devices/system/cpu/cpu1/online
	rm -f $pin
	bpftool map create $pin type percpu_array key 4 value 4 entries 2 name poffline || return 1
	echo "module-refs-while-open: $(refs)" >&2
	bpftool map update pinned $pin key 1 0 0 0 value 1 2 3 4 || return 1
	echo 0 >$cpu1 || return 1
	echo "online: $(cat /sys/devices/system/cpu/online)"
	bpftool map lookup pinned $pin key 1 0 0 0 || return 1
	bpftool map update pinned $pin key 0 0 0 0 value 5 6 7 8 || return 1
	bpftool map lookup pinned $pin key 0 0 0 0 || return 1
	echo 1 >$cpu1 || return 1
	echo "online: $(cat /sys/devices/system/cpu/online)"
	bpftool map lookup pinned $pin key 0 0 0 0 || return 1
	rm $pin
}

test_percpu_offline_cpu() {
	[ -e /sys/devices/system/cpu/cpu1/online ] || { echo "no CPU 1 to offline"; return 1; }
	compare percpu_offline_cpu percpu_array percpu_offline_cpu || return 1
	grep -q '^online: 0$' "$LOGS/percpu_offline_cpu.rust" &&
		grep -q '^value (CPU 01): 05 06 07 08$' "$LOGS/percpu_offline_cpu.rust" ||
		{ echo "the offline CPU's copy was not read or written"; return 1; }
}

test_percpu_values() {
	compare percpu_values percpu_array pcputest values || return 1
	if [ "$SUITE_KERNEL" = shape ]; then
		# CPU 2 ran the program after the hole; CPU 3, never online, has what user space wrote.
		grep -q '^  cpu 2: cpu=2 seq=1 tag=12$' "$LOGS/percpu_values.rust" &&
			grep -q '^  cpu 3: cpu=77 seq=78 tag=79$' "$LOGS/percpu_values.rust" ||
			{ echo "unexpected per-CPU values (second shape)"; return 1; }
		return
	fi
	# CPU 0 ran the program twice, CPU 1 once, each writing its own copy.
	grep -q '^  cpu 0: cpu=0 seq=2 tag=10$' "$LOGS/percpu_values.rust" &&
		grep -q '^  cpu 1: cpu=1 seq=1 tag=11$' "$LOGS/percpu_values.rust" &&
		grep -q '^lookup key 1 BPF_F_CPU 1: ok cpu=1 seq=1 tag=11$' "$LOGS/percpu_values.rust" &&
		grep -q '^update BPF_F_CPU|BPF_F_ALL_CPUS: EINVAL$' "$LOGS/percpu_values.rust" &&
		grep -q '^update key 5: E2BIG$' "$LOGS/percpu_values.rust" &&
		grep -q '^  cpu 1: 02 ee ee ee ee ee ee ee ee ee ee ee 00 00 00 00$' "$LOGS/percpu_values.rust" ||
		{ echo "unexpected per-CPU values"; return 1; }
}

test_percpu_helpers() {
	compare percpu_helpers percpu_array pcputest helpers || return 1
	local log=$LOGS/percpu_helpers.rust lookup
	if [ "$SUITE_KERNEL" = shape ]; then
		# A possible CPU that never came up has a copy; past the possible ones, none.
		grep -q '^lookup_percpu_elem cpu 3: found 1 ' "$log" &&
			grep -q '^lookup_percpu_elem cpu 4: found 0 ' "$log" &&
			grep -q '^  cpu 2: hits 5 tag 42$' "$log" ||
			{ echo "unexpected per-CPU helper results (second shape)"; return 1; }
		return
	fi
	grep -q '^lookup_percpu_elem cpu 1: found 1 seq 2 cpu 1$' "$log" &&
		grep -q '^lookup_percpu_elem cpu 3: found 0 ' "$log" &&
		grep -q '^  cpu 1: hits 3 tag 41$' "$log" &&
		grep -q '^for_each on cpu 1: ret 3 calls 3 ' "$log" ||
		{ echo "unexpected per-CPU helper results"; return 1; }
	# The lookup is inlined with the per-CPU move (BPF_ALU64|BPF_MOV|BPF_X, off -1), no call.
	lookup=$(sed -n '/^# xlated write_cpu$/,/^# xlated count_hits$/p' "$log")
	grep -q '^bf 0 0 -1 0$' <<<"$lookup" || { echo "no inlined per-CPU lookup"; return 1; }
	if grep -q '^85 ' <<<"$lookup"; then echo "a helper call is left"; return 1; fi
	# .percpu data: the address comes from map_direct_value_addr, made per-CPU the same way.
	sed -n '/# xlated count_hits/,/# xlated write_cpu_call/p' "$log" | grep -q '^bf 1 1 -1 0$' ||
		{ echo "no per-CPU .percpu access"; return 1; }
	# Two maps at one call site: the lookup op is called, and wrote each CPU's copy.
	sed -n '/# xlated write_cpu_call/,$p' "$log" | grep -q '^85 0 0 0 0$' &&
		grep -q '^  cpu 1: cpu=1 seq=10 tag=51$' "$log" &&
		grep -q '^  cpu 1: cpu=1 seq=10 tag=61$' "$log" ||
		{ echo "the lookup op did not write this CPU's copy"; return 1; }
}

test_percpu_batch() {
	compare percpu_batch percpu_array pcputest batch || return 1
	local last=1
	[ "$SUITE_KERNEL" = shape ] && last=3
	grep -q '^lookup_batch round 2: ENOENT count=2$' "$LOGS/percpu_batch.rust" &&
		grep -q "^  key 4: cpu $last tag 4$last\$" "$LOGS/percpu_batch.rust" ||
		{ echo "unexpected batch results"; return 1; }
}

test_percpu_iter() {
	compare percpu_iter percpu_array pcputest iter || return 1
	local last='4: seq 9 tag 801'
	[ "$SUITE_KERNEL" = shape ] && last='4: seq 22 tag 1606'
	grep -qx "$last" "$LOGS/percpu_iter.rust" && grep -q '^end of map$' "$LOGS/percpu_iter.rust" ||
		{ echo "the iterator did not see every CPU's values"; return 1; }
}

test_percpu_limits() {
	compare percpu_limits percpu_array pcputest limits || return 1
	grep -q '^create value 32769: E2BIG$' "$LOGS/percpu_limits.rust" &&
		grep -q '^create numa 0: EINVAL$' "$LOGS/percpu_limits.rust" ||
		{ echo "unexpected creation results"; return 1; }
}

seq_show() {
	local d=$BPFFS/seq m
	rm -rf $d
	mkdir $d
	amtest pin-skel $d || return 1
	echo "module-refs-while-open: $(refs)" >&2
	for m in vals bigs bss; do
		echo "== $m"
		cat $d/$m || return 1
	done
	rm -rf $d
	mkdir $d
	pcputest pin $d || return 1
	echo "module-refs-while-open: $(refs)" >&2
	for m in pcpu odd percpu; do
		echo "== $m"
		cat $d/$m || return 1
	done
	rm -rf $d
}

test_seq_show() {
	compare seq_show array,percpu_array seq_show || return 1
	grep -q '^3: 13107$' "$LOGS/seq_show.rust" || { echo "no BTF pretty print"; return 1; }
	grep -q '^	cpu1: {1,2,11,}$' "$LOGS/seq_show.rust" || { echo "no per-CPU pretty print"; return 1; }
}

spectre_xlated() {
	rm -f $BPFFS/spectre
	amtest mkmap-unpriv $BPFFS/spectre || return 1
	echo "module-refs-while-open: $(refs)" >&2
	amtest xlated $BPFFS/spectre
	local rc=$?
	rm -f $BPFFS/spectre
	return $rc
}

test_spectre_masking() {
	compare spectre_masking array spectre_xlated || return 1
	# alu32 AND with index_mask 7 (5 entries rounded up), mul by elem_size 24.
	grep -q '^54 0 0 0 7$' "$LOGS/spectre_masking.rust" ||
		{ echo "no index masking in the inlined lookup"; return 1; }
}

test_rmmod_refused_fd() {
	load || return 1
	amtest hold >"$LOGS/hold.out" &
	local pid=$! i
	for i in $(seq 50); do grep -q ready "$LOGS/hold.out" && break; sleep 0.1; done
	if rmmod rust_arraymap 2>/dev/null; then echo "rmmod accepted with a map held by an fd"; kill $pid; return 1; fi
	kill $pid
	wait $pid 2>/dev/null
	wait_refs 0 && rmmod rust_arraymap
}

test_rmmod_refused_pin() {
	load || return 1
	bpftool map create $BPFFS/pinned type array key 4 value 8 entries 4 name pinned || return 1
	if rmmod rust_arraymap 2>/dev/null; then echo "rmmod accepted with a pinned map"; return 1; fi
	rm $BPFFS/pinned
	wait_refs 0 && rmmod rust_arraymap
}

test_rmmod_refused_prog() {
	load || return 1
	amtest prog-only $BPFFS/prog || return 1
	[ "$(refs)" = 1 ] || { echo "refcnt $(refs), expected 1 (map held by the program)"; return 1; }
	if rmmod rust_arraymap 2>/dev/null; then echo "rmmod accepted with a map held by a program"; return 1; fi
	rm $BPFFS/prog
	wait_refs 0 && rmmod rust_arraymap
}

test_rmmod_refused_inner_template() {
	load || return 1
	fdtest meta || return 1
	# The template holds its own reference: one more than the outer map alone.
	grep -q 'inner+outer+template 3, outer+template 2$' "$LOGS/rmmod_refused_inner_template.log" ||
		{ echo "the inner-map template does not pin the module"; return 1; }
	bpftool map create $BPFFS/inner type array key 4 value 8 entries 4 name inner || return 1
	bpftool map create $BPFFS/outer type array_of_maps key 4 value 4 entries 2 name outer \
		inner_map pinned $BPFFS/inner || return 1
	rm $BPFFS/inner
	# The outer map and its inner-map template, with the module's ops.
	wait_refs 2 || return 1
	if rmmod rust_arraymap 2>/dev/null; then echo "rmmod accepted with an inner-map template"; return 1; fi
	rm $BPFFS/outer
	wait_refs 0 && rmmod rust_arraymap
}

test_fd_tailcall() {
	compare fd_tailcall prog_array fdtest tailcall || return 1
	local log=$LOGS/fd_tailcall.rust
	grep -q '^chain of 40 slots: ret 0, programs run 34$' "$log" &&
		grep -q '^chain broken at 5: ret 0, programs run 5$' "$log" ||
		{ echo "the tail call limit is not where it should be"; return 1; }
	grep -q '^bpffs: 39 lines with chain.s id, 0 others$' "$log" ||
		{ echo "bpffs does not show the program ids"; return 1; }
	grep -q '^direct: jited yes$' "$log" &&
		grep -q '^slot 0 = a: ret 2 hit a$' "$log" &&
		grep -q '^slot 0 = b: ret 3 hit b$' "$log" &&
		grep -q '^slot 0 deleted: ret 1 hit -$' "$log" &&
		grep -q '^slot 0 = a again: ret 2 hit a$' "$log" ||
		{ echo "the direct tail call did not follow the slot"; return 1; }
}

test_fd_prog_array_clear() {
	rm -f $BPFFS/pa
	compare fd_prog_array_clear prog_array fdtest clear $BPFFS/pa || return 1
	local log=$LOGS/fd_prog_array_clear.rust
	grep -q '^target alive while in the array: yes$' "$log" &&
		grep -q '^after the last fd: target alive: no$' "$log" &&
		grep -q '^the map still exists: yes$' "$log" &&
		grep -q '^slot 2: ENOENT$' "$log" &&
		grep -q '^pinned, fds closed: slot 3: ok$' "$log" &&
		grep -q '^pin removed: slot 3: ENOENT$' "$log" ||
		{ echo "the array was not emptied with its last user reference"; return 1; }
}

test_fd_perf_event_array() {
	compare fd_perf_event_array perf_event_array fdtest perf || return 1
	local log=$LOGS/fd_perf_event_array.rust
	grep -q '^sample from cpu 0: tag 100$' "$log" && grep -q '^sample from cpu 1: tag 101$' "$log" ||
		{ echo "perf buffer samples lost"; return 1; }
	grep -q '^read_value on cpu 1: ret 0, counting yes$' "$log" ||
		{ echo "bpf_perf_event_read_value() failed"; return 1; }
	grep -q '^no flag: storing file closed: delete slot 1: ENOENT$' "$log" &&
		grep -q '^PRESERVE_ELEMS: storing file closed: delete slot 1: ok$' "$log" ||
		{ echo "entries did not follow their file (BPF_F_PRESERVE_ELEMS)"; return 1; }
}

test_fd_cgroup_array() {
	local cg=/sys/fs/cgroup
	mountpoint -q $cg || mount -t cgroup2 none $cg || return 1
	compare fd_cgroup_array cgroup_array fdtest cgroup $cg || return 1
	grep -q '^in the root: task_under_cgroup: 0, skb_under_cgroup: 0 (run ok)$' \
		"$LOGS/fd_cgroup_array.rust" &&
		grep -q '^in the child: task_under_cgroup: 1, skb_under_cgroup: 1 (run ok)$' \
			"$LOGS/fd_cgroup_array.rust" ||
		{ echo "the under_cgroup helpers did not see the cgroup"; return 1; }
}

# ARRAY_OF_MAPS with inner ARRAYs of the side under test, one of them opened from bpffs.
array_of_maps_side() {
	local pin=$BPFFS/aom_inner rc
	rm -f $pin
	bpftool map create $pin type array key 4 value 8 entries 4 name aom_inner || return 1
	bpftool map update pinned $pin key 3 0 0 0 value 33 0 0 0 0 0 0 0 || return 1
	fdtest aom $pin
	rc=$?
	rm $pin
	return $rc
}

test_fd_array_of_maps() {
	compare fd_array_of_maps array_of_maps,array array_of_maps_side || return 1
	local log=$LOGS/fd_array_of_maps.rust
	grep -q '^BPF outer\[0\]\[2\]: found 2 value 12$' "$log" &&
		grep -q '^BPF outer\[1\]\[3\]: found 2 value 33$' "$log" &&
		grep -q '^BPF outer\[3\]\[1\]: found 2 value 99$' "$log" &&
		grep -q '^lookup outer\[0\]: ok, in1.s id: yes$' "$log" &&
		grep -q '^lookup_batch: ENOENT count=3 0:pinned 1:pinned 3:in1$' "$log" &&
		grep -q '^update with a 16-byte-value inner: EINVAL$' "$log" ||
		{ echo "unexpected array of maps results"; return 1; }
}

# Inner maps served by other ops than their outer map's template are refused (patch 6), both
# ways: C-served maps (made before the module was loaded) in outer maps whose template the module
# serves, and the module's maps in outer maps whose template is C's, whoever serves the outer map
# itself; fdinfo names what serves each map (tests/fdtest.c mixed).
test_mixed_inner_maps() {
	local dir=$BPFFS/mixed log=$LOGS/mixed_inner_maps.out rc want
	unload || return 1
	rm -rf $dir && mkdir $dir || return 1
	fdtest mixed-prep $dir || return 1
	load || return 1
	fdtest mixed $dir >"$log"
	rc=$?
	cat "$log"
	rm -rf $dir
	[ $rc = 0 ] || return 1
	# What serves each map; then each outer map takes the inner map of its template's side and
	# refuses the other's, by update and batch update, and the refused slot stays empty.
	{
		printf '%s served by: -\n' c_inner c_outer c_houter r_houter
		printf '%s served by: rust_arraymap\n' r_inner r_outer r_outer_c
		for t in "c_outer c_inner r_inner" "c_houter c_inner r_inner" "r_outer r_inner c_inner" \
			"r_outer_c c_inner r_inner" "r_houter r_inner c_inner"; do
			set -- $t
			printf '%s\n' "$1[0] = $2: ok" "$1[1] = $3: EINVAL" "$1 batch [2] = $3: EINVAL count=0" \
				"$1[1] lookup: ENOENT"
		done
	} >"$log.want"
	while read -r want; do
		grep -qxF "$want" "$log" || { echo "expected: $want"; rc=1; }
	done <"$log.want"
	return $rc
}

# fdtest members: a program stored in and deleted from two PROG_ARRAYs on two CPUs at once, its
# count of memberships (prog_array_member_cnt, under the program's ext_mutex) back to 0 after:
# freplace attaches. 100,000 stores and deletes a CPU (~5 s a side).
test_prog_array_members() {
	compare prog_array_members prog_array fdtest members 100000 || return 1
	grep -q '^members: both PROG_ARRAYs empty, freplace attach: ok$' "$LOGS/prog_array_members.rust" ||
		{ echo "the program's membership count did not come back to 0"; return 1; }
}

test_fd_errno() {
	compare fd_errno prog_array,perf_event_array,cgroup_array,array_of_maps fdtest errno || return 1
	grep -q '^create prog_array PRESERVE_ELEMS: EINVAL$' "$LOGS/fd_errno.rust" &&
		grep -q '^create perf_event_array PRESERVE_ELEMS: ok$' "$LOGS/fd_errno.rust" &&
		grep -q '^create cgroup_array value 8: EINVAL$' "$LOGS/fd_errno.rust" &&
		grep -q '^create cgroup_array with key and value BTF: errno 524$' "$LOGS/fd_errno.rust" ||
		{ echo "unexpected errno table"; return 1; }
}

test_maps_across_load() {
	unload || return 1
	local pin=$BPFFS/before
	bpftool map create $pin type array key 4 value 8 entries 4 name before || return 1
	bpftool map update pinned $pin key 1 0 0 0 value 1 2 3 4 5 6 7 8 || return 1
	load || return 1
	[ "$(refs)" = 0 ] || { echo "a map created before insmod pins the module"; return 1; }
	bpftool map update pinned $pin key 2 0 0 0 value 8 7 6 5 4 3 2 1 || return 1
	bpftool map lookup pinned $pin key 1 0 0 0 | grep -q '01 02 03 04 05 06 07 08' || return 1
	unload || return 1
	bpftool map lookup pinned $pin key 2 0 0 0 | grep -q '08 07 06 05 04 03 02 01' || return 1
	rm $pin
}

test_load_unload_50() {
	local i
	unload || return 1
	for i in $(seq 50); do
		insmod "$KO" || { echo "insmod $i failed"; return 1; }
		bpftool map create $BPFFS/cycle type array key 4 value 8 entries 64 name cycle ||
			{ echo "create $i failed"; return 1; }
		bpftool map update pinned $BPFFS/cycle key 5 0 0 0 value $i 0 0 0 0 0 0 0 || return 1
		bpftool map create $BPFFS/pcycle type percpu_array key 4 value 8 entries 64 name pcycle ||
			{ echo "percpu create $i failed"; return 1; }
		rm $BPFFS/cycle $BPFFS/pcycle
		# One map of each fd array type, filled: deferred clears, RCU-freed entries.
		fdtest cycle || { echo "fd arrays $i failed"; return 1; }
		wait_refs 0 || return 1
		rmmod rust_arraymap || { echo "rmmod $i failed"; return 1; }
	done
}

# rmmod the moment a PERF_EVENT_ARRAY of 65,536 filled slots is freed, its entries' RCU
# callbacks (module code) still pending: the module's exit must wait for them (fdtest
# unload-pending: 3 rounds). Module route only: built in, nothing unloads.
test_unload_pending_rcu() {
	unload || return 1
	fdtest unload-pending "$KO" >"$LOGS/unload_pending_rcu.rust" 2>"$LOGS/unload_pending_rcu.rust.err"
	local rc=$?
	cat "$LOGS/unload_pending_rcu.rust"
	[ "$rc" = 0 ] || { echo "exit code $rc"; cat "$LOGS/unload_pending_rcu.rust.err"; return 1; }
	served_by "$LOGS/unload_pending_rcu.rust.err" rust_arraymap &&
		grep -q '^map-served-by: pending rust_arraymap$' "$LOGS/unload_pending_rcu.rust.err" ||
		{ echo "no map of the module's under test"; return 1; }
	[ "$(grep -c 'rmmod at once: ok$' "$LOGS/unload_pending_rcu.rust")" = 3 ] ||
		{ echo "the module was not removed in each round"; return 1; }
}

# fdinfo's memlock (the mem_usage op) of every type in several shapes (tests/memusage.c).
test_mem_usage() {
	compare mem_usage array,percpu_array,prog_array,perf_event_array,cgroup_array,array_of_maps \
		memusage || return 1
	grep -q '^percpu_array 256 x 1000: memlock [1-9]' "$LOGS/mem_usage.rust" ||
		{ echo "no memlock for a PERCPU_ARRAY"; return 1; }
}

# Every combination of the valid flag bits on every command that takes flags, for the six types
# (tests/flags.c): the errno order of C's checks. The values a lookup copies out are compared too.
test_flag_combinations() {
	compare flag_combinations array,percpu_array,prog_array,perf_event_array,cgroup_array,array_of_maps \
		flags || return 1
	grep -q '^percpu_array update cpu 0: ok EEXIST ok ok EINVAL ' "$LOGS/flag_combinations.rust" ||
		{ echo "unexpected flag results"; return 1; }
}

# make test's second VM shape (tests/cpu-shape.sh): the CPU masks its tests are meant to meet.
test_cpu_shape() {
	local possible online
	possible=$(cat /sys/devices/system/cpu/possible)
	online=$(cat /sys/devices/system/cpu/online)
	echo "possible CPUs $possible, online $online" | tee "$POINT_SUMMARY"
	[ "$possible" = 0-3 ] && [ "$online" = 0,2 ] ||
		{ echo "not the shape of tests/cpu-shape.sh (possible 0-3, online 0,2)"; return 1; }
}

# What the fd arrays take, they give back: programs, inner maps, removed cgroups, perf events,
# on delete, replacement, the last user reference and the map's free (tests/lifetimes.c).
test_object_lifetimes() {
	compare object_lifetimes prog_array,perf_event_array,cgroup_array,array_of_maps lifetimes all
}

# The memory of 3000 maps of each type, filled and closed, back in the kernel's totals (slab,
# per-CPU, vmalloc): leaks that no list of objects shows (kmemleak is the sanitizer kernel's).
test_memory_returned() {
	compare memory_returned array,percpu_array,prog_array,perf_event_array,cgroup_array,array_of_maps \
		lifetimes memory || return 1
	[ "$(grep -c ': returned$' "$LOGS/memory_returned.rust")" = 7 ] || { echo "not every type's memory returned"; return 1; }
}

# arraymap.c's historic defects: each fix's trigger against the fixed behaviour (tests/defects.c;
# Documentation/historic-defects.rst has the table).
DEFECT_CASES="tailcall_mask rdonly_helper freeze_race lock_timer timer_cancel kptr_update inner_template
	percpu_sleepable tailcall_compat poke_untrack fd_refs"
test_historic_defects() {
	local c
	compare historic_defects array,percpu_array,prog_array,array_of_maps defects all || return 1
	for c in $DEFECT_CASES; do
		grep -q "^$c: " "$LOGS/historic_defects.rust" || { echo "case $c did not run"; return 1; }
	done
}

# The suite's tests for this kernel, in tests/suite.list's order.
. "$TOP/tests/lists.sh"
# SUITE_KERNEL=shape: make test's second VM shape (tests/cpu-shape.sh).
SUITE_KERNEL=${SUITE_KERNEL:-$(suite_kernel "$VARIANT")}
mapfile -t TESTS < <(suite_tests "$SUITE_KERNEL")
SHORT_TESTS=$(suite_tests short)
# HARNESS_TESTS: the harness's own check (tests/check-harness.sh) replaces the list.
if [ -n "${HARNESS_TESTS:-}" ]; then
	. "$TOP/tests/harness/faults.sh"
	read -ra TESTS <<<"${HARNESS_TESTS//$'\n'/ }"
fi

# selected NAME: whether NAME runs (everything, or what ONLY names).
selected() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }

. "$TOP/tests/selftests.sh"

# Points run in child shells (harness_point): they get every function and variable.
export -f $(compgen -A function)
export OUT SELFTESTS ONLY TOP KO VARIANT SUITE_KERNEL SHORT SHORT_WHY LOGS BPFFS PATH SELFTESTS_LIST SUITE_LIST FAULT_KO \
	FUZZ_SEED FUZZ_OPS STRESS_SECONDS

run=()
for t in "${TESTS[@]}"; do selected "$t" && run+=("$t"); done
# Names T= gives that this kernel's suite and the selftests' list do not have (the host checked
# them already, scripts/list-tests.sh: this is the same check, for a run started otherwise).
unknown=
[ -n "${HARNESS_TESTS:-}" ] || unknown=$(unknown_names "$SUITE_KERNEL" "$ONLY" | tr '\n' ' ')

# What the Rust code created before the suite (the Rust-only kernel: bpf_preload's maps).
MAPS_AT_START=$(maps_created)
klog_start
export KLOG_PID TAINT_START MAPS_AT_START C_TABLES C_FUNCTIONS
# kmemleak: what the boot left behind is not ours to report.
[ "$VARIANT" = debug ] && echo clear >/sys/kernel/debug/kmemleak
: >"$OUT/result.ktap"
report "KTAP version 1"
finals=3
[ "$VARIANT" = debug ] && finals=6
[ "$VARIANT" = rust ] && finals=2
report "1..$((${#run[@]} + $(selftests_count) + finals + (${#unknown} > 0)))"
pass=0 fail=0 skip=0 n=0
[ -z "$unknown" ] || harness_point only_names_tests fail_with "T= names no test or selftest entry of this kernel: $unknown"
for t in "${run[@]}"; do
	# (The harness's own check, HARNESS_TESTS, always runs whole.)
	if [ -n "$SHORT" ] && [ -z "${HARNESS_TESTS:-}" ] && ! grep -qxF "$t" <<<"$SHORT_TESTS"; then
		harness_skip "$t" "$SHORT_WHY"
	elif [ "$t" = fuzz ]; then
		# The fuzzer's time depends on its seed (293 to 636 s for its million ops on the test
		# kernel, 2026-12-02), too close to POINT_TIMEOUT: a limit of its own.
		POINT_TIMEOUT=${FUZZ_TIMEOUT:-1800} harness_point "$t" "test_$t"
	else
		harness_point "$t" "test_$t"
	fi
	[ ! -e "$LOGS/$t.table" ] || sed 's/^/# /' "$LOGS/$t.table" | tee -a "$OUT/result.ktap"
done
run_selftests
[ "$VARIANT" = debug ] && harness_point kmemleak_after_suite kmemleak_scan suite
[ "$VARIANT" = rust ] || harness_point module_unloads unload
[ "$VARIANT" = debug ] && harness_point kmemleak_after_rmmod kmemleak_scan rmmod
harness_point kernel_log_clean check_kernel_log
harness_point taint_unchanged check_taint
[ "$VARIANT" = debug ] && harness_point sanitizer_summary sanitizer_summary
report "# rust_arraymap: $pass passed, $fail failed, $skip skipped"
