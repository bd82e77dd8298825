//! Guest signals: the host handler that catches them, and delivery to
//! guest handlers with x86_64 signal frames.
//!
//! How a signal reaches guest code:
//! - **Asynchronous** (kill, alarm, SIGCHLD...): the host handler queues it
//!   (`queue`), sets `CpuState::interrupt` and, if the thread is in
//!   translated code, unlinks the running block so it returns to the
//!   dispatcher at its end (`Translator::interrupt_at`). A blocking syscall
//!   returns EINTR instead (host handlers never have SA_RESTART). The runtime
//!   then delivers (`deliver`), restarting the syscall afterwards if the
//!   guest asked for SA_RESTART.
//! - **Synchronous faults in translated code** (SIGSEGV, SIGBUS): the host
//!   handler moves the thread to the translator's fault exit with the guest
//!   RIP of the faulting instruction (`Translator::fault_redirect`); the
//!   runtime delivers the recorded siginfo at once.
//! - **Faults the translator raises itself** (ud2, #DE, int3, hlt) come back
//!   as `GuestEvent::Fault` and are delivered the same way.
//!
//! The guest's blocked mask is the host thread's mask but for the fault
//! signals (see `transit_syscalls::signal`); SIG_DFL and SIG_IGN
//! dispositions are the host's too, so the kernel itself stops, ignores or
//! kills. The guest starts with the state Transit inherited (`inherited`).

mod deliver;
mod fatal;
mod frame;
mod inherited;
mod queue;

use std::cell::{Cell, UnsafeCell};
use transit_translator::paired_stack::PairedAccess;
use transit_translator::{CpuState, Translator};
use transit_translator::cache::code_watch;

pub use deliver::{fault_info, host_fault_trap, seccomp_trap_info, settle_paired_fault, siginfo, InterruptedSyscall};
pub use inherited::inherited;
use queue::{PendingQueue, Recorded};

/// One guest thread's signal context, pinned for the handler to reach.
pub struct SignalThread {
    state: *mut CpuState,
    translator: *const Translator,
    queue: PendingQueue,
    /// siginfo of the last fault in translated code (written by the handler).
    fault: UnsafeCell<[u8; 128]>,
    /// Host address of the instruction that raised it, for the log.
    fault_pc: Cell<u64>,
    /// That instruction was a paired push or pop (`paired_stack`).
    fault_pair: Cell<Option<PairedAccess>>,
}

thread_local! {
    static CURRENT: Cell<*const SignalThread> = const { Cell::new(std::ptr::null()) };
    /// The guest thread has exited (`SignalThread::thread_exits`) and its
    /// host thread is ending: a signal that still reaches it goes back to
    /// the process rather than into a queue nobody reads.
    static EXITING: Cell<bool> = const { Cell::new(false) };
}

impl SignalThread {
    /// Registers the calling thread's guest state and translator with the
    /// host handler. Both must stay at these addresses until the returned
    /// box is dropped.
    pub fn attach(state: &mut CpuState, translator: &Translator) -> Box<SignalThread> {
        let t = Box::new(SignalThread {
            state,
            translator,
            queue: PendingQueue::default(),
            fault: UnsafeCell::new([0; 128]),
            fault_pc: Cell::new(0),
            fault_pair: Cell::new(None),
        });
        CURRENT.with(|c| c.set(&*t));
        transit_syscalls::set_interrupt_flag(&state.interrupt);
        // A held signal pending from the previous program can reach the
        // queue now (a no-op on threads the guest starts).
        transit_syscalls::signal::release_held();
        t
    }

    /// The signals with instances waiting in the runtime's queue.
    pub fn waiting(&self) -> u64 {
        self.queue.waiting()
    }

    /// Signals are waiting in the queue (possibly blocked ones).
    pub fn has_waiting(&self) -> bool {
        self.queue.waiting() != 0
    }

    /// The runtime's queue holds a signal that the temporary `mask` of a
    /// wait (see [`temporary_mask`]) unblocks: the kernel never sees it, so
    /// the wait must not wait for it.
    pub fn releases_waiting(&self, mask: u64) -> bool {
        self.queue.waiting() & !mask != 0
    }

    /// The host instructions around the one that raised the last fault in
    /// translated code (four before it, it, three after): for the log.
    pub fn fault_host_code(&self) -> (u64, [u32; 8]) {
        let pc = self.fault_pc.get();
        let mut words = [0u32; 8];
        for (i, word) in words.iter_mut().enumerate() {
            // SAFETY: translated code around a faulting instruction of it,
            // in the code cache, which stays mapped and readable.
            *word = unsafe { ((pc - 16 + 4 * i as u64) as *const u32).read() };
        }
        (pc, words)
    }

    /// The paired push or pop that raised the last fault in translated
    /// code, if it was one.
    pub fn take_fault_pair(&self) -> Option<PairedAccess> {
        self.fault_pair.take()
    }

    /// siginfo of the fault that ended translated code with `GuestEvent::HostFault`.
    pub fn take_fault(&self) -> [u8; 128] {
        // SAFETY: written by the handler before the thread resumed; read on
        // the same thread afterwards.
        unsafe { *self.fault.get() }
    }
}

impl Drop for SignalThread {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(std::ptr::null()));
        transit_syscalls::set_interrupt_flag(std::ptr::null());
    }
}

/// Transit runs guests on aarch64 only (`LoadError::WrongHost` elsewhere);
/// other builds exist for the host-independent benches.
#[cfg(not(target_arch = "aarch64"))]
pub extern "C" fn on_host_signal(_sig: i32, _info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {}

/// The host handler for every signal the guest handles and for the faults
/// translated code may raise.
#[cfg(target_arch = "aarch64")]
pub extern "C" fn on_host_signal(sig: i32, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    let t = CURRENT.with(|c| c.get());
    // SAFETY: the kernel passes a valid siginfo and ucontext; `t`, when set,
    // points at the live SignalThread of this thread (see `attach`), whose
    // state and translator outlive it. Only async-signal-safe work follows.
    unsafe {
        let info_bytes = &*(info as *const [u8; 128]);
        let mc = &mut (*(ctx as *mut libc::ucontext_t)).uc_mcontext;
        let synchronous = transit_syscalls::signal::FAULT_SIGNALS.contains(&sig) && (*info).si_code > 0 && !just_after_syscall(mc.pc);
        if sig == libc::SIGSEGV && (*info).si_code == SEGV_ACCERR {
            let addr = u64::from_ne_bytes(info_bytes[16..24].try_into().unwrap_or_default());
            // A vfork child's first write to a page (saved for its parent);
            // the page may hold translated code as well.
            let vfork_lifted = transit_syscalls::vfork_writes::on_write_fault(addr);
            let code_watch_lifted = code_watch::watches(addr)
                && if t.is_null() { code_watch::on_write_fault(addr) } else { (*(*t).translator).on_code_write_fault(mc.pc, addr) };
            if code_watch_lifted {
                // Guest code this thread may be running changed: stop at the
                // end of the block; the write itself is retried on return.
                if !t.is_null() {
                    let t = &*t;
                    std::ptr::write_volatile(&mut (*t.state).interrupt, 1);
                    if let Some(pc) = (*t.translator).interrupt_at(mc.pc) {
                        mc.pc = pc;
                    }
                }
                return;
            }
            if vfork_lifted {
                return;
            }
        }
        if synchronous {
            // The interpreter probing guest memory (after a write to
            // protected code, above, which is no fault): the probe reports it.
            if let Some(pc) = transit_translator::frontend::probe::redirect(mc.pc) {
                mc.regs[0] = (*info).si_code as u64;
                mc.pc = pc;
                return;
            }
        }
        if !synchronous && EXITING.with(Cell::get) {
            // Only the fault signals, which an exiting thread leaves
            // unblocked, arrive here: on to the process, and blocked from
            // now on so that the kernel picks another thread for it.
            if !deliver::sent_to_the_thread_alone(info_bytes) {
                deliver::hand_to_the_process(sig, *info_bytes);
            }
            block_after_handler(sig, ctx);
            return;
        }
        if t.is_null() {
            if synchronous {
                internal_fault(sig, mc.pc);
            }
            return;
        }
        let t = &*t;
        if synchronous {
            // An ordered access (x86 memory order) that met a misaligned
            // address: it goes to its plain fallback from now on.
            if sig == libc::SIGBUS && (*info).si_code == libc::BUS_ADRALN {
                if let Some(pad) = (*t.translator).misaligned_redirect(mc.pc) {
                    mc.pc = pad;
                    return;
                }
            }
            match (*t.translator).fault_redirect(mc.pc) {
                Some(r) => {
                    *t.fault.get() = *info_bytes;
                    t.fault_pc.set(mc.pc);
                    t.fault_pair.set(r.pair);
                    mc.regs[16] = r.x16;
                    mc.pc = r.pc;
                    if r.flip_carry {
                        mc.pstate ^= 1 << 29;
                    }
                }
                None => internal_fault(sig, mc.pc),
            }
            return;
        }
        if transit_syscalls::signal::discarded_on_arrival(sig) {
            // The guest ignores it (its host action stays this handler, see
            // `SignalState::caught`): gone, as the kernel discards it.
            transit_syscalls::note_dropped_signal();
            return;
        }
        match t.queue.record(sig, info_bytes) {
            Recorded::Queued => {}
            Recorded::QueuedAndFull => hold_back(sig, ctx),
            Recorded::Full => {
                // The runtime let one through while the queue was full
                // (set_guest_mask raced this handler): back to the kernel's queue.
                requeue(sig, info_bytes);
                hold_back(sig, ctx);
            }
        }
        std::ptr::write_volatile(&mut (*t.state).interrupt, 1);
        let resume = transit_syscalls::interrupted_at(mc.pc).or_else(|| (*t.translator).interrupt_at(mc.pc));
        if let Some(pc) = resume {
            mc.pc = pc;
        }
    }
}

const SEGV_ACCERR: i32 = 2;

/// Whether `pc` in Transit's own code follows an `svc`: a fault signal
/// reported there was sent, not raised (no instruction faulted; the
/// process queued it to itself with a fault's si_code, which
/// rt_sigqueueinfo allows only to oneself, and it arrived as that syscall
/// returned). Async-signal-safe.
#[cfg(target_arch = "aarch64")]
fn just_after_syscall(pc: u64) -> bool {
    const SVC_0: u32 = 0xd400_0001;
    extern "C" {
        // The linker's bounds of the image's start and its text.
        static __executable_start: u8;
        static etext: u8;
    }
    // The linker defines both symbols; only their addresses are taken.
    let text = std::ptr::addr_of!(__executable_start) as u64 + 4..std::ptr::addr_of!(etext) as u64;
    // SAFETY: pc - 4 lies in Transit's text, mapped and readable.
    text.contains(&pc) && pc % 4 == 0 && unsafe { ((pc - 4) as *const u32).read() } == SVC_0
}

/// The temporary signal mask x86_64 syscall `nr` waits with, if it has one:
/// rt_sigsuspend, pselect6, ppoll, epoll_pwait, epoll_pwait2 (a mask that
/// cannot be read is the kernel's to report).
pub fn temporary_mask(nr: u64, a: &[u64; 6]) -> Option<u64> {
    use transit_syscalls::guest_mem::read;
    let pointer = match nr {
        130 => a[0],
        271 | 281 | 441 => a[3 + usize::from(nr != 271)],
        // pselect6's sixth argument points at { const sigset_t *, size_t }.
        270 if a[5] != 0 => read::<u64>(a[5]).ok()?,
        _ => return None,
    };
    (pointer != 0).then(|| read::<u64>(pointer).ok()).flatten()
}

/// The host keeps `sig` blocked for this thread from the handler's return
/// (the mask the kernel restores is in the ucontext) until the runtime
/// takes an instance from the full queue. Async-signal-safe.
///
/// # Safety
/// `ctx` is the ucontext the kernel passed to the handler.
#[cfg(target_arch = "aarch64")]
unsafe fn hold_back(sig: i32, ctx: *mut libc::c_void) {
    transit_syscalls::signal::throttle(sig);
    block_after_handler(sig, ctx);
}

/// Adds `sig` to the mask the kernel restores when the handler returns.
/// Async-signal-safe.
///
/// # Safety
/// `ctx` is the ucontext the kernel passed to the handler.
#[cfg(target_arch = "aarch64")]
unsafe fn block_after_handler(sig: i32, ctx: *mut libc::c_void) {
    let mask = std::ptr::addr_of_mut!((*(ctx as *mut libc::ucontext_t)).uc_sigmask) as *mut u64;
    *mask |= 1 << (sig - 1);
}

/// Sends an instance the runtime holds back to this thread, where it waits
/// (blocked) in the kernel's queue; the kernel takes any siginfo for the
/// caller's own process. Async-signal-safe.
fn requeue(sig: i32, info: &[u8; 128]) {
    // SAFETY: a siginfo-sized buffer the kernel only reads.
    unsafe { libc::syscall(libc::SYS_rt_tgsigqueueinfo, libc::getpid(), libc::syscall(libc::SYS_gettid), sig, info.as_ptr()) };
}

/// A fault outside translated code is Transit's own (or the interpreter's
/// access to bad guest memory): say where, then let it kill us by `sig`.
fn internal_fault(sig: i32, pc: u64) {
    let mut msg = *b"transit: fault outside translated code at pc 0x0000000000000000\n";
    let digits = msg.len() - 17;
    for i in 0..16 {
        let nibble = ((pc >> (60 - 4 * i)) & 0xf) as u8;
        msg[digits + i] = if nibble < 10 { b'0' + nibble } else { b'a' + nibble - 10 };
    }
    // SAFETY: write and signal are async-signal-safe; returning re-executes
    // the faulting instruction, which now kills the process by `sig`.
    unsafe {
        libc::write(2, msg.as_ptr().cast(), msg.len());
        libc::signal(sig, libc::SIG_DFL);
    }
}
