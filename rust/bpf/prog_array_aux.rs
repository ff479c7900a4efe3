// SPDX-License-Identifier: GPL-2.0

//! `struct bpf_array_aux` of a PROG_ARRAY: the programs whose JIT-patched direct tail calls
//! jump through the array (the poke list), the mutex that orders slot updates with the JIT's
//! patching, and the work item that empties the array when its last user reference goes.
//!
//! The x86 JIT takes `array->aux->poke_mutex` while it finishes the direct tail calls of a
//! program, so the aux is the kernel's own struct and `array->aux` points to it. The list of
//! programs is private to the map type: the module keeps it in a vector next to the struct,
//! under the same mutex.

use super::{
    array::{Array, ArrayBox, Storage},
    ffi,
};
use core::{cell::UnsafeCell, ptr::NonNull};
#[cfg(MODULE)]
use kernel::sync::atomic::{Atomic, Full, Relaxed};
use kernel::{
    bindings,
    prelude::*,
    sync::{Mutex, MutexGuard},
    types::Opaque,
    workqueue::{Queue, RawWorkItem},
};

/// The module's workqueue for deferred clears, null while the module is not initialised.
#[cfg(MODULE)]
static QUEUE: Atomic<*mut bindings::workqueue_struct> = Atomic::new(core::ptr::null_mut());

/// The module's workqueue, and the end of its deferred work.
///
/// Work items that clear a PROG_ARRAY run module code after dropping the reference that kept
/// the map, and with it the module, alive. Dropping this (at module unload) destroys the queue,
/// which waits for every such item to return, and waits with `rcu_barrier()` for the RCU
/// callbacks that free perf event entries. So no module code runs after `rmmod`.
///
/// # Invariants
///
/// While a `ModuleQueue` exists, `QUEUE` holds the workqueue it allocated: there is at most
/// one (the module's init creates it, its exit drops it).
///
/// Built into the kernel, the crate has no exit and needs none of this: the deferred clears go
/// to the system workqueue, as `prog_array_map_clear()` sends them.
#[cfg(MODULE)]
pub(crate) struct ModuleQueue(());

#[cfg(MODULE)]
impl ModuleQueue {
    /// Creates the workqueue; PROG_ARRAY maps can only be created while it exists. `EBUSY` if
    /// one exists already.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: the wrapper around `alloc_workqueue()` has no precondition but a context
        // that may sleep: this runs from the module's init.
        let wq = NonNull::new(unsafe { ffi::rust_arraymap_alloc_workqueue() }).ok_or(ENOMEM)?;
        // INVARIANT: the queue is published for the life of the returned value, unless another
        // one is.
        if QUEUE
            .cmpxchg(core::ptr::null_mut(), wq.as_ptr(), Full)
            .is_err()
        {
            // SAFETY: the queue was allocated above and never published.
            unsafe { bindings::destroy_workqueue(wq.as_ptr()) };
            return Err(EBUSY);
        }
        Ok(Self(()))
    }
}

#[cfg(MODULE)]
impl Drop for ModuleQueue {
    fn drop(&mut self) {
        let wq = QUEUE.xchg(core::ptr::null_mut(), Full);
        // SAFETY: `wq` is the queue allocated in `new` (type invariant); destroying it drains
        // it first.
        unsafe { bindings::destroy_workqueue(wq) };
        // SAFETY: `rcu_barrier()` has no precondition but a context that may sleep: this runs
        // from the module's exit. It waits for the callbacks queued with `call_rcu()`, which
        // run module code.
        unsafe { bindings::rcu_barrier() };
    }
}

/// The workqueue of deferred clears: the module's own, which it drains before it goes.
#[cfg(MODULE)]
fn clear_queue() -> Option<&'static Queue> {
    let wq = QUEUE.load(Relaxed);
    if kernel::warn_on!(wq.is_null()) {
        return None;
    }
    // SAFETY: a non-null `QUEUE` is the module's workqueue, which lives until all its items have
    // run (`ModuleQueue`, dropped at unload, which every PROG_ARRAY of the module keeps off: it
    // pins the module).
    Some(unsafe { Queue::from_raw(wq) })
}

/// The workqueue of deferred clears: built into the kernel, the system workqueue, as
/// `prog_array_map_clear()` uses.
#[cfg(not(MODULE))]
fn clear_queue() -> Option<&'static Queue> {
    Some(kernel::workqueue::system())
}

/// The storage of a PROG_ARRAY, the only array with an aux: tail call targets, `Ptrs<TailCall>`,
/// the one storage that implements this (in `fd_array.rs`). [`ProgArrayAux::attach`] and the
/// deferred clear take no other.
pub(crate) trait ProgArrayStorage: Storage {}

/// What the deferred clear of a PROG_ARRAY does: the map type's `bpf_fd_array_map_clear()`.
pub(crate) trait DeferredClear {
    /// The storage of the map type's arrays.
    type Storage: ProgArrayStorage;

    /// Empties every slot of `map`, dropping the references with `need_defer`.
    fn clear(map: &Array<Self::Storage>);
}

/// The aux of a PROG_ARRAY.
///
/// # Invariants
///
/// `aux` is initialised (empty poke list, mutex, work item running `clear_work::<C>` for the `C`
/// it was attached with) and its `map` points to the array whose `aux` points here, an array of
/// `C::Storage`; `progs` is only accessed with `aux.poke_mutex` held. Every pointer in `progs` is
/// the aux of a program that tracks the map (`map_poke_track`) and has not untracked it yet.
#[repr(C)]
pub(crate) struct ProgArrayAux {
    aux: Opaque<bindings::bpf_array_aux>,
    progs: UnsafeCell<KVec<NonNull<bindings::bpf_prog_aux>>>,
}

// The layout contract (`layout.rs`): `array->aux`, which C reads as a `struct bpf_array_aux *`, is
// the address of the `ProgArrayAux` around it (`ProgArrayAux::of`).
const _: () = assert!(core::mem::offset_of!(ProgArrayAux, aux) == 0);

impl ProgArrayAux {
    /// `prog_array_map_alloc()`: gives `array` its aux, whose deferred clear runs `C`.
    pub(crate) fn attach<C: DeferredClear>(array: &mut ArrayBox<C::Storage>) -> Result {
        let aux = KBox::new(
            Self {
                aux: Opaque::zeroed(),
                progs: UnsafeCell::new(KVec::new()),
            },
            GFP_KERNEL_ACCOUNT,
        )?;
        let aux = KBox::into_raw(aux);
        // SAFETY: `aux` is a fresh allocation that will not move; the array is owned by the
        // caller and not yet visible to anyone else.
        unsafe {
            let raw = (*aux).aux.get();
            ffi::rust_arraymap_array_aux_init(raw, clear_work::<C>);
            (*raw).map = array.as_map_ptr();
            (*array.array().as_array_ptr()).aux = raw;
        }
        Ok(())
    }

    /// `prog_array_map_free()`: frees the aux of an array being freed, with what is left of the
    /// poke list.
    pub(crate) fn detach<S: ProgArrayStorage>(array: &mut ArrayBox<S>) {
        // SAFETY: the array is owned by the caller and nothing uses it any more.
        let raw = unsafe {
            core::mem::replace(
                &mut (*array.array().as_array_ptr()).aux,
                core::ptr::null_mut(),
            )
        };
        if !raw.is_null() {
            // SAFETY: a non-null aux was set by `attach` from a `KBox<Self>`, whose first
            // member it is.
            drop(unsafe { KBox::from_raw(raw.cast::<Self>()) });
        }
    }

    /// The aux of an array: `Some` for a PROG_ARRAY only.
    pub(crate) fn of<S: Storage>(array: &Array<S>) -> Option<&Self> {
        // SAFETY: the array is live (type invariant of `Array`); `aux` is set at creation and
        // cleared when the array is freed.
        let raw = unsafe { (*array.as_array_ptr()).aux };
        // SAFETY: a non-null `aux` of an `Array` is the `ProgArrayAux` that `attach` set, which
        // lives as long as the array (type invariant of `Array`).
        (!raw.is_null()).then(|| unsafe { &*raw.cast::<Self>() })
    }

    fn raw(&self) -> *mut bindings::bpf_array_aux {
        self.aux.get()
    }

    /// `poke_mutex`, which orders slot updates with the JIT's own patching.
    fn poke_mutex(&self) -> &Mutex<()> {
        // SAFETY: the mutex was initialised with the aux (type invariant), lives as long as
        // `self`, and is only ever taken and released as a mutex (here and by the x86 JIT).
        unsafe { Mutex::from_raw(&raw mut (*self.raw()).poke_mutex) }
    }

    /// Takes `poke_mutex`.
    pub(super) fn lock(&self) -> PokeGuard<'_> {
        // INVARIANT: the mutex is held while the guard lives.
        PokeGuard {
            aux: self,
            _lock: self.poke_mutex().lock(),
        }
    }

    /// `prog_array_map_clear()`: empties the array from the module's workqueue (built in: the
    /// system workqueue), holding a map reference until that is done; called when the last user
    /// reference goes.
    pub(crate) fn schedule_clear(&self) {
        let Some(queue) = clear_queue() else {
            return;
        };
        queue.enqueue(ClearWork::new(self));
    }
}

/// The deferred clear of a PROG_ARRAY as a work item: a reference on the map, which the work
/// function ([`clear_work`]) drops when it is done. The `work_struct` is the aux's own.
///
/// # Invariants
///
/// `0` is a PROG_ARRAY of this module, with a [`ProgArrayAux`], on which this value holds a
/// reference.
struct ClearWork(NonNull<bindings::bpf_map>);

impl ClearWork {
    fn new(aux: &ProgArrayAux) -> Self {
        // SAFETY: `map` is the live array of this aux (type invariant of `ProgArrayAux`).
        let map = unsafe { (*aux.raw()).map };
        // SAFETY: the map is live; the reference taken here is this value's.
        unsafe { bindings::bpf_map_inc(map) };
        // INVARIANT: a referenced PROG_ARRAY of this module, with its aux.
        // SAFETY: the `map` of an aux is set by `attach` and never null.
        Self(unsafe { NonNull::new_unchecked(map) })
    }
}

impl Drop for ClearWork {
    fn drop(&mut self) {
        // SAFETY: this value holds a reference (type invariant).
        unsafe { bindings::bpf_map_put(self.0.as_ptr()) };
    }
}

// SAFETY: a map reference may be dropped on any thread.
unsafe impl Send for ClearWork {}

// SAFETY: the `work_struct` is the aux's, which lives as long as the map, which lives as long as
// the reference. When `queue_work_on()` takes the item, the reference goes with it to the work
// function, `clear_work`, which is the one the aux's `work_struct` was initialised with and
// drops it last; otherwise (the item is queued already) it is dropped here.
unsafe impl RawWorkItem<0> for ClearWork {
    type EnqueueOutput = ();

    unsafe fn __enqueue<F>(self, queue_work_on: F)
    where
        F: FnOnce(*mut bindings::work_struct) -> bool,
    {
        // SAFETY: the map and its aux are live (type invariant): this only computes the address
        // of the aux's `work`.
        let work = unsafe {
            let array = self.0.as_ptr().cast::<bindings::bpf_array>();
            &raw mut (*(*array).aux).work
        };
        if queue_work_on(work) {
            core::mem::forget(self);
        }
    }
}

/// `prog_array_map_clear_deferred()`.
///
/// # Safety
///
/// `work` must be the work item of a [`ProgArrayAux`] queued by
/// [`ProgArrayAux::schedule_clear`].
unsafe extern "C" fn clear_work<C: DeferredClear>(work: *mut bindings::work_struct) {
    // SAFETY: `work` is the `work` member of a `bpf_array_aux`, queued with the map reference
    // that `ClearWork::__enqueue` handed over, which is taken back here.
    let clear = unsafe {
        let aux = work
            .byte_sub(core::mem::offset_of!(bindings::bpf_array_aux, work))
            .cast::<bindings::bpf_array_aux>();
        ClearWork(NonNull::new_unchecked((*aux).map))
    };
    // SAFETY: the map is alive (we hold a reference) and is a PROG_ARRAY of this module, an
    // array of `C::Storage`: a work item runs `clear_work::<C>` only if `attach::<C>` set it up,
    // for such an array (type invariant of `ProgArrayAux`).
    C::clear(unsafe { Array::<C::Storage>::from_map(clear.0.as_ptr()) });
    // Drops the reference. This may free the map and let the module go; the rest of this
    // function is only a return, which `ModuleQueue` waits for.
    drop(clear);
}

/// `poke_mutex` held.
///
/// # Invariants
///
/// The mutex of `aux` is held for the life of the guard: taken by `_lock`, which releases it on
/// drop.
pub(crate) struct PokeGuard<'a> {
    aux: &'a ProgArrayAux,
    _lock: MutexGuard<'a, ()>,
}

impl<'a> PokeGuard<'a> {
    fn progs(&mut self) -> &mut KVec<NonNull<bindings::bpf_prog_aux>> {
        // SAFETY: the mutex is held, which gives exclusive access to the list (type invariants
        // of `ProgArrayAux` and `PokeGuard`).
        unsafe { &mut *self.aux.progs.get() }
    }

    /// `prog_array_map_poke_track()`: remembers a program whose JIT will patch direct tail
    /// calls through this map (once).
    ///
    /// # Safety
    ///
    /// `prog_aux` must be the aux of a program that stays alive until it is untracked.
    pub(super) unsafe fn track(&mut self, prog_aux: NonNull<bindings::bpf_prog_aux>) -> Result {
        let progs = self.progs();
        // INVARIANT: the caller keeps the aux alive until `untrack`.
        if !progs.contains(&prog_aux) {
            progs.push(prog_aux, GFP_KERNEL)?;
        }
        Ok(())
    }

    /// `prog_array_map_poke_untrack()`.
    pub(super) fn untrack(&mut self, prog_aux: NonNull<bindings::bpf_prog_aux>) {
        let progs = self.progs();
        if let Some(i) = progs.iter().position(|p| *p == prog_aux) {
            progs.remove(i).ok();
        }
    }

    /// `prog_array_map_poke_run()`: re-patches every stable direct tail call of a tracked
    /// program that jumps through `key` of `map`, from `old` to `new`
    /// (`bpf_prog_poke_tail_call()`, one program at a time).
    ///
    /// # Safety
    ///
    /// `map` must be the array of this aux; `old` and `new` must each be null or a program
    /// that stays alive during the call.
    pub(super) unsafe fn update_tail_calls(
        &mut self,
        map: *mut bindings::bpf_map,
        key: u32,
        old: *mut bindings::bpf_prog,
        new: *mut bindings::bpf_prog,
    ) {
        for prog_aux in self.progs().iter() {
            // SAFETY: a tracked aux stays alive until it untracks, which takes this mutex
            // (type invariant), so the updates of `map` are serialised and the aux is alive;
            // the kernel uses only the aux, never `aux->prog`, and skips the descriptors the
            // JIT has not made stable yet. `map` is only compared with the descriptors', and `old`
            // and `new` are alive (the caller's promise).
            unsafe { bindings::bpf_prog_poke_tail_call(prog_aux.as_ptr(), map, key, old, new) };
        }
    }
}
