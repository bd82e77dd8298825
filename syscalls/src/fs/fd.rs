//! Descriptor syscalls that aarch64 lacks (dup2, pipe, eventfd, ...) or whose
//! flags need converting (fcntl F_GETFL/F_SETFL, pipe2).

use crate::abi::fcntl::{open_flags_to_guest, open_flags_to_host};
use crate::host::{self, SysResult};
use crate::{Args, Ctx};

/// dup2(fd, fd) returns fd if it is open (EBADF otherwise), where dup3
/// would fail with EINVAL.
pub(crate) fn dup2(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let (old, new) = (a[0], a[1]);
    if old as u32 == new as u32 {
        host::syscall(libc::SYS_fcntl, &[old, libc::F_GETFD as u64])?;
        return Ok(old as u32 as u64);
    }
    host::syscall(libc::SYS_dup3, &[old, new, 0])
}

pub(crate) fn fcntl(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    // F_* commands and struct flock/f_owner_ex agree on both 64-bit ABIs;
    // only the O_* bits carried by F_GETFL/F_SETFL differ.
    match a[1] as i32 {
        libc::F_GETFL => host::syscall(libc::SYS_fcntl, &a[..2]).map(open_flags_to_guest),
        libc::F_SETFL => host::syscall(libc::SYS_fcntl, &[a[0], a[1], open_flags_to_host(a[2])]),
        _ => host::syscall(libc::SYS_fcntl, &a[..3]),
    }
}

pub(crate) fn pipe(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_pipe2, &[a[0], 0])
}

/// pipe2's O_DIRECT (packet mode) is one of the bits that moved.
pub(crate) fn pipe2(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_pipe2, &[a[0], open_flags_to_host(a[1])])
}

pub(crate) fn eventfd(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_eventfd2, &[a[0], 0])
}

pub(crate) fn signalfd(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_signalfd4, &[a[0], a[1], a[2], 0])
}

pub(crate) fn inotify_init(_: &mut Ctx<'_>, _: &Args) -> SysResult {
    host::syscall(libc::SYS_inotify_init1, &[0])
}
