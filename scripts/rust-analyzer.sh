#!/usr/bin/env bash
# Write rust-project.json beside the module's sources, so that rust-analyzer (in an editor)
# resolves the kernel crate, bindings and macros of the kernel the module is built against: the
# kernel's own `rust-analyzer` target with M=. Runs inside the root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${KDIR:-$KBUILD_OUT}
[ -e "$kdir/Module.symvers" ] || [ -e "$kdir/vmlinux" ] || die "no built kernel at $kdir"
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
# The script lists the module's crate only when its object exists: `make module` comes first.
make -C "$kdir" M="$TOP" LLVM=1 ARCH=x86_64 rust-analyzer
[ -s "$TOP/rust-project.json" ] || die "the kernel's rust-analyzer target wrote no $TOP/rust-project.json"
grep -q '"root_module": "[^"]*/rust/rust_arraymap_main.rs"' "$TOP/rust-project.json" ||
	die "rust-project.json has no crate for rust/rust_arraymap_main.rs (is the module built?)"
log "wrote $TOP/rust-project.json"
