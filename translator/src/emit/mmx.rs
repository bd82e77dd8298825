//! MMX instructions in generated code: the packed operations SSE has too,
//! from the same rows (`vector::Lane::Packed` in `frontend::forms`) on 64-bit arrangements. MMX
//! registers are the x87 registers' significands in `CpuState`, so each
//! operation loads them, computes, and stores the result back as an MMX
//! write does (exponent all ones). The rest of MMX is interpreted (`mmx/`).

use super::aarch64::{encodable, Arrangement, ElementSize, VecOp};
use super::sse::PackedOp;
use super::{a64, regs, EmitResult, Emitter, Flow, Reg};
use crate::cpu::state::offsets;
#[allow(unused_imports)]
use dynasmrt::DynasmApi;
use iced_x86::{Instruction, OpKind};

// Unsigned-offset forms reach these fields: strb to 4095, ldr/str D to 32760.
const _: () = assert!(offsets::X87_TOP < 4096 && offsets::X87_VALID < 4096 && offsets::X87_REGS + 16 * 8 < 32760);

/// Where MMX register `n` (physical x87 register `n`) lives in `CpuState`.
fn mm_offset(n: usize) -> u32 {
    offsets::X87_REGS + 16 * n as u32
}

/// Whether generated code runs `insn`, an MMX form of packed row `row`
/// (`frontend::forms::Guard::MmxRegisters`): to an MMX register from one
/// or from memory, where the host has the operation on 64 bits.
pub fn compiles(insn: &Instruction, row: PackedOp) -> bool {
    let to_mm = insn.op0_kind() == OpKind::Register && insn.op0_register().is_mm();
    let from_mm_or_memory = match insn.op1_kind() {
        OpKind::Register => insn.op1_register().is_mm(),
        kind => kind == OpKind::Memory,
    };
    to_mm && from_mm_or_memory && encodable(row.op, Arrangement::half(row.element))
}

/// The MMX form of packed row `row` (its guard's route, after `compiles`).
pub fn packed(e: &mut Emitter, insn: &Instruction, row: PackedOp) -> EmitResult {
    let dst = mm_offset(insn.op0_register().number());
    let src: Reg = e.vtmp();
    match insn.op1_kind() {
        OpKind::Register => {
            a64!(e.ops; ldr D(src), [X(regs::STATE), mm_offset(insn.op1_register().number())]);
        }
        _ => {
            // The low-half unpacks read only the 32 bits they use.
            let low_unpack = row.op == VecOp::ZipLow;
            e.vload_operand(src, insn, if low_unpack { 4 } else { 8 })?;
        }
    }
    // The x87 stack becomes the MMX registers (top 0, every register
    // valid) once the memory operand has been read: an instruction that
    // faults on it leaves the x87 state alone (as the CPU does).
    let t = e.tmp();
    a64!(e.ops
        ; strb wzr, [X(regs::STATE), offsets::X87_TOP]
        ; mov W(t), 0xff
        ; strb W(t), [X(regs::STATE), offsets::X87_VALID]
    );
    let acc = e.vtmp();
    a64!(e.ops; ldr D(acc), [X(regs::STATE), dst]);
    let arrangement = match row.element {
        ElementSize::D => Arrangement::D1,
        element => Arrangement::half(element),
    };
    e.packed(row, arrangement, acc, acc, src);
    a64!(e.ops
        ; str D(acc), [X(regs::STATE), dst]
        ; mov X(t), 0xffff
        ; str X(t), [X(regs::STATE), dst + 8]
    );
    Ok(Flow::Next)
}
