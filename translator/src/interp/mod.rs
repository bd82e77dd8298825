//! The slow path: instructions executed in Rust on `CpuState`, for what is
//! rare or awkward to generate code for (cpuid, rcl/rcr, 128-bit division,
//! string instructions with DF set or comparing, flag-register moves, the
//! XSAVE family).
//! Generated code exits with `ExitReason::Interpret` at such an instruction;
//! `step` runs it and advances RIP.

mod aes_soft;
mod cmpxchg16b;
mod crypto_step;
pub mod guest_access;
pub(crate) mod legacy_forms;
pub mod mmx;
pub(crate) mod segments;
pub mod sse41_interp;
mod string_compare;
pub(crate) mod vex_masked;
pub(crate) mod vector_operands;
mod recent;
pub mod x87;
pub mod xsave;

use crate::cpu::state::{rflags, CpuState};
use crate::frontend::decode::CodeSource;
use crate::exit::GuestEvent;
use crate::cpu::features;
use crate::interp::guest_access::{effective_address, read_guest, read_reg, write_guest, write_reg};
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

const ARITH: u64 = rflags::CF | rflags::PF | rflags::AF | rflags::ZF | rflags::SF | rflags::OF;
use crate::cpu::state::gpr::{RAX, RBP, RBX, RCX, RDI, RDX, RSI, RSP};

fn ill(state: &CpuState) -> GuestEvent {
    GuestEvent::Fault { signal: libc::SIGILL, addr: state.rip }
}

/// Executes the instruction at `state.rip`.
pub fn step(state: &mut CpuState, src: &dyn CodeSource) -> Result<(), GuestEvent> {
    let Some(decoded) = recent::decoded(src, state.rip) else { return Err(ill(state)) };
    let insn = decoded.insn;
    use Mnemonic::*;
    if crate::interp::mmx::uses_mmx(&insn) {
        // A pending unmasked x87 exception faults MMX instructions too.
        crate::interp::x87::pending_exception(state, &insn)?;
        let stores = matches!(insn.op0_kind(), OpKind::Memory | OpKind::MemorySegRDI | OpKind::MemorySegEDI);
        if stores {
            // An MMX store (maskmovq too) reads its register (switching the
            // x87 stack to MMX use) before its write can fault; a load
            // faults before the switch.
            crate::interp::mmx::enter_mmx_mode(state);
        }
    }
    if crate::interp::xsave::handles(insn.mnemonic()) {
        // Its own checks: the area's alignment (#GP) before its pages.
        crate::interp::xsave::step(state, &insn)?;
        state.rip = insn.next_ip();
        return Ok(());
    }
    if crate::interp::vex_masked::handles(insn.mnemonic()) {
        // Per element: a masked-out element never faults.
        crate::interp::vex_masked::step(state, &insn)?;
        state.rip = insn.next_ip();
        return Ok(());
    }
    if insn.mnemonic() == Cmpxchg16b {
        crate::interp::cmpxchg16b::check_alignment(&insn, effective_address(state, &insn))?;
    }
    if !is_string(&insn) {
        // Before anything else changes: a bad operand faults the
        // instruction as a whole, as on x86. String instructions check
        // per element.
        decoded.with_memory(|memory| check_memory(state, memory))?;
    }
    match insn.mnemonic() {
        Cpuid => cpuid(state),
        Div | Idiv => divide(state, &insn)?,
        Rcl | Rcr => rotate_through_carry(state, &insn)?,
        Cmpxchg8b => {
            let addr = effective_address(state, &insn);
            // SAFETY: guest memory access, faults like the guest's own.
            let old = unsafe { (addr as *const u64).read_unaligned() };
            let expected = (state.gpr[RDX] << 32) | (state.gpr[RAX] & 0xffff_ffff);
            let mut f = state.rflags() & !rflags::ZF;
            if old == expected {
                let new = (state.gpr[RCX] << 32) | (state.gpr[RBX] & 0xffff_ffff);
                // SAFETY: as above.
                unsafe { (addr as *mut u64).write_unaligned(new) };
                f |= rflags::ZF;
            } else {
                state.gpr[RAX] = old & 0xffff_ffff;
                state.gpr[RDX] = old >> 32;
            }
            state.set_rflags(f);
        }
        Cmpxchg16b => crate::interp::cmpxchg16b::step(state, effective_address(state, &insn)),
        m if crate::interp::string_compare::handles(m) => {
            crate::interp::string_compare::step(state, &insn, memory_operand_address(state, &insn));
        }
        m if crate::interp::crypto_step::handles(m) => {
            crate::interp::crypto_step::step(state, &insn, memory_operand_address(state, &insn));
        }
        Fxsave | Fxsave64 => crate::interp::x87::fxsave(state, effective_address(state, &insn), insn.mnemonic() == Fxsave64),
        Fxrstor | Fxrstor64 => crate::interp::x87::fxrstor(state, effective_address(state, &insn), insn.mnemonic() == Fxrstor64),
        Enter if insn.immediate8_2nd() == 0 => {
            // enter n, 0: push rbp; rbp = rsp; rsp -= n.
            state.gpr[RSP] -= 8;
            // SAFETY: guest stack memory.
            unsafe { (state.gpr[RSP] as *mut u64).write_unaligned(state.gpr[RBP]) };
            state.gpr[RBP] = state.gpr[RSP];
            state.gpr[RSP] -= insn.immediate16() as u64;
        }
        Pushfq => {
            state.gpr[RSP] -= 8;
            // SAFETY: guest stack memory; a bad RSP faults as it would natively.
            unsafe { (state.gpr[RSP] as *mut u64).write_unaligned(state.rflags()) };
        }
        Popfq => {
            // SAFETY: as for pushfq.
            let f = unsafe { (state.gpr[RSP] as *const u64).read_unaligned() };
            state.gpr[RSP] += 8;
            state.set_rflags(f);
        }
        Lahf => {
            let f = state.rflags() & 0xff;
            state.gpr[RAX] = (state.gpr[RAX] & !0xff00) | (f << 8);
        }
        Sahf => {
            let ah = (state.gpr[RAX] >> 8) & (ARITH & !rflags::OF) & 0xff;
            let f = (state.rflags() & !(ARITH & !rflags::OF)) | ah;
            state.set_rflags(f);
        }
        Movsb | Movsw | Movsd | Movsq | Stosb | Stosw | Stosd | Stosq | Lodsb | Lodsw | Lodsd | Lodsq | Cmpsb
        | Cmpsw | Cmpsd | Cmpsq | Scasb | Scasw | Scasd | Scasq => string_op(state, &insn)?,
        // Before the families asked one by one below: x87 is most of what
        // programs interpret (SQLite's long double conversions).
        m if crate::interp::x87::is_x87(m) => {
            let addr = if insn.op_count() > 0 && insn.op0_kind() == OpKind::Memory {
                effective_address(state, &insn)
            } else {
                0
            };
            crate::interp::x87::step(state, &insn, addr)?;
        }
        _ if crate::interp::segments::handles(&insn) => {
            if crate::interp::segments::step(state, &insn)? {
                return Ok(()); // A far return moved RIP itself.
            }
        }
        _ if crate::interp::legacy_forms::handles(&insn) => {
            crate::interp::legacy_forms::step(state, &insn)?;
        }
        _ if crate::interp::mmx::uses_mmx(&insn) || crate::interp::mmx::implements_without_mmx_register(&insn) => {
            let addr = memory_operand_address(state, &insn);
            crate::interp::mmx::step(state, &insn, addr)?;
        }
        _ if crate::interp::sse41_interp::handles(&insn) => crate::interp::sse41_interp::step(state, &insn)?,
        _ => return Err(ill(state)),
    }
    state.rip = insn.next_ip();
    Ok(())
}

/// Whether the instruction at `rip` is an x87 one (an escape opcode
/// D8..DF, after at most a REX prefix), which the interpreter runs: the
/// dispatcher interprets the next one straight away rather than entering
/// a block that would only exit to interpret it. False if unreadable.
pub fn x87_next(src: &dyn CodeSource, rip: u64) -> bool {
    let bytes = src.bytes(rip, 2);
    let opcode = match bytes.first() {
        Some(0x40..=0x4f) => bytes.get(1),
        first => first,
    };
    matches!(opcode, Some(0xd8..=0xdf))
}

/// cpuid: the answers of the CPU Transit presents (`cpu::features`).
pub fn cpuid(state: &mut CpuState) {
    let (a, b, c, d) = features::cpuid(state.gpr[RAX] as u32, state.gpr[RCX] as u32);
    state.gpr[RAX] = a as u64;
    state.gpr[RBX] = b as u64;
    state.gpr[RCX] = c as u64;
    state.gpr[RDX] = d as u64;
}

fn is_string(insn: &Instruction) -> bool {
    use Mnemonic::*;
    matches!(
        insn.mnemonic(),
        Movsb | Movsw | Movsq | Stosb | Stosw | Stosd | Stosq | Lodsb | Lodsw | Lodsd | Lodsq | Cmpsb | Cmpsw
            | Cmpsq | Scasb | Scasw | Scasd | Scasq
    ) || (matches!(insn.mnemonic(), Movsd | Cmpsd) && matches!(insn.op0_kind(), OpKind::MemoryESRDI | OpKind::MemorySegRSI))
}

/// Probes every memory operand of an instruction, `memory` (stack
/// accesses included), for the access it makes.
fn check_memory(state: &CpuState, memory: &[iced_x86::UsedMemory]) -> Result<(), GuestEvent> {
    use iced_x86::OpAccess;
    for m in memory {
        let Some(addr) = m.virtual_address(0, |reg, _, _| register_value(state, reg)) else { continue };
        let write = matches!(m.access(), OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite);
        probe_access(addr, m.memory_size().size() as u64, write)?;
    }
    Ok(())
}

fn probe_access(addr: u64, len: u64, write: bool) -> Result<(), GuestEvent> {
    crate::frontend::probe::check(addr, len, write).map_err(|f| GuestEvent::PageFault { addr: f.addr, code: f.code })
}

/// A register's value for address computation (segment bases for FS/GS).
fn register_value(state: &CpuState, reg: Register) -> Option<u64> {
    match reg {
        Register::FS => Some(state.fs_base),
        Register::GS => Some(state.gs_base),
        Register::ES | Register::CS | Register::SS | Register::DS => Some(0),
        r if r.is_gpr() => {
            let v = read_reg(state, r);
            Some(if r.size() == 8 { v } else { v & ((1u64 << (r.size() * 8)) - 1) })
        }
        _ => None,
    }
}

fn divide(state: &mut CpuState, insn: &Instruction) -> Result<(), GuestEvent> {
    if insn.op0_kind() != OpKind::Register || insn.op0_register().size() != 8 {
        // Narrower divisions and memory operands are handled inline, except
        // for 64-bit memory divisors.
        if insn.op0_kind() != OpKind::Memory || insn.memory_size().size() != 8 {
            return Err(ill(state));
        }
    }
    let divisor = match insn.op0_kind() {
        OpKind::Register => state.gpr[insn.op0_register().number()],
        _ => {
            let addr = effective_address(state, insn);
            // SAFETY: guest memory access, faults like the guest's own.
            unsafe { (addr as *const u64).read_unaligned() }
        }
    };
    let de = GuestEvent::Fault { signal: libc::SIGFPE, addr: state.rip };
    let dividend = ((state.gpr[RDX] as u128) << 64) | state.gpr[RAX] as u128;
    if divisor == 0 {
        return Err(de);
    }
    if insn.mnemonic() == Mnemonic::Div {
        let q = dividend / divisor as u128;
        if q > u64::MAX as u128 {
            return Err(de);
        }
        state.gpr[RAX] = q as u64;
        state.gpr[RDX] = (dividend % divisor as u128) as u64;
    } else {
        let n = dividend as i128;
        let d = divisor as i64 as i128;
        let q = n.checked_div(d).ok_or(de)?;
        if q < i64::MIN as i128 || q > i64::MAX as i128 {
            return Err(de);
        }
        state.gpr[RAX] = q as u64;
        state.gpr[RDX] = (n % d) as u64;
    }
    Ok(())
}

fn memory_operand_address(state: &CpuState, insn: &Instruction) -> u64 {
    if (0..insn.op_count()).any(|i| insn.op_kind(i) == OpKind::Memory) {
        effective_address(state, insn)
    } else {
        0
    }
}

fn rotate_through_carry(state: &mut CpuState, insn: &Instruction) -> Result<(), GuestEvent> {
    let (bits, addr) = match insn.op0_kind() {
        OpKind::Memory => (insn.memory_size().size() as u32 * 8, Some(effective_address(state, insn))),
        _ => (insn.op0_register().size() as u32 * 8, None),
    };
    let count = match insn.op1_kind() {
        OpKind::Immediate8 => insn.immediate8() as u32,
        _ => state.gpr[RCX] as u32,
    } & if bits == 64 { 63 } else { 31 };
    let count = match bits {
        8 => count % 9,
        16 => count % 17,
        _ => count,
    };
    if count == 0 {
        // Nothing rotates, but a 32-bit register is still written (zero-extended).
        if addr.is_none() && bits == 32 {
            write_reg(state, insn.op0_register(), read_reg(state, insn.op0_register()));
        }
        return Ok(());
    }
    let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let mut v = match addr {
        Some(a) => read_guest(a, bits / 8),
        None => read_reg(state, insn.op0_register()),
    } & mask;
    let mut cf = state.rflags() & rflags::CF != 0;
    for _ in 0..count {
        if insn.mnemonic() == Mnemonic::Rcl {
            let out = v >> (bits - 1) & 1 != 0;
            v = ((v << 1) | cf as u64) & mask;
            cf = out;
        } else {
            let out = v & 1 != 0;
            v = (v >> 1) | ((cf as u64) << (bits - 1));
            cf = out;
        }
    }
    let msb = v >> (bits - 1) & 1 != 0;
    let of = if insn.mnemonic() == Mnemonic::Rcl { msb ^ cf } else { msb ^ (v >> (bits - 2) & 1 != 0) };
    match addr {
        Some(a) => write_guest(a, bits / 8, v),
        None => write_reg(state, insn.op0_register(), v),
    }
    let mut f = state.rflags() & !(rflags::CF | rflags::OF);
    if cf {
        f |= rflags::CF;
    }
    if of {
        f |= rflags::OF;
    }
    state.set_rflags(f);
    Ok(())
}

/// Flags of `a - b` at `bits` width, as x86 computes them for cmp.
pub fn sub_flags(a: u64, b: u64, bits: u32) -> u64 {
    let mask = if bits == 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let (a, b) = (a & mask, b & mask);
    let r = a.wrapping_sub(b) & mask;
    let sign = 1u64 << (bits - 1);
    let mut f = 0;
    if a < b {
        f |= rflags::CF;
    }
    if r == 0 {
        f |= rflags::ZF;
    }
    if r & sign != 0 {
        f |= rflags::SF;
    }
    if (a ^ b) & (a ^ r) & sign != 0 {
        f |= rflags::OF;
    }
    if (a ^ b ^ r) & 0x10 != 0 {
        f |= rflags::AF;
    }
    if crate::cpu::state::even_parity(r) {
        f |= rflags::PF;
    }
    f
}

fn string_op(state: &mut CpuState, insn: &Instruction) -> Result<(), GuestEvent> {
    use Mnemonic::*;
    let size = insn.memory_size().size() as u64;
    let bits = size as u32 * 8;
    let step = if state.df != 0 { size.wrapping_neg() } else { size };
    let rep = insn.has_rep_prefix() || insn.has_repne_prefix();
    let m = insn.mnemonic();
    let compares = matches!(m, Cmpsb | Cmpsw | Cmpsd | Cmpsq | Scasb | Scasw | Scasd | Scasq);
    let load = |addr: u64| -> u64 {
        // SAFETY: guest memory access at guest-chosen addresses; a bad
        // address faults exactly where the guest's own access would.
        unsafe {
            match size {
                1 => *(addr as *const u8) as u64,
                2 => (addr as *const u16).read_unaligned() as u64,
                4 => (addr as *const u32).read_unaligned() as u64,
                _ => (addr as *const u64).read_unaligned(),
            }
        }
    };
    let store = |addr: u64, v: u64| {
        // SAFETY: as for `load`.
        unsafe {
            match size {
                1 => *(addr as *mut u8) = v as u8,
                2 => (addr as *mut u16).write_unaligned(v as u16),
                4 => (addr as *mut u32).write_unaligned(v as u32),
                _ => (addr as *mut u64).write_unaligned(v),
            }
        }
    };
    let (reads_rsi, touches_rdi, writes_rdi) = match m {
        Movsb | Movsw | Movsd | Movsq => (true, true, true),
        Stosb | Stosw | Stosd | Stosq => (false, true, true),
        Lodsb | Lodsw | Lodsd | Lodsq => (true, false, false),
        Cmpsb | Cmpsw | Cmpsd | Cmpsq => (true, true, false),
        _ => (false, true, false),
    };
    loop {
        if rep && state.gpr[RCX] == 0 {
            break;
        }
        let (rsi, rdi) = (state.gpr[RSI], state.gpr[RDI]);
        // A fault stops the instruction here, with the registers of this
        // element: x86 resumes a rep instruction where it faulted.
        if reads_rsi {
            probe_access(rsi, size, false)?;
        }
        if touches_rdi {
            probe_access(rdi, size, writes_rdi)?;
        }
        match m {
            Movsb | Movsw | Movsd | Movsq => {
                store(rdi, load(rsi));
                state.gpr[RSI] = rsi.wrapping_add(step);
                state.gpr[RDI] = rdi.wrapping_add(step);
            }
            Stosb | Stosw | Stosd | Stosq => {
                store(rdi, state.gpr[RAX]);
                state.gpr[RDI] = rdi.wrapping_add(step);
            }
            Lodsb | Lodsw | Lodsd | Lodsq => {
                let v = load(rsi);
                let reg = match size {
                    1 => Register::AL,
                    2 => Register::AX,
                    4 => Register::EAX,
                    _ => Register::RAX,
                };
                write_reg(state, reg, v);
                state.gpr[RSI] = rsi.wrapping_add(step);
            }
            Cmpsb | Cmpsw | Cmpsd | Cmpsq => {
                let f = sub_flags(load(rsi), load(rdi), bits);
                state.set_rflags((state.rflags() & !ARITH) | f);
                state.gpr[RSI] = rsi.wrapping_add(step);
                state.gpr[RDI] = rdi.wrapping_add(step);
            }
            _ => {
                let f = sub_flags(state.gpr[RAX], load(rdi), bits);
                state.set_rflags((state.rflags() & !ARITH) | f);
                state.gpr[RDI] = rdi.wrapping_add(step);
            }
        }
        if !rep {
            break;
        }
        state.gpr[RCX] -= 1;
        if compares {
            let zf = state.rflags() & rflags::ZF != 0;
            if (insn.has_rep_prefix() && !zf) || (insn.has_repne_prefix() && zf) {
                break;
            }
        }
    }
    Ok(())
}
