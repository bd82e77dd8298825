//! Two-operand integer arithmetic and logic: add, adc, sub, sbb, cmp, and,
//! or, xor, test, plus the one-operand inc, dec, neg, not. One emitter,
//! parameterised by `AluOp`.
//!
//! 32/64-bit operations map onto flag-setting host instructions directly.
//! 8/16-bit ones shift both operands to the top of a 32-bit register first,
//! so the host computes N, Z, C and V at the x86 width.

#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use super::cond::Fused;
use super::operand::Loc;
use super::{a64, EmitResult, Emitter, Flow, Polarity, Reg, NZCV};
use crate::frontend::flags::FlagSet;
use iced_x86::Instruction;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AluOp {
    Add,
    Adc,
    Sub,
    Sbb,
    Cmp,
    And,
    Or,
    Xor,
    Test,
}

impl AluOp {
    fn writes_dst(self) -> bool {
        !matches!(self, AluOp::Cmp | AluOp::Test)
    }
    fn is_logic(self) -> bool {
        matches!(self, AluOp::And | AluOp::Or | AluOp::Xor | AluOp::Test)
    }
}

pub fn alu(e: &mut Emitter, insn: &Instruction, op: AluOp) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let src = e.loc(insn, 1)?;
    if e.fuse_next && op == AluOp::Test && dst == src && matches!(dst, Loc::Reg { high8: false, .. }) {
        // Only the branch after it reads its flags: it tests the register
        // (a byte or word one's sign bit).
        let reg = e.read(dst);
        e.fused = Some(Fused::Test { reg, bits: 8 * u32::from(dst.size()) });
        return Ok(Flow::Next);
    }
    if matches!(op, AluOp::Adc | AluOp::Sbb) && matches!(dst, Loc::Mem { .. }) && e.atomic.is_none() {
        // adc/sbb read the CF they overwrite: write the operand back first,
        // so that a store fault comes before the flags change, as on x86.
        // (A locked adc/sbb to read-only memory still faults after.)
        e.probe_write(dst);
    }
    // Two registers compared without PF cost two instructions at the top
    // of a register (`narrow`) against three zero-extended.
    // Unless both are known zero-extended already (`known_narrow`): one.
    let two_registers = matches!((dst, src), (Loc::Reg { .. }, Loc::Reg { .. })) && dst != src;
    let zero_extended = |l: Loc| matches!(l, Loc::Reg { host, size, high8: false } if e.known_narrow.zero_extended(host, size));
    let both_zero_extended = zero_extended(dst) && zero_extended(src);
    if matches!(op, AluOp::Sub | AluOp::Cmp)
        && dst.size() < 4
        && e.atomic.is_none()
        && e.needs_nzcv()
        && !e.needed.has(FlagSet::SF)
        && !e.needed.has(FlagSet::OF)
        && !(op == AluOp::Cmp && two_registers && !both_zero_extended && !e.needed.has(FlagSet::PF))
    {
        narrow_unsigned_sub(e, op, dst, src);
        return Ok(Flow::Next);
    }
    if let (Loc::Reg { host, size: 1 | 2, high8 }, Loc::Imm { value, .. }) = (dst, src) {
        if narrow_logic_in_place(e, op, host, dst.bits(), high8, value) {
            return Ok(Flow::Next);
        }
    }
    if let (Loc::Reg { host, size: 1 | 2, high8 }, Loc::Mem { .. }) = (dst, src) {
        if matches!(op, AluOp::Or | AluOp::Xor) && !e.needs_nzcv() && !e.needed.has(FlagSet::PF) && e.atomic.is_none() {
            // The loaded operand is zero-extended: or/xor with it at full
            // width leaves the register's other bits alone (no merge).
            let b = e.read(src);
            let shift = if high8 { 8 } else { 0 };
            if op == AluOp::Or {
                a64!(e.ops; orr X(host), X(host), X(b), lsl shift);
            } else {
                a64!(e.ops; eor X(host), X(host), X(b), lsl shift);
            }
            return Ok(Flow::Next);
        }
    }
    let a = e.read(dst);
    let immediate = match src {
        Loc::Imm { value, .. } => Some(value),
        // `test cl, cl`: the operand against a mask of its own width.
        Loc::Reg { .. } if dst == src && dst.size() < 4 => Some(u64::MAX),
        _ => None,
    };
    if let Some(value) = immediate {
        if let Some(r) = with_immediate(e, op, dst, a, value) {
            if op.writes_dst() {
                e.write_result(dst, r);
            }
            return Ok(Flow::Next);
        }
    }
    // An immediate 0 is the zero register (`cmp byte [m], 0`).
    let b = if let Loc::Imm { value: 0, .. } = src { 31 } else { e.read(src) };
    if op.writes_dst() && narrow_result_at_top(e, op, dst, a, b) {
        return Ok(Flow::Next);
    }
    let r = if op.writes_dst() {
        alu_result_reg(e, dst)
    } else if e.needed.has(FlagSet::PF) {
        // cmp/test whose result only PF reads: straight into its source.
        super::regs::PF_SRC
    } else if !e.needed.has(FlagSet::AF) && (dst.size() >= 4 || op == AluOp::Cmp) {
        // cmp/test whose result nobody needs: the zero register (a narrow
        // cmp then skips shifting it back down; a narrow test still
        // shifts its result up to test it).
        31
    } else {
        e.tmp()
    };
    binary(e, op, dst.size(), a, b, r);
    if op.writes_dst() {
        e.write_result(dst, r);
    }
    Ok(Flow::Next)
}

/// 8/16-bit sub and cmp whose SF and OF nobody reads (`cmp byte [m], 3`
/// before `je`): ZF, CF, PF and AF of the operands zero-extended are the
/// narrow operation's, so the host subtracts them at 32 bits, an
/// immediate in the instruction, instead of shifting both to the top of
/// a register (where N and V would come out right too).
fn narrow_unsigned_sub(e: &mut Emitter, op: AluOp, dst: Loc, src: Loc) {
    let mask = (1u64 << (8 * u32::from(dst.size()))) - 1;
    let a = e.read_zx(dst);
    let r = if op.writes_dst() {
        e.tmp()
    } else if e.needed.has(FlagSet::PF) {
        super::regs::PF_SRC
    } else if e.needed.has(FlagSet::AF) {
        e.tmp()
    } else {
        31
    };
    match src {
        Loc::Imm { value, .. } if value & mask < 4096 && !e.needed.has(FlagSet::AF) => {
            a64!(e.ops; subs W(r), WSP(a), (value & mask) as u32);
        }
        _ => {
            let b = match src {
                Loc::Imm { value, .. } if value & mask == 0 => 31,
                _ => e.read_zx(src),
            };
            e.af_begin(a, b);
            a64!(e.ops; subs W(r), W(a), W(b));
        }
    }
    e.polarity = Polarity::Borrow;
    e.set_pf_source(r);
    if op.writes_dst() {
        e.write_result(dst, r);
    }
}

/// 32/64-bit operations with an immediate the host instruction can encode
/// (12-bit arithmetic, logical bit patterns). Returns the result register,
/// or None when the general path must run (a logic op with AF needed,
/// other widths or values).
fn with_immediate(e: &mut Emitter, op: AluOp, dst: Loc, a: Reg, value: u64) -> Option<Reg> {
    use dynasmrt::aarch64::{encode_logical_immediate_32bit, encode_logical_immediate_64bit};
    let size = dst.size();
    if size < 4 {
        return narrow_and_immediate(e, op, dst, a, value);
    }
    if matches!(op, AluOp::Adc | AluOp::Sbb) || (op.is_logic() && e.needed.has(FlagSet::AF)) {
        return None;
    }
    let x = size == 8;
    let value = if x { value } else { value & 0xffff_ffff };
    let nzcv = e.needs_nzcv();
    let r = if op.writes_dst() {
        alu_result_reg(e, dst)
    } else if e.needed.has(FlagSet::PF) || e.needed.has(FlagSet::AF) {
        // AF's source is completed by the result in PF's (`set_pf_source`).
        super::regs::PF_SRC
    } else {
        31
    };
    if op.is_logic() {
        let encodable = if x {
            encode_logical_immediate_64bit(value).is_some()
        } else {
            encode_logical_immediate_32bit(value as u32).is_some()
        };
        if !encodable {
            return None;
        }
        if nzcv && matches!(op, AluOp::And | AluOp::Test) && borrow_form_logic(e) {
            let r = if r == 31 { e.tmp() } else { r };
            if x {
                a64!(e.ops; and XSP(r), X(a), value);
            } else {
                a64!(e.ops; and WSP(r), W(a), value as u32);
            }
            let pf = test_result(e, x, true, r);
            e.set_pf_source(pf);
            return Some(r);
        }
        match (op, x) {
            (AluOp::And | AluOp::Test, true) if nzcv || r == 31 => a64!(e.ops; ands X(r), X(a), value),
            (AluOp::And | AluOp::Test, false) if nzcv || r == 31 => a64!(e.ops; ands W(r), W(a), value as u32),
            (AluOp::And, true) => a64!(e.ops; and XSP(r), X(a), value),
            (AluOp::And, false) => a64!(e.ops; and WSP(r), W(a), value as u32),
            (AluOp::Or, true) => a64!(e.ops; orr XSP(r), X(a), value),
            (AluOp::Or, false) => a64!(e.ops; orr WSP(r), W(a), value as u32),
            (AluOp::Xor, true) => a64!(e.ops; eor XSP(r), X(a), value),
            (AluOp::Xor, false) => a64!(e.ops; eor WSP(r), W(a), value as u32),
            _ => return None,
        }
        let pf = if nzcv && matches!(op, AluOp::Or | AluOp::Xor) {
            test_result(e, x, nzcv, r)
        } else {
            if nzcv {
                e.polarity = Polarity::Carry;
            }
            r
        };
        e.set_pf_source(pf);
        return Some(r);
    }
    // add/sub/cmp: x86 `add a, -v` is the host's `subs a, #v` with C = CF
    // (carry), and `sub a, -v` is `adds a, #v` with C = !CF (borrow).
    let signed = if x { value as i64 } else { value as u32 as i32 as i64 };
    let subtract = matches!(op, AluOp::Sub | AluOp::Cmp);
    let (host_sub, imm) = if signed >= 0 { (subtract, signed as u64) } else { (!subtract, signed.unsigned_abs()) };
    if imm >= 4096 {
        return None;
    }
    let imm = imm as u32;
    if e.needed.has(FlagSet::AF) {
        // AF is bit 4 of a ^ b ^ result: of the immediate only its bit 4
        // counts, which `eor` takes as an immediate.
        if value & 0x10 != 0 {
            a64!(e.ops; eor XSP(super::regs::AF_SRC), X(a), 0x10u64);
        } else {
            a64!(e.ops; mov X(super::regs::AF_SRC), X(a));
        }
    }
    match (host_sub, x, nzcv) {
        (true, true, true) => a64!(e.ops; subs X(r), XSP(a), imm),
        (true, false, true) => a64!(e.ops; subs W(r), WSP(a), imm),
        (false, true, true) => a64!(e.ops; adds X(r), XSP(a), imm),
        (false, false, true) => a64!(e.ops; adds W(r), WSP(a), imm),
        // Without flags a cmp does nothing at all.
        _ if r == 31 => {}
        (true, true, false) => a64!(e.ops; sub XSP(r), XSP(a), imm),
        (true, false, false) => a64!(e.ops; sub WSP(r), WSP(a), imm),
        (false, true, false) => a64!(e.ops; add XSP(r), XSP(a), imm),
        (false, false, false) => a64!(e.ops; add WSP(r), WSP(a), imm),
    }
    if nzcv {
        // x86 subtractions leave C = !CF whichever way the host computed them.
        e.polarity = if subtract { Polarity::Borrow } else { Polarity::Carry };
    }
    e.set_pf_source(r);
    Some(r)
}

/// The register an ALU result for `dst` is computed into: for memory and
/// 8/16-bit destinations, PF's source itself when PF or AF is needed (the
/// value is stored or merged from there, instead of copied there too).
fn alu_result_reg(e: &mut Emitter, dst: Loc) -> Reg {
    match dst {
        Loc::Reg { size: 4 | 8, .. } => e.result_reg(dst),
        _ if e.needed.has(FlagSet::PF) || e.needed.has(FlagSet::AF) => super::regs::PF_SRC,
        _ => e.result_reg(dst),
    }
}

/// An 8/16-bit register (AH's kind too) and an immediate, when PF and AF
/// are not needed: or/xor/and whose flags nobody reads change the pinned
/// register in place with the immediate moved to the operand's bits (one
/// `orr x3, x3, #0x2000` for `or bh, 0x20`, instead of extracting and
/// merging the byte), and a test with ZF (and SF while the immediate's top
/// bit is clear) tests those bits directly. False when it does not apply.
fn narrow_logic_in_place(e: &mut Emitter, op: AluOp, host: Reg, bits: u32, high8: bool, value: u64) -> bool {
    use dynasmrt::aarch64::{encode_logical_immediate_32bit, encode_logical_immediate_64bit};
    let width = (1u64 << bits) - 1;
    let value = value & width;
    let shift = if high8 { 8 } else { 0 };
    if !op.is_logic() || e.needed.has(FlagSet::PF) || e.needed.has(FlagSet::AF) {
        return false;
    }
    let nzcv = e.needs_nzcv();
    if op == AluOp::Test {
        if !nzcv {
            return true;
        }
        let mask = (value << shift) as u32;
        let sign = value >> (bits - 1) != 0;
        if (sign && e.needed.has(FlagSet::SF)) || encode_logical_immediate_32bit(mask).is_none() {
            return false;
        }
        test_bits(e, host, mask);
        return true;
    }
    if nzcv {
        return false;
    }
    // The bits outside the operand stay: and keeps them with ones.
    let imm = match op {
        AluOp::And => !((!value & width) << shift),
        _ => value << shift,
    };
    if encode_logical_immediate_64bit(imm).is_none() {
        return false;
    }
    match op {
        AluOp::And => a64!(e.ops; and XSP(host), X(host), imm),
        AluOp::Or => a64!(e.ops; orr XSP(host), X(host), imm),
        _ => a64!(e.ops; eor XSP(host), X(host), imm),
    }
    true
}

/// 8/16-bit and/test with an immediate the host can encode (`test byte
/// [m], 0x20` before `je`): the immediate clears every bit above the
/// operand, so a 32-bit `ands` gives ZF, and SF too while the immediate's
/// top bit is clear (the result's is then 0, as is bit 31); CF and OF are
/// 0. Instead of shifting the result to the top of a register to test it.
fn narrow_and_immediate(e: &mut Emitter, op: AluOp, dst: Loc, a: Reg, value: u64) -> Option<Reg> {
    use dynasmrt::aarch64::encode_logical_immediate_32bit;
    let bits = 8 * u32::from(dst.size());
    let value = (value & ((1 << bits) - 1)) as u32;
    let sign = value >> (bits - 1) != 0;
    if !matches!(op, AluOp::And | AluOp::Test)
        || e.needed.has(FlagSet::AF)
        || (sign && e.needed.has(FlagSet::SF))
        || encode_logical_immediate_32bit(value).is_none()
    {
        return None;
    }
    let nzcv = e.needs_nzcv();
    let r = if op.writes_dst() {
        alu_result_reg(e, dst)
    } else if e.needed.has(FlagSet::PF) {
        super::regs::PF_SRC
    } else {
        // A test whose result nobody needs: its flags, if any are read.
        if nzcv {
            test_bits(e, a, value);
        }
        return Some(31);
    };
    if nzcv && borrow_form_logic(e) {
        a64!(e.ops; and WSP(r), W(a), value);
        let pf = test_result(e, false, true, r);
        e.set_pf_source(pf);
        return Some(r);
    }
    if nzcv {
        a64!(e.ops; ands W(r), W(a), value);
        e.polarity = Polarity::Carry;
    } else {
        a64!(e.ops; and WSP(r), W(a), value);
    }
    e.set_pf_source(r);
    Some(r)
}

/// The flags of `reg & mask` at 32 bits, the result itself unwanted: `tst`,
/// or in the borrow form (`borrow_form_logic`) `and` and `cmp` of a
/// scratch register.
fn test_bits(e: &mut Emitter, reg: Reg, mask: u32) {
    if borrow_form_logic(e) {
        let t = e.tmp();
        a64!(e.ops; and WSP(t), W(reg), mask ; cmp WSP(t), 0);
        e.polarity = Polarity::Borrow;
    } else {
        a64!(e.ops; tst W(reg), mask);
        e.polarity = Polarity::Carry;
    }
}

/// r = a `op` b at `size` bytes, producing the flags in `e.needed`.
/// Bits of `r` above `size` are unspecified for 8/16-bit sizes.
pub fn binary(e: &mut Emitter, op: AluOp, size: u8, a: Reg, b: Reg, r: Reg) {
    let nzcv = e.needs_nzcv();
    if !op.is_logic() {
        e.af_begin(a, b);
    }
    match op {
        AluOp::Adc => e.want_polarity(Polarity::Carry),
        AluOp::Sbb => e.want_polarity(Polarity::Borrow),
        _ => {}
    }
    let pf = if size >= 4 {
        wide(e, op, size == 8, nzcv, a, b, r)
    } else {
        narrow(e, op, size as u32 * 8, nzcv, a, b, r);
        r
    };
    e.set_pf_source(pf);
    if op.is_logic() {
        // AF is undefined after logic ops; keep it deterministic.
        e.af_zero();
    }
    if nzcv {
        // 32/64-bit or/xor test their result with `cmp r, #0`
        // (`test_result`), and so does any logic op in `borrow_form_logic`;
        // other narrow ones with `adds wzr, wzr, r, lsl` (`narrow`).
        e.polarity = match op {
            AluOp::Sub | AluOp::Sbb | AluOp::Cmp => Polarity::Borrow,
            AluOp::Or | AluOp::Xor if size >= 4 => Polarity::Borrow,
            op if op.is_logic() && borrow_form_logic(e) => Polarity::Borrow,
            _ => Polarity::Carry,
        };
    }
}

/// Whether and/test set their flags with `cmp r, #0` (C set: CF = 0 in
/// the borrow form) rather than `ands` (C clear, the carry form): when CF
/// is live after them, which nearly always means a block exit takes it in
/// the borrow form, where `ands` would need a three-instruction inversion
/// on hosts without FlagM. No x86 code branches on the CF a test clears.
fn borrow_form_logic(e: &Emitter) -> bool {
    e.needed.has(FlagSet::CF) && !e.host.flagm
}

/// Returns the register holding the result for PF (see `test_result`).
fn wide(e: &mut Emitter, op: AluOp, x: bool, nzcv: bool, a: Reg, b: Reg, r: Reg) -> Reg {
    macro_rules! pick {
        ($flag:ident, $plain:ident) => {
            match (x, nzcv) {
                (true, true) => a64!(e.ops; $flag X(r), X(a), X(b)),
                (true, false) => a64!(e.ops; $plain X(r), X(a), X(b)),
                (false, true) => a64!(e.ops; $flag W(r), W(a), W(b)),
                (false, false) => a64!(e.ops; $plain W(r), W(a), W(b)),
            }
        };
    }
    match op {
        AluOp::Add => pick!(adds, add),
        AluOp::Adc => pick!(adcs, adc),
        AluOp::Sub | AluOp::Cmp => pick!(subs, sub),
        AluOp::Sbb => pick!(sbcs, sbc),
        AluOp::And | AluOp::Test if nzcv && borrow_form_logic(e) => {
            if a == b {
                // test r, r: the register itself is the result.
                match (x, r) {
                    (true, 31) => a64!(e.ops; cmp XSP(a), 0),
                    (false, 31) => a64!(e.ops; cmp WSP(a), 0),
                    (true, _) => a64!(e.ops; subs X(r), XSP(a), 0),
                    (false, _) => a64!(e.ops; subs W(r), WSP(a), 0),
                }
                e.polarity = Polarity::Borrow;
            } else {
                let t = if r == 31 { e.tmp() } else { r };
                if x {
                    a64!(e.ops; and X(t), X(a), X(b));
                } else {
                    a64!(e.ops; and W(t), W(a), W(b));
                }
                return test_result(e, x, nzcv, t);
            }
        }
        AluOp::And | AluOp::Test => pick!(ands, and),
        AluOp::Or => {
            pick!(orr, orr);
            return test_result(e, x, nzcv, r);
        }
        AluOp::Xor => {
            pick!(eor, eor);
            return test_result(e, x, nzcv, r);
        }
    }
    r
}

/// Flags of or/xor: N and Z from the result, CF = OF = 0. `cmp r, #0`
/// leaves host C set (no borrow), which is CF = 0 in the borrow form
/// block exits hand over, so a live CF needs no inversion there (`tst`
/// would clear C: the carry form).
/// Returns the register PF's source is to be taken from: when PF or AF is
/// needed, the compare itself copies the result there (`subs x26, r, #0`
/// for `cmp r, #0` and `mov x26, r`).
fn test_result(e: &mut Emitter, x: bool, nzcv: bool, r: Reg) -> Reg {
    if !nzcv {
        return r;
    }
    // Register 31 is SP here, not the zero register: or/xor results
    // always have a real register.
    debug_assert_ne!(r, 31);
    let copy = if e.needed.has(FlagSet::PF) || e.needed.has(FlagSet::AF) { super::regs::PF_SRC } else { 31 };
    if x {
        a64!(e.ops; subs X(copy), XSP(r), 0);
    } else {
        a64!(e.ops; subs W(copy), WSP(r), 0);
    }
    e.polarity = Polarity::Borrow;
    if copy == 31 {
        r
    } else {
        copy
    }
}

fn narrow(e: &mut Emitter, op: AluOp, bits: u32, nzcv: bool, a: Reg, b: Reg, r: Reg) {
    if op.is_logic() {
        match op {
            AluOp::And | AluOp::Test => a64!(e.ops; and W(r), W(a), W(b)),
            AluOp::Or => a64!(e.ops; orr W(r), W(a), W(b)),
            _ => a64!(e.ops; eor W(r), W(a), W(b)),
        }
        if nzcv {
            let sh = 32 - bits;
            if borrow_form_logic(e) {
                // Not `test_result`: `t` is the result shifted, no source for PF.
                let t = e.tmp();
                a64!(e.ops; lsl W(t), W(r), sh);
                a64!(e.ops; cmp WSP(t), 0);
            } else {
                // 0 + (r << sh): N and Z of the narrow result, C and V clear
                // (the carry form), in one instruction.
                a64!(e.ops; adds W(31), W(31), W(r), lsl sh);
            }
        }
        return;
    }
    if !nzcv {
        match op {
            AluOp::Add => a64!(e.ops; add W(r), W(a), W(b)),
            AluOp::Adc => a64!(e.ops; adc W(r), W(a), W(b)),
            AluOp::Sub | AluOp::Cmp => a64!(e.ops; sub W(r), W(a), W(b)),
            _ => a64!(e.ops; sbc W(r), W(a), W(b)),
        }
        return;
    }
    // The operands shifted to the top of a 32-bit register, where the host
    // computes the narrow operation's flags.
    let sh = 32 - bits;
    if matches!(op, AluOp::Add | AluOp::Sub | AluOp::Cmp) {
        let ta = add_sub_at_top(e, op, sh, a, b);
        if r != 31 {
            a64!(e.ops; lsr W(r), W(ta), sh);
        }
        return;
    }
    let ta = e.tmp();
    a64!(e.ops; lsl W(ta), W(a), sh);
    let tb = e.tmp();
    a64!(e.ops; lsl W(tb), W(b), sh);
    match op {
        AluOp::Adc => {
            // Ones below the operand carry the incoming C up to its lowest bit.
            let ones = e.tmp();
            e.mov_imm(ones, (1u64 << sh) - 1);
            a64!(e.ops; orr W(ta), W(ta), W(ones) ; adcs W(ta), W(ta), W(tb));
        }
        // Zeros below: a borrow-in propagates up to the operand's lowest bit.
        AluOp::Sbb => a64!(e.ops; sbcs W(ta), W(ta), W(tb)),
        _ => unreachable!("logic operations and add/sub return above"),
    }
    a64!(e.ops; lsr W(r), W(ta), sh);
    if matches!(op, AluOp::Adc | AluOp::Sbb) {
        // The filler bits below the operand can be left all ones, which
        // hides a zero result from the host Z: set Z from the result
        // (in the shifted operands' registers, no longer needed).
        let (z, f) = (ta, tb);
        a64!(e.ops
            ; sub XSP(z), XSP(r), 1
            ; lsr X(z), X(z), 63
            ; mrs X(f), NZCV
            ; bfi X(f), X(z), 30, 1
            ; msr NZCV, X(f)
        );
    }
}

/// 8/16-bit add or sub (`op`, with `sub`'s C in the borrow form) of `a`
/// and `b` with NZCV set as x86 sets them: at the top of a 32-bit register,
/// `sh` = 32 - the width, the second operand shifted in the instruction
/// itself. Returns the register holding the result there.
fn add_sub_at_top(e: &mut Emitter, op: AluOp, sh: u32, a: Reg, b: Reg) -> Reg {
    let ta = e.tmp();
    // Zero (neg's minuend, the zero register) needs no shifting.
    let a_top = if a == 31 {
        31
    } else {
        a64!(e.ops; lsl W(ta), W(a), sh);
        ta
    };
    if op == AluOp::Add {
        a64!(e.ops; adds W(ta), W(a_top), W(b), lsl sh);
    } else {
        a64!(e.ops; subs W(ta), W(a_top), W(b), lsl sh);
    }
    ta
}

/// An 8/16-bit add or sub into a low byte or word register whose NZCV is
/// needed and neither PF nor AF: computed at the top of a register
/// (`add_sub_at_top`) and taken from there into the register by one
/// bfxil, not shifted down first. False (nothing emitted) otherwise.
fn narrow_result_at_top(e: &mut Emitter, op: AluOp, dst: Loc, a: Reg, b: Reg) -> bool {
    let Loc::Reg { host, size: size @ (1 | 2), high8: false } = dst else { return false };
    if !matches!(op, AluOp::Add | AluOp::Sub) || !e.needs_nzcv() || e.needed.has(FlagSet::PF) || e.needed.has(FlagSet::AF) {
        return false;
    }
    let bits = 8 * u32::from(size);
    let ta = add_sub_at_top(e, op, 32 - bits, a, b);
    a64!(e.ops; bfxil X(host), X(ta), 32 - bits, bits);
    e.polarity = if op == AluOp::Sub { Polarity::Borrow } else { Polarity::Carry };
    true
}

/// inc, dec: add/sub 1 without touching CF.
pub fn inc_dec(e: &mut Emitter, insn: &Instruction, inc: bool) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let a = e.read(dst);
    let op = if inc { AluOp::Add } else { AluOp::Sub };
    // CF survives inc/dec: save the host C bit if anyone reads CF later.
    let keep_cf = e.live_after.has(FlagSet::CF) && e.needs_nzcv();
    let saved = if keep_cf {
        let t = e.tmp();
        a64!(e.ops; mrs X(t), NZCV);
        Some((t, e.polarity))
    } else {
        None
    };
    // 32/64-bit: `add(s) r, a, #1`; otherwise the register form.
    let r = match with_immediate(e, op, dst, a, 1) {
        Some(r) => Some(r),
        None => {
            let one = e.tmp();
            a64!(e.ops; movz X(one), 1);
            if narrow_result_at_top(e, op, dst, a, one) {
                None
            } else {
                let r = alu_result_reg(e, dst);
                binary(e, op, dst.size(), a, one, r);
                Some(r)
            }
        }
    };
    if let Some((t, polarity)) = saved {
        let t2 = e.tmp();
        a64!(e.ops
            ; mrs X(t2), NZCV
            ; lsr X(t), X(t), 29
            ; bfi X(t2), X(t), 29, 1
            ; msr NZCV, X(t2)
        );
        e.polarity = polarity;
    }
    if let Some(r) = r {
        e.write_result(dst, r);
    }
    Ok(Flow::Next)
}

pub fn neg(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let a = e.read(dst);
    let zero = 31; // xzr
    if narrow_result_at_top(e, AluOp::Sub, dst, zero, a) {
        return Ok(Flow::Next);
    }
    let r = alu_result_reg(e, dst);
    binary(e, AluOp::Sub, dst.size(), zero, a, r);
    e.write_result(dst, r);
    Ok(Flow::Next)
}

pub fn not(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let a = e.read(dst);
    let r = e.result_reg(dst);
    if dst.size() == 4 {
        a64!(e.ops; mvn W(r), W(a));
    } else {
        a64!(e.ops; mvn X(r), X(a));
    }
    e.write_result(dst, r);
    Ok(Flow::Next)
}
