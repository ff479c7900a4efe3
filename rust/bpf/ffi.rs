// SPDX-License-Identifier: GPL-2.0

//! Declarations of the C symbols that the generated bindings do not have: the wrappers of
//! static inline helpers in `inline_helpers.c`, and the BTF id exported by the patch series.

use kernel::bindings;

// `struct bpf_map` holds zero-sized members (`lock_class_key` without lockdep); it is only ever
// passed by pointer here, as in the kernel's own bindings crate.
#[allow(improper_ctypes)]
extern "C" {
    /// `bpf_bypass_spec_v1(NULL)`: may the caller skip Spectre v1 index masking?
    pub(crate) fn rust_arraymap_bypass_spec_v1() -> bool;
    /// `INSN_BUF_SIZE` (include/linux/bpf_verifier.h): the verifier's `map_gen_lookup` buffer.
    pub(crate) fn rust_arraymap_insn_buf_size() -> u32;
    /// `btf_record_has_field(map->record, type)`.
    pub(crate) fn rust_arraymap_record_has_field(map: *const bindings::bpf_map, ty: u32) -> bool;
    /// `copy_map_value(map, dst, src)`: copies a value, leaving special fields alone.
    pub(crate) fn rust_arraymap_copy_map_value(
        map: *mut bindings::bpf_map,
        dst: *mut kernel::ffi::c_void,
        src: *mut kernel::ffi::c_void,
    );
    /// Faults in the vmalloc page at `addr` for `vmf`: `vmalloc_to_page()`, flush, `get_page()`.
    pub(crate) fn rust_arraymap_vmalloc_fault(
        vmf: *mut bindings::vm_fault,
        addr: *mut kernel::ffi::c_void,
    ) -> bindings::vm_fault_t;
    /// `bpf_map_has_internal_structs(map)`: timers, workqueues or task_work in the values?
    pub(crate) fn rust_arraymap_has_internal_structs(map: *mut bindings::bpf_map) -> bool;
    /// `BTF_INFO_KIND(t->info)`.
    pub(crate) fn rust_arraymap_btf_kind(t: *const bindings::btf_type) -> u32;
    /// `copy_map_value_long(map, dst, src)`: as `copy_map_value()`, rounded up to 8 bytes.
    pub(crate) fn rust_arraymap_copy_map_value_long(
        map: *mut bindings::bpf_map,
        dst: *mut kernel::ffi::c_void,
        src: *mut kernel::ffi::c_void,
    );
    /// `check_and_init_map_value(map, dst)`: clears the special fields of a copied-out value.
    pub(crate) fn rust_arraymap_check_and_init_map_value(
        map: *mut bindings::bpf_map,
        dst: *mut kernel::ffi::c_void,
    );
    /// `bpf_map_alloc_percpu(map, size, 8, GFP_USER | __GFP_NOWARN)`: zeroed, accounted.
    pub(crate) fn rust_arraymap_alloc_percpu(
        map: *mut bindings::bpf_map,
        size: u32,
    ) -> *mut kernel::ffi::c_void;
    /// `my_cpu_offset` (the offset `this_cpu_ptr()` adds), 0 without `CONFIG_SMP`.
    pub(crate) fn rust_arraymap_my_cpu_offset() -> kernel::ffi::c_ulong;
    /// `num_possible_cpus()`.
    pub(crate) fn rust_arraymap_num_possible_cpus() -> u32;
    /// `cond_resched()`.
    pub(crate) fn rust_arraymap_cond_resched();
    /// `kmalloc(size, GFP_USER | __GFP_NOWARN)`.
    pub(crate) fn rust_arraymap_kmalloc_user(size: usize) -> *mut kernel::ffi::c_void;
    /// `kvmalloc(size, GFP_USER | __GFP_NOWARN)`, uninitialised, freed with `kvfree()`.
    pub(crate) fn rust_arraymap_kvmalloc_user(size: usize) -> *mut kernel::ffi::c_void;
    /// `put_user(value, uaddr)`: 0, or `-EFAULT` if `uaddr` is not a writable user address
    /// (`put_user()` checks it).
    pub(crate) fn rust_arraymap_put_user_u32(uaddr: *mut u32, value: u32) -> kernel::ffi::c_int;

    /// `bpf_map_meta_equal()` (kernel/bpf/map_in_map.h, a private header; exported by the
    /// series).
    pub(crate) fn bpf_map_meta_equal(
        meta0: *const bindings::bpf_map,
        meta1: *const bindings::bpf_map,
    ) -> bool;

    /// `bpf_jit_supports_percpu_insn()` (include/linux/filter.h, not in the bindings; exported
    /// by the series).
    pub(crate) fn bpf_jit_supports_percpu_insn() -> bool;

    /// `cgroup_get()`.
    pub(crate) fn rust_arraymap_cgroup_get(cgrp: *mut bindings::cgroup);
    /// `cgroup_put()`.
    pub(crate) fn rust_arraymap_cgroup_put(cgrp: *mut bindings::cgroup);
    /// `INIT_LIST_HEAD(&aux->poke_progs)`, `mutex_init(&aux->poke_mutex)`,
    /// `INIT_WORK(&aux->work, func)`.
    pub(crate) fn rust_arraymap_array_aux_init(
        aux: *mut bindings::bpf_array_aux,
        func: unsafe extern "C" fn(*mut bindings::work_struct),
    );
    /// `alloc_workqueue("rust_arraymap", WQ_UNBOUND, 0)`: the module's own queue (built in, the
    /// system workqueue serves).
    #[cfg(MODULE)]
    pub(crate) fn rust_arraymap_alloc_workqueue() -> *mut bindings::workqueue_struct;

    /// `perf_event_get()` (include/linux/perf_event.h, not in the bindings; exported by the
    /// series): the perf event file behind `fd`, with a reference, or an `ERR_PTR()`.
    pub(crate) fn perf_event_get(fd: kernel::ffi::c_uint) -> *mut bindings::file;
    /// `perf_event_read_local()` (exported by the series).
    pub(crate) fn perf_event_read_local(
        event: *mut bindings::perf_event,
        value: *mut u64,
        enabled: *mut u64,
        running: *mut u64,
    ) -> kernel::ffi::c_int;

    /// `bpf_map_meta_alloc()` (kernel/bpf/map_in_map.h; exported by the series).
    pub(crate) fn bpf_map_meta_alloc(inner_map_ufd: kernel::ffi::c_int) -> *mut bindings::bpf_map;
    /// `bpf_map_meta_free()`.
    pub(crate) fn bpf_map_meta_free(map_meta: *mut bindings::bpf_map);
    /// `bpf_map_fd_get_ptr()`: the map behind `fd`, if it fits the outer map's template.
    pub(crate) fn bpf_map_fd_get_ptr(
        map: *mut bindings::bpf_map,
        map_file: *mut bindings::file,
        fd: kernel::ffi::c_int,
    ) -> *mut kernel::ffi::c_void;
    /// `bpf_map_fd_put_ptr()`.
    pub(crate) fn bpf_map_fd_put_ptr(
        map: *mut bindings::bpf_map,
        ptr: *mut kernel::ffi::c_void,
        need_defer: bool,
    );
    /// `bpf_map_fd_sys_lookup_elem()`: the id of an inner map.
    pub(crate) fn bpf_map_fd_sys_lookup_elem(ptr: *mut kernel::ffi::c_void) -> u32;

    /// The vmlinux BTF id of `struct bpf_array` (`BTF_ID_LIST_GLOBAL_SINGLE` in arraymap.c: a
    /// `u32[]`, which `bpf_map_ops.map_btf_id` points to as an `int *`).
    pub(crate) static bpf_array_btf_ids: [u32; 1];
}
