//! What a program inherits from the one that executed it: the signals it
//! ignores and the signals it blocks (execve resets caught signals to
//! SIG_DFL and keeps the rest). The guest starts with exactly what Transit
//! inherited; a guest's execve passes its own state on. The host kernel
//! carries all of it but two parts: the ignoring of the [`HELD`] signals
//! and of those the guest once caught (`SignalState::caught`), whose host
//! disposition stays Transit's handler, and the blocking of the [`HELD`]
//! signals, which the host never blocks. A Transit started by the guest
//! gets those as `--ignored-signals` and `--blocked-signals`, and an execve
//! the kernel completes by itself (a native program, or an x86_64 one
//! through binfmt_misc) gets them on the host just before it.

use super::mask::{guest_mask, set_guest_mask, set_host_mask, set_starting_mask, HELD};
use super::{sig_bit, KernelSigaction, SignalState, NSIG, SIGSET_SIZE, SIG_DFL, SIG_IGN, UNBLOCKABLE};
use crate::abi::signal::X86SigAction;
use crate::host;

/// The signal state a program starts with, as sets (bit `sig - 1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InheritedSignals {
    /// Signals whose action is SIG_IGN (every other one is SIG_DFL).
    pub ignored: u64,
    /// The blocked mask.
    pub blocked: u64,
}

impl InheritedSignals {
    /// Both states together (what the kernel carried, and the options).
    pub fn union(self, other: InheritedSignals) -> InheritedSignals {
        InheritedSignals { ignored: self.ignored | other.ignored, blocked: self.blocked | other.blocked }
    }
}

/// A set as the options write it: signal numbers separated by commas.
pub fn signal_list(set: u64) -> String {
    let numbers: Vec<String> = (1..=NSIG as i32).filter(|&sig| set & sig_bit(sig) != 0).map(|sig| sig.to_string()).collect();
    numbers.join(",")
}

/// Parses [`signal_list`]'s format; SIGKILL and SIGSTOP can be neither
/// ignored nor blocked.
pub fn parse_signal_list(text: &str) -> Result<u64, String> {
    let mut set = 0;
    for part in text.split(',').filter(|part| !part.is_empty()) {
        let sig: i32 = part.trim().parse().map_err(|_| format!("`{part}` is not a signal number"))?;
        if !(1..=NSIG as i32).contains(&sig) {
            return Err(format!("{sig} is not a signal number (1 to {NSIG})"));
        }
        if UNBLOCKABLE & sig_bit(sig) != 0 {
            return Err(format!("signal {sig} can be neither ignored nor blocked"));
        }
        set |= sig_bit(sig);
    }
    Ok(set)
}

impl SignalState {
    /// Starts the guest's signal state from `inherited`: ignored signals
    /// SIG_IGN, the rest SIG_DFL, the calling thread's mask its blocked set
    /// (the host holds the [`HELD`] signals back until `release_held`).
    /// Every disposition is installed on the host, which puts back SIGPIPE:
    /// Rust's runtime ignores it for itself before `main`.
    pub fn start(&mut self, inherited: InheritedSignals) {
        for sig in 1..=NSIG as i32 {
            if UNBLOCKABLE & sig_bit(sig) != 0 {
                continue;
            }
            let handler = if inherited.ignored & sig_bit(sig) != 0 { SIG_IGN } else { SIG_DFL };
            self.actions[sig as usize - 1] = X86SigAction { handler, ..X86SigAction::default() };
            self.apply_on_host(sig);
        }
        set_starting_mask(inherited.blocked);
    }

    /// The part of the calling thread's state an execve must pass to the
    /// next Transit itself: the held signals (the kernel carries the rest).
    pub fn held_for_exec(&self) -> InheritedSignals {
        InheritedSignals { ignored: self.ignored() & self.kept_by_transit(), blocked: guest_mask() & HELD }
    }

    /// Before an execve: the host ignores and blocks the held signals as the
    /// guest does, so that an execve the kernel completes by itself passes
    /// them on, and the held instances the runtime sends back to the kernel
    /// wait there. [`Self::take_back_from_host`] undoes it when the execve
    /// fails. Meanwhile a fault in another thread that the guest ignores
    /// kills the process, as a guest fault would.
    pub fn lend_to_host(&self) {
        set_host_mask(guest_mask());
        let ignored = self.ignored() & self.kept_by_transit();
        for sig in (1..=NSIG as i32).filter(|&sig| ignored & sig_bit(sig) != 0) {
            let ignore = KernelSigaction { handler: SIG_IGN, ..KernelSigaction::default() };
            let _ = host::syscall(libc::SYS_rt_sigaction, &[sig as u64, host::ptr(&ignore), 0, SIGSET_SIZE]);
        }
    }

    /// After [`Self::lend_to_host`], when the execve failed.
    pub fn take_back_from_host(&mut self) {
        set_guest_mask(guest_mask());
        let kept = self.kept_by_transit();
        for sig in (1..=NSIG as i32).filter(|&sig| kept & sig_bit(sig) != 0) {
            self.apply_on_host(sig);
        }
    }

    fn ignored(&self) -> u64 {
        (1..=NSIG as i32).filter(|&sig| self.actions[sig as usize - 1].handler == SIG_IGN).fold(0, |set, sig| set | sig_bit(sig))
    }
}
