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

# The kernel build directory, keyed by the config fragment (the patch series
# is tracked by make's own dependencies: git am touches only what it changes).
KBUILD_OUT="$CACHE/kbuild-$(key "$TOP/.config.fragment")"
