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
//!
//! The lane operations (`Lane`) and the other vector forms (`Form`) are
//! data: `frontend::forms` binds each mnemonic (or Code) to one of them.

use super::aarch64::{ElementSize, Inst, VReg};
use super::sse::{Half, PackedConvert, PackedOp, ShiftKind, SignBits};
use super::{regs, EmitResult, Emitter, Flow, Reg, Unsupported};
use iced_x86::{EncodingKind, Instruction, OpKind, Register};

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

/// Where a byte compare (pcmpeqb, pcmpgtb: each byte all ones or zero)
/// left its result, while nothing has been emitted after it.
#[derive(Clone, Copy)]
pub struct SignBytes {
    /// The XMM or YMM register written.
    n: usize,
    /// A temporary still holding the upper half (256-bit forms).
    upper: Option<Reg>,
    /// The code's end right after the compare.
    end: usize,
}

impl Emitter {
    /// Notes that `insn`, just emitted, wrote register `n` (and its upper
    /// half from `upper`) if it is a byte compare.
    fn note_sign_bytes(&mut self, insn: &Instruction, n: usize, upper: Option<Reg>) {
        use iced_x86::Mnemonic::*;
        let compare = matches!(insn.mnemonic(), Pcmpeqb | Pcmpgtb | Vpcmpeqb | Vpcmpgtb);
        self.sign_bytes = compare.then(|| SignBytes { n, upper, end: self.offset() });
    }

    /// If register `n` holds a byte compare's result emitted right before:
    /// the temporary holding its upper half, if it has one there.
    pub(super) fn sign_bytes_of(&self, n: usize) -> Option<Option<Reg>> {
        let s = self.sign_bytes.filter(|s| s.n == n && s.end == self.offset())?;
        Some(s.upper)
    }
}

/// Runs `op` for `insn`, legacy or VEX, 128 or 256 bits.
pub fn run(
    e: &mut Emitter,
    insn: &Instruction,
    op: impl Fn(&mut Emitter, &Instruction, Lanes) -> Result<(), Unsupported>,
    second: Second,
) -> EmitResult {
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
            let bytes = insn.memory_size().size();
            if wide && second != Second::Whole128 {
                let high = e.vtmp();
                let keep = e.vtmps_taken();
                let low = e.vtmp();
                e.load_pair_operand(low, high, insn)?;
                (low, Some(Upper::Loaded(high)), keep)
            } else {
                let low = e.vtmp();
                // Only the bytes the instruction reads (movsd's 8): more
                // could fault where the CPU does not.
                e.vload_operand(low, insn, u8::try_from(bytes).map_err(|_| Unsupported)?)?;
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
        e.note_sign_bytes(insn, dst, None);
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
    e.note_sign_bytes(insn, dst, Some(out));
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

/// The lane operations, as data: what a row of `frontend::forms` names
/// for a form that `run` feeds to one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lane {
    /// One host vector instruction per element (the bitwise, integer and
    /// float arithmetic rows; MMX's packed forms use them too, `emit::mmx`).
    Packed(PackedOp),
    /// psll/psrl/psra on `ElementSize` elements: by an immediate, per half;
    /// by the count in an XMM register or m128, the same count for both
    /// halves.
    Shift(ShiftKind, ElementSize),
    /// pslldq (`left`) and psrldq: each half by imm8 bytes.
    ShiftBytes { left: bool },
    /// pshufd, pshuflw, pshufhw, shufps, shufpd: elements chosen by imm8.
    Shuffle(super::sse::Shuffle),
    /// pmuludq, pmuldq, pmulhw, pmulhuw, pmaddwd, psadbw and the
    /// saturating packs.
    Widening(super::sse::Widening),
    /// minps/maxps/minpd/maxpd (x86's operand rule) and sqrtps/sqrtpd:
    /// double (true) or single.
    MinMaxSqrt(super::sse::MinMaxSqrt, bool),
    /// Scalar add, sub, mul, div, sqrt, min, max on the low element:
    /// double (true) or single.
    Scalar(super::sse::ScalarOp, bool),
    /// cmpps/cmppd/cmpss/cmpsd: all-ones elements where imm8's predicate holds.
    CompareMask(super::sse::FloatElements),
    /// The packed conversions between int32, float and double within 128 bits.
    Convert(PackedConvert),
    /// movsd (true) and movss between registers: rn with rm's low element.
    MergeScalar(bool),
    /// movlps/movhps/movlpd/movhpd loads, movhlps, movlhps: rn with its
    /// half `to` replaced by rm's half `from`.
    MergeHalf { to: Half, from: Half },
    /// cvtsd2ss (true), cvtss2sd on the low element.
    FloatToFloat(bool),
    /// rcpps, rsqrtps, rcpss, rsqrtss (exact): the square root's (true)
    /// or the value's; the low element only (true) or all.
    Reciprocal(bool, bool),
    /// movddup, movshdup, movsldup.
    Duplicate(super::sse3::Duplicate),
    /// haddps/haddpd/hsubps/hsubpd: subtract (true) or add; double (true)
    /// or single.
    HorizontalFloat(bool, bool),
    /// addsubps, addsubpd: double (true) or single.
    AddSub(bool),
    /// pshufb: bytes chosen by rm's bytes.
    Pshufb,
    /// palignr: 16 bytes from rn:rm at imm8.
    Palignr,
    /// phaddw/d, phsubw/d, phaddsw, phsubsw.
    HorizontalInt(super::ssse3::HorizontalInt),
    /// pmaddubsw.
    MultiplyAddBytes,
    /// pmulhrsw.
    MultiplyHighRound,
    /// pabsb/w/d: the element size.
    Abs(super::aarch64::ElementSize),
    /// psignb/w/d: the element size.
    Sign(super::aarch64::ElementSize),
    /// blendps, blendpd, pblendw, vpblendd: elements chosen by imm8.
    BlendImmediate(super::aarch64::ElementSize),
    /// blendvps, blendvpd, pblendvb: by XMM0's (VEX: the is4 register's)
    /// element signs.
    BlendVariable(super::aarch64::ElementSize),
    /// roundps/pd/ss/sd.
    Round(super::sse::FloatElements),
    /// insertps.
    Insertps,
    /// vpsllv*/vpsrlv*/vpsrav*: per-element counts.
    VariableShift(ShiftKind, ElementSize),
    /// vbroadcast*, vpbroadcast*: the source's low element (`None`: its
    /// 128 bits, vbroadcastf128/i128) in every lane of both halves.
    Broadcast(Option<ElementSize>),
    /// vpermilpd (true) and vpermilps: by imm8, or by per-element controls
    /// in a vector operand.
    PermuteInLane(bool),
    /// FMA3: `a * b ± c` with one rounding; the destination is an input.
    Fused(super::fma::Fma),
}

/// `run` per half for an operation whose row's parameter says all it
/// computes (it reads no operand of the instruction).
fn per_half(
    e: &mut Emitter,
    insn: &Instruction,
    op: impl Fn(&mut Emitter, Lanes) -> Result<(), Unsupported>,
) -> EmitResult {
    run(e, insn, move |e: &mut Emitter, _: &Instruction, l: Lanes| op(e, l), Second::PerHalf)
}

/// The handler of every lane operation row: `run` with `lane`'s operation.
/// Choices that depend on the operands stay in the operation: a shift's
/// count from an immediate or a register (`Lane::Shift`, and vpermilps's
/// controls), imm8 selectors and compare predicates.
pub fn lanes(e: &mut Emitter, insn: &Instruction, lane: Lane) -> EmitResult {
    use super::{permute, sse, sse3, sse41, ssse3, vex};
    use Second::*;
    if let Some((link, double)) = super::fp_chain::link_of(insn) {
        if e.chain_link(insn, link, double)? {
            return Ok(Flow::Next);
        }
    }
    let by_immediate = insn.op_kind(insn.op_count().saturating_sub(1)) == OpKind::Immediate8;
    let (op, second): (LaneOp, Second) = match lane {
        Lane::Packed(p) => return run(e, insn, move |e: &mut Emitter, _: &Instruction, l: Lanes| sse::packed(e, p, l), PerHalf),
        Lane::Fused(f) => {
            return run(e, insn, move |e: &mut Emitter, _: &Instruction, l: Lanes| super::fma::fused(e, f, l), PerHalfAccumulating)
        }
        Lane::Shift(kind, element) if by_immediate => {
            return run(e, insn, move |e: &mut Emitter, i: &Instruction, l: Lanes| sse::shift_imm(e, i, l, kind, element), PerHalf)
        }
        Lane::Shift(kind, element) => {
            return run(e, insn, move |e: &mut Emitter, _: &Instruction, l: Lanes| sse::shift_by_xmm(e, l, kind, element), Whole128)
        }
        Lane::ShiftBytes { left } => {
            return run(e, insn, move |e: &mut Emitter, i: &Instruction, l: Lanes| sse::shift_bytes(e, i, l, left), PerHalf)
        }
        Lane::Shuffle(kind) => return run(e, insn, move |e: &mut Emitter, i: &Instruction, l: Lanes| sse::shuffle(e, i, l, kind), PerHalf),
        Lane::Widening(w) => return per_half(e, insn, move |e, l| sse::widening(e, l, w)),
        Lane::MinMaxSqrt(op, double) => return per_half(e, insn, move |e, l| sse::packed_float_misc(e, l, op, double)),
        Lane::Scalar(op, double) => return per_half(e, insn, move |e, l| sse::scalar_arith(e, l, op, double)),
        Lane::CompareMask(shape) => {
            return run(e, insn, move |e: &mut Emitter, i: &Instruction, l: Lanes| sse::compare_mask(e, i, l, shape), PerHalf)
        }
        Lane::Convert(op) => return per_half(e, insn, move |e, l| sse::packed_convert(e, l, op)),
        Lane::MergeScalar(double) => return per_half(e, insn, move |e, l| sse::mov_scalar_to_register(e, l, double)),
        Lane::MergeHalf { to, from } => return per_half(e, insn, move |e, l| sse::mov_half_to_register(e, l, to, from)),
        Lane::FloatToFloat(to_single) => return per_half(e, insn, move |e, l| sse::float_to_float(e, l, to_single)),
        Lane::Reciprocal(root, scalar) => return per_half(e, insn, move |e, l| sse::reciprocal(e, l, root, scalar)),
        Lane::Duplicate(which) => return per_half(e, insn, move |e, l| sse3::duplicate(e, l, which)),
        Lane::HorizontalFloat(sub, double) => return per_half(e, insn, move |e, l| sse3::horizontal(e, l, sub, double)),
        Lane::AddSub(double) => return per_half(e, insn, move |e, l| sse3::add_sub(e, l, double)),
        Lane::Pshufb => (ssse3::pshufb, PerHalf),
        Lane::Palignr => (ssse3::palignr, PerHalf),
        Lane::HorizontalInt(op) => return per_half(e, insn, move |e, l| ssse3::horizontal(e, l, op)),
        Lane::MultiplyAddBytes => (ssse3::pmaddubsw, PerHalf),
        Lane::MultiplyHighRound => (ssse3::pmulhrsw, PerHalf),
        Lane::Abs(element) => return per_half(e, insn, move |e, l| ssse3::pabs(e, l, element)),
        Lane::Sign(element) => return per_half(e, insn, move |e, l| ssse3::psign(e, l, element)),
        Lane::BlendImmediate(element) => {
            return run(e, insn, move |e: &mut Emitter, i: &Instruction, l: Lanes| sse41::blend_imm(e, i, l, element), PerHalf)
        }
        Lane::BlendVariable(element) => {
            return run(e, insn, move |e: &mut Emitter, i: &Instruction, l: Lanes| sse41::blend_variable(e, i, l, element), PerHalf)
        }
        Lane::Round(shape) => {
            return run(e, insn, move |e: &mut Emitter, i: &Instruction, l: Lanes| sse41::round(e, i, l, shape), PerHalf)
        }
        Lane::Insertps => (sse41::insertps, PerHalf),
        Lane::VariableShift(kind, element) => return per_half(e, insn, move |e, l| vex::variable_shift(e, l, kind, element)),
        Lane::Broadcast(None) if insn.op_kind(1) == OpKind::Memory => return vex::broadcast128(e, insn),
        Lane::Broadcast(element) => {
            return run(e, insn, move |e: &mut Emitter, _: &Instruction, l: Lanes| vex::broadcast(e, l, element), Whole128)
        }
        Lane::PermuteInLane(double) if by_immediate => {
            return run(e, insn, move |e: &mut Emitter, i: &Instruction, l: Lanes| permute::in_lane_by_immediate(e, i, l, double), PerHalf)
        }
        Lane::PermuteInLane(true) => return per_half(e, insn, permute::doubles_in_lane),
        Lane::PermuteInLane(false) => return per_half(e, insn, permute::singles_in_lane),
    };
    run(e, insn, op, second)
}

/// The vector forms that are not lane operations, as data: what a row of
/// `frontend::forms` names for them. `form` runs one as it is (legacy SSE,
/// and VEX's own forms); `vex::as_sse` runs an SSE one for its VEX.128
/// form, then clears bits 128..255 of the XMM register it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// movdqa/movdqu/movaps/movups/movapd/movupd, the non-temporal stores
    /// and lddqu: 128 bits, the upper half of a YMM register kept.
    Move128,
    /// Their VEX forms, 128 or 256 bits (a 128-bit write clears bits 128..255).
    MoveVex,
    /// movd/movq between XMM and general registers or memory, movq xmm,
    /// xmm: 4 bytes (movd) or 8.
    MoveGeneral { bytes: u8 },
    /// movsd (true) or movss: a load (other elements cleared) or a store;
    /// between registers a merge (`Lane::MergeScalar`).
    MoveScalar(bool),
    /// movlps/movlpd (`Half::Low`), movhps/movhpd: a store of that half;
    /// loads merge it (`Lane::MergeHalf`).
    MoveHalf(Half),
    /// pmovmskb, movmskps, movmskpd: the sign bits into a general register.
    SignMask(SignBits),
    /// vpmovmskb/vmovmskps/vmovmskpd r, ymm: both halves' sign bits.
    SignMask256(SignBits),
    /// ucomisd/comisd (true), ucomiss/comiss: ZF, PF, CF.
    CompareScalar(bool),
    /// cvtsi2sd (true), cvtsi2ss.
    IntToFloat(bool),
    /// cvt(t)sd2si (`double`), cvt(t)ss2si (`truncate`: cvtt): the integer
    /// indefinite when out of range.
    FloatToInt { double: bool, truncate: bool },
    /// stmxcsr.
    StoreMxcsr,
    /// ldmxcsr.
    LoadMxcsr,
    /// pmovsx*/pmovzx*.
    Extend(super::sse41::Extension),
    /// pextrb/w/d/q, extractps: the element size.
    Extract(ElementSize),
    /// pinsrb/w/d/q: the element size.
    Insert(ElementSize),
    /// movntdqa xmm, m128.
    NonTemporalLoad,
    /// ptest (`None`), vtestps, vtestpd (the elements whose sign bits
    /// count): ZF and CF.
    Test(Option<ElementSize>),
    /// vzeroupper.
    ZeroUppers,
    /// vzeroall.
    ZeroAll,
    /// vinsertf128/vinserti128.
    Insert128,
    /// vextractf128/vextracti128.
    Extract128,
    /// vcvtdq2pd/vcvtps2pd ymm, xmm/m128.
    Widen256(PackedConvert),
    /// vcvtpd2ps/vcvt(t)pd2dq xmm, ymm/m256.
    Narrow256(PackedConvert),
    /// vcvtph2ps.
    HalfToSingle,
    /// vcvtps2ph.
    SingleToHalf,
    /// vperm2f128/vperm2i128.
    PermuteHalves,
    /// vpermq/vpermpd.
    PermuteQuads,
    /// vpermd/vpermps.
    PermuteDwords,
}

impl Form {
    /// Whether the form writes its first operand (the compares into flags
    /// only read it).
    pub fn writes_op0(self) -> bool {
        !matches!(self, Form::CompareScalar(_) | Form::Test(_))
    }
}

/// The handler of a non-lane form row.
pub fn form(e: &mut Emitter, insn: &Instruction, f: Form) -> EmitResult {
    use super::{f16c, permute, sse, sse41, vex, vex_convert};
    let has_memory = |i: u32| insn.op_kind(i) == OpKind::Memory;
    match f {
        Form::Move128 => sse::mov128(e, insn),
        Form::MoveVex => vex::mov(e, insn),
        Form::MoveGeneral { bytes } => sse::movd_movq(e, insn, bytes),
        Form::MoveScalar(double) if has_memory(0) || has_memory(insn.op_count() - 1) => sse::mov_scalar(e, insn, double),
        Form::MoveScalar(double) => lanes(e, insn, Lane::MergeScalar(double)),
        Form::MoveHalf(half) if has_memory(0) => sse::mov_half(e, insn, half),
        Form::MoveHalf(half) => lanes(e, insn, Lane::MergeHalf { to: half, from: Half::Low }),
        Form::SignMask(SignBits::Bytes) => sse::pmovmskb(e, insn),
        Form::SignMask(SignBits::Singles) => sse::movmsk(e, insn, false),
        Form::SignMask(SignBits::Doubles) => sse::movmsk(e, insn, true),
        Form::SignMask256(signs) => vex::sign_mask_256(e, insn, signs),
        Form::CompareScalar(double) => sse::compare_scalar(e, insn, double),
        Form::IntToFloat(double) => sse::int_to_float(e, insn, double),
        Form::FloatToInt { double, truncate } => sse::float_to_int(e, insn, double, truncate),
        Form::StoreMxcsr => sse::store_mxcsr(e, insn),
        Form::LoadMxcsr => sse::load_mxcsr(e, insn),
        Form::Extend(x) => sse41::extend(e, insn, x),
        Form::Extract(element) => sse41::extract(e, insn, element),
        Form::Insert(element) => sse41::insert(e, insn, element),
        Form::NonTemporalLoad => sse41::movntdqa(e, insn),
        Form::Test(signs) => sse41::ptest(e, insn, signs),
        Form::ZeroUppers => vex::zero(e, false),
        Form::ZeroAll => vex::zero(e, true),
        Form::Insert128 => vex::insert128(e, insn),
        Form::Extract128 => vex::extract128(e, insn),
        Form::Widen256(op) => vex_convert::widen_256(e, insn, op),
        Form::Narrow256(op) => vex_convert::narrow_256(e, insn, op),
        Form::HalfToSingle => f16c::half_to_single(e, insn),
        Form::SingleToHalf => f16c::single_to_half(e, insn),
        Form::PermuteHalves => permute::permute_halves(e, insn),
        Form::PermuteQuads => permute::permute_quads(e, insn),
        Form::PermuteDwords => permute::permute_dwords(e, insn),
    }
}
