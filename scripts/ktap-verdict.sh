#!/usr/bin/env bash
# The one KTAP verdict of the project: usage: ktap-verdict.sh FILE
# Counts the top-level results of FILE and prints "P passed, F failed, S skipped" (an "ok" with
# "# SKIP" is skipped, never passed). Exits 0 only if nothing failed, there is exactly one plan
# "1..N", and the results are numbered 1..N: a missing, extra or repeated result (a test run that
# died, an empty list) is a failure. Problems are explained on stderr.
set -uo pipefail

file=$1
[ -r "$file" ] || { echo "ktap-verdict: no KTAP at $file" >&2; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
awk '
	function problem(msg) { print "ktap-verdict: " msg > "/dev/stderr"; bad++ }
	/^1\.\.[0-9]+$/ { plans++; plan = substr($0, 4) + 0; next }
	/^(not )?ok [0-9]+( |$)/ {
		notok = ($1 == "not")
		num = notok ? $3 : $2
		results++
		if (num != results) problem("result " results " is numbered " num)
		if (notok) failed++
		else if ($0 ~ /# SKIP/) skipped++
		else passed++
	}
	END {
		if (plans != 1) problem(plans + 0 " plan lines, expected 1")
		else if (results != plan) problem("plan 1.." plan " but " results + 0 " results")
		if (results == 0) problem("no results")
		printf "%d passed, %d failed, %d skipped\n", passed, failed + (bad ? 1 : 0), skipped
		exit (failed || bad) ? 1 : 0
	}' "$file"
