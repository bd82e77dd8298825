//! SSSE3 on XMM and YMM registers (the MMX-register forms are `mmx`'s):
//! byte shuffles, alignment, horizontal integer arithmetic, abs and sign,
//! as lane operations (`vector`). Each has a short NEON equivalent.

use super::aarch64::{ElementSize, Inst, VReg};
use super::vector::Lanes;
use super::{a64, Emitter, Unsupported};
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::Instruction;

/// pshufb: byte i = src index byte i has bit 7 set ? 0 : dst[index & 15].
/// tbl gives 0 for indices >= 16: keeping bits 7 and 0-3 maps both rules.
pub(super) fn pshufb(e: &mut Emitter, _: &Instruction, l: Lanes) -> Result<(), Unsupported> {
    let idx = e.vtmp();
    a64!(e.ops
        ; movi V(idx).B16, 0x8f
        ; and V(idx).B16, V(idx).B16, V(l.rm).B16
        ; tbl V(l.rd).B16, {V(l.rn).B16 * 1}, V(idx).B16
    );
    Ok(())
}

/// palignr: bytes imm..imm+15 of the 32-byte dst:src (src low), zeros
/// beyond.
pub(super) fn palignr(e: &mut Emitter, insn: &Instruction, l: Lanes) -> Result<(), Unsupported> {
    let Lanes { rd, rn: d, rm: m, .. } = l;
    let n = insn.immediate8() as u32;
    match n {
        0..=15 => a64!(e.ops; ext V(rd).B16, V(m).B16, V(d).B16, n),
        16 => e.inst(Inst::VecMove { rd: VReg(rd), rn: VReg(d) }),
        17..=31 => {
            let z = e.vtmp();
            a64!(e.ops; movi V(z).D2, 0 ; ext V(rd).B16, V(d).B16, V(z).B16, n - 16);
        }
        _ => a64!(e.ops; movi V(rd).D2, 0),
    }
    Ok(())
}

/// Horizontal add/subtract of adjacent pairs (phaddw/d, phsubw/d and the
/// saturating phaddsw/phsubsw): destination pairs fill the low half.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HorizontalInt {
    /// phaddw.
    AddWords,
    /// phaddd.
    AddDwords,
    /// phsubw.
    SubWords,
    /// phsubd.
    SubDwords,
    /// phaddsw: signed saturation.
    AddSatWords,
    /// phsubsw: signed saturation.
    SubSatWords,
}

pub(super) fn horizontal(e: &mut Emitter, l: Lanes, op: HorizontalInt) -> Result<(), Unsupported> {
    use HorizontalInt::*;
    let Lanes { rd, rn: d, rm: m, .. } = l;
    match op {
        AddWords => a64!(e.ops; addp V(rd).H8, V(d).H8, V(m).H8),
        AddDwords => a64!(e.ops; addp V(rd).S4, V(d).S4, V(m).S4),
        op => {
            let (even, odd) = (e.vtmp(), e.vtmp());
            if op == SubDwords {
                a64!(e.ops; uzp1 V(even).S4, V(d).S4, V(m).S4 ; uzp2 V(odd).S4, V(d).S4, V(m).S4);
            } else {
                a64!(e.ops; uzp1 V(even).H8, V(d).H8, V(m).H8 ; uzp2 V(odd).H8, V(d).H8, V(m).H8);
            }
            match op {
                SubWords => a64!(e.ops; sub V(rd).H8, V(even).H8, V(odd).H8),
                SubDwords => a64!(e.ops; sub V(rd).S4, V(even).S4, V(odd).S4),
                AddSatWords => a64!(e.ops; sqadd V(rd).H8, V(even).H8, V(odd).H8),
                SubSatWords => a64!(e.ops; sqsub V(rd).H8, V(even).H8, V(odd).H8),
                AddWords | AddDwords => unreachable!("addp above"),
            }
        }
    }
    Ok(())
}

/// pmaddubsw: unsigned dst bytes times signed src bytes, adjacent products
/// added with signed saturation. Each product fits 16 bits.
pub(super) fn pmaddubsw(e: &mut Emitter, _: &Instruction, l: Lanes) -> Result<(), Unsupported> {
    let Lanes { rd, rn: d, rm: m, .. } = l;
    let (a_lo, a_hi, b_lo, b_hi) = (e.vtmp(), e.vtmp(), e.vtmp(), e.vtmp());
    a64!(e.ops
        ; ushll V(a_lo).H8, V(d).B8, 0
        ; ushll2 V(a_hi).H8, V(d).B16, 0
        ; sshll V(b_lo).H8, V(m).B8, 0
        ; sshll2 V(b_hi).H8, V(m).B16, 0
        ; mul V(a_lo).H8, V(a_lo).H8, V(b_lo).H8
        ; mul V(a_hi).H8, V(a_hi).H8, V(b_hi).H8
        ; uzp1 V(b_lo).H8, V(a_lo).H8, V(a_hi).H8
        ; uzp2 V(b_hi).H8, V(a_lo).H8, V(a_hi).H8
        ; sqadd V(rd).H8, V(b_lo).H8, V(b_hi).H8
    );
    Ok(())
}

/// pmulhrsw: ((a * b >> 14) + 1) >> 1, truncated to 16 bits, which is a
/// rounding narrow by 15 (sqrdmulh would saturate -32768 * -32768, x86
/// gives 0x8000).
pub(super) fn pmulhrsw(e: &mut Emitter, _: &Instruction, l: Lanes) -> Result<(), Unsupported> {
    let Lanes { rd, rn: d, rm: m, .. } = l;
    let (lo, hi) = (e.vtmp(), e.vtmp());
    a64!(e.ops
        ; smull V(lo).S4, V(d).H4, V(m).H4
        ; smull2 V(hi).S4, V(d).H8, V(m).H8
        ; rshrn V(rd).H4, V(lo).S4, 15
        ; rshrn2 V(rd).H8, V(hi).S4, 15
    );
    Ok(())
}

/// pabsb/w/d: wrapping absolute value (abs(-128) is 0x80), as NEON's abs.
pub(super) fn pabs(e: &mut Emitter, l: Lanes, element: ElementSize) -> Result<(), Unsupported> {
    let Lanes { rd, rm: m, .. } = l;
    match element {
        ElementSize::B => a64!(e.ops; abs V(rd).B16, V(m).B16),
        ElementSize::H => a64!(e.ops; abs V(rd).H8, V(m).H8),
        ElementSize::S => a64!(e.ops; abs V(rd).S4, V(m).S4),
        ElementSize::D => return Err(Unsupported),
    }
    Ok(())
}

/// psignb/w/d: dst negated (wrapping) where src < 0, zeroed where src = 0.
pub(super) fn psign(e: &mut Emitter, l: Lanes, element: ElementSize) -> Result<(), Unsupported> {
    let Lanes { rd, rn: d, rm: m, .. } = l;
    let (neg, lt, zero) = (e.vtmp(), e.vtmp(), e.vtmp());
    macro_rules! sign {
        ($t:ident) => {
            a64!(e.ops
                ; neg V(neg).$t, V(d).$t
                ; cmlt V(lt).$t, V(m).$t, 0
                ; cmeq V(zero).$t, V(m).$t, 0
            )
        };
    }
    match element {
        ElementSize::B => sign!(B16),
        ElementSize::H => sign!(H8),
        ElementSize::S => sign!(S4),
        ElementSize::D => return Err(Unsupported),
    }
    if rd != d {
        e.inst(Inst::VecMove { rd: VReg(rd), rn: VReg(d) });
    }
    a64!(e.ops
        ; bit V(rd).B16, V(neg).B16, V(lt).B16
        ; bic V(rd).B16, V(rd).B16, V(zero).B16
    );
    Ok(())
}
