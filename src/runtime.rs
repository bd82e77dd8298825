//! The process runtime: runs guest threads and services what translated
//! code hands back (syscalls, faults, signals).
//!
//! Every guest thread is a host thread with its own `Translator` and
//! `CpuState`; the `GuestProcess` and the translated code are shared.
//! `threads` starts and ends the extra ones.

use std::sync::Arc;

use crate::loader::LoadedProgram;
use crate::signals::{self, InterruptedSyscall, SignalThread};
use crate::threads;
use crate::persistent_cache;
use transit_syscalls::seccomp::{self, Verdict};
use transit_syscalls::signal::InheritedSignals;
use transit_syscalls::{Errno, GuestProcess, GuestThread, SyscallOutcome, ThreadRequest, TransitCommand};
use transit_translator::cpu::state::gpr::{R10, R11, R8, R9, RAX, RBP, RBX, RCX, RDI, RDX, RSI, RSP};
use transit_translator::cache::code_watch;
use transit_translator::emit::MemoryOrder;
use transit_translator::{CpuState, GuestEvent, Translator};

/// How the guest ended.
pub enum Ending {
    Exit(i32),
    Signal(i32),
}

/// x86_64 rt_sigreturn: restores the whole CPU state, so the runtime runs it.
const SYS_RT_SIGRETURN: u64 = 15;
const EINTR: u64 = (-libc::EINTR) as u64;
const NOT_STARTED: u64 = (-(Errno::NOT_STARTED.0 as i64)) as u64;
const EFAULT: u64 = (-libc::EFAULT) as u64;
/// clone, fork, vfork, clone3: a child process returns 0 from them.
const FORK_SYSCALLS: [u64; 4] = [56, 57, 58, 435];

/// Runs the program's first thread; returns how the process ends (unless
/// another thread ends it first).
/// The guest starts with the signal state `inherited`, on the initial
/// stack `stack` at `rsp`.
pub fn run(prog: &LoadedProgram, stack: std::ops::Range<u64>, rsp: u64, transit: TransitCommand, inherited: InheritedSignals) -> std::io::Result<Ending> {
    let mut process = GuestProcess::new(prog.path.clone(), prog.main.end);
    process.brk_reserved_end = prog.main.reserved_end;
    process.set_rootfs(transit.rootfs.clone());
    process.record_initial_stack(rsp);
    process.initial_stack = stack;
    process.transit = transit;
    transit_translator::cache::code_watch::set_writable_query(transit_syscalls::guest_may_write);
    transit_translator::cache::code_watch::set_writable_now_query(transit_syscalls::writable::guest_may_write_now);
    transit_translator::cache::code_watch::set_alias_query(transit_syscalls::shared_mappings::aliases);
    {
        let mut signals = process.signals();
        signals.host_handler = Some(signals::on_host_signal);
        signals.start(inherited);
    }
    let mut state = Box::new(CpuState { rip: prog.start(), ..CpuState::default() });
    state.gpr[RSP] = rsp;
    let order = if process.transit.x86_memory_order { MemoryOrder::Tso } else { MemoryOrder::Relaxed };
    let translator = Box::new(Translator::with_memory_order(order)?);
    persistent_cache::program_loaded(&translator, &prog.path, prog.main.bias);
    if let Some(interp) = prog.interp.as_ref().and(prog.main.interp.as_deref()) {
        if let Some(path) = crate::rootfs::resolve(process.rootfs.as_deref(), interp) {
            persistent_cache::program_loaded(&translator, &path, prog.interp.as_ref().map_or(0, |i| i.bias));
        }
    }
    let mut thread = GuestThreadRun::new(Arc::new(process), state, translator);
    if crate::gdb::attached() {
        crate::gdb::first_stop(&mut thread.state, &mut thread.translator);
    }
    crate::standard_fds::close_those_closed_at_start();
    let ending = thread.run();
    Ok(threads::main_thread_ends(ending))
}

/// One guest thread: its state, its translator and its signal context.
pub struct GuestThreadRun {
    process: Arc<GuestProcess>,
    // Field order is drop order: the signal context points into the two
    // after it, which are boxed so that they never move.
    signals: Box<SignalThread>,
    translator: Box<Translator>,
    state: Box<CpuState>,
    /// set_tid_address / CLONE_CHILD_CLEARTID: cleared and woken at thread exit.
    pub clear_child_tid: u64,
}

impl GuestThreadRun {
    pub fn new(process: Arc<GuestProcess>, mut state: Box<CpuState>, mut translator: Box<Translator>) -> Self {
        if process.transit.stats {
            translator.time_translations();
        }
        let signals = SignalThread::attach(&mut state, &translator);
        GuestThreadRun { process, signals, translator, state, clear_child_tid: 0 }
    }

    /// Runs guest code until the thread or the process ends.
    pub fn run(mut self) -> ThreadEnd {
        loop {
            let mut interrupted_syscall = None;
            let end = match self.translator.run(&mut self.state) {
                GuestEvent::Syscall if self.state.gpr[RAX] == SYS_RT_SIGRETURN => match self.seccomp_verdict(SYS_RT_SIGRETURN) {
                    Verdict::Allow => self.signals.sigreturn(&mut self.state, &self.process).map(ThreadEnd::Process),
                    refused => self.refused_by_seccomp(refused, SYS_RT_SIGRETURN, seccomp::AUDIT_ARCH_X86_64),
                },
                // A signal arrived while guest code ran: the kernel would
                // deliver it before the syscall instruction executes.
                GuestEvent::Syscall | GuestEvent::CompatSyscall if self.state.interrupt != 0 => {
                    interrupted_syscall = Some(InterruptedSyscall::not_started(self.state.gpr[RAX]));
                    None
                }
                GuestEvent::Syscall => self.syscall(&mut interrupted_syscall),
                GuestEvent::CompatSyscall => self.compat_syscall(&mut interrupted_syscall),
                GuestEvent::Fault { signal, addr } => {
                    let rip = self.state.rip;
                    tracing::info!(signal, addr = format_args!("{addr:#x}"), rip = format_args!("{rip:#x}"), "guest fault");
                    let (info, trap) = signals::fault_info(signal, rip);
                    self.debugger_passes(signal).then(|| self.signals.deliver_fault(&mut self.state, &self.process, &info, trap).map(ThreadEnd::Process)).flatten()
                }
                GuestEvent::HostFault => {
                    let mut info = self.signals.take_fault();
                    if let Some(pair) = self.signals.take_fault_pair() {
                        signals::settle_paired_fault(pair, &mut self.state, &mut info);
                    }
                    if tracing::enabled!(tracing::Level::DEBUG) {
                        let (pc, words) = self.signals.fault_host_code();
                        let words: Vec<String> = words.iter().map(|w| format!("{w:08x}")).collect();
                        tracing::debug!(rip = format_args!("{:#x}", self.state.rip), host_pc = format_args!("{pc:#x}"), host_code = words.join(" "), "guest memory fault in translated code");
                    } else {
                        tracing::info!(rip = format_args!("{:#x}", self.state.rip), "guest memory fault");
                    }
                    let trap = signals::host_fault_trap(&info);
                    self.debugger_passes(i32::from_ne_bytes([info[0], info[1], info[2], info[3]])).then(|| self.signals.deliver_fault(&mut self.state, &self.process, &info, trap).map(ThreadEnd::Process)).flatten()
                }
                GuestEvent::PageFault { addr, code } => {
                    tracing::info!(rip = format_args!("{:#x}", self.state.rip), "guest memory fault (interpreter)");
                    let info = signals::siginfo(libc::SIGSEGV, code, addr);
                    let trap = signals::host_fault_trap(&info);
                    self.debugger_passes(libc::SIGSEGV).then(|| self.signals.deliver_fault(&mut self.state, &self.process, &info, trap).map(ThreadEnd::Process)).flatten()
                }
                GuestEvent::Interrupted => None,
                GuestEvent::DebugStop => {
                    crate::gdb::stop(&mut self.state, &mut self.translator, crate::gdb::Stop::Trap);
                    None
                }
            };
            let end = end.or_else(|| {
                if self.state.interrupt == 0 && interrupted_syscall.is_none() {
                    return None;
                }
                let e = self.signals.deliver_pending(&mut self.state, &self.process, interrupted_syscall);
                self.translator.relink();
                e.map(ThreadEnd::Process)
            });
            if let Some(end) = end {
                match end {
                    ThreadEnd::Process(Ending::Exit(_)) => persistent_cache::save(&self.translator),
                    ThreadEnd::Thread { .. } => self.signals.thread_exits(),
                    ThreadEnd::Process(Ending::Signal(_)) => {}
                }
                self.report(&end);
                if let ThreadEnd::Process(ending) = &end {
                    crate::gdb::process_ends(ending);
                    // The process ends now (exit_group or a fatal signal):
                    // tearing down the code cache and this thread's state
                    // would only cost time (0.5 M instructions after a
                    // Python start).
                    std::mem::forget(self);
                }
                return end;
            }
        }
    }

    /// With gdb attached, it sees a fault signal before the program does;
    /// false when it resumes without passing the signal on.
    fn debugger_passes(&mut self, signal: i32) -> bool {
        !crate::gdb::attached() || crate::gdb::stop(&mut self.state, &mut self.translator, crate::gdb::Stop::Signal(signal))
    }

    fn syscall(&mut self, interrupted: &mut Option<InterruptedSyscall>) -> Option<ThreadEnd> {
        let g = &self.state.gpr;
        let nr = g[RAX];
        let args = [g[RDI], g[RSI], g[RDX], g[R10], g[R8], g[R9]];
        let verdict = self.seccomp_verdict(nr);
        if verdict != Verdict::Allow {
            return self.refused_by_seccomp(verdict, nr, seccomp::AUDIT_ARCH_X86_64);
        }
        let waited_with = signals::temporary_mask(nr, &args);
        let outcome = if waited_with.is_some_and(|mask| self.signals.releases_waiting(mask)) {
            // A signal the runtime already holds, which the call's temporary
            // mask unblocks: the kernel would deliver it at once, and return EINTR.
            SyscallOutcome::Return(EINTR)
        } else {
            let mut thread = Thread { state: &mut self.state, process: &self.process, translator: &mut self.translator, signals: &self.signals, clear_child_tid: &mut self.clear_child_tid };
            let outcome = transit_syscalls::dispatch(&self.process, &mut thread, nr, args);
            // `|`, not `||`: both kinds lifted, whichever the kernel met.
            if outcome == SyscallOutcome::Return(EFAULT) && (code_watch::unprotect_all() | transit_syscalls::vfork_writes::lift_all()) {
                // The kernel met a page Transit write-protected (translated code
                // on a writable page, or a vfork child's memory): it is
                // writable again, so try once more.
                transit_syscalls::dispatch(&self.process, &mut thread, nr, args)
            } else {
                outcome
            }
        };
        if FORK_SYSCALLS.contains(&nr) && outcome == SyscallOutcome::Return(0) {
            self.signals.after_fork_in_child();
            threads::after_fork_in_child();
            seccomp::after_fork_in_child();
            crate::gdb::forget_in_child();
            if let Err(e) = self.translator.after_fork_in_child() {
                tracing::error!("forked child: no code cache: {e}");
                return Some(ThreadEnd::Process(Ending::Signal(libc::SIGSEGV)));
            }
        }
        match outcome {
            SyscallOutcome::Return(v) => {
                // The syscall instruction clobbers RCX (return address) and R11 (RFLAGS).
                self.state.gpr[RAX] = v;
                self.state.gpr[RCX] = self.state.rip;
                self.state.gpr[R11] = self.state.rflags();
                *interrupted = match v {
                    EINTR => Some(InterruptedSyscall::interrupted(nr, &args, waited_with)),
                    NOT_STARTED => Some(InterruptedSyscall::not_started(nr)),
                    _ => None,
                };
                None
            }
            exit => self.exit_by_syscall(exit),
        }
    }
}

impl GuestThreadRun {
    /// `int 0x80`: the i386 syscall entry. Only RAX changes. A call a
    /// signal interrupts returns EINTR (it is not restarted: the restart
    /// rules are the x86_64 numbers'); one that never began is executed
    /// after the handler (`int 0x80` is two bytes, as `syscall` is).
    fn compat_syscall(&mut self, interrupted: &mut Option<InterruptedSyscall>) -> Option<ThreadEnd> {
        let g = &self.state.gpr;
        let nr = g[RAX] as u32;
        let regs = [g[RBX], g[RCX], g[RDX], g[RSI], g[RDI], g[RBP]];
        let verdict = seccomp::verdict(u64::from(nr), seccomp::AUDIT_ARCH_I386, self.state.rip, &regs);
        if verdict != Verdict::Allow {
            return self.refused_by_seccomp(verdict, u64::from(nr), seccomp::AUDIT_ARCH_I386);
        }
        let mut thread = Thread { state: &mut self.state, process: &self.process, translator: &mut self.translator, signals: &self.signals, clear_child_tid: &mut self.clear_child_tid };
        match transit_syscalls::dispatch_ia32(&self.process, &mut thread, nr, regs) {
            SyscallOutcome::Return(NOT_STARTED) => {
                *interrupted = Some(InterruptedSyscall::not_started(u64::from(nr)));
                None
            }
            SyscallOutcome::Return(v) => {
                self.state.gpr[RAX] = v;
                None
            }
            exit => self.exit_by_syscall(exit),
        }
    }

    /// What the seccomp filters say of x86_64 syscall `nr` (arguments in
    /// the registers). One they refuse has still clobbered RCX and R11.
    fn seccomp_verdict(&mut self, nr: u64) -> Verdict {
        let g = &self.state.gpr;
        let args = [g[RDI], g[RSI], g[RDX], g[R10], g[R8], g[R9]];
        let verdict = seccomp::verdict(nr, seccomp::AUDIT_ARCH_X86_64, self.state.rip, &args);
        if verdict != Verdict::Allow {
            self.state.gpr[RCX] = self.state.rip;
            self.state.gpr[R11] = self.state.rflags();
        }
        verdict
    }

    /// A syscall a seccomp filter (or strict mode) did not allow: it is
    /// not made, and the call fails, raises SIGSYS, or ends the thread or
    /// the process, as the kernel does.
    fn refused_by_seccomp(&mut self, verdict: Verdict, nr: u64, arch: u32) -> Option<ThreadEnd> {
        tracing::info!(nr, ?verdict, "seccomp refused a syscall");
        match verdict {
            Verdict::Allow => None,
            Verdict::Errno(e) => {
                self.state.gpr[RAX] = e.to_rax();
                None
            }
            Verdict::Trap { data } => {
                // RAX keeps the syscall number, as after the kernel's rollback.
                let (info, trap) = signals::seccomp_trap_info(nr, arch, self.state.rip, data);
                self.signals.deliver_fault(&mut self.state, &self.process, &info, trap).map(ThreadEnd::Process)
            }
            // Only the thread dies (strict mode's SIGKILL too), unless it is the last.
            Verdict::KillThread | Verdict::Kill if threads::others_alive() => Some(ThreadEnd::Thread { status: 0, clear_child_tid: self.clear_child_tid }),
            Verdict::KillThread | Verdict::KillProcess => Some(ThreadEnd::Process(Ending::Signal(libc::SIGSYS))),
            Verdict::Kill => Some(ThreadEnd::Process(Ending::Signal(libc::SIGKILL))),
        }
    }

    /// exit (this thread) or exit_group (the process).
    fn exit_by_syscall(&self, outcome: SyscallOutcome) -> Option<ThreadEnd> {
        match outcome {
            SyscallOutcome::Exit { status, group: true } => Some(ThreadEnd::Process(Ending::Exit(status))),
            SyscallOutcome::Exit { status, group: false } => {
                Some(ThreadEnd::Thread { status, clear_child_tid: self.clear_child_tid })
            }
            SyscallOutcome::Return(_) => None,
        }
    }
}

/// How a guest thread's run ended.
pub enum ThreadEnd {
    /// exit: only this thread ends; `clear_child_tid` (if not 0) is the word
    /// to clear and wake, as the kernel does for CLONE_CHILD_CLEARTID.
    Thread { status: i32, clear_child_tid: u64 },
    /// exit_group, or a signal whose action ends the process.
    Process(Ending),
}

/// The syscall layer's view of a guest thread.
struct Thread<'a> {
    state: &'a mut CpuState,
    process: &'a Arc<GuestProcess>,
    translator: &'a mut Translator,
    signals: &'a SignalThread,
    clear_child_tid: &'a mut u64,
}

impl GuestThread for Thread<'_> {
    fn fs_base(&self) -> u64 {
        self.state.fs_base
    }
    fn set_fs_base(&mut self, value: u64) {
        self.state.fs_base = value;
    }
    fn gs_base(&self) -> u64 {
        self.state.gs_base
    }
    fn set_gs_base(&mut self, value: u64) {
        self.state.gs_base = value;
    }
    fn stack_pointer(&self) -> u64 {
        self.state.gpr[RSP]
    }
    fn set_stack_pointer(&mut self, value: u64) {
        self.state.gpr[RSP] = value;
    }
    fn spawn_thread(&mut self, req: &ThreadRequest) -> Result<u64, Errno> {
        // From now on other threads read this memory: keep x86 ordering,
        // before the new thread runs any translation.
        persistent_cache::set_memory_order(self.translator, MemoryOrder::Tso);
        threads::spawn(self.process, self.state, req, self.translator.shared_code())
    }
    fn set_clear_child_tid(&mut self, addr: u64) {
        *self.clear_child_tid = addr;
    }
    fn keep_x86_memory_order(&mut self) {
        persistent_cache::set_memory_order(self.translator, MemoryOrder::Tso);
    }
    fn code_file_mapped(&mut self, fd: i32, addr: u64, len: u64, offset: u64) {
        persistent_cache::file_mapped(self.translator, fd, addr, len, offset);
    }
    fn code_unmapped(&mut self, addr: u64, len: u64) {
        persistent_cache::unmapped(self.translator, addr, len);
    }
    fn before_exec(&mut self) {
        persistent_cache::save(self.translator);
    }
    fn hold_locks_for_fork(&mut self) -> Vec<Box<dyn std::any::Any>> {
        vec![persistent_cache::hold_for_fork(), crate::perf_map::hold_for_fork()]
    }
    fn signals_held_by_runtime(&self) -> u64 {
        self.signals.waiting()
    }
    fn return_held_signals_to_kernel(&mut self, blocked: u64) {
        self.signals.return_to_kernel(blocked);
    }
    fn take_held_signal(&mut self, set: u64) -> Option<[u8; 128]> {
        self.signals.take_waiting(set)
    }
    fn lend_held_signals_to_kernel(&mut self, set: u64) {
        self.signals.lend_to_kernel(set);
    }
    fn take_back_held_signals(&mut self, set: u64) {
        self.signals.take_back_from_kernel(set);
    }
}

impl GuestThreadRun {
    /// The thread's statistics when it ends (`--stats`: on stderr; and the
    /// debug log); when the process ends, every thread's and the cache's.
    fn report(&self, end: &ThreadEnd) {
        let s = self.translator.stats();
        tracing::debug!(
            blocks = s.blocks,
            guest_insns = s.guest_insns,
            host_bytes = s.host_bytes,
            flushes = s.flushes,
            invalidated = s.invalidated,
            dispatches = self.state.dispatches,
            "translation statistics"
        );
        if !self.process.transit.stats {
            return;
        }
        // SAFETY: getpid and gettid have no preconditions.
        let (pid, tid) = unsafe { (libc::getpid(), libc::gettid()) };
        let mut lines = Vec::new();
        match end {
            ThreadEnd::Thread { .. } => {
                lines.push(format!("transit-stats[{pid}]: thread {tid} exits: {} heap={}", self.translator.thread_summary(), heap_in_use()));
            }
            ThreadEnd::Process(_) => {
                for (t, summary) in self.translator.all_thread_summaries() {
                    lines.push(format!("transit-stats[{pid}]: thread {t}: {summary}"));
                }
                lines.push(format!(
                    "transit-stats[{pid}]: process: blocks={} restored={} guest_insns={} host_bytes={} flushes={} invalidated={} memory_order={:?} host={} heap={}",
                    s.blocks,
                    s.restored,
                    s.guest_insns,
                    s.host_bytes,
                    s.flushes,
                    s.invalidated,
                    self.translator.memory_order(),
                    self.translator.host_features().names(),
                    heap_in_use()
                ));
            }
        }
        let text = lines.join("\n") + "\n";
        // One write, straight to fd 2: the guest owns stdio's buffers.
        // SAFETY: a valid buffer of that length.
        unsafe { libc::write(2, text.as_ptr().cast(), text.len()) };
    }
}

/// Bytes of Transit's own heap in use (malloc's arenas and its directly
/// mapped blocks; the guest's memory is not in it): `--stats` reports it at
/// each thread's end, so that a soak can tell whether threads leak.
fn heap_in_use() -> usize {
    // SAFETY: mallinfo2 only reads malloc's bookkeeping, under its locks.
    let m = unsafe { libc::mallinfo2() };
    m.uordblks + m.hblkhd
}
