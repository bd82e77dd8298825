//! Segments as a 64-bit Linux process sees them, run by the interpreter:
//! the selectors in CS, SS, DS, ES, FS and GS (mov, push, pop, lfs, lgs,
//! lss), the descriptor queries lar, lsl, verr and verw, and far returns.
//! Every descriptor Linux gives user mode has base 0, so a segment load
//! changes nothing but the selector, and the FS or GS base it zeroes.

use crate::cpu::state::gpr::RSP;
use crate::cpu::state::{rflags, CpuState, Segment};
use crate::exit::GuestEvent;
use crate::interp::guest_access::{effective_address, read_guest, write_guest, write_reg};
use crate::interp::legacy_forms::{read_operand, write_operand};
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

/// Whether `step` runs `insn`.
pub fn handles(insn: &Instruction) -> bool {
    use Mnemonic::*;
    // Asked for every mov, push and pop translated: operands only for those.
    let names_segment = || (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Register && insn.op_register(i).is_segment_register());
    match insn.mnemonic() {
        Mov | Push | Pop => names_segment(),
        Lfs | Lgs | Lss | Retf | Iret | Iretd | Iretq | Lar | Lsl | Verr | Verw => true,
        _ => false,
    }
}

/// Runs `insn`; `Ok(true)` when it moved RIP itself (far returns).
pub fn step(state: &mut CpuState, insn: &Instruction) -> Result<bool, GuestEvent> {
    use Mnemonic::*;
    match insn.mnemonic() {
        Mov if insn.op1_kind() == OpKind::Register && insn.op1_register().is_segment_register() => {
            let selector = u64::from(state.selector(segment(insn.op1_register())));
            match insn.op0_kind() {
                // A register gets the selector zero-extended (SDM MOV).
                OpKind::Register => write_reg(state, insn.op0_register(), selector),
                _ => write_guest(effective_address(state, insn), 2, selector),
            }
        }
        Mov => {
            let selector = read_operand(state, insn, 1) as u16;
            load(state, segment(insn.op0_register()), selector)?;
        }
        Push => {
            // Recent Intel CPUs write only the selector's two bytes.
            let selector = u64::from(state.selector(segment(insn.op0_register())));
            let size = insn.stack_pointer_increment().unsigned_abs() as u64;
            state.gpr[RSP] = state.gpr[RSP].wrapping_sub(size);
            write_guest(state.gpr[RSP], 2, selector);
        }
        Pop => {
            let selector = read_guest(state.gpr[RSP], 2) as u16;
            load(state, segment(insn.op0_register()), selector)?;
            state.gpr[RSP] = state.gpr[RSP].wrapping_add(insn.stack_pointer_increment() as u64);
        }
        Lfs | Lgs | Lss => {
            // m16:16, m16:32 or m16:64: the offset, then the selector.
            let bytes = insn.op0_register().size() as u64;
            let addr = effective_address(state, insn);
            let offset = read_guest(addr, bytes as u32);
            let selector = read_guest(addr + bytes, 2) as u16;
            let seg = match insn.mnemonic() {
                Lfs => Segment::Fs,
                Lgs => Segment::Gs,
                _ => Segment::Ss,
            };
            load(state, seg, selector)?;
            write_operand(state, insn, 0, offset);
        }
        Retf | Iret | Iretd | Iretq => return far_return(state, insn).map(|()| true),
        Lar | Lsl | Verr | Verw => descriptor_query(state, insn),
        _ => return Ok(false),
    }
    Ok(false)
}

fn segment(reg: Register) -> Segment {
    match reg {
        Register::ES => Segment::Es,
        Register::CS => Segment::Cs,
        Register::SS => Segment::Ss,
        Register::DS => Segment::Ds,
        Register::FS => Segment::Fs,
        _ => Segment::Gs,
    }
}

/// Loads `selector` into `seg` with the CPU's checks at CPL 3 (SDM MOV,
/// "Protected Mode Exceptions"): #GP unless SS gets a writable data
/// segment of privilege 3, or another data register null or a readable
/// segment this privilege level may use. `mov cs` is #UD.
fn load(state: &mut CpuState, seg: Segment, selector: u16) -> Result<(), GuestEvent> {
    let general_protection = GuestEvent::Fault { signal: libc::SIGSEGV, addr: 0 };
    let usable = match (seg, descriptor(selector)) {
        (Segment::Cs, _) => return Err(GuestEvent::Fault { signal: libc::SIGILL, addr: state.rip }),
        (Segment::Ss, Some((flags, _))) => selector & 3 == 3 && flags & 0x7a == 0x72,
        (_, None) => selector & !3 == 0 && seg != Segment::Ss,
        (_, Some((flags, _))) => readable(flags) && (conforming(flags) || (flags >> 5) & 3 == 3),
    };
    if !usable {
        return Err(general_protection);
    }
    state.set_selector(seg, selector);
    // Linux's descriptors all have base 0; a null selector zeroes the base too.
    match seg {
        Segment::Fs => state.fs_base = 0,
        Segment::Gs => state.gs_base = 0,
        _ => {}
    }
    Ok(())
}

fn readable(flags: u32) -> bool {
    flags & 0x10 != 0 && (flags & 8 == 0 || flags & 2 != 0)
}

fn conforming(flags: u32) -> bool {
    flags & 0x1c == 0x1c
}

/// Linux's x86_64 GDT as user mode sees it (arch/x86/kernel/cpu/common.c,
/// asm/segment.h): the access and flags bits of each descriptor
/// (`GDT_ENTRY_INIT` flags) and its limit; `None` for empty or absent
/// entries. Selector 0x7b is the per-CPU segment whose limit says
/// cpu | node << 12 (vgetcpu's lsl).
pub(crate) fn descriptor(selector: u16) -> Option<(u32, u32)> {
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
        // Non-conforming segments need DPL >= max(CPL, RPL) (CPL is 3).
        conforming(flags) || dpl >= 3.max(rpl)
    });
    let answer = match (insn.mnemonic(), visible) {
        (_, None) => None,
        (Mnemonic::Lar, Some((flags, limit))) => Some(((flags & 0xf0ff) << 8) | ((limit >> 16) & 0xf) << 16),
        (Mnemonic::Lsl, Some((flags, limit))) => {
            Some(if flags & 0x8000 != 0 { (limit << 12) | 0xfff } else { limit })
        }
        // Readable: data, or code with the read bit. Writable: data with the write bit.
        (Mnemonic::Verr, Some((flags, _))) => readable(flags).then_some(0),
        (_, Some((flags, _))) => (flags & 0x18 == 0x10 && flags & 2 != 0).then_some(0),
    };
    if let (Some(v), Mnemonic::Lar | Mnemonic::Lsl) = (answer, insn.mnemonic()) {
        write_reg(state, insn.op0_register(), u64::from(v));
    }
    let f = state.rflags() & !rflags::ZF;
    state.set_rflags(if answer.is_some() { f | rflags::ZF } else { f });
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
    if cs != USER_CS {
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

/// 64-bit user code, where every far transfer must land.
const USER_CS: u16 = 0x33;
