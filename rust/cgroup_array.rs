// SPDX-License-Identifier: GPL-2.0

//! `BPF_MAP_TYPE_CGROUP_ARRAY`: cgroups for `bpf_skb_under_cgroup()` and
//! `bpf_current_task_under_cgroup()` (`cgroup_array_map_ops` in `kernel/bpf/arraymap.c`,
//! Linux 7.3), which read `ptrs[]` as `struct cgroup *` under RCU.

use kernel::{prelude::*, sync::aref::ARef};

use crate::bpf::{
    Array, ArrayBox, BtfType, Cgroup, MapAttr, MapFile, MapHeader, MapOps, MapType, Ptrs,
};
use crate::fd_array;

/// A CGROUP_ARRAY's slots: references on cgroups.
type Cgroups = Ptrs<ARef<Cgroup>>;

/// The ops of `BPF_MAP_TYPE_CGROUP_ARRAY` (`cgroup_array_map_ops`).
pub(crate) struct CgroupArrayMap;

#[vtable]
impl MapOps for CgroupArrayMap {
    type Storage = Cgroups;
    const MAP_TYPE: MapType = MapType::CgroupArray;
    const LOOKUP_UNSUPPORTED: bool = true;

    fn alloc_check(attr: &MapAttr<'_>) -> Result {
        fd_array::alloc_check(attr)
    }

    fn alloc(attr: &MapAttr<'_>) -> Result<ArrayBox<Cgroups>> {
        fd_array::alloc(attr)
    }

    /// `cgroup_fd_array_free()`.
    fn free(mut map: ArrayBox<Cgroups>) {
        map.clear();
    }

    fn mem_usage(map: &Array<Cgroups>) -> u64 {
        fd_array::mem_usage(map)
    }

    /// `bpf_map_meta_equal()`.
    fn meta_equal(meta0: &MapHeader, meta1: &MapHeader) -> bool {
        meta0.meta_equal(meta1)
    }

    fn get_next_key(map: &Array<Cgroups>, key: Option<u32>) -> Result<u32> {
        crate::array::get_next_key(map, key)
    }

    /// `fd_array_map_delete_elem()`.
    fn delete_elem(map: &Array<Cgroups>, key: u32) -> Result {
        fd_array::delete(map, key)
    }

    /// `cgroup_fd_array_get_ptr()`.
    fn fd_get_ptr(_map: &Array<Cgroups>, _map_file: MapFile, fd: u32) -> Result<ARef<Cgroup>> {
        Cgroup::get(fd)
    }

    /// Without `map_fd_sys_lookup_elem`, this answers `ENOTSUPP`, as in C.
    fn fd_lookup_elem(map: &Array<Cgroups>, key: u32) -> Result<u32> {
        fd_array::lookup::<Self, _>(map, key)
    }

    fn fd_update_elem(
        map: &Array<Cgroups>,
        file: MapFile,
        key: u32,
        fd: u32,
        flags: u64,
    ) -> Result {
        fd_array::update::<Self, _>(map, file, key, fd, flags)
    }

    /// `map_check_no_btf()`.
    fn check_btf(_map: &Array<Cgroups>, _key: &BtfType<'_>, _value: &BtfType<'_>) -> Result {
        Err(ENOTSUPP)
    }
}
