# SPDX-License-Identifier: GPL-2.0
#
# rust_arraymap: the BPF array map family of Linux 7.3 in Rust (a module, or built into the kernel).
# Every step runs inside a Debian 13 root in $RUST_ARRAYMAP_CACHE (~/.cache/rust_arraymap), which
# the first command that needs it builds. `make help` prints this.
#
# Targets:
#   run             the demo: builds everything, boots the patched kernel, loads rust_arraymap.ko,
#                   bpftool on the six map types
#   test            the suite and the array-family BPF selftests, each on the C maps then on the
#                   module, the second VM shape, poke_race and the check of the harness; last
#                   line N passed, N failed
#   test-shape      only the second VM shape: the per-CPU tests with CPUs possible but offline
#   rust-only       the Rust-only kernel (the maps built in place of arraymap.c), booted for the
#                   tests that need no C twin and the selftest entries
#   test-debug      the suite on the sanitizer kernel (KASAN, UBSAN, kmemleak, lockdep, fault
#                   injection); SHORT=1: CI's short pass
#   full-selftests  test_verifier, test_maps and all of test_progs on the C and the Rust-only
#                   kernel, compared into Documentation/selftests-full.rst (hours; not CI)
#   full-selftests-rerun  after it, each unit whose verdicts differed, alone, 3 times per kernel
#   list-tests      the names T= takes, with what each covers
#   fuzz            the differential fuzzer alone (SEED=n, OPS=n; VARIANT=debug on the sanitizer kernel)
#   poke-race       a PROG_ARRAY slot re-patched under a running direct tail call (POKE_SECONDS=n)
#   check-harness   only the check of the harness: injected faults must turn it red
#   bench           C against Rust, wall clock and instruction counts, into Documentation/
#   check           rustfmt, clippy (as a module and built in), the docs
#   check-series    every prefix of patches/ built, both choices of the last booted
#   mutants         the mutation campaign on rust/ (tests/mutants.list), its report into
#                   Documentation/testing.rst (an hour or more; not CI)
#   module, selftests  just the module, just the BPF selftests
#   rust-analyzer   rust-project.json for an editor
#   clean           the module's build products (the caches stay)
#
# Variables (on the command line):
#   T=name,...      test, rust-only, test-debug: only these suite tests and selftest entries
#   SHORT=1         test-debug: the short pass
#   KDIR=path       module, test, check: your own patched, built kernel tree instead of the cache's
#   VM_CPUS, VM_MEM, VM_TIMEOUT, VM_QEMU_OPTS, VM_TCG_THREAD  the VM's CPUs (2), memory (2G),
#                   time limit in s, extra QEMU options, TCG threading (single|multi)
#   FUZZ_OPS, FUZZ_SEED, STRESS_SECONDS, POKE_SECONDS  sizes of the fuzzer, stress and poke_race
#   BENCH_MODES, BENCH_ROUNDS, BENCH_ICOUNT_RUNS  make bench's modes and rounds
#   MUTANTS=id,..., MUTANT_STAGES  make mutants: only these mutants (the other results kept),
#                   only these stages (listed suite long)
#   FULL_SIDES, FULL_PROGS_SHARDS, FULL_RESUME, FULL_RERUN_ROUNDS  full-selftests: the kernels
#                   (c rust), test_progs' shards by test number, 1 to keep the boots an earlier
#                   run finished; full-selftests-rerun: rounds per unit (3)
#   RUST_ARRAYMAP_CACHE  where the caches live

SHELL := /bin/bash
IN_ROOT := scripts/in-root.sh

# What shortens a run is given on the command line, never taken from the environment, where it
# would shrink a green run unseen (FUZZ_OPS=10 left exported in a shell, or by a CI system).
SHORTENING := T SHORT FUZZ_OPS STRESS_SECONDS POKE_SECONDS
shortening = $(v) is set in the environment; it shortens the run: give it on the command line if you mean it (make ... $(v)=$($(v)))
# (At the top level only: this Makefile exports SHORT to the makes it calls.)
ifeq ($(MAKELEVEL),0)
$(foreach v,$(SHORTENING),$(if $(filter environment%,$(origin $(v))),$(error $(shortening))))
endif

# With KDIR set, the module is built against that (already built and patched) kernel tree and
# the cached kernel is not built.
export KDIR
# The kernel variant (scripts/lib.sh): empty for the test kernel, debug for make test-debug.
export VARIANT SHORT

.PHONY: all help list-tests check-args root kernel module tests selftests run test test-debug rust-only \
	rust-only-test full-selftests full-selftests-rerun fuzz test-shape poke-race check-harness bench check check-series mutants \
	rust-analyzer clean

all: module

help:
	@sed -n '3,/^$$/{s/^# \{0,1\}//;p}' $(firstword $(MAKEFILE_LIST))

list-tests:
	@scripts/list-tests.sh

# T= and KDIR checked on the host, before anything is built.
check-args:
	@scripts/list-tests.sh --check '$(VARIANT)' '$(T)'
ifneq ($(KDIR),)
	@[ -e '$(KDIR)/Makefile' ] && { [ -e '$(KDIR)/vmlinux' ] || [ -e '$(KDIR)/Module.symvers' ]; } || \
		{ echo "error: KDIR=$(KDIR) is no built kernel tree (no Makefile, or neither vmlinux nor Module.symvers)" >&2; exit 2; }
endif

root: check-args
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

full-selftests-rerun:
	@$(IN_ROOT) scripts/full-selftests-rerun.sh

# (make test's run, without a module: the Rust-only kernel has the maps built in.)
rust-only-test: tests selftests
	@T='$(T)' $(IN_ROOT) scripts/run-tests.sh

# The differential fuzzer alone (tests/mapfuzz.c), no selftests built: SEED and OPS choose the
# run (default: a random seed, 1,000,000 ops).
fuzz: module tests
	@T=fuzz FUZZ_SEED='$(SEED)' FUZZ_OPS='$(OPS)' $(IN_ROOT) scripts/run-tests.sh

test-shape: module tests
	@$(IN_ROOT) scripts/run-shape.sh

poke-race: module tests
	@VM_TCG_THREAD='$(or $(VM_TCG_THREAD),single)' $(IN_ROOT) scripts/run-vm.sh "$(CURDIR)/tests/pokerace.sh" $(POKE_SECONDS)

check-harness: module tests
	@$(IN_ROOT) scripts/check-harness.sh

check-series: root
	@$(IN_ROOT) scripts/check-series.sh

mutants: module tests selftests
	@MUTANTS='$(MUTANTS)' MUTANT_STAGES='$(MUTANT_STAGES)' $(IN_ROOT) scripts/mutants.sh

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
