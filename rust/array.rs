// SPDX-License-Identifier: GPL-2.0

//! `BPF_MAP_TYPE_ARRAY`: the core of `kernel/bpf/arraymap.c` (Linux 7.3), op for op.
//!
//! Each function states the C function it replaces; the checks are made in the same order, so
//! that every input gets the errno the built-in map gives.

use kernel::{bindings, mm::virt::VmaNew, prelude::*, seq_file::SeqFile, seq_print, sync::rcu};

use crate::bpf::{
    elem_size_of, flags, page_align, Array, ArrayBox, ArrayHeader, Batch, BtfType, DirectValue,
    ForEachCallback, Inline, Lookup, MapAttr, MapHeader, MapOps, MapType, MmapPage, Storage,
    ValuePtr, ValueSrc,
};

/// Creation flags the array family accepts (`ARRAY_CREATE_FLAG_MASK`).
const CREATE_FLAG_MASK: u32 = flags::NUMA_NODE
    | flags::MMAPABLE
    | flags::ACCESS_MASK
    | flags::PRESERVE_ELEMS
    | flags::INNER_MAP;

/// `PAGE_SIZE`.
const PAGE_SIZE: u64 = bindings::PAGE_SIZE as u64;

/// `PCPU_MIN_UNIT_SIZE` (include/linux/percpu.h), `PFN_ALIGN(32 << 10)`: the largest per-CPU
/// value (64 KiB on a kernel with 64 KiB pages).
const PCPU_MIN_UNIT_SIZE: u32 = page_align(32 << 10) as u32;

/// `array_map_alloc_check()`, shared by the whole family.
pub(crate) fn alloc_check(attr: &MapAttr<'_>) -> Result {
    let ty = attr.map_type();
    let map_flags = attr.map_flags();
    let percpu = ty == Some(MapType::PercpuArray);

    if attr.max_entries() == 0
        || attr.key_size() != 4
        || attr.value_size() == 0
        || map_flags & !CREATE_FLAG_MASK != 0
        || !flags::access_ok(map_flags)
        || (percpu && attr.numa_node() != bindings::NUMA_NO_NODE)
    {
        return Err(EINVAL);
    }
    if ty != Some(MapType::Array) && map_flags & (flags::MMAPABLE | flags::INNER_MAP) != 0 {
        return Err(EINVAL);
    }
    if ty != Some(MapType::PerfEventArray) && map_flags & flags::PRESERVE_ELEMS != 0 {
        return Err(EINVAL);
    }
    // Avoid overflow on round_up(value_size).
    if attr.value_size() > i32::MAX as u32 {
        return Err(E2BIG);
    }
    if percpu && elem_size_of(attr.value_size()) > u64::from(PCPU_MIN_UNIT_SIZE) {
        return Err(E2BIG);
    }
    Ok(())
}

/// `bpf_array_get_next_key()`, shared by the whole family.
pub(crate) fn get_next_key<S: Storage>(map: &Array<S>, key: Option<u32>) -> Result<u32> {
    next_key(map.max_entries(), key)
}

/// [`get_next_key`] in an array of `max_entries` elements: the first key for none or a key
/// out of range, `ENOENT` after the last.
fn next_key(max_entries: u32, key: Option<u32>) -> Result<u32> {
    let index = key.unwrap_or(u32::MAX);
    if index >= max_entries {
        return Ok(0);
    }
    if index == max_entries - 1 {
        return Err(ENOENT);
    }
    Ok(index + 1)
}

/// The checks of `array_map_update_elem()`, in its order, shared by both value storages:
/// whether the copy is to be made under the value's spin lock.
#[inline]
pub(crate) fn update_checks<S: Storage>(map: &Array<S>, key: u32, map_flags: u64) -> Result<bool> {
    if map_flags & !flags::LOCK > flags::EXIST {
        // Unknown flags.
        return Err(EINVAL);
    }
    if key >= map.max_entries() {
        // All elements were pre-allocated, none can be inserted.
        return Err(E2BIG);
    }
    if map_flags & flags::NOEXIST != 0 {
        // All elements already exist.
        return Err(EEXIST);
    }
    let locked = map_flags & flags::LOCK != 0;
    if locked && !map.has_field(bindings::btf_field_type_BPF_SPIN_LOCK) {
        return Err(EINVAL);
    }
    Ok(locked)
}

/// `array_map_meta_equal()`: with `BPF_F_INNER_MAP`, inner arrays of any size fit.
pub(crate) fn meta_equal(meta0: &MapHeader, meta1: &MapHeader) -> bool {
    if !meta0.meta_equal(meta1) {
        return false;
    }
    meta0.map_flags() & flags::INNER_MAP != 0 || meta0.max_entries() == meta1.max_entries()
}

/// `array_map_check_btf()`.
pub(crate) fn check_btf<S: Storage>(
    map: &Array<S>,
    key: &BtfType<'_>,
    value: &BtfType<'_>,
) -> Result {
    // One exception for keyless BTF: .bss/.data/.rodata/.percpu maps.
    if key.is_void() {
        let ty = map.map_type();
        if !matches!(ty, Some(MapType::Array | MapType::PercpuArray)) || map.max_entries() != 1 {
            return Err(EINVAL);
        }
        if !value.is_datasec() {
            return Err(EINVAL);
        }
        return Ok(());
    }
    // An array takes only a u32 key: the BTF must match the attributes of map_create.
    if !key.is_i32() {
        return Err(EINVAL);
    }
    Ok(())
}

/// The ops of `BPF_MAP_TYPE_ARRAY` (`array_map_ops`).
pub(crate) struct ArrayMap;

#[vtable]
impl MapOps for ArrayMap {
    type Storage = Inline;
    const MAP_TYPE: MapType = MapType::Array;
    const ITERATOR: bool = true;

    fn alloc_check(attr: &MapAttr<'_>) -> Result {
        alloc_check(attr)
    }

    /// `array_map_alloc()`.
    fn alloc(attr: &MapAttr<'_>) -> Result<ArrayBox<Inline>> {
        ArrayBox::alloc(attr)
    }

    /// `array_map_mem_usage()`.
    fn mem_usage(map: &Array<Inline>) -> u64 {
        let values = u64::from(map.max_entries()) * u64::from(map.elem_size());
        if map.map_flags() & flags::MMAPABLE != 0 {
            page_align(Array::<Inline>::HEADER_SIZE) + page_align(values)
        } else {
            Array::<Inline>::HEADER_SIZE + values
        }
    }

    /// `array_map_lookup_elem()`.
    #[inline]
    fn lookup_elem(map: &Array<Inline>, key: u32) -> Option<ValuePtr> {
        map.elem(key).map(ValuePtr::from)
    }

    /// `array_map_update_elem()`.
    #[inline]
    fn update_elem(map: &Array<Inline>, key: u32, value: &ValueSrc<'_>, map_flags: u64) -> Result {
        let locked = update_checks(map, key, map_flags)?;
        match map.elem(key) {
            Some(elem) => elem.store(value, locked),
            None => Ok(()),
        }
    }

    /// `generic_map_lookup_batch()`, a chunk at a time: each value as `bpf_map_copy_value()`
    /// copies it, without its special fields.
    fn lookup_batch(map: &Array<Inline>, batch: &Batch<'_>) -> Result {
        batch.lookup(map, |key, out, _rcu| {
            map.elem(key).ok_or(ENOENT)?.load(out, 0, false)
        })
    }

    /// `generic_map_update_batch()`, a chunk at a time: each element as a syscall update
    /// without flags stores it.
    fn update_batch(map: &Array<Inline>, batch: &Batch<'_>) -> Result {
        batch.update(map, |key, value, _rcu| {
            let src = value.src(0).ok_or(EFAULT)?;
            Self::update_elem(map, key, &src, 0)
        })
    }

    /// `array_map_delete_elem()`: array elements cannot be deleted.
    fn delete_elem(_map: &Array<Inline>, _key: u32) -> Result {
        Err(EINVAL)
    }

    fn get_next_key(map: &Array<Inline>, key: Option<u32>) -> Result<u32> {
        get_next_key(map, key)
    }

    /// `array_map_gen_lookup()`: the verifier inlines these instructions for
    /// `bpf_map_lookup_elem()`, with R1 = map and R2 = key; the lookup ends in R0.
    fn gen_lookup(map: &ArrayHeader<Inline>) -> Result<Lookup> {
        Lookup::array(map)
    }

    /// `array_map_direct_value_addr()`: global data (`.bss`, `.data`, `.rodata`).
    fn direct_value_addr(map: &Array<Inline>, off: u32) -> Result<DirectValue> {
        if map.max_entries() != 1 {
            return Err(ENOTSUPP);
        }
        if off >= map.value_size() {
            return Err(EINVAL);
        }
        Ok(map.direct_value())
    }

    /// `array_map_direct_value_meta()`.
    fn direct_value_meta(map: &Array<Inline>, imm: u64) -> Result<u32> {
        let base = map.direct_value().addr();
        if map.max_entries() != 1 {
            return Err(ENOTSUPP);
        }
        if imm < base || imm >= base + u64::from(map.elem_size()) {
            return Err(ENOENT);
        }
        Ok((imm - base) as u32)
    }

    fn meta_equal(meta0: &MapHeader, meta1: &MapHeader) -> bool {
        meta_equal(meta0, meta1)
    }

    /// `array_map_free_internal_structs()`: timers, workqueues and task_work go with the last
    /// user reference.
    fn release_uref(map: &Array<Inline>) {
        if !map.has_internal_structs() {
            return;
        }
        for (_, elem) in map.elems() {
            elem.free_internal_structs();
        }
    }

    /// `array_map_seq_show_elem()`.
    fn seq_show_elem(map: &Array<Inline>, key: u32, m: &SeqFile) {
        let _rcu = rcu::read_lock();
        let Some(elem) = map.elem(key) else {
            return;
        };
        if map.btf_key_type_id() != 0 {
            seq_print!(m, "{}: ", key);
        }
        elem.seq_show(m);
        seq_print!(m, "\n");
    }

    /// `bpf_for_each_array_elem()`.
    fn for_each(map: &Array<Inline>, cb: &ForEachCallback, map_flags: u64) -> Result<u32> {
        if map_flags != 0 {
            return Err(EINVAL);
        }
        // Visits elements until the callback returns 1 ("stop"); counts the calls.
        Ok(cb.call_each(map))
    }

    /// `array_map_get_hash()`.
    fn get_hash(map: &Array<Inline>) -> Result {
        map.hash_values();
        Ok(())
    }

    /// `array_map_mmap()`: values of `BPF_F_MMAPABLE` maps, faulted in on demand.
    fn mmap(map: &Array<Inline>, vma: &VmaNew, pgoff: u64) -> Result {
        if map.map_flags() & flags::MMAPABLE == 0 {
            return Err(EINVAL);
        }
        let len = (vma.end() - vma.start()) as u64;
        let values = u64::from(map.max_entries()) * u64::from(map.elem_size());
        // Wrapping, as the C code's u64 arithmetic.
        if pgoff.wrapping_mul(PAGE_SIZE).wrapping_add(len) > page_align(values) {
            return Err(EINVAL);
        }
        // The flags that the eager remap_vmalloc_range() used to set via vm_insert_page().
        vma.set_dontexpand();
        vma.set_dontdump();
        vma.set_mixedmap();
        Ok(())
    }

    /// `array_map_mmap_fault()`.
    fn mmap_fault(map: &Array<Inline>, pgoff: u64) -> Option<MmapPage> {
        map.mmap_page(pgoff)
    }

    fn check_btf(map: &Array<Inline>, key: &BtfType<'_>, value: &BtfType<'_>) -> Result {
        check_btf(map, key, value)
    }
}

#[kunit_tests(rust_arraymap_array)]
mod tests {
    use super::{alloc_check, next_key, PCPU_MIN_UNIT_SIZE};
    use crate::bpf::{flags, MapType, TestAttr};
    use kernel::prelude::*;

    /// `array_map_alloc_check()` of attributes for a map of `ty` with 4-byte keys.
    fn check(ty: MapType, value_size: u32, max_entries: u32, map_flags: u32) -> Result {
        alloc_check(&TestAttr::new(ty, value_size, max_entries, map_flags).attr())
    }

    #[test]
    fn alloc_check_accepts_what_c_accepts() {
        assert_eq!(check(MapType::Array, 8, 4, 0), Ok(()));
        assert_eq!(check(MapType::Array, 8, u32::MAX, 0), Ok(()));
        assert_eq!(check(MapType::Array, i32::MAX as u32, 1, 0), Ok(()));
        assert_eq!(check(MapType::Array, 8, 4, flags::MMAPABLE), Ok(()));
        assert_eq!(check(MapType::Array, 8, 4, flags::INNER_MAP), Ok(()));
        assert_eq!(
            check(MapType::PercpuArray, PCPU_MIN_UNIT_SIZE, 4, 0),
            Ok(())
        );
        assert_eq!(
            check(MapType::PerfEventArray, 4, 4, flags::PRESERVE_ELEMS),
            Ok(())
        );
        // A node for anything but a per-CPU array.
        let numa = TestAttr::new(MapType::Array, 8, 4, flags::NUMA_NODE).numa_node(0);
        assert_eq!(alloc_check(&numa.attr()), Ok(()));
    }

    #[test]
    fn alloc_check_einval() {
        assert_eq!(check(MapType::Array, 8, 0, 0), Err(EINVAL));
        assert_eq!(check(MapType::Array, 0, 4, 0), Err(EINVAL));
        let key8 = TestAttr::new(MapType::Array, 8, 4, 0).key_size(8);
        assert_eq!(alloc_check(&key8.attr()), Err(EINVAL));
        // BPF_F_NO_PREALLOC: not an array flag.
        assert_eq!(check(MapType::Array, 8, 4, 1), Err(EINVAL));
        assert_eq!(
            check(
                MapType::Array,
                8,
                4,
                flags::RDONLY_PROG | flags::WRONLY_PROG
            ),
            Err(EINVAL)
        );
        let numa = TestAttr::new(MapType::PercpuArray, 8, 4, flags::NUMA_NODE).numa_node(0);
        assert_eq!(alloc_check(&numa.attr()), Err(EINVAL));
        assert_eq!(
            check(MapType::ProgArray, 4, 4, flags::MMAPABLE),
            Err(EINVAL)
        );
        assert_eq!(
            check(MapType::PercpuArray, 8, 4, flags::INNER_MAP),
            Err(EINVAL)
        );
        assert_eq!(
            check(MapType::Array, 8, 4, flags::PRESERVE_ELEMS),
            Err(EINVAL)
        );
        // EINVAL comes before E2BIG, as in C.
        assert_eq!(check(MapType::Array, u32::MAX, 0, 0), Err(EINVAL));
    }

    #[test]
    fn alloc_check_e2big() {
        assert_eq!(check(MapType::Array, i32::MAX as u32 + 1, 1, 0), Err(E2BIG));
        assert_eq!(check(MapType::Array, u32::MAX, 1, 0), Err(E2BIG));
        assert_eq!(
            check(MapType::PercpuArray, PCPU_MIN_UNIT_SIZE + 1, 1, 0),
            Err(E2BIG)
        );
    }

    #[test]
    fn next_key_walks_then_ends() {
        assert_eq!(next_key(4, None), Ok(0));
        assert_eq!(next_key(4, Some(0)), Ok(1));
        assert_eq!(next_key(4, Some(2)), Ok(3));
        assert_eq!(next_key(4, Some(3)), Err(ENOENT));
        assert_eq!(next_key(4, Some(4)), Ok(0));
        assert_eq!(next_key(4, Some(u32::MAX)), Ok(0));
        assert_eq!(next_key(1, Some(0)), Err(ENOENT));
        assert_eq!(next_key(u32::MAX, Some(u32::MAX - 2)), Ok(u32::MAX - 1));
    }
}
