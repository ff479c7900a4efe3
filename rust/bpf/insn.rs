// SPDX-License-Identifier: GPL-2.0

//! A builder for the BPF instructions that `map_gen_lookup` emits.
//!
//! The constructors mirror the macros of `include/linux/filter.h` (`BPF_ALU64_IMM()`,
//! `BPF_LDX_MEM()`...), which bindgen cannot translate, so that the instruction stream of a
//! Rust map is byte for byte the one the C map emits.

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
pub(crate) enum Reg {
    /// R0: return value.
    R0 = 0,
    /// R1: first argument.
    R1 = 1,
    /// R2: second argument.
    R2 = 2,
}

/// One BPF instruction.
#[derive(Clone, Copy)]
pub(crate) struct Insn(bindings::bpf_insn);

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
    pub(crate) fn alu64_imm(op: u32, dst: Reg, imm: i32) -> Self {
        Self::new(
            bindings::BPF_ALU64 | op | bindings::BPF_K,
            dst,
            Reg::R0,
            0,
            imm,
        )
    }

    /// `BPF_ALU32_IMM(op, dst, imm)`.
    pub(crate) fn alu32_imm(op: u32, dst: Reg, imm: i32) -> Self {
        Self::new(
            bindings::BPF_ALU | op | bindings::BPF_K,
            dst,
            Reg::R0,
            0,
            imm,
        )
    }

    /// `BPF_ALU64_REG(op, dst, src)`.
    pub(crate) fn alu64_reg(op: u32, dst: Reg, src: Reg) -> Self {
        Self::new(bindings::BPF_ALU64 | op | bindings::BPF_X, dst, src, 0, 0)
    }

    /// `BPF_LDX_MEM(size, dst, src, off)`.
    pub(crate) fn ldx_mem(size: u32, dst: Reg, src: Reg, off: i16) -> Self {
        Self::new(
            bindings::BPF_LDX | size | bindings::BPF_MEM,
            dst,
            src,
            off,
            0,
        )
    }

    /// `BPF_JMP_IMM(op, dst, imm, off)`.
    pub(crate) fn jmp_imm(op: u32, dst: Reg, imm: i32, off: i16) -> Self {
        Self::new(
            bindings::BPF_JMP | op | bindings::BPF_K,
            dst,
            Reg::R0,
            off,
            imm,
        )
    }

    /// `BPF_JMP_IMM(BPF_JA, 0, 0, off)`: jump over `off` instructions.
    pub(crate) fn ja(off: i16) -> Self {
        Self::jmp_imm(bindings::BPF_JA, Reg::R0, 0, off)
    }

    /// `BPF_MOV64_PERCPU_REG(dst, src)`: `dst = this CPU's address of the per-CPU pointer in
    /// src`, an instruction internal to the kernel that only JITs with
    /// [`jit_supports_percpu_insn`] can translate.
    pub(crate) fn mov64_percpu_reg(dst: Reg, src: Reg) -> Self {
        Self::new(
            bindings::BPF_ALU64 | bindings::BPF_MOV | bindings::BPF_X,
            dst,
            src,
            BPF_ADDR_PERCPU,
            0,
        )
    }

    /// `BPF_MOV64_IMM(dst, imm)`.
    pub(crate) fn mov64_imm(dst: Reg, imm: i32) -> Self {
        Self::alu64_imm(bindings::BPF_MOV, dst, imm)
    }
}

/// The verifier's buffer for an inlined helper call (`INSN_BUF_SIZE` instructions).
pub(crate) struct InsnBuf<'a> {
    buf: &'a mut [bindings::bpf_insn],
    len: usize,
}

impl<'a> InsnBuf<'a> {
    /// Room in the buffer the verifier passes to `map_gen_lookup` (`INSN_BUF_SIZE`).
    pub(crate) const CAPACITY: usize = 32;

    /// Wraps the verifier's buffer.
    pub(crate) fn new(buf: &'a mut [bindings::bpf_insn]) -> Self {
        Self { buf, len: 0 }
    }

    /// Appends an instruction.
    pub(crate) fn push(&mut self, insn: Insn) -> Result {
        let slot = self.buf.get_mut(self.len).ok_or(E2BIG)?;
        *slot = insn.0;
        self.len += 1;
        Ok(())
    }

    /// Number of instructions emitted.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}
