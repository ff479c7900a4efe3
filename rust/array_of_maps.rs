// SPDX-License-Identifier: GPL-2.0

//! `BPF_MAP_TYPE_ARRAY_OF_MAPS` (`array_of_maps_map_ops` in `kernel/bpf/arraymap.c`,
//! Linux 7.3).
//!
//! The slots hold `struct bpf_map *`, which the verifier's inlined lookup reads directly. The
//! inner-map template (`map->inner_map_meta`, from `bpf_map_meta_alloc()`) is what the verifier
//! checks inner lookups against, and what every stored map must match; it keeps the inner
//! map's ops, and pins their module, as long as the outer map lives.

use kernel::prelude::*;

use crate::bpf::{
    Array, ArrayBox, ArrayHeader, BtfType, InnerMap, Lookup, MapAttr, MapFile, MapMeta, MapOps,
    MapType, MapView, Ptrs, ValuePtr,
};
use crate::fd_array;

/// An ARRAY_OF_MAPS's slots: references on inner maps.
type Maps = Ptrs<InnerMap>;

/// The ops of `BPF_MAP_TYPE_ARRAY_OF_MAPS` (`array_of_maps_map_ops`).
pub(crate) struct ArrayOfMapsMap;

#[vtable]
impl MapOps for ArrayOfMapsMap {
    type Storage = Maps;
    const MAP_TYPE: MapType = MapType::ArrayOfMaps;
    const GENERIC_BATCH: bool = true;

    fn alloc_check(attr: &MapAttr<'_>) -> Result {
        fd_array::alloc_check(attr)
    }

    /// `array_of_map_alloc()`: the template from `inner_map_fd`, then the array.
    fn alloc(attr: &MapAttr<'_>) -> Result<ArrayBox<Maps>> {
        let meta = MapMeta::alloc(attr.inner_map_fd())?;
        let mut array = fd_array::alloc(attr)?;
        array.set_inner_map_meta(meta);
        Ok(array)
    }

    /// `array_of_map_free()`: the template, then the references on the inner maps.
    fn free(mut map: ArrayBox<Maps>) {
        drop(map.take_inner_map_meta());
        map.clear();
    }

    fn mem_usage(map: &Array<Maps>) -> u64 {
        fd_array::mem_usage(map)
    }

    fn get_next_key(map: &Array<Maps>, key: Option<u32>) -> Result<u32> {
        crate::array::get_next_key(map, key)
    }

    /// `array_of_map_lookup_elem()`: the inner map itself, or `NULL` for an empty slot.
    fn lookup_elem(map: &Array<Maps>, key: u32) -> Option<ValuePtr> {
        map.lookup(key)
    }

    /// `fd_array_map_delete_elem()`.
    fn delete_elem(map: &Array<Maps>, key: u32) -> Result {
        fd_array::delete(map, key)
    }

    /// `bpf_map_fd_get_ptr()`: the map behind `fd`, if it matches the template.
    fn fd_get_ptr(map: &Array<Maps>, map_file: MapFile, fd: u32) -> Result<InnerMap> {
        InnerMap::get(map, map_file, fd)
    }

    /// `bpf_map_fd_sys_lookup_elem()`: the inner map's id.
    fn fd_sys_lookup_elem(inner: &MapView) -> u32 {
        inner.id()
    }

    fn fd_lookup_elem(map: &Array<Maps>, key: u32) -> Result<u32> {
        fd_array::lookup::<Self, _>(map, key)
    }

    fn fd_update_elem(map: &Array<Maps>, file: MapFile, key: u32, fd: u32, flags: u64) -> Result {
        fd_array::update::<Self, _>(map, file, key, fd, flags)
    }

    /// `array_of_map_gen_lookup()`: R1 = map, R2 = key; R0 = the inner map or 0.
    fn gen_lookup(map: &ArrayHeader<Maps>) -> Result<Lookup> {
        Lookup::array_of_maps(map)
    }

    /// `map_check_no_btf()`.
    fn check_btf(_map: &Array<Maps>, _key: &BtfType<'_>, _value: &BtfType<'_>) -> Result {
        Err(ENOTSUPP)
    }
}
