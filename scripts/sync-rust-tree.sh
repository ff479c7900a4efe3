#!/usr/bin/env bash
# The kernel tree's copy of the Rust sources, kernel/bpf/rust_arraymap/ (built in place of
# arraymap.c with CONFIG_BPF_ARRAY_MAPS_RUST, patch 13): made from this project's Kbuild and
# rust/, never edited in the tree. A file whose content did not change is left alone, so that
# make rebuilds nothing for it.
# usage: sync-rust-tree.sh KERNEL-SRC   (runs inside the root; prints nothing)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ -d "$1/kernel/bpf" ] || die "sync-rust-tree.sh: no kernel source at $1"
dst=$1/kernel/bpf/rust_arraymap
mkdir -p "$dst"
# Sources only: an in-tree build of the module leaves its objects beside them.
rsync -rc --delete --delete-excluded --prune-empty-dirs \
	--include=/Kbuild --include=/rust/ --include='/rust/**/' \
	--include='/rust/**.rs' --include='/rust/**.c' --include='/rust/**.h' --exclude='*' \
	"$TOP/" "$dst/"
