//! The instructions this thread interpreted last, decoded once. Generated
//! code leaves for the interpreter at every x87 instruction (and at MMX
//! forms, string compares, ...), so a loop over them runs the same few
//! again and again, and decoding one with iced and asking iced for its
//! memory operands cost about 500 host instructions each time, more than
//! running most of them. An entry serves only while the guest bytes at its
//! address are still the ones it was decoded from.

use crate::frontend::decode::{decode_one, CodeSource};
use iced_x86::{Instruction, InstructionInfoFactory, UsedMemory};
use std::cell::RefCell;

/// Memory operands kept per instruction: one with more (a gather) has
/// iced asked again each time.
const MEMORY: usize = 2;
/// Entries, direct-mapped by address.
const SLOTS: usize = 64;

#[derive(Clone, Copy)]
pub struct Decoded {
    pub insn: Instruction,
    bytes: [u8; 15],
    memory: [UsedMemory; MEMORY],
    /// How many of `memory` are the instruction's (None: it has more).
    memory_len: Option<u8>,
}

impl Decoded {
    /// `with` of its memory operands as iced lists them (stack accesses
    /// included): those kept, or iced asked again when it has more.
    pub fn with_memory<R>(&self, with: impl FnOnce(&[UsedMemory]) -> R) -> R {
        match self.memory_len {
            Some(len) => with(&self.memory[..usize::from(len)]),
            None => FACTORY.with_borrow_mut(|factory| with(factory.info(&self.insn).used_memory())),
        }
    }
}

thread_local! {
    static RECENT: RefCell<[Option<Decoded>; SLOTS]> = const { RefCell::new([None; SLOTS]) };
    // Reused: a factory owns buffers that are costly to allocate each time.
    static FACTORY: RefCell<InstructionInfoFactory> = RefCell::new(InstructionInfoFactory::new());
}

/// The instruction at `rip` (None: its bytes do not decode).
pub fn decoded(src: &dyn CodeSource, rip: u64) -> Option<Decoded> {
    let slot = ((rip ^ (rip >> 6)) as usize) % SLOTS;
    if let Some(d) = RECENT.with_borrow(|recent| recent[slot]).filter(|d| d.insn.ip() == rip) {
        if src.bytes(rip, d.insn.len()) == &d.bytes[..d.insn.len()] {
            return Some(d);
        }
    }
    let insn = decode_one(src, rip)?;
    let mut bytes = [0; 15];
    let len = insn.len();
    bytes[..len].copy_from_slice(src.bytes(rip, len).get(..len)?);
    let mut memory = [UsedMemory::default(); MEMORY];
    let memory_len = FACTORY.with_borrow_mut(|factory| {
        let used = factory.info(&insn).used_memory();
        memory.get_mut(..used.len()).map(|kept| {
            kept.copy_from_slice(used);
            used.len() as u8
        })
    });
    let d = Decoded { insn, bytes, memory, memory_len };
    RECENT.with_borrow_mut(|recent| recent[slot] = Some(d));
    Some(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frontend::decode::CodeBuffer;
    use iced_x86::{Mnemonic, OpAccess};

    #[test]
    fn an_entry_serves_while_its_bytes_stay_and_lists_the_memory_operands() {
        const AT: u64 = 0x7a_0000;
        // fnstcw [rsp+6]
        let code = [0xd9, 0x7c, 0x24, 0x06];
        let first = decoded(&CodeBuffer { base: AT, code: &code }, AT).unwrap();
        assert_eq!(first.insn.mnemonic(), Mnemonic::Fnstcw);
        let memory = first.with_memory(|m| m.to_vec());
        assert_eq!(memory.len(), 1);
        assert_eq!((memory[0].displacement(), memory[0].access()), (6, OpAccess::Write));
        // The same address, other bytes (code written since): fldcw [rsp+6].
        let changed = [0xd9, 0x6c, 0x24, 0x06];
        let again = decoded(&CodeBuffer { base: AT, code: &changed }, AT).unwrap();
        assert_eq!(again.insn.mnemonic(), Mnemonic::Fldcw);
        assert_eq!(again.with_memory(|m| m[0].access()), OpAccess::Read);
        assert!(decoded(&CodeBuffer { base: AT, code: &[0x0f, 0x0b] }, AT).is_some_and(|d| d.insn.mnemonic() == Mnemonic::Ud2));
        assert!(decoded(&CodeBuffer { base: AT, code: &[0x62] }, AT).is_none(), "undecodable");
    }
}
