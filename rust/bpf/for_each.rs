// SPDX-License-Identifier: GPL-2.0

//! The callback of `bpf_for_each_map_elem()` ([`ForEachCallback`]) and its loop over the
//! elements of an array, `bpf_for_each_array_elem()`.

use super::{
    array::{elem_offset, Array, Storage},
    percpu::CpuOffset,
    storage::{Inline, PerCpu},
};
use kernel::ffi::c_void;

/// The callback of `bpf_for_each_map_elem()`: a BPF subprogram that the verifier checked
/// against the arguments of `map_set_for_each_callback_args()`.
///
/// # Invariants
///
/// `f` is such a verified callback and `ctx` the context the program passed with it.
pub(crate) struct ForEachCallback {
    f: unsafe extern "C" fn(u64, u64, u64, u64, u64) -> u64,
    ctx: *mut c_void,
}

impl ForEachCallback {
    /// Wraps the callback that `map_for_each_callback` received.
    ///
    /// # Safety
    ///
    /// `f` and `ctx` must come from a `bpf_for_each_map_elem()` call that the verifier accepted
    /// for this map.
    pub(crate) unsafe fn new(
        f: unsafe extern "C" fn(u64, u64, u64, u64, u64) -> u64,
        ctx: *mut c_void,
    ) -> Self {
        // INVARIANT: the caller guarantees it.
        Self { f, ctx }
    }

    /// Calls the callback on the elements of `array` in index order until it returns
    /// non-zero ("stop"); returns the number of calls. The loop of `bpf_for_each_array_elem()`:
    /// it runs once per element from BPF programs, so it stays as lean as the C one (see
    /// Documentation/performance.rst).
    pub(crate) fn call_each(&self, array: &Array<Inline>) -> u32 {
        let values = array.values();
        let elem_size = array.elem_size();
        // SAFETY: `index < max_entries` (the loop's bound): the element is inside the value area.
        self.run(array, |index| unsafe {
            values.add(elem_offset(elem_size, index) as usize)
        })
    }

    /// As [`ForEachCallback::call_each`], on this CPU's copy of each element of a per-CPU array
    /// (`this_cpu_ptr(array->pptrs[i])`). The helper runs with migration disabled
    /// (`cant_migrate()` in C), so the CPU's offset is looked up once.
    pub(crate) fn call_each_percpu(&self, array: &Array<PerCpu>) -> u32 {
        let off = CpuOffset::this_cpu();
        self.run(array, |index| array.pptr(index).on(off).as_ptr())
    }

    /// The loop: `value(index)` is the value passed for `index < max_entries`.
    #[inline(always)]
    fn run<S: Storage>(&self, array: &Array<S>, value: impl Fn(u32) -> *mut u8) -> u32 {
        let map = array.as_map_ptr() as u64;
        let max_entries = array.max_entries();
        let mut index = 0;
        while index < max_entries {
            let value = value(index);
            let mut key = index;
            index += 1;
            // SAFETY: the verifier checked the callback for (map, &key, &value, ctx, 0): a
            // valid map, a 4-byte key and a value of the map, all alive for the call (type
            // invariant).
            let stop =
                unsafe { (self.f)(map, &raw mut key as u64, value as u64, self.ctx as u64, 0) };
            if stop != 0 {
                break;
            }
        }
        index
    }
}
