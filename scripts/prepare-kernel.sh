#!/usr/bin/env bash
# Keep the kernel source as a git repository at the pristine Debian version
# and apply patches/ with `git am`, then copy the Rust sources into it
# (scripts/sync-rust-tree.sh). Only files that change are touched, so the
# kernel build that follows stays incremental.
# Runs inside the toolchain root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src="$CACHE/linux-src"
tarball=/usr/src/linux-source-7.3.tar.xz
have=$(dpkg-query -W -f '${Version}' linux-source-7.3)
if [ "$have" != "$KVER_PKG" ]; then
	log "NOTE: linux-source-7.3 $KVER_PKG is no longer in the archive; using $have"
fi

if [ ! -e "$src/.git/pristine-$have" ]; then
	log "extracting linux-source-7.3 $have (~1 min)"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp"
	tar -xf "$tarball" -C "$src.tmp" --strip-components=1
	git -C "$src.tmp" init -q
	git -C "$src.tmp" config user.name rust_arraymap
	git -C "$src.tmp" config user.email rust_arraymap@localhost
	# No automatic gc: after the first commit of ~90k files it would run in the background
	# and hold HEAD.lock while `git am` below needs it (seen on a fresh cache).
	git -C "$src.tmp" config gc.auto 0
	git -C "$src.tmp" config maintenance.auto false
	git -C "$src.tmp" add -A -f .
	git -C "$src.tmp" commit -q -m "linux-source-7.3 $have"
	git -C "$src.tmp" tag pristine
	touch "$src.tmp/.git/pristine-$have"
	mv "$src.tmp" "$src"
fi

series=$(find "$TOP/patches" -name "*.patch" -print0 | sort -z | xargs -0r cat | sha256sum | cut -c1-12)
if [ "$(cat "$src/.git/series" 2>/dev/null)" != "$series" ]; then
	log "applying the patch series ($series)"
	git -C "$src" am --abort >/dev/null 2>&1 || true
	# Files whose content the new series leaves as the old one had it keep their
	# timestamps, so that make rebuilds only what really changed (bpf.h is
	# included nearly everywhere).
	declare -A blob mtime
	while read -r f; do
		[ -e "$src/$f" ] || continue
		blob[$f]=$(git -C "$src" hash-object "$f")
		mtime[$f]=$(stat -c %.9Y "$src/$f")
	done < <(git -C "$src" diff --name-only pristine HEAD)
	git -C "$src" reset -q --hard pristine
	if compgen -G "$TOP/patches/*.patch" >/dev/null; then
		# 0000-cover-letter.patch has no diff: dropped.
		git -C "$src" am -q --empty=drop "$TOP"/patches/*.patch
	fi
	for f in "${!blob[@]}"; do
		[ -e "$src/$f" ] && [ "$(git -C "$src" hash-object "$f")" = "${blob[$f]}" ] &&
			touch -d "@${mtime[$f]}" "$src/$f"
	done
	echo "$series" >"$src/.git/series"
fi
# The Rust sources of CONFIG_BPF_ARRAY_MAPS_RUST (the Rust-only kernel), from rust/.
"$TOP/scripts/sync-rust-tree.sh" "$src"
echo "$src"
