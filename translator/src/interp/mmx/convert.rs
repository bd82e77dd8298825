//! The SSE/SSE2 conversions between packed 32-bit integers in an MMX
//! register (or memory) and floats in an XMM register: cvtpi2ps, cvtpi2pd,
//! cvt(t)ps2pi, cvt(t)pd2pi. Pure functions of lanes and MXCSR.RC; nothing
//! here depends on the host FPCR.
//!
//! Not modelled, as elsewhere in Transit's SSE: MXCSR's exception flags,
//! and DAZ (which the CPU applies to the float sources of cvt(t)ps2pi).

/// MXCSR.RC (bits 13-14), Intel SDM vol. 1, 10.2.3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rounding {
    Nearest,
    Down,
    Up,
    TowardZero,
}

impl Rounding {
    pub fn from_mxcsr(mxcsr: u64) -> Rounding {
        match (mxcsr >> 13) & 3 {
            0 => Rounding::Nearest,
            1 => Rounding::Down,
            2 => Rounding::Up,
            _ => Rounding::TowardZero,
        }
    }
}

/// The "integer indefinite" an out-of-range or NaN conversion returns
/// (SDM vol. 1, 4.8.3.7): the most negative doubleword.
const INDEFINITE: u32 = 0x8000_0000;

/// Rounds `x` to an integral value with `rc`.
fn round_integral(x: f64, rc: Rounding) -> f64 {
    match rc {
        Rounding::Nearest => x.round_ties_even(),
        Rounding::Down => x.floor(),
        Rounding::Up => x.ceil(),
        Rounding::TowardZero => x.trunc(),
    }
}

/// A float (f32 widened exactly, or f64) to a signed doubleword, as
/// cvt(t)ps2pi / cvt(t)pd2pi: NaN and out-of-range give 0x80000000.
pub fn float_to_i32(x: f64, rc: Rounding) -> u32 {
    let r = round_integral(x, rc);
    if r.is_nan() || r < -2147483648.0 || r > 2147483647.0 {
        INDEFINITE
    } else {
        r as i32 as u32
    }
}

/// Signed doubleword to single precision, rounded with `rc` (a doubleword
/// needs up to 31 bits; a single has 24).
pub fn i32_to_f32(v: u32, rc: Rounding) -> u32 {
    let exact = v as i32 as f64; // Exact: f64 has 53 bits.
    let near = exact as f32; // Round to nearest even.
    let back = near as f64;
    let r = match rc {
        Rounding::Nearest => near,
        Rounding::Down if back > exact => near.next_down(),
        Rounding::Up if back < exact => near.next_up(),
        Rounding::TowardZero if back.abs() > exact.abs() => {
            if exact > 0.0 {
                near.next_down()
            } else {
                near.next_up()
            }
        }
        _ => near,
    };
    r.to_bits()
}

/// cvtpi2ps: two doublewords to two singles (the result's low 64 bits).
pub fn cvtpi2ps(src: u64, rc: Rounding) -> u64 {
    i32_to_f32(src as u32, rc) as u64 | (i32_to_f32((src >> 32) as u32, rc) as u64) << 32
}

/// cvtpi2pd: two doublewords to two doubles (always exact).
pub fn cvtpi2pd(src: u64) -> u128 {
    let lo = (src as u32 as i32 as f64).to_bits() as u128;
    let hi = ((src >> 32) as u32 as i32 as f64).to_bits() as u128;
    lo | hi << 64
}

/// cvt(t)ps2pi: the two low singles of `src` to doublewords.
pub fn cvtps2pi(src: u64, rc: Rounding) -> u64 {
    let lane = |bits: u32| float_to_i32(f32::from_bits(bits) as f64, rc) as u64;
    lane(src as u32) | lane((src >> 32) as u32) << 32
}

/// cvt(t)pd2pi: the two doubles of `src` to doublewords.
pub fn cvtpd2pi(src: u128, rc: Rounding) -> u64 {
    let lane = |bits: u64| float_to_i32(f64::from_bits(bits), rc) as u64;
    lane(src as u64) | lane((src >> 64) as u64) << 32
}

#[cfg(test)]
mod tests {
    use super::*;
    use Rounding::*;

    #[test]
    fn float_to_int_edges() {
        assert_eq!(float_to_i32(f64::NAN, Nearest), INDEFINITE);
        assert_eq!(float_to_i32(f64::INFINITY, Nearest), INDEFINITE);
        assert_eq!(float_to_i32(f64::NEG_INFINITY, TowardZero), INDEFINITE);
        assert_eq!(float_to_i32(2147483647.0, Nearest), 0x7fff_ffff);
        assert_eq!(float_to_i32(2147483647.5, TowardZero), 0x7fff_ffff);
        assert_eq!(float_to_i32(2147483647.5, Nearest), INDEFINITE);
        assert_eq!(float_to_i32(-2147483648.9, TowardZero), 0x8000_0000);
        assert_eq!(float_to_i32(-2147483648.9, Up), 0x8000_0000);
        assert_eq!(float_to_i32(2.5, Nearest), 2);
        assert_eq!(float_to_i32(-2.5, Nearest), -2i32 as u32);
        assert_eq!(float_to_i32(-2.5, Down), -3i32 as u32);
        assert_eq!(float_to_i32(-2.5, Up), -2i32 as u32);
        assert_eq!(float_to_i32(-0.0, Nearest), 0);
    }

    #[test]
    fn int_to_float_rounding() {
        // 0x7fffffff is 2^31 - 1: between 2^31 - 128 and 2^31.
        assert_eq!(i32_to_f32(0x7fff_ffff, Nearest), 0x4f00_0000);
        assert_eq!(i32_to_f32(0x7fff_ffff, Down), 0x4eff_ffff);
        assert_eq!(i32_to_f32(0x7fff_ffff, TowardZero), 0x4eff_ffff);
        assert_eq!(i32_to_f32(0x7fff_ffff, Up), 0x4f00_0000);
        assert_eq!(i32_to_f32(-0x7fff_ffffi32 as u32, Down), 0xcf00_0000);
        assert_eq!(i32_to_f32(-0x7fff_ffffi32 as u32, TowardZero), 0xceff_ffff);
        assert_eq!(i32_to_f32(-0x7fff_ffffi32 as u32, Up), 0xceff_ffff);
        assert_eq!(i32_to_f32(0, Down), 0); // +0.0, never -0.0
        let expected = (1.0f64.to_bits() as u128) | ((-2147483648.0f64).to_bits() as u128) << 64;
        assert_eq!(cvtpi2pd(0x8000_0000_0000_0001), expected);
    }
}
