use super::*;
use crate::abi::stat::X86Stat;
use std::os::unix::fs::{MetadataExt, PermissionsExt};

// x86_64 O_* values (asm-generic/fcntl.h).
const O_RDONLY: u64 = 0;
const O_WRONLY: u64 = 1;
const O_RDWR: u64 = 2;
const O_CREAT: u64 = 0o100;
const O_TRUNC: u64 = 0o1000;
const O_NONBLOCK: u64 = 0o4000;
const O_DIRECTORY: u64 = 0o200000;
const O_NOFOLLOW: u64 = 0o400000;
const O_CLOEXEC: u64 = 0o2000000;
const AT_FDCWD: u64 = -100i64 as u64;

fn pipe(g: &mut Guest) -> [i32; 2] {
    let mut fds = [0i32; 2];
    g.ok("pipe", &[pm(&mut fds)]);
    fds
}

#[test]
fn write_and_read_through_a_pipe() {
    let mut g = Guest::new();
    let [r, w] = pipe(&mut g);
    assert_eq!(g.ok("write", &[w as u64, p(b"hello"), 5]), 5);
    let mut buf = [0u8; 16];
    assert_eq!(g.ok("read", &[r as u64, pm(&mut buf), 16]), 5);
    assert_eq!(&buf[..5], b"hello");
    // readv/writev: struct iovec passes through.
    let parts = [
        libc::iovec {
            iov_base: b"ab".as_ptr() as *mut _,
            iov_len: 2,
        },
        libc::iovec {
            iov_base: b"cde".as_ptr() as *mut _,
            iov_len: 3,
        },
    ];
    assert_eq!(g.ok("writev", &[w as u64, p(&parts), 2]), 5);
    assert_eq!(g.ok("read", &[r as u64, pm(&mut buf), 16]), 5);
    assert_eq!(&buf[..5], b"abcde");
    g.ok("close", &[r as u64]);
    g.ok("close", &[w as u64]);
    assert_eq!(g.sys("close", &[r as u64]), neg(libc::EBADF));
}

#[test]
fn pipe2_and_fcntl_flags() {
    let mut g = Guest::new();
    let mut fds = [0i32; 2];
    g.ok("pipe2", &[pm(&mut fds), O_CLOEXEC | O_NONBLOCK]);
    assert_eq!(
        g.ok("fcntl", &[fds[0] as u64, libc::F_GETFD as u64]),
        libc::FD_CLOEXEC as u64
    );
    let fl = g.ok("fcntl", &[fds[0] as u64, libc::F_GETFL as u64]);
    assert_eq!(fl & O_NONBLOCK, O_NONBLOCK);
    g.ok("fcntl", &[fds[0] as u64, libc::F_SETFL as u64, 0]);
    assert_eq!(
        g.ok("fcntl", &[fds[0] as u64, libc::F_GETFL as u64]) & O_NONBLOCK,
        0
    );
    g.ok("fcntl", &[fds[0] as u64, libc::F_SETFL as u64, O_NONBLOCK]);
    let mut b = [0u8; 1];
    assert_eq!(
        g.sys("read", &[fds[0] as u64, pm(&mut b), 1]),
        neg(libc::EAGAIN)
    );
}

#[test]
fn fstat_stat_lstat_convert_to_the_x86_64_layout() {
    let dir = temp_dir("stat");
    let file = dir.join("data");
    std::fs::write(&file, vec![7u8; 12345]).unwrap();
    let link = dir.join("link");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let meta = std::fs::metadata(&file).unwrap();
    let mut g = Guest::new();

    let check = |st: &X86Stat| {
        assert_eq!(st.st_size, 12345);
        assert_eq!(st.st_ino, meta.ino());
        assert_eq!(st.st_dev, meta.dev());
        assert_eq!(st.st_mode, meta.mode());
        assert_eq!(st.st_nlink, 1);
        assert_eq!(st.st_uid, meta.uid());
        assert_eq!(st.st_blocks as u64, meta.blocks());
        assert_eq!(st.st_blksize as u64, meta.blksize());
        assert_eq!(st.st_mtime as i64, meta.mtime());
        assert_eq!(st.st_mtime_nsec as i64, meta.mtime_nsec());
    };
    let path = cpath(&file);
    let fd = g.ok("open", &[p(path.as_bytes_with_nul()), O_RDONLY]);
    let mut st = X86Stat::default();
    g.ok("fstat", &[fd, pm(&mut st)]);
    check(&st);
    let mut st = X86Stat::default();
    g.ok("stat", &[p(path.as_bytes_with_nul()), pm(&mut st)]);
    check(&st);
    let mut st = X86Stat::default();
    g.ok(
        "newfstatat",
        &[
            AT_FDCWD,
            p(cpath(&link).as_bytes_with_nul()),
            pm(&mut st),
            0,
        ],
    );
    check(&st);
    let mut st = X86Stat::default();
    g.ok("lstat", &[p(cpath(&link).as_bytes_with_nul()), pm(&mut st)]);
    assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFLNK);
    let missing = cpath(&dir.join("missing"));
    assert_eq!(
        g.sys("stat", &[p(missing.as_bytes_with_nul()), pm(&mut st)]),
        neg(libc::ENOENT)
    );
    g.ok("close", &[fd]);
}

#[test]
fn open_converts_the_flags_that_moved() {
    let dir = temp_dir("openflags");
    let file = dir.join("f");
    std::fs::write(&file, b"x").unwrap();
    let link = dir.join("l");
    std::os::unix::fs::symlink(&file, &link).unwrap();
    let mut g = Guest::new();
    // x86 O_NOFOLLOW is aarch64's O_LARGEFILE: unconverted, this would open.
    let l = cpath(&link);
    assert_eq!(
        g.sys("open", &[p(l.as_bytes_with_nul()), O_RDONLY | O_NOFOLLOW]),
        neg(libc::ELOOP)
    );
    // x86 O_DIRECTORY is aarch64's O_DIRECT: unconverted, a file would open.
    let f = cpath(&file);
    assert_eq!(
        g.sys(
            "openat",
            &[AT_FDCWD, p(f.as_bytes_with_nul()), O_RDONLY | O_DIRECTORY]
        ),
        neg(libc::ENOTDIR)
    );
    let d = cpath(&dir);
    let fd = g.ok("open", &[p(d.as_bytes_with_nul()), O_RDONLY | O_DIRECTORY]);
    g.ok("close", &[fd]);
}

#[test]
fn creat_write_lseek_pread_ftruncate() {
    let dir = temp_dir("io");
    let path = cpath(&dir.join("new"));
    let mut g = Guest::new();
    let fd = g.ok("creat", &[p(path.as_bytes_with_nul()), 0o640]);
    assert_eq!(g.ok("write", &[fd, p(b"0123456789"), 10]), 10);
    assert_eq!(g.ok("lseek", &[fd, 2, libc::SEEK_SET as u64]), 2);
    assert_eq!(g.ok("pwrite64", &[fd, p(b"AB"), 2, 4]), 2);
    g.ok("ftruncate", &[fd, 8]);
    g.ok("fsync", &[fd]);
    g.ok("close", &[fd]);
    assert_eq!(std::fs::read(dir.join("new")).unwrap(), b"0123AB67");
    assert_eq!(
        std::fs::metadata(dir.join("new"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o640 & !current_umask()
    );
    let fd = g.ok("open", &[p(path.as_bytes_with_nul()), O_RDWR]);
    let mut buf = [0u8; 4];
    assert_eq!(g.ok("pread64", &[fd, pm(&mut buf), 4, 3]), 4);
    assert_eq!(&buf, b"3AB6");
    g.ok("close", &[fd]);
}

fn current_umask() -> u32 {
    // SAFETY: umask only swaps the process mask; we restore it at once.
    unsafe {
        let m = libc::umask(0o022);
        libc::umask(m);
        m
    }
}

#[test]
fn legacy_path_syscalls_map_to_at_forms() {
    let dir = temp_dir("paths");
    let c = |name: &str| cpath(&dir.join(name));
    let mut g = Guest::new();
    let (sub, sub2, f, f2, hard, sym) = (c("sub"), c("sub2"), c("f"), c("f2"), c("hard"), c("sym"));
    g.ok("mkdir", &[p(sub.as_bytes_with_nul()), 0o755]);
    g.ok(
        "rename",
        &[p(sub.as_bytes_with_nul()), p(sub2.as_bytes_with_nul())],
    );
    assert!(dir.join("sub2").is_dir());
    g.ok("rmdir", &[p(sub2.as_bytes_with_nul())]);
    assert!(!dir.join("sub2").exists());

    let fd = g.ok(
        "open",
        &[
            p(f.as_bytes_with_nul()),
            O_WRONLY | O_CREAT | O_TRUNC,
            0o600,
        ],
    );
    g.ok("close", &[fd]);
    assert_eq!(
        g.ok("access", &[p(f.as_bytes_with_nul()), libc::R_OK as u64]),
        0
    );
    g.ok("chmod", &[p(f.as_bytes_with_nul()), 0o444]);
    assert_eq!(
        std::fs::metadata(dir.join("f"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o444
    );
    g.ok(
        "link",
        &[p(f.as_bytes_with_nul()), p(hard.as_bytes_with_nul())],
    );
    assert_eq!(std::fs::metadata(dir.join("f")).unwrap().nlink(), 2);
    g.ok("symlink", &[p(b"f\0"), p(sym.as_bytes_with_nul())]);
    let mut buf = [0u8; 64];
    assert_eq!(
        g.ok("readlink", &[p(sym.as_bytes_with_nul()), pm(&mut buf), 64]),
        1
    );
    assert_eq!(buf[0], b'f');
    let uid = std::fs::metadata(dir.join("f")).unwrap().uid();
    g.ok(
        "lchown",
        &[p(sym.as_bytes_with_nul()), uid as u64, u32::MAX as u64],
    );
    g.ok(
        "chown",
        &[p(f.as_bytes_with_nul()), u32::MAX as u64, u32::MAX as u64],
    );
    g.ok(
        "rename",
        &[p(f.as_bytes_with_nul()), p(f2.as_bytes_with_nul())],
    );
    g.ok("unlink", &[p(f2.as_bytes_with_nul())]);
    g.ok("unlink", &[p(hard.as_bytes_with_nul())]);
    assert_eq!(
        g.sys("access", &[p(f2.as_bytes_with_nul()), 0]),
        neg(libc::ENOENT)
    );
    assert_eq!(
        g.sys("unlink", &[p(f2.as_bytes_with_nul())]),
        neg(libc::ENOENT)
    );

    // utimes: timeval in, exact times out.
    let fd = g.ok(
        "open",
        &[p(f.as_bytes_with_nul()), O_WRONLY | O_CREAT, 0o600],
    );
    g.ok("close", &[fd]);
    let times = [
        libc::timeval {
            tv_sec: 1_000_000,
            tv_usec: 5,
        },
        libc::timeval {
            tv_sec: 2_000_000,
            tv_usec: 7,
        },
    ];
    g.ok("utimes", &[p(f.as_bytes_with_nul()), p(&times)]);
    let meta = std::fs::metadata(dir.join("f")).unwrap();
    assert_eq!((meta.mtime(), meta.mtime_nsec()), (2_000_000, 7000));
    assert_eq!((meta.atime(), meta.atime_nsec()), (1_000_000, 5000));
}

#[test]
fn readlink_of_proc_self_exe_names_the_guest() {
    let mut g = Guest::new();
    let mut buf = [0u8; 64];
    let n = g.ok("readlink", &[p(b"/proc/self/exe\0"), pm(&mut buf), 64]) as usize;
    assert_eq!(&buf[..n], b"/opt/guest/bin/prog");
    let own = format!("/proc/{}/exe\0", std::process::id());
    let mut small = [0u8; 4];
    assert_eq!(
        g.ok(
            "readlinkat",
            &[AT_FDCWD, p(own.as_bytes()), pm(&mut small), 4]
        ),
        4
    );
    assert_eq!(&small, b"/opt");
    assert_eq!(
        g.sys("readlink", &[p(b"/proc/self/exe\0"), pm(&mut buf), 0]),
        neg(libc::EINVAL)
    );
    // Other /proc/self links still come from the host.
    let n = g.ok("readlink", &[p(b"/proc/self/cwd\0"), pm(&mut buf), 64]) as usize;
    assert_eq!(
        std::path::Path::new(std::str::from_utf8(&buf[..n]).unwrap()),
        std::env::current_dir().unwrap()
    );
}

#[test]
fn getdents_produces_legacy_records() {
    let dir = temp_dir("getdents");
    let mut expected = vec![".".to_string(), "..".to_string()];
    for i in 0..40 {
        let name = format!("file-with-a-longish-name-{i}");
        std::fs::write(dir.join(&name), b"").unwrap();
        expected.push(name);
    }
    std::fs::create_dir(dir.join("subdir")).unwrap();
    expected.push("subdir".into());
    let mut g = Guest::new();
    let d = cpath(&dir);
    let fd = g.ok("open", &[p(d.as_bytes_with_nul()), O_RDONLY | O_DIRECTORY]);
    let mut names = Vec::new();
    let mut buf = vec![0u8; 512]; // small: forces several calls
    loop {
        let n = g.ok("getdents", &[fd, pm(&mut buf[..]), buf.len() as u64]) as usize;
        if n == 0 {
            break;
        }
        let mut pos = 0;
        while pos < n {
            let reclen = u16::from_ne_bytes([buf[pos + 16], buf[pos + 17]]) as usize;
            let name_area = &buf[pos + 18..pos + reclen];
            let name =
                std::str::from_utf8(&name_area[..name_area.iter().position(|&b| b == 0).unwrap()])
                    .unwrap();
            let d_type = buf[pos + reclen - 1];
            let want = if name == "subdir" || name.starts_with('.') {
                libc::DT_DIR
            } else {
                libc::DT_REG
            };
            assert_eq!(d_type, want, "{name}");
            names.push(name.to_string());
            pos += reclen;
        }
        assert_eq!(pos, n);
    }
    names.sort();
    expected.sort();
    assert_eq!(names, expected);
    g.ok("close", &[fd]);
}

#[test]
fn dup2_to_itself_checks_the_fd() {
    let mut g = Guest::new();
    let [r, w] = pipe(&mut g);
    assert_eq!(g.ok("dup2", &[r as u64, r as u64]), r as u64);
    assert_eq!(g.sys("dup2", &[1000, 1000]), neg(libc::EBADF));
    let target = 500u64;
    assert_eq!(g.ok("dup2", &[w as u64, target]), target);
    assert_eq!(g.ok("write", &[target, p(b"z"), 1]), 1);
    let fd = g.ok("dup", &[r as u64]);
    let mut b = [0u8; 1];
    assert_eq!(g.ok("read", &[fd, pm(&mut b), 1]), 1);
    assert_eq!(b[0], b'z');
    for fd in [r as u64, w as u64, target, fd] {
        g.ok("close", &[fd]);
    }
}

#[test]
fn poll_and_select_see_a_readable_pipe() {
    let mut g = Guest::new();
    let [r, w] = pipe(&mut g);
    let mut fds = [libc::pollfd {
        fd: r,
        events: libc::POLLIN,
        revents: 0,
    }];
    assert_eq!(g.ok("poll", &[pm(&mut fds), 1, 0]), 0);
    g.ok("write", &[w as u64, p(b"x"), 1]);
    assert_eq!(g.ok("poll", &[pm(&mut fds), 1, -1i64 as u64]), 1);
    assert_eq!(fds[0].revents, libc::POLLIN);

    // SAFETY: fd_set is plain bits; FD_ZERO/FD_SET only write into it.
    let mut set: libc::fd_set = unsafe { std::mem::zeroed() };
    unsafe { libc::FD_SET(r, &mut set) };
    let mut tv = libc::timeval {
        tv_sec: 5,
        tv_usec: 0,
    };
    assert_eq!(
        g.ok("select", &[r as u64 + 1, pm(&mut set), 0, 0, pm(&mut tv)]),
        1
    );
    assert!(unsafe { libc::FD_ISSET(r, &set) });
    assert!(
        tv.tv_sec <= 5 && tv.tv_sec >= 4,
        "remaining time written back: {tv:?}"
    );
    let mut bad = libc::timeval {
        tv_sec: 0,
        tv_usec: 1_000_000,
    };
    assert_eq!(
        g.sys("select", &[0, 0, 0, 0, pm(&mut bad)]),
        neg(libc::EINVAL)
    );
}

#[test]
fn epoll_events_use_the_packed_x86_64_layout() {
    let mut g = Guest::new();
    let [r, w] = pipe(&mut g);
    let ep = g.ok("epoll_create", &[1]);
    assert_eq!(g.sys("epoll_create", &[0]), neg(libc::EINVAL));
    // struct epoll_event { u32 events; u64 data; } packed: 12 bytes.
    let mut ev = [0u8; 12];
    ev[..4].copy_from_slice(&(libc::EPOLLIN as u32).to_ne_bytes());
    ev[4..].copy_from_slice(&0x1122_3344_5566_7788u64.to_ne_bytes());
    g.ok(
        "epoll_ctl",
        &[ep, libc::EPOLL_CTL_ADD as u64, r as u64, p(&ev)],
    );
    g.ok("write", &[w as u64, p(b"x"), 1]);
    let mut out = [0xAAu8; 36];
    assert_eq!(g.ok("epoll_wait", &[ep, pm(&mut out), 2, 1000]), 1);
    assert_eq!(
        u32::from_ne_bytes(out[..4].try_into().unwrap()),
        libc::EPOLLIN as u32
    );
    assert_eq!(
        u64::from_ne_bytes(out[4..12].try_into().unwrap()),
        0x1122_3344_5566_7788
    );
    assert!(
        out[12..].iter().all(|&b| b == 0xAA),
        "wrote past the one event"
    );
    assert_eq!(g.ok("epoll_pwait", &[ep, pm(&mut out), 1, 0, 0, 8]), 1);
    g.ok("epoll_ctl", &[ep, libc::EPOLL_CTL_DEL as u64, r as u64, 0]);
    assert_eq!(g.ok("epoll_wait", &[ep, pm(&mut out), 2, 0]), 0);
    assert_eq!(
        g.sys("epoll_wait", &[ep, pm(&mut out), 0, 0]),
        neg(libc::EINVAL)
    );
}

#[test]
fn ioctl_passes_tty_requests_and_rejects_unknown_ones() {
    let mut g = Guest::new();
    let [r, w] = pipe(&mut g);
    g.ok("write", &[w as u64, p(b"12345"), 5]);
    let mut n = 0i32;
    g.ok("ioctl", &[r as u64, 0x541B, pm(&mut n)]); // FIONREAD
    assert_eq!(n, 5);
    let mut ws = [0u16; 4];
    assert_eq!(
        g.sys("ioctl", &[r as u64, 0x5413, pm(&mut ws)]),
        neg(libc::ENOTTY)
    ); // TIOCGWINSZ: not a tty
    assert_eq!(
        g.sys("ioctl", &[r as u64, 0xdead_beef, 0]),
        neg(libc::ENOTTY)
    );
}

#[test]
fn openat2_converts_flags_inside_open_how() {
    let dir = temp_dir("openat2");
    std::fs::write(dir.join("f"), b"x").unwrap();
    let f = cpath(&dir.join("f"));
    let mut g = Guest::new();
    let how = [O_RDONLY | O_DIRECTORY, 0u64, 0u64];
    let r = g.sys(
        "openat2",
        &[AT_FDCWD, p(f.as_bytes_with_nul()), p(&how), 24],
    );
    if r == neg(libc::ENOSYS) {
        eprintln!("skipped: host kernel (or qemu) lacks openat2");
        return;
    }
    assert_eq!(r, neg(libc::ENOTDIR));
    let how = [O_RDONLY, 0u64, 0u64];
    let fd = g.ok(
        "openat2",
        &[AT_FDCWD, p(f.as_bytes_with_nul()), p(&how), 24],
    );
    g.ok("close", &[fd]);
    assert_eq!(
        g.sys("openat2", &[AT_FDCWD, p(f.as_bytes_with_nul()), p(&how), 8]),
        neg(libc::EINVAL)
    );
}
