#!/usr/bin/env bash
# make check-series: every prefix of patches/ builds, and the whole series serves the module.
# Applies the series one patch at a time (git am) to a worktree of the pristine kernel source
# ($CACHE/series-src), and after each patch builds the kernel incrementally with the test
# kernel's config in a build directory of its own (VARIANT=series, scripts/lib.sh): a patch is
# red if it does not apply, if the build fails, or if the compiler warns about a file it touches.
# The last prefix, with the default choice (arraymap.c), must define the same symbols as the
# prefix before the last two patches. On the last prefix it builds the module and the probes and
# boots that kernel for the suite's registration tests (SERIES_TESTS), then builds the other
# choice (the array maps from rust/, from a copy of that build) and boots it for the Rust-only
# kernel's tests (SERIES_RUST_TESTS). Runs inside the root. The last line is the sum of all
# parts: "N passed, N failed, N skipped".
set -euo pipefail
export VARIANT=series
. "$(dirname "$0")/lib.sh"

SERIES_TESTS=${SERIES_TESTS:-module_loads,kunit,module_serves_array,module_serves_percpu_array,module_serves_fd_arrays,other_types_untouched,fdinfo_ops_owner,register_rules,register_failing_init,mixed_inner_maps}
# The Rust choice's boot: the Rust-only kernel's own tests.
SERIES_RUST_TESTS=${SERIES_RUST_TESTS:-builtin_tables,kunit,bpf_preload,errno_cases,fd_array_of_maps}
src=$CACHE/series-src
logs=$CACHE/check-series
ktap=$logs/build.ktap
rm -rf "$logs"
mkdir -p "$logs"

# The pristine source, through scripts/prepare-kernel.sh (which also applies the series to
# $CACHE/linux-src, as make kernel would); the worktree shares its objects.
"$TOP/scripts/prepare-kernel.sh" >/dev/null
if [ ! -e "$src/.git" ]; then
	log "creating the series worktree $src (~1 min)"
	git -C "$CACHE/linux-src" worktree prune
	git -C "$CACHE/linux-src" worktree add -q --detach "$src" pristine
fi
git -C "$src" am --abort >/dev/null 2>&1 || true
# Only the files the last run's series changed are rewritten: the build stays incremental.
git -C "$src" reset -q --hard pristine

mapfile -t patches < <(find "$TOP/patches" -name '[0-9]*.patch' ! -name '0000-*' | sort)
[ "${#patches[@]}" -gt 0 ] || die "no patches in $TOP/patches"

# The build steps as KTAP: one result per prefix.
{
	echo "KTAP version 1"
	echo "1..${#patches[@]}"
} >"$ktap"
i=0 broken=
for p in "${patches[@]}"; do
	i=$((i + 1))
	# The subject, unfolded (format-patch continues a long one on lines that start with a blank).
	subject=$(awk '/^Subject: / { s = $0; while ((getline l) > 0 && l ~ /^[ \t]/) s = s l; print s; exit }' "$p" |
		sed 's/^Subject: \[PATCH [0-9/]*\] //')
	step=$logs/$(printf '%02d' "$i").log
	if [ -n "$broken" ]; then
		echo "not ok $i - $subject # not built: prefix $broken is broken" >>"$ktap"
		continue
	fi
	log "series $i/${#patches[@]}: $subject"
	start=$SECONDS
	if ! git -C "$src" am -q "$p" >"$step" 2>&1; then
		echo "not ok $i - $subject # does not apply ($step)" >>"$ktap"
		broken=$i
		continue
	fi
	if ! KERNEL_SRC=$src "$TOP/scripts/build-kernel.sh" >>"$step" 2>&1; then
		tail -n 20 "$step" >&2
		echo "not ok $i - $subject # build failed ($step)" >>"$ktap"
		broken=$i
		continue
	fi
	# Warnings about the files this patch touches (others are the pristine kernel's).
	warned=
	while read -r f; do
		grep -q "$f:[0-9]*:[0-9]*: warning:" "$step" && warned+=" $f"
	done < <(git -C "$src" diff --name-only HEAD~1 HEAD)
	if [ -n "$warned" ]; then
		grep ': warning:' "$step" >&2
		echo "not ok $i - $subject # warnings in$warned ($step)" >>"$ktap"
		continue
	fi
	echo "ok $i - $subject # built in $((SECONDS - start)) s" >>"$ktap"
	# What the prefix's vmlinux defines, for the check of the C choice below.
	nm "$KBUILD_OUT/vmlinux" | awk '{ print $2, $3 }' | sort >"$logs/$(printf '%02d' "$i").symbols"
done
# The default choice of the last patch (the array maps of arraymap.c) builds what the kernel
# built before the last two patches (which move what the core shares out of arraymap.c, then add
# the choice): the same symbols, none more, none less.
n=${#patches[@]}
{
	echo "KTAP version 1"
	echo "1..1"
	base=$logs/$(printf '%02d' $((n - 2))).symbols last=$logs/$(printf '%02d' "$n").symbols
	if [ -n "$broken" ] || [ ! -e "$base" ] || [ ! -e "$last" ]; then
		echo "not ok 1 - the C choice builds what prefix $((n - 2)) built # not built"
	elif diff "$base" "$last" >"$logs/c-choice.diff"; then
		echo "ok 1 - the C choice builds what prefix $((n - 2)) built # $(wc -l <"$last") symbols"
	else
		sed 's/^/# /' "$logs/c-choice.diff" | head -n 20
		echo "not ok 1 - the C choice builds what prefix $((n - 2)) built # $logs/c-choice.diff"
	fi
} >"$logs/c-choice.ktap"
cat "$ktap" "$logs/c-choice.ktap"
"$TOP/scripts/ktap-verdict.sh" "$ktap" | tee "$logs/build.out" || true
"$TOP/scripts/ktap-verdict.sh" "$logs/c-choice.ktap" | tee "$logs/c-choice.out" || true
parts=("$logs/build.out" "$logs/c-choice.out")

# The whole series: the module on it, and the suite's registration tests.
if [ -z "$broken" ]; then
	log "the whole series: building the module and the probes, booting for $SERIES_TESTS"
	if "$TOP/scripts/build-module.sh" >"$logs/module.log" 2>&1 &&
		"$TOP/scripts/build-tests.sh" >"$logs/tests.log" 2>&1; then
		VM_OUT=$CACHE/vm-out-series "$TOP/scripts/run-vm.sh" "$TOP/tests/run-suite.sh" \
			"$KBUILD_OUT/selftests-bpf" "$SERIES_TESTS" | tee "$logs/smoke.out" || true
	else
		tail -n 20 "$logs/module.log" "$logs/tests.log" >&2 || true
		echo "0 passed, 1 failed" >"$logs/smoke.out"
	fi
	parts+=("$logs/smoke.out")
	# The other choice: the whole series with the array maps built from rust/, from a copy of
	# the build above, booted for the Rust-only kernel's own tests.
	log "the whole series, Rust choice: building, booting for $SERIES_RUST_TESTS"
	"$TOP/scripts/sync-rust-tree.sh" "$src"
	if KERNEL_SRC=$src VARIANT=series-rust "$TOP/scripts/build-kernel.sh" >"$logs/rust.log" 2>&1 &&
		VARIANT=series-rust "$TOP/scripts/build-tests.sh" >"$logs/rust-tests.log" 2>&1; then
		VARIANT=series-rust VM_OUT=$CACHE/vm-out-series-rust "$TOP/scripts/run-vm.sh" \
			"$TOP/tests/run-suite.sh" "$KBUILD_OUT/selftests-bpf" "$SERIES_RUST_TESTS" | tee "$logs/rust-smoke.out" || true
	else
		tail -n 20 "$logs/rust.log" "$logs/rust-tests.log" >&2 || true
		echo "0 passed, 1 failed" >"$logs/rust-smoke.out"
	fi
	parts+=("$logs/rust-smoke.out")
fi
verdict=$("$TOP/scripts/sum-verdicts.sh" "${parts[@]}")
echo "$verdict"
[[ $verdict =~ ^[0-9]+\ passed,\ 0\ failed ]]
