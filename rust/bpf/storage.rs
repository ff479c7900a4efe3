// SPDX-License-Identifier: GPL-2.0

//! The storages of ARRAY and PERCPU_ARRAY, two members of the union behind the header of
//! `struct bpf_array`: values inline (`value[]`, [`Inline`]) or one per-CPU allocation per
//! element (`pptrs[]`, [`PerCpu`]); how the area is filled and drained, and how an element is
//! reached ([`Array::elem`], [`PerCpuElem`]). The third member, `ptrs[]`, is `fd_array.rs`'s.

use super::{
    array::{elem_offset, page_align, sealed, Array, Storage},
    attr::flags,
    elem::{DirectValue, Elem, MmapPage},
    fd_array::NoElem,
    ffi,
    percpu::{self, CpuOffset, PerCpuPtr, PossibleCpu},
    value::ValueBuf,
};
use core::{mem::size_of, ptr::NonNull};
use kernel::{bindings, ffi::c_void, prelude::*};

/// `PAGE_SHIFT`.
const PAGE_SHIFT: u32 = bindings::PAGE_SIZE.trailing_zeros();

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

impl Array<Inline> {
    /// Address of the first value, `array->value`.
    pub(super) fn values(&self) -> *mut u8 {
        // SAFETY: `as_array_ptr()` is valid (type invariant); this only computes the address of
        // `value[]`.
        unsafe { (&raw mut (*self.as_array_ptr()).__bindgen_anon_1).cast() }
    }

    /// `array->value` as `ldimm64` of global data loads it (`array_map_direct_value_addr()`).
    pub(crate) fn direct_value(&self) -> DirectValue {
        DirectValue(self.values() as u64)
    }

    /// Page `pgoff` of the values of a `BPF_F_MMAPABLE` array, for the fault handler of one of
    /// its mappings (`array_map_mmap_fault()`); `None` past the pages of the values, or if the
    /// array is not mmapable.
    pub(crate) fn mmap_page(&self, pgoff: u64) -> Option<MmapPage> {
        let bytes = u64::from(self.max_entries()) * u64::from(self.elem_size());
        if self.map_flags() & flags::MMAPABLE == 0 || pgoff >= page_align(bytes) >> PAGE_SHIFT {
            return None;
        }
        // INVARIANT: the page is inside `value[]` of an mmapable array, vmalloc memory that
        // lives as long as the array.
        NonNull::new(self.values().wrapping_add((pgoff << PAGE_SHIFT) as usize)).map(MmapPage)
    }

    /// The element at `index`, or `None` past `max_entries`.
    #[inline]
    pub(crate) fn elem(&self, index: u32) -> Option<Elem<'_>> {
        if index >= self.max_entries() {
            return None;
        }
        let off = elem_offset(self.elem_size(), index & self.index_mask());
        // SAFETY: `index & index_mask` is within the value area (type invariant), so the
        // offset stays inside the allocation.
        let ptr = unsafe { self.values().add(off as usize) };
        // SAFETY: an address inside an allocation is not null, and it is the in-bounds value
        // at `index`.
        Some(unsafe { self.value_at(NonNull::new_unchecked(ptr)) })
    }

    /// Every element in index order, without the per-index masking of [`Array::elem`]: the
    /// indices are below `max_entries` by construction (`array_map_elem_ptr()` in C).
    pub(crate) fn elems(&self) -> impl Iterator<Item = (u32, Elem<'_>)> + '_ {
        let values = self.values();
        let elem_size = self.elem_size();
        (0..self.max_entries()).map(move |index| {
            // SAFETY: `index < max_entries`, so the element is inside the value area (type
            // invariant); an address inside an allocation is not null.
            let elem = unsafe {
                self.value_at(NonNull::new_unchecked(
                    values.add(elem_offset(elem_size, index) as usize),
                ))
            };
            (index, elem)
        })
    }

    /// Stores the SHA-256 of all values in `map.sha` (`map_get_hash`).
    pub(crate) fn hash_values(&self) {
        let len = u64::from(self.elem_size()) * u64::from(self.max_entries());
        // SAFETY: the value area holds at least `max_entries` elements (type invariant); `sha`
        // is a 32-byte array of the header, written here through a raw pointer (no reference
        // to it exists) by every `BPF_OBJ_GET_INFO_BY_FD` that asks for the hash, possibly two
        // at once, and BPF programs may write the values while they are hashed: all as for
        // C's `array_map_get_hash()`, which takes no lock either; the bytes are plain data.
        unsafe {
            bindings::sha256(
                self.values(),
                len as usize,
                (&raw mut (*self.as_map_ptr()).sha).cast(),
            )
        };
    }
}

impl Array<PerCpu> {
    /// The per-CPU pointer of element `index`, which must be below `max_entries`.
    #[inline]
    pub(super) fn pptr(&self, index: u32) -> PerCpuPtr {
        let slot = pptrs_base(self.as_array_ptr()).wrapping_add(index as usize);
        // SAFETY: `index` is inside the pointer area (type invariant and the callers' bound);
        // the pointers are written at allocation only.
        let ptr = unsafe { slot.read() };
        // SAFETY: the first `max_entries` pointers are live per-CPU allocations for as long as
        // the array lives (type invariant).
        unsafe { PerCpuPtr::from_raw(NonNull::new_unchecked(ptr.cast())) }
    }

    /// The element at `index`, or `None` past `max_entries`.
    #[inline]
    pub(crate) fn elem(&self, index: u32) -> Option<PerCpuElem<'_>> {
        if index >= self.max_entries() {
            return None;
        }
        // `index & index_mask == index` below `max_entries`; the mask keeps a speculated
        // out-of-bounds index inside the pointer area, as in C.
        // INVARIANT: `pptrs[index]`, `index < max_entries`.
        Some(PerCpuElem {
            array: self,
            pptr: self.pptr(index & self.index_mask()),
        })
    }

    /// Every element in index order (`pptrs[i]` for `i < max_entries`).
    pub(crate) fn elems(&self) -> impl Iterator<Item = (u32, PerCpuElem<'_>)> + '_ {
        (0..self.max_entries()).map(move |index| {
            // INVARIANT: `pptrs[index]`, `index < max_entries`.
            let elem = PerCpuElem {
                array: self,
                pptr: self.pptr(index),
            };
            (index, elem)
        })
    }
}

/// One element of a per-CPU array: a value for every possible CPU.
///
/// # Invariants
///
/// `pptr` is `pptrs[i]` of `array` for an `i < max_entries`: a live per-CPU allocation of
/// `elem_size` bytes for as long as `array` is borrowed.
pub(crate) struct PerCpuElem<'a> {
    array: &'a Array<PerCpu>,
    pptr: PerCpuPtr,
}

impl<'a> PerCpuElem<'a> {
    /// The per-CPU pointer of the element (`pptrs[index]`).
    pub(crate) fn pptr(&self) -> PerCpuPtr {
        self.pptr
    }

    /// The per-CPU pointer as `ldimm64` of `.percpu` global data loads it
    /// (`percpu_array_map_direct_value_addr()`).
    pub(crate) fn direct_value(&self) -> DirectValue {
        DirectValue(self.pptr.as_raw() as u64)
    }

    /// The copy of `cpu` (`per_cpu_ptr()`).
    #[inline]
    pub(crate) fn on(&self, cpu: PossibleCpu) -> Elem<'a> {
        self.at(CpuOffset::of(cpu))
    }

    /// The copy at a CPU's offset.
    #[inline]
    pub(crate) fn at(&self, off: CpuOffset) -> Elem<'a> {
        // SAFETY: `pptr` is a live per-CPU allocation of `elem_size` bytes for as long as the
        // array is borrowed (type invariant), and `off` the offset of a possible CPU (type
        // invariant of `CpuOffset`), which has a copy of it.
        unsafe { self.array.value_at(self.pptr.on(off)) }
    }

    /// The copy of the CPU the caller runs on (`this_cpu_ptr()`).
    #[inline]
    pub(crate) fn on_this_cpu(&self) -> Elem<'a> {
        self.at(CpuOffset::this_cpu())
    }

    /// Copies the values of all possible CPUs to `buf`, `elem_size` bytes each in CPU order
    /// (`copy_map_value_long()` and `check_and_init_map_value()` per CPU), as the syscall
    /// layer and the iterator present them.
    ///
    /// Fails with `EFAULT` if `buf` has no room for them all.
    pub(crate) fn load_all(&self, buf: &mut ValueBuf<'_>) -> Result {
        let size = self.array.elem_size() as usize;
        let mut off = 0;
        for cpu in percpu::possible_cpus() {
            self.on(cpu).load(buf, off, true)?;
            off += size;
        }
        Ok(())
    }
}

/// Address of `pptrs[]`.
fn pptrs_base(array: *mut bindings::bpf_array) -> *mut *mut c_void {
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
