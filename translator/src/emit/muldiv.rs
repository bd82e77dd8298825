//! Multiplication and division: imul (1, 2 and 3 operands), mul, div, idiv.
//!
//! After a multiply CF = OF = "the result did not fit"; SF, ZF, AF, PF are
//! undefined. Division leaves every flag undefined, so its checks may use
//! the host flags freely. #DE (divisor zero, quotient too large) exits with
//! SIGFPE; a 128-by-64-bit division whose high half matters goes to the
//! interpreter.

#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use super::operand::Loc;
use super::{Reg, NZCV, a64, regs, EmitResult, Emitter, Flow, Polarity};
use crate::exit::ExitReason;
use iced_x86::Instruction;

/// Sets CF and OF (host C and V) to the `overflow` bit, N and Z to zero.
fn set_overflow_flags(e: &mut Emitter, overflow: Reg) {
    if !e.needs_nzcv() {
        return;
    }
    let t = e.tmp();
    a64!(e.ops
        ; lsl X(t), X(overflow), 29
        ; orr X(t), X(t), X(overflow), lsl 28
        ; msr NZCV, X(t)
    );
    e.polarity = Polarity::Carry;
}

/// imul r, r/m and imul r, r/m, imm.
pub fn imul_2_3(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let (a_loc, b_loc) = if insn.op_count() == 3 {
        (e.loc(insn, 1)?, e.loc(insn, 2)?)
    } else {
        (dst, e.loc(insn, 1)?)
    };
    let size = dst.size();
    let direct = crate::tuning::tuning().direct_results;
    if let (Loc::Reg { host, size: 4 | 8, .. }, false, true) = (dst, e.needs_nzcv(), direct) {
        // No flags: the low half of the product, straight into the
        // register (a W multiply zero-extends, as x86's 32-bit write does).
        let a = e.read(a_loc);
        let b = e.read(b_loc);
        if size == 8 {
            a64!(e.ops; mul X(host), X(a), X(b));
        } else {
            a64!(e.ops; mul W(host), W(a), W(b));
        }
        return Ok(Flow::Next);
    }
    let a = e.read_sx(a_loc);
    let b = e.read_sx(b_loc);
    let r = e.tmp();
    a64!(e.ops; mul X(r), X(a), X(b));
    if e.needs_nzcv() {
        let ovf = e.tmp();
        if size == 8 {
            a64!(e.ops; smulh X(ovf), X(a), X(b) ; cmp X(ovf), X(r), asr 63);
        } else {
            e.extend(ovf, r, size, true);
            a64!(e.ops; cmp X(ovf), X(r));
        }
        a64!(e.ops; cset X(ovf), ne);
        set_overflow_flags(e, ovf);
    }
    e.write(dst, r);
    Ok(Flow::Next)
}

/// One-operand mul/imul: rDX:rAX = rAX * src (AX = AL * src for bytes).
pub fn mul_wide(e: &mut Emitter, insn: &Instruction, signed: bool) -> EmitResult {
    let src = e.loc(insn, 0)?;
    let size = src.size();
    let ovf = e.tmp();
    match size {
        8 => {
            let b = e.read(src);
            let (rax, rdx) = (regs::RAX, regs::RDX);
            // Each half straight to its register: the high one first (it
            // reads RAX), unless the multiplier is RDX, which the low
            // one's mul still reads.
            if b != rdx {
                if signed {
                    a64!(e.ops; smulh X(rdx), X(rax), X(b));
                } else {
                    a64!(e.ops; umulh X(rdx), X(rax), X(b));
                }
                a64!(e.ops; mul X(rax), X(rax), X(b));
            } else {
                let lo = e.tmp();
                a64!(e.ops; mul X(lo), X(rax), X(rdx));
                if signed {
                    a64!(e.ops; smulh X(rdx), X(rax), X(rdx));
                } else {
                    a64!(e.ops; umulh X(rdx), X(rax), X(rdx));
                }
                a64!(e.ops; mov X(rax), X(lo));
            }
            // Overflow: the high half is not the low one's extension.
            if e.needs_nzcv() {
                if signed {
                    a64!(e.ops; cmp X(rdx), X(rax), asr 63);
                } else {
                    a64!(e.ops; cmp XSP(rdx), 0);
                }
            }
        }
        _ => {
            let a_loc = Loc::Reg { host: regs::RAX, size, high8: false };
            let (a, b) = if signed { (e.read_sx(a_loc), e.read_sx(src)) } else { (e.read_zx(a_loc), e.read_zx(src)) };
            let p = e.tmp();
            a64!(e.ops; mul X(p), X(a), X(b));
            // Overflow: the product does not equal its own low half extended.
            if e.needs_nzcv() {
                e.extend(ovf, p, size, signed);
                a64!(e.ops; cmp X(ovf), X(p));
            }
            let bits = size as u32 * 8;
            let hi = e.tmp();
            a64!(e.ops; lsr X(hi), X(p), bits);
            if size == 1 {
                // AX = the whole 16-bit product.
                a64!(e.ops; bfi X(regs::RAX), X(p), 0, 16);
            } else {
                e.write(a_loc, p);
                e.write(Loc::Reg { host: regs::RDX, size, high8: false }, hi);
            }
        }
    }
    if e.needs_nzcv() {
        a64!(e.ops; cset X(ovf), ne);
        set_overflow_flags(e, ovf);
    }
    Ok(Flow::Next)
}

/// div/idiv r/m.
pub fn div(e: &mut Emitter, insn: &Instruction, signed: bool) -> EmitResult {
    let src = e.loc(insn, 0)?;
    let size = src.size();
    let divisor = if signed { e.read_sx(src) } else { e.read_zx(src) };
    let fault = e.label();
    let slow = e.label();
    let done = e.label();
    a64!(e.ops; cbz X(divisor), =>fault);
    let q = e.tmp();
    let rem = e.tmp();
    if size == 8 {
        // The 64-bit fast path needs RDX to be the extension of RAX.
        if signed {
            let t = e.tmp();
            a64!(e.ops
                ; cmp X(regs::RDX), X(regs::RAX), asr 63
                ; b.ne =>slow
                // INT64_MIN / -1 overflows: the interpreter raises #DE.
                ; cmn XSP(divisor), 1
                ; b.eq =>slow
                ; sdiv X(q), X(regs::RAX), X(divisor)
            );
            let _ = t;
        } else {
            a64!(e.ops; cbnz X(regs::RDX), =>slow ; udiv X(q), X(regs::RAX), X(divisor));
        }
        a64!(e.ops
            ; msub X(rem), X(q), X(divisor), X(regs::RAX)
            ; mov X(regs::RAX), X(q)
            ; mov X(regs::RDX), X(rem)
        );
    } else {
        // Dividend rDX:rAX (AX for bytes) fits a 64-bit register.
        let bits = size as u32 * 8;
        let n = e.tmp();
        if size == 1 {
            if signed {
                a64!(e.ops; sxth X(n), W(regs::RAX));
            } else {
                a64!(e.ops; uxth W(n), W(regs::RAX));
            }
        } else {
            let lo = e.tmp();
            e.extend(lo, regs::RAX, size, false);
            if signed {
                a64!(e.ops; lsl X(n), X(regs::RDX), 64 - bits ; asr X(n), X(n), 64 - 2 * bits);
            } else {
                e.extend(n, regs::RDX, size, false);
                a64!(e.ops; lsl X(n), X(n), bits);
            }
            a64!(e.ops; orr X(n), X(n), X(lo));
        }
        let check = e.tmp();
        if signed {
            a64!(e.ops; sdiv X(q), X(n), X(divisor));
        } else {
            a64!(e.ops; udiv X(q), X(n), X(divisor));
        }
        a64!(e.ops; msub X(rem), X(q), X(divisor), X(n));
        // The quotient must fit the operand size.
        e.extend(check, q, size, signed);
        a64!(e.ops; cmp X(check), X(q) ; b.ne =>fault);
        if size == 1 {
            a64!(e.ops; bfi X(regs::RAX), X(q), 0, 8 ; bfi X(regs::RAX), X(rem), 8, 8);
        } else {
            e.write(Loc::Reg { host: regs::RAX, size, high8: false }, q);
            e.write(Loc::Reg { host: regs::RDX, size, high8: false }, rem);
        }
    }
    e.jump(done);
    e.bind(slow);
    e.exit(ExitReason::Interpret, insn.ip());
    e.bind(fault);
    e.exit(ExitReason::DivideError, insn.ip());
    e.bind(done);
    // Every flag is undefined now; what the host holds is as good as any.
    Ok(Flow::Next)
}

