// SPDX-License-Identifier: GPL-2.0

//! `BPF_MAP_TYPE_ARRAY_OF_MAPS` (`array_of_maps_map_ops` in `kernel/bpf/arraymap.c`,
//! Linux 7.3).
//!
//! The slots hold `struct bpf_map *`, which the verifier's inlined lookup reads directly. The
//! inner-map template (`map->inner_map_meta`, from `bpf_map_meta_alloc()`) is what the verifier
//! checks inner lookups against, and what every stored map must match; it keeps the inner
//! map's ops, and pins their module, as long as the outer map lives.

use core::ptr::NonNull;
use kernel::{bindings, prelude::*};

use crate::bpf::{
    map_type, Array, ArrayBox, BtfType, FdPtr, InnerMap, Insn, InsnBuf, MapAttr, MapFile, MapMeta,
    MapOps, Ptrs, Reg,
};
use crate::{array::gen_elem_addr, fd_array};

/// The ops of `BPF_MAP_TYPE_ARRAY_OF_MAPS` (`array_of_maps_map_ops`).
pub(crate) struct ArrayOfMapsMap;

#[vtable]
impl MapOps for ArrayOfMapsMap {
    type Storage = Ptrs;
    const MAP_TYPE: u32 = map_type::ARRAY_OF_MAPS;
    const GENERIC_BATCH: bool = true;

    fn alloc_check(attr: &MapAttr<'_>) -> Result {
        fd_array::alloc_check(attr)
    }

    /// `array_of_map_alloc()`: the template from `inner_map_fd`, then the array.
    fn alloc(attr: &MapAttr<'_>) -> Result<ArrayBox<Ptrs>> {
        let meta = MapMeta::alloc(attr.inner_map_fd())?;
        let mut array = fd_array::alloc(attr)?;
        array.set_inner_map_meta(meta);
        Ok(array)
    }

    /// `array_of_map_free()`: the template, then the references on the inner maps.
    fn free(mut map: ArrayBox<Ptrs>) {
        drop(map.take_inner_map_meta());
        fd_array::clear::<Self>(&map, false);
    }

    fn mem_usage(map: &Array<Ptrs>) -> u64 {
        fd_array::mem_usage(map)
    }

    fn get_next_key(map: &Array<Ptrs>, key: Option<u32>) -> Result<u32> {
        crate::array::get_next_key(map, key)
    }

    /// `array_of_map_lookup_elem()`: the inner map itself, or `NULL` for an empty slot.
    fn lookup_elem(map: &Array<Ptrs>, key: u32) -> Option<NonNull<u8>> {
        map.slot(key)
            .and_then(|slot| slot.load())
            .and_then(|ptr| NonNull::new(ptr.as_ptr().cast()))
    }

    /// `fd_array_map_delete_elem()`.
    fn delete_elem(map: &Array<Ptrs>, key: u32) -> Result {
        fd_array::delete::<Self>(map, key, true)
    }

    /// `bpf_map_fd_get_ptr()`: the map behind `fd`, if it matches the template.
    fn fd_get_ptr(map: &Array<Ptrs>, map_file: MapFile, fd: u32) -> Result<FdPtr> {
        InnerMap::get(map, map_file, fd)
    }

    /// `bpf_map_fd_put_ptr()`.
    fn fd_put_ptr(map: &Array<Ptrs>, ptr: FdPtr, need_defer: bool) {
        // SAFETY: the slots of this map hold references from `fd_get_ptr`, handed over here.
        unsafe { InnerMap::put(map, ptr, need_defer) };
    }

    /// `bpf_map_fd_sys_lookup_elem()`: the inner map's id.
    fn fd_sys_lookup_elem(ptr: FdPtr) -> u32 {
        // SAFETY: the BPF core passes a stored pointer while the slot's reference is held.
        unsafe { InnerMap::id(ptr) }
    }

    fn fd_lookup_elem(map: &Array<Ptrs>, key: u32) -> Result<u32> {
        fd_array::lookup::<Self>(map, key)
    }

    fn fd_update_elem(map: &Array<Ptrs>, file: MapFile, key: u32, fd: u32, flags: u64) -> Result {
        fd_array::update::<Self>(map, file, key, fd, flags)
    }

    /// `array_of_map_gen_lookup()`: R1 = map, R2 = key; R0 = the inner map or 0.
    fn gen_lookup(map: &Array<Ptrs>, insns: &mut InsnBuf<'_>) -> Result {
        gen_elem_addr(map, map.elem_size(), 2, insns)?;
        insns.push(Insn::ldx_mem(bindings::BPF_DW, Reg::R0, Reg::R0, 0))?;
        insns.push(Insn::jmp_imm(bindings::BPF_JEQ, Reg::R0, 0, 1))?;
        insns.push(Insn::ja(1))?;
        insns.push(Insn::mov64_imm(Reg::R0, 0))
    }

    /// `map_check_no_btf()`.
    fn check_btf(_map: &Array<Ptrs>, _key: &BtfType<'_>, _value: &BtfType<'_>) -> Result {
        Err(ENOTSUPP)
    }
}
