//! The interpreters' view of guest registers and memory: memory operand
//! addresses, general registers with x86's partial-register rules, and raw
//! guest memory access (the caller probes the range first, `probe`, so
//! that a bad address becomes the guest's fault).

use crate::cpu::state::CpuState;
use iced_x86::{Instruction, Register};

/// The address of `insn`'s memory operand (segment bases for FS and GS).
pub fn effective_address(state: &CpuState, insn: &Instruction) -> u64 {
    let mut a = insn.memory_displacement64();
    if insn.memory_base() != Register::None && insn.memory_base() != Register::RIP {
        a = a.wrapping_add(state.gpr[insn.memory_base().full_register().number()]);
    }
    if insn.memory_index() != Register::None {
        a = a.wrapping_add(state.gpr[insn.memory_index().full_register().number()] * insn.memory_index_scale() as u64);
    }
    match insn.memory_segment() {
        Register::FS => a.wrapping_add(state.fs_base),
        Register::GS => a.wrapping_add(state.gs_base),
        _ => a,
    }
}

/// A general register's value (AH..BH: their byte).
pub fn read_reg(state: &CpuState, reg: Register) -> u64 {
    let v = state.gpr[reg.full_register().number()];
    if matches!(reg, Register::AH | Register::CH | Register::DH | Register::BH) {
        (v >> 8) & 0xff
    } else {
        v
    }
}

/// Reads `size` (at most 8) bytes of guest memory, little-endian.
pub fn read_guest(addr: u64, size: u32) -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: guest memory access at a guest-chosen address; a bad address
    // faults exactly where the guest's own access would.
    unsafe { std::ptr::copy_nonoverlapping(addr as *const u8, b.as_mut_ptr(), size as usize) };
    u64::from_le_bytes(b)
}

/// Writes the low `size` (at most 8) bytes of `v` to guest memory.
pub fn write_guest(addr: u64, size: u32, v: u64) {
    // SAFETY: as for `read_guest`.
    unsafe { std::ptr::copy_nonoverlapping(v.to_le_bytes().as_ptr(), addr as *mut u8, size as usize) };
}

/// Writes a general register as x86 does: 32-bit writes zero the upper
/// half, 8- and 16-bit writes keep the rest.
pub fn write_reg(state: &mut CpuState, reg: Register, v: u64) {
    if matches!(reg, Register::AH | Register::CH | Register::DH | Register::BH) {
        let n = reg.full_register().number();
        state.gpr[n] = (state.gpr[n] & !0xff00) | ((v & 0xff) << 8);
        return;
    }
    let n = reg.full_register().number();
    state.gpr[n] = match reg.size() {
        8 => v,
        4 => v & 0xffff_ffff,
        s => {
            let m = (1u64 << (s * 8)) - 1;
            (state.gpr[n] & !m) | (v & m)
        }
    };
}
