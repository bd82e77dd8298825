//! Guest threads: starting one (clone with CLONE_VM|CLONE_THREAD) as a host
//! thread with its own translator into the process's shared code, and
//! ending one. The process ends with
//! exit_group, a fatal signal, or when its last thread exits.

use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::runtime::{Ending, GuestThreadRun, ThreadEnd};
use transit_syscalls::{guest_mem, signal};
use transit_syscalls::{Errno, GuestProcess, ThreadRequest};
use transit_translator::cpu::state::gpr::{R11, RAX, RCX, RSP};
use transit_translator::dispatch::SharedCode;
use transit_translator::{CpuState, Translator};

/// Guest threads still running (the first one included).
static LIVE: AtomicUsize = AtomicUsize::new(1);
/// The first thread's exit status, if it ended before the others: what the
/// process reports when the last thread ends, as Linux reports the leader's.
static FIRST_THREAD_STATUS: AtomicI32 = AtomicI32::new(0);

/// Host stack of a guest thread's runtime (guest code runs on the guest's stack).
const HOST_STACK: usize = 8 << 20;

/// Starts a guest thread that continues after the current syscall of the
/// thread in `parent`; returns its tid once it exists and has written it
/// wherever `req` asks.
pub fn spawn(process: &Arc<GuestProcess>, parent: &CpuState, req: &ThreadRequest, code: Arc<SharedCode>) -> Result<u64, Errno> {
    let mut state = Box::new(parent.clone());
    // What the child sees on return from the syscall.
    state.gpr[RAX] = 0;
    state.gpr[RCX] = state.rip;
    state.gpr[R11] = state.rflags();
    if req.stack != 0 {
        state.gpr[RSP] = req.stack;
    }
    if let Some(tls) = req.tls {
        state.fs_base = tls;
    }
    state.interrupt = 0;
    state.dispatches = 0;
    let shared = Arc::clone(process);
    let req = *req;
    // Every signal stays blocked until the thread has its signal context
    // (a signal meanwhile would find no guest thread to go to); then it
    // takes the creator's mask, as a cloned thread does.
    let guest_mask = signal::guest_mask();
    // A cloned thread keeps its creator's seccomp filters.
    let seccomp = transit_syscalls::seccomp::current();
    set_host_mask(!0);
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    LIVE.fetch_add(1, Ordering::SeqCst);
    // No name: the thread keeps its creator's (the kernel's comm), as a
    // guest thread created by clone does.
    let started = std::thread::Builder::new().stack_size(HOST_STACK).spawn(move || {
        transit_syscalls::seccomp::adopt(seccomp);
        let mut run = GuestThreadRun::new(shared, state, Box::new(Translator::for_thread(code)));
        // SAFETY: gettid has no preconditions.
        let tid = unsafe { libc::gettid() };
        for at in [req.parent_tid, req.child_tid] {
            if at != 0 {
                let _ = guest_mem::write(at, &tid);
            }
        }
        run.clear_child_tid = req.clear_child_tid;
        let _ = tx.send(tid);
        signal::set_guest_mask(guest_mask);
        other_thread_ends(run.run());
    });
    signal::set_guest_mask(guest_mask);
    process.signals().reclaim_libc_signals();
    let tid = match started {
        Ok(_) => rx.recv().ok(),
        Err(_) => None,
    };
    match tid {
        Some(tid) => Ok(tid as u64),
        None => {
            LIVE.fetch_sub(1, Ordering::SeqCst);
            Err(Errno(libc::EAGAIN))
        }
    }
}

/// In a forked child: the only thread is the caller.
pub fn after_fork_in_child() {
    LIVE.store(1, Ordering::SeqCst);
    FIRST_THREAD_STATUS.store(0, Ordering::SeqCst);
}

/// Whether guest threads other than the caller are running.
pub fn others_alive() -> bool {
    LIVE.load(Ordering::SeqCst) > 1
}

/// The first thread's run is over: how the process ends, or, when other
/// threads remain, this host thread ends alone (the process lives on).
pub fn main_thread_ends(end: ThreadEnd) -> Ending {
    match end {
        ThreadEnd::Process(ending) => ending,
        ThreadEnd::Thread { status, clear_child_tid } => {
            clear_tid(clear_child_tid);
            if LIVE.fetch_sub(1, Ordering::SeqCst) == 1 {
                return Ending::Exit(status);
            }
            FIRST_THREAD_STATUS.store(status, Ordering::SeqCst);
            // SAFETY: ends only this host thread, as the guest's exit does.
            unsafe { libc::syscall(libc::SYS_exit, status) };
            unreachable!("exit returned")
        }
    }
}

fn other_thread_ends(end: ThreadEnd) {
    match end {
        ThreadEnd::Thread { clear_child_tid, .. } => {
            clear_tid(clear_child_tid);
            if LIVE.fetch_sub(1, Ordering::SeqCst) == 1 {
                exit_group(FIRST_THREAD_STATUS.load(Ordering::SeqCst));
            }
            // Returning ends the host thread; its translator is already dropped.
        }
        ThreadEnd::Process(Ending::Exit(status)) => exit_group(status),
        ThreadEnd::Process(Ending::Signal(sig)) => crate::die_by_signal(sig),
    }
}

/// CLONE_CHILD_CLEARTID: zero the tid word and wake one waiter (pthread_join).
fn clear_tid(addr: u64) {
    if addr == 0 {
        return;
    }
    if guest_mem::write(addr, &0i32).is_ok() {
        // SAFETY: a futex wake on a guest word; bad addresses give EFAULT.
        unsafe { libc::syscall(libc::SYS_futex, addr, libc::FUTEX_WAKE, 1, 0, 0, 0) };
    }
}

fn exit_group(status: i32) -> ! {
    // SAFETY: ends every thread of the process, as the guest asked.
    unsafe { libc::syscall(libc::SYS_exit_group, status) };
    unreachable!("exit_group returned")
}

/// Sets the calling host thread's signal mask.
fn set_host_mask(mask: u64) {
    // SAFETY: a valid pointer to an 8-byte kernel sigset.
    unsafe { libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &mask as *const u64, 0usize, 8usize) };
}
