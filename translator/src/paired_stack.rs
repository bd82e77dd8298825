//! Faults in paired stack accesses. Two pushes or two pops in a row are
//! one stp/ldp (`emit::data::stack_pair`), the first instruction's code; a
//! fault there reaches the guest at the first instruction, with the state
//! from before it. That is x86's state unless only the second access
//! faulted (the pair straddles a page end: a stack overflow whose first
//! push still fits): x86 had done the first one, and faults at the second.
//! The fault handler recognises the pair by its host instruction
//! (`PairedAccess::at`); the runtime then does the first access itself
//! (`settle`) before the guest sees the fault.

use crate::cpu::state::CpuState;
use crate::emit::regs;
use crate::frontend::probe::{self, ProbeFault};

/// The pair a faulting host instruction was, and where its second guest
/// instruction is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairedAccess {
    pub push: bool,
    /// The guest register of the first push or pop (x86 encoding order).
    pub first: usize,
    /// The second push's or pop's RIP.
    pub second_rip: u64,
}

/// `stp Xt, Xt2, [x4, #-16]!` (the first push's register is Xt2) with
/// Rt and Rt2 cleared.
const PUSH_PAIR: u32 = 0xa9bf_0000 | (regs::RSP as u32) << 5;
/// `ldp Xt, Xt2, [x4], #16` (the first pop's register is Xt).
const POP_PAIR: u32 = 0xa8c1_0000 | (regs::RSP as u32) << 5;
const REGISTERS: u32 = 0x1f << 10 | 0x1f;

impl PairedAccess {
    /// The pair host instruction `word` is, if it is one, with the RIP of
    /// its second guest instruction (asked only for a pair).
    /// Async-signal-safe.
    pub fn at(word: u32, second_rip: impl FnOnce() -> Option<u64>) -> Option<PairedAccess> {
        let (rt, rt2) = ((word & 0x1f) as usize, ((word >> 10) & 0x1f) as usize);
        let (push, first) = match word & !REGISTERS {
            PUSH_PAIR => (true, rt2),
            POP_PAIR => (false, rt),
            _ => return None,
        };
        // Guest registers only (x0..x15 hold RAX..R15).
        if rt >= 16 || rt2 >= 16 {
            return None;
        }
        Some(PairedAccess { push, first, second_rip: second_rip()? })
    }
}

/// After a fault at `pair`, reported at its first instruction with the
/// state from before it: makes it the fault x86 would raise. If only the
/// second access faulted (`fault_addr` in its slot), does the first and
/// moves `state` to the second instruction; if the first access cannot be
/// done either, returns its fault, which the guest sees instead (the host
/// may report either half of a pair that faults in both).
pub fn settle(pair: PairedAccess, state: &mut CpuState, fault_addr: u64) -> Option<ProbeFault> {
    let rsp = state.gpr[regs::RSP as usize];
    // The first push writes [rsp-8, rsp), the second [rsp-16, rsp-8); the
    // first pop reads [rsp, rsp+8), the second [rsp+8, rsp+16).
    let (first_slot, second_slot) = if pair.push { (rsp.wrapping_sub(8), rsp.wrapping_sub(16)) } else { (rsp, rsp.wrapping_add(8)) };
    if !(second_slot..second_slot.wrapping_add(8)).contains(&fault_addr) {
        return None;
    }
    if let Err(fault) = probe::check(first_slot, 8, pair.push) {
        return Some(fault);
    }
    if pair.push {
        crate::interp::guest_access::write_guest(first_slot, 8, state.gpr[pair.first]);
        state.gpr[regs::RSP as usize] = first_slot;
    } else {
        state.gpr[pair.first] = crate::interp::guest_access::read_guest(first_slot, 8);
        state.gpr[regs::RSP as usize] = rsp.wrapping_add(8);
    }
    state.rip = pair.second_rip;
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::host::HostFeatures;
    use crate::emit::{data, Emitter, Stubs};
    use iced_x86::{Decoder, DecoderOptions};

    /// The host word `stack_pair` emits for the two instructions in `bytes`.
    fn pair_word(bytes: &[u8]) -> u32 {
        let insns: Vec<_> = Decoder::with_ip(64, bytes, 0x1000, DecoderOptions::NONE).into_iter().collect();
        let mut e = Emitter::new(0, HostFeatures::BASELINE, Stubs::default());
        assert!(data::stack_pair(&mut e, &insns[0], &insns[1]));
        let code = e.finish(0).code;
        assert_eq!(code.len(), 4, "one instruction");
        u32::from_le_bytes(code[..4].try_into().unwrap())
    }

    #[test]
    fn recognises_the_pairs_stack_pair_emits() {
        // push rax; push r13
        assert_eq!(PairedAccess::at(pair_word(&[0x50, 0x41, 0x55]), || Some(0x1001)), Some(PairedAccess { push: true, first: 0, second_rip: 0x1001 }));
        // pop r12; pop rbp
        assert_eq!(PairedAccess::at(pair_word(&[0x41, 0x5c, 0x5d]), || Some(0x1002)), Some(PairedAccess { push: false, first: 12, second_rip: 0x1002 }));
        // Another base, offset or direction is no pair of ours.
        assert_eq!(PairedAccess::at(0xa9bf_03e0 | 1 << 10, || Some(0)), None, "stp x0, x1, [sp, #-16]!");
        assert_eq!(PairedAccess::at(0xa9be_0080 | 1 << 10, || Some(0)), None, "stp x0, x1, [x4, #-32]!");
        assert_eq!(PairedAccess::at(0xa940_0080 | 1 << 10, || Some(0)), None, "ldp x0, x1, [x4]");
    }

    #[test]
    fn does_the_first_access_when_only_the_second_faults() {
        let mut stack = [0u64; 4];
        let top = stack.as_mut_ptr() as u64 + 16;
        let mut state = CpuState::default();
        state.gpr[regs::RSP as usize] = top;
        state.gpr[3] = 0x1234;
        let push = PairedAccess { push: true, first: 3, second_rip: 0x2001 };
        assert_eq!(settle(push, &mut state, top - 8), None);
        assert_eq!((state.gpr[regs::RSP as usize], state.rip), (top, 0), "the first push faulted: nothing done");
        assert_eq!(settle(push, &mut state, top - 16), None);
        assert_eq!((state.gpr[regs::RSP as usize], state.rip, stack[1]), (top - 8, 0x2001, 0x1234));
        let pop = PairedAccess { push: false, first: 5, second_rip: 0x3001 };
        assert_eq!(settle(pop, &mut state, top), None);
        assert_eq!((state.gpr[regs::RSP as usize], state.rip, state.gpr[5]), (top, 0x3001, 0x1234));
    }
}
