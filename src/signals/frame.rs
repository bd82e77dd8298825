//! The x86_64 signal frame (`struct rt_sigframe`, arch/x86/kernel/signal_64.c)
//! that a guest handler finds on its stack, and `rt_sigreturn` reading it back.
//!
//! Layout, from the handler's RSP upwards: the return address (the guest's
//! `sa_restorer`), `struct ucontext` (flags, link, stack, sigcontext, mask),
//! `siginfo_t`; the FPU state sits above, 64-byte aligned, and
//! `sigcontext.fpstate` points at it. Without XSAVE (x86-64-v1) it is the
//! 512-byte FXSAVE image; with XSAVE it is in XSAVE layout, as the kernel
//! writes it (arch/x86/kernel/fpu/signal.c): an XSAVE of every XCR0
//! component, `struct _fpx_sw_bytes` in the FXSAVE image's software bytes,
//! FP_XSTATE_MAGIC2 after the xstate, and UC_FP_XSTATE in uc_flags.

use transit_syscalls::abi::signal::GuestStack;
use transit_syscalls::guest_mem::{self, Plain};
use transit_syscalls::Errno;
use transit_translator::cpu::state::gpr::*;
use transit_translator::cpu::state::rflags;
use transit_translator::cpu::{features, xstate};
use transit_translator::interp::x87;
use transit_translator::interp::xsave::{self, SaveForm};
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

// uc_flags (arch/x86/include/uapi/asm/ucontext.h): the kernel always sets
// the last two on x86_64, UC_FP_XSTATE when the CPU has XSAVE.
const UC_FP_XSTATE: u64 = 1;
const UC_SIGCONTEXT_SS: u64 = 2;
const UC_STRICT_RESTORE_SS: u64 = 4;
// struct _fpx_sw_bytes (uapi/asm/sigcontext.h) at byte 464 of the fpstate.
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
const SW_BYTES: usize = 464;
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
    let xcr0 = features::xcr0();
    let fp_image = fpstate_image(state, xcr0);
    sp = (sp - fp_image.len() as u64) & !63;
    let fpstate = sp;
    guest_mem::write_bytes(fpstate, &fp_image)?;
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
            flags: UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | if xcr0 != 0 { UC_FP_XSTATE } else { 0 },
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
        restore_fpstate(state, mc.fpstate, features::xcr0())?;
    } else {
        reset_fpu(state);
    }
    Ok(Restored { mask: uc.sigmask, alt_stack: uc.stack })
}

/// The fpstate the kernel writes for a CPU whose XCR0 is `xcr0`. With
/// XSAVE: the area's header starts cleared, and XSTATE_BV always has x87
/// and SSE, so that a handler editing only the legacy region is heard.
fn fpstate_image(state: &CpuState, xcr0: u64) -> Vec<u8> {
    if xcr0 == 0 {
        return x87::fxsave_image(state).to_vec();
    }
    let size = xstate::standard_size(xcr0);
    let mut img = vec![0u8; size + 4];
    xsave::save(state, SaveForm::Standard, xcr0, true, 0, &mut |o, b| img[o..o + b.len()].copy_from_slice(b));
    let bv = u64::from_le_bytes(img[xstate::HEADER..xstate::HEADER + 8].try_into().unwrap());
    img[xstate::HEADER..xstate::HEADER + 8].copy_from_slice(&(bv | xstate::X87 | xstate::SSE).to_le_bytes());
    // magic1, extended_size, xfeatures, xstate_size; the padding stays 0.
    let mut sw = Vec::with_capacity(20);
    sw.extend_from_slice(&FP_XSTATE_MAGIC1.to_le_bytes());
    sw.extend_from_slice(&(size as u32 + 4).to_le_bytes());
    sw.extend_from_slice(&xcr0.to_le_bytes());
    sw.extend_from_slice(&(size as u32).to_le_bytes());
    img[SW_BYTES..SW_BYTES + sw.len()].copy_from_slice(&sw);
    img[size..].copy_from_slice(&FP_XSTATE_MAGIC2.to_le_bytes());
    img
}

/// rt_sigreturn's FPU part, as the kernel's: an XSAVE-layout fpstate
/// (both magics, sane sizes) is restored as XRSTOR would for the
/// features its software bytes name, which may fault (#GP: a bad frame);
/// anything else is a plain FXSAVE image. Components left out start in
/// their initial state.
fn restore_fpstate(state: &mut CpuState, fpstate: u64, xcr0: u64) -> Result<(), Errno> {
    let mut legacy = [0u8; 512];
    guest_mem::read_bytes(fpstate, &mut legacy)?;
    let word = |o: usize| u32::from_le_bytes(legacy[o..o + 4].try_into().unwrap());
    let size = xstate::standard_size(xcr0);
    let (magic1, extended_size, xstate_size) = (word(SW_BYTES), word(SW_BYTES + 4), word(SW_BYTES + 16) as usize);
    let mut xsave_layout = xcr0 != 0
        && magic1 == FP_XSTATE_MAGIC1
        && (xstate::EXTENDED_START..=size).contains(&xstate_size)
        && xstate_size <= extended_size as usize;
    if xsave_layout {
        let mut magic2 = [0u8; 4];
        guest_mem::read_bytes(fpstate + xstate_size as u64, &mut magic2)?;
        xsave_layout = u32::from_le_bytes(magic2) == FP_XSTATE_MAGIC2;
    }
    let restored = if xsave_layout {
        let mut area = vec![0u8; size];
        guest_mem::read_bytes(fpstate, &mut area)?;
        let features = u64::from_le_bytes(legacy[SW_BYTES + 8..SW_BYTES + 16].try_into().unwrap()) & xcr0;
        xsave::restore(state, &area, features, xcr0, true).map_err(|_| Errno::EFAULT)?;
        features
    } else {
        x87::load_fxsave_image(state, &legacy);
        xstate::X87 | xstate::SSE
    };
    xsave::initialize(state, xcr0 & !restored, xcr0);
    Ok(())
}

/// The FPU state a handler starts with: x86_64 Linux gives it the init
/// state (FNINIT x87, default MXCSR, zeroed XMM and YMM), as a fresh process has.
pub fn reset_fpu(state: &mut CpuState) {
    let fresh = CpuState::default();
    state.x87 = fresh.x87;
    state.mxcsr = fresh.mxcsr;
    state.xmm = fresh.xmm;
    state.ymm_upper = fresh.ymm_upper;
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

    const XCR0: u64 = xstate::X87 | xstate::SSE;

    fn word(img: &[u8], o: usize) -> u32 {
        u32::from_le_bytes(img[o..o + 4].try_into().unwrap())
    }

    #[test]
    fn xsave_layout_carries_the_kernels_markers() {
        let img = fpstate_image(&CpuState::default(), XCR0);
        assert_eq!(img.len(), 580);
        assert_eq!(word(&img, 464), FP_XSTATE_MAGIC1);
        assert_eq!(word(&img, 468), 580, "extended_size");
        assert_eq!(u64::from_le_bytes(img[472..480].try_into().unwrap()), XCR0, "xfeatures");
        assert_eq!(word(&img, 480), 576, "xstate_size");
        assert_eq!(word(&img, 576), FP_XSTATE_MAGIC2);
        // XSTATE_BV has x87 and SSE even in their initial state; XCOMP_BV is 0.
        assert_eq!(u64::from_le_bytes(img[512..520].try_into().unwrap()), XCR0);
        assert!(img[520..576].iter().all(|&b| b == 0));
        assert_eq!(fpstate_image(&CpuState::default(), 0).len(), 512);
    }

    #[test]
    fn sigreturn_takes_an_edited_frame_in_either_layout() {
        let mut s = CpuState::default();
        s.xmm[5] = 7;
        let mut img = fpstate_image(&s, XCR0);
        img[160 + 5 * 16] = 9;
        img[24..28].copy_from_slice(&0x1fc0u32.to_le_bytes());
        let mut t = CpuState::default();
        restore_fpstate(&mut t, img.as_ptr() as u64, XCR0).unwrap();
        assert_eq!((t.xmm[5], t.mxcsr), (9, 0x1fc0));
        // Without magic1 the image is plain FXSAVE.
        img[464] = 0;
        img[512] = 0;
        let mut t = CpuState::default();
        restore_fpstate(&mut t, img.as_ptr() as u64, XCR0).unwrap();
        assert_eq!(t.xmm[5], 9);
        // XSAVE layout with SSE's XSTATE_BV bit clear: XMM initialized.
        let mut img = fpstate_image(&s, XCR0);
        img[512] = xstate::X87 as u8;
        let mut t = s.clone();
        restore_fpstate(&mut t, img.as_ptr() as u64, XCR0).unwrap();
        assert_eq!(t.xmm[5], 0);
        // A header bit outside XCR0 makes XRSTOR fault: a bad frame.
        img[512] = 7;
        assert!(restore_fpstate(&mut t, img.as_ptr() as u64, XCR0).is_err());
    }
}
