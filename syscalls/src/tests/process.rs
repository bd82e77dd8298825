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
    // PR_SET_TSC: x86's, unknown to an arm64 kernel.
    assert_eq!(g.sys("prctl", &[26, 1, 0]), neg(libc::EINVAL));
    // seccomp's are Transit's own: a filter at NULL is the kernel's EFAULT.
    assert_eq!(g.sys("prctl", &[libc::PR_SET_SECCOMP as u64, 2, 0]), neg(libc::EFAULT));
    assert_eq!(g.sys("prctl", &[libc::PR_GET_SECCOMP as u64]), 0);
}

#[test]
fn rseq_is_declined() {
    let mut g = Guest::new();
    assert_eq!(g.sys("rseq", &[0, 32, 0, 0]), neg(libc::ENOSYS));
}

// clone flags (include/uapi/linux/sched.h).
const CLONE_VM: u64 = 0x100;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x10_0000;
const CLONE_CHILD_SETTID: u64 = 0x100_0000;
const SIGCHLD: u64 = libc::SIGCHLD as u64;

/// Ends a forked test child with `ok`'s verdict, never returning into the
/// test harness (which would run the remaining tests twice).
fn child_exit(ok: bool) -> ! {
    // SAFETY: _exit ends the child at once; it runs no destructors or atexit.
    unsafe { libc::_exit(if ok { 0 } else { 1 }) }
}

/// Waits for `pid` and returns its exit status.
fn wait_exit(pid: u64) -> i32 {
    let mut status = 0;
    // SAFETY: plain waitpid on our own child.
    assert_eq!(
        unsafe { libc::waitpid(pid as i32, &mut status, 0) },
        pid as i32
    );
    assert!(libc::WIFEXITED(status), "child status {status:#x}");
    libc::WEXITSTATUS(status)
}

#[test]
fn clone_as_glibc_fork_sets_the_tids_tls_and_stack() {
    let mut g = Guest::new();
    let (mut parent_tid, mut child_tid) = (0i32, 0i32);
    let flags = CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_SETTLS | SIGCHLD;
    // x86_64 order: flags, stack, parent_tid, child_tid, tls.
    let pid = g.ok(
        "clone",
        &[
            flags,
            0x7000_1000,
            pm(&mut parent_tid),
            pm(&mut child_tid),
            0x5555_0000,
        ],
    );
    if pid == 0 {
        // SAFETY: gettid cannot fail.
        let tid = unsafe { libc::gettid() };
        child_exit(
            child_tid == tid
                && g.thread.rsp == 0x7000_1000
                && g.thread.fs == 0x5555_0000
                && parent_tid == 0,
        );
    }
    assert_eq!(parent_tid as u64, pid);
    assert_eq!(
        (child_tid, g.thread.rsp, g.thread.fs),
        (0, 0, 0),
        "the parent's state is untouched"
    );
    assert_eq!(wait_exit(pid), 0, "the child saw its tid, stack and TLS");
}

#[test]
fn fork_returns_in_both_processes() {
    let mut g = Guest::new();
    let pid = g.ok("fork", &[]);
    if pid == 0 {
        child_exit(g.thread.rsp == 0);
    }
    assert_eq!(wait_exit(pid), 0);
}

#[test]
fn a_fork_waits_for_the_global_locks_other_threads_hold() {
    // Another thread holds the writable-page table (as a thread mapping
    // memory would) and the translator's page list when fork is called: the
    // fork waits until they are free, so the child finds them unlocked.
    let mut g = Guest::new();
    let (taken, release) = (std::sync::mpsc::channel(), std::sync::mpsc::channel::<()>());
    let holder = std::thread::spawn(move || {
        let held = (crate::writable::hold_for_fork(), transit_translator::cache::code_watch::hold_for_fork());
        taken.0.send(()).unwrap();
        release.1.recv().unwrap();
        drop(held);
    });
    taken.1.recv().unwrap();
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(100));
        release.0.send(()).unwrap();
    });
    let pid = g.ok("fork", &[]);
    if pid == 0 {
        // Deadlocks (and the parent's wait below with it) unless the fork
        // waited for the holder.
        let _ = crate::writable::guest_may_write(0x1000);
        transit_translator::cache::code_watch::mapping_changed(0x1000, 0x1000);
        child_exit(true);
    }
    holder.join().unwrap();
    releaser.join().unwrap();
    let start = std::time::Instant::now();
    let mut status = 0;
    // SAFETY: waitpid and kill on our own child.
    while unsafe { libc::waitpid(pid as i32, &mut status, libc::WNOHANG) } == 0 {
        if start.elapsed() > std::time::Duration::from_secs(20) {
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            panic!("the forked child found a lock held by a thread it does not have");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "child status {status:#x}");
}

#[test]
fn vfork_style_clone3_returns_after_the_child_exited() {
    let mut g = Guest::new();
    let mut args = [0u64; 11];
    // Without CLONE_VM: with it the child write-protects what the guest
    // may write (vfork_writes), and here other tests recorded this test
    // process's own heap as guest memory.
    args[0] = CLONE_VFORK;
    args[4] = SIGCHLD;
    (args[5], args[6]) = (0x7000_0000, 0x1_0000); // stack, stack_size
    let start = std::time::Instant::now();
    let pid = g.ok("clone3", &[p(&args), 88]);
    if pid == 0 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        // SAFETY: see child_exit; 7 if the stack was stack + stack_size.
        unsafe { libc::_exit(if g.thread.rsp == 0x7001_0000 { 7 } else { 1 }) }
    }
    // A vfork parent waits for its child's exit or exec: here the child's
    // 50 ms. (Not a WNOHANG wait: like the kernel's vfork, the parent may
    // resume while the exiting child is not yet a zombie.)
    assert!(start.elapsed() >= std::time::Duration::from_millis(50), "the parent did not wait");
    let mut status = 0;
    // SAFETY: plain waitpid on our own child.
    assert_eq!(unsafe { libc::waitpid(pid as i32, &mut status, 0) }, pid as i32);
    assert_eq!(libc::WEXITSTATUS(status), 7);
}

#[test]
fn clone_hands_threads_to_the_runtime_and_refuses_what_it_cannot_honour() {
    let mut g = Guest::new();
    // glibc's pthread_create set reaches the runtime (the test thread says ENOSYS).
    let pthread = CLONE_VM | 0x200 | 0x400 | CLONE_SIGHAND | CLONE_THREAD | 0x4_0000;
    assert_eq!(
        g.sys("clone", &[pthread, 0x7000_0000, 0, 0, 0]),
        neg(libc::ENOSYS)
    );
    // A thread that would not share files or cwd cannot be a host thread.
    let partial = CLONE_VM | CLONE_SIGHAND | CLONE_THREAD | SIGCHLD;
    assert_eq!(
        g.sys("clone", &[partial, 0x7000_0000, 0, 0, 0]),
        neg(libc::EINVAL)
    );
    assert_eq!(
        g.sys("clone", &[CLONE_VM | SIGCHLD, 0x7000_0000, 0, 0, 0]),
        neg(libc::EINVAL)
    );
    assert_eq!(
        g.sys("clone", &[libc::SIGUSR1 as u64, 0, 0, 0, 0]),
        neg(libc::EINVAL)
    );
    assert_eq!(
        g.sys("clone", &[0x400 | SIGCHLD, 0, 0, 0, 0]),
        neg(libc::EINVAL),
        "CLONE_FILES"
    );

    let mut args = [0u64; 11];
    args[4] = SIGCHLD;
    assert_eq!(g.sys("clone3", &[p(&args), 63]), neg(libc::EINVAL));
    let mut big = [0u8; 4097];
    assert_eq!(g.sys("clone3", &[p(&big), 4097]), neg(libc::E2BIG));
    big[..8].copy_from_slice(&0u64.to_ne_bytes());
    big[100] = 1;
    assert_eq!(
        g.sys("clone3", &[p(&big), 128]),
        neg(libc::E2BIG),
        "unknown fields must be zero"
    );
    args[5] = 0x7000_0000; // a stack without a size
    assert_eq!(g.sys("clone3", &[p(&args), 88]), neg(libc::EINVAL));
}

/// A path in a stack buffer: read_cstr reads on to the end of the page,
/// which for a heap string may be its own buffer where qemu-user makes it
/// copy directly (see guest_mem).
type StackPath = [u8; 256];

fn stack_path(path: &std::path::Path) -> StackPath {
    let mut buf = [0u8; 256];
    let bytes = path.as_os_str().as_encoded_bytes();
    buf[..bytes.len()].copy_from_slice(bytes);
    buf
}

/// A file with these contents and mode in a fresh directory.
fn file_with(dir: &std::path::Path, name: &str, contents: &[u8], mode: u32) -> StackPath {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    stack_path(&path)
}

#[test]
fn execve_failures_leave_the_guest_running_with_the_kernels_errno() {
    let mut g = Guest::new();
    let dir = temp_dir("execve-errors");
    let argv = [p(b"prog\0"), 0u64];
    let mut exec = |path: u64| g.sys("execve", &[path, p(&argv), 0]);
    assert_eq!(exec(p(b"/nonexistent/program\0")), neg(libc::ENOENT));
    assert_eq!(exec(p(b"\0")), neg(libc::ENOENT));
    assert_eq!(exec(0), neg(libc::EFAULT));
    let dir_path = stack_path(&dir);
    assert_eq!(exec(p(&dir_path)), neg(libc::EACCES), "a directory");
    let not_executable = file_with(&dir, "data", b"\x7fELF\x02\x01\x01", 0o644);
    assert_eq!(exec(p(&not_executable)), neg(libc::EACCES));
    let unknown_format = file_with(&dir, "text", b"just text\n", 0o755);
    assert_eq!(exec(p(&unknown_format)), neg(libc::ENOEXEC));
    let missing_interpreter = file_with(&dir, "script", b"#!/nonexistent/interpreter -x\n", 0o755);
    assert_eq!(exec(p(&missing_interpreter)), neg(libc::ENOENT));
    let no_interpreter = file_with(&dir, "blank", b"#!  \n", 0o755);
    assert_eq!(exec(p(&no_interpreter)), neg(libc::ENOEXEC));
    let looping = file_with(
        &dir,
        "loop",
        format!("#!{}/loop\n", dir.display()).as_bytes(),
        0o755,
    );
    assert_eq!(exec(p(&looping)), neg(libc::ELOOP));
    let huge = vec![b'x'; 200_000]
        .into_iter()
        .chain([0])
        .collect::<Vec<u8>>();
    let huge_argv = [p(b"prog\0"), p(&huge[..]), 0u64];
    // The kernel opens the file, then copies the strings, then interprets the file.
    assert_eq!(
        g.sys("execve", &[p(b"/nonexistent\0"), p(&huge_argv), 0]),
        neg(libc::ENOENT)
    );
    assert_eq!(
        g.sys("execve", &[p(&looping), p(&huge_argv), 0]),
        neg(libc::E2BIG)
    );
    let script = file_with(&dir, "ok-script", b"#!/bin/sh\n", 0o755);
    if crate::guest_mem::kernel_checks_copies() {
        assert_eq!(
            g.sys("execve", &[p(&script), 8, 0]),
            neg(libc::EFAULT),
            "a bad argv"
        );
    }
    assert_eq!(
        g.sys("execveat", &[AT_FDCWD, p(b"\0"), p(&argv), 0, 0x8000_0000]),
        neg(libc::EINVAL)
    );
}

const AT_FDCWD: u64 = libc::AT_FDCWD as i64 as u64;
