// SPDX-License-Identifier: GPL-2.0

//! The fd arrays: `ptrs[]` of `struct bpf_array`, and the kernel objects stored in it.
//!
//! PROG_ARRAY, PERF_EVENT_ARRAY, CGROUP_ARRAY and ARRAY_OF_MAPS store one pointer per element,
//! taken from a file descriptor at update time and read without locks by the rest of the
//! kernel: tail calls read `ptrs[]` as `struct bpf_prog *`, `bpf_perf_event_output()` as
//! `struct bpf_event_entry *`, the cgroup helpers as `struct cgroup *`, inlined lookups of an
//! array of maps as `struct bpf_map *`. Each slot is therefore an atomic pointer written with
//! `xchg()` (a full barrier, as in C) and read with `READ_ONCE()`; what a pointer stands for,
//! and how its reference is dropped, is told by the object types of this file.

use super::{
    array::{sealed, seq_show_value, Array, ArrayBox, Storage, ValueBuf},
    ffi,
};
use core::ptr::NonNull;
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{c_int, c_void},
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    sync::{
        atomic::{Atomic, Full, Relaxed},
        Mutex,
    },
};

/// One pointer per element, `array->ptrs[]` (the fd arrays).
pub(crate) enum Ptrs {}

impl sealed::Sealed for Ptrs {}

impl Storage for Ptrs {
    const PERCPU: bool = false;

    unsafe fn fill(_array: NonNull<bindings::bpf_array>) -> Result {
        // The slots are the zeroed area itself: all empty.
        Ok(())
    }

    /// `fd_array_map_free()`: every map type empties its slots before the array is freed; a
    /// slot still holding an object would leak its reference.
    unsafe fn drain(array: NonNull<bindings::bpf_array>) {
        // SAFETY: an array of this storage (the caller guarantees it), alive here.
        let array = unsafe { Array::<Ptrs>::from_map(array.as_ptr().cast()) };
        for (_, slot) in array.slots() {
            if kernel::warn_on!(slot.load().is_some()) {
                break;
            }
        }
    }

    fn area_size(entries: u32, _elem_size: u32) -> u64 {
        u64::from(entries) * core::mem::size_of::<*mut c_void>() as u64
    }

    fn elem_addr(array: &Array<Self>, index: u32) -> Option<NonNull<u8>> {
        array.slot(index).map(|s| s.addr())
    }

    fn iter_value(_: &Array<Self>, _: u32, _: Option<&mut ValueBuf<'_>>) -> *mut c_void {
        // The fd arrays have no iterator.
        core::ptr::null_mut()
    }
}

/// A pointer stored in a slot: a reference on a program, perf event entry, cgroup or map,
/// taken by the map type's `map_fd_get_ptr` and dropped by its `map_fd_put_ptr`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(transparent)]
pub(crate) struct FdPtr(NonNull<c_void>);

impl FdPtr {
    /// The raw pointer, as C stores it.
    pub(crate) fn as_ptr(self) -> *mut c_void {
        self.0.as_ptr()
    }

    /// Wraps a pointer that the BPF core handed back to an op.
    pub(crate) fn from_raw(ptr: *mut c_void) -> Option<Self> {
        NonNull::new(ptr).map(Self)
    }
}

/// One slot of `ptrs[]`.
pub(crate) struct Slot<'a>(&'a Atomic<*mut c_void>);

impl Slot<'_> {
    /// `READ_ONCE(*slot)`.
    pub(crate) fn load(&self) -> Option<FdPtr> {
        FdPtr::from_raw(self.0.load(Relaxed))
    }

    /// `xchg(slot, new)`: stores `new` and returns what the slot held, with a full barrier.
    pub(crate) fn swap(&self, new: Option<FdPtr>) -> Option<FdPtr> {
        FdPtr::from_raw(
            self.0
                .xchg(new.map_or(core::ptr::null_mut(), FdPtr::as_ptr), Full),
        )
    }

    /// The address of the slot, which lookups of an array of maps return.
    pub(crate) fn addr(&self) -> NonNull<u8> {
        NonNull::from(self.0).cast()
    }
}

impl Array<Ptrs> {
    fn slot_at(&self, index: u32) -> Slot<'_> {
        let base = self.elem_base().cast::<*mut c_void>();
        // SAFETY: `index` is inside the pointer area (the callers mask or bound it; type
        // invariant of `Array`), which lives as long as `self`; every access to a slot is atomic
        // (`READ_ONCE()`/`xchg()` in C and here), and slots are pointer-aligned.
        Slot(unsafe { Atomic::from_ptr(base.add(index as usize)) })
    }

    /// The slot at `index` (masked against Spectre v1, as `array_map_lookup_elem()`), or `None`
    /// past `max_entries`.
    #[inline]
    pub(crate) fn slot(&self, index: u32) -> Option<Slot<'_>> {
        (index < self.max_entries()).then(|| self.slot_at(index & self.index_mask()))
    }

    /// Every slot in index order.
    pub(crate) fn slots(&self) -> impl Iterator<Item = (u32, Slot<'_>)> + '_ {
        (0..self.max_entries()).map(move |i| (i, self.slot_at(i)))
    }

    /// Prints `key: id` for bpffs, the id formatted with the map's value BTF
    /// (`prog_array_map_seq_show_elem()`).
    pub(crate) fn seq_show_id(&self, key: u32, id: u32, m: &SeqFile) {
        seq_print!(m, "{}: ", key);
        // SAFETY: a live map that bpffs shows with BTF, whose value type is a u32 like `id`.
        unsafe { seq_show_value(self.as_map_ptr(), core::ptr::from_ref(&id).cast(), m) };
        seq_print!(m, "\n");
    }
}

impl ArrayBox<Ptrs> {
    /// Hands the inner-map template to the map (`map->inner_map_meta = meta`).
    pub(crate) fn set_inner_map_meta(&mut self, meta: MapMeta) {
        // SAFETY: the map is owned by `self` and not yet visible to anyone else.
        unsafe { (*self.as_map_ptr()).inner_map_meta = meta.0.as_ptr() };
        core::mem::forget(meta);
    }

    /// Takes back the inner-map template, when the map is freed.
    pub(crate) fn take_inner_map_meta(&mut self) -> Option<MapMeta> {
        let map = self.as_map_ptr();
        // SAFETY: the map is owned by `self`; nothing else uses it any more.
        let meta = unsafe { core::mem::replace(&mut (*map).inner_map_meta, core::ptr::null_mut()) };
        // INVARIANT: a non-null template was set by `set_inner_map_meta`.
        NonNull::new(meta).map(MapMeta)
    }
}

/// The file of the map an update or a release comes through, compared by identity only
/// (`bpf_event_entry.map_file`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct MapFile(*mut bindings::file);

impl MapFile {
    /// Wraps the map file passed to an op; it is never dereferenced here.
    pub(crate) fn from_raw(file: *mut bindings::file) -> Self {
        Self(file)
    }

    fn as_ptr(self) -> *mut bindings::file {
        self.0
    }
}

/// A BPF program stored in a PROG_ARRAY, owning a reference on it.
///
/// # Invariants
///
/// `0` is a program on which this value holds a reference.
#[repr(transparent)]
pub(crate) struct Prog(NonNull<bindings::bpf_prog>);

impl Prog {
    /// `bpf_prog_get(fd)`.
    pub(crate) fn get(fd: u32) -> Result<Self> {
        // SAFETY: `bpf_prog_get()` takes any fd number from user space and checks it itself
        // (`EBADF`/`EINVAL`); it returns a referenced program or an `ERR_PTR()`.
        let prog = from_err_ptr(unsafe { bindings::bpf_prog_get(fd) })?;
        // INVARIANT: `bpf_prog_get()` took a reference; it never returns null.
        NonNull::new(prog).map(Self).ok_or(EBADF)
    }

    fn raw(&self) -> *mut bindings::bpf_prog {
        self.0.as_ptr()
    }

    /// `prog->type == BPF_PROG_TYPE_EXT` (freplace programs cannot be tail called).
    pub(crate) fn is_ext(&self) -> bool {
        // SAFETY: the program is alive (type invariant); its type is set before it gets an fd.
        unsafe { (*self.raw()).type_ == bindings::bpf_prog_type_BPF_PROG_TYPE_EXT }
    }

    /// `bpf_prog_map_compatible(map, prog)`: the program agrees with the programs the map is
    /// already bound to (type, JIT, xdp_has_frags, attach type...), and binds the map if it is
    /// the first.
    pub(crate) fn map_compatible(&self, map: &Array<Ptrs>) -> bool {
        // SAFETY: both are alive; the function locks the map's owner itself.
        unsafe { bindings::bpf_prog_map_compatible(map.as_map_ptr(), self.raw()) }
    }

    /// Counts the program as a tail call target (`prog_array_member_cnt++` under `ext_mutex`),
    /// unless freplace has extended it: then `EBUSY`, so that no loop through freplace and tail
    /// calls can form.
    pub(crate) fn enter_prog_array(&self) -> Result {
        let aux = self.aux();
        let _guard = self.ext_mutex().lock();
        // SAFETY: the aux is alive (type invariant), and `ext_mutex`, held, guards both fields.
        unsafe {
            if (*aux).is_extended {
                return Err(EBUSY);
            }
            (*aux).prog_array_member_cnt += 1;
        }
        Ok(())
    }

    /// Undoes [`Prog::enter_prog_array`].
    pub(crate) fn leave_prog_array(&self) {
        let aux = self.aux();
        let _guard = self.ext_mutex().lock();
        // SAFETY: as in `enter_prog_array`.
        unsafe { (*aux).prog_array_member_cnt -= 1 };
    }

    /// `prog->aux`, alive as long as the program.
    fn aux(&self) -> *mut bindings::bpf_prog_aux {
        // SAFETY: the program is alive (type invariant); its aux is set at allocation.
        unsafe { (*self.raw()).aux }
    }

    /// The aux's `ext_mutex`, which guards `is_extended` and `prog_array_member_cnt`.
    fn ext_mutex(&self) -> &Mutex<()> {
        // SAFETY: the aux lives as long as the program, which is alive while `self` is borrowed
        // (type invariant); its `ext_mutex` was initialised with it (`bpf_prog_alloc_no_stats()`)
        // and is only ever taken and released as a mutex.
        unsafe { Mutex::from_raw(&raw mut (*self.aux()).ext_mutex) }
    }

    /// The program's id (`prog->aux->id`).
    pub(crate) fn id(&self) -> u32 {
        // SAFETY: the program and its aux are alive (type invariant); the id is set when the
        // program gets its first fd.
        unsafe { (*self.aux()).id }
    }

    /// Gives the reference to a slot.
    pub(crate) fn into_fd_ptr(self) -> FdPtr {
        let ptr = FdPtr(self.0.cast());
        core::mem::forget(self);
        ptr
    }

    /// Takes back the reference of a slot.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`Prog::into_fd_ptr`], and its reference be handed over.
    pub(crate) unsafe fn from_fd_ptr(ptr: FdPtr) -> Self {
        // INVARIANT: the caller hands over the reference.
        Self(ptr.0.cast())
    }

    /// Borrows the program of a slot, without its reference.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`Prog::into_fd_ptr`] and its reference be held for the duration of
    /// the borrow (under RCU or the slot's owner).
    pub(crate) unsafe fn borrow_fd_ptr(ptr: &FdPtr) -> &Self {
        // SAFETY: `Prog` is a transparent-sized wrapper of the pointer; see the caller's promise.
        unsafe { &*core::ptr::from_ref(ptr).cast::<Self>() }
    }
}

impl Drop for Prog {
    /// `bpf_prog_put()`: the program is freed after an RCU (or tasks trace) grace period, so
    /// concurrent tail calls that still see it are safe.
    fn drop(&mut self) {
        // SAFETY: this value holds a reference (type invariant).
        unsafe { bindings::bpf_prog_put(self.raw()) };
    }
}

/// A perf event stored in a PERF_EVENT_ARRAY: a `struct bpf_event_entry`, which
/// `bpf_perf_event_output()` and `bpf_perf_event_read()` read under RCU.
///
/// # Invariants
///
/// `0` is a `bpf_event_entry` allocated by [`EventEntry::new`] with a reference on its
/// `perf_file`, owned by this value.
#[repr(transparent)]
pub(crate) struct EventEntry(NonNull<bindings::bpf_event_entry>);

impl EventEntry {
    /// `perf_event_fd_array_get_ptr()`: the perf event behind `fd`, if the BPF helpers can read
    /// it locally (`EOPNOTSUPP` otherwise), in an entry that remembers `map_file`.
    pub(crate) fn new(fd: u32, map_file: MapFile) -> Result<Self> {
        // SAFETY: `perf_event_get()` takes any fd number and checks that it is a perf event
        // file itself (`EBADF`); it returns a referenced file or an `ERR_PTR()`.
        let perf_file = from_err_ptr(unsafe { ffi::perf_event_get(fd) })?;
        let entry = (|| {
            // SAFETY: a perf event file keeps its event in `private_data` while it lives.
            let event = unsafe { (*perf_file).private_data }.cast::<bindings::perf_event>();
            let mut value = 0u64;
            // SAFETY: `event` is alive (we hold its file); the other outputs are optional.
            let ret = unsafe {
                ffi::perf_event_read_local(
                    event,
                    &mut value,
                    core::ptr::null_mut(),
                    core::ptr::null_mut(),
                )
            };
            if ret == EOPNOTSUPP.to_errno() {
                return Err(EOPNOTSUPP);
            }
            let entry = KBox::new(
                bindings::bpf_event_entry {
                    event,
                    perf_file,
                    map_file: map_file.as_ptr(),
                    ..Default::default()
                },
                GFP_KERNEL,
            )
            .map_err(|_| ENOMEM)?;
            // INVARIANT: the entry owns the reference on `perf_file`.
            Ok(Self(NonNull::from(KBox::leak(entry))))
        })();
        if entry.is_err() {
            // SAFETY: the reference taken by `perf_event_get()` is ours to drop.
            unsafe { bindings::fput(perf_file) };
        }
        entry
    }

    /// The map file the entry was stored through.
    pub(crate) fn map_file(&self) -> MapFile {
        // SAFETY: the entry is alive (type invariant) and `map_file` never changes.
        MapFile(unsafe { (*self.0.as_ptr()).map_file })
    }

    /// Gives the entry to a slot.
    pub(crate) fn into_fd_ptr(self) -> FdPtr {
        let ptr = FdPtr(self.0.cast());
        core::mem::forget(self);
        ptr
    }

    /// Takes back the entry of a slot.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`EventEntry::into_fd_ptr`], and its ownership be handed over.
    pub(crate) unsafe fn from_fd_ptr(ptr: FdPtr) -> Self {
        // INVARIANT: the caller hands over the entry.
        Self(ptr.0.cast())
    }

    /// Borrows the entry of a slot.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`EventEntry::into_fd_ptr`], and the entry stay alive for the
    /// duration of the borrow (under RCU: entries are freed after a grace period).
    pub(crate) unsafe fn borrow_fd_ptr(ptr: &FdPtr) -> &Self {
        // SAFETY: `EventEntry` is a pointer-sized wrapper; see the caller's promise.
        unsafe { &*core::ptr::from_ref(ptr).cast::<Self>() }
    }

    /// `__bpf_event_entry_free()`.
    ///
    /// # Safety
    ///
    /// `head` must be the `rcu` member of an entry that [`EventEntry`]'s drop gave to
    /// `call_rcu()`, after its grace period.
    unsafe extern "C" fn free_rcu(head: *mut bindings::callback_head) {
        // SAFETY: `head` is the `rcu` member of an entry handed to `call_rcu()` by `drop`.
        let entry = unsafe {
            head.byte_sub(core::mem::offset_of!(bindings::bpf_event_entry, rcu))
                .cast::<bindings::bpf_event_entry>()
        };
        // SAFETY: the grace period is over: nothing reads the entry any more; it owns a
        // reference on `perf_file` and was allocated as a `KBox`.
        unsafe {
            bindings::fput((*entry).perf_file);
            drop(KBox::from_raw(entry));
        }
    }
}

impl Drop for EventEntry {
    /// `bpf_event_entry_free_rcu()`: the entry and its perf event go after an RCU grace period,
    /// as BPF programs may still be using them. The module waits for these callbacks at unload
    /// (`rcu_barrier()` in [`ModuleQueue`](super::ModuleQueue)).
    fn drop(&mut self) {
        // SAFETY: the entry is owned here (type invariant); its `rcu` head is unused until now.
        unsafe { bindings::call_rcu(&raw mut (*self.0.as_ptr()).rcu, Some(Self::free_rcu)) };
    }
}

/// A cgroup stored in a CGROUP_ARRAY, owning a reference on it.
///
/// # Invariants
///
/// `0` is a cgroup on which this value holds a reference.
pub(crate) struct Cgroup(NonNull<bindings::cgroup>);

impl Cgroup {
    /// `cgroup_get_from_fd(fd)`: the cgroup v2 directory behind `fd`.
    pub(crate) fn get(fd: u32) -> Result<Self> {
        // SAFETY: `cgroup_get_from_fd()` takes any fd number and checks that it is a cgroup v2
        // directory itself (`EBADF`); it returns a referenced cgroup or an `ERR_PTR()`.
        let cgrp = from_err_ptr(unsafe { bindings::cgroup_get_from_fd(fd as c_int) })?;
        // INVARIANT: the call took a reference; it never returns null.
        NonNull::new(cgrp).map(Self).ok_or(EBADF)
    }

    /// Gives the reference to a slot.
    pub(crate) fn into_fd_ptr(self) -> FdPtr {
        let ptr = FdPtr(self.0.cast());
        core::mem::forget(self);
        ptr
    }

    /// Takes back the reference of a slot.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`Cgroup::into_fd_ptr`], and its reference be handed over.
    pub(crate) unsafe fn from_fd_ptr(ptr: FdPtr) -> Self {
        // INVARIANT: the caller hands over the reference.
        Self(ptr.0.cast())
    }
}

impl Drop for Cgroup {
    /// `cgroup_put()`: the cgroup is freed after an RCU grace period.
    fn drop(&mut self) {
        // SAFETY: this value holds a reference (type invariant).
        unsafe { ffi::rust_arraymap_cgroup_put(self.0.as_ptr()) };
    }
}

/// An inner map stored in an ARRAY_OF_MAPS: the `map_fd_*` helpers of map_in_map.c, which
/// check the map against the outer map's template and count the references.
pub(crate) struct InnerMap;

impl InnerMap {
    /// `bpf_map_fd_get_ptr()`: the map behind `fd`, if it fits `outer`'s template.
    pub(crate) fn get(outer: &Array<Ptrs>, map_file: MapFile, fd: u32) -> Result<FdPtr> {
        // SAFETY: `outer` is a live map with an inner-map template; `map_file` is its file.
        let ptr = from_err_ptr(unsafe {
            ffi::bpf_map_fd_get_ptr(outer.as_map_ptr(), map_file.as_ptr(), fd as c_int)
        })?;
        FdPtr::from_raw(ptr).ok_or(EBADF)
    }

    /// `bpf_map_fd_put_ptr()`: drops the reference of a slot, after an RCU (or tasks trace)
    /// grace period when `need_defer`.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`InnerMap::get`] on `outer`, and its reference be handed over.
    pub(crate) unsafe fn put(outer: &Array<Ptrs>, ptr: FdPtr, need_defer: bool) {
        // SAFETY: the caller hands over the reference.
        unsafe { ffi::bpf_map_fd_put_ptr(outer.as_map_ptr(), ptr.as_ptr(), need_defer) };
    }

    /// `bpf_map_fd_sys_lookup_elem()`: the inner map's id.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`InnerMap::get`], and its reference be held during the call.
    pub(crate) unsafe fn id(ptr: FdPtr) -> u32 {
        // SAFETY: the map is alive (the caller guarantees it).
        unsafe { ffi::bpf_map_fd_sys_lookup_elem(ptr.as_ptr()) }
    }
}

/// The inner-map template of an array of maps (`bpf_map_meta_alloc()`): a copy of the inner
/// map's header that keeps its ops, and pins their module, while it lives.
///
/// # Invariants
///
/// `0` is a template from `bpf_map_meta_alloc()`, owned by this value.
pub(crate) struct MapMeta(NonNull<bindings::bpf_map>);

impl MapMeta {
    /// `bpf_map_meta_alloc(inner_map_fd)`.
    pub(crate) fn alloc(inner_map_fd: u32) -> Result<Self> {
        // SAFETY: `bpf_map_meta_alloc()` takes any fd number and checks that it names a map
        // that may be an inner map itself; it returns a new template or an `ERR_PTR()`, and it
        // may sleep, which `map_alloc` allows.
        let meta = from_err_ptr(unsafe { ffi::bpf_map_meta_alloc(inner_map_fd as c_int) })?;
        // INVARIANT: a template, now ours.
        NonNull::new(meta).map(Self).ok_or(EBADF)
    }
}

impl Drop for MapMeta {
    /// `bpf_map_meta_free()`, which also drops the template's module reference.
    fn drop(&mut self) {
        // SAFETY: the template is owned here (type invariant).
        unsafe { ffi::bpf_map_meta_free(self.0.as_ptr()) };
    }
}
