//! The SSE4.1 instructions that are rare and complex, interpreted: dpps and
//! dppd (a fixed order of separately rounded multiplies and adds, SDM
//! "DPPS"/"DPPD" pseudo-code), mpsadbw and phminposuw. (ptest is generated
//! code, in `emit::sse41`, for the flag machinery.)
//! Float arithmetic is rustc_apfloat's, in MXCSR's rounding mode, with x86's
//! NaN rules.

use crate::cpu::state::CpuState;
use crate::exit::GuestEvent;
use crate::interp::guest_access::effective_address;
use crate::interp::vector_operands;
use iced_x86::{Instruction, Mnemonic, OpKind};
use rustc_apfloat::ieee::{Double, Single};
use rustc_apfloat::{Float, Round};

pub fn handles(insn: &Instruction) -> bool {
    use Mnemonic::*;
    matches!(insn.mnemonic(), Dpps | Dppd | Mpsadbw | Phminposuw | Vdpps | Vdppd | Vmpsadbw | Vphminposuw)
        && insn.op0_kind() == OpKind::Register
}

/// Runs `insn`, each 128-bit half of a VEX.256 form with the same
/// immediate (vmpsadbw's upper half takes its offsets from imm[5:3]).
pub fn step(state: &mut CpuState, insn: &Instruction) -> Result<(), GuestEvent> {
    use Mnemonic::*;
    let addr = if (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Memory) { effective_address(state, insn) } else { 0 };
    let imm = if insn.op_kind(insn.op_count() - 1) == OpKind::Immediate8 { insn.immediate8() as u32 } else { 0 };
    let round = rounding(state.mxcsr);
    // Both halves are computed before either is written: the destination
    // may be a source.
    let results: Vec<u128> = (0..vector_operands::halves(insn))
        .map(|half| {
            let (a, b) = vector_operands::sources(state, insn, addr, half);
            match insn.mnemonic() {
                Dpps | Vdpps => dpps(a, b, imm, round),
                Dppd | Vdppd => dppd(a, b, imm, round),
                Mpsadbw | Vmpsadbw => mpsadbw(a, b, if half == 1 { imm >> 3 } else { imm }),
                _ => phminposuw(b),
            }
        })
        .collect();
    for (half, value) in results.into_iter().enumerate() {
        vector_operands::write_destination(state, insn, half, value);
    }
    Ok(())
}

/// MXCSR.RC (bits 13-14) as an apfloat rounding mode.
fn rounding(mxcsr: u64) -> Round {
    match (mxcsr >> 13) & 3 {
        0 => Round::NearestTiesToEven,
        1 => Round::TowardNegative,
        2 => Round::TowardPositive,
        _ => Round::TowardZero,
    }
}

/// One IEEE format with x86's NaN rules (SDM vol. 1 table 4-7): a NaN
/// operand comes back quieted, the first one's if both are NaN; an invalid
/// operation gives the negative "QNaN floating-point indefinite".
trait X86Float: Float {
    const QUIET: u128;
    const INDEFINITE: u128;
    fn x86(a: Self, b: Self, op: impl FnOnce(Self, Self) -> Self) -> Self {
        if a.is_nan() {
            Self::from_bits(a.to_bits() | Self::QUIET)
        } else if b.is_nan() {
            Self::from_bits(b.to_bits() | Self::QUIET)
        } else {
            let r = op(a, b);
            if r.is_nan() {
                Self::from_bits(Self::INDEFINITE)
            } else {
                r
            }
        }
    }
}

impl X86Float for Single {
    const QUIET: u128 = 0x0040_0000;
    const INDEFINITE: u128 = 0xffc0_0000;
}

impl X86Float for Double {
    const QUIET: u128 = 0x0008_0000_0000_0000;
    const INDEFINITE: u128 = 0xfff8_0000_0000_0000;
}

fn mul<F: X86Float>(a: F, b: F, r: Round) -> F {
    F::x86(a, b, |a, b| a.mul_r(b, r).value)
}

fn add<F: X86Float>(a: F, b: F, r: Round) -> F {
    F::x86(a, b, |a, b| a.add_r(b, r).value)
}

/// dpps: products of the lanes in imm[7:4] (others +0.0), summed into the
/// lanes in imm[3:0] (others +0.0). The SDM's order is (p0 + p1) + (p2 + p3);
/// Intel CPUs sum for lane i as (pi^1 + pi) + (pi^3 + pi^2), which only shows
/// in which of several NaNs comes back (seen with the difftest).
fn dpps(a: u128, b: u128, imm: u32, r: Round) -> u128 {
    let lane = |v: u128, i: usize| Single::from_bits((v >> (32 * i)) & 0xffff_ffff);
    let p: [Single; 4] =
        std::array::from_fn(|i| if imm >> (4 + i) & 1 != 0 { mul(lane(a, i), lane(b, i), r) } else { Single::ZERO });
    let sum = |i: usize| add(add(p[i ^ 1], p[i], r), add(p[i ^ 3], p[i ^ 2], r), r).to_bits();
    (0..4).filter(|i| imm >> i & 1 != 0).fold(0, |acc, i| acc | sum(i) << (32 * i))
}

/// dppd: as dpps on two double lanes (imm[5:4] and imm[1:0]); lane i sums
/// pi + pi^1 (unlike dpps's pairs; seen with the difftest).
fn dppd(a: u128, b: u128, imm: u32, r: Round) -> u128 {
    let lane = |v: u128, i: usize| Double::from_bits((v >> (64 * i)) & u64::MAX as u128);
    let p: [Double; 2] =
        std::array::from_fn(|i| if imm >> (4 + i) & 1 != 0 { mul(lane(a, i), lane(b, i), r) } else { Double::ZERO });
    let sum = |i: usize| add(p[i], p[i ^ 1], r).to_bits();
    (0..2).filter(|i| imm >> i & 1 != 0).fold(0, |acc, i| acc | sum(i) << (64 * i))
}

/// mpsadbw: word i = sum over j < 4 of |a[ao + i + j] - b[bo + j]|, with
/// the byte offsets ao = imm[2] * 4 and bo = imm[1:0] * 4.
fn mpsadbw(a: u128, b: u128, imm: u32) -> u128 {
    let byte = |v: u128, i: u32| (v >> (8 * i)) as u8;
    let (ao, bo) = ((imm >> 2 & 1) * 4, (imm & 3) * 4);
    (0..8).fold(0, |acc, i| {
        let sad: u32 = (0..4).map(|j| byte(a, ao + i + j).abs_diff(byte(b, bo + j)) as u32).sum();
        acc | (sad as u128) << (16 * i)
    })
}

/// phminposuw: the smallest unsigned word and its (lowest) index.
fn phminposuw(b: u128) -> u128 {
    let (index, min) = (0..8).map(|i| (i, (b >> (16 * i)) as u16)).min_by_key(|&(i, w)| (w, i)).unwrap_or((0, 0));
    min as u128 | (index as u128) << 16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phminposuw_picks_the_lowest_index_of_the_minimum() {
        let v = 0x0005_0003_0009_0003_ffff_0004_0003_0007u128;
        assert_eq!(phminposuw(v), 0x0001_0003);
    }

    #[test]
    fn dpps_invalid_product_is_the_indefinite() {
        let inf = 0x7f80_0000u128;
        let r = dpps(inf, 0, 0x11, Round::NearestTiesToEven);
        assert_eq!(r, 0xffc0_0000);
    }
}
