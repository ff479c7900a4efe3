#!/usr/bin/env bash
# make test's second VM shape (scripts/run-tests.sh), in the guest: more possible CPUs than online
# ones, with a hole. The VM boots with 4 vCPUs and the kernel's maxcpus=3 (possible and present
# 0-3, CPU 3 never brought up); CPU 1 goes offline here, so the online CPUs are 0 and 2, and
# CPUs 1 and 3 have per-CPU copies that no online CPU owns. (A possible mask with holes is not
# to be had here: x86 makes CPUs 0 to N-1 possible, and under TCG it counts no hot-pluggable
# ones from QEMU's maxcpus, acpi_is_processor_usable().) Then the suite's tests that
# tests/suite.list marks "shape" run under its harness (tests/run-suite.sh), C against Rust as
# in the first shape.
#   cpu-shape.sh OUTDIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
echo 0 >/sys/devices/system/cpu/cpu1/online || echo "cpu-shape: cannot offline CPU 1" >&2
SUITE_KERNEL=shape exec "$here/run-suite.sh" "$1"
