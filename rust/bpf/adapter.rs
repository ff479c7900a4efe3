// SPDX-License-Identifier: GPL-2.0

//! Turns a Rust [`MapOps`] implementation into a C `struct bpf_map_ops` table: one
//! `unsafe extern "C"` trampoline per op, each turning the BPF core's raw pointers into the
//! layer's types under the core's promise, written as its `# Safety` section.

use super::{
    array::{Array, ArrayBox, ArrayHeader, Storage},
    attr::{flags, MapAttr, MapType},
    batch::Batch,
    btf::BtfType,
    elem::DirectValue,
    fd_array::{FdElem, MapFile},
    ffi,
    for_each::ForEachCallback,
    insn::insn_buf_size,
    map::MapHeader,
    ops::{FdElemOf, MapOps},
    prog_array_aux::ProgArrayAux,
    stats,
    value::{ValueBuf, ValueSrc},
};
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    bindings,
    error::from_result,
    ffi::{c_int, c_long, c_void},
    mm::virt::VmaNew,
    module::ModuleMetadata,
    prelude::*,
    seq_file::SeqFile,
};
/// Reads the `u32` key of an array map.
///
/// # Safety
///
/// `key` must point to 4 readable bytes.
unsafe fn read_key(key: *const c_void) -> u32 {
    // SAFETY: the caller guarantees 4 readable bytes; the BPF core does not promise alignment.
    unsafe { key.cast::<u32>().read_unaligned() }
}

/// [`from_result`] for the ops a BPF program calls (`map_update_elem`, `map_delete_elem`,
/// `map_for_each_callback`) and the syscall ops that `make bench` times (batches, per-CPU copies,
/// fd updates), where the conversion must cost nothing: the kernel crate's generic is not
/// `#[inline]`, and its instance around `update_elem` was compiled out of line, with the op's
/// arguments spilled for the closure: 21 instructions more per `bpf_map_update_elem()` of a BPF
/// program (`make bench`, deterministic mode, 2026-12-03); around `percpu_copy` a frame of 29.
#[inline(always)]
fn errno_or<R: From<i16>>(r: Result<R>) -> R {
    r.unwrap_or_else(|e| R::from(e.to_errno() as i16))
}

/// An op's result as C returns it: the value through the out-parameter `out` and 0, or the
/// negative errno (and `out` untouched).
///
/// # Safety
///
/// `out` must be writable for a `V`; it need not be aligned.
unsafe fn write_out<V>(r: Result<V>, out: *mut V) -> c_int {
    from_result(|| {
        // SAFETY: the caller guarantees that `out` is writable.
        unsafe { out.write_unaligned(r?) };
        Ok(0)
    })
}

/// The `struct bpf_map_ops` of `T`: its trampolines and its table.
pub(super) struct Adapter<T: MapOps>(PhantomData<T>);

impl<T: MapOps> Adapter<T> {
    /// # Safety
    ///
    /// `attr` must be the attributes of a `BPF_MAP_CREATE` command.
    unsafe extern "C" fn alloc_check(attr: *mut bindings::bpf_attr) -> c_int {
        // SAFETY: the BPF core calls this op with the attributes of `BPF_MAP_CREATE`.
        let attr = unsafe { MapAttr::from_raw(attr) };
        from_result(|| T::alloc_check(&attr).map(|()| 0))
    }

    /// # Safety
    ///
    /// `attr` must be the attributes of a `BPF_MAP_CREATE` command.
    unsafe extern "C" fn alloc(attr: *mut bindings::bpf_attr) -> *mut bindings::bpf_map {
        // SAFETY: the BPF core calls this op with the attributes of `BPF_MAP_CREATE`.
        let attr = unsafe { MapAttr::from_raw(attr) };
        match T::alloc(&attr) {
            Ok(array) => {
                stats::record(T::MAP_TYPE);
                array.into_map_ptr()
            }
            Err(e) => e.to_ptr(),
        }
    }

    /// # Safety
    ///
    /// `map` must be a map of these ops whose last reference is gone.
    unsafe extern "C" fn free(map: *mut bindings::bpf_map) {
        // SAFETY: `map_free` is called once, when nothing uses the map any more; the map was
        // allocated by `alloc` above.
        T::free(unsafe { ArrayBox::<T::Storage>::from_map_ptr(map) });
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops.
    unsafe extern "C" fn mem_usage(map: *const bindings::bpf_map) -> u64 {
        // SAFETY: the BPF core passes a live map of these ops.
        T::mem_usage(unsafe { Array::<T::Storage>::from_map(map) })
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops and `key` must point to its key.
    unsafe extern "C" fn lookup_elem(map: *mut bindings::bpf_map, key: *mut c_void) -> *mut c_void {
        // SAFETY: the BPF core passes a live map of these ops and a key of `key_size` (4) bytes.
        let (map, key) = unsafe { (Array::<T::Storage>::from_map(map), read_key(key)) };
        T::lookup_elem(map, key).map_or(core::ptr::null_mut(), |v| v.as_ptr().cast())
    }

    /// `fd_array_map_lookup_elem()`.
    ///
    /// # Safety
    ///
    /// None: the arguments are not used; `unsafe` only to match the ops table.
    unsafe extern "C" fn lookup_unsupported(
        _: *mut bindings::bpf_map,
        _: *mut c_void,
    ) -> *mut c_void {
        EOPNOTSUPP.to_ptr()
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops, `key` must point to its key and `value` to
    /// `value_size` bytes.
    unsafe extern "C" fn update_elem(
        map: *mut bindings::bpf_map,
        key: *mut c_void,
        value: *mut c_void,
        flags: u64,
    ) -> c_long {
        // SAFETY: the BPF core passes a live map of these ops, a 4-byte key and a value of
        // `value_size` bytes that stays valid during the call.
        let (map, key) = unsafe { (Array::<T::Storage>::from_map(map), read_key(key)) };
        // SAFETY: as above: `value` points to the map's `value_size` bytes.
        let value = unsafe { ValueSrc::from_raw(value, map.value_size() as usize) };
        errno_or(T::update_elem(map, key, &value, flags).map(|()| 0))
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops, `attr` the kernel's copy of the attributes of a
    /// `BPF_MAP_LOOKUP_BATCH` on it and `uattr` their user address.
    unsafe extern "C" fn lookup_batch(
        map: *mut bindings::bpf_map,
        attr: *const bindings::bpf_attr,
        uattr: *mut bindings::bpf_attr,
    ) -> c_int {
        // SAFETY: the BPF core passes a live map of these ops and the attributes of the
        // command, both valid during the call.
        let (array, batch) = unsafe {
            (
                Array::<T::Storage>::from_map(map),
                Batch::from_raw(map, attr, uattr, core::ptr::null_mut()),
            )
        };
        errno_or(T::lookup_batch(array, &batch).map(|()| 0))
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops, `map_file` the file the command came through,
    /// `attr` the kernel's copy of the attributes of a `BPF_MAP_UPDATE_BATCH` on it and `uattr`
    /// their user address.
    unsafe extern "C" fn update_batch(
        map: *mut bindings::bpf_map,
        map_file: *mut bindings::file,
        attr: *const bindings::bpf_attr,
        uattr: *mut bindings::bpf_attr,
    ) -> c_int {
        // SAFETY: the BPF core passes a live map of these ops, its file and the attributes of
        // the command, all valid during the call.
        let (array, batch) = unsafe {
            (
                Array::<T::Storage>::from_map(map),
                Batch::from_raw(map, attr, uattr, map_file),
            )
        };
        errno_or(T::update_batch(array, &batch).map(|()| 0))
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops and `key` must point to its key.
    unsafe extern "C" fn delete_elem(map: *mut bindings::bpf_map, key: *mut c_void) -> c_long {
        // SAFETY: the BPF core passes a live map of these ops and a 4-byte key.
        let (map, key) = unsafe { (Array::<T::Storage>::from_map(map), read_key(key)) };
        errno_or(T::delete_elem(map, key).map(|()| 0))
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops and `key` must point to its key.
    unsafe extern "C" fn lookup_percpu_elem(
        map: *mut bindings::bpf_map,
        key: *mut c_void,
        cpu: u32,
    ) -> *mut c_void {
        // SAFETY: the helper passes a live map of these ops and a 4-byte key.
        let (map, key) = unsafe { (Array::<T::Storage>::from_map(map), read_key(key)) };
        T::lookup_percpu_elem(map, key, cpu).map_or(core::ptr::null_mut(), |v| v.as_ptr().cast())
    }

    /// The value buffer that the syscall layer allocated for a per-CPU map, of
    /// `bpf_map_value_size()` bytes: one value with `BPF_F_CPU`/`BPF_F_ALL_CPUS`, else the values
    /// of all possible CPUs.
    ///
    /// # Safety
    ///
    /// `value` must be that buffer for `flags`, used by nothing else during the op.
    unsafe fn syscall_values<'a>(
        map: &Array<T::Storage>,
        value: *mut c_void,
        flags: u64,
    ) -> Option<ValueBuf<'a>> {
        let len = if flags & (flags::CPU | flags::ALL_CPUS) != 0 {
            map.value_size() as usize
        } else {
            map.all_cpus_len()
        };
        // SAFETY: the caller guarantees a buffer of `bpf_map_value_size()` bytes, which `len`
        // is, computed the same way.
        NonNull::new(value.cast::<u8>()).map(|ptr| unsafe { ValueBuf::from_raw(ptr, len) })
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops, `key` must point to its key and `value` to the
    /// buffer of `bpf_map_value_size()` bytes that the syscall layer allocated for `flags`.
    unsafe extern "C" fn percpu_copy(
        map: *mut bindings::bpf_map,
        key: *mut c_void,
        value: *mut c_void,
        flags: u64,
    ) -> c_int {
        // SAFETY: the syscall layer passes a live map of these ops, a 4-byte key and its value
        // buffer for `flags`, ours for the call.
        let (map, key, values) = unsafe {
            let map = Array::<T::Storage>::from_map(map);
            (map, read_key(key), Self::syscall_values(map, value, flags))
        };
        let Some(mut values) = values else {
            return EINVAL.to_errno();
        };
        errno_or(T::percpu_copy(map, key, &mut values, flags).map(|()| 0))
    }

    /// # Safety
    ///
    /// As for [`Adapter::percpu_copy`].
    unsafe extern "C" fn percpu_update(
        map: *mut bindings::bpf_map,
        key: *mut c_void,
        value: *mut c_void,
        flags: u64,
    ) -> c_int {
        // SAFETY: as in `percpu_copy`.
        let (map, key, values) = unsafe {
            let map = Array::<T::Storage>::from_map(map);
            (map, read_key(key), Self::syscall_values(map, value, flags))
        };
        let Some(values) = values else {
            return EINVAL.to_errno();
        };
        errno_or(T::percpu_update(map, key, &values, flags).map(|()| 0))
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops, `key` null or a pointer to a key, and `next_key`
    /// writable for a key.
    unsafe extern "C" fn get_next_key(
        map: *mut bindings::bpf_map,
        key: *mut c_void,
        next_key: *mut c_void,
    ) -> c_int {
        // SAFETY: the BPF core passes a live map of these ops.
        let map = unsafe { Array::<T::Storage>::from_map(map) };
        // SAFETY: a non-null `key` points to a 4-byte key.
        let key = (!key.is_null()).then(|| unsafe { read_key(key) });
        // SAFETY: `next_key` has room for a 4-byte key.
        unsafe { write_out(T::get_next_key(map, key), next_key.cast()) }
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops, or an inner-map template made from one, and
    /// `insn_buf` the verifier's buffer of `INSN_BUF_SIZE` instructions.
    unsafe extern "C" fn gen_lookup(
        map: *mut bindings::bpf_map,
        insn_buf: *mut bindings::bpf_insn,
    ) -> c_int {
        // SAFETY: the verifier passes a live map of these ops or an inner-map template made
        // from one.
        let map = unsafe { ArrayHeader::<T::Storage>::from_map(map) };
        from_result(|| {
            let lookup = T::gen_lookup(map)?;
            // SAFETY: the verifier passes its `insn_buf[INSN_BUF_SIZE]` (`insn_buf_size()` is
            // that constant, from the verifier's header), which nothing else accesses during
            // the call.
            let buf = unsafe { core::slice::from_raw_parts_mut(insn_buf, insn_buf_size()) };
            Ok(lookup.write_to(map, buf)? as c_int)
        })
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops and `imm` writable.
    unsafe extern "C" fn direct_value_addr(
        map: *const bindings::bpf_map,
        imm: *mut u64,
        off: u32,
    ) -> c_int {
        // SAFETY: the verifier passes a live map of these ops.
        let map = unsafe { Array::<T::Storage>::from_map(map) };
        // SAFETY: `imm` is writable.
        unsafe { write_out(T::direct_value_addr(map, off).map(DirectValue::addr), imm) }
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops and `off` writable.
    unsafe extern "C" fn direct_value_meta(
        map: *const bindings::bpf_map,
        imm: u64,
        off: *mut u32,
    ) -> c_int {
        // SAFETY: the verifier passes a live map of these ops.
        let map = unsafe { Array::<T::Storage>::from_map(map) };
        // SAFETY: `off` is writable.
        unsafe { write_out(T::direct_value_meta(map, imm), off) }
    }

    /// # Safety
    ///
    /// `map` must be a map of these ops being created, and the BTF types valid.
    unsafe extern "C" fn check_btf(
        map: *mut bindings::bpf_map,
        _btf: *const bindings::btf,
        key_type: *const bindings::btf_type,
        value_type: *const bindings::btf_type,
    ) -> c_int {
        // SAFETY: `map_check_btf()` passes the map being created and two types of its BTF,
        // which the map holds a reference on.
        let (map, key, value) = unsafe {
            (
                Array::<T::Storage>::from_map(map),
                BtfType::from_raw(key_type),
                BtfType::from_raw(value_type),
            )
        };
        from_result(|| T::check_btf(map, &key, &value).map(|()| 0))
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops and `vma` a mapping of it being set up.
    unsafe extern "C" fn mmap(
        map: *mut bindings::bpf_map,
        vma: *mut bindings::vm_area_struct,
    ) -> c_int {
        // SAFETY: `bpf_map_mmap()` passes a live map and a vma undergoing its initial setup.
        let (map, vma) = unsafe { (Array::<T::Storage>::from_map(map), VmaNew::from_raw(vma)) };
        // SAFETY: the vma is valid; `vm_pgoff` is set before `mmap` is called.
        let pgoff = unsafe { (*vma.as_ptr()).vm_pgoff } as u64;
        from_result(|| T::mmap(map, vma, pgoff).map(|()| 0))
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops and `vmf` a fault on one of its mappings.
    unsafe extern "C" fn mmap_fault(
        map: *mut bindings::bpf_map,
        vmf: *mut bindings::vm_fault,
    ) -> bindings::vm_fault_t {
        // SAFETY: the fault handler of a map mapping passes the (live) map and the fault.
        let (map, pgoff) = unsafe {
            (
                Array::<T::Storage>::from_map(map),
                (*vmf).__bindgen_anon_1.pgoff as u64,
            )
        };
        match T::mmap_fault(map, pgoff) {
            // SAFETY: `vmf` is the fault being handled, and `page` a page of the map's vmalloc
            // area (type invariant of `MmapPage`).
            Some(page) => unsafe { ffi::rust_arraymap_vmalloc_fault(vmf, page.as_ptr().cast()) },
            None => bindings::vm_fault_reason_VM_FAULT_SIGBUS as bindings::vm_fault_t,
        }
    }

    /// # Safety
    ///
    /// `meta0` and `meta1` must be initialised map headers.
    unsafe extern "C" fn meta_equal(
        meta0: *const bindings::bpf_map,
        meta1: *const bindings::bpf_map,
    ) -> bool {
        // SAFETY: the BPF core passes an inner-map template and a live map.
        let (meta0, meta1) = unsafe { (MapHeader::from_raw(meta0), MapHeader::from_raw(meta1)) };
        T::meta_equal(meta0, meta1)
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops.
    unsafe extern "C" fn release_uref(map: *mut bindings::bpf_map) {
        // SAFETY: the BPF core passes a live map of these ops.
        T::release_uref(unsafe { Array::<T::Storage>::from_map(map) });
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops, `key` point to its key and `m` be a valid
    /// seq_file.
    unsafe extern "C" fn seq_show_elem(
        map: *mut bindings::bpf_map,
        key: *mut c_void,
        m: *mut bindings::seq_file,
    ) {
        // SAFETY: bpffs passes a live map, a 4-byte key and its seq_file, valid for the call.
        let (map, key, m) = unsafe {
            (
                Array::<T::Storage>::from_map(map),
                read_key(key),
                SeqFile::from_raw(m),
            )
        };
        T::seq_show_elem(map, key, m);
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops, and `callback_fn`/`callback_ctx` the arguments of
    /// a verified `bpf_for_each_map_elem()` call on it.
    unsafe extern "C" fn for_each(
        map: *mut bindings::bpf_map,
        callback_fn: bindings::bpf_callback_t,
        callback_ctx: *mut c_void,
        flags: u64,
    ) -> c_long {
        // SAFETY: the helper passes a live map of these ops.
        let map = unsafe { Array::<T::Storage>::from_map(map) };
        let Some(f) = callback_fn else {
            return EINVAL.to_errno() as c_long;
        };
        // SAFETY: the verifier checked this callback and context for this map.
        let cb = unsafe { ForEachCallback::new(f, callback_ctx) };
        errno_or(T::for_each(map, &cb, flags).map(|n| n as c_long))
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops.
    unsafe extern "C" fn get_hash(map: *mut bindings::bpf_map) -> c_int {
        // SAFETY: the BPF core passes a live map of these ops.
        from_result(|| T::get_hash(unsafe { Array::<T::Storage>::from_map(map) }).map(|()| 0))
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops and `map_file` one of its files.
    unsafe extern "C" fn fd_get_ptr(
        map: *mut bindings::bpf_map,
        map_file: *mut bindings::file,
        fd: c_int,
    ) -> *mut c_void {
        // SAFETY: the BPF core passes a live map of these ops.
        let map = unsafe { Array::<T::Storage>::from_map(map) };
        match T::fd_get_ptr(map, MapFile::from_raw(map_file), fd as u32) {
            Ok(obj) => obj.into_raw().as_ptr().cast(),
            Err(e) => e.to_ptr(),
        }
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops and `ptr` a reference from its `fd_get_ptr`,
    /// handed over; without `need_defer`, one that no reader can still see.
    unsafe extern "C" fn fd_put_ptr(
        map: *mut bindings::bpf_map,
        ptr: *mut c_void,
        need_defer: bool,
    ) {
        // SAFETY: the BPF core passes a live map of these ops.
        let map = unsafe { Array::<T::Storage>::from_map(map) };
        if let Some(ptr) = NonNull::new(ptr) {
            // SAFETY: the BPF core hands over a value of `fd_get_ptr` of these ops.
            let obj = unsafe { FdElemOf::<T>::from_raw(ptr.cast()) };
            if need_defer {
                obj.put_deferred(map);
            } else {
                drop(obj);
            }
        }
    }

    /// # Safety
    ///
    /// `ptr` must be a reference from `fd_get_ptr` of these ops, held during the call.
    unsafe extern "C" fn fd_sys_lookup_elem(ptr: *mut c_void) -> u32 {
        NonNull::new(ptr).map_or(0, |ptr| {
            // SAFETY: the object is alive during the call (the caller's promise).
            T::fd_sys_lookup_elem(unsafe { ptr.cast().as_ref() })
        })
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops, `key` point to its key and `value` to a `u32`.
    unsafe extern "C" fn fd_lookup_elem(
        map: *mut bindings::bpf_map,
        key: *mut c_void,
        value: *mut u32,
    ) -> c_int {
        // SAFETY: the syscall layer passes a live map of these ops and a 4-byte key.
        let (map, key) = unsafe { (Array::<T::Storage>::from_map(map), read_key(key)) };
        // SAFETY: `value` is the syscall's buffer of `sizeof(u32)` bytes.
        unsafe { write_out(T::fd_lookup_elem(map, key), value) }
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops, `map_file` one of its files, `key` point to its
    /// key and `value` to a `u32` file descriptor.
    unsafe extern "C" fn fd_update_elem(
        map: *mut bindings::bpf_map,
        map_file: *mut bindings::file,
        key: *mut c_void,
        value: *mut c_void,
        flags: u64,
    ) -> c_int {
        // SAFETY: the syscall layer passes a live map of these ops, a 4-byte key and a 4-byte
        // value.
        let (map, key, fd) = unsafe {
            (
                Array::<T::Storage>::from_map(map),
                read_key(key),
                read_key(value),
            )
        };
        errno_or(T::fd_update_elem(map, MapFile::from_raw(map_file), key, fd, flags).map(|()| 0))
    }

    /// `prog_array_map_poke_track()`: a program with direct tail calls through the map starts
    /// tracking it. Only for the arrays whose elements patch tail calls (`FdElem::POKE`): the
    /// layer keeps the list, since it dereferences what is in it.
    ///
    /// # Safety
    ///
    /// `map` must be a live PROG_ARRAY of these ops and `aux` the aux of a program being loaded,
    /// which stays alive until it untracks the map (`map_poke_untrack`, before it is freed).
    unsafe extern "C" fn poke_track(
        map: *mut bindings::bpf_map,
        aux: *mut bindings::bpf_prog_aux,
    ) -> c_int {
        // SAFETY: the verifier passes a live map of these ops.
        let map = unsafe { Array::<T::Storage>::from_map(map) };
        let (Some(array_aux), Some(aux)) = (ProgArrayAux::of(map), NonNull::new(aux)) else {
            return EINVAL.to_errno();
        };
        // SAFETY: the program's aux stays alive until it untracks (the caller's promise).
        from_result(|| unsafe { array_aux.lock().track(aux) }.map(|()| 0))
    }

    /// `prog_array_map_poke_untrack()`: a program stops tracking the map, before its image
    /// goes.
    ///
    /// # Safety
    ///
    /// `map` must be a live PROG_ARRAY of these ops and `aux` the aux of a program.
    unsafe extern "C" fn poke_untrack(
        map: *mut bindings::bpf_map,
        aux: *mut bindings::bpf_prog_aux,
    ) {
        // SAFETY: the BPF core passes a live map of these ops.
        let map = unsafe { Array::<T::Storage>::from_map(map) };
        if let (Some(array_aux), Some(aux)) = (ProgArrayAux::of(map), NonNull::new(aux)) {
            array_aux.lock().untrack(aux);
        }
    }

    /// `map_poke_run`, which nothing calls. The verifier requires it of every map its
    /// programs' direct tail calls go through (`kernel/bpf/fixups.c`: "poke tab is
    /// misconfigured" without it), but in 7.3 its only callers are `arraymap.c`'s fd array
    /// update and delete, for `arraymap.c`'s own maps; the layer's slot update re-patches the
    /// tracked programs itself, under the `poke_mutex` it takes (`Array::exchange`). A call
    /// would be a kernel bug: warned about, and nothing done.
    extern "C" fn poke_run(
        _map: *mut bindings::bpf_map,
        _key: u32,
        _old: *mut bindings::bpf_prog,
        _new: *mut bindings::bpf_prog,
    ) {
        kernel::warn_on!(true);
    }

    /// # Safety
    ///
    /// `map` must be a live map of these ops and `map_file` one of its files, being released.
    unsafe extern "C" fn release(map: *mut bindings::bpf_map, map_file: *mut bindings::file) {
        // SAFETY: the BPF core passes a live map of these ops.
        let map = unsafe { Array::<T::Storage>::from_map(map) };
        T::release(map, MapFile::from_raw(map_file));
    }

    /// Every op that `arraymap.c`'s table for `T::MAP_TYPE` has, and the series' ops of its
    /// kind (the per-CPU copies, the fd array syscall ops), the map type provides: checked
    /// when its table is built, so a map type that lacks one does not compile (the constant's
    /// evaluation fails, naming what is missing). The ops every table gets from the layer
    /// (`map_alloc`, `map_free`, `map_mem_usage`, `map_fd_put_ptr`, the poke ops of a
    /// PROG_ARRAY's tail calls, `map_btf_id`) are not in it.
    const COMPLETE: () = {
        let ty = T::MAP_TYPE;
        let array = same(ty, MapType::Array);
        let percpu = same(ty, MapType::PercpuArray);
        let prog = same(ty, MapType::ProgArray);
        let perf = same(ty, MapType::PerfEventArray);
        let cgroup = same(ty, MapType::CgroupArray);
        let maps = same(ty, MapType::ArrayOfMaps);
        let batch =
            (T::HAS_LOOKUP_BATCH || T::GENERIC_BATCH) && (T::HAS_UPDATE_BATCH || T::GENERIC_BATCH);
        assert!(
            T::HAS_GET_NEXT_KEY && T::HAS_DELETE_ELEM,
            "every array type has get_next_key and delete_elem"
        );
        assert!(
            T::Storage::PERCPU == percpu && T::Storage::FD == (prog || perf || cgroup || maps),
            "the storage of the map type is not its type's"
        );
        assert!(
            !(array || percpu)
                || (T::HAS_LOOKUP_ELEM
                    && T::HAS_UPDATE_ELEM
                    && T::HAS_GEN_LOOKUP
                    && T::HAS_DIRECT_VALUE_ADDR
                    && T::HAS_DIRECT_VALUE_META
                    && T::HAS_META_EQUAL
                    && T::HAS_SEQ_SHOW_ELEM
                    && T::HAS_CHECK_BTF
                    && T::HAS_FOR_EACH
                    && T::ITERATOR
                    && batch),
            "an ARRAY or PERCPU_ARRAY lacks an op of arraymap.c's table"
        );
        assert!(
            !array || (T::HAS_RELEASE_UREF && T::HAS_MMAP && T::HAS_MMAP_FAULT && T::HAS_GET_HASH),
            "an ARRAY lacks an op of array_map_ops"
        );
        assert!(
            !percpu || (T::HAS_LOOKUP_PERCPU_ELEM && T::HAS_PERCPU_COPY && T::HAS_PERCPU_UPDATE),
            "a PERCPU_ARRAY lacks an op of percpu_array_map_ops or the per-CPU syscall copies"
        );
        assert!(
            !T::Storage::FD
                || (T::HAS_FD_GET_PTR
                    && T::HAS_FD_LOOKUP_ELEM
                    && T::HAS_FD_UPDATE_ELEM
                    && (T::HAS_LOOKUP_ELEM || T::LOOKUP_UNSUPPORTED)),
            "an fd array lacks map_fd_get_ptr, its lookup or the syscall fd ops"
        );
        assert!(
            !prog
                || (FdElemOf::<T>::POKE
                    && T::HAS_FD_SYS_LOOKUP_ELEM
                    && T::HAS_RELEASE_UREF
                    && T::HAS_SEQ_SHOW_ELEM),
            "a PROG_ARRAY lacks an op of prog_array_map_ops, or its elements are no tail calls"
        );
        assert!(
            !perf || (T::HAS_RELEASE && T::HAS_META_EQUAL && T::HAS_CHECK_BTF),
            "a PERF_EVENT_ARRAY lacks an op of perf_event_array_map_ops"
        );
        assert!(
            !cgroup || (T::HAS_META_EQUAL && T::HAS_CHECK_BTF),
            "a CGROUP_ARRAY lacks an op of cgroup_array_map_ops"
        );
        assert!(
            !maps || (T::HAS_FD_SYS_LOOKUP_ELEM && T::HAS_GEN_LOOKUP && T::HAS_CHECK_BTF && batch),
            "an ARRAY_OF_MAPS lacks an op of array_of_maps_map_ops"
        );
    };

    /// The ops table: what [`Registration`](super::Registration) registers, or what
    /// [`BuiltinOps`](super::registration::BuiltinOps) puts where C finds it.
    pub(super) const VTABLE: bindings::bpf_map_ops = {
        #[allow(clippy::let_unit_value)]
        let () = Self::COMPLETE;
        Self::TABLE
    };

    /// The table itself, once [`Adapter::COMPLETE`] holds.
    const TABLE: bindings::bpf_map_ops = bindings::bpf_map_ops {
        map_alloc_check: Some(Self::alloc_check),
        map_alloc: Some(Self::alloc),
        map_free: Some(Self::free),
        map_mem_usage: Some(Self::mem_usage),
        map_lookup_elem: if T::HAS_LOOKUP_ELEM {
            Some(Self::lookup_elem)
        } else if T::LOOKUP_UNSUPPORTED {
            Some(Self::lookup_unsupported)
        } else {
            None
        },
        map_update_elem: if T::HAS_UPDATE_ELEM {
            Some(Self::update_elem)
        } else {
            None
        },
        map_lookup_percpu_elem: if T::HAS_LOOKUP_PERCPU_ELEM {
            Some(Self::lookup_percpu_elem)
        } else {
            None
        },
        map_percpu_copy: if T::HAS_PERCPU_COPY {
            Some(Self::percpu_copy)
        } else {
            None
        },
        map_percpu_update: if T::HAS_PERCPU_UPDATE {
            Some(Self::percpu_update)
        } else {
            None
        },
        map_delete_elem: if T::HAS_DELETE_ELEM {
            Some(Self::delete_elem)
        } else {
            None
        },
        map_get_next_key: if T::HAS_GET_NEXT_KEY {
            Some(Self::get_next_key)
        } else {
            None
        },
        map_gen_lookup: if T::HAS_GEN_LOOKUP {
            Some(Self::gen_lookup)
        } else {
            None
        },
        map_direct_value_addr: if T::HAS_DIRECT_VALUE_ADDR {
            Some(Self::direct_value_addr)
        } else {
            None
        },
        map_direct_value_meta: if T::HAS_DIRECT_VALUE_META {
            Some(Self::direct_value_meta)
        } else {
            None
        },
        map_meta_equal: if T::HAS_META_EQUAL {
            Some(Self::meta_equal)
        } else {
            None
        },
        map_release_uref: if T::HAS_RELEASE_UREF {
            Some(Self::release_uref)
        } else {
            None
        },
        map_seq_show_elem: if T::HAS_SEQ_SHOW_ELEM {
            Some(Self::seq_show_elem)
        } else {
            None
        },
        map_lookup_batch: if T::HAS_LOOKUP_BATCH {
            Some(Self::lookup_batch)
        } else if T::GENERIC_BATCH {
            Some(bindings::generic_map_lookup_batch)
        } else {
            None
        },
        map_update_batch: if T::HAS_UPDATE_BATCH {
            Some(Self::update_batch)
        } else if T::GENERIC_BATCH {
            Some(bindings::generic_map_update_batch)
        } else {
            None
        },
        map_set_for_each_callback_args: if T::HAS_FOR_EACH {
            Some(bindings::map_set_for_each_callback_args)
        } else {
            None
        },
        map_for_each_callback: if T::HAS_FOR_EACH {
            Some(Self::for_each)
        } else {
            None
        },
        map_get_hash: if T::HAS_GET_HASH {
            Some(Self::get_hash)
        } else {
            None
        },
        map_mmap: if T::HAS_MMAP { Some(Self::mmap) } else { None },
        map_mmap_fault: if T::HAS_MMAP_FAULT {
            Some(Self::mmap_fault)
        } else {
            None
        },
        map_check_btf: if T::HAS_CHECK_BTF {
            Some(Self::check_btf)
        } else {
            None
        },
        map_fd_get_ptr: if T::HAS_FD_GET_PTR {
            Some(Self::fd_get_ptr)
        } else {
            None
        },
        map_fd_put_ptr: if T::HAS_FD_GET_PTR {
            Some(Self::fd_put_ptr)
        } else {
            None
        },
        map_fd_sys_lookup_elem: if T::HAS_FD_SYS_LOOKUP_ELEM {
            Some(Self::fd_sys_lookup_elem)
        } else {
            None
        },
        map_fd_lookup_elem: if T::HAS_FD_LOOKUP_ELEM {
            Some(Self::fd_lookup_elem)
        } else {
            None
        },
        map_fd_update_elem: if T::HAS_FD_UPDATE_ELEM {
            Some(Self::fd_update_elem)
        } else {
            None
        },
        map_poke_track: if FdElemOf::<T>::POKE {
            Some(Self::poke_track)
        } else {
            None
        },
        map_poke_untrack: if FdElemOf::<T>::POKE {
            Some(Self::poke_untrack)
        } else {
            None
        },
        map_poke_run: if FdElemOf::<T>::POKE {
            Some(Self::poke_run)
        } else {
            None
        },
        map_release: if T::HAS_RELEASE {
            Some(Self::release)
        } else {
            None
        },
        iter_seq_info: if T::ITERATOR {
            &super::iter::IterSeq::<T::Storage>::INFO
        } else {
            core::ptr::null()
        },
        // Only the address of the exported id is taken here; the verifier reads it.
        map_btf_id: (&raw const ffi::bpf_array_btf_ids).cast_mut().cast(),
        // The module that implements the ops (`OwnerModule`, set by `#[vtable]`): maps pin it.
        // Null when the crate is built into the kernel.
        owner: T::OwnerModule::THIS_MODULE.as_ptr(),
        // Every other op is absent.
        ..pin_init::zeroed()
    };
}

/// Whether two map types are the same, in a constant.
const fn same(a: MapType, b: MapType) -> bool {
    a as u32 == b as u32
}
