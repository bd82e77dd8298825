//! MMX (and the SSE/SSE2 instructions on MMX registers), interpreted: MMX is
//! part of x86-64's baseline, which glibc's own libraries require, but
//! compilers rarely emit it, so it is not worth generated code.
//!
//! MMn is the mantissa of x87 physical register Rn. Every instruction
//! with an MMX register operand sets TOP to 0 and marks all registers
//! valid; `emms` marks them empty. The conversions between MMX and XMM
//! registers (`convert`), maskmovq and maskmovdqu (`maskmov`), and SSSE3 on
//! MMX registers (`ssse3`) run here too.

mod convert;
mod maskmov;
mod ssse3;

use crate::cpu::state::CpuState;
use crate::exit::GuestEvent;
use convert::Rounding;
use iced_x86::{Instruction, Mnemonic, OpKind};

/// The instructions with MMX register operands `step` implements (MMX,
/// SSE/SSE2 and SSSE3 on MMX registers); the packed operations SSE shares
/// run as generated code (`emit::mmx`).
pub fn implements(insn: &Instruction) -> bool {
    use Mnemonic::*;
    matches!(
        insn.mnemonic(),
        Cvtpi2ps | Cvtpi2pd | Cvtps2pi | Cvttps2pi | Cvtpd2pi | Cvttpd2pi | Maskmovq | Pshufb | Palignr | Phaddw
            | Phaddd | Phaddsw | Phsubw | Phsubd | Phsubsw | Pmaddubsw | Pmulhrsw | Pabsb | Pabsw | Pabsd | Psignb
            | Psignw | Psignd | Emms | Movd | Movq | Movntq | Movdq2q | Movq2dq | Pmulhw | Pmulhuw | Pmuludq
            | Pmaddwd | Psllw | Psrlw | Psraw | Pslld | Psrld | Psrad | Psllq | Psrlq | Packsswb | Packssdw
            | Packuswb | Psadbw | Pshufw | Pinsrw | Pmovmskb | Pextrw
    )
}

/// The instructions of the MMX era `step` runs that have no MMX register
/// operand: cvtpi2ps/cvtpi2pd from memory (which leave the x87 stack
/// alone) and maskmovdqu.
pub fn implements_without_mmx_register(insn: &Instruction) -> bool {
    matches!(insn.mnemonic(), Mnemonic::Cvtpi2ps | Mnemonic::Cvtpi2pd | Mnemonic::Maskmovdqu) && !uses_mmx(insn)
}

/// Whether `insn` has an MMX register operand (or is emms).
pub fn uses_mmx(insn: &Instruction) -> bool {
    insn.mnemonic() == Mnemonic::Emms
        || (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Register && insn.op_register(i).is_mm())
}

fn mm_read(state: &CpuState, n: usize) -> u64 {
    state.x87.regs[n] as u64
}

fn mm_write(state: &mut CpuState, n: usize, v: u64) {
    // The exponent field of an MMX-written register reads as all ones.
    state.x87.regs[n] = (0xffffu128 << 64) | v as u128;
}

/// What every MMX instruction but emms does first (even one that then
/// faults on its memory operand): the x87 stack becomes the MMX registers.
pub fn enter_mmx_mode(state: &mut CpuState) {
    state.x87.top = 0;
    state.x87.valid = 0xff;
}

/// Reads operand `op` as 64 bits (32 for movd and the low-half unpacks).
fn read64(state: &CpuState, insn: &Instruction, op: u32, addr: u64, bytes: usize) -> u64 {
    let mask = if bytes == 4 { 0xffff_ffff } else { u64::MAX };
    let v = match insn.op_kind(op) {
        OpKind::Register => {
            let r = insn.op_register(op);
            if r.is_mm() {
                mm_read(state, r.number())
            } else if r.is_xmm() {
                state.xmm[r.number()] as u64
            } else {
                state.gpr[r.full_register().number()]
            }
        }
        OpKind::Memory => {
            let mut b = [0u8; 8];
            // SAFETY: guest memory at the guest's address; faults as its own access would.
            unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, b.as_mut_ptr(), bytes) };
            u64::from_le_bytes(b)
        }
        _ => insn.immediate(op),
    };
    v & mask
}

/// Applies `f` to each of the `64 / bits` lanes of `a` and `b`.
fn lanes(a: u64, b: u64, bits: u32, f: impl Fn(u64, u64) -> u64) -> u64 {
    let mask = if bits == 64 { u64::MAX } else { (1 << bits) - 1 };
    let mut r = 0;
    for i in (0..64).step_by(bits as usize) {
        r |= (f((a >> i) & mask, (b >> i) & mask) & mask) << i;
    }
    r
}

fn sext(v: u64, bits: u32) -> i64 {
    ((v << (64 - bits)) as i64) >> (64 - bits)
}

fn sat_s(v: i64, bits: u32) -> u64 {
    let (lo, hi) = (-(1i64 << (bits - 1)), (1i64 << (bits - 1)) - 1);
    v.clamp(lo, hi) as u64
}

fn sat_u(v: i64, bits: u32) -> u64 {
    v.clamp(0, (1i64 << bits) - 1) as u64
}

fn pack(a: u64, b: u64, from: u32, sat: impl Fn(i64) -> u64) -> u64 {
    let to = from / 2;
    let n = 64 / from;
    let mut r = 0;
    for (k, v) in [a, b].iter().enumerate() {
        for i in 0..n {
            let lane = sat(sext((v >> (i * from)) & ((1 << from) - 1), from));
            r |= (lane & ((1 << to) - 1)) << ((k as u32 * n + i) * to);
        }
    }
    r
}

fn shift(a: u64, count: u64, bits: u32, m: Mnemonic) -> u64 {
    use Mnemonic::*;
    let arith = matches!(m, Psraw | Psrad);
    let left = matches!(m, Psllw | Pslld | Psllq);
    if count >= bits as u64 && !arith {
        return 0;
    }
    let c = count.min(bits as u64 - 1) as u32;
    lanes(a, 0, bits, |x, _| {
        if left {
            x << c
        } else if arith {
            (sext(x, bits) >> c) as u64
        } else {
            x >> c
        }
    })
}

/// Executes MMX instruction `insn`; `addr` is its memory operand's address.
pub fn step(state: &mut CpuState, insn: &Instruction, addr: u64) -> Result<(), GuestEvent> {
    use Mnemonic::*;
    let ill = GuestEvent::Fault { signal: libc::SIGILL, addr: insn.ip() };
    let m = insn.mnemonic();
    if m == Emms {
        state.x87.valid = 0;
        state.x87.top = 0;
        return Ok(());
    }
    if let Some(done) = mmx_sse(state, insn, addr) {
        return done;
    }
    enter_mmx_mode(state);
    let dst_mm = insn.op0_kind() == OpKind::Register && insn.op0_register().is_mm();
    let dst_n = if dst_mm { insn.op0_register().number() } else { 0 };
    let src_bytes = match m {
        Movd => 4,
        Pinsrw => 2,
        _ => 8,
    };
    let src = if insn.op_count() > 1 { read64(state, insn, 1, addr, src_bytes) } else { 0 };
    let a = if dst_mm { mm_read(state, dst_n) } else { 0 };
    let r = match m {
        Movd | Movq | Movntq | Movdq2q if dst_mm => src,
        Movd | Movq | Movntq | Movq2dq => {
            // MMX register to a general register, memory or XMM register.
            let v = read64(state, insn, 1, addr, if m == Movd { 4 } else { 8 });
            match insn.op0_kind() {
                OpKind::Memory => {
                    let b = v.to_le_bytes();
                    let n = if m == Movd { 4 } else { 8 };
                    // SAFETY: guest memory, as in `read64`.
                    unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), addr as *mut u8, n) };
                }
                _ => {
                    let reg = insn.op0_register();
                    if reg.is_xmm() {
                        state.xmm[reg.number()] = v as u128;
                    } else if reg.size() == 4 {
                        state.gpr[reg.full_register().number()] = v & 0xffff_ffff;
                    } else {
                        state.gpr[reg.full_register().number()] = v;
                    }
                }
            }
            return Ok(());
        }
        Pmulhw => lanes(a, src, 16, |x, y| ((sext(x, 16) * sext(y, 16)) >> 16) as u64),
        Pmulhuw => lanes(a, src, 16, |x, y| (x * y) >> 16),
        Pmuludq => (a & 0xffff_ffff) * (src & 0xffff_ffff),
        Pmaddwd => lanes(a, src, 32, |x, y| {
            let lo = sext(x & 0xffff, 16) * sext(y & 0xffff, 16);
            let hi = sext(x >> 16, 16) * sext(y >> 16, 16);
            (lo + hi) as u64
        }),
        Psllw | Psrlw | Psraw => shift(a, src, 16, m),
        Pslld | Psrld | Psrad => shift(a, src, 32, m),
        Psllq | Psrlq => shift(a, src, 64, m),
        Packsswb => pack(a, src, 16, |v| sat_s(v, 8)),
        Packssdw => pack(a, src, 32, |v| sat_s(v, 16)),
        Packuswb => pack(a, src, 16, |v| sat_u(v, 8)),
        Psadbw => {
            let mut sum = 0;
            for i in 0..8 {
                sum += ((a >> (8 * i)) & 0xff).abs_diff((src >> (8 * i)) & 0xff);
            }
            sum
        }
        Pshufw => {
            let imm = insn.immediate8() as u64;
            (0..4).fold(0, |r, i| r | ((src >> (16 * ((imm >> (2 * i)) & 3))) & 0xffff) << (16 * i))
        }
        Pshufb => ssse3::pshufb(a, src),
        Palignr => ssse3::palignr(a, src, insn.immediate8()),
        Phaddw => ssse3::phaddw(a, src),
        Phaddd => ssse3::phaddd(a, src),
        Phaddsw => ssse3::phaddsw(a, src),
        Phsubw => ssse3::phsubw(a, src),
        Phsubd => ssse3::phsubd(a, src),
        Phsubsw => ssse3::phsubsw(a, src),
        Pmaddubsw => ssse3::pmaddubsw(a, src),
        Pmulhrsw => ssse3::pmulhrsw(a, src),
        Pabsb => ssse3::pabs(src, 8),
        Pabsw => ssse3::pabs(src, 16),
        Pabsd => ssse3::pabs(src, 32),
        Psignb => ssse3::psign(a, src, 8),
        Psignw => ssse3::psign(a, src, 16),
        Psignd => ssse3::psign(a, src, 32),
        Pinsrw => {
            let lane = (insn.immediate8() & 3) as u64;
            (a & !(0xffff << (16 * lane))) | ((src & 0xffff) << (16 * lane))
        }
        Pmovmskb | Pextrw => {
            let v = read64(state, insn, 1, addr, 8);
            let out = if m == Pmovmskb {
                (0..8).fold(0, |r, i| r | ((v >> (8 * i + 7)) & 1) << i)
            } else {
                (v >> (16 * (insn.immediate8() & 3) as u64)) & 0xffff
            };
            state.gpr[insn.op0_register().full_register().number()] = out;
            return Ok(());
        }
        _ => return Err(ill),
    };
    if !dst_mm {
        return Err(ill);
    }
    mm_write(state, dst_n, r);
    Ok(())
}

/// The instructions between MMX and XMM registers (or memory): the
/// cvt*pi* conversions, maskmovq and maskmovdqu. `None` for the others.
fn mmx_sse(state: &mut CpuState, insn: &Instruction, addr: u64) -> Option<Result<(), GuestEvent>> {
    use Mnemonic::*;
    let m = insn.mnemonic();
    if !matches!(m, Cvtpi2ps | Cvtpi2pd | Cvtps2pi | Cvttps2pi | Cvtpd2pi | Cvttpd2pi | Maskmovq | Maskmovdqu) {
        return None;
    }
    if matches!(m, Cvtpd2pi | Cvttpd2pi) && insn.op1_kind() == OpKind::Memory && addr % 16 != 0 {
        // A legacy SSE 128-bit memory operand must be aligned: #GP.
        return Some(Err(GuestEvent::Fault { signal: libc::SIGSEGV, addr: 0 }));
    }
    // cvtpi2ps/cvtpi2pd from memory have no MMX operand and leave the x87
    // stack alone (SDM vol. 2, CVTPI2PS: "... if the source operand is an
    // MMX register"); every other form here names an MMX register.
    if uses_mmx(insn) {
        enter_mmx_mode(state);
    }
    let rc = Rounding::from_mxcsr(state.mxcsr);
    let truncate = Rounding::TowardZero;
    let dst = insn.op0_register().number();
    let src128 = |state: &CpuState| match insn.op1_kind() {
        OpKind::Memory => {
            let mut b = [0u8; 16];
            // SAFETY: guest memory at the guest's address, probed by the interpreter.
            unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, b.as_mut_ptr(), 16) };
            u128::from_le_bytes(b)
        }
        _ => state.xmm[insn.op1_register().number()],
    };
    match m {
        Cvtpi2ps => {
            let n = dst;
            let low = convert::cvtpi2ps(read64(state, insn, 1, addr, 8), rc);
            state.xmm[n] = (state.xmm[n] & !(u64::MAX as u128)) | low as u128;
        }
        Cvtpi2pd => state.xmm[dst] = convert::cvtpi2pd(read64(state, insn, 1, addr, 8)),
        Cvtps2pi | Cvttps2pi => {
            let v = convert::cvtps2pi(read64(state, insn, 1, addr, 8), if m == Cvtps2pi { rc } else { truncate });
            mm_write(state, dst, v);
        }
        Cvtpd2pi | Cvttpd2pi => {
            let v = convert::cvtpd2pi(src128(state), if m == Cvtpd2pi { rc } else { truncate });
            mm_write(state, dst, v);
        }
        _ => {
            // maskmov*: operand 0 is [rDI]; 1 the data, 2 the mask.
            let (data, mask) = (insn.op1_register(), insn.op2_register());
            let dest = maskmov::destination(state, insn);
            if m == Maskmovq {
                let (data, mask) = (mm_read(state, data.number()), mm_read(state, mask.number()));
                maskmov::store_selected(dest, data as u128, mask as u128, 8);
            } else {
                maskmov::store_selected(dest, state.xmm[data.number()], state.xmm[mask.number()], 16);
            }
        }
    }
    Some(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_helpers() {
        assert_eq!(pack(0x0000_7fff_ff80_0001, 0, 16, |v| sat_s(v, 8)), 0x7f80_01 | 0);
        assert_eq!(shift(0x8000_0000_8000_0000, 1, 32, Mnemonic::Psrad), 0xc000_0000_c000_0000);
        assert_eq!(lanes(0xff, 0x01, 8, |x, y| sat_u(x as i64 + y as i64, 8)), 0xff);
    }

    #[test]
    fn register_alias() {
        let mut s = CpuState::default();
        mm_write(&mut s, 3, 0x1234);
        assert_eq!(mm_read(&s, 3), 0x1234);
        assert_eq!(s.x87.regs[3] >> 64, 0xffff);
    }

}
