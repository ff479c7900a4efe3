// SPDX-License-Identifier: GPL-2.0

//! `bpf_iter` over the elements of an array map (`iter/bpf_map_elem` programs).
//!
//! The seq_file operations of `kernel/bpf/arraymap.c` (`bpf_array_map_seq_*`,
//! `bpf_iter_init_array_map()`...), as a `const struct bpf_iter_seq_info` the ops table points
//! to. The iterator holds its own user reference on the map, as the C code does: the one of the
//! link may go away in the middle of the iteration.

use super::{
    array::{Array, Storage},
    ffi,
    value::ValueBuf,
};
use core::{marker::PhantomData, mem::size_of, ptr, ptr::NonNull};
use kernel::{
    bindings,
    error::code::ENOMEM,
    ffi::{c_int, c_void},
};

/// The seq_file private data of the iterator (`struct bpf_iter_seq_array_map_info`).
#[repr(C)]
struct IterState {
    map: *mut bindings::bpf_map,
    /// Per-CPU arrays: room for the values of all possible CPUs, `kmalloc`ed by `init`.
    percpu_value_buf: *mut u8,
    /// Its size in bytes.
    percpu_value_len: usize,
    index: u32,
}

/// # Safety
///
/// `seq` must be a seq_file of this iterator over a map of storage `S`, initialised by `init`.
unsafe fn state<'a, S: Storage>(seq: *mut bindings::seq_file) -> (&'a mut IterState, &'a Array<S>) {
    // SAFETY: the seq_file's private data is our `IterState` (`seq_priv_size`), set up by `init`
    // with a map of the array ops that the iterator holds a reference on; seq_file serialises
    // the calls on one file.
    unsafe {
        let st = &mut *(*seq).private.cast::<IterState>();
        let map = Array::<S>::from_map(st.map);
        (st, map)
    }
}

/// The element at the iterator's index, or null past the end: the value of an inline array,
/// the per-CPU pointer of a per-CPU array (as `bpf_array_map_seq_start()` returns them); only
/// compared with null by seq_file and `show`.
fn current<S: Storage>(st: &IterState, map: &Array<S>) -> *mut c_void {
    S::elem_addr(map, st.index).map_or(ptr::null_mut(), |p| p.as_ptr().cast())
}

/// # Safety
///
/// Called by seq_file on a file of this iterator.
unsafe extern "C" fn seq_start<S: Storage>(
    seq: *mut bindings::seq_file,
    pos: *mut bindings::loff_t,
) -> *mut c_void {
    // SAFETY: a seq_file of this iterator.
    let (st, map) = unsafe { state::<S>(seq) };
    if st.index >= map.max_entries() {
        return ptr::null_mut();
    }
    // SAFETY: seq_file passes a valid position.
    unsafe {
        if *pos == 0 {
            *pos += 1;
        }
    }
    current(st, map)
}

/// # Safety
///
/// Called by seq_file on a file of this iterator.
unsafe extern "C" fn seq_next<S: Storage>(
    seq: *mut bindings::seq_file,
    _v: *mut c_void,
    pos: *mut bindings::loff_t,
) -> *mut c_void {
    // SAFETY: a seq_file of this iterator, and a valid position.
    let (st, map) = unsafe {
        *pos += 1;
        state::<S>(seq)
    };
    st.index += 1;
    current(st, map)
}

/// Runs the iterator program on the element `v`, or once more with a null value at the end.
///
/// # Safety
///
/// `seq` must be a seq_file of this iterator and `v` null or the element at its index.
unsafe fn show<S: Storage>(seq: *mut bindings::seq_file, v: *mut c_void) -> c_int {
    // SAFETY: a seq_file of this iterator.
    let (st, map) = unsafe { state::<S>(seq) };
    let mut meta: bindings::bpf_iter_meta = pin_init::zeroed();
    meta.__bindgen_anon_1.seq = seq;
    // SAFETY: `meta` is valid and refers to the iterator's seq_file.
    let prog = unsafe { bindings::bpf_iter_get_info(&mut meta, v.is_null()) };
    if prog.is_null() {
        return 0;
    }
    // All-zero: null key and value, the end of the iteration unless set below.
    let mut ctx: bindings::bpf_iter__bpf_map_elem = pin_init::zeroed();
    ctx.__bindgen_anon_1.meta = &mut meta;
    ctx.__bindgen_anon_2.map = st.map;
    if !v.is_null() {
        ctx.__bindgen_anon_3.key = (&raw mut st.index).cast();
        let mut buf = NonNull::new(st.percpu_value_buf).map(|p| {
            // SAFETY: `init` allocated `percpu_value_len` bytes for a per-CPU array, used only
            // by the iterator's seq_file calls, which seq_file serialises.
            unsafe { ValueBuf::from_raw(p, st.percpu_value_len) }
        });
        ctx.__bindgen_anon_4.value = S::iter_value(map, st.index, buf.as_mut());
    }
    // SAFETY: `prog` is the iterator's program; the context lives for the call.
    unsafe { bindings::bpf_iter_run_prog(prog, (&raw mut ctx).cast()) }
}

/// # Safety
///
/// Called by seq_file on a file of this iterator.
unsafe extern "C" fn seq_show<S: Storage>(seq: *mut bindings::seq_file, v: *mut c_void) -> c_int {
    // SAFETY: `v` comes from `seq_start`/`seq_next` of this file.
    unsafe { show::<S>(seq, v) }
}

/// # Safety
///
/// Called by seq_file on a file of this iterator.
unsafe extern "C" fn seq_stop<S: Storage>(seq: *mut bindings::seq_file, v: *mut c_void) {
    if v.is_null() {
        // SAFETY: the end of the iteration: the program runs once with a null value.
        unsafe { show::<S>(seq, v) };
    }
}

/// # Safety
///
/// `priv_data` must be `seq_priv_size` bytes for this iterator and `aux` name a map of the
/// array ops of storage `S`.
unsafe extern "C" fn init<S: Storage>(
    priv_data: *mut c_void,
    aux: *mut bindings::bpf_iter_aux_info,
) -> c_int {
    // SAFETY: `aux` is valid; the link holds a reference on its map.
    let map = unsafe { (*aux).map };
    let (mut percpu_value_buf, mut percpu_value_len) = (ptr::null_mut(), 0);
    if S::PERCPU {
        // SAFETY: a live map of these ops.
        percpu_value_len = unsafe { Array::<S>::from_map(map) }.all_cpus_len();
        // SAFETY: the allocation wrapper has no precondition but a context that may sleep:
        // `init_seq_private` runs in process context, from the iterator fd's creation.
        let buf = unsafe { ffi::rust_arraymap_kmalloc_user(percpu_value_len) };
        percpu_value_buf = buf.cast::<u8>();
        if percpu_value_buf.is_null() {
            return ENOMEM.to_errno();
        }
    }
    // The link's user reference may go in the middle of the iteration: take one of our own.
    // SAFETY: `map` is a live map.
    unsafe { bindings::bpf_map_inc_with_uref(map) };
    // SAFETY: `priv_data` has room for an `IterState`.
    unsafe {
        priv_data.cast::<IterState>().write(IterState {
            map,
            percpu_value_buf,
            percpu_value_len,
            index: 0,
        })
    };
    0
}

/// # Safety
///
/// `priv_data` must have been set up by `init`.
unsafe extern "C" fn fini(priv_data: *mut c_void) {
    // SAFETY: `init` stored the map, took the reference dropped here and allocated the buffer
    // (or left it null, which `kfree()` accepts).
    let st = unsafe { &*priv_data.cast::<IterState>() };
    // SAFETY: as above; the buffer is not used after the iteration.
    unsafe { bindings::kfree(st.percpu_value_buf.cast()) };
    // The map's reference may be the last one on the module, yet the module stays loaded
    // until this function has returned: the iterator file holds a reference of its own on
    // the map's owner, which `iter_release()` drops after `fini_seq_private` (patch 7).
    // SAFETY: `init` took the reference dropped here.
    unsafe { bindings::bpf_map_put_with_uref(st.map) };
}

/// The `iter_seq_info` of the array ops of storage `S`.
pub(crate) struct IterSeq<S: Storage>(PhantomData<S>);

impl<S: Storage> IterSeq<S> {
    const SEQ_OPS: bindings::seq_operations = bindings::seq_operations {
        start: Some(seq_start::<S>),
        stop: Some(seq_stop::<S>),
        next: Some(seq_next::<S>),
        show: Some(seq_show::<S>),
    };

    /// The table the ops point to.
    pub(crate) const INFO: bindings::bpf_iter_seq_info = bindings::bpf_iter_seq_info {
        seq_ops: &Self::SEQ_OPS,
        init_seq_private: Some(init::<S>),
        fini_seq_private: Some(fini),
        seq_priv_size: size_of::<IterState>() as u32,
    };
}
