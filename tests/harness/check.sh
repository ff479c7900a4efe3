#!/usr/bin/env bash
# The guest side of the harness check (scripts/check-harness.sh): the suite's own harness, run
# on the faults of tests/harness/faults.sh and the stand-in selftests of faults.list.
#   check.sh OUTDIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export HARNESS_TESTS="harness_control fault_warn fault_rcu fault_sleep fault_lockdep fault_leak
fault_after_leak harness_leak_cleanup fault_object_leak harness_object_cleanup fault_missing_proof fault_stderr fault_hang"
export SELFTESTS_LIST=$here/faults.list
export POINT_TIMEOUT=30
exec "$here/../run-suite.sh" "$1" "$here"
