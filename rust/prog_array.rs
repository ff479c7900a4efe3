// SPDX-License-Identifier: GPL-2.0

//! `BPF_MAP_TYPE_PROG_ARRAY`: the tail call targets (`prog_array_map_ops` in
//! `kernel/bpf/arraymap.c`, Linux 7.3).
//!
//! The interpreter and the JITs read `ptrs[]` and `max_entries` directly for `bpf_tail_call()`;
//! JIT-patched direct tail calls (constant map and key) are re-patched through the poke
//! descriptors of the programs that track the map, under `poke_mutex`, whenever a slot changes.
//! The map cannot be an inner map (no `map_meta_equal`): a program's type and JIT state bind
//! the array at run time.

use kernel::{prelude::*, seq_file::SeqFile, sync::rcu};

use crate::bpf::{
    Array, ArrayBox, DeferredClear, MapAttr, MapFile, MapOps, MapType, Prog, ProgArrayAux,
    ProgView, Ptrs, TailCall,
};
use crate::fd_array;

/// A PROG_ARRAY's slots: tail call targets.
type Progs = Ptrs<TailCall>;

/// The ops of `BPF_MAP_TYPE_PROG_ARRAY` (`prog_array_map_ops`).
pub(crate) struct ProgArrayMap;

#[vtable]
impl MapOps for ProgArrayMap {
    type Storage = Progs;
    const MAP_TYPE: MapType = MapType::ProgArray;
    const LOOKUP_UNSUPPORTED: bool = true;

    fn alloc_check(attr: &MapAttr<'_>) -> Result {
        fd_array::alloc_check(attr)
    }

    /// `prog_array_map_alloc()`: the array and its aux.
    fn alloc(attr: &MapAttr<'_>) -> Result<ArrayBox<Progs>> {
        let mut array = fd_array::alloc(attr)?;
        ProgArrayAux::attach::<Self>(&mut array)?;
        Ok(array)
    }

    /// `prog_array_map_free()`: the deferred clear emptied the array (it holds a map reference
    /// until it is done), and programs untracked it before their images went.
    fn free(mut map: ArrayBox<Progs>) {
        ProgArrayAux::detach(&mut map);
    }

    fn mem_usage(map: &Array<Progs>) -> u64 {
        fd_array::mem_usage(map)
    }

    fn get_next_key(map: &Array<Progs>, key: Option<u32>) -> Result<u32> {
        crate::array::get_next_key(map, key)
    }

    /// `fd_array_map_delete_elem()`.
    fn delete_elem(map: &Array<Progs>, key: u32) -> Result {
        fd_array::delete(map, key)
    }

    /// `prog_fd_array_get_ptr()`: the program behind `fd`, if it may be tail called from the
    /// programs bound to the map, and freplace has not extended it.
    fn fd_get_ptr(map: &Array<Progs>, _map_file: MapFile, fd: u32) -> Result<TailCall> {
        TailCall::new(Prog::get(fd)?, map)
    }

    /// `prog_fd_array_sys_lookup_elem()`: the program's id.
    fn fd_sys_lookup_elem(prog: &ProgView) -> u32 {
        prog.id()
    }

    fn fd_lookup_elem(map: &Array<Progs>, key: u32) -> Result<u32> {
        fd_array::lookup::<Self, _>(map, key)
    }

    fn fd_update_elem(map: &Array<Progs>, file: MapFile, key: u32, fd: u32, flags: u64) -> Result {
        fd_array::update::<Self, _>(map, file, key, fd, flags)
    }

    /// `prog_array_map_clear()`: the last fd or pin is gone, so no one can add programs any
    /// more; empty the array from a work item (it may sleep on `poke_mutex`), so that programs
    /// that tail call into each other through it can be freed.
    fn release_uref(map: &Array<Progs>) {
        if let Some(aux) = ProgArrayAux::of(map) {
            aux.schedule_clear();
        }
    }

    /// `prog_array_map_seq_show_elem()`: `key: prog_id` for the non-empty slots.
    fn seq_show_elem(map: &Array<Progs>, key: u32, m: &SeqFile) {
        let guard = rcu::read_lock();
        if let Some(prog) = map.get(key, &guard) {
            map.seq_show_id(key, prog.id(), m);
        }
    }
}

impl DeferredClear for ProgArrayMap {
    type Storage = Progs;

    /// `prog_array_map_clear_deferred()`.
    fn clear(map: &Array<Progs>) {
        fd_array::clear(map);
    }
}
