// SPDX-License-Identifier: GPL-2.0

//! What the unit tests (`#[kunit_tests]`) build instead of a map: the creation attributes of a
//! `BPF_MAP_CREATE` and the header of an array. Compiled with `CONFIG_KUNIT=y` only.

use super::{
    array::{ArrayHeader, Storage},
    attr::{MapAttr, MapType},
};
use core::marker::PhantomData;
use kernel::{bindings, types::Opaque};

/// The `union bpf_attr` of a `BPF_MAP_CREATE`, zeroed but for what the test sets.
pub(crate) struct TestAttr(Opaque<bindings::bpf_attr>);

impl TestAttr {
    /// Attributes of a map of `map_type` with 4-byte keys, as user space would pass them.
    pub(crate) fn new(
        map_type: MapType,
        value_size: u32,
        max_entries: u32,
        map_flags: u32,
    ) -> Self {
        let attr = Opaque::<bindings::bpf_attr>::zeroed();
        // SAFETY: `attr` is a zeroed `union bpf_attr` owned here; every member is plain
        // integers, so writing fields of the map-creation member makes it the active one.
        unsafe {
            let create = &mut (*attr.get()).__bindgen_anon_1;
            create.map_type = map_type.as_raw();
            create.key_size = 4;
            create.value_size = value_size;
            create.max_entries = max_entries;
            create.map_flags = map_flags;
        }
        Self(attr)
    }

    /// Sets `key_size`.
    pub(crate) fn key_size(self, key_size: u32) -> Self {
        // SAFETY: the map-creation member is the active one (`new`), and `self` is owned.
        unsafe { (*self.0.get()).__bindgen_anon_1.key_size = key_size };
        self
    }

    /// Sets `numa_node`.
    pub(crate) fn numa_node(self, node: u32) -> Self {
        // SAFETY: as in `key_size`.
        unsafe { (*self.0.get()).__bindgen_anon_1.numa_node = node };
        self
    }

    /// The attributes as the ops see them.
    pub(crate) fn attr(&self) -> MapAttr<'_> {
        // SAFETY: a `union bpf_attr` whose map-creation member is the active one (`new`),
        // borrowed from `self` for the lifetime of the result.
        unsafe { MapAttr::from_raw(self.0.get()) }
    }
}

/// The header of an array without elements, as an inner-map template has it: what
/// `map_gen_lookup` reads.
pub(crate) struct TestHeader<S: Storage>(Opaque<bindings::bpf_array>, PhantomData<S>);

impl<S: Storage> TestHeader<S> {
    /// A header of `max_entries` elements of `elem_size` bytes (`round_up(value_size, 8)`, for
    /// per-CPU storage too), masked by `index_mask` unless `bypass_spec_v1`.
    pub(crate) fn new(
        max_entries: u32,
        elem_size: u32,
        index_mask: u32,
        bypass_spec_v1: bool,
        map_flags: u32,
    ) -> Self {
        let array = Opaque::<bindings::bpf_array>::zeroed();
        // SAFETY: `array` is a zeroed `struct bpf_array` owned here.
        unsafe {
            let raw = &mut *array.get();
            raw.map.max_entries = max_entries;
            raw.map.value_size = elem_size;
            raw.map.map_flags = map_flags;
            raw.map.bypass_spec_v1 = bypass_spec_v1;
            raw.elem_size = elem_size;
            raw.index_mask = index_mask;
        }
        Self(array, PhantomData)
    }

    /// The header as `map_gen_lookup` sees it.
    pub(crate) fn header(&self) -> &ArrayHeader<S> {
        // SAFETY: `self.0` is a `struct bpf_array` whose header fields are initialised (`new`)
        // and never written again, alive as long as the borrow of `self`, as
        // `ArrayHeader::from_map` requires of a template; nothing behind the header is read.
        unsafe { ArrayHeader::from_map(self.0.get().cast::<bindings::bpf_map>()) }
    }
}
