//! FMA3: fused multiply-add with one rounding, as aarch64's fmla/fmadd.
//! Every form is `a * b ± c` with its operands chosen by the digits of its
//! name (132: dst * src3 + src2; 213: src2 * dst + src3; 231: src2 * src3
//! + dst) and signs by its kind. They are lane operations (`vector`) that
//! read the destination too.

use super::aarch64::{Inst, VReg};
use super::sse::x86_nan_rules_of;
use super::vector::{LaneOp, Lanes};
use super::{a64, Emitter, Reg, Unsupported};
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::{Instruction, Mnemonic};

/// What is added to the product, and with which signs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
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

/// Which operands are a, b and c.
#[derive(Clone, Copy)]
enum Order {
    O132,
    O213,
    O231,
}

#[derive(Clone, Copy)]
struct Form {
    kind: Kind,
    order: Order,
    double: bool,
    scalar: bool,
}

fn form(m: Mnemonic) -> Option<Form> {
    use Kind::*;
    use Mnemonic as M;
    use Order::*;
    macro_rules! forms {
        ($($kind:ident: $ps:ident $pd:ident $ss:ident $sd:ident, $order:ident;)*) => {
            match m {
                $(
                    M::$ps => (Some($kind), $order, false, false),
                    M::$pd => (Some($kind), $order, true, false),
                    M::$ss => (Some($kind), $order, false, true),
                    M::$sd => (Some($kind), $order, true, true),
                )*
                M::Vfmaddsub132ps => (Some(AddSub), O132, false, false),
                M::Vfmaddsub132pd => (Some(AddSub), O132, true, false),
                M::Vfmaddsub213ps => (Some(AddSub), O213, false, false),
                M::Vfmaddsub213pd => (Some(AddSub), O213, true, false),
                M::Vfmaddsub231ps => (Some(AddSub), O231, false, false),
                M::Vfmaddsub231pd => (Some(AddSub), O231, true, false),
                M::Vfmsubadd132ps => (Some(SubAdd), O132, false, false),
                M::Vfmsubadd132pd => (Some(SubAdd), O132, true, false),
                M::Vfmsubadd213ps => (Some(SubAdd), O213, false, false),
                M::Vfmsubadd213pd => (Some(SubAdd), O213, true, false),
                M::Vfmsubadd231ps => (Some(SubAdd), O231, false, false),
                M::Vfmsubadd231pd => (Some(SubAdd), O231, true, false),
                _ => (None, O132, false, false),
            }
        };
    }
    let (kind, order, double, scalar) = forms! {
        Add: Vfmadd132ps Vfmadd132pd Vfmadd132ss Vfmadd132sd, O132;
        Add: Vfmadd213ps Vfmadd213pd Vfmadd213ss Vfmadd213sd, O213;
        Add: Vfmadd231ps Vfmadd231pd Vfmadd231ss Vfmadd231sd, O231;
        Sub: Vfmsub132ps Vfmsub132pd Vfmsub132ss Vfmsub132sd, O132;
        Sub: Vfmsub213ps Vfmsub213pd Vfmsub213ss Vfmsub213sd, O213;
        Sub: Vfmsub231ps Vfmsub231pd Vfmsub231ss Vfmsub231sd, O231;
        NegAdd: Vfnmadd132ps Vfnmadd132pd Vfnmadd132ss Vfnmadd132sd, O132;
        NegAdd: Vfnmadd213ps Vfnmadd213pd Vfnmadd213ss Vfnmadd213sd, O213;
        NegAdd: Vfnmadd231ps Vfnmadd231pd Vfnmadd231ss Vfnmadd231sd, O231;
        NegSub: Vfnmsub132ps Vfnmsub132pd Vfnmsub132ss Vfnmsub132sd, O132;
        NegSub: Vfnmsub213ps Vfnmsub213pd Vfnmsub213ss Vfnmsub213sd, O213;
        NegSub: Vfnmsub231ps Vfnmsub231pd Vfnmsub231ss Vfnmsub231sd, O231;
    };
    Some(Form { kind: kind?, order, double, scalar })
}

/// FMA's lane operations (`vector`).
pub(super) fn lane_op(insn: &Instruction) -> Option<LaneOp> {
    form(insn.mnemonic()).map(|_| fused as LaneOp)
}

/// `rd = a * b ± c` (rd is the destination, an input too).
fn fused(e: &mut Emitter, insn: &Instruction, l: Lanes) -> Result<(), Unsupported> {
    let f = form(insn.mnemonic()).ok_or(Unsupported)?;
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
