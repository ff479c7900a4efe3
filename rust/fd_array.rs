// SPDX-License-Identifier: GPL-2.0

//! What the four fd arrays share: the `fd_array_map_*()` and `bpf_fd_array_map_*()` functions
//! of `kernel/bpf/arraymap.c` (Linux 7.3), generic over the map type's ops so that taking an
//! object from an fd and naming it to user space (`map_fd_get_ptr`, `map_fd_sys_lookup_elem`)
//! are the type's own, as C reaches them through `map->ops`. Letting an object go
//! (`map_fd_put_ptr`) is its element type's ([`FdElem`](crate::bpf::FdElem)), and re-patching
//! the direct tail calls of a PROG_ARRAY slot the layer's: both done by the slot exchange
//! itself.

use kernel::{bindings, prelude::*, sync::rcu};

use crate::bpf::{cond_resched, flags, Array, ArrayBox, FdElem, MapAttr, MapFile, MapOps, Ptrs};

/// `fd_array_map_alloc_check()`: the values are file descriptors, and programs can neither
/// only read nor only write these maps.
pub(crate) fn alloc_check(attr: &MapAttr<'_>) -> Result {
    if attr.value_size() != core::mem::size_of::<u32>() as u32 {
        return Err(EINVAL);
    }
    if attr.map_flags() & (flags::RDONLY_PROG | flags::WRONLY_PROG) != 0 {
        return Err(EINVAL);
    }
    crate::array::alloc_check(attr)
}

/// `array_map_alloc()` for an array of pointers.
pub(crate) fn alloc<E: FdElem>(attr: &MapAttr<'_>) -> Result<ArrayBox<Ptrs<E>>> {
    ArrayBox::alloc(attr)
}

/// `array_map_mem_usage()` of an fd array: the header and one pointer per element.
pub(crate) fn mem_usage<E: FdElem>(map: &Array<Ptrs<E>>) -> u64 {
    Array::<Ptrs<E>>::HEADER_SIZE + u64::from(map.max_entries()) * u64::from(map.elem_size())
}

/// `bpf_fd_array_map_lookup_elem()`: the id of the object at `key`, for the syscall layer.
pub(crate) fn lookup<T: MapOps<Storage = Ptrs<E>>, E: FdElem>(
    map: &Array<Ptrs<E>>,
    key: u32,
) -> Result<u32> {
    if !T::HAS_FD_SYS_LOOKUP_ELEM {
        return Err(ENOTSUPP);
    }
    let guard = rcu::read_lock();
    map.get(key, &guard)
        .map(T::fd_sys_lookup_elem)
        .ok_or(ENOENT)
}

/// `bpf_fd_array_map_update_elem()`: stores the object behind `fd` at `key`, dropping the one
/// it replaces.
pub(crate) fn update<T: MapOps<Storage = Ptrs<E>>, E: FdElem>(
    map: &Array<Ptrs<E>>,
    map_file: MapFile,
    key: u32,
    fd: u32,
    map_flags: u64,
) -> Result {
    if map_flags != u64::from(bindings::BPF_ANY) {
        return Err(EINVAL);
    }
    if key >= map.max_entries() {
        return Err(E2BIG);
    }
    let new = T::fd_get_ptr(map, map_file, fd)?;
    map.exchange(key, Some(new)).map(|_| ())
}

/// `__fd_array_map_delete_elem()`.
pub(crate) fn delete<E: FdElem>(map: &Array<Ptrs<E>>, key: u32) -> Result {
    match map.exchange(key, None)? {
        true => Ok(()),
        false => Err(ENOENT),
    }
}

/// `bpf_fd_array_map_clear(map, true)`: empties every slot of a map others may still read.
pub(crate) fn clear<E: FdElem>(map: &Array<Ptrs<E>>) {
    for key in 0..map.max_entries() {
        // An empty slot answers ENOENT, as in C, which ignores every answer here too.
        let _ = delete(map, key);
        cond_resched();
    }
}
