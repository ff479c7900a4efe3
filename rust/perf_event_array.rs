// SPDX-License-Identifier: GPL-2.0

//! `BPF_MAP_TYPE_PERF_EVENT_ARRAY`: perf events for `bpf_perf_event_output()` and
//! `bpf_perf_event_read(_value)()` (`perf_event_array_map_ops` in `kernel/bpf/arraymap.c`,
//! Linux 7.3).
//!
//! The helpers in `kernel/trace/bpf_trace.c` read `ptrs[]` as `struct bpf_event_entry *` under
//! RCU, so entries are the kernel's struct and are freed after a grace period.

use kernel::{prelude::*, sync::rcu};

use crate::bpf::{
    flags, Array, ArrayBox, BtfType, EventEntry, MapAttr, MapFile, MapHeader, MapOps, MapType, Ptrs,
};
use crate::fd_array;

/// A PERF_EVENT_ARRAY's slots: perf event entries.
type Events = Ptrs<EventEntry>;

/// The ops of `BPF_MAP_TYPE_PERF_EVENT_ARRAY` (`perf_event_array_map_ops`).
pub(crate) struct PerfEventArrayMap;

#[vtable]
impl MapOps for PerfEventArrayMap {
    type Storage = Events;
    const MAP_TYPE: MapType = MapType::PerfEventArray;
    const LOOKUP_UNSUPPORTED: bool = true;

    fn alloc_check(attr: &MapAttr<'_>) -> Result {
        fd_array::alloc_check(attr)
    }

    fn alloc(attr: &MapAttr<'_>) -> Result<ArrayBox<Events>> {
        fd_array::alloc(attr)
    }

    /// `perf_event_fd_array_map_free()`: without `BPF_F_PRESERVE_ELEMS`, closing the map's
    /// files removed their entries already.
    fn free(mut map: ArrayBox<Events>) {
        if map.map_flags() & flags::PRESERVE_ELEMS != 0 {
            map.clear();
        }
    }

    fn mem_usage(map: &Array<Events>) -> u64 {
        fd_array::mem_usage(map)
    }

    /// `bpf_map_meta_equal()`.
    fn meta_equal(meta0: &MapHeader, meta1: &MapHeader) -> bool {
        meta0.meta_equal(meta1)
    }

    fn get_next_key(map: &Array<Events>, key: Option<u32>) -> Result<u32> {
        crate::array::get_next_key(map, key)
    }

    /// `fd_array_map_delete_elem()`.
    fn delete_elem(map: &Array<Events>, key: u32) -> Result {
        fd_array::delete(map, key)
    }

    /// `perf_event_fd_array_get_ptr()`.
    fn fd_get_ptr(_map: &Array<Events>, map_file: MapFile, fd: u32) -> Result<EventEntry> {
        EventEntry::new(fd, map_file)
    }

    fn fd_lookup_elem(map: &Array<Events>, key: u32) -> Result<u32> {
        fd_array::lookup::<Self, _>(map, key)
    }

    fn fd_update_elem(map: &Array<Events>, file: MapFile, key: u32, fd: u32, flags: u64) -> Result {
        fd_array::update::<Self, _>(map, file, key, fd, flags)
    }

    /// `perf_event_fd_array_release()`: a file of the map is closed; the entries stored
    /// through it go, unless the map preserves them.
    fn release(map: &Array<Events>, map_file: MapFile) {
        if map.map_flags() & flags::PRESERVE_ELEMS != 0 {
            return;
        }
        let guard = rcu::read_lock();
        for key in 0..map.max_entries() {
            if map
                .get(key, &guard)
                .is_some_and(|e| e.map_file() == map_file)
            {
                // Racing with another delete of the same slot, this one answers ENOENT.
                let _ = fd_array::delete(map, key);
            }
        }
    }

    /// `map_check_no_btf()`.
    fn check_btf(_map: &Array<Events>, _key: &BtfType<'_>, _value: &BtfType<'_>) -> Result {
        Err(ENOTSUPP)
    }
}
