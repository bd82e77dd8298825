//! The conversions between an MMX register's two 32-bit integers and SSE's
//! packed floats: cvtpi2ps, cvtpi2pd, cvt(t)ps2pi, cvt(t)pd2pi.
//!
//! They round in MXCSR's mode (RC, bits 13-14) unless truncating, treat
//! denormal sources as zero under DAZ (bit 6), give the "integer
//! indefinite" 0x80000000 for NaN and out-of-range values, and set the
//! invalid (IE) and precision (PE) flags; an unmasked one raises #XM
//! (SIGFPE) with the destination unchanged (SDM Vol. 1, 11.5.2).
//! The host FPCR is not used: every step here rounds explicitly.

use super::{mm_write, read64};
use crate::cpu_state::CpuState;
use crate::dispatch::GuestEvent;
use iced_x86::{Instruction, Mnemonic, OpKind};

const INVALID: u64 = 1 << 0;
const PRECISION: u64 = 1 << 5;
const DENORMALS_ARE_ZERO: u64 = 1 << 6;
/// Exception mask bits sit 7 above their flags.
const MASK_SHIFT: u32 = 7;
/// What an x86 float-to-integer conversion gives for NaN or out of range.
const INTEGER_INDEFINITE: i32 = i32::MIN;

/// MXCSR.RC: how a non-exact result rounds.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Rounding {
    Nearest,
    Down,
    Up,
    TowardZero,
}

impl Rounding {
    fn from_mxcsr(mxcsr: u64) -> Self {
        [Self::Nearest, Self::Down, Self::Up, Self::TowardZero][((mxcsr >> 13) & 3) as usize]
    }
}

/// Whether `m` is one of the conversions this file implements.
pub fn is_conversion(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(m, Cvtpi2ps | Cvtpi2pd | Cvtps2pi | Cvttps2pi | Cvtpd2pi | Cvttpd2pi)
}

/// A float source (widened exactly to f64) converted to i32, with the
/// exception flags it raises.
fn float_to_i32(x: f64, rounding: Rounding) -> (i32, u64) {
    let r = match rounding {
        Rounding::Nearest => x.round_ties_even(),
        Rounding::Down => x.floor(),
        Rounding::Up => x.ceil(),
        Rounding::TowardZero => x.trunc(),
    };
    // NaN fails both comparisons.
    if !(r >= i32::MIN as f64 && r <= i32::MAX as f64) {
        return (INTEGER_INDEFINITE, INVALID);
    }
    (r as i32, if r != x { PRECISION } else { 0 })
}

/// i32 to f32, rounded in `rounding` with integer arithmetic (a float
/// conversion would round in whatever mode the host FPCR holds).
fn i32_to_f32(v: i32, rounding: Rounding) -> (f32, u64) {
    let magnitude = v.unsigned_abs() as u64;
    let width = 64 - magnitude.leading_zeros();
    if width <= f32::MANTISSA_DIGITS {
        return (v as f32, 0); // exact
    }
    let shift = width - f32::MANTISSA_DIGITS;
    let (kept, rest) = (magnitude >> shift, magnitude & ((1 << shift) - 1));
    let half = 1 << (shift - 1);
    let negative = v < 0;
    let round_up = match rounding {
        Rounding::Nearest => rest > half || (rest == half && kept & 1 == 1),
        Rounding::Down => negative && rest != 0,
        Rounding::Up => !negative && rest != 0,
        Rounding::TowardZero => false,
    };
    // At most 2^31 and 24 significant bits: exact in f32 whatever the mode.
    let rounded = ((kept + round_up as u64) << shift) as f32;
    (if negative { -rounded } else { rounded }, if rest != 0 { PRECISION } else { 0 })
}

fn daz32(x: f32, mxcsr: u64) -> f64 {
    if mxcsr & DENORMALS_ARE_ZERO != 0 && x.is_subnormal() { 0.0 } else { x as f64 }
}

fn daz64(x: f64, mxcsr: u64) -> f64 {
    if mxcsr & DENORMALS_ARE_ZERO != 0 && x.is_subnormal() { 0.0 } else { x }
}

/// The 128-bit source of cvt(t)pd2pi: an XMM register or m128.
fn read128(state: &CpuState, insn: &Instruction, addr: u64) -> u128 {
    match insn.op1_kind() {
        OpKind::Memory => {
            let mut b = [0u8; 16];
            // SAFETY: guest memory at the guest's address, checked by the
            // interpreter before the instruction runs.
            unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, b.as_mut_ptr(), 16) };
            u128::from_le_bytes(b)
        }
        _ => state.xmm[insn.op1_register().number()],
    }
}

/// Executes conversion `insn` (`is_conversion`); `addr` is its memory
/// operand's address. The caller has switched to MMX mode if it names an
/// MMX register.
pub fn step(state: &mut CpuState, insn: &Instruction, addr: u64) -> Result<(), GuestEvent> {
    use Mnemonic::*;
    let m = insn.mnemonic();
    let rounding = match m {
        Cvttps2pi | Cvttpd2pi => Rounding::TowardZero,
        _ => Rounding::from_mxcsr(state.mxcsr),
    };
    let lanes: [u32; 2];
    let pair = |v: u64| [v as u32, (v >> 32) as u32];
    let (result, flags) = match m {
        Cvtpi2ps => {
            let [a, b] = pair(read64(state, insn, 1, addr, 8)).map(|v| i32_to_f32(v as i32, rounding));
            lanes = [a.0.to_bits(), b.0.to_bits()];
            let old = state.xmm[insn.op0_register().number()];
            ((old >> 64 << 64) | (lanes[1] as u128) << 32 | lanes[0] as u128, a.1 | b.1)
        }
        Cvtpi2pd => {
            // Every i32 is exact in f64.
            let [a, b] = pair(read64(state, insn, 1, addr, 8)).map(|v| (v as i32 as f64).to_bits() as u128);
            (b << 64 | a, 0)
        }
        Cvtps2pi | Cvttps2pi => {
            let src = pair(read64(state, insn, 1, addr, 8));
            let [a, b] = src.map(|v| float_to_i32(daz32(f32::from_bits(v), state.mxcsr), rounding));
            ((b.0 as u32 as u128) << 32 | a.0 as u32 as u128, a.1 | b.1)
        }
        Cvtpd2pi | Cvttpd2pi => {
            let src = read128(state, insn, addr);
            let [a, b] = [src as u64, (src >> 64) as u64].map(|v| float_to_i32(daz64(f64::from_bits(v), state.mxcsr), rounding));
            ((b.0 as u32 as u128) << 32 | a.0 as u32 as u128, a.1 | b.1)
        }
        _ => return Err(GuestEvent::Fault { signal: libc::SIGILL, addr: insn.ip() }),
    };
    state.mxcsr |= flags;
    if flags & !(state.mxcsr >> MASK_SHIFT) != 0 {
        return Err(GuestEvent::Fault { signal: libc::SIGFPE, addr: insn.ip() });
    }
    let dst = insn.op0_register();
    if dst.is_mm() {
        mm_write(state, dst.number(), result as u64);
    } else {
        state.xmm[dst.number()] = result;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Rounding::*;

    #[test]
    fn float_to_integer_rounds_in_the_mode_and_flags_what_it_loses() {
        assert_eq!(float_to_i32(2.5, Nearest), (2, PRECISION));
        assert_eq!(float_to_i32(-2.5, Down), (-3, PRECISION));
        assert_eq!(float_to_i32(-2.5, Up), (-2, PRECISION));
        assert_eq!(float_to_i32(-2.5, TowardZero), (-2, PRECISION));
        assert_eq!(float_to_i32(-0.0, Nearest), (0, 0));
        assert_eq!(float_to_i32(2147483647.0, Nearest), (i32::MAX, 0));
        assert_eq!(float_to_i32(2147483647.5, Down), (i32::MAX, PRECISION));
        assert_eq!(float_to_i32(2147483647.5, Nearest), (INTEGER_INDEFINITE, INVALID));
        assert_eq!(float_to_i32(-2147483648.9, TowardZero), (i32::MIN, PRECISION));
        assert_eq!(float_to_i32(-2147483648.9, Nearest), (INTEGER_INDEFINITE, INVALID));
        assert_eq!(float_to_i32(f64::NAN, Nearest), (INTEGER_INDEFINITE, INVALID));
        assert_eq!(float_to_i32(f64::NEG_INFINITY, TowardZero), (INTEGER_INDEFINITE, INVALID));
        assert_eq!(float_to_i32(1e-310, Up), (1, PRECISION));
    }

    #[test]
    fn integer_to_float_rounds_in_the_mode() {
        assert_eq!(i32_to_f32(16_777_217, Nearest), (16_777_216.0, PRECISION));
        assert_eq!(i32_to_f32(16_777_217, Up), (16_777_218.0, PRECISION));
        assert_eq!(i32_to_f32(16_777_219, Nearest), (16_777_220.0, PRECISION));
        assert_eq!(i32_to_f32(-16_777_217, Down), (-16_777_218.0, PRECISION));
        assert_eq!(i32_to_f32(-16_777_217, Up), (-16_777_216.0, PRECISION));
        assert_eq!(i32_to_f32(i32::MAX, TowardZero), (2_147_483_520.0, PRECISION));
        assert_eq!(i32_to_f32(i32::MAX, Nearest), (2_147_483_648.0, PRECISION));
        assert_eq!(i32_to_f32(i32::MIN, Down), (-2_147_483_648.0, 0));
        assert_eq!(i32_to_f32(0, Down).0.to_bits(), 0);
    }
}
