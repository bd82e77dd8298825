//! Shifts and rotates: shl/sal, shr, sar, rol, ror, shld, shrd.
//!
//! A count of zero (after masking) changes neither the operand nor a flag,
//! so a count in CL branches around the whole operation. Flags are only
//! computed when live; AF is left alone (undefined for a nonzero count).

#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use super::operand::Loc;
use super::{Reg, a64, regs, EmitResult, Emitter, Flow, Unsupported};
use crate::exit::ExitReason;
use crate::frontend::flags::FlagSet;
use iced_x86::{Instruction, OpKind};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShiftOp {
    Shl,
    Shr,
    Sar,
    Rol,
    Ror,
}

/// The masked shift count: a constant, or a register (from CL).
#[derive(Clone, Copy)]
enum Count {
    Const(u32),
    Reg(Reg),
}

fn count_of(e: &mut Emitter, insn: &Instruction, op: u32, size: u8) -> Result<Count, Unsupported> {
    let mask = if size == 8 { 63 } else { 31 };
    match insn.op_kind(op) {
        OpKind::Immediate8 => Ok(Count::Const(insn.immediate8() as u32 & mask)),
        OpKind::Register if insn.op_register(op) == iced_x86::Register::CL => {
            let t = e.tmp();
            a64!(e.ops; and XSP(t), X(regs::RCX), mask as u64);
            Ok(Count::Reg(t))
        }
        _ => Err(Unsupported),
    }
}

/// Runs `body` unless the masked count is zero. A memory destination is
/// first read and written back as it is, so that an inaccessible operand
/// faults before any flag changes, even with a zero count, as on the CPU.
/// On the skipped path a 32-bit register destination is still zero-extended.
fn unless_zero(e: &mut Emitter, count: Count, dst: Loc, body: impl FnOnce(&mut Emitter)) {
    if let Loc::Mem { .. } = dst {
        e.probe_write(dst);
    }
    let rewrite = |e: &mut Emitter| {
        if let Loc::Reg { host, size: 4, .. } = dst {
            a64!(e.ops; mov W(host), W(host));
        }
    };
    match count {
        Count::Const(0) => rewrite(e),
        Count::Const(_) => body(e),
        Count::Reg(c) if matches!(dst, Loc::Reg { size: 4, .. }) => {
            let skip = e.label();
            let done = e.label();
            a64!(e.ops; cbz X(c), =>skip);
            body(e);
            e.jump(done);
            e.bind(skip);
            rewrite(e);
            e.bind(done);
        }
        Count::Reg(c) => {
            // Nothing to rewrite: a zero count skips straight past.
            let done = e.label();
            a64!(e.ops; cbz X(c), =>done);
            body(e);
            e.bind(done);
        }
    }
}

pub fn shift(e: &mut Emitter, insn: &Instruction, op: ShiftOp) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    if flagless_by_cl(e, insn, op, dst) {
        return Ok(Flow::Next);
    }
    let size = dst.size();
    let count = count_of(e, insn, 1, size)?;
    unless_zero(e, count, dst, |e| match op {
        ShiftOp::Shl | ShiftOp::Shr | ShiftOp::Sar => plain_shift(e, op, dst, count),
        ShiftOp::Rol | ShiftOp::Ror => rotate(e, op, dst, count),
    });
    Ok(Flow::Next)
}

/// `shl`/`shr`/`sar` of a 32- or 64-bit register by CL with no flag
/// needed after it: one `lslv`/`lsrv`/`asrv` on the pinned registers. They
/// take the count modulo the width, as x86 masks it, so a zero count needs
/// no branch: the value stays, and a W write zero-extends a 32-bit
/// destination as x86 does even then.
fn flagless_by_cl(e: &mut Emitter, insn: &Instruction, op: ShiftOp, dst: Loc) -> bool {
    let Loc::Reg { host, size: size @ (4 | 8), .. } = dst else { return false };
    let by_cl = insn.op_kind(1) == OpKind::Register && insn.op_register(1) == iced_x86::Register::CL;
    let plain = matches!(op, ShiftOp::Shl | ShiftOp::Shr | ShiftOp::Sar);
    if !by_cl || !plain || !e.needed.is_empty() || !crate::tuning::tuning().direct_results {
        return false;
    }
    shift_in_place(e, op, host, size == 8, Count::Reg(regs::RCX));
    true
}

fn plain_shift(e: &mut Emitter, op: ShiftOp, dst: Loc, count: Count) {
    let direct = crate::tuning::tuning().direct_results;
    if let (Loc::Reg { host, size: size @ (4 | 8), .. }, false, true) = (dst, e.needs_nzcv(), direct) {
        // No flag but PF wanted: shift the pinned register in place (the W
        // forms zero-extend a 32-bit destination as x86 does).
        shift_in_place(e, op, host, size == 8, count);
        e.set_pf_source(host);
        return;
    }
    let bits = dst.bits();
    if let (Loc::Reg { host, high8: false, .. }, false, Count::Const(c)) = (dst, e.needs_nzcv(), count) {
        if bits < 32 && c < bits {
            // An 8/16-bit register shifted by a constant, no flag but PF
            // wanted: the field extracted (or shifted) straight from the
            // register, without extending it first.
            let r = e.tmp();
            match op {
                ShiftOp::Shr => a64!(e.ops; ubfx W(r), W(host), c, bits - c),
                ShiftOp::Sar => a64!(e.ops; sbfx W(r), W(host), c, bits - c),
                _ => a64!(e.ops; lsl W(r), W(host), c),
            }
            e.set_pf_source(r);
            e.write(dst, r);
            return;
        }
    }
    // Extended to 64 bits, so bits shifted past a narrow operand's top are
    // zeros (or sign copies): CF for counts beyond the width then comes out
    // as the hardware computes it.
    let a = match op {
        ShiftOp::Sar => e.read_sx(dst),
        _ => e.read_zx(dst),
    };
    let r = e.tmp();
    match (op, count) {
        (ShiftOp::Shl, Count::Const(c)) => a64!(e.ops; lsl X(r), X(a), c),
        (ShiftOp::Shr, Count::Const(c)) => a64!(e.ops; lsr X(r), X(a), c),
        (ShiftOp::Sar, Count::Const(c)) => a64!(e.ops; asr X(r), X(a), c),
        (ShiftOp::Shl, Count::Reg(c)) => a64!(e.ops; lsl X(r), X(a), X(c)),
        (ShiftOp::Shr, Count::Reg(c)) => a64!(e.ops; lsr X(r), X(a), X(c)),
        (ShiftOp::Sar, Count::Reg(c)) => a64!(e.ops; asr X(r), X(a), X(c)),
        _ => unreachable!(),
    }
    if e.needs_nzcv() {
        // CF: the last bit shifted out.
        let cf = e.tmp();
        match (op, count) {
            // Narrow shl: the bit just above the operand in the 64-bit result.
            (ShiftOp::Shl, _) if bits < 64 => a64!(e.ops; lsr X(cf), X(r), bits),
            (ShiftOp::Shl, Count::Const(c)) => a64!(e.ops; lsr X(cf), X(a), 64 - c),
            (ShiftOp::Shl, Count::Reg(c)) => a64!(e.ops; neg X(cf), X(c) ; lsr X(cf), X(a), X(cf)),
            (_, Count::Const(c)) => a64!(e.ops; lsr X(cf), X(a), c - 1),
            (_, Count::Reg(c)) => a64!(e.ops; sub XSP(cf), XSP(c), 1 ; lsr X(cf), X(a), X(cf)),
        }
        // OF (defined for count 1): sign change for shl, the original sign
        // for shr, zero for sar.
        let of = e.tmp();
        let msb = bits - 1;
        match op {
            ShiftOp::Shl => a64!(e.ops; lsr X(of), X(r), msb ; eor X(of), X(of), X(cf)),
            ShiftOp::Shr => a64!(e.ops; lsr X(of), X(a), msb),
            _ => a64!(e.ops; movz X(of), 0),
        }
        let polarity = e.polarity;
        e.set_nz(r, bits);
        e.polarity = polarity;
        // set_nz cleared C and V in host terms; insert_cv writes them in `polarity`.
        e.insert_cv(cf, of);
    }
    e.set_pf_source(r);
    e.write(dst, r);
}

fn shift_in_place(e: &mut Emitter, op: ShiftOp, r: Reg, wide: bool, count: Count) {
    match (op, count, wide) {
        (ShiftOp::Shl, Count::Const(c), true) => a64!(e.ops; lsl X(r), X(r), c),
        (ShiftOp::Shr, Count::Const(c), true) => a64!(e.ops; lsr X(r), X(r), c),
        (ShiftOp::Sar, Count::Const(c), true) => a64!(e.ops; asr X(r), X(r), c),
        (ShiftOp::Shl, Count::Reg(c), true) => a64!(e.ops; lsl X(r), X(r), X(c)),
        (ShiftOp::Shr, Count::Reg(c), true) => a64!(e.ops; lsr X(r), X(r), X(c)),
        (ShiftOp::Sar, Count::Reg(c), true) => a64!(e.ops; asr X(r), X(r), X(c)),
        (ShiftOp::Shl, Count::Const(c), false) => a64!(e.ops; lsl W(r), W(r), c),
        (ShiftOp::Shr, Count::Const(c), false) => a64!(e.ops; lsr W(r), W(r), c),
        (ShiftOp::Sar, Count::Const(c), false) => a64!(e.ops; asr W(r), W(r), c),
        (ShiftOp::Shl, Count::Reg(c), false) => a64!(e.ops; lsl W(r), W(r), W(c)),
        (ShiftOp::Shr, Count::Reg(c), false) => a64!(e.ops; lsr W(r), W(r), W(c)),
        (ShiftOp::Sar, Count::Reg(c), false) => a64!(e.ops; asr W(r), W(r), W(c)),
        _ => unreachable!("rotates take `rotate`"),
    }
}

fn rotate(e: &mut Emitter, op: ShiftOp, dst: Loc, count: Count) {
    let bits = dst.bits();
    if let (Loc::Reg { host, size: 4 | 8, .. }, true) = (dst, crate::tuning::tuning().direct_results) {
        // The pinned register rotated in place (a W rotate zero-extends a
        // 32-bit destination as x86 does).
        rotate_by(e, op, host, host, bits, count);
        rotate_flags(e, op, host, bits);
        return;
    }
    if let (Loc::Reg { host, size: 2, high8: false }, Count::Const(8 | 24), false) = (dst, count, rotate_flags_read(e)) {
        // A 16-bit register rotated by 8 either way: its bytes swapped
        // (`__builtin_bswap16`; sqlite reads its big-endian fields so).
        let r = e.tmp();
        a64!(e.ops; rev16 W(r), W(host));
        e.write(dst, r);
        return;
    }
    let a = e.read_zx(dst);
    let r = e.tmp();
    // Narrow operands are replicated across 32 bits so a 32-bit rotate works.
    let src = if bits < 32 {
        let t = e.tmp();
        a64!(e.ops; orr W(t), W(a), W(a), lsl bits);
        if bits == 8 {
            a64!(e.ops; orr W(t), W(t), W(t), lsl 16);
        }
        t
    } else {
        a
    };
    rotate_by(e, op, r, src, bits, count);
    rotate_flags(e, op, r, bits);
    e.write(dst, r);
}

/// `r` = `src` rotated as `op` by `count` for an operand of `bits` (a
/// narrow one replicated across 32 bits); rol by c is ror by (width - c).
fn rotate_by(e: &mut Emitter, op: ShiftOp, r: Reg, src: Reg, bits: u32, count: Count) {
    let wide_bits = if bits < 32 { 32 } else { bits };
    match count {
        Count::Const(c) => {
            let c = c % bits;
            let amount = if op == ShiftOp::Rol { (wide_bits - c) % wide_bits } else { c };
            if wide_bits == 64 {
                a64!(e.ops; ror X(r), X(src), amount);
            } else {
                a64!(e.ops; ror W(r), W(src), amount);
            }
        }
        Count::Reg(c) => {
            let amount = if op == ShiftOp::Rol {
                let t = e.tmp();
                a64!(e.ops; neg X(t), X(c));
                t
            } else {
                c
            };
            if wide_bits == 64 {
                a64!(e.ops; ror X(r), X(src), X(amount));
            } else {
                a64!(e.ops; ror W(r), W(src), W(amount));
            }
        }
    }
}

/// Whether a later instruction reads a flag a rotate writes (CF, OF).
fn rotate_flags_read(e: &Emitter) -> bool {
    e.needed.has(FlagSet::CF) || e.needed.has(FlagSet::OF)
}

/// CF and OF of a rotate whose result, `bits` wide, is in `r` (a rotate
/// changes no other flag), where a later instruction reads them.
fn rotate_flags(e: &mut Emitter, op: ShiftOp, r: Reg, bits: u32) {
    if rotate_flags_read(e) {
        let cf = e.tmp();
        let of = e.tmp();
        let msb = bits - 1;
        if op == ShiftOp::Rol {
            a64!(e.ops; and XSP(cf), X(r), 1 ; lsr X(of), X(r), msb ; eor X(of), X(of), X(cf));
        } else {
            a64!(e.ops; lsr X(cf), X(r), msb ; lsr X(of), X(r), msb - 1 ; eor X(of), X(of), X(cf));
        }
        e.insert_cv(cf, of);
    }
}

/// shld/shrd dst, src, count (32 and 64-bit).
pub fn double_shift(e: &mut Emitter, insn: &Instruction, left: bool) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let size = dst.size();
    if size < 4 {
        return Err(Unsupported);
    }
    let src_loc = e.loc(insn, 1)?;
    let count = count_of(e, insn, 2, size)?;
    unless_zero(e, count, dst, |e| {
        let bits = dst.bits();
        let a = e.read_zx(dst);
        let b = e.read_zx(src_loc);
        let r = e.tmp();
        let x = bits == 64;
        let t = e.tmp();
        match count {
            Count::Const(c) => {
                let (hi, lo, lsb) = if left { (a, b, bits - c) } else { (b, a, c) };
                if x {
                    a64!(e.ops; extr X(r), X(hi), X(lo), lsb);
                } else {
                    a64!(e.ops; extr W(r), W(hi), W(lo), lsb);
                }
            }
            Count::Reg(c) => {
                a64!(e.ops; neg X(t), X(c));
                match (left, x) {
                    (true, true) => a64!(e.ops; lsl X(r), X(a), X(c) ; lsr X(t), X(b), X(t) ; orr X(r), X(r), X(t)),
                    (false, true) => a64!(e.ops; lsr X(r), X(a), X(c) ; lsl X(t), X(b), X(t) ; orr X(r), X(r), X(t)),
                    (true, false) => a64!(e.ops; lsl W(r), W(a), W(c) ; lsr W(t), W(b), W(t) ; orr W(r), W(r), W(t)),
                    (false, false) => a64!(e.ops; lsr W(r), W(a), W(c) ; lsl W(t), W(b), W(t) ; orr W(r), W(r), W(t)),
                }
            }
        }
        if e.needs_nzcv() {
            // `t` is free again once the result is built.
            let cf = t;
            match (left, count) {
                (true, Count::Const(c)) => a64!(e.ops; lsr X(cf), X(a), bits - c),
                (false, Count::Const(c)) => a64!(e.ops; lsr X(cf), X(a), c - 1),
                (true, Count::Reg(c)) => a64!(e.ops; sub XSP(cf), XSP(c), bits ; neg X(cf), X(cf) ; lsr X(cf), X(a), X(cf)),
                (false, Count::Reg(c)) => a64!(e.ops; sub XSP(cf), XSP(c), 1 ; lsr X(cf), X(a), X(cf)),
            }
            let of = e.tmp();
            a64!(e.ops; eor X(of), X(r), X(a) ; lsr X(of), X(of), bits - 1);
            let polarity = e.polarity;
            e.set_nz(r, bits);
            e.polarity = polarity;
            e.insert_cv(cf, of);
        }
        e.set_pf_source(r);
        e.write(dst, r);
    });
    Ok(Flow::Next)
}

/// rcl/rcr go through the interpreter: rare, and they read and write CF
/// bit by bit.
pub fn via_interpreter(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    e.exit(ExitReason::Interpret, insn.ip());
    Ok(Flow::Ended)
}
