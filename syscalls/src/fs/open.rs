//! open, openat, creat, openat2, open_by_handle_at: the `O_*` flags need
//! converting, and the path goes through `/proc` views and the root filesystem.

use super::rootfs::read_guest_path;
use super::{proc, AT_FDCWD};
use crate::abi::fcntl::{open_flags_to_host, X86_O_NOFOLLOW};
use crate::host::{self, Errno, SysResult};
use crate::{Args, Ctx, GuestProcess};

/// `O_CREAT | O_EXCL` (same on both ABIs) never follows a last symbolic link.
const CREATE_EXCLUSIVE: u64 = (libc::O_CREAT | libc::O_EXCL) as u64;

/// Whether an open with these guest flags follows a symbolic link in the
/// last component.
fn open_follows(guest_flags: u64) -> bool {
    guest_flags & X86_O_NOFOLLOW == 0 && guest_flags & CREATE_EXCLUSIVE != CREATE_EXCLUSIVE
}

/// Opens guest path `path` (relative to `dirfd`): a generated `/proc`
/// file, or the file the path names for the guest.
fn open_guest_path(
    process: &GuestProcess,
    dirfd: u64,
    path: u64,
    guest_flags: u64,
    mode: u64,
) -> SysResult {
    let name = read_guest_path(path);
    if let Some(served) = name
        .as_deref()
        .and_then(|name| proc::open(process, name, guest_flags))
    {
        return served;
    }
    let host_path = process.host_path_arg(path, name.as_deref(), open_follows(guest_flags));
    host::syscall(
        libc::SYS_openat,
        &[
            dirfd,
            host_path.ptr(),
            open_flags_to_host(guest_flags),
            mode,
        ],
    )
}

pub(crate) fn open(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    open_guest_path(ctx.process, AT_FDCWD, a[0], a[1], a[2])
}

pub(crate) fn openat(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    open_guest_path(ctx.process, a[0], a[1], a[2], a[3])
}

/// creat(path, mode) is open(path, O_CREAT|O_WRONLY|O_TRUNC, mode) (fs/open.c).
pub(crate) fn creat(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let flags = (libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC) as u64;
    open_guest_path(ctx.process, AT_FDCWD, a[0], flags, a[1])
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
/// `RESOLVE_*` (include/uapi/linux/openat2.h): with IN_ROOT or BENEATH an
/// absolute path is the kernel's business relative to dirfd, never ours.
const RESOLVE_NO_SYMLINKS: u64 = 0x04;
const RESOLVE_BENEATH: u64 = 0x08;
const RESOLVE_IN_ROOT: u64 = 0x10;

/// openat2(dirfd, path, how, size): the O_* flags inside `how` are converted.
pub(crate) fn openat2(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let size = a[3] as usize;
    if size < OPEN_HOW_SIZE {
        return Err(Errno::EINVAL);
    }
    if size > OPEN_HOW_MAX {
        return Err(Errno(libc::E2BIG));
    }
    let mut how = vec![0u8; size];
    crate::guest_mem::read_bytes(a[2], &mut how)?;
    let word = |i: usize| u64::from_ne_bytes(how[8 * i..8 * i + 8].try_into().expect("8 bytes"));
    let (flags, resolve) = (word(0), word(2));
    let name = read_guest_path(a[1]);
    if let Some(served) = name
        .as_deref()
        .and_then(|name| proc::open(ctx.process, name, flags))
    {
        return served;
    }
    let host_path = if resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0 {
        ctx.process.host_path_arg(a[1], None, false)
    } else {
        let follow = open_follows(flags) && resolve & RESOLVE_NO_SYMLINKS == 0;
        ctx.process.host_path_arg(a[1], name.as_deref(), follow)
    };
    how[..8].copy_from_slice(&open_flags_to_host(flags).to_ne_bytes());
    host::syscall(
        libc::SYS_openat2,
        &[a[0], host_path.ptr(), host::ptr(how.as_ptr()), size as u64],
    )
}
