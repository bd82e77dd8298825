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

/// `struct open_how` (include/uapi/linux/openat2.h): flags, mode, resolve,
/// all u64; a caller may pass a larger, zero-extended version of it.
const OPEN_HOW_SIZE: usize = 24;
/// Larger than any open_how a guest can mean (the kernel says E2BIG past a page).
const OPEN_HOW_MAX: usize = 4096;

/// openat2(dirfd, path, how, size): the O_* flags inside `how` are converted.
pub(crate) fn openat2(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let size = a[3] as usize;
    if size < OPEN_HOW_SIZE {
        return Err(crate::host::Errno::EINVAL);
    }
    if size > OPEN_HOW_MAX {
        return Err(crate::host::Errno(libc::E2BIG));
    }
    let mut how = vec![0u8; size];
    crate::guest_mem::read_bytes(a[2], &mut how)?;
    let flags = u64::from_ne_bytes(how[..8].try_into().expect("8 bytes"));
    how[..8].copy_from_slice(&open_flags_to_host(flags).to_ne_bytes());
    host::syscall(
        libc::SYS_openat2,
        &[a[0], a[1], host::ptr(how.as_ptr()), size as u64],
    )
}
