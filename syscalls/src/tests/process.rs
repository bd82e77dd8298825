use super::*;

const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;

#[test]
fn arch_prctl_sets_and_gets_fs_and_gs() {
    let mut g = Guest::new();
    g.ok("arch_prctl", &[ARCH_SET_FS, 0x7f00_1234_5000]);
    g.ok("arch_prctl", &[ARCH_SET_GS, 0x6000]);
    assert_eq!((g.thread.fs, g.thread.gs), (0x7f00_1234_5000, 0x6000));
    let mut v = 0u64;
    g.ok("arch_prctl", &[ARCH_GET_FS, pm(&mut v)]);
    assert_eq!(v, 0x7f00_1234_5000);
    g.ok("arch_prctl", &[ARCH_GET_GS, pm(&mut v)]);
    assert_eq!(v, 0x6000);
    assert_eq!(
        g.sys("arch_prctl", &[ARCH_SET_FS, 1 << 47]),
        neg(libc::EPERM)
    );
    assert_eq!(g.sys("arch_prctl", &[0x1011, 0]), neg(libc::EINVAL)); // ARCH_GET_CPUID
    assert_eq!(g.thread.fs, 0x7f00_1234_5000);
}

#[test]
fn uname_reports_x86_64() {
    let mut g = Guest::new();
    // SAFETY: utsname is plain bytes.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    g.ok("uname", &[pm(&mut uts)]);
    #[allow(clippy::unnecessary_cast)] // c_char is i8 on x86_64, u8 on aarch64
    let field = |f: &[libc::c_char]| {
        f.iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8 as char)
            .collect::<String>()
    };
    assert_eq!(field(&uts.machine), "x86_64");
    assert_eq!(field(&uts.sysname), "Linux");
    assert!(!field(&uts.release).is_empty());
}

#[test]
fn identity_syscalls_match_the_host() {
    let mut g = Guest::new();
    assert_eq!(g.ok("getpid", &[]), std::process::id() as u64);
    // SAFETY: these getters cannot fail.
    unsafe {
        assert_eq!(g.ok("getppid", &[]), libc::getppid() as u64);
        assert_eq!(g.ok("getuid", &[]), libc::getuid() as u64);
        assert_eq!(g.ok("geteuid", &[]), libc::geteuid() as u64);
        assert_eq!(g.ok("getgid", &[]), libc::getgid() as u64);
        assert_eq!(g.ok("getegid", &[]), libc::getegid() as u64);
        assert_eq!(g.ok("getpgrp", &[]), libc::getpgrp() as u64);
        assert_eq!(g.ok("getpgid", &[0]), libc::getpgrp() as u64);
        assert_eq!(g.ok("getsid", &[0]), libc::getsid(0) as u64);
    }
    assert!(g.ok("gettid", &[]) > 0);
    let mut buf = [0u8; 4096];
    let n = g.ok("getcwd", &[pm(&mut buf), 4096]) as usize;
    assert_eq!(
        std::ffi::CStr::from_bytes_with_nul(&buf[..n])
            .unwrap()
            .to_str()
            .unwrap(),
        std::env::current_dir().unwrap().to_str().unwrap()
    );
}

#[test]
fn rlimits_go_through_prlimit64() {
    let mut g = Guest::new();
    let mut lim = [0u64; 2];
    g.ok("getrlimit", &[libc::RLIMIT_NOFILE as u64, pm(&mut lim)]);
    let mut lim64 = [0u64; 2];
    g.ok(
        "prlimit64",
        &[0, libc::RLIMIT_NOFILE as u64, 0, pm(&mut lim64)],
    );
    assert_eq!(lim, lim64);
    assert!(lim[0] > 0 && lim[0] <= lim[1]);
    g.ok("setrlimit", &[libc::RLIMIT_NOFILE as u64, p(&lim)]);
    assert_eq!(g.sys("getrlimit", &[9999, pm(&mut lim)]), neg(libc::EINVAL));
}

#[test]
fn time_alarm_and_clocks() {
    let mut g = Guest::new();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut stored = 0i64;
    let t = g.ok("time", &[pm(&mut stored)]);
    assert!(t.abs_diff(now) <= 2);
    assert_eq!(stored as u64, t);
    assert!(g.ok("time", &[0]) >= t);

    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    g.ok(
        "clock_gettime",
        &[libc::CLOCK_MONOTONIC as u64, pm(&mut ts)],
    );
    let mut tv = libc::timeval {
        tv_sec: 0,
        tv_usec: 0,
    };
    g.ok("gettimeofday", &[pm(&mut tv), 0]);
    assert!((tv.tv_sec as u64).abs_diff(now) <= 2);
    let nap = libc::timespec {
        tv_sec: 0,
        tv_nsec: 1_000_000,
    };
    g.ok("nanosleep", &[p(&nap), 0]);

    assert_eq!(g.ok("alarm", &[100]), 0);
    assert_eq!(g.ok("alarm", &[0]), 100);
    assert_eq!(g.ok("alarm", &[0]), 0);
}

#[test]
fn prctl_allows_neutral_options_only() {
    let mut g = Guest::new();
    let mut name = [0u8; 16];
    g.ok("prctl", &[libc::PR_GET_NAME as u64, pm(&mut name)]);
    assert_eq!(
        g.sys("prctl", &[libc::PR_SET_SECCOMP as u64, 2, 0]),
        neg(libc::EINVAL)
    );
}

#[test]
fn rseq_is_declined() {
    let mut g = Guest::new();
    assert_eq!(g.sys("rseq", &[0, 32, 0, 0]), neg(libc::ENOSYS));
}
