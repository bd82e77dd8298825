//! rt_sigtimedwait (sigwaitinfo, sigtimedwait, sigwait): a [`HELD`] signal
//! the guest blocks waits in the runtime's queue, which the kernel never
//! sees, so the wait takes such an instance from there first; the kernel
//! itself dequeues synchronous signals (these) before any other. Otherwise
//! the kernel waits.

use super::mask::HELD;
use super::SIGSET_SIZE;
use crate::guest_mem;
use crate::host::{self, Errno, SysResult};
use crate::{Args, Ctx};

/// rt_sigtimedwait(set, info, timeout, sigsetsize), with the kernel's order
/// of checks (kernel/signal.c).
pub(crate) fn rt_sigtimedwait(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let (set, info, timeout) = (a[0], a[1], a[2]);
    if a[3] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let set: u64 = guest_mem::read(set)?;
    if timeout != 0 {
        let [sec, nsec]: [i64; 2] = guest_mem::read(timeout)?;
        if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
            return Err(Errno::EINVAL);
        }
    }
    match ctx.thread.take_held_signal(set & HELD) {
        Some(siginfo) => {
            if info != 0 {
                guest_mem::write_bytes(info, &siginfo)?;
            }
            Ok(u64::from(u32::from_ne_bytes(siginfo[..4].try_into().expect("4 bytes"))))
        }
        None => host::interruptible_syscall(libc::SYS_rt_sigtimedwait, a),
    }
}
