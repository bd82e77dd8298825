//! poll and select, which aarch64 only has as ppoll and pselect6.

use crate::guest_mem;
use crate::host::{self, Errno, SysResult};
use crate::{Args, Ctx};

/// poll(fds, nfds, timeout_ms): struct pollfd and POLL* agree on both ABIs.
pub(crate) fn poll(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let timeout_ms = a[2] as i32;
    // A negative timeout waits forever: ppoll's NULL.
    let ts = (timeout_ms >= 0).then(|| libc::timespec {
        tv_sec: (timeout_ms / 1000).into(),
        tv_nsec: ((timeout_ms % 1000) * 1_000_000).into(),
    });
    let ts_ptr = ts.as_ref().map_or(0, |t| host::ptr(t));
    host::interruptible_syscall(libc::SYS_ppoll, &[a[0], a[1], ts_ptr, 0, 0])
}

/// select(nfds, readfds, writefds, exceptfds, timeout): pselect6 takes a
/// timespec and leaves the remaining time in it; Linux's select writes the
/// remaining time back into the guest's timeval, so we do too.
pub(crate) fn select(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let guest_tv = a[4];
    let mut ts = if guest_tv == 0 {
        None
    } else {
        let tv: libc::timeval = guest_mem::read(guest_tv)?;
        if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
            return Err(Errno::EINVAL);
        }
        Some(libc::timespec {
            tv_sec: tv.tv_sec,
            tv_nsec: tv.tv_usec * 1000,
        })
    };
    let ts_ptr = ts.as_mut().map_or(0, |t| host::ptr_mut(t));
    let result = host::interruptible_syscall(libc::SYS_pselect6, &[a[0], a[1], a[2], a[3], ts_ptr, 0]);
    if let Some(ts) = ts {
        let left = libc::timeval {
            tv_sec: ts.tv_sec,
            tv_usec: ts.tv_nsec / 1000,
        };
        // As in fs/select.c: failing to report the time left is not an error.
        let _ = guest_mem::write(guest_tv, &left);
    }
    result
}
