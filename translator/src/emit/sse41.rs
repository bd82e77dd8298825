//! SSE4.1 (legacy encodings) in generated code: blends, the new packed
//! integer min/max/multiply/compare/pack forms, sign and zero extensions,
//! lane inserts and extracts, ptest and rounding. Each is a handful of NEON
//! instructions. The rare multi-step forms (dpps, dppd, mpsadbw,
//! phminposuw) run in the interpreter (`crate::interp::sse41_interp`).
//!
//! Memory operands are not alignment-checked, as in `sse`.

use super::sse::{xmm, FloatElements};
use super::{a64, regs, EmitResult, Emitter, Flow, Polarity, Reg, Unsupported, NZCV};
use crate::frontend::flags::FlagSet;
use super::aarch64::{ElementSize, Inst, VReg};
use super::vector::{pinned, vector_number, Lanes};
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::{EncodingKind, Instruction, OpKind};

/// blendps/blendpd/pblendw: lanes whose imm8 bit is set come from the source.
/// `element`: the blended elements' size (imm8 is operand data).
pub(super) fn blend_imm(e: &mut Emitter, insn: &Instruction, l: Lanes, element: ElementSize) -> Result<(), Unsupported> {
    let Lanes { rm: m, upper, .. } = l;
    let lanes = match element {
        ElementSize::S => 4,
        ElementSize::D => 2,
        ElementSize::H => 8,
        ElementSize::B => return Err(Unsupported),
    };
    // vblendps/vblendpd/vpblendd ymm take one bit per lane of the whole
    // register; vpblendw ymm repeats its eight bits in each half.
    let imm = if upper && element != ElementSize::H { insn.immediate8() >> lanes } else { insn.immediate8() };
    let out = e.merge_start(l);
    for lane in (0..lanes).filter(|i| imm >> i & 1 != 0) {
        match element {
            ElementSize::H => a64!(e.ops; ins V(out).H[lane], V(m).H[lane]),
            ElementSize::S => a64!(e.ops; ins V(out).S[lane], V(m).S[lane]),
            _ => a64!(e.ops; ins V(out).D[lane], V(m).D[lane]),
        }
    }
    e.merge_end(l, out);
    Ok(())
}

/// blendvps/blendvpd/pblendvb and their VEX forms: the sign bit of each
/// selector element picks rm's element over rn's. The selector is XMM0
/// for the legacy forms (SDM: the implicit third operand), the is4
/// register for VEX.
pub(super) fn blend_variable(e: &mut Emitter, insn: &Instruction, l: Lanes, element: ElementSize) -> Result<(), Unsupported> {
    let Lanes { rd, rn, rm, upper } = l;
    let selector = if insn.encoding() == EncodingKind::VEX {
        let n = vector_number(insn.op3_register()).ok_or(Unsupported)?;
        if upper {
            let t = e.vtmp();
            e.load_upper(t, n);
            t
        } else {
            pinned(n)
        }
    } else {
        pinned(0)
    };
    let mask = e.vtmp();
    match element {
        ElementSize::B => a64!(e.ops; sshr V(mask).B16, V(selector).B16, 7),
        ElementSize::S => a64!(e.ops; sshr V(mask).S4, V(selector).S4, 31),
        ElementSize::D => a64!(e.ops; sshr V(mask).D2, V(selector).D2, 63),
        ElementSize::H => return Err(Unsupported),
    }
    if rd == rn {
        a64!(e.ops; bit V(rd).B16, V(rm).B16, V(mask).B16);
    } else {
        a64!(e.ops; bsl V(mask).B16, V(rm).B16, V(rn).B16);
        e.inst(Inst::VecMove { rd: VReg(rd), rn: VReg(mask) });
    }
    Ok(())
}

/// What a pmovsx*/pmovzx* form extends (`Form::Extend`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extension {
    /// pmovsx (true) or pmovzx.
    pub signed: bool,
    pub from: ElementSize,
    pub to: ElementSize,
}

/// pmovsx*/pmovzx*: the low elements of the source (a narrow memory
/// operand: 2, 4 or 8 bytes; twice that for VEX.256) extended to wider
/// lanes. VEX.256 extends the source's upper elements into the high half.
pub(super) fn extend(e: &mut Emitter, insn: &Instruction, x: Extension) -> EmitResult {
    let Extension { signed, from, to } = x;
    // Each step doubles the element width.
    let steps = (to as u32).checked_sub(from as u32).filter(|&s| s > 0).ok_or(Unsupported)?;
    let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    let wide = insn.op0_register().is_ymm();
    // Source bytes per destination half.
    let bytes: u8 = 16 >> steps;
    let s = match insn.op1_kind() {
        OpKind::Register => pinned(vector_number(insn.op1_register()).ok_or(Unsupported)?),
        OpKind::Memory => {
            let v = e.vtmp();
            e.vload_operand(v, insn, if wide { 2 * bytes } else { bytes })?;
            v
        }
        _ => return Err(Unsupported),
    };
    let widen = |e: &mut Emitter, out: Reg, mut s: Reg| {
        let mut w = from.bytes();
        for _ in 0..steps {
            match (w, signed) {
                (1, true) => a64!(e.ops; sxtl V(out).H8, V(s).B8),
                (1, false) => a64!(e.ops; uxtl V(out).H8, V(s).B8),
                (2, true) => a64!(e.ops; sxtl V(out).S4, V(s).H4),
                (2, false) => a64!(e.ops; uxtl V(out).S4, V(s).H4),
                (_, true) => a64!(e.ops; sxtl V(out).D2, V(s).S2),
                (_, false) => a64!(e.ops; uxtl V(out).D2, V(s).S2),
            }
            s = out;
            w *= 2;
        }
    };
    if wide {
        // The high half first: the destination may be the source.
        let high = e.vtmp();
        a64!(e.ops; ext V(high).B16, V(s).B16, V(s).B16, bytes as u32);
        widen(e, high, high);
        widen(e, pinned(d), s);
        e.store_upper(high, d);
    } else {
        widen(e, pinned(d), s);
    }
    Ok(Flow::Next)
}

/// pextrb/pextrw/pextrd/pextrq/extractps: the `element`-sized element imm8
/// names, to a general register (zero-extended) or to memory (the
/// element's size).
pub(super) fn extract(e: &mut Emitter, insn: &Instruction, element: ElementSize) -> EmitResult {
    let s = xmm(insn.op1_register()).ok_or(Unsupported)?;
    let imm = insn.immediate8() as u32;
    let dst = e.loc(insn, 0)?;
    let t = e.tmp();
    match element {
        ElementSize::B => a64!(e.ops; umov W(t), V(s).B[imm & 15]),
        ElementSize::H => a64!(e.ops; umov W(t), V(s).H[imm & 7]),
        ElementSize::S => a64!(e.ops; umov W(t), V(s).S[imm & 3]),
        ElementSize::D => a64!(e.ops; umov X(t), V(s).D[imm & 1]),
    }
    e.write(dst, t);
    Ok(Flow::Next)
}

/// pinsrb/pinsrw/pinsrd/pinsrq: one `element`-sized element from a
/// general register or memory (the operand before the immediate; VEX's
/// `vpinsrd xmm1, xmm2, r/m, imm` takes the other elements from xmm2,
/// `vex_convert`).
pub(super) fn insert(e: &mut Emitter, insn: &Instruction, element: ElementSize) -> EmitResult {
    let d = e.xmm_dst(insn)?;
    let imm = insn.immediate8() as u32;
    let src = e.loc(insn, insn.op_count() - 2)?;
    let v = e.read(src);
    e.copy_first_source(insn, d)?;
    match element {
        ElementSize::B => a64!(e.ops; ins V(d).B[imm & 15], W(v)),
        ElementSize::H => a64!(e.ops; ins V(d).H[imm & 7], W(v)),
        ElementSize::S => a64!(e.ops; ins V(d).S[imm & 3], W(v)),
        ElementSize::D => a64!(e.ops; ins V(d).D[imm & 1], X(v)),
    }
    Ok(Flow::Next)
}

/// insertps: source dword (imm[7:6], always 0 from memory) into lane
/// imm[5:4], then lanes set in imm[3:0] cleared.
pub(super) fn insertps(e: &mut Emitter, insn: &Instruction, l: Lanes) -> Result<(), Unsupported> {
    let imm = insn.immediate8() as u32;
    let from = if insn.op_kind(insn.op_count() - 2) == OpKind::Memory { 0 } else { imm >> 6 & 3 };
    let out = e.merge_start(l);
    a64!(e.ops; ins V(out).S[imm >> 4 & 3], V(l.rm).S[from]);
    if imm & 15 != 0 {
        let zero = e.tmp();
        e.mov_imm(zero, 0);
        for lane in (0..4).filter(|i| imm >> i & 1 != 0) {
            a64!(e.ops; ins V(out).S[lane], W(zero));
        }
    }
    e.merge_end(l, out);
    Ok(())
}

/// movntdqa: an ordinary 16-byte load (the hint is about write-combining memory).
pub(super) fn movntdqa(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    e.vload_operand(e.xmm_dst(insn)?, insn, 16)?;
    Ok(Flow::Next)
}

/// ptest, vptest and vtestps/vtestpd (xmm or ymm): ZF when `a AND b` is
/// zero, CF when `b AND NOT a` is zero (a: the first operand, b: the
/// second); vtestps/pd look at the sign bits of `signs`-sized elements
/// only. AF, OF, PF and SF are cleared.
pub(super) fn ptest(e: &mut Emitter, insn: &Instruction, signs: Option<ElementSize>) -> EmitResult {
    let halves = test_operands(e, insn)?;
    let needed = e.needed;
    let sf_of = needed.has(FlagSet::SF) || needed.has(FlagSet::OF);
    if needed.has(FlagSet::ZF) && !needed.has(FlagSet::CF) && !sf_of {
        // The common `ptest; jz/jnz`: Z from a `tst` (its N, C, V are dead).
        let z = test_reduce(e, &halves, signs, false);
        a64!(e.ops; tst X(z), X(z));
        e.polarity = Polarity::Carry;
    } else if needed.has(FlagSet::CF) && !needed.has(FlagSet::ZF) && !sf_of {
        // `ptest; jc/jnc`: c >= 1 leaves host C = !CF (borrow polarity).
        let c = test_reduce(e, &halves, signs, true);
        a64!(e.ops; cmp XSP(c), 1);
        e.polarity = Polarity::Borrow;
    } else if e.needs_nzcv() {
        let z = test_reduce(e, &halves, signs, false);
        let c = test_reduce(e, &halves, signs, true);
        a64!(e.ops
            // Host C holds !CF (borrow polarity): set when the AND-NOT is non-zero.
            ; cmp XSP(c), 0
            ; cset X(c), ne
            ; cmp XSP(z), 0
            ; cset X(z), eq
            ; lsl X(z), X(z), 30
            ; orr X(z), X(z), X(c), lsl 29
            ; msr NZCV, X(z)
        );
        e.polarity = Polarity::Borrow;
    }
    if e.needed.has(FlagSet::PF) || e.needed.has(FlagSet::AF) {
        // Low byte 1: odd parity, PF = 0.
        e.mov_imm(regs::PF_SRC, 1);
    }
    e.af_zero();
    Ok(Flow::Next)
}

/// The (a, b) register pairs of a test: one, or one per half of VEX.256.
fn test_operands(e: &mut Emitter, insn: &Instruction) -> Result<Vec<(Reg, Reg)>, Unsupported> {
    let a = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    let wide = insn.op0_register().is_ymm();
    let (b_low, b_high) = match insn.op1_kind() {
        OpKind::Register => {
            let b = vector_number(insn.op1_register()).ok_or(Unsupported)?;
            let high = wide.then(|| {
                let t = e.vtmp();
                e.load_upper(t, b);
                t
            });
            (pinned(b), high)
        }
        OpKind::Memory => {
            let low = e.vtmp();
            if wide {
                let high = e.vtmp();
                e.load_pair_operand(low, high, insn)?;
                (low, Some(high))
            } else {
                e.vload_operand(low, insn, 16)?;
                (low, None)
            }
        }
        _ => return Err(Unsupported),
    };
    let mut halves = vec![(pinned(a), b_low)];
    if let Some(b_high) = b_high {
        let a_high = e.vtmp();
        e.load_upper(a_high, a);
        halves.push((a_high, b_high));
    }
    Ok(halves)
}

/// A general register that is zero exactly when `a AND b` (or with
/// `and_not`, `b AND NOT a`) is zero over every half, in the sign bits
/// of `signs`-sized elements if given.
fn test_reduce(e: &mut Emitter, halves: &[(Reg, Reg)], signs: Option<ElementSize>, and_not: bool) -> Reg {
    let (t, u) = (e.vtmp(), e.vtmp());
    for (i, &(a, b)) in halves.iter().enumerate() {
        let out = if i == 0 { t } else { u };
        if and_not {
            a64!(e.ops; bic V(out).B16, V(b).B16, V(a).B16);
        } else {
            a64!(e.ops; and V(out).B16, V(a).B16, V(b).B16);
        }
        if i > 0 {
            a64!(e.ops; orr V(t).B16, V(t).B16, V(u).B16);
        }
    }
    match signs {
        Some(ElementSize::S) => a64!(e.ops; ushr V(t).S4, V(t).S4, 31),
        Some(_) => a64!(e.ops; ushr V(t).D2, V(t).D2, 63),
        None => {}
    }
    let (r, hi) = (e.tmp(), e.tmp());
    a64!(e.ops
        ; fmov X(r), D(t)
        ; mov X(hi), V(t).D[1]
        ; orr X(r), X(r), X(hi)
    );
    r
}

/// roundps/roundpd/roundss/roundsd. imm8 bit 2 selects MXCSR.RC, which
/// the host FPCR holds (`frinti`); otherwise bits 1:0 give the mode. Bit 3
/// only suppresses the precision exception, which Transit does not model.
/// A NaN comes back quieted, as aarch64's `frint*` returns it.
pub(super) fn round(e: &mut Emitter, insn: &Instruction, l: Lanes, shape: FloatElements) -> Result<(), Unsupported> {
    let Lanes { rd, rn: d, rm: s, .. } = l;
    let FloatElements { double, scalar } = shape;
    let imm = insn.immediate8();
    let mode = if imm & 4 != 0 { 4 } else { imm & 3 };
    // Scalar forms keep the first source's upper lanes: round into a scratch.
    let r = if scalar { e.vtmp() } else { rd };
    macro_rules! frint {
        ($ins:ident) => {
            match (double, scalar) {
                (false, false) => a64!(e.ops; $ins V(r).S4, V(s).S4),
                (true, false) => a64!(e.ops; $ins V(r).D2, V(s).D2),
                (false, true) => a64!(e.ops; $ins S(r), S(s)),
                (true, true) => a64!(e.ops; $ins D(r), D(s)),
            }
        };
    }
    match mode {
        0 => frint!(frintn),
        1 => frint!(frintm),
        2 => frint!(frintp),
        3 => frint!(frintz),
        _ => frint!(frinti),
    }
    if scalar && rd != d {
        e.inst(Inst::VecMove { rd: VReg(rd), rn: VReg(d) });
    }
    match (double, scalar) {
        (false, true) => a64!(e.ops; ins V(rd).S[0], V(r).S[0]),
        (true, true) => a64!(e.ops; ins V(rd).D[0], V(r).D[0]),
        _ => {}
    }
    Ok(())
}

