//! Chains of SSE arithmetic that share their NaN test.
//!
//! Without FEAT_AFP, each addsd/subsd/mulsd/divsd/sqrtsd (and the ss
//! forms, and addpd/subpd/mulpd/divpd) tests its result for NaN so that a
//! NaN takes x86's value (`sse::x86_nan_rules`): the operation, `fcmp`,
//! `b.vs` and a move or lane insert into the destination. Consecutive such
//! instructions between XMM registers (with whole-register copies,
//! `unpcklpd x, x` and `unpckhpd x, x`, and integer instructions that
//! cannot fault, between them) instead form a chain: each result goes to a chain register, later links
//! read it from there, and the destinations are written once, when the
//! chain ends. A NaN input makes a NaN result in every one of these
//! operations, so a result needs no test of its own if a later result the
//! guest registers still hold (or a store tested) is computed from it:
//! only the others are tested, two to an `fcmp` (`Link::feeds` follows
//! each element). If one is NaN, a cold path computes every link again in
//! order with x86's NaN rules: the inputs are still there, since no
//! destination was written yet. The chain ends before any other
//! instruction (a fault there sees every destination written), so the
//! guest never sees the difference.
//!
//! Stores may join an open chain: the value stored, if a link computed
//! it, is tested first (a NaN goes to a cold path that computes the links
//! so far again with x86's rules, then comes back). ucomisd/comisd
//! between registers read the chain's values (a NaN's payload does not
//! change a compare). A conditional branch inside the block does not end
//! a chain that goes on after it: its way out writes the destinations.
//! A destination whose bits above its element are known to be zero (a
//! movsd/movss load) is written with one `fmov`, or a scalar link writes
//! its result there directly if the chain never read the register's
//! value from before (`FpChain::write_through`): a movsd/movss right
//! before a link on its register opens the chain to that end.
//!
//! Loads may join an open chain too: a link with a memory source, and
//! movsd/movss/movupd-style loads, whose value goes to a chain register
//! (or straight to the destination where the chain reads nothing there).
//! Each gets a fault landing pad out of line (`Pad::Fault`): a fault at
//! the load resumes there (`BlockMap::fault_pad`), and the pad
//! ends the chain as it stood before the instruction, then leaves as the
//! fault would have, so the guest's handler sees every earlier
//! destination written and this one untouched.
//! `TRANSIT_TUNING=-fp-chains` turns it off.

use super::sse::{nan_fix_up, scalar_operation, NanTemps, ScalarOp};
use super::operand::registers_and_immediates;
use super::{a64, regs, Emitter, Reg, Unsupported};
use crate::exit::ExitReason;
use crate::frontend::flags::FlagSet;
use crate::insn_mark::{InsnMark, Pad};
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

/// Chain registers, v6..v15: each link's result, and a link's value from
/// memory. A register whose value no guest register holds any more takes
/// a later link's result (the cold path computes the links again in
/// order, so each reads what it read the first time), but for the loads:
/// the cold path does not load again.
const CHAIN_REGS: usize = 10;
/// Links in one chain: two bits of `Parts` each.
const MAX_LINKS: usize = 32;
const FIRST_LINK_REG: Reg = 6;
/// The cold path's temporaries (no chain register among them).
const FIX_UP_TEMPS: NanTemps = NanTemps { ok_r: 0, ok: 1, quiet: 2, dflt: 3, t: regs::SCRATCH[0] };
/// Where the cold path computes a result for an XMM register's own (a
/// fold register: the tests are done by then).
const FIX_UP_RESULT: Reg = 5;
/// Where the tests fold a packed result (`fmaxp`).
const FOLDS: [Reg; 2] = [4, 5];

/// What a link computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// The low element: `r = a op b` (`r = sqrt(b)`).
    Scalar(ScalarOp),
    /// Both double elements (add, sub, mul, div): `r = a op b`.
    Packed(ScalarOp),
    /// `unpcklpd x, x`: a's low element in both (a NaN stays the NaN).
    DupLow,
    /// `unpckhpd x, x`: a's high element in both.
    DupHigh,
}

/// One chained instruction.
#[derive(Clone, Copy)]
struct Link {
    kind: LinkKind,
    r: Reg,
    a: Reg,
    b: Reg,
    /// The parts of earlier links' results (`parts`) that its low and its
    /// high element are computed from: a NaN there makes a NaN here.
    feeds: [Parts; 2],
}

/// Sets of link results' parts: bit 2k is link k's low element, bit
/// 2k + 1 its high one (`Link::feeds`).
type Parts = u64;

/// Link k's result value's parts.
fn parts(k: usize) -> Parts {
    0b11 << (2 * k)
}
const LOW: Parts = 0b01;
const HIGH: Parts = 0b10;

/// Link k's parts of `which` (LOW, HIGH or both).
fn parts_of(k: usize, which: Parts) -> Parts {
    parts(k) & (which * 0x5555_5555_5555_5555)
}
/// A chain register holding no link's result (a load, an exact copy, or
/// nothing).
const NO_VALUE: u8 = u8::MAX;
/// Registers that hold link results: the chain registers, then the XMM
/// registers' own.
const SLOTS: usize = CHAIN_REGS + 16;

/// `r`'s index in `FpChain::value_in`.
fn slot(r: Reg) -> Option<usize> {
    match chain_bit(r) {
        0 => r.checked_sub(regs::XMM_BASE).map(|n| CHAIN_REGS + n as usize).filter(|&i| i < SLOTS),
        bit => Some(bit.trailing_zeros() as usize),
    }
}

/// The register of `value_in`'s index `i`.
fn slot_reg(i: usize) -> Reg {
    if i < CHAIN_REGS {
        FIRST_LINK_REG + i as Reg
    } else {
        home(i - CHAIN_REGS)
    }
}

/// The chain being built in a block (empty between chains).
#[derive(Clone)]
pub struct FpChain {
    /// Open: its destinations are not all written (a link, or a load that
    /// opened it, `Emitter::open_chain_at_load`).
    open: bool,
    /// What the cold path computes again.
    links: Vec<Link>,
    /// The link whose result each chain register, then each XMM
    /// register's own, holds (`slot`; NO_VALUE: none).
    value_in: [u8; SLOTS],
    /// Parts of link results already tested (by a store).
    tested: Parts,
    /// Chain registers holding a value loaded from memory (bit i:
    /// v(FIRST_LINK_REG + i)): kept to the chain's end, since the cold
    /// path reads them again.
    loads: u16,
    double: bool,
    /// Guest XMM n's current low element is in this chain register.
    pending: [Option<Reg>; 16],
    /// Guest XMM n's value (but a pending element) is this register's: an
    /// XMM register's as the chain began (after a copy) or a chain
    /// register (a packed result); None: its own. An XMM register is
    /// written while the chain is open only if the chain never read it
    /// before (a link's result, `write_through`, or a load in place), so
    /// the cold path finds every input.
    whole: [Option<Reg>; 16],
    /// XMM registers whose own register holds a value the chain reads (a
    /// link's input, or another register's value after a copy): a load
    /// may not write it before the chain ends (bit n: XMM n).
    homes_read: u16,
    /// XMM registers whose own register a link wrote (`write_through`):
    /// no load goes there, and reading it reads a chain value.
    homes_written: u16,
    /// Chain registers some link wrote: no load may take one, since the
    /// cold path computes the links again, over the loaded value.
    written: u16,
    /// Chain registers (bits 0..CHAIN_REGS) and XMM registers' own (bits
    /// 16..32) that a scalar load filled: zero above the low 32 or 64 bits.
    zero_above_32: u32,
    zero_above_64: u32,
}

impl Default for FpChain {
    fn default() -> Self {
        FpChain {
            open: false,
            links: Vec::new(),
            value_in: [NO_VALUE; SLOTS],
            tested: 0,
            loads: 0,
            double: false,
            pending: [None; 16],
            whole: [None; 16],
            homes_read: 0,
            homes_written: 0,
            written: 0,
            zero_above_32: 0,
            zero_above_64: 0,
        }
    }
}

/// The link a legacy SSE instruction can be, and whether it is double
/// precision. A scalar one may have a memory source (loaded into a chain
/// register, with a fault pad inside a chain); packed ones take registers
/// only.
pub fn link_of(insn: &Instruction) -> Option<(LinkKind, bool)> {
    use Code::*;
    use LinkKind::*;
    let registers = insn.op1_kind() == OpKind::Register;
    let link = match insn.code() {
        Addsd_xmm_xmmm64 => (Scalar(ScalarOp::Add), true),
        Subsd_xmm_xmmm64 => (Scalar(ScalarOp::Sub), true),
        Mulsd_xmm_xmmm64 => (Scalar(ScalarOp::Mul), true),
        Divsd_xmm_xmmm64 => (Scalar(ScalarOp::Div), true),
        Sqrtsd_xmm_xmmm64 => (Scalar(ScalarOp::Sqrt), true),
        Addss_xmm_xmmm32 => (Scalar(ScalarOp::Add), false),
        Subss_xmm_xmmm32 => (Scalar(ScalarOp::Sub), false),
        Mulss_xmm_xmmm32 => (Scalar(ScalarOp::Mul), false),
        Divss_xmm_xmmm32 => (Scalar(ScalarOp::Div), false),
        Sqrtss_xmm_xmmm32 => (Scalar(ScalarOp::Sqrt), false),
        Addpd_xmm_xmmm128 if registers => (Packed(ScalarOp::Add), true),
        Subpd_xmm_xmmm128 if registers => (Packed(ScalarOp::Sub), true),
        Mulpd_xmm_xmmm128 if registers => (Packed(ScalarOp::Mul), true),
        Divpd_xmm_xmmm128 if registers => (Packed(ScalarOp::Div), true),
        Unpcklpd_xmm_xmmm128 if registers && insn.op0_register() == insn.op1_register() => (DupLow, true),
        Unpckhpd_xmm_xmmm128 if registers && insn.op0_register() == insn.op1_register() => (DupHigh, true),
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

/// The bytes a legacy SSE load of a whole XMM register, or of its low
/// element (clearing the rest), reads; such a load may join a chain
/// (`Emitter::chain_load`).
pub fn load_of(insn: &Instruction) -> Option<u8> {
    use Code::*;
    if insn.op1_kind() != OpKind::Memory {
        return None;
    }
    match insn.code() {
        Movsd_xmm_xmmm64 => Some(8),
        Movss_xmm_xmmm32 => Some(4),
        Movapd_xmm_xmmm128 | Movaps_xmm_xmmm128 | Movupd_xmm_xmmm128 | Movups_xmm_xmmm128 | Movdqa_xmm_xmmm128 | Movdqu_xmm_xmmm128 => Some(16),
        _ => None,
    }
}

/// The bytes a legacy SSE store of an XMM register's low element, or of
/// all of it, writes; such a store may join a chain (`Emitter::chain_store`).
pub fn store_of(insn: &Instruction) -> Option<u8> {
    use Code::*;
    if insn.op0_kind() != OpKind::Memory || insn.op1_kind() != OpKind::Register {
        return None;
    }
    match insn.code() {
        Movsd_xmmm64_xmm => Some(8),
        Movss_xmmm32_xmm => Some(4),
        Movapd_xmmm128_xmm | Movaps_xmmm128_xmm | Movupd_xmmm128_xmm | Movups_xmmm128_xmm | Movdqa_xmmm128_xmm | Movdqu_xmmm128_xmm => Some(16),
        _ => None,
    }
}

/// Whether `insn` is a legacy SSE scalar compare between registers
/// (`Emitter::chain_compare_operands`): it reads values, a NaN's payload
/// does not matter to it, and no link computes it again.
pub fn is_compare(insn: &Instruction) -> bool {
    use Code::*;
    matches!(insn.code(), Ucomisd_xmm_xmmm64 | Comisd_xmm_xmmm64 | Ucomiss_xmm_xmmm32 | Comiss_xmm_xmmm32) && insn.op1_kind() == OpKind::Register
}

/// Whether an open chain goes on past the side exit at `insns[0]` (a
/// conditional branch inside the block, whose out-of-line way out then
/// writes the chain's destinations first): only if a chain instruction
/// comes before anything that would end the chain anyway, which would
/// leave the way out a branch longer for nothing.
pub fn goes_on_past_exit(insns: &[Instruction]) -> bool {
    for insn in &insns[1..] {
        if !keeps_chain(insn) {
            return false;
        }
        if chain_step(insn) {
            return true;
        }
    }
    false
}

/// Whether the scalar load `insns[0]` (`load_of`, 4 or 8 bytes) may open
/// a chain (`Emitter::open_chain_at_load`): a scalar link of its
/// precision on its register comes next but for integer work.
pub fn opens_chain(insns: &[Instruction]) -> bool {
    let Some(bytes @ (4 | 8)) = load_of(&insns[0]) else { return false };
    let loaded = insns[0].op0_register();
    for insn in insns[1..].iter().take(4) {
        if let Some((kind, double)) = link_of(insn) {
            let reads = insn.op0_register() == loaded || insn.op1_kind() == OpKind::Register && insn.op1_register() == loaded;
            return matches!(kind, LinkKind::Scalar(_)) && double == (bytes == 8) && reads;
        }
        if !keeps_chain(insn) || chain_step(insn) {
            return false;
        }
    }
    false
}

/// Whether `insn` is an SSE instruction a chain takes in: a link, a copy,
/// a load, a store or a compare.
fn chain_step(insn: &Instruction) -> bool {
    link_of(insn).is_some() || is_copy(insn) || load_of(insn).is_some() || store_of(insn).is_some() || is_compare(insn)
}

/// Whether `insn` may run inside a chain without ending it: a
/// `chain_step`, or integer work on general registers and immediates that
/// cannot fault or leave the block.
pub fn keeps_chain(insn: &Instruction) -> bool {
    use Mnemonic::*;
    if chain_step(insn) {
        return true;
    }
    let integer = matches!(
        insn.mnemonic(),
        Add | Sub | Adc | Sbb | And | Or | Xor | Mov | Movzx | Movsx | Movsxd | Inc | Dec | Cmp | Test | Shl | Shr | Sar | Neg | Not | Lea | Imul
    );
    integer && registers_and_immediates(insn, &[])
}

impl FpChain {
    /// Chain registers free for a new value: neither a guest register's
    /// value (pending or whole) nor a load.
    fn free(&self) -> u16 {
        let held = self.pending.iter().chain(&self.whole).fold(self.loads, |m, r| m | r.map_or(0, chain_bit));
        !held & ((1 << CHAIN_REGS) - 1)
    }

    /// Takes the lowest register of `free` (not empty) for a new value
    /// (no link's result yet).
    fn take(&mut self, free: &mut u16) -> Reg {
        let i = free.trailing_zeros();
        *free &= !(1 << i);
        let bit: u32 = 1 << i;
        self.value_in[i as usize] = NO_VALUE;
        self.zero_above_32 &= !bit;
        self.zero_above_64 &= !bit;
        FIRST_LINK_REG + i as Reg
    }

    /// The parts (`parts`) of the link result `r` holds, if any, of
    /// `which` (LOW, HIGH).
    fn value_parts(&self, r: Reg, which: Parts) -> Parts {
        match slot(r).map(|i| self.value_in[i]) {
            None | Some(NO_VALUE) => 0,
            Some(k) => parts_of(k as usize, which),
        }
    }

    /// The register holding guest XMM n's low element.
    fn low(&mut self, n: usize) -> Reg {
        let r = self.pending[n].or(self.whole[n]).unwrap_or(home(n));
        self.note_read(r);
        r
    }

    /// The register holding guest XMM n's high element.
    fn high(&mut self, n: usize) -> Reg {
        let r = self.whole[n].unwrap_or(home(n));
        self.note_read(r);
        r
    }

    /// The parts of link results that the guest registers hold now.
    fn held_parts(&self) -> Parts {
        (0..16).fold(0, |held, n| {
            let whole = self.whole[n].unwrap_or(home(n));
            let low = self.value_parts(self.pending[n].unwrap_or(whole), LOW);
            held | low | self.value_parts(whole, HIGH)
        })
    }

    /// The held results a NaN test must see, as (scalar, packed)
    /// registers: those no later held or tested value is computed from (a
    /// NaN in one makes a NaN there, which is tested or leads on to one).
    fn untested_results(&self) -> (Vec<Reg>, Vec<Reg>) {
        let held = self.held_parts();
        let (mut reached, mut needs): (Parts, Parts) = (0, 0);
        for k in (0..self.links.len()).rev() {
            // A scalar result has no high element of its own.
            let elements = if matches!(self.links[k].kind, LinkKind::Scalar(_)) { 1 } else { 2 };
            for (p, which) in [LOW, HIGH].into_iter().enumerate().take(elements) {
                let bit = parts_of(k, which);
                if (held | self.tested | reached) & bit != 0 {
                    reached |= self.links[k].feeds[p];
                }
                if held & bit != 0 && (self.tested | reached) & bit == 0 {
                    needs |= bit;
                }
            }
        }
        let (mut scalars, mut packed) = (Vec::new(), Vec::new());
        for k in (0..self.links.len()).filter(|&k| needs & parts(k) != 0) {
            let i = self.value_in.iter().position(|&v| v as usize == k).expect("a held result is in a register");
            let r = slot_reg(i);
            match self.links[k].kind {
                LinkKind::Scalar(_) => scalars.push(r),
                _ => packed.push(r),
            }
        }
        (scalars, packed)
    }

    /// `r` is an input: if it is an XMM register's own, as it was before
    /// the chain, that one must keep it.
    fn note_read(&mut self, r: Reg) {
        if let Some(n) = r.checked_sub(regs::XMM_BASE).filter(|&n| n < 16) {
            if self.homes_written & (1 << n) == 0 {
                self.homes_read |= 1 << n;
            }
        }
    }

    /// Whether a scalar link's result may go straight to XMM n's own
    /// register: the chain never read what it held before (the cold path
    /// reads it again), no other guest register's value is there, and the
    /// bits above the element are known zero (the host's scalar write
    /// clears them, x86's keeps them).
    fn write_through(&self, n: usize, double: bool) -> bool {
        let shared = (0..16).any(|m| m != n && (self.pending[m] == Some(home(n)) || self.whole[m] == Some(home(n))));
        self.homes_read & (1 << n) == 0 && self.zero_above_element(n, double) && !shared
    }

    /// Whether a link computing all of XMM n (packed, or a `unpck*pd x, x`)
    /// may write its result straight to n's own register: as
    /// `write_through`, without the known-zero bits, and the link does not
    /// read the register's value from before the chain either.
    fn whole_write_through(&self, n: usize) -> bool {
        let bit = 1 << n;
        let reads_own = self.whole[n].is_none() && self.pending[n].is_none() && self.homes_written & bit == 0;
        let shared = (0..16).any(|m| m != n && (self.pending[m] == Some(home(n)) || self.whole[m] == Some(home(n))));
        self.homes_read & bit == 0 && !reads_own && !shared
    }

    /// Whether XMM n's bits above its low element (a double or a single)
    /// are known zero: they come from a register a scalar load filled.
    fn zero_above_element(&self, n: usize, double: bool) -> bool {
        let high = self.whole[n].map_or(home_bit(n), |w| u32::from(chain_bit(w)));
        let zero_above = if double { self.zero_above_64 } else { self.zero_above_32 };
        high != 0 && zero_above & high == high
    }

    /// A scalar load of `bytes` filled the registers of `bits`
    /// (`zero_above_32`'s bits).
    fn note_zero_above(&mut self, bits: u32, bytes: u8) {
        let (above_32, above_64) = match bytes {
            4 => (bits, bits),
            8 => (0, bits),
            _ => (0, 0),
        };
        self.zero_above_32 = self.zero_above_32 & !bits | above_32;
        self.zero_above_64 = self.zero_above_64 & !bits | above_64;
    }

    /// The register holding guest XMM n's whole value (none pending).
    fn full(&mut self, n: usize) -> Reg {
        debug_assert!(self.pending[n].is_none());
        self.high(n)
    }
}

/// Chain register r's bit in the registers' masks (none for others).
fn chain_bit(r: Reg) -> u16 {
    if (FIRST_LINK_REG..FIRST_LINK_REG + CHAIN_REGS as Reg).contains(&r) {
        1 << (r - FIRST_LINK_REG)
    } else {
        0
    }
}

impl Emitter {
    /// A chain is open: its destinations are not written yet.
    pub fn fp_chain_open(&self) -> bool {
        self.fp_chain.open
    }

    /// Opens a chain at a scalar load (`opens_chain`) of `bytes`, so that
    /// the value goes to a chain register and the links after it may
    /// write their results straight to its destination.
    pub fn open_chain_at_load(&mut self, bytes: u8) {
        if !self.host.afp && crate::tuning::tuning().fp_chains && !self.fp_chain.open {
            (self.fp_chain.open, self.fp_chain.double) = (true, bytes == 8);
        }
    }

    /// Emits `insn` (a `link_of` instruction) as a link of the chain;
    /// false where chains are off (hosts with FEAT_AFP need no NaN test).
    pub(super) fn chain_link(&mut self, insn: &Instruction, kind: LinkKind, double: bool) -> Result<bool, Unsupported> {
        if self.host.afp || !crate::tuning::tuning().fp_chains {
            return Ok(false);
        }
        let from_memory = insn.op1_kind() == OpKind::Memory;
        let (d, s) = (insn.op0_register().number(), if from_memory { 0 } else { insn.op1_register().number() });
        let c = &self.fp_chain;
        // A packed link reads whole registers: a pending element is
        // written first.
        let whole_pending = matches!(kind, LinkKind::Packed(_)) && (c.pending[d].is_some() || c.pending[s].is_some());
        if c.open && (c.double != double || whole_pending) {
            self.end_fp_chain();
        }
        // Decided before the operands are read (which would mark d's
        // register read): they read only chain values there.
        let whole_through = |c: &FpChain| !matches!(kind, LinkKind::Scalar(_)) && c.open && c.whole_write_through(d);
        let room = |c: &FpChain| {
            let load_room = !from_memory || c.free() & !c.written != 0;
            let result_room = usize::from(!whole_through(c));
            c.free().count_ones() as usize >= result_room + usize::from(from_memory) && load_room && c.links.len() < MAX_LINKS
        };
        if !room(&self.fp_chain) {
            self.end_fp_chain();
        }
        let whole_through = whole_through(&self.fp_chain) && crate::tuning::tuning().packed_write_through;
        // Taken before the operands are found: those are held (by a guest
        // register or as a load), so the result never overwrites one, which
        // the cold path's NaN fix-up reads after it.
        let mut free = self.fp_chain.free();
        let loaded = if from_memory {
            self.fault_pad();
            let loaded = self.fp_chain.take(&mut (free & !self.fp_chain.written));
            free &= !chain_bit(loaded);
            self.fp_chain.loads |= chain_bit(loaded);
            self.vload_operand(loaded, insn, if double { 8 } else { 4 })?;
            Some(loaded)
        } else {
            None
        };
        let c = &mut self.fp_chain;
        // The parts of earlier results the low and high elements come from
        // (found first: a read of a register's own value before the chain
        // rules out writing the result there).
        let (a, b, feeds) = match kind {
            LinkKind::Scalar(_) => {
                let a = c.low(d);
                let b = loaded.unwrap_or_else(|| c.low(s));
                (a, b, [c.value_parts(a, LOW) | c.value_parts(b, LOW), 0])
            }
            LinkKind::Packed(_) => {
                let (a, b) = (c.full(d), c.full(s));
                let lane = |which| c.value_parts(a, which) | c.value_parts(b, which);
                (a, b, [lane(LOW), lane(HIGH)])
            }
            LinkKind::DupLow => {
                let a = c.low(d);
                (a, a, [c.value_parts(a, LOW); 2])
            }
            // The high element: never a pending one.
            LinkKind::DupHigh => {
                let a = c.high(d);
                (a, a, [c.value_parts(a, HIGH); 2])
            }
        };
        let through = whole_through || matches!(kind, LinkKind::Scalar(_)) && c.write_through(d, double);
        let r = if through { home(d) } else { c.take(&mut free) };
        match kind {
            // Both elements: nothing known above the low one.
            _ if whole_through => {
                (c.whole[d], c.pending[d]) = (None, None);
                c.homes_written |= 1 << d;
                c.note_zero_above(home_bit(d), 16);
            }
            // The whole register, the bits above zero as they were.
            _ if through => {
                (c.whole[d], c.pending[d]) = (None, None);
                c.homes_written |= 1 << d;
                c.note_zero_above(home_bit(d), if double { 8 } else { 4 });
            }
            LinkKind::Scalar(_) => c.pending[d] = Some(r),
            _ => (c.whole[d], c.pending[d]) = (Some(r), None),
        }
        // A copy of an exact value is exact: nothing to test (a test
        // could meet a signalling NaN and raise a flag x86 does not).
        let copies_exact = matches!(kind, LinkKind::DupLow | LinkKind::DupHigh) && feeds == [0, 0];
        if let Some(i) = slot(r) {
            c.value_in[i] = if copies_exact { NO_VALUE } else { c.links.len() as u8 };
        }
        c.links.push(Link { kind, r, a, b, feeds });
        c.written |= chain_bit(r);
        c.double = double;
        c.open = true;
        emit_link(self, kind, double, r, a, b);
        Ok(true)
    }

    /// `insn` (a `load_of` load of `bytes`) inside an open chain: the value
    /// goes to the destination's own register where the chain reads
    /// nothing there, else to a chain register that stands for the
    /// destination (a fault goes to the pad). False if the chain is closed
    /// or full (then ended): an ordinary load.
    pub(super) fn chain_load(&mut self, insn: &Instruction, bytes: u8) -> Result<bool, Unsupported> {
        if !self.fp_chain.open {
            return Ok(false);
        }
        let d = insn.op0_register().number();
        // Not where a link wrote (the cold path writes it again), nor as
        // the chain's first value (its links may then write there).
        let c = &self.fp_chain;
        let in_place = (c.homes_read | c.homes_written) & (1 << d) == 0 && !c.links.is_empty();
        let mut free = self.fp_chain.free() & !self.fp_chain.written;
        if !in_place && free == 0 {
            self.end_fp_chain();
            return Ok(false);
        }
        self.fault_pad();
        if in_place {
            // Nothing in the chain reads the register's own value: the
            // load may go straight there, as outside a chain.
            self.vload_operand(home(d), insn, bytes)?;
            let c = &mut self.fp_chain;
            (c.whole[d], c.pending[d]) = (None, None);
            c.note_zero_above(home_bit(d), bytes);
            return Ok(true);
        }
        let r = self.fp_chain.take(&mut free);
        self.vload_operand(r, insn, bytes)?;
        let c = &mut self.fp_chain;
        (c.whole[d], c.pending[d]) = (Some(r), None);
        c.loads |= chain_bit(r);
        c.note_zero_above(u32::from(chain_bit(r)), bytes);
        Ok(true)
    }

    /// `insn` (a `store_of` store of `bytes`) inside an open chain: stores
    /// the value the chain holds for the register, tested first if a link
    /// computed it. False if the chain is closed, or the store takes a
    /// whole register whose low element is pending (then the chain ends):
    /// an ordinary store.
    pub(super) fn chain_store(&mut self, insn: &Instruction, bytes: u8) -> Result<bool, Unsupported> {
        if !self.fp_chain.open {
            return Ok(false);
        }
        let n = insn.op1_register().number();
        let c = &self.fp_chain;
        let (value, scalar) = match c.pending[n] {
            Some(r) if bytes < 16 => (r, true),
            Some(_) => {
                self.end_fp_chain();
                return Ok(false);
            }
            // Its own register: a scalar result written there has zeros
            // above it.
            None => {
                let value = c.whole[n].unwrap_or(home(n));
                let k = slot(value).map_or(NO_VALUE, |i| c.value_in[i]);
                (value, k != NO_VALUE && matches!(c.links[k as usize].kind, LinkKind::Scalar(_)))
            }
        };
        let stored = c.value_parts(value, if scalar { LOW } else { LOW | HIGH });
        let untested = stored & !c.tested != 0;
        self.fault_pad();
        if untested {
            let (scalars, packed) = if scalar { (vec![value], vec![]) } else { (vec![], vec![value]) };
            let nzcv_free = !self.live_after.has(FlagSet::NZCV);
            let (links, double) = (self.fp_chain.links.clone(), self.fp_chain.double);
            self.test_links(links, scalars, packed, double, nzcv_free);
            self.fp_chain.tested |= stored;
        }
        self.vstore_operand(value, insn, bytes)?;
        Ok(true)
    }

    /// The registers a scalar compare (`is_compare`, of `double`
    /// precision) reads: the values the open chain holds for its operands,
    /// as they are now (a NaN's payload may still be the host's: a compare
    /// only sees that it is a NaN). Ends a chain of the other precision.
    pub(super) fn chain_compare_operands(&mut self, insn: &Instruction, double: bool) -> Option<(Reg, Reg)> {
        if self.fp_chain.open && self.fp_chain.double != double {
            self.end_fp_chain();
        }
        if !self.fp_chain.open {
            return None;
        }
        let c = &self.fp_chain;
        let now = |n: usize| c.pending[n].or(c.whole[n]).unwrap_or(home(n));
        Some((now(insn.op0_register().number()), now(insn.op1_register().number())))
    }

    /// The open chain, if any, for a side exit's way out
    /// (`write_chain_for_exit`).
    pub(super) fn open_fp_chain(&self) -> Option<Box<FpChain>> {
        self.fp_chain.open.then(|| Box::new(self.fp_chain.clone()))
    }

    /// On a side exit's way out, out of line: writes `chain`'s
    /// destinations as they stood at the branch (the exit's flags are live
    /// then if live at its target: the tests compare only where not).
    pub(super) fn write_chain_for_exit(&mut self, chain: Box<FpChain>) {
        let nzcv_free = !self.live_after.has(FlagSet::NZCV);
        self.write_chain(*chain, nzcv_free);
    }

    /// Before a load inside the open chain: a landing pad, out of line,
    /// for a fault there. It writes the chain's destinations as they stand
    /// (before this instruction), then leaves as the fault exit does (the
    /// runtime's handler has set the guest RIP and flags' form, which the
    /// pad leaves alone: it tests with NZCV taken as live).
    fn fault_pad(&mut self) {
        if !self.fp_chain.open {
            return;
        }
        let (chain, mark) = (self.fp_chain.clone(), self.access_mark());
        self.cold_exit(
            |_, _| {},
            move |e| {
                e.marks.push(InsnMark { host_off: e.offset() as u32, pad: Pad::Fault, ..mark });
                e.write_chain(chain, false);
                e.b_exit_stub(ExitReason::HostFault);
            },
        );
    }

    /// `insn` (an `is_copy` move) inside an open chain: no code; the
    /// destination stands for the source's value (`FpChain::whole`), and
    /// takes its pending element.
    pub(super) fn chain_copy(&mut self, insn: &Instruction) {
        let (d, s) = (insn.op0_register().number(), insn.op1_register().number());
        let c = &mut self.fp_chain;
        c.whole[d] = c.whole[s].or(Some(home(s))).filter(|&w| w != home(d));
        if let Some(w) = c.whole[d] {
            c.note_read(w);
        }
        c.pending[d] = c.pending[s];
    }

    /// Ends the chain, if one is open: tests the results no later result
    /// is computed from, and writes each destination's low element.
    pub fn end_fp_chain(&mut self) {
        if !self.fp_chain.open {
            return;
        }
        let chain = std::mem::take(&mut self.fp_chain);
        let nzcv_free = !self.live_after.has(FlagSet::NZCV);
        self.write_chain(chain, nzcv_free);
    }

    /// `end_fp_chain` for `chain`; `nzcv_free`: the tests may compare.
    fn write_chain(&mut self, chain: FpChain, nzcv_free: bool) {
        if !chain.open {
            return;
        }
        let (scalars, packed) = chain.untested_results();
        self.test_links(chain.links.clone(), scalars, packed, chain.double, nzcv_free);
        // A pending element over bits known to be zero: one fmov writes
        // both (it clears the bits above the element).
        let fmov: [bool; 16] = std::array::from_fn(|n| chain.pending[n].is_some() && chain.zero_above_element(n, chain.double));
        let FpChain { double, pending, whole, .. } = chain;
        let mut copies: Vec<(Reg, Reg)> = whole.iter().enumerate().filter(|&(n, _)| !fmov[n]).filter_map(|(n, w)| Some((home(n), (*w)?))).collect();
        parallel_moves(self, &mut copies);
        for (n, r) in pending.iter().enumerate().filter_map(|(n, r)| Some((n, (*r)?))) {
            match (double, fmov[n]) {
                (true, true) => a64!(self.ops; fmov D(home(n)), D(r)),
                (false, true) => a64!(self.ops; fmov S(home(n)), S(r)),
                (true, false) => a64!(self.ops; ins V(home(n)).D[0], V(r).D[0]),
                (false, false) => a64!(self.ops; ins V(home(n)).S[0], V(r).S[0]),
            }
        }
    }

    /// Branches out of line if the low element of any of `scalars`, or
    /// either element of any of `packed`, is a NaN; there every link of
    /// `links` is computed again in order with x86's NaN rules, and the
    /// code goes on after the test.
    fn test_links(&mut self, links: Vec<Link>, scalars: Vec<Reg>, packed: Vec<Reg>, double: bool, nzcv_free: bool) {
        if !scalars.is_empty() || !packed.is_empty() {
            let again = links;
            self.cold(
                move |e, nan| test_results(e, &scalars, &packed, double, nzcv_free, nan),
                move |e| {
                    for link in again {
                        // A result for an XMM register's own is computed
                        // aside: the fix-up reads the inputs after the
                        // operation, and one of them may be that register
                        // (it works on whole registers, too; the move
                        // back clears the bits above the element).
                        let r = if chain_bit(link.r) == 0 { FIX_UP_RESULT } else { link.r };
                        emit_link(e, link.kind, double, r, link.a, link.b);
                        match link.kind {
                            LinkKind::Scalar(ScalarOp::Sqrt) => nan_fix_up(e, r, &[link.b], double, false, FIX_UP_TEMPS),
                            LinkKind::Scalar(_) => nan_fix_up(e, r, &[link.a, link.b], double, false, FIX_UP_TEMPS),
                            LinkKind::Packed(_) => nan_fix_up(e, r, &[link.a, link.b], double, true, FIX_UP_TEMPS),
                            // A copy of its input, already x86's.
                            LinkKind::DupLow | LinkKind::DupHigh => {}
                        }
                        match (r == link.r, link.kind, double) {
                            (true, ..) => {}
                            (false, LinkKind::Scalar(_), true) => a64!(e.ops; fmov D(link.r), D(r)),
                            (false, LinkKind::Scalar(_), false) => a64!(e.ops; fmov S(link.r), S(r)),
                            (false, ..) => a64!(e.ops; mov V(link.r).B16, V(r).B16),
                        }
                    }
                },
            );
        }
    }
}

/// Guest XMM n's own register.
fn home(n: usize) -> Reg {
    regs::XMM_BASE + n as Reg
}

/// Guest XMM n's own register's bit in `FpChain::zero_above_32`.
fn home_bit(n: usize) -> u32 {
    1 << (16 + n)
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

/// A link's operation, with the host's NaN rules.
fn emit_link(e: &mut Emitter, kind: LinkKind, double: bool, r: Reg, a: Reg, b: Reg) {
    macro_rules! packed {
        ($ins:ident) => {
            a64!(e.ops; $ins V(r).D2, V(a).D2, V(b).D2)
        };
    }
    use LinkKind::*;
    match kind {
        Scalar(op) => scalar_operation(e, op, double, r, a, b),
        Packed(ScalarOp::Add) => packed!(fadd),
        Packed(ScalarOp::Sub) => packed!(fsub),
        Packed(ScalarOp::Mul) => packed!(fmul),
        Packed(ScalarOp::Div) => packed!(fdiv),
        DupLow => a64!(e.ops; dup V(r).D2, V(a).D[0]),
        DupHigh => a64!(e.ops; dup V(r).D2, V(a).D[1]),
        Packed(_) => unreachable!("packed sqrt, min and max do not chain"),
    }
}

/// Branches to `nan` if the low element of any of `scalars`, or either
/// element of any of `packed`, is a NaN: `fmaxp` folds a packed pair into
/// one value (a NaN if either is; two fold registers, reused pair by
/// pair), and an unordered compare tests two values at once; where NZCV
/// holds live guest flags, a compare-free test per value.
fn test_results(e: &mut Emitter, scalars: &[Reg], packed: &[Reg], double: bool, nzcv_free: bool, nan: dynasmrt::DynamicLabel) {
    // A value waiting for a second to share its compare.
    let mut waiting = None;
    for &w in packed {
        // The fold register the waiting value does not hold.
        let fold = if waiting == Some(FOLDS[0]) { FOLDS[1] } else { FOLDS[0] };
        a64!(e.ops; fmaxp D(fold), V(w).D2);
        test_value(e, &mut waiting, fold, double, nzcv_free, nan);
    }
    for &r in scalars {
        test_value(e, &mut waiting, r, double, nzcv_free, nan);
    }
    if let Some(x) = waiting {
        // Alone: compared with itself.
        test_value(e, &mut Some(x), x, double, nzcv_free, nan);
    }
}

/// Tests `x` with the value `waiting` (then none waits), or leaves it
/// waiting; where NZCV is live, tests it alone, compare-free.
fn test_value(e: &mut Emitter, waiting: &mut Option<Reg>, x: Reg, double: bool, nzcv_free: bool, nan: dynasmrt::DynamicLabel) {
    if !nzcv_free {
        let (ok, t) = (FIX_UP_TEMPS.ok, FIX_UP_TEMPS.t);
        if double {
            a64!(e.ops; fcmeq D(ok), D(x), D(x) ; fmov X(t), D(ok) ; cbz X(t), =>nan);
        } else {
            a64!(e.ops; fcmeq S(ok), S(x), S(x) ; fmov W(t), S(ok) ; cbz W(t), =>nan);
        }
        return;
    }
    let Some(y) = waiting.take() else {
        *waiting = Some(x);
        return;
    };
    if double {
        a64!(e.ops; fcmp D(y), D(x) ; b.vs =>nan);
    } else {
        a64!(e.ops; fcmp S(y), S(x) ; b.vs =>nan);
    }
}
