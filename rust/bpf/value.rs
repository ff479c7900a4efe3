// SPDX-License-Identifier: GPL-2.0

//! The buffers values are copied through ([`ValueBuf`], [`ValueSrc`]), and the callback of
//! `bpf_for_each_map_elem()` ([`ForEachCallback`]).

use super::{
    array::{elem_offset, Array},
    percpu::CpuOffset,
    storage::{Inline, PerCpu, Storage},
};
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{ffi::c_void, prelude::*};

/// A kernel buffer that values are copied into or out of: the value buffer of a syscall, or the
/// per-CPU buffer of an iterator.
///
/// # Invariants
///
/// `ptr` is valid for reads and writes of `len` bytes for `'a`, and nothing else accesses them
/// meanwhile.
pub(crate) struct ValueBuf<'a> {
    ptr: NonNull<u8>,
    len: usize,
    _p: PhantomData<&'a mut [u8]>,
}

impl<'a> ValueBuf<'a> {
    /// Wraps a buffer of `len` bytes.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for reads and writes of `len` bytes, used by nothing else while the
    /// result lives.
    pub(crate) unsafe fn from_raw(ptr: NonNull<u8>, len: usize) -> Self {
        // INVARIANT: the caller guarantees it.
        Self {
            ptr,
            len,
            _p: PhantomData,
        }
    }

    /// Wraps a buffer that the caller holds exclusively.
    pub(crate) fn from_slice(buf: &'a mut [u8]) -> Self {
        // INVARIANT: a mutable slice is valid for reads and writes of its length, and nothing
        // else accesses it while it is borrowed for `'a`.
        Self {
            len: buf.len(),
            ptr: NonNull::from(buf).cast(),
            _p: PhantomData,
        }
    }

    /// The buffer's address.
    pub(crate) fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// `len` bytes at `off`, if they are inside the buffer.
    pub(super) fn slice(&mut self, off: usize, len: usize) -> Option<*mut c_void> {
        if off.checked_add(len)? > self.len {
            return None;
        }
        Some(self.ptr.as_ptr().wrapping_add(off).cast())
    }

    /// The bytes from `off` to the end of the buffer, as the source of an update; `None` past
    /// the end. A store reads the map's `value_size` bytes of it, if it holds that many
    /// ([`ValueSrc::read_ptr`]).
    pub(crate) fn src(&self, off: usize) -> Option<ValueSrc<'_>> {
        let len = self.len.checked_sub(off)?;
        // INVARIANT: the `len` bytes at `off` are the end of the buffer, readable for its
        // lifetime.
        Some(ValueSrc {
            ptr: self.ptr.as_ptr().wrapping_add(off),
            len,
            _p: PhantomData,
        })
    }
}

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

/// A value supplied by the syscall layer or a BPF program for an update, with its length: a
/// store checks that it holds the map's `value_size` bytes ([`ValueSrc::read_ptr`]), so no
/// source can make one read past its end.
///
/// # Invariants
///
/// `ptr` points to `len` readable bytes for `'a`.
pub(crate) struct ValueSrc<'a> {
    ptr: *mut u8,
    len: usize,
    _p: PhantomData<&'a u8>,
}

impl ValueSrc<'_> {
    /// Wraps the value pointer of `map_update_elem`, of `len` bytes (the map's `value_size`).
    ///
    /// # Safety
    ///
    /// `ptr` must point to `len` readable bytes, valid for the returned lifetime.
    pub(crate) unsafe fn from_raw(ptr: *mut c_void, len: usize) -> Self {
        // INVARIANT: the caller guarantees it.
        Self {
            ptr: ptr.cast(),
            len,
            _p: PhantomData,
        }
    }

    /// The source's address, for a read of `size` bytes: `EFAULT` if it holds fewer.
    #[inline]
    pub(super) fn read_ptr(&self, size: usize) -> Result<*mut u8> {
        if size > self.len {
            return Err(EFAULT);
        }
        Ok(self.ptr)
    }
}

#[kunit_tests(rust_arraymap_value)]
mod tests {
    use super::ValueBuf;
    use kernel::prelude::*;

    #[test]
    fn a_source_reads_only_what_it_holds() -> Result {
        let mut bytes = [0u8; 16];
        let buf = ValueBuf::from_slice(&mut bytes);
        let whole = buf.src(0).ok_or(EINVAL)?;
        assert!(whole.read_ptr(16)? == buf.as_ptr());
        assert!(whole.read_ptr(8).is_ok());
        assert!(whole.read_ptr(17).err() == Some(EFAULT));
        // The last byte, as the source of an 8-byte value: refused, not read past the end.
        let last = buf.src(15).ok_or(EINVAL)?;
        assert!(last.read_ptr(8).err() == Some(EFAULT));
        assert!(last.read_ptr(1)? == buf.as_ptr().wrapping_add(15));
        let end = buf.src(16).ok_or(EINVAL)?;
        assert!(end.read_ptr(1).err() == Some(EFAULT));
        assert!(buf.src(17).is_none());
        assert!(buf.src(usize::MAX).is_none());
        Ok(())
    }
}
