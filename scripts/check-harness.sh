#!/usr/bin/env bash
# The check of make test's harness: every fault it must catch, injected on purpose, has to turn
# the verdict red, and a clean control next to them has to stay green. Runs inside the root;
# part of make test (scripts/run-tests.sh), or alone as make check-harness.
#   1. the verdict parser and the kernel-report detector on known text (no VM);
#   2. one boot of the suite's harness on tests/harness/faults.sh and faults.list: each fault
#      must be "not ok" for its own reason, the controls "ok", the run red;
#   3. two boots whose report is green but whose VM then hangs, or warns on the way out: red.
# Prints KTAP and "N passed, N failed"; exit 1 if any check failed.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

verdict=$TOP/scripts/ktap-verdict.sh
splats=$TOP/scripts/find-splats.sh
n=0 pass=0 fail=0
check() { # check DESC CMD...: one KTAP result, ok when CMD succeeds
	local desc=$1
	shift
	n=$((n + 1))
	if "$@"; then pass=$((pass + 1)); echo "ok $n $desc"
	else fail=$((fail + 1)); echo "not ok $n $desc"; fi
}
red() { ! "$@" >/dev/null 2>&1; }

echo "KTAP version 1"

# 1. The parsers, on text.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "KTAP version 1" "1..3" "ok 1 a" "ok 2 b" >"$tmp/short.ktap"
printf '%s\n' "KTAP version 1" "1..0" >"$tmp/empty.ktap"
printf '%s\n' "KTAP version 1" "1..2" "ok 1 a" "ok 2 b # SKIP why" >"$tmp/skip.ktap"
check "verdict: fewer results than planned is red" red "$verdict" "$tmp/short.ktap"
check "verdict: an empty plan is red" red "$verdict" "$tmp/empty.ktap"
check "verdict: a SKIP is counted as skipped" \
	grep -qx '1 passed, 0 failed, 1 skipped' <("$verdict" "$tmp/skip.ktap")
for line in \
	'[ 12.3] WARNING: rust/bpf/ops.rs:307 at rust_arraymap::bpf::ops::alloc+0x4f, CPU#1: test_progs/2012' \
	'[ 12.3] WARNING: at harness_fault_init+0x1c/0x40, CPU#0' \
	'[ 12.3] ------------[ cut here ]------------' \
	'[ 12.3] WARNING: possible recursive locking detected' \
	'[ 12.3] WARNING: suspicious RCU usage' \
	'[ 12.3] BUG: sleeping function called from invalid context at kernel/locking/mutex.c:580' \
	'[ 12.3] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:' \
	'[ 12.3] INFO: task test_progs:99 blocked for more than 120 seconds.' \
	'[ 12.3] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'; do
	check "detector: ${line#*] }" red "$splats" <<<"$line"
done
alloc_failure='[ 9.1] failnth: vmalloc error: size 4096, align 0x1, vm_struct allocation failed, mode:0x100dc0(GFP_USER|__GFP_ZERO), nodemask=(null)
[ 9.1] CPU: 0 UID: 0 PID: 2734 Comm: failnth Tainted: G           O        7.3.4+ #2
[ 9.1] Call Trace:
[ 9.1]  <TASK>
[ 9.1]  warn_alloc+0x10a/0x120
[ 9.1]  </TASK>'
check "detector: an allocation failure outside failnth's markers" red "$splats" <<<"$alloc_failure"
check "detector: an allocation failure that failnth injected passes" "$splats" \
	<<<"[ 9.0] rust_arraymap-harness: failnth injecting
$alloc_failure
[ 9.2] rust_arraymap-harness: failnth done"
check "detector: a report after an injected allocation failure" red "$splats" \
	<<<"[ 9.0] rust_arraymap-harness: failnth injecting
$alloc_failure
[ 9.2] WARNING: at harness_fault_init+0x1c/0x40, CPU#0
[ 9.3] rust_arraymap-harness: failnth done"
check "detector: a KTAP result on the console that names KASAN passes" "$splats" \
	<<<'ok 94 sanitizer_summary # 3.6s; KASAN reports 0, UBSAN reports 0, kmemleak leaks 0'
check "detector: a KASAN report" red "$splats" \
	<<<'[ 12.3] BUG: KASAN: slab-use-after-free in rust_arraymap_main+0x1c/0x40'
check "detector: a clean log and the harness's markers pass" "$splats" \
	<<<'[ 1.0] rust_arraymap: serving BPF_MAP_TYPE_ARRAY
[ 1.1] rust_arraymap-harness: begin fault_warn'

# 2. The harness on its faults, in one boot.
out=$CACHE/vm-out-harness
log "the harness check: faults injected into one boot of the suite's harness"
rc=0
VM_OUT=$out "$TOP/scripts/run-vm.sh" "$TOP/tests/harness/check.sh" >"$tmp/faults.out" 2>&1 || rc=$?
check "faults: the run is red" [ "$rc" != 0 ]
# point STATUS NAME [REASON]: NAME's KTAP result is STATUS and its log gives REASON.
point() {
	local status=$1 name=$2 reason=${3:-}
	grep -qE "^$status [0-9]+ $(sed 's/[][\.*^$/]/\\&/g' <<<"$name")( #|$)" "$out/result.ktap" ||
		{ echo "# $name: not '$status'" && return 1; }
	[ -z "$reason" ] || grep -qF -- "$reason" "$out/logs/${name//\//_}.log" ||
		{ echo "# $name: no '$reason' in its log" && return 1; }
}
check "control: a clean comparison passes" point ok harness_control
check "fault: WARN_ON" point "not ok" fault_warn "cut here"
check "fault: suspicious RCU usage" point "not ok" fault_rcu "suspicious RCU usage"
check "fault: sleeping in atomic context" point "not ok" fault_sleep "sleeping function called"
check "fault: lockdep circular locking" point "not ok" fault_lockdep "circular locking"
check "fault: a leaked map's module reference" point "not ok" fault_leak "a reference to rust_arraymap outlived the test"
check "fault: after a leak, no C run on the module" point "not ok" fault_after_leak "cannot unload"
check "control: the leak removed, the module unloads" point ok harness_leak_cleanup
check "fault: a leaked object that holds no module reference" point "not ok" fault_object_leak "objects outlived the test"
check "control: the object removed" point ok harness_object_cleanup
check "fault: a comparison with no proof for its type" point "not ok" fault_missing_proof "no proof"
check "fault: stderr differs" point "not ok" fault_stderr "differ (stderr)"
check "fault: a test that hangs" point "not ok" fault_hang "timed out"
check "control: a selftest whose subtests all pass" point ok selftest:test_progs:all_ok
check "fault: a selftest whose subtests all skip" point "not ok" selftest:test_progs:all_skipped "2 skipped"
check "fault: a selftest with an unlisted skip" point "not ok" selftest:test_progs:some_skipped "1 skipped"
check "fault: a filter that matches no subtest" point "not ok" selftest:test_progs:no_match/nothing "no subtest ran"
check "fault: a failed subtest" point "not ok" selftest:test_progs:one_failed "exit status 1"
check "fault: fewer subtests ran on Rust than on C" point "not ok" selftest:test_progs:fewer_with_module "ran different subtests"
check "fault: a selftest with no proof for its type" point "not ok" selftest:test_progs:all_ok_no_proof "no proof"
check "control: a timing selftest whose Rust side lost its race once more" point ok selftest:test_progs:timing_lost_once
check "fault: a timing selftest whose Rust side lost its race twice more" point "not ok" selftest:test_progs:timing_lost_more "Rust lost the timer race 2 times, C 0"
check "fault: the whole kernel log is checked" point "not ok" kernel_log_clean
check "fault: the taint mask is checked" point "not ok" taint_unchanged "gained taint"

# 3. After the last result.
log "the harness check: a VM that hangs after a green report (90 s)"
rc=0
VM_OUT=$out-after VM_TIMEOUT=${HARNESS_HANG_TIMEOUT:-90} \
	"$TOP/scripts/run-vm.sh" "$TOP/tests/harness/after-verdict.sh" hang >"$tmp/hang.out" 2>&1 || rc=$?
check "fault: a hang after a green report" [ "$rc" != 0 ]
check "fault: the hang is named" grep -q 'did not power off' "$tmp/hang.out"
log "the harness check: a WARN after a green report"
rc=0
VM_OUT=$out-after "$TOP/scripts/run-vm.sh" "$TOP/tests/harness/after-verdict.sh" warn >"$tmp/warn.out" 2>&1 || rc=$?
check "fault: a WARN after a green report" [ "$rc" != 0 ]

echo "1..$n"
echo "# harness check: $pass passed, $fail failed"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
