// SPDX-License-Identifier: GPL-2.0

//! The values of an array ([`Elem`]: an element of `value[]`, or one CPU's copy of an element
//! of `pptrs[]`), and the addresses of them that the BPF core uses unchecked ([`ValuePtr`],
//! [`DirectValue`], [`MmapPage`]), which only this layer makes.

use super::{
    ffi,
    value::{ValueBuf, ValueSrc},
};
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{bindings, ffi::c_void, prelude::*, seq_file::SeqFile};

/// An address that the BPF core dereferences without checking it, returned by
/// `map_lookup_elem` and `map_lookup_percpu_elem`: a value of an element, or the object in a
/// slot of an array of maps. Only this layer makes one, from an element it bounds-checked.
///
/// # Invariants
///
/// `0` is a value of a live array map (`elem_size` bytes), or an object that a slot of one
/// holds, valid for as long as the caller's RCU read lock.
#[derive(Clone, Copy)]
pub(crate) struct ValuePtr(NonNull<u8>);

impl ValuePtr {
    /// The address, for the BPF core.
    pub(super) fn as_ptr(self) -> *mut u8 {
        self.0.as_ptr()
    }

    /// The object in a slot of an array map.
    pub(super) fn from_slot<T>(obj: NonNull<T>) -> Self {
        // INVARIANT: the callers pass what a slot of a live array holds.
        Self(obj.cast())
    }
}

impl From<Elem<'_>> for ValuePtr {
    fn from(elem: Elem<'_>) -> Self {
        // INVARIANT: a value of a live array (type invariant of `Elem`).
        Self(elem.ptr)
    }
}

/// The address that `ldimm64` of global data loads and the verifier embeds in the program
/// (`map_direct_value_addr`): `value[]` of an array, the per-CPU pointer of the element of a
/// per-CPU array. Only this layer makes one.
#[derive(Clone, Copy)]
pub(crate) struct DirectValue(pub(super) u64);

impl DirectValue {
    /// The address as a number, to compare with the `imm` of `map_direct_value_meta`.
    pub(crate) fn addr(self) -> u64 {
        self.0
    }
}

/// A page of the values of a `BPF_F_MMAPABLE` array, which the fault handler maps.
///
/// # Invariants
///
/// `0` is the start of a page inside the vmalloc'ed `value[]` of a live mmapable array.
pub(crate) struct MmapPage(pub(super) NonNull<u8>);

impl MmapPage {
    /// The address, for `vmalloc_to_page()`.
    pub(super) fn as_ptr(&self) -> *mut u8 {
        self.0.as_ptr()
    }
}

/// One value of an array: an element of an [`Inline`](super::storage::Inline) array, or one
/// CPU's copy of a [`PerCpu`](super::storage::PerCpu) element.
///
/// # Invariants
///
/// `ptr` points to a value of the array `array` (`elem_size` bytes), and both live for `'a`.
pub(crate) struct Elem<'a> {
    array: *mut bindings::bpf_array,
    ptr: NonNull<u8>,
    _p: PhantomData<&'a bindings::bpf_array>,
}

impl<'a> Elem<'a> {
    /// The value at `ptr` of `array`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a value of the live array `array` (`elem_size` bytes), and both live for
    /// `'a`.
    #[inline]
    pub(super) unsafe fn new(array: *mut bindings::bpf_array, ptr: NonNull<u8>) -> Self {
        // INVARIANT: the caller guarantees it.
        Self {
            array,
            ptr,
            _p: PhantomData,
        }
    }
}

impl Elem<'_> {
    /// The element's address, as handed to BPF programs and to the syscall layer.
    pub(super) fn ptr(&self) -> NonNull<u8> {
        self.ptr
    }

    fn map(&self) -> *mut bindings::bpf_map {
        // SAFETY: `array` is live (type invariant); only a field address.
        unsafe { &raw mut (*self.array).map }
    }

    /// Whether the map's values hold special fields (`!IS_ERR_OR_NULL(map->record)`).
    #[inline]
    fn has_record(&self) -> bool {
        // SAFETY: `array` is live (type invariant); `record` is set before the map is used and
        // not changed while it is.
        let record = unsafe { (*self.array).map.record } as usize;
        // `IS_ERR_OR_NULL()`: null, or one of the last `MAX_ERRNO` addresses.
        record != 0 && record < (bindings::MAX_ERRNO as usize).wrapping_neg()
    }

    /// Overwrites the value with `value`, as `array_map_update_elem()` does: special fields
    /// are left alone (or the copy is made under the value's spin lock with `locked`), then
    /// cancelled (timers, workqueues...). `EFAULT`, and the value untouched, if `value` holds
    /// fewer than the map's `value_size` bytes.
    ///
    /// Values without special fields take the path of the C inlines (`copy_map_value()` is a
    /// `memcpy()` of `value_size` bytes and `bpf_obj_cancel_fields()` does nothing), without
    /// calls.
    #[inline]
    pub(crate) fn store(&self, value: &ValueSrc<'_>, locked: bool) -> Result {
        let map = self.map();
        // SAFETY: `map` is live; its `value_size` is fixed.
        let size = unsafe { (*map).value_size } as usize;
        let src = value.read_ptr(size)?;
        let dst = self.ptr.as_ptr();
        if !self.has_record() {
            // `copy`, not `copy_nonoverlapping`: a BPF program may pass the element itself as
            // the new value (`bpf_map_update_elem(&m, &k, bpf_map_lookup_elem(&m, &k), 0)`),
            // and C's `memcpy()` copes with that.
            // SAFETY: `src` holds `value_size` bytes (checked by `read_ptr`) and `dst` is a
            // value of the map, `elem_size >= value_size` bytes (type invariant); both are
            // byte pointers, so any alignment will do. BPF programs may write the element
            // meanwhile, as they may in C: the bytes are plain data, a torn value is what C
            // gives too, and the special fields are not written on this path.
            unsafe { core::ptr::copy(src, dst, size) };
            return Ok(());
        }
        let (dst, src) = (dst.cast::<c_void>(), src.cast::<c_void>());
        if locked {
            // SAFETY: `map` is valid, `dst` is a value of it (type invariant) and `src` holds
            // `value_size` bytes (checked by `read_ptr`); the caller checked that the value
            // has a spin lock.
            unsafe { bindings::copy_map_value_locked(map, dst, src, false) };
        } else {
            // SAFETY: as above.
            unsafe { ffi::rust_arraymap_copy_map_value(map, dst, src) };
        }
        // SAFETY: `dst` is a value of the valid map `map`.
        unsafe { bindings::bpf_obj_cancel_fields(map, dst) };
        Ok(())
    }

    /// Copies the value to `buf` at byte `off`, without its special fields
    /// (`copy_map_value()` then `check_and_init_map_value()`); with `long`, the whole
    /// `elem_size` bytes are copied (`copy_map_value_long()`): per-CPU copies are zero-filled
    /// past `value_size`, so nothing of the kernel leaks.
    ///
    /// Fails with `EFAULT` if the copy does not fit in `buf`.
    #[inline]
    pub(crate) fn load(&self, buf: &mut ValueBuf<'_>, off: usize, long: bool) -> Result {
        // SAFETY: `array` is live (type invariant).
        let (value_size, elem_size) =
            unsafe { ((*self.array).map.value_size, (*self.array).elem_size) };
        let len = if long { elem_size } else { value_size } as usize;
        let dst = buf.slice(off, len).ok_or(EFAULT)?;
        let src = self.ptr.as_ptr();
        let map = self.map();
        if long {
            // `bpf_long_memcpy()` (8-byte accesses, so that counters are not torn) is the
            // kernel's: one call per value.
            // SAFETY: `dst` has `len == elem_size` writable bytes, `src` is a value of `map`
            // with `elem_size` bytes (type invariant).
            unsafe { ffi::rust_arraymap_copy_map_value_long(map, dst, src.cast()) };
        } else if !self.has_record() {
            // `copy_map_value()` of a value without special fields: a `memcpy()`.
            // SAFETY: `len` bytes of the value (`value_size <= elem_size`, type invariant) and
            // of `dst` (checked by `slice`); the kernel buffer is not a map value. BPF programs
            // may write the value meanwhile, as in C: plain bytes through raw pointers (no
            // reference to the value exists), so a torn copy is possible, as C's.
            unsafe { core::ptr::copy_nonoverlapping(src, dst.cast::<u8>(), len) };
        } else {
            // SAFETY: as above.
            unsafe { ffi::rust_arraymap_copy_map_value(map, dst, src.cast()) };
        }
        if self.has_record() {
            // SAFETY: `dst` holds a copy of a value of `map`.
            unsafe { ffi::rust_arraymap_check_and_init_map_value(map, dst) };
        }
        Ok(())
    }

    /// Frees the timers, workqueues and task_work of the value
    /// (`bpf_map_free_internal_structs()`).
    pub(crate) fn free_internal_structs(&self) {
        // SAFETY: the element is a value of the valid map (type invariant).
        unsafe { bindings::bpf_map_free_internal_structs(self.map(), self.ptr.as_ptr().cast()) };
    }

    /// Pretty-prints the value with the map's BTF (`btf_type_seq_show()`); nothing for a map
    /// without BTF for its values.
    pub(crate) fn seq_show(&self, m: &SeqFile) {
        // SAFETY: the value is one of this map's (type invariant).
        unsafe { seq_show_value(self.map(), self.ptr.as_ptr().cast_const().cast(), m) };
    }
}

/// Pretty-prints `value` with the value type of `map`'s BTF (`btf_type_seq_show()`); nothing
/// if the map has no BTF for its values. bpffs calls `map_seq_show_elem` only for maps that
/// have it (`bpf_map_support_seq_show()`), and C relies on that; this checks it.
///
/// # Safety
///
/// `map` must be a live map and `value` point to `value_size` readable bytes that hold a value
/// of it, valid for the call.
pub(super) unsafe fn seq_show_value(
    map: *mut bindings::bpf_map,
    value: *const c_void,
    m: &SeqFile,
) {
    // SAFETY: `map` is live; `btf` and `btf_value_type_id` are set at creation, before the map
    // is published, and never written again while it lives.
    let (btf, type_id) = unsafe { ((*map).btf, (*map).btf_value_type_id) };
    if btf.is_null() || type_id == 0 {
        return;
    }
    // `SeqFile` wraps a `struct seq_file` transparently (see `SeqFile::from_raw`).
    let seq = core::ptr::from_ref(m)
        .cast_mut()
        .cast::<bindings::seq_file>();
    // SAFETY: a map's BTF and its value type id were checked at creation (`map_check_btf`) and
    // live as long as the map; the caller guarantees the value, and `seq` is a valid seq_file.
    unsafe { bindings::btf_type_seq_show(btf, type_id, value.cast_mut(), seq) };
}
