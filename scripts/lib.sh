# shellcheck shell=bash
# Shared settings for the scripts: where the caches live and how they are keyed.
# Sourced, never run.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${RUST_ARRAYMAP_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/cache}/.cache}/rust_arraymap}
mkdir -p "$CACHE"

# The kernel we build against: Debian's linux-source-7.3 from trixie-backports.
KVER_PKG=${KVER_PKG:-7.3.4-1~bpo13+1}

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# key FILE... -> short content hash of the files (the cache key of what they produce).
key() { cat "$@" | sha256sum | cut -c1-12; }

ROOT_KEY=$(key "$TOP/scripts/make-root.sh" "$TOP/scripts/root-packages.txt")
ROOT="$CACHE/root-$ROOT_KEY"

# The kernel variant: "" (the test kernel), "debug" (the sanitizer kernel of make test-debug,
# .config-debug.fragment on top), "rust" (the Rust-only kernel of make rust-only: the test
# kernel's config with the array maps built from rust/, .config-rust.fragment on top), "series"
# (the test kernel's config, built one patch at a time from a worktree of the source by make
# check-series) or "series-rust" (the whole series of that worktree with the Rust choice). Its
# config fragments, in the order they are merged, and what its command line adds
# (scripts/run-vm.sh).
#
# no5lvl: with 5-level paging (QEMU's TCG CPU has LA57), 7.3's KASAN may report a
# wild-memory-access on an interrupt that comes while identify_cpu() has cleared the boot CPU's
# capabilities: KASAN_SHADOW_START then assumes 4 levels for a moment (it failed one CI run;
# https://lkml.iu.edu/2606.1/07330.html). 4 levels leave nothing to disagree about.
VARIANT=${VARIANT:-}
case "$VARIANT" in
"")
	FRAGMENTS=("$TOP/.config.fragment")
	BOOT_ARGS=()
	;;
debug)
	FRAGMENTS=("$TOP/.config.fragment" "$TOP/.config-debug.fragment")
	BOOT_ARGS=(no5lvl)
	;;
rust | series-rust)
	FRAGMENTS=("$TOP/.config.fragment" "$TOP/.config-rust.fragment")
	BOOT_ARGS=()
	;;
series)
	FRAGMENTS=("$TOP/.config.fragment")
	BOOT_ARGS=()
	;;
*) die "unknown VARIANT=$VARIANT (known: debug, rust, series, series-rust)" ;;
esac

# The kernel build directory, keyed by the config fragments (the patch series
# is tracked by make's own dependencies: git am touches only what it changes).
# The series check's kernel has its own name: it builds the same config from another source tree.
KBUILD_OUT="$CACHE/kbuild-$(key "${FRAGMENTS[@]}")"
case "$VARIANT" in series*) KBUILD_OUT="$CACHE/kbuild-series-$(key "${FRAGMENTS[@]}")" ;; esac
# A variant that differs from another one's config by a choice that few files see starts as a
# copy of that one's build (scripts/build-kernel.sh): kbuild's fixdep then rebuilds only what
# the choice changes. The Rust-only kernel starts from the test kernel, the series check's from
# the series check's test kernel.
KBUILD_BASE=
case "$VARIANT" in
rust) KBUILD_BASE="$CACHE/kbuild-$(key "$TOP/.config.fragment")" ;;
series-rust) KBUILD_BASE="$CACHE/kbuild-series-$(key "$TOP/.config.fragment")" ;;
esac
# What is built for the kernel besides the module (the tree's libbpf, the BPF selftests): beside
# the cached kernel build, or, for a kernel tree of the user's (KDIR), in the cache too, never in
# that tree.
ARTIFACTS=$KBUILD_OUT
if [ -n "${KDIR:-}" ]; then
	ARTIFACTS="$CACHE/kdir-$(printf '%s' "$(realpath -m "$KDIR")" | sha256sum | cut -c1-12)"
fi
# Where the module and the suite's programs are built for this kernel: in the tree for the
# test kernel (./rust_arraymap.ko, tests/build), beside the kernel build for another variant,
# so that building one never replaces the other's.
if [ -z "$VARIANT" ]; then
	MODULE_OUT=$TOP
	TESTS_OUT=$TOP/tests/build
else
	MODULE_OUT=$KBUILD_OUT/module
	TESTS_OUT=$KBUILD_OUT/tests
fi
