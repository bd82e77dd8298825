//! FMA3: fused multiply-add with one rounding, as aarch64's fmla/fmadd.
//! Every form is `a * b ± c` with its operands chosen by the digits of its
//! name (132: dst * src3 + src2; 213: src2 * dst + src3; 231: src2 * src3
//! + dst) and signs by its kind. They are lane operations (`vector`) that
//! read the destination too.

use super::aarch64::{Inst, VReg};
use super::sse::x86_nan_rules_of;
use super::vector::Lanes;
use super::{a64, Emitter, Reg, Unsupported};
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};

/// What is added to the product, and with which signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// a*b + c
    Add,
    /// a*b - c
    Sub,
    /// -(a*b) + c
    NegAdd,
    /// -(a*b) - c
    NegSub,
    /// a*b - c in even lanes, a*b + c in odd ones
    AddSub,
    /// a*b + c in even lanes, a*b - c in odd ones
    SubAdd,
}

/// Which operands are a, b and c (the digits of the form's name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    /// dst * src3 + src2
    O132,
    /// src2 * dst + src3
    O213,
    /// src2 * src3 + dst
    O231,
}

/// One FMA3 form, as its row in `frontend::forms` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fma {
    pub kind: Kind,
    pub order: Order,
    pub double: bool,
    /// The low element only (ss, sd); else every element.
    pub scalar: bool,
}

impl Fma {
    pub const fn ps(kind: Kind, order: Order) -> Fma {
        Fma { kind, order, double: false, scalar: false }
    }
    pub const fn pd(kind: Kind, order: Order) -> Fma {
        Fma { kind, order, double: true, scalar: false }
    }
    pub const fn ss(kind: Kind, order: Order) -> Fma {
        Fma { kind, order, double: false, scalar: true }
    }
    pub const fn sd(kind: Kind, order: Order) -> Fma {
        Fma { kind, order, double: true, scalar: true }
    }
}

/// `rd = a * b ± c` (rd is the destination, an input too).
pub(super) fn fused(e: &mut Emitter, f: Fma, l: Lanes) -> Result<(), Unsupported> {
    let Lanes { rd: dst, rn: src2, rm: src3, .. } = l;
    let (a, b, c) = match f.order {
        Order::O132 => (dst, src3, src2),
        Order::O213 => (src2, dst, src3),
        Order::O231 => (src2, src3, dst),
    };
    let t = e.vtmp();
    if f.scalar {
        // fmadd: c + a*b; fmsub: c - a*b; fnmadd: -c - a*b; fnmsub: -c + a*b.
        match (f.kind, f.double) {
            (Kind::Add, true) => a64!(e.ops; fmadd D(t), D(a), D(b), D(c)),
            (Kind::Add, false) => a64!(e.ops; fmadd S(t), S(a), S(b), S(c)),
            (Kind::Sub, true) => a64!(e.ops; fnmsub D(t), D(a), D(b), D(c)),
            (Kind::Sub, false) => a64!(e.ops; fnmsub S(t), S(a), S(b), S(c)),
            (Kind::NegAdd, true) => a64!(e.ops; fmsub D(t), D(a), D(b), D(c)),
            (Kind::NegAdd, false) => a64!(e.ops; fmsub S(t), S(a), S(b), S(c)),
            (Kind::NegSub, true) => a64!(e.ops; fnmadd D(t), D(a), D(b), D(c)),
            (Kind::NegSub, false) => a64!(e.ops; fnmadd S(t), S(a), S(b), S(c)),
            _ => return Err(Unsupported),
        }
        // A NaN input wins in the order of the expression: a, b, c.
        x86_nan_rules_of(e, t, &[a, b, c], f.double, false);
        if f.double {
            a64!(e.ops; ins V(dst).D[0], V(t).D[0]);
        } else {
            a64!(e.ops; ins V(dst).S[0], V(t).S[0]);
        }
        return Ok(());
    }
    // The accumulator: c, with the lanes to subtract negated (exact), then
    // t += a*b or t -= a*b in one rounding.
    let negated = match f.kind {
        Kind::Add | Kind::NegAdd => None,
        Kind::Sub | Kind::NegSub => Some(Negated::All),
        Kind::AddSub => Some(Negated::Even),
        Kind::SubAdd => Some(Negated::Odd),
    };
    match negated {
        None => e.inst(Inst::VecMove { rd: VReg(t), rn: VReg(c) }),
        Some(which) => {
            let mask = sign_mask(e, which, f.double);
            a64!(e.ops; eor V(t).B16, V(c).B16, V(mask).B16);
        }
    }
    let product_negated = matches!(f.kind, Kind::NegAdd | Kind::NegSub);
    match (product_negated, f.double) {
        (false, true) => a64!(e.ops; fmla V(t).D2, V(a).D2, V(b).D2),
        (false, false) => a64!(e.ops; fmla V(t).S4, V(a).S4, V(b).S4),
        (true, true) => a64!(e.ops; fmls V(t).D2, V(a).D2, V(b).D2),
        (true, false) => a64!(e.ops; fmls V(t).S4, V(a).S4, V(b).S4),
    }
    x86_nan_rules_of(e, t, &[a, b, c], f.double, true);
    e.inst(Inst::VecMove { rd: VReg(dst), rn: VReg(t) });
    Ok(())
}

/// Which lanes of the addend are negated.
#[derive(Clone, Copy)]
enum Negated {
    All,
    Even,
    Odd,
}

/// A register with the sign bit set in the lanes `which` names.
fn sign_mask(e: &mut Emitter, which: Negated, double: bool) -> Reg {
    let mask = e.vtmp();
    let x = e.tmp();
    let sign: u64 = if double { 1 << 63 } else { 1 << 31 };
    match (which, double) {
        (Negated::All, true) => {
            e.mov_imm(x, sign);
            a64!(e.ops; dup V(mask).D2, X(x));
        }
        (Negated::All, false) => {
            e.mov_imm(x, sign);
            a64!(e.ops; dup V(mask).S4, W(x));
        }
        // Even lanes: the low element of each 64-bit pair (singles) or
        // lane 0 (doubles); odd lanes the other.
        (Negated::Even, true) => {
            e.mov_imm(x, sign);
            a64!(e.ops; fmov D(mask), X(x));
        }
        (Negated::Odd, true) => {
            e.mov_imm(x, sign);
            a64!(e.ops; movi V(mask).D2, 0 ; ins V(mask).D[1], X(x));
        }
        (Negated::Even, false) => {
            e.mov_imm(x, sign);
            a64!(e.ops; dup V(mask).D2, X(x));
        }
        (Negated::Odd, false) => {
            e.mov_imm(x, sign << 32);
            a64!(e.ops; dup V(mask).D2, X(x));
        }
    }
    mask
}
