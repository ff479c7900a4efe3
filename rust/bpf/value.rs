// SPDX-License-Identifier: GPL-2.0

//! The buffers values are copied through ([`ValueBuf`], [`ValueSrc`]).

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
