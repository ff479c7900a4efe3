#!/usr/bin/env bash
# make test: the suite in the VM (tests/run-suite.sh), with the kernel's BPF selftests built by
# scripts/build-selftests.sh. Runs inside the root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/run-vm.sh" "$TOP/tests/run-suite.sh" "${KDIR:-$KBUILD_OUT}/selftests-bpf"
