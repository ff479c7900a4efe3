#!/usr/bin/env bash
# The sum of verdicts: usage: sum-verdicts.sh FILE...
# Each FILE's last line is a verdict "P passed, F failed[, S skipped]" (scripts/ktap-verdict.sh,
# run-vm.sh, run-tests.sh); prints their sum in the same form. A file whose last line is not a
# verdict (a part that died before its verdict) counts as one failure.
set -euo pipefail

p=0 f=0 s=0
for file in "$@"; do
	line=$(tail -n 1 "$file" 2>/dev/null || true)
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)?$ ]]; then
		p=$((p + BASH_REMATCH[1]))
		f=$((f + BASH_REMATCH[2]))
		s=$((s + ${BASH_REMATCH[4]:-0}))
	else
		echo "sum-verdicts: no verdict at the end of $file" >&2
		f=$((f + 1))
	fi
done
echo "$p passed, $f failed, $s skipped"
