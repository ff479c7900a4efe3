#!/usr/bin/env bash
# Style checks of the module: rustfmt with the kernel's configuration, and a
# build with CLIPPY=1 that must not warn. Runs inside the root.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

src="$CACHE/linux-src"
log "rustfmt --check"
rustfmt --check --edition 2021 --config-path "$src/.rustfmt.toml" "$TOP/rust/rust_arraymap_main.rs"
log "clippy"
touch "$TOP/rust/rust_arraymap_main.rs"
warnings=$("$TOP/scripts/build-module.sh" CLIPPY=1 2>&1 | tee /dev/stderr | grep -cE '^(warning|error)' || true)
[ "$warnings" = 0 ] || die "clippy: $warnings warnings"
log "rustfmt and clippy clean"
