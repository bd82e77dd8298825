//! Bit tests and scans: bt, bts, btr, btc, bsf, bsr (and tzcnt/lzcnt, which
//! execute as bsf/bsr on a CPU without BMI1/LZCNT, as ours reports).

#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use super::operand::{Addr, Loc};
use super::{a64, EmitResult, Emitter, Flow, Unsupported};
use iced_x86::Instruction;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BitOp {
    Test,
    Set,
    Reset,
    Complement,
}

pub fn bit_test(e: &mut Emitter, insn: &Instruction, op: BitOp) -> EmitResult {
    let mut dst = e.loc(insn, 0)?;
    let offset = e.loc(insn, 1)?;
    let bits = dst.bits();
    let index = match (dst, offset) {
        (_, Loc::Imm { value, .. }) => {
            let t = e.tmp();
            a64!(e.ops; movz X(t), (value as u32) & (bits - 1));
            t
        }
        (Loc::Mem { addr, size }, _) => {
            let (base, off) = e.base_offset(addr);
            // A register offset addresses a bit string: move the address by
            // whole operands (signed), then test within one.
            let o = e.read_sx(offset);
            let addr = e.tmp();
            let log = bits.trailing_zeros();
            a64!(e.ops
                ; asr X(addr), X(o), log
                ; lsl X(addr), X(addr), size.trailing_zeros()
                ; add X(addr), X(addr), X(base)
            );
            dst = Loc::Mem { addr: Addr::Offset { base: addr, off }, size };
            let t = e.tmp();
            a64!(e.ops; and XSP(t), X(o), (bits - 1) as u64);
            t
        }
        _ => {
            let o = e.read(offset);
            let t = e.tmp();
            a64!(e.ops; and XSP(t), X(o), (bits - 1) as u64);
            t
        }
    };
    let v = e.read(dst);
    if e.needs_nzcv() {
        let cf = e.tmp();
        a64!(e.ops; lsr X(cf), X(v), X(index));
        e.insert_c(cf);
    }
    if op != BitOp::Test {
        let mask = e.tmp();
        let r = e.result_reg(dst);
        a64!(e.ops; movz X(mask), 1 ; lsl X(mask), X(mask), X(index));
        match op {
            BitOp::Set => a64!(e.ops; orr X(r), X(v), X(mask)),
            BitOp::Reset => a64!(e.ops; bic X(r), X(v), X(mask)),
            _ => a64!(e.ops; eor X(r), X(v), X(mask)),
        }
        e.write(dst, r);
    }
    Ok(Flow::Next)
}

/// bsf/bsr: ZF=1 and destination unchanged for a zero source.
pub fn bit_scan(e: &mut Emitter, insn: &Instruction, forward: bool) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let src = e.loc(insn, 1)?;
    if dst.size() < 2 {
        return Err(Unsupported);
    }
    let v = e.read_zx(src);
    let idx = e.tmp();
    if forward {
        a64!(e.ops; rbit X(idx), X(v) ; clz X(idx), X(idx));
    } else {
        // Highest set bit = 63 - leading zeros of the zero-extended source.
        a64!(e.ops; clz X(idx), X(v) ; neg X(idx), X(idx) ; add XSP(idx), XSP(idx), 63);
    }
    let done = e.label();
    // Z from the source; every other flag is undefined after a scan.
    a64!(e.ops; cmp XSP(v), 0);
    e.polarity = super::Polarity::Borrow;
    a64!(e.ops; b.eq =>done);
    e.write(dst, idx);
    e.bind(done);
    Ok(Flow::Next)
}

/// popcnt: counted by NEON's `cnt` on the source's bytes. ZF says the
/// source was zero; CF, OF, SF, AF and PF are cleared (SDM, POPCNT).
pub fn popcnt(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let dst = e.loc(insn, 0)?;
    let src = e.loc(insn, 1)?;
    if dst.size() < 2 {
        return Err(Unsupported);
    }
    let v = e.read_zx(src);
    let bytes = e.vtmp();
    let count = e.tmp();
    a64!(e.ops
        ; fmov D(bytes), X(v)
        ; cnt V(bytes).B8, V(bytes).B8
        ; addv B(bytes), V(bytes).B8
        ; fmov W(count), S(bytes)
    );
    if e.needs_nzcv() {
        // The count is small and positive: N = V = 0, Z = (count == 0), and
        // C = 0, which is CF = 0 in carry form.
        a64!(e.ops; tst X(count), X(count));
        e.polarity = super::Polarity::Carry;
    }
    use crate::frontend::flags::FlagSet;
    if e.needed.has(FlagSet::PF) || e.needed.has(FlagSet::AF) {
        // PF = 0: a source with odd parity.
        a64!(e.ops; movz X(super::regs::PF_SRC), 1);
    }
    e.af_zero();
    e.write(dst, count);
    Ok(Flow::Next)
}
