#!/usr/bin/env bash
# The harness check's guest for what happens after the last result: a green KTAP report, then
#   hang: the guest never powers off;   warn: the kernel warns on the way out.
#   after-verdict.sh OUTDIR hang|warn
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# The console as make test's suite sets it (tests/run-suite.sh): warnings and worse.
dmesg -n 5
printf '%s\n' "KTAP version 1" "1..1" "ok 1 green_before_$2" >"$1/result.ktap"
case $2 in
hang) sleep 100000 ;;
warn) insmod "$here/harness_fault.ko" fault=warn 2>/dev/null ;;
esac
exit 0
