//! The generated /proc files: auxv, cmdline, maps, cpuinfo.

use super::*;

const O_RDONLY: u64 = 0;
const O_RDWR: u64 = 2;
const O_DIRECTORY: u64 = 0o200000;
const O_CLOEXEC: u64 = 0o2000000;
const AT_PAGESZ: u64 = 6;
const AT_EXECFN: u64 = 31;

/// An initial stack as stack.rs lays it out, in a buffer of ours.
struct FakeStack {
    strings: Vec<u8>,
    words: Vec<u64>,
}

impl FakeStack {
    /// argv = ["prog", "-x", ""], envp = ["A=1"].
    fn new() -> Box<FakeStack> {
        let mut s = Box::new(FakeStack {
            strings: b"A=1\0prog\0-x\0\0/bin/prog\0".to_vec(),
            words: Vec::new(),
        });
        let base = s.strings.as_ptr() as u64;
        let (env, argv0, argv1, argv2, execfn) = (base, base + 4, base + 9, base + 12, base + 13);
        s.words = vec![
            3, argv0, argv1, argv2, 0, env, 0, AT_PAGESZ, 4096, AT_EXECFN, execfn, 0, 0,
        ];
        s
    }

    fn rsp(&self) -> u64 {
        self.words.as_ptr() as u64
    }
}

fn read_all(g: &mut Guest, fd: u64) -> Vec<u8> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = g.ok("read", &[fd, pm(&mut buf), 4096]) as usize;
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&buf[..n]);
    }
}

fn read_proc(g: &mut Guest, path: &str) -> Vec<u8> {
    let path = std::ffi::CString::new(path).unwrap();
    let fd = g.ok("open", &[p(path.to_bytes_with_nul()), O_RDONLY]);
    let bytes = read_all(g, fd);
    g.ok("close", &[fd]);
    bytes
}

#[test]
fn auxv_and_cmdline_come_from_the_initial_stack() {
    let stack = FakeStack::new();
    let mut g = Guest::new();
    g.process.record_initial_stack(stack.rsp());
    assert_eq!(read_proc(&mut g, "/proc/self/cmdline"), b"prog\0-x\0\0");
    let auxv: Vec<u8> = stack.words[7..]
        .iter()
        .flat_map(|w| w.to_le_bytes())
        .collect();
    assert_eq!(read_proc(&mut g, "/proc/self/auxv"), auxv);
    let own = format!("/proc/{}/auxv", std::process::id());
    assert_eq!(read_proc(&mut g, &own), auxv);
    assert_eq!(
        read_proc(&mut g, "/proc/thread-self/cmdline"),
        b"prog\0-x\0\0"
    );
}

#[test]
fn generated_files_open_read_only_with_the_guests_flags() {
    let mut g = Guest::new();
    let path = b"/proc/self/auxv\0";
    assert_eq!(g.sys("open", &[p(path), O_RDWR]), neg(libc::EACCES));
    assert_eq!(
        g.sys("open", &[p(path), O_RDONLY | O_DIRECTORY]),
        neg(libc::ENOTDIR)
    );
    let fd = g.ok("openat", &[-100i64 as u64, p(path), O_RDONLY | O_CLOEXEC]);
    assert_eq!(
        g.ok("fcntl", &[fd, libc::F_GETFD as u64]),
        libc::FD_CLOEXEC as u64
    );
    assert_eq!(g.ok("fcntl", &[fd, libc::F_GETFL as u64]) & 3, O_RDONLY);
    assert_eq!(g.sys("write", &[fd, p(b"x"), 1]), neg(libc::EBADF));
    g.ok("close", &[fd]);
    let fd = g.ok("open", &[p(path), O_RDONLY]);
    assert_eq!(g.ok("fcntl", &[fd, libc::F_GETFD as u64]), 0);
    g.ok("close", &[fd]);
}

#[test]
fn cpuinfo_describes_the_guest_cpu() {
    let mut g = Guest::new();
    let text = String::from_utf8(read_proc(&mut g, "/proc/cpuinfo")).unwrap();
    assert!(text.starts_with("processor\t: "), "{text}");
    assert!(text.contains("vendor_id\t: GenuineIntel\n"));
    assert!(text.contains(" sse2 "));
    // Other /proc files are the host's.
    assert!(String::from_utf8(read_proc(&mut g, "/proc/self/status"))
        .unwrap()
        .contains("Pid:"));
}

#[test]
fn maps_name_the_guest_stack_and_hide_transit() {
    let stack = FakeStack::new();
    let mut g = Guest::new();
    g.process.record_initial_stack(stack.rsp());
    // The fake stack lies in this test's heap: the guest's, as the loader
    // records the real one (else, on a host whose space ends at 2^47, it is
    // Transit's memory).
    for at in [stack.rsp(), stack.strings.as_ptr() as u64] {
        crate::guest_regions::record((at & !0xfff).saturating_sub(1 << 20), 2 << 20);
    }
    let text = String::from_utf8(read_proc(&mut g, "/proc/self/maps")).unwrap();
    let top = g.process.start.stack_top;
    let stack_line = text
        .lines()
        .find(|l| l.ends_with("[stack]"))
        .unwrap_or_else(|| panic!("no [stack] in\n{text}"));
    let (start, end) = stack_line
        .split_once(' ')
        .unwrap()
        .0
        .split_once('-')
        .unwrap();
    let (start, end) = (
        u64::from_str_radix(start, 16).unwrap(),
        u64::from_str_radix(end, 16).unwrap(),
    );
    assert!(start < top && top <= end, "{stack_line} holds {top:#x}");
    let exe = std::env::current_exe().unwrap();
    assert!(
        !text.contains(exe.to_str().unwrap()),
        "the test binary (Transit) is listed:\n{text}"
    );
    assert!(!text.contains("[vdso]"));
}
