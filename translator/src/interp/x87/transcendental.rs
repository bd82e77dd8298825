//! fsin, fcos, fsincos, fptan, fpatan, f2xm1, fyl2x, fyl2xp1: the true
//! value, computed with astro-float at 192 bits and rounded once to the
//! 64-bit significand in the control word's rounding mode.
//!
//! The hardware is documented to be within 1 ulp in its ranges (SDM vol. 1
//! 8.3.10) and reduces trigonometric arguments with a 66-bit pi, so near
//! multiples of pi it is further off; Transit returns the correctly
//! rounded result (up to a 2^-128 relative chance of a misrounding on a
//! near-tie). Its PE flag is the true result's inexactness; the hardware
//! also raises PE (and C1) for some exact results, e.g. log2(0.5).

use super::status::{DE, IE, PE, ZE};
use super::value::{self, Rounded, INDEFINITE, SIGN};
use astro_float_num::{BigFloat, Consts, RoundingMode, Sign, Word};
use rustc_apfloat::ieee::X87DoubleExtended as F80;
use rustc_apfloat::{Float, Round};
use std::cell::RefCell;

/// Working precision: 128 bits kept, 64 more as guard bits.
const P: usize = 192;
const RM: RoundingMode = RoundingMode::ToEven;

thread_local! {
    // Astro-float caches pi and ln 2 here as it computes them.
    static CONSTS: RefCell<Consts> = RefCell::new(Consts::new().expect("astro-float constants"));
}

fn with_consts<T>(f: impl FnOnce(&mut Consts) -> T) -> T {
    CONSTS.with_borrow_mut(f)
}

/// An instruction's outcome: the result(s) and the exceptions raised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub bits: u128,
    pub flags: u16,
    /// C1: the result was rounded up in magnitude.
    pub up: bool,
}

impl Outcome {
    fn exact(bits: u128) -> Self {
        Outcome { bits, flags: 0, up: false }
    }
    fn invalid() -> Self {
        Outcome { bits: INDEFINITE, flags: IE, up: false }
    }
    fn rounded(r: Rounded) -> Self {
        Outcome { bits: r.bits, flags: r.flags, up: r.up }
    }
    fn with(mut self, flags: u16) -> Self {
        self.flags |= flags;
        self
    }
    pub fn with_flags(self, flags: u16) -> Self {
        self.with(flags)
    }
}

/// A finite nonzero 80-bit value as a BigFloat (exactly).
fn to_big(bits: u128) -> BigFloat {
    let (negative, m, lsb) = value::parts(bits);
    let sign = if negative { Sign::Neg } else { Sign::Pos };
    // astro-float's value is 0.m * 2^e with m's top bit first.
    BigFloat::from_words(&[m as Word], sign, (lsb + 64) as i32)
}

/// Where the true value lies when the computed one sits exactly on a
/// rounding boundary of the 64-bit significand (a representable value or a
/// midpoint): sin(x) and atan(x) of a tiny x are just below |x|, tan(x)
/// just above, cos(x) just below 1. Other results are irrational and never
/// that close to a boundary.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Near {
    Below,
    Above,
    Unknown,
}

/// Rounds a finite BigFloat (computed to `P` bits) to 80 bits.
fn from_big(x: &BigFloat, round: Round, near: Near) -> Outcome {
    if x.is_zero() {
        // Only a result that underflowed inside astro-float: a tiny inexact.
        let negative = x.is_negative();
        return Outcome::rounded(value::round_to_f80(negative, 1, -(1 << 20), true, round));
    }
    let Some((words, _, sign, exponent, _)) = x.as_raw_parts() else {
        return Outcome::invalid();
    };
    let n = words.len();
    let word = |i: usize| if n > i { words[n - 1 - i] } else { 0 };
    let top = (word(0) as u128) << 64 | word(1) as u128;
    let rest = (2..n).any(|i| word(i) != 0);
    // The 64 bits below the significand, then the rest: on a boundary
    // when they are 0 or exactly one half.
    let on_boundary = !rest && (word(1) == 0 || word(1) == 1 << 63);
    let (top, sticky) = match near {
        _ if !on_boundary => (top, true),
        Near::Below => (top - 1, true),
        Near::Above => (top, true),
        Near::Unknown => (top, false),
    };
    let r = value::round_to_f80(sign == Sign::Neg, top, exponent as i64 - 128, sticky, round);
    Outcome::rounded(r)
}

/// The NaN/unsupported/denormal checks shared by one-operand functions:
/// Some(outcome) when the operand decides the result alone.
fn operand_rules(x: u128) -> (Option<Outcome>, u16) {
    if let Some(r) = value::special_result(&[x]) {
        let flags = if value::invalid_operand(&[x]) { IE } else { 0 };
        return (Some(Outcome { bits: r, flags, up: false }), 0);
    }
    (None, if value::is_denormal(x) { DE } else { 0 })
}

/// The trigonometric functions' shared outcome: `Err(())` when |x| >= 2^63
/// (C2 = 1, the operand stays).
pub enum Trig {
    Sin,
    Cos,
    Tan,
}

/// fsin, fcos, fptan's tangent (SDM vol. 2): out of range (|x| >= 2^63)
/// is `None`.
pub fn trig(f: Trig, x: u128, round: Round) -> Option<Outcome> {
    let (special, de) = operand_rules(x);
    if let Some(o) = special {
        return Some(o);
    }
    if value::is_infinity(x) {
        return Some(Outcome::invalid());
    }
    if value::exponent_field(x) as i64 >= value::BIAS + 63 {
        return None;
    }
    if value::is_zero(x) {
        return Some(match f {
            Trig::Cos => Outcome::exact(F80::from_i128(1).value.to_bits()),
            _ => Outcome::exact(x),
        });
    }
    let b = to_big(x);
    let r = with_consts(|cc| match f {
        Trig::Sin => b.sin(P, RM, cc),
        Trig::Cos => b.cos(P, RM, cc),
        Trig::Tan => b.tan(P, RM, cc),
    });
    let near = match f {
        Trig::Sin | Trig::Cos => Near::Below,
        Trig::Tan => Near::Above,
    };
    Some(from_big(&r, round, near).with(de))
}

/// fpatan: atan2(y, x) with C's quadrant rules, which the FPU shares.
pub fn atan2(y: u128, x: u128, round: Round) -> Outcome {
    if let Some(r) = value::special_result(&[x, y]) {
        let flags = if value::invalid_operand(&[x, y]) { IE } else { 0 };
        return Outcome { bits: r, flags, up: false };
    }
    let de = if value::is_denormal(x) || value::is_denormal(y) { DE } else { 0 };
    let y_negative = value::is_negative(y);
    let x_negative = value::is_negative(x);
    let sign = |o: Outcome| {
        if y_negative {
            Outcome { bits: o.bits | SIGN, ..o }
        } else {
            o
        }
    };
    // Multiples of pi/4 for the special cases.
    let quarter_pi = |k: u64| -> Outcome {
        let pi = with_consts(|cc| cc.pi(P, RM));
        let v = pi.mul(&BigFloat::from_word(k, 64), P, RM).div(&BigFloat::from_word(4, 64), P, RM);
        from_big(&v, round_for_magnitude(round, y_negative), Near::Unknown)
    };
    let (xz, yz) = (value::is_zero(x), value::is_zero(y));
    let (xi, yi) = (value::is_infinity(x), value::is_infinity(y));
    let o = if yz {
        if x_negative {
            quarter_pi(4)
        } else {
            Outcome::exact(0)
        }
    } else if yi {
        match (xi, x_negative) {
            (true, false) => quarter_pi(1),
            (true, true) => quarter_pi(3),
            _ => quarter_pi(2),
        }
    } else if xi {
        if x_negative {
            quarter_pi(4)
        } else {
            Outcome::exact(0)
        }
    } else if xz {
        quarter_pi(2)
    } else {
        let (bx, by) = (to_big(x & !SIGN), to_big(y & !SIGN));
        let q = by.div(&bx, P + 64, RM);
        let a = with_consts(|cc| q.atan(P + 64, RM, cc));
        let a = if x_negative { with_consts(|cc| cc.pi(P + 64, RM)).sub(&a, P, RM) } else { a };
        from_big(&a, round_for_magnitude(round, y_negative), if x_negative { Near::Unknown } else { Near::Below })
    };
    sign(o).with(de)
}

/// Rounding a magnitude whose sign is applied afterwards.
fn round_for_magnitude(round: Round, negative: bool) -> Round {
    match (round, negative) {
        (Round::TowardPositive, true) => Round::TowardNegative,
        (Round::TowardNegative, true) => Round::TowardPositive,
        _ => round,
    }
}

/// f2xm1: 2^x - 1 (documented for -1 <= x <= 1; computed everywhere).
pub fn exp2m1(x: u128, round: Round) -> Outcome {
    let (special, de) = operand_rules(x);
    if let Some(o) = special {
        return o;
    }
    if value::is_zero(x) {
        return Outcome::exact(x);
    }
    let negative = value::is_negative(x);
    if value::is_infinity(x) {
        return Outcome::exact(if negative { F80::from_i128(-1).value.to_bits() } else { x });
    }
    let e = value::exponent_field(x) as i64 - value::BIAS;
    if e >= 15 {
        // 2^x - 1 is beyond the format, or -1 less a part below 2^-32768.
        return if negative {
            Outcome::rounded(value::round_to_f80(true, u128::MAX, -128, true, round)).with(de)
        } else {
            Outcome::rounded(value::round_to_f80(false, 1, 1 << 20, false, round)).with(de)
        };
    }
    // Integers (-1, 1 and larger) give exact results.
    let fx = F80::from_bits(x);
    if fx.round_to_integral(Round::TowardZero).value == fx {
        let mut exact = false;
        let k = fx.to_i128_r(64, Round::TowardZero, &mut exact).value as i64;
        let r = F80::from_i128(1).value.scalbn(k as i32) - F80::from_i128(1).value;
        return Outcome::exact(r.value.to_bits()).with(de);
    }
    let b = to_big(x);
    let r = with_consts(|cc| {
        let ln2 = cc.ln_2(P + 256, RM);
        let t = b.mul(&ln2, P + 256, RM);
        if e < -128 {
            // t + t^2/2 + t^3/6: the rest is below 2^-384 relative.
            let t2 = t.mul(&t, P + 64, RM);
            let t3 = t2.mul(&t, P + 64, RM);
            let half_t2 = t2.div(&BigFloat::from_word(2, 64), P + 64, RM);
            t.add(&half_t2, P + 64, RM).add(&t3.div(&BigFloat::from_word(6, 64), P + 64, RM), P, RM)
        } else {
            // 2^x at 2^-384 relative: at least 2^-256 relative after the
            // cancellation of "- 1" for |x| >= 2^-128.
            t.exp(P + 192, RM, cc).sub(&BigFloat::from_word(1, 64), P, RM)
        }
    });
    from_big(&r, round, Near::Unknown).with(de)
}

/// log2 of fyl2x's x or fyl2xp1's 1 + x, before the multiplication by y.
enum Log {
    Zero { negative: bool },
    Infinity { negative: bool },
    Finite(BigFloat),
}

/// fyl2x (`plus_one` false: y * log2(x)) and fyl2xp1 (y * log2(1 + x)).
pub fn y_log2(y: u128, x: u128, plus_one: bool, round: Round) -> Outcome {
    if let Some(r) = value::special_result(&[x, y]) {
        let flags = if value::invalid_operand(&[x, y]) { IE } else { 0 };
        return Outcome { bits: r, flags, up: false };
    }
    let de = if value::is_denormal(x) || value::is_denormal(y) { DE } else { 0 };
    let one = F80::from_i128(1).value;
    let fx = F80::from_bits(x);
    let mut flags = de;
    let log = if value::is_zero(x) {
        if plus_one {
            Log::Zero { negative: value::is_negative(x) }
        } else {
            flags |= ZE;
            Log::Infinity { negative: true }
        }
    } else if value::is_negative(x) && (!plus_one || fx < -one) {
        return Outcome::invalid().with(de);
    } else if plus_one && fx == -one {
        flags |= ZE;
        Log::Infinity { negative: true }
    } else if value::is_infinity(x) {
        Log::Infinity { negative: false }
    } else if !plus_one && fx == one {
        Log::Zero { negative: false }
    } else if !plus_one && value::significand(x) == 1 << 63 {
        // A power of two: log2 is an integer, and y * k one rounding.
        let k = value::exponent_field(x) as i64 - value::BIAS;
        let mut l = BigFloat::from_word(k.unsigned_abs(), 64);
        if k < 0 {
            l.set_sign(Sign::Neg);
        }
        Log::Finite(l)
    } else {
        let bx = to_big(x);
        Log::Finite(with_consts(|cc| {
            if plus_one && value::exponent_field(x) as i64 - value::BIAS < -128 {
                // (x - x^2/2 + x^3/3) / ln 2: the rest is below 2^-384 relative.
                let x2 = bx.mul(&bx, P + 64, RM);
                let x3 = x2.mul(&bx, P + 64, RM);
                let half_x2 = x2.div(&BigFloat::from_word(2, 64), P + 64, RM);
                let s = bx.sub(&half_x2, P + 64, RM).add(&x3.div(&BigFloat::from_word(3, 64), P + 64, RM), P + 64, RM);
                s.div(&cc.ln_2(P + 64, RM), P + 64, RM)
            } else if plus_one {
                // 1 + x is exact at this precision for |x| >= 2^-128 up to 2^64.
                let sum = bx.add(&BigFloat::from_word(1, 64), P + 256, RM);
                sum.log2(P + 64, RM, cc)
            } else {
                bx.log2(P + 64, RM, cc)
            }
        }))
    };
    let y_negative = value::is_negative(y);
    let y_zero = value::is_zero(y);
    let y_infinite = value::is_infinity(y);
    let r = match log {
        Log::Zero { negative } => {
            if y_infinite {
                return Outcome::invalid().with(de);
            }
            Outcome::exact(if negative != y_negative { SIGN } else { 0 })
        }
        Log::Infinity { negative } => {
            if y_zero {
                return Outcome::invalid().with(de);
            }
            if !y_infinite && value::is_zero(x) && !plus_one {
                flags |= ZE;
            } else if y_infinite {
                flags &= !ZE;
            }
            Outcome::exact(if negative != y_negative { SIGN } else { 0 } | 0x7fff << 64 | 1 << 63)
        }
        Log::Finite(l) => {
            if y_zero {
                Outcome::exact(if l.is_negative() != y_negative { SIGN } else { 0 })
            } else if y_infinite {
                Outcome::exact(if l.is_negative() != y_negative { SIGN } else { 0 } | 0x7fff << 64 | 1 << 63)
            } else if value::significand(x) == 1 << 63 && !plus_one {
                // Exact log: y * k rounded once, by the 80-bit multiplication.
                let k = value::exponent_field(x) as i64 - value::BIAS;
                let p = F80::from_bits(y).mul_r(F80::from_i128(k as i128).value, round);
                let pz = F80::from_bits(y).mul_r(F80::from_i128(k as i128).value, Round::TowardZero);
                Outcome {
                    bits: p.value.to_bits(),
                    flags: super::status::from_apfloat(p.status),
                    up: value::rounded_up(p.value, pz.value),
                }
            } else {
                from_big(&to_big(y).mul(&l, P, RM), round, Near::Unknown)
            }
        }
    };
    r.with(flags & !PE)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NEAREST: Round = Round::NearestTiesToEven;

    fn f(v: f64) -> u128 {
        let mut loses = false;
        use rustc_apfloat::FloatConvert;
        let d = rustc_apfloat::ieee::Double::from_bits(v.to_bits() as u128);
        let r: F80 = d.convert(&mut loses).value;
        r.to_bits()
    }

    /// Within one ulp of the answers of an Intel Xeon (fsin etc. run on
    /// 80-bit inputs by a C program with inline asm, round to nearest).
    fn close(ours: u128, hardware: u128) -> bool {
        (ours as i128 - hardware as i128).abs() <= 1
    }

    #[test]
    fn trigonometric_functions_match_the_hardware_within_an_ulp() {
        let s = |x, t| trig(t, f(x), NEAREST).unwrap().bits;
        assert!(close(s(1.0, Trig::Sin), 0x3ffe_d76a_a478_4867_7021));
        assert!(close(s(1.0, Trig::Cos), 0x3ffe_8a51_407d_a834_5c92));
        assert!(close(s(1.0, Trig::Tan), 0x3fff_c759_22e5_f71d_2dc5));
        // Far from 0 the hardware's 66-bit pi shows: sin(100) is c036 on the
        // Xeon, c038 correctly rounded (mpmath at 400 bits); sin(2^62) is
        // 0xbffe_b506_a9dd_559c_f157 there.
        assert_eq!(s(100.0, Trig::Sin), 0xbffe_81a1_2dbc_626d_c038);
        assert_eq!(s(2f64.powi(62), Trig::Sin), 0xbffe_b3f2_b9aa_f80a_3946);
        assert!(close(s(1e-5, Trig::Cos), 0x3ffe_ffff_ffff_c906_404c));
        // 2^63 is out of range: the operand stays.
        assert!(trig(Trig::Sin, f(9223372036854775808.0), NEAREST).is_none());
        assert_eq!(trig(Trig::Sin, 0x7fff_8000_0000_0000_0000, NEAREST).unwrap(), Outcome::invalid());
    }

    #[test]
    fn arctangent_logarithm_and_exponential_match_the_hardware() {
        let one = f(1.0);
        assert!(close(atan2(f(1.0), one, NEAREST).bits, 0x3ffe_c90f_daa2_2168_c235));
        assert!(close(atan2(f(0.5), one, NEAREST).bits, 0x3ffd_ed63_382b_0dda_7b45));
        assert_eq!(atan2(0, f(-1.0), NEAREST).bits, 0x4000_c90f_daa2_2168_c235);
        assert!(close(y_log2(one, f(3.0), false, NEAREST).bits, 0x3fff_cae0_0d1c_fdeb_43d0));
        assert!(close(y_log2(one, f(100.0), false, NEAREST).bits, 0x4001_d49a_784b_cd1b_8afe));
        assert_eq!(y_log2(one, f(0.5), false, NEAREST).bits, 0xbfff_8000_0000_0000_0000);
        assert_eq!(
            y_log2(one, 0, false, NEAREST),
            Outcome { bits: SIGN | 0x7fff_8000_0000_0000_0000, flags: ZE, up: false }
        );
        assert!(close(y_log2(one, f(0.5), true, NEAREST).bits, 0x3ffe_95c0_1a39_fbd6_87a0));
        // Correctly rounded values (mpmath) for the double 1e-3.
        assert_eq!(y_log2(one, f(1e-3), true, NEAREST).bits, 0x3ff5_bd00_9fd6_5363_5578);
        assert!(close(exp2m1(f(0.5), NEAREST).bits, 0x3ffd_d413_cccf_e779_9211));
        assert!(close(exp2m1(f(-0.5), NEAREST).bits, 0xbffd_95f6_1998_0c43_36f7));
        assert_eq!(exp2m1(f(1e-3), NEAREST).bits, 0x3ff4_b5c4_71e6_a560_ac08);
        assert_eq!(exp2m1(f(-1.0), NEAREST).bits, 0xbffe_8000_0000_0000_0000);
    }
}
