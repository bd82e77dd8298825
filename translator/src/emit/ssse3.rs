//! SSSE3 on XMM registers (the MMX-register forms are `mmx`'s): byte
//! shuffles, alignment, horizontal integer arithmetic, abs and sign. Each
//! has a short NEON equivalent.

use super::{a64, EmitResult, Emitter, Flow, Unsupported};
use super::Handler;
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::{Instruction, Mnemonic, OpKind};

/// pshufb: byte i = src index byte i has bit 7 set ? 0 : dst[index & 15].
/// tbl gives 0 for indices >= 16: keeping bits 7 and 0-3 maps both rules.
fn pshufb(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = e.xmm_dst(insn)?;
    let m = e.vsrc(insn, 1, 16)?;
    let idx = e.vtmp();
    a64!(e.ops
        ; movi V(idx).B16, 0x8f
        ; and V(idx).B16, V(idx).B16, V(m).B16
        ; tbl V(d).B16, {V(d).B16 * 1}, V(idx).B16
    );
    Ok(Flow::Next)
}

/// palignr: bytes imm..imm+15 of the 32-byte dst:src (src low), zeros
/// beyond.
fn palignr(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = e.xmm_dst(insn)?;
    let m = e.vsrc(insn, 1, 16)?;
    let n = insn.immediate8() as u32;
    match n {
        0..=15 => a64!(e.ops; ext V(d).B16, V(m).B16, V(d).B16, n),
        16 => {}
        17..=31 => {
            let z = e.vtmp();
            a64!(e.ops; movi V(z).D2, 0 ; ext V(d).B16, V(d).B16, V(z).B16, n - 16);
        }
        _ => a64!(e.ops; movi V(d).D2, 0),
    }
    Ok(Flow::Next)
}

/// Horizontal add/subtract of adjacent pairs (phaddw/d, phsubw/d and the
/// saturating phaddsw/phsubsw): destination pairs fill the low half.
fn horizontal(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    use Mnemonic::*;
    let d = e.xmm_dst(insn)?;
    let m = e.vsrc(insn, 1, 16)?;
    match insn.mnemonic() {
        Phaddw => a64!(e.ops; addp V(d).H8, V(d).H8, V(m).H8),
        Phaddd => a64!(e.ops; addp V(d).S4, V(d).S4, V(m).S4),
        op => {
            let (even, odd) = (e.vtmp(), e.vtmp());
            if op == Phsubd {
                a64!(e.ops; uzp1 V(even).S4, V(d).S4, V(m).S4 ; uzp2 V(odd).S4, V(d).S4, V(m).S4);
            } else {
                a64!(e.ops; uzp1 V(even).H8, V(d).H8, V(m).H8 ; uzp2 V(odd).H8, V(d).H8, V(m).H8);
            }
            match op {
                Phsubw => a64!(e.ops; sub V(d).H8, V(even).H8, V(odd).H8),
                Phsubd => a64!(e.ops; sub V(d).S4, V(even).S4, V(odd).S4),
                Phaddsw => a64!(e.ops; sqadd V(d).H8, V(even).H8, V(odd).H8),
                Phsubsw => a64!(e.ops; sqsub V(d).H8, V(even).H8, V(odd).H8),
                _ => return Err(Unsupported),
            }
        }
    }
    Ok(Flow::Next)
}

/// pmaddubsw: unsigned dst bytes times signed src bytes, adjacent products
/// added with signed saturation. Each product fits 16 bits.
fn pmaddubsw(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = e.xmm_dst(insn)?;
    let m = e.vsrc(insn, 1, 16)?;
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
        ; sqadd V(d).H8, V(b_lo).H8, V(b_hi).H8
    );
    Ok(Flow::Next)
}

/// pmulhrsw: ((a * b >> 14) + 1) >> 1, truncated to 16 bits, which is a
/// rounding narrow by 15 (sqrdmulh would saturate -32768 * -32768, x86
/// gives 0x8000).
fn pmulhrsw(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = e.xmm_dst(insn)?;
    let m = e.vsrc(insn, 1, 16)?;
    let (lo, hi) = (e.vtmp(), e.vtmp());
    a64!(e.ops
        ; smull V(lo).S4, V(d).H4, V(m).H4
        ; smull2 V(hi).S4, V(d).H8, V(m).H8
        ; rshrn V(d).H4, V(lo).S4, 15
        ; rshrn2 V(d).H8, V(hi).S4, 15
    );
    Ok(Flow::Next)
}

/// pabsb/w/d: wrapping absolute value (abs(-128) is 0x80), as NEON's abs.
fn pabs(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = e.xmm_dst(insn)?;
    let m = e.vsrc(insn, 1, 16)?;
    match insn.mnemonic() {
        Mnemonic::Pabsb => a64!(e.ops; abs V(d).B16, V(m).B16),
        Mnemonic::Pabsw => a64!(e.ops; abs V(d).H8, V(m).H8),
        _ => a64!(e.ops; abs V(d).S4, V(m).S4),
    }
    Ok(Flow::Next)
}

/// psignb/w/d: dst negated (wrapping) where src < 0, zeroed where src = 0.
fn psign(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = e.xmm_dst(insn)?;
    let m = e.vsrc(insn, 1, 16)?;
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
    match insn.mnemonic() {
        Mnemonic::Psignb => sign!(B16),
        Mnemonic::Psignw => sign!(H8),
        _ => sign!(S4),
    }
    a64!(e.ops
        ; bit V(d).B16, V(neg).B16, V(lt).B16
        ; bic V(d).B16, V(d).B16, V(zero).B16
    );
    Ok(Flow::Next)
}

/// The SSSE3 handler for `insn`, XMM forms only.
pub fn handler(insn: &Instruction) -> Option<Handler> {
    use Mnemonic::*;
    if insn.op0_kind() != OpKind::Register || !insn.op0_register().is_xmm() {
        return None;
    }
    Some(match insn.mnemonic() {
        Pshufb => pshufb,
        Palignr => palignr,
        Phaddw | Phaddd | Phsubw | Phsubd | Phaddsw | Phsubsw => horizontal,
        Pmaddubsw => pmaddubsw,
        Pmulhrsw => pmulhrsw,
        Pabsb | Pabsw | Pabsd => pabs,
        Psignb | Psignw | Psignd => psign,
        _ => return None,
    })
}
