#!/usr/bin/env bash
# Configure (tinyconfig + .config.fragment, + .config-debug.fragment for VARIANT=debug) and
# build the patched kernel. The build directory is keyed by the fragments: the same ones reuse it
# and make rebuilds only what the patch series changed. Runs inside the root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

# KERNEL_SRC: another source tree (make check-series: a worktree at one prefix of the series).
src=${KERNEL_SRC:-$("$TOP/scripts/prepare-kernel.sh")}
out=$KBUILD_OUT
# bindgen must use the libclang of the clang that builds the kernel.
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
mk=(make -C "$src" O="$out" LLVM=1 ARCH=x86_64 -j"$(nproc)")

if [ ! -e "$out/.config-done" ] && [ -n "$KBUILD_BASE" ] && [ -e "$KBUILD_BASE/arch/x86/boot/bzImage" ]; then
	# A copy of the build of the config this one differs from by little (scripts/lib.sh): the
	# configuration below then changes a few options, and fixdep rebuilds what they touch.
	log "starting from a copy of $KBUILD_BASE (~1 min)"
	rm -rf "$out" "$out.tmp"
	cp -a "$KBUILD_BASE" "$out.tmp"
	rm -f "$out.tmp/.config-done"
	# The host tools (objtool, resolve_btfids) and the Rust crates record their build directory
	# by its absolute path: moved to this one, their commands are what make would run here, and
	# nothing is rebuilt for the move. (Every object depends on objtool: a relinked objtool alone
	# rebuilds the whole kernel.) The files keep their times.
	grep -rlIZ -F "$KBUILD_BASE" "$out.tmp" | while IFS= read -r -d '' f; do
		sed -i "s|$KBUILD_BASE|$out|g" "$f"
		touch -r "$KBUILD_BASE/${f#"$out.tmp"/}" "$f"
	done
	mv "$out.tmp" "$out"
fi
if [ ! -e "$out/.config-done" ]; then
	log "configuring the kernel in $out"
	mkdir -p "$out"
	"${mk[@]}" -s tinyconfig
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${FRAGMENTS[@]}" >/dev/null
	"${mk[@]}" -s olddefconfig
	# Kconfig drops options it cannot satisfy without a word: refuse that.
	missing=0
	while read -r line; do
		case "$line" in
		CONFIG_*=*) grep -qxF "$line" "$out/.config" || { log "config lost: $line"; missing=1; } ;;
		"# CONFIG_"*" is not set") opt=${line#\# }; opt=${opt%% *}
			grep -q "^$opt=" "$out/.config" && { log "config lost: $line"; missing=1; } ;;
		esac
	done < <(cat "${FRAGMENTS[@]}")
	[ "$missing" = 0 ] || die "options of ${FRAGMENTS[*]##*/} did not survive olddefconfig"
	touch "$out/.config-done"
fi

# The whole output goes to build.log; the screen gets a count of what was built every 30 s, the
# compiler's warnings, and on a failure the log's tail.
blog=$out/build.log
log "building the kernel (a full build ~9 min on 2 cores, incremental seconds; log: $blog)"
set +e
"${mk[@]}" bzImage modules headers >"$blog" 2>&1 &
pid=$!
start=$SECONDS next=$((SECONDS + 30))
while kill -0 "$pid" 2>/dev/null; do
	sleep 1
	[ "$SECONDS" -ge "$next" ] || continue
	next=$((next + 30))
	log "... $((SECONDS - start)) s: $(grep -cE '^  [A-Z]+ ' "$blog") steps built"
done
wait "$pid"
status=$?
set -e
grep -E ': (warning|error): |^(warning|error)' "$blog" >&2 || true
if [ "$status" != 0 ]; then
	tail -n 40 "$blog" >&2
	die "kernel build failed (the whole log: $blog)"
fi
[ -e "$out/arch/x86/boot/bzImage" ] || die "no bzImage"
echo "$out"
