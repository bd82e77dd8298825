//! The signal state Transit's parent left it: what the guest must start
//! with (`SignalState::start`). Rust's runtime ignores SIGPIPE for itself
//! before `main` runs, so the state is read earlier, from an `.init_array`
//! entry (glibc runs those before `main`, after its own start-up). Stable
//! Rust has no other way to see the inherited disposition while keeping
//! std's runtime: `#[unix_sigpipe]` and `-Zon-broken-pipe=inherit` are
//! nightly-only, and a `#![no_main]` C `main` would skip the rest of std's
//! start-up too (the stack-overflow report, the main thread's handle).
//! Only `transit PROGRAM` gives the guest this state; `transit mirror`, a
//! server, keeps SIGPIPE ignored.

use std::sync::atomic::{AtomicU64, Ordering};

use transit_syscalls::signal::InheritedSignals;

static IGNORED: AtomicU64 = AtomicU64::new(0);
static BLOCKED: AtomicU64 = AtomicU64::new(0);

/// What Transit inherited from its parent.
pub fn inherited() -> InheritedSignals {
    InheritedSignals { ignored: IGNORED.load(Ordering::Relaxed), blocked: BLOCKED.load(Ordering::Relaxed) }
}

#[used]
#[link_section = ".init_array"]
static RECORD_AT_START: extern "C" fn() = record;

/// The kernel's `struct sigaction` (the part before the mask is what is read).
#[repr(C)]
#[derive(Default)]
struct KernelSigaction {
    handler: usize,
    flags: u64,
    restorer: u64,
    mask: u64,
}

extern "C" fn record() {
    let mut ignored = 0u64;
    for sig in 1..=64 {
        let mut old = KernelSigaction::default();
        // SAFETY: a query (no new action) into a kernel-sized struct; the
        // raw call, as glibc's sigaction refuses signals 32 and 33.
        let r = unsafe { libc::syscall(libc::SYS_rt_sigaction, sig, std::ptr::null::<KernelSigaction>(), &mut old, 8usize) };
        if r == 0 && old.handler == libc::SIG_IGN {
            ignored |= 1 << (sig - 1);
        }
    }
    let mut blocked = 0u64;
    // SAFETY: a query of the thread's mask into an 8-byte kernel sigset.
    unsafe { libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_BLOCK, std::ptr::null::<u64>(), &mut blocked, 8usize) };
    IGNORED.store(ignored, Ordering::Relaxed);
    BLOCKED.store(blocked, Ordering::Relaxed);
}
