//! Forms compilers never emit but the CPU has, run by the interpreter:
//! operand-size-prefixed (16-bit) stack operations and double shifts,
//! xlatb, and the system-table stores UMIP covers. Segments are
//! `segments.rs`. `step` returns `Ok(false)` for anything else.

use crate::cpu::state::gpr::{RAX, RBX, RSP};
use crate::cpu::state::{rflags, CpuState};
use crate::exit::GuestEvent;
use crate::interp::guest_access::{effective_address, read_guest, read_reg, write_guest, write_reg};
use iced_x86::{Instruction, Mnemonic, OpKind};

/// Whether `step` runs `insn` (the translator routes these to the interpreter).
pub fn handles(insn: &Instruction) -> bool {
    use Mnemonic::*;
    match insn.mnemonic() {
        // Segment-register pushes and pops are translated elsewhere.
        Push | Pop => insn.stack_pointer_increment().abs() == 2 && !insn.op0_register().is_segment_register(),
        Pushf | Popf | Xlatb => true,
        Sgdt | Sidt | Smsw | Sldt | Str => true,
        Shld | Shrd => operand_bytes(insn) == 2,
        _ => false,
    }
}

/// Runs `insn` (one `handles` accepts); the caller advances RIP.
pub fn step(state: &mut CpuState, insn: &Instruction) -> Result<(), GuestEvent> {
    use Mnemonic::*;
    match insn.mnemonic() {
        Push | Pushf => {
            let v = if insn.mnemonic() == Pushf { state.rflags() } else { read_operand(state, insn, 0) };
            state.gpr[RSP] = state.gpr[RSP].wrapping_sub(2);
            write_guest(state.gpr[RSP], 2, v);
        }
        Pop | Popf => {
            let v = read_guest(state.gpr[RSP], 2);
            // A memory destination's address uses the incremented RSP (SDM POP).
            state.gpr[RSP] = state.gpr[RSP].wrapping_add(2);
            if insn.mnemonic() == Popf {
                state.set_rflags((state.rflags() & !0xffff) | v);
            } else {
                write_operand(state, insn, 0, v);
            }
        }
        Xlatb => {
            // AL = [RBX + unsigned AL], with the segment override if any.
            let base = match insn.memory_segment() {
                iced_x86::Register::FS => state.fs_base,
                iced_x86::Register::GS => state.gs_base,
                _ => 0,
            };
            let addr = base.wrapping_add(state.gpr[RBX]).wrapping_add(state.gpr[RAX] & 0xff);
            state.gpr[RAX] = (state.gpr[RAX] & !0xff) | read_guest(addr, 1);
        }
        Shld | Shrd => double_shift16(state, insn),
        Sgdt | Sidt | Smsw | Sldt | Str => umip_answer(state, insn),
        _ => {}
    }
    Ok(())
}

fn operand_bytes(insn: &Instruction) -> u32 {
    match insn.op0_kind() {
        OpKind::Register => insn.op0_register().size() as u32,
        _ => insn.memory_size().size() as u32,
    }
}

pub(crate) fn read_operand(state: &CpuState, insn: &Instruction, op: u32) -> u64 {
    match insn.op_kind(op) {
        OpKind::Register => read_reg(state, insn.op_register(op)),
        OpKind::Memory => read_guest(effective_address(state, insn), insn.memory_size().size() as u32),
        _ => insn.immediate(op),
    }
}

pub(crate) fn write_operand(state: &mut CpuState, insn: &Instruction, op: u32, v: u64) {
    match insn.op_kind(op) {
        OpKind::Register => write_reg(state, insn.op_register(op), v),
        _ => write_guest(effective_address(state, insn), insn.memory_size().size() as u32, v),
    }
}

/// 16-bit shld/shrd. The count is masked to 5 bits, so it can exceed 16,
/// where the SDM leaves the result undefined: Transit does what P6-family
/// Intel CPUs do, shifting dest:src:dest (the differential tests keep
/// counts up to 16, where every CPU agrees).
fn double_shift16(state: &mut CpuState, insn: &Instruction) {
    let count = match insn.op2_kind() {
        OpKind::Immediate8 => u32::from(insn.immediate8()),
        _ => state.gpr[crate::cpu::state::gpr::RCX] as u32,
    } & 31;
    if count == 0 {
        return;
    }
    let dest = read_operand(state, insn, 0) & 0xffff;
    let src = read_reg(state, insn.op1_register()) & 0xffff;
    // 48 bits, shifted as one: dest:src:dest for shld, dest:src:dest
    // mirrored (src:dest with dest above) for shrd.
    let (result, cf) = if insn.mnemonic() == Mnemonic::Shld {
        let wide = (dest << 32) | (src << 16) | dest;
        (((wide << count) >> 32) & 0xffff, (wide >> (48 - count)) & 1)
    } else {
        let wide = (dest << 32) | (src << 16) | dest;
        ((wide >> count) & 0xffff, (wide >> (count - 1)) & 1)
    };
    write_operand(state, insn, 0, result);
    let of = if insn.mnemonic() == Mnemonic::Shld { ((result >> 15) ^ cf) & 1 } else { ((result >> 15) ^ (result >> 14)) & 1 };
    let mut f = state.rflags() & !(rflags::CF | rflags::OF | rflags::SF | rflags::ZF | rflags::PF | rflags::AF);
    f |= if cf != 0 { rflags::CF } else { 0 };
    f |= if of != 0 { rflags::OF } else { 0 };
    f |= if result & 0x8000 != 0 { rflags::SF } else { 0 };
    f |= if result == 0 { rflags::ZF } else { 0 };
    f |= if (result as u8).count_ones() % 2 == 0 { rflags::PF } else { 0 };
    state.set_rflags(f);
}

/// sgdt, sidt, smsw, sldt and str fault in user mode on CPUs with UMIP
/// (which CPUID reports); Linux (5.10 on) then answers for the program
/// with fixed values (arch/x86/kernel/umip.c), and so does Transit, with
/// that code's quirk: a register destination gets only the value's bytes
/// (4 for sldt/str), without the zero-extension the CPU would do.
fn umip_answer(state: &mut CpuState, insn: &Instruction) {
    const DUMMY_GDT_BASE: u64 = 0xffff_ffff_fffe_0000;
    const DUMMY_IDT_BASE: u64 = 0xffff_ffff_ffff_0000;
    /// CR0 as the kernel shows it: PE, MP, ET, NE, WP, AM, PG.
    const DUMMY_CR0: u64 = 0x8005_0033;
    /// GDT_ENTRY_TSS * 8.
    const TSS_SELECTOR: u64 = 0x40;
    let (value, bytes) = match insn.mnemonic() {
        Mnemonic::Sgdt | Mnemonic::Sidt => {
            let base = if insn.mnemonic() == Mnemonic::Sgdt { DUMMY_GDT_BASE } else { DUMMY_IDT_BASE };
            let addr = effective_address(state, insn);
            write_guest(addr, 2, 0); // the limit
            write_guest(addr + 2, 8, base);
            return;
        }
        Mnemonic::Smsw => (DUMMY_CR0, 8),
        Mnemonic::Sldt => (0, 4),
        _ => (TSS_SELECTOR, 4),
    };
    match insn.op0_kind() {
        OpKind::Register => {
            let reg = insn.op0_register();
            let n = reg.full_register().number();
            let width = bytes.min(reg.size() as u32) * 8;
            let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
            state.gpr[n] = (state.gpr[n] & !mask) | (value & mask);
        }
        _ => write_guest(effective_address(state, insn), 2, value),
    }
}

