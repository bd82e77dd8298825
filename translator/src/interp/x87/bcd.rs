//! fbld and fbstp: 18-digit packed BCD integers (SDM vol. 1 4.7), a sign
//! in bit 7 of the tenth byte.

use super::status::{IE, PE};
use super::transcendental::Outcome;
use super::value::{self, SIGN};
use rustc_apfloat::ieee::X87DoubleExtended as F80;
use rustc_apfloat::{Float, Round};

/// The packed BCD indefinite fbstp stores for an invalid operand.
pub const BCD_INDEFINITE: u128 = 0xffff_c000_0000_0000_0000;
const LIMIT: u128 = 1_000_000_000_000_000_000;

/// fbld: the BCD integer as an 80-bit value (exact). Nibbles above 9 are
/// undefined by the SDM; they count with their binary value here.
pub fn load(bcd: u128) -> u128 {
    let n = (0..18).rev().fold(0u128, |n, i| n * 10 + ((bcd >> (4 * i)) & 0xf));
    let negative = bcd & (1 << 79) != 0;
    let sign = if negative { SIGN } else { 0 };
    if n == 0 {
        return sign;
    }
    F80::from_u128(n).value.to_bits() | sign
}

/// fbstp: ST(0) rounded to an integer in the control word's mode, as BCD;
/// NaNs, infinities and magnitudes of 10^18 or more are invalid.
pub fn store(v: u128, round: Round) -> Outcome {
    let invalid = Outcome { bits: BCD_INDEFINITE, flags: IE, up: false };
    if value::unsupported(v) || value::is_nan(v) || value::is_infinity(v) {
        return invalid;
    }
    let x = F80::from_bits(v);
    let r = x.round_to_integral(round).value;
    let inexact = r != x;
    let mut exact = false;
    let n = r.abs().to_u128_r(128, Round::TowardZero, &mut exact).value;
    if n >= LIMIT {
        return invalid;
    }
    let digits = (0..18).fold(0u128, |d, i| d | ((n / 10u128.pow(i)) % 10) << (4 * i));
    let sign = if value::is_negative(v) { 1 << 79 } else { 0 };
    let flags = if inexact { PE } else { 0 };
    Outcome { bits: digits | sign, flags, up: inexact && r.abs() > x.abs() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_bcd_round_trips() {
        let bcd = 0x8000_0000_0000_0012_3456u128;
        let v = load(bcd);
        assert_eq!(F80::from_bits(v), F80::from_i128(-123456).value);
        assert_eq!(store(v, Round::NearestTiesToEven).bits, bcd);
        // 10^18 does not fit: the indefinite, with IE.
        let big = F80::from_u128(LIMIT).value.to_bits();
        assert_eq!(store(big, Round::NearestTiesToEven), Outcome { bits: BCD_INDEFINITE, flags: IE, up: false });
        // -0.5 rounds to -0 (sign kept) with PE.
        let half = F80::from_i128(-1).value.to_bits() - (1 << 64);
        assert_eq!(store(half, Round::NearestTiesToEven).bits, 1 << 79);
    }
}
