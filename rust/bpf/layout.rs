// SPDX-License-Identifier: GPL-2.0

//! The layout contract between the array maps and the rest of the kernel, checked when the crate
//! is built.
//!
//! The rest of the kernel reads a map of the family as a `struct bpf_array`, whoever made it:
//!
//! - the interpreter and the JITs, for `bpf_tail_call()`: `map.max_entries`, `index_mask` and
//!   `ptrs[]` (x86's direct tail calls also `aux->poke_mutex`);
//! - the verifier: it inlines the lookups that `map_gen_lookup` emits (`insn.rs`: they add
//!   `offsetof(struct bpf_array, value)` to the map pointer), masks tail call indexes with
//!   `index_mask`, and copies `index_mask` and `elem_size` into inner-map templates;
//! - `bpf_trace.c` (`ptrs[]` as `struct bpf_event_entry *`), the cgroup helpers (`ptrs[]` as
//!   cgroups), `helpers.c` (a timer's value back to its index through `value` and `elem_size`);
//! - the light skeleton (`tools/lib/bpf/skel_internal.h`, also bpf_preload in the kernel), which
//!   casts the `struct bpf_map *` of an ARRAY to `struct bpf_array *` and reads `value`.
//!
//! The crate allocates the kernel's own `struct bpf_array` (through the bindings, so its fields
//! are where C puts them) and builds the JIT-visible parts of a PROG_ARRAY from the kernel's
//! structs. What it assumes on top of that is asserted here, so that a change of the C layout
//! that breaks an assumption fails the build instead of a map:
//!
//! - a `struct bpf_map *` of the family is the address of its `struct bpf_array` (`map` first):
//!   [`ArrayHeader::from_map`](super::ArrayHeader::from_map) and friends cast, as
//!   `skel_internal.h` does, where C uses `container_of()`;
//! - `value[]`, `ptrs[]` and `pptrs[]` all start at [`Array::VALUE_OFFSET`], 8-byte aligned:
//!   one element area (`Array::elem_base`), whatever the storage;
//! - the header fits in one page: a `BPF_F_MMAPABLE` array starts its values on the second page
//!   of its area (`ArrayBox::alloc`);
//! - a slot of `ptrs[]` and `pptrs[]` is a pointer of 8 bytes, what the JITs and the inlined
//!   lookups load;
//! - [`Array`], [`ArrayHeader`](super::ArrayHeader) and [`MapHeader`](super::MapHeader) are the C
//!   structs they wrap, size and alignment;
//! - the `struct bpf_array_aux` that `array->aux` points to is the first member of
//!   [`ProgArrayAux`](super::ProgArrayAux) (asserted in `prog_array_aux.rs`, which owns its
//!   fields).

use super::{
    array::{Array, ArrayHeader},
    map::MapHeader,
    storage::{Inline, PerCpu},
};
use core::mem::{align_of, offset_of, size_of};
use kernel::{bindings, ffi::c_void};

const _: () = {
    // `map` first.
    assert!(offset_of!(bindings::bpf_array, map) == 0);

    // One element area, where C has its union of flexible arrays.
    assert!(
        Array::<Inline>::VALUE_OFFSET as usize == offset_of!(bindings::bpf_array, __bindgen_anon_1)
    );
    assert!(offset_of!(bindings::bpf_array__bindgen_ty_1__bindgen_ty_1, value) == 0);
    assert!(offset_of!(bindings::bpf_array__bindgen_ty_1__bindgen_ty_2, ptrs) == 0);
    assert!(offset_of!(bindings::bpf_array__bindgen_ty_1__bindgen_ty_3, pptrs) == 0);
    assert!(Array::<Inline>::VALUE_OFFSET % 8 == 0);

    // The header of an mmapable array fits in its first page.
    assert!(Array::<Inline>::HEADER_SIZE <= bindings::PAGE_SIZE as u64);

    // Pointer slots of 8 bytes.
    assert!(size_of::<*mut c_void>() == 8);

    // The wrappers are the structs.
    assert!(size_of::<Array<Inline>>() == size_of::<bindings::bpf_array>());
    assert!(align_of::<Array<Inline>>() == align_of::<bindings::bpf_array>());
    assert!(size_of::<ArrayHeader<PerCpu>>() == size_of::<bindings::bpf_array>());
    assert!(align_of::<ArrayHeader<PerCpu>>() == align_of::<bindings::bpf_array>());
    assert!(size_of::<MapHeader>() == size_of::<bindings::bpf_map>());
    assert!(align_of::<MapHeader>() == align_of::<bindings::bpf_map>());
};
