//! The x86_64 Linux syscall ABI, mapped onto the host (aarch64) kernel.
//!
//! The runtime calls [`dispatch`] when guest code executes `syscall`:
//! `nr` is guest RAX, `args` are guest RDI, RSI, RDX, R10, R8, R9.
//! The returned value goes back into guest RAX (negative errno on failure,
//! exactly as the x86_64 kernel returns it).
//!
//! `int 0x80` (the i386 entry) goes to [`dispatch_ia32`] instead (`ia32`).
//!
//! Code map: [`table`] says, for every x86_64 syscall number, its name and
//! how it is handled (forwarded unchanged, emulated by a handler, or missing).
//! Handlers live by domain: `fs`, `mm`, `process`, `time`, `signal`, `ioctl`.
//! Layouts and flag values that differ between the ABIs live in [`abi`].
//! `host` is the single place that enters the host kernel; `guest_mem`
//! copies converted structs to and from guest memory.
//!
//! What the runtime provides:
//! - a [`GuestProcess`] from [`GuestProcess::new`], with `brk_start` the end
//!   of the highest PT_LOAD (its bss page mapped) and `exe_path` the guest
//!   executable's absolute path; its `rootfs` (`-L DIR`), and the initial
//!   stack through [`GuestProcess::record_initial_stack`];
//! - in [`GuestProcess::transit`], how to start Transit again (execve of an
//!   x86_64 program runs Transit on it);
//! - on [`SyscallOutcome::Exit`], the thread or process exit itself;
//! - thread creation and rt_sigreturn: they are `Missing` here (ENOSYS)
//!   because they need the translator's CPU state. Process creation (fork,
//!   vfork, clone without CLONE_VM) is a host fork inside the handler: both
//!   processes return from it;
//! - signal delivery: [`GuestProcess::signals`] holds the dispositions and
//!   installs the runtime's host handler (`SignalState::host_handler`).

pub mod abi;
mod fs;
pub mod guest_mem;
pub mod guest_regions;
pub mod guest_space;
pub mod seccomp;
mod host;
mod ia32;
mod ioctl;
mod ipc;
mod mm;
mod process;
mod range_set;
pub mod shared_mappings;
pub mod signal;
pub mod strace;
pub mod table;
mod time;
pub mod writable;

pub use ia32::dispatch_ia32;

use host::SysResult;
use std::sync::Mutex;
use table::{Handler, X86Nr};

pub use host::{interrupted_at, note_dropped_signal, own_maps, set_interrupt_flag, Errno};
pub use process::{script_interpreter, vfork_writes, TransitCommand};
pub use fs::proc::ProcessStart;
pub use fs::rootfs::{guest_path_to_host, host_path_to_guest};
pub use signal::SignalState;
pub use writable::guest_may_write;

/// What the syscall layer may read or change in the calling guest thread.
pub trait GuestThread {
    fn fs_base(&self) -> u64;
    fn set_fs_base(&mut self, value: u64);
    fn gs_base(&self) -> u64;
    fn set_gs_base(&mut self, value: u64);
    /// Guest RSP (sigaltstack reports whether the thread runs on its stack).
    fn stack_pointer(&self) -> u64;
    /// Guest RSP: a clone child continues on the stack it was given.
    fn set_stack_pointer(&mut self, value: u64);
    /// Starts a guest thread that continues from the current syscall with
    /// RAX = 0; returns its thread id (host tid = guest tid).
    fn spawn_thread(&mut self, req: &ThreadRequest) -> Result<u64, Errno>;
    /// set_tid_address: where to write 0 and wake a futex when the thread ends.
    fn set_clear_child_tid(&mut self, addr: u64);
    /// Memory that other processes may see is mapped: from now on the
    /// process's translations keep x86's memory order, as they do once it
    /// has a second thread (PostgreSQL's spinlocks in shared memory are
    /// released with a plain store).
    fn keep_x86_memory_order(&mut self);
    /// The guest mapped `len` bytes of file `fd` from `offset` executable
    /// at `addr`: its code may have saved translations.
    fn code_file_mapped(&mut self, _fd: i32, _addr: u64, _len: u64, _offset: u64) {}
    /// `[addr, addr + len)` was unmapped or mapped over.
    fn code_unmapped(&mut self, _addr: u64, _len: u64) {}
    /// The process is about to execute another program.
    fn before_exec(&mut self) {}
    /// Guards of the runtime's own global locks, held across a host fork
    /// (see `process::fork`); taken after the process's locks and before
    /// the syscall layer's and the translator's.
    fn hold_locks_for_fork(&mut self) -> Vec<Box<dyn std::any::Any>> {
        Vec::new()
    }
    /// The signals with instances the runtime holds for this thread, not
    /// the kernel (see `signal::mask`): rt_sigpending reports the blocked
    /// ones with the kernel's.
    fn signals_held_by_runtime(&self) -> u64 {
        0
    }
    /// Before an execve, which keeps the kernel's pending signals and not
    /// the runtime's: sends the instances the runtime holds of the signals
    /// in `blocked` (which the host now blocks) to this thread through the
    /// kernel, where they wait for the next program.
    fn return_held_signals_to_kernel(&mut self, _blocked: u64) {}
    /// For rt_sigtimedwait: takes the oldest instance of the lowest-numbered
    /// signal of `set` that the runtime holds for this thread, if any, and
    /// returns its siginfo.
    fn take_held_signal(&mut self, _set: u64) -> Option<[u8; 128]> {
        None
    }
    /// For a call that reads or waits on descriptors (a signalfd among
    /// them): the instances the runtime holds of the signals in `set`
    /// (fault signals the guest blocks) wait in the kernel instead, blocked
    /// on the host, until `take_back_held_signals`.
    fn lend_held_signals_to_kernel(&mut self, _set: u64) {}
    /// After that call: those still pending in the kernel go back to the
    /// runtime, and the host unblocks the signals again.
    fn take_back_held_signals(&mut self, _set: u64) {}
}

/// A guest thread to start (clone with CLONE_VM|CLONE_THREAD).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ThreadRequest {
    /// The new thread's RSP; 0 keeps the creator's.
    pub stack: u64,
    /// The new thread's FS base (CLONE_SETTLS).
    pub tls: Option<u64>,
    /// Where to store the new tid in the creator's view (CLONE_PARENT_SETTID), or 0.
    pub parent_tid: u64,
    /// Where the new thread stores its tid (CLONE_CHILD_SETTID), or 0.
    pub child_tid: u64,
    /// Cleared and futex-woken when the thread ends (CLONE_CHILD_CLEARTID), or 0.
    pub clear_child_tid: u64,
}

/// Result of one guest syscall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyscallOutcome {
    /// Continue the guest with this value in RAX.
    Return(u64),
    /// The guest called exit (thread) or exit_group (process) with this status.
    Exit { status: i32, group: bool },
}

/// Per-process state the syscall layer keeps for the guest, shared by its
/// threads: what changes after start-up sits behind a lock of its own.
#[derive(Debug, Default)]
pub struct GuestProcess {
    /// Start of the brk heap (page-aligned end of the highest PT_LOAD).
    pub brk_start: u64,
    /// Current program break.
    pub brk_current: Mutex<u64>,
    /// End of the address range the loader reserved (PROT_NONE) after
    /// `brk_start` for the heap to grow into; 0 when there is none.
    pub brk_reserved_end: u64,
    /// Absolute host path of the guest executable: what `/proc/self/exe` reads as.
    pub exe_path: std::path::PathBuf,
    /// The guest's signal dispositions and alternate stacks.
    pub signals: Mutex<SignalState>,
    /// How Transit was started, to start it again on an x86_64 program the
    /// guest executes.
    pub transit: TransitCommand,
    /// x86_64 root filesystem (`-L DIR`) where absolute guest paths are
    /// looked up first; `None`: paths name the host's files. Set it with
    /// [`GuestProcess::set_rootfs`].
    pub rootfs: Option<std::path::PathBuf>,
    /// The auxiliary vector and arguments of the initial stack, for `/proc`.
    pub start: ProcessStart,
    /// The mapping of the initial stack, which on x86_64 is the kernel's
    /// grows-down stack (`mm::mprotect`'s PROT_GROWSDOWN).
    pub initial_stack: std::ops::Range<u64>,
}

impl GuestProcess {
    /// The signal state, locked (a poisoned lock is still usable: the state
    /// is plain data).
    pub fn signals(&self) -> std::sync::MutexGuard<'_, SignalState> {
        self.signals.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A process whose program break starts (and currently is) at `brk_start`.
    ///
    /// `brk_start` is the end of the highest PT_LOAD segment (its bss); the
    /// bytes from there to the next page boundary must already be mapped, as
    /// the loader maps that page for the bss anyway.
    pub fn new(exe_path: std::path::PathBuf, brk_start: u64) -> GuestProcess {
        GuestProcess {
            brk_start,
            brk_current: Mutex::new(brk_start),
            brk_reserved_end: 0,
            exe_path,
            signals: Mutex::new(SignalState::default()),
            transit: TransitCommand::default(),
            rootfs: None,
            start: ProcessStart::default(),
            initial_stack: 0..0,
        }
    }
}

/// What a handler can reach: the process and the calling thread.
pub(crate) struct Ctx<'a> {
    pub process: &'a GuestProcess,
    pub thread: &'a mut dyn GuestThread,
}

/// Guest RDI, RSI, RDX, R10, R8, R9.
pub(crate) type Args = [u64; 6];

pub fn dispatch(
    process: &GuestProcess,
    thread: &mut dyn GuestThread,
    nr: u64,
    args: [u64; 6],
) -> SyscallOutcome {
    let nr = X86Nr(nr);
    let Some(entry) = table::lookup(nr) else {
        tracing::warn!("unknown syscall number {}", nr.0);
        return SyscallOutcome::Return(host::Errno::ENOSYS.to_rax());
    };
    // These may not come back: traced before (and again if they fail).
    if strace::enabled() && (matches!(entry.handler, Handler::Exit { .. }) || entry.name.starts_with("execve")) {
        strace::emit(&strace::line(signal::current_tid(), entry, &args, None));
    }
    // A fault signal the guest blocks, sent to it by kill, waits in the
    // runtime's queue (the host never blocks these signals). A signalfd
    // reads the kernel's: around the calls that read or wait on
    // descriptors, those instances wait there, as they would natively.
    let held = thread.signals_held_by_runtime() & signal::HELD;
    let lent = if held != 0 && signal::waits_on_descriptors(entry.name) { held & signal::guest_mask() } else { 0 };
    if lent != 0 {
        thread.lend_held_signals_to_kernel(lent);
    }
    let result: SysResult = match entry.handler {
        Handler::Pass(host_nr) => host::interruptible_syscall(host_nr, &args),
        Handler::PassPaths(host_nr, paths) => fs::rootfs::pass_paths(process, host_nr, paths, &args),
        Handler::Emulate(handler) => handler(&mut Ctx { process, thread }, &args),
        Handler::Exit { group } => {
            tracing::debug!(status = args[0] as i32, group, "{}", entry.name);
            process::vfork_writes::send_to_parent();
            // The x86_64 kernel takes `status & 0xff`; the runtime reports the
            // full int it was given, as exit_group's argument is an int.
            return SyscallOutcome::Exit {
                status: args[0] as i32,
                group,
            };
        }
        Handler::Missing => {
            tracing::warn!("unimplemented syscall {} ({})", entry.name, nr.0);
            Err(host::Errno::ENOSYS)
        }
    };
    if lent != 0 {
        thread.take_back_held_signals(lent);
    }
    tracing::trace!(?args, ?result, "{}", entry.name);
    if strace::enabled() {
        let raw = match result {
            Ok(value) => value,
            Err(errno) => errno.to_rax(),
        };
        // A call a signal pre-empted is traced when it runs.
        if result != Err(host::Errno::NOT_STARTED) {
            strace::emit(&strace::line(signal::current_tid(), entry, &args, Some(raw)));
        }
    }
    SyscallOutcome::Return(match result {
        Ok(value) => value,
        Err(errno) => errno.to_rax(),
    })
}

#[cfg(test)]
mod tests;
