// SPDX-License-Identifier: GPL-2.0

//! What the four fd arrays share: the `fd_array_map_*()` and `bpf_fd_array_map_*()` functions
//! of `kernel/bpf/arraymap.c` (Linux 7.3), generic over the map type's ops so that the object
//! handling (`map_fd_get_ptr`, `map_fd_put_ptr`, `map_fd_sys_lookup_elem`, `map_poke_run`) is
//! the type's own, as C reaches it through `map->ops`.

use kernel::{bindings, prelude::*, sync::rcu};

use crate::bpf::{
    cond_resched, flags, Array, ArrayBox, FdPtr, MapAttr, MapFile, MapOps, ProgArrayAux, Ptrs,
};

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
pub(crate) fn alloc(attr: &MapAttr<'_>) -> Result<ArrayBox<Ptrs>> {
    ArrayBox::alloc(attr, &crate::array::layout(attr)?)
}

/// `array_map_mem_usage()` of an fd array: the header and one pointer per element.
pub(crate) fn mem_usage(map: &Array<Ptrs>) -> u64 {
    Array::<Ptrs>::HEADER_SIZE + u64::from(map.max_entries()) * u64::from(map.elem_size())
}

/// `bpf_fd_array_map_lookup_elem()`: the id of the object at `key`, for the syscall layer.
pub(crate) fn lookup<T: MapOps<Storage = Ptrs>>(map: &Array<Ptrs>, key: u32) -> Result<u32> {
    if !T::HAS_FD_SYS_LOOKUP_ELEM {
        return Err(ENOTSUPP);
    }
    let _guard = rcu::read_lock();
    match map.slot(key).and_then(|slot| slot.load()) {
        Some(ptr) => Ok(T::fd_sys_lookup_elem(ptr)),
        None => Err(ENOENT),
    }
}

/// Stores `new` at `key` and returns what was there; with the type's `map_poke_run`, under the
/// aux's `poke_mutex` and with the direct tail calls re-patched.
fn exchange<T: MapOps<Storage = Ptrs>>(
    map: &Array<Ptrs>,
    key: u32,
    new: Option<FdPtr>,
) -> Result<Option<FdPtr>> {
    let slot = map.slot(key).ok_or(E2BIG)?;
    if T::HAS_POKE_RUN {
        let aux = ProgArrayAux::of(map).ok_or(EINVAL)?;
        let mut guard = aux.lock();
        let old = slot.swap(new);
        T::poke_run(map, &mut guard, key, old, new);
        Ok(old)
    } else {
        Ok(slot.swap(new))
    }
}

/// `bpf_fd_array_map_update_elem()`: stores the object behind `fd` at `key`, dropping the one
/// it replaces.
pub(crate) fn update<T: MapOps<Storage = Ptrs>>(
    map: &Array<Ptrs>,
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
    let old = match exchange::<T>(map, key, Some(new)) {
        Ok(old) => old,
        Err(e) => {
            T::fd_put_ptr(map, new, false);
            return Err(e);
        }
    };
    if let Some(old) = old {
        T::fd_put_ptr(map, old, true);
    }
    Ok(())
}

/// `__fd_array_map_delete_elem()`.
pub(crate) fn delete<T: MapOps<Storage = Ptrs>>(
    map: &Array<Ptrs>,
    key: u32,
    need_defer: bool,
) -> Result {
    match exchange::<T>(map, key, None)? {
        Some(old) => {
            T::fd_put_ptr(map, old, need_defer);
            Ok(())
        }
        None => Err(ENOENT),
    }
}

/// `bpf_fd_array_map_clear()`: empties every slot.
pub(crate) fn clear<T: MapOps<Storage = Ptrs>>(map: &Array<Ptrs>, need_defer: bool) {
    for key in 0..map.max_entries() {
        // An empty slot answers ENOENT, as in C, and nothing else can fail.
        let _ = delete::<T>(map, key, need_defer);
        cond_resched();
    }
}
