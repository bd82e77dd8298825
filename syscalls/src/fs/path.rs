//! Path syscalls: the legacy x86_64 forms become their `*at` forms, and
//! readlink of `/proc/self/exe` names the guest executable, not Transit.

use super::AT_FDCWD;
use crate::guest_mem;
use crate::host::{self, Errno, SysResult};
use crate::{Args, Ctx};

const REMOVEDIR: u64 = libc::AT_REMOVEDIR as u64;
const NOFOLLOW: u64 = libc::AT_SYMLINK_NOFOLLOW as u64;

pub(crate) fn access(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_faccessat, &[AT_FDCWD, a[0], a[1]])
}

pub(crate) fn mkdir(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_mkdirat, &[AT_FDCWD, a[0], a[1]])
}

pub(crate) fn mknod(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_mknodat, &[AT_FDCWD, a[0], a[1], a[2]])
}

pub(crate) fn rmdir(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_unlinkat, &[AT_FDCWD, a[0], REMOVEDIR])
}

pub(crate) fn unlink(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_unlinkat, &[AT_FDCWD, a[0], 0])
}

// renameat2 with no flags is renameat; aarch64 builds may lack renameat.
pub(crate) fn rename(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_renameat2, &[AT_FDCWD, a[0], AT_FDCWD, a[1], 0])
}

pub(crate) fn renameat(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_renameat2, &[a[0], a[1], a[2], a[3], 0])
}

pub(crate) fn link(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_linkat, &[AT_FDCWD, a[0], AT_FDCWD, a[1], 0])
}

pub(crate) fn symlink(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_symlinkat, &[a[0], AT_FDCWD, a[1]])
}

pub(crate) fn chmod(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_fchmodat, &[AT_FDCWD, a[0], a[1]])
}

pub(crate) fn chown(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_fchownat, &[AT_FDCWD, a[0], a[1], a[2], 0])
}

pub(crate) fn lchown(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(libc::SYS_fchownat, &[AT_FDCWD, a[0], a[1], a[2], NOFOLLOW])
}

pub(crate) fn readlink(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    readlinkat(ctx, &[AT_FDCWD, a[0], a[1], a[2], 0, 0])
}

/// readlinkat(dirfd, path, buf, bufsiz).
pub(crate) fn readlinkat(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let (path, buf, bufsiz) = (a[1], a[2], a[3] as i32);
    if names_own_exe(path)? && !ctx.process.exe_path.as_os_str().is_empty() {
        if bufsiz <= 0 {
            return Err(Errno::EINVAL);
        }
        // Like the kernel: no NUL, silently truncated to the buffer.
        let exe = ctx.process.exe_path.as_os_str().as_encoded_bytes();
        let len = exe.len().min(bufsiz as usize);
        guest_mem::write_bytes(buf, &exe[..len])?;
        return Ok(len as u64);
    }
    host::syscall(libc::SYS_readlinkat, &a[..4])
}

/// Whether the guest path is one of the names of our own `exe` link.
fn names_own_exe(path: u64) -> Result<bool, Errno> {
    const LONGEST: usize = "/proc/thread-self/exe".len() + 12;
    let Some(path) = guest_mem::read_cstr(path, LONGEST)? else {
        return Ok(false);
    };
    // SAFETY: getpid has no preconditions.
    let pid = unsafe { libc::getpid() };
    let own = format!("/proc/{pid}/exe");
    Ok(path == b"/proc/self/exe" || path == b"/proc/thread-self/exe" || path == own.as_bytes())
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

pub(crate) fn utimes(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let times = if a[1] == 0 {
        None
    } else {
        Some(timevals_to_timespecs(a[1])?)
    };
    utimensat(AT_FDCWD, a[0], times)
}

pub(crate) fn futimesat(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let times = if a[2] == 0 {
        None
    } else {
        Some(timevals_to_timespecs(a[2])?)
    };
    utimensat(a[0], a[1], times)
}

/// utime(path, struct utimbuf { time_t actime, modtime; }).
pub(crate) fn utime(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let times = if a[1] == 0 {
        None
    } else {
        let [actime, modtime]: [i64; 2] = guest_mem::read(a[1])?;
        Some([actime, modtime].map(|s| libc::timespec {
            tv_sec: s,
            tv_nsec: 0,
        }))
    };
    utimensat(AT_FDCWD, a[0], times)
}
