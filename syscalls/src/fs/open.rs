//! open, openat, creat, open_by_handle_at: the `O_*` flags need converting.

use super::AT_FDCWD;
use crate::abi::fcntl::open_flags_to_host;
use crate::host::{self, SysResult};
use crate::{Args, Ctx};

fn openat_host(dirfd: u64, path: u64, guest_flags: u64, mode: u64) -> SysResult {
    host::syscall(
        libc::SYS_openat,
        &[dirfd, path, open_flags_to_host(guest_flags), mode],
    )
}

pub(crate) fn open(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    openat_host(AT_FDCWD, a[0], a[1], a[2])
}

pub(crate) fn openat(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    openat_host(a[0], a[1], a[2], a[3])
}

/// creat(path, mode) is open(path, O_CREAT|O_WRONLY|O_TRUNC, mode) (fs/open.c).
pub(crate) fn creat(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let flags = (libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC) as u64;
    openat_host(AT_FDCWD, a[0], flags, a[1])
}

pub(crate) fn open_by_handle_at(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    host::syscall(
        libc::SYS_open_by_handle_at,
        &[a[0], a[1], open_flags_to_host(a[2])],
    )
}
