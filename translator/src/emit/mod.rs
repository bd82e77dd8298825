//! aarch64 code generation for one guest block (dynasm-rs).
//!
//! `Emitter` owns the assembler and the translation-time state of one block:
//! scratch registers, where x86 CF currently sits in NZCV (`Polarity`), the
//! flags the current instruction must produce, and the block's exits.
//! Instruction families live in their own modules and share the helpers here.

pub mod aarch64;
pub mod alu;
pub mod assembler;
pub mod atomic;
pub mod bits;
pub mod bmi;
pub mod cold;
pub mod cond;
pub mod control;
pub mod crypto;
pub mod data;
pub mod f16c;
pub mod fp_chain;
pub mod fused_pairs;
pub mod index_sum;
pub mod known_narrow;
pub mod literal;
pub mod fma;
pub mod mmx;
pub mod muldiv;
pub mod operand;
pub mod permute;
pub mod regs;
pub mod relocation;
pub mod shift;
pub mod sse;
pub mod sse3;
pub mod sse41;
pub mod ssse3;
pub mod sse42;
pub mod string;
pub mod vector;
pub mod vector_memory;
pub mod vex;
pub mod vex_convert;
pub mod x87;

use crate::insn_mark::{InsnMark, Pad, Polarity};
use crate::exit::ExitReason;
use crate::frontend::flags::FlagSet;
use crate::cpu::host::HostFeatures;
pub use regs::Reg;

/// The NZCV system register, as `mrs`/`msr` encode it (S3_3_C4_C2_0).
pub const NZCV: u32 = 0x5a10;
use assembler::BlockAssembler;
pub use assembler::spare_code_buffer;
use relocation::Relocation;
use dynasmrt::{DynamicLabel, DynasmApi, DynasmLabelApi};
use iced_x86::Instruction;

/// `dynasm!` with the architecture set, so call sites stay short.
macro_rules! a64 {
    ($ops:expr; $($t:tt)*) => {
        ::dynasm::dynasm!($ops ; .arch aarch64 ; $($t)*)
    };
}
pub(crate) use a64;

/// How translated memory accesses are ordered between threads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MemoryOrder {
    /// Plain loads and stores: right while the guest has one thread.
    #[default]
    Relaxed,
    /// x86's total store order: loads acquire (`ldapr`, or `ldar` without
    /// LRCPC) and stores release (`stlr`), so other threads see them in
    /// program order. Stack accesses through RSP and vector/x87/string
    /// accesses stay plain (a thread's stack is its own).
    Tso,
}

/// The translator cannot (yet) translate this instruction form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsupported;

/// What an instruction handler did to the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Execution continues with the next instruction.
    Next,
    /// The handler emitted the block's exits itself (branches, syscall, faults).
    Ended,
}

pub type EmitResult = Result<Flow, Unsupported>;

/// Emits one guest instruction (the handler tables map instructions to these).
pub type Handler = fn(&mut Emitter, &Instruction) -> EmitResult;

/// Absolute host addresses the generated code jumps to.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stubs {
    /// One exit stub per `ExitReason`, indexed by its value.
    pub exit: [u64; ExitReason::ALL.len()],
}

/// A direct exit whose target block may not exist yet: `site` holds a `b`
/// that is re-pointed at the target's code once it is translated.
#[derive(Clone, Copy, Debug)]
pub struct DirectExit {
    /// Offset of the patchable `b` within the block.
    pub site_offset: usize,
    /// Offset of the one conditional branch (b.cond, cbz, tbz...) that
    /// jumps to the site, which the cache links straight to the target.
    pub feeder: Option<usize>,
    pub target: u64,
}

pub struct Emitter {
    pub ops: BlockAssembler,
    pub base: u64,
    pub host: HostFeatures,
    pub stubs: Stubs,
    pub polarity: Polarity,
    /// Flags the current instruction must leave correct (live after it and written by it).
    pub needed: FlagSet,
    /// Flags live right after the current instruction.
    pub live_after: FlagSet,
    next_scratch: usize,
    next_vscratch: u8,
    pub direct_exits: Vec<DirectExit>,
    /// Offset of the `br` taken on an indirect lookup hit (the block's last exit).
    pub indirect_site: Option<usize>,
    /// Where each guest instruction's code starts (for signals).
    pub marks: Vec<InsnMark>,
    /// The places that name absolute addresses (`relocation`).
    pub relocations: Vec<Relocation>,
    /// Set while a locked instruction is emitted (see `atomic`).
    pub atomic: Option<atomic::AtomicLoop>,
    pub order: MemoryOrder,
    /// The current instruction's memory operand is addressed from RSP and,
    /// unlocked, accessed plainly under any `order`
    /// (`Tuning::plain_stack_operands`; `ordered_accesses`).
    pub stack_operand: bool,
    /// YMM registers whose upper half this block has already cleared in
    /// `CpuState` (bit n: YMM n) and not written since: clearing one again
    /// is a no-op (`vex::clear_upper`). Only the block's own code writes
    /// the uppers while it runs; the interpreter, syscalls and signals
    /// run after it has exited.
    pub uppers_zero: u16,
    /// The code so far ends with a byte compare's result (`vector::run`):
    /// a pmovmskb right after it needs no test of each byte's sign.
    pub sign_bytes: Option<vector::SignBytes>,
    /// General registers known to hold a byte or a word zero-extended
    /// before the instruction (`known_narrow`; set for its handler only).
    pub known_narrow: known_narrow::KnownNarrow,
    /// A `base + index * scale` an access computed, for the next
    /// instruction's (`index_sum`).
    pub index_sum: Option<index_sum::IndexSum>,
    /// Out-of-line code placed after the block's exits (`cold`).
    cold: Vec<cold::ColdPath>,
    /// Loads from the literal pool placed after all code (`literal`).
    literals: Vec<literal::Load>,
    /// The scratch register holding the current instruction's memory
    /// operand address when that is a constant (RIP-relative or absolute),
    /// and the address: an ordered access there knows its alignment when
    /// translated (images move by whole pages).
    pub constant_address: Option<(Reg, u64)>,
    /// The block reads x86 CF before writing it: `finish` adds its entry
    /// for host C in the carry form (`carry_entry`).
    pub reads_carry_first: bool,
    /// The block ends with a call (`TranslatedBlock::ends_with_call`).
    pub ends_with_call: bool,
    /// The current instruction is not the block's last: a conditional
    /// branch leaves through a side exit (`control::jcc`).
    pub inside_block: bool,
    /// Set by `translate` for an instruction whose flags only the
    /// condition of the one after it reads, in a form that instruction can
    /// take other than x86's flags (`translate::fuses_with_next`): a
    /// `test r, r` (32/64-bit) before je/jne/js/jns emits nothing and the
    /// branch tests the register; a ucomisd/comisd before a condition
    /// that is one host condition of `fcmp`'s flags emits the `fcmp` alone.
    pub fuse_next: bool,
    /// What such an instruction left for the next one's `cond`.
    pub fused: Option<cond::Fused>,
    /// Set by `translate` for a vector move at `[base]` whose base a later
    /// instruction steps (`fused_pairs::vector_step`): the access takes
    /// the step as a post-index and marks it taken, and `translate` then
    /// skips the step.
    pub post_step: Option<fused_pairs::PostStep>,
    /// SSE arithmetic whose destinations are not written yet.
    fp_chain: fp_chain::FpChain,
}

/// Signed offset encodable in a `b` instruction (±128 MiB).
pub fn encode_b(from: u64, to: u64) -> Option<u32> {
    let delta = to.wrapping_sub(from) as i64;
    if delta % 4 != 0 || !(-(1 << 27)..(1 << 27)).contains(&delta) {
        return None;
    }
    Some(0x1400_0000 | (((delta >> 2) as u32) & 0x03ff_ffff))
}

impl Emitter {
    pub fn new(base: u64, host: HostFeatures, stubs: Stubs) -> Self {
        let BlockBuffers { direct_exits, marks, relocations, literals } = SPARE_BUFFERS.take();
        Emitter {
            ops: BlockAssembler::new(),
            base,
            host,
            stubs,
            polarity: Polarity::Borrow,
            needed: FlagSet::NONE,
            live_after: FlagSet::ALL,
            next_scratch: 0,
            next_vscratch: 0,
            direct_exits,
            indirect_site: None,
            marks,
            relocations,
            atomic: None,
            order: MemoryOrder::Relaxed,
            stack_operand: false,
            uppers_zero: 0,
            sign_bytes: None,
            known_narrow: known_narrow::KnownNarrow::default(),
            index_sum: None,
            cold: Emitter::spare_cold_paths(),
            literals,
            reads_carry_first: false,
            ends_with_call: false,
            inside_block: false,
            fuse_next: false,
            fused: None,
            post_step: None,
            constant_address: None,
            fp_chain: fp_chain::FpChain::default(),
        }
    }

    /// Called before each guest instruction, `guest_off` bytes into the block.
    pub fn begin_insn(&mut self, guest_off: u16, live_after: FlagSet, written: FlagSet) {
        self.marks.push(InsnMark { host_off: self.offset() as u32, guest_off, polarity: self.polarity, pad: Pad::None });
        self.next_scratch = 0;
        self.next_vscratch = 0;
        self.constant_address = None;
        self.stack_operand = false;
        self.known_narrow = known_narrow::KnownNarrow::default();
        self.live_after = live_after;
        self.needed = live_after.and(written);
    }

    /// Before a memory access: if host C changed form since the current
    /// instruction began, records where, so a fault at the access finds
    /// the flags' form (`block_map`).
    pub fn mark_access(&mut self) {
        if let Some(&last) = self.marks.last() {
            if last.polarity != self.polarity {
                let host_off = self.offset() as u32;
                self.marks.push(InsnMark { host_off, polarity: self.polarity, pad: Pad::None, ..last });
            }
        }
    }

    /// Reads a memory operand and writes it back unchanged, so that an
    /// inaccessible operand faults here, before the instruction changes
    /// any flag (x86 faults before it changes anything). Uses no scratch
    /// register beyond the call.
    pub fn probe_write(&mut self, dst: operand::Loc) {
        let saved = self.scratch_in_use();
        let v = self.read(dst);
        self.write(dst, v);
        self.release_scratch_to(saved);
    }

    /// How many scratch registers the instruction holds, for
    /// `release_scratch_to`.
    pub fn scratch_in_use(&self) -> usize {
        self.next_scratch
    }

    /// Frees the scratch registers taken since `scratch_in_use` said `mark`.
    pub fn release_scratch_to(&mut self, mark: usize) {
        self.next_scratch = mark;
    }

    /// How many scratch registers this instruction has taken.
    pub fn scratch_taken(&self) -> usize {
        self.next_scratch
    }

    /// A scratch register, valid until the next instruction.
    pub fn tmp(&mut self) -> Reg {
        let r = regs::SCRATCH[self.next_scratch];
        self.next_scratch += 1;
        r
    }

    /// Emits one instruction of the typed layer (`aarch64`).
    pub fn inst(&mut self, inst: aarch64::Inst) {
        self.ops.push_u32(aarch64::encode(inst));
    }

    /// Vector temporaries handed out so far in this instruction: give it
    /// to `release_vtmps` to reuse the ones taken after it.
    pub fn vtmps_taken(&self) -> u8 {
        self.next_vscratch
    }

    /// Makes the vector temporaries taken after `taken` free again (their
    /// values are dead: the two halves of a 256-bit operation).
    pub fn release_vtmps(&mut self, taken: u8) {
        debug_assert!(taken <= self.next_vscratch);
        self.next_vscratch = taken;
    }

    /// Takes the vector temporaries up to `v` (a value an instruction
    /// before left there, which later `vtmp`s must not hand out).
    pub fn take_vtmps_through(&mut self, v: Reg) {
        self.next_vscratch = self.next_vscratch.max(v + 1);
    }

    /// A scratch vector register (v0..v15), valid until the next
    /// instruction. v8..v15 are callee-saved in the host ABI: the entry
    /// trampoline saves them, and generated code never calls out.
    pub fn vtmp(&mut self) -> Reg {
        let r = self.next_vscratch;
        assert!(r < 16, "an instruction needs at most sixteen vector temporaries");
        self.next_vscratch += 1;
        r
    }

    pub fn offset(&self) -> usize {
        self.ops.offset().0
    }

    pub fn here(&self) -> u64 {
        self.base + self.offset() as u64
    }

    pub fn label(&mut self) -> DynamicLabel {
        self.ops.new_dynamic_label()
    }

    pub fn bind(&mut self, l: DynamicLabel) {
        a64!(self.ops; =>l);
    }

    pub fn jump(&mut self, l: DynamicLabel) {
        a64!(self.ops; b =>l);
    }

    pub fn raw(&mut self, word: u32) {
        self.ops.push_u32(word);
    }

    /// `b` to an absolute address (exit stubs, other blocks).
    pub fn b_abs(&mut self, to: u64) {
        let word = encode_b(self.here(), to).expect("code buffer is smaller than the branch range");
        self.raw(word);
    }

    /// Materialises a 64-bit constant in the fewest movz/movn/movk (encoded
    /// by hand: every exit stub and call emits one, and dynasm's checked
    /// encoding showed in translation profiles).
    pub fn mov_imm(&mut self, rd: Reg, value: u64) {
        let (words, n) = relocation::mov_imm_words(rd, value);
        self.ops.push_words(&words[..n]);
    }

    /// A 64-bit constant in one instruction: a mov when one movz/movn
    /// makes it, else a load from the block's literal pool (`literal`).
    /// Guest addresses and most wide constants take two to four movs.
    pub fn load_constant(&mut self, rd: Reg, value: u64) {
        if relocation::is_one_mov(value) {
            self.mov_imm(rd, value);
        } else {
            self.load_literal(rd, value, false);
        }
    }

    /// `load_constant` of a guest address, recorded so the block can be
    /// moved (`relocation`).
    pub fn mov_guest_address(&mut self, rd: Reg, addr: u64) {
        let at = self.offset();
        if !relocation::is_one_mov(addr) {
            self.load_literal(rd, addr, true);
            return;
        }
        self.mov_imm(rd, addr);
        self.relocations.push(Relocation::GuestAddress { at: at as u32, words: 1, value: addr });
    }

    /// `ldr rd, =value`: the load's pool entry is placed (and the load's
    /// offset filled in) by `finish`; one entry per value.
    fn load_literal(&mut self, rd: Reg, value: u64, guest: bool) {
        let site = self.offset() as u32;
        self.raw(literal::LDR_LITERAL_X | u32::from(rd));
        self.literals.push(literal::Load { site, value, guest });
    }

    /// `b` to the exit stub of `reason`, recorded for `relocation`.
    pub fn b_exit_stub(&mut self, reason: ExitReason) {
        self.relocations.push(Relocation::ExitStub { at: self.offset() as u32, reason });
        self.b_abs(self.stubs.exit[reason as usize]);
    }

    /// rd = rn + value (64-bit), without touching flags.
    pub fn add_imm(&mut self, rd: Reg, rn: Reg, value: i64) {
        let mag = value.unsigned_abs();
        if mag < 4096 {
            let m = mag as u32;
            if value >= 0 {
                a64!(self.ops; add XSP(rd), XSP(rn), m);
            } else {
                a64!(self.ops; sub XSP(rd), XSP(rn), m);
            }
        } else if mag < (1 << 24) && mag & 0xfff == 0 {
            let m = (mag >> 12) as u32;
            if value >= 0 {
                a64!(self.ops; add XSP(rd), XSP(rn), m, lsl 12);
            } else {
                a64!(self.ops; sub XSP(rd), XSP(rn), m, lsl 12);
            }
        } else {
            let t = if rd != rn { rd } else { self.tmp() };
            self.mov_imm(t, value as u64);
            a64!(self.ops; add X(rd), X(rn), X(t));
        }
    }

    /// Makes the host C flag hold x86 CF in the requested form.
    pub fn want_polarity(&mut self, p: Polarity) {
        if self.polarity != p {
            self.invert_c();
            self.polarity = p;
        }
    }

    fn invert_c(&mut self) {
        self.invert_c_using(Emitter::tmp);
    }

    /// Turns host C around: `cfinv`, or without FlagM through NZCV in the
    /// register `scratch` gives.
    fn invert_c_using(&mut self, scratch: impl FnOnce(&mut Emitter) -> Reg) {
        if self.host.flagm {
            a64!(self.ops; cfinv);
        } else {
            let t = scratch(self);
            a64!(self.ops
                ; mrs X(t), NZCV
                ; eor XSP(t), X(t), 0x2000_0000
                ; msr NZCV, X(t)
            );
        }
    }

    /// Puts the flags in canonical form for a block exit.
    pub fn canonicalize_flags(&mut self) {
        // A dead CF may stay in either form: nobody downstream reads it.
        if self.live_after.has(FlagSet::CF) {
            self.want_polarity(Polarity::Borrow);
        }
    }

    /// Leaves translated code: `rip` to x16, then the stub for `reason`.
    /// Code after an exit belongs to another path (a label bound later), which
    /// still has the flags in the form they had before the exit. Exits to
    /// the runtime hand over every flag: the interpreter may read them
    /// before the instruction at `rip`, and signal frames will show them.
    pub fn exit(&mut self, reason: ExitReason, rip: u64) {
        let polarity = self.polarity;
        self.want_polarity(Polarity::Borrow);
        self.mov_guest_address(regs::EXIT_RIP, rip);
        self.b_exit_stub(reason);
        self.polarity = polarity;
    }

    /// Continues at guest `target` through a patchable branch: the code cache
    /// points it at the target's translation once that exists; until then it
    /// falls into a lookup exit right behind it.
    pub fn direct_exit(&mut self, target: u64) {
        self.direct_exit_fed(target, None);
    }

    /// `direct_exit`, reached only by falling into it or by the conditional
    /// branch at offset `feeder` (flags already canonical there): the cache
    /// may link that branch straight to the target (`TRANSIT_TUNING=-cond-link`
    /// turns this off).
    pub fn direct_exit_fed(&mut self, target: u64, feeder: Option<usize>) {
        let polarity = self.polarity;
        let before = self.offset();
        self.canonicalize_flags();
        // The feeder jumps past any flag fix-up: link it only without one.
        let feeder = feeder.filter(|_| crate::tuning::tuning().cond_link && self.offset() == before);
        let site = self.here();
        let site_offset = self.offset();
        // Branch to the stub right behind it until the target is linked.
        self.raw(encode_b(site, site + 4).unwrap());
        self.direct_exits.push(DirectExit { site_offset, feeder, target });
        self.mov_guest_address(regs::EXIT_RIP, target);
        self.b_exit_stub(ExitReason::Lookup);
        self.polarity = polarity;
    }

    /// Replaces host C with x86 CF = bit 0 of `cf` (in the current
    /// polarity, so callers on several paths agree), keeping N, Z, V.
    /// Clobbers `cf`.
    pub fn insert_c(&mut self, cf: Reg) {
        self.insert_flags(cf, None);
    }

    /// Replaces host C and V with x86 CF = bit 0 of `cf` and OF = bit 0 of
    /// `of`, keeping N and Z. Clobbers `cf`.
    pub fn insert_cv(&mut self, cf: Reg, of: Reg) {
        self.insert_flags(cf, Some(of));
    }

    fn insert_flags(&mut self, cf: Reg, of: Option<Reg>) {
        if self.polarity == Polarity::Borrow {
            a64!(self.ops; eor XSP(cf), X(cf), 1);
        }
        let t = self.tmp();
        a64!(self.ops
            ; mrs X(t), NZCV
            ; bfi X(t), X(cf), 29, 1
        );
        if let Some(of) = of {
            a64!(self.ops; bfi X(t), X(of), 28, 1);
        }
        a64!(self.ops; msr NZCV, X(t));
    }

    /// Sets N and Z from the low `bits` of `result` (C and V become 0).
    pub fn set_nz(&mut self, result: Reg, bits: u32) {
        if bits == 64 {
            a64!(self.ops; tst X(result), X(result));
        } else {
            let t = self.tmp();
            let sh = 64 - bits;
            a64!(self.ops; lsl X(t), X(result), sh ; tst X(t), X(t));
        }
        self.polarity = Polarity::Carry;
    }

    /// Records the PF source when PF is needed, and when AF is: AF is bit 4
    /// of AF's source XOR PF's (`af_begin` leaves `a ^ b` there, so a
    /// result written here completes `a ^ b ^ result` with no instruction
    /// of its own).
    pub fn set_pf_source(&mut self, result: Reg) {
        if (self.needed.has(FlagSet::PF) || self.needed.has(FlagSet::AF)) && result != regs::PF_SRC {
            a64!(self.ops; mov X(regs::PF_SRC), X(result));
        }
    }

    /// Records `a ^ b` as AF's source when AF is needed, before the
    /// operation (which may overwrite its inputs); `set_pf_source` with
    /// the result completes it.
    pub fn af_begin(&mut self, a: Reg, b: Reg) {
        if self.needed.has(FlagSet::AF) {
            a64!(self.ops; eor X(regs::AF_SRC), X(a), X(b));
        }
    }

    /// AF = 0, after PF's source is set: AF's source equal to it.
    pub fn af_zero(&mut self) {
        if self.needed.has(FlagSet::AF) {
            a64!(self.ops; mov X(regs::AF_SRC), X(regs::PF_SRC));
        }
    }

    pub fn needs_nzcv(&self) -> bool {
        self.needed.has(FlagSet::NZCV)
    }

    /// The guest instruction is unsupported: the guest gets SIGILL at it.
    pub fn illegal(&mut self, insn: &Instruction) -> EmitResult {
        self.exit(ExitReason::IllegalInstruction, insn.ip());
        Ok(Flow::Ended)
    }

    /// The finished block of `guest_insns` guest instructions (give its
    /// buffers back with `recycle` once it is installed).
    /// (By reference: moving the emitter into it cost 1% of translating
    /// Python's blocks.)
    pub fn finish(&mut self, guest_insns: usize) -> TranslatedBlock {
        if !self.cold.is_empty() {
            self.place_cold_code();
        }
        self.recycle_cold_paths();
        let carry_entry = if self.reads_carry_first && crate::tuning::tuning().indirect_carry { self.carry_entry() } else { 0 };
        if !self.literals.is_empty() {
            literal::place_pool(&mut self.ops, &self.literals, &mut self.relocations);
        }
        let code = self.ops.finish().expect("all labels are bound");
        TranslatedBlock {
            code,
            direct_exits: std::mem::take(&mut self.direct_exits),
            indirect_site: self.indirect_site,
            marks: std::mem::take(&mut self.marks),
            relocations: std::mem::take(&mut self.relocations),
            guest_insns,
            carry_entry,
            ends_with_call: self.ends_with_call,
            spare_literals: std::mem::take(&mut self.literals),
        }
    }

    /// The block's entry for host C in the carry form (an indirect exit's
    /// target, `control::indirect_exit`), when the block reads CF before
    /// writing it: turns C to the borrow form and jumps to the start.
    fn carry_entry(&mut self) -> u32 {
        let at = self.offset() as u32;
        // Any scratch register is free at the block's start.
        self.invert_c_using(|_| regs::SCRATCH[0]);
        self.raw(encode_b(self.here(), self.base).expect("a block is within branch range of itself"));
        at
    }
}

/// One guest block's host code, before it is installed.
pub struct TranslatedBlock {
    pub code: Vec<u8>,
    pub direct_exits: Vec<DirectExit>,
    /// The `br` of an indirect exit, for unlinking.
    pub indirect_site: Option<usize>,
    /// Where each guest instruction's code starts, for signals.
    pub marks: Vec<InsnMark>,
    /// The places that name absolute addresses (`relocation`).
    pub relocations: Vec<Relocation>,
    pub guest_insns: usize,
    /// Offset of the entry for host C in the carry form: 0 (the block
    /// itself) unless the block reads CF before writing it.
    pub carry_entry: u32,
    /// It ends with a call: the guest address past it is a return address,
    /// which a `ret` will look up (`installed_image` fills the lookup
    /// table with it).
    pub ends_with_call: bool,
    /// The emitter's buffer of literal loads (placed in the pool by now),
    /// for `recycle` to clear and keep.
    pub spare_literals: Vec<literal::Load>,
}

/// A block's marks, exits, relocations and literal loads: their buffers
/// go from block to block on each thread, together (allocating them per
/// block cost about 3% of a Python start-up; a thread-local access each
/// another 1% of a cold start).
#[derive(Default)]
struct BlockBuffers {
    direct_exits: Vec<DirectExit>,
    marks: Vec<InsnMark>,
    relocations: Vec<Relocation>,
    literals: Vec<literal::Load>,
}

thread_local! {
    static SPARE_BUFFERS: std::cell::Cell<BlockBuffers> = const {
        std::cell::Cell::new(BlockBuffers { direct_exits: Vec::new(), marks: Vec::new(), relocations: Vec::new(), literals: Vec::new() })
    };
}

/// Gives an installed block's buffers to the next block this thread emits.
pub fn recycle(block: TranslatedBlock) {
    let TranslatedBlock { code, mut direct_exits, mut marks, mut relocations, spare_literals: mut literals, .. } = block;
    assembler::recycle_code(code);
    direct_exits.clear();
    marks.clear();
    relocations.clear();
    literals.clear();
    SPARE_BUFFERS.set(BlockBuffers { direct_exits, marks, relocations, literals });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the movz/movn/movk words `mov_imm` emits, and counts them.
    fn materialised(value: u64) -> (u64, usize) {
        let mut e = Emitter::new(0, HostFeatures::BASELINE, Stubs::default());
        e.mov_imm(5, value);
        let code = e.finish(0).code;
        let mut x = 0u64;
        for word in code.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())) {
            assert_eq!(word & 0x1f, 5, "{word:#x} writes x5");
            let (hw, imm) = ((word >> 21) & 3, u64::from((word >> 5) & 0xffff));
            let shift = 16 * hw;
            x = match word & 0xff80_0000 {
                0xd280_0000 => imm << shift,
                0x9280_0000 => !(imm << shift),
                0xf280_0000 => (x & !(0xffff << shift)) | (imm << shift),
                _ => panic!("{word:#x} is not movz/movn/movk"),
            };
        }
        (x, code.len() / 4)
    }

    #[test]
    fn mov_imm_builds_each_value_in_the_fewest_instructions() {
        for (value, count) in [
            (0, 1),
            (u64::MAX, 1),
            (0x401234, 2),
            (0xffff_ffff_ffff_fffe, 1),
            (0x1234_0000_0000_5678, 2),
            (0xffff_1234_ffff_ffff, 1),
            (0x8000_0000_0000_0000, 1),
            (0x0123_4567_89ab_cdef, 4),
            (0xffff_ffff_0000_0000, 2),
        ] {
            assert_eq!(materialised(value), (value, count), "{value:#x}");
        }
    }
}
