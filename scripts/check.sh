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
# Clippy's and rustc's lines start with "warning"/"error"; objtool's and modpost's name a file
# first ("rust/rust_arraymap_main.o: warning: objtool: ... falls through to next function").
warnings=$("$TOP/scripts/build-module.sh" CLIPPY=1 2>&1 | tee /dev/stderr |
	grep -cE '^(warning|error)|: (warning|error): ' || true)
[ "$warnings" = 0 ] || die "build: $warnings warnings (clippy, rustc, objtool, modpost)"
log "rustfmt, clippy and the build clean"
