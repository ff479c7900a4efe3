// SPDX-License-Identifier: GPL-2.0

//! The `BPF_MAP_CREATE` attributes and the uapi constants the map types test.

use core::marker::PhantomData;
use kernel::bindings;

/// The array map types, the values of `enum bpf_map_type` this module can serve.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum MapType {
    /// `BPF_MAP_TYPE_ARRAY`.
    Array = bindings::bpf_map_type_BPF_MAP_TYPE_ARRAY,
    /// `BPF_MAP_TYPE_PERCPU_ARRAY`.
    PercpuArray = bindings::bpf_map_type_BPF_MAP_TYPE_PERCPU_ARRAY,
    /// `BPF_MAP_TYPE_PROG_ARRAY`.
    ProgArray = bindings::bpf_map_type_BPF_MAP_TYPE_PROG_ARRAY,
    /// `BPF_MAP_TYPE_PERF_EVENT_ARRAY`.
    PerfEventArray = bindings::bpf_map_type_BPF_MAP_TYPE_PERF_EVENT_ARRAY,
    /// `BPF_MAP_TYPE_CGROUP_ARRAY`.
    CgroupArray = bindings::bpf_map_type_BPF_MAP_TYPE_CGROUP_ARRAY,
    /// `BPF_MAP_TYPE_ARRAY_OF_MAPS`.
    ArrayOfMaps = bindings::bpf_map_type_BPF_MAP_TYPE_ARRAY_OF_MAPS,
}

impl MapType {
    /// All of them, in the order of `enum bpf_map_type`'s values.
    pub(crate) const ALL: [Self; 6] = [
        Self::Array,
        Self::ProgArray,
        Self::PerfEventArray,
        Self::PercpuArray,
        Self::CgroupArray,
        Self::ArrayOfMaps,
    ];

    /// The uapi value.
    pub(crate) const fn as_raw(self) -> u32 {
        self as u32
    }

    /// The array type that the uapi value `raw` names, if it names one.
    pub(crate) fn from_raw(raw: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_raw() == raw)
    }
}

/// Map creation and update flags of the uapi.
pub(crate) mod flags {
    use kernel::bindings;

    /// `BPF_NOEXIST`.
    pub(crate) const NOEXIST: u64 = bindings::BPF_NOEXIST as u64;
    /// `BPF_EXIST`.
    pub(crate) const EXIST: u64 = bindings::BPF_EXIST as u64;
    /// `BPF_F_LOCK`.
    pub(crate) const LOCK: u64 = bindings::BPF_F_LOCK as u64;
    /// `BPF_F_CPU`: the CPU number is in the upper 32 bits of the flags.
    pub(crate) const CPU: u64 = bindings::BPF_F_CPU as u64;
    /// `BPF_F_ALL_CPUS`: one value for every CPU.
    pub(crate) const ALL_CPUS: u64 = bindings::BPF_F_ALL_CPUS as u64;
    /// `BPF_F_NUMA_NODE`.
    pub(crate) const NUMA_NODE: u32 = bindings::BPF_F_NUMA_NODE;
    /// `BPF_F_MMAPABLE`.
    pub(crate) const MMAPABLE: u32 = bindings::BPF_F_MMAPABLE;
    /// `BPF_F_PRESERVE_ELEMS`.
    pub(crate) const PRESERVE_ELEMS: u32 = bindings::BPF_F_PRESERVE_ELEMS;
    /// `BPF_F_INNER_MAP`.
    pub(crate) const INNER_MAP: u32 = bindings::BPF_F_INNER_MAP;
    /// `BPF_F_RDONLY_PROG`.
    pub(crate) const RDONLY_PROG: u32 = bindings::BPF_F_RDONLY_PROG;
    /// `BPF_F_WRONLY_PROG`.
    pub(crate) const WRONLY_PROG: u32 = bindings::BPF_F_WRONLY_PROG;
    /// `BPF_F_ACCESS_MASK` (include/linux/bpf.h; a macro, so not generated).
    pub(crate) const ACCESS_MASK: u32 =
        bindings::BPF_F_RDONLY | RDONLY_PROG | bindings::BPF_F_WRONLY | WRONLY_PROG;

    /// `bpf_map_flags_access_ok()`: a map cannot be both read-only and write-only for programs.
    pub(crate) const fn access_ok(flags: u32) -> bool {
        flags & (RDONLY_PROG | WRONLY_PROG) != (RDONLY_PROG | WRONLY_PROG)
    }
}

/// The `BPF_MAP_CREATE` part of a `union bpf_attr`.
///
/// # Invariants
///
/// `raw` points to a `union bpf_attr` of a `BPF_MAP_CREATE` command, valid for `'a`, whose
/// map-creation member is the active one.
pub(crate) struct MapAttr<'a> {
    raw: *mut bindings::bpf_attr,
    _p: PhantomData<&'a bindings::bpf_attr>,
}

impl MapAttr<'_> {
    /// Wraps the attributes that `map_alloc_check` or `map_alloc` received.
    ///
    /// # Safety
    ///
    /// `raw` must point to the `union bpf_attr` of a `BPF_MAP_CREATE` command, valid for the
    /// lifetime of the returned object.
    pub(crate) unsafe fn from_raw(raw: *mut bindings::bpf_attr) -> Self {
        // INVARIANT: the caller guarantees it.
        Self {
            raw,
            _p: PhantomData,
        }
    }

    fn create(&self) -> &bindings::bpf_attr__bindgen_ty_1 {
        // SAFETY: by the type invariant `raw` is valid and the map-creation member is active.
        unsafe { &(*self.raw).__bindgen_anon_1 }
    }

    /// Returns the raw pointer, for C functions that take the attributes.
    pub(crate) fn as_raw(&self) -> *mut bindings::bpf_attr {
        self.raw
    }

    /// `map_type`, if it is an array type (the only ones whose ops this module serves).
    pub(crate) fn map_type(&self) -> Option<MapType> {
        MapType::from_raw(self.create().map_type)
    }

    /// `key_size`.
    pub(crate) fn key_size(&self) -> u32 {
        self.create().key_size
    }

    /// `value_size`.
    pub(crate) fn value_size(&self) -> u32 {
        self.create().value_size
    }

    /// `max_entries`.
    pub(crate) fn max_entries(&self) -> u32 {
        self.create().max_entries
    }

    /// `map_flags`.
    pub(crate) fn map_flags(&self) -> u32 {
        self.create().map_flags
    }

    /// `inner_map_fd`: the template of an array of maps.
    pub(crate) fn inner_map_fd(&self) -> u32 {
        self.create().inner_map_fd
    }

    /// `bpf_map_attr_numa_node()`: the requested node, or `NUMA_NO_NODE`.
    pub(crate) fn numa_node(&self) -> i32 {
        if self.map_flags() & flags::NUMA_NODE != 0 {
            self.create().numa_node as i32
        } else {
            bindings::NUMA_NO_NODE
        }
    }
}
