//! Process and thread identity, limits, and the x86-only thread registers;
//! process creation in [`fork`], program execution in [`exec`].

mod exec;
mod fork;
pub mod vfork_writes;

pub use exec::{script_interpreter, TransitCommand};
pub(crate) use exec::{execve, execveat};
pub(crate) use fork::{clone, clone3, fork, vfork};

use crate::guest_mem;
use crate::host::{self, Errno, SysResult};
use crate::{Args, Ctx};

/// uname, with `machine` reporting the guest architecture. struct utsname
/// (six 65-byte strings) is the same on both.
pub(crate) fn uname(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    // SAFETY: utsname is plain bytes; all-zero is a valid value.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    host::syscall(libc::SYS_uname, &[host::ptr_mut(&mut uts)])?;
    uts.machine = [0; 65];
    for (dst, &src) in uts.machine.iter_mut().zip(b"x86_64") {
        *dst = src as libc::c_char;
    }
    guest_mem::write(a[0], &uts)?;
    Ok(0)
}

// arch_prctl codes (arch/x86/include/uapi/asm/prctl.h).
const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;

/// x86_64 TASK_SIZE_MAX with 4-level paging: a base at or above it is
/// rejected with EPERM (arch/x86/kernel/process_64.c, do_arch_prctl_64).
const X86_TASK_SIZE_MAX: u64 = (1 << 47) - 4096;

pub(crate) fn arch_prctl(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let (code, arg) = (a[0], a[1]);
    match code {
        ARCH_SET_FS | ARCH_SET_GS if arg >= X86_TASK_SIZE_MAX => Err(Errno::EPERM),
        ARCH_SET_FS => {
            ctx.thread.set_fs_base(arg);
            Ok(0)
        }
        ARCH_SET_GS => {
            ctx.thread.set_gs_base(arg);
            Ok(0)
        }
        ARCH_GET_FS => guest_mem::write(arg, &ctx.thread.fs_base()).map(|()| 0),
        ARCH_GET_GS => guest_mem::write(arg, &ctx.thread.gs_base()).map(|()| 0),
        _ => {
            tracing::warn!("unsupported arch_prctl code {code:#x}");
            Err(Errno::EINVAL)
        }
    }
}

/// getrlimit(resource, rlim): x86_64's struct rlimit is two unsigned longs,
/// the same as struct rlimit64, and RLIMIT_* are generic.
pub(crate) fn getrlimit(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_prlimit64, &[0, a[0], 0, a[1]])
}

pub(crate) fn setrlimit(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_prlimit64, &[0, a[0], a[1], 0])
}

/// set_tid_address(tidptr): the runtime clears `tidptr` and wakes it when
/// the guest thread ends. Not the host's: that would replace the word the
/// host thread library clears for its own thread.
pub(crate) fn set_tid_address(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    ctx.thread.set_clear_child_tid(a[0]);
    host::syscall(libc::SYS_gettid, &[])
}

pub(crate) fn getpgrp(_: &mut Ctx<'_>, _: &Args) -> SysResult {
    host::syscall(libc::SYS_getpgid, &[0])
}

/// pause: sleep until a signal, which is ppoll with nothing to wait for.
pub(crate) fn pause(_: &mut Ctx<'_>, _: &Args) -> SysResult {
    host::interruptible_syscall(libc::SYS_ppoll, &[0, 0, 0, 0, 0])
}

/// rseq: Transit's own libc has already registered this thread's rseq area,
/// so the host would answer EBUSY; ENOSYS makes the guest libc fall back.
pub(crate) fn rseq(_: &mut Ctx<'_>, _: &Args) -> SysResult {
    tracing::debug!("rseq: not supported, guest libc falls back");
    Err(Errno::ENOSYS)
}

/// prctl options whose arguments are integers, strings or pointers to ints,
/// with the same meaning on both architectures.
const PRCTL_PASS: &[libc::c_int] = &[
    libc::PR_SET_PDEATHSIG,
    libc::PR_GET_PDEATHSIG,
    libc::PR_GET_DUMPABLE,
    libc::PR_SET_DUMPABLE,
    libc::PR_GET_KEEPCAPS,
    libc::PR_SET_KEEPCAPS,
    libc::PR_SET_NAME,
    libc::PR_GET_NAME,
    libc::PR_CAPBSET_READ,
    libc::PR_GET_SECUREBITS,
    libc::PR_SET_SECUREBITS,
    libc::PR_SET_TIMERSLACK,
    libc::PR_GET_TIMERSLACK,
    libc::PR_SET_CHILD_SUBREAPER,
    libc::PR_GET_CHILD_SUBREAPER,
    libc::PR_SET_NO_NEW_PRIVS,
    libc::PR_GET_NO_NEW_PRIVS,
    libc::PR_SET_THP_DISABLE,
    libc::PR_GET_THP_DISABLE,
    libc::PR_CAP_AMBIENT,
    0x5356_4d41, // PR_SET_VMA (naming anonymous mappings)
];

/// prctl: the architecture-neutral options, and seccomp's (`seccomp`);
/// others (arm64's PR_SVE_*, x86's PR_SET_TSC, ...) fail with EINVAL.
pub(crate) fn prctl(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let option = a[0] as libc::c_int;
    if option == libc::PR_GET_SECCOMP || option == libc::PR_SET_SECCOMP {
        // The guest's filters see x86_64 numbers: Transit runs them.
        crate::seccomp::prctl(a)
    } else if PRCTL_PASS.contains(&option) {
        host::syscall(libc::SYS_prctl, &a[..5])
    } else {
        tracing::warn!("unsupported prctl option {option}");
        Err(Errno::EINVAL)
    }
}
