#!/usr/bin/env bash
# Build the suite's test programs against the uapi headers of the kernel under
# test (7.3's struct bpf_map_info, flags...). Runs inside the root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${KDIR:-$KBUILD_OUT}
[ -d "$kdir/usr/include/linux" ] || make -C "$kdir" -s headers
# libbpf from the same source tree as the kernel (7.3's: `.percpu` global data, BPF_F_CPU).
libbpf=$ARTIFACTS/libbpf
src=$CACHE/linux-src
for d in "$kdir/source" "$kdir"; do
	[ -n "${KDIR:-}" ] && [ -d "$d/tools/lib/bpf" ] && { src=$d; break; }
done
mkdir -p "$libbpf"
make -s -C "$src/tools/lib/bpf" OUTPUT="$libbpf/" DESTDIR="$libbpf/root" prefix=/usr \
	-j"$(nproc)" "$libbpf/libbpf.a" install_headers
make -s -C "$TOP/tests" BUILD="$TESTS_OUT" KHDR="$kdir/usr/include" VMLINUX="$kdir/vmlinux" \
	LIBBPF="$libbpf"
# The suite's test-only kernel module (tests/kmod), for every variant: built from a copy beside
# the variant's probes, as build-module.sh does for another variant's module.
mkdir -p "$TESTS_OUT/kmod"
cp -a "$TOP/tests/kmod/." "$TESTS_OUT/kmod/"
make -C "$kdir" M="$TESTS_OUT/kmod" LLVM=1 ARCH=x86_64 -j"$(nproc)" -s modules
# The harness check's test-only module (tests/harness/harness_fault.c); the check runs on the
# test kernel only.
[ -n "$VARIANT" ] || make -C "$kdir" M="$TOP/tests/harness" LLVM=1 ARCH=x86_64 -j"$(nproc)" -s modules
