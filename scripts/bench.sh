#!/usr/bin/env bash
# make bench: boot once, measure C and Rust alternately (tests/bench.sh), then
# write the table and chart to Documentation/. Runs inside the root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

rounds=${BENCH_ROUNDS:-5}
"$TOP/scripts/run-vm.sh" "$TOP/tests/bench.sh" "$rounds"
release=$(cat "${KDIR:-$KBUILD_OUT}/include/config/kernel.release")
/usr/bin/python3 "$TOP/scripts/bench-report.py" "$CACHE/vm-out/bench.tsv" "$TOP/Documentation" "$release"
log "wrote Documentation/performance.rst and Documentation/performance.png"
