//! One guest block to one host block: flag liveness, then each instruction
//! through the handler its form's row names (`frontend::forms`). A trial
//! translation says which forms are supported (`is_supported`), which
//! tests and coverage reports read.

use crate::frontend::decode::GuestBlock;
use crate::frontend::forms::Routes;
use crate::emit::known_narrow::NarrowHints;
use crate::emit::{atomic, data, fp_chain, fused_pairs};
use crate::emit::{Emitter, Flow, Handler, MemoryOrder, Stubs, TranslatedBlock};
use crate::frontend::flags::{live_after, FlagSet, InsnFlags, LiveAtExits};
use crate::cpu::host::HostFeatures;
use crate::cache::MAX_BLOCK_INSNS;
use iced_x86::{Instruction, Register};

/// The handler for `insn` from its form's row (`frontend::forms`); `None`
/// means unsupported, also for every instruction the presented CPU lacks.
pub fn handler(insn: &Instruction) -> Option<Handler> {
    crate::frontend::forms::handler(insn)
}

/// Whether the translator translates `insn` (this exact form and operands)
/// rather than ending its block with SIGILL: a trial translation.
pub fn is_supported(insn: &Instruction) -> bool {
    if handler(insn).is_none() {
        return false;
    }
    const BASE: u64 = 0x1000_0000;
    let mut stubs = Stubs::default();
    for (i, s) in stubs.exit.iter_mut().enumerate() {
        *s = BASE - 0x100 + 8 * i as u64;
    }
    let block = GuestBlock { start: insn.ip(), insns: vec![*insn], invalid_at: None, side_exits: 0 };
    try_translate(&block, 1, BASE, HostFeatures::BASELINE, stubs, FlagSet::ALL.into(), MemoryOrder::Relaxed).is_ok()
}

/// Translates `block` into code that will live at host address `base`;
/// `live_at_exits` are the flags its successors may read (a `FlagSet`:
/// after its last instruction, every flag at its side exits).
pub fn translate_block(
    block: &GuestBlock,
    base: u64,
    host: HostFeatures,
    stubs: Stubs,
    live_at_exits: impl Into<LiveAtExits>,
    order: MemoryOrder,
) -> TranslatedBlock {
    let live_at_exit = live_at_exits.into().for_block(block);
    let mut len = block.insns.len();
    loop {
        match try_translate(block, len, base, host, stubs, live_at_exit, order) {
            Ok(t) => return t,
            // Instruction `n` turned out unsupported: end the block before it.
            Err(n) => len = n,
        }
    }
}

/// Whether the flags of `insn` can take another form than x86's for the
/// `next` instruction, the only one to read them (no flag `insn` defines,
/// `defines`, is read after `next`, `live_after_next`, on either way):
/// `test r, r` before je/jne/js/jns (a byte or word register's before
/// js/jns) is one host branch on the register; ucomisd/comisd before a
/// jcc, setcc or cmovcc whose condition is one of `fcmp`'s
/// (`cond::after_float_compare`) is `fcmp` alone. Only for `lead_of`'s
/// `FlagsForNext` codes.
fn fuses_with_next(insn: &Instruction, defines: FlagSet, next: &Instruction, live_after_next: FlagSet) -> bool {
    use iced_x86::{Code::*, ConditionCode as C, OpKind};
    // Cheapest tests first: this runs for every instruction translated.
    match insn.code() {
        Test_rm32_r32 | Test_rm64_r64 | Test_rm8_r8 | Test_rm16_r16 => {
            // A byte or word's sign is one bit to test (tbz/tbnz); its zero
            // test no one instruction (no high-byte registers either).
            let narrow = matches!(insn.code(), Test_rm8_r8 | Test_rm16_r16);
            let conditions: &[C] = if narrow { &[C::s, C::ns] } else { &[C::e, C::ne, C::s, C::ns] };
            next.is_jcc_short_or_near()
                && insn.op0_kind() == OpKind::Register
                && insn.op0_register() == insn.op1_register()
                && !matches!(insn.op0_register(), Register::AH | Register::CH | Register::DH | Register::BH)
                && conditions.contains(&next.condition_code())
                && live_after_next.and(defines).is_empty()
                && crate::tuning::tuning().fused_tests
        }
        Ucomisd_xmm_xmmm64 | Comisd_xmm_xmmm64 | Ucomiss_xmm_xmmm32 | Comiss_xmm_xmmm32 | VEX_Vucomisd_xmm_xmmm64 | VEX_Vcomisd_xmm_xmmm64
        | VEX_Vucomiss_xmm_xmmm32 | VEX_Vcomiss_xmm_xmmm32 => {
            (next.is_jcc_short_or_near() || selects_on_registers(next))
                && crate::emit::cond::after_float_compare(next.condition_code()).is_some()
                && live_after_next.and(defines).is_empty()
                && crate::tuning::tuning().fused_float_compares
        }
        _ => false,
    }
}

/// Whether `insn` is a setcc or cmovcc on registers alone: one that
/// cannot fault between the flags' instruction and the condition, where
/// a signal handler would see the host compare's flags as x86's.
fn selects_on_registers(insn: &Instruction) -> bool {
    use iced_x86::{Mnemonic::*, OpKind};
    let select = matches!(insn.mnemonic(), Seta | Setae | Setb | Setbe | Setp | Setnp | Cmova | Cmovae | Cmovb | Cmovbe | Cmovp | Cmovnp);
    select && (0..insn.op_count()).all(|k| insn.op_kind(k) == OpKind::Register)
}

/// What an instruction may begin with the ones after it (`emit_insns`).
enum Lead {
    None,
    /// A push or pop: two in a row are one stp/ldp (`data::stack_pair`).
    StackAccess,
    /// A shift or movzx: a fused pair (`fused_pairs::pair_at`).
    FusedPair,
    /// movsd/movss: a load that may open an SSE chain (`fp_chain::opens_chain`),
    /// and a vector move (below).
    ScalarLoad,
    /// Another vector move to or from memory: a later step of its base
    /// may be its post-index (`fused_pairs::vector_step`).
    VectorMove,
    /// test or ucomisd/comisd: its flags may take another form for the
    /// next instruction alone (`fuses_with_next`).
    FlagsForNext,
    /// A mov: a 32/64-bit copy shifted, or combined with an immediate or a
    /// register, and a load or store whose base steps next, are fused pairs
    /// (`fused_pairs::copy_then_operation_at`, `zero_extended_already`,
    /// `load_then_step`, `store_then_step`; most movs are followed by none,
    /// and are looked at no further).
    Copy,
}

fn lead_of(insn: &Instruction) -> Lead {
    use iced_x86::Code::*;
    match insn.code() {
        Push_r64 | Pop_r64 => Lead::StackAccess,
        Shr_rm32_imm8 | Shr_rm64_imm8 | Shr_rm32_1 | Shr_rm64_1 | Shl_rm32_imm8 | Shl_rm64_imm8 | Shl_rm32_1 | Shl_rm64_1 | Movzx_r32_rm8
        | Movzx_r64_rm8 | Movzx_r32_rm16 | Movzx_r64_rm16 => Lead::FusedPair,
        Mov_r64_rm64 | Mov_rm64_r64 | Mov_r32_rm32 | Mov_rm32_r32 | Mov_rm8_r8 | Mov_rm16_r16 => Lead::Copy,
        Movsd_xmm_xmmm64 | Movss_xmm_xmmm32 => Lead::ScalarLoad,
        Test_rm32_r32 | Test_rm64_r64 | Test_rm8_r8 | Test_rm16_r16 | Ucomisd_xmm_xmmm64 | Comisd_xmm_xmmm64 | Ucomiss_xmm_xmmm32
        | Comiss_xmm_xmmm32 | VEX_Vucomisd_xmm_xmmm64 | VEX_Vcomisd_xmm_xmmm64 | VEX_Vucomiss_xmm_xmmm32 | VEX_Vcomiss_xmm_xmmm32 => {
            Lead::FlagsForNext
        }
        // Less the movsd/movss loads, matched above.
        #[allow(unreachable_patterns)]
        fused_pairs::vector_move_codes!() => Lead::VectorMove,
        _ => Lead::None,
    }
}

fn try_translate(
    block: &GuestBlock,
    len: usize,
    base: u64,
    host: HostFeatures,
    stubs: Stubs,
    live_at_exits: LiveAtExits,
    order: MemoryOrder,
) -> Result<TranslatedBlock, usize> {
    let insns = &block.insns[..len];
    // A block cut short ends in a SIGILL exit, which hands over every flag.
    let mut live_at_exits = live_at_exits;
    if len < block.insns.len() {
        live_at_exits.end = FlagSet::ALL;
    }
    let live_at_exit = live_at_exits.end;
    // Liveness on the stack for every block the cache translates: a heap
    // vector per block cost 2% of translating Python's blocks.
    let mut on_stack = [InsnFlags::default(); MAX_BLOCK_INSNS];
    let mut on_heap = Vec::new();
    let flags = if len <= MAX_BLOCK_INSNS {
        &mut on_stack[..len]
    } else {
        on_heap.resize(len, InsnFlags::default());
        &mut on_heap[..]
    };
    live_after(insns, &live_at_exits, flags);
    let mut routes = Routes::of_this_thread();
    let translated = emit_insns(block, insns, flags, live_at_exit, base, host, stubs, order, &mut routes);
    routes.give_back();
    translated
}

/// `try_translate`'s code for `insns`, given their flags.
#[allow(clippy::too_many_arguments)]
fn emit_insns(
    block: &GuestBlock,
    insns: &[Instruction],
    flags: &[InsnFlags],
    live_at_exit: FlagSet,
    base: u64,
    host: HostFeatures,
    stubs: Stubs,
    order: MemoryOrder,
    routes: &mut Routes,
) -> Result<TranslatedBlock, usize> {
    let len = insns.len();
    let mut e = Emitter::new(base, host, stubs);
    e.order = order;
    let plain_stack = order == MemoryOrder::Tso && crate::tuning::tuning().plain_stack_operands;
    let live_on_entry = flags.first().map_or(live_at_exit, |first| first.live_before());
    e.reads_carry_first = live_on_entry.has(FlagSet::CF);
    // An instruction an earlier one's code did too (a stack pair's
    // second, a fused pair's second).
    let mut done_with = usize::MAX;
    // What a movzx found out for a compare after it.
    let mut narrow_hints = NarrowHints::default();
    for (i, insn) in insns.iter().enumerate() {
        let guest_off = (insn.ip() - block.start) as u16;
        // Flags the manuals leave undefined after it need no value: a
        // logic op leaves AF, imul SF/ZF/AF/PF as they happen to be.
        let written = flags[i].effect.defines;
        // A side exit (a conditional branch with instructions after it)
        // writes a chain going on past it on its way out.
        if e.fp_chain_open()
            && !(fp_chain::keeps_chain(insn) || i + 1 < len && crate::frontend::decode::is_side_exit(insn) && fp_chain::goes_on_past_exit(&insns[i..]))
        {
            e.end_fp_chain();
        }
        e.begin_insn(guest_off, flags[i].live_after, written);
        if i == done_with {
            continue;
        }
        // What this instruction may begin with the ones after it: one
        // look at its code, since this runs for every instruction. None
        // between a fused pair's two (the second is done already).
        let between_pair = done_with != usize::MAX && done_with > i;
        // The flags instruction i + j must leave correct.
        let needed = |j: usize| flags[i + j].live_after.and(flags[i + j].effect.defines);
        e.fuse_next = false;
        match if between_pair { Lead::None } else { lead_of(insn) } {
            Lead::None => {}
            Lead::StackAccess => {
                if insns.get(i + 1).is_some_and(|next| data::same_stack_access(insn, next) && data::stack_pair(&mut e, insn, next)) {
                    done_with = i + 1;
                    continue;
                }
            }
            Lead::FusedPair => {
                let first_flags_dead = flags[i].live_after.and(written).is_empty();
                if let Some(second) = fused_pairs::pair_at(&mut e, &insns[i..], first_flags_dead, needed) {
                    done_with = i + second;
                    continue;
                }
                narrow_hints.note_movzx(insns, i);
            }
            Lead::Copy => {
                if fused_pairs::zero_extended_already(insns, i) {
                    continue;
                }
                // The second's flags must be dead: none of these host
                // forms sets them.
                let paired = if insn.op0_kind() == iced_x86::OpKind::Memory || insn.op1_kind() == iced_x86::OpKind::Memory {
                    fused_pairs::access_then_step(&mut e, &insns[i..], needed)
                } else {
                    fused_pairs::copy_then_operation_at(&mut e, &insns[i..], needed)
                };
                if let Some(second) = paired {
                    done_with = i + second;
                    continue;
                }
            }
            Lead::ScalarLoad => {
                if !e.fp_chain_open() && fp_chain::opens_chain(&insns[i..]) {
                    e.open_chain_at_load(fp_chain::load_of(insn).unwrap_or(8));
                }
                e.post_step = fused_pairs::vector_step(&insns[i..], needed);
            }
            Lead::VectorMove => e.post_step = fused_pairs::vector_step(&insns[i..], needed),
            Lead::FlagsForNext => e.fuse_next = insns.get(i + 1).is_some_and(|next| fuses_with_next(insn, written, next, flags[i + 1].live_after)),
        }
        // Only a conditional branch with instructions after it leaves
        // through a side exit; the last one ends the block as always.
        e.inside_block = i + 1 < len;
        let Some(h) = routes.handler(insn) else { return Err(i) };
        let locked = atomic::is_locked(insn);
        // A thread's stack is its own: spills and locals need no order.
        e.stack_operand = plain_stack && !locked && insn.memory_base() == Register::RSP;
        e.known_narrow = narrow_hints.take(i);
        let emitted = if locked { atomic::locked(&mut e, insn, h) } else { h(&mut e, insn) };
        match emitted {
            Ok(Flow::Next) => {
                e.index_sum_after(insn);
                // A vector move that took a later step as its post-index.
                if let Some(step) = e.post_step.take().filter(|step| step.taken) {
                    done_with = i + step.second;
                }
            }
            Ok(Flow::Ended) => return Ok(e.finish(i + 1)),
            Err(_) => return Err(i),
        }
    }
    e.end_fp_chain();
    let end_off = insns.last().map_or(0, |i| i.next_ip() - block.start) as u16;
    e.begin_insn(end_off, FlagSet::ALL, FlagSet::NONE);
    if len < block.insns.len() {
        let insn = &block.insns[len];
        tracing::warn!(addr = format_args!("{:#x}", insn.ip()), insn = %insn, "unimplemented instruction: SIGILL");
        let _ = e.illegal(insn);
    } else if let Some(addr) = block.invalid_at {
        // decode_block has logged it, with its bytes.
        e.exit(crate::exit::ExitReason::IllegalInstruction, addr);
    } else {
        e.direct_exit(block.end());
    }
    Ok(e.finish(len))
}
