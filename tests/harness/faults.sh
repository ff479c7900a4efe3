# shellcheck shell=bash
# The faults of the harness check (scripts/check-harness.sh): suite tests that pass by their own
# account while doing what make test must catch. Sourced by tests/run-suite.sh when
# HARNESS_TESTS names them; each must end up "not ok", the control "ok".

FAULT_KO=$TOP/tests/harness/harness_fault.ko

# A small ARRAY probe: the map is made, written and read.
harness_array_probe() {
	bpftool map create $BPFFS/harness type array key 4 value 8 entries 4 name harness || return 1
	bpftool map update pinned $BPFFS/harness key 1 0 0 0 value 1 2 3 4 5 6 7 8 || return 1
	bpftool map lookup pinned $BPFFS/harness key 1 0 0 0
	rm $BPFFS/harness
}

# Passes: the same probe as the faults below, held to the same checks.
test_harness_control() { compare harness_control array harness_array_probe; }

# Kernel reports, each from the test-only module (its init fails on purpose).
harness_fault() { insmod "$FAULT_KO" fault="$1" 2>/dev/null; return 0; }
test_fault_warn() { harness_fault warn; }
test_fault_rcu() { harness_fault rcu; }
test_fault_sleep() { harness_fault sleep; }
# Last of the kernel reports: lockdep turns itself off after its first report.
test_fault_lockdep() { harness_fault lockdep; }

# A map the test forgets, keeping a reference to the module.
test_fault_leak() {
	load || return 1
	bpftool map create $BPFFS/harness_leak type array key 4 value 8 entries 4 name leak
}
# Right after the leak: its C run would be on the module, so it must fail.
test_fault_after_leak() { compare fault_after_leak array harness_array_probe; }
# Not a fault: removes the leaked map so that the faults after it are judged on their own.
test_harness_leak_cleanup() { rm -f $BPFFS/harness_leak; }

# An object left behind that holds no reference to the module (a HASH map is not the module's):
# the point's object check (objects_left), not the reference count, must catch it.
test_fault_object_leak() {
	bpftool map create $BPFFS/harness_hash type hash key 4 value 4 entries 4 name hleak
}
# Not a fault: removes it.
test_harness_object_cleanup() { rm -f $BPFFS/harness_hash; }

# The Rust run creates no map of the type the comparison is about.
test_fault_missing_proof() { compare fault_missing_proof percpu_array harness_array_probe; }

# stdout agrees, stderr does not.
harness_stderr_probe() { loaded && echo "only with the module" >&2; return 0; }
test_fault_stderr() { compare fault_stderr - harness_stderr_probe; }

# Never returns (POINT_TIMEOUT ends it).
test_fault_hang() { sleep 100000; }
