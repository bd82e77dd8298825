//! Chains of scalar SSE arithmetic that share their NaN test.
//!
//! Without FEAT_AFP, each addsd/subsd/mulsd/divsd/sqrtsd (and the ss
//! forms) tests its result for NaN so that a NaN takes x86's value
//! (`sse::x86_nan_rules`): the operation, `fcmp`, `b.vs` and a lane insert
//! into the destination. Consecutive such instructions between XMM
//! registers (and integer instructions that cannot fault, between them)
//! instead form a chain: each result goes to a chain register, later links
//! read it from there, and the destinations are written once, when the
//! chain ends. A NaN input makes a NaN result in every one of these
//! operations, so a result that a later link reads needs no test of its
//! own: only the final values of the chain's destinations that no link
//! reads are tested, two to an `fcmp`. If one is NaN, a cold path computes
//! every link again in order with x86's NaN rules: the inputs are still
//! there, since no destination was written yet. The chain ends before any
//! other instruction (a fault or an exit there sees every destination
//! written), so the guest never sees the difference.
//! `TRANSIT_TUNING=-fp-chains` turns it off.

use super::sse::{nan_fix_up, NanTemps, ScalarOp};
use super::{a64, regs, Emitter, Reg, Unsupported};
use crate::frontend::flags::FlagSet;
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

/// Chain registers, v10..v15: each link's result, and a first link's
/// value from memory.
const CHAIN_REGS: usize = 6;
const FIRST_LINK_REG: Reg = 10;
/// The cold path's temporaries (no chain register among them).
const FIX_UP_TEMPS: NanTemps = NanTemps { ok_r: 6, ok: 7, quiet: 8, dflt: 9, t: regs::SCRATCH[0] };

/// One chained instruction: `r = a op b` (`r = sqrt(b)`).
#[derive(Clone, Copy, Default)]
struct Link {
    op: Option<ScalarOp>,
    r: Reg,
    a: Reg,
    b: Reg,
}

/// The chain being built in a block (empty between chains).
#[derive(Default)]
pub struct FpChain {
    links: [Link; CHAIN_REGS],
    len: usize,
    /// Chain registers taken.
    used: usize,
    double: bool,
    /// Guest XMM n's current low element is in this chain register.
    pending: [Option<Reg>; 16],
    /// Guest XMM n's value (but a pending element) is this XMM register's
    /// as the chain began, after a copy; None: its own. No XMM register is
    /// written while the chain is open, so the cold path finds every input.
    whole: [Option<Reg>; 16],
    /// Links whose result a later link reads (bit i: link i).
    read: u8,
}

/// The scalar operation of a legacy SSE instruction that can be a link,
/// and whether it is double precision. One with a memory source only
/// starts a chain (its load may fault: nothing may be pending then), the
/// loaded value in a chain register for the cold path.
pub fn link_of(insn: &Instruction) -> Option<(ScalarOp, bool)> {
    use Code::*;
    let link = match insn.code() {
        Addsd_xmm_xmmm64 => (ScalarOp::Add, true),
        Subsd_xmm_xmmm64 => (ScalarOp::Sub, true),
        Mulsd_xmm_xmmm64 => (ScalarOp::Mul, true),
        Divsd_xmm_xmmm64 => (ScalarOp::Div, true),
        Sqrtsd_xmm_xmmm64 => (ScalarOp::Sqrt, true),
        Addss_xmm_xmmm32 => (ScalarOp::Add, false),
        Subss_xmm_xmmm32 => (ScalarOp::Sub, false),
        Mulss_xmm_xmmm32 => (ScalarOp::Mul, false),
        Divss_xmm_xmmm32 => (ScalarOp::Div, false),
        Sqrtss_xmm_xmmm32 => (ScalarOp::Sqrt, false),
        _ => return None,
    };
    Some(link)
}

/// Whether `insn` is a legacy SSE move of a whole XMM register to another
/// (`Emitter::chain_copy`).
pub fn is_copy(insn: &Instruction) -> bool {
    use Code::*;
    matches!(insn.code(), Movapd_xmm_xmmm128 | Movaps_xmm_xmmm128 | Movupd_xmm_xmmm128 | Movups_xmm_xmmm128 | Movdqa_xmm_xmmm128 | Movdqu_xmm_xmmm128)
        && insn.op1_kind() == OpKind::Register
}

/// Whether `insn` may run inside a chain without ending it: a link, a
/// copy, or integer work on general registers and immediates that cannot
/// fault or leave the block.
pub fn keeps_chain(insn: &Instruction) -> bool {
    use Mnemonic::*;
    if (link_of(insn).is_some() && insn.op1_kind() == OpKind::Register) || is_copy(insn) {
        return true;
    }
    let integer = matches!(
        insn.mnemonic(),
        Add | Sub | Adc | Sbb | And | Or | Xor | Mov | Movzx | Movsx | Movsxd | Inc | Dec | Cmp | Test | Shl | Shr | Sar | Neg | Not | Lea | Imul
    );
    integer
        && (0..insn.op_count()).all(|i| match insn.op_kind(i) {
            OpKind::Register => insn.op_register(i).is_gpr(),
            // lea computes an address without an access.
            OpKind::Memory => insn.mnemonic() == Lea,
            kind => matches!(kind, OpKind::Immediate8 | OpKind::Immediate16 | OpKind::Immediate32 | OpKind::Immediate8to32 | OpKind::Immediate8to64 | OpKind::Immediate32to64 | OpKind::Immediate64),
        })
}

impl FpChain {
    /// The register holding guest XMM n's low element.
    fn low(&self, n: usize) -> Reg {
        self.pending[n].or(self.whole[n]).unwrap_or(home(n))
    }
}

impl Emitter {
    /// A chain is open: its destinations are not written yet.
    pub fn fp_chain_open(&self) -> bool {
        self.fp_chain.len > 0
    }

    /// Emits `insn` (a `link_of` instruction) as a link of the chain;
    /// false where chains are off (hosts with FEAT_AFP need no NaN test).
    pub(super) fn chain_link(&mut self, insn: &Instruction, op: ScalarOp, double: bool) -> Result<bool, Unsupported> {
        if self.host.afp || !crate::tuning::tuning().fp_chains {
            return Ok(false);
        }
        let from_memory = insn.op1_kind() == OpKind::Memory;
        let c = &self.fp_chain;
        if c.used + 1 + usize::from(from_memory) > CHAIN_REGS || (c.len > 0 && (c.double != double || from_memory)) {
            self.end_fp_chain();
        }
        let d = insn.op0_register().number();
        let b = if from_memory {
            let loaded = FIRST_LINK_REG + self.fp_chain.used as Reg;
            self.vload_operand(loaded, insn, if double { 8 } else { 4 })?;
            self.fp_chain.used += 1;
            loaded
        } else {
            self.fp_chain.low(insn.op1_register().number())
        };
        let c = &mut self.fp_chain;
        let a = c.low(d);
        for input in [a, b] {
            if input < regs::XMM_BASE {
                c.read |= 1 << (input - FIRST_LINK_REG);
            }
        }
        let r = FIRST_LINK_REG + c.used as Reg;
        c.links[c.len] = Link { op: Some(op), r, a, b };
        c.pending[d] = Some(r);
        c.double = double;
        c.len += 1;
        c.used += 1;
        emit_operation(self, op, double, r, a, b);
        Ok(true)
    }

    /// `insn` (an `is_copy` move) inside an open chain: no code; the
    /// destination stands for the source's value (`FpChain::whole`), and
    /// takes its pending element.
    pub(super) fn chain_copy(&mut self, insn: &Instruction) {
        let (d, s) = (insn.op0_register().number(), insn.op1_register().number());
        let c = &mut self.fp_chain;
        c.whole[d] = c.whole[s].or(Some(home(s))).filter(|&w| w != home(d));
        c.pending[d] = c.pending[s];
    }

    /// Ends the chain, if one is open: tests the results no link read,
    /// and writes each destination's low element.
    pub fn end_fp_chain(&mut self) {
        if self.fp_chain.len == 0 {
            return;
        }
        let FpChain { links, len, double, pending, whole, read, .. } = std::mem::take(&mut self.fp_chain);
        let links = &links[..len];
        let tested: Vec<Reg> = pending.iter().flatten().copied().filter(|&r| read & (1 << (r - FIRST_LINK_REG)) == 0).collect();
        if !tested.is_empty() {
            let nzcv_free = !self.live_after.has(FlagSet::NZCV);
            let again = links.to_vec();
            self.cold(
                move |e, nan| test_results(e, &tested, double, nzcv_free, nan),
                move |e| {
                    for link in again {
                        let Some(op) = link.op else { continue };
                        emit_operation(e, op, double, link.r, link.a, link.b);
                        let inputs: &[Reg] = if op == ScalarOp::Sqrt { &[link.b] } else { &[link.a, link.b] };
                        nan_fix_up(e, link.r, inputs, double, FIX_UP_TEMPS);
                    }
                },
            );
        }
        let mut copies: Vec<(Reg, Reg)> = whole.iter().enumerate().filter_map(|(n, w)| Some((home(n), (*w)?))).collect();
        parallel_moves(self, &mut copies);
        for (n, r) in pending.iter().enumerate().filter_map(|(n, r)| Some((n, (*r)?))) {
            if double {
                a64!(self.ops; ins V(home(n)).D[0], V(r).D[0]);
            } else {
                a64!(self.ops; ins V(home(n)).S[0], V(r).S[0]);
            }
        }
    }
}

/// Guest XMM n's own register.
fn home(n: usize) -> Reg {
    regs::XMM_BASE + n as Reg
}

/// Emits the whole-register moves `(to, from)` as if all at once: each
/// reads its source before any move writes it (a cycle goes through a
/// temporary).
fn parallel_moves(e: &mut Emitter, moves: &mut Vec<(Reg, Reg)>) {
    while !moves.is_empty() {
        match moves.iter().position(|&(to, _)| moves.iter().all(|&(_, from)| from != to)) {
            Some(i) => {
                let (to, from) = moves.swap_remove(i);
                a64!(e.ops; mov V(to).B16, V(from).B16);
            }
            None => {
                // Every destination is still a source: a cycle. Its first
                // source moves aside, and the moves reading it read there.
                let (spare, from) = (FIX_UP_TEMPS.dflt, moves[0].1);
                a64!(e.ops; mov V(spare).B16, V(from).B16);
                for m in moves.iter_mut().filter(|m| m.1 == from) {
                    m.1 = spare;
                }
            }
        }
    }
}

/// `r = a op b` on the low element (`r = sqrt(b)`), the host's NaN rules.
fn emit_operation(e: &mut Emitter, op: ScalarOp, double: bool, r: Reg, a: Reg, b: Reg) {
    macro_rules! arith {
        ($ins:ident) => {
            if double {
                a64!(e.ops; $ins D(r), D(a), D(b));
            } else {
                a64!(e.ops; $ins S(r), S(a), S(b));
            }
        };
    }
    match op {
        ScalarOp::Add => arith!(fadd),
        ScalarOp::Sub => arith!(fsub),
        ScalarOp::Mul => arith!(fmul),
        ScalarOp::Div => arith!(fdiv),
        ScalarOp::Sqrt if double => a64!(e.ops; fsqrt D(r), D(b)),
        ScalarOp::Sqrt => a64!(e.ops; fsqrt S(r), S(b)),
        ScalarOp::Min | ScalarOp::Max => unreachable!("min and max do not chain"),
    }
}

/// Branches to `nan` if any of `results` is a NaN: an unordered compare
/// tests two at once; where NZCV holds live guest flags, a compare-free
/// test per result.
fn test_results(e: &mut Emitter, results: &[Reg], double: bool, nzcv_free: bool, nan: dynasmrt::DynamicLabel) {
    if !nzcv_free {
        let (ok, t) = (FIX_UP_TEMPS.ok, FIX_UP_TEMPS.t);
        for &r in results {
            if double {
                a64!(e.ops; fcmeq D(ok), D(r), D(r) ; fmov X(t), D(ok) ; cbz X(t), =>nan);
            } else {
                a64!(e.ops; fcmeq S(ok), S(r), S(r) ; fmov W(t), S(ok) ; cbz W(t), =>nan);
            }
        }
        return;
    }
    for pair in results.chunks(2) {
        let (x, y) = (pair[0], *pair.last().expect("a chunk is not empty"));
        if double {
            a64!(e.ops; fcmp D(x), D(y) ; b.vs =>nan);
        } else {
            a64!(e.ops; fcmp S(x), S(y) ; b.vs =>nan);
        }
    }
}
