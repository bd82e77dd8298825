//! Time syscalls that aarch64 lacks. The rest (clock_gettime, nanosleep,
//! gettimeofday, ...) pass through: struct timespec and timeval agree.

use crate::guest_mem;
use crate::host::{self, SysResult};
use crate::{Args, Ctx};

/// time(tloc): seconds since the epoch, also stored at `tloc` if non-null.
pub(crate) fn time(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    host::syscall(
        libc::SYS_clock_gettime,
        &[libc::CLOCK_REALTIME as u64, host::ptr_mut(&mut ts)],
    )?;
    let secs: i64 = ts.tv_sec;
    if a[0] != 0 {
        guest_mem::write(a[0], &secs)?;
    }
    Ok(secs as u64)
}

/// alarm(seconds) is setitimer(ITIMER_REAL), returning the seconds that
/// were left, rounded as kernel/time/itimer.c does.
pub(crate) fn alarm(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let zero = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    let new = libc::itimerval {
        it_interval: zero,
        it_value: libc::timeval {
            tv_sec: (a[0] as u32).into(),
            tv_usec: 0,
        },
    };
    let mut old = libc::itimerval {
        it_interval: zero,
        it_value: zero,
    };
    host::syscall(
        libc::SYS_setitimer,
        &[
            libc::ITIMER_REAL as u64,
            host::ptr(&new),
            host::ptr_mut(&mut old),
        ],
    )?;
    let left = old.it_value;
    let mut secs = left.tv_sec as u64;
    // Round to nearest, but never report a pending alarm as 0.
    if (secs == 0 && left.tv_usec != 0) || left.tv_usec >= 500_000 {
        secs += 1;
    }
    Ok(secs)
}
