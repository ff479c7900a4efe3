// SPDX-License-Identifier: GPL-2.0

//! BTF types, as `map_check_btf` receives them.

use super::ffi;
use kernel::bindings;

/// A BTF type of the map's BTF object.
///
/// # Invariants
///
/// `0` is a valid `struct btf_type` for the lifetime `'a`.
pub(crate) struct BtfType<'a>(&'a bindings::btf_type);

impl<'a> BtfType<'a> {
    /// Wraps a type that `map_check_btf` received.
    ///
    /// # Safety
    ///
    /// `t` must point to a valid `struct btf_type` that lives for `'a`.
    pub(crate) unsafe fn from_raw(t: *const bindings::btf_type) -> Self {
        // SAFETY: the caller guarantees that `t` is valid for `'a`.
        Self(unsafe { &*t })
    }

    /// `btf_type_is_void()`: is this the void type (a keyless map)?
    pub(crate) fn is_void(&self) -> bool {
        // SAFETY: `self.0` is a valid BTF type by the type invariant.
        unsafe { bindings::btf_type_is_void(self.0) }
    }

    /// `btf_type_is_i32()`: is this a 32-bit integer (or an enum of that size)?
    pub(crate) fn is_i32(&self) -> bool {
        // SAFETY: `self.0` is a valid BTF type by the type invariant.
        unsafe { bindings::btf_type_is_i32(self.0) }
    }

    /// Is this a `BTF_KIND_DATASEC` (the value of a `.bss`/`.data`/`.rodata` map)?
    pub(crate) fn is_datasec(&self) -> bool {
        // SAFETY: `self.0` is a valid BTF type by the type invariant.
        unsafe { ffi::rust_arraymap_btf_kind(self.0) == bindings::BTF_KIND_DATASEC }
    }
}
