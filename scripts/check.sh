#!/usr/bin/env bash
# make check: rustfmt with the kernel's configuration, builds with CLIPPY=1 that must not warn
# (as a module and built in), the docs (scripts/check-docs.py: every .rst renders without a
# warning, design.rst's unsafe counts are the sources'), and the crate's files importing one
# another without a cycle (scripts/check-imports.py), and every mutant of tests/mutants.list
# still applying to rust/ (scripts/mutants.py check). Runs inside the root.
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
# The same crate as the kernel builds it in (CONFIG_BPF_ARRAY_MAPS_RUST: no --cfg MODULE), for
# the code paths of that build: its crate root compiled against the test kernel, from a copy,
# without the flags kbuild gives modules (an object only: it is no module to link).
log "clippy, built in"
builtin=$CACHE/check-builtin
mkdir -p "$builtin/rust"
cp -a "$TOP/Kbuild" "$builtin/"
cp -a "$TOP/rust/." "$builtin/rust/"
touch "$builtin/rust/rust_arraymap_main.rs"
warnings=$(make -C "$KBUILD_OUT" M="$builtin" LLVM=1 ARCH=x86_64 CLIPPY=1 KBUILD_RUSTFLAGS_MODULE= \
	rust/rust_arraymap_main.o 2>&1 | tee /dev/stderr |
	grep -cE '^(warning|error)|: (warning|error): ' || true)
[ "$warnings" = 0 ] || die "built in: $warnings warnings (clippy, rustc)"
log "the docs"
# (The root's Debian python3: the one of PATH is virtme-ng's venv, without docutils.)
/usr/bin/python3 "$TOP/scripts/check-docs.py"
log "the imports"
/usr/bin/python3 "$TOP/scripts/check-imports.py"
log "the mutants (tests/mutants.list still matches rust/)"
/usr/bin/python3 "$TOP/scripts/mutants.py" check
log "rustfmt, clippy and both builds clean, the docs render and match the code, no import cycle, the mutants apply"
