//! The scalar half of x86-64-v3: BMI1 (andn, bextr, blsi, blsmsk, blsr,
//! tzcnt), BMI2 (bzhi, mulx, pdep, pext, rorx, sarx, shlx, shrx), LZCNT and
//! MOVBE. Most are one or two host instructions; the x86 edge cases (counts
//! and indices past the operand, zero sources) are selects, and pdep/pext
//! are a loop over the mask's set bits that leaves NZCV alone.
//!
//! Flags follow the SDM and the APM; what either leaves undefined (AF and
//! PF everywhere here, SF after bextr, SF and OF after tzcnt/lzcnt) gets a
//! fixed value, and the difftest masks it.

#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use super::operand::Loc;
use super::{a64, regs, EmitResult, Emitter, Flow, Polarity, Reg, Unsupported};
use iced_x86::Instruction;

/// andn: dst = !src1 & src2 (src1 is VEX.vvvv). SF and ZF from the result,
/// CF = OF = 0: exactly what `bics` leaves.
pub fn andn(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let (dst, a, b) = (e.loc(insn, 0)?, e.loc(insn, 1)?, e.loc(insn, 2)?);
    let vb = e.read(b);
    let va = e.read(a);
    let r = e.result_reg(dst);
    match (dst.size() == 8, e.needs_nzcv()) {
        (true, true) => a64!(e.ops; bics X(r), X(vb), X(va)),
        (true, false) => a64!(e.ops; bic X(r), X(vb), X(va)),
        (false, true) => a64!(e.ops; bics W(r), W(vb), W(va)),
        (false, false) => a64!(e.ops; bic W(r), W(vb), W(va)),
    }
    if e.needs_nzcv() {
        e.polarity = Polarity::Carry;
    }
    finish_logic(e, dst, r);
    Ok(Flow::Next)
}

/// bextr: the field of src (zero-extended past its top) at start =
/// ctl[7:0] of length ctl[15:8]; a start past 63 gives 0, a length past 63
/// keeps every bit. ZF from the result, CF = OF = 0.
pub fn bextr(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let (dst, src, ctl) = (e.loc(insn, 0)?, e.loc(insn, 1)?, e.loc(insn, 2)?);
    let v = e.read_zx(src);
    let c = e.read(ctl);
    let (start, len, field, mask) = (e.tmp(), e.tmp(), e.tmp(), e.tmp());
    // NZCV is free: bextr writes all of it.
    a64!(e.ops
        ; ubfx X(start), X(c), 0, 8
        ; ubfx X(len), X(c), 8, 8
        ; lsr X(field), X(v), X(start)
        ; cmp XSP(start), 64
        ; csel X(field), X(field), xzr, lo
        ; movn X(mask), 0
        ; lsl X(mask), X(mask), X(len)
        ; cmp XSP(len), 64
        ; csel X(mask), X(mask), xzr, lo
    );
    let r = e.result_reg(dst);
    // The field has no bits above the operand, so a 64-bit result is also
    // the zero-extended 32-bit one.
    a64!(e.ops; bics X(r), X(field), X(mask));
    e.polarity = Polarity::Carry;
    finish_logic(e, dst, r);
    Ok(Flow::Next)
}

/// bzhi: src with the bits from index = idx[7:0] up cleared (none when the
/// index is at least the width). CF = (index >= width), SF and ZF from the
/// result, OF = 0.
pub fn bzhi(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let (dst, src, idx) = (e.loc(insn, 0)?, e.loc(insn, 1)?, e.loc(insn, 2)?);
    let v = e.read(src);
    let c = e.read(idx);
    let (n, mask) = (e.tmp(), e.tmp());
    let bits = dst.bits();
    // NZCV is free: bzhi writes all of it.
    a64!(e.ops
        ; and XSP(n), X(c), 0xff
        ; movn X(mask), 0
        ; lsl X(mask), X(mask), X(n)
        ; cmp XSP(n), bits
        ; csel X(mask), X(mask), xzr, lo
    );
    let cf = e.needs_nzcv().then(|| {
        let cf = e.tmp();
        a64!(e.ops; cset X(cf), hs);
        cf
    });
    let r = e.result_reg(dst);
    if bits == 64 {
        a64!(e.ops; bics X(r), X(v), X(mask));
    } else {
        a64!(e.ops; bics W(r), W(v), W(mask));
    }
    e.polarity = Polarity::Carry;
    if let Some(cf) = cf {
        e.insert_c(cf);
    }
    finish_logic(e, dst, r);
    Ok(Flow::Next)
}

/// The BMI1 operations on a source's lowest set bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LowestBit {
    /// blsi: src & -src; CF = (src != 0).
    Isolate,
    /// blsmsk: src ^ (src - 1); CF = (src == 0), ZF = 0.
    Mask,
    /// blsr: src & (src - 1); CF = (src == 0).
    Reset,
}

/// blsi, blsmsk, blsr: dst (VEX.vvvv) from src (r/m). SF and ZF from the
/// result, OF = 0.
pub fn lowest_bit(e: &mut Emitter, insn: &Instruction, op: LowestBit) -> EmitResult {
    let (dst, src) = (e.loc(insn, 0)?, e.loc(insn, 1)?);
    let v = e.read(src);
    let x = dst.size() == 8;
    let nzcv = e.needs_nzcv();
    if nzcv {
        // Z = (src == 0), before the result may overwrite src.
        if x {
            a64!(e.ops; cmp XSP(v), 0);
        } else {
            a64!(e.ops; cmp WSP(v), 0);
        }
    }
    let t = e.tmp();
    let r = e.result_reg(dst);
    match (op, x) {
        (LowestBit::Isolate, true) => a64!(e.ops; neg X(t), X(v) ; and X(r), X(t), X(v)),
        (LowestBit::Isolate, false) => a64!(e.ops; neg W(t), W(v) ; and W(r), W(t), W(v)),
        (LowestBit::Mask, true) => a64!(e.ops; sub XSP(t), XSP(v), 1 ; eor X(r), X(t), X(v)),
        (LowestBit::Mask, false) => a64!(e.ops; sub WSP(t), WSP(v), 1 ; eor W(r), W(t), W(v)),
        (LowestBit::Reset, true) => a64!(e.ops; sub XSP(t), XSP(v), 1 ; and X(r), X(t), X(v)),
        (LowestBit::Reset, false) => a64!(e.ops; sub WSP(t), WSP(v), 1 ; and W(r), W(t), W(v)),
    }
    if nzcv {
        // A non-zero source: `cmp r, 0` gives N and Z of the result, C = 1,
        // V = 0. A zero source: the flags of its known result (0, or all
        // ones for blsmsk) with C = 0. C is CF = (src != 0) for blsi
        // (carry form) and !CF for the others (borrow form).
        let zero_src_nzcv = if op == LowestBit::Mask { 0b1000 } else { 0b0100 };
        if x {
            a64!(e.ops; ccmp X(r), 0, zero_src_nzcv, ne);
        } else {
            a64!(e.ops; ccmp W(r), 0, zero_src_nzcv, ne);
        }
        e.polarity = if op == LowestBit::Isolate { Polarity::Carry } else { Polarity::Borrow };
    }
    finish_logic(e, dst, r);
    Ok(Flow::Next)
}

/// tzcnt (`trailing`) and lzcnt: the operand width for a zero source.
/// CF = (src == 0), ZF = (count == 0).
pub fn count_zeros(e: &mut Emitter, insn: &Instruction, trailing: bool) -> EmitResult {
    let (dst, src) = (e.loc(insn, 0)?, e.loc(insn, 1)?);
    let v = e.read(src);
    // Straight into a 32/64-bit destination register, unless the flags
    // still need the source after the count.
    let n = if !e.needs_nzcv() && crate::tuning::tuning().direct_results { e.result_reg(dst) } else { e.tmp() };
    match (trailing, dst.size()) {
        (true, 8) => a64!(e.ops; rbit X(n), X(v) ; clz X(n), X(n)),
        (true, 4) => a64!(e.ops; rbit W(n), W(v) ; clz W(n), W(n)),
        // A stop bit above the 16-bit operand: the count of a zero is 16.
        (true, 2) => a64!(e.ops; orr WSP(n), W(v), 0x1_0000 ; rbit W(n), W(n) ; clz W(n), W(n)),
        (false, 8) => a64!(e.ops; clz X(n), X(v)),
        (false, 4) => a64!(e.ops; clz W(n), W(v)),
        (false, 2) => a64!(e.ops; lsl W(n), W(v), 16 ; orr WSP(n), W(n), 0x8000 ; clz W(n), W(n)),
        _ => return Err(Unsupported),
    }
    if e.needs_nzcv() {
        match dst.size() {
            8 => a64!(e.ops; cmp XSP(v), 0),
            4 => a64!(e.ops; cmp WSP(v), 0),
            _ => a64!(e.ops; tst W(v), 0xffff),
        }
        // A non-zero source: Z = (count == 0), C = 1 (CF = 0 in borrow
        // form); a zero one: all clear (CF = 1, a non-zero count).
        a64!(e.ops; ccmp X(n), 0, 0b0000, ne);
        e.polarity = Polarity::Borrow;
    }
    undefined_pf_af(e, n);
    e.write_result(dst, n);
    Ok(Flow::Next)
}

/// mulx: RDX * src unsigned, the high half to the first operand and the
/// low half to the second (VEX.vvvv); the high half wins when they are one
/// register (SDM). Flags untouched.
pub fn mulx(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let (hi_dst, lo_dst, src) = (e.loc(insn, 0)?, e.loc(insn, 1)?, e.loc(insn, 2)?);
    let s = e.read(src);
    let (lo, hi) = (e.tmp(), e.tmp());
    if hi_dst.size() == 8 {
        a64!(e.ops; mul X(lo), X(regs::RDX), X(s) ; umulh X(hi), X(regs::RDX), X(s));
    } else {
        a64!(e.ops; umaddl X(lo), W(regs::RDX), W(s), xzr ; lsr X(hi), X(lo), 32);
    }
    e.write(lo_dst, lo);
    e.write(hi_dst, hi);
    Ok(Flow::Next)
}

/// pdep (`deposit`): the low bits of src to the mask's set bits, in order;
/// pext: the src bits at the mask's set bits, packed low. One iteration
/// per set mask bit, on branches only: flags stay untouched.
pub fn bit_gather_scatter(e: &mut Emitter, insn: &Instruction, deposit: bool) -> EmitResult {
    let (dst, src, mask) = (e.loc(insn, 0)?, e.loc(insn, 1)?, e.loc(insn, 2)?);
    let m_in = e.read_zx(mask);
    let s = e.read(src);
    let (res, k, m, low, t) = (e.tmp(), e.tmp(), e.tmp(), e.tmp(), e.tmp());
    let (top, skip, done) = (e.label(), e.label(), e.label());
    a64!(e.ops
        ; movz X(res), 0
        ; movz X(k), 1
        ; mov X(m), X(m_in)
        ; cbz X(m), =>done
        ; =>top
        ; neg X(low), X(m)
        ; and X(low), X(low), X(m)
    );
    // k walks the packed side's bits, low the mask's.
    if deposit {
        a64!(e.ops; and X(t), X(s), X(k) ; cbz X(t), =>skip ; orr X(res), X(res), X(low));
    } else {
        a64!(e.ops; and X(t), X(s), X(low) ; cbz X(t), =>skip ; orr X(res), X(res), X(k));
    }
    a64!(e.ops
        ; =>skip
        ; lsl X(k), X(k), 1
        ; eor X(m), X(m), X(low)
        ; cbnz X(m), =>top
        ; =>done
    );
    e.write(dst, res);
    Ok(Flow::Next)
}

/// rorx: rotate right by an immediate (masked to the width). Flags untouched.
pub fn rorx(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let (dst, src) = (e.loc(insn, 0)?, e.loc(insn, 1)?);
    let amount = insn.immediate8() as u32 & (dst.bits() - 1);
    let v = e.read(src);
    let r = e.result_reg(dst);
    if dst.size() == 8 {
        a64!(e.ops; ror X(r), X(v), amount);
    } else {
        a64!(e.ops; ror W(r), W(v), amount);
    }
    e.write_result(dst, r);
    Ok(Flow::Next)
}

/// The BMI2 shifts by a register (VEX.vvvv).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftX {
    Shl,
    Shr,
    Sar,
}

/// shlx, shrx, sarx: the count is masked to the width, as the host's
/// lslv/lsrv/asrv mask it. Flags untouched.
pub fn shift_x(e: &mut Emitter, insn: &Instruction, op: ShiftX) -> EmitResult {
    let (dst, src, count) = (e.loc(insn, 0)?, e.loc(insn, 1)?, e.loc(insn, 2)?);
    let v = e.read(src);
    let c = e.read(count);
    let r = e.result_reg(dst);
    match (op, dst.size() == 8) {
        (ShiftX::Shl, true) => a64!(e.ops; lsl X(r), X(v), X(c)),
        (ShiftX::Shl, false) => a64!(e.ops; lsl W(r), W(v), W(c)),
        (ShiftX::Shr, true) => a64!(e.ops; lsr X(r), X(v), X(c)),
        (ShiftX::Shr, false) => a64!(e.ops; lsr W(r), W(v), W(c)),
        (ShiftX::Sar, true) => a64!(e.ops; asr X(r), X(v), X(c)),
        (ShiftX::Sar, false) => a64!(e.ops; asr W(r), W(v), W(c)),
    }
    e.write_result(dst, r);
    Ok(Flow::Next)
}

/// movbe: a load or store with its bytes reversed. Flags untouched.
pub fn movbe(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let (dst, src) = (e.loc(insn, 0)?, e.loc(insn, 1)?);
    if !matches!((dst, src), (Loc::Reg { .. }, Loc::Mem { .. }) | (Loc::Mem { .. }, Loc::Reg { .. })) {
        return Err(Unsupported);
    }
    let v = e.read(src);
    let t = e.tmp();
    match dst.size() {
        8 => a64!(e.ops; rev X(t), X(v)),
        4 => a64!(e.ops; rev W(t), W(v)),
        // The low halfword's bytes swapped; write and store take 16 bits.
        _ => a64!(e.ops; rev16 W(t), W(v)),
    }
    e.write(dst, t);
    Ok(Flow::Next)
}

/// The end of an operation whose AF and PF are undefined: writes the
/// result and gives those flags fixed values.
fn finish_logic(e: &mut Emitter, dst: Loc, r: Reg) {
    undefined_pf_af(e, r);
    e.write_result(dst, r);
}

/// AF and PF are undefined (SDM and APM): any value is right; the result's
/// parity and AF = 0 keep runs deterministic.
fn undefined_pf_af(e: &mut Emitter, r: Reg) {
    e.set_pf_source(r);
    e.af_zero();
}
