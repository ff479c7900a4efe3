#!/usr/bin/env bash
# make test's second VM shape (part of make test; alone: make test-shape): the suite's tests
# that tests/suite.list marks "shape", C against Rust, in a VM whose possible CPUs are not all
# online (tests/cpu-shape.sh): 4 vCPUs, the kernel's maxcpus=3 (CPU 3 possible and present,
# never brought up), CPU 1 taken offline by the guest. Runs inside the root; KTAP, and its last
# line "N passed, N failed, N skipped".
set -euo pipefail
. "$(dirname "$0")/lib.sh"

log "the second VM shape: possible CPUs 0-3, online 0 and 2"
VM_OUT=$CACHE/vm-out-shape VM_CPUS=4 VM_APPEND=maxcpus=3 \
	"$TOP/scripts/run-vm.sh" "$TOP/tests/cpu-shape.sh"
