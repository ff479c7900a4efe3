// SPDX-License-Identifier: GPL-2.0

//! `struct bpf_array`, the layout the whole array family shares with the rest of the kernel.
//!
//! The JITs, the verifier's inlined lookups and several helpers read this struct directly, so
//! the module allocates the kernel's own struct, in a map area from `bpf_map_area_alloc()`,
//! exactly as `kernel/bpf/arraymap.c` does.

use super::{
    attr::flags,
    attr::MapAttr,
    fd_array::{FdElem, NoElem},
    ffi,
    percpu::{self, CpuOffset, PerCpuPtr},
};
use core::{marker::PhantomData, mem::size_of, ptr::NonNull};
use kernel::{bindings, cpu::CpuId, ffi::c_void, prelude::*, seq_file::SeqFile, types::Opaque};

const PAGE_SIZE: u64 = bindings::PAGE_SIZE as u64;

/// `PAGE_SHIFT`.
const PAGE_SHIFT: u32 = PAGE_SIZE.trailing_zeros();

/// `PAGE_ALIGN()`.
pub(crate) const fn page_align(size: u64) -> u64 {
    (size + PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

pub(super) mod sealed {
    pub(crate) trait Sealed {}
}

/// Where the elements of an array live, which fixes the meaning of the area behind the header
/// of `struct bpf_array` (a union in C).
pub(crate) trait Storage: sealed::Sealed + Sized + 'static {
    /// Whether the elements are per-CPU (`pptrs[]`), or inline (`value[]`).
    const PERCPU: bool;

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

/// An array map, seen through the `struct bpf_map` the BPF core hands to the ops.
///
/// # Invariants
///
/// `0` is a `struct bpf_array` set up by [`ArrayBox::alloc`] for storage `S` and not yet freed:
/// the map header was initialised from the creation attributes, `elem_size` and `index_mask`
/// are set and never change, and the area behind the header holds `index_mask + 1` elements,
/// or `max_entries` elements when the map bypasses Spectre v1 masking. Since `index_mask` is
/// at least `max_entries - 1`, `index & index_mask` is in bounds for every index. With
/// [`Inline`] storage the elements are values of `elem_size` bytes (`value[]`); with
/// [`PerCpu`] they are pointers (`pptrs[]`), of which the first `max_entries` are live
/// per-CPU allocations of `elem_size` bytes, written at allocation and never changed; with
/// [`Ptrs`](super::fd_array::Ptrs) they are object pointers (`ptrs[]`), null or holding a
/// reference, accessed atomically only. `aux` is null, or the
/// [`ProgArrayAux`](super::prog_array_aux::ProgArrayAux) of a PROG_ARRAY from creation to free.
#[repr(transparent)]
pub(crate) struct Array<S: Storage>(ArrayHeader<S>);

/// The header of an array map: the `struct bpf_map` and the fields of `struct bpf_array` before
/// the elements, which is all an inner-map template has (`bpf_map_meta_alloc()` copies
/// `index_mask` and `elem_size` into a header without elements). `map_gen_lookup` receives
/// either, so it sees only this.
///
/// # Invariants
///
/// `0` is the `struct bpf_array` of a live [`Array`] of storage `S`, or of an inner-map template
/// made from one, alive as long as `self`: its map header, `elem_size` and `index_mask` are
/// initialised and the fields read here are never written again. Nothing behind the header is
/// accessed through it.
#[repr(transparent)]
pub(crate) struct ArrayHeader<S: Storage>(Opaque<bindings::bpf_array>, PhantomData<S>);

/// Reads field `$field` of the `struct bpf_map` header of `$array`, one that is set at creation
/// and never written again. Through the raw pointer: other fields of the header (the refcounts,
/// `frozen`, `free_after_rcu_gp`) change concurrently, so no reference to the whole header may
/// exist while they do.
macro_rules! creation_field {
    ($array:expr, $field:ident) => {{
        let map = $array.as_map_ptr();
        // SAFETY: the header is initialised (type invariant) and the place expression reads
        // this one field, which is written before the map is published and never again: the
        // read races with no write.
        unsafe { (*map).$field }
    }};
}

impl<S: Storage> ArrayHeader<S> {
    /// Borrows the header behind a map pointer that the verifier passed to `map_gen_lookup`.
    ///
    /// # Safety
    ///
    /// `map` must be the `map` member of an array allocated by [`ArrayBox::alloc`] for storage
    /// `S`, or of an inner-map template made from one, that stays alive for `'a`.
    pub(crate) unsafe fn from_map<'a>(map: *const bindings::bpf_map) -> &'a Self {
        // SAFETY: `map` is the first member of `struct bpf_array` (offset 0), `ArrayHeader` is a
        // transparent wrapper of it, and the caller guarantees that it lives for `'a`.
        unsafe { &*map.cast::<Self>() }
    }

    fn raw(&self) -> *mut bindings::bpf_array {
        self.0.get()
    }

    /// The `struct bpf_map` header.
    pub(crate) fn as_map_ptr(&self) -> *mut bindings::bpf_map {
        // SAFETY: `raw()` is valid by the type invariant; this only computes a field address.
        unsafe { &raw mut (*self.raw()).map }
    }

    /// `map.max_entries`, as the user asked for it.
    pub(crate) fn max_entries(&self) -> u32 {
        creation_field!(self, max_entries)
    }

    /// `map.value_size`.
    pub(crate) fn value_size(&self) -> u32 {
        creation_field!(self, value_size)
    }

    /// `map.map_flags`.
    pub(crate) fn map_flags(&self) -> u32 {
        creation_field!(self, map_flags)
    }

    /// `map.map_type`.
    pub(crate) fn map_type(&self) -> u32 {
        creation_field!(self, map_type)
    }

    /// Whether the creator may skip Spectre v1 index masking.
    pub(crate) fn bypass_spec_v1(&self) -> bool {
        creation_field!(self, bypass_spec_v1)
    }

    /// `map.btf_key_type_id`: non-zero when the map was created with BTF for its key.
    pub(crate) fn btf_key_type_id(&self) -> u32 {
        creation_field!(self, btf_key_type_id)
    }

    /// Size of one element: `value_size` rounded up to 8.
    pub(crate) fn elem_size(&self) -> u32 {
        // SAFETY: `elem_size` is set before the map or template is published and never written
        // again (type invariant).
        unsafe { (*self.raw()).elem_size }
    }

    /// The mask applied to every index against speculative out-of-bounds access.
    pub(crate) fn index_mask(&self) -> u32 {
        // SAFETY: `index_mask` is set before the map or template is published and never written
        // again (type invariant).
        unsafe { (*self.raw()).index_mask }
    }
}

impl<S: Storage> core::ops::Deref for Array<S> {
    type Target = ArrayHeader<S>;

    fn deref(&self) -> &ArrayHeader<S> {
        // INVARIANT: the header of a live array.
        &self.0
    }
}

impl<S: Storage> Array<S> {
    /// Size of the header, `sizeof(struct bpf_array)`.
    pub(crate) const HEADER_SIZE: u64 = size_of::<bindings::bpf_array>() as u64;

    /// Offset of `value[]` (and `pptrs[]`) in the header, `offsetof(struct bpf_array, value)`.
    pub(crate) const VALUE_OFFSET: i32 =
        core::mem::offset_of!(bindings::bpf_array, __bindgen_anon_1) as i32;

    /// Borrows the array behind a map pointer that the BPF core passed to an op.
    ///
    /// # Safety
    ///
    /// `map` must be the `map` member of an array allocated by [`ArrayBox::alloc`] for storage
    /// `S` that stays alive for `'a`.
    pub(crate) unsafe fn from_map<'a>(map: *const bindings::bpf_map) -> &'a Self {
        // SAFETY: `map` is the first member of `struct bpf_array` (offset 0), `Array` is a
        // transparent wrapper of it, and the caller guarantees that it lives for `'a`.
        unsafe { &*map.cast::<Self>() }
    }

    fn raw(&self) -> *mut bindings::bpf_array {
        self.0.raw()
    }

    /// The `struct bpf_array` itself, for the fields that only some array types use (`aux`).
    pub(super) fn as_array_ptr(&self) -> *mut bindings::bpf_array {
        self.raw()
    }

    /// Address of the element area behind the header (`value[]`, `pptrs[]` or `ptrs[]`).
    pub(super) fn elem_base(&self) -> *mut u8 {
        // Only an address computation: the three share the union behind the header.
        self.raw()
            .cast::<u8>()
            .wrapping_add(Self::VALUE_OFFSET as usize)
    }

    /// Do the values hold timers, workqueues or task_work, which go with the last user reference?
    pub(crate) fn has_internal_structs(&self) -> bool {
        // SAFETY: the map header is valid (type invariant).
        unsafe { ffi::rust_arraymap_has_internal_structs(self.as_map_ptr()) }
    }

    /// Bytes of the values of all possible CPUs side by side, `elem_size` each: how the
    /// syscall layer (`bpf_map_value_size()`) and the iterator present a per-CPU element.
    pub(crate) fn all_cpus_len(&self) -> usize {
        self.elem_size() as usize * percpu::num_possible_cpus() as usize
    }

    /// Does the value type hold a special field of `ty` (`BPF_SPIN_LOCK`, ...)?
    pub(crate) fn has_field(&self, ty: u32) -> bool {
        // SAFETY: the map header is valid (type invariant).
        unsafe { ffi::rust_arraymap_record_has_field(self.as_map_ptr(), ty) }
    }

    /// The value at `ptr` of this map.
    ///
    /// # Safety
    ///
    /// `ptr` must be a value of this array (`elem_size` bytes) that lives as long as the array.
    #[inline]
    unsafe fn value_at(&self, ptr: NonNull<u8>) -> Elem<'_> {
        // INVARIANT: the caller guarantees it.
        Elem {
            array: self.raw(),
            ptr,
            _p: PhantomData,
        }
    }
}

impl Array<Inline> {
    /// Address of the first value, `array->value`.
    fn values(&self) -> *mut u8 {
        // SAFETY: `raw()` is valid (type invariant); this only computes the address of `value[]`.
        unsafe { (&raw mut (*self.raw()).__bindgen_anon_1).cast() }
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
        let off = u64::from(self.elem_size()) * u64::from(index & self.index_mask());
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
        let elem_size = self.elem_size() as usize;
        (0..self.max_entries()).map(move |index| {
            // SAFETY: `index < max_entries`, so the element is inside the value area (type
            // invariant); an address inside an allocation is not null.
            let elem = unsafe {
                self.value_at(NonNull::new_unchecked(
                    values.add(elem_size * index as usize),
                ))
            };
            (index, elem)
        })
    }

    /// Stores the SHA-256 of all values in `map.sha` (`map_get_hash`).
    pub(crate) fn hash_values(&self) {
        let len = u64::from(self.elem_size()) * u64::from(self.max_entries());
        // SAFETY: the value area holds at least `max_entries` elements (type invariant); `sha`
        // is a 32-byte array of the header, written only by the syscall that freezes the map.
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
    fn pptr(&self, index: u32) -> PerCpuPtr {
        let slot = pptrs_base(self.raw()).wrapping_add(index as usize);
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
        Some(PerCpuElem {
            array: self,
            pptr: self.pptr(index & self.index_mask()),
        })
    }

    /// Every element in index order (`pptrs[i]` for `i < max_entries`).
    pub(crate) fn elems(&self) -> impl Iterator<Item = (u32, PerCpuElem<'_>)> + '_ {
        (0..self.max_entries()).map(move |index| {
            let elem = PerCpuElem {
                array: self,
                pptr: self.pptr(index),
            };
            (index, elem)
        })
    }
}

/// One element of a per-CPU array: a value for every possible CPU.
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
    pub(crate) fn on(&self, cpu: CpuId) -> Elem<'a> {
        self.at(CpuOffset::of(cpu))
    }

    /// The copy at a CPU's offset.
    #[inline]
    pub(crate) fn at(&self, off: CpuOffset) -> Elem<'a> {
        // SAFETY: a CPU's copy of a live per-CPU allocation of `elem_size` bytes, which lives as
        // long as the array (type invariant of `Array`).
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

/// One value of an array: an element of an [`Inline`] array, or one CPU's copy of a [`PerCpu`]
/// element.
///
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
pub(crate) struct DirectValue(u64);

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
pub(crate) struct MmapPage(NonNull<u8>);

impl MmapPage {
    /// The address, for `vmalloc_to_page()`.
    pub(super) fn as_ptr(&self) -> *mut u8 {
        self.0.as_ptr()
    }
}

/// # Invariants
///
/// `ptr` points to a value of the array `array` (`elem_size` bytes), and both live for `'a`.
pub(crate) struct Elem<'a> {
    array: *mut bindings::bpf_array,
    ptr: NonNull<u8>,
    _p: PhantomData<&'a bindings::bpf_array>,
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
    /// cancelled (timers, workqueues...).
    ///
    /// Values without special fields take the path of the C inlines (`copy_map_value()` is a
    /// `memcpy()` of `value_size` bytes and `bpf_obj_cancel_fields()` does nothing), without
    /// calls.
    #[inline]
    pub(crate) fn store(&self, value: &ValueSrc<'_>, locked: bool) {
        let map = self.map();
        let dst = self.ptr.as_ptr().cast::<c_void>();
        let src = value.0.cast::<c_void>();
        if !self.has_record() {
            // SAFETY: `map` is live; its `value_size` is fixed.
            let size = unsafe { (*map).value_size } as usize;
            // `copy`, not `copy_nonoverlapping`: a BPF program may pass the element itself as
            // the new value (`bpf_map_update_elem(&m, &k, bpf_map_lookup_elem(&m, &k), 0)`),
            // and C's `memcpy()` copes with that.
            // SAFETY: `src` holds `value_size` bytes (invariant of `ValueSrc`) and `dst` is a
            // value of the map, `elem_size >= value_size` bytes (type invariant); both are
            // byte pointers, so any alignment will do.
            unsafe { core::ptr::copy(value.0, self.ptr.as_ptr(), size) };
            return;
        }
        if locked {
            // SAFETY: `map` is valid, `dst` is a value of it (type invariant) and `src` holds
            // `value_size` bytes (invariant of `ValueSrc`); the caller checked that the value
            // has a spin lock.
            unsafe { bindings::copy_map_value_locked(map, dst, src, false) };
        } else {
            // SAFETY: as above.
            unsafe { ffi::rust_arraymap_copy_map_value(map, dst, src) };
        }
        // SAFETY: `dst` is a value of the valid map `map`.
        unsafe { bindings::bpf_obj_cancel_fields(map, dst) };
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
            // of `dst` (checked by `slice`); the kernel buffer is not a map value.
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

    /// Pretty-prints the value with the map's BTF (`btf_type_seq_show()`).
    pub(crate) fn seq_show(&self, m: &SeqFile) {
        // SAFETY: the value is one of this map's (type invariant).
        unsafe { seq_show_value(self.map(), self.ptr.as_ptr().cast_const().cast(), m) };
    }
}

/// Pretty-prints `value` with the value type of `map`'s BTF (`btf_type_seq_show()`).
///
/// # Safety
///
/// `map` must be a live map with BTF for its values, and `value` point to a value of that
/// type, valid for the call.
pub(super) unsafe fn seq_show_value(
    map: *mut bindings::bpf_map,
    value: *const c_void,
    m: &SeqFile,
) {
    // `SeqFile` wraps a `struct seq_file` transparently (see `SeqFile::from_raw`).
    let seq = core::ptr::from_ref(m)
        .cast_mut()
        .cast::<bindings::seq_file>();
    // SAFETY: `map.btf` and the value type id were checked at creation and live as long as the
    // map; the caller guarantees the value, and `seq` is a valid seq_file.
    unsafe {
        bindings::btf_type_seq_show((*map).btf, (*map).btf_value_type_id, value.cast_mut(), seq)
    };
}

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
    fn slice(&mut self, off: usize, len: usize) -> Option<*mut c_void> {
        if off.checked_add(len)? > self.len {
            return None;
        }
        Some(self.ptr.as_ptr().wrapping_add(off).cast())
    }

    /// The value at byte `off`, as the source of an update: `value_size` bytes must fit.
    pub(crate) fn src(&self, off: usize, value_size: u32) -> Option<ValueSrc<'_>> {
        if off.checked_add(value_size as usize)? > self.len {
            return None;
        }
        // INVARIANT: `value_size` bytes at `off` are inside the buffer, readable for its
        // lifetime.
        Some(ValueSrc(self.ptr.as_ptr().wrapping_add(off), PhantomData))
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
        let elem_size = array.elem_size() as usize;
        // SAFETY: `index < max_entries` (the loop's bound): the element is inside the value area.
        self.run(array, |index| unsafe {
            values.add(elem_size * index as usize)
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

/// A value supplied by the syscall layer or a BPF program for an update.
///
/// # Invariants
///
/// `0` points to `value_size` readable bytes (of the map it is stored in) for `'a`.
pub(crate) struct ValueSrc<'a>(*mut u8, PhantomData<&'a u8>);

impl ValueSrc<'_> {
    /// Wraps the value pointer of `map_update_elem`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to `value_size` readable bytes, valid for the returned lifetime.
    pub(crate) unsafe fn from_raw(ptr: *mut c_void) -> Self {
        // INVARIANT: the caller guarantees it.
        Self(ptr.cast(), PhantomData)
    }
}

/// How to lay out a new array: what `array_map_alloc()` computes before allocating.
pub(crate) struct ArrayLayout {
    /// `round_up(value_size, 8)`.
    pub(crate) elem_size: u32,
    /// Mask of every index: the next power of two above `max_entries`, minus one.
    pub(crate) index_mask: u32,
    /// Number of elements to allocate: `max_entries`, or `index_mask + 1` when masked.
    pub(crate) alloc_entries: u32,
    /// Whether masking was skipped because the creator may bypass Spectre v1.
    pub(crate) bypass_spec_v1: bool,
}

/// Owns an [`Array`] from `map_alloc` until `map_free`.
///
/// # Invariants
///
/// `0` points to a live [`Array`] that nobody else frees; its map area starts at the header, or
/// at the header's page for `BPF_F_MMAPABLE` maps.
pub(crate) struct ArrayBox<S: Storage>(NonNull<Array<S>>);

impl<S: Storage> ArrayBox<S> {
    /// Whether the creator may skip Spectre v1 index masking: `bpf_bypass_spec_v1(NULL)`.
    pub(crate) fn bypass_spec_v1() -> bool {
        // SAFETY: no preconditions; it checks the current task's capabilities.
        unsafe { ffi::rust_arraymap_bypass_spec_v1() }
    }

    /// Allocates and zeroes the array in a map area, initialises its header from `attr` and
    /// fills the elements (`array_map_alloc()`).
    ///
    /// `BPF_F_MMAPABLE` arrays get vmalloc memory with `value[]` at the start of the second
    /// page, so that the values can be mapped to user space.
    pub(crate) fn alloc(attr: &MapAttr<'_>, layout: &ArrayLayout) -> Result<Self> {
        let mmapable = attr.map_flags() & flags::MMAPABLE != 0;
        let area = S::area_size(layout.alloc_entries, layout.elem_size);
        let numa = attr.numa_node();

        let array: *mut bindings::bpf_array = if mmapable {
            let size = page_align(Array::<S>::HEADER_SIZE) + page_align(area);
            // SAFETY: `bpf_map_area_mmapable_alloc()` has no precondition: any size and node
            // are accepted (an impossible one fails with NULL, checked below), and it may sleep,
            // which `map_alloc` (process context, no lock held) allows.
            let data = unsafe { bindings::bpf_map_area_mmapable_alloc(size, numa) };
            if data.is_null() {
                return Err(ENOMEM);
            }
            let off = page_align(Array::<S>::HEADER_SIZE) - Array::<S>::VALUE_OFFSET as u64;
            // SAFETY: `off` is less than a page, inside the allocation.
            unsafe { data.cast::<u8>().add(off as usize).cast() }
        } else {
            // SAFETY: as for `bpf_map_area_mmapable_alloc()` above: no precondition but a
            // context that may sleep, which `map_alloc` is; NULL on failure, checked below.
            let data =
                unsafe { bindings::bpf_map_area_alloc(Array::<S>::HEADER_SIZE + area, numa) };
            if data.is_null() {
                return Err(ENOMEM);
            }
            data.cast()
        };

        // SAFETY: `array` points to a zeroed allocation large enough for the header and
        // `alloc_entries` elements; `attr` holds valid creation attributes.
        unsafe {
            (*array).index_mask = layout.index_mask;
            (*array).map.bypass_spec_v1 = layout.bypass_spec_v1;
            bindings::bpf_map_init_from_attr(&raw mut (*array).map, attr.as_raw());
            (*array).elem_size = layout.elem_size;
        }
        // SAFETY: `array` is not null.
        let array = unsafe { NonNull::new_unchecked(array) };
        // SAFETY: a zeroed array with an initialised header, owned here.
        if let Err(e) = unsafe { S::fill(array) } {
            // SAFETY: `fill` failed and cleaned up after itself; the area is not mmapable
            // (only inline arrays are, and they cannot fail to fill).
            unsafe { bindings::bpf_map_area_free(array.as_ptr().cast()) };
            return Err(e);
        }
        // INVARIANT: the header is initialised and the area holds `alloc_entries` elements,
        // which is `index_mask + 1` unless the creator bypasses masking; `fill` set up the
        // per-CPU allocations of a per-CPU array.
        Ok(Self(array.cast()))
    }

    /// Hands the array over to the BPF core, as the `struct bpf_map *` that `map_alloc` returns.
    pub(crate) fn into_map_ptr(self) -> *mut bindings::bpf_map {
        let map = self.as_map_ptr();
        core::mem::forget(self);
        map
    }

    /// Takes back ownership of an array that the BPF core is done with, in `map_free`.
    ///
    /// # Safety
    ///
    /// `map` must come from [`ArrayBox::into_map_ptr`] of the same storage, and nothing may use
    /// the map any more.
    pub(crate) unsafe fn from_map_ptr(map: *mut bindings::bpf_map) -> Self {
        // INVARIANT: the caller hands over the sole ownership of a live array.
        // SAFETY: `map` is not null, and `Array` starts with it.
        Self(unsafe { NonNull::new_unchecked(map.cast()) })
    }
}

impl<S: Storage> core::ops::Deref for ArrayBox<S> {
    type Target = Array<S>;

    fn deref(&self) -> &Array<S> {
        // SAFETY: the array is live while `self` owns it (type invariant).
        unsafe { self.0.as_ref() }
    }
}

impl<S: Storage> Drop for ArrayBox<S> {
    /// Frees the special fields of every value (kptrs, timers...), the per-CPU allocations and
    /// the map area, as `array_map_free()` does.
    fn drop(&mut self) {
        // SAFETY: the array is filled and owned by `self`; nothing uses it any more.
        unsafe { S::drain(self.0.cast()) };
        let base = if self.map_flags() & flags::MMAPABLE != 0 {
            (self.as_map_ptr() as usize & !(bindings::PAGE_SIZE - 1)) as *mut c_void
        } else {
            self.as_map_ptr().cast()
        };
        // SAFETY: `base` is the start of the map area allocated by `alloc` (type invariant), and
        // nothing uses the array any more.
        unsafe { bindings::bpf_map_area_free(base) };
    }
}
