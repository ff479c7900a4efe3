#!/usr/bin/env bash
# make poke-race, in the guest: tests/pokerace.c for SECONDS (POKE_SECONDS of make; default
# 120) on the built-in PROG_ARRAY, then as long with rust_arraymap loaded, then the module must
# unload. KTAP in
# $OUT/result.ktap; scripts/run-vm.sh counts it and reads the console and $OUT/kernel.log for
# reports (an oops ends the run).
set -euo pipefail
OUT=$1
seconds=${2:-120}
dmesg -w >"$OUT/kernel.log" 2>&1 &
report() { echo "$*" | tee -a "$OUT/result.ktap"; }
report "TAP version 13"
report "1..3"
# side N NAME: one run; on the module's side its PROG_ARRAY must have served the run.
side() {
	local out ok=ok
	out=$("$TESTS_BIN/pokerace" "$seconds") || ok="not ok"
	if [ "$2" = rust ] &&
		! grep -q '^prog_array [1-9]' /sys/kernel/debug/rust_arraymap/maps_created; then
		ok="not ok" out+="; the module served no PROG_ARRAY"
	fi
	report "$ok $1 $2 # $out"
}
side 1 c
insmod "$KO"
side 2 rust
# The module leaves as it came: a reference the run left behind would keep it loaded.
if err=$(rmmod rust_arraymap 2>&1); then
	report "ok 3 rmmod rust_arraymap"
else
	report "not ok 3 rmmod rust_arraymap # ${err//$'\n'/ }"
fi
