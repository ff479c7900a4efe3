#!/usr/bin/env bash
# make full-selftests: the kernel's BPF selftest runners, whole (test_verifier, test_maps and
# every test of test_progs, no filter), on the C kernel (the test kernel, no module loaded) and on
# the Rust-only kernel of the same config (make rust-only's), then the comparison of their
# verdicts, subtest by subtest (scripts/full-selftests-report.py), into
# Documentation/selftests-full.rst. Runs inside the root, after both kernels and their selftests
# are built (the Makefile's prerequisites).
#
# test_progs boots single-threaded TCG: multi-threaded, QEMU 10.0 runs kernel text as it was
# before a live patch (Documentation/testing.rst, poke_race), and test_progs patches text all the
# time (fentry/fexit, trampolines, tail calls): a boot of the C kernel died of it in
# fentry_attach_stress (int3 in the patched target, 2026-12-07).
#
# test_verifier and test_maps run in a boot of their own, test_progs in shards (FULL_PROGS_SHARDS,
# test number ranges), one boot each. A boot that ends before its parts do (a hang, a panic) is
# followed by one for what is left, from the test after the last one reported; the test that was
# running is recorded as ending the boot.
# Results: $CACHE/full-selftests/<c|rust>/boot<N>/ (tests/full-selftests.sh), and meta, which
# says which commit each boot ran.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

results=$CACHE/full-selftests
shards=${FULL_PROGS_SHARDS:-1-380 381-9999}
commit=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$TOP" diff --quiet HEAD 2>/dev/null || commit+="+changes"
sides=${FULL_SIDES:-c rust}

# boot SIDE N PARTS: one boot of SIDE's kernel for PARTS, its results kept in boot<N>. test_progs
# boots single-threaded TCG (see above); the others multi-threaded, which runs test_maps' 100
# forked tasks some 4 times faster and patches no text.
boot() {
	local side=$1 n=$2 parts=$3 variant= thread=multi
	[ "$side" = rust ] && variant=rust
	[[ $parts == *test_progs* ]] && thread=single
	local dir=$results/$side/boot$n
	log "$side kernel, boot $n ($thread-threaded TCG): $parts"
	(
		export VARIANT=$variant
		. "$TOP/scripts/lib.sh"
		VM_TCG_THREAD=$thread VM_TIMEOUT=${FULL_VM_TIMEOUT:-7200} VM_OUT=$dir \
			"$TOP/scripts/run-vm.sh" \
			"$TOP/tests/full-selftests.sh" "$KBUILD_OUT/selftests-bpf" "$parts" || true
	)
	echo "boot $n: commit $commit, $(date -u +%Y-%m-%d), $thread-threaded TCG, parts $parts" \
		>>"$results/$side/meta"
}

# left PARTS DIR: what of PARTS the boot in DIR did not finish, as parts again ("" if none); a
# test_progs part resumes after the test that was running, which goes into DIR's ended-by.
left() {
	local part rest=() d first last upto
	IFS=, read -ra ps <<<"$1"
	for part in "${ps[@]}"; do
		grep -q "^done $part " "$2/progress" 2>/dev/null && continue
		case $part in
		test_progs:*)
			d=$2/${part//:/_}
			first=${part#test_progs:}
			first=${first%-*}
			last=${part##*-}
			upto=$(cat "$d"/out.* 2>/dev/null |
				sed -n 's/^#\([0-9][0-9]*\)[ /].*:\(OK\|SKIP\|FAIL\).*/\1/p' | sort -n | tail -n 1)
			upto=${upto:-$((first - 1))}
			mkdir -p "$d"
			echo "$((upto + 1)) the boot ended (see $2/console.log)" >>"$d/ended-by"
			[ $((upto + 2)) -le "$last" ] && rest+=("test_progs:$((upto + 2))-$last")
			;;
		*)
			mkdir -p "$2/$part"
			echo "0 the boot ended (see $2/console.log)" >>"$2/$part/ended-by"
			;;
		esac
	done
	local IFS=,
	echo "${rest[*]}"
}

for side in $sides; do
	rm -rf "${results:?}/$side"
	mkdir -p "$results/$side"
	n=0
	for parts in test_verifier,test_maps ${shards// / }; do
		[[ $parts == *-* ]] && parts=test_progs:$parts
		while [ -n "$parts" ] && [ "$n" -lt 12 ]; do
			n=$((n + 1))
			boot "$side" "$n" "$parts"
			parts=$(left "$parts" "$results/$side/boot$n")
		done
	done
done
"$TOP/scripts/full-selftests-report.py" "$results/c" "$results/rust" \
	>"$TOP/Documentation/selftests-full.rst"
log "Documentation/selftests-full.rst written"
