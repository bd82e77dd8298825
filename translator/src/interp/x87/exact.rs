//! The x87 operations whose results the SDM specifies exactly beyond the
//! basic arithmetic: fsqrt, fscale, fxtract, frndint, fprem and fprem1.

use super::status::{C0, C1, C2, C3, DE, IE, PE, ZE};
use super::transcendental::Outcome;
use super::value::{self, Rounded, INDEFINITE, SIGN};
use rustc_apfloat::ieee::X87DoubleExtended as F80;
use rustc_apfloat::{Float, Round};

/// The operand rules every operation here starts with (NaNs, unsupported
/// encodings) and the denormal-operand flag.
fn operands(inputs: &[u128]) -> Result<u16, Outcome> {
    if let Some(r) = value::special_result(inputs) {
        let flags = if value::invalid_operand(inputs) { IE } else { 0 };
        return Err(Outcome { bits: r, flags, up: false });
    }
    Ok(if inputs.iter().any(|&b| value::is_denormal(b)) { DE } else { 0 })
}

fn from_rounded(r: Rounded, de: u16) -> Outcome {
    Outcome { bits: r.bits, flags: r.flags | de, up: r.up }
}

/// fsqrt, correctly rounded by integer square root of the significand:
/// value = N * 2^k with k even, then `isqrt` of N scaled so the root has
/// exactly 64 bits; the remainder decides the rounding.
pub fn sqrt(v: u128, round: Round, precision: i64) -> Outcome {
    let de = match operands(&[v]) {
        Ok(de) => de,
        Err(o) => return o,
    };
    if value::is_zero(v) || (value::is_infinity(v) && !value::is_negative(v)) {
        return Outcome { bits: v, flags: de, up: false };
    }
    if value::is_negative(v) {
        return Outcome { bits: INDEFINITE, flags: IE | de, up: false };
    }
    let (_, m, lsb) = value::parts(v);
    let mut k = lsb;
    let mut n = m as u128;
    if k % 2 != 0 {
        n <<= 1;
        k -= 1;
    }
    // Shift by an even amount so that the root has 64 bits.
    let shift = n.leading_zeros() as i64 & !1;
    let radicand = n << shift;
    let q = radicand.isqrt();
    let remainder = radicand - q * q;
    // The root is (q + f) * 2^((k - shift) / 2) with 0 <= f < 1; its next
    // bit is f >= 1/2, i.e. remainder > q, and bits below are nonzero
    // unless the remainder is.
    let half_exp = (k - shift) / 2;
    let r = value::round_to_precision(
        false,
        q << 1 | (remainder > q) as u128,
        half_exp - 1,
        remainder != 0,
        round,
        precision,
    );
    from_rounded(r, de)
}

/// fscale: ST(0) * 2^trunc(ST(1)), with the FPU's NaN and infinity rules.
pub fn scale(v: u128, s: u128, round: Round) -> Outcome {
    let de = match operands(&[v, s]) {
        Ok(de) => de,
        Err(o) => return o,
    };
    let exact = |bits| Outcome { bits, flags: de, up: false };
    if value::is_infinity(s) {
        let s_negative = value::is_negative(s);
        return match (s_negative, value::is_zero(v), value::is_infinity(v)) {
            (false, true, _) | (true, _, true) => Outcome { bits: INDEFINITE, flags: IE | de, up: false },
            (false, false, _) => exact(v & SIGN | 0x7fff_8000_0000_0000_0000),
            (true, _, false) => exact(v & SIGN),
        };
    }
    if value::is_zero(v) || value::is_infinity(v) {
        return exact(v);
    }
    let mut is_exact = false;
    // Beyond +-2^17 every finite result has already over- or underflowed.
    let n = F80::from_bits(s).to_i128_r(64, Round::TowardZero, &mut is_exact).value.clamp(-(1 << 17), 1 << 17);
    let (negative, m, lsb) = value::parts(v);
    from_rounded(value::round_to_f80(negative, m as u128, lsb + n as i64, false, round), de)
}

/// fxtract: (exponent, significand) of ST(0), both as 80-bit values.
pub fn extract(v: u128) -> (Outcome, Outcome) {
    let de = match operands(&[v]) {
        Ok(de) => de,
        Err(o) => return (o, o),
    };
    if value::is_zero(v) {
        let minus_infinity = Outcome { bits: SIGN | 0x7fff_8000_0000_0000_0000, flags: ZE | de, up: false };
        return (minus_infinity, Outcome { bits: v, flags: ZE | de, up: false });
    }
    if value::is_infinity(v) {
        return (
            Outcome { bits: 0x7fff_8000_0000_0000_0000, flags: de, up: false },
            Outcome { bits: v, flags: de, up: false },
        );
    }
    let (negative, m, lsb) = value::parts(v);
    let top = 63 - m.leading_zeros() as i64;
    let exponent = F80::from_i128((lsb + top) as i128).value.to_bits();
    let significand = (m << (63 - top)) as u128 | (value::BIAS as u128) << 64 | if negative { SIGN } else { 0 };
    (Outcome { bits: exponent, flags: de, up: false }, Outcome { bits: significand, flags: de, up: false })
}

/// frndint: ST(0) rounded to an integer in the control word's mode.
pub fn round_to_integer(v: u128, round: Round) -> Outcome {
    let de = match operands(&[v]) {
        Ok(de) => de,
        Err(o) => return o,
    };
    let x = F80::from_bits(v);
    let r = x.round_to_integral(round).value;
    let inexact = r != x;
    // A zero result keeps the operand's sign.
    let bits = if r.is_zero() { v & SIGN } else { r.to_bits() };
    Outcome { bits, flags: de | if inexact { PE } else { 0 }, up: inexact && r.abs() > x.abs() }
}

/// fprem (`nearest` false: quotient truncated) and fprem1 (quotient
/// rounded to nearest even), partial remainders included: when the
/// exponents differ by 64 or more, one step reduces the difference by
/// 32..63 (the host's N = 32 + (D mod 32), measured) and sets C2.
/// Returns the new ST(0) and the condition codes.
pub fn remainder(a: u128, b: u128, nearest: bool) -> (Outcome, u16) {
    let de = match operands(&[a, b]) {
        Ok(de) => de,
        Err(o) => return (o, 0),
    };
    let invalid = Outcome { bits: INDEFINITE, flags: IE | de, up: false };
    if value::is_infinity(a) || value::is_zero(b) {
        return (invalid, 0);
    }
    if value::is_zero(a) || value::is_infinity(b) {
        return (Outcome { bits: a, flags: de, up: false }, 0);
    }
    let (negative, ma, la) = value::parts(a);
    let (_, mb, lb) = value::parts(b);
    // Normalize both significands: exponents are then comparable.
    let (sa, sb) = (ma.leading_zeros() as i64, mb.leading_zeros() as i64);
    let (ma, la) = ((ma << sa) as u128, la - sa);
    let (mb, lb) = ((mb << sb) as u128, lb - sb);
    let d = la - lb;
    if d >= 64 {
        let n = 32 + d % 32;
        // Quotient chopped: a / (b * 2^(d - n)) = (ma / mb) * 2^n.
        let r = (ma << n) % mb;
        let bits = if r == 0 {
            a & SIGN
        } else {
            value::round_to_f80(negative, r, la - n, false, Round::NearestTiesToEven).bits
        };
        return (Outcome { bits, flags: de, up: false }, C2);
    }
    let (mut q, mut r, scale) = if d >= 0 {
        let x = ma << d;
        (x / mb, x % mb, lb)
    } else {
        (0, ma, la)
    };
    let mut sign = negative;
    if nearest {
        // Compare 2r with b (both at b's scale when d >= 0).
        let (r2, bb) = if d >= 0 {
            (r << 1, mb)
        } else if d == -1 {
            (r, mb)
        } else {
            (0, 1)
        };
        if r2 > bb || (r2 == bb && q & 1 != 0) {
            q += 1;
            // |a| - q|b| is negative: the remainder is b - r in magnitude.
            r = if d >= 0 { mb - r } else { (mb << 1) - r };
            sign = !negative;
        }
    }
    let bits =
        if r == 0 { a & SIGN } else { value::round_to_f80(sign, r, scale, false, Round::NearestTiesToEven).bits };
    let cc = (if q & 4 != 0 { C0 } else { 0 }) | (if q & 2 != 0 { C3 } else { 0 }) | (if q & 1 != 0 { C1 } else { 0 });
    (Outcome { bits, flags: de, up: false }, cc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> u128 {
        use rustc_apfloat::FloatConvert;
        let mut loses = false;
        let r: F80 = rustc_apfloat::ieee::Double::from_bits(v.to_bits() as u128).convert(&mut loses).value;
        r.to_bits()
    }

    #[test]
    fn square_root_is_correctly_rounded() {
        let two = f(2.0);
        assert_eq!(sqrt(two, Round::NearestTiesToEven, 64).bits, 0x3fff_b504_f333_f9de_6484);
        assert_eq!(sqrt(two, Round::TowardPositive, 64).bits, 0x3fff_b504_f333_f9de_6485);
        assert_eq!(sqrt(f(4.0), Round::NearestTiesToEven, 64), Outcome { bits: f(2.0), flags: 0, up: false });
        // 53-bit precision control: the double nearest sqrt(2).
        assert_eq!(sqrt(two, Round::NearestTiesToEven, 53).bits, 0x3fff_b504_f333_f9de_6800);
        // The smallest denormal, 2^-16445: its root is 2^-8222.5.
        let r = sqrt(1, Round::TowardZero, 64).bits;
        assert_eq!(r >> 64, (16383 - 8223) as u128);
    }

    /// Expected values from an Intel Xeon (fprem/fprem1 in a C program
    /// with inline asm, status word read with fnstsw).
    #[test]
    fn partial_and_complete_remainders_match_the_hardware() {
        // 2^100 rem 3: partial (C2), 2^64 left; then 1 with quotient ...101.
        let (o, cc) = remainder(f(2f64.powi(100)), f(3.0), false);
        assert_eq!((o.bits, cc), (0x403f_8000_0000_0000_0000, C2));
        let (o, cc) = remainder(o.bits, f(3.0), false);
        assert_eq!((o.bits, cc), (0x3fff_8000_0000_0000_0000, C0 | C1));
        // 2^64 rem 1: partial, and 0 already.
        assert_eq!(remainder(f(2f64.powi(64)), f(1.0), true), (Outcome { bits: 0, flags: 0, up: false }, C2));
        // 1.7L * 2^63 rem 3: fprem gives 2, fprem1 -1 (quotient rounded up).
        let a = 0x403e_d999_9999_9999_999a;
        assert_eq!(remainder(a, f(3.0), false), (Outcome { bits: f(2.0), flags: 0, up: false }, 0));
        assert_eq!(remainder(a, f(3.0), true), (Outcome { bits: f(-1.0), flags: 0, up: false }, C1));
        // 1e300 rem 7 reduces by 32 + (D mod 32) bits per step.
        assert_eq!(remainder(f(1e300), f(7.0), false).0.bits >> 64, 0x43c1);
    }

    #[test]
    fn extract_scale_and_round() {
        let (e, s) = extract(f(-48.0));
        assert_eq!((e.bits, s.bits), (f(5.0), f(-1.5)));
        assert_eq!(scale(f(1.5), f(3.9), Round::NearestTiesToEven).bits, f(12.0));
        assert_eq!(
            round_to_integer(f(-2.5), Round::NearestTiesToEven),
            Outcome { bits: f(-2.0), flags: PE, up: false }
        );
        assert_eq!(round_to_integer(f(-0.5), Round::TowardNegative), Outcome { bits: f(-1.0), flags: PE, up: true });
    }
}
