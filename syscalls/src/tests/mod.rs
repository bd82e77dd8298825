//! Behaviour tests: x86_64 syscalls issued through `dispatch`, by name, with
//! the host kernel (via qemu-user in CI) as the judge.

mod fs;
mod mm;
mod proc;
mod process;
mod rootfs;
mod signal;

use crate::table::TABLE;
use crate::{dispatch, GuestProcess, GuestThread, SyscallOutcome};

#[derive(Default)]
struct TestThread {
    fs: u64,
    gs: u64,
    rsp: u64,
    clear_child_tid: u64,
    x86_memory_order: bool,
}

impl GuestThread for TestThread {
    fn fs_base(&self) -> u64 {
        self.fs
    }
    fn set_fs_base(&mut self, value: u64) {
        self.fs = value;
    }
    fn gs_base(&self) -> u64 {
        self.gs
    }
    fn set_gs_base(&mut self, value: u64) {
        self.gs = value;
    }
    fn stack_pointer(&self) -> u64 {
        self.rsp
    }
    fn set_stack_pointer(&mut self, value: u64) {
        self.rsp = value;
    }
    fn spawn_thread(&mut self, _: &crate::ThreadRequest) -> Result<u64, crate::Errno> {
        Err(crate::Errno(libc::ENOSYS))
    }
    fn set_clear_child_tid(&mut self, addr: u64) {
        self.clear_child_tid = addr;
    }
    fn keep_x86_memory_order(&mut self) {
        self.x86_memory_order = true;
    }
}

/// One guest process with one thread.
struct Guest {
    process: GuestProcess,
    thread: TestThread,
}

impl Guest {
    fn new() -> Guest {
        Guest {
            process: GuestProcess::new("/opt/guest/bin/prog".into(), 0),
            thread: TestThread::default(),
        }
    }

    fn outcome(&mut self, name: &str, args: &[u64]) -> SyscallOutcome {
        let nr = TABLE
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("no syscall {name}"))
            .nr;
        let mut regs = [0u64; 6];
        regs[..args.len()].copy_from_slice(args);
        dispatch(&mut self.process, &mut self.thread, nr.0, regs)
    }

    /// Issues x86_64 syscall `name`; returns RAX as the guest sees it.
    fn sys(&mut self, name: &str, args: &[u64]) -> i64 {
        match self.outcome(name, args) {
            SyscallOutcome::Return(rax) => rax as i64,
            exit => panic!("{name} exited: {exit:?}"),
        }
    }

    /// Like `sys`, asserting success.
    fn ok(&mut self, name: &str, args: &[u64]) -> u64 {
        let r = self.sys(name, args);
        assert!(r >= 0, "{name}{args:x?} failed with errno {}", -r);
        r as u64
    }
}

/// A guest pointer to a host value.
fn p<T: ?Sized>(value: &T) -> u64 {
    value as *const T as *const u8 as usize as u64
}

fn pm<T: ?Sized>(value: &mut T) -> u64 {
    value as *mut T as *mut u8 as usize as u64
}

/// A NUL-terminated path for a guest.
fn cpath(path: &std::path::Path) -> std::ffi::CString {
    std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap()
}

fn neg(errno: i32) -> i64 {
    -(errno as i64)
}

/// A fresh empty directory for one test, removed when dropped.
struct TempDir(std::path::PathBuf);

impl std::ops::Deref for TempDir {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn temp_dir(test: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("transit-syscalls-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

#[test]
fn unknown_and_unimplemented_numbers_are_enosys() {
    let mut g = Guest::new();
    for nr in [335, 400, 423, 463, 100_000, u64::MAX] {
        let r = dispatch(&mut g.process, &mut g.thread, nr, [0; 6]);
        assert_eq!(
            r,
            SyscallOutcome::Return(neg(libc::ENOSYS) as u64),
            "nr {nr}"
        );
    }
    assert_eq!(g.sys("iopl", &[3]), neg(libc::ENOSYS));
}

#[test]
fn exit_and_exit_group_end_the_guest_without_exiting_us() {
    let mut g = Guest::new();
    assert_eq!(
        g.outcome("exit", &[3]),
        SyscallOutcome::Exit {
            status: 3,
            group: false
        }
    );
    assert_eq!(
        g.outcome("exit_group", &[42]),
        SyscallOutcome::Exit {
            status: 42,
            group: true
        }
    );
}

#[test]
fn bad_guest_pointers_fail_with_efault() {
    let mut g = Guest::new();
    assert_eq!(g.sys("uname", &[0]), neg(libc::EFAULT));
    assert_eq!(g.sys("arch_prctl", &[0x1003, 0]), neg(libc::EFAULT));
    if !crate::guest_mem::kernel_checks_copies() {
        eprintln!("note: no checked copies here (qemu-user?); skipping unmapped-address cases");
        return;
    }
    assert_eq!(g.sys("uname", &[8]), neg(libc::EFAULT));
    assert_eq!(g.sys("arch_prctl", &[0x1003, 16]), neg(libc::EFAULT));
    assert_eq!(g.sys("fstat", &[0, 4096]), neg(libc::EFAULT));
}
