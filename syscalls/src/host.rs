//! The one place that enters the host kernel.
//!
//! Errno values are the same on x86_64 and aarch64 (both use
//! `asm-generic/errno.h`), so a host errno is returned to the guest unchanged.

use std::fmt;

/// A Linux errno value (positive), identical for guest and host.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const EFAULT: Errno = Errno(libc::EFAULT);
    pub const EINVAL: Errno = Errno(libc::EINVAL);
    pub const ENOSYS: Errno = Errno(libc::ENOSYS);
    pub const ENOTTY: Errno = Errno(libc::ENOTTY);
    pub const EPERM: Errno = Errno(libc::EPERM);
    pub const ENOMEM: Errno = Errno(libc::ENOMEM);

    fn last() -> Errno {
        Errno(
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        )
    }

    /// The value the x86_64 kernel leaves in RAX for this error.
    pub fn to_rax(self) -> u64 {
        (-(self.0 as i64)) as u64
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Errno({})", std::io::Error::from_raw_os_error(self.0))
    }
}

/// What a syscall handler produces: the success value or an errno.
pub(crate) type SysResult = Result<u64, Errno>;

/// Calls the host syscall `nr` (a host number from `libc::SYS_*`) with up to
/// six arguments; missing ones are zero.
///
/// Guest registers go in whole: for `int` parameters both kernels look only
/// at the low 32 bits, so stale upper bits mean the same on both.
pub(crate) fn syscall(nr: libc::c_long, args: &[u64]) -> SysResult {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: the kernel validates every argument and reports bad pointers
    // with EFAULT. Guest memory is mapped at the same addresses in our own
    // address space, so a guest pointer means the same to the kernel as it
    // does to the guest; callers only forward arguments whose layout matches
    // what the host kernel expects for `nr`.
    let r = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    // glibc's syscall() maps every kernel error (-4095..-1) to -1 + errno;
    // no successful syscall returns -1.
    if r == -1 {
        Err(Errno::last())
    } else {
        Ok(r as u64)
    }
}

/// `syscall` for pointers to host-side buffers of the calling handler.
pub(crate) fn ptr<T>(p: *const T) -> u64 {
    p as usize as u64
}

pub(crate) fn ptr_mut<T>(p: *mut T) -> u64 {
    p as usize as u64
}
