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
    array::{sealed, Array, ArrayBox, Storage},
    elem::{seq_show_value, ValuePtr},
    ffi,
    percpu::cond_resched,
    prog_array_aux::{ProgArrayAux, ProgArrayStorage},
    value::ValueBuf,
};
use core::{marker::PhantomData, ptr::NonNull};
use kernel::{
    bindings,
    error::from_err_ptr,
    ffi::{c_int, c_void},
    prelude::*,
    seq_file::SeqFile,
    seq_print,
    sync::{
        aref::{ARef, AlwaysRefCounted},
        atomic::{Atomic, Full, Relaxed},
        rcu, Mutex,
    },
    types::Opaque,
};

/// An object that the slots of an fd array hold: a reference on a program, a perf event entry,
/// a cgroup or a map, as the pointer that C reads from `ptrs[]`.
///
/// # Safety
///
/// Implementers guarantee that:
/// - [`FdElem::into_raw`] gives up the value as a non-null pointer to its `Target`, the object
///   that the kernel's readers of the map type's slots expect there, and [`FdElem::from_raw`]
///   takes back exactly such a value;
/// - once a value that left a slot of a map others can reach is dropped through
///   [`FdElem::put_deferred`], its `Target` stays valid until an RCU grace period later, so that
///   a reader that loaded the pointer under `rcu_read_lock()` may use it until it unlocks (a
///   value taken out of an array no one else sees, by [`ArrayBox::clear`], is just dropped);
/// - no reference can be taken from a `&Target`: it may be borrowed from a slot under RCU while
///   the object's count is already zero.
pub(crate) unsafe trait FdElem: Sized + 'static {
    /// What a slot points to.
    type Target;

    /// Whether changing a slot re-patches the direct tail calls through it, under the aux's
    /// `poke_mutex` (PROG_ARRAY).
    const POKE: bool = false;

    /// Gives the value to a slot.
    fn into_raw(self) -> NonNull<Self::Target>;

    /// Takes back the value of a slot.
    ///
    /// # Safety
    ///
    /// `ptr` must come from [`FdElem::into_raw`], and be taken back only once.
    unsafe fn from_raw(ptr: NonNull<Self::Target>) -> Self;

    /// Drops a value that has just left a slot of `outer` that RCU readers may still see
    /// (`map_fd_put_ptr(map, ptr, true)`). Types whose objects are always freed after a grace
    /// period just drop it.
    fn put_deferred<S: Storage>(self, _outer: &Array<S>) {
        drop(self);
    }
}

/// The element type of the arrays that hold no objects: there is no value of it.
pub(crate) enum NoElem {}

// SAFETY: no value exists, so no pointer is ever given to a slot or taken back.
unsafe impl FdElem for NoElem {
    type Target = NoElem;

    fn into_raw(self) -> NonNull<NoElem> {
        match self {}
    }

    unsafe fn from_raw(_ptr: NonNull<NoElem>) -> Self {
        // SAFETY: `ptr` must come from `into_raw`, which cannot be called: no caller can meet
        // this function's precondition.
        unsafe { core::hint::unreachable_unchecked() }
    }
}

/// One pointer per element, `array->ptrs[]` (the fd arrays), each owning an `E`.
pub(crate) struct Ptrs<E: FdElem>(PhantomData<E>);

impl<E: FdElem> sealed::Sealed for Ptrs<E> {}

impl<E: FdElem> Storage for Ptrs<E> {
    const PERCPU: bool = false;
    const FD: bool = true;
    type Elem = E;

    unsafe fn fill(_array: NonNull<bindings::bpf_array>) -> Result {
        // The slots are the zeroed area itself: all empty.
        Ok(())
    }

    /// `fd_array_map_free()`: every map type empties its slots before the array is freed; a
    /// slot still holding an object would leak its reference.
    unsafe fn drain(array: NonNull<bindings::bpf_array>) {
        // SAFETY: an array of this storage (the caller guarantees it), alive here.
        let array = unsafe { Array::<Self>::from_map(array.as_ptr().cast()) };
        for key in 0..array.max_entries() {
            if kernel::warn_on!(!array.slot_at(key).load(Relaxed).is_null()) {
                break;
            }
        }
    }

    fn area_size(entries: u32, _elem_size: u32) -> u64 {
        u64::from(entries) * core::mem::size_of::<*mut c_void>() as u64
    }

    fn elem_addr(array: &Array<Self>, index: u32) -> Option<NonNull<u8>> {
        (index < array.max_entries())
            .then(|| NonNull::from(array.slot_at(index & array.index_mask())).cast())
    }

    fn iter_value(_: &Array<Self>, _: u32, _: Option<&mut ValueBuf<'_>>) -> *mut c_void {
        // The fd arrays have no iterator.
        core::ptr::null_mut()
    }
}

impl<E: FdElem> Array<Ptrs<E>> {
    /// Slot `index`, which must be below `max_entries` or masked.
    fn slot_at(&self, index: u32) -> &Atomic<*mut c_void> {
        let base = self.elem_base().cast::<*mut c_void>();
        // SAFETY: `index` is inside the pointer area (the callers mask or bound it; type
        // invariant of `Array`), which lives as long as `self`; every access to a slot is atomic
        // (`READ_ONCE()`/`xchg()` in C and here), and slots are pointer-aligned.
        unsafe { Atomic::from_ptr(base.add(index as usize)) }
    }

    /// `READ_ONCE(ptrs[key])` (masked against Spectre v1, as `array_map_lookup_elem()`): what
    /// the slot points to, `None` when it is empty or past `max_entries`. It may be dropped
    /// concurrently; see [`Array::get`] to use it.
    #[inline]
    fn stored(&self, key: u32) -> Option<NonNull<E::Target>> {
        if key >= self.max_entries() {
            return None;
        }
        NonNull::new(self.slot_at(key & self.index_mask()).load(Relaxed).cast())
    }

    /// `array_of_map_lookup_elem()`: what the slot at `key` holds, for the BPF core.
    pub(crate) fn lookup(&self, key: u32) -> Option<ValuePtr> {
        self.stored(key).map(ValuePtr::from_slot)
    }

    /// The object at `key`, for as long as the RCU read lock `guard` is held and the array
    /// borrowed (so that no [`ArrayBox::clear`], which does not wait for readers, can run).
    pub(crate) fn get<'a>(&'a self, key: u32, _guard: &'a rcu::Guard) -> Option<&'a E::Target> {
        // SAFETY: a slot holds a value from `E::into_raw` (type invariant of `Array`); an object
        // seen in a slot of a published array stays valid until a grace period after it leaves
        // it through `exchange` (the contract of `FdElem`), which cannot end while `guard` is
        // held; the only other way out of a slot, `ArrayBox::clear`, needs the array exclusively,
        // which the borrow of `self` excludes.
        self.stored(key).map(|ptr| unsafe { ptr.as_ref() })
    }

    /// Stores `new` at `key` (`xchg()`, a full barrier, as `bpf_fd_array_map_update_elem()` and
    /// `__fd_array_map_delete_elem()` do) and drops what the slot held, after the grace period
    /// its readers need ([`FdElem::put_deferred`]); whether the slot held anything. For a
    /// PROG_ARRAY the exchange happens under `poke_mutex`, and the direct tail calls through
    /// `key` are re-patched from the old program to the new one.
    ///
    /// `E2BIG` past `max_entries`; `EINVAL` for a PROG_ARRAY without its aux. On error, `new`
    /// is dropped, never having been visible.
    pub(crate) fn exchange(&self, key: u32, new: Option<E>) -> Result<bool> {
        if key >= self.max_entries() {
            return Err(E2BIG);
        }
        let slot = self.slot_at(key);
        let new = new.map_or(core::ptr::null_mut(), |e| e.into_raw().as_ptr());
        let old = if E::POKE {
            let Some(aux) = ProgArrayAux::of(self) else {
                // SAFETY: `new` comes from `into_raw` above and was never stored.
                drop(NonNull::new(new).map(|p| unsafe { E::from_raw(p) }));
                return Err(EINVAL);
            };
            let mut guard = aux.lock();
            let old = slot.xchg(new.cast(), Full);
            // SAFETY: the old program is alive (its reference is ours until the end of this
            // function); the new one is held by the slot, and the slots of a published array
            // with `POKE` elements only change in `exchange`, under `poke_mutex`, held here
            // (`ArrayBox::clear` needs the array exclusively).
            unsafe { guard.update_tail_calls(self.as_map_ptr(), key, old.cast(), new.cast()) };
            old
        } else {
            slot.xchg(new.cast(), Full)
        };
        // SAFETY: a slot holds a value from `E::into_raw` (type invariant of `Array`), which the
        // exchange handed over to us.
        let old = NonNull::new(old).map(|p| unsafe { E::from_raw(p.cast()) });
        Ok(old.map(|old| old.put_deferred(self)).is_some())
    }

    /// Prints `key: id` for bpffs, the id formatted with the map's value BTF
    /// (`prog_array_map_seq_show_elem()`).
    pub(crate) fn seq_show_id(&self, key: u32, id: u32, m: &SeqFile) {
        seq_print!(m, "{}: ", key);
        // SAFETY: a live map (type invariant), and `id` is a u32 on the stack, the size of an fd
        // array's values (`value_size` 4, `fd_array_map_alloc_check()`).
        unsafe { seq_show_value(self.as_map_ptr(), core::ptr::from_ref(&id).cast(), m) };
        seq_print!(m, "\n");
    }
}

impl<E: FdElem> ArrayBox<Ptrs<E>> {
    /// Empties every slot of an array no one else can see any more, dropping the values
    /// without waiting for readers (`bpf_fd_array_map_clear(map, false)` at free).
    pub(crate) fn clear(&mut self) {
        for key in 0..self.max_entries() {
            let old = self
                .array()
                .slot_at(key)
                .xchg(core::ptr::null_mut(), Relaxed);
            // SAFETY: a slot holds a value from `E::into_raw` (type invariant of `Array`), now
            // ours; the array is owned by `self`, so no reader sees it.
            drop(NonNull::new(old).map(|p| unsafe { E::from_raw(p.cast()) }));
            cond_resched();
        }
    }
}

impl ArrayBox<Ptrs<InnerMap>> {
    /// Hands the inner-map template to the map (`map->inner_map_meta = meta`); a template it
    /// had is freed.
    pub(crate) fn set_inner_map_meta(&mut self, meta: MapMeta) {
        drop(self.take_inner_map_meta());
        // SAFETY: the map is owned by `self`: not yet published, or being freed; nobody else
        // reads the field meanwhile.
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

/// A BPF program (`struct bpf_prog`) as the kernel's lock-free readers see it: through a pointer
/// that something else keeps valid (a reference held elsewhere, or an RCU read lock on a slot of
/// a PROG_ARRAY). It is not [`AlwaysRefCounted`]: a slot's program may be on its way out, its
/// count at zero, so no reference may be taken from it.
#[repr(transparent)]
pub(crate) struct ProgView(Opaque<bindings::bpf_prog>);

/// A BPF program on which the holder of an `ARef<Prog>` (or of a [`TailCall`]) has a reference.
///
/// # Invariants
///
/// A `Prog` is only reached through a value that holds a reference on it, so its count is
/// nonzero while a `&Prog` exists.
#[repr(transparent)]
pub(crate) struct Prog(ProgView);

// SAFETY: a `&Prog` means a reference is held (type invariant); `bpf_prog_put()` frees a
// program after an RCU (or tasks trace) grace period when the last reference goes.
unsafe impl AlwaysRefCounted for Prog {
    fn inc_ref(&self) {
        // SAFETY: the count is nonzero while a `&Prog` exists (type invariant).
        unsafe { bindings::bpf_prog_inc(self.raw()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller hands over a reference; `Prog` is a transparent `bpf_prog`.
        unsafe { bindings::bpf_prog_put(obj.cast().as_ptr()) };
    }
}

impl core::ops::Deref for Prog {
    type Target = ProgView;

    fn deref(&self) -> &ProgView {
        &self.0
    }
}

impl Prog {
    /// `bpf_prog_get(fd)`.
    pub(crate) fn get(fd: u32) -> Result<ARef<Self>> {
        // SAFETY: `bpf_prog_get()` takes any fd number from user space and checks it itself
        // (`EBADF`/`EINVAL`); it returns a referenced program or an `ERR_PTR()`.
        let prog = from_err_ptr(unsafe { bindings::bpf_prog_get(fd) })?;
        let prog = NonNull::new(prog).ok_or(EBADF)?;
        // SAFETY: `bpf_prog_get()` took a reference, which the `ARef` now owns.
        // INVARIANT: the `Prog` is reached through that reference only.
        Ok(unsafe { ARef::from_raw(prog.cast()) })
    }
}

impl ProgView {
    fn raw(&self) -> *mut bindings::bpf_prog {
        self.0.get()
    }

    /// `prog->type == BPF_PROG_TYPE_EXT` (freplace programs cannot be tail called).
    fn is_ext(&self) -> bool {
        // SAFETY: the program is alive (we hold a reference or an RCU read lock); its type is
        // set before it gets an fd.
        unsafe { (*self.raw()).type_ == bindings::bpf_prog_type_BPF_PROG_TYPE_EXT }
    }

    /// `bpf_prog_map_compatible(map, prog)`: the program agrees with the programs the map is
    /// already bound to (type, JIT, xdp_has_frags, attach type...), and binds the map if it is
    /// the first.
    fn map_compatible(&self, map: &Array<Ptrs<TailCall>>) -> bool {
        // SAFETY: both are alive; the function locks the map's owner itself.
        unsafe { bindings::bpf_prog_map_compatible(map.as_map_ptr(), self.raw()) }
    }

    /// `prog->aux`, alive as long as the program.
    fn aux(&self) -> *mut bindings::bpf_prog_aux {
        // SAFETY: the program is alive while `self` is borrowed; its aux is set at allocation.
        unsafe { (*self.raw()).aux }
    }

    /// The aux's `ext_mutex`, which guards `is_extended` and `prog_array_member_cnt`.
    fn ext_mutex(&self) -> &Mutex<()> {
        // SAFETY: the aux lives as long as the program, which is alive while `self` is borrowed;
        // its `ext_mutex` was initialised with it (`bpf_prog_alloc_no_stats()`) and is only
        // ever taken and released as a mutex.
        unsafe { Mutex::from_raw(&raw mut (*self.aux()).ext_mutex) }
    }

    /// The program's id (`prog->aux->id`).
    pub(crate) fn id(&self) -> u32 {
        // SAFETY: the program and its aux are alive while `self` is borrowed (an RCU read side
        // or the slot's reference), and `id` is an aligned u32 of the aux. It is set when the
        // program gets its first fd, and zeroed by `bpf_prog_free_id()` when its last
        // reference goes, which a concurrent exchange of the slot can drop while this reader
        // still holds the view (the program itself is freed after an RCU grace period). That
        // write is plain (under `prog_idr_lock`), as C's own read here
        // (`prog_fd_array_sys_lookup_elem()`) is: this side makes its read a `READ_ONCE()`,
        // the id or 0, never torn (an aligned word store); the plain store remains C's, which
        // KCSAN would report against either reader.
        unsafe { Atomic::from_ptr((&raw const (*self.aux()).id).cast_mut()) }.load(Relaxed)
    }
}

/// A program stored in a PROG_ARRAY: a reference on it, counted as a tail call target
/// (`prog_array_member_cnt`), which keeps freplace from extending it.
///
/// # Invariants
///
/// `0` holds a reference on the program, and this value one count of its
/// `prog_array_member_cnt`.
pub(crate) struct TailCall(NonNull<Prog>);

impl TailCall {
    /// `prog_fd_array_get_ptr()`: `prog` as a target of tail calls through `map`, if it may be
    /// one: not an freplace program, and compatible with the programs bound to the map
    /// (`EINVAL` otherwise, the map is bound to it if it is the first); then counted as a target
    /// (`prog_array_member_cnt++` under `ext_mutex`), unless freplace has extended it: `EBUSY`,
    /// so that no loop through freplace and tail calls can form. In C's order. These checks are
    /// what keeps a tail call from entering a program with another context or JIT state, so
    /// they are here and not in the map type.
    pub(crate) fn new(prog: ARef<Prog>, map: &Array<Ptrs<Self>>) -> Result<Self> {
        if prog.is_ext() || !prog.map_compatible(map) {
            return Err(EINVAL);
        }
        let aux = prog.aux();
        {
            let _guard = prog.ext_mutex().lock();
            // SAFETY: the aux is alive (we hold a reference), and `ext_mutex`, held, guards
            // both fields.
            unsafe {
                if (*aux).is_extended {
                    return Err(EBUSY);
                }
                (*aux).prog_array_member_cnt += 1;
            }
        }
        // INVARIANT: the reference of `prog` moves here, with the count taken above.
        Ok(Self(ARef::into_raw(prog)))
    }
}

impl core::ops::Deref for TailCall {
    type Target = Prog;

    fn deref(&self) -> &Prog {
        // SAFETY: the program is alive while `self` holds its reference (type invariant).
        unsafe { self.0.as_ref() }
    }
}

impl Drop for TailCall {
    /// `prog_fd_array_put_ptr()`: the count, then the reference; `bpf_prog_put()` frees the
    /// program after a grace period, so concurrent tail calls that still see it are safe.
    fn drop(&mut self) {
        let aux = self.aux();
        {
            let _guard = self.ext_mutex().lock();
            // SAFETY: as in `TailCall::new`; this value holds one count (type invariant).
            unsafe { (*aux).prog_array_member_cnt -= 1 };
        }
        // SAFETY: this value holds a reference (type invariant), dropped here.
        drop(unsafe { ARef::from_raw(self.0) });
    }
}

// SAFETY: the slot pointer is the `struct bpf_prog *` that tail calls read; programs are freed
// after an RCU grace period (`Prog`'s `dec_ref`).
unsafe impl FdElem for TailCall {
    type Target = ProgView;
    const POKE: bool = true;

    fn into_raw(self) -> NonNull<ProgView> {
        let ptr = self.0.cast();
        core::mem::forget(self);
        ptr
    }

    unsafe fn from_raw(ptr: NonNull<ProgView>) -> Self {
        // INVARIANT: the caller hands over a value from `into_raw`, with its reference and count.
        Self(ptr.cast())
    }
}

/// A PROG_ARRAY's slots: the one storage with an aux.
impl ProgArrayStorage for Ptrs<TailCall> {}

/// The `struct bpf_event_entry` of a PERF_EVENT_ARRAY slot, which `bpf_perf_event_output()`
/// and `bpf_perf_event_read()` read under RCU.
#[repr(transparent)]
pub(crate) struct PerfEventEntry(Opaque<bindings::bpf_event_entry>);

impl PerfEventEntry {
    /// The map file the entry was stored through.
    pub(crate) fn map_file(&self) -> MapFile {
        // SAFETY: the entry is alive while `self` is borrowed; `map_file` never changes.
        MapFile(unsafe { (*self.0.get()).map_file })
    }
}

/// A perf event stored in a PERF_EVENT_ARRAY: an entry that owns a reference on the event's
/// file, freed after an RCU grace period.
///
/// # Invariants
///
/// `0` is a `bpf_event_entry` allocated by [`EventEntry::new`] with a reference on its
/// `perf_file`, owned by this value.
pub(crate) struct EventEntry(NonNull<PerfEventEntry>);

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
            Ok(Self(NonNull::from(KBox::leak(entry)).cast()))
        })();
        if entry.is_err() {
            // SAFETY: the reference taken by `perf_event_get()` is ours to drop.
            unsafe { bindings::fput(perf_file) };
        }
        entry
    }

    fn raw(&self) -> *mut bindings::bpf_event_entry {
        self.0.as_ptr().cast()
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
    /// as BPF programs may still be using them. Built as a module, the crate waits for these
    /// callbacks at unload (`rcu_barrier()` in `ModuleQueue`).
    fn drop(&mut self) {
        // SAFETY: the entry is owned here (type invariant); its `rcu` head is unused until now.
        unsafe { bindings::call_rcu(&raw mut (*self.raw()).rcu, Some(Self::free_rcu)) };
    }
}

// SAFETY: the slot pointer is the `struct bpf_event_entry *` that the perf helpers read;
// entries are freed after an RCU grace period (`drop`).
unsafe impl FdElem for EventEntry {
    type Target = PerfEventEntry;

    fn into_raw(self) -> NonNull<PerfEventEntry> {
        let ptr = self.0;
        core::mem::forget(self);
        ptr
    }

    unsafe fn from_raw(ptr: NonNull<PerfEventEntry>) -> Self {
        // INVARIANT: the caller hands over an entry from `into_raw`.
        Self(ptr)
    }
}

/// A cgroup (`struct cgroup`) as the cgroup helpers see it in a slot, under RCU: no reference
/// may be taken from it (see [`ProgView`]).
#[repr(transparent)]
pub(crate) struct CgroupView(Opaque<bindings::cgroup>);

/// A cgroup on which the holder of an `ARef<Cgroup>` has a reference.
///
/// # Invariants
///
/// A `Cgroup` is only reached through a value that holds a reference on it.
#[repr(transparent)]
pub(crate) struct Cgroup(CgroupView);

// SAFETY: a `&Cgroup` means a reference is held (type invariant); `cgroup_put()` frees a cgroup
// after an RCU grace period when the last reference goes.
unsafe impl AlwaysRefCounted for Cgroup {
    fn inc_ref(&self) {
        // SAFETY: the count is nonzero while a `&Cgroup` exists (type invariant).
        unsafe { ffi::rust_arraymap_cgroup_get(self.0 .0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller hands over a reference; `Cgroup` is a transparent `cgroup`.
        unsafe { ffi::rust_arraymap_cgroup_put(obj.cast().as_ptr()) };
    }
}

impl Cgroup {
    /// `cgroup_get_from_fd(fd)`: the cgroup v2 directory behind `fd`.
    pub(crate) fn get(fd: u32) -> Result<ARef<Self>> {
        // SAFETY: `cgroup_get_from_fd()` takes any fd number and checks that it is a cgroup v2
        // directory itself (`EBADF`); it returns a referenced cgroup or an `ERR_PTR()`.
        let cgrp = from_err_ptr(unsafe { bindings::cgroup_get_from_fd(fd as c_int) })?;
        let cgrp = NonNull::new(cgrp).ok_or(EBADF)?;
        // SAFETY: the call took a reference, which the `ARef` now owns.
        Ok(unsafe { ARef::from_raw(cgrp.cast()) })
    }
}

// SAFETY: the slot pointer is the `struct cgroup *` that the cgroup helpers read; cgroups are
// freed after an RCU grace period (`Cgroup`'s `dec_ref`).
unsafe impl FdElem for ARef<Cgroup> {
    type Target = CgroupView;

    fn into_raw(self) -> NonNull<CgroupView> {
        ARef::into_raw(self).cast()
    }

    unsafe fn from_raw(ptr: NonNull<CgroupView>) -> Self {
        // SAFETY: the caller hands over the reference that `into_raw` gave up.
        unsafe { ARef::from_raw(ptr.cast()) }
    }
}

/// A BPF map (`struct bpf_map`) as inlined lookups see it in a slot of an ARRAY_OF_MAPS, under
/// RCU: no reference may be taken from it (see [`ProgView`]).
#[repr(transparent)]
pub(crate) struct MapView(Opaque<bindings::bpf_map>);

/// A BPF map on which the holder of an `ARef<Map>` has a reference.
///
/// # Invariants
///
/// A `Map` is only reached through a value that holds a reference on it.
#[repr(transparent)]
pub(crate) struct Map(MapView);

// SAFETY: a `&Map` means a reference is held (type invariant).
unsafe impl AlwaysRefCounted for Map {
    fn inc_ref(&self) {
        // SAFETY: the count is nonzero while a `&Map` exists (type invariant).
        unsafe { bindings::bpf_map_inc(self.0 .0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: the caller hands over a reference; `Map` is a transparent `bpf_map`.
        unsafe { bindings::bpf_map_put(obj.cast().as_ptr()) };
    }
}

impl MapView {
    /// The map's id (`bpf_map_fd_sys_lookup_elem()`).
    pub(crate) fn id(&self) -> u32 {
        // SAFETY: the map is alive while `self` is borrowed; `bpf_map_fd_sys_lookup_elem()`
        // reads its id, set when it got its first fd.
        unsafe { ffi::bpf_map_fd_sys_lookup_elem(self.0.get().cast()) }
    }
}

/// An inner map stored in an ARRAY_OF_MAPS: a reference taken by `bpf_map_fd_get_ptr()`,
/// which checks the map against the outer map's template.
pub(crate) struct InnerMap(ARef<Map>);

impl InnerMap {
    /// `bpf_map_fd_get_ptr()`: the map behind `fd`, if it fits `outer`'s template.
    pub(crate) fn get(outer: &Array<Ptrs<Self>>, map_file: MapFile, fd: u32) -> Result<Self> {
        // SAFETY: `outer` is live (type invariant of `Array`); `inner_map_meta` is set before the
        // map is published and cleared only when it is freed.
        if unsafe { (*outer.as_map_ptr()).inner_map_meta }.is_null() {
            // No template: the map type did not set one at creation (C cannot get here).
            return Err(EINVAL);
        }
        // SAFETY: `outer` is a live map with an inner-map template (checked above);
        // `bpf_map_fd_get_ptr()` does not use `map_file`.
        let ptr = from_err_ptr(unsafe {
            ffi::bpf_map_fd_get_ptr(outer.as_map_ptr(), map_file.as_ptr(), fd as c_int)
        })?;
        let ptr = NonNull::new(ptr).ok_or(EBADF)?;
        // SAFETY: `bpf_map_fd_get_ptr()` returns a map with a reference for the caller.
        Ok(Self(unsafe { ARef::from_raw(ptr.cast()) }))
    }
}

// SAFETY: the slot pointer is the `struct bpf_map *` that inlined lookups read; a map that
// leaves a slot through `put_deferred` is freed after an RCU grace period (or an RCU tasks
// trace one, which implies it) when its last reference goes.
unsafe impl FdElem for InnerMap {
    type Target = MapView;

    fn into_raw(self) -> NonNull<MapView> {
        ARef::into_raw(self.0).cast()
    }

    unsafe fn from_raw(ptr: NonNull<MapView>) -> Self {
        // SAFETY: the caller hands over the reference that `into_raw` gave up.
        Self(unsafe { ARef::from_raw(ptr.cast()) })
    }

    /// `bpf_map_fd_put_ptr(outer, inner, true)`: if this was the last reference, the inner
    /// map is freed after the grace period its readers need: an RCU tasks trace one while
    /// sleepable programs use the outer map, an RCU one otherwise.
    fn put_deferred<S: Storage>(self, outer: &Array<S>) {
        let inner = self.into_raw();
        // SAFETY: `outer` is a live array of maps and `inner` a reference from its
        // `bpf_map_fd_get_ptr()`, handed over.
        unsafe { ffi::bpf_map_fd_put_ptr(outer.as_map_ptr(), inner.as_ptr().cast(), true) };
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
