//! SSE3 as lane operations (`vector`): the duplicating moves and the horizontal and
//! alternating float arithmetic. (lddqu is an unaligned load, in `sse`;
//! monitor/mwait are not part of the CPU Transit presents; fisttp is x87.)
//!
//! Horizontal operations first gather each lane's two inputs into two
//! registers (uzp1/uzp2), so the shared NaN fix-up sees the first and second
//! x86 operand of every lane as it does for addps.

use super::sse::x86_nan_rules;
use super::{a64, Emitter, Unsupported};
use super::vector::{sse_equivalent, Lanes};
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::{Instruction, Mnemonic};



/// movddup (the low double twice), movshdup, movsldup (the odd or even
/// single lanes, each twice).
pub(super) fn duplicate(e: &mut Emitter, insn: &Instruction, l: Lanes) -> Result<(), Unsupported> {
    match sse_equivalent(insn.mnemonic()) {
        Mnemonic::Movddup => a64!(e.ops; dup V(l.rd).D2, V(l.rm).D[0]),
        Mnemonic::Movshdup => a64!(e.ops; trn2 V(l.rd).S4, V(l.rm).S4, V(l.rm).S4),
        Mnemonic::Movsldup => a64!(e.ops; trn1 V(l.rd).S4, V(l.rm).S4, V(l.rm).S4),
        _ => return Err(Unsupported),
    }
    Ok(())
}

/// haddps/haddpd/hsubps/hsubpd: lane i of the result combines adjacent lanes
/// of the destination (low half) then of the source (high half).
pub(super) fn horizontal(e: &mut Emitter, insn: &Instruction, l: Lanes) -> Result<(), Unsupported> {
    use Mnemonic::*;
    let Lanes { rd, rn: d, rm: m, .. } = l;
    let (first, second) = (e.vtmp(), e.vtmp());
    let op = sse_equivalent(insn.mnemonic());
    let double = matches!(op, Haddpd | Hsubpd);
    if double {
        a64!(e.ops; uzp1 V(first).D2, V(d).D2, V(m).D2 ; uzp2 V(second).D2, V(d).D2, V(m).D2);
    } else {
        a64!(e.ops; uzp1 V(first).S4, V(d).S4, V(m).S4 ; uzp2 V(second).S4, V(d).S4, V(m).S4);
    }
    match op {
        Haddps => a64!(e.ops; fadd V(rd).S4, V(first).S4, V(second).S4),
        Haddpd => a64!(e.ops; fadd V(rd).D2, V(first).D2, V(second).D2),
        Hsubps => a64!(e.ops; fsub V(rd).S4, V(first).S4, V(second).S4),
        Hsubpd => a64!(e.ops; fsub V(rd).D2, V(first).D2, V(second).D2),
        _ => return Err(Unsupported),
    }
    x86_nan_rules(e, rd, first, second, double, true);
    Ok(())
}

/// addsubps/addsubpd: even lanes subtract, odd lanes add. a - b is
/// a + (-b) in IEEE arithmetic, so one add with the even lanes of the
/// source negated; the NaN fix-up sees the source as written.
pub(super) fn add_sub(e: &mut Emitter, insn: &Instruction, l: Lanes) -> Result<(), Unsupported> {
    let Lanes { rd, rn: d, rm: m, .. } = l;
    let (flipped, r) = (e.vtmp(), e.vtmp());
    let t = e.tmp();
    let double = sse_equivalent(insn.mnemonic()) == Mnemonic::Addsubpd;
    if double {
        e.mov_imm(t, 1 << 63);
        a64!(e.ops
            ; fmov D(flipped), X(t)
            ; eor V(flipped).B16, V(flipped).B16, V(m).B16
            ; fadd V(r).D2, V(d).D2, V(flipped).D2
        );
    } else {
        e.mov_imm(t, 1 << 31);
        a64!(e.ops
            ; dup V(flipped).D2, X(t)
            ; eor V(flipped).B16, V(flipped).B16, V(m).B16
            ; fadd V(r).S4, V(d).S4, V(flipped).S4
        );
    }
    x86_nan_rules(e, r, d, m, double, true);
    a64!(e.ops; mov V(rd).B16, V(r).B16);
    Ok(())
}

