#!/usr/bin/env bash
# make mutants: the mutation campaign on the module's own Rust (tests/mutants.list,
# scripts/mutants.py). Each mutant is applied to a copy of the sources and built into a module of
# its own; then the guest (tests/mutants.sh) runs each mutant module under the suite's harness,
# in as few boots as it can, in three stages that stop at the first that kills it:
#   1. listed: the tests its line of tests/mutants.list names, the narrowest honest set;
#   2. suite: every test of make test's suite and every selftest entry, except the four long ones;
#   3. long: those four (the million-op fuzzer, stress, load_unload_50, historic_defects).
# A mutant is killed by any failed point (a different result from C's, a kernel report, a taint,
# a leak, a hang), or by a kernel that died while it ran. The report goes into
# Documentation/testing.rst (scripts/mutants.py report). MUTANTS=id,... reruns only those and
# keeps the other results; MUTANT_STAGES (default "listed suite long") runs only those stages.
# Exits 1 while a survivor is neither killed nor argued equivalent. Runs inside the root; not part
# of make test or CI (it is long).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -z "$VARIANT" ] || die "make mutants runs on the test kernel only"
"$TOP/scripts/mutants.py" check || die "tests/mutants.list does not match rust/ (above)"
. "$TOP/tests/lists.sh"
M=$CACHE/mutants
src=$M/src
kos=$M/ko
results=$M/results
# The commit each mutant's result was had at, a file per mutant: MUTANTS= reruns some.
commits=$M/commits
selftests=$ARTIFACTS/selftests-bpf
[ -d "$selftests" ] || die "no selftests at $selftests (make selftests)"
stages=" ${MUTANT_STAGES:-listed suite long} "
for s in $stages; do
	case $s in listed | suite | long) ;; *) die "MUTANT_STAGES: no stage $s (listed, suite, long)" ;; esac
done
# (A whole campaign starts from clean copies: no object of older sources can be linked in.)
[ -n "${MUTANTS:-}" ] || rm -rf "$results" "$kos" "$src" "$commits"
mkdir -p "$src" "$kos" "$results" "$commits"

# The sources the mutants are made from and the tests they run against.
commit=$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$TOP" status --porcelain -- rust tests 2>/dev/null)" ] || commit+=" with changes to rust/ or tests/"

# ID FILE TESTS of each mutant of this run; a selftest entry named RUNNER:NAME is NAME to T=.
declare -A file_of tests_of
ids=()
while read -r id file tests; do
	[ -z "${MUTANTS:-}" ] || [[ ",$MUTANTS," == *",$id,"* ]] || continue
	ids+=("$id")
	file_of[$id]=$file
	tests=$(tr , '\n' <<<"$tests" | sed 's/^[^:]*://' | paste -sd, -)
	bad=$(unknown_names test "$tests" | paste -sd' ' -)
	[ -z "$bad" ] || die "mutant $id names tests make test does not have: $bad"
	tests_of[$id]=$tests
done < <("$TOP/scripts/mutants.py" list)
[ ${#ids[@]} -gt 0 ] || die "MUTANTS=$MUTANTS names no mutant of tests/mutants.list"

# Build: the sources copied once (their objects with them: each build recompiles the crate
# alone, a few seconds), each mutant applied, built, its module kept, the file put back.
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
cp -a "$TOP/Kbuild" "$src/"
cp -a "$TOP/rust/." "$src/rust/"
log "building ${#ids[@]} mutant modules in $src"
built=()
for id in "${ids[@]}"; do
	f=${file_of[$id]}
	[ $((${#built[@]} % 20)) != 19 ] || log "built ${#built[@]} of ${#ids[@]}"
	rm -f "$results/$id" "$commits/$id" "$kos/$id.ko"
	"$TOP/scripts/mutants.py" apply "$id" "$src"
	if make -s -C "$KBUILD_OUT" M="$src" LLVM=1 ARCH=x86_64 -j"$(nproc)" modules >"$M/build.log" 2>&1; then
		cp "$src/rust_arraymap.ko" "$kos/$id.ko"
		built+=("$id")
	else
		echo "nobuild $(grep -m1 'error' "$M/build.log")" >"$results/$id"
		log "mutant $id does not build: $(cat "$results/$id")"
	fi
	# (cp without -a: a new time, so that the next build sees the file changed back.)
	cp "$TOP/$f" "$src/$f"
done

# (The VM's own verdict means nothing here: the guest writes a verdict per mutant, and a
# mutant's kernel reports are in its own run's points.)
# run_stage STAGE TESTS-OR-EMPTY ID...: each ID's module under the harness in the guest, a boot
# for as many as it takes (the guest asks for a fresh boot after a mutant that left the module
# loaded or tainted the kernel; a mutant that a dead or hung VM was running is killed by it).
# Without TESTS, each mutant's own list.
run_stage() {
	local stage=$1 tests=$2 pending id done_before boots=0 current
	shift 2
	while :; do
		pending=()
		for id in "$@"; do [ -e "$results/$id" ] || pending+=("$id"); done
		[ ${#pending[@]} -gt 0 ] || return 0
		boots=$((boots + 1))
		[ "$boots" -le $(($# + 2)) ] || die "stage $stage: no progress after $boots boots"
		: >"$M/queue"
		for id in "${pending[@]}"; do echo "$id ${tests:-${tests_of[$id]}}" >>"$M/queue"; done
		log "stage $stage, boot $boots: ${#pending[@]} mutants"
		done_before=$(ls "$results" | wc -l)
		VM_OUT=$M/vm VM_TIMEOUT=$((600 + 900 * ${#pending[@]})) \
			"$TOP/scripts/run-vm.sh" "$TOP/tests/mutants.sh" "$selftests" "$M/queue" "$kos" "$stage" \
			2> >(grep -v '^ktap-verdict:' >&2) |
			grep --line-buffered '^mutant ' || true
		cp "$M/vm/results/"* "$results/" 2>/dev/null || true
		current=$(cat "$M/vm/current" 2>/dev/null || true)
		if [ -n "$current" ] && [ ! -e "$results/$current" ]; then
			echo "killed $stage:kernel-died-or-hung" >"$results/$current"
			cp "$M/vm/console.log" "$M/console-$current.log"
			log "mutant $current: the VM died or hung under it (console: $M/console-$current.log)"
		fi
		[ "$(ls "$results" | wc -l)" -gt "$done_before" ] || die "stage $stage ran no mutant (console: $M/vm/console.log)"
	done
}

# survivors ID...: those of IDs whose last verdict is "survived", their result cleared for the
# next stage.
survivors() {
	local id
	for id in "$@"; do
		if [ "$(cut -d' ' -f1 "$results/$id")" = survived ]; then
			rm "$results/$id"
			echo "$id"
		fi
	done
}

long="historic_defects;load_unload_50;stress;fuzz"
quick=$( (suite_tests test; runnable_selftests) |
	grep -vxF -e fuzz -e stress -e load_unload_50 -e historic_defects | sort -u | paste -sd, -)
# stage NAME TESTS ID...: the stage, if MUTANT_STAGES has it, for the IDs; the survivors after it
# in $left.
ran=
stage() {
	local name=$1 tests=$2
	shift 2
	left=("$@")
	[[ "$stages" == *" $name "* ]] && [ $# -gt 0 ] || return 0
	ran+=${ran:+,}$name
	run_stage "$name" "$tests" "$@"
	mapfile -t left < <(survivors "$@")
}
stage listed "" "${built[@]}"
# (In chunks of 8: a mutant stops at the first chunk that kills it.)
quick=$(tr , '\n' <<<"$quick" | paste -d, - - - - - - - - | sed 's/,*$//' | paste -sd';' -)
stage suite "$quick" "${left[@]}"
stage long "$long" "${left[@]}"
# The last stage's survivors, with the stages they went through.
for id in "${left[@]}"; do [ -e "$results/$id" ] || echo "survived $ran" >"$results/$id"; done

for id in "${ids[@]}"; do echo "$commit" >"$commits/$id"; done
"$TOP/scripts/mutants.py" report "$results" "$commits"
