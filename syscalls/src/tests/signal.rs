use super::*;
use crate::abi::signal::{GuestStack, X86SigAction};

#[test]
fn rt_sigaction_records_and_returns_the_previous_action() {
    let mut g = Guest::new();
    let act = X86SigAction {
        handler: 0x40_1000,
        flags: 0x0400_0004,
        restorer: 0x40_2000,
        mask: u64::MAX,
    };
    let mut old = X86SigAction {
        handler: 1,
        flags: 1,
        restorer: 1,
        mask: 1,
    };
    g.ok(
        "rt_sigaction",
        &[libc::SIGUSR1 as u64, p(&act), pm(&mut old), 8],
    );
    assert_eq!(old, X86SigAction::default());
    let recorded = g.process.signals().action(libc::SIGUSR1).unwrap();
    assert_eq!(recorded.handler, 0x40_1000);
    assert_eq!(
        recorded.mask & (1 << (libc::SIGKILL - 1)),
        0,
        "SIGKILL cannot be masked"
    );
    g.ok("rt_sigaction", &[libc::SIGUSR1 as u64, 0, pm(&mut old), 8]);
    assert_eq!(old, recorded);

    assert_eq!(
        g.sys("rt_sigaction", &[libc::SIGKILL as u64, p(&act), 0, 8]),
        neg(libc::EINVAL)
    );
    assert_eq!(
        g.sys("rt_sigaction", &[0, 0, pm(&mut old), 8]),
        neg(libc::EINVAL)
    );
    assert_eq!(
        g.sys("rt_sigaction", &[65, 0, pm(&mut old), 8]),
        neg(libc::EINVAL)
    );
    assert_eq!(
        g.sys("rt_sigaction", &[libc::SIGUSR1 as u64, 0, pm(&mut old), 16]),
        neg(libc::EINVAL)
    );
    // Nothing reached the host: SIGUSR1 still has its default action there.
    let mut host_old: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: querying only (act is null).
    unsafe { libc::sigaction(libc::SIGUSR1, std::ptr::null(), &mut host_old) };
    assert_eq!(host_old.sa_sigaction, libc::SIG_DFL);
}

#[test]
fn rt_sigprocmask_is_the_host_threads_mask() {
    let mut g = Guest::new();
    let bit = |s: i32| 1u64 << (s - 1);
    let mut old = u64::MAX;
    let set = bit(libc::SIGUSR1) | bit(libc::SIGKILL);
    g.ok(
        "rt_sigprocmask",
        &[libc::SIG_BLOCK as u64, p(&set), pm(&mut old), 8],
    );
    assert_eq!(old, 0);
    let more = bit(libc::SIGUSR2);
    g.ok(
        "rt_sigprocmask",
        &[libc::SIG_BLOCK as u64, p(&more), pm(&mut old), 8],
    );
    assert_eq!(old, bit(libc::SIGUSR1), "SIGKILL is never blocked");
    g.ok(
        "rt_sigprocmask",
        &[libc::SIG_UNBLOCK as u64, p(&bit(libc::SIGUSR1)), 0, 8],
    );
    g.ok(
        "rt_sigprocmask",
        &[libc::SIG_SETMASK as u64, 0, pm(&mut old), 8],
    );
    assert_eq!(old, bit(libc::SIGUSR2));
    assert_eq!(
        g.sys("rt_sigprocmask", &[7, p(&set), 0, 8]),
        neg(libc::EINVAL)
    );

    g.ok("rt_sigprocmask", &[libc::SIG_SETMASK as u64, p(&0u64), 0, 8]);
    // Another thread starts from its own (empty) mask.
    let other = std::thread::scope(|s| {
        s.spawn(|| {
            let mut o = u64::MAX;
            g.ok(
                "rt_sigprocmask",
                &[libc::SIG_BLOCK as u64, 0, pm(&mut o), 8],
            );
            o
        })
        .join()
        .unwrap()
    });
    assert_eq!(other, 0);
}

/// The host thread's own mask.
fn host_mask() -> u64 {
    let mut mask = 0u64;
    // SAFETY: a query into an 8-byte kernel sigset.
    unsafe { libc::syscall(libc::SYS_rt_sigprocmask, libc::SIG_BLOCK, 0usize, &mut mask as *mut u64, 8usize) };
    mask
}

#[test]
fn blocked_fault_signals_stay_unblocked_on_the_host() {
    let mut g = Guest::new();
    let bit = |s: i32| 1u64 << (s - 1);
    let set = bit(libc::SIGSEGV) | bit(libc::SIGBUS) | bit(libc::SIGUSR1);
    // In a thread of its own: the guest mask it leaves behind is per thread.
    let (guest, host) = std::thread::scope(|s| {
        s.spawn(|| {
            g.ok("rt_sigprocmask", &[libc::SIG_SETMASK as u64, p(&set), 0, 8]);
            let mut guest = 0u64;
            g.ok("rt_sigprocmask", &[libc::SIG_BLOCK as u64, 0, pm(&mut guest), 8]);
            (guest, host_mask())
        })
        .join()
        .unwrap()
    });
    assert_eq!(guest, set, "the guest sees what it blocked");
    assert_eq!(host, bit(libc::SIGUSR1), "a fault Transit handles must not find SIGSEGV or SIGBUS blocked");
    // The kernel's order: the size before anything, `how` only with a set.
    assert_eq!(g.sys("rt_sigprocmask", &[9, 8, 0, 16]), neg(libc::EINVAL));
    assert_eq!(g.sys("rt_sigprocmask", &[9, 0, 0, 8]), 0, "`how` is not looked at without a set");
}

#[test]
fn rt_sigpending_reports_the_blocked_signals_waiting() {
    let mut g = Guest::new();
    let bit = |s: i32| 1u64 << (s - 1);
    let (pending, short, too_long) = std::thread::scope(|s| {
        s.spawn(|| {
            let set = bit(libc::SIGUSR1) | bit(libc::SIGUSR2);
            g.ok("rt_sigprocmask", &[libc::SIG_BLOCK as u64, p(&set), 0, 8]);
            // SAFETY: signals to this thread, which blocks them.
            unsafe {
                libc::syscall(libc::SYS_tgkill, libc::getpid(), libc::gettid(), libc::SIGUSR1);
            }
            let mut pending = !0u64;
            g.ok("rt_sigpending", &[pm(&mut pending), 8]);
            // The kernel copies sigsetsize bytes, up to sizeof(sigset_t).
            let mut short = !0u64;
            g.ok("rt_sigpending", &[pm(&mut short), 4]);
            let too_long = g.sys("rt_sigpending", &[pm(&mut short), 16]);
            let mut info = [0u8; 128];
            let timeout = [0i64; 2];
            // SAFETY: takes the pending instance, so the thread ends clean.
            unsafe { libc::syscall(libc::SYS_rt_sigtimedwait, &set as *const u64, info.as_mut_ptr(), timeout.as_ptr(), 8usize) };
            (pending, short, too_long)
        })
        .join()
        .unwrap()
    });
    assert_eq!(pending, bit(libc::SIGUSR1));
    assert_eq!(short, 0xffff_ffff_0000_0000 | bit(libc::SIGUSR1), "four bytes written");
    assert_eq!(too_long, neg(libc::EINVAL));
}

#[test]
fn the_guest_starts_with_the_inherited_signals() {
    use crate::signal::InheritedSignals;
    let bit = |s: i32| 1u64 << (s - 1);
    let inherited = InheritedSignals {
        ignored: bit(libc::SIGPIPE) | bit(libc::SIGSEGV),
        blocked: bit(libc::SIGUSR2) | bit(libc::SIGBUS),
    };
    let mut g = Guest::new();
    let results = std::thread::scope(|s| {
        s.spawn(|| {
            g.process.signals().start(inherited);
            let held_back = host_mask() & crate::signal::mask::HELD;
            crate::signal::release_held();
            let released = host_mask() & crate::signal::mask::HELD;
            let mut actions = Vec::new();
            for sig in [libc::SIGPIPE, libc::SIGSEGV, libc::SIGUSR1] {
                let mut old = X86SigAction::default();
                g.ok("rt_sigaction", &[sig as u64, 0, pm(&mut old), 8]);
                actions.push(old.handler);
            }
            let mut mask = 0u64;
            g.ok("rt_sigprocmask", &[libc::SIG_BLOCK as u64, 0, pm(&mut mask), 8]);
            (actions, mask, g.process.signals().held_for_exec(), held_back, released)
        })
        .join()
        .unwrap()
    });
    let (actions, mask, held, held_back, released) = results;
    assert_eq!(held_back, crate::signal::mask::HELD, "until the runtime can queue them, held signals wait in the kernel");
    assert_eq!(released, 0, "then the host never blocks them");
    assert_eq!(actions, [1, 1, 0], "SIG_IGN, SIG_IGN, SIG_DFL");
    assert_eq!(mask, inherited.blocked);
    assert_eq!(
        held,
        InheritedSignals { ignored: bit(libc::SIGSEGV), blocked: bit(libc::SIGBUS) },
        "an execve passes on what the host does not hold"
    );
}

#[test]
fn signal_lists_are_numbers_separated_by_commas() {
    use crate::signal::{parse_signal_list, signal_list};
    let set = (1 << 0) | (1 << 12) | (1 << 63);
    assert_eq!(signal_list(set), "1,13,64");
    assert_eq!(parse_signal_list("1,13,64"), Ok(set));
    assert_eq!(parse_signal_list(""), Ok(0));
    assert!(parse_signal_list("65").is_err());
    assert!(parse_signal_list("9").is_err(), "SIGKILL");
    assert!(parse_signal_list("PIPE").is_err());
}

#[test]
fn sigaltstack_records_the_stack() {
    let mut g = Guest::new();
    let mut old = GuestStack::default();
    g.ok("sigaltstack", &[0, pm(&mut old)]);
    assert_eq!(old.flags, 2, "SS_DISABLE initially");
    let ss = GuestStack {
        sp: 0x7000_0000,
        flags: 0,
        pad: 0,
        size: 64 * 1024,
    };
    g.ok("sigaltstack", &[p(&ss), 0]);
    g.ok("sigaltstack", &[0, pm(&mut old)]);
    assert_eq!(old, ss);
    let tiny = GuestStack { size: 100, ..ss };
    assert_eq!(g.sys("sigaltstack", &[p(&tiny), 0]), neg(libc::ENOMEM));
    let bad = GuestStack { flags: 8, ..ss };
    assert_eq!(g.sys("sigaltstack", &[p(&bad), 0]), neg(libc::EINVAL));
}
