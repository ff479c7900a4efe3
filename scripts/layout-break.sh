#!/usr/bin/env bash
# Shows that rust/bpf/layout.rs fails the build when the C layout moves under it: in copies of the
# kernel source and of the test kernel's build, mounted over the real ones in a private mount
# namespace (nothing of the cache changes), `struct bpf_map map` is moved from the start of
# `struct bpf_array` to after `index_mask` (include/linux/bpf.h), the bindings and the kernel
# crate are regenerated, and the module is built against them: the build must fail with the
# assertion of `map` first. Prints the compiler's error; exit 0 when the build failed that way.
# Runs inside the root, after the test kernel is built (several minutes: the kernel crate).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src=$CACHE/linux-src
[ -e "$KBUILD_OUT/vmlinux" ] || die "no test kernel built at $KBUILD_OUT"
work=$CACHE/layout-break
rm -rf "$work"
mkdir -p "$work"
log "copying the source and the build (~1 min)"
cp -a "$src" "$work/src"
cp -a "$KBUILD_OUT" "$work/build"
mkdir -p "$work/module/rust"
cp -a "$TOP/Kbuild" "$work/module/"
cp -a "$TOP/rust/." "$work/module/rust/"
find "$work/module" \( -name '*.o' -o -name '.*.cmd' -o -name '*.rmeta' \) -delete

# The move: `map` after `index_mask`.
python3 - "$work/src/include/linux/bpf.h" <<'EOF'
import sys
p = sys.argv[1]
s = open(p).read()
old = "struct bpf_array {\n\tstruct bpf_map map;\n\tu32 elem_size;\n\tu32 index_mask;\n"
new = "struct bpf_array {\n\tu32 elem_size;\n\tu32 index_mask;\n\tstruct bpf_map map;\n"
if old not in s:
    sys.exit("struct bpf_array is not as expected in " + p)
open(p, "w").write(s.replace(old, new))
EOF

export LIBCLANG_PATH=/usr/lib/llvm-19/lib
set +e
unshare --mount --propagation unchanged -- bash -euo pipefail -c '
	mount --bind "$1/src" "$2"
	mount --bind "$1/build" "$3"
	make -C "$2" O="$3" LLVM=1 ARCH=x86_64 -j"$(nproc)" -s rust/ >"$1/rust.log" 2>&1
	make -C "$3" M="$1/module" LLVM=1 ARCH=x86_64 -j"$(nproc)" modules >"$1/module.log" 2>&1
' layout-break "$work" "$src" "$KBUILD_OUT"
rc=$?
set -e
grep -B2 -A8 'assertion failed' "$work/module.log" || tail -n 30 "$work/rust.log" "$work/module.log"
# The copies go; the logs stay.
rm -rf "${work:?}/src" "$work/build" "$work/module"
if [ "$rc" != 0 ] && grep -q 'offset_of!(bindings::bpf_array, map) == 0' "$work/module.log"; then
	log "the module's build failed on the layout assertion, as it must (logs in $work)"
	exit 0
fi
die "the module built, or failed otherwise, with map moved (logs in $work)"
