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

log "building the kernel (full build ~8 min on 2 cores, incremental seconds)"
# make's own status: under pipefail, "|| true" would replace PIPESTATUS with true's (a failed
# build over an older bzImage went unnoticed, seen by make check-series); grep's 1 (nothing left
# to show) is no failure.
set +e
"${mk[@]}" -s bzImage modules headers 2>&1 | grep -vE '^\s*(CC|LD|AR|AS|GEN|HOSTCC|UPD|RUSTC|BINDGEN)'
status=("${PIPESTATUS[@]}")
set -e
[ "${status[0]}" = 0 ] || die "kernel build failed"
[ -e "$out/arch/x86/boot/bzImage" ] || die "no bzImage"
echo "$out"
