//! AES-NI and PCLMULQDQ on the host's crypto extensions. aarch64 splits an
//! AES round differently from x86: `aese`/`aesd` add the round key *first*
//! (then ShiftRows and SubBytes), x86 adds it *last* (after MixColumns), so
//! the host instruction gets a zero key and the x86 key is xored after.
//! Hosts without FEAT_AES/FEAT_PMULL, and the rare aeskeygenassist, are
//! interpreted (`aes_soft`).

use super::vector::{self, Lanes, Second};
use super::{a64, control, EmitResult, Emitter, Unsupported};
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::Instruction;

/// What an AES-NI instruction computes (the rows' parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AesOp {
    /// aesenc: one encryption round.
    Encrypt,
    /// aesenclast: the last round (no MixColumns).
    EncryptLast,
    /// aesdec.
    Decrypt,
    /// aesdeclast.
    DecryptLast,
    /// aesimc: InvMixColumns of a round key.
    InverseMixColumns,
}

/// aesenc, aesenclast, aesdec, aesdeclast, aesimc and their VEX.128 forms.
pub fn aes(e: &mut Emitter, insn: &Instruction, op: AesOp) -> EmitResult {
    if !e.host.aes {
        return control::interpret(e, insn);
    }
    vector::run(e, insn, move |e: &mut Emitter, _: &Instruction, l: Lanes| aes_round(e, l, op), Second::PerHalf)
}

/// One round: rd = round(state rn, key rm); aesimc: rd = InvMixColumns(rm).
fn aes_round(e: &mut Emitter, l: Lanes, op: AesOp) -> Result<(), Unsupported> {
    let Lanes { rd, rn, rm: key, .. } = l;
    let (zero, t) = (e.vtmp(), e.vtmp());
    a64!(e.ops; movi V(zero).D2, 0 ; mov V(t).B16, V(rn).B16);
    match op {
        AesOp::Encrypt => a64!(e.ops; aese V(t).B16, V(zero).B16 ; aesmc V(t).B16, V(t).B16),
        AesOp::EncryptLast => a64!(e.ops; aese V(t).B16, V(zero).B16),
        AesOp::Decrypt => a64!(e.ops; aesd V(t).B16, V(zero).B16 ; aesimc V(t).B16, V(t).B16),
        AesOp::DecryptLast => a64!(e.ops; aesd V(t).B16, V(zero).B16),
        AesOp::InverseMixColumns => {
            a64!(e.ops; aesimc V(rd).B16, V(key).B16);
            return Ok(());
        }
    }
    a64!(e.ops; eor V(rd).B16, V(t).B16, V(key).B16);
    Ok(())
}

/// pclmulqdq and vpclmulqdq (VEX.128).
pub fn pclmulqdq(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    if !e.host.pmull {
        return control::interpret(e, insn);
    }
    vector::run(e, insn, carryless_multiply, Second::PerHalf)
}

/// imm8 bit 0 selects rn's quadword, bit 4 rm's; `pmull` multiplies the
/// low ones, `pmull2` the high ones, and the mixed selections first move
/// the chosen quadword down.
fn carryless_multiply(e: &mut Emitter, insn: &Instruction, l: Lanes) -> Result<(), Unsupported> {
    let Lanes { rd, rn, rm, .. } = l;
    let imm = insn.immediate8();
    match (imm & 1 != 0, imm & 0x10 != 0) {
        (false, false) => a64!(e.ops; pmull V(rd).Q1, V(rn).D1, V(rm).D1),
        (true, true) => a64!(e.ops; pmull2 V(rd).Q1, V(rn).D2, V(rm).D2),
        (high_n, high_m) => {
            let (a, b) = (e.vtmp(), e.vtmp());
            let (ln, lm) = (high_n as u32, high_m as u32);
            a64!(e.ops
                ; mov V(a).D[0], V(rn).D[ln]
                ; mov V(b).D[0], V(rm).D[lm]
                ; pmull V(rd).Q1, V(a).D1, V(b).D1
            );
        }
    }
    Ok(())
}
