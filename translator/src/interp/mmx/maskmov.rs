//! maskmovq and maskmovdqu: a byte-masked store of a register to DS:rDI
//! (SDM vol. 2, MASKMOVQ/MASKMOVDQU). Byte i of the data is written when
//! the top bit of byte i of the mask is set; other bytes are not touched.
//! The non-temporal hint changes nothing a user program can observe.

use crate::cpu::state::CpuState;
use iced_x86::{Instruction, OpKind, Register};

/// The store's address: rDI (EDI with an address-size prefix) in DS, or in
/// the segment a prefix names.
pub fn destination(state: &CpuState, insn: &Instruction) -> u64 {
    let rdi = state.gpr[crate::cpu::state::gpr::RDI];
    let offset = if insn.op0_kind() == OpKind::MemorySegEDI { rdi & 0xffff_ffff } else { rdi };
    match insn.memory_segment() {
        Register::FS => offset.wrapping_add(state.fs_base),
        Register::GS => offset.wrapping_add(state.gs_base),
        _ => offset,
    }
}

/// Writes the bytes of `data` selected by `mask` (`len` bytes of each) at
/// `addr`, lowest first.
pub fn store_selected(addr: u64, data: u128, mask: u128, len: u32) {
    for i in 0..len {
        if (mask >> (8 * i + 7)) & 1 != 0 {
            let byte = (data >> (8 * i)) as u8;
            // SAFETY: guest memory at the guest's address, probed for the
            // whole store by the interpreter before this runs.
            unsafe { ((addr.wrapping_add(i as u64)) as *mut u8).write_volatile(byte) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_selected_bytes_change() {
        let mut buf = [0xaau8; 16];
        store_selected(buf.as_mut_ptr() as u64, 0x0706_0504_0302_0100, 0x0080_ff00_7f80_0080, 8);
        assert_eq!(buf[..8], [0x00, 0xaa, 0x02, 0xaa, 0xaa, 0x05, 0x06, 0xaa]);
        assert_eq!(buf[8..], [0xaa; 8]);
    }
}
