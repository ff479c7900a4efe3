// SPDX-License-Identifier: GPL-2.0

//! The ops of an array map type, as a Rust trait: [`MapOps`].
//!
//! The pattern is the one of `rust/kernel/miscdevice.rs` and `rust/kernel/block/mq/`: a
//! `#[vtable]` trait here, a private adapter whose `unsafe extern "C"` trampolines fill a
//! `const` ops table (`adapter.rs`), and the registration with the BPF core
//! (`registration.rs`). An op that the map type does not implement is absent from the table
//! (`None`), so the BPF core answers for it as it does for any map type without that op.

use super::{
    array::{Array, ArrayBox, ArrayHeader, Storage},
    attr::{MapAttr, MapType},
    batch::Batch,
    btf::BtfType,
    elem::{DirectValue, MmapPage, ValuePtr},
    fd_array::{FdElem, MapFile},
    for_each::ForEachCallback,
    insn::Lookup,
    map::MapHeader,
    value::{ValueBuf, ValueSrc},
};
use kernel::{error::VTABLE_DEFAULT_ERROR, mm::virt::VmaNew, prelude::*, seq_file::SeqFile};

/// The ops of one array map type.
///
/// Every map these ops receive was allocated by [`MapOps::alloc`] and is alive for the call.
#[vtable]
pub(crate) trait MapOps {
    /// Where the maps keep their elements: inline values, per-CPU allocations or the slots of an
    /// fd array, whose objects are [`FdElem`]s ([`NoElem`](super::fd_array::NoElem) for the
    /// others).
    type Storage: Storage<Elem: FdElem>;

    /// The `enum bpf_map_type` these ops serve.
    const MAP_TYPE: MapType;

    /// Whether the map takes the kernel's generic batch operations
    /// (`generic_map_lookup_batch()`, `generic_map_update_batch()`), as the C array maps do,
    /// where it has no [`MapOps::lookup_batch`] and [`MapOps::update_batch`] of its own.
    const GENERIC_BATCH: bool = false;

    /// Whether `iter/bpf_map_elem` programs can iterate over the map's values.
    const ITERATOR: bool = false;

    /// Whether lookups answer `ERR_PTR(-EOPNOTSUPP)` (`fd_array_map_lookup_elem()`): the fd
    /// arrays other than ARRAY_OF_MAPS have no value that a pointer could lead to.
    const LOOKUP_UNSUPPORTED: bool = false;

    /// Validates the creation attributes (`map_alloc_check`).
    fn alloc_check(attr: &MapAttr<'_>) -> Result;

    /// Allocates a map (`map_alloc`).
    fn alloc(attr: &MapAttr<'_>) -> Result<ArrayBox<Self::Storage>>;

    /// Frees a map once its last reference is gone (`map_free`).
    fn free(map: ArrayBox<Self::Storage>) {
        drop(map);
    }

    /// Memory used by the map, as fdinfo's `memlock` shows it (`map_mem_usage`).
    fn mem_usage(map: &Array<Self::Storage>) -> u64;

    /// Looks up an element, for the syscall layer and for BPF programs (`map_lookup_elem`).
    fn lookup_elem(_map: &Array<Self::Storage>, _key: u32) -> Option<ValuePtr> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Updates an element (`map_update_elem`).
    fn update_elem(
        _map: &Array<Self::Storage>,
        _key: u32,
        _value: &ValueSrc<'_>,
        _flags: u64,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Looks up the copy of `cpu` of a per-CPU element, for `bpf_map_lookup_percpu_elem()`
    /// (`map_lookup_percpu_elem`).
    fn lookup_percpu_elem(_map: &Array<Self::Storage>, _key: u32, _cpu: u32) -> Option<ValuePtr> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Copies the values of a per-CPU element to the syscall's buffer (`map_percpu_copy`): one
    /// value with `BPF_F_CPU`, else `elem_size` bytes for each possible CPU.
    fn percpu_copy(
        _map: &Array<Self::Storage>,
        _key: u32,
        _values: &mut ValueBuf<'_>,
        _flags: u64,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Writes the values of a per-CPU element from the syscall's buffer (`map_percpu_update`):
    /// one value with `BPF_F_CPU` or `BPF_F_ALL_CPUS`, else `elem_size` bytes for each
    /// possible CPU.
    fn percpu_update(
        _map: &Array<Self::Storage>,
        _key: u32,
        _values: &ValueBuf<'_>,
        _flags: u64,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `BPF_MAP_LOOKUP_BATCH` (`map_lookup_batch`), usually [`Batch::lookup`].
    fn lookup_batch(_map: &Array<Self::Storage>, _batch: &Batch<'_>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// `BPF_MAP_UPDATE_BATCH` (`map_update_batch`), usually [`Batch::update`].
    fn update_batch(_map: &Array<Self::Storage>, _batch: &Batch<'_>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Deletes an element (`map_delete_elem`).
    fn delete_elem(_map: &Array<Self::Storage>, _key: u32) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The key after `key`, or the first key for `None` (`map_get_next_key`).
    fn get_next_key(_map: &Array<Self::Storage>, _key: Option<u32>) -> Result<u32> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The instructions that the verifier inlines for a lookup (`map_gen_lookup`): one of the
    /// sequences [`Lookup`] makes from the map's header, or `EOPNOTSUPP` for the helper call.
    fn gen_lookup(_map: &ArrayHeader<Self::Storage>) -> Result<Lookup> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Address of the value at offset `off`, for `ldimm64` of global data
    /// (`map_direct_value_addr`).
    fn direct_value_addr(_map: &Array<Self::Storage>, _off: u32) -> Result<DirectValue> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Offset in the value of the address `imm` (`map_direct_value_meta`).
    fn direct_value_meta(_map: &Array<Self::Storage>, _imm: u64) -> Result<u32> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Can `meta1` be stored in an outer map whose inner-map template is `meta0`
    /// (`map_meta_equal`)? Without it, the map cannot be an inner map.
    fn meta_equal(_meta0: &MapHeader, _meta1: &MapHeader) -> bool {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Called when the last user reference (fd, pin) is gone (`map_release_uref`).
    fn release_uref(_map: &Array<Self::Storage>) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Prints an element for bpffs (`map_seq_show_elem`).
    fn seq_show_elem(_map: &Array<Self::Storage>, _key: u32, _m: &SeqFile) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Calls `cb` on the elements until it returns non-zero; the number of calls
    /// (`map_for_each_callback`). The verifier checks the callback with
    /// `map_set_for_each_callback_args()`.
    fn for_each(_map: &Array<Self::Storage>, _cb: &ForEachCallback, _flags: u64) -> Result<u32> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Computes the hash of a frozen map's values into `map.sha` (`map_get_hash`).
    fn get_hash(_map: &Array<Self::Storage>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Checks a user mapping of the values at page offset `pgoff`, and sets its flags
    /// (`map_mmap`). Pages are faulted in later through [`MapOps::mmap_fault`].
    fn mmap(_map: &Array<Self::Storage>, _vma: &VmaNew, _pgoff: u64) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The page of the map that backs page `pgoff` of a user mapping (`map_mmap_fault`);
    /// `None` answers `VM_FAULT_SIGBUS`.
    fn mmap_fault(_map: &Array<Self::Storage>, _pgoff: u64) -> Option<MmapPage> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Checks the key and value BTF types given at creation (`map_check_btf`).
    fn check_btf(_map: &Array<Self::Storage>, _key: &BtfType<'_>, _value: &BtfType<'_>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Takes a reference on the object behind `fd`, for storing it in an fd array
    /// (`map_fd_get_ptr`). Dropping the value is `map_fd_put_ptr`.
    fn fd_get_ptr(
        _map: &Array<Self::Storage>,
        _map_file: MapFile,
        _fd: u32,
    ) -> Result<FdElemOf<Self>> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The id user space reads for a stored object (`map_fd_sys_lookup_elem`).
    fn fd_sys_lookup_elem(_obj: &<FdElemOf<Self> as FdElem>::Target) -> u32 {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The syscall lookup of an fd array: the id of the object at `key` (`map_fd_lookup_elem`).
    fn fd_lookup_elem(_map: &Array<Self::Storage>, _key: u32) -> Result<u32> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// The syscall update of an fd array: stores the object behind `fd` at `key`
    /// (`map_fd_update_elem`).
    fn fd_update_elem(
        _map: &Array<Self::Storage>,
        _map_file: MapFile,
        _key: u32,
        _fd: u32,
        _flags: u64,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// A file of the map is closed (`map_release`).
    fn release(_map: &Array<Self::Storage>, _map_file: MapFile) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The object that the slots of `T`'s maps hold: a reference taken by
/// [`MapOps::fd_get_ptr`] (fd arrays only).
pub(crate) type FdElemOf<T> = <<T as MapOps>::Storage as Storage>::Elem;
