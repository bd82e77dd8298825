//! AES-NI and PCLMULQDQ on the host's crypto extensions. aarch64 splits an
//! AES round differently from x86: `aese`/`aesd` add the round key *first*
//! (then ShiftRows and SubBytes), x86 adds it *last* (after MixColumns), so
//! the host instruction gets a zero key and the x86 key is xored after.
//! Hosts without FEAT_AES/FEAT_PMULL, and the rare aeskeygenassist, are
//! interpreted (`aes_soft`).

use super::{a64, control, EmitResult, Emitter, Flow, Unsupported};
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::{Instruction, Mnemonic};

/// aesenc, aesenclast, aesdec, aesdeclast, aesimc.
pub fn aes(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    if !e.host.aes {
        return control::interpret(e, insn);
    }
    let d = e.xmm_dst(insn)?;
    let key = e.vsrc(insn, 1, 16)?;
    let (zero, t) = (e.vtmp(), e.vtmp());
    a64!(e.ops; movi V(zero).D2, 0 ; mov V(t).B16, V(d).B16);
    match insn.mnemonic() {
        Mnemonic::Aesenc => a64!(e.ops; aese V(t).B16, V(zero).B16 ; aesmc V(t).B16, V(t).B16),
        Mnemonic::Aesenclast => a64!(e.ops; aese V(t).B16, V(zero).B16),
        Mnemonic::Aesdec => a64!(e.ops; aesd V(t).B16, V(zero).B16 ; aesimc V(t).B16, V(t).B16),
        Mnemonic::Aesdeclast => a64!(e.ops; aesd V(t).B16, V(zero).B16),
        Mnemonic::Aesimc => {
            a64!(e.ops; aesimc V(d).B16, V(key).B16);
            return Ok(Flow::Next);
        }
        _ => return Err(Unsupported),
    }
    a64!(e.ops; eor V(d).B16, V(t).B16, V(key).B16);
    Ok(Flow::Next)
}

/// pclmulqdq: imm8 bit 0 selects the destination's quadword, bit 4 the
/// source's; `pmull` multiplies the low ones, `pmull2` the high ones, and
/// the mixed selections first move the chosen quadword down.
pub fn pclmulqdq(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    if !e.host.pmull {
        return control::interpret(e, insn);
    }
    let d = e.xmm_dst(insn)?;
    let s = e.vsrc(insn, 1, 16)?;
    let imm = insn.immediate8();
    match (imm & 1 != 0, imm & 0x10 != 0) {
        (false, false) => a64!(e.ops; pmull V(d).Q1, V(d).D1, V(s).D1),
        (true, true) => a64!(e.ops; pmull2 V(d).Q1, V(d).D2, V(s).D2),
        (high_d, high_s) => {
            let (a, b) = (e.vtmp(), e.vtmp());
            let (ld, ls) = (high_d as u32, high_s as u32);
            a64!(e.ops
                ; mov V(a).D[0], V(d).D[ld]
                ; mov V(b).D[0], V(s).D[ls]
                ; pmull V(d).Q1, V(a).D1, V(b).D1
            );
        }
    }
    Ok(Flow::Next)
}
