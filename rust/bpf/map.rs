// SPDX-License-Identifier: GPL-2.0

//! `struct bpf_map` headers that are not necessarily one of our arrays: the inner-map template
//! (`bpf_map_meta_alloc()`) and the candidate inner map that `map_meta_equal` compares.

use super::ffi;
use kernel::{bindings, types::Opaque};

/// The header of a map or of an inner-map template.
///
/// # Invariants
///
/// `0` is an initialised `struct bpf_map` whose type, sizes, flags and record do not change
/// while it is borrowed.
#[repr(transparent)]
pub(crate) struct MapHeader(Opaque<bindings::bpf_map>);

impl MapHeader {
    /// Borrows a map header passed to `map_meta_equal`.
    ///
    /// # Safety
    ///
    /// `map` must point to an initialised `struct bpf_map` (a live map or an inner-map
    /// template) valid for `'a`.
    pub(crate) unsafe fn from_raw<'a>(map: *const bindings::bpf_map) -> &'a Self {
        // SAFETY: `MapHeader` is a transparent wrapper of `struct bpf_map`, valid for `'a` as
        // the caller guarantees.
        unsafe { &*map.cast() }
    }

    fn raw(&self) -> *const bindings::bpf_map {
        self.0.get()
    }

    /// `map_flags`.
    pub(crate) fn map_flags(&self) -> u32 {
        // SAFETY: the header is initialised and its flags do not change (type invariant).
        unsafe { (*self.raw()).map_flags }
    }

    /// `max_entries`.
    pub(crate) fn max_entries(&self) -> u32 {
        // SAFETY: the header is initialised and `max_entries` does not change (type invariant).
        unsafe { (*self.raw()).max_entries }
    }

    /// `bpf_map_meta_equal()`: same type, key and value sizes, flags and special fields.
    pub(crate) fn meta_equal(&self, other: &MapHeader) -> bool {
        // SAFETY: both headers are initialised (type invariant).
        unsafe { ffi::bpf_map_meta_equal(self.raw(), other.raw()) }
    }
}
