//! stat, lstat, fstat, newfstatat: the host fills its own `struct stat`,
//! which we convert to the x86_64 layout in guest memory.

use std::mem::MaybeUninit;

use super::rootfs::PathArg;
use super::AT_FDCWD;
use crate::abi::stat::X86Stat;
use crate::guest_mem;
use crate::host::{self, SysResult};
use crate::{Args, Ctx};

/// Runs a host stat syscall that writes a `libc::stat` through the pointer
/// produced by `args_with_buf`, then stores the x86_64 form at `guest_buf`.
fn converted(guest_buf: u64, call: impl FnOnce(u64) -> SysResult) -> SysResult {
    let mut st = MaybeUninit::<libc::stat>::zeroed();
    call(host::ptr_mut(st.as_mut_ptr()))?;
    // SAFETY: zero-initialised, and the kernel filled it on success.
    let st = unsafe { st.assume_init() };
    guest_mem::write(guest_buf, &X86Stat::from_host(&st))?;
    Ok(0)
}

fn fstatat(dirfd: u64, path: u64, guest_buf: u64, flags: u64) -> SysResult {
    converted(guest_buf, |buf| {
        host::syscall(libc::SYS_newfstatat, &[dirfd, path, buf, flags])
    })
}

pub(crate) fn stat(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    const PATHS: &[PathArg] = &[PathArg::follows(0)];
    ctx.process
        .with_host_paths(a, PATHS, |a| fstatat(AT_FDCWD, a[0], a[1], 0))
}

pub(crate) fn lstat(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    const PATHS: &[PathArg] = &[PathArg::no_follow(0)];
    ctx.process.with_host_paths(a, PATHS, |a| {
        fstatat(AT_FDCWD, a[0], a[1], libc::AT_SYMLINK_NOFOLLOW as u64)
    })
}

pub(crate) fn newfstatat(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    // AT_* flags are generic (include/uapi/linux/fcntl.h).
    const PATHS: &[PathArg] = &[PathArg::at(1, 3)];
    ctx.process
        .with_host_paths(a, PATHS, |a| fstatat(a[0], a[1], a[2], a[3]))
}

pub(crate) fn fstat(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    converted(a[1], |buf| host::syscall(libc::SYS_fstat, &[a[0], buf]))
}
