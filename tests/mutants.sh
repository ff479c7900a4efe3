#!/usr/bin/env bash
# make mutants' guest side (scripts/mutants.sh): each mutant module of QUEUE under the suite's
# harness, tests/run-suite.sh with the tests the queue names for it, one after another in this
# boot.
#   mutants.sh OUT SELFTESTS-DIR QUEUE KO-DIR STAGE
# QUEUE has a line "ID TESTS" per mutant (the module is KO-DIR/ID.ko; TESTS, T='s names, may be
# chunks separated by ";", run one after another up to the first that kills). Each verdict goes to
# OUT/results/ID as it is known: "killed STAGE:POINT,..." (the points that failed) or
# "survived"; OUT/current names the mutant running (the host's verdict if the VM dies under it).
# A mutant whose module, once unloaded, leaves a type's ops registered is killed; one that leaves
# the module loaded or the kernel tainted ends the boot: the host boots again for the rest.
set -uo pipefail

OUT=$1 SELFTESTS=$2 QUEUE=$3 KODIR=$4 STAGE=$5
TOP=$(cd "$(dirname "$0")/.." && pwd)
# A mutant that hangs a point costs this long, not the suite's 15 minutes.
export POINT_TIMEOUT=${POINT_TIMEOUT:-180}
mkdir -p "$OUT/results" "$OUT/runs"
: >"$OUT/result.ktap"
# (For new_taint: the taint bits a mutant's run may gain are the suite's.)
LOGS=$OUT/logs KO=
. "$TOP/tests/harness.sh"
taint0=$(cat /proc/sys/kernel/tainted)

while read -r id tests; do
	echo "$id" >"$OUT/current"
	sync
	# Each run's kernel-log check reads the log from its start: a clean one for each mutant.
	dmesg -C
	start=$SECONDS
	verdict=survived
	# TESTS may be chunks separated by ";": a run each, up to the first that kills.
	IFS=';' read -ra chunks <<<"$tests"
	for i in "${!chunks[@]}"; do
		run=$OUT/runs/$id.$i
		KO=$KODIR/$id.ko "$TOP/tests/run-suite.sh" "$run" "$SELFTESTS" "${chunks[$i]}" \
			</dev/null >"$run.out" 2>&1
		# The run's kernel-log follower (tests/harness.sh klog_start) outlives it.
		pkill -x dmesg
		failed=$(sed -n 's/^not ok [0-9]* \([^ ]*\).*/\1/p' "$run/result.ktap" 2>/dev/null | paste -sd, -)
		if [ -n "$failed" ]; then
			verdict="killed $STAGE:$failed"
		elif ! grep -q '^# rust_arraymap: ' "$run/result.ktap" 2>/dev/null; then
			verdict="killed $STAGE:the-suite-did-not-finish"
		fi
		[ "$verdict" = survived ] || break
		dmesg -C
	done
	# Unloaded, the mutant must have given every type back to the built-in ops: else the next
	# mutant's runs would meet what this one left (a crash here is still charged to this one).
	amtest=${TESTS_BIN:-$TOP/tests/build}/amtest
	if [ "$verdict" = survived ] && ! grep -q '^rust_arraymap ' /proc/modules &&
		"$amtest" ops-owner 2>&1 | grep -v ' -$' >"$OUT/runs/$id.owners"; then
		verdict="killed $STAGE:types-left-registered-after-rmmod"
	fi
	echo "$verdict" >"$OUT/results/$id"
	sync
	echo "mutant $id: $verdict ($((SECONDS - start)) s)"
	if grep -q '^rust_arraymap ' /proc/modules || [ "$(new_taint "$taint0")" != 0 ]; then
		echo "mutant $id left the module loaded or the kernel tainted: a fresh boot for the rest"
		break
	fi
done <"$QUEUE"
rm -f "$OUT/current"
