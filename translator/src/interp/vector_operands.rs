//! The interpreter's vector operands, legacy SSE and VEX alike: an
//! operation `dst = f(a, b)` on 128-bit halves. Legacy forms and VEX forms
//! without vvvv read a from the destination (op0) and b from op1; VEX forms
//! with vvvv read a from op1 and b from op2. VEX.256 runs once per half;
//! a VEX.128 write clears bits 128..255 of its destination.

use crate::cpu::state::CpuState;
use iced_x86::{EncodingKind, Instruction, OpKind};

/// How many 128-bit halves `insn` computes: 2 for a YMM destination.
pub fn halves(insn: &Instruction) -> usize {
    if insn.op0_kind() == OpKind::Register && insn.op0_register().is_ymm() {
        2
    } else {
        1
    }
}

/// Half `half` (0 or 1) of vector operand `op`: a register, or 16 bytes of
/// memory at `addr` + 16 * half (probed by the caller).
pub fn operand_half(state: &CpuState, insn: &Instruction, op: u32, addr: u64, half: usize) -> u128 {
    match insn.op_kind(op) {
        OpKind::Register => {
            let n = insn.op_register(op).number();
            if half == 0 {
                state.xmm[n]
            } else {
                state.ymm_upper[n]
            }
        }
        // SAFETY: guest memory the interpreter probed for the operand's size.
        _ => unsafe { ((addr + 16 * half as u64) as *const u128).read_unaligned() },
    }
}

/// Half `half` of the sources (a, b) of `insn` (see the module comment).
pub fn sources(state: &CpuState, insn: &Instruction, addr: u64, half: usize) -> (u128, u128) {
    let vectors = (0..insn.op_count()).filter(|&i| matches!(insn.op_kind(i), OpKind::Register | OpKind::Memory)).count();
    let (a, b) = if insn.encoding() == EncodingKind::VEX && vectors >= 3 { (1, 2) } else { (0, 1) };
    (operand_half(state, insn, a, addr, half), operand_half(state, insn, b, addr, half))
}

/// Writes half `half` of the destination register; a VEX.128 write
/// clears the upper half.
pub fn write_destination(state: &mut CpuState, insn: &Instruction, half: usize, value: u128) {
    let d = insn.op0_register().number();
    if half == 0 {
        state.xmm[d] = value;
        if insn.encoding() == EncodingKind::VEX && halves(insn) == 1 {
            state.ymm_upper[d] = 0;
        }
    } else {
        state.ymm_upper[d] = value;
    }
}
