//! 80-bit register encodings: their classes, the FPU's rules for NaN and
//! unsupported operands, and rounding an exact (or longer) result to the
//! 64-bit significand with the FPU's flags.

use super::status::{C0, C1, C2, C3, OE, PE, UE};
use rustc_apfloat::ieee::X87DoubleExtended as F80;
use rustc_apfloat::{Float, Round};
use std::cmp::Ordering;

/// x87's "real indefinite": the negative quiet NaN invalid operations produce.
pub const INDEFINITE: u128 = 0xffff_c000_0000_0000_0000;
pub const SIGN: u128 = 1 << 79;
const INTEGER_BIT: u128 = 1 << 63;
const QUIET_BIT: u128 = 1 << 62;
/// The exponent bias, and the smallest exponents of normals and of a
/// denormal's least significant bit.
pub const BIAS: i64 = 16383;
const MIN_NORMAL_EXP: i64 = 1 - BIAS;
const MIN_LSB_EXP: i64 = MIN_NORMAL_EXP - 63;

pub fn exponent_field(bits: u128) -> u32 {
    ((bits >> 64) & 0x7fff) as u32
}
pub fn significand(bits: u128) -> u64 {
    bits as u64
}
pub fn is_negative(bits: u128) -> bool {
    bits & SIGN != 0
}

/// Exponent nonzero but the integer bit clear: unnormals, pseudo-NaNs and
/// pseudo-infinities, which the FPU rejects as operands (invalid).
pub fn unsupported(bits: u128) -> bool {
    exponent_field(bits) != 0 && bits & INTEGER_BIT == 0
}
pub fn is_nan(bits: u128) -> bool {
    exponent_field(bits) == 0x7fff && bits & (INTEGER_BIT - 1) != 0 && !unsupported(bits)
}
pub fn is_snan(bits: u128) -> bool {
    is_nan(bits) && bits & QUIET_BIT == 0
}
pub fn is_infinity(bits: u128) -> bool {
    exponent_field(bits) == 0x7fff && significand(bits) == 1 << 63
}
pub fn is_zero(bits: u128) -> bool {
    exponent_field(bits) == 0 && significand(bits) == 0
}
/// Denormals and pseudo-denormals (exponent 0, integer bit set): both
/// raise the denormal-operand exception.
pub fn is_denormal(bits: u128) -> bool {
    exponent_field(bits) == 0 && significand(bits) != 0
}
pub fn quiet(bits: u128) -> u128 {
    bits | QUIET_BIT
}

/// The invalid-operation cause among operands: an unsupported encoding or
/// a signalling NaN.
pub fn invalid_operand(inputs: &[u128]) -> bool {
    inputs.iter().any(|&b| unsupported(b) || is_snan(b))
}

/// The result the FPU's operand rules decide before any arithmetic: the
/// indefinite for unsupported encodings; for NaNs, the NaN (quieted), or of
/// two NaNs the one with the larger significand (SDM vol. 1 table 4-7).
pub fn special_result(inputs: &[u128]) -> Option<u128> {
    if inputs.iter().any(|&b| unsupported(b)) {
        return Some(INDEFINITE);
    }
    let nans: Vec<u128> = inputs.iter().copied().filter(|&b| is_nan(b)).collect();
    match nans[..] {
        [] => None,
        [n] => Some(quiet(n)),
        // On a tie of significands, the positive one.
        [a, b, ..] => Some(quiet(match significand(b).cmp(&significand(a)) {
            Ordering::Greater => b,
            Ordering::Less => a,
            Ordering::Equal => a.min(b),
        })),
    }
}

/// The precision-control-free x87 result of an IEEE operation: a NaN the
/// operation created (no NaN input) is the negative indefinite.
pub fn x87_nan(value: F80) -> u128 {
    if value.is_nan() {
        INDEFINITE
    } else {
        value.to_bits()
    }
}

/// Whether rounding `exact`'s operation gave a result of larger magnitude
/// than rounding toward zero (C1 after rounding, SDM vol. 1 8.1.3.1).
pub fn rounded_up(result: F80, toward_zero: F80) -> bool {
    !result.is_nan() && result.abs() != toward_zero.abs()
}

/// A result rounded to the 80-bit format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rounded {
    pub bits: u128,
    /// PE, UE, OE as raised by the rounding.
    pub flags: u16,
    /// The magnitude went up (C1).
    pub up: bool,
}

/// Rounds (-1)^negative * n * 2^exp to the 80-bit format, `sticky` saying
/// that nonzero bits lie below n. n must be nonzero.
pub fn round_to_f80(negative: bool, n: u128, exp: i64, sticky: bool, round: Round) -> Rounded {
    round_to_precision(negative, n, exp, sticky, round, 64)
}

/// `round_to_f80` to a `precision`-bit significand (24 or 53 under the
/// control word's precision control) with the 80-bit exponent range.
pub fn round_to_precision(negative: bool, n: u128, exp: i64, sticky: bool, round: Round, precision: i64) -> Rounded {
    debug_assert!(n != 0);
    let msb = 127 - n.leading_zeros() as i64;
    let top_exp = exp + msb;
    let lsb = (top_exp - (precision - 1)).max(MIN_LSB_EXP);
    let shift = lsb - exp;
    let (mut m, half_or_more, rest) = if shift <= 0 {
        (n << -shift, false, sticky)
    } else if shift > 128 {
        (0, false, true)
    } else {
        let kept = if shift == 128 { 0 } else { n >> shift };
        let dropped = if shift == 128 { n } else { n & ((1u128 << shift) - 1) };
        let half = 1u128 << (shift - 1);
        (kept, dropped & half != 0, dropped & (half - 1) != 0 || sticky)
    };
    let inexact = half_or_more || rest;
    let up = match round {
        Round::NearestTiesToEven => half_or_more && (rest || m & 1 != 0),
        Round::TowardPositive => inexact && !negative,
        Round::TowardNegative => inexact && negative,
        _ => false,
    };
    let mut lsb = lsb;
    if up {
        m += 1;
        if m == 1 << 64 {
            m >>= 1;
            lsb += 1;
        }
    }
    // A shorter significand sits in the top bits of the 64-bit field
    // (as far as the exponent range allows).
    let widen = if m == 0 { 0 } else { (m.leading_zeros() as i64 - 64).min(lsb - MIN_LSB_EXP) };
    if widen > 0 {
        m <<= widen;
        lsb -= widen;
    }
    let sign = if negative { SIGN } else { 0 };
    let mut flags = if inexact { PE } else { 0 };
    let biased = if m & (1 << 63) != 0 { lsb + 63 + BIAS } else { 0 };
    if biased >= 0x7fff {
        // Overflow: infinity, or the largest finite value when rounding
        // goes toward zero for this sign.
        let to_infinity = match round {
            Round::NearestTiesToEven => true,
            Round::TowardPositive => !negative,
            Round::TowardNegative => negative,
            _ => false,
        };
        // The largest finite value has `precision` significand bits.
        let largest = u64::MAX << (64 - precision);
        let bits = if to_infinity { 0x7fff << 64 | 1 << 63 } else { 0x7ffe << 64 | largest as u128 };
        return Rounded { bits: sign | bits, flags: OE | PE, up: to_infinity };
    }
    if biased == 0 && inexact {
        flags |= UE;
    }
    Rounded { bits: sign | (biased as u128) << 64 | m as u128, flags, up }
}

/// A finite nonzero 80-bit value as (negative, significand, exponent of its
/// least significant bit).
pub fn parts(bits: u128) -> (bool, u64, i64) {
    let e = exponent_field(bits) as i64;
    (is_negative(bits), significand(bits), e.max(1) - BIAS - 63)
}

/// Comparison as (C3, C2, C0): unordered 111, less 001, equal 100.
pub fn compare_codes(order: Option<Ordering>) -> u16 {
    match order {
        None => C3 | C2 | C0,
        Some(Ordering::Less) => C0,
        Some(Ordering::Equal) => C3,
        Some(Ordering::Greater) => 0,
    }
}

/// fxam's class codes (C3, C2, C0) and the sign in C1 (SDM vol. 2 FXAM).
pub fn examine(bits: u128, empty: bool) -> u16 {
    let sign = if is_negative(bits) { C1 } else { 0 };
    let class = if empty {
        C3 | C0
    } else if unsupported(bits) {
        0
    } else if is_nan(bits) {
        C0
    } else if is_infinity(bits) {
        C2 | C0
    } else if is_zero(bits) {
        C3
    } else if is_denormal(bits) {
        C3 | C2
    } else {
        C2
    };
    class | sign
}

/// The tag of a full tag word (fnstenv, fnsave): 0 valid, 1 zero,
/// 2 special (NaN, infinity, denormal, unsupported), 3 empty.
pub fn full_tag(bits: u128, valid: bool) -> u16 {
    if !valid {
        3
    } else if is_zero(bits) {
        1
    } else if exponent_field(bits) == 0 || exponent_field(bits) == 0x7fff || unsupported(bits) {
        2
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_to_the_80_bit_format() {
        let r = round_to_f80(false, 3, 0, false, Round::NearestTiesToEven);
        assert_eq!(r.bits, 0x4000_c000_0000_0000_0000);
        assert_eq!(r.flags, 0);
        // 2^64 + 1 rounds to even (down), and up toward +infinity.
        let n = (1u128 << 64) | 1;
        assert_eq!(round_to_f80(false, n, 0, false, Round::NearestTiesToEven).bits, 0x403f_8000_0000_0000_0000);
        let up = round_to_f80(false, n, 0, false, Round::TowardPositive);
        assert_eq!((up.bits, up.flags, up.up), (0x403f_8000_0000_0000_0001, PE, true));
        // Below the normal range: a denormal, with underflow.
        let d = round_to_f80(true, 3, MIN_LSB_EXP - 1, false, Round::NearestTiesToEven);
        assert_eq!((d.bits, d.flags), (SIGN | 2, PE | UE));
        // Overflow: infinity to nearest, the largest finite value toward zero.
        assert_eq!(round_to_f80(false, 1, 20000, false, Round::NearestTiesToEven).bits, 0x7fff_8000_0000_0000_0000);
        assert_eq!(round_to_f80(false, 1, 20000, false, Round::TowardZero).bits, 0x7ffe_ffff_ffff_ffff_ffff);
    }
}
