//! VEX-encoded vector instructions (AVX, AVX2): three operands, and 128 or
//! 256 bits. They reuse the SSE rows (`sse::packed_op`): a VEX.128
//! operation is the SSE one with a separate first source that then clears
//! bits 128..255 of the destination; a VEX.256 one is the same row on each
//! 128-bit half.
//!
//! Where the upper halves live: `CpuState::ymm_upper`, loaded and stored
//! around each 256-bit operation (`upper_offset`). Host v8..v15 are free
//! and could hold some of them; that is a measured choice for later.

use super::aarch64::{Arrangement, Inst, VReg};
use super::sse::packed_op;
use super::{a64, regs, EmitResult, Emitter, Flow, Handler, Reg, Unsupported};
use crate::cpu_state::offsets;
#[allow(unused_imports)]
use dynasmrt::DynasmApi;
use iced_x86::{EncodingKind, Instruction, Mnemonic, OpKind, Register};

/// Where bits 128..255 of YMM register `n` live in `CpuState`.
fn upper_offset(n: usize) -> u32 {
    offsets::YMM_UPPER + 16 * n as u32
}

// ldr/str Q with an unsigned offset reach 65520, str X 32760.
const _: () = assert!(offsets::YMM_UPPER + 16 * 16 <= 32760 && offsets::YMM_UPPER % 16 == 0);

/// The handler of a VEX instruction this module implements.
pub fn handler(insn: &Instruction) -> Option<Handler> {
    if insn.encoding() != EncodingKind::VEX {
        return None;
    }
    use Mnemonic::*;
    match insn.mnemonic() {
        m if packed_op(m).is_some() => Some(packed),
        Vmovdqa | Vmovdqu | Vmovaps | Vmovups | Vmovapd | Vmovupd | Vmovntdq | Vmovntps | Vmovntpd | Vlddqu => Some(mov),
        Vzeroupper | Vzeroall => Some(zero),
        _ => None,
    }
}

/// A YMM or XMM register's number.
fn vector_number(reg: Register) -> Option<usize> {
    (reg.is_xmm() || reg.is_ymm()).then(|| reg.number())
}

impl Emitter {
    /// Clears bits 128..255 of YMM register `n` (what every VEX.128
    /// instruction writing it does).
    fn clear_upper(&mut self, n: usize) {
        a64!(self.ops
            ; str xzr, [X(regs::STATE), upper_offset(n)]
            ; str xzr, [X(regs::STATE), upper_offset(n) + 8]
        );
    }

    fn load_upper(&mut self, v: Reg, n: usize) {
        a64!(self.ops; ldr Q(v), [X(regs::STATE), upper_offset(n)]);
    }

    fn store_upper(&mut self, v: Reg, n: usize) {
        a64!(self.ops; str Q(v), [X(regs::STATE), upper_offset(n)]);
    }

    /// 32 bytes at `base + off` into `low` and `high` (`off` as
    /// `address` gives it: -256..255).
    fn load_pair(&mut self, low: Reg, high: Reg, base: Reg, off: i32) {
        let (base, off) = self.pair_address(base, off);
        a64!(self.ops; ldp Q(low), Q(high), [X(base), off]);
    }

    fn store_pair(&mut self, low: Reg, high: Reg, base: Reg, off: i32) {
        let (base, off) = self.pair_address(base, off);
        a64!(self.ops; stp Q(low), Q(high), [X(base), off]);
    }

    /// `ldp`/`stp` of Q registers take multiples of 16 only.
    fn pair_address(&mut self, base: Reg, off: i32) -> (Reg, i32) {
        if off % 16 == 0 {
            return (base, off);
        }
        let t = self.tmp();
        self.add_imm(t, base, off as i64);
        (t, 0)
    }
}

/// `dst = src1 op src2` for a row of `sse::packed_op`.
fn packed(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let row = packed_op(insn.mnemonic()).ok_or(Unsupported)?;
    let dst = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    let src1 = vector_number(insn.op1_register()).ok_or(Unsupported)?;
    let wide = insn.op0_register().is_ymm();
    let arrangement = Arrangement::full(row.element);
    let host = |n: usize| super::regs::XMM_BASE + n as Reg;
    // Both halves of a memory operand are loaded before anything is
    // written: a fault on the second leaves every register as it was.
    let (src2_low, src2_high) = match insn.op2_kind() {
        OpKind::Register => {
            let n = vector_number(insn.op2_register()).ok_or(Unsupported)?;
            (host(n), wide.then_some(Err(n)))
        }
        OpKind::Memory => {
            let (base, off) = e.address(insn)?;
            let low = e.vtmp();
            if wide {
                let high = e.vtmp();
                e.load_pair(low, high, base, off);
                (low, Some(Ok(high)))
            } else {
                e.vload(low, base, off, 16);
                (low, None)
            }
        }
        _ => return Err(Unsupported),
    };
    let taken = e.vtmps_taken();
    e.packed(row, arrangement, host(dst), host(src1), src2_low);
    e.release_vtmps(taken);
    let Some(src2_high) = src2_high else {
        e.clear_upper(dst);
        return Ok(Flow::Next);
    };
    let a = e.vtmp();
    e.load_upper(a, src1);
    let b = match src2_high {
        Ok(loaded) => loaded,
        Err(n) => {
            let b = e.vtmp();
            e.load_upper(b, n);
            b
        }
    };
    e.packed(row, arrangement, a, a, b);
    e.store_upper(a, dst);
    Ok(Flow::Next)
}

/// The whole-register moves: vmovdqa/u, vmovaps/ups/apd/upd, the
/// non-temporal stores and vlddqu, 128 or 256 bits. A 128-bit move to a
/// register clears its upper half; a store writes only what it names.
fn mov(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let wide = match insn.op0_kind() {
        OpKind::Register => insn.op0_register().is_ymm(),
        _ => insn.op1_register().is_ymm(),
    };
    let host = |n: usize| super::regs::XMM_BASE + n as Reg;
    match (insn.op0_kind(), insn.op1_kind()) {
        (OpKind::Register, OpKind::Register) => {
            let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
            let s = vector_number(insn.op1_register()).ok_or(Unsupported)?;
            if d != s {
                e.inst(Inst::VecMove { rd: VReg(host(d)), rn: VReg(host(s)) });
            }
            if wide {
                let t = e.vtmp();
                e.load_upper(t, s);
                e.store_upper(t, d);
            } else {
                e.clear_upper(d);
            }
        }
        (OpKind::Register, OpKind::Memory) => {
            let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
            let (base, off) = e.address(insn)?;
            if wide {
                let high = e.vtmp();
                e.load_pair(host(d), high, base, off);
                e.store_upper(high, d);
            } else {
                e.vload(host(d), base, off, 16);
                e.clear_upper(d);
            }
        }
        (OpKind::Memory, OpKind::Register) => {
            let s = vector_number(insn.op1_register()).ok_or(Unsupported)?;
            let (base, off) = e.address(insn)?;
            if wide {
                let high = e.vtmp();
                e.load_upper(high, s);
                e.store_pair(host(s), high, base, off);
            } else {
                e.vstore(host(s), base, off, 16);
            }
        }
        _ => return Err(Unsupported),
    }
    Ok(Flow::Next)
}

/// vzeroupper clears bits 128..255 of every YMM register; vzeroall clears
/// the registers whole.
fn zero(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let z = e.vtmp();
    let uppers = e.tmp();
    a64!(e.ops; movi V(z).D2, 0);
    e.add_imm(uppers, regs::STATE, offsets::YMM_UPPER as i64);
    for pair in 0..8 {
        a64!(e.ops; stp Q(z), Q(z), [X(uppers), 32 * pair]);
    }
    if insn.mnemonic() == Mnemonic::Vzeroall {
        for n in 0..16 {
            e.inst(Inst::VecMove { rd: VReg(super::regs::XMM_BASE + n), rn: VReg(z) });
        }
    }
    Ok(Flow::Next)
}
