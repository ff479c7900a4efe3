// SPDX-License-Identifier: GPL-2.0

//! `BPF_MAP_LOOKUP_BATCH` and `BPF_MAP_UPDATE_BATCH` for arrays.
//!
//! The kernel's generic batch operations (`generic_map_lookup_batch()` and
//! `generic_map_update_batch()` in kernel/bpf/syscall.c) move one element at a time: per
//! element an indirect `map_get_next_key`, an indirect lookup or update, and two user copies
//! (its key and its value). The keys of an array's lookup batch are consecutive indices, and
//! the keys and values of a batch are consecutive in the user's buffers, so [`Batch`] moves up
//! to [`CHUNK`] elements with one user copy of their keys and one of their values, through
//! buffers on the stack. Each element is still copied in or out by the map type's own op, as
//! the generic functions have it done, so that special fields are zeroed on the way out and
//! left alone on the way in.
//!
//! What user space sees is the generic functions': the same errno for the same input, the
//! same `count` and `out_batch` on success, at the end of the array (`ENOENT`) and on a fault
//! (`EFAULT`, for an update after the elements before the faulting one), and the same two
//! allocations, so that an allocation that fails fails the batch as in C. Where that cannot be
//! promised the generic functions run instead: element flags (`BPF_F_LOCK`, `BPF_F_CPU`,
//! `BPF_F_ALL_CPUS`, and the errno of bad ones) or batch flags, `BPF_F_MMAPABLE` maps (whose
//! own memory can be the user's buffer, where the order of the copies shows), and lookups whose
//! key and value buffers overlap. What user space cannot rely on either way: the bytes of a
//! buffer past the first fault, and, for a kprobe program on a function that copies an element,
//! that it is not run: the generic functions keep BPF programs off during each element
//! (`bpf_disable_instrumentation()`, whose counter is not exported), and neither path calls such
//! a function for an array without special fields.

use super::{
    array::{Array, Storage},
    attr::flags,
    ffi, percpu,
    value::ValueBuf,
};
use core::{
    marker::PhantomData,
    mem::MaybeUninit,
    num::NonZeroUsize,
    ptr::{self, NonNull},
};
use kernel::{
    bindings,
    error::to_result,
    ffi::{c_ulong, c_void},
    prelude::*,
    sync::rcu,
    transmute::FromBytes,
};

/// Elements moved by one user copy of keys or of values.
const CHUNK: usize = 64;

/// Bytes of the stack buffer that the values of a chunk pass through; values larger than this
/// go one at a time through the value buffer that the generic functions allocate too.
const BOUNCE: usize = 512;

/// The key of every array map.
const KEY_SIZE: usize = 4;

/// A buffer as the generic functions allocate theirs, `kvmalloc(len, GFP_USER | __GFP_NOWARN)`,
/// so that an allocation that fails there fails here. Not a `KVVec`: its allocator
/// reallocates, and `kvrealloc()` retries a failed `krealloc()` with `kvmalloc()`, so a batch
/// survived the single failure that ends the generic function's (the fault-injection table
/// caught it). Most batches never use it (their elements go through the stack), so it is
/// initialised on first use only: read from user space whole, or zeroed.
///
/// # Invariants
///
/// `ptr` is a `kvmalloc()` allocation of `len` bytes that this buffer owns; all `len` bytes are
/// initialised if `init` is true.
struct SyscallBuf {
    ptr: NonNull<u8>,
    len: usize,
    init: bool,
}

impl SyscallBuf {
    /// Allocates `len` bytes, uninitialised until [`SyscallBuf::read_user`] or
    /// [`SyscallBuf::bytes`]; `ENOMEM` if that fails.
    fn new(len: usize) -> Result<Self> {
        // SAFETY: no precondition but a context that may sleep: the batch ops run in the bpf()
        // syscall, with no lock held.
        let ptr = unsafe { ffi::rust_arraymap_kvmalloc_user(len) };
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(ENOMEM)?;
        // INVARIANT: an allocation of `len` bytes, owned from here on, none initialised yet.
        Ok(Self {
            ptr,
            len,
            init: false,
        })
    }

    /// All the buffer's bytes, read from the user address `addr`; `EFAULT` if any of them is
    /// not readable.
    fn read_user(&mut self, addr: usize) -> Result<&mut [u8]> {
        // SAFETY: `ptr` is valid for writes of `len` bytes, owned by `self` (type invariant),
        // and nothing borrows them while `self` is borrowed mutably.
        let ret = unsafe { copy_from_user(self.ptr.as_ptr(), self.len, addr) };
        // INVARIANT: `copy_from_user()` wrote all `len` bytes, copied or zeroed.
        self.init = true;
        ret?;
        Ok(self.bytes())
    }

    /// The buffer's bytes, zeroed the first time.
    fn bytes(&mut self) -> &mut [u8] {
        if !self.init {
            // SAFETY: `ptr` is valid for writes of `len` bytes, owned by `self` (type
            // invariant), and nothing borrows them while `self` is borrowed mutably.
            unsafe { ptr::write_bytes(self.ptr.as_ptr(), 0, self.len) };
            // INVARIANT: all `len` bytes were written by the line above.
            self.init = true;
        }
        // SAFETY: `len` initialised bytes (type invariant, `init` is true) owned by `self`,
        // borrowed mutably through it for as long as the slice lives.
        unsafe { core::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for SyscallBuf {
    fn drop(&mut self) {
        // SAFETY: a `kvmalloc()` allocation owned by `self` (type invariant), no longer used.
        unsafe { bindings::kvfree(self.ptr.as_ptr().cast()) };
    }
}

/// A buffer on the stack of which a batch initialises only the elements it uses: a batch of
/// one 8-byte value needs 12 of the 768 bytes of a full chunk's buffers, and zeroing all of
/// them (a `memset()`) cost a batch of one more than the rest of its work in the module.
/// Aligned to 8 bytes, as `bpf_long_memcpy()` wants the per-CPU values it copies.
#[repr(C, align(8))]
struct StackBuf<T: Copy, const N: usize>([MaybeUninit<T>; N]);

impl<T: Copy + FromBytes, const N: usize> StackBuf<T, N> {
    /// An uninitialised buffer: nothing is written until [`StackBuf::filled`] or
    /// [`StackBuf::read_user`].
    fn new() -> Self {
        Self([MaybeUninit::uninit(); N])
    }

    /// The first `len` elements (at most `N`), each set to `value`.
    fn filled(&mut self, len: usize, value: T) -> &mut [T] {
        let elems = &mut self.0[..len];
        elems.fill(MaybeUninit::new(value));
        // SAFETY: the `len` elements of `elems` were all initialised by the line above, and
        // `elems` is borrowed mutably from `self` for as long as the slice lives;
        // `MaybeUninit<T>` has the layout of `T`.
        unsafe { core::slice::from_raw_parts_mut(elems.as_mut_ptr().cast::<T>(), len) }
    }

    /// The first `len` elements (at most `N`), read from the user address `addr`; `EFAULT` if
    /// any byte of them is not readable. Nothing is written first: the copy initialises them.
    #[inline]
    fn read_user(&mut self, len: usize, addr: usize) -> Result<&mut [T]> {
        let elems = &mut self.0[..len];
        let ptr = elems.as_mut_ptr();
        // SAFETY: `elems` is valid for writes of its `size_of_val()` bytes and borrowed
        // mutably from `self`.
        unsafe { copy_from_user(ptr.cast::<u8>(), core::mem::size_of_val(elems), addr) }?;
        // SAFETY: `copy_from_user()` wrote all bytes of the `len` elements, and any bytes are a
        // `T` (`FromBytes`); `elems` is borrowed mutably from `self` for as long as the slice
        // lives, and `MaybeUninit<T>` has the layout of `T`.
        Ok(unsafe { core::slice::from_raw_parts_mut(ptr.cast::<T>(), len) })
    }
}

/// The arguments of a batch command, as the BPF core passes them to `map_lookup_batch` and
/// `map_update_batch`.
///
/// # Invariants
///
/// `map` is a live array map and `attr` the kernel's copy of the attributes of a batch command
/// on it, both valid for `'a`; `uattr` is the user address the attributes came from, and
/// `map_file` the map's file for an update, null for a lookup. The other fields are those of
/// `attr.batch`, and `count_at` the user address of `uattr.batch.count`.
pub(crate) struct Batch<'a> {
    map: *mut bindings::bpf_map,
    attr: *const bindings::bpf_attr,
    uattr: *mut bindings::bpf_attr,
    map_file: *mut bindings::file,
    in_batch: usize,
    out_batch: usize,
    keys: usize,
    values: usize,
    count: u32,
    elem_flags: u64,
    flags: u64,
    count_at: usize,
    _p: PhantomData<&'a bindings::bpf_attr>,
}

// The user copies of a batch go through `copy_from_user()` and `copy_to_user()` (the kernel
// crate's helpers, as `UserSliceReader::read_raw()` and `UserSliceWriter::write_slice()` call
// them), with lengths known only at run time, so that `check_object_size()`
// (`CONFIG_HARDENED_USERCOPY`) sees each one: a length that ran past the kernel object it
// copies to or from would be caught there, as it is for C's `copy_from_user()` in
// `generic_map_update_batch()`. Both check the user range (`access_ok()`), and
// `copy_from_user()` zeroes what it could not read. (`UserSlice` itself does not fit: its
// reader and writer own one user range each, and a batch walks two, keys and values, by
// chunks, with an element-wise retry after a fault.)

/// Copies `len` bytes from the user address `addr` to `dst`; `EFAULT` if any byte of them is
/// not readable. All `len` bytes at `dst` are written either way, those not read with zeroes.
///
/// # Safety
///
/// `dst` must be valid for writes of `len` bytes.
#[inline]
unsafe fn copy_from_user(dst: *mut u8, len: usize, addr: usize) -> Result {
    // SAFETY: `dst` is valid for writes of `len` bytes (the caller guarantees it); the user
    // range is checked by `copy_from_user()` itself.
    copied(unsafe { bindings::copy_from_user(dst.cast(), addr as *const c_void, len) })
}

/// Copies `data` to the user address `addr + off`; `EFAULT` if any byte of it is not writable.
fn write_user(addr: usize, off: usize, data: &[u8]) -> Result {
    let to = addr.wrapping_add(off) as *mut c_void;
    // SAFETY: `data` is valid for reads of its length; the user range is checked by
    // `copy_to_user()` itself.
    copied(unsafe { bindings::copy_to_user(to, data.as_ptr().cast(), data.len()) })
}

/// `EFAULT` unless a user copy copied every byte: `left`, the bytes it did not copy, is 0.
#[inline]
fn copied(left: c_ulong) -> Result {
    if left == 0 {
        Ok(())
    } else {
        Err(EFAULT)
    }
}

/// Writes `value` to the user address `addr`, with `put_user()` as the generic functions write
/// the first count; `EFAULT` if any byte of it is not writable.
fn put_user_u32(addr: usize, value: u32) -> Result {
    // SAFETY: `put_user()` checks that the address is a writable user address.
    match unsafe { ffi::rust_arraymap_put_user_u32(addr as *mut u32, value) } {
        0 => Ok(()),
        _ => Err(EFAULT),
    }
}

/// Do the user ranges `[a, a + a_len)` and `[b, b + b_len)` overlap (or wrap around)?
fn overlap(a: usize, a_len: usize, b: usize, b_len: usize) -> bool {
    match (a.checked_add(a_len), b.checked_add(b_len)) {
        (Some(a_end), Some(b_end)) => a_len != 0 && b_len != 0 && a < b_end && b < a_end,
        _ => true,
    }
}

/// Bytes of one element in the user's value buffer (`bpf_map_value_size()` without element
/// flags): the value, or the values of all possible CPUs of a per-CPU array, 8-byte aligned.
/// Never zero: creation refuses a zero `value_size`.
fn user_value_len<S: Storage>(map: &Array<S>) -> Option<NonZeroUsize> {
    NonZeroUsize::new(if S::PERCPU {
        map.all_cpus_len()
    } else {
        map.value_size() as usize
    })
}

/// Where the values of a chunk go through, and how many elements a chunk has, for a batch of
/// `n` elements: the stack buffer `bounce`, as much of it as the largest chunk needs, when a
/// value fits in it, else `large` (the value buffer of the generic functions, of at least one
/// value, from byte `skip` on), one value at a time.
fn chunk_buffer<'b>(
    bounce: &'b mut StackBuf<u8, BOUNCE>,
    large: &'b mut SyscallBuf,
    skip: usize,
    stride: NonZeroUsize,
    n: usize,
) -> (&'b mut [u8], usize) {
    match chunk_len(stride, n) {
        Some(per_chunk) => (bounce.filled(per_chunk * stride.get(), 0), per_chunk),
        None => (&mut large.bytes()[skip..], 1),
    }
}

/// How many elements of a batch of `n` a chunk has when their values (of `stride` bytes each)
/// go through the stack; `None` when a value is larger than [`BOUNCE`].
fn chunk_len(stride: NonZeroUsize, n: usize) -> Option<usize> {
    (stride.get() <= BOUNCE).then(|| CHUNK.min(BOUNCE / stride).min(n))
}

/// The array key (an index) in the first bytes of a key buffer of [`KEY_SIZE`] bytes.
fn key_of(buf: &[u8]) -> u32 {
    u32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]])
}

impl<'a> Batch<'a> {
    /// Wraps the arguments of `map_lookup_batch` (`map_file` null) or `map_update_batch`.
    ///
    /// # Safety
    ///
    /// `map` must be a live array map and `attr` the kernel's copy of the attributes of a batch
    /// command on it, both valid for `'a`; `uattr` the user address of the attributes and
    /// `map_file` the file the update came through, or null for a lookup.
    pub(super) unsafe fn from_raw(
        map: *mut bindings::bpf_map,
        attr: *const bindings::bpf_attr,
        uattr: *mut bindings::bpf_attr,
        map_file: *mut bindings::file,
    ) -> Self {
        // SAFETY: `attr` is valid (the caller guarantees it) and `batch` is the member that a
        // batch command fills; its fields are integers, which any bytes are.
        let b = unsafe { &(*attr).batch };
        // SAFETY: only the address of a field of the valid `attr`.
        let count_off = unsafe { ptr::addr_of!((*attr).batch.count) } as usize - attr as usize;
        // INVARIANT: the caller guarantees the pointers; the rest is read from `attr.batch`.
        Self {
            map,
            attr,
            uattr,
            map_file,
            in_batch: b.in_batch as usize,
            out_batch: b.out_batch as usize,
            keys: b.keys as usize,
            values: b.values as usize,
            count: b.count,
            elem_flags: b.elem_flags,
            flags: b.flags,
            count_at: (uattr as usize).wrapping_add(count_off),
            _p: PhantomData,
        }
    }

    /// `generic_map_lookup_batch()`, on the arguments as received.
    fn generic_lookup(&self) -> Result {
        // SAFETY: the arguments that `map_lookup_batch` received (type invariant), unchanged.
        to_result(unsafe { bindings::generic_map_lookup_batch(self.map, self.attr, self.uattr) })
    }

    /// `generic_map_update_batch()`, on the arguments as received.
    fn generic_update(&self) -> Result {
        // SAFETY: the arguments that `map_update_batch` received (type invariant), unchanged.
        to_result(unsafe {
            bindings::generic_map_update_batch(self.map, self.map_file, self.attr, self.uattr)
        })
    }

    /// Writes `uattr.batch.count`.
    fn put_count(&self, count: u32) -> Result {
        put_user_u32(self.count_at, count)
    }

    /// Whether the chunked path keeps every promise of the generic one for `map` (see the
    /// module's documentation).
    fn chunked<S: Storage>(&self, map: &Array<S>) -> bool {
        self.elem_flags == 0 && self.flags == 0 && map.map_flags() & flags::MMAPABLE == 0
    }

    /// `EINVAL` unless `map` is the map of the command: the geometry of a chunk is `map`'s.
    fn check_map<S: Storage>(&self, map: &Array<S>) -> Result {
        if core::ptr::eq(self.map, map.as_map_ptr()) {
            Ok(())
        } else {
            Err(EINVAL)
        }
    }

    /// `BPF_MAP_LOOKUP_BATCH` on `map` (`EINVAL` if it is not the command's map): the elements
    /// after `in_batch` (from the first without it), at most `count`; `load` copies the element
    /// at an index below `max_entries` into a buffer of [`user_value_len()`] bytes, as
    /// `bpf_map_copy_value()` does, under the RCU read lock that the chunk holds (one per chunk:
    /// the generic function takes one per element).
    pub(crate) fn lookup<S: Storage>(
        &self,
        map: &Array<S>,
        load: impl Fn(u32, &mut ValueBuf<'_>, &rcu::Guard) -> Result,
    ) -> Result {
        self.check_map(map)?;
        let max = map.max_entries();
        let most = self.count.min(max) as usize;
        let Some(stride) = user_value_len(map) else {
            return self.generic_lookup();
        };
        if !self.chunked(map)
            || overlap(self.keys, KEY_SIZE * most, self.values, stride.get() * most)
        {
            return self.generic_lookup();
        }
        let (stride_nz, stride) = (stride, stride.get());
        if self.count == 0 {
            return Ok(());
        }
        self.put_count(0)?;
        let mut prev_key = SyscallBuf::new(KEY_SIZE)?;
        let mut buf = SyscallBuf::new(KEY_SIZE + stride)?;
        let start = if self.in_batch != 0 {
            // `bpf_array_get_next_key()`: after the last index there is none, after one past
            // the end the first.
            match key_of(prev_key.read_user(self.in_batch)?) {
                cursor if cursor >= max => 0,
                cursor => cursor + 1,
            }
        } else {
            0
        };
        let n = self.count.min(max - start);

        let mut bounce = StackBuf::new();
        let (vbuf, per_chunk) =
            chunk_buffer(&mut bounce, &mut buf, KEY_SIZE, stride_nz, n as usize);
        let mut key_buf = StackBuf::<u32, CHUNK>::new();
        let keys = key_buf.filled(per_chunk, 0);
        let mut done = 0;
        while done < n as usize {
            let k = per_chunk.min(n as usize - done);
            {
                let rcu = rcu::read_lock();
                let mut values = &mut vbuf[..k * stride];
                for (key, index) in keys[..k].iter_mut().zip(start + done as u32..) {
                    let (value, rest) = core::mem::take(&mut values).split_at_mut(stride);
                    values = rest;
                    *key = index;
                    load(index, &mut ValueBuf::from_slice(value), &rcu)?;
                }
            }
            write_user(self.keys, done * KEY_SIZE, keys[..k].as_bytes())?;
            write_user(self.values, done * stride, &vbuf[..k * stride])?;
            done += k;
            percpu::cond_resched();
        }

        // Fewer than `count` elements: the walk ran past the last one, as `map_get_next_key`
        // says with `ENOENT` in the generic function.
        let ret = if n < self.count { Err(ENOENT) } else { Ok(()) };
        self.put_count(n)?;
        if n > 0 {
            put_user_u32(self.out_batch, start + n - 1)?;
        }
        ret
    }

    /// `BPF_MAP_UPDATE_BATCH` on `map` (`EINVAL` if it is not the command's map): `count` keys
    /// and values, stored in order by `store` (the update of one element with no flags, as
    /// `bpf_map_update_value()` makes it, under the RCU read lock that the chunk holds) until
    /// one fails; `count` says how many were stored.
    pub(crate) fn update<S: Storage>(
        &self,
        map: &Array<S>,
        store: impl Fn(u32, &ValueBuf<'_>, &rcu::Guard) -> Result,
    ) -> Result {
        self.check_map(map)?;
        if !self.chunked(map) {
            return self.generic_update();
        }
        if self.count == 0 {
            return Ok(());
        }
        let Some(stride_nz) = user_value_len(map) else {
            return self.generic_update();
        };
        let stride = stride_nz.get();
        self.put_count(0)?;
        let mut key = SyscallBuf::new(KEY_SIZE)?;
        let mut value = SyscallBuf::new(stride)?;

        let n = self.count as usize;
        let per_chunk = chunk_len(stride_nz, n);
        let mut key_buf = StackBuf::<u32, CHUNK>::new();
        let mut bounce = StackBuf::<u8, BOUNCE>::new();
        let mut done = 0;
        let mut ret = Ok(());
        'chunks: while done < n {
            let k = per_chunk.unwrap_or(1).min(n - done);
            let at = self.values.wrapping_add(done * stride);
            let read = match key_buf.read_user(k, self.keys.wrapping_add(done * KEY_SIZE)) {
                Ok(keys) => match per_chunk {
                    Some(_) => bounce.read_user(k * stride, at),
                    None => value.read_user(at),
                }
                .map(|values| (keys, values)),
                Err(e) => Err(e),
            };
            let Ok((keys, mut values)) = read else {
                ret = self.update_singly(k, stride, &mut key, &mut value, &mut done, &store);
                if ret.is_err() {
                    break;
                }
                continue;
            };
            {
                let rcu = rcu::read_lock();
                for index in keys.iter() {
                    let (value, rest) = core::mem::take(&mut values).split_at_mut(stride);
                    values = rest;
                    ret = store(*index, &ValueBuf::from_slice(value), &rcu);
                    if ret.is_err() {
                        break 'chunks;
                    }
                    done += 1;
                }
            }
            percpu::cond_resched();
        }
        self.put_count(done as u32)?;
        ret
    }

    /// The `k` elements of a chunk of an update from element `done` on, one at a time through
    /// `key` and `value`, after a byte of the chunk was found unreadable: as the generic
    /// function reads them, so that those before the fault are stored and counted in `done`.
    #[cold]
    #[inline(never)]
    fn update_singly(
        &self,
        k: usize,
        stride: usize,
        key: &mut SyscallBuf,
        value: &mut SyscallBuf,
        done: &mut usize,
        store: &impl Fn(u32, &ValueBuf<'_>, &rcu::Guard) -> Result,
    ) -> Result {
        for _ in 0..k {
            let index = key_of(key.read_user(self.keys.wrapping_add(*done * KEY_SIZE))?);
            let value = value.read_user(self.values.wrapping_add(*done * stride))?;
            store(index, &ValueBuf::from_slice(value), &rcu::read_lock())?;
            *done += 1;
        }
        Ok(())
    }
}
