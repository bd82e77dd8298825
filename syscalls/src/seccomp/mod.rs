//! seccomp for x86_64 guests: filters (classic BPF over `struct
//! seccomp_data`) installed with seccomp(2) or prctl(PR_SET_SECCOMP), and
//! strict mode. The host kernel cannot run them (its filters see aarch64
//! syscall numbers and Transit's own calls), so the runtime asks
//! [`verdict`] before each guest syscall, with the x86_64 (or i386)
//! number, AUDIT_ARCH and arguments a filter expects.
//!
//! As in the kernel, a thread's filters are a chain its new threads and
//! forked children inherit and that survives execve (Transit passes it to
//! the Transit it starts: `--seccomp`, or [`ENV`] through binfmt_misc);
//! every filter of the chain runs and the most restrictive action wins.
//! SECCOMP_FILTER_FLAG_TSYNC gives the caller's chain to every other
//! thread whose chain it grew from, and fails (as the kernel) otherwise. Without a tracer or a
//! listener, SECCOMP_RET_TRACE and SECCOMP_RET_USER_NOTIF fail the call
//! with ENOSYS, as the kernel does; SECCOMP_FILTER_FLAG_NEW_LISTENER is
//! refused (EINVAL). A program the kernel runs natively (an aarch64 one)
//! starts without the chain: its syscall numbers are not x86_64's.

pub mod bpf;

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::guest_mem;
use crate::host::{self, Errno, SysResult};
use crate::{Args, Ctx};
use bpf::Insn;

/// How the filters reach a Transit that binfmt_misc starts for an execve
/// (no `--seccomp` there): an environment variable, which that Transit
/// takes out of the program's environment, and ignores in secure mode.
pub const ENV: &str = "TRANSIT_SECCOMP";

pub const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;

// seccomp(2) operations and flags, return actions (linux/seccomp.h).
const SET_MODE_STRICT: u64 = 0;
const SET_MODE_FILTER: u64 = 1;
const GET_ACTION_AVAIL: u64 = 2;
const GET_NOTIF_SIZES: u64 = 3;
const FLAG_TSYNC: u64 = 1;
const FLAG_LOG: u64 = 2;
const FLAG_SPEC_ALLOW: u64 = 4;
const FLAG_NEW_LISTENER: u64 = 8;
const FLAG_TSYNC_ESRCH: u64 = 16;
const FLAG_WAIT_KILLABLE_RECV: u64 = 32;
const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_KILL_THREAD: u32 = 0;
const RET_TRAP: u32 = 0x0003_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_USER_NOTIF: u32 = 0x7fc0_0000;
const RET_TRACE: u32 = 0x7ff0_0000;
const RET_LOG: u32 = 0x7ffc_0000;
const RET_ALLOW: u32 = 0x7fff_0000;
const ACTION_FULL: u32 = 0xffff_0000;
const DATA: u32 = 0x0000_ffff;
/// The kernel's MAX_INSNS_PER_PATH: instructions over all filters of a chain.
const MAX_PATH_INSNS: usize = 32768;
const MAX_ERRNO: u32 = 4095;

/// One installed filter and the chain it was installed over.
pub struct Filter {
    insns: Vec<Insn>,
    older: Option<Arc<Filter>>,
}

impl Filter {
    fn chain(self: &Arc<Self>) -> impl Iterator<Item = &Filter> {
        std::iter::successors(Some(self.as_ref()), |f| f.older.as_deref())
    }
}

/// A thread's seccomp state.
#[derive(Clone, Default)]
pub struct Mode {
    pub strict: bool,
    pub filters: Option<Arc<Filter>>,
}

/// A thread's mode where a TSYNC from another thread can reach it.
struct Slot {
    tid: std::sync::atomic::AtomicI32,
    mode: Mutex<Mode>,
}

thread_local! {
    static SLOT: RefCell<Option<Arc<Slot>>> = const { RefCell::new(None) };
}
/// Whether any thread of this process ever entered a mode: until then a
/// syscall costs one load.
static ANY: AtomicBool = AtomicBool::new(false);
/// Every thread's slot (a thread's goes when it ends).
static THREADS: Mutex<Vec<Weak<Slot>>> = Mutex::new(Vec::new());

/// The calling thread's slot, made and registered at its first use.
fn slot() -> Arc<Slot> {
    SLOT.with(|s| {
        Arc::clone(s.borrow_mut().get_or_insert_with(|| {
            // SAFETY: gettid has no preconditions.
            let slot = Arc::new(Slot { tid: unsafe { libc::gettid() }.into(), mode: Mutex::new(Mode::default()) });
            let mut threads = THREADS.lock().unwrap_or_else(|e| e.into_inner());
            threads.retain(|t| t.strong_count() > 0);
            threads.push(Arc::downgrade(&slot));
            slot
        }))
    })
}

fn with_mode<T>(f: impl FnOnce(&mut Mode) -> T) -> T {
    let slot = slot();
    let mut mode = slot.mode.lock().unwrap_or_else(|e| e.into_inner());
    f(&mut mode)
}

/// Holds the thread registry until the guard drops (across a host fork).
pub(crate) fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(THREADS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// In a forked child: the parent's other threads are not here.
pub fn after_fork_in_child() {
    if !ANY.load(Ordering::Relaxed) {
        return;
    }
    let me = slot();
    // SAFETY: gettid has no preconditions.
    me.tid.store(unsafe { libc::gettid() }, Ordering::Relaxed);
    let mut threads = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    threads.retain(|t| t.upgrade().is_some_and(|t| Arc::ptr_eq(&t, &me)));
}

/// What becomes of a guest syscall.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Fail it with this errno, unexecuted.
    Errno(Errno),
    /// Raise SIGSYS (si_code SYS_SECCOMP, si_errno `data`), unexecuted.
    Trap { data: u16 },
    KillThread,
    KillProcess,
    /// Strict mode: SIGKILL.
    Kill,
}

/// The calling thread's mode, for a thread it creates or a program it execs.
pub fn current() -> Mode {
    if !ANY.load(Ordering::Relaxed) {
        return Mode::default();
    }
    with_mode(|m| m.clone())
}

/// A new thread's mode: its creator's.
pub fn adopt(mode: Mode) {
    if mode.strict || mode.filters.is_some() {
        ANY.store(true, Ordering::Relaxed);
    }
    if ANY.load(Ordering::Relaxed) {
        with_mode(|m| *m = mode);
    }
}

/// What the filters of the calling thread say of syscall `nr` of `arch`
/// at `ip` (the address after the syscall instruction).
pub fn verdict(nr: u64, arch: u32, ip: u64, args: &[u64; 6]) -> Verdict {
    if !ANY.load(Ordering::Relaxed) {
        return Verdict::Allow;
    }
    with_mode(|mode| {
        if mode.strict {
            // read, write, exit, rt_sigreturn (sigreturn for i386).
            let allowed: &[u64] = if arch == AUDIT_ARCH_X86_64 { &[0, 1, 60, 15] } else { &[3, 4, 1, 119] };
            return if allowed.contains(&nr) { Verdict::Allow } else { Verdict::Kill };
        }
        let Some(newest) = &mode.filters else { return Verdict::Allow };
        let mut data = [0u8; bpf::DATA_LEN as usize];
        data[0..4].copy_from_slice(&(nr as u32).to_ne_bytes());
        data[4..8].copy_from_slice(&arch.to_ne_bytes());
        data[8..16].copy_from_slice(&ip.to_ne_bytes());
        for (i, arg) in args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&arg.to_ne_bytes());
        }
        // The most restrictive action wins (the lowest as a signed number);
        // among equals, the newest filter's.
        let ret = newest.chain().map(|f| bpf::run(&f.insns, &data)).fold(RET_ALLOW, |best, r| {
            if ((r & ACTION_FULL) as i32) < ((best & ACTION_FULL) as i32) { r } else { best }
        });
        action(ret)
    })
}

fn action(ret: u32) -> Verdict {
    let data = ret & DATA;
    match ret & ACTION_FULL {
        RET_KILL_PROCESS => Verdict::KillProcess,
        RET_KILL_THREAD => Verdict::KillThread,
        RET_TRAP => Verdict::Trap { data: data as u16 },
        RET_ERRNO => Verdict::Errno(Errno(data.min(MAX_ERRNO) as i32)),
        // No tracer, no listener: the kernel fails the call.
        RET_TRACE | RET_USER_NOTIF => Verdict::Errno(Errno::ENOSYS),
        RET_LOG | RET_ALLOW => Verdict::Allow,
        // An action the kernel does not know kills the process.
        _ => Verdict::KillProcess,
    }
}

/// seccomp(operation, flags, args).
pub(crate) fn seccomp(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    match a[0] {
        SET_MODE_STRICT if a[1] == 0 && a[2] == 0 => enter_strict(),
        SET_MODE_FILTER => install(a[1], a[2]),
        GET_ACTION_AVAIL if a[1] == 0 => {
            let action = guest_mem::read::<[u8; 4]>(a[2]).map(u32::from_ne_bytes)?;
            match action {
                RET_KILL_PROCESS | RET_KILL_THREAD | RET_TRAP | RET_ERRNO | RET_USER_NOTIF | RET_TRACE | RET_LOG | RET_ALLOW => Ok(0),
                _ => Err(Errno(libc::EOPNOTSUPP)),
            }
        }
        // Listeners are not supported (NEW_LISTENER is refused).
        GET_NOTIF_SIZES => Err(Errno::EINVAL),
        _ => Err(Errno::EINVAL),
    }
}

/// prctl(PR_GET_SECCOMP) and prctl(PR_SET_SECCOMP, mode, filter): modes,
/// not seccomp(2)'s operations.
pub(crate) fn prctl(a: &Args) -> SysResult {
    const PR_GET_SECCOMP: u64 = 21;
    const MODE_STRICT: u64 = 1;
    const MODE_FILTER: u64 = 2;
    match a[0] {
        PR_GET_SECCOMP => {
            let mode = current();
            Ok(if mode.strict { MODE_STRICT } else if mode.filters.is_some() { MODE_FILTER } else { 0 })
        }
        _ => match a[1] {
            MODE_STRICT => enter_strict(),
            MODE_FILTER => install(0, a[2]),
            _ => Err(Errno::EINVAL),
        },
    }
}

/// Strict mode; not over filters (the kernel's seccomp_may_assign_mode).
fn enter_strict() -> SysResult {
    ANY.store(true, Ordering::Relaxed);
    with_mode(|m| {
        if m.filters.is_some() {
            return Err(Errno::EINVAL);
        }
        m.strict = true;
        Ok(0)
    })
}

/// SECCOMP_SET_MODE_FILTER with `flags` and the guest's struct sock_fprog at `prog`.
fn install(flags: u64, prog: u64) -> SysResult {
    let known = FLAG_TSYNC | FLAG_LOG | FLAG_SPEC_ALLOW | FLAG_NEW_LISTENER | FLAG_TSYNC_ESRCH | FLAG_WAIT_KILLABLE_RECV;
    if flags & !known != 0 || flags & FLAG_NEW_LISTENER != 0 {
        return Err(Errno::EINVAL);
    }
    // struct sock_fprog { unsigned short len; struct sock_filter *filter; }.
    // The kernel's order of checks: length, privilege, copy, contents.
    let len: u16 = guest_mem::read::<[u8; 2]>(prog).map(u16::from_ne_bytes)?;
    let at: u64 = guest_mem::read(prog + 8)?;
    if len == 0 || usize::from(len) > bpf::MAX_INSNS {
        return Err(Errno::EINVAL);
    }
    if !may_install() {
        return Err(Errno(libc::EACCES));
    }
    let mut raw = vec![0u8; 8 * usize::from(len)];
    guest_mem::read_bytes(at, &mut raw)?;
    let insns = decode(&raw);
    bpf::check(&insns)?;
    ANY.store(true, Ordering::Relaxed);
    let me = slot();
    // Held throughout: no thread starts or syncs meanwhile.
    let threads = THREADS.lock().unwrap_or_else(|e| e.into_inner());
    let mut mode = me.mode.lock().unwrap_or_else(|e| e.into_inner());
    if mode.strict {
        return Err(Errno::EINVAL);
    }
    let older = mode.filters.clone();
    let path: usize = insns.len() + older.as_ref().map_or(0, |f| f.chain().map(|f| f.insns.len() + 4).sum());
    if path > MAX_PATH_INSNS {
        return Err(Errno(libc::ENOMEM));
    }
    let others: Vec<Arc<Slot>> = threads.iter().filter_map(Weak::upgrade).filter(|t| !Arc::ptr_eq(t, &me)).collect();
    if flags & FLAG_TSYNC != 0 {
        // seccomp_can_sync_threads: every other thread's chain must be one
        // the caller's grew from; else the call fails with that thread's id.
        for other in &others {
            let theirs = other.mode.lock().unwrap_or_else(|e| e.into_inner());
            let grew_from = |f: &Arc<Filter>| older.as_ref().is_some_and(|o| o.chain().any(|c| std::ptr::eq(c, f.as_ref())));
            if theirs.strict || theirs.filters.as_ref().is_some_and(|f| !grew_from(f)) {
                return if flags & FLAG_TSYNC_ESRCH != 0 { Err(Errno(libc::ESRCH)) } else { Ok(other.tid.load(Ordering::Relaxed) as u64) };
            }
        }
    }
    let filter = Arc::new(Filter { insns, older });
    if flags & FLAG_TSYNC != 0 {
        for other in &others {
            other.mode.lock().unwrap_or_else(|e| e.into_inner()).filters = Some(Arc::clone(&filter));
        }
    }
    mode.filters = Some(filter);
    Ok(0)
}

fn decode(raw: &[u8]) -> Vec<Insn> {
    raw.chunks_exact(8)
        .map(|c| Insn { code: u16::from_ne_bytes([c[0], c[1]]), jt: c[2], jf: c[3], k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]) })
        .collect()
}

/// The kernel's rule: no_new_privs, or CAP_SYS_ADMIN in the namespace.
fn may_install() -> bool {
    const CAP_SYS_ADMIN: u32 = 21;
    if host::syscall(libc::SYS_prctl, &[libc::PR_GET_NO_NEW_PRIVS as u64, 0, 0, 0, 0]) == Ok(1) {
        return true;
    }
    // struct __user_cap_header_struct { version, pid } and two data words.
    let header = [0x2008_0522u32, 0];
    let mut data = [0u32; 6];
    let got = host::syscall(libc::SYS_capget, &[header.as_ptr() as u64, data.as_mut_ptr() as u64]);
    got.is_ok() && data[0] & (1 << CAP_SYS_ADMIN) != 0
}

/// The calling thread's mode as `--seccomp` passes it to the Transit an
/// execve starts: "strict", or each filter's instructions in hex, oldest
/// first, filters separated by ','. None when there is none.
pub fn for_exec() -> Option<String> {
    let mode = current();
    if mode.strict {
        return Some("strict".into());
    }
    let newest = mode.filters?;
    let mut filters: Vec<String> = newest
        .chain()
        .map(|f| f.insns.iter().map(|i| format!("{:04x}{:02x}{:02x}{:08x}", i.code, i.jt, i.jf, i.k)).collect())
        .collect();
    filters.reverse();
    Some(filters.join(","))
}

/// Takes on the mode [`for_exec`] wrote (Transit's `--seccomp`).
pub fn inherit(text: &str) -> Result<(), String> {
    if text == "strict" {
        return enter_strict().map(drop).map_err(|e| format!("{e:?}"));
    }
    let mut chain: Option<Arc<Filter>> = None;
    for filter in text.split(',') {
        let hex = |s: &str| u64::from_str_radix(s, 16).map_err(|_| format!("bad filter text {s:?}"));
        if filter.len() % 16 != 0 {
            return Err("bad filter length".into());
        }
        let mut insns = Vec::new();
        for i in (0..filter.len()).step_by(16) {
            let word = |a: usize, b: usize| filter.get(i + a..i + b).ok_or_else(|| "bad filter text".to_string()).and_then(hex);
            insns.push(Insn { code: word(0, 4)? as u16, jt: word(4, 6)? as u8, jf: word(6, 8)? as u8, k: word(8, 16)? as u32 });
        }
        bpf::check(&insns).map_err(|_| "a filter the kernel would refuse".to_string())?;
        chain = Some(Arc::new(Filter { insns, older: chain }));
    }
    adopt(Mode { strict: false, filters: chain });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_restrictive_action_wins() {
        assert_eq!(action(RET_ERRNO | 1), Verdict::Errno(Errno(1)));
        assert_eq!(action(RET_ERRNO | 9999), Verdict::Errno(Errno(4095)));
        assert_eq!(action(RET_TRACE), Verdict::Errno(Errno::ENOSYS));
        assert_eq!(action(RET_TRAP | 7), Verdict::Trap { data: 7 });
        assert_eq!(action(0x1234_0000), Verdict::KillProcess);
        let ret = |r: u32| Insn { code: 0x06, jt: 0, jf: 0, k: r };
        let older = Arc::new(Filter { insns: vec![ret(RET_ERRNO | 5)], older: None });
        let newest = Arc::new(Filter { insns: vec![ret(RET_ALLOW)], older: Some(older) });
        adopt(Mode { strict: false, filters: Some(newest) });
        assert_eq!(verdict(39, AUDIT_ARCH_X86_64, 0, &[0; 6]), Verdict::Errno(Errno(5)));
        let text = for_exec().unwrap();
        adopt(Mode::default());
        inherit(&text).unwrap();
        assert_eq!(verdict(39, AUDIT_ARCH_X86_64, 0, &[0; 6]), Verdict::Errno(Errno(5)));
        adopt(Mode::default());
    }
}
