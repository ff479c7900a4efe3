#!/usr/bin/env bash
# The rerun of test_progs units whose verdicts differed between the C and the Rust-only kernel
# (make full-selftests-rerun, from scripts/full-selftests-rerun.sh), on whatever kernel boots.
# Runs as root inside the VM (scripts/run-vm.sh):
#   selftests-rerun.sh OUT SELFTESTS ROUNDS NAME...
#   NAME  a test_progs test or test/subtest, as its verdict line names it
# Each NAME runs ROUNDS times alone (test_progs -a NAME), its output in OUT/NAME.N (with / as
# _); OUT/verdicts gets "NAME N VERDICT" per run (OK, SKIP, FAIL, or NONE when no verdict line
# came). One KTAP line per NAME says only that its rounds ran.
set -uo pipefail

OUT=$1
SELFTESTS=$2
ROUNDS=$3
shift 3

. "$(dirname "$0")/selftests-setup.sh"
: >"$OUT/verdicts"
ktap "KTAP version 1"
ktap "1..$#"
cd "$SELFTESTS" || exit 1
i=0
for name; do
	i=$((i + 1))
	for r in $(seq "$ROUNDS"); do
		log=$OUT/${name//\//_}.$r
		./test_progs -a "$name" -w 600 >"$log" 2>&1
		v=$(grep -E "^#[0-9/]+ +${name//./\\.}:(OK|SKIP|FAIL)" "$log" | tail -n 1 | sed 's/.*://')
		echo "$name $r ${v:-NONE}" >>"$OUT/verdicts"
	done
	ktap "ok $i $name # $(grep -c "^$name " "$OUT/verdicts") rounds: $(grep "^$name " "$OUT/verdicts" | cut -d' ' -f3 | sort | uniq -c | tr -s ' ' | tr '\n' ',')"
done
sleep 1
