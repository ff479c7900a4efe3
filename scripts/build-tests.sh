#!/usr/bin/env bash
# Build the suite's test programs against the uapi headers of the kernel under
# test (7.3's struct bpf_map_info, flags...). Runs inside the root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

kdir=${KDIR:-$KBUILD_OUT}
[ -d "$kdir/usr/include/linux" ] || make -C "$kdir" -s headers
make -s -C "$TOP/tests" KHDR="$kdir/usr/include" VMLINUX="$kdir/vmlinux"
