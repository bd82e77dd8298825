//! Signal dispositions, masks and alternate stacks of the guest.
//!
//! Signal numbers and `sigset_t` (64 bits) are the same on both ABIs.
//! Dispositions are recorded here and mirrored on the host: a guest handler
//! becomes the runtime's host handler (`SignalState::host_handler`), which
//! queues the signal for delivery to guest code; SIG_IGN and SIG_DFL go to
//! the host as they are, so the kernel applies them itself, until the guest
//! has once caught the signal: from then on the host keeps the runtime's
//! handler, which drops what the guest ignores ([`discarded_on_arrival`])
//! and queues the rest (see `SignalState::caught`). The signals
//! translated code raises as faults always keep the runtime's handler.
//! The blocked mask is the host thread's own mask, but for those (`mask`).
//! What a program starts with, and passes on across execve: `inherit`.
//! Alternate stacks are per thread, kept per host thread id (guest threads
//! are host threads).

mod inherit;
pub(crate) mod mask;
mod wait;

pub use inherit::{parse_signal_list, signal_list, InheritedSignals};
pub(crate) use mask::{rt_sigpending, rt_sigprocmask};
pub(crate) use wait::rt_sigtimedwait;
pub use mask::{guest_mask, release_held, set_guest_mask, throttle, unthrottle, unthrottle_all, HELD};

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::abi::signal::{GuestStack, X86SigAction};
use crate::guest_mem;
use crate::host::{self, Errno, SysResult};
use crate::{Args, Ctx};

/// Signals 1..=64 (`_NSIG`).
const NSIG: usize = 64;
/// The kernel's `sigset_t` size; rt_* syscalls reject any other.
const SIGSET_SIZE: u64 = 8;
/// SIGKILL and SIGSTOP cannot be caught or blocked.
const UNBLOCKABLE: u64 = sig_bit(libc::SIGKILL) | sig_bit(libc::SIGSTOP);

// sigaltstack flags (include/uapi/linux/signal.h) and x86_64 MINSIGSTKSZ.
const SS_ONSTACK: i32 = 1;
const SS_DISABLE: i32 = 2;
const SS_AUTODISARM: i32 = 1 << 31;
const X86_MINSIGSTKSZ: u64 = 2048;

const fn sig_bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// Signals that translated code raises synchronously: the runtime's host
/// handler stays installed for them whatever the guest's disposition, and
/// the host never blocks them (`mask::HELD`).
pub const FAULT_SIGNALS: [i32; 5] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGTRAP];

// x86_64 sa_flags the host gets too: they change what the kernel does.
const SA_NOCLDSTOP: u64 = 1;
const SA_NOCLDWAIT: u64 = 2;
const SA_RESETHAND: u64 = 0x8000_0000;

/// Signals whose host disposition is the runtime's handler although the
/// guest discards them on arrival: the handler drops them. Read by the
/// handler, so lock-free; one guest process per host process.
static DISCARDED_ON_ARRIVAL: AtomicU64 = AtomicU64::new(0);

/// Whether the runtime's handler drops `sig` (the guest ignores it, by
/// SIG_IGN or by a default action that ignores it). Async-signal-safe.
/// Calls that read or wait on descriptors, a signalfd among them: around
/// them the held instances of blocked fault signals wait in the kernel
/// (`GuestThread::lend_held_signals_to_kernel`), where a signalfd sees them.
pub fn waits_on_descriptors(syscall: &str) -> bool {
    matches!(syscall, "read" | "readv" | "poll" | "ppoll" | "select" | "pselect6" | "epoll_wait" | "epoll_pwait" | "epoll_pwait2")
}

pub fn discarded_on_arrival(sig: i32) -> bool {
    (1..=NSIG as i32).contains(&sig) && DISCARDED_ON_ARRIVAL.load(Ordering::Acquire) & sig_bit(sig) != 0
}

/// The default action of `sig` ignores it (signal(7)).
pub fn default_is_ignore(sig: i32) -> bool {
    matches!(sig, libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH | libc::SIGCONT)
}

/// The default action of `sig` stops the process (SIGSTOP itself is never caught).
pub fn default_is_stop(sig: i32) -> bool {
    matches!(sig, libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU)
}

/// The aarch64 kernel's `struct sigaction` (sa_restorer present, unused:
/// without SA_RESTORER the kernel returns through the vDSO).
#[repr(C)]
#[derive(Default)]
struct KernelSigaction {
    handler: u64,
    flags: u64,
    restorer: u64,
    mask: u64,
}

/// The runtime's host signal handler (an `SA_SIGINFO` handler).
pub type HostHandler = extern "C" fn(i32, *mut libc::siginfo_t, *mut libc::c_void);

/// What the guest asked for, per process and per thread.
#[derive(Debug, Clone)]
pub struct SignalState {
    actions: [X86SigAction; NSIG],
    /// Signals the guest has caught since it started: their host
    /// disposition stays the runtime's handler whatever the guest sets
    /// later. qemu-user, which runs Transit in this project's tests, reads
    /// a handler twice while it delivers a signal: a change from a handler
    /// to SIG_IGN or SIG_DFL between the reads sends the thread to address
    /// 1 or 0. Real kernels read it once, under a lock.
    caught: u64,
    alt_stacks: HashMap<i32, GuestStack>,
    /// Installed on the host for every guest handler; `None` records
    /// dispositions without touching the host (unit tests).
    pub host_handler: Option<HostHandler>,
}

impl Default for SignalState {
    fn default() -> Self {
        SignalState {
            actions: [X86SigAction::default(); NSIG],
            caught: 0,
            alt_stacks: HashMap::new(),
            host_handler: None,
        }
    }
}

fn disabled_stack() -> GuestStack {
    GuestStack {
        flags: SS_DISABLE,
        ..GuestStack::default()
    }
}

impl SignalState {
    /// The guest's action for `sig` (1..=64), as it set it with rt_sigaction.
    pub fn action(&self, sig: i32) -> Option<X86SigAction> {
        self.actions
            .get(usize::try_from(sig).ok()?.checked_sub(1)?)
            .copied()
    }

    /// The action for delivering `sig` (1..=64) now; a handler with
    /// SA_RESETHAND is reset to SIG_DFL in the same step, as the kernel does
    /// under its lock, so that an action another thread sets meanwhile is
    /// not lost.
    pub fn take_for_delivery(&mut self, sig: i32) -> X86SigAction {
        let act = self.action(sig).unwrap_or_default();
        if act.flags & SA_RESETHAND != 0 && !matches!(act.handler, SIG_DFL | SIG_IGN) {
            self.set_action(sig, X86SigAction::default());
        }
        act
    }

    /// Sets the guest's action for `sig` (1..=64) and mirrors it on the host.
    pub fn set_action(&mut self, sig: i32, mut act: X86SigAction) {
        act.mask &= !UNBLOCKABLE;
        self.actions[sig as usize - 1] = act;
        self.apply_on_host(sig);
    }

    /// Installs the guest's dispositions of glibc's internal signals (32 and
    /// 33) again: Transit's own libc claims them when it creates its first
    /// thread, and the guest's libc needs them (cancellation, setuid).
    pub fn reclaim_libc_signals(&mut self) {
        for sig in [32, 33] {
            self.apply_on_host(sig);
        }
    }

    fn apply_on_host(&mut self, sig: i32) {
        let Some(handler) = self.host_handler else { return };
        let bit = sig_bit(sig);
        let act = self.actions[sig as usize - 1];
        let fault = FAULT_SIGNALS.contains(&sig);
        let guest_catches = !matches!(act.handler, SIG_DFL | SIG_IGN);
        if guest_catches && !fault {
            self.caught |= bit;
        }
        // SIG_IGN for SIGCHLD also makes the kernel reap the children,
        // which only the host's SIG_IGN does under qemu-user (it drops
        // SA_NOCLDWAIT): that one goes to the host as it is.
        let reaping = sig == libc::SIGCHLD && act.handler == SIG_IGN;
        let ours = guest_catches || fault || (self.caught & bit != 0 && !reaping);
        let discarded = ours && !fault && !guest_catches && (act.handler == SIG_IGN || default_is_ignore(sig));
        let mut host = KernelSigaction { handler: if ours { handler as usize as u64 } else { act.handler }, ..KernelSigaction::default() };
        if ours {
            // Not SA_RESTART: a blocking syscall returns EINTR so the guest
            // handler runs promptly; the runtime restarts it if the guest
            // asked for SA_RESTART. Everything is blocked while the (short)
            // host handler runs.
            host.flags = (libc::SA_SIGINFO | libc::SA_ONSTACK) as u64;
            host.mask = !0;
        }
        if discarded {
            // The handler drops it: an interrupted call goes on, as it
            // would never have been interrupted.
            host.flags |= libc::SA_RESTART as u64;
        }
        host.flags |= act.flags & (SA_NOCLDSTOP | SA_NOCLDWAIT);
        // Before the host action: the handler must drop whatever arrives
        // once the guest's action ignores it.
        if discarded {
            DISCARDED_ON_ARRIVAL.fetch_or(bit, Ordering::AcqRel);
        } else {
            DISCARDED_ON_ARRIVAL.fetch_and(!bit, Ordering::AcqRel);
        }
        // The raw call, not libc's sigaction: glibc refuses signals 32 and
        // 33, which the guest's own libc uses (thread cancellation, setuid
        // in every thread); Transit's libc never sends them.
        // SAFETY: a valid kernel sigaction; sig is 1..=64 and not
        // SIGKILL/SIGSTOP (rt_sigaction rejected those), or a fault signal.
        let _ = host::syscall(libc::SYS_rt_sigaction, &[sig as u64, host::ptr(&host), 0, SIGSET_SIZE]);
    }

    /// Signals whose host disposition is the runtime's handler even when
    /// the guest ignores them: the fault signals and those it once caught.
    fn kept_by_transit(&self) -> u64 {
        mask::HELD | self.caught
    }

    /// A stop signal whose action is the default reached the runtime
    /// (Transit's handler is installed for it, see [`Self::caught`]): the
    /// process stops as the kernel would stop it, by that signal, and goes
    /// on when continued. Called with every host signal blocked.
    pub fn stop_by_default_action(&mut self, sig: i32) {
        let default = KernelSigaction::default();
        let set = sig_bit(sig);
        let _ = host::syscall(libc::SYS_rt_sigaction, &[sig as u64, host::ptr(&default), 0, SIGSET_SIZE]);
        let _ = host::syscall(libc::SYS_tgkill, &[std::process::id() as u64, current_tid() as u64, sig as u64]);
        // Unblocked, the signal takes: the whole process stops here.
        let _ = host::syscall(libc::SYS_rt_sigprocmask, &[libc::SIG_UNBLOCK as u64, host::ptr(&set), 0, SIGSET_SIZE]);
        let _ = host::syscall(libc::SYS_rt_sigprocmask, &[libc::SIG_BLOCK as u64, host::ptr(&set), 0, SIGSET_SIZE]);
        self.apply_on_host(sig);
    }

    /// The guest's alternate signal stack of host thread `tid`.
    pub fn alt_stack(&self, tid: i32) -> GuestStack {
        self.alt_stacks.get(&tid).copied().unwrap_or_else(disabled_stack)
    }

    /// Sets the alternate stack of host thread `tid` (rt_sigreturn restores it).
    pub fn set_alt_stack(&mut self, tid: i32, stack: GuestStack) {
        self.alt_stacks.insert(tid, stack);
    }

    /// Drops the per-thread record of a thread that exited.
    pub fn forget_thread(&mut self, tid: i32) {
        self.alt_stacks.remove(&tid);
    }

    /// A forked child's thread `child` starts with the alternate stack of
    /// the thread `parent` that forked it (the mask is the host's, which
    /// fork copies).
    pub fn fork_thread(&mut self, parent: i32, child: i32) {
        let inherited = self.alt_stack(parent);
        self.alt_stacks.insert(child, inherited);
    }

    /// Every caught signal back to its default action, ignored ones staying
    /// ignored (the kernel's flush_signal_handlers, for CLONE_CLEAR_SIGHAND).
    pub fn reset_handlers(&mut self) {
        for sig in 1..=NSIG as i32 {
            let action = self.actions[sig as usize - 1];
            if action.handler != SIG_IGN && action != X86SigAction::default() {
                self.set_action(sig, X86SigAction::default());
            }
        }
    }
}

const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;

/// The calling host thread's id.
pub fn current_tid() -> i32 {
    // gettid cannot fail.
    host::syscall(libc::SYS_gettid, &[]).unwrap_or(0) as i32
}

/// rt_sigaction(sig, act, oact, sigsetsize).
pub(crate) fn rt_sigaction(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let (sig, act, oact) = (a[0] as i32, a[1], a[2]);
    if a[3] != SIGSET_SIZE || !(1..=NSIG as i32).contains(&sig) {
        return Err(Errno::EINVAL);
    }
    if act != 0 && (sig == libc::SIGKILL || sig == libc::SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let new = if act == 0 {
        None
    } else {
        Some(guest_mem::read::<X86SigAction>(act)?)
    };
    if oact != 0 {
        let old = ctx.process.signals().actions[sig as usize - 1];
        guest_mem::write(oact, &old)?;
    }
    if let Some(new) = new {
        ctx.process.signals().set_action(sig, new);
    }
    Ok(0)
}

/// Whether guest stack pointer `sp` is on alternate stack `ss`.
pub fn on_stack(ss: &GuestStack, sp: u64) -> bool {
    ss.flags & SS_DISABLE == 0 && sp > ss.sp && sp - ss.sp <= ss.size
}

/// sigaltstack(ss, old_ss).
pub(crate) fn sigaltstack(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let (ss, old_ss) = (a[0], a[1]);
    let new = if ss == 0 {
        None
    } else {
        Some(guest_mem::read::<GuestStack>(ss)?)
    };
    let tid = current_tid();
    let mut old = ctx.process.signals().alt_stack(tid);
    let sp = ctx.thread.stack_pointer();
    if on_stack(&old, sp) {
        if new.is_some() {
            return Err(Errno::EPERM);
        }
        old.flags |= SS_ONSTACK;
    }
    if let Some(mut new) = new {
        match new.flags & !SS_AUTODISARM {
            0 | SS_ONSTACK => {
                if new.size < X86_MINSIGSTKSZ {
                    return Err(Errno::ENOMEM);
                }
            }
            SS_DISABLE => {
                new = GuestStack {
                    flags: SS_DISABLE,
                    ..GuestStack::default()
                }
            }
            _ => return Err(Errno::EINVAL),
        }
        new.flags &= !SS_ONSTACK; // reported only while running on it
        new.pad = 0;
        ctx.process.signals().set_alt_stack(tid, new);
    }
    if old_ss != 0 {
        guest_mem::write(old_ss, &old)?;
    }
    Ok(0)
}
