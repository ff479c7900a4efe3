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
#
# FULL_RESUME=1 keeps what an earlier run of a side finished, boot by boot, up to the first boot
# that did not run to its end (no line in meta), ran another build of the kernel than the one
# there is now (uname -rv), or left a part undone; from that boot on the side runs again. meta
# keeps the commit each kept boot ran.
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

# kernel_of SIDE: what uname -rv says in a boot of SIDE's kernel as it is built now, as
# tests/full-selftests.sh writes it into a boot's kernel file.
kernel_of() {
	(
		[ "$1" = rust ] && export VARIANT=rust || export VARIANT=
		. "$TOP/scripts/lib.sh"
		echo "kernel $(cat "$KBUILD_OUT/include/config/kernel.release")" \
			"$(sed -n 's/^#define UTS_VERSION "\(.*\)"$/\1/p' "$KBUILD_OUT/include/generated/utsversion.h")"
	)
}

# kept SIDE N PARTS: whether FULL_RESUME keeps boot N of SIDE, which ran PARTS.
kept() {
	local dir=$results/$1/boot$2 part
	[ "${FULL_RESUME:-0}" = 1 ] || return 1
	grep -q "^boot $2: .* parts $3\$" "$results/$1/meta" 2>/dev/null || return 1
	[ "$(cat "$dir/kernel" 2>/dev/null)" = "$(kernel_of "$1")" ] || return 1
	IFS=, read -ra ps <<<"$3"
	for part in "${ps[@]}"; do
		grep -q "^done $part " "$dir/progress" 2>/dev/null || return 1
	done
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
	[ "${FULL_RESUME:-0}" = 1 ] || rm -rf "${results:?}/$side"
	mkdir -p "$results/$side"
	touch "$results/$side/meta"
	n=0 keep=1
	for parts in test_verifier,test_maps ${shards// / }; do
		[[ $parts == *-* ]] && parts=test_progs:$parts
		while [ -n "$parts" ] && [ "$n" -lt 12 ]; do
			n=$((n + 1))
			if [ "$keep" = 1 ] && kept "$side" "$n" "$parts"; then
				log "$side kernel, boot $n: kept ($(grep "^boot $n: " "$results/$side/meta"))"
				parts=
				continue
			fi
			if [ "$keep" = 1 ]; then
				# From here on the side runs again: what later boots left goes.
				keep=0
				awk -v n="$n" '$2 + 0 < n' "$results/$side/meta" >"$results/$side/meta.new"
				mv "$results/$side/meta.new" "$results/$side/meta"
				for d in "$results/$side"/boot*; do
					if [ -d "$d" ] && [ "${d##*boot}" -ge "$n" ]; then rm -rf "$d"; fi
				done
			fi
			boot "$side" "$n" "$parts"
			parts=$(left "$parts" "$results/$side/boot$n")
		done
	done
done
"$TOP/scripts/full-selftests-report.py" "$results/c" "$results/rust" \
	>"$TOP/Documentation/selftests-full.rst"
log "Documentation/selftests-full.rst written"
