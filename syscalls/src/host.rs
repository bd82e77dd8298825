//! The one place that enters the host kernel.
//!
//! Errno values are the same on x86_64 and aarch64 (both use
//! `asm-generic/errno.h`), so a host errno is returned to the guest unchanged.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// A Linux errno value (positive), identical for guest and host.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Errno(pub i32);

impl Errno {
    pub const EFAULT: Errno = Errno(libc::EFAULT);
    pub const EINVAL: Errno = Errno(libc::EINVAL);
    pub const ENOSYS: Errno = Errno(libc::ENOSYS);
    pub const ENOTTY: Errno = Errno(libc::ENOTTY);
    pub const EPERM: Errno = Errno(libc::EPERM);
    pub const ENOMEM: Errno = Errno(libc::ENOMEM);
    pub const ENOENT: Errno = Errno(libc::ENOENT);
    pub const ENOTDIR: Errno = Errno(libc::ENOTDIR);
    /// Not an error the guest ever sees: an interruptible syscall did not
    /// begin because a signal for the guest was waiting (the kernel's
    /// internal ERESTARTNOINTR). The runtime delivers the signal first and
    /// executes the syscall when the handler returns, as the kernel does
    /// for a signal that arrives before the `syscall` instruction.
    pub const NOT_STARTED: Errno = Errno(513);

    fn last() -> Errno {
        Errno(
            std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        )
    }

    /// The value the x86_64 kernel leaves in RAX for this error.
    pub fn to_rax(self) -> u64 {
        (-(self.0 as i64)) as u64
    }
}

impl fmt::Debug for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Errno({})", std::io::Error::from_raw_os_error(self.0))
    }
}

/// What a syscall handler produces: the success value or an errno.
pub(crate) type SysResult = Result<u64, Errno>;

/// Calls the host syscall `nr` (a host number from `libc::SYS_*`) with up to
/// six arguments; missing ones are zero.
///
/// Guest registers go in whole: for `int` parameters both kernels look only
/// at the low 32 bits, so stale upper bits mean the same on both.
pub(crate) fn syscall(nr: libc::c_long, args: &[u64]) -> SysResult {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: the kernel validates every argument and reports bad pointers
    // with EFAULT. Guest memory is mapped at the same addresses in our own
    // address space, so a guest pointer means the same to the kernel as it
    // does to the guest; callers only forward arguments whose layout matches
    // what the host kernel expects for `nr`.
    let r = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    // glibc's syscall() maps every kernel error (-4095..-1) to -1 + errno;
    // no successful syscall returns -1.
    if r == -1 {
        Err(Errno::last())
    } else {
        Ok(r as u64)
    }
}

/// `syscall` for guest syscalls that may block: it returns
/// [`Errno::NOT_STARTED`] without entering the kernel when a signal for the
/// guest has arrived, even one that arrives between the check and the `svc`
/// (the runtime's handler moves the thread out of that window:
/// [`interrupted_at`]). Without this, a signal landing just before a
/// blocking read would wait for the read.
///
/// A signal the runtime's handler dropped (the guest ignores it, but the
/// host keeps the handler: see `signal::SignalState`) interrupts the call
/// with EINTR where the kernel would not have interrupted it: the call goes
/// on, a relative sleep with the time it had left.
pub(crate) fn interruptible_syscall(nr: libc::c_long, args: &[u64]) -> SysResult {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    let flag = INTERRUPT_FLAG.with(|f| f.get());
    let mut sleep = RelativeSleep::of(nr, &a);
    loop {
        let dropped = DROPPED_SIGNALS.with(|d| d.load(Ordering::Relaxed));
        sleep.prepare(&mut a);
        let r = safe::syscall(flag, nr, &a);
        if r == -(libc::EINTR as i64) && DROPPED_SIGNALS.with(|d| d.load(Ordering::Relaxed)) != dropped {
            // SAFETY: `flag` points at a live word (see `set_interrupt_flag`).
            if unsafe { std::ptr::read_volatile(flag) } == 0 {
                sleep.continue_from_remaining(&a);
                continue;
            }
        }
        return if (-4095..0).contains(&r) { Err(Errno(-r as i32)) } else { Ok(r as u64) };
    }
}

/// nanosleep and relative clock_nanosleep: where their remaining time goes,
/// so that a call a dropped signal interrupted sleeps only what was left.
struct RelativeSleep {
    /// Argument indices of the request and remaining-time pointers.
    slots: Option<(usize, usize)>,
    /// The kernel's report of the time left, when the guest passed no buffer.
    left: libc::timespec,
    /// The request the continued call sleeps for.
    request: Option<libc::timespec>,
}

impl RelativeSleep {
    fn of(nr: libc::c_long, a: &[u64; 6]) -> RelativeSleep {
        let slots = match nr {
            libc::SYS_nanosleep => Some((0, 1)),
            libc::SYS_clock_nanosleep if a[1] & libc::TIMER_ABSTIME as u64 == 0 => Some((2, 3)),
            _ => None,
        };
        RelativeSleep { slots, left: libc::timespec { tv_sec: 0, tv_nsec: 0 }, request: None }
    }

    /// Points the arguments at this struct's buffers where they are needed.
    fn prepare(&mut self, a: &mut [u64; 6]) {
        let Some((req, rem)) = self.slots else { return };
        if a[rem] == 0 || a[rem] == ptr(&self.left) {
            a[rem] = ptr_mut(&mut self.left);
        }
        if let Some(request) = &self.request {
            a[req] = ptr(request);
        }
    }

    fn continue_from_remaining(&mut self, a: &[u64; 6]) {
        let Some((_, rem)) = self.slots else { return };
        // SAFETY: the kernel just wrote the time left there: our own buffer
        // or the guest's, mapped at this address in our address space.
        self.request = Some(unsafe { std::ptr::read_unaligned(a[rem] as usize as *const libc::timespec) });
    }
}

thread_local! {
    static INTERRUPT_FLAG: std::cell::Cell<*const u64> = const { std::cell::Cell::new(&NEVER_INTERRUPTED) };
    /// Signals the runtime's handler dropped on this thread, counted.
    static DROPPED_SIGNALS: AtomicU64 = const { AtomicU64::new(0) };
}
static NEVER_INTERRUPTED: u64 = 0;

/// Names the calling thread's "a signal is waiting" word (the runtime's
/// `CpuState::interrupt`): non-zero makes interruptible syscalls return
/// EINTR. The word must outlive the thread's syscalls; null forgets it.
pub fn set_interrupt_flag(flag: *const u64) {
    let flag = if flag.is_null() { &NEVER_INTERRUPTED as *const u64 } else { flag };
    INTERRUPT_FLAG.with(|f| f.set(flag));
}

/// For the runtime's signal handler: it dropped a signal the guest ignores,
/// which may have interrupted the calling thread's syscall. Async-signal-safe.
pub fn note_dropped_signal() {
    DROPPED_SIGNALS.with(|d| d.fetch_add(1, Ordering::Relaxed));
}

/// Makes the runtime look at its signal queue when the current syscall
/// returns, as a signal arriving would (the guest unblocked one that only
/// the runtime can hold).
pub(crate) fn request_interrupt() {
    let flag = INTERRUPT_FLAG.with(|f| f.get());
    if !std::ptr::eq(flag, &NEVER_INTERRUPTED) {
        // SAFETY: a live `CpuState::interrupt` (see `set_interrupt_flag`), a
        // word the runtime's signal handler writes the same way.
        unsafe { std::ptr::write_volatile(flag.cast_mut(), 1) };
    }
}

/// This process's memory map (/proc/self/maps), for Transit's own use.
/// /proc/self is the thread group's first thread, and once that thread has
/// exited (a guest's main thread may end with pthread_exit while others
/// run) its map reads empty, as it does for an x86_64 program: the calling
/// thread's own then serves. Under qemu-user only /proc/self/maps is the
/// emulated process's, and it is never empty.
pub fn own_maps() -> std::io::Result<String> {
    let maps = std::fs::read_to_string("/proc/self/maps")?;
    if !maps.is_empty() {
        return Ok(maps);
    }
    std::fs::read_to_string("/proc/thread-self/maps")
}

/// For the runtime's signal handler: if host `pc` is between the interrupt
/// check and the `svc` of an interruptible syscall, the PC to resume at
/// instead (which returns [`Errno::NOT_STARTED`]). Async-signal-safe.
pub fn interrupted_at(pc: u64) -> Option<u64> {
    safe::redirect(pc)
}

#[cfg(target_arch = "aarch64")]
mod safe {
    std::arch::global_asm!(
        ".globl transit_safe_syscall",
        ".p2align 2",
        "transit_safe_syscall:",
        // x0 = flag, x1 = nr, x2 = args
        "    mov x9, x0",
        "    mov x8, x1",
        "    ldp x0, x1, [x2]",
        "    ldp x4, x5, [x2, #32]",
        "    ldp x2, x3, [x2, #16]",
        ".globl transit_safe_syscall_check",
        "transit_safe_syscall_check:",
        "    ldr x10, [x9]",
        "    cbnz x10, transit_safe_syscall_eintr",
        "    svc #0",
        ".globl transit_safe_syscall_done",
        "transit_safe_syscall_done:",
        "    ret",
        ".globl transit_safe_syscall_eintr",
        "transit_safe_syscall_eintr:",
        "    mov x0, #-513", // -Errno::NOT_STARTED
        "    ret",
    );

    extern "C" {
        fn transit_safe_syscall(flag: *const u64, nr: i64, args: *const [u64; 6]) -> i64;
        fn transit_safe_syscall_check();
        fn transit_safe_syscall_done();
        fn transit_safe_syscall_eintr();
    }

    pub fn syscall(flag: *const u64, nr: libc::c_long, args: &[u64; 6]) -> i64 {
        // SAFETY: as for `host::syscall`: the kernel checks every argument;
        // `flag` points at a live word (see `set_interrupt_flag`).
        unsafe { transit_safe_syscall(flag, nr, args) }
    }

    pub fn redirect(pc: u64) -> Option<u64> {
        let window = transit_safe_syscall_check as *const () as u64..transit_safe_syscall_done as *const () as u64;
        window.contains(&pc).then_some(transit_safe_syscall_eintr as *const () as u64)
    }
}

#[cfg(not(target_arch = "aarch64"))]
mod safe {
    pub fn syscall(flag: *const u64, nr: libc::c_long, a: &[u64; 6]) -> i64 {
        // SAFETY: see the aarch64 version; without it the window stays open.
        unsafe {
            if std::ptr::read_volatile(flag) != 0 {
                return -(super::Errno::NOT_STARTED.0 as i64);
            }
            match libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) {
                -1 => -(std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO) as i64),
                r => r,
            }
        }
    }

    pub fn redirect(_pc: u64) -> Option<u64> {
        None
    }
}

/// `syscall` for pointers to host-side buffers of the calling handler.
pub(crate) fn ptr<T>(p: *const T) -> u64 {
    p as usize as u64
}

pub(crate) fn ptr_mut<T>(p: *mut T) -> u64 {
    p as usize as u64
}
