//! One definition per vector operation, whatever the encoding: an
//! operation is written once as a 128-bit *lane operation* `rd = f(rn, rm)`
//! on host registers, and this module feeds it the operands of each form:
//!
//! | form        | rd    | rn            | rm                              |
//! |-------------|-------|---------------|---------------------------------|
//! | legacy SSE  | xmm1  | xmm1          | xmm2/m128 (or xmm1 if none)     |
//! | VEX.128     | xmm1  | xmm2 (vvvv)   | xmm3/m128 (or xmm2 if none)     |
//! | VEX.256     | each 128-bit half of ymm1, ymm2 and ymm3/m256          |
//!
//! A memory operand is loaded with the size the instruction reads (m64 for
//! addsd, m128 for addpd).
//!
//! A lane operation must read all of its inputs before it writes `rd`
//! (which may be `rn` or `rm`), and write all of `rd`; FMA's also reads
//! `rd` (`Second::PerHalfAccumulating`). VEX.128 then clears
//! bits 128..255 of the destination; legacy SSE leaves them alone.

use super::aarch64::{Inst, VReg};
use super::{regs, EmitResult, Emitter, Flow, Reg, Unsupported};
use iced_x86::{EncodingKind, Instruction, Mnemonic, OpKind, Register};

/// The three host registers of one 128-bit lane operation.
#[derive(Clone, Copy, Debug)]
pub struct Lanes {
    pub rd: Reg,
    pub rn: Reg,
    pub rm: Reg,
    /// Bits 128..255 of a VEX.256 operation (vblendps takes its upper
    /// lanes' immediate bits from there).
    pub upper: bool,
}

/// A 128-bit operation on host registers (see the module comment).
pub type LaneOp = fn(&mut Emitter, &Instruction, Lanes) -> Result<(), Unsupported>;

/// How a VEX.256 form's last vector operand meets the two halves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Second {
    /// 256 bits, one half each (most operations).
    PerHalf,
    /// 256 bits, one half each, and the destination is an input too
    /// (FMA's accumulator): the high half's `rd` arrives loaded.
    PerHalfAccumulating,
    /// 128 bits used by both halves (the shift count of vpsllw ymm, ymm, xmm).
    Whole128,
}

/// A YMM or XMM register's number.
pub fn vector_number(reg: Register) -> Option<usize> {
    (reg.is_xmm() || reg.is_ymm()).then(|| reg.number())
}

/// The host register pinned to XMM register `n` (the low half of YMM `n`).
pub fn pinned(n: usize) -> Reg {
    regs::XMM_BASE + n as Reg
}

/// The vector operands of `insn` (no immediates): the indices of its
/// register and memory operands.
fn vector_operands(insn: &Instruction) -> impl Iterator<Item = u32> + '_ {
    (0..insn.op_count()).filter(|&i| matches!(insn.op_kind(i), OpKind::Register | OpKind::Memory))
}

/// Runs `op` for `insn`, legacy or VEX, 128 or 256 bits.
pub fn run(e: &mut Emitter, insn: &Instruction, op: LaneOp, second: Second) -> EmitResult {
    let ops: Vec<u32> = vector_operands(insn).collect();
    let dst_reg = insn.op0_register();
    let dst = vector_number(dst_reg).ok_or(Unsupported)?;
    let vex = insn.encoding() == EncodingKind::VEX;
    // Operand indices of rn and rm; rm is the last vector operand.
    let (n_op, m_op) = match (vex, ops.len()) {
        (_, 1) => (0, 0),
        (false, 2) => (0, 1),
        (true, 2) => (1, 1),
        (true, 3) => (1, 2),
        // vblendv*'s is4 selector register is the lane operation's to read.
        (true, 4) => (1, 2),
        _ => return Err(Unsupported),
    };
    let wide = vex && dst_reg.is_ymm();
    let register = |i: u32| vector_number(insn.op_register(i)).ok_or(Unsupported);
    // Both halves of a memory operand are loaded before anything is
    // written: a fault on the second leaves every register as it was. The
    // upper half's temporary comes first, so that the low half's can be
    // reused once it is done (float operations need six more).
    let (m_low, m_high, keep) = match insn.op_kind(m_op) {
        OpKind::Register if wide && second == Second::Whole128 && register(m_op)? == dst => {
            // The low half's result would overwrite what the high half reads.
            let copy = e.vtmp();
            e.inst(Inst::VecMove { rd: VReg(copy), rn: VReg(pinned(dst)) });
            (copy, None, e.vtmps_taken())
        }
        OpKind::Register => {
            let m = register(m_op)?;
            (pinned(m), wide.then_some(Upper::Of(m)), e.vtmps_taken())
        }
        OpKind::Memory => {
            let (base, off) = e.address(insn)?;
            let bytes = insn.memory_size().size();
            if wide && second != Second::Whole128 {
                let high = e.vtmp();
                let keep = e.vtmps_taken();
                let low = e.vtmp();
                e.load_pair(low, high, base, off);
                (low, Some(Upper::Loaded(high)), keep)
            } else {
                if !matches!(bytes, 1 | 2 | 4 | 8 | 16) {
                    return Err(Unsupported);
                }
                let low = e.vtmp();
                // Only the bytes the instruction reads (movsd's 8): more
                // could fault where the CPU does not.
                e.vload(low, base, off, bytes as u8);
                // A 128-bit operand both halves use stays.
                (low, None, e.vtmps_taken())
            }
        }
        _ => return Err(Unsupported),
    };
    // A unary form's only source is rm (and rn, for operations that read it).
    let (rn, rn_low) = if n_op == m_op {
        (None, m_low)
    } else {
        let n = register(n_op)?;
        (Some(n), pinned(n))
    };
    op(e, insn, Lanes { rd: pinned(dst), rn: rn_low, rm: m_low, upper: false })?;
    e.release_vtmps(keep);
    if !wide {
        if vex {
            e.clear_upper(dst);
        }
        return Ok(Flow::Next);
    }
    let b = match (second, m_high) {
        (Second::Whole128, _) => m_low,
        (_, Some(Upper::Loaded(high))) => high,
        (_, Some(Upper::Of(m))) => {
            let b = e.vtmp();
            e.load_upper(b, m);
            b
        }
        (_, None) => return Err(Unsupported),
    };
    let a = match rn {
        Some(n) => {
            let a = e.vtmp();
            e.load_upper(a, n);
            a
        }
        None => b,
    };
    let out = if second == Second::PerHalfAccumulating {
        let acc = e.vtmp();
        e.load_upper(acc, dst);
        acc
    } else if rn.is_none() {
        // A unary form's b may be a guest register (Whole128): not for writing.
        e.vtmp()
    } else {
        a
    };
    op(e, insn, Lanes { rd: out, rn: a, rm: b, upper: true })?;
    e.store_upper(out, dst);
    Ok(Flow::Next)
}

impl Emitter {
    /// For a lane operation that changes some lanes of `rn`: a register
    /// holding `rn`'s value whose lanes may be replaced without touching
    /// `rm` (rd itself unless rd is rm). Give it to `merge_end`.
    pub fn merge_start(&mut self, l: Lanes) -> Reg {
        if l.rd == l.rn {
            return l.rd;
        }
        let out = if l.rd == l.rm { self.vtmp() } else { l.rd };
        self.inst(Inst::VecMove { rd: VReg(out), rn: VReg(l.rn) });
        out
    }

    /// Completes `merge_start`: the result into rd.
    pub fn merge_end(&mut self, l: Lanes, out: Reg) {
        if out != l.rd {
            self.inst(Inst::VecMove { rd: VReg(l.rd), rn: VReg(out) });
        }
    }
}

/// Where the upper half of the last operand comes from.
#[derive(Clone, Copy)]
enum Upper {
    /// YMM register `n`'s upper half, in `CpuState`.
    Of(usize),
    /// Already loaded from memory.
    Loaded(Reg),
}

/// The operations written once as lane operations, for their legacy SSE
/// and VEX forms alike, and how VEX.256 splits their last operand.
pub fn lane_op(insn: &Instruction) -> Option<(LaneOp, Second)> {
    let per_half = |op: LaneOp| (op, Second::PerHalf);
    super::sse::lane_op(insn)
        .or_else(|| super::sse3::lane_op(insn).map(per_half))
        .or_else(|| super::ssse3::lane_op(insn).map(per_half))
        .or_else(|| super::sse41::lane_op(insn).map(per_half))
        .or_else(|| super::vex::lane_op(insn))
        .or_else(|| super::fma::lane_op(insn).map(|op| (op, Second::PerHalfAccumulating)))
}

/// The handler of every lane operation (`vector::run`).
pub fn handler(insn: &Instruction) -> Option<super::Handler> {
    // Not MMX forms, nor the string instruction cmpsd (an SSE2 mnemonic too).
    let to_vector = insn.op_count() > 0 && insn.op0_kind() == OpKind::Register && vector_number(insn.op0_register()).is_some();
    if !to_vector || crate::interp::mmx::uses_mmx(insn) {
        return None;
    }
    lane_op(insn).map(|_| lanes as super::Handler)
}

fn lanes(e: &mut Emitter, insn: &Instruction) -> EmitResult {
    let (op, second) = lane_op(insn).ok_or(Unsupported)?;
    run(e, insn, op, second)
}

/// The SSE mnemonic of a VEX one that computes the same per 128-bit lane
/// (vpshufd: pshufd); others as they are.
pub fn sse_equivalent(m: Mnemonic) -> Mnemonic {
    use Mnemonic::*;
    match m {
        Vpslldq => Pslldq,
        Vpsrldq => Psrldq,
        Vpsllw => Psllw,
        Vpslld => Pslld,
        Vpsllq => Psllq,
        Vpsrlw => Psrlw,
        Vpsrld => Psrld,
        Vpsrlq => Psrlq,
        Vpsraw => Psraw,
        Vpsrad => Psrad,
        Vpshufd => Pshufd,
        Vpshuflw => Pshuflw,
        Vpshufhw => Pshufhw,
        Vshufps => Shufps,
        Vshufpd => Shufpd,
        Vpmuludq => Pmuludq,
        Vpmulhw => Pmulhw,
        Vpmulhuw => Pmulhuw,
        Vpmaddwd => Pmaddwd,
        Vpsadbw => Psadbw,
        Vpacksswb => Packsswb,
        Vpackuswb => Packuswb,
        Vpackssdw => Packssdw,
        Vminps => Minps,
        Vmaxps => Maxps,
        Vminpd => Minpd,
        Vmaxpd => Maxpd,
        Vsqrtps => Sqrtps,
        Vsqrtpd => Sqrtpd,
        Vpshufb => Pshufb,
        Vpalignr => Palignr,
        Vphaddw => Phaddw,
        Vphaddd => Phaddd,
        Vphsubw => Phsubw,
        Vphsubd => Phsubd,
        Vphaddsw => Phaddsw,
        Vphsubsw => Phsubsw,
        Vpmaddubsw => Pmaddubsw,
        Vpmulhrsw => Pmulhrsw,
        Vpabsb => Pabsb,
        Vpabsw => Pabsw,
        Vpabsd => Pabsd,
        Vpsignb => Psignb,
        Vpsignw => Psignw,
        Vpsignd => Psignd,
        Vhaddps => Haddps,
        Vhaddpd => Haddpd,
        Vhsubps => Hsubps,
        Vhsubpd => Hsubpd,
        Vaddsubps => Addsubps,
        Vaddsubpd => Addsubpd,
        Vmovshdup => Movshdup,
        Vmovddup => Movddup,
        Vmovsldup => Movsldup,
        Vaddsd => Addsd,
        Vsubsd => Subsd,
        Vmulsd => Mulsd,
        Vdivsd => Divsd,
        Vsqrtsd => Sqrtsd,
        Vminsd => Minsd,
        Vmaxsd => Maxsd,
        Vaddss => Addss,
        Vsubss => Subss,
        Vmulss => Mulss,
        Vdivss => Divss,
        Vsqrtss => Sqrtss,
        Vminss => Minss,
        Vmaxss => Maxss,
        Vcmpsd => Cmpsd,
        Vcmpss => Cmpss,
        Vcmppd => Cmppd,
        Vcmpps => Cmpps,
        Vcvtdq2ps => Cvtdq2ps,
        Vcvttps2dq => Cvttps2dq,
        Vcvtps2dq => Cvtps2dq,
        Vcvtdq2pd => Cvtdq2pd,
        Vcvtps2pd => Cvtps2pd,
        Vcvtpd2ps => Cvtpd2ps,
        Vcvttpd2dq => Cvttpd2dq,
        Vcvtpd2dq => Cvtpd2dq,
        Vpmuldq => Pmuldq,
        Vpackusdw => Packusdw,
        Vblendps => Blendps,
        Vblendpd => Blendpd,
        Vpblendw => Pblendw,
        Vroundps => Roundps,
        Vroundpd => Roundpd,
        Vroundss => Roundss,
        Vroundsd => Roundsd,
        Vmovd => Movd,
        Vmovq => Movq,
        Vpmovmskb => Pmovmskb,
        Vmovmskps => Movmskps,
        Vmovmskpd => Movmskpd,
        Vucomisd => Ucomisd,
        Vcomisd => Comisd,
        Vucomiss => Ucomiss,
        Vcomiss => Comiss,
        Vcvttsd2si => Cvttsd2si,
        Vcvtsd2si => Cvtsd2si,
        Vcvttss2si => Cvttss2si,
        Vcvtss2si => Cvtss2si,
        Vcvtsi2sd => Cvtsi2sd,
        Vcvtsi2ss => Cvtsi2ss,
        Vstmxcsr => Stmxcsr,
        Vldmxcsr => Ldmxcsr,
        Vpextrw => Pextrw,
        Vpextrb => Pextrb,
        Vpextrd => Pextrd,
        Vpextrq => Pextrq,
        Vextractps => Extractps,
        Vpinsrw => Pinsrw,
        Vpinsrb => Pinsrb,
        Vpinsrd => Pinsrd,
        Vpinsrq => Pinsrq,
        Vpmovsxbw => Pmovsxbw,
        Vpmovsxbd => Pmovsxbd,
        Vpmovsxbq => Pmovsxbq,
        Vpmovsxwd => Pmovsxwd,
        Vpmovsxwq => Pmovsxwq,
        Vpmovsxdq => Pmovsxdq,
        Vpmovzxbw => Pmovzxbw,
        Vpmovzxbd => Pmovzxbd,
        Vpmovzxbq => Pmovzxbq,
        Vpmovzxwd => Pmovzxwd,
        Vpmovzxwq => Pmovzxwq,
        Vpmovzxdq => Pmovzxdq,
        Vmovntdqa => Movntdqa,
        Vptest => Ptest,
        Vmovss => Movss,
        Vmovsd => Movsd,
        Vmovlps => Movlps,
        Vmovlpd => Movlpd,
        Vmovhps => Movhps,
        Vmovhpd => Movhpd,
        Vmovhlps => Movhlps,
        Vmovlhps => Movlhps,
        Vcvtss2sd => Cvtss2sd,
        Vcvtsd2ss => Cvtsd2ss,
        Vrcpps => Rcpps,
        Vrcpss => Rcpss,
        Vrsqrtps => Rsqrtps,
        Vrsqrtss => Rsqrtss,
        Vinsertps => Insertps,
        Vblendvps => Blendvps,
        Vblendvpd => Blendvpd,
        Vpblendvb => Pblendvb,
        m => m,
    }
}
