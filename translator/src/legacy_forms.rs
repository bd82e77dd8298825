//! Forms compilers never emit but the CPU has, run by the interpreter:
//! operand-size-prefixed (16-bit) stack operations and double shifts,
//! xlatb, far returns, and the segment-descriptor queries lar, lsl, verr
//! and verw. `step` returns `Ok(false)` for anything else.

use crate::cpu_state::gpr::{RAX, RBX, RSP};
use crate::cpu_state::{rflags, CpuState};
use crate::dispatch::GuestEvent;
use crate::interp::{effective_address, read_guest, read_reg, write_guest, write_reg};
use iced_x86::{Instruction, Mnemonic, OpKind};

/// Whether `step` runs `insn` (the translator routes these to the interpreter).
pub fn handles(insn: &Instruction) -> bool {
    use Mnemonic::*;
    match insn.mnemonic() {
        // Segment-register pushes and pops are translated elsewhere.
        Push | Pop => insn.stack_pointer_increment().abs() == 2 && !insn.op0_register().is_segment_register(),
        Pushf | Popf | Xlatb | Retf | Iret | Iretd | Iretq | Lar | Lsl | Verr | Verw => true,
        Sgdt | Sidt | Smsw | Sldt | Str => true,
        Shld | Shrd => operand_bytes(insn) == 2,
        _ => false,
    }
}

/// Runs `insn` if it is one of this module's; RIP is the caller's business
/// unless control moved (far returns set it and return `Ok(true)`).
pub fn step(state: &mut CpuState, insn: &Instruction) -> Result<bool, GuestEvent> {
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
        Retf | Iret | Iretd | Iretq => return far_return(state, insn).map(|()| true),
        Lar | Lsl | Verr | Verw => descriptor_query(state, insn),
        Sgdt | Sidt | Smsw | Sldt | Str => umip_answer(state, insn),
        _ => return Ok(false),
    }
    Ok(false)
}

fn operand_bytes(insn: &Instruction) -> u32 {
    match insn.op0_kind() {
        OpKind::Register => insn.op0_register().size() as u32,
        _ => insn.memory_size().size() as u32,
    }
}

fn read_operand(state: &CpuState, insn: &Instruction, op: u32) -> u64 {
    match insn.op_kind(op) {
        OpKind::Register => read_reg(state, insn.op_register(op)),
        OpKind::Memory => read_guest(effective_address(state, insn), insn.memory_size().size() as u32),
        _ => insn.immediate(op),
    }
}

fn write_operand(state: &mut CpuState, insn: &Instruction, op: u32, v: u64) {
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
        _ => state.gpr[crate::cpu_state::gpr::RCX] as u32,
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

/// Linux's x86_64 GDT as user mode sees it (arch/x86/kernel/cpu/common.c,
/// asm/segment.h): the access and flags bits of each descriptor
/// (`GDT_ENTRY_INIT` flags) and its limit; `None` for empty or absent
/// entries. Selector 0x7b is the per-CPU segment whose limit says
/// cpu | node << 12 (vgetcpu's lsl).
fn descriptor(selector: u16) -> Option<(u32, u32)> {
    if selector & 4 != 0 {
        return None; // The LDT: Linux processes have none unless they ask.
    }
    Some(match selector >> 3 {
        1 => (0xc09b, 0xfffff), // __KERNEL32_CS
        2 => (0xa09b, 0xfffff), // __KERNEL_CS
        3 => (0xc093, 0xfffff), // __KERNEL_DS
        4 => (0xc0fb, 0xfffff), // __USER32_CS
        5 => (0xc0f3, 0xfffff), // __USER_DS
        6 => (0xa0fb, 0xfffff), // __USER_CS
        8 => (0x0089, 0x4087),  // the TSS (a system descriptor)
        15 => (0x40f5, current_cpu()),
        _ => return None,
    })
}

fn current_cpu() -> u32 {
    let (mut cpu, mut node) = (0u32, 0u32);
    // SAFETY: getcpu writes two u32s to the pointers it is given.
    unsafe { libc::syscall(libc::SYS_getcpu, &mut cpu as *mut u32, &mut node as *mut u32, 0usize) };
    (cpu & 0xfff) | (node << 12)
}

/// lar, lsl, verr, verw at CPL 3: ZF says whether the selector names a
/// descriptor this privilege level may look at (and read or write, for
/// verr/verw); lar and lsl then load its access rights or byte limit.
fn descriptor_query(state: &mut CpuState, insn: &Instruction) {
    let src_op = if matches!(insn.mnemonic(), Mnemonic::Verr | Mnemonic::Verw) { 0 } else { 1 };
    let selector = read_operand(state, insn, src_op) as u16;
    let rpl = u32::from(selector & 3);
    let visible = descriptor(selector).filter(|&(flags, _)| {
        let dpl = (flags >> 5) & 3;
        let code = flags & 0x18 == 0x18;
        let conforming = code && flags & 4 != 0;
        // Non-conforming segments need DPL >= max(CPL, RPL) (CPL is 3).
        conforming || dpl >= 3.max(rpl)
    });
    let answer = match (insn.mnemonic(), visible) {
        (_, None) => None,
        (Mnemonic::Lar, Some((flags, limit))) => Some(((flags & 0xf0ff) << 8) | ((limit >> 16) & 0xf) << 16),
        (Mnemonic::Lsl, Some((flags, limit))) => {
            Some(if flags & 0x8000 != 0 { (limit << 12) | 0xfff } else { limit })
        }
        // Readable: data, or code with the read bit. Writable: data with the write bit.
        (Mnemonic::Verr, Some((flags, _))) => (flags & 0x10 != 0 && (flags & 8 == 0 || flags & 2 != 0)).then_some(0),
        (_, Some((flags, _))) => (flags & 0x18 == 0x10 && flags & 2 != 0).then_some(0),
    };
    if let (Some(v), Mnemonic::Lar | Mnemonic::Lsl) = (answer, insn.mnemonic()) {
        write_reg(state, insn.op0_register(), u64::from(v));
    }
    let f = state.rflags() & !rflags::ZF;
    state.set_rflags(if answer.is_some() { f | rflags::ZF } else { f });
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

/// retf and iret in 64-bit mode: pop RIP and CS (iret: then RFLAGS, RSP and
/// SS), each of the operand size. Only a return to 64-bit user code
/// (CS 0x33) can continue: Transit does not run 32-bit code, and any other
/// selector is a #GP on the CPU too.
fn far_return(state: &mut CpuState, insn: &Instruction) -> Result<(), GuestEvent> {
    let size: u32 = match insn.code() {
        iced_x86::Code::Retfw | iced_x86::Code::Retfw_imm16 | iced_x86::Code::Iretw => 2,
        iced_x86::Code::Retfq | iced_x86::Code::Retfq_imm16 | iced_x86::Code::Iretq => 8,
        _ => 4,
    };
    let sp = state.gpr[RSP];
    let slot = |i: u64| read_guest(sp + i * u64::from(size), size);
    let (rip, cs) = (slot(0), slot(1) as u16);
    let general_protection = GuestEvent::Fault { signal: libc::SIGSEGV, addr: 0 };
    if cs != 0x33 {
        tracing::warn!(cs, "far return to a code segment other than 64-bit user code");
        return Err(general_protection);
    }
    if matches!(insn.mnemonic(), Mnemonic::Iret | Mnemonic::Iretd | Mnemonic::Iretq) {
        let (flags, rsp, ss) = (slot(2), slot(3), slot(4) as u16);
        if ss != 0x2b && ss & !3 != 0 {
            return Err(general_protection);
        }
        // A 16-bit iret replaces FLAGS only; the others all of RFLAGS that
        // user mode may change (set_rflags keeps to those).
        let merged = if size == 2 { (state.rflags() & !0xffff) | (flags & 0xffff) } else { flags };
        state.set_rflags(merged);
        state.gpr[RSP] = rsp;
    } else {
        state.gpr[RSP] = sp + 2 * u64::from(size) + u64::from(insn.immediate16());
    }
    state.rip = rip;
    Ok(())
}
