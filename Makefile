# SPDX-License-Identifier: GPL-2.0
#
# rust_arraymap: the BPF array map family in Rust, as an out-of-tree module.
#
#   make run     build everything (toolchain root, patched kernel, module) and show the demo in QEMU
#   make test    the same set-up, then the test suite and the kernel's BPF selftests (tests/selftests.list)
#                in QEMU, each on the C maps and on the module, then poke_race (make poke-race) and
#                the check of the harness itself; last line "N passed, N failed, N skipped"
#   make test T=name,...  only those suite tests and selftest entries (no harness check)
#   make check-harness  only the check of the harness: injected faults must turn it red
#   make test-debug  the suite and the selftests on the sanitizer kernel (.config-debug.fragment:
#                KASAN, UBSAN, kmemleak, debug objects, lockdep) with the fault-injection table;
#                its own kernel, module and test builds. T=name,... as for make test; SHORT=1
#                runs only the suite tests of SHORT_TESTS (tests/run-suite.sh) and reports the
#                other suite tests and the selftests as skipped (CI's pass)
#   make rust-only  the Rust-only kernel: the test kernel's config with the array maps built from
#                rust/ in place of kernel/bpf/arraymap.c (.config-rust.fragment, patch 13), booted
#                for the suite's tests that need no C twin (the six C ops tables absent, bpf_preload,
#                the probes) and the selftest entries of tests/selftests.list, once each, on it.
#                T=name,... as for make test (CI's pass)
#   make full-selftests  the kernel's BPF selftest runners whole (test_verifier, test_maps, every
#                test_progs test) on the C kernel and on the Rust-only kernel, verdicts compared
#                subtest by subtest into Documentation/selftests-full.rst (hours, not CI)
#   make fuzz SEED=n OPS=n  the differential fuzzer alone (tests/mapfuzz.c), C maps against their
#                Rust twins; VARIANT=debug runs it on the sanitizer kernel
#   make poke-race POKE_SECONDS=n  a PROG_ARRAY slot re-patched while a program tail-calls through it
#                (tests/pokerace.c), on the C maps then on the module's, in single-threaded TCG (also
#                make test's poke_race part); VM_TCG_THREAD=multi boots multi-threaded TCG, which
#                runs the patched text wrongly (Documentation/testing.rst)
#   make check-series  the patch series is bisect-safe: patches/ applied one at a time to a worktree
#                of the pristine source, each prefix built incrementally (test kernel's config,
#                its own build directory); the last one boots for the suite's registration tests
#   make selftests  just build the BPF selftests
#   make module  just the module (KDIR=/path/to/your/patched/kernel/build to use your own tree)
#   make bench   C vs Rust, alternating in one boot per mode (wall clock, then QEMU's instruction
#                counting; BENCH_MODES=wall or icount for one); table + chart in Documentation/.
#                Every timed operation checked, every sample's map shown served by its side
#   make check   rustfmt --check and the module built with CLIPPY=1
#   make rust-analyzer  rust-project.json for an editor's rust-analyzer (the kernel's own target, M=)
#   make clean   remove the module's build products (the caches stay, see README.md)
#
# Every step runs inside a Debian 13 root kept in $(RUST_ARRAYMAP_CACHE), by default
# ~/.cache/rust_arraymap, keyed by its inputs.

SHELL := /bin/bash
IN_ROOT := scripts/in-root.sh

# With KDIR set, the module is built against that (already built and patched) kernel tree and
# the cached kernel is not built.
export KDIR
# The kernel variant (scripts/lib.sh): empty for the test kernel, debug for make test-debug.
export VARIANT SHORT

.PHONY: all root kernel module tests selftests run test test-debug rust-only rust-only-test full-selftests \
	fuzz poke-race \
	check-harness bench check check-series \
	rust-analyzer clean

all: module

root:
	@scripts/make-root.sh

kernel: root
ifeq ($(KDIR),)
	@$(IN_ROOT) scripts/build-kernel.sh >/dev/null
endif

module: kernel
	@$(IN_ROOT) scripts/build-module.sh $(if $(CLIPPY),CLIPPY=1)

tests: kernel
	@$(IN_ROOT) scripts/build-tests.sh

run: module tests
	@$(IN_ROOT) scripts/run-vm.sh $(CURDIR)/tests/demo.sh

selftests: kernel
	@$(IN_ROOT) scripts/build-selftests.sh

# (SHORT=1 runs no selftest: none is built.)
test: module tests $(if $(SHORT),,selftests)
	@T='$(T)' $(IN_ROOT) scripts/run-tests.sh

test-debug:
	@$(MAKE) --no-print-directory VARIANT=debug test

rust-only:
	@$(MAKE) --no-print-directory VARIANT=rust rust-only-test

full-selftests:
	@$(MAKE) --no-print-directory selftests
	@$(MAKE) --no-print-directory VARIANT=rust selftests
	@$(IN_ROOT) scripts/full-selftests.sh

# (make test's run, without a module: the Rust-only kernel has the maps built in.)
rust-only-test: tests selftests
	@T='$(T)' $(IN_ROOT) scripts/run-tests.sh

# The differential fuzzer alone (tests/mapfuzz.c), no selftests built: SEED and OPS choose the
# run (default: a random seed, 1,000,000 ops).
fuzz: module tests
	@T=fuzz FUZZ_SEED='$(SEED)' FUZZ_OPS='$(OPS)' $(IN_ROOT) scripts/run-tests.sh

poke-race: module tests
	@VM_TCG_THREAD='$(or $(VM_TCG_THREAD),single)' $(IN_ROOT) scripts/run-vm.sh "$(CURDIR)/tests/pokerace.sh" $(POKE_SECONDS)

check-harness: module tests
	@$(IN_ROOT) scripts/check-harness.sh

check-series: root
	@$(IN_ROOT) scripts/check-series.sh

bench: module tests
	@$(IN_ROOT) scripts/bench.sh

rust-analyzer: module
	@$(IN_ROOT) scripts/rust-analyzer.sh

check: kernel
	@$(IN_ROOT) scripts/check.sh

clean:
	rm -rf tests/build
	find . \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' -o -name '.*.cmd' \
		-o -name '*.order' -o -name '*.symvers' -o -name '.*.d' \) -delete
