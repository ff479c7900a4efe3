// SPDX-License-Identifier: GPL-2.0

//! Per-CPU memory, as much of it as a per-CPU array needs.
//!
//! Linux 7.3 has no Rust per-CPU API. This is the small part of `include/linux/percpu-defs.h`
//! and `include/linux/cpumask.h` that `kernel/bpf/arraymap.c` uses, with the kernel's own
//! definitions underneath (through `inline_helpers.c`):
//!
//! - [`PerCpuPtr`] is a `void __percpu *` from the kernel's per-CPU allocator. It is not an
//!   address: the copy of CPU `n` lives at the pointer plus `per_cpu_offset(n)`, which is how
//!   `per_cpu_ptr()` is defined (`SHIFT_PERCPU_PTR`); the offset is 0 without `CONFIG_SMP`.
//! - A CPU is a [`PossibleCpu`], the kernel crate's [`CpuId`] (a number below `nr_cpu_ids`)
//!   that is also set in `cpu_possible_mask`: the CPUs that have copies, the only ones whose
//!   `per_cpu_offset()` leads to one. `__per_cpu_offset[]` and `__cpu_possible_mask` are read
//!   directly, and `nr_cpu_ids` through [`kernel::cpu::nr_cpu_ids`] (they are
//!   written during boot only), so that `per_cpu_ptr()` and the CPU loop cost what they cost in
//!   C; only `this_cpu_ptr()`'s offset (`my_cpu_offset`, per-CPU data itself) comes from C.
//! - [`possible_cpus`] walks the set bits of `cpu_possible_mask` below `nr_cpu_ids`, as
//!   `for_each_possible_cpu()` (`cpumask_next()`) does, so CPU numbers that are not possible
//!   (holes left by firmware or hotplug configuration) are skipped. Possible CPUs never change
//!   after boot: every CPU that can ever come online has its per-CPU copy from the allocation
//!   on, so a copy is there for every CPU this yields, online or not.
//!
//! See Documentation/percpu.rst for the safety argument.

use super::ffi;
use core::ptr::NonNull;
use kernel::{bindings, cpu::nr_cpu_ids, cpu::CpuId};

/// Bits in a word of a CPU mask.
const BITS: u32 = usize::BITS;

/// Words of a CPU mask (`BITS_TO_LONGS(NR_CPUS)`).
const WORDS: usize = bindings::NR_CPUS.div_ceil(usize::BITS) as usize;

/// A possible CPU: one that has a copy of every per-CPU allocation.
///
/// The kernel crate's [`CpuId`] is a number below `nr_cpu_ids`; a possible mask may have holes
/// below that, CPUs without copies, whose `per_cpu_offset()` points nowhere useful. This is a
/// `CpuId` that is set in `cpu_possible_mask`.
///
/// # Invariants
///
/// `0` is set in `cpu_possible_mask`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct PossibleCpu(CpuId);

impl PossibleCpu {
    /// The CPU number.
    pub(crate) fn as_u32(self) -> u32 {
        self.0.as_u32()
    }
}

/// The CPU numbered `id`, if it has per-CPU copies: a possible CPU (`cpu_possible(id)`, which
/// implies `id < nr_cpu_ids`). Inline, unlike [`CpuId::from_u32`], since
/// `bpf_map_lookup_percpu_elem()` checks a CPU on every call.
///
/// C's `percpu_array_map_lookup_percpu_elem()` checks `nr_cpu_ids` only, so on a machine whose
/// possible mask has holes it hands out `per_cpu_ptr()` of a CPU without a copy; this answers
/// `None` (NULL) there.
#[inline]
pub(crate) fn possible_cpu(id: u32) -> Option<PossibleCpu> {
    // The possible mask has no bit at or past `nr_cpu_ids`, so its bit alone decides; the
    // bound on `NR_CPUS`, a constant, keeps the read inside the mask.
    if id >= bindings::NR_CPUS {
        return None;
    }
    // SAFETY: `__cpu_possible_mask` is set up during boot and only read afterwards; this reads
    // one word by value, in bounds: `id < NR_CPUS`, so `id / BITS < WORDS`.
    let word = unsafe {
        *(&raw const bindings::__cpu_possible_mask.bits)
            .cast::<usize>()
            .add((id / BITS) as usize)
    };
    // INVARIANT: the bit of `id` is set.
    // SAFETY: a possible CPU is below `nr_cpu_ids` (one more than the highest possible CPU).
    ((word >> (id % BITS)) & 1 != 0).then(|| PossibleCpu(unsafe { CpuId::from_u32_unchecked(id) }))
}

/// `num_possible_cpus()`: how many CPUs have per-CPU copies.
pub(crate) fn num_possible_cpus() -> u32 {
    // SAFETY: no preconditions; the possible mask is fixed at boot.
    unsafe { ffi::rust_arraymap_num_possible_cpus() }
}

/// The possible CPUs in increasing order (`for_each_possible_cpu()`).
#[inline]
pub(crate) fn possible_cpus() -> PossibleCpus {
    PossibleCpus {
        next: 0,
        end: nr_cpu_ids(),
    }
}

/// Iterator of [`possible_cpus`]: the set bits of `cpu_possible_mask` below `nr_cpu_ids`, as
/// `cpumask_next()` finds them.
pub(crate) struct PossibleCpus {
    next: u32,
    end: u32,
}

impl Iterator for PossibleCpus {
    type Item = PossibleCpu;

    #[inline]
    fn next(&mut self) -> Option<PossibleCpu> {
        while self.next < self.end {
            let cpu = self.next;
            let index = (cpu / BITS) as usize;
            if index >= WORDS {
                break;
            }
            // SAFETY: `__cpu_possible_mask` is set up during boot and only read afterwards;
            // this reads one word, in bounds, by value.
            let word = unsafe { bindings::__cpu_possible_mask.bits[index] };
            // Skip the rest of the word at once when it has no more possible CPUs.
            let rest = word >> (cpu % BITS);
            if rest == 0 {
                self.next = (cpu / BITS + 1) * BITS;
                continue;
            }
            let found = cpu + rest.trailing_zeros();
            self.next = found + 1;
            if found >= self.end {
                break;
            }
            // INVARIANT: `found` is a set bit of the possible mask.
            // SAFETY: `found` is below `end`, which is `nr_cpu_ids`.
            return Some(PossibleCpu(unsafe { CpuId::from_u32_unchecked(found) }));
        }
        None
    }
}

/// `per_cpu_offset(cpu)` of one CPU: added to a per-CPU pointer it gives that CPU's copy.
///
/// # Invariants
///
/// `0` is the offset of a possible CPU.
#[derive(Clone, Copy)]
pub(crate) struct CpuOffset(usize);

impl CpuOffset {
    /// Where `cpu`'s copies are, relative to the per-CPU pointers: `per_cpu_offset(cpu)`,
    /// which is `__per_cpu_offset[cpu]` (include/asm-generic/percpu.h), read directly so that
    /// `per_cpu_ptr()` costs what it costs in C.
    #[inline]
    pub(crate) fn of(cpu: PossibleCpu) -> Self {
        #[cfg(CONFIG_SMP)]
        {
            // SAFETY: `__per_cpu_offset[]` is written during boot, before any module can run,
            // and only read afterwards; this reads one element by value, at an index in bounds:
            // `cpu < nr_cpu_ids <= NR_CPUS` (a possible CPU, type invariant of `PossibleCpu`,
            // is below `nr_cpu_ids`). Unchecked, as in C: `bpf_map_lookup_percpu_elem()` pays
            // for this on every call.
            // INVARIANT: the offset of `cpu`, a possible CPU.
            Self(unsafe {
                *(&raw const bindings::__per_cpu_offset)
                    .cast::<usize>()
                    .add(cpu.as_u32() as usize)
            })
        }
        #[cfg(not(CONFIG_SMP))]
        {
            let _ = cpu;
            Self(0)
        }
    }

    /// The offset of the CPU the caller runs on (`my_cpu_offset`, what `this_cpu_ptr()` adds).
    ///
    /// The answer stays true only while the caller cannot migrate (BPF programs run with
    /// migration disabled); with `CONFIG_DEBUG_PREEMPT` the kernel checks that, as for
    /// `this_cpu_ptr()` in C. A stale answer is still the offset of a possible CPU.
    #[inline]
    pub(crate) fn this_cpu() -> Self {
        // INVARIANT: the running CPU is online, so possible.
        // SAFETY: no preconditions.
        Self(unsafe { ffi::rust_arraymap_my_cpu_offset() } as usize)
    }
}

/// A `void __percpu *`: one allocation from the kernel's per-CPU allocator.
///
/// # Invariants
///
/// `0` came from `bpf_map_alloc_percpu()` and has not been freed while this value is used.
/// It is never dereferenced as such: see [`PerCpuPtr::on`].
#[derive(Clone, Copy)]
pub(crate) struct PerCpuPtr(NonNull<u8>);

impl PerCpuPtr {
    /// Wraps a pointer read from `pptrs[]`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live per-CPU allocation, and stay live while the result is used.
    pub(crate) unsafe fn from_raw(ptr: NonNull<u8>) -> Self {
        // INVARIANT: the caller guarantees it.
        Self(ptr)
    }

    /// The raw `void __percpu *`, as stored in `pptrs[]` and as the verifier's per-CPU
    /// instruction takes it.
    pub(crate) fn as_raw(self) -> *mut u8 {
        self.0.as_ptr()
    }

    /// The copy of the CPU at `off`: `per_cpu_ptr(ptr, cpu)`.
    ///
    /// The result is valid for the size of the allocation as long as the allocation lives.
    #[inline]
    pub(crate) fn on(self, off: CpuOffset) -> NonNull<u8> {
        // `SHIFT_PERCPU_PTR()`: the kernel adds the offset to the pointer's value; the result is
        // a different object than the one `self` points to, hence the wrapping add.
        let addr = self.0.as_ptr().wrapping_add(off.0);
        // SAFETY: a CPU's copy of a live per-CPU allocation is a kernel address, never null.
        unsafe { NonNull::new_unchecked(addr) }
    }
}

/// `cond_resched()`, between elements of a long loop over per-CPU allocations.
pub(crate) fn cond_resched() {
    // SAFETY: no preconditions (the callers run in process context, where it may sleep).
    unsafe { ffi::rust_arraymap_cond_resched() }
}
