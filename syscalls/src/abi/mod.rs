//! x86_64 structure layouts and flag values that differ from aarch64's,
//! with their conversions.
//!
//! Most of the two ABIs agree: both are LP64 little-endian and both take
//! errno, signal numbers, ioctl numbers, termios, `struct timespec`,
//! `struct timeval`, `struct rusage`, `struct sysinfo`, `struct statfs`,
//! `struct utsname`, `struct iovec`, `struct pollfd`, `struct sockaddr`,
//! `struct msghdr`, `siginfo_t`, `struct statx` and `struct rlimit64` from
//! the kernel's `asm-generic` headers. What differs lives here:
//! - `struct stat`: x86_64 has its own 144-byte layout (arch/x86/include/uapi/asm/stat.h).
//! - four `O_*` bits: arm64 overrides them (arch/arm64/include/uapi/asm/fcntl.h).
//! - `struct epoll_event`: packed on x86_64 only (include/uapi/linux/eventpoll.h).
//! - `struct linux_dirent`: the legacy getdents record, which aarch64 lacks.
//! - `struct sigaction`: x86_64 has `sa_restorer`; we only record it.

pub mod dirent;
pub mod epoll;
pub mod fcntl;
pub mod signal;
pub mod stat;

#[cfg(test)]
mod identical;
#[cfg(test)]
pub(crate) mod oracle;
