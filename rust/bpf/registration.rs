// SPDX-License-Identifier: GPL-2.0

//! Registration of a [`MapOps`] implementation with the BPF core
//! (`bpf_map_type_register()`/`bpf_map_type_unregister()`).

use super::{adapter::Adapter, ops::MapOps};
use core::marker::PhantomData;
use kernel::{bindings, error::to_result, prelude::*};
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
pub(crate) struct Registration<T: MapOps> {
    ops: &'static bindings::bpf_map_ops,
    _type: PhantomData<T>,
}

// SAFETY: `Registration` only holds a shared reference to an ops table that nothing writes (a
// `const` that C reads), so it may be sent to and used from any thread; its `T` is a marker.
unsafe impl<T: MapOps> Send for Registration<T> {}

// SAFETY: as for `Send`: `&Registration` gives access to nothing but the immutable table.
unsafe impl<T: MapOps> Sync for Registration<T> {}

impl<T: MapOps> Registration<T> {
    /// Registers `T`'s ops with the BPF core.
    pub(crate) fn new() -> Result<Self> {
        let ops = Adapter::<T>::build();
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

impl<T: MapOps> Drop for Registration<T> {
    fn drop(&mut self) {
        // It fails, with a warning of the core's own, only for a table that does not serve the
        // type, which the type invariant rules out: nothing is left to undo.
        // SAFETY: by the type invariant, the type and the very table registered in `new`; this
        // waits for concurrent map creations that may have seen the table.
        let _ = unsafe { bindings::bpf_map_type_unregister(T::MAP_TYPE.as_raw(), self.ops) };
    }
}
