//! VEX conversions whose elements cross the 128-bit halves, and VEX's
//! three-operand forms of SSE's one-lane writes. Each computes with SSE's
//! definition (`sse::packed_convert`, `int_to_float`, the pinsr handlers):
//!
//! | form                                   | as SSE                                    |
//! |----------------------------------------|-------------------------------------------|
//! | vcvtdq2pd/vcvtps2pd ymm, xmm/m128      | the low 64 bits to the low half, the high 64 bits to the upper half |
//! | vcvtpd2ps/vcvt(t)pd2dq xmm, ymm/m256   | each half to 64 bits, the two side by side; bits 128..255 cleared |
//! | vcvtsi2ss/sd, vpinsrb/w/d/q xmm1, xmm2, src | xmm2 into xmm1, then the SSE form; bits 128..255 cleared |

use super::aarch64::{Inst, VReg};
use super::sse::{packed_convert, PackedConvert};
use super::vector::{pinned, vector_number, Lanes};
use super::{a64, EmitResult, Emitter, Flow, Reg, Unsupported};
#[allow(unused_imports)]
use dynasmrt::DynasmApi;
use iced_x86::{EncodingKind, Instruction, OpKind};

impl Emitter {
    /// For an SSE handler that replaces lanes of its destination, run for
    /// a VEX form `op xmm1, xmm2, src...`: xmm2 into xmm1 (legacy forms,
    /// where xmm1 is also the first source, need nothing). Called once
    /// `src` is read: a load that faults must leave xmm1 as it was.
    pub(super) fn copy_first_source(&mut self, insn: &Instruction, d: Reg) -> Result<(), Unsupported> {
        if insn.encoding() != EncodingKind::VEX {
            return Ok(());
        }
        let n = pinned(vector_number(insn.op1_register()).ok_or(Unsupported)?);
        if n != d {
            self.inst(Inst::VecMove { rd: VReg(d), rn: VReg(n) });
        }
        Ok(())
    }
}

/// The converting lane operation on its own: rd from rm.
fn convert(e: &mut Emitter, op: PackedConvert, rd: Reg, rm: Reg) -> Result<(), Unsupported> {
    let taken = e.vtmps_taken();
    packed_convert(e, Lanes { rd, rn: rd, rm, upper: false }, op)?;
    e.release_vtmps(taken);
    Ok(())
}

/// vcvtdq2pd/vcvtps2pd ymm, xmm/m128: four 32-bit elements widen to four
/// 64-bit ones, two per half.
pub(super) fn widen_256(e: &mut Emitter, insn: &Instruction, op: PackedConvert) -> EmitResult {
    let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    let src = match insn.op1_kind() {
        OpKind::Register => pinned(vector_number(insn.op1_register()).ok_or(Unsupported)?),
        OpKind::Memory => {
            let t = e.vtmp();
            e.vload_operand(t, insn, 16)?;
            t
        }
        _ => return Err(Unsupported),
    };
    // The upper half first: the source may be the destination's low half.
    let high = e.vtmp();
    a64!(e.ops; mov D(high), V(src).D[1]);
    convert(e, op, high, high)?;
    convert(e, op, pinned(d), src)?;
    e.store_upper(high, d);
    Ok(Flow::Next)
}

/// vcvtpd2ps/vcvtpd2dq/vcvttpd2dq xmm, ymm/m256: four 64-bit elements
/// narrow to four 32-bit ones in the destination's low half.
pub(super) fn narrow_256(e: &mut Emitter, insn: &Instruction, op: PackedConvert) -> EmitResult {
    let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    let (low, high) = match insn.op1_kind() {
        OpKind::Register => {
            let n = vector_number(insn.op1_register()).ok_or(Unsupported)?;
            let high = e.vtmp();
            e.load_upper(high, n);
            (pinned(n), high)
        }
        OpKind::Memory => {
            let (low, high) = (e.vtmp(), e.vtmp());
            e.load_pair_operand(low, high, insn)?;
            (low, high)
        }
        _ => return Err(Unsupported),
    };
    // SSE's forms write 64 bits and clear the rest of the register.
    convert(e, op, high, high)?;
    convert(e, op, pinned(d), low)?;
    a64!(e.ops; mov V(pinned(d)).D[1], V(high).D[0]);
    e.clear_upper(d);
    Ok(Flow::Next)
}
