// SPDX-License-Identifier: GPL-2.0

//! `BPF_MAP_TYPE_CGROUP_ARRAY`: cgroups for `bpf_skb_under_cgroup()` and
//! `bpf_current_task_under_cgroup()` (`cgroup_array_map_ops` in `kernel/bpf/arraymap.c`,
//! Linux 7.3), which read `ptrs[]` as `struct cgroup *` under RCU.

use kernel::prelude::*;

use crate::bpf::{
    map_type, Array, ArrayBox, BtfType, Cgroup, FdPtr, MapAttr, MapFile, MapHeader, MapOps, Ptrs,
};
use crate::fd_array;

/// The ops of `BPF_MAP_TYPE_CGROUP_ARRAY` (`cgroup_array_map_ops`).
pub(crate) struct CgroupArrayMap;

#[vtable]
impl MapOps for CgroupArrayMap {
    type Storage = Ptrs;
    const MAP_TYPE: u32 = map_type::CGROUP_ARRAY;
    const LOOKUP_UNSUPPORTED: bool = true;

    fn alloc_check(attr: &MapAttr<'_>) -> Result {
        fd_array::alloc_check(attr)
    }

    fn alloc(attr: &MapAttr<'_>) -> Result<ArrayBox<Ptrs>> {
        fd_array::alloc(attr)
    }

    /// `cgroup_fd_array_free()`.
    fn free(map: ArrayBox<Ptrs>) {
        fd_array::clear::<Self>(&map, false);
    }

    fn mem_usage(map: &Array<Ptrs>) -> u64 {
        fd_array::mem_usage(map)
    }

    /// `bpf_map_meta_equal()`.
    fn meta_equal(meta0: &MapHeader, meta1: &MapHeader) -> bool {
        meta0.meta_equal(meta1)
    }

    fn get_next_key(map: &Array<Ptrs>, key: Option<u32>) -> Result<u32> {
        crate::array::get_next_key(map, key)
    }

    /// `fd_array_map_delete_elem()`.
    fn delete_elem(map: &Array<Ptrs>, key: u32) -> Result {
        fd_array::delete::<Self>(map, key, true)
    }

    /// `cgroup_fd_array_get_ptr()`.
    fn fd_get_ptr(_map: &Array<Ptrs>, _map_file: MapFile, fd: u32) -> Result<FdPtr> {
        Ok(Cgroup::get(fd)?.into_fd_ptr())
    }

    /// `cgroup_fd_array_put_ptr()`: the cgroup is freed after an RCU grace period.
    fn fd_put_ptr(_map: &Array<Ptrs>, ptr: FdPtr, _need_defer: bool) {
        // SAFETY: the slots of this map hold references from `fd_get_ptr`, handed over here.
        drop(unsafe { Cgroup::from_fd_ptr(ptr) });
    }

    /// Without `map_fd_sys_lookup_elem`, this answers `ENOTSUPP`, as in C.
    fn fd_lookup_elem(map: &Array<Ptrs>, key: u32) -> Result<u32> {
        fd_array::lookup::<Self>(map, key)
    }

    fn fd_update_elem(map: &Array<Ptrs>, file: MapFile, key: u32, fd: u32, flags: u64) -> Result {
        fd_array::update::<Self>(map, file, key, fd, flags)
    }

    /// `map_check_no_btf()`.
    fn check_btf(_map: &Array<Ptrs>, _key: &BtfType<'_>, _value: &BtfType<'_>) -> Result {
        Err(ENOTSUPP)
    }
}
