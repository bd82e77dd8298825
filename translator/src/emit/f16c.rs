//! F16C: vcvtph2ps and vcvtps2ph, half precision to and from single, with
//! the host's `fcvtl`/`fcvtn`, which agree with x86 on what matters here:
//! - NaNs keep their sign and the top of their payload, and come back
//!   quiet; a signalling NaN raises invalid (FPCR.DN is never set).
//! - Half-precision denormals are numbers both ways: conversions ignore
//!   FPCR.FZ16 (Arm ARM, FPUnpackCV/FPRoundCV), as vcvtph2ps ignores
//!   MXCSR.DAZ and vcvtps2ph MXCSR.FTZ (Intel SDM). A single-precision
//!   denormal input to vcvtps2ph is flushed by FPCR.FZ, which Transit sets
//!   when MXCSR has FTZ and DAZ: DAZ is the one that applies.
//! - The sticky flags (invalid, overflow, underflow, inexact) gather in
//!   FPSR like SSE's (`sse::fold_fpsr_into_mxcsr`). Tininess differs:
//!   aarch64 detects it before rounding, x86 after (seen on the CPU: 2^-14
//!   less 2^-38 gives the smallest normal half with PE alone), so when
//!   vcvtps2ph newly raises UFC, x86's UE is worked out (`x86_underflow`).
//!   DE (a denormal single input) is not modelled, as for SSE.

use super::sse::{FPCR, FPSR};
use super::vector::{pinned, vector_number};
use super::{a64, EmitResult, Emitter, Flow, Reg, Unsupported};
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::{Instruction, OpKind};

/// FPCR's rounding-mode field (RMode, bits 23:22).
const FPCR_RMODE: u64 = 3 << 22;

/// The half-precision forms of fcvtl/fcvtn, which dynasm-rs lacks (Arm
/// ARM, "Advanced SIMD two-register miscellaneous", sz 0).
#[derive(Clone, Copy, Debug)]
enum HalfConvert {
    /// fcvtl Vd.4S, Vn.4H: the low four halves widen.
    WidenLow = 0x0e21_7800,
    /// fcvtl2 Vd.4S, Vn.8H: the high four.
    WidenHigh = 0x4e21_7800,
    /// fcvtn Vd.4H, Vn.4S: into the low 64 bits, the high 64 cleared.
    NarrowLow = 0x0e21_6800,
    /// fcvtn2 Vd.8H, Vn.4S: into the high 64 bits, the low 64 kept.
    NarrowHigh = 0x4e21_6800,
}

impl HalfConvert {
    fn encode(self, rd: Reg, rn: Reg) -> u32 {
        self as u32 | (rn as u32) << 5 | rd as u32
    }
}

impl Emitter {
    fn half_convert(&mut self, op: HalfConvert, rd: Reg, rn: Reg) {
        self.raw(op.encode(rd, rn));
    }
}

/// vcvtph2ps xmm, xmm/m64 and ymm, xmm/m128: four or eight halves widen.
pub(super) fn half_to_single(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    let wide = insn.op0_register().is_ymm();
    let s = match insn.op1_kind() {
        OpKind::Register => pinned(vector_number(insn.op1_register()).ok_or(Unsupported)?),
        OpKind::Memory => {
            let t = e.vtmp();
            e.vload_operand(t, insn, if wide { 16 } else { 8 })?;
            t
        }
        _ => return Err(Unsupported),
    };
    if wide {
        // The upper half first: the source may be the destination.
        let high = e.vtmp();
        e.half_convert(HalfConvert::WidenHigh, high, s);
        e.half_convert(HalfConvert::WidenLow, pinned(d), s);
        e.store_upper(high, d);
    } else {
        e.half_convert(HalfConvert::WidenLow, pinned(d), s);
        e.clear_upper(d);
    }
    Ok(Flow::Next)
}

/// vcvtps2ph xmm/m64, xmm, imm and xmm/m128, ymm, imm: four or eight
/// singles narrow, rounded as imm says: bit 2 set, MXCSR.RC (which the
/// host FPCR holds); else bits 1:0, for which FPCR's mode is set around
/// the conversion (fcvtn has no rounding operand). A register destination
/// keeps no bits above the halves (bits 64..255, or 128..255).
pub(super) fn single_to_half(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let s = vector_number(insn.op1_register()).ok_or(Unsupported)?;
    let wide = insn.op1_register().is_ymm();
    let high = wide.then(|| {
        let t = e.vtmp();
        e.load_upper(t, s);
        t
    });
    let imm = insn.immediate8();
    let saved_fpcr = (imm & 4 == 0).then(|| {
        // x86 RC 0 nearest, 1 down, 2 up, 3 zero; aarch64 RMode 0 nearest,
        // 1 up, 2 down, 3 zero.
        let mode = [0u64, 2, 1, 3][(imm & 3) as usize];
        let (old, new) = (e.tmp(), e.tmp());
        a64!(e.ops
            ; mrs X(old), FPCR
            ; and XSP(new), X(old), !FPCR_RMODE
        );
        if mode != 0 {
            a64!(e.ops; orr XSP(new), X(new), mode << 22);
        }
        a64!(e.ops; msr FPCR, X(new));
        old
    });
    let before = e.tmp();
    a64!(e.ops; mrs X(before), FPSR);
    let r = e.vtmp();
    e.half_convert(HalfConvert::NarrowLow, r, pinned(s));
    if let Some(high) = high {
        e.half_convert(HalfConvert::NarrowHigh, r, high);
    }
    x86_underflow(e, before, pinned(s), high, r);
    if let Some(old) = saved_fpcr {
        a64!(e.ops; msr FPCR, X(old));
    }
    match insn.op0_kind() {
        OpKind::Register => {
            let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
            // fcvtn cleared bits 64..127 of r.
            a64!(e.ops; mov V(pinned(d)).B16, V(r).B16);
            e.clear_upper(d);
        }
        OpKind::Memory => e.vstore_operand(r, insn, if wide { 16 } else { 8 })?,
        _ => return Err(Unsupported),
    }
    Ok(Flow::Next)
}

/// FPSR's underflow flag (UFC), MXCSR's UE.
const FPSR_UFC: u32 = 3;

/// After vcvtps2ph's `fcvtn`s (rounding mode still set): if they newly
/// raised UFC (`before` is FPSR from before them), keeps it only if x86
/// raises UE, that is if some lane is inexact and tiny after rounding:
/// rounded to half's precision with an unbounded exponent, below 2^-14. That
/// rounding is the half conversion of twice the value (exact in single)
/// compared with 2^-13. Both only change flags: these conversions' own
/// flags are dropped.
fn x86_underflow(e: &mut Emitter, before: Reg, low: Reg, high: Option<Reg>, r: Reg) {
    let done = e.label();
    let after = e.tmp();
    a64!(e.ops
        ; mrs X(after), FPSR
        ; bic X(before), X(after), X(before)
        ; tbz X(before), FPSR_UFC, =>done
    );
    let (acc, twice, h, limit, back) = (e.vtmp(), e.vtmp(), e.vtmp(), e.vtmp(), e.vtmp());
    a64!(e.ops
        ; movi V(acc).D2, 0
        ; movi V(limit).H8, 0x08, lsl 8
    );
    for (x, upper) in [(Some(low), false), (high, true)] {
        let Some(x) = x else { continue };
        a64!(e.ops; fadd V(twice).S4, V(x).S4, V(x).S4);
        e.half_convert(HalfConvert::NarrowLow, h, twice);
        // The result's lanes back in single: equal to x where exact.
        e.half_convert(if upper { HalfConvert::WidenHigh } else { HalfConvert::WidenLow }, back, r);
        a64!(e.ops
            ; bic V(h).H4, 0x80, lsl 8
            ; cmhi V(h).H4, V(limit).H4, V(h).H4
            ; fcmeq V(back).S4, V(back).S4, V(x).S4
            ; xtn V(back).H4, V(back).S4
            ; bic V(h).B8, V(h).B8, V(back).B8
            ; orr V(acc).B8, V(acc).B8, V(h).B8
        );
    }
    let any = e.tmp();
    let keep = e.label();
    a64!(e.ops
        ; fmov X(any), D(acc)
        ; cbnz X(any), =>keep
        ; and XSP(after), X(after), !(1u64 << FPSR_UFC)
        ; =>keep
        ; msr FPSR, X(after)
    );
    e.bind(done);
}

#[cfg(test)]
mod tests {
    use super::HalfConvert::*;

    /// Against GNU as (aarch64-linux-gnu-as 2.40) for v3 and v17.
    #[test]
    fn half_conversions_encode_as_the_assembler_does() {
        assert_eq!(NarrowLow.encode(3, 17), 0x0e21_6a23, "fcvtn v3.4h, v17.4s");
        assert_eq!(NarrowHigh.encode(3, 17), 0x4e21_6a23, "fcvtn2 v3.8h, v17.4s");
        assert_eq!(WidenLow.encode(3, 17), 0x0e21_7a23, "fcvtl v3.4s, v17.4h");
        assert_eq!(WidenHigh.encode(3, 17), 0x4e21_7a23, "fcvtl2 v3.4s, v17.8h");
    }
}
