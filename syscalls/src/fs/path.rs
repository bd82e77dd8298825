//! Path syscalls: the legacy x86_64 forms become their `*at` forms, their
//! paths are looked up in the root filesystem (`super::rootfs`), readlink
//! of `/proc/self/exe` names the guest executable, not Transit, and getcwd
//! names directories of the root filesystem by their guest paths.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use super::rootfs::{host_path_to_guest, PathArg};
use super::{proc, AT_FDCWD};
use crate::guest_mem;
use crate::host::{self, Errno, SysResult};
use crate::{Args, Ctx};

const REMOVEDIR: u64 = libc::AT_REMOVEDIR as u64;
const NOFOLLOW: u64 = libc::AT_SYMLINK_NOFOLLOW as u64;
/// Longest path getcwd can return, NUL included (PATH_MAX).
const PATH_MAX: usize = 4096;

const FOLLOWS_0: &[PathArg] = &[PathArg::follows(0)];
const NO_FOLLOW_0: &[PathArg] = &[PathArg::no_follow(0)];
const NO_FOLLOW_0_1: &[PathArg] = &[PathArg::no_follow(0), PathArg::no_follow(1)];

pub(crate) fn access(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    ctx.process.with_host_paths(a, FOLLOWS_0, |a| {
        host::syscall(libc::SYS_faccessat, &[AT_FDCWD, a[0], a[1]])
    })
}

pub(crate) fn mkdir(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    ctx.process.with_host_paths(a, NO_FOLLOW_0, |a| {
        host::syscall(libc::SYS_mkdirat, &[AT_FDCWD, a[0], a[1]])
    })
}

pub(crate) fn mknod(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    ctx.process.with_host_paths(a, NO_FOLLOW_0, |a| {
        host::syscall(libc::SYS_mknodat, &[AT_FDCWD, a[0], a[1], a[2]])
    })
}

pub(crate) fn rmdir(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    ctx.process.with_host_paths(a, NO_FOLLOW_0, |a| {
        host::syscall(libc::SYS_unlinkat, &[AT_FDCWD, a[0], REMOVEDIR])
    })
}

pub(crate) fn unlink(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    ctx.process.with_host_paths(a, NO_FOLLOW_0, |a| {
        host::syscall(libc::SYS_unlinkat, &[AT_FDCWD, a[0], 0])
    })
}

// renameat2 with no flags is renameat; aarch64 builds may lack renameat.
pub(crate) fn rename(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    ctx.process.with_host_paths(a, NO_FOLLOW_0_1, |a| {
        host::syscall(libc::SYS_renameat2, &[AT_FDCWD, a[0], AT_FDCWD, a[1], 0])
    })
}

pub(crate) fn renameat(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    const PATHS: &[PathArg] = &[PathArg::no_follow(1), PathArg::no_follow(3)];
    ctx.process.with_host_paths(a, PATHS, |a| {
        host::syscall(libc::SYS_renameat2, &[a[0], a[1], a[2], a[3], 0])
    })
}

// link never follows a symbolic link it is given (fs/namei.c, do_linkat).
pub(crate) fn link(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    ctx.process.with_host_paths(a, NO_FOLLOW_0_1, |a| {
        host::syscall(libc::SYS_linkat, &[AT_FDCWD, a[0], AT_FDCWD, a[1], 0])
    })
}

/// symlink(target, linkpath): the target is the link's text, kept as given.
pub(crate) fn symlink(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    const PATHS: &[PathArg] = &[PathArg::no_follow(1)];
    ctx.process.with_host_paths(a, PATHS, |a| {
        host::syscall(libc::SYS_symlinkat, &[a[0], AT_FDCWD, a[1]])
    })
}

pub(crate) fn chmod(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    ctx.process.with_host_paths(a, FOLLOWS_0, |a| {
        host::syscall(libc::SYS_fchmodat, &[AT_FDCWD, a[0], a[1]])
    })
}

pub(crate) fn chown(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    ctx.process.with_host_paths(a, FOLLOWS_0, |a| {
        host::syscall(libc::SYS_fchownat, &[AT_FDCWD, a[0], a[1], a[2], 0])
    })
}

pub(crate) fn lchown(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    ctx.process.with_host_paths(a, NO_FOLLOW_0, |a| {
        host::syscall(libc::SYS_fchownat, &[AT_FDCWD, a[0], a[1], a[2], NOFOLLOW])
    })
}

pub(crate) fn readlink(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    readlinkat(ctx, &[AT_FDCWD, a[0], a[1], a[2], 0, 0])
}

/// readlinkat(dirfd, path, buf, bufsiz).
pub(crate) fn readlinkat(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let (path, buf, bufsiz) = (a[1], a[2], a[3] as i32);
    let process = &*ctx.process;
    if names_own_exe(path)? && !process.exe_path.as_os_str().is_empty() {
        if bufsiz <= 0 {
            return Err(Errno::EINVAL);
        }
        // Like the kernel: no NUL, silently truncated to the buffer.
        let exe = host_path_to_guest(process.rootfs.as_deref(), &process.exe_path);
        let exe = exe.as_os_str().as_bytes();
        let len = exe.len().min(bufsiz as usize);
        guest_mem::write_bytes(buf, &exe[..len])?;
        return Ok(len as u64);
    }
    const PATHS: &[PathArg] = &[PathArg::no_follow(1)];
    process.with_host_paths(a, PATHS, |a| host::syscall(libc::SYS_readlinkat, &a[..4]))
}

/// Whether the guest path is one of the names of our own `exe` link.
fn names_own_exe(path: u64) -> Result<bool, Errno> {
    const LONGEST: usize = "/proc/thread-self/exe".len() + 12;
    let Some(path) = guest_mem::read_cstr(path, LONGEST)? else {
        return Ok(false);
    };
    Ok(proc::names_own(&path, b"exe"))
}

/// getcwd(buf, size): a directory inside the root filesystem reads as the
/// guest path that names it there.
pub(crate) fn getcwd(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let Some(root) = ctx.process.rootfs.as_deref() else {
        return host::syscall(libc::SYS_getcwd, &a[..2]);
    };
    let mut buf = vec![0u8; PATH_MAX];
    let n = host::syscall(
        libc::SYS_getcwd,
        &[host::ptr_mut(buf.as_mut_ptr()), PATH_MAX as u64],
    )? as usize;
    // The length counts the NUL.
    let cwd = Path::new(OsStr::from_bytes(&buf[..n.saturating_sub(1)]));
    let guest = host_path_to_guest(Some(root), cwd);
    let mut bytes = guest.as_os_str().as_bytes().to_vec();
    bytes.push(0);
    if bytes.len() > a[1] as usize {
        return Err(Errno(libc::ERANGE));
    }
    guest_mem::write_bytes(a[0], &bytes)?;
    Ok(bytes.len() as u64)
}

/// Reads `[atime, mtime]` as two `struct timeval` (same on both ABIs) and
/// returns them as `struct timespec` for utimensat.
fn timevals_to_timespecs(guest: u64) -> Result<[libc::timespec; 2], Errno> {
    let tv: [libc::timeval; 2] = guest_mem::read(guest)?;
    let mut ts = [libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    }; 2];
    for (t, v) in ts.iter_mut().zip(tv) {
        if v.tv_usec < 0 || v.tv_usec >= 1_000_000 {
            return Err(Errno::EINVAL);
        }
        *t = libc::timespec {
            tv_sec: v.tv_sec,
            tv_nsec: v.tv_usec * 1000,
        };
    }
    Ok(ts)
}

/// utimensat with optional converted times (`None`: now, as for a NULL pointer).
fn utimensat(dirfd: u64, path: u64, times: Option<[libc::timespec; 2]>) -> SysResult {
    let times_ptr = times.as_ref().map_or(0, |t| host::ptr(t.as_ptr()));
    host::syscall(libc::SYS_utimensat, &[dirfd, path, times_ptr, 0])
}

pub(crate) fn utimes(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let times = if a[1] == 0 {
        None
    } else {
        Some(timevals_to_timespecs(a[1])?)
    };
    ctx.process
        .with_host_paths(a, FOLLOWS_0, |a| utimensat(AT_FDCWD, a[0], times))
}

pub(crate) fn futimesat(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let times = if a[2] == 0 {
        None
    } else {
        Some(timevals_to_timespecs(a[2])?)
    };
    const PATHS: &[PathArg] = &[PathArg::follows(1)];
    ctx.process
        .with_host_paths(a, PATHS, |a| utimensat(a[0], a[1], times))
}

/// utime(path, struct utimbuf { time_t actime, modtime; }).
pub(crate) fn utime(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let times = if a[1] == 0 {
        None
    } else {
        let [actime, modtime]: [i64; 2] = guest_mem::read(a[1])?;
        Some([actime, modtime].map(|s| libc::timespec {
            tv_sec: s,
            tv_nsec: 0,
        }))
    };
    ctx.process
        .with_host_paths(a, FOLLOWS_0, |a| utimensat(AT_FDCWD, a[0], times))
}
