#!/usr/bin/env bash
# Build the kernel's BPF selftests that `make test` runs (test_progs, test_maps_array, and
# bpf_testmod.ko), and the other runners `make full-selftests` runs whole (test_maps,
# test_verifier), from the same source tree as the kernel, against its build. Runs inside the
# root; the output goes next to the kernel build ($ARTIFACTS/selftests-bpf, scripts/lib.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${KDIR:-$KBUILD_OUT}
src=$CACHE/linux-src
sel=$src/tools/testing/selftests/bpf
out=$ARTIFACTS/selftests-bpf
mkdir -p "$out"
# The test modules (bpf_testmod.ko...) are built inside the source tree, which both kernel
# variants share (scripts/lib.sh), and only copied to $out: built for the other kernel, they
# would be copied as they are (and refused by this one's insmod). Rebuild them on a change.
stamp=$sel/test_kmods/.rust_arraymap-kdir
if [ "$(cat "$stamp" 2>/dev/null)" != "$kdir" ]; then
	rm -f "$sel"/test_kmods/*.ko "$sel"/test_kmods/*.mod.o
	echo "$kdir" >"$stamp"
fi
log "building the BPF selftests (test_progs, test_maps_array, test_maps, test_verifier; ~2 min the first time)"
# LLVM=1: the host programs and bpf_testmod.ko with the kernel's clang; clang-21 for the BPF
# objects (clang 19 crashes on libarena). BPF_STRICT_BUILD=0: BPF objects that need kfuncs or
# options this kernel does not have are skipped instead of failing the build.
make -s -C "$sel" -f "$TOP/tests/selftests/extra.mk" -j"$(nproc)" \
	RUST_ARRAYMAP_SELFTESTS="$TOP/tests/selftests" \
	OUTPUT="$out" O="$kdir" VMLINUX_BTF="$kdir/vmlinux" \
	LLVM=1 CLANG=clang-21 LLC=llc-21 LLVM_STRIP=llvm-strip-21 LLVM_CONFIG=llvm-config-21 \
	BPF_STRICT_BUILD=0 \
	"$out/test_progs" "$out/test_maps_array" "$out/test_maps" "$out/test_verifier" \
	"$out/bpf_testmod.ko" >"$out/build.log" 2>&1 ||
	true
# Permissive: what could not be built (options or kfuncs this kernel lacks) is left out.
log "selftests: $(grep -c 'fatal error' "$out/build.log" || true) test sources left out" \
	"(their BPF objects need what this kernel lacks; see $out/build.log)"
for f in test_progs test_maps_array test_maps test_verifier; do
	[ -x "$out/$f" ] || die "selftests: $f was not built"
done
log "selftests built in $out"
