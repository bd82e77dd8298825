//! Indirect jumps and calls through a slot the guest cannot write: a PLT
//! stub's `jmp [rip+GOT]` in a program or library linked with BIND_NOW,
//! whose GOT is read-only once the loader has filled it (RELRO), and
//! `call [rip+GOT]` from code built with -fno-plt. The slot's value is read
//! when the block is translated and the branch becomes a direct one, which
//! the cache links like any other (a PLT stub is then one `b`, where the
//! lookup of an indirect target costs eight instructions).
//!
//! The slot must stay as read: the pipeline reads it only from a page that
//! the guest may not write and that no other mapping aliases, after
//! watching the page as it watches code pages, so the mprotect, munmap or
//! mremap that must come before any change to it drops the translation
//! (`cache::code_watch`). `TRANSIT_TUNING=-fixed-slots` turns it off.

use crate::frontend::decode::GuestBlock;
use iced_x86::{Code, Instruction, OpKind, Register};

/// A branch whose slot was read: where the slot is, and the instruction
/// it replaced (to translate the block again as the guest wrote it).
#[derive(Clone, Copy, Debug)]
pub struct FixedSlot {
    pub slot: u64,
    /// The value read there: the direct branch's target.
    pub target: u64,
    pub indirect: Instruction,
}

/// The end of x86_64's user address space: a target at or past it would
/// raise #GP at the branch itself, which a direct branch cannot mimic.
const USER_END: u64 = 1 << 47;

/// The slot `insn` branches through, if it is a 64-bit `jmp`/`call` through
/// an aligned RIP-relative slot (no segment override: fs and gs have
/// their own bases).
pub fn slot_of(insn: &Instruction) -> Option<u64> {
    direct_form(insn.code())?;
    let plain = insn.op0_kind() == OpKind::Memory
        && insn.memory_base() == Register::RIP
        && insn.memory_index() == Register::None
        && matches!(insn.segment_prefix(), Register::None | Register::DS | Register::CS | Register::ES | Register::SS);
    let slot = insn.memory_displacement64();
    (plain && slot % 8 == 0).then_some(slot)
}

/// The direct branch standing for the indirect form `code`.
fn direct_form(code: Code) -> Option<Code> {
    match code {
        Code::Jmp_rm64 => Some(Code::Jmp_rel32_64),
        Code::Call_rm64 => Some(Code::Call_rel32_64),
        _ => None,
    }
}

/// Makes `block`'s last instruction, if it branches through a fixed slot,
/// a direct branch to the slot's value; `read_fixed(slot)` is the value if
/// the slot cannot change unseen (None: it may). The new instruction keeps
/// the old one's address and length, so a call pushes the same return
/// address.
pub fn fold_fixed_slot(block: &mut GuestBlock, read_fixed: impl FnOnce(u64) -> Option<u64>) -> Option<FixedSlot> {
    let last = block.insns.last_mut()?;
    let slot = slot_of(last)?;
    let target = read_fixed(slot).filter(|&t| t < USER_END)?;
    // Built field by field: iced's `Instruction::with_branch` builds its
    // encoder's tables first (1.5 M instructions).
    let mut direct = Instruction::default();
    direct.set_code(direct_form(last.code())?);
    direct.set_code_size(last.code_size());
    direct.set_op0_kind(OpKind::NearBranch64);
    direct.set_near_branch64(target);
    direct.set_len(last.len());
    direct.set_ip(last.ip());
    let indirect = std::mem::replace(last, direct);
    Some(FixedSlot { slot, target, indirect })
}

/// Puts the indirect branch `fixed` replaced back at the end of `block`.
pub fn unfold(block: &mut GuestBlock, fixed: &FixedSlot) {
    if let Some(last) = block.insns.last_mut() {
        *last = fixed.indirect;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::decode::{decode_block, CodeBuffer};
    use iced_x86::FlowControl;

    const AT: u64 = 0x40_1000;

    fn block(code: &[u8]) -> GuestBlock {
        decode_block(&CodeBuffer { base: AT, code }, AT, 16)
    }

    #[test]
    fn a_plt_jump_through_a_fixed_slot_becomes_a_direct_jump_of_the_same_length() {
        // jmp [rip+0x1ffa]: the slot is at AT + 0x2000.
        let mut b = block(&[0xff, 0x25, 0xfa, 0x1f, 0x00, 0x00]);
        let mut asked = None;
        let fixed = fold_fixed_slot(&mut b, |slot| {
            asked = Some(slot);
            Some(0x7f12_3456_7890)
        })
        .expect("folded");
        assert_eq!(asked, Some(AT + 0x2000));
        assert_eq!(fixed.slot, AT + 0x2000);
        let direct = b.insns[0];
        assert_eq!(direct.code(), Code::Jmp_rel32_64);
        assert_eq!(direct.near_branch_target(), 0x7f12_3456_7890);
        assert_eq!((direct.ip(), direct.len(), direct.next_ip()), (AT, 6, AT + 6));
        assert_eq!(direct.flow_control(), FlowControl::UnconditionalBranch);
        unfold(&mut b, &fixed);
        assert_eq!(b.insns[0].code(), Code::Jmp_rm64);
    }

    #[test]
    fn a_call_through_a_fixed_slot_pushes_the_same_return_address() {
        // mov eax, 1; call [rip+0xf5]: the slot is at AT + 0x100.
        let mut b = block(&[0xb8, 1, 0, 0, 0, 0xff, 0x15, 0xf5, 0x00, 0x00, 0x00]);
        fold_fixed_slot(&mut b, |_| Some(0x40_2000)).expect("folded");
        let call = b.insns[1];
        assert_eq!(call.code(), Code::Call_rel32_64);
        assert_eq!((call.near_branch_target(), call.next_ip()), (0x40_2000, AT + 11));
    }

    #[test]
    fn other_indirect_branches_and_movable_slots_stay() {
        let kept = |code: &[u8], value: Option<u64>| {
            let mut b = block(code);
            fold_fixed_slot(&mut b, |_| value).is_none()
        };
        assert!(kept(&[0xff, 0xe0], Some(0x40_2000)), "jmp rax");
        assert!(kept(&[0xff, 0x20], Some(0x40_2000)), "jmp [rax]");
        assert!(kept(&[0x64, 0xff, 0x25, 0xf9, 0x1f, 0, 0], Some(0x40_2000)), "jmp fs:[rip+...]");
        assert!(!kept(&[0xff, 0x25, 0xfa, 0x1f, 0x00, 0x00], Some(0x40_2000)), "the aligned slot itself");
        assert!(kept(&[0xff, 0x25, 0xfb, 0x1f, 0x00, 0x00], Some(0x40_2000)), "a misaligned slot");
        assert!(kept(&[0xff, 0x25, 0xfa, 0x1f, 0x00, 0x00], None), "a slot the guest may write");
        assert!(kept(&[0xff, 0x25, 0xfa, 0x1f, 0x00, 0x00], Some(1 << 47)), "a target past user space");
        assert!(kept(&[0xc3], Some(0x40_2000)), "ret");
    }
}
