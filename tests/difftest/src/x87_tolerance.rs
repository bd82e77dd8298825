//! The x87 transcendental instructions (fsin, fcos, fsincos, fptan,
//! fpatan, f2xm1, fyl2x, fyl2xp1) against the host CPU: a tolerance, not
//! equality, and only where the SDM defines the result.
//!
//! Transit returns the correctly rounded value. The hardware is documented
//! within 1 ulp (SDM vol. 1 8.3.10), so results may differ by up to 2 ulps
//! (1.5 plus directed rounding). Its trigonometric argument reduction uses
//! a 66-bit pi: the reduced argument is off by up to |x| * 2^-64, which
//! the tolerance for fsin/fcos/fsincos/fptan adds (scaled by the
//! derivative, 1 + tan^2 for fptan). f2xm1 outside -1..1 and fyl2xp1
//! outside |x| < 1 - sqrt(2)/2 are undefined: the result register, C1 and
//! the exception flags (the CPU raises no IE for fyl2xp1(-2^84)) are not
//! compared there; SF, TOP and the tags are. C1
//! (rounded up) is never compared after these instructions: it reflects
//! the hardware's internal approximation, nor is PE, which it raises for
//! some exact results too. Everything else (IE, ZE, DE, SF,
//! C2, tags, TOP, special operands) is compared exactly.
//!
//! These forms run alone (targeted cases): a tolerated difference would
//! grow through later arithmetic, so random sequences leave them out.

use crate::case::Case;
use crate::layout::CODE_ADDR;
use crate::rng::Rng;
use crate::state::{State, X87};
use iced_x86::{Decoder, DecoderOptions, Instruction, Mnemonic};
use rustc_apfloat::ieee::{Double, X87DoubleExtended as F80};
use rustc_apfloat::{Float, FloatConvert};

/// Whether `m` is one of the approximated instructions.
pub fn approximate(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(m, Fsin | Fcos | Fsincos | Fptan | Fpatan | F2xm1 | Fyl2x | Fyl2xp1)
}

/// How to compare the x87 state after a case.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tolerance {
    /// ST(i) (after the instruction) that are compared within `ulps`.
    pub approximate_st: u8,
    /// ST(i) not compared (undefined results).
    pub undefined_st: u8,
    /// Allowed difference in units in the last place of the CPU's result.
    pub ulps: f64,
    /// Status-word bits not compared.
    pub status_ignored: u64,
}

const C1: u64 = 1 << 9;
/// The precision exception: the hardware also raises it for some exact
/// results (fyl2x of a power of two, log2(0.5)), where Transit, exact,
/// does not.
const PE: u64 = 1 << 5;
/// Outside the domain nothing about the result is defined: the exception
/// flags (stack faults aside), ES and B.
const RESULT_FLAGS: u64 = 0x3f | 0x80 | 0x8000;

fn f80(bits: u128) -> F80 {
    F80::from_bits(bits)
}

fn is_finite_nonzero(bits: u128) -> bool {
    let e = (bits >> 64) & 0x7fff;
    e != 0x7fff && (bits as u64) != 0 && (e == 0 || bits & (1 << 63) != 0)
}

/// |v| as an f64 (saturating), for tolerance arithmetic.
fn magnitude(v: F80) -> f64 {
    let mut loses = false;
    let d: Double = v.abs().convert(&mut loses).value;
    f64::from_bits(d.to_bits() as u64)
}

/// The tolerance for a case that is one approximated instruction with
/// finite nonzero operands (other operands give exact, specified results).
pub fn for_case(case: &Case) -> Tolerance {
    let insns: Vec<Instruction> =
        Decoder::with_ip(64, &case.code, CODE_ADDR, DecoderOptions::NONE).into_iter().collect();
    let [insn] = insns[..] else {
        return Tolerance::default();
    };
    let m = insn.mnemonic();
    if !approximate(m) {
        return Tolerance::default();
    }
    let x87 = &case.input.x87;
    let (x, y) = (x87.st[0], x87.st[1]);
    let operands_valid =
        x87.st_valid(0) && (x87.st_valid(1) || !matches!(m, Mnemonic::Fpatan | Mnemonic::Fyl2x | Mnemonic::Fyl2xp1));
    let mut t = Tolerance { status_ignored: C1 | PE, ulps: 2.0, ..Default::default() };
    if !operands_valid || !is_finite_nonzero(x) {
        return t;
    }
    let ax = magnitude(f80(x));
    use Mnemonic::*;
    match m {
        Fsin | Fcos | Fsincos | Fptan => {
            if ax >= 2f64.powi(63) {
                return t;
            }
            t.approximate_st = if matches!(m, Fsincos | Fptan) { 0b11 } else { 0b1 };
        }
        F2xm1 if ax > 1.0 => {
            t.undefined_st = 1;
            t.status_ignored |= RESULT_FLAGS;
        }
        Fyl2xp1 if ax >= 1.0 - std::f64::consts::FRAC_1_SQRT_2 => {
            t.undefined_st = 1;
            t.status_ignored |= RESULT_FLAGS;
        }
        _ if !is_finite_nonzero(y) && m != F2xm1 => {}
        _ => t.approximate_st = 1,
    }
    t
}

/// Whether the CPU's `e` and Transit's `a` for ST(i) agree within `t`,
/// given the operand `x` (the 66-bit pi term for trigonometric results).
pub fn within(case: &Case, t: &Tolerance, e: u128, a: u128) -> bool {
    if e == a {
        return true;
    }
    if !is_finite_nonzero(e) || !is_finite_nonzero(a) {
        return false;
    }
    let ulp_exp = ((e >> 64) & 0x7fff).max(1) as i32 - 16383 - 63;
    let diff = (f80(e) - f80(a)).value;
    // In two steps: 2^-1033 is a denormal double, but powi(-1033) divides
    // by an overflowing 2^1033 and gives 0.
    let mut allowed = t.ulps * 2f64.powi(ulp_exp / 2) * 2f64.powi(ulp_exp - ulp_exp / 2);
    let insn = Decoder::with_ip(64, &case.code, CODE_ADDR, DecoderOptions::NONE).decode();
    if matches!(insn.mnemonic(), Mnemonic::Fsin | Mnemonic::Fcos | Mnemonic::Fsincos | Mnemonic::Fptan) {
        let x = magnitude(f80(case.input.x87.st[0]));
        let slope = if insn.mnemonic() == Mnemonic::Fptan { 1.0 + magnitude(f80(e)).powi(2) } else { 1.0 };
        allowed += x * 2f64.powi(-64) * slope;
    }
    magnitude(diff) <= allowed
}

/// For a targeted case of an approximated instruction: operands inside the
/// documented domain half of the time (the generator's values are mostly
/// outside it).
pub fn domain_inputs(rng: &mut Rng, insn: &Instruction, state: &mut State) {
    if !approximate(insn.mnemonic()) || rng.chance(2) {
        return;
    }
    let limit = match insn.mnemonic() {
        Mnemonic::F2xm1 => 1.0,
        Mnemonic::Fyl2xp1 => 0.29,
        Mnemonic::Fyl2x => 1e6,
        _ => 10.0,
    };
    let x87: &mut X87 = &mut state.x87;
    for i in 0..2 {
        // A random value of magnitude below `limit`, sometimes tiny.
        let scale = if rng.chance(4) { 2f64.powi(-(rng.below(200) as i32)) } else { 1.0 };
        let mut v = limit * scale * (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let positive = insn.mnemonic() == Mnemonic::Fyl2x && i == 0;
        if !positive && rng.chance(2) {
            v = -v;
        }
        let mut loses = false;
        let wide: F80 = Double::from_bits(v.to_bits() as u128).convert(&mut loses).value;
        // Random low bits: a full 64-bit significand.
        let bits = wide.to_bits() | if v != 0.0 { (rng.next_u64() & 0x7ff) as u128 } else { 0 };
        x87.st[i] = bits;
    }
}

/// Whether the host CPU is Intel's (FOP and FDP are then stored only for
/// unmasked exceptions, as Transit does).
pub fn host_is_intel() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let r = std::arch::x86_64::__cpuid(0);
        (r.ebx, r.edx, r.ecx) == (0x756e_6547, 0x4965_6e69, 0x6c65_746e)
    }
    #[cfg(not(target_arch = "x86_64"))]
    false
}
