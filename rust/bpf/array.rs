// SPDX-License-Identifier: GPL-2.0

//! `struct bpf_array`, the layout the whole array family shares with the rest of the kernel.
//!
//! The JITs, the verifier's inlined lookups and several helpers read this struct directly, so
//! the module allocates the kernel's own struct, in a map area from `bpf_map_area_alloc()`,
//! exactly as `kernel/bpf/arraymap.c` does. What the area behind the header holds is told by
//! its [`Storage`], a trait defined here and implemented with each storage (`storage.rs`:
//! `value[]` and `pptrs[]`; `fd_array.rs`: `ptrs[]`); a value in it is an [`Elem`] (`elem.rs`).

use super::{
    attr::{flags, MapAttr, MapType},
    elem::Elem,
    ffi, percpu,
    value::ValueBuf,
};
use core::{marker::PhantomData, mem::size_of, ptr::NonNull};
use kernel::{bindings, ffi::c_void, prelude::*, types::Opaque};

const PAGE_SIZE: u64 = bindings::PAGE_SIZE as u64;

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

    /// Whether the elements are object pointers of an fd array (`ptrs[]`).
    const FD: bool;

    /// The objects that the slots of an fd array own
    /// ([`FdElem`](super::fd_array::FdElem)s, as [`MapOps`](super::ops::MapOps) requires of
    /// its storage); [`NoElem`](super::fd_array::NoElem) for the other arrays.
    type Elem;

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

/// An array map, seen through the `struct bpf_map` the BPF core hands to the ops.
///
/// # Invariants
///
/// `0` is a `struct bpf_array` set up by [`ArrayBox::alloc`] for storage `S` and not yet freed:
/// the map header was initialised from the creation attributes, `elem_size` and `index_mask`
/// are set (as [`ArrayBox::alloc`] computes them: `elem_size` is `value_size` rounded up to 8,
/// so at least `value_size`) and never change, and the area behind the header holds
/// `index_mask + 1` elements, or `max_entries` elements when the map bypasses Spectre v1
/// masking. Since `index_mask` is at least `max_entries - 1`, `index & index_mask` is in bounds
/// for every index. With [`Inline`](super::storage::Inline) storage the elements are values of
/// `elem_size` bytes (`value[]`); with [`PerCpu`](super::storage::PerCpu) they are pointers
/// (`pptrs[]`), of which the first `max_entries` are live per-CPU allocations of `elem_size`
/// bytes, written at allocation and never changed; with [`Ptrs`](super::fd_array::Ptrs) they
/// are object pointers (`ptrs[]`), null or a value from `E::into_raw` that the slot owns,
/// accessed atomically only. `aux` is null, or the
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
    /// `S`, or of an inner-map template made from one, or of a header a unit test built
    /// (`fixture::TestHeader`, whose fields are set once), that stays alive for `'a`.
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

    /// `map.map_type`: one of the array types, the ones whose ops make an `Array`.
    pub(crate) fn map_type(&self) -> Option<MapType> {
        MapType::from_raw(creation_field!(self, map_type))
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
    pub(super) unsafe fn value_at(&self, ptr: NonNull<u8>) -> Elem<'_> {
        // SAFETY: the caller guarantees it.
        unsafe { Elem::new(self.raw(), ptr) }
    }
}

/// The byte offset of element `index` in `value[]`, in 64 bits: an array of more than 4 GiB has
/// elements past `u32::MAX` bytes (`array_map_lookup_elem()` computed it as a `u32` product
/// until 87ac0d600943, CVE-2022-50167).
#[inline]
pub(super) const fn elem_offset(elem_size: u32, index: u32) -> u64 {
    elem_size as u64 * index as u64
}

/// `round_up(value_size, 8)`, the size of an element, in 64 bits: no `value_size` overflows it.
pub(crate) const fn elem_size_of(value_size: u32) -> u64 {
    (value_size as u64 + 7) & !7
}

/// How to lay out a new array: what `array_map_alloc()` computes from the creation attributes
/// before allocating. Only [`ArrayLayout::of`] makes one, inside [`ArrayBox::alloc`]: no map
/// type chooses the sizes that the unchecked accesses rely on.
///
/// # Invariants
///
/// For the attributes it was computed from: `elem_size` is `round_up(value_size, 8)`, at least
/// `value_size` and at most `2^31`; `index_mask` is `2^fls(max_entries - 1) - 1`, at least
/// `max_entries - 1`; `alloc_entries` is `max_entries` if `bypass_spec_v1`, else
/// `index_mask + 1`, so at least `max_entries` and, unless bypassed, more than every masked
/// index.
struct ArrayLayout {
    elem_size: u32,
    index_mask: u32,
    alloc_entries: u32,
    bypass_spec_v1: bool,
}

impl ArrayLayout {
    /// The layout of an array created with `attr` by the current task: against Spectre v1,
    /// unless the creator may bypass it, the array is rounded up to a power of two and every
    /// index is masked.
    fn of<S: Storage>(attr: &MapAttr<'_>) -> Result<Self> {
        Self::compute(
            attr.max_entries(),
            attr.value_size(),
            ArrayBox::<S>::bypass_spec_v1(),
        )
    }

    /// The layout for `max_entries` values of `value_size` bytes, for a creator who may
    /// (`bypass_spec_v1`) or may not bypass Spectre v1 masking. `EINVAL` for an empty array or
    /// value, `E2BIG` for a value over `INT_MAX` (`array_map_alloc_check()` refuses both
    /// first) or an array that masking would round past `2^32` entries (`array_map_alloc()`).
    fn compute(max_entries: u32, value_size: u32, bypass_spec_v1: bool) -> Result<Self> {
        if max_entries == 0 || value_size == 0 {
            return Err(EINVAL);
        }
        if value_size > i32::MAX as u32 {
            return Err(E2BIG);
        }
        // fls_long(max_entries - 1), in 64 bits so that 1 << 32 is defined.
        let bits = u32::BITS - (max_entries - 1).leading_zeros();
        let index_mask = ((1u64 << bits) - 1) as u32;
        let alloc_entries = if bypass_spec_v1 {
            max_entries
        } else {
            // Wraps to 0 for max_entries > 1 << 31: too big.
            let rounded = index_mask.wrapping_add(1);
            if rounded < max_entries {
                return Err(E2BIG);
            }
            rounded
        };
        // INVARIANT: `value_size <= INT_MAX`, so its round-up is at most 2^31 and fits; the
        // mask and the entries as stated, with the rounding's overflow refused.
        Ok(Self {
            elem_size: elem_size_of(value_size) as u32,
            index_mask,
            alloc_entries,
            bypass_spec_v1,
        })
    }
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
    /// fills the elements (`array_map_alloc()`), in the layout it computes from `attr`
    /// ([`ArrayLayout`]).
    ///
    /// `BPF_F_MMAPABLE` arrays get vmalloc memory with `value[]` at the start of the second
    /// page, so that the values can be mapped to user space.
    pub(crate) fn alloc(attr: &MapAttr<'_>) -> Result<Self> {
        let layout = ArrayLayout::of::<S>(attr)?;
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
        // `alloc_entries` elements (`area_size()` of the layout computed from `attr`); `attr`
        // holds valid creation attributes.
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
            // SAFETY: `fill` failed and cleaned up after itself; the area starts where it was
            // allocated above (`area_base`), and nothing else knows of it.
            unsafe { bindings::bpf_map_area_free(area_base(array.as_ptr(), mmapable)) };
            return Err(e);
        }
        // INVARIANT: the header is initialised and the area holds `alloc_entries` elements of
        // `elem_size >= value_size` bytes, `index_mask + 1` unless the creator bypasses
        // masking, at least `max_entries` (invariants of `ArrayLayout`); `fill` set up the
        // per-CPU allocations of a per-CPU array.
        Ok(Self(array.cast()))
    }

    /// The array, for the layer's own work on an array no one else sees (filling, emptying).
    pub(super) fn array(&self) -> &Array<S> {
        // SAFETY: the array is live while `self` owns it (type invariant).
        unsafe { self.0.as_ref() }
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

/// An array being created or freed shows its header only: the operations of [`Array`] (slots,
/// the PROG_ARRAY aux, inner-map templates, program binding) assume a map the BPF core has
/// published and holds a reference on, which an `ArrayBox` is not.
impl<S: Storage> core::ops::Deref for ArrayBox<S> {
    type Target = ArrayHeader<S>;

    fn deref(&self) -> &ArrayHeader<S> {
        self.array()
    }
}

impl<S: Storage> Drop for ArrayBox<S> {
    /// Frees the special fields of every value (kptrs, timers...), the per-CPU allocations and
    /// the map area, as `array_map_free()` does.
    fn drop(&mut self) {
        // SAFETY: the array is filled and owned by `self`; nothing uses it any more.
        unsafe { S::drain(self.0.cast()) };
        let base = area_base(
            self.0.as_ptr().cast(),
            self.map_flags() & flags::MMAPABLE != 0,
        );
        // SAFETY: `base` is the start of the map area allocated by `alloc` (type invariant), and
        // nothing uses the array any more.
        unsafe { bindings::bpf_map_area_free(base) };
    }
}

/// The start of the map area of `array`, as [`ArrayBox::alloc`] placed it: the header's page
/// for a `BPF_F_MMAPABLE` array, the header itself otherwise.
fn area_base(array: *mut bindings::bpf_array, mmapable: bool) -> *mut c_void {
    if mmapable {
        (array as usize & !(bindings::PAGE_SIZE - 1)) as *mut c_void
    } else {
        array.cast()
    }
}

#[kunit_tests(rust_arraymap_layout)]
mod tests {
    use super::{elem_offset, elem_size_of, ArrayLayout};
    use kernel::prelude::*;

    /// `(elem_size, index_mask, alloc_entries)` of a layout.
    fn sizes(l: &ArrayLayout) -> (u32, u32, u32) {
        (l.elem_size, l.index_mask, l.alloc_entries)
    }

    #[test]
    fn elem_size_rounds_up_to_8() {
        assert_eq!(elem_size_of(1), 8);
        assert_eq!(elem_size_of(8), 8);
        assert_eq!(elem_size_of(9), 16);
        assert_eq!(elem_size_of(i32::MAX as u32), 1 << 31);
        assert_eq!(elem_size_of(u32::MAX), 1 << 32);
    }

    #[test]
    fn offsets_past_4_gib() {
        // 87ac0d600943 (CVE-2022-50167): element 2^31 of 8-byte values is 16 GiB in, not 0.
        assert_eq!(elem_offset(8, 1 << 31), 1 << 34);
        assert_eq!(elem_offset(1 << 31, 3), 3 << 31);
        assert_eq!(elem_offset(1 << 31, u32::MAX), u64::from(u32::MAX) << 31);
        // The last index of an array of 2^31 + 1 entries of 16 bytes (a privileged creator's:
        // unmasked), 32 GiB in.
        assert_eq!(elem_offset(16, 1 << 31), 1 << 35);
    }

    #[test]
    fn masks_unless_bypassed() -> Result {
        let l = ArrayLayout::compute(5, 4, false)?;
        assert_eq!(sizes(&l), (8, 7, 8));
        assert!(!l.bypass_spec_v1);
        let l = ArrayLayout::compute(5, 4, true)?;
        assert_eq!(sizes(&l), (8, 7, 5));
        assert!(l.bypass_spec_v1);
        assert_eq!(sizes(&ArrayLayout::compute(1, 8, false)?), (8, 0, 1));
        let l = ArrayLayout::compute(1 << 31, 8, false)?;
        assert_eq!(sizes(&l), (8, u32::MAX >> 1, 1 << 31));
        let l = ArrayLayout::compute(u32::MAX, i32::MAX as u32, true)?;
        assert_eq!(sizes(&l), (1 << 31, u32::MAX, u32::MAX));
        Ok(())
    }

    #[test]
    fn refuses_what_it_cannot_lay_out() {
        // The Spectre v1 round-up of an unprivileged creator's array wraps to 0.
        assert!(ArrayLayout::compute((1 << 31) + 1, 8, false).err() == Some(E2BIG));
        assert!(ArrayLayout::compute(u32::MAX, 8, false).err() == Some(E2BIG));
        // What array_map_alloc_check() refuses first, refused here too: no caller can get a
        // layout whose elements are smaller than the values, or none at all.
        assert!(ArrayLayout::compute(4, i32::MAX as u32 + 1, true).err() == Some(E2BIG));
        assert!(ArrayLayout::compute(4, u32::MAX, true).err() == Some(E2BIG));
        assert!(ArrayLayout::compute(0, 8, true).err() == Some(EINVAL));
        assert!(ArrayLayout::compute(4, 0, true).err() == Some(EINVAL));
    }
}
