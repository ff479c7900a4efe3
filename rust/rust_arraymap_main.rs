// SPDX-License-Identifier: GPL-2.0

//! BPF array maps in Rust.
//!
//! A drop-in replacement for the array map family of `kernel/bpf/arraymap.c`, built one of two
//! ways from the same sources:
//!
//! - as the module `rust_arraymap.ko`, for a kernel with the patch series of `patches/`: on load
//!   it registers its [`bpf_map_ops`](kernel::bindings::bpf_map_ops) tables with the BPF
//!   subsystem (`bpf_map_type_register()`); from then on, new maps of the served types are
//!   created and run by this module. Maps pin the module, so it cannot be unloaded while one of
//!   them exists.
//! - into the kernel, in place of `arraymap.c` (`CONFIG_BPF_ARRAY_MAPS_RUST`, the last patches
//!   of the series; the build copies these sources to `kernel/bpf/rust_arraymap/`): the tables
//!   below are the ones `include/linux/bpf_types.h` names, there from the start; nothing is
//!   registered.
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

// Built in: the tables of `include/linux/bpf_types.h` (nothing as a module).
bpf::builtin_map_ops!("rust_array_map_ops", array::ArrayMap);
bpf::builtin_map_ops!("rust_percpu_array_map_ops", percpu_array::PerCpuArrayMap);
bpf::builtin_map_ops!("rust_prog_array_map_ops", prog_array::ProgArrayMap);
bpf::builtin_map_ops!(
    "rust_perf_event_array_map_ops",
    perf_event_array::PerfEventArrayMap
);
bpf::builtin_map_ops!("rust_cgroup_array_map_ops", cgroup_array::CgroupArrayMap);
bpf::builtin_map_ops!("rust_array_of_maps_map_ops", array_of_maps::ArrayOfMapsMap);

/// The module: one registration per served map type, undone on unload; built in, only the
/// debugfs file of the creation counts.
///
/// Fields drop in order: the registrations first, then the workqueue, whose drop waits for the
/// module's deferred work and RCU callbacks. By then no map of the module exists (each pins it).
struct RustArrayMap {
    #[cfg(MODULE)]
    _array: bpf::Registration<array::ArrayMap>,
    #[cfg(MODULE)]
    _percpu_array: bpf::Registration<percpu_array::PerCpuArrayMap>,
    #[cfg(MODULE)]
    _prog_array: bpf::Registration<prog_array::ProgArrayMap>,
    #[cfg(MODULE)]
    _perf_event_array: bpf::Registration<perf_event_array::PerfEventArrayMap>,
    #[cfg(MODULE)]
    _cgroup_array: bpf::Registration<cgroup_array::CgroupArrayMap>,
    #[cfg(MODULE)]
    _array_of_maps: bpf::Registration<array_of_maps::ArrayOfMapsMap>,
    #[cfg(MODULE)]
    _queue: bpf::ModuleQueue,
    _maps_created: bpf::CreationCountsFile,
}

impl kernel::Module for RustArrayMap {
    #[cfg(MODULE)]
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // The queue first: PROG_ARRAY maps need it from their creation on.
        let queue = bpf::ModuleQueue::new()?;
        // Before the first registration, so that every map the module creates is counted.
        let maps_created = bpf::creation_counts_file()?;
        // One by one, yet all or nothing for user space: the BPF core creates no map through the
        // ops of a module before its init has returned (patch 7), so when a registration fails,
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

    /// Built in, the types are served from the start (the tables above); this `device_initcall`
    /// only shows the counts of the maps created, the earlier ones included.
    #[cfg(not(MODULE))]
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!(
            "built in: BPF_MAP_TYPE_ARRAY, PERCPU_ARRAY, PROG_ARRAY, PERF_EVENT_ARRAY, \
             CGROUP_ARRAY, ARRAY_OF_MAPS served by Rust\n"
        );
        Ok(Self {
            _maps_created: bpf::creation_counts_file()?,
        })
    }
}
