//! The x86_64 signal frame (`struct rt_sigframe`, arch/x86/kernel/signal_64.c)
//! that a guest handler finds on its stack, and `rt_sigreturn` reading it back.
//!
//! Layout, from the handler's RSP upwards: the return address (the guest's
//! `sa_restorer`), `struct ucontext` (flags, link, stack, sigcontext, mask),
//! `siginfo_t`; the 512-byte FXSAVE image sits above, 64-byte aligned, and
//! `sigcontext.fpstate` points at it. We present no XSAVE, so the image is
//! plain FXSAVE as on an x86-64 CPU without it.

use transit_syscalls::abi::signal::GuestStack;
use transit_syscalls::guest_mem::{self, Plain};
use transit_syscalls::Errno;
use transit_translator::cpu::state::gpr::*;
use transit_translator::cpu::state::rflags;
use transit_translator::interp::x87;
use transit_translator::CpuState;

/// `struct sigcontext` (64-bit); also glibc's `mcontext_t` gregs in order.
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct SigContext {
    /// r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp (glibc REG_R8..REG_RSP).
    pub gregs: [u64; 16],
    pub rip: u64,
    pub eflags: u64,
    /// cs, gs, fs, ss.
    pub segments: [u16; 4],
    pub err: u64,
    pub trapno: u64,
    pub oldmask: u64,
    pub cr2: u64,
    pub fpstate: u64,
    pub reserved: [u64; 8],
}

/// The kernel's `struct ucontext` (not glibc's larger `ucontext_t`, which
/// only appends fields the kernel does not write).
#[repr(C)]
#[derive(Clone, Copy, Default, Debug)]
pub struct UContext {
    pub flags: u64,
    pub link: u64,
    pub stack: GuestStack,
    pub mcontext: SigContext,
    pub sigmask: u64,
}

#[repr(C)]
#[derive(Clone, Copy)]
pub struct RtSigframe {
    pub pretcode: u64,
    pub uc: UContext,
    pub info: [u8; 128],
}

// SAFETY: integers only; `segments` packs four u16 into 8 bytes without padding.
unsafe impl Plain for SigContext {}
// SAFETY: integers and a Plain struct, no padding.
unsafe impl Plain for UContext {}
// SAFETY: integers and byte arrays, no padding.
unsafe impl Plain for RtSigframe {}

/// The guest GPR each `SigContext::gregs` slot holds.
const GREGS: [usize; 16] = [R8, R9, R10, R11, 12, 13, 14, 15, RDI, RSI, RBP, RBX, RDX, RAX, RCX, RSP];

// uc_flags: the kernel always sets these two on x86_64 (UC_FP_XSTATE only with XSAVE).
const UC_SIGCONTEXT_SS: u64 = 2;
const UC_STRICT_RESTORE_SS: u64 = 4;
/// User-mode selectors of a 64-bit x86_64 Linux process.
const USER_CS: u16 = 0x33;
const USER_SS: u16 = 0x2b;
const REDZONE: u64 = 128;
/// The RFLAGS bits rt_sigreturn takes from the frame (FIX_EFLAGS, without TF/RF).
const FIX_EFLAGS: u64 = rflags::CF | rflags::PF | rflags::AF | rflags::ZF | rflags::SF | rflags::DF | rflags::OF | (1 << 18);

/// Exception details the frame reports (`sigcontext.trapno/err/cr2`).
#[derive(Clone, Copy, Default, Debug)]
pub struct Trap {
    pub trapno: u64,
    pub err: u64,
    pub cr2: u64,
}

/// What a new frame needs besides the CPU state.
pub struct FrameRequest<'a> {
    pub info: &'a [u8; 128],
    pub restorer: u64,
    /// The mask to restore on return (the one in effect before the handler).
    pub saved_mask: u64,
    /// The alternate stack as sigaltstack reports it, and whether to switch to it.
    pub alt_stack: GuestStack,
    pub switch_to_alt_stack: bool,
    pub trap: Trap,
}

/// Writes a frame for the guest handler; returns the handler's RSP and the
/// addresses of the siginfo and ucontext (its second and third arguments).
pub fn push(state: &CpuState, req: &FrameRequest<'_>) -> Result<(u64, u64, u64), Errno> {
    let mut sp = if req.switch_to_alt_stack {
        req.alt_stack.sp + req.alt_stack.size
    } else {
        state.gpr[RSP] - REDZONE
    };
    sp = (sp - 512) & !63;
    let fpstate = sp;
    guest_mem::write_bytes(fpstate, &x87::fxsave_image(state))?;
    sp = ((sp - size_of::<RtSigframe>() as u64) & !15) - 8;

    let mut mc = SigContext::default();
    for (slot, &reg) in mc.gregs.iter_mut().zip(&GREGS) {
        *slot = state.gpr[reg];
    }
    mc.rip = state.rip;
    mc.eflags = state.rflags();
    mc.segments = [USER_CS, 0, 0, USER_SS];
    mc.err = req.trap.err;
    mc.trapno = req.trap.trapno;
    mc.oldmask = req.saved_mask;
    mc.cr2 = req.trap.cr2;
    mc.fpstate = fpstate;
    let frame = RtSigframe {
        pretcode: req.restorer,
        uc: UContext {
            flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
            link: 0,
            stack: req.alt_stack,
            mcontext: mc,
            sigmask: req.saved_mask,
        },
        info: *req.info,
    };
    guest_mem::write(sp, &frame)?;
    let uc = sp + std::mem::offset_of!(RtSigframe, uc) as u64;
    let info = sp + std::mem::offset_of!(RtSigframe, info) as u64;
    Ok((sp, info, uc))
}

/// What rt_sigreturn restores besides the CPU state.
pub struct Restored {
    pub mask: u64,
    pub alt_stack: GuestStack,
}

/// rt_sigreturn: the handler's `ret` popped `pretcode`, so RSP points at the
/// ucontext. Restores the guest state the frame holds (as the handler may
/// have changed it).
pub fn pop(state: &mut CpuState) -> Result<Restored, Errno> {
    let uc: UContext = guest_mem::read(state.gpr[RSP])?;
    let mc = &uc.mcontext;
    for (&value, &reg) in mc.gregs.iter().zip(&GREGS) {
        state.gpr[reg] = value;
    }
    state.rip = mc.rip;
    let flags = (state.rflags() & !FIX_EFLAGS) | (mc.eflags & FIX_EFLAGS);
    state.set_rflags(flags);
    if mc.fpstate != 0 {
        let mut img = [0u8; 512];
        guest_mem::read_bytes(mc.fpstate, &mut img)?;
        x87::load_fxsave_image(state, &img);
    } else {
        reset_fpu(state);
    }
    Ok(Restored { mask: uc.sigmask, alt_stack: uc.stack })
}

/// The FPU state a handler starts with: x86_64 Linux gives it the init
/// state (FNINIT x87, default MXCSR, zeroed XMM), as a fresh process has.
pub fn reset_fpu(state: &mut CpuState) {
    let fresh = CpuState::default();
    state.x87 = fresh.x87;
    state.mxcsr = fresh.mxcsr;
    state.xmm = fresh.xmm;
    transit_translator::cpu::host::set_rounding_from_mxcsr(state.mxcsr);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    #[test]
    fn layout_matches_the_x86_64_kernel() {
        assert_eq!(size_of::<SigContext>(), 256);
        assert_eq!(size_of::<UContext>(), 304);
        assert_eq!(offset_of!(UContext, mcontext), 40);
        assert_eq!(offset_of!(RtSigframe, uc), 8);
        assert_eq!(offset_of!(RtSigframe, info), 312);
        assert_eq!(offset_of!(SigContext, rip), 128);
        assert_eq!(offset_of!(SigContext, fpstate), 184);
    }
}
