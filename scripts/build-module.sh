#!/usr/bin/env bash
# Build rust_arraymap.ko against KDIR (default: the patched kernel of
# scripts/build-kernel.sh). Runs inside the root. Extra arguments go to make
# (CLIPPY=1, for instance).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${KDIR:-$KBUILD_OUT}
[ -e "$kdir/Module.symvers" ] || [ -e "$kdir/vmlinux" ] || die "no built kernel at $kdir"
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
make -C "$kdir" M="$TOP" LLVM=1 ARCH=x86_64 -j"$(nproc)" "$@" modules
