//! `int 0x80` from 64-bit code: x86_64 Linux (with IA32_EMULATION, as every
//! distribution kernel is built) runs it through the i386 syscall table,
//! with the number in EAX and arguments in EBX, ECX, EDX, ESI, EDI, EBP,
//! truncated to 32 bits; it preserves every register but RAX
//! (arch/x86/entry/entry_64_compat.S). Old shellcode, hand-written start-up
//! code and some test suites use it.
//!
//! Transit forwards the i386 syscalls whose 32-bit arguments mean the same
//! once widened (integers, flags, pointers to bytes or to structs both ABIs
//! lay out alike) to the x86_64 syscall of the same meaning. Those that
//! pass structs of the 32-bit ABI (stat64, timespec, iovec, sigaction, ...)
//! are not converted: they fail with ENOSYS and a warning naming them.

use crate::table::X86Nr;
use crate::{dispatch, GuestProcess, GuestThread, SyscallOutcome};

/// How a 32-bit argument widens to the x86_64 syscall's.
#[derive(Clone, Copy)]
enum Arg {
    /// A pointer, size or unsigned value: zero-extended, as the kernel does.
    U,
    /// A signed int (fd, pid, AT_FDCWD, an off_t offset): sign-extended.
    S,
}
use Arg::{S, U};

/// An i386 syscall forwarded to an x86_64 one: (i386 number, name,
/// x86_64 number, its arguments). Numbers from the kernel's
/// arch/x86/entry/syscalls/syscall_32.tbl and syscall_64.tbl.
struct Forward(u32, &'static str, u64, &'static [Arg]);

#[rustfmt::skip]
const FORWARDS: &[Forward] = &[
    Forward(1, "exit", 60, &[S]),
    Forward(3, "read", 0, &[S, U, U]),
    Forward(4, "write", 1, &[S, U, U]),
    Forward(5, "open", 2, &[U, S, U]),
    Forward(6, "close", 3, &[S]),
    Forward(8, "creat", 85, &[U, U]),
    Forward(9, "link", 86, &[U, U]),
    Forward(10, "unlink", 87, &[U]),
    Forward(12, "chdir", 80, &[U]),
    Forward(14, "mknod", 133, &[U, U, U]),
    Forward(15, "chmod", 90, &[U, U]),
    // compat_off_t is a signed 32-bit offset.
    Forward(19, "lseek", 8, &[S, S, U]),
    Forward(20, "getpid", 39, &[]),
    Forward(27, "alarm", 37, &[U]),
    Forward(29, "pause", 34, &[]),
    Forward(33, "access", 21, &[U, U]),
    Forward(36, "sync", 162, &[]),
    Forward(37, "kill", 62, &[S, S]),
    Forward(38, "rename", 82, &[U, U]),
    Forward(39, "mkdir", 83, &[U, U]),
    Forward(40, "rmdir", 84, &[U]),
    Forward(41, "dup", 32, &[S]),
    Forward(42, "pipe", 22, &[U]),
    Forward(45, "brk", 12, &[U]),
    Forward(57, "setpgid", 109, &[S, S]),
    Forward(60, "umask", 95, &[U]),
    Forward(61, "chroot", 161, &[U]),
    Forward(63, "dup2", 33, &[S, S]),
    Forward(64, "getppid", 110, &[]),
    Forward(65, "getpgrp", 111, &[]),
    Forward(66, "setsid", 112, &[]),
    Forward(83, "symlink", 88, &[U, U]),
    Forward(85, "readlink", 89, &[U, U, U]),
    Forward(91, "munmap", 11, &[U, U]),
    Forward(94, "fchmod", 91, &[S, U]),
    Forward(118, "fsync", 74, &[S]),
    Forward(125, "mprotect", 10, &[U, U, U]),
    Forward(132, "getpgid", 121, &[S]),
    Forward(133, "fchdir", 81, &[S]),
    Forward(143, "flock", 73, &[S, U]),
    Forward(147, "getsid", 124, &[S]),
    Forward(148, "fdatasync", 75, &[S]),
    Forward(150, "mlock", 149, &[U, U]),
    Forward(151, "munlock", 150, &[U, U]),
    Forward(158, "sched_yield", 24, &[]),
    Forward(183, "getcwd", 79, &[U, U]),
    Forward(198, "lchown32", 94, &[U, U, U]),
    Forward(199, "getuid32", 102, &[]),
    Forward(200, "getgid32", 104, &[]),
    Forward(201, "geteuid32", 107, &[]),
    Forward(202, "getegid32", 108, &[]),
    Forward(203, "setreuid32", 113, &[U, U]),
    Forward(204, "setregid32", 114, &[U, U]),
    Forward(207, "fchown32", 93, &[S, U, U]),
    Forward(212, "chown32", 92, &[U, U, U]),
    Forward(213, "setuid32", 105, &[U]),
    Forward(214, "setgid32", 106, &[U]),
    Forward(219, "madvise", 28, &[U, U, S]),
    Forward(224, "gettid", 186, &[]),
    Forward(238, "tkill", 200, &[S, S]),
    Forward(252, "exit_group", 231, &[S]),
    Forward(270, "tgkill", 234, &[S, S, S]),
    Forward(295, "openat", 257, &[S, U, S, U]),
    Forward(296, "mkdirat", 258, &[S, U, U]),
    Forward(297, "mknodat", 259, &[S, U, U, U]),
    Forward(298, "fchownat", 260, &[S, U, U, U, S]),
    Forward(301, "unlinkat", 263, &[S, U, S]),
    Forward(302, "renameat", 264, &[S, U, S, U]),
    Forward(303, "linkat", 265, &[S, U, S, U, S]),
    Forward(304, "symlinkat", 266, &[U, S, U]),
    Forward(305, "readlinkat", 267, &[S, U, U, U]),
    Forward(306, "fchmodat", 268, &[S, U, U]),
    Forward(307, "faccessat", 269, &[S, U, U]),
    Forward(328, "eventfd2", 290, &[U, S]),
    Forward(329, "epoll_create1", 291, &[S]),
    Forward(330, "dup3", 292, &[S, S, S]),
    Forward(331, "pipe2", 293, &[U, S]),
    Forward(332, "inotify_init1", 294, &[S]),
    Forward(344, "syncfs", 306, &[S]),
    Forward(355, "getrandom", 318, &[U, U, U]),
    Forward(356, "memfd_create", 319, &[U, U]),
];

/// Runs the i386 syscall `nr` (guest EAX) with the 32-bit argument
/// registers `regs` (EBX, ECX, EDX, ESI, EDI, EBP).
pub fn dispatch_ia32(process: &GuestProcess, thread: &mut dyn GuestThread, nr: u32, regs: [u64; 6]) -> SyscallOutcome {
    let Some(Forward(_, name, x86_64_nr, args)) = FORWARDS.iter().find(|f| f.0 == nr) else {
        tracing::warn!("unimplemented i386 syscall {nr} (int 0x80)");
        return SyscallOutcome::Return(crate::host::Errno::ENOSYS.to_rax());
    };
    let mut widened = [0u64; 6];
    for (i, kind) in args.iter().enumerate() {
        let low = regs[i] as u32;
        widened[i] = match kind {
            U => u64::from(low),
            S => low as i32 as i64 as u64,
        };
    }
    tracing::trace!(nr, name, "i386 syscall through int 0x80");
    dispatch(process, thread, X86Nr(*x86_64_nr).0, widened)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table;

    /// Each forward names the x86_64 syscall it claims: the table agrees.
    #[test]
    fn forwards_reach_the_x86_64_syscall_of_the_same_name() {
        for Forward(nr, name, x86_64_nr, args) in FORWARDS {
            let entry = table::lookup(X86Nr(*x86_64_nr)).unwrap_or_else(|| panic!("i386 {nr}: no x86_64 {x86_64_nr}"));
            // The 32-bit uid calls are the x86_64 ones without the suffix.
            assert_eq!(entry.name, name.trim_end_matches("32"), "i386 {nr}");
            assert!(args.len() <= 6);
        }
    }

    #[test]
    fn i386_numbers_are_unique() {
        let mut seen = std::collections::HashSet::new();
        assert!(FORWARDS.iter().all(|f| seen.insert(f.0)));
    }
}
