// SPDX-License-Identifier: GPL-2.0

//! BPF array maps in Rust.
//!
//! A drop-in replacement for the array map family of `kernel/bpf/arraymap.c`. On load the module
//! registers its [`bpf_map_ops`](kernel::bindings::bpf_map_ops) tables with the BPF subsystem
//! (through `bpf_map_type_register()`, added by the patch series in `patches/`); from then on,
//! new maps of the served types are created and run by this module. Maps pin the module, so it
//! cannot be unloaded while one of them exists.
//!
//! The crate has two layers: [`bpf`] owns every FFI call and every `unsafe` block, and the map
//! types ([`array`], [`percpu_array`], and the fd arrays [`prog_array`], [`perf_event_array`],
//! [`cgroup_array`], [`array_of_maps`] over [`fd_array`]) sit on top of it in safe Rust.

use kernel::prelude::*;

mod array;
mod array_of_maps;
mod bpf;
mod cgroup_array;
mod fd_array;
mod percpu_array;
mod perf_event_array;
mod prog_array;

module! {
    type: RustArrayMap,
    name: "rust_arraymap",
    authors: ["rust_arraymap developers"],
    description: "The BPF array map family, in Rust",
    license: "GPL",
    // The exports of the kernel series (patches/) are in this namespace.
    imports_ns: ["BPF_INTERNAL"],
}

/// The module: one registration per served map type, undone on unload.
///
/// Fields drop in order: the registrations first, then the workqueue, whose drop waits for the
/// module's deferred work and RCU callbacks. By then no map of the module exists (each pins it).
struct RustArrayMap {
    _array: bpf::Registration<array::ArrayMap>,
    _percpu_array: bpf::Registration<percpu_array::PerCpuArrayMap>,
    _prog_array: bpf::Registration<prog_array::ProgArrayMap>,
    _perf_event_array: bpf::Registration<perf_event_array::PerfEventArrayMap>,
    _cgroup_array: bpf::Registration<cgroup_array::CgroupArrayMap>,
    _array_of_maps: bpf::Registration<array_of_maps::ArrayOfMapsMap>,
    _queue: bpf::ModuleQueue,
    _maps_created: bpf::CreationCountsFile,
}

impl kernel::Module for RustArrayMap {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // The queue first: PROG_ARRAY maps need it from their creation on.
        let queue = bpf::ModuleQueue::new()?;
        // Before the first registration, so that every map the module creates is counted.
        let maps_created = bpf::creation_counts_file()?;
        // One by one, yet all or nothing for user space: the BPF core creates no map through the
        // ops of a module before its init has returned (patch 6), so when a registration fails,
        // dropping the earlier ones leaves nothing behind.
        let module = Self {
            _array: bpf::Registration::new()?,
            _percpu_array: bpf::Registration::new()?,
            _prog_array: bpf::Registration::new()?,
            _perf_event_array: bpf::Registration::new()?,
            _cgroup_array: bpf::Registration::new()?,
            _array_of_maps: bpf::Registration::new()?,
            _queue: queue,
            _maps_created: maps_created,
        };
        pr_info!(
            "serving BPF_MAP_TYPE_ARRAY, PERCPU_ARRAY, PROG_ARRAY, PERF_EVENT_ARRAY, \
             CGROUP_ARRAY, ARRAY_OF_MAPS\n"
        );
        Ok(module)
    }
}
