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
//! types ([`array`], [`percpu_array`]) sit on top of it in safe Rust.

use kernel::prelude::*;

mod array;
mod bpf;
mod percpu_array;

module! {
    type: RustArrayMap,
    name: "rust_arraymap",
    authors: ["rust_arraymap developers"],
    description: "The BPF array map family, in Rust",
    license: "GPL",
}

/// The module: one registration per served map type, undone on unload.
struct RustArrayMap {
    _array: bpf::Registration<array::ArrayMap>,
    _percpu_array: bpf::Registration<percpu_array::PerCpuArrayMap>,
}

impl kernel::Module for RustArrayMap {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let array = bpf::Registration::new()?;
        let percpu_array = bpf::Registration::new()?;
        pr_info!("serving BPF_MAP_TYPE_ARRAY, BPF_MAP_TYPE_PERCPU_ARRAY\n");
        Ok(Self {
            _array: array,
            _percpu_array: percpu_array,
        })
    }
}
