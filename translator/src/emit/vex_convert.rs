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
use super::sse::packed_convert;
use super::vector::{pinned, vector_number, Lanes};
use super::{a64, EmitResult, Emitter, Flow, Handler, Reg, Unsupported};
#[allow(unused_imports)]
use dynasmrt::DynasmApi;
use iced_x86::{Code, EncodingKind, Instruction, OpKind};

/// The handler of a form this module implements (VEX forms only).
pub(super) fn handler(insn: &Instruction) -> Option<Handler> {
    use Code::*;
    Some(match insn.code() {
        VEX_Vcvtdq2pd_ymm_xmmm128 | VEX_Vcvtps2pd_ymm_xmmm128 => widen_256,
        VEX_Vcvtpd2ps_xmm_ymmm256 | VEX_Vcvtpd2dq_xmm_ymmm256 | VEX_Vcvttpd2dq_xmm_ymmm256 => narrow_256,
        VEX_Vcvtsi2ss_xmm_xmm_rm32
        | VEX_Vcvtsi2ss_xmm_xmm_rm64
        | VEX_Vcvtsi2sd_xmm_xmm_rm32
        | VEX_Vcvtsi2sd_xmm_xmm_rm64
        | VEX_Vpinsrb_xmm_xmm_r32m8_imm8
        | VEX_Vpinsrb_xmm_xmm_r64m8_imm8
        | VEX_Vpinsrw_xmm_xmm_r32m16_imm8
        | VEX_Vpinsrw_xmm_xmm_r64m16_imm8
        | VEX_Vpinsrd_xmm_xmm_rm32_imm8
        | VEX_Vpinsrq_xmm_xmm_rm64_imm8 => one_lane_merge,
        _ => return None,
    })
}

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

/// vcvtsi2ss/sd and vpinsrb/w/d/q: the SSE handler (which merges through
/// `copy_first_source`), then bits 128..255 cleared as for every VEX.128 write.
fn one_lane_merge(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let sse = super::sse::sse_handler(insn).or_else(|| super::sse41::sse_handler(insn)).ok_or(Unsupported)?;
    sse(e, insn)?;
    e.clear_upper(vector_number(insn.op0_register()).ok_or(Unsupported)?);
    Ok(Flow::Next)
}

/// The converting lane operation on its own: rd from rm.
fn convert(e: &mut Emitter, insn: &Instruction, rd: Reg, rm: Reg) -> Result<(), Unsupported> {
    let taken = e.vtmps_taken();
    packed_convert(e, insn, Lanes { rd, rn: rd, rm, upper: false })?;
    e.release_vtmps(taken);
    Ok(())
}

/// vcvtdq2pd/vcvtps2pd ymm, xmm/m128: four 32-bit elements widen to four
/// 64-bit ones, two per half.
fn widen_256(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    let src = match insn.op1_kind() {
        OpKind::Register => pinned(vector_number(insn.op1_register()).ok_or(Unsupported)?),
        OpKind::Memory => {
            let (base, off) = e.address(insn)?;
            let t = e.vtmp();
            e.vload(t, base, off, 16);
            t
        }
        _ => return Err(Unsupported),
    };
    // The upper half first: the source may be the destination's low half.
    let high = e.vtmp();
    a64!(e.ops; mov D(high), V(src).D[1]);
    convert(e, insn, high, high)?;
    convert(e, insn, pinned(d), src)?;
    e.store_upper(high, d);
    Ok(Flow::Next)
}

/// vcvtpd2ps/vcvtpd2dq/vcvttpd2dq xmm, ymm/m256: four 64-bit elements
/// narrow to four 32-bit ones in the destination's low half.
fn narrow_256(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    let (low, high) = match insn.op1_kind() {
        OpKind::Register => {
            let n = vector_number(insn.op1_register()).ok_or(Unsupported)?;
            let high = e.vtmp();
            e.load_upper(high, n);
            (pinned(n), high)
        }
        OpKind::Memory => {
            let (base, off) = e.address(insn)?;
            let (low, high) = (e.vtmp(), e.vtmp());
            e.load_pair(low, high, base, off);
            (low, high)
        }
        _ => return Err(Unsupported),
    };
    // SSE's forms write 64 bits and clear the rest of the register.
    convert(e, insn, high, high)?;
    convert(e, insn, pinned(d), low)?;
    a64!(e.ops; mov V(pinned(d)).D[1], V(high).D[0]);
    e.clear_upper(d);
    Ok(Flow::Next)
}
