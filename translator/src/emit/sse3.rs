//! SSE3 as lane operations (`vector`): the duplicating moves and the horizontal and
//! alternating float arithmetic. (lddqu is an unaligned load, in `sse`;
//! monitor/mwait are not part of the CPU Transit presents; fisttp is x87.)
//!
//! Horizontal operations first gather each lane's two inputs into two
//! registers (uzp1/uzp2), so the shared NaN fix-up sees the first and second
//! x86 operand of every lane as it does for addps.

use super::sse::{x86_nan_rules, x86_nan_rules_unless_afp, Double};
use super::{a64, Emitter, Unsupported};
use super::vector::Lanes;
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};



/// movddup (the low double twice), movshdup, movsldup (the odd or even
/// single lanes, each twice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Duplicate {
    /// movddup.
    LowDouble,
    /// movshdup.
    OddSingles,
    /// movsldup.
    EvenSingles,
}

pub(super) fn duplicate(e: &mut Emitter, l: Lanes, which: Duplicate) -> Result<(), Unsupported> {
    match which {
        Duplicate::LowDouble => a64!(e.ops; dup V(l.rd).D2, V(l.rm).D[0]),
        Duplicate::OddSingles => a64!(e.ops; trn2 V(l.rd).S4, V(l.rm).S4, V(l.rm).S4),
        Duplicate::EvenSingles => a64!(e.ops; trn1 V(l.rd).S4, V(l.rm).S4, V(l.rm).S4),
    }
    Ok(())
}

/// haddps/haddpd/hsubps/hsubpd: lane i of the result combines adjacent lanes
/// of the destination (low half) then of the source (high half).
/// `subtract`: hsub (true) or hadd.
pub(super) fn horizontal(e: &mut Emitter, l: Lanes, subtract: bool, double: Double) -> Result<(), Unsupported> {
    let Lanes { rd, rn: d, rm: m, .. } = l;
    let (first, second) = (e.vtmp(), e.vtmp());
    if double {
        a64!(e.ops; uzp1 V(first).D2, V(d).D2, V(m).D2 ; uzp2 V(second).D2, V(d).D2, V(m).D2);
    } else {
        a64!(e.ops; uzp1 V(first).S4, V(d).S4, V(m).S4 ; uzp2 V(second).S4, V(d).S4, V(m).S4);
    }
    match (subtract, double) {
        (false, false) => a64!(e.ops; fadd V(rd).S4, V(first).S4, V(second).S4),
        (false, true) => a64!(e.ops; fadd V(rd).D2, V(first).D2, V(second).D2),
        (true, false) => a64!(e.ops; fsub V(rd).S4, V(first).S4, V(second).S4),
        (true, true) => a64!(e.ops; fsub V(rd).D2, V(first).D2, V(second).D2),
    }
    x86_nan_rules_unless_afp(e, rd, first, second, double, true);
    Ok(())
}

/// addsubps/addsubpd: even lanes subtract, odd lanes add. a - b is
/// a + (-b) in IEEE arithmetic, so one add with the even lanes of the
/// source negated; the NaN fix-up sees the source as written.
pub(super) fn add_sub(e: &mut Emitter, l: Lanes, double: Double) -> Result<(), Unsupported> {
    let Lanes { rd, rn: d, rm: m, .. } = l;
    let (flipped, r) = (e.vtmp(), e.vtmp());
    let t = e.tmp();
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

