//! VEX-encoded vector instructions (AVX, AVX2): three operands, and 128 or
//! 256 bits. Operations SSE has too are SSE's lane operations
//! (`vector::Lane`), which `vector::run` applies to VEX's operands and
//! halves; this module has the moves, what only VEX has, and `as_sse`
//! for the VEX.128 forms of SSE's other forms.
//!
//! Where the upper halves live: `CpuState::ymm_upper`, loaded and stored
//! around each 256-bit operation (`upper_offset`); a block clears one at
//! most once (`Emitter::uppers_zero`), with one `stp xzr, xzr`. All 32
//! host vector registers are taken (16 pinned XMM, 16 temporaries), so
//! holding uppers too would cost registers every SSE and AVX operation
//! uses. Measured (`benches/profile/profile.sh --state-traffic`, the
//! bench's microbenchmarks built for x86-64-v3 at -O3), upper-half loads,
//! stores and clears are 10.5% of matmul's instructions (256-bit loops),
//! 6.4% of nbody's (VEX.128 scalar code's clears), 3.7% of sha256's, 3.1%
//! of strhash's and at most 0.15% of the six others': the most that
//! registers could save.

use super::aarch64::{ElementSize, Inst, VReg};
use super::sse::{ShiftKind, SignBits};
use super::vector::{self, vector_number};
use super::{a64, regs, EmitResult, Emitter, Flow, Reg, Unsupported};
use crate::cpu::state::offsets;
#[allow(unused_imports)]
use dynasmrt::DynasmApi;
use iced_x86::{Instruction, OpKind};

/// Where bits 128..255 of YMM register `n` live in `CpuState`.
fn upper_offset(n: usize) -> u32 {
    offsets::YMM_UPPER + 16 * n as u32
}

// ldr/str Q with an unsigned offset reach 65520, stp X 504.
const _: () = assert!(offsets::YMM_UPPER + 16 * 15 <= 504 && offsets::YMM_UPPER % 16 == 0);

/// The VEX.128 form of an SSE operation without a vvvv operand (moves
/// to and from general registers, conversions to integers, compares into
/// flags, MXCSR, extracts, sign and zero extensions, tests; their SSE
/// definitions take ymm too where VEX.256 has them): the SSE form, then,
/// for a write to an XMM register, bits 128..255 cleared.
pub fn as_sse(e: &mut Emitter, insn: &Instruction, f: vector::Form) -> EmitResult {
    vector::form(e, insn, f)?;
    if f.writes_op0() && insn.op0_kind() == OpKind::Register && insn.op0_register().is_xmm() {
        e.clear_upper(insn.op0_register().number());
    }
    Ok(Flow::Next)
}

impl Emitter {
    /// Clears bits 128..255 of YMM register `n` (what every VEX.128
    /// instruction writing it does), unless this block already has.
    pub(super) fn clear_upper(&mut self, n: usize) {
        if self.uppers_zero & 1 << n != 0 {
            return;
        }
        a64!(self.ops; stp xzr, xzr, [X(regs::STATE), upper_offset(n) as i32]);
        self.uppers_zero |= 1 << n;
    }

    pub(super) fn load_upper(&mut self, v: Reg, n: usize) {
        a64!(self.ops; ldr Q(v), [X(regs::STATE), upper_offset(n)]);
    }

    pub(super) fn store_upper(&mut self, v: Reg, n: usize) {
        a64!(self.ops; str Q(v), [X(regs::STATE), upper_offset(n)]);
        self.uppers_zero &= !(1 << n);
    }
}

/// The whole-register moves: vmovdqa/u, vmovaps/ups/apd/upd, the
/// non-temporal stores and vlddqu, 128 or 256 bits. A 128-bit move to a
/// register clears its upper half; a store writes only what it names.
pub(super) fn mov(e: &mut Emitter, insn: &Instruction) -> EmitResult {
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
            if wide {
                let high = e.vtmp();
                e.load_pair_operand(host(d), high, insn)?;
                e.store_upper(high, d);
            } else {
                e.vload_operand(host(d), insn, 16)?;
                e.clear_upper(d);
            }
        }
        (OpKind::Memory, OpKind::Register) => {
            let s = vector_number(insn.op1_register()).ok_or(Unsupported)?;
            if wide {
                let high = e.vtmp();
                e.load_upper(high, s);
                e.store_pair_operand(host(s), high, insn)?;
            } else {
                e.vstore_operand(host(s), insn, 16)?;
            }
        }
        _ => return Err(Unsupported),
    }
    Ok(Flow::Next)
}

/// vzeroupper clears bits 128..255 of every YMM register; vzeroall (`all`)
/// clears the registers whole.
pub(super) fn zero(e: &mut Emitter, all: bool) -> EmitResult {
    // stp of Q registers reaches 1008 bytes past `CpuState`'s start.
    const _: () = assert!(offsets::YMM_UPPER % 16 == 0 && offsets::YMM_UPPER + 7 * 32 <= 1008);
    let z = e.vtmp();
    a64!(e.ops; movi V(z).D2, 0);
    for pair in 0..8 {
        a64!(e.ops; stp Q(z), Q(z), [X(regs::STATE), (offsets::YMM_UPPER + 32 * pair) as i32]);
    }
    e.uppers_zero = u16::MAX;
    if all {
        for n in 0..16 {
            e.inst(Inst::VecMove { rd: VReg(super::regs::XMM_BASE + n), rn: VReg(z) });
        }
    }
    Ok(Flow::Next)
}

/// vbroadcast*, vpbroadcast*: the source's low `element` in every lane;
/// vbroadcastf128/i128 (`None`) its 128 bits.
pub(super) fn broadcast(e: &mut Emitter, l: vector::Lanes, element: Option<ElementSize>) -> Result<(), Unsupported> {
    let vector::Lanes { rd, rm, .. } = l;
    match element {
        Some(ElementSize::B) => a64!(e.ops; dup V(rd).B16, V(rm).B[0]),
        Some(ElementSize::H) => a64!(e.ops; dup V(rd).H8, V(rm).H[0]),
        Some(ElementSize::S) => a64!(e.ops; dup V(rd).S4, V(rm).S[0]),
        Some(ElementSize::D) => a64!(e.ops; dup V(rd).D2, V(rm).D[0]),
        None => e.inst(Inst::VecMove { rd: VReg(rd), rn: VReg(rm) }),
    }
    Ok(())
}

/// vbroadcastf128/vbroadcasti128 ymm, m128: the 16 bytes loaded straight
/// into the low half (a faulting load writes nothing), then copied to the
/// upper one.
pub(super) fn broadcast128(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    e.vload_operand(vector::pinned(d), insn, 16)?;
    e.store_upper(vector::pinned(d), d);
    Ok(Flow::Next)
}

/// vpsllv*/vpsrlv*/vpsrav*: each element shifted by the unsigned count in
/// the same element of the last operand; counts of the element's width or
/// more give 0 (or the sign, for vpsrav). The host shifts by the signed low
/// byte of each count, so counts are first clamped to the width.
/// AVX2 has them on dwords and quadwords, but vpsrav on dwords only.
pub(super) fn variable_shift(e: &mut Emitter, l: vector::Lanes, kind: ShiftKind, element: ElementSize) -> Result<(), Unsupported> {
    use ShiftKind::*;
    let vector::Lanes { rd, rn, rm, .. } = l;
    let quad = match (kind, element) {
        (_, ElementSize::S) => false,
        (Left | Right, ElementSize::D) => true,
        _ => return Err(Unsupported),
    };
    let (count, limit) = (e.vtmp(), e.vtmp());
    if quad {
        let x = e.tmp();
        a64!(e.ops
            ; movz X(x), 64
            ; dup V(limit).D2, X(x)
            ; cmhi V(count).D2, V(rm).D2, V(limit).D2
            ; bsl V(count).B16, V(limit).B16, V(rm).B16
        );
    } else {
        a64!(e.ops
            ; movi V(limit).S4, 32
            ; umin V(count).S4, V(rm).S4, V(limit).S4
        );
    }
    match (kind, quad) {
        (Left, false) => a64!(e.ops; ushl V(rd).S4, V(rn).S4, V(count).S4),
        (Left, true) => a64!(e.ops; ushl V(rd).D2, V(rn).D2, V(count).D2),
        (Right, false) => a64!(e.ops; neg V(count).S4, V(count).S4 ; ushl V(rd).S4, V(rn).S4, V(count).S4),
        (Right, true) => a64!(e.ops; neg V(count).D2, V(count).D2 ; ushl V(rd).D2, V(rn).D2, V(count).D2),
        (RightArithmetic, _) => a64!(e.ops; neg V(count).S4, V(count).S4 ; sshl V(rd).S4, V(rn).S4, V(count).S4),
    }
    Ok(())
}

/// The 128-bit source of vinsert*128 (a register or 16 bytes of memory).
fn source128(e: &mut Emitter, insn: &Instruction, op: u32) -> Result<Reg, Unsupported> {
    match insn.op_kind(op) {
        OpKind::Register => Ok(vector::pinned(vector_number(insn.op_register(op)).ok_or(Unsupported)?)),
        OpKind::Memory => {
            let t = e.vtmp();
            e.vload_operand(t, insn, 16)?;
            Ok(t)
        }
        _ => Err(Unsupported),
    }
}

/// vinsertf128/vinserti128 ymm1, ymm2, xmm3/m128, imm: ymm2 with the half
/// imm names replaced.
pub(super) fn insert128(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
    let n = vector_number(insn.op1_register()).ok_or(Unsupported)?;
    let s = source128(e, insn, 2)?;
    if insn.immediate8() & 1 != 0 {
        // The upper half first: s may be d's low half.
        e.store_upper(s, d);
        if d != n {
            e.inst(Inst::VecMove { rd: VReg(vector::pinned(d)), rn: VReg(vector::pinned(n)) });
        }
    } else {
        let upper = e.vtmp();
        e.load_upper(upper, n);
        e.inst(Inst::VecMove { rd: VReg(vector::pinned(d)), rn: VReg(s) });
        e.store_upper(upper, d);
    }
    Ok(Flow::Next)
}

/// vextractf128/vextracti128 xmm1/m128, ymm2, imm: the half imm names.
pub(super) fn extract128(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let n = vector_number(insn.op1_register()).ok_or(Unsupported)?;
    let half = if insn.immediate8() & 1 != 0 {
        let t = e.vtmp();
        e.load_upper(t, n);
        t
    } else {
        vector::pinned(n)
    };
    match insn.op0_kind() {
        OpKind::Register => {
            let d = vector_number(insn.op0_register()).ok_or(Unsupported)?;
            if vector::pinned(d) != half {
                e.inst(Inst::VecMove { rd: VReg(vector::pinned(d)), rn: VReg(half) });
            }
            e.clear_upper(d);
        }
        _ => e.vstore_operand(half, insn, 16)?,
    }
    Ok(Flow::Next)
}

/// vpmovmskb/vmovmskps/vmovmskpd r32, ymm: the low half's sign bits, then
/// the high half's above them.
pub(super) fn sign_mask_256(e: &mut Emitter, insn: &Instruction, signs: SignBits) -> EmitResult {
    let n = vector_number(insn.op1_register()).ok_or(Unsupported)?;
    // Right after a byte compare, its upper half is still in a temporary
    // (no reload) and every byte is a sign (no test).
    let compared = e.sign_bytes_of(n).filter(|_| signs == SignBits::Bytes);
    let dst = e.loc(insn, 0)?;
    let upper = match compared {
        Some(Some(upper)) => {
            e.take_vtmps_through(upper);
            upper
        }
        _ => {
            let upper = e.vtmp();
            e.load_upper(upper, n);
            upper
        }
    };
    let double = match signs {
        SignBits::Bytes => {
            e.byte_sign_mask_into(dst, vector::pinned(n), Some(upper), compared.is_some());
            return Ok(Flow::Next);
        }
        SignBits::Singles => false,
        SignBits::Doubles => true,
    };
    let (low, high) = (e.element_sign_mask(vector::pinned(n), double), e.element_sign_mask(upper, double));
    let shift = if double { 2 } else { 4 };
    a64!(e.ops; orr X(low), X(low), X(high), lsl shift);
    e.write(dst, low);
    Ok(Flow::Next)
}
