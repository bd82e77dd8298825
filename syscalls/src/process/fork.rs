//! Process creation: fork, vfork, and clone/clone3 when they make a process.
//!
//! Every form is a host fork(): the child gets its own copy of guest memory
//! and of Transit, which cannot be shared with the parent. So CLONE_VM is
//! honoured only with CLONE_VFORK (glibc's posix_spawn, vfork), where the
//! parent waits until its child has exec'd or exited, and the memory the
//! child wrote until then is copied back into the parent's
//! (`vfork_writes`: glibc's posix_spawn reports the exec error there).
//! Threads (CLONE_VM|CLONE_THREAD without CLONE_VFORK) go to the runtime
//! through `GuestThread::spawn_thread`: only it can start translated code.

use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, OwnedFd};

use crate::guest_mem;
use crate::host::{self, Errno, SysResult};
use crate::{Args, Ctx};

// clone flags (include/uapi/linux/sched.h), the same on every architecture.
const CSIGNAL: u64 = 0xff;
const CLONE_VM: u64 = 0x100;
const CLONE_PIDFD: u64 = 0x1000;
const CLONE_PTRACE: u64 = 0x2000;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x10_0000;
const CLONE_CHILD_CLEARTID: u64 = 0x20_0000;
const CLONE_DETACHED: u64 = 0x40_0000;
const CLONE_UNTRACED: u64 = 0x80_0000;
const CLONE_CHILD_SETTID: u64 = 0x100_0000;
const CLONE_IO: u64 = 0x8000_0000;
/// clone3 only: the child starts with default actions for caught signals
/// (glibc 2.38's posix_spawn asks for it).
const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;

/// What a forked child can honour.
const SUPPORTED: u64 = CLONE_VM
    | CLONE_VFORK
    | CLONE_PIDFD
    | CLONE_SETTLS
    | CLONE_PARENT_SETTID
    | CLONE_CHILD_SETTID
    | CLONE_CHILD_CLEARTID
    | CLONE_CLEAR_SIGHAND;
/// Accepted and without effect here: the kernel ignores CLONE_DETACHED, a
/// Transit process is not traced, and I/O context sharing is a hint.
const IGNORED: u64 = CLONE_DETACHED | CLONE_UNTRACED | CLONE_PTRACE | CLONE_IO;

/// A process-creating clone in the guest's terms.
#[derive(Debug, Default)]
struct CloneRequest {
    /// Flags without the exit signal.
    flags: u64,
    exit_signal: u64,
    /// The child's RSP; 0 keeps the parent's.
    stack: u64,
    parent_tid: u64,
    child_tid: u64,
    tls: u64,
    /// Where CLONE_PIDFD stores the pidfd.
    pidfd: u64,
}

/// fork: clone with SIGCHLD and nothing else.
pub(crate) fn fork(ctx: &mut Ctx<'_>, _: &Args) -> SysResult {
    spawn(
        ctx,
        &CloneRequest {
            exit_signal: libc::SIGCHLD as u64,
            ..CloneRequest::default()
        },
    )
}

/// vfork: the child runs on the parent's stack (its own copy of it here).
pub(crate) fn vfork(ctx: &mut Ctx<'_>, _: &Args) -> SysResult {
    spawn(
        ctx,
        &CloneRequest {
            flags: CLONE_VM | CLONE_VFORK,
            exit_signal: libc::SIGCHLD as u64,
            ..CloneRequest::default()
        },
    )
}

/// clone(flags, stack, parent_tid, child_tid, tls): x86_64's argument order
/// (aarch64's swaps the last two). The pidfd goes where parent_tid points.
pub(crate) fn clone(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    // The legacy clone takes only the low 32 bits (kernel/fork.c).
    let flags = a[0] & 0xffff_ffff;
    if flags & CLONE_PIDFD != 0 && flags & (CLONE_PARENT_SETTID | CLONE_DETACHED) != 0 {
        return Err(Errno::EINVAL);
    }
    spawn(
        ctx,
        &CloneRequest {
            flags: flags & !CSIGNAL,
            exit_signal: flags & CSIGNAL,
            stack: a[1],
            parent_tid: a[2],
            child_tid: a[3],
            tls: a[4],
            pidfd: a[2],
        },
    )
}

/// The fields of struct clone_args (include/uapi/linux/sched.h) we use;
/// `set_tid` and `cgroup` are unsupported, rejected through `set_tid_size`
/// and CLONE_INTO_CGROUP.
#[derive(Debug)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid_size: u64,
}

/// Sizes of struct clone_args: its first version, and the one with every
/// field we know (CLONE_ARGS_SIZE_VER2, eleven u64).
const CLONE_ARGS_SIZE_VER0: u64 = 64;
const CLONE_ARGS_SIZE_VER2: usize = 88;
const PAGE_SIZE: u64 = 4096;

/// clone3(args, size).
pub(crate) fn clone3(ctx: &mut Ctx<'_>, a: &Args) -> SysResult {
    let args = read_clone_args(a[0], a[1])?;
    if args.exit_signal & !CSIGNAL != 0 || args.flags & (CSIGNAL | CLONE_DETACHED) != 0 {
        return Err(Errno::EINVAL);
    }
    if args.set_tid_size != 0 {
        tracing::warn!("clone3: set_tid is not supported");
        return Err(Errno::EINVAL);
    }
    // clone3_stack_valid (kernel/fork.c): both or neither, and the stack
    // grows down from stack + stack_size.
    let stack = match (args.stack, args.stack_size) {
        (0, 0) => 0,
        (0, _) | (_, 0) => return Err(Errno::EINVAL),
        (base, size) => base.wrapping_add(size),
    };
    spawn(
        ctx,
        &CloneRequest {
            flags: args.flags,
            exit_signal: args.exit_signal,
            stack,
            parent_tid: args.parent_tid,
            child_tid: args.child_tid,
            tls: args.tls,
            pidfd: args.pidfd,
        },
    )
}

/// copy_struct_from_user's rules: at least VER0, at most a page, and bytes
/// past the fields we know must be zero.
fn read_clone_args(addr: u64, size: u64) -> Result<CloneArgs, Errno> {
    if size < CLONE_ARGS_SIZE_VER0 {
        return Err(Errno::EINVAL);
    }
    if size > PAGE_SIZE {
        return Err(Errno(libc::E2BIG));
    }
    let mut bytes = vec![0u8; (size as usize).max(CLONE_ARGS_SIZE_VER2)];
    guest_mem::read_bytes(addr, &mut bytes[..size as usize])?;
    if bytes[CLONE_ARGS_SIZE_VER2..].iter().any(|&b| b != 0) {
        return Err(Errno(libc::E2BIG));
    }
    let field = |i: usize| u64::from_ne_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8 bytes"));
    Ok(CloneArgs {
        flags: field(0),
        pidfd: field(1),
        child_tid: field(2),
        parent_tid: field(3),
        exit_signal: field(4),
        stack: field(5),
        stack_size: field(6),
        tls: field(7),
        set_tid_size: field(9),
    })
}

/// What a thread shares with its creator in Transit: everything a host
/// thread shares (pthread_create's set); the guest must ask for all of it.
const THREAD_SHARES: u64 = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM;
const CLONE_FS: u64 = 0x200;
const CLONE_FILES: u64 = 0x400;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_SYSVSEM: u64 = 0x4_0000;
const THREAD_OPTIONS: u64 = CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID;

fn spawn(ctx: &mut Ctx<'_>, req: &CloneRequest) -> SysResult {
    let flags = req.flags;
    if flags & CLONE_VM != 0 && flags & CLONE_VFORK == 0 {
        let extra = flags & !(THREAD_SHARES | THREAD_OPTIONS | IGNORED);
        if flags & THREAD_SHARES != THREAD_SHARES || extra != 0 {
            tracing::warn!(flags = format_args!("{flags:#x}"), "clone: a shared-memory child other than a thread");
            return Err(Errno::EINVAL);
        }
        return ctx.thread.spawn_thread(&crate::ThreadRequest {
            stack: req.stack,
            tls: (flags & CLONE_SETTLS != 0).then_some(req.tls),
            parent_tid: if flags & CLONE_PARENT_SETTID != 0 { req.parent_tid } else { 0 },
            child_tid: if flags & CLONE_CHILD_SETTID != 0 { req.child_tid } else { 0 },
            clear_child_tid: if flags & CLONE_CHILD_CLEARTID != 0 { req.child_tid } else { 0 },
        });
    }
    let unsupported = flags & !(SUPPORTED | IGNORED);
    if unsupported != 0 || req.exit_signal != libc::SIGCHLD as u64 {
        // A forked host child always signals SIGCHLD and shares nothing.
        tracing::warn!(
            unsupported = format_args!("{unsupported:#x}"),
            exit_signal = req.exit_signal,
            "clone: unsupported flags or exit signal"
        );
        return Err(Errno::EINVAL);
    }
    let vfork_done = if flags & CLONE_VFORK != 0 {
        Some(VforkDone::new()?)
    } else {
        None
    };
    // SAFETY: gettid has no preconditions.
    let parent_tid = unsafe { libc::gettid() };
    let process = ctx.process;
    // A host fork copies only this thread: a lock another thread held then
    // would stay held in the child for ever, over data it left half-changed.
    // So every global lock of Transit is taken first, in one order (the
    // process's, the runtime's, the syscall layer's, the translator's), and
    // let go of in both processes after. The code cache's lock is not among
    // them: the child starts a cache of its own.
    let mut signals = process.signals();
    let brk = process.brk_current.lock().unwrap_or_else(|e| e.into_inner());
    let mut held = ctx.thread.hold_locks_for_fork();
    held.extend([
        crate::guest_regions::hold_for_fork(),
        crate::shared_mappings::hold_for_fork(),
        crate::writable::hold_for_fork(),
        crate::seccomp::hold_for_fork(),
        transit_translator::cache::code_watch::hold_for_fork(),
        transit_translator::exit::debug_stops::hold_for_fork(),
        transit_translator::frontend::decode::hold_for_fork(),
    ]);
    let pid = host_fork();
    drop(held);
    drop(brk);
    let pid = pid?;
    if pid == 0 {
        match vfork_done {
            Some(done) if flags & CLONE_VM != 0 => super::vfork_writes::track(done.hold_in_child()),
            Some(done) => {
                done.hold_in_child();
                super::vfork_writes::forget_in_child();
            }
            None => super::vfork_writes::forget_in_child(),
        }
        // SAFETY: as above.
        let tid = unsafe { libc::gettid() };
        signals.fork_thread(parent_tid, tid);
        if flags & CLONE_CLEAR_SIGHAND != 0 {
            signals.reset_handlers();
        }
        // What the kernel does for the child before it returns to user mode;
        // it ignores faults on these addresses (schedule_tail).
        if flags & CLONE_CHILD_SETTID != 0 {
            let _ = guest_mem::write(req.child_tid, &tid);
        }
        if flags & CLONE_CHILD_CLEARTID != 0 {
            let _ = host::syscall(libc::SYS_set_tid_address, &[req.child_tid]);
        }
        if flags & CLONE_SETTLS != 0 {
            ctx.thread.set_fs_base(req.tls);
        }
        if req.stack != 0 {
            ctx.thread.set_stack_pointer(req.stack);
        }
        return Ok(0);
    }
    drop(signals);
    if flags & CLONE_PARENT_SETTID != 0 {
        let _ = guest_mem::write(req.parent_tid, &pid);
    }
    if flags & CLONE_PIDFD != 0 {
        // The kernel makes the pidfd before the child runs; opening it now
        // is the same while the child cannot have been reaped yet.
        match host::syscall(libc::SYS_pidfd_open, &[pid as u64, 0]) {
            Ok(fd) => {
                if let Err(e) = guest_mem::write(req.pidfd, &(fd as i32)) {
                    tracing::warn!("clone: cannot store the pidfd: {e:?}");
                }
            }
            Err(e) => tracing::warn!("clone: pidfd_open failed: {e:?}"),
        }
    }
    if let Some(done) = vfork_done {
        let child_writes = done.wait_in_parent();
        if flags & CLONE_VM != 0 {
            super::vfork_writes::apply(&child_writes);
        }
    }
    Ok(pid as u64)
}

/// The host fork: the child is a copy of this thread of Transit and
/// continues in the runtime's guest loop.
fn host_fork() -> Result<libc::pid_t, Errno> {
    // SAFETY: the caller holds Transit's global locks (see `spawn`); libc's
    // fork takes and resets its own (malloc, stdio) for the child.
    match unsafe { libc::fork() } {
        -1 => Err(last_errno()),
        pid => Ok(pid),
    }
}

fn last_errno() -> Errno {
    Errno(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EAGAIN),
    )
}

/// Makes a vfork parent wait, as the kernel does, until its child has exec'd
/// or exited: the child holds the write end of a close-on-exec pipe, which
/// closes at either, and the parent reads it until end of file. What it
/// reads is what the child wrote to memory (`vfork_writes`).
struct VforkDone {
    read: OwnedFd,
    write: OwnedFd,
}

/// The child's write end moves this far below RLIMIT_NOFILE (and below
/// 1024), out of the way of the low descriptors the guest will allocate.
const HIGH_FD_MARGIN: u64 = 64;

impl VforkDone {
    fn new() -> Result<VforkDone, Errno> {
        let mut fds = [0i32; 2];
        host::syscall(
            libc::SYS_pipe2,
            &[host::ptr_mut(fds.as_mut_ptr()), libc::O_CLOEXEC as u64],
        )?;
        // SAFETY: pipe2 just returned these two descriptors, owned by nobody else.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok(VforkDone { read, write })
    }

    /// Keeps the write end open (at a high number) until exec or exit; its
    /// descriptor.
    fn hold_in_child(self) -> i32 {
        drop(self.read);
        let mut limit = [0u64; 2];
        let _ = host::syscall(
            libc::SYS_prlimit64,
            &[
                0,
                libc::RLIMIT_NOFILE as u64,
                0,
                host::ptr_mut(limit.as_mut_ptr()),
            ],
        );
        let floor = limit[0].min(1024).saturating_sub(HIGH_FD_MARGIN);
        let fd = self.write.as_raw_fd();
        if floor > fd as u64 {
            if let Ok(high) = host::syscall(
                libc::SYS_fcntl,
                &[fd as u64, libc::F_DUPFD_CLOEXEC as u64, floor],
            )
            {
                return high as i32; // `self.write` closes: the duplicate stays.
            }
        }
        self.write.into_raw_fd()
    }

    /// Waits for the end of file; returns everything read before it.
    fn wait_in_parent(self) -> Vec<u8> {
        drop(self.write);
        let (mut read, mut chunk) = (Vec::new(), [0u8; 4096]);
        loop {
            match host::syscall(
                libc::SYS_read,
                &[self.read.as_raw_fd() as u64, host::ptr_mut(chunk.as_mut_ptr()), chunk.len() as u64],
            ) {
                Err(e) if e.0 == libc::EINTR => continue,
                Ok(n) if n > 0 => read.extend_from_slice(&chunk[..n as usize]),
                _ => return read,
            }
        }
    }
}
