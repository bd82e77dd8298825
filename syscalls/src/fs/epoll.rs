//! epoll: `struct epoll_event` is packed (12 bytes) on x86_64 and 16 bytes on
//! aarch64, so events are converted both ways.

use crate::abi::epoll::X86EpollEvent;
use crate::guest_mem;
use crate::host::{self, Errno, SysResult};
use crate::{Args, Ctx};

/// Most events one wait returns; a guest asking for more just gets them
/// over several waits, as epoll allows.
const MAX_EVENTS: usize = 1024;

pub(crate) fn epoll_create(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    // The size hint only has to be positive (fs/eventpoll.c).
    if a[0] as i32 <= 0 {
        return Err(Errno::EINVAL);
    }
    host::syscall(libc::SYS_epoll_create1, &[0])
}

/// epoll_ctl(epfd, op, fd, event).
pub(crate) fn epoll_ctl(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    // EPOLL_CTL_DEL ignores the event; other ops must read it (EFAULT if bad).
    let event = if a[1] as i32 == libc::EPOLL_CTL_DEL || a[3] == 0 {
        None
    } else {
        Some(guest_mem::read::<X86EpollEvent>(a[3])?.to_host())
    };
    let event_ptr = event.as_ref().map_or(0, |e| host::ptr(e));
    host::syscall(libc::SYS_epoll_ctl, &[a[0], a[1], a[2], event_ptr])
}

/// Waits into a host buffer with `wait(host_events, maxevents)` and copies
/// the events out to the guest's array in the x86_64 layout.
fn wait_converted(
    guest_events: u64,
    maxevents: u64,
    wait: impl FnOnce(u64, u64) -> SysResult,
) -> SysResult {
    let max = maxevents as i32;
    if max <= 0 {
        return Err(Errno::EINVAL);
    }
    let max = (max as usize).min(MAX_EVENTS);
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; max];
    let n = wait(host::ptr_mut(events.as_mut_ptr()), max as u64)? as usize;
    let mut out = Vec::with_capacity(n * size_of::<X86EpollEvent>());
    for ev in &events[..n] {
        out.extend_from_slice(guest_mem::as_bytes(&X86EpollEvent::from_host(ev)));
    }
    guest_mem::write_bytes(guest_events, &out)?;
    Ok(n as u64)
}

/// epoll_wait(epfd, events, maxevents, timeout_ms).
pub(crate) fn epoll_wait(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    wait_converted(a[1], a[2], |ev, max| {
        host::interruptible_syscall(libc::SYS_epoll_pwait, &[a[0], ev, max, a[3], 0, 8])
    })
}

/// epoll_pwait(epfd, events, maxevents, timeout_ms, sigmask, sigsetsize).
pub(crate) fn epoll_pwait(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    wait_converted(a[1], a[2], |ev, max| {
        host::interruptible_syscall(libc::SYS_epoll_pwait, &[a[0], ev, max, a[3], a[4], a[5]])
    })
}

/// epoll_pwait2: like epoll_pwait with a `struct timespec *` timeout (same layout).
pub(crate) fn epoll_pwait2(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    wait_converted(a[1], a[2], |ev, max| {
        host::interruptible_syscall(libc::SYS_epoll_pwait2, &[a[0], ev, max, a[3], a[4], a[5]])
    })
}
