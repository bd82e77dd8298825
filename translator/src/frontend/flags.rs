//! Which x86 arithmetic flags each instruction reads and writes, and which are
//! live after each instruction of a block. Flags nobody reads are never
//! computed: that is most of the win of lazy flags.

use crate::frontend::decode::{CodeSource, GuestBlock, PageDecoder};
use crate::frontend::flag_effect::{flag_effect, FlagEffect};
use iced_x86::{DecoderError, Instruction, OpKind, RflagsBits};

/// A set of x86 arithmetic flags, in iced's `RflagsBits` order (its low six
/// bits), so that converting iced's sets costs one AND: liveness runs over
/// every instruction translated and looked ahead at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlagSet(pub u8);

impl FlagSet {
    pub const OF: FlagSet = FlagSet(RflagsBits::OF as u8);
    pub const SF: FlagSet = FlagSet(RflagsBits::SF as u8);
    pub const ZF: FlagSet = FlagSet(RflagsBits::ZF as u8);
    pub const AF: FlagSet = FlagSet(RflagsBits::AF as u8);
    pub const CF: FlagSet = FlagSet(RflagsBits::CF as u8);
    pub const PF: FlagSet = FlagSet(RflagsBits::PF as u8);
    pub const NONE: FlagSet = FlagSet(0);
    pub const ALL: FlagSet = FlagSet(Self::OF.0 | Self::SF.0 | Self::ZF.0 | Self::AF.0 | Self::CF.0 | Self::PF.0);
    /// The flags that live in host NZCV.
    pub const NZCV: FlagSet = FlagSet(Self::CF.0 | Self::ZF.0 | Self::SF.0 | Self::OF.0);

    /// The arithmetic flags among iced's `RflagsBits`.
    pub fn from_iced(bits: u32) -> FlagSet {
        FlagSet((bits & Self::ALL.0 as u32) as u8)
    }
    pub fn has(self, other: FlagSet) -> bool {
        self.0 & other.0 != 0
    }
    pub fn union(self, other: FlagSet) -> FlagSet {
        FlagSet(self.0 | other.0)
    }
    pub fn minus(self, other: FlagSet) -> FlagSet {
        FlagSet(self.0 & !other.0)
    }
    pub fn and(self, other: FlagSet) -> FlagSet {
        FlagSet(self.0 & other.0)
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// Flags `insn` may read, and flags it certainly overwrites (kills).
pub fn reads_and_kills(insn: &Instruction) -> (FlagSet, FlagSet) {
    let effect = flag_effect(insn);
    (effect.reads, effect.kills)
}

/// Flags live where a block is left: after its last instruction (`end`),
/// and at the taken side of each conditional branch inside it (a side
/// exit, `frontend::decode::SIDE_EXITS`). A side exit not given keeps
/// every flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LiveAtExits {
    pub end: FlagSet,
    /// (instruction index, flags live at its target), in block order.
    side: [(u16, FlagSet); crate::frontend::decode::SIDE_EXITS as usize],
    sides: u8,
}

impl LiveAtExits {
    /// `end` after the last instruction; every flag at side exits.
    pub fn at_end(end: FlagSet) -> LiveAtExits {
        LiveAtExits { end, side: Default::default(), sides: 0 }
    }

    /// These, with every flag live at each of `block`'s side exits not
    /// given (a `FlagSet` was).
    pub fn for_block(self, block: &GuestBlock) -> LiveAtExits {
        if block.side_exits == u32::from(self.sides) {
            return self;
        }
        let mut all = LiveAtExits::at_end(self.end);
        let inside = &block.insns[..block.insns.len().saturating_sub(1)];
        for (i, _) in inside.iter().enumerate().filter(|(_, insn)| crate::frontend::decode::is_side_exit(insn)) {
            all.add_side_exit(i, FlagSet::ALL);
        }
        all
    }

    fn add_side_exit(&mut self, index: usize, live: FlagSet) {
        if let (Some(slot), Ok(index)) = (self.side.get_mut(self.sides as usize), u16::try_from(index)) {
            *slot = (index, live);
            self.sides += 1;
        }
    }
}

impl From<FlagSet> for LiveAtExits {
    fn from(end: FlagSet) -> LiveAtExits {
        LiveAtExits::at_end(end)
    }
}

/// One instruction of a block: what it does to the flags, and which flags
/// are live right after it.
#[derive(Clone, Copy, Debug, Default)]
pub struct InsnFlags {
    pub effect: FlagEffect,
    pub live_after: FlagSet,
}

impl InsnFlags {
    /// The flags live right before the instruction.
    pub fn live_before(&self) -> FlagSet {
        self.live_after.minus(self.effect.kills).union(self.effect.reads)
    }
}

/// Fills `out` (one entry per instruction) with each instruction's effect
/// and the flags live right after it, given those live where the block is
/// left. After a conditional branch inside the block, that is what its
/// way on and its target read.
pub fn live_after(insns: &[Instruction], live_at_exits: &LiveAtExits, out: &mut [InsnFlags]) {
    let mut live = live_at_exits.end;
    let mut sides = live_at_exits.side[..usize::from(live_at_exits.sides)].iter().rev().peekable();
    for (i, (insn, flags)) in insns.iter().zip(out).enumerate().rev() {
        while let Some(&&(at, side)) = sides.peek().filter(|&&&(at, _)| usize::from(at) >= i) {
            if usize::from(at) == i {
                live = live.union(side);
            }
            sides.next();
        }
        *flags = InsnFlags { effect: flag_effect(insn), live_after: live };
        live = flags.live_before();
    }
}

/// Instructions looked at past a block's end to find which flags its
/// successors read before writing them (all paths together). From 16 and
/// two forks to 32 and four: the default bench's geomean +0.1% (lua and
/// nbody +0.8%), translation no costlier in a Python run.
const LOOKAHEAD: usize = 32;

/// Conditional branches whose both ways the look-ahead follows.
const LOOKAHEAD_FORKS: u32 = 4;

/// Flags live on entry to the code at `addr`: read before being written
/// within its first instructions, following direct jumps and calls and
/// both ways of direct conditional branches, plus (conservatively) every
/// flag not yet written where the look-ahead stops.
pub fn live_on_entry(src: &dyn CodeSource, addr: u64, readable: &impl Fn(u64) -> bool) -> FlagSet {
    live_on_entry_in(&mut PageDecoder::new(src), addr, readable)
}

/// `live_on_entry` through `code`'s decoders (the block's own, mostly).
pub fn live_on_entry_in(code: &mut PageDecoder, addr: u64, readable: &impl Fn(u64) -> bool) -> FlagSet {
    let follow = crate::tuning::tuning().flag_lookahead;
    // Switched off: the first straight-line run only, eight instructions.
    let (mut budget, forks) = if follow { (LOOKAHEAD, LOOKAHEAD_FORKS) } else { (LOOKAHEAD / 2, 0) };
    live_from(code, addr, readable, &mut budget, forks, follow)
}

fn live_from(
    code: &mut PageDecoder,
    addr: u64,
    readable: &impl Fn(u64) -> bool,
    budget: &mut usize,
    forks: u32,
    follow: bool,
) -> FlagSet {
    use iced_x86::FlowControl as F;
    let mut live = FlagSet::NONE;
    let mut killed = FlagSet::NONE;
    let mut at = addr;
    // Whether the run at `at` decodes from the look-ahead's window of bytes
    // (which may cross into the next page) rather than from its page's.
    let mut crossing = false;
    'straight_line: loop {
        if !readable(at) {
            break;
        }
        let mut window;
        let decoder = if crossing {
            window = crate::frontend::decode::decoder(lookahead_bytes(code.src(), at, *budget, readable), at);
            &mut window
        } else {
            code.at(at)
        };
        loop {
            if *budget == 0 {
                break 'straight_line;
            }
            let insn_at = decoder.ip();
            if !crossing && !decoder.can_decode() {
                // The page's end: on through the window.
                (at, crossing) = (insn_at, true);
                continue 'straight_line;
            }
            if !decoder.can_decode() {
                break 'straight_line;
            }
            *budget -= 1;
            let insn = decoder.decode();
            if insn.is_invalid() {
                if !crossing && decoder.last_error() == DecoderError::NoMoreBytes {
                    // An instruction crossing the page's end.
                    *budget += 1;
                    (at, crossing) = (insn_at, true);
                    continue 'straight_line;
                }
                break 'straight_line;
            }
            let (reads, kills) = reads_and_kills(&insn);
            live = live.union(reads.minus(killed));
            killed = killed.union(kills);
            if killed == FlagSet::ALL {
                return live;
            }
            let direct = insn.op0_kind() == OpKind::NearBranch64;
            match insn.flow_control() {
                F::Next => {}
                F::UnconditionalBranch | F::Call if direct && follow => {
                    (at, crossing) = (insn.near_branch64(), false);
                    continue 'straight_line;
                }
                F::ConditionalBranch if direct && forks > 0 => {
                    let taken = live_from(code, insn.near_branch64(), readable, budget, forks - 1, follow);
                    live = live.union(taken.minus(killed));
                    // The taken side moved the page's decoder: on from
                    // the branch's next instruction.
                    (at, crossing) = (insn.next_ip(), false);
                    continue 'straight_line;
                }
                F::Return | F::IndirectBranch | F::IndirectCall => {
                    return live.union(live_at_indirect_exit_of(&insn).minus(killed));
                }
                _ => break 'straight_line,
            }
        }
    }
    live.union(FlagSet::ALL.minus(killed))
}

/// The bytes at `addr` the look-ahead may decode: `insns` instructions'
/// worth at most, and only from readable pages (the window crosses at most
/// one page end).
fn lookahead_bytes<'a>(src: &'a dyn CodeSource, addr: u64, insns: usize, readable: &impl Fn(u64) -> bool) -> &'a [u8] {
    let max = insns as u64 * 15;
    if !readable(addr) {
        return &[];
    }
    let page_end = (addr | 0xfff) + 1;
    let end = if readable(page_end) { addr + max } else { page_end.min(addr + max) };
    src.bytes(addr, (end - addr) as usize)
}

/// Flags live when `block` is left through its last instruction, found by
/// looking ahead into its direct successors; `readable` says which guest
/// addresses may be decoded without risk (pages known to hold code).
/// Indirect successors (ret, jmp reg), syscalls and faults keep every flag.
pub fn live_at_block_exit(src: &dyn CodeSource, block: &GuestBlock, readable: impl Fn(u64) -> bool) -> LiveAtExits {
    live_at_block_exit_by(block, |addr| live_on_entry(src, addr, &readable))
}

/// `live_at_block_exit` with the look-ahead at each successor given
/// (the code cache remembers it per address).
pub fn live_at_block_exit_by(block: &GuestBlock, mut live_on_entry: impl FnMut(u64) -> FlagSet) -> LiveAtExits {
    let mut exits = LiveAtExits::at_end(live_at_block_end(block, &mut live_on_entry));
    if block.side_exits > 0 {
        let inside = &block.insns[..block.insns.len() - 1];
        for (i, insn) in inside.iter().enumerate().filter(|(_, insn)| crate::frontend::decode::is_side_exit(insn)) {
            exits.add_side_exit(i, live_on_entry(insn.near_branch64()));
        }
    }
    exits
}

/// Flags live where code leaves through `ret` or an indirect `jmp` or
/// `call`, in a block or ahead of one (`Tuning::indirect_parity_dead`).
fn live_at_indirect_exit() -> FlagSet {
    if crate::tuning::tuning().indirect_parity_dead {
        FlagSet::ALL.minus(FlagSet::PF.union(FlagSet::AF))
    } else {
        FlagSet::ALL
    }
}

/// Flags live where code leaves through `exit`, a `ret` or an indirect
/// `jmp` or `call`: none through a slot addressed from RIP (a PLT stub's
/// `jmp [rip+GOT]`, a `call [rip+GOT]` or a tail call through a function
/// pointer variable: a function call, at whose entry the SysV ABI gives
/// the flags no role, and which lazy binding reaches through the
/// resolver, which overwrites them; `Tuning::slot_calls_flags_dead`),
/// else `live_at_indirect_exit`.
fn live_at_indirect_exit_of(exit: &Instruction) -> FlagSet {
    if exit.flow_control() != iced_x86::FlowControl::Return && exit.is_ip_rel_memory_operand() && crate::tuning::tuning().slot_calls_flags_dead {
        FlagSet::NONE
    } else {
        live_at_indirect_exit()
    }
}

/// Flags live after `block`'s last instruction.
fn live_at_block_end(block: &GuestBlock, live_on_entry: &mut impl FnMut(u64) -> FlagSet) -> FlagSet {
    use iced_x86::FlowControl as F;
    // At most two successors, the second one optional (no allocation: this
    // runs for every block translated).
    let (first, second) = match block.insns.last() {
        _ if block.invalid_at.is_some() => return FlagSet::ALL,
        None => return FlagSet::ALL,
        Some(last) => match last.flow_control() {
            F::Next => (last.next_ip(), None),
            F::UnconditionalBranch if last.op0_kind() == OpKind::NearBranch64 => (last.near_branch64(), None),
            F::ConditionalBranch if last.op0_kind() == OpKind::NearBranch64 => (last.near_branch64(), Some(last.next_ip())),
            F::Call if last.op0_kind() == OpKind::NearBranch64 => (last.near_branch64(), None),
            F::Return | F::IndirectBranch | F::IndirectCall => return live_at_indirect_exit_of(last),
            _ => return FlagSet::ALL,
        },
    };
    let live = live_on_entry(first);
    second.map_or(live, |s| live.union(live_on_entry(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_look_ahead_decodes_across_a_page_end_only_into_a_readable_page() {
        use crate::frontend::decode::CodeBuffer;
        // nop; cmp eax, 0x11223344 (crossing the page end after 2 bytes); ret
        let code = [0x90, 0x3d, 0x44, 0x33, 0x22, 0x11, 0xc3];
        let page_end = 0x10_0000;
        let src = CodeBuffer { base: page_end - 3, code: &code };
        assert_eq!(live_on_entry(&src, src.base, &|_| true), FlagSet::NONE, "cmp writes every flag");
        assert_eq!(live_on_entry(&src, src.base, &|a| a < page_end), FlagSet::ALL);
    }

    #[test]
    fn the_look_ahead_takes_parity_and_adjust_as_dead_at_a_return() {
        use crate::frontend::decode::CodeBuffer;
        // mov eax, 1; ret
        let src = CodeBuffer { base: 0x1000, code: &[0xb8, 1, 0, 0, 0, 0xc3] };
        assert_eq!(live_on_entry(&src, src.base, &|_| true), FlagSet::ALL.minus(FlagSet::PF.union(FlagSet::AF)));
        // adc eax, 0; ret: CF is read before the return.
        let src = CodeBuffer { base: 0x1000, code: &[0x83, 0xd0, 0x00, 0xc3] };
        assert_eq!(live_on_entry(&src, src.base, &|_| true), FlagSet::CF);
        // lahf; ret: every flag it loads is read.
        let src = CodeBuffer { base: 0x1000, code: &[0x9f, 0xc3] };
        assert!(live_on_entry(&src, src.base, &|_| true).has(FlagSet::AF));
    }

    #[test]
    fn the_look_ahead_takes_every_flag_as_dead_at_a_jump_or_call_through_a_rip_relative_slot() {
        use crate::frontend::decode::CodeBuffer;
        // endbr64; bnd jmp [rip+0x2fe2] (a PLT stub)
        let plt = [0xf3, 0x0f, 0x1e, 0xfa, 0xf2, 0xff, 0x25, 0xe2, 0x2f, 0x00, 0x00];
        assert_eq!(live_on_entry(&CodeBuffer { base: 0x1000, code: &plt }, 0x1000, &|_| true), FlagSet::NONE);
        // adc eax, 0; call [rip+0x100]: CF is read before the call.
        let src = CodeBuffer { base: 0x1000, code: &[0x83, 0xd0, 0x00, 0xff, 0x15, 0x00, 0x01, 0x00, 0x00] };
        assert_eq!(live_on_entry(&src, src.base, &|_| true), FlagSet::CF);
        // jmp rax: a switch's jump table or computed goto keeps all but PF and AF.
        let src = CodeBuffer { base: 0x1000, code: &[0xff, 0xe0] };
        assert_eq!(live_on_entry(&src, src.base, &|_| true), FlagSet::ALL.minus(FlagSet::PF.union(FlagSet::AF)));
    }

    #[test]
    fn iced_arithmetic_flags_are_the_low_six_bits() {
        let all = [RflagsBits::OF, RflagsBits::SF, RflagsBits::ZF, RflagsBits::AF, RflagsBits::CF, RflagsBits::PF];
        assert_eq!(all.iter().fold(0, |a, b| a | b), 0x3f);
        assert_eq!(FlagSet::from_iced(RflagsBits::CF | RflagsBits::DF | RflagsBits::IF), FlagSet::CF);
        assert_eq!(FlagSet::from_iced(u32::MAX), FlagSet::ALL);
    }
}
