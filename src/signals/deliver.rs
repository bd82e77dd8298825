//! Delivery: what happens to a signal once the runtime has it — default
//! action, ignore, or a guest handler entered through an x86_64 frame — and
//! rt_sigreturn.

use super::frame::{self, FrameRequest};
use super::queue::SIGRTMIN;
use super::SignalThread;
use crate::runtime::Ending;
use transit_syscalls::abi::signal::X86SigAction;
use transit_syscalls::signal::{current_tid, default_is_ignore, default_is_stop, guest_mask, on_stack, set_guest_mask};
use transit_syscalls::GuestProcess;
use transit_translator::cpu::state::gpr::{RAX, RDI, RDX, RSI, RSP};
use transit_translator::paired_stack::{self, PairedAccess};
use transit_translator::CpuState;

pub use frame::Trap;

// x86_64 sa_flags.
const SA_ONSTACK: u64 = 0x0800_0000;
const SA_RESTART: u64 = 0x1000_0000;
const SA_NODEFER: u64 = 0x4000_0000;
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;
const SS_AUTODISARM: i32 = 1 << 31;
const SS_DISABLE: i32 = 2;
// si_code values (include/uapi/asm-generic/siginfo.h).
const ILL_ILLOPN: i32 = 2;
const FPE_INTDIV: i32 = 1;
const SEGV_ACCERR: i32 = 2;

/// x86_64 syscalls an interrupting handler never restarts, whatever
/// SA_RESTART says (signal(7): timeouts, waits for signals, SysV IPC; the
/// kernel's ERESTARTNOHAND and ERESTART_RESTARTBLOCK). See also
/// [`restarted_by_sa_restart`].
const NEVER_RESTARTED: &[u64] = &[
    7,   // poll
    23,  // select
    34,  // pause
    35,  // nanosleep
    64,  // semop
    68,  // msgsnd
    69,  // msgrcv
    128, // rt_sigtimedwait
    130, // rt_sigsuspend
    208, // io_getevents
    220, // semtimedop
    230, // clock_nanosleep
    232, // epoll_wait
    270, // pselect6
    271, // ppoll
    281, // epoll_pwait
    441, // epoll_pwait2
];

/// A syscall signals interrupted: `started` if the kernel returned EINTR,
/// not if it never began ([`transit_syscalls::Errno::NOT_STARTED`]).
#[derive(Clone, Copy, Debug)]
pub struct InterruptedSyscall {
    pub nr: u64,
    pub started: bool,
    /// A handler with SA_RESTART restarts it ([`restarted_by_sa_restart`]).
    pub restartable: bool,
    /// The temporary mask the call waited with (rt_sigsuspend, ppoll,
    /// pselect6, epoll_pwait[2]; see [`super::temporary_mask`]): signals
    /// are delivered under it, and the first frame saves the mask the call
    /// restores (the kernel's saved-sigmask rule).
    pub waited_with: Option<u64>,
}

impl InterruptedSyscall {
    /// A call that never began: it runs after the handlers.
    pub fn not_started(nr: u64) -> Self {
        InterruptedSyscall { nr, started: false, restartable: true, waited_with: None }
    }

    /// Call `nr` with `args`, which the kernel interrupted (EINTR).
    pub fn interrupted(nr: u64, args: &[u64; 6], waited_with: Option<u64>) -> Self {
        InterruptedSyscall { nr, started: true, restartable: restarted_by_sa_restart(nr, args), waited_with }
    }
}

/// Whether an interrupted x86_64 syscall `nr` with `args` restarts after a
/// handler with SA_RESTART (the kernel's ERESTARTSYS), rather than failing
/// with EINTR whatever SA_RESTART says.
fn restarted_by_sa_restart(nr: u64, args: &[u64; 6]) -> bool {
    const FUTEX: u64 = 202;
    // FUTEX_WAIT and FUTEX_WAIT_BITSET, less the private and clock flags.
    const FUTEX_WAITS: [u64; 2] = [0, 9];
    if nr == FUTEX && FUTEX_WAITS.contains(&(args[1] & 0x7f)) {
        // A wait with a timeout restarts through restart_block, which a
        // handler ends with EINTR.
        return args[3] == 0;
    }
    !NEVER_RESTARTED.contains(&nr)
}

/// siginfo for a fault the translator raised itself (not a host fault).
pub fn fault_info(sig: i32, rip: u64) -> ([u8; 128], Trap) {
    const SI_KERNEL: i32 = 0x80;
    let (code, addr, trapno) = match sig {
        libc::SIGILL => (ILL_ILLOPN, rip, 6),
        libc::SIGFPE => (FPE_INTDIV, rip, 0),
        libc::SIGTRAP => (SI_KERNEL, 0, 3),
        _ => (SI_KERNEL, 0, 13), // #GP
    };
    (siginfo(sig, code, addr), Trap { trapno, err: 0, cr2: 0 })
}

/// siginfo for a syscall a seccomp filter trapped (SECCOMP_RET_TRAP):
/// SIGSYS, si_code SYS_SECCOMP, the filter's data as si_errno, and the
/// call (`struct { void *call_addr; int syscall; unsigned arch; }`).
pub fn seccomp_trap_info(nr: u64, arch: u32, call_addr: u64, data: u16) -> ([u8; 128], Trap) {
    const SYS_SECCOMP: i32 = 1;
    let mut info = siginfo(libc::SIGSYS, SYS_SECCOMP, call_addr);
    info[4..8].copy_from_slice(&i32::from(data).to_ne_bytes());
    info[24..28].copy_from_slice(&(nr as i32).to_ne_bytes());
    info[28..32].copy_from_slice(&arch.to_ne_bytes());
    (info, Trap { trapno: 0, err: 0, cr2: 0 })
}

/// siginfo and trap details for a host fault (a page fault on x86).
pub fn host_fault_trap(info: &[u8; 128]) -> Trap {
    let code = i32::from_ne_bytes(info[8..12].try_into().unwrap());
    let addr = u64::from_ne_bytes(info[16..24].try_into().unwrap());
    // Page-fault error code: user mode, and "protection" for a mapped page.
    let err = 4 | u64::from(code == SEGV_ACCERR);
    Trap { trapno: 14, err, cr2: addr }
}

/// A fault in translated code at a paired push or pop (one host access
/// for two guest instructions): `state` and `info` (the host's siginfo)
/// made the fault x86 raises there (`paired_stack::settle`).
pub fn settle_paired_fault(pair: PairedAccess, state: &mut CpuState, info: &mut [u8; 128]) {
    let addr = u64::from_ne_bytes(info[16..24].try_into().unwrap());
    if let Some(first) = paired_stack::settle(pair, state, addr) {
        info[8..12].copy_from_slice(&first.code.to_ne_bytes());
        info[16..24].copy_from_slice(&first.addr.to_ne_bytes());
    }
}

/// A siginfo with signal, code and fault address.
pub fn siginfo(sig: i32, code: i32, addr: u64) -> [u8; 128] {
    let mut info = [0u8; 128];
    info[0..4].copy_from_slice(&sig.to_ne_bytes());
    info[8..12].copy_from_slice(&code.to_ne_bytes());
    info[16..24].copy_from_slice(&addr.to_ne_bytes());
    info
}

/// Blocks every signal on the host thread (the guest's mask is restored
/// with `set_guest_mask`); returns the host mask it replaced.
fn block_host_signals() -> u64 {
    let (all, mut old) = (!0u64, 0u64);
    // SAFETY: valid pointers to 8-byte kernel sigsets.
    unsafe { libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &all as *const u64, &mut old as *mut u64, 8usize) };
    old
}

/// Dequeues every instance of `sig` pending for this thread (its own and
/// the process's), oldest first. Call with host signals blocked.
fn take_from_kernel(sig: i32) -> Vec<[u8; 128]> {
    let (set, no_wait) = (bit(sig), libc::timespec { tv_sec: 0, tv_nsec: 0 });
    let mut taken = Vec::new();
    loop {
        let mut info = [0u8; 128];
        // SAFETY: valid pointers to an 8-byte sigset, a siginfo-sized
        // buffer and a timespec.
        let got = unsafe {
            libc::syscall(libc::SYS_rt_sigtimedwait, &set as *const u64, info.as_mut_ptr(), &no_wait as *const libc::timespec, 8usize)
        };
        if got != i64::from(sig) {
            return taken;
        }
        taken.push(info);
    }
}

/// Puts back a host mask [`block_host_signals`] replaced.
fn restore_host_signals(mask: u64) {
    // SAFETY: a valid pointer to an 8-byte kernel sigset.
    unsafe { libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_SETMASK, &mask as *const u64, 0usize, 8usize) };
}

const fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

impl SignalThread {
    /// Delivers a synchronous fault: to the guest's handler if it has one
    /// and does not block the signal, otherwise the process dies by it
    /// (the kernel's force_sig).
    pub fn deliver_fault(&self, state: &mut CpuState, process: &GuestProcess, info: &[u8; 128], trap: Trap) -> Option<Ending> {
        let sig = i32::from_ne_bytes(info[0..4].try_into().unwrap());
        let mask = guest_mask();
        let act = process.signals().take_for_delivery(sig);
        if act.handler == SIG_DFL || act.handler == SIG_IGN || mask & bit(sig) != 0 {
            super::fatal::log_fatal_fault(state, info);
            return Some(Ending::Signal(sig));
        }
        match self.enter_handler(state, process, sig, act, info, trap, Masks { saved: mask, running: mask }) {
            // The handler runs with its sa_mask and (without SA_NODEFER)
            // the signal itself blocked, as any handler.
            Ok(new_mask) => {
                set_guest_mask(new_mask);
                None
            }
            Err(ending) => Some(ending),
        }
    }

    /// Delivers every waiting signal the guest does not block. `syscall` is
    /// the syscall the signals interrupted, if any. One that never began is
    /// executed after the handlers, whatever they ask; one the kernel
    /// interrupted (EINTR) is restarted when no handler ran, or when the
    /// first handler has SA_RESTART and the call is restartable.
    pub fn deliver_pending(&self, state: &mut CpuState, process: &GuestProcess, syscall: Option<InterruptedSyscall>) -> Option<Ending> {
        // SAFETY: `state` is the struct the handler writes through its pointer.
        unsafe { std::ptr::write_volatile(&mut state.interrupt, 0) };
        let mut restart = syscall.filter(|s| !s.started || s.restartable);
        // Block everything while the queue is read; the guest's mask comes back after.
        let mut mask = guest_mask();
        block_host_signals();
        // The mask a handler's frame saves is `mask`; the one signals are
        // delivered under is `held`: the temporary mask right after a wait
        // with one, else the same. Each handler entered adds its own.
        let mut held = syscall.filter(|s| s.started).and_then(|s| s.waited_with).unwrap_or(mask);
        let mut result = None;
        while result.is_none() {
            let waiting = self.queue.waiting() & !held;
            if waiting == 0 {
                break;
            }
            let sig = waiting.trailing_zeros() as i32 + 1;
            let Some(info) = self.queue.take(sig) else { break };
            // The host may pass the next instance at set_guest_mask below.
            transit_syscalls::signal::unthrottle(sig);
            let act = process.signals().take_for_delivery(sig);
            match act.handler {
                SIG_IGN => {}
                SIG_DFL if default_is_ignore(sig) => {}
                SIG_DFL if default_is_stop(sig) => process.signals().stop_by_default_action(sig),
                SIG_DFL => result = Some(Ending::Signal(sig)),
                _ => {
                    if let Some(s) = restart.take() {
                        if !s.started || act.flags & SA_RESTART != 0 {
                            rewind_syscall(state, s.nr);
                        }
                    }
                    let masks = Masks { saved: mask, running: held };
                    match self.enter_handler(state, process, sig, act, &info, Trap::default(), masks) {
                        Ok(new_mask) => {
                            held = new_mask;
                            mask = new_mask;
                        }
                        Err(ending) => result = Some(ending),
                    }
                }
            }
        }
        // No handler ran: the kernel restarts transparently.
        if let Some(s) = restart {
            rewind_syscall(state, s.nr);
        }
        set_guest_mask(mask);
        result
    }

    /// Sends the waiting instances of the signals in `blocked`, which the
    /// host blocks, to this thread through the kernel, where they wait
    /// (before an execve: the kernel's queue passes to the next program).
    /// Later instances of a real-time signal may already wait in the
    /// kernel (the runtime's queue for it filled up and throttled it):
    /// those are taken out first and queued again after the runtime's, so
    /// the next program receives every instance in the order sent.
    pub fn return_to_kernel(&self, blocked: u64) {
        let host_mask = block_host_signals();
        for sig in (1..=64).filter(|&sig| self.queue.waiting() & blocked & bit(sig) != 0) {
            let later = if sig >= SIGRTMIN { take_from_kernel(sig) } else { Vec::new() };
            while let Some(info) = self.queue.take(sig) {
                super::requeue(sig, &info);
            }
            for info in &later {
                super::requeue(sig, info);
            }
            transit_syscalls::signal::unthrottle(sig);
        }
        restore_host_signals(host_mask);
    }

    /// For a call that reads or waits on descriptors: the waiting
    /// instances of the signals in `set` (fault signals the guest blocks,
    /// which the host never does) go to the kernel, where a signalfd reads
    /// them and poll sees it ready, and the host blocks those signals
    /// until `take_back_from_kernel`. No fault of Transit's own can come
    /// in between: only the call runs.
    pub fn lend_to_kernel(&self, set: u64) {
        let host_mask = block_host_signals();
        for sig in (1..=64).filter(|&sig| self.queue.waiting() & set & bit(sig) != 0) {
            while let Some(info) = self.queue.take(sig) {
                super::requeue(sig, &info);
            }
        }
        restore_host_signals(host_mask | set);
    }

    /// After `lend_to_kernel`'s call: the instances of `set` still pending
    /// in the kernel (the call did not read them, or new ones came) wait
    /// in the runtime's queue again, and the host unblocks the signals.
    pub fn take_back_from_kernel(&self, set: u64) {
        let host_mask = block_host_signals();
        for sig in (1..=64).filter(|&sig| set & bit(sig) != 0) {
            for info in take_from_kernel(sig) {
                self.queue.record(sig, &info);
            }
        }
        restore_host_signals(host_mask & !set);
    }

    /// Takes the oldest waiting instance of the lowest-numbered signal in
    /// `set`, for a sigtimedwait on it.
    pub fn take_waiting(&self, set: u64) -> Option<[u8; 128]> {
        let candidates = self.queue.waiting() & set;
        if candidates == 0 {
            return None;
        }
        let sig = candidates.trailing_zeros() as i32 + 1;
        let host_mask = block_host_signals();
        let info = self.queue.take(sig);
        transit_syscalls::signal::unthrottle(sig);
        restore_host_signals(host_mask);
        info
    }

    /// The guest thread exits and the process lives on. As of now the host
    /// thread blocks every signal but the fault signals, so the kernel
    /// gives signals sent to the process to another thread, as it passes
    /// over an exiting one. The fault signals stay unblocked, as the host
    /// never blocks them: a fault of Transit's own with them blocked
    /// kills the process without a word (it did, in the arm64 VM). The
    /// instances this thread's queue holds go back to the process, except
    /// those sent to this thread alone (tgkill), which Linux discards with
    /// the thread. Without this, a signal caught as the thread ended was
    /// lost with it. Two approximations: a fault signal going back stays
    /// blocked here from then on (else the kernel would pick this thread
    /// again); and the kernel lets only the first thread send an instance
    /// sent by kill or by the kernel back with its own si_code, so from
    /// another thread it goes back as sigqueue's (SI_QUEUE).
    pub fn thread_exits(&self) {
        // The queue is read with every signal blocked (see `queue`).
        block_host_signals();
        let mut for_the_process = Vec::new();
        for sig in 1..=64 {
            while let Some(info) = self.queue.take(sig) {
                if !sent_to_the_thread_alone(&info) {
                    for_the_process.push((sig, info));
                }
            }
        }
        transit_syscalls::signal::unthrottle_all();
        // From here the host handler hands on whatever still reaches this
        // thread (a fault signal sent to the process) instead of queueing it.
        super::EXITING.with(|exiting| exiting.set(true));
        let held_going_back = for_the_process.iter().fold(0, |set, &(sig, _)| set | bit(sig)) & transit_syscalls::signal::HELD;
        restore_host_signals(!transit_syscalls::signal::HELD | held_going_back);
        for (sig, info) in for_the_process {
            hand_to_the_process(sig, info);
        }
    }

    /// In a forked child: the kernel gives it no pending signals, so the
    /// instances its parent's thread had queued are not its own.
    pub fn after_fork_in_child(&self) {
        let mask = guest_mask();
        block_host_signals();
        self.queue.clear();
        transit_syscalls::signal::unthrottle_all();
        set_guest_mask(mask);
    }

    /// Builds the frame and points the guest at its handler; returns the
    /// mask now in effect, or how the process ends when the frame cannot
    /// be written (the kernel kills with SIGSEGV then).
    #[allow(clippy::too_many_arguments)]
    fn enter_handler(
        &self,
        state: &mut CpuState,
        process: &GuestProcess,
        sig: i32,
        act: X86SigAction,
        info: &[u8; 128],
        trap: Trap,
        masks: Masks,
    ) -> Result<u64, Ending> {
        let tid = current_tid();
        let mut alt = process.signals().alt_stack(tid);
        let on_alt = on_stack(&alt, state.gpr[RSP]);
        let switch = act.flags & SA_ONSTACK != 0 && alt.flags & SS_DISABLE == 0 && !on_alt;
        let reported = if on_alt { libc::SS_ONSTACK } else { 0 };
        let req = FrameRequest {
            info,
            restorer: act.restorer,
            saved_mask: masks.saved,
            alt_stack: transit_syscalls::abi::signal::GuestStack { flags: alt.flags | reported, ..alt },
            switch_to_alt_stack: switch,
            trap,
        };
        let (sp, info_addr, uc_addr) = frame::push(state, &req).map_err(|e| {
            tracing::info!(sig, rsp = format_args!("{:#x}", state.gpr[RSP]), errno = e.0, "the signal frame cannot be written: SIGSEGV");
            Ending::Signal(libc::SIGSEGV)
        })?;
        if switch && alt.flags & SS_AUTODISARM != 0 {
            alt.flags = SS_DISABLE;
            alt.sp = 0;
            alt.size = 0;
            process.signals().set_alt_stack(tid, alt);
        }
        state.gpr[RSP] = sp;
        state.gpr[RDI] = sig as u64;
        state.gpr[RSI] = info_addr;
        state.gpr[RDX] = uc_addr;
        state.gpr[RAX] = 0;
        state.rip = act.handler;
        state.df = 0;
        frame::reset_fpu(state);
        let mut new_mask = masks.running | act.mask;
        if act.flags & SA_NODEFER == 0 {
            new_mask |= bit(sig);
        }
        tracing::debug!(sig, handler = format_args!("{:#x}", act.handler), "signal delivered");
        Ok(new_mask)
    }

    /// rt_sigreturn: restores the state the frame holds, its mask and
    /// alternate stack. A bad frame kills the process by SIGSEGV, as on x86_64.
    pub fn sigreturn(&self, state: &mut CpuState, process: &GuestProcess) -> Option<Ending> {
        match frame::pop(state) {
            Ok(restored) => {
                set_guest_mask(restored.mask);
                let tid = current_tid();
                let mut stack = restored.alt_stack;
                let current = process.signals().alt_stack(tid);
                // restore_altstack: ignored while running on the current one.
                if !on_stack(&current, state.gpr[RSP]) {
                    stack.flags &= !libc::SS_ONSTACK;
                    if stack.flags & SS_DISABLE != 0 {
                        stack = transit_syscalls::abi::signal::GuestStack { flags: SS_DISABLE, ..Default::default() };
                    }
                    process.signals().set_alt_stack(tid, stack);
                }
                // Unblocking may have released signals the queue holds.
                if self.has_waiting() {
                    // SAFETY: see deliver_pending.
                    unsafe { std::ptr::write_volatile(&mut state.interrupt, 1) };
                }
                None
            }
            Err(e) => {
                tracing::info!(rsp = format_args!("{:#x}", state.gpr[RSP]), errno = e.0, "rt_sigreturn: the signal frame cannot be read: SIGSEGV");
                Some(Ending::Signal(libc::SIGSEGV))
            }
        }
    }
}

const SI_TKILL: i32 = -6;

/// Whether an instance was sent to one thread only (tgkill), which Linux
/// discards with the thread.
pub(super) fn sent_to_the_thread_alone(info: &[u8; 128]) -> bool {
    i32::from_ne_bytes([info[8], info[9], info[10], info[11]]) == SI_TKILL
}

/// Sends an instance an exiting thread holds back to its process, where
/// another thread takes it. The kernel lets only the first thread send one
/// with the si_code of kill or of the kernel; from another it goes as
/// sigqueue's (SI_QUEUE). Async-signal-safe.
pub(super) fn hand_to_the_process(sig: i32, mut info: [u8; 128]) {
    const SI_QUEUE: i32 = -1;
    // SAFETY: getpid has no preconditions; a siginfo-sized buffer the kernel only reads.
    let send = |info: &[u8; 128]| unsafe { libc::syscall(libc::SYS_rt_sigqueueinfo, libc::getpid(), sig, info.as_ptr()) };
    if send(&info) != 0 {
        info[8..12].copy_from_slice(&SI_QUEUE.to_ne_bytes());
        send(&info);
    }
}

/// The masks around a handler's entry: the one its frame saves (which
/// rt_sigreturn restores) and the one in effect when it was chosen.
#[derive(Clone, Copy)]
struct Masks {
    saved: u64,
    running: u64,
}

/// Makes the guest execute `syscall` number `nr` again: RIP back over the
/// two-byte instruction, RAX the number again (the kernel's -ERESTARTSYS).
fn rewind_syscall(state: &mut CpuState, nr: u64) {
    state.rip -= 2;
    state.gpr[RAX] = nr;
}
