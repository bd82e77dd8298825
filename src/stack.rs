//! The guest's initial stack, as the x86_64 kernel builds it for execve:
//! argc, argv, envp, the auxiliary vector, and the strings they point to.

use crate::loader::LoadedProgram;
use transit_translator::cpu::{features, xstate};

/// Auxiliary vector keys (include/uapi/linux/auxvec.h, asm/auxvec.h).
mod at {
    pub const NULL: u64 = 0;
    pub const PHDR: u64 = 3;
    pub const PHENT: u64 = 4;
    pub const PHNUM: u64 = 5;
    pub const PAGESZ: u64 = 6;
    pub const BASE: u64 = 7;
    pub const FLAGS: u64 = 8;
    pub const ENTRY: u64 = 9;
    pub const UID: u64 = 11;
    pub const EUID: u64 = 12;
    pub const GID: u64 = 13;
    pub const EGID: u64 = 14;
    pub const PLATFORM: u64 = 15;
    pub const HWCAP: u64 = 16;
    pub const CLKTCK: u64 = 17;
    pub const SECURE: u64 = 23;
    pub const RANDOM: u64 = 25;
    pub const HWCAP2: u64 = 26;
    pub const EXECFN: u64 = 31;
    pub const MINSIGSTKSZ: u64 = 51;
}

pub const STACK_SIZE: u64 = 8 << 20;
/// Inaccessible room below the initial stack, as Linux's stack_guard_gap
/// (256 pages) keeps free: a guest that overflows its stack faults there
/// (OCaml and other runtimes recover from that) instead of writing into
/// whatever was mapped below it.
pub const STACK_GUARD_GAP: u64 = 1 << 20;
/// sizeof(Elf64_Phdr).
const PHENT_SIZE: u64 = 56;
/// AT_MINSIGSTKSZ as x86 Linux computes it (arch/x86/kernel/signal.c,
/// init_sigframe_size): the largest frame, `struct sigframe_ia32` (732
/// bytes) on kernels with IA32 emulation as distributions build them, 15
/// bytes of alignment, the fpstate (the XSAVE area and FP_XSTATE_MAGIC2,
/// or the FXSAVE image, plus a 112-byte fsave header) and 63 bytes of its
/// alignment, rounded up to 16: 1504 for XCR0 = 3, 1440 without XSAVE.
/// (An AVX-512 host reports 3632 by the same sum.)
fn min_sigstack_size(xcr0: u64) -> u64 {
    let fpstate = if xcr0 == 0 { 512 } else { xstate::standard_size(xcr0) as u64 + 4 } + 112;
    (732 + 15 + fpstate + 63).next_multiple_of(16)
}

/// Writes bytes downward from a moving top.
struct Builder {
    top: u64,
}

impl Builder {
    fn push_bytes(&mut self, b: &[u8]) -> u64 {
        self.top -= b.len() as u64;
        // SAFETY: `top` stays inside the stack mapping sized for these strings.
        unsafe { std::ptr::copy_nonoverlapping(b.as_ptr(), self.top as *mut u8, b.len()) };
        self.top
    }
    fn push_cstr(&mut self, s: &[u8]) -> u64 {
        self.push_bytes(&[0]);
        self.push_bytes(s)
    }
}

/// What the new process gets besides its program.
pub struct ProcessStart<'a> {
    pub argv: &'a [Vec<u8>],
    pub envp: &'a [&'a [u8]],
    /// AT_EXECFN: the path execve was given.
    pub execfn: &'a [u8],
    /// AT_SECURE: the guest's libc must distrust its environment (setuid).
    pub secure: bool,
}

/// Builds the stack below `top`; returns the initial RSP (pointing at argc).
pub fn build(top: u64, prog: &LoadedProgram, start: &ProcessStart) -> u64 {
    let ProcessStart { argv, envp, execfn, secure } = *start;
    let mut b = Builder { top };
    let execfn_addr = b.push_cstr(execfn);
    let argv_addrs: Vec<u64> = argv.iter().rev().map(|a| b.push_cstr(a)).collect::<Vec<_>>().into_iter().rev().collect();
    let envp_addrs: Vec<u64> = envp.iter().rev().map(|e| b.push_cstr(e)).collect::<Vec<_>>().into_iter().rev().collect();
    let platform = b.push_cstr(b"x86_64");
    let mut random = [0u8; 16];
    // SAFETY: getrandom fills the 16-byte buffer we pass.
    unsafe { libc::getrandom(random.as_mut_ptr().cast(), 16, 0) };
    let random_addr = b.push_bytes(&random);
    b.top &= !15;

    // SAFETY: plain id queries.
    let (uid, euid, gid, egid) = unsafe { (libc::getuid(), libc::geteuid(), libc::getgid(), libc::getegid()) };
    let auxv: Vec<(u64, u64)> = vec![
        (at::PHDR, prog.main.phdr),
        (at::PHENT, PHENT_SIZE),
        (at::PHNUM, prog.main.phnum),
        (at::PAGESZ, crate::loader::PAGE),
        (at::BASE, prog.interp.as_ref().map_or(0, |i| i.bias)),
        (at::FLAGS, 0),
        (at::ENTRY, prog.main.entry),
        (at::UID, uid as u64),
        (at::EUID, euid as u64),
        (at::GID, gid as u64),
        (at::EGID, egid as u64),
        (at::SECURE, secure as u64),
        (at::RANDOM, random_addr),
        (at::HWCAP, features::at_hwcap()),
        (at::HWCAP2, features::at_hwcap2()),
        (at::CLKTCK, 100),
        (at::PLATFORM, platform),
        (at::EXECFN, execfn_addr),
        (at::MINSIGSTKSZ, min_sigstack_size(features::xcr0())),
        (at::NULL, 0),
    ];
    let mut words: Vec<u64> = Vec::new();
    words.push(argv.len() as u64);
    words.extend(&argv_addrs);
    words.push(0);
    words.extend(&envp_addrs);
    words.push(0);
    for (k, v) in &auxv {
        words.push(*k);
        words.push(*v);
    }
    if words.len() % 2 == 1 {
        b.top -= 8;
    }
    b.top -= 8 * words.len() as u64;
    for (i, w) in words.iter().enumerate() {
        // SAFETY: inside the stack mapping, 8-byte aligned.
        unsafe { ((b.top + 8 * i as u64) as *mut u64).write(*w) };
    }
    b.top
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_sigstack_size_is_the_kernels_sum() {
        assert_eq!(min_sigstack_size(0), 1440);
        assert_eq!(min_sigstack_size(xstate::X87 | xstate::SSE), 1504);
        // The frame Transit writes fits: fpstate, its alignment, rt_sigframe and the red zone's 8-byte slot.
        let frame = 576 + 4 + 63 + 440 + 15 + 8;
        assert!(frame <= min_sigstack_size(3));
    }
}
