// SPDX-License-Identifier: GPL-2.0

//! Where the elements of an array live: the union behind the header of `struct bpf_array`
//! (`value[]`, `pptrs[]`, `ptrs[]`), one [`Storage`] type per member.

use super::{
    array::Array,
    fd_array::{FdElem, NoElem},
    ffi, percpu,
    value::ValueBuf,
};
use core::{mem::size_of, ptr::NonNull};
use kernel::{bindings, ffi::c_void, prelude::*};

pub(super) mod sealed {
    pub(crate) trait Sealed {}
}

/// Where the elements of an array live, which fixes the meaning of the area behind the header
/// of `struct bpf_array` (a union in C).
pub(crate) trait Storage: sealed::Sealed + Sized + 'static {
    /// Whether the elements are per-CPU (`pptrs[]`), or inline (`value[]`).
    const PERCPU: bool;

    /// Whether the elements are object pointers of an fd array (`ptrs[]`).
    const FD: bool;

    /// The objects that the slots of an fd array own; [`NoElem`] for the other arrays.
    type Elem: FdElem;

    /// Fills the area behind a freshly allocated header: nothing for inline values, the
    /// per-CPU allocations for per-CPU ones.
    ///
    /// # Safety
    ///
    /// `array` must be a zeroed `struct bpf_array` whose header is initialised, followed by
    /// the area that [`Storage::area_size`] asked for, and owned by the caller.
    unsafe fn fill(array: NonNull<bindings::bpf_array>) -> Result;

    /// Frees what [`Storage::fill`] allocated, and whatever the values hold (special fields).
    ///
    /// # Safety
    ///
    /// As for [`Storage::fill`], and [`Storage::fill`] has run on `array` (successfully or
    /// not); nothing uses the values any more.
    unsafe fn drain(array: NonNull<bindings::bpf_array>);

    /// Bytes of the area behind the header for `entries` elements of `elem_size` bytes.
    fn area_size(entries: u32, elem_size: u32) -> u64;

    /// The address that stands for element `index`: the value of an inline array, the per-CPU
    /// pointer of a per-CPU array; `None` past `max_entries`.
    fn elem_addr(array: &Array<Self>, index: u32) -> Option<NonNull<u8>>;

    /// What an `iter/bpf_map_elem` program sees as the value of element `index`: the value of
    /// an inline array; the values of all possible CPUs, copied into `percpu_buf`, for a
    /// per-CPU array. Null past `max_entries`, or without a buffer for a per-CPU array.
    fn iter_value(
        array: &Array<Self>,
        index: u32,
        percpu_buf: Option<&mut ValueBuf<'_>>,
    ) -> *mut c_void;
}

/// Values inline in the map area, `array->value[]` (`BPF_MAP_TYPE_ARRAY`).
pub(crate) enum Inline {}

/// One per-CPU allocation per element, `array->pptrs[]` (`BPF_MAP_TYPE_PERCPU_ARRAY`).
pub(crate) enum PerCpu {}

impl sealed::Sealed for Inline {}
impl sealed::Sealed for PerCpu {}

/// The record of special fields of a map being freed, if it has one
/// (`!IS_ERR_OR_NULL(map->record)`).
///
/// # Safety
///
/// `map` must be a map being freed.
unsafe fn fields_record(map: *mut bindings::bpf_map) -> Option<*mut bindings::btf_record> {
    // SAFETY: `map` is valid; `record` was set up by the BPF core and does not change while
    // the map is freed.
    let record = unsafe { (*map).record };
    // SAFETY: `IS_ERR()` only looks at the pointer value.
    (!record.is_null() && !unsafe { bindings::IS_ERR(record.cast()) }).then_some(record)
}

impl Storage for Inline {
    type Elem = NoElem;
    const PERCPU: bool = false;
    const FD: bool = false;

    unsafe fn fill(_array: NonNull<bindings::bpf_array>) -> Result {
        // The values are the zeroed area itself.
        Ok(())
    }

    unsafe fn drain(array: NonNull<bindings::bpf_array>) {
        // SAFETY: a filled array of this storage (the caller guarantees it), alive here.
        let array = unsafe { Array::<Inline>::from_map(array.as_ptr().cast()) };
        // SAFETY: the map is being freed.
        let Some(record) = (unsafe { fields_record(array.as_map_ptr()) }) else {
            return;
        };
        for (_, elem) in array.elems() {
            // SAFETY: `record` describes the values of this map; `elem` is one of them.
            unsafe { bindings::bpf_obj_free_fields(record, elem.ptr().as_ptr().cast()) };
        }
    }

    fn area_size(entries: u32, elem_size: u32) -> u64 {
        u64::from(entries) * u64::from(elem_size)
    }

    fn elem_addr(array: &Array<Self>, index: u32) -> Option<NonNull<u8>> {
        array.elem(index).map(|e| e.ptr())
    }

    fn iter_value(array: &Array<Self>, index: u32, _: Option<&mut ValueBuf<'_>>) -> *mut c_void {
        array
            .elem(index)
            .map_or(core::ptr::null_mut(), |e| e.ptr().as_ptr().cast())
    }
}

impl Storage for PerCpu {
    type Elem = NoElem;
    const PERCPU: bool = true;
    const FD: bool = false;

    /// `bpf_array_alloc_percpu()`: one zeroed per-CPU allocation of `elem_size` bytes for each
    /// of the `max_entries` elements; the pointers past `max_entries` (up to `index_mask`) stay
    /// null, as in C: masked indices below `max_entries` never reach them.
    unsafe fn fill(array: NonNull<bindings::bpf_array>) -> Result {
        let array = array.as_ptr();
        // SAFETY: the header is initialised (the caller guarantees it).
        let (map, max_entries, elem_size) = unsafe {
            (
                &raw mut (*array).map,
                (*array).map.max_entries,
                (*array).elem_size,
            )
        };
        let pptrs = pptrs_base(array);
        for i in 0..max_entries as usize {
            // SAFETY: `map` is initialised; the allocation is accounted to its memcg as in C.
            let ptr = unsafe { ffi::rust_arraymap_alloc_percpu(map, elem_size) };
            if ptr.is_null() {
                // SAFETY: the pointers allocated so far are in `pptrs`, the rest are null.
                unsafe { free_pptrs(pptrs, max_entries) };
                return Err(ENOMEM);
            }
            // SAFETY: `area_size` made room for at least `max_entries` pointers.
            unsafe { pptrs.add(i).write(ptr.cast()) };
            percpu::cond_resched();
        }
        Ok(())
    }

    unsafe fn drain(array: NonNull<bindings::bpf_array>) {
        let raw = array.as_ptr();
        // SAFETY: the header is initialised.
        let (map, max_entries) = unsafe { (&raw mut (*raw).map, (*raw).map.max_entries) };
        // SAFETY: the map is being freed. A record is only set on maps whose creation got
        // past `map_alloc`, which filled every pointer.
        if let Some(record) = unsafe { fields_record(map) } {
            // SAFETY: a filled array of this storage, alive here.
            let array = unsafe { Array::<PerCpu>::from_map(map) };
            for (_, elem) in array.elems() {
                for cpu in percpu::possible_cpus() {
                    let value = elem.on(cpu).ptr();
                    // SAFETY: `record` describes the values of this map; this is one of them.
                    unsafe { bindings::bpf_obj_free_fields(record, value.as_ptr().cast()) };
                    percpu::cond_resched();
                }
            }
        }
        // SAFETY: each pointer is a per-CPU allocation or null, and nothing uses them any more.
        unsafe { free_pptrs(pptrs_base(raw), max_entries) };
    }

    fn area_size(entries: u32, _elem_size: u32) -> u64 {
        u64::from(entries) * size_of::<*mut c_void>() as u64
    }

    fn elem_addr(array: &Array<Self>, index: u32) -> Option<NonNull<u8>> {
        array
            .elem(index)
            .and_then(|e| NonNull::new(e.pptr().as_raw()))
    }

    fn iter_value(
        array: &Array<Self>,
        index: u32,
        percpu_buf: Option<&mut ValueBuf<'_>>,
    ) -> *mut c_void {
        let (Some(elem), Some(buf)) = (array.elem(index), percpu_buf) else {
            return core::ptr::null_mut();
        };
        match elem.load_all(buf) {
            Ok(()) => buf.as_ptr().cast(),
            Err(_) => core::ptr::null_mut(),
        }
    }
}

/// Address of `pptrs[]`.
pub(super) fn pptrs_base(array: *mut bindings::bpf_array) -> *mut *mut c_void {
    // Only an address computation: `value[]` and `pptrs[]` share the union behind the header.
    array
        .cast::<u8>()
        .wrapping_add(Array::<PerCpu>::VALUE_OFFSET as usize)
        .cast()
}

/// `bpf_array_free_percpu()`.
///
/// # Safety
///
/// The first `n` entries of `pptrs` must be per-CPU allocations that nothing uses any more, or
/// null.
unsafe fn free_pptrs(pptrs: *mut *mut c_void, n: u32) {
    for i in 0..n as usize {
        // SAFETY: the caller guarantees that entry `i` is free-able (`free_percpu(NULL)` is
        // a no-op).
        unsafe { bindings::free_percpu(pptrs.add(i).read()) };
        percpu::cond_resched();
    }
}
