#!/usr/bin/env bash
# Build rust_arraymap.ko against KDIR (default: the patched kernel of
# scripts/build-kernel.sh), in $MODULE_OUT (scripts/lib.sh). Runs inside the root. Extra
# arguments go to make (CLIPPY=1, for instance).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${KDIR:-$KBUILD_OUT}
[ -e "$kdir/Module.symvers" ] || [ -e "$kdir/vmlinux" ] || die "no built kernel at $kdir"
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
# Another variant's module is built from a copy of the sources beside its kernel (kbuild's MO=
# refuses a source tree with the test kernel's build products in it); cp -a keeps the files'
# times, so make rebuilds only what changed (the objects built beside the copies stay).
src=$TOP
if [ "$MODULE_OUT" != "$TOP" ]; then
	src=$MODULE_OUT
	mkdir -p "$src/rust"
	cp -a "$TOP/Kbuild" "$src/"
	cp -a "$TOP/rust/." "$src/rust/"
fi
make -C "$kdir" M="$src" LLVM=1 ARCH=x86_64 -j"$(nproc)" "$@" modules
