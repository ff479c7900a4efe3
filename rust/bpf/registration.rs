// SPDX-License-Identifier: GPL-2.0

//! How the BPF core finds the ops of a [`MapOps`] implementation, in either build of the crate.
//!
//! - Built as a module (`rust_arraymap.ko`), each map type is registered with
//!   `bpf_map_type_register()` (the patch series in `patches/`) for as long as a
//!   [`Registration`] lives.
//! - Built into the kernel (`CONFIG_BPF_ARRAY_MAPS_RUST`), `include/linux/bpf_types.h` names one
//!   ops table per type, which [`builtin_map_ops!`] defines: it is in `bpf_map_types[]` from the
//!   first instruction on, and nothing is registered.

use super::{adapter::Adapter, ops::MapOps};
#[cfg(MODULE)]
use core::marker::PhantomData;
use kernel::bindings;
#[cfg(MODULE)]
use kernel::{error::to_result, prelude::*};

/// Serves [`MapOps::MAP_TYPE`] with `T` while it lives.
///
/// New maps of the type are created through `T`'s ops table from [`Registration::new`] until
/// the registration is dropped; maps pin the module, so the module (and with it the ops table)
/// outlives every map created through it.
///
/// # Invariants
///
/// `ops` is the table registered for [`MapOps::MAP_TYPE`] by `new`. The BPF core unregisters by
/// pointer, and Rust does not promise one address for two borrows of an associated const, so
/// `drop` hands back this very pointer.
#[cfg(MODULE)]
pub(crate) struct Registration<T: MapOps> {
    ops: &'static bindings::bpf_map_ops,
    _type: PhantomData<T>,
}

#[cfg(MODULE)]
// SAFETY: `Registration` only holds a shared reference to an ops table that nothing writes (a
// `const` that C reads), so it may be sent to and used from any thread; its `T` is a marker.
unsafe impl<T: MapOps> Send for Registration<T> {}

#[cfg(MODULE)]
// SAFETY: as for `Send`: `&Registration` gives access to nothing but the immutable table.
unsafe impl<T: MapOps> Sync for Registration<T> {}

#[cfg(MODULE)]
impl<T: MapOps> Registration<T> {
    /// Registers `T`'s ops with the BPF core.
    pub(crate) fn new() -> Result<Self> {
        let ops: &'static bindings::bpf_map_ops = &Adapter::<T>::VTABLE;
        // SAFETY: the table is `'static` and its owner is this module, whose unload drops the
        // registration, and the registration is undone in `drop`.
        to_result(unsafe { bindings::bpf_map_type_register(T::MAP_TYPE.as_raw(), ops) })?;
        // INVARIANT: `ops` was registered for `T::MAP_TYPE` just above.
        Ok(Self {
            ops,
            _type: PhantomData,
        })
    }
}

#[cfg(MODULE)]
impl<T: MapOps> Drop for Registration<T> {
    fn drop(&mut self) {
        // It fails, with a warning of the core's own, only for a table that does not serve the
        // type, which the type invariant rules out: nothing is left to undo.
        // SAFETY: by the type invariant, the type and the very table registered in `new`; this
        // waits for concurrent map creations that may have seen the table.
        let _ = unsafe { bindings::bpf_map_type_unregister(T::MAP_TYPE.as_raw(), self.ops) };
    }
}

/// The ops table of a map type built into the kernel, in static memory under the name that
/// `include/linux/bpf_types.h` gives it (defined by [`builtin_map_ops!`]).
///
/// It is the very table that [`Registration`] would register: only the way the BPF core finds
/// it differs. Its `owner` is null, as for every built-in table.
#[cfg(not(MODULE))]
#[repr(transparent)]
pub(crate) struct BuiltinOps(bindings::bpf_map_ops);

#[cfg(not(MODULE))]
// SAFETY: the table is immutable (a `static` without interior mutability, only ever read, by C
// and by nothing else); its pointers lead to code and to other immutable statics.
unsafe impl Sync for BuiltinOps {}

#[cfg(not(MODULE))]
impl BuiltinOps {
    /// The table of `T`.
    pub(crate) const fn of<T: MapOps>() -> Self {
        Self(Adapter::<T>::VTABLE)
    }
}

/// Defines the ops table that `include/linux/bpf_types.h` names `$name` (a string literal) as
/// the table of `$ops`, a [`MapOps`] implementation, when the crate is built into the kernel
/// (`CONFIG_BPF_ARRAY_MAPS_RUST`); built as a module, nothing: the module registers its types.
///
/// The table is `extern const struct bpf_map_ops $name` for C (`BPF_MAP_TYPE()` in
/// `include/linux/bpf.h`); [`BuiltinOps`] is a transparent wrapper of it.
macro_rules! builtin_map_ops {
    ($name:literal, $ops:ty) => {
        const _: () = {
            #[cfg(not(MODULE))]
            #[export_name = $name]
            static OPS: $crate::bpf::BuiltinOps = $crate::bpf::BuiltinOps::of::<$ops>();
        };
    };
}
pub(crate) use builtin_map_ops;
