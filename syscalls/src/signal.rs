//! Signal dispositions, masks and alternate stacks, recorded for the guest.
//!
//! Nothing is installed on the host: the runtime will deliver signals from
//! this record later. Signal numbers and `sigset_t` (64 bits) are the same
//! on both ABIs. Masks and alternate stacks are per thread in Linux, so they
//! are kept per host thread id (guest threads are host threads).

use std::collections::HashMap;

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

/// What the guest asked for, per process and per thread.
#[derive(Debug, Clone)]
pub struct SignalState {
    actions: [X86SigAction; NSIG],
    threads: HashMap<i32, ThreadSignals>,
}

#[derive(Debug, Clone, Copy)]
struct ThreadSignals {
    blocked: u64,
    alt_stack: GuestStack,
}

impl Default for ThreadSignals {
    fn default() -> Self {
        ThreadSignals {
            blocked: 0,
            alt_stack: GuestStack {
                flags: SS_DISABLE,
                ..GuestStack::default()
            },
        }
    }
}

impl Default for SignalState {
    fn default() -> Self {
        SignalState {
            actions: [X86SigAction::default(); NSIG],
            threads: HashMap::new(),
        }
    }
}

impl SignalState {
    /// The guest's action for `sig` (1..=64), as it set it with rt_sigaction.
    pub fn action(&self, sig: i32) -> Option<X86SigAction> {
        self.actions
            .get(usize::try_from(sig).ok()?.checked_sub(1)?)
            .copied()
    }

    /// The guest's blocked-signal mask of host thread `tid`.
    pub fn blocked(&self, tid: i32) -> u64 {
        self.threads.get(&tid).copied().unwrap_or_default().blocked
    }

    /// The guest's alternate signal stack of host thread `tid`.
    pub fn alt_stack(&self, tid: i32) -> GuestStack {
        self.threads
            .get(&tid)
            .copied()
            .unwrap_or_default()
            .alt_stack
    }

    /// Drops the per-thread record of a thread that exited.
    pub fn forget_thread(&mut self, tid: i32) {
        self.threads.remove(&tid);
    }

    /// Sets the mask of a new thread (Linux: inherited from its creator).
    pub fn set_blocked(&mut self, tid: i32, mask: u64) {
        self.threads.entry(tid).or_default().blocked = mask & !UNBLOCKABLE;
    }

    /// A forked child's thread `child` starts with the mask and alternate
    /// stack of the thread `parent` that forked it.
    pub fn fork_thread(&mut self, parent: i32, child: i32) {
        let inherited = self.threads.get(&parent).copied().unwrap_or_default();
        self.threads.insert(child, inherited);
    }

    /// Every caught signal back to its default action, ignored ones staying
    /// ignored (the kernel's flush_signal_handlers, for CLONE_CLEAR_SIGHAND).
    pub fn reset_handlers(&mut self) {
        const SIG_IGN: u64 = 1;
        for action in &mut self.actions {
            let ignored = action.handler == SIG_IGN;
            *action = X86SigAction::default();
            if ignored {
                action.handler = SIG_IGN;
            }
        }
    }

    fn thread(&mut self, tid: i32) -> &mut ThreadSignals {
        self.threads.entry(tid).or_default()
    }
}

fn current_tid() -> i32 {
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
    let slot = &mut ctx.process.signals.actions[sig as usize - 1];
    if oact != 0 {
        guest_mem::write(oact, slot)?;
    }
    if let Some(mut new) = new {
        new.mask &= !UNBLOCKABLE;
        *slot = new;
    }
    Ok(0)
}

/// rt_sigprocmask(how, set, oset, sigsetsize). SIG_BLOCK/UNBLOCK/SETMASK
/// are 0/1/2 on both.
pub(crate) fn rt_sigprocmask(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let (how, set, oset) = (a[0] as i32, a[1], a[2]);
    if a[3] != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let thread = ctx.process.signals.thread(current_tid());
    let old = thread.blocked;
    if set != 0 {
        let set: u64 = guest_mem::read(set)?;
        let new = match how {
            libc::SIG_BLOCK => old | set,
            libc::SIG_UNBLOCK => old & !set,
            libc::SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        };
        thread.blocked = new & !UNBLOCKABLE;
    }
    if oset != 0 {
        guest_mem::write(oset, &old)?;
    }
    Ok(0)
}

/// sigaltstack(ss, old_ss). We never run guest handlers yet, so the guest
/// is never "on" its alternate stack.
pub(crate) fn sigaltstack(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let (ss, old_ss) = (a[0], a[1]);
    let new = if ss == 0 {
        None
    } else {
        Some(guest_mem::read::<GuestStack>(ss)?)
    };
    let thread = ctx.process.signals.thread(current_tid());
    let old = thread.alt_stack;
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
        thread.alt_stack = new;
    }
    if old_ss != 0 {
        guest_mem::write(old_ss, &old)?;
    }
    Ok(0)
}
