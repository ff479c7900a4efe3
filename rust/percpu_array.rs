// SPDX-License-Identifier: GPL-2.0

//! `BPF_MAP_TYPE_PERCPU_ARRAY`: the per-CPU half of `kernel/bpf/arraymap.c` (Linux 7.3).
//!
//! Every element is a per-CPU allocation; BPF programs see the copy of the CPU they run on,
//! the syscall layer sees the copies of all possible CPUs one after the other, `elem_size`
//! bytes each (or one CPU's with `BPF_F_CPU`). The checks are made in the order of the C code,
//! so every input gets the errno the built-in map gives.

use kernel::{prelude::*, seq_file::SeqFile, seq_print, sync::rcu};

use crate::array::{alloc_check, check_btf, get_next_key, meta_equal, update_checks};
use crate::bpf::{
    flags, jit_supports_percpu_insn, num_possible_cpus, possible_cpu, possible_cpus, Array,
    ArrayBox, ArrayHeader, Batch, BtfType, DirectValue, ForEachCallback, Lookup, MapAttr,
    MapHeader, MapOps, MapType, PerCpu, PossibleCpu, ValueBuf, ValuePtr, ValueSrc,
};

/// The CPU of a `BPF_F_CPU` request: the upper 32 bits of the flags. The syscall layer has
/// checked that it is a possible CPU (`bpf_map_check_op_flags()`).
fn flags_cpu(map_flags: u64) -> Result<PossibleCpu> {
    possible_cpu((map_flags >> 32) as u32).ok_or(EINVAL)
}

/// [`MapOps::percpu_copy`] under an RCU read lock that the caller holds: the batches take one
/// per chunk of elements, where the generic functions take one per element (under lockdep a
/// pair of them costs some 700 instructions).
fn copy_values(
    map: &Array<PerCpu>,
    key: u32,
    values: &mut ValueBuf<'_>,
    f: u64,
    _rcu: &rcu::Guard,
) -> Result {
    let elem = map.elem(key).ok_or(ENOENT)?;
    if f & flags::CPU != 0 {
        return elem.on(flags_cpu(f)?).load(values, 0, false);
    }
    elem.load_all(values)
}

/// [`MapOps::percpu_update`] under an RCU read lock that the caller holds (see
/// [`copy_values`]).
fn store_values(
    map: &Array<PerCpu>,
    key: u32,
    values: &ValueBuf<'_>,
    f: u64,
    _rcu: &rcu::Guard,
) -> Result {
    if f & flags::LOCK != 0 || u64::from(f as u32) > flags::ALL_CPUS {
        // Unknown flags.
        return Err(EINVAL);
    }
    // All elements were pre-allocated, none can be inserted.
    let elem = map.elem(key).ok_or(E2BIG)?;
    if f == flags::NOEXIST {
        // All elements already exist.
        return Err(EEXIST);
    }
    if f & flags::CPU != 0 {
        let src = values.src(0).ok_or(EFAULT)?;
        return elem.on(flags_cpu(f)?).store(&src, false);
    }
    let size = map.elem_size() as usize;
    for (n, cpu) in possible_cpus().enumerate() {
        let off = if f & flags::ALL_CPUS != 0 {
            0
        } else {
            n * size
        };
        let src = values.src(off).ok_or(EFAULT)?;
        elem.on(cpu).store(&src, false)?;
    }
    Ok(())
}

/// The ops of `BPF_MAP_TYPE_PERCPU_ARRAY` (`percpu_array_map_ops`).
pub(crate) struct PerCpuArrayMap;

#[vtable]
impl MapOps for PerCpuArrayMap {
    type Storage = PerCpu;
    const MAP_TYPE: MapType = MapType::PercpuArray;
    const ITERATOR: bool = true;

    fn alloc_check(attr: &MapAttr<'_>) -> Result {
        alloc_check(attr)
    }

    /// `array_map_alloc()` with `bpf_array_alloc_percpu()`.
    fn alloc(attr: &MapAttr<'_>) -> Result<ArrayBox<PerCpu>> {
        ArrayBox::alloc(attr)
    }

    /// `array_map_mem_usage()`: the header, the pointers and a value per possible CPU.
    fn mem_usage(map: &Array<PerCpu>) -> u64 {
        let entries = u64::from(map.max_entries());
        Array::<PerCpu>::HEADER_SIZE
            + entries * core::mem::size_of::<*mut u8>() as u64
            + entries * u64::from(map.elem_size()) * u64::from(num_possible_cpus())
    }

    /// `percpu_array_map_lookup_elem()`: this CPU's copy.
    #[inline]
    fn lookup_elem(map: &Array<PerCpu>, key: u32) -> Option<ValuePtr> {
        map.elem(key).map(|e| e.on_this_cpu().into())
    }

    /// `percpu_array_map_lookup_percpu_elem()`: the copy of `cpu`, none past `nr_cpu_ids`.
    #[inline]
    fn lookup_percpu_elem(map: &Array<PerCpu>, key: u32, cpu: u32) -> Option<ValuePtr> {
        let cpu = possible_cpu(cpu)?;
        map.elem(key).map(|e| e.on(cpu).into())
    }

    /// `bpf_percpu_array_copy()`: with `BPF_F_CPU` the value of one CPU, else the values of all
    /// possible CPUs, rounded up to 8 bytes each (the per-CPU areas are zero-filled, so the
    /// padding leaks nothing).
    fn percpu_copy(map: &Array<PerCpu>, key: u32, values: &mut ValueBuf<'_>, f: u64) -> Result {
        copy_values(map, key, values, f, &rcu::read_lock())
    }

    /// `generic_map_lookup_batch()`, a chunk at a time: each element as
    /// [`MapOps::percpu_copy`] copies it for a syscall lookup without flags, under the read
    /// lock the chunk holds.
    fn lookup_batch(map: &Array<PerCpu>, batch: &Batch<'_>) -> Result {
        batch.lookup(map, |key, out, rcu| copy_values(map, key, out, 0, rcu))
    }

    /// `generic_map_update_batch()`, a chunk at a time: each element as
    /// [`MapOps::percpu_update`] stores it for a syscall update without flags, under the read
    /// lock the chunk holds.
    fn update_batch(map: &Array<PerCpu>, batch: &Batch<'_>) -> Result {
        batch.update(map, |key, values, rcu| {
            store_values(map, key, values, 0, rcu)
        })
    }

    /// `bpf_percpu_array_update()`: with `BPF_F_CPU` the value of one CPU, with
    /// `BPF_F_ALL_CPUS` one value for all CPUs, else a value for each possible CPU.
    fn percpu_update(map: &Array<PerCpu>, key: u32, values: &ValueBuf<'_>, f: u64) -> Result {
        store_values(map, key, values, f, &rcu::read_lock())
    }

    /// `array_map_update_elem()` from a BPF program: this CPU's copy. Per-CPU values cannot
    /// hold a spin lock, so `BPF_F_LOCK` was refused by the checks.
    #[inline]
    fn update_elem(map: &Array<PerCpu>, key: u32, value: &ValueSrc<'_>, map_flags: u64) -> Result {
        update_checks(map, key, map_flags)?;
        match map.elem(key) {
            Some(elem) => elem.on_this_cpu().store(value, false),
            None => Ok(()),
        }
    }

    /// `array_map_delete_elem()`: array elements cannot be deleted.
    fn delete_elem(_map: &Array<PerCpu>, _key: u32) -> Result {
        Err(EINVAL)
    }

    fn get_next_key(map: &Array<PerCpu>, key: Option<u32>) -> Result<u32> {
        get_next_key(map, key)
    }

    /// `percpu_array_map_gen_lookup()`: as for `BPF_MAP_TYPE_ARRAY`, on `pptrs[]`, and the
    /// per-CPU pointer turned into this CPU's address by the JIT.
    fn gen_lookup(map: &ArrayHeader<PerCpu>) -> Result<Lookup> {
        Lookup::percpu_array(map)
    }

    /// `percpu_array_map_direct_value_addr()`: `.percpu` global data, addressed through the
    /// per-CPU pointer of its single element.
    fn direct_value_addr(map: &Array<PerCpu>, off: u32) -> Result<DirectValue> {
        if !jit_supports_percpu_insn() || map.max_entries() != 1 {
            return Err(EOPNOTSUPP);
        }
        if off >= map.value_size() {
            return Err(EINVAL);
        }
        let elem = map.elem(0).ok_or(EOPNOTSUPP)?;
        Ok(elem.direct_value())
    }

    /// `percpu_array_map_direct_value_meta()`.
    fn direct_value_meta(map: &Array<PerCpu>, imm: u64) -> Result<u32> {
        if !jit_supports_percpu_insn() || map.max_entries() != 1 {
            return Err(EOPNOTSUPP);
        }
        let base = map.elem(0).ok_or(EOPNOTSUPP)?.direct_value().addr();
        if imm < base || imm >= base + u64::from(map.elem_size()) {
            return Err(ENOENT);
        }
        Ok((imm - base) as u32)
    }

    fn meta_equal(meta0: &MapHeader, meta1: &MapHeader) -> bool {
        meta_equal(meta0, meta1)
    }

    /// `percpu_array_map_seq_show_elem()`: the value of every possible CPU.
    fn seq_show_elem(map: &Array<PerCpu>, key: u32, m: &SeqFile) {
        let _rcu = rcu::read_lock();
        let Some(elem) = map.elem(key) else {
            return;
        };
        seq_print!(m, "{}: {{\n", key);
        for cpu in possible_cpus() {
            seq_print!(m, "\tcpu{}: ", cpu.as_u32());
            elem.on(cpu).seq_show(m);
            seq_print!(m, "\n");
        }
        seq_print!(m, "}}\n");
    }

    /// `bpf_for_each_array_elem()`: this CPU's copy of each element.
    fn for_each(map: &Array<PerCpu>, cb: &ForEachCallback, map_flags: u64) -> Result<u32> {
        if map_flags != 0 {
            return Err(EINVAL);
        }
        Ok(cb.call_each_percpu(map))
    }

    fn check_btf(map: &Array<PerCpu>, key: &BtfType<'_>, value: &BtfType<'_>) -> Result {
        check_btf(map, key, value)
    }
}
