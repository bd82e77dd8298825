//! Files and file descriptors.
//!
//! aarch64 has only the `*at` forms of path syscalls, so the legacy x86_64
//! ones are rewritten to them with `AT_FDCWD`. Absolute paths are looked up
//! in the root filesystem first (`rootfs`), and part of `/proc` describes
//! the guest rather than Transit (`proc`).

pub(crate) mod dir;
pub(crate) mod epoll;
pub(crate) mod fd;
pub(crate) mod file_writes;
pub(crate) mod open;
pub(crate) mod path;
pub(crate) mod poll;
pub(crate) mod proc;
pub(crate) mod rootfs;
pub(crate) mod stat;

/// `AT_FDCWD` (-100 on both) as a syscall argument register.
const AT_FDCWD: u64 = libc::AT_FDCWD as i64 as u64;
