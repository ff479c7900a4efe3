// SPDX-License-Identifier: GPL-2.0

//! `struct bpf_array`, the layout the whole array family shares with the rest of the kernel.
//!
//! The JITs, the verifier's inlined lookups and several helpers read this struct directly, so
//! the module allocates the kernel's own struct, in a map area from `bpf_map_area_alloc()`,
//! exactly as `kernel/bpf/arraymap.c` does.

use super::{attr::flags, attr::MapAttr, ffi};
use core::{marker::PhantomData, mem::size_of, ptr::NonNull};
use kernel::{bindings, ffi::c_void, prelude::*, seq_file::SeqFile, types::Opaque};

const PAGE_SIZE: u64 = bindings::PAGE_SIZE as u64;

/// `PAGE_ALIGN()`.
pub(crate) const fn page_align(size: u64) -> u64 {
    (size + PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

/// An array map, seen through the `struct bpf_map` the BPF core hands to the ops.
///
/// # Invariants
///
/// `0` is a `struct bpf_array` set up by [`ArrayBox::alloc`] and not yet freed: the map header
/// was initialised from the creation attributes, `elem_size` and `index_mask` are set and never
/// change, and the value area behind the header holds `index_mask + 1` elements of `elem_size`
/// bytes, or `max_entries` elements when the map bypasses Spectre v1 masking. Since `index_mask`
/// is at least `max_entries - 1`, `index & index_mask` is in bounds for every index.
#[repr(transparent)]
pub(crate) struct Array(Opaque<bindings::bpf_array>);

impl Array {
    /// Size of the header, `sizeof(struct bpf_array)`.
    pub(crate) const HEADER_SIZE: u64 = size_of::<bindings::bpf_array>() as u64;

    /// Offset of `value[]` in the header, `offsetof(struct bpf_array, value)`.
    pub(crate) const VALUE_OFFSET: i32 =
        core::mem::offset_of!(bindings::bpf_array, __bindgen_anon_1) as i32;

    /// Borrows the array behind a map pointer that the BPF core passed to an op.
    ///
    /// # Safety
    ///
    /// `map` must be the `map` member of an array allocated by [`ArrayBox::alloc`] that stays
    /// alive for `'a`.
    pub(crate) unsafe fn from_map<'a>(map: *const bindings::bpf_map) -> &'a Self {
        // SAFETY: `map` is the first member of `struct bpf_array` (offset 0), `Array` is a
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

    fn map(&self) -> &bindings::bpf_map {
        // SAFETY: the header is initialised (type invariant), and the fields read through this
        // reference are set at creation and never written again.
        unsafe { &*self.as_map_ptr() }
    }

    /// `map.max_entries`, as the user asked for it.
    pub(crate) fn max_entries(&self) -> u32 {
        self.map().max_entries
    }

    /// `map.value_size`.
    pub(crate) fn value_size(&self) -> u32 {
        self.map().value_size
    }

    /// `map.map_flags`.
    pub(crate) fn map_flags(&self) -> u32 {
        self.map().map_flags
    }

    /// `map.map_type`.
    pub(crate) fn map_type(&self) -> u32 {
        self.map().map_type
    }

    /// Whether the creator may skip Spectre v1 index masking.
    pub(crate) fn bypass_spec_v1(&self) -> bool {
        self.map().bypass_spec_v1
    }

    /// Size of one element: `value_size` rounded up to 8.
    pub(crate) fn elem_size(&self) -> u32 {
        // SAFETY: `elem_size` is set at allocation and never written again (type invariant).
        unsafe { (*self.raw()).elem_size }
    }

    /// The mask applied to every index against speculative out-of-bounds access.
    pub(crate) fn index_mask(&self) -> u32 {
        // SAFETY: `index_mask` is set at allocation and never written again (type invariant).
        unsafe { (*self.raw()).index_mask }
    }

    /// Address of the first value, `array->value`.
    pub(crate) fn values(&self) -> *mut u8 {
        // SAFETY: `raw()` is valid (type invariant); this only computes the address of `value[]`.
        unsafe { (&raw mut (*self.raw()).__bindgen_anon_1).cast() }
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
        // INVARIANT: `ptr` is the in-bounds element at `index`.
        Some(Elem {
            array: self,
            // SAFETY: an address inside an allocation is not null.
            ptr: unsafe { NonNull::new_unchecked(ptr) },
        })
    }

    /// Every element in index order, without the per-index masking of [`Array::elem`]: the
    /// indices are below `max_entries` by construction (`array_map_elem_ptr()` in C).
    pub(crate) fn elems(&self) -> impl Iterator<Item = (u32, Elem<'_>)> + '_ {
        let values = self.values();
        let elem_size = self.elem_size() as usize;
        (0..self.max_entries()).map(move |index| {
            // SAFETY: `index < max_entries`, so the element is inside the value area (type
            // invariant).
            let ptr = unsafe { values.add(elem_size * index as usize) };
            // INVARIANT: an in-bounds element of this array.
            let elem = Elem {
                array: self,
                // SAFETY: an address inside an allocation is not null.
                ptr: unsafe { NonNull::new_unchecked(ptr) },
            };
            (index, elem)
        })
    }

    /// Do the values hold timers, workqueues or task_work, which go with the last user reference?
    pub(crate) fn has_internal_structs(&self) -> bool {
        // SAFETY: the map header is valid (type invariant).
        unsafe { ffi::rust_arraymap_has_internal_structs(self.as_map_ptr()) }
    }

    /// `map.btf_key_type_id`: non-zero when the map was created with BTF for its key.
    pub(crate) fn btf_key_type_id(&self) -> u32 {
        self.map().btf_key_type_id
    }

    /// Pretty-prints the value of `elem` with the map's BTF (`btf_type_seq_show()`).
    pub(crate) fn seq_show_value(&self, elem: &Elem<'_>, m: &SeqFile) {
        let map = self.map();
        // `SeqFile` wraps a `struct seq_file` transparently (see `SeqFile::from_raw`).
        let seq = core::ptr::from_ref(m)
            .cast_mut()
            .cast::<bindings::seq_file>();
        // SAFETY: `map.btf` and the value type id were checked at creation and live as long as
        // the map; `elem` is a value of this map and `seq` a valid seq_file.
        unsafe {
            bindings::btf_type_seq_show(
                map.btf,
                map.btf_value_type_id,
                elem.ptr().as_ptr().cast(),
                seq,
            )
        };
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

    /// Does the value type hold a special field of `ty` (`BPF_SPIN_LOCK`, ...)?
    pub(crate) fn has_field(&self, ty: u32) -> bool {
        // SAFETY: the map header is valid (type invariant).
        unsafe { ffi::rust_arraymap_record_has_field(self.as_map_ptr(), ty) }
    }
}

/// One element of an [`Array`].
///
/// # Invariants
///
/// `ptr` points to an element of `array`'s value area: `elem_size` bytes inside the map area.
pub(crate) struct Elem<'a> {
    array: &'a Array,
    ptr: NonNull<u8>,
}

impl Elem<'_> {
    /// The element's address, as handed to BPF programs and to the syscall layer.
    pub(crate) fn ptr(&self) -> NonNull<u8> {
        self.ptr
    }

    /// Overwrites the element with `value`, as `array_map_update_elem()` does: special fields
    /// are left alone (or the copy is made under the value's spin lock with `locked`), then
    /// cancelled (timers, workqueues...).
    pub(crate) fn store(&self, value: &ValueSrc<'_>, locked: bool) {
        let map = self.array.as_map_ptr();
        let dst = self.ptr.as_ptr().cast::<c_void>();
        let src = value.0.cast::<c_void>();
        if locked {
            // SAFETY: `map` is valid, `dst` is an element of it (type invariant) and `src` holds
            // `value_size` bytes (invariant of `ValueSrc`); the caller checked that the value
            // has a spin lock.
            unsafe { bindings::copy_map_value_locked(map, dst, src, false) };
        } else {
            // SAFETY: as above.
            unsafe { ffi::rust_arraymap_copy_map_value(map, dst, src) };
        }
        // SAFETY: `dst` is an element of the valid map `map`.
        unsafe { bindings::bpf_obj_cancel_fields(map, dst) };
    }
}

impl Elem<'_> {
    /// Frees the timers, workqueues and task_work of the value
    /// (`bpf_map_free_internal_structs()`).
    pub(crate) fn free_internal_structs(&self) {
        // SAFETY: the element is a value of the valid map (type invariant).
        unsafe {
            bindings::bpf_map_free_internal_structs(
                self.array.as_map_ptr(),
                self.ptr.as_ptr().cast(),
            )
        };
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
    pub(crate) fn call_each(&self, array: &Array) -> u32 {
        let map = array.as_map_ptr() as u64;
        let values = array.values();
        let elem_size = array.elem_size() as usize;
        let max_entries = array.max_entries();
        let mut index = 0;
        while index < max_entries {
            // SAFETY: `index < max_entries`: the element is inside the value area.
            let value = unsafe { values.add(elem_size * index as usize) };
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
pub(crate) struct ArrayBox(NonNull<Array>);

impl ArrayBox {
    /// Whether the creator may skip Spectre v1 index masking: `bpf_bypass_spec_v1(NULL)`.
    pub(crate) fn bypass_spec_v1() -> bool {
        // SAFETY: no preconditions; it checks the current task's capabilities.
        unsafe { ffi::rust_arraymap_bypass_spec_v1() }
    }

    /// Allocates and zeroes the array in a map area and initialises its header from `attr`.
    ///
    /// `BPF_F_MMAPABLE` arrays get vmalloc memory with `value[]` at the start of the second
    /// page, so that the values can be mapped to user space.
    pub(crate) fn alloc(attr: &MapAttr<'_>, layout: &ArrayLayout) -> Result<Self> {
        let mmapable = attr.map_flags() & flags::MMAPABLE != 0;
        let values = u64::from(layout.alloc_entries) * u64::from(layout.elem_size);
        let numa = attr.numa_node();

        let array: *mut bindings::bpf_array = if mmapable {
            let size = page_align(Array::HEADER_SIZE) + page_align(values);
            // SAFETY: plain allocation call.
            let data = unsafe { bindings::bpf_map_area_mmapable_alloc(size, numa) };
            if data.is_null() {
                return Err(ENOMEM);
            }
            let off = page_align(Array::HEADER_SIZE) - Array::VALUE_OFFSET as u64;
            // SAFETY: `off` is less than a page, inside the allocation.
            unsafe { data.cast::<u8>().add(off as usize).cast() }
        } else {
            // SAFETY: plain allocation call.
            let data = unsafe { bindings::bpf_map_area_alloc(Array::HEADER_SIZE + values, numa) };
            if data.is_null() {
                return Err(ENOMEM);
            }
            data.cast()
        };

        // SAFETY: `array` points to a zeroed allocation large enough for the header and
        // `alloc_entries` values; `attr` holds valid creation attributes.
        unsafe {
            (*array).index_mask = layout.index_mask;
            (*array).map.bypass_spec_v1 = layout.bypass_spec_v1;
            bindings::bpf_map_init_from_attr(&raw mut (*array).map, attr.as_raw());
            (*array).elem_size = layout.elem_size;
        }
        // INVARIANT: the header is initialised and the value area holds `alloc_entries`
        // elements, which is `index_mask + 1` unless the creator bypasses masking.
        // SAFETY: `array` is not null.
        Ok(Self(unsafe { NonNull::new_unchecked(array.cast()) }))
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
    /// `map` must come from [`ArrayBox::into_map_ptr`], and nothing may use the map any more.
    pub(crate) unsafe fn from_map_ptr(map: *mut bindings::bpf_map) -> Self {
        // INVARIANT: the caller hands over the sole ownership of a live array.
        // SAFETY: `map` is not null, and `Array` starts with it.
        Self(unsafe { NonNull::new_unchecked(map.cast()) })
    }
}

impl core::ops::Deref for ArrayBox {
    type Target = Array;

    fn deref(&self) -> &Array {
        // SAFETY: the array is live while `self` owns it (type invariant).
        unsafe { self.0.as_ref() }
    }
}

impl Drop for ArrayBox {
    /// Frees the special fields of every value (kptrs, timers...) and the map area, as
    /// `array_map_free()` does for `BPF_MAP_TYPE_ARRAY`.
    fn drop(&mut self) {
        let map = self.as_map_ptr();
        // SAFETY: `map` is valid; `record` was set up by the BPF core and is not changed while
        // the map is freed.
        let record = unsafe { (*map).record };
        // SAFETY: `IS_ERR()` only looks at the pointer value.
        if !record.is_null() && !unsafe { bindings::IS_ERR(record.cast()) } {
            for (_, elem) in self.elems() {
                // SAFETY: `record` describes the values of this map; `elem` is one of them.
                unsafe { bindings::bpf_obj_free_fields(record, elem.ptr().as_ptr().cast()) };
            }
        }
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
