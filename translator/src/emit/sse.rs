//! The SSE/SSE2 subset that compilers and glibc's baseline string and math
//! code use. Guest XMMn lives in host v(16+n); memory operands are loaded
//! (`vector_memory`) into scratch vector registers v0..v15, or straight
//! into the destination by the moves.
//!
//! Scalar arithmetic keeps the destination's upper lanes (x86) although the
//! host's scalar instructions clear them, so results are inserted with `ins`.
//! A NaN the operation creates itself gets x86's sign (the "QNaN
//! floating-point indefinite" is negative; the host's default NaN is not).

use super::operand::Loc;
use super::{a64, regs, EmitResult, Emitter, Flow, Polarity, Reg, Unsupported, NZCV};
use super::aarch64::{Arrangement, ElementSize, Inst, VReg, VecOp};
use super::vector::Lanes;
use crate::frontend::flags::FlagSet;
use crate::cpu::state::offsets;
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::{Instruction, OpKind, Register};

/// Host vector register for guest XMM register `reg`.
pub(super) fn xmm(reg: Register) -> Option<Reg> {
    reg.is_xmm().then(|| regs::XMM_BASE + reg.number() as Reg)
}

impl Emitter {
    /// A vector register holding operand `op`: the pinned register, or a
    /// scratch one loaded with `bytes` bytes (16, 8 or 4) from memory.
    pub(super) fn vsrc(&mut self, insn: &Instruction, op: u32, bytes: u8) -> Result<Reg, Unsupported> {
        match insn.op_kind(op) {
            OpKind::Register => xmm(insn.op_register(op)).ok_or(Unsupported),
            OpKind::Memory => {
                let v = self.vtmp();
                self.vload_operand(v, insn, bytes)?;
                Ok(v)
            }
            _ => Err(Unsupported),
        }
    }

    pub(super) fn xmm_dst(&self, insn: &Instruction) -> Result<Reg, Unsupported> {
        if insn.op0_kind() != OpKind::Register {
            return Err(Unsupported);
        }
        xmm(insn.op0_register()).ok_or(Unsupported)
    }
}

/// How an x86 packed operation `dst = dst op src` (VEX: `dst = src1 op
/// src2`) maps onto a host lane operation. The one definition of each:
/// SSE and VEX.128 use it on 128-bit registers, MMX on 64 bits, VEX.256 on
/// each 128-bit half (every operation here works within 128-bit lanes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PackedOp {
    pub op: VecOp,
    pub element: ElementSize,
    /// The host's first operand is x86's second (pandn: !dst & src is
    /// `bic src, dst`).
    pub swapped: bool,
}

impl PackedOp {
    pub const fn new(op: VecOp, element: ElementSize) -> PackedOp {
        PackedOp { op, element, swapped: false }
    }

    /// An operation whose host operands are x86's swapped.
    pub const fn swapped(op: VecOp, element: ElementSize) -> PackedOp {
        PackedOp { op, element, swapped: true }
    }

    /// Floating point: NaN results need x86's rules (`x86_nan_rules`).
    fn is_float(self) -> bool {
        matches!(self.op, VecOp::FAdd | VecOp::FSub | VecOp::FMul | VecOp::FDiv)
    }
}

/// A packed row as a lane operation (`vector::Lane::Packed`).
pub(super) fn packed(e: &mut Emitter, row: PackedOp, l: Lanes) -> Result<(), Unsupported> {
    e.packed(row, Arrangement::full(row.element), l.rd, l.rn, l.rm);
    Ok(())
}

impl Emitter {
    /// `rd = rn op rm` for one packed-operation row on `arrangement`.
    pub(super) fn packed(&mut self, row: PackedOp, arrangement: Arrangement, rd: Reg, rn: Reg, rm: Reg) {
        let (rn, rm) = if row.swapped { (rm, rn) } else { (rn, rm) };
        if !row.is_float() {
            self.inst(Inst::Vec3 { op: row.op, arrangement, rd: VReg(rd), rn: VReg(rn), rm: VReg(rm) });
            return;
        }
        // The NaN fix-up needs both inputs: through a scratch register
        // when rd is one of them (legacy SSE's rd is always rn).
        let r = if self.host.afp || (rd != rn && rd != rm) { rd } else { self.vtmp() };
        self.inst(Inst::Vec3 { op: row.op, arrangement, rd: VReg(r), rn: VReg(rn), rm: VReg(rm) });
        x86_nan_rules_unless_afp(self, r, rn, rm, row.element == ElementSize::D, true);
        if r != rd {
            self.inst(Inst::VecMove { rd: VReg(rd), rn: VReg(r) });
        }
    }
}

/// Makes NaN results follow x86 rather than aarch64 rules: a NaN operand
/// is returned quieted, the first operand's if both are NaN (aarch64 prefers
/// a signalling NaN wherever it is), and a NaN the operation creates is the
/// negative "QNaN floating-point indefinite" (aarch64's default NaN is
/// positive). NaN results are rare: the hot path is a test and a branch
/// not taken to the fix-up, out of line (`cold`).
pub(super) fn x86_nan_rules(e: &mut Emitter, r: Reg, a: Reg, b: Reg, double: bool, packed: bool) {
    x86_nan_rules_of(e, r, &[a, b], double, packed);
}

/// `x86_nan_rules` after a host operation `r = a op b` whose NaN rules
/// FPCR.AH makes x86's (add, sub, mul, div, sqrt; not min/max, not one
/// whose input was negated bitwise first): nothing on hosts with FEAT_AFP.
pub(super) fn x86_nan_rules_unless_afp(e: &mut Emitter, r: Reg, a: Reg, b: Reg, double: bool, packed: bool) {
    if !e.host.afp {
        x86_nan_rules(e, r, a, b, double, packed);
    }
}

/// `x86_nan_rules` for any number of inputs (up to three), in x86's
/// priority order (the first NaN among them is the result, quieted).
pub(super) fn x86_nan_rules_of(e: &mut Emitter, r: Reg, inputs: &[Reg], double: bool, packed: bool) {
    // The fix-up's registers are taken here: they stay the instruction's
    // until its end, wherever the fix-up's code lies.
    let temps = NanTemps { ok_r: e.vtmp(), ok: e.vtmp(), quiet: e.vtmp(), dflt: e.vtmp(), t: e.tmp() };
    let mut order = [r; 3];
    order[..inputs.len()].copy_from_slice(inputs);
    let count = inputs.len();
    let fix_up = move |e: &mut Emitter| nan_fix_up(e, r, &order[..count], double, packed, temps);
    let NanTemps { ok_r, ok, t, .. } = temps;
    if !crate::tuning::tuning().out_of_line_nans {
        let done = e.label();
        nan_test_keeping_flags(e, r, double, packed, ok_r, ok, t, |e| a64!(e.ops; cbnz X(t), =>done));
        fix_up(e);
        e.bind(done);
        return;
    }
    // Host NZCV holds the guest's SF, ZF, CF and OF between instructions:
    // a compare may replace them only where none is live (this
    // instruction writes no flag, so what is live after it is live before).
    let nzcv_free = !e.live_after.has(FlagSet::NZCV);
    // FPCR.AH (FEAT_AFP hosts) makes fmaxp/fmaxv return a number when a
    // lane is NaN: packed results are tested lane by lane there.
    let compare_free = nzcv_free && !(packed && e.host.afp);
    e.cold(
        |e, nan| match (compare_free, double, packed) {
            (false, ..) => nan_test_keeping_flags(e, r, double, packed, ok_r, ok, t, |e| a64!(e.ops; cbz X(t), =>nan)),
            (true, true, false) => a64!(e.ops; fcmp D(r), D(r) ; b.vs =>nan),
            (true, false, false) => a64!(e.ops; fcmp S(r), S(r) ; b.vs =>nan),
            // fmaxp/fmaxv return a NaN if any lane is one. r holds no
            // signalling NaN (the host quiets them), so neither the
            // reduction nor the quiet compare raises a flag in FPSR.
            (true, true, true) => a64!(e.ops; fmaxp D(ok), V(r).D2 ; fcmp D(ok), D(ok) ; b.vs =>nan),
            (true, false, true) => a64!(e.ops; fmaxv S(ok), V(r).S4 ; fcmp S(ok), S(ok) ; b.vs =>nan),
        },
        fix_up,
    );
}

/// The registers of the NaN fix-up.
#[derive(Clone, Copy)]
pub(super) struct NanTemps {
    pub(super) ok_r: Reg,
    pub(super) ok: Reg,
    pub(super) quiet: Reg,
    pub(super) dflt: Reg,
    pub(super) t: Reg,
}

/// Leaves in `t` a non-zero value when lane 0 of `r` (every lane if
/// `packed`) is a number, without touching NZCV, then emits `branch`.
#[allow(clippy::too_many_arguments)]
fn nan_test_keeping_flags(e: &mut Emitter, r: Reg, double: bool, packed: bool, ok_r: Reg, ok: Reg, t: Reg, branch: impl FnOnce(&mut Emitter)) {
    match (double, packed) {
        (true, false) => a64!(e.ops; fcmeq D(ok_r), D(r), D(r) ; fmov X(t), D(ok_r)),
        // fmov to a W register clears the top half of X.
        (false, false) => a64!(e.ops; fcmeq S(ok_r), S(r), S(r) ; fmov W(t), S(ok_r)),
        (true, true) => a64!(e.ops; fcmeq V(ok_r).D2, V(r).D2, V(r).D2 ; uminv S(ok), V(ok_r).S4 ; fmov W(t), S(ok)),
        (false, true) => a64!(e.ops; fcmeq V(ok_r).S4, V(r).S4, V(r).S4 ; uminv S(ok), V(ok_r).S4 ; fmov W(t), S(ok)),
    }
    branch(e);
}

/// The rare path, lane-wise: dflt starts as the indefinite, and each
/// input from the last to the first replaces it with its quieted self
/// where it is a NaN; then r's NaN lanes take dflt. A scalar result uses
/// lane 0 only, and only lane 0 is compared: a signalling NaN in an
/// input's other lanes must not raise the invalid flag. Leaves NZCV alone.
pub(super) fn nan_fix_up(e: &mut Emitter, r: Reg, inputs: &[Reg], double: bool, packed: bool, temps: NanTemps) {
    let NanTemps { ok_r, ok, quiet, dflt, t } = temps;
    let (quiet_bit, indefinite) = if double { (0x0008_0000_0000_0000, 0xfff8_0000_0000_0000) } else { (0x0040_0000, 0xffc0_0000) };
    // ok = x is a number, lane by lane (lane 0 alone for a scalar).
    let is_number = |e: &mut Emitter, ok: Reg, x: Reg| match (double, packed) {
        (true, true) => a64!(e.ops; fcmeq V(ok).D2, V(x).D2, V(x).D2),
        (false, true) => a64!(e.ops; fcmeq V(ok).S4, V(x).S4, V(x).S4),
        (true, false) => a64!(e.ops; fcmeq D(ok), D(x), D(x)),
        (false, false) => a64!(e.ops; fcmeq S(ok), S(x), S(x)),
    };
    e.mov_imm(t, indefinite);
    is_number(e, ok_r, r);
    if double {
        a64!(e.ops; dup V(dflt).D2, X(t));
    } else {
        a64!(e.ops; dup V(dflt).S4, W(t));
    }
    for &x in inputs.iter().rev() {
        e.mov_imm(t, quiet_bit);
        is_number(e, ok, x);
        if double {
            a64!(e.ops; dup V(quiet).D2, X(t));
        } else {
            a64!(e.ops; dup V(quiet).S4, W(t));
        }
        // dflt = x is a number ? dflt : quiet(x)
        a64!(e.ops
            ; orr V(quiet).B16, V(x).B16, V(quiet).B16
            ; bif V(dflt).B16, V(quiet).B16, V(ok).B16
        );
    }
    // r = r is a number ? r : dflt
    a64!(e.ops; bif V(r).B16, V(dflt).B16, V(ok_r).B16);
}

/// Whole-register moves: movdqa, movdqu, movaps, movups, movapd, movupd and
/// the non-temporal stores (ordinary stores here).
pub(super) fn mov128(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    match (insn.op0_kind(), insn.op1_kind()) {
        (OpKind::Register, OpKind::Memory) if e.fp_chain_open() && super::fp_chain::load_of(insn).is_some() && e.chain_load(insn, 16)? => {}
        // Straight into the destination: a faulting load writes nothing.
        (OpKind::Register, OpKind::Memory) => e.vload_operand(e.xmm_dst(insn)?, insn, 16)?,
        (OpKind::Register, OpKind::Register) if e.fp_chain_open() && super::fp_chain::is_copy(insn) => e.chain_copy(insn),
        (OpKind::Register, _) => {
            let d = e.xmm_dst(insn)?;
            let s = e.vsrc(insn, 1, 16)?;
            if s != d {
                a64!(e.ops; mov V(d).B16, V(s).B16);
            }
        }
        (OpKind::Memory, OpKind::Register) if e.fp_chain_open() && super::fp_chain::store_of(insn).is_some() && e.chain_store(insn, 16)? => {}
        (OpKind::Memory, OpKind::Register) => {
            let s = xmm(insn.op1_register()).ok_or(Unsupported)?;
            e.vstore_operand(s, insn, 16)?;
        }
        _ => return Err(Unsupported),
    }
    Ok(Flow::Next)
}

/// movd/movq between XMM and general registers or memory, and movq xmm,
/// xmm: `bytes` is 4 (movd) or 8 (movq).
pub(super) fn movd_movq(e: &mut Emitter, insn: &Instruction, bytes: u8) -> EmitResult {
    let to_xmm = insn.op0_kind() == OpKind::Register && insn.op0_register().is_xmm();
    if to_xmm {
        let d = e.xmm_dst(insn)?;
        match insn.op1_kind() {
            OpKind::Register if insn.op1_register().is_xmm() => {
                let s = xmm(insn.op1_register()).ok_or(Unsupported)?;
                // Scalar moves clear the upper lanes, as movq does.
                a64!(e.ops; mov D(d), V(s).D[0]);
            }
            OpKind::Register => {
                let loc = e.loc(insn, 1)?;
                let r = e.read(loc);
                if bytes == 8 {
                    a64!(e.ops; fmov D(d), X(r));
                } else {
                    a64!(e.ops; fmov S(d), W(r));
                }
            }
            _ => e.vload_operand(d, insn, bytes)?,
        }
    } else {
        let s = xmm(insn.op1_register()).ok_or(Unsupported)?;
        if insn.op0_kind() == OpKind::Memory {
            e.vstore_operand(s, insn, bytes)?;
        } else {
            let dst = e.loc(insn, 0)?;
            let t = e.tmp();
            if bytes == 8 {
                a64!(e.ops; fmov X(t), D(s));
            } else {
                a64!(e.ops; fmov W(t), S(s));
            }
            e.write(dst, t);
        }
    }
    Ok(Flow::Next)
}

/// movss/movsd (scalar), double (true) or single: loads clear the upper
/// lanes, register moves merge.
pub(super) fn mov_scalar(e: &mut Emitter, insn: &Instruction, double: bool) -> EmitResult {
    let bytes: u8 = if double { 8 } else { 4 };
    match (insn.op0_kind(), insn.op1_kind()) {
        (OpKind::Register, OpKind::Memory) if e.fp_chain_open() && super::fp_chain::load_of(insn).is_some() && e.chain_load(insn, bytes)? => {}
        // A load clears the other elements (the host's scalar load does).
        (OpKind::Register, OpKind::Memory) => e.vload_operand(e.xmm_dst(insn)?, insn, bytes)?,
        (OpKind::Memory, OpKind::Register) if e.fp_chain_open() && super::fp_chain::store_of(insn).is_some() && e.chain_store(insn, bytes)? => {}
        (OpKind::Memory, OpKind::Register) => e.vstore_operand(xmm(insn.op1_register()).ok_or(Unsupported)?, insn, bytes)?,
        _ => return Err(Unsupported),
    }
    Ok(Flow::Next)
}

/// movss/movsd between registers: rn with its low element (a double, or a
/// single) from rm.
pub(super) fn mov_scalar_to_register(e: &mut Emitter, l: Lanes, double: bool) -> Result<(), Unsupported> {
    let out = e.merge_start(l);
    if double {
        a64!(e.ops; ins V(out).D[0], V(l.rm).D[0]);
    } else {
        a64!(e.ops; ins V(out).S[0], V(l.rm).S[0]);
    }
    e.merge_end(l, out);
    Ok(())
}

/// A 64-bit half of an XMM register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Half {
    Low,
    High,
}

impl Half {
    /// The half's D element.
    fn lane(self) -> u32 {
        (self == Half::High) as u32
    }
}

/// movlps/movlpd/movhps/movhpd stores: `half` of the register to memory.
pub(super) fn mov_half(e: &mut Emitter, insn: &Instruction, half: Half) -> EmitResult {
    let (OpKind::Memory, OpKind::Register) = (insn.op0_kind(), insn.op1_kind()) else { return Err(Unsupported) };
    let s = xmm(insn.op1_register()).ok_or(Unsupported)?;
    if half == Half::Low {
        // The low half is the register's D view.
        e.vstore_operand(s, insn, 8)?;
        return Ok(Flow::Next);
    }
    let t = e.vtmp();
    a64!(e.ops; mov D(t), V(s).D[1]);
    e.vstore_operand(t, insn, 8)?;
    Ok(Flow::Next)
}

/// movlps/movhps/movlpd/movhpd loads, movhlps, movlhps: rn with its half
/// `to` replaced by rm's half `from`.
pub(super) fn mov_half_to_register(e: &mut Emitter, l: Lanes, to: Half, from: Half) -> Result<(), Unsupported> {
    let out = e.merge_start(l);
    a64!(e.ops; ins V(out).D[to.lane()], V(l.rm).D[from.lane()]);
    e.merge_end(l, out);
    Ok(())
}

/// Whose sign bits a mask form gathers (`Form::SignMask`, `SignMask256`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignBits {
    /// pmovmskb.
    Bytes,
    /// movmskps.
    Singles,
    /// movmskpd.
    Doubles,
}

/// pmovmskb r32, xmm: the top bit of each byte, as a 16-bit mask.
pub(super) fn pmovmskb(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let s = xmm(insn.op1_register()).ok_or(Unsupported)?;
    let signs_only = e.sign_bytes_of(insn.op1_register().number()).is_some();
    let dst = e.loc(insn, 0)?;
    e.byte_sign_mask_into(dst, s, None, signs_only);
    Ok(Flow::Next)
}

impl Emitter {
    /// pmovmskb/vpmovmskb: the sign bits of 16 or 32 bytes (`low`, then
    /// `high` above it) into `dst`, a 32- or 64-bit register: each byte's
    /// sign selects its weight 1..128 (`SignMaskWeights`), and three
    /// pairwise additions leave the sum of each run of eight bytes, which
    /// is one byte of the mask. `signs_only`: each byte is all ones or
    /// zero (a byte compare's result), so needs no sign test.
    pub(super) fn byte_sign_mask_into(&mut self, dst: Loc, low: Reg, high: Option<Reg>, signs_only: bool) {
        let (weights, bits) = (self.vtmp(), self.vtmp());
        // umov to a W register zero-extends, as x86 does.
        let w = match dst {
            Loc::Reg { host, size: 4 | 8, high8: false } => host,
            _ => self.tmp(),
        };
        a64!(self.ops; ldr Q(weights), [X(regs::STATE), offsets::BYTE_SIGN_WEIGHTS]);
        let signs = |e: &mut Emitter, into: Reg, v: Reg| {
            if signs_only {
                a64!(e.ops; and V(into).B16, V(v).B16, V(weights).B16);
            } else {
                a64!(e.ops; cmlt V(into).B16, V(v).B16, 0 ; and V(into).B16, V(into).B16, V(weights).B16);
            }
        };
        signs(self, bits, low);
        if let Some(high) = high {
            let hi = self.vtmp();
            signs(self, hi, high);
            a64!(self.ops; addp V(bits).B16, V(bits).B16, V(hi).B16);
        } else {
            a64!(self.ops; addp V(bits).B16, V(bits).B16, V(bits).B16);
        }
        a64!(self.ops
            ; addp V(bits).B16, V(bits).B16, V(bits).B16
            ; addp V(bits).B16, V(bits).B16, V(bits).B16
        );
        if high.is_some() {
            a64!(self.ops; umov W(w), V(bits).S[0]);
        } else {
            a64!(self.ops; umov W(w), V(bits).H[0]);
        }
        if !matches!(dst, Loc::Reg { host, .. } if host == w) {
            self.write(dst, w);
        }
    }

    /// A general register holding the sign bits of `v`'s doubles (2 bits)
    /// or singles (4 bits): movmskpd, movmskps.
    pub(super) fn element_sign_mask(&mut self, v: Reg, double: bool) -> Reg {
        let r = self.tmp();
        if double {
            let t = self.tmp();
            a64!(self.ops
                ; umov X(r), V(v).D[0]
                ; lsr X(r), X(r), 63
                ; umov X(t), V(v).D[1]
                ; lsr X(t), X(t), 63
                ; orr X(r), X(r), X(t), lsl 1
            );
        } else {
            let (weights, bits) = (self.vtmp(), self.vtmp());
            a64!(self.ops
                ; ldr Q(weights), [X(regs::STATE), offsets::SINGLE_SIGN_WEIGHTS]
                ; cmlt V(bits).S4, V(v).S4, 0
                ; and V(bits).B16, V(bits).B16, V(weights).B16
                ; addv S(bits), V(bits).S4
                ; umov W(r), V(bits).S[0]
            );
        }
        r
    }
}

/// movmskps / movmskpd: sign bits of the float lanes, doubles (true) or
/// singles.
pub(super) fn movmsk(e: &mut Emitter, insn: &Instruction, double: bool) -> EmitResult {
    let s = xmm(insn.op1_register()).ok_or(Unsupported)?;
    let dst = e.loc(insn, 0)?;
    let r = e.element_sign_mask(s, double);
    e.write(dst, r);
    Ok(Flow::Next)
}

/// Which way an element shift moves bits (`Lane::Shift`,
/// `Lane::VariableShift`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftKind {
    /// psll*, vpsllv*.
    Left,
    /// psrl*, vpsrlv*: zeros in.
    Right,
    /// psra*, vpsrav*: copies of the sign in.
    RightArithmetic,
}

/// pslldq (`left`) and psrldq: the whole register by imm8 bytes.
pub(super) fn shift_bytes(e: &mut Emitter, insn: &Instruction, l: Lanes, left: bool) -> Result<(), Unsupported> {
    let Lanes { rd: d, rn: n_reg, .. } = l;
    let n = insn.immediate8() as u32;
    if n >= 16 {
        a64!(e.ops; movi V(d).D2, 0);
    } else if n == 0 {
        if d != n_reg {
            e.inst(Inst::VecMove { rd: VReg(d), rn: VReg(n_reg) });
        }
    } else {
        let z = e.vtmp();
        a64!(e.ops; movi V(z).D2, 0);
        if left {
            a64!(e.ops; ext V(d).B16, V(z).B16, V(n_reg).B16, 16 - n);
        } else {
            a64!(e.ops; ext V(d).B16, V(n_reg).B16, V(z).B16, n);
        }
    }
    Ok(())
}

/// psllw/d/q, psrlw/d/q, psraw/d by an immediate: counts of the element's
/// width or more give zero (or the sign, for psra).
pub(super) fn shift_imm(e: &mut Emitter, insn: &Instruction, l: Lanes, kind: ShiftKind, element: ElementSize) -> Result<(), Unsupported> {
    use ElementSize::{D, H, S};
    use ShiftKind::*;
    let Lanes { rd: d, rn: n_reg, .. } = l;
    let n = insn.immediate8() as u32;
    if n >= 8 * element.bytes() && kind != RightArithmetic {
        a64!(e.ops; movi V(d).D2, 0);
        return Ok(());
    }
    if n == 0 {
        if d != n_reg {
            e.inst(Inst::VecMove { rd: VReg(d), rn: VReg(n_reg) });
        }
        return Ok(());
    }
    match (kind, element) {
        (Left, H) => a64!(e.ops; shl V(d).H8, V(n_reg).H8, n),
        (Left, S) => a64!(e.ops; shl V(d).S4, V(n_reg).S4, n),
        (Left, D) => a64!(e.ops; shl V(d).D2, V(n_reg).D2, n),
        (Right, H) => a64!(e.ops; ushr V(d).H8, V(n_reg).H8, n),
        (Right, S) => a64!(e.ops; ushr V(d).S4, V(n_reg).S4, n),
        (Right, D) => a64!(e.ops; ushr V(d).D2, V(n_reg).D2, n),
        (RightArithmetic, H) => a64!(e.ops; sshr V(d).H8, V(n_reg).H8, n.min(15)),
        (RightArithmetic, S) => a64!(e.ops; sshr V(d).S4, V(n_reg).S4, n.min(31)),
        _ => return Err(Unsupported),
    }
    Ok(())
}

/// pshufd, pshuflw, pshufhw, shufps, shufpd: lane selection by immediate.
/// What an imm8 shuffle selects (`Lane::Shuffle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shuffle {
    /// pshufd: four dwords of the source.
    Dwords,
    /// pshuflw: the low four words of the source; the high half copied.
    LowWords,
    /// pshufhw: the high four words; the low half copied.
    HighWords,
    /// shufps: two singles of the first source, then two of the second.
    Singles,
    /// shufpd: one double of each source (vshufpd ymm: imm8 bits 2, 3 for
    /// the upper half).
    Doubles,
}

pub(super) fn shuffle(e: &mut Emitter, insn: &Instruction, l: Lanes, kind: Shuffle) -> Result<(), Unsupported> {
    let Lanes { rd, rn: d, rm: s, .. } = l;
    let imm = insn.immediate8() as u32;
    let t = e.vtmp();
    match kind {
        Shuffle::Dwords => {
            for i in 0..4u32 {
                let sel = (imm >> (2 * i)) & 3;
                a64!(e.ops; ins V(t).S[i], V(s).S[sel]);
            }
        }
        Shuffle::LowWords | Shuffle::HighWords => {
            let base = if kind == Shuffle::HighWords { 4 } else { 0 };
            a64!(e.ops; mov V(t).B16, V(s).B16);
            for i in 0..4u32 {
                let sel = base + ((imm >> (2 * i)) & 3);
                a64!(e.ops; ins V(t).H[base + i], V(s).H[sel]);
            }
        }
        Shuffle::Singles => {
            for i in 0..4u32 {
                let sel = (imm >> (2 * i)) & 3;
                let from = if i < 2 { d } else { s };
                a64!(e.ops; ins V(t).S[i], V(from).S[sel]);
            }
        }
        Shuffle::Doubles => {
            // vshufpd ymm: bits 2 and 3 select in the upper half.
            let imm = if l.upper { imm >> 2 } else { imm };
            let (lo, hi) = (imm & 1, (imm >> 1) & 1);
            a64!(e.ops; ins V(t).D[0], V(d).D[lo] ; ins V(t).D[1], V(s).D[hi]);
        }
    }
    a64!(e.ops; mov V(rd).B16, V(t).B16);
    Ok(())
}

/// Scalar double/single arithmetic on the low element (`Lane::Scalar`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarOp {
    Add,
    Sub,
    Mul,
    Div,
    Sqrt,
    Min,
    Max,
}

/// A float element type: double (true) or single.
pub type Double = bool;

/// `r = a op b` on the low element (`r = sqrt(b)`), the host's NaN rules;
/// not min or max.
pub(super) fn scalar_operation(e: &mut Emitter, op: ScalarOp, double: Double, r: Reg, a: Reg, b: Reg) {
    macro_rules! arith {
        ($ins:ident) => {
            if double {
                a64!(e.ops; $ins D(r), D(a), D(b));
            } else {
                a64!(e.ops; $ins S(r), S(a), S(b));
            }
        };
    }
    match op {
        ScalarOp::Add => arith!(fadd),
        ScalarOp::Sub => arith!(fsub),
        ScalarOp::Mul => arith!(fmul),
        ScalarOp::Div => arith!(fdiv),
        ScalarOp::Sqrt if double => a64!(e.ops; fsqrt D(r), D(b)),
        ScalarOp::Sqrt => a64!(e.ops; fsqrt S(r), S(b)),
        ScalarOp::Min | ScalarOp::Max => unreachable!("min and max are compare and select"),
    }
}

pub(super) fn scalar_arith(e: &mut Emitter, l: Lanes, op: ScalarOp, double: Double) -> Result<(), Unsupported> {
    let Lanes { rd, rn: d, rm: b, .. } = l;
    let a = if op == ScalarOp::Sqrt { b } else { d };
    let r = e.vtmp();
    match op {
        ScalarOp::Add | ScalarOp::Sub | ScalarOp::Mul | ScalarOp::Div | ScalarOp::Sqrt => scalar_operation(e, op, double, r, a, b),
        // x86 min/max return the second operand unless the comparison holds
        // (so for NaNs and equal zeros too): a compare mask and a select.
        ScalarOp::Min | ScalarOp::Max => {
            let (x, y) = if op == ScalarOp::Min { (b, a) } else { (a, b) };
            if double {
                a64!(e.ops; fcmgt D(r), D(x), D(y));
            } else {
                a64!(e.ops; fcmgt S(r), S(x), S(y));
            }
            a64!(e.ops; bsl V(r).B8, V(a).B8, V(b).B8);
        }
    }
    if !matches!(op, ScalarOp::Min | ScalarOp::Max) {
        x86_nan_rules_unless_afp(e, r, a, b, double, false);
    }
    // The other lanes come from the first source (VEX's xmm2; sqrtsd's too).
    if rd != d {
        e.inst(Inst::VecMove { rd: VReg(rd), rn: VReg(d) });
    }
    if double {
        a64!(e.ops; ins V(rd).D[0], V(r).D[0]);
    } else {
        a64!(e.ops; ins V(rd).S[0], V(r).S[0]);
    }
    Ok(())
}

/// ucomisd/comisd (`double`), ucomiss/comiss: ZF, PF, CF from an
/// unordered compare; OF, SF, AF cleared.
pub(super) fn compare_scalar(e: &mut Emitter, insn: &Instruction, double: bool) -> EmitResult {
    let chained = if e.fp_chain_open() && super::fp_chain::is_compare(insn) { e.chain_compare_operands(insn, double) } else { None };
    let (a, b) = match chained {
        Some(operands) => operands,
        None => (e.xmm_dst(insn)?, e.vsrc(insn, 1, if double { 8 } else { 4 })?),
    };
    if e.needed.is_empty() {
        return Ok(Flow::Next);
    }
    if double {
        a64!(e.ops; fcmp D(a), D(b));
    } else {
        a64!(e.ops; fcmp S(a), S(b));
    }
    e.polarity = Polarity::Borrow;
    if e.fuse_next {
        // Only the next instruction's condition reads the flags, and the
        // host compare's flags answer it (`cond::after_float_compare`).
        e.fused = Some(super::cond::Fused::FloatCompare);
        return Ok(Flow::Next);
    }
    if !e.needed.has(FlagSet::SF.union(FlagSet::OF)) && crate::tuning::tuning().fccmp_compares {
        // fcmp's Z and C are x86's ZF and CF (borrow form: host C =
        // !CF) except when unordered, where fccmp sets Z=1 C=0 instead.
        // N (SF) is 1 for "less": right only where SF is not needed.
        if e.needed.has(FlagSet::PF) {
            // PF = unordered: an odd-parity source (1) means PF=0.
            a64!(e.ops; cset W(regs::PF_SRC), vc);
        }
        if e.needed.has(FlagSet::AF) {
            // AF = 0: AF's source equal to PF's.
            a64!(e.ops; mov X(regs::AF_SRC), X(regs::PF_SRC));
        }
        if e.needed.has(FlagSet::ZF.union(FlagSet::CF)) {
            if double {
                a64!(e.ops; fccmp D(a), D(b), 0b0100, vc);
            } else {
                a64!(e.ops; fccmp S(a), S(b), 0b0100, vc);
            }
        }
        return Ok(Flow::Next);
    }
    let (unord, zf, cf) = (e.tmp(), e.tmp(), e.tmp());
    a64!(e.ops
        ; cset W(unord), vs
        ; cset W(zf), eq
        ; cset W(cf), mi
        ; orr W(zf), W(zf), W(unord)
        ; orr W(cf), W(cf), W(unord)
        // Borrow polarity: host C = !CF.
        ; eor WSP(cf), W(cf), 1
        ; lsl W(zf), W(zf), 30
        ; orr W(zf), W(zf), W(cf), lsl 29
        ; msr NZCV, X(zf)
        // PF = unordered: an odd-parity source means PF=0.
        ; eor XSP(regs::PF_SRC), X(unord), 1
        // AF = 0: AF's source equal to PF's.
        ; mov X(regs::AF_SRC), X(regs::PF_SRC)
    );
    Ok(Flow::Next)
}

/// cvtsi2sd (`double`)/cvtsi2ss: integer to the low float lane. Also VEX's
/// `vcvtsi2sd xmm1, xmm2, r/m` (`vex_convert`): the integer is the last
/// operand, the other lanes come from xmm2.
pub(super) fn int_to_float(e: &mut Emitter, insn: &Instruction, double: bool) -> EmitResult {
    let d = e.xmm_dst(insn)?;
    let src = e.loc(insn, insn.op_count() - 1)?;
    let v = e.read(src);
    let r = e.vtmp();
    match (double, src.size() == 8) {
        (true, true) => a64!(e.ops; scvtf D(r), X(v)),
        (true, false) => a64!(e.ops; scvtf D(r), W(v)),
        (false, true) => a64!(e.ops; scvtf S(r), X(v)),
        (false, false) => a64!(e.ops; scvtf S(r), W(v)),
    }
    e.copy_first_source(insn, d)?;
    if double {
        a64!(e.ops; ins V(d).D[0], V(r).D[0]);
    } else {
        a64!(e.ops; ins V(d).S[0], V(r).S[0]);
    }
    Ok(Flow::Next)
}

/// cvttsd2si, cvtsd2si (`double`), cvttss2si, cvtss2si (`truncate`: the
/// cvtt forms): NaN and out-of-range give the "integer indefinite" (the
/// minimum value), where the host saturates.
pub(super) fn float_to_int(e: &mut Emitter, insn: &Instruction, double: bool, truncate: bool) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let s = e.vsrc(insn, 1, if double { 8 } else { 4 })?;
    let wide = dst.size() == 8;
    let r = e.tmp();
    // Convert to 64 bits; a 32-bit result must then fit.
    // Non-truncating conversions round in the MXCSR mode, which ldmxcsr
    // keeps in the host FPCR: round to integral in that mode first.
    match (double, truncate) {
        (true, true) => a64!(e.ops; fcvtzs X(r), D(s)),
        (false, true) => a64!(e.ops; fcvtzs X(r), S(s)),
        (true, false) => {
            let i = e.vtmp();
            a64!(e.ops; frinti D(i), D(s) ; fcvtzs X(r), D(i));
        }
        (false, false) => {
            let i = e.vtmp();
            a64!(e.ops; frinti S(i), S(s) ; fcvtzs X(r), S(i));
        }
    }
    let (fix, done) = (e.label(), e.label());
    let t = e.tmp();
    let ok = e.vtmp();
    if double {
        a64!(e.ops; fcmeq D(ok), D(s), D(s) ; fmov X(t), D(ok));
    } else {
        a64!(e.ops; fcmeq S(ok), S(s), S(s) ; fmov W(t), S(ok));
    }
    a64!(e.ops; cbz X(t), =>fix);
    if wide {
        // Saturation to the maximum only happens out of range.
        e.mov_imm(t, i64::MAX as u64);
        a64!(e.ops; eor X(t), X(t), X(r) ; cbz X(t), =>fix);
    } else {
        a64!(e.ops; sxtw X(t), W(r) ; eor X(t), X(t), X(r) ; cbnz X(t), =>fix);
    }
    e.jump(done);
    e.bind(fix);
    e.mov_imm(r, if wide { 1 << 63 } else { 1 << 31 });
    e.bind(done);
    e.write(dst, r);
    Ok(Flow::Next)
}

/// cvtsd2ss / cvtss2sd on the low lane.
pub(super) fn float_to_float(e: &mut Emitter, l: Lanes, to_single: bool) -> Result<(), Unsupported> {
    let r = e.vtmp();
    if to_single {
        a64!(e.ops; fcvt S(r), D(l.rm));
    } else {
        a64!(e.ops; fcvt D(r), S(l.rm));
    }
    let out = e.merge_start(l);
    if to_single {
        a64!(e.ops; ins V(out).S[0], V(r).S[0]);
    } else {
        a64!(e.ops; ins V(out).D[0], V(r).D[0]);
    }
    e.merge_end(l, out);
    Ok(())
}

/// The elements a float compare or approximation writes (`Lane::CompareMask`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FloatElements {
    pub double: Double,
    /// Only the low element (the others from the first source).
    pub scalar: bool,
}

/// cmpsd/cmpss/cmppd/cmpps: all-ones elements where the predicate holds.
/// The predicate is operand data (imm8), read here; its width is the
/// encoding's.
pub(super) fn compare_mask(e: &mut Emitter, insn: &Instruction, l: Lanes, shape: FloatElements) -> Result<(), Unsupported> {
    let Lanes { rd, rn: d, rm: b, .. } = l;
    let FloatElements { double, scalar } = shape;
    // Legacy encodings have eight predicates; VEX has 32, of which bit 4
    // only changes which NaNs signal (exceptions are masked).
    let pred = insn.immediate8() & if insn.encoding() == iced_x86::EncodingKind::VEX { 15 } else { 7 };
    let (r, t) = (e.vtmp(), e.vtmp());
    macro_rules! cmp {
        ($ins:ident, $x:expr, $y:expr, $out:expr) => {
            match (double, scalar) {
                (true, true) => a64!(e.ops; $ins D($out), D($x), D($y)),
                (false, true) => a64!(e.ops; $ins S($out), S($x), S($y)),
                (true, false) => a64!(e.ops; $ins V($out).D2, V($x).D2, V($y).D2),
                (false, false) => a64!(e.ops; $ins V($out).S4, V($x).S4, V($y).S4),
            }
        };
    }
    // r = "ordered": neither operand is a NaN.
    macro_rules! ordered {
        () => {{
            cmp!(fcmeq, d, d, r);
            cmp!(fcmeq, b, b, t);
            a64!(e.ops; and V(r).B16, V(r).B16, V(t).B16);
        }};
    }
    // The predicate and whether the result is its complement (4..7 and
    // 9, 10 are the complements of 0..3 and 13, 14).
    let invert = matches!(pred, 4..=7 | 9 | 10);
    match pred {
        0 | 4 => cmp!(fcmeq, d, b, r),
        1 | 5 => cmp!(fcmgt, b, d, r),
        2 | 6 => cmp!(fcmge, b, d, r),
        3 => {
            ordered!();
            a64!(e.ops; mvn V(r).B16, V(r).B16);
        }
        7 => {
            // ord = !unord, so compute unord and let `invert` flip it.
            ordered!();
            a64!(e.ops; mvn V(r).B16, V(r).B16);
        }
        8 => {
            // Equal or unordered: !(ordered and not equal).
            ordered!();
            cmp!(fcmeq, d, b, t);
            a64!(e.ops; bic V(r).B16, V(r).B16, V(t).B16 ; mvn V(r).B16, V(r).B16);
        }
        9 | 13 => cmp!(fcmge, d, b, r),
        10 | 14 => cmp!(fcmgt, d, b, r),
        11 => a64!(e.ops; movi V(r).D2, 0),
        12 => {
            // Ordered and not equal.
            ordered!();
            cmp!(fcmeq, d, b, t);
            a64!(e.ops; bic V(r).B16, V(r).B16, V(t).B16);
        }
        _ => a64!(e.ops; movi V(r).D2, u64::MAX),
    }
    if invert {
        a64!(e.ops; mvn V(r).B16, V(r).B16);
    }
    if scalar && rd != d {
        e.inst(Inst::VecMove { rd: VReg(rd), rn: VReg(d) });
    }
    match (double, scalar) {
        (true, true) => a64!(e.ops; ins V(rd).D[0], V(r).D[0]),
        (false, true) => a64!(e.ops; ins V(rd).S[0], V(r).S[0]),
        _ => a64!(e.ops; mov V(rd).B16, V(r).B16),
    }
    Ok(())
}


/// Multiplies and horizontal ops that need widening: pmuludq, pmuldq,
/// pmulhw, pmulhuw, pmaddwd, psadbw; and the saturating packs.
/// The integer operations computed through wider elements (`Lane::Widening`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Widening {
    /// pmuludq: the even unsigned dwords' 64-bit products.
    MulEvenUnsignedDwords,
    /// pmulhw: the high words of signed word products.
    MulHighSignedWords,
    /// pmulhuw: unsigned.
    MulHighUnsignedWords,
    /// pmaddwd: signed word products, adjacent pairs summed into dwords.
    MulAddSignedWords,
    /// psadbw: sums of absolute byte differences per quadword.
    SumAbsDiffBytes,
    /// packsswb: signed words to signed bytes, saturating.
    PackSignedWordsToSigned,
    /// packuswb: signed words to unsigned bytes, saturating.
    PackSignedWordsToUnsigned,
    /// packssdw: signed dwords to signed words, saturating.
    PackSignedDwordsToSigned,
    /// pmuldq: the even signed dwords' 64-bit products.
    MulEvenSignedDwords,
    /// packusdw: signed dwords to unsigned words, saturating.
    PackSignedDwordsToUnsigned,
}

pub(super) fn widening(e: &mut Emitter, l: Lanes, op: Widening) -> Result<(), Unsupported> {
    use Widening::*;
    let Lanes { rd, rn: d, rm: m, .. } = l;
    let (t1, t2) = (e.vtmp(), e.vtmp());
    match op {
        MulEvenUnsignedDwords => a64!(e.ops
            ; xtn V(t1).S2, V(d).D2
            ; xtn V(t2).S2, V(m).D2
            ; umull V(rd).D2, V(t1).S2, V(t2).S2
        ),
        MulHighSignedWords => a64!(e.ops
            ; smull V(t1).S4, V(d).H4, V(m).H4
            ; smull2 V(t2).S4, V(d).H8, V(m).H8
            ; uzp2 V(rd).H8, V(t1).H8, V(t2).H8
        ),
        MulHighUnsignedWords => a64!(e.ops
            ; umull V(t1).S4, V(d).H4, V(m).H4
            ; umull2 V(t2).S4, V(d).H8, V(m).H8
            ; uzp2 V(rd).H8, V(t1).H8, V(t2).H8
        ),
        MulAddSignedWords => a64!(e.ops
            ; smull V(t1).S4, V(d).H4, V(m).H4
            ; smull2 V(t2).S4, V(d).H8, V(m).H8
            ; addp V(rd).S4, V(t1).S4, V(t2).S4
        ),
        SumAbsDiffBytes => a64!(e.ops
            ; uabd V(t1).B16, V(d).B16, V(m).B16
            ; uaddlp V(t1).H8, V(t1).B16
            ; uaddlp V(t1).S4, V(t1).H8
            ; uaddlp V(rd).D2, V(t1).S4
        ),
        PackSignedWordsToSigned => a64!(e.ops
            ; sqxtn V(t1).B8, V(d).H8
            ; sqxtn2 V(t1).B16, V(m).H8
            ; mov V(rd).B16, V(t1).B16
        ),
        PackSignedWordsToUnsigned => a64!(e.ops
            ; sqxtun V(t1).B8, V(d).H8
            ; sqxtun2 V(t1).B16, V(m).H8
            ; mov V(rd).B16, V(t1).B16
        ),
        PackSignedDwordsToSigned => a64!(e.ops
            ; sqxtn V(t1).H4, V(d).S4
            ; sqxtn2 V(t1).H8, V(m).S4
            ; mov V(rd).B16, V(t1).B16
        ),
        MulEvenSignedDwords => a64!(e.ops
            ; xtn V(t1).S2, V(d).D2
            ; xtn V(t2).S2, V(m).D2
            ; smull V(rd).D2, V(t1).S2, V(t2).S2
        ),
        PackSignedDwordsToUnsigned => a64!(e.ops
            ; sqxtun V(t1).H4, V(d).S4
            ; sqxtun2 V(t1).H8, V(m).S4
            ; mov V(rd).B16, V(t1).B16
        ),
    }
    Ok(())
}

/// minps/maxps/minpd/maxpd with x86's rule: the second operand unless the
/// comparison holds; sqrtps/sqrtpd.
/// `Lane::MinMaxSqrt`'s operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MinMaxSqrt {
    Min,
    Max,
    Sqrt,
}

pub(super) fn packed_float_misc(e: &mut Emitter, l: Lanes, op: MinMaxSqrt, double: Double) -> Result<(), Unsupported> {
    let Lanes { rd, rn: d, rm: m, .. } = l;
    let t = e.vtmp();
    // t = where the comparison holds; the result is d there, else m.
    match (op, double) {
        (MinMaxSqrt::Min, false) => a64!(e.ops; fcmgt V(t).S4, V(m).S4, V(d).S4),
        (MinMaxSqrt::Max, false) => a64!(e.ops; fcmgt V(t).S4, V(d).S4, V(m).S4),
        (MinMaxSqrt::Min, true) => a64!(e.ops; fcmgt V(t).D2, V(m).D2, V(d).D2),
        (MinMaxSqrt::Max, true) => a64!(e.ops; fcmgt V(t).D2, V(d).D2, V(m).D2),
        (MinMaxSqrt::Sqrt, _) => {
            // The NaN fix-up reads m: through t when rd is m.
            let r = if e.host.afp || rd != m { rd } else { t };
            if double {
                a64!(e.ops; fsqrt V(r).D2, V(m).D2);
            } else {
                a64!(e.ops; fsqrt V(r).S4, V(m).S4);
            }
            x86_nan_rules_unless_afp(e, r, m, m, double, true);
            if r != rd {
                a64!(e.ops; mov V(rd).B16, V(r).B16);
            }
            return Ok(());
        }
    }
    if rd == d {
        a64!(e.ops; bif V(rd).B16, V(m).B16, V(t).B16);
    } else {
        a64!(e.ops; bsl V(t).B16, V(d).B16, V(m).B16 ; mov V(rd).B16, V(t).B16);
    }
    Ok(())
}

/// rcpps/rsqrtps/rcpss/rsqrtss: x86 gives ~12-bit approximations; Transit
/// computes them exactly, which is within the architectural error bound
/// (|error| <= 1.5 * 2^-12) but not bit-identical to any Intel or AMD part.
/// `root`: rsqrt (true) or rcp; `scalar`: the low element only.
pub(super) fn reciprocal(e: &mut Emitter, l: Lanes, root: bool, scalar: bool) -> Result<(), Unsupported> {
    let m = l.rm;
    let (one, r) = (e.vtmp(), e.vtmp());
    a64!(e.ops; fmov V(one).S4, 1.0);
    if root {
        a64!(e.ops; fsqrt V(r).S4, V(m).S4 ; fdiv V(r).S4, V(one).S4, V(r).S4);
    } else {
        a64!(e.ops; fdiv V(r).S4, V(one).S4, V(m).S4);
    }
    if scalar {
        let out = e.merge_start(l);
        a64!(e.ops; ins V(out).S[0], V(r).S[0]);
        e.merge_end(l, out);
    } else {
        a64!(e.ops; mov V(l.rd).B16, V(r).B16);
    }
    Ok(())
}

/// A packed conversion between int32, float and double within 128 bits
/// (`Lane::Convert`; VEX.256's that cross the halves, `vex_convert`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackedConvert {
    /// cvtdq2ps.
    DwordsToSingles,
    /// cvtdq2pd: the low two dwords.
    DwordsToDoubles,
    /// cvtps2pd: the low two singles.
    SinglesToDoubles,
    /// cvtpd2ps: into the low 64 bits, the rest cleared.
    DoublesToSingles,
    /// cvttps2dq (`truncate`) or cvtps2dq (MXCSR's rounding).
    SinglesToDwords { truncate: bool },
    /// cvttpd2dq (`truncate`) or cvtpd2dq, into the low 64 bits.
    DoublesToDwords { truncate: bool },
}

/// Packed conversions: cvtdq2ps, cvtdq2pd, cvtps2pd, cvtpd2ps, cvttps2dq,
/// cvtps2dq, cvttpd2dq, cvtpd2dq; also the VEX.256 forms that cross the
/// halves, one half at a time (`vex_convert`). The float-to-int forms give
/// the integer indefinite for NaN and out-of-range lanes, as x86 does, and
/// its flags: IE for those lanes, else PE where a lane was inexact.
pub(super) fn packed_convert(e: &mut Emitter, l: Lanes, op: PackedConvert) -> Result<(), Unsupported> {
    use PackedConvert::*;
    let Lanes { rd: d, rm: m, .. } = l;
    let (t, c) = (e.vtmp(), e.vtmp());
    match op {
        DwordsToSingles => a64!(e.ops; scvtf V(d).S4, V(m).S4),
        DwordsToDoubles => a64!(e.ops; sxtl V(t).D2, V(m).S2 ; scvtf V(d).D2, V(t).D2),
        SinglesToDoubles => a64!(e.ops; fcvtl V(d).D2, V(m).S2),
        DoublesToSingles => a64!(e.ops; fcvtn V(d).S2, V(m).D2),
        SinglesToDwords { truncate } => {
            let r = e.vtmp();
            // Floats beyond int32's range are integers: the host raises
            // inexact only for lanes in range, as x86 does.
            if !truncate {
                a64!(e.ops; frintx V(r).S4, V(m).S4 ; fcvtzs V(r).S4, V(r).S4);
            } else {
                a64!(e.ops; fcvtzs V(r).S4, V(m).S4);
            }
            // Saturated (INT_MAX: no float converts to it exactly) or NaN lanes.
            a64!(e.ops
                ; mvni V(t).S4, 0x80, lsl 24
                ; cmeq V(t).S4, V(r).S4, V(t).S4
                ; fcmeq V(c).S4, V(m).S4, V(m).S4
                ; orn V(t).B16, V(t).B16, V(c).B16
                ; movi V(c).S4, 0x80, lsl 24
                ; bit V(r).B16, V(c).B16, V(t).B16
                ; mov V(d).B16, V(r).B16
            );
        }
        DoublesToDwords { truncate } => {
            let r = e.vtmp();
            // To 64 bits without flags but for NaNs (frinti/frintz raise none).
            if !truncate {
                a64!(e.ops; frinti V(r).D2, V(m).D2 ; fcvtzs V(r).D2, V(r).D2);
            } else {
                a64!(e.ops; frintz V(r).D2, V(m).D2 ; fcvtzs V(r).D2, V(r).D2);
            }
            // A lane is valid when its 64-bit value survives narrowing and it is not NaN.
            let n = e.vtmp();
            a64!(e.ops
                ; sqxtn V(n).S2, V(r).D2
                ; sxtl V(t).D2, V(n).S2
                ; cmeq V(t).D2, V(t).D2, V(r).D2
                ; fcmeq V(c).D2, V(m).D2, V(m).D2
                ; and V(t).B16, V(t).B16, V(c).B16
            );
            // x86's flags, from the valid lanes with invalid ones made NaN
            // (all ones): IE for these, PE where a valid lane is inexact.
            a64!(e.ops; orn V(c).B16, V(m).B16, V(t).B16);
            if !truncate {
                a64!(e.ops; frintx V(c).D2, V(c).D2);
            }
            a64!(e.ops
                ; fcvtzs V(c).D2, V(c).D2
                ; xtn V(t).S2, V(t).D2
                ; movi V(c).S4, 0x80, lsl 24
                ; bif V(n).B8, V(c).B8, V(t).B8
                ; mov D(d), V(n).D[0]
            );
        }
    }
    Ok(())
}

/// psllw/d/q, psrlw/d/q, psraw/d by the count in an XMM register or memory:
/// counts beyond the element width give zero (or the sign, for psra).
pub(super) fn shift_by_xmm(e: &mut Emitter, l: Lanes, kind: ShiftKind, element: ElementSize) -> Result<(), Unsupported> {
    use ElementSize::{D, H, S};
    use ShiftKind::*;
    let Lanes { rd, rn: d, rm: m, .. } = l;
    let (count, big) = (e.tmp(), e.tmp());
    let small = e.label();
    // Clamp to 64 (branching, not comparing: flags stay untouched); the
    // host's per-lane shifts by >= the width give zero or the sign.
    a64!(e.ops
        ; fmov X(count), D(m)
        ; lsr X(big), X(count), 6
        ; cbz X(big), =>small
        ; movz X(count), 64
        ; =>small
    );
    if kind != Left {
        a64!(e.ops; neg X(count), X(count));
    }
    let v = e.vtmp();
    match (kind, element) {
        (Left | Right, H) => a64!(e.ops; dup V(v).H8, W(count) ; ushl V(rd).H8, V(d).H8, V(v).H8),
        (Left | Right, S) => a64!(e.ops; dup V(v).S4, W(count) ; ushl V(rd).S4, V(d).S4, V(v).S4),
        (Left | Right, D) => a64!(e.ops; dup V(v).D2, X(count) ; ushl V(rd).D2, V(d).D2, V(v).D2),
        (RightArithmetic, H) => a64!(e.ops; dup V(v).H8, W(count) ; sshl V(rd).H8, V(d).H8, V(v).H8),
        (RightArithmetic, S) => a64!(e.ops; dup V(v).S4, W(count) ; sshl V(rd).S4, V(d).S4, V(v).S4),
        _ => return Err(Unsupported),
    }
    Ok(())
}

/// The FPCR system register, as `mrs`/`msr` encode it (S3_3_C4_C4_0).
pub(super) const FPCR: u32 = 0x5a20;
/// FPSR's system-register encoding (op0 3, op1 3, CRn 4, CRm 4, op2 1).
pub const FPSR: u32 = 0x5a21;

/// Emits `CpuState::mxcsr |= the host FPSR's cumulative flags as MXCSR
/// flags` with scratch registers `a` and `b` (x28 holds the state). Both
/// have the same five: FPSR IOC, DZC, OFC, UFC, IXC (bits 0-4) are MXCSR
/// IE, ZE, OE, UE, PE (bits 0, 2-5); MXCSR's DE (an operand was
/// denormal) has no host counterpart and is not modelled.
pub fn fold_fpsr_into_mxcsr<A: DynasmApi>(ops: &mut A, a: Reg, b: Reg) {
    a64!(ops
        ; mrs X(a), FPSR
        ; and XSP(b), X(a), 0x1e
        ; and XSP(a), X(a), 1
        ; orr X(a), X(a), X(b), lsl 1
        ; ldr X(b), [x28, crate::cpu::state::offsets::MXCSR]
        ; orr X(b), X(b), X(a)
        ; str X(b), [x28, crate::cpu::state::offsets::MXCSR]
    );
}

/// stmxcsr/ldmxcsr: the value is kept in CpuState, its sticky exception
/// flags gather in the host FPSR until an exit folds them in, and its
/// rounding control goes to the host FPCR so SSE arithmetic rounds the same
/// way. FTZ and DAZ together (what -ffast-math's start-up sets) are the
/// host's FZ, which flushes denormal inputs and results alike; either one
/// alone, and unmasked exceptions, are not modelled.
pub(super) fn store_mxcsr(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let (base, off) = e.address(insn)?;
    let t = e.tmp();
    let (a, b) = (e.tmp(), e.tmp());
    fold_fpsr_into_mxcsr(&mut e.ops, a, b);
    a64!(e.ops; msr FPSR, xzr ; ldr X(t), [X(regs::STATE), crate::cpu::state::offsets::MXCSR]);
    e.store(t, base, off, 4);
    Ok(Flow::Next)
}

/// ldmxcsr (see `store_mxcsr`).
pub(super) fn load_mxcsr(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let (base, off) = e.address(insn)?;
    let t = e.tmp();
    e.load(t, base, off, 4, false);
    // The loaded flags replace all gathered so far.
    a64!(e.ops; str X(t), [X(regs::STATE), crate::cpu::state::offsets::MXCSR] ; msr FPSR, xzr);
    // x86 RC (bits 13-14): 0 nearest, 1 down, 2 up, 3 zero. aarch64 RMode
    // (bits 22-23): 0 nearest, 1 up, 2 down, 3 zero: swap the two bits.
    let (rc, mode, fpcr) = (e.tmp(), e.tmp(), e.tmp());
    a64!(e.ops
        ; ubfx X(rc), X(t), 13, 2
        ; lsr X(mode), X(rc), 1
        ; bfi X(mode), X(rc), 1, 1
        ; mrs X(fpcr), FPCR
        ; bfi X(fpcr), X(mode), 22, 2
        // FZ (bit 24) when FTZ (bit 15) and DAZ (bit 6) are both set.
        ; lsr X(rc), X(t), 9
        ; and X(rc), X(rc), X(t)
        ; ubfx X(rc), X(rc), 6, 1
        ; bfi X(fpcr), X(rc), 24, 1
    );
    if e.host.afp {
        // FPCR.AH is set (`enable_x86_nan_handling`): FZ alone no longer
        // flushes inputs, FIZ (bit 0) does.
        a64!(e.ops; bfi X(fpcr), X(rc), 0, 1);
    }
    a64!(e.ops; msr FPCR, X(fpcr));
    Ok(Flow::Next)
}
