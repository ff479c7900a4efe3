// SPDX-License-Identifier: GPL-2.0

//! The BPF instructions that `map_gen_lookup` emits.
//!
//! The verifier patches them into programs without checking them again, so they are made here,
//! one whole sequence per array layout ([`Lookup::array`], [`Lookup::percpu_array`],
//! [`Lookup::array_of_maps`]), from the header of the very map (or inner-map template) they
//! index; a map type can only choose which of them to return, or none, and the adapter writes
//! the one it returns into the verifier's buffer, whose size is the verifier's own
//! ([`Lookup::write_to`]). The constructors mirror the macros
//! of `include/linux/filter.h` (`BPF_ALU64_IMM()`, `BPF_LDX_MEM()`...), which bindgen cannot
//! translate, so that the instruction stream of a Rust map is byte for byte the one the C map
//! emits.

use super::{
    array::{Array, ArrayHeader, Storage},
    attr::flags,
    fd_array::{InnerMap, Ptrs},
    storage::{Inline, PerCpu},
};
use kernel::{bindings, prelude::*};

/// `BPF_ADDR_PERCPU` (include/linux/filter.h): the `off` of the per-CPU address move.
const BPF_ADDR_PERCPU: i16 = -1;

/// `bpf_jit_supports_percpu_insn()`: can the JIT translate [`Insn::mov64_percpu_reg`]?
pub(crate) fn jit_supports_percpu_insn() -> bool {
    // SAFETY: no preconditions; the answer is fixed for the architecture.
    unsafe { super::ffi::bpf_jit_supports_percpu_insn() }
}

/// A BPF register.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Reg {
    /// R0: return value.
    R0 = 0,
    /// R1: first argument.
    R1 = 1,
    /// R2: second argument.
    R2 = 2,
}

/// One BPF instruction.
#[derive(Clone, Copy)]
struct Insn(bindings::bpf_insn);

impl Insn {
    fn new(code: u32, dst: Reg, src: Reg, off: i16, imm: i32) -> Self {
        Insn(bindings::bpf_insn {
            code: code as u8,
            _bitfield_align_1: [],
            _bitfield_1: bindings::bpf_insn::new_bitfield_1(dst as u8, src as u8),
            off,
            imm,
        })
    }

    /// `BPF_ALU64_IMM(op, dst, imm)`.
    fn alu64_imm(op: u32, dst: Reg, imm: i32) -> Self {
        Self::new(
            bindings::BPF_ALU64 | op | bindings::BPF_K,
            dst,
            Reg::R0,
            0,
            imm,
        )
    }

    /// `BPF_ALU32_IMM(op, dst, imm)`.
    fn alu32_imm(op: u32, dst: Reg, imm: i32) -> Self {
        Self::new(
            bindings::BPF_ALU | op | bindings::BPF_K,
            dst,
            Reg::R0,
            0,
            imm,
        )
    }

    /// `BPF_ALU64_REG(op, dst, src)`.
    fn alu64_reg(op: u32, dst: Reg, src: Reg) -> Self {
        Self::new(bindings::BPF_ALU64 | op | bindings::BPF_X, dst, src, 0, 0)
    }

    /// `BPF_LDX_MEM(size, dst, src, off)`.
    fn ldx_mem(size: u32, dst: Reg, src: Reg, off: i16) -> Self {
        Self::new(
            bindings::BPF_LDX | size | bindings::BPF_MEM,
            dst,
            src,
            off,
            0,
        )
    }

    /// `BPF_JMP_IMM(op, dst, imm, off)`.
    fn jmp_imm(op: u32, dst: Reg, imm: i32, off: i16) -> Self {
        Self::new(
            bindings::BPF_JMP | op | bindings::BPF_K,
            dst,
            Reg::R0,
            off,
            imm,
        )
    }

    /// `BPF_JMP_IMM(BPF_JA, 0, 0, off)`: jump over `off` instructions.
    fn ja(off: i16) -> Self {
        Self::jmp_imm(bindings::BPF_JA, Reg::R0, 0, off)
    }

    /// `BPF_MOV64_PERCPU_REG(dst, src)`: `dst = this CPU's address of the per-CPU pointer in
    /// src`, an instruction internal to the kernel that only JITs with
    /// [`jit_supports_percpu_insn`] can translate.
    fn mov64_percpu_reg(dst: Reg, src: Reg) -> Self {
        Self::new(
            bindings::BPF_ALU64 | bindings::BPF_MOV | bindings::BPF_X,
            dst,
            src,
            BPF_ADDR_PERCPU,
            0,
        )
    }

    /// `BPF_MOV64_IMM(dst, imm)`.
    fn mov64_imm(dst: Reg, imm: i32) -> Self {
        Self::alu64_imm(bindings::BPF_MOV, dst, imm)
    }
}

/// A whole lookup sequence of the array family, as `map_gen_lookup` returns it to the verifier.
///
/// # Invariants
///
/// `insns[..len]` is the complete sequence that one of the constructors ([`Lookup::array`],
/// [`Lookup::percpu_array`], [`Lookup::array_of_maps`]) emitted for the header of a map: R1 =
/// the map and R2 = the key on entry, R0 = the element's address or 0 at the end. Nothing
/// appends to it afterwards. `map` is the header it was made for (only compared, never
/// dereferenced).
pub(crate) struct Lookup {
    insns: [bindings::bpf_insn; Lookup::MAX],
    len: usize,
    map: *const bindings::bpf_map,
}

/// A [`Lookup`] while one of its constructors emits it.
struct Emitter(Lookup);

impl Emitter {
    /// An empty sequence for the header `map`.
    fn new<S: Storage>(map: &ArrayHeader<S>) -> Self {
        Self(Lookup {
            insns: pin_init::zeroed(),
            len: 0,
            map: map.as_map_ptr(),
        })
    }

    /// Appends an instruction.
    fn push(&mut self, insn: Insn) -> Result {
        let slot = self.0.insns.get_mut(self.0.len).ok_or(E2BIG)?;
        *slot = insn.0;
        self.0.len += 1;
        Ok(())
    }

    /// The sequence, ended by `BPF_JA +1` and `R0 = 0` (the jump target past `max_entries`).
    fn finish(mut self) -> Result<Lookup> {
        self.push(Insn::ja(1))?;
        self.push(Insn::mov64_imm(Reg::R0, 0))?;
        // INVARIANT: a constructor of `Lookup` emitted the whole sequence and hands it out.
        Ok(self.0)
    }

    /// The start of every lookup of the family, with R1 = map and R2 = &key: R1 = the elements,
    /// R0 = the key, a jump to the final `R0 = 0` past `max_entries`, the Spectre v1 mask unless
    /// the creator bypasses it, and R0 = the address of element R0 of `elem_bytes` bytes. The
    /// caller then emits `tail` instructions and [`Emitter::finish`]es.
    fn elem_addr<S: Storage>(
        &mut self,
        map: &ArrayHeader<S>,
        elem_bytes: u32,
        tail: i16,
    ) -> Result {
        // Immediates are s32 in the instruction set; C passes these u32 through the same cast.
        let max_entries = map.max_entries() as i32;

        self.push(Insn::alu64_imm(
            bindings::BPF_ADD,
            Reg::R1,
            Array::<S>::VALUE_OFFSET,
        ))?;
        self.push(Insn::ldx_mem(bindings::BPF_W, Reg::R0, Reg::R2, 0))?;
        // Past the scaling, the add, the caller's tail and its `BPF_JA`.
        let skip = 3 + tail;
        if !map.bypass_spec_v1() {
            self.push(Insn::jmp_imm(
                bindings::BPF_JGE,
                Reg::R0,
                max_entries,
                skip + 1,
            ))?;
            self.push(Insn::alu32_imm(
                bindings::BPF_AND,
                Reg::R0,
                map.index_mask() as i32,
            ))?;
        } else {
            self.push(Insn::jmp_imm(bindings::BPF_JGE, Reg::R0, max_entries, skip))?;
        }
        if elem_bytes.is_power_of_two() {
            self.push(Insn::alu64_imm(
                bindings::BPF_LSH,
                Reg::R0,
                elem_bytes.trailing_zeros() as i32,
            ))?;
        } else {
            self.push(Insn::alu64_imm(
                bindings::BPF_MUL,
                Reg::R0,
                elem_bytes as i32,
            ))?;
        }
        self.push(Insn::alu64_reg(bindings::BPF_ADD, Reg::R0, Reg::R1))
    }
}

impl Lookup {
    /// The longest sequence: PERCPU_ARRAY's, masked (10 instructions).
    const MAX: usize = 10;

    /// `array_map_gen_lookup()`: R0 = the value at key *R2 of the array R1, or 0 past
    /// `max_entries`. `EOPNOTSUPP` for a `BPF_F_INNER_MAP` template, whose inner arrays may be
    /// larger than it says.
    pub(crate) fn array(map: &ArrayHeader<Inline>) -> Result<Self> {
        if map.map_flags() & flags::INNER_MAP != 0 {
            return Err(EOPNOTSUPP);
        }
        let mut e = Emitter::new(map);
        e.elem_addr(map, map.elem_size(), 0)?;
        e.finish()
    }

    /// `percpu_array_map_gen_lookup()`: R0 = this CPU's value at key *R2 of the per-CPU array
    /// R1, or 0. `EOPNOTSUPP` without the JIT's per-CPU address move, and for a
    /// `BPF_F_INNER_MAP` template.
    pub(crate) fn percpu_array(map: &ArrayHeader<PerCpu>) -> Result<Self> {
        if !jit_supports_percpu_insn() {
            return Err(EOPNOTSUPP);
        }
        if map.map_flags() & flags::INNER_MAP != 0 {
            return Err(EOPNOTSUPP);
        }
        let mut e = Emitter::new(map);
        // `pptrs[]`: pointer-sized elements.
        e.elem_addr(map, 8, 2)?;
        e.push(Insn::ldx_mem(bindings::BPF_DW, Reg::R0, Reg::R0, 0))?;
        e.push(Insn::mov64_percpu_reg(Reg::R0, Reg::R0))?;
        e.finish()
    }

    /// `array_of_map_gen_lookup()`: R0 = the inner map at key *R2 of the array of maps R1, or 0.
    pub(crate) fn array_of_maps(map: &ArrayHeader<Ptrs<InnerMap>>) -> Result<Self> {
        let mut e = Emitter::new(map);
        e.elem_addr(map, map.elem_size(), 2)?;
        e.push(Insn::ldx_mem(bindings::BPF_DW, Reg::R0, Reg::R0, 0))?;
        e.push(Insn::jmp_imm(bindings::BPF_JEQ, Reg::R0, 0, 1))?;
        e.finish()
    }

    /// The instructions.
    pub(crate) fn insns(&self) -> &[bindings::bpf_insn] {
        &self.insns[..self.len]
    }

    /// Writes the sequence for `map` at the start of `buf` and returns its length, as
    /// `map_gen_lookup` does; `EINVAL` if it was made for another map's header, `E2BIG` if it
    /// does not fit, `buf` untouched either way.
    pub(crate) fn write_to<S: Storage>(
        &self,
        map: &ArrayHeader<S>,
        buf: &mut [bindings::bpf_insn],
    ) -> Result<usize> {
        if !core::ptr::eq(self.map, map.as_map_ptr()) {
            return Err(EINVAL);
        }
        let insns = self.insns();
        buf.get_mut(..insns.len())
            .ok_or(E2BIG)?
            .copy_from_slice(insns);
        Ok(insns.len())
    }
}

/// `INSN_BUF_SIZE`, the length of the buffer the verifier passes to `map_gen_lookup`, from the
/// verifier's own header (rust/inline_helpers.c).
pub(crate) fn insn_buf_size() -> usize {
    // SAFETY: no preconditions; a constant.
    unsafe { super::ffi::rust_arraymap_insn_buf_size() as usize }
}

#[kunit_tests(rust_arraymap_insn)]
mod tests {
    use super::{insn_buf_size, jit_supports_percpu_insn, Lookup};
    use crate::bpf::{
        array::Array,
        attr::flags,
        fd_array::{InnerMap, Ptrs},
        fixture::TestHeader,
        storage::{Inline, PerCpu},
    };
    use kernel::{bindings, prelude::*};

    /// An instruction as the C macros of include/linux/filter.h spell it, opcode in hex:
    /// (code, dst_reg, src_reg, off, imm).
    type Raw = (u8, u8, u8, i16, i32);

    /// `offsetof(struct bpf_array, value)`, the first instruction's immediate.
    const VALUE: i32 = Array::<Inline>::VALUE_OFFSET;

    /// An instruction as a [`Raw`] tuple.
    fn raw(i: &bindings::bpf_insn) -> Raw {
        (i.code, i.dst_reg(), i.src_reg(), i.off, i.imm)
    }

    /// Whether `emitted` is exactly `expected`.
    fn same(emitted: &[bindings::bpf_insn], expected: &[Raw]) -> bool {
        emitted.len() == expected.len() && emitted.iter().zip(expected).all(|(i, e)| raw(i) == *e)
    }

    #[test]
    fn array_lookup_as_c() -> Result {
        // array_map_gen_lookup(): 5 entries of 8 bytes, masked by 7.
        let map = TestHeader::<Inline>::new(5, 8, 7, false, 0);
        assert!(same(
            Lookup::array(map.header())?.insns(),
            &[
                (0x07, 1, 0, 0, VALUE), // r1 += offsetof(value)
                (0x61, 0, 2, 0, 0),     // r0 = *(u32 *)(r2 + 0)
                (0x35, 0, 0, 4, 5),     // if r0 >= 5 goto +4
                (0x54, 0, 0, 0, 7),     // w0 &= 7
                (0x67, 0, 0, 0, 3),     // r0 <<= 3
                (0x0f, 0, 1, 0, 0),     // r0 += r1
                (0x05, 0, 0, 1, 0),     // goto +1
                (0xb7, 0, 0, 0, 0),     // r0 = 0
            ]
        ));
        // Unmasked, and 24-byte values: a multiplication.
        let map = TestHeader::<Inline>::new(3, 24, 3, true, 0);
        assert!(same(
            Lookup::array(map.header())?.insns(),
            &[
                (0x07, 1, 0, 0, VALUE),
                (0x61, 0, 2, 0, 0),
                (0x35, 0, 0, 3, 3),  // if r0 >= 3 goto +3
                (0x27, 0, 0, 0, 24), // r0 *= 24
                (0x0f, 0, 1, 0, 0),
                (0x05, 0, 0, 1, 0),
                (0xb7, 0, 0, 0, 0),
            ]
        ));
        Ok(())
    }

    #[test]
    fn percpu_array_lookup_as_c() -> Result {
        let map = TestHeader::<PerCpu>::new(100, 16, 127, false, 0);
        let got = Lookup::percpu_array(map.header());
        if !jit_supports_percpu_insn() {
            assert!(got.err() == Some(EOPNOTSUPP));
            return Ok(());
        }
        // percpu_array_map_gen_lookup().
        assert!(same(
            got?.insns(),
            &[
                (0x07, 1, 0, 0, VALUE), // r1 += offsetof(pptrs)
                (0x61, 0, 2, 0, 0),
                (0x35, 0, 0, 6, 100), // if r0 >= 100 goto +6
                (0x54, 0, 0, 0, 127),
                (0x67, 0, 0, 0, 3), // r0 <<= 3: the pointers
                (0x0f, 0, 1, 0, 0),
                (0x79, 0, 0, 0, 0),  // r0 = *(u64 *)(r0 + 0)
                (0xbf, 0, 0, -1, 0), // r0 = this CPU's address of r0
                (0x05, 0, 0, 1, 0),
                (0xb7, 0, 0, 0, 0),
            ]
        ));
        Ok(())
    }

    #[test]
    fn array_of_maps_lookup_as_c() -> Result {
        // array_of_map_gen_lookup(), unmasked.
        let map = TestHeader::<Ptrs<InnerMap>>::new(4, 8, 3, true, 0);
        assert!(same(
            Lookup::array_of_maps(map.header())?.insns(),
            &[
                (0x07, 1, 0, 0, VALUE),
                (0x61, 0, 2, 0, 0),
                (0x35, 0, 0, 5, 4), // if r0 >= 4 goto +5
                (0x67, 0, 0, 0, 3),
                (0x0f, 0, 1, 0, 0),
                (0x79, 0, 0, 0, 0),
                (0x15, 0, 0, 1, 0), // if r0 == 0 goto +1
                (0x05, 0, 0, 1, 0),
                (0xb7, 0, 0, 0, 0),
            ]
        ));
        Ok(())
    }

    #[test]
    fn no_inlining_for_inner_map_templates() {
        let map = TestHeader::<Inline>::new(4, 8, 3, false, flags::INNER_MAP);
        assert!(Lookup::array(map.header()).err() == Some(EOPNOTSUPP));
        let map = TestHeader::<PerCpu>::new(4, 8, 3, false, flags::INNER_MAP);
        assert!(Lookup::percpu_array(map.header()).err() == Some(EOPNOTSUPP));
    }

    #[test]
    fn written_whole_or_not_at_all() -> Result {
        let map = TestHeader::<Inline>::new(4, 8, 3, false, 0);
        let lookup = Lookup::array(map.header())?;
        // The verifier's buffer, of its own size: the sequence and its length.
        let mut buf: [bindings::bpf_insn; 64] = pin_init::zeroed();
        let size = insn_buf_size();
        assert!(size <= buf.len());
        // Not for another map's header: the bounds are this one's.
        let other = TestHeader::<Inline>::new(4, 8, 3, false, 0);
        assert!(lookup.write_to(other.header(), &mut buf[..size]) == Err(EINVAL));
        assert!(buf.iter().all(|i| i.code == 0));
        assert_eq!(lookup.write_to(map.header(), &mut buf[..size]), Ok(8));
        assert!(buf[..8]
            .iter()
            .zip(lookup.insns())
            .all(|(w, i)| raw(w) == raw(i)));
        // A buffer too short for it: E2BIG, nothing written.
        let mut short: [bindings::bpf_insn; 4] = pin_init::zeroed();
        assert!(lookup.write_to(map.header(), &mut short) == Err(E2BIG));
        assert!(short.iter().all(|i| i.code == 0));
        Ok(())
    }

    #[test]
    fn the_longest_fits_the_verifier() {
        // The verifier takes fewer than INSN_BUF_SIZE instructions (fixups.c).
        assert!(Lookup::MAX < insn_buf_size());
    }
}
