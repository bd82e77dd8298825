//! The guest's blocked signal mask. It is the host thread's own mask, so
//! that blocking, pending, sigsuspend and signalfd behave as the kernel
//! makes them, except for the signals Transit must catch whenever they
//! happen ([`HELD`]: a write to translated code, a probe of guest memory
//! fault with SIGSEGV or SIGBUS). The kernel kills a thread whose fault
//! signal is blocked, so the host never blocks those; the guest's blocking
//! of them is kept per thread here, and an instance sent to a thread that
//! blocks one waits in the runtime's queue until the guest unblocks it
//! (rt_sigpending reports it; an execve sends it back to the kernel's queue).
//!
//! The host also blocks a real-time signal while the runtime's queue for it
//! is full ([`throttle`]): further instances wait in the kernel's own queue
//! (as deep as RLIMIT_SIGPENDING allows) until the runtime has taken one.
//! The guest's view of the mask does not show it.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{sig_bit, FAULT_SIGNALS, SIGSET_SIZE, UNBLOCKABLE};
use crate::guest_mem;
use crate::host::{self, Errno, SysResult};
use crate::{Args, Ctx};

/// The signals whose guest state Transit holds itself rather than the host:
/// the host keeps the runtime's handler for them and never blocks them.
pub const HELD: u64 = {
    let mut set = 0;
    let mut i = 0;
    while i < FAULT_SIGNALS.len() {
        set |= sig_bit(FAULT_SIGNALS[i]);
        i += 1;
    }
    set
};

thread_local! {
    /// The [`HELD`] signals this guest thread blocks. A forked child keeps
    /// the forking thread's copy, as its mask; a new guest thread gets its
    /// creator's through `set_guest_mask`.
    static HELD_BLOCKED: Cell<u64> = const { Cell::new(0) };
    /// Signals the host blocks for this thread because the runtime's queue
    /// for them is full; written by the runtime's signal handler.
    static THROTTLED: AtomicU64 = const { AtomicU64::new(0) };
    /// The mask the guest last set, for the throttled signals' part of it.
    static LAST_SET: AtomicU64 = const { AtomicU64::new(0) };
}

/// The calling guest thread's blocked mask.
pub fn guest_mask() -> u64 {
    let throttled = THROTTLED.with(|t| t.load(Ordering::Acquire));
    let wanted = LAST_SET.with(|m| m.load(Ordering::Relaxed));
    // The host's blocking of a held signal is never the guest's (see
    // `set_starting_mask` and `SignalState::lend_to_host`).
    (host_mask() & !throttled & !HELD) | (wanted & throttled) | HELD_BLOCKED.with(Cell::get)
}

/// Sets the calling guest thread's blocked mask; SIGKILL and SIGSTOP are
/// never blocked.
pub fn set_guest_mask(mask: u64) {
    let mask = record_guest_mask(mask);
    set_host_mask((mask & !HELD) | THROTTLED.with(|t| t.load(Ordering::Acquire)));
}

/// Keeps the guest's view of `mask`, less SIGKILL and SIGSTOP; returns that.
fn record_guest_mask(mask: u64) -> u64 {
    let mask = mask & !UNBLOCKABLE;
    HELD_BLOCKED.with(|held| held.set(mask & HELD));
    LAST_SET.with(|m| m.store(mask, Ordering::Relaxed));
    mask
}

/// Sets the mask a program starts with, while the host also blocks every
/// [`HELD`] signal until [`release_held`]: an instance the previous program
/// left pending (execve keeps the kernel's pending signals) must wait in
/// the kernel until the runtime can queue it for this thread.
pub(super) fn set_starting_mask(mask: u64) {
    set_host_mask(record_guest_mask(mask) | HELD);
}

/// The runtime can now queue [`HELD`] signals for this thread: the host
/// stops blocking them (see [`set_starting_mask`]).
pub fn release_held() {
    set_host_mask(host_mask() & !HELD);
}

/// For the runtime's signal handler: the queue for `sig` is full, so the
/// host keeps `sig` blocked for this thread (the handler also blocks it in
/// the mask its return restores) until [`unthrottle`]. Async-signal-safe.
pub fn throttle(sig: i32) {
    THROTTLED.with(|t| t.fetch_or(sig_bit(sig), Ordering::AcqRel));
}

/// The runtime's queue is empty (a forked child's).
pub fn unthrottle_all() {
    THROTTLED.with(|t| t.store(0, Ordering::Release));
}

/// The runtime took an instance of `sig` from its queue: the host may let
/// the next one through at the next [`set_guest_mask`].
pub fn unthrottle(sig: i32) {
    THROTTLED.with(|t| t.fetch_and(!sig_bit(sig), Ordering::AcqRel));
}

fn host_mask() -> u64 {
    let mut old = 0u64;
    // rt_sigprocmask cannot fail with a null set and a valid size.
    let _ = host::syscall(libc::SYS_rt_sigprocmask, &[libc::SIG_BLOCK as u64, 0, host::ptr_mut(&mut old), SIGSET_SIZE]);
    old
}

/// Sets the host thread's mask: an exec the kernel completes by itself
/// then carries the held signals the guest blocks too.
pub(super) fn set_host_mask(mask: u64) {
    let _ = host::syscall(libc::SYS_rt_sigprocmask, &[libc::SIG_SETMASK as u64, host::ptr(&mask), 0, SIGSET_SIZE]);
}

/// rt_sigpending(set, sigsetsize): the blocked signals waiting, in the
/// kernel's queues or in the runtime's (a [`HELD`] signal the guest blocks).
pub(crate) fn rt_sigpending(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    if a[1] > SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mut in_kernel = 0u64;
    host::syscall(libc::SYS_rt_sigpending, &[host::ptr_mut(&mut in_kernel), SIGSET_SIZE])?;
    let pending = (in_kernel | ctx.thread.signals_held_by_runtime()) & guest_mask();
    guest_mem::write_bytes(a[0], &pending.to_ne_bytes()[..a[1] as usize])?;
    Ok(0)
}

/// rt_sigprocmask(how, set, oldset, sigsetsize), with the kernel's order of
/// checks (kernel/signal.c).
pub(crate) fn rt_sigprocmask(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let (how, set, oldset) = (a[0] as i32, a[1], a[2]);
    if a[3] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let old = guest_mask();
    if set != 0 {
        let set: u64 = guest_mem::read(set)?;
        let new = match how {
            libc::SIG_BLOCK => old | set,
            libc::SIG_UNBLOCK => old & !set,
            libc::SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        };
        set_guest_mask(new);
        if old & !new != 0 {
            // The runtime's queue may hold an instance that can go now (a
            // held signal, or one that arrived while this call ran): the
            // kernel delivers it before the call returns to user mode.
            host::request_interrupt();
        }
    }
    if oldset != 0 {
        guest_mem::write(oldset, &old)?;
    }
    Ok(0)
}
