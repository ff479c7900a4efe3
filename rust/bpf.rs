// SPDX-License-Identifier: GPL-2.0

//! The abstraction layer between the map types and the kernel's BPF core.
//!
//! Everything here speaks C: the ops table built from a Rust trait ([`MapOps`], [`Registration`]),
//! the kernel's own `struct bpf_array` ([`Array`]), creation attributes ([`MapAttr`]), BTF types
//! ([`BtfType`]), map headers in inner-map checks ([`MapHeader`]), per-CPU memory ([`PossibleCpu`],
//! [`PerCpu`] arrays), the BPF instructions that the verifier inlines ([`Lookup`]) and the
//! per-type counts of created maps that tests read in debugfs ([`CreationCountsFile`]); with
//! `CONFIG_KUNIT`, what the unit tests build instead of a map (`fixture.rs`); the layout that C
//! reads, checked at build time (`layout.rs`). All `unsafe` of the crate lives in this module.

mod adapter;
mod array;
mod attr;
mod batch;
mod btf;
mod elem;
mod fd_array;
mod ffi;
#[cfg(CONFIG_KUNIT = "y")]
mod fixture;
mod for_each;
mod insn;
mod iter;
mod layout;
mod map;
mod ops;
mod percpu;
mod prog_array_aux;
mod registration;
mod stats;
mod storage;
mod value;

pub(crate) use array::{elem_size_of, page_align, Array, ArrayBox, ArrayHeader, Storage};
pub(crate) use attr::{flags, MapAttr, MapType};
pub(crate) use batch::Batch;
pub(crate) use btf::BtfType;
pub(crate) use elem::{DirectValue, MmapPage, ValuePtr};
pub(crate) use fd_array::{
    Cgroup, EventEntry, FdElem, InnerMap, MapFile, MapMeta, MapView, Prog, ProgView, Ptrs, TailCall,
};
#[cfg(CONFIG_KUNIT = "y")]
pub(crate) use fixture::TestAttr;
pub(crate) use for_each::ForEachCallback;
pub(crate) use insn::{jit_supports_percpu_insn, Lookup};
pub(crate) use map::MapHeader;
pub(crate) use ops::MapOps;
pub(crate) use percpu::{
    cond_resched, num_possible_cpus, possible_cpu, possible_cpus, PossibleCpu,
};
#[cfg(MODULE)]
pub(crate) use prog_array_aux::ModuleQueue;
pub(crate) use prog_array_aux::{DeferredClear, ProgArrayAux};
pub(crate) use registration::builtin_map_ops;
#[cfg(not(MODULE))]
pub(crate) use registration::BuiltinOps;
#[cfg(MODULE)]
pub(crate) use registration::Registration;
pub(crate) use stats::{creation_counts_file, CreationCountsFile};
pub(crate) use storage::{Inline, PerCpu};
pub(crate) use value::{ValueBuf, ValueSrc};
