//! Absolute paths looked up in the root filesystem first (`-L DIR`).
//!
//! The host side lives next to the test binary, not in /tmp: /tmp is one of
//! the paths that always name the host.

use super::*;
use std::path::{Path, PathBuf};

const O_RDONLY: u64 = 0;
const AT_FDCWD: u64 = -100i64 as u64;

/// A host directory H (absolute, outside /tmp) and a root filesystem R
/// holding a copy of H's path, removed when dropped:
/// - `both`: in H ("host") and in R ("rootfs");
/// - `only-host`, `only-rootfs`;
/// - `link` in R: an absolute link to the guest path of `only-rootfs`.
struct Trees {
    host: PathBuf,
    root: TempDir,
}

impl Drop for Trees {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.host);
    }
}

fn trees(test: &str) -> Trees {
    let exe = std::env::current_exe().unwrap();
    let host = exe
        .parent()
        .unwrap()
        .join(format!("rootfs-test-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&host);
    std::fs::create_dir_all(&host).unwrap();
    let root = temp_dir(&format!("rootfs-{test}"));
    let mirror = root.join(host.strip_prefix("/").unwrap());
    std::fs::create_dir_all(&mirror).unwrap();
    std::fs::write(host.join("both"), "host").unwrap();
    std::fs::write(mirror.join("both"), "rootfs").unwrap();
    std::fs::write(host.join("only-host"), "only host").unwrap();
    std::fs::write(mirror.join("only-rootfs"), "only rootfs").unwrap();
    std::os::unix::fs::symlink(host.join("only-rootfs"), mirror.join("link")).unwrap();
    Trees { host, root }
}

impl Trees {
    fn guest(&self, with_rootfs: bool) -> Guest {
        let mut g = Guest::new();
        if with_rootfs {
            g.process.set_rootfs(Some(self.root.to_path_buf()));
        }
        g
    }

    fn path(&self, name: &str) -> std::ffi::CString {
        cpath(&self.host.join(name))
    }
}

/// Reads a file the guest opens at `path` (`Err(errno)` if the open fails).
fn read_guest_file(g: &mut Guest, path: &std::ffi::CStr) -> Result<String, i64> {
    let fd = g.sys("open", &[p(path.to_bytes_with_nul()), O_RDONLY]);
    if fd < 0 {
        return Err(-fd);
    }
    let mut buf = [0u8; 256];
    let n = g.ok("read", &[fd as u64, pm(&mut buf), 256]) as usize;
    g.ok("close", &[fd as u64]);
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[test]
fn open_prefers_the_root_filesystem_then_the_host() {
    let t = trees("open");
    let mut with = t.guest(true);
    let mut without = t.guest(false);
    assert_eq!(
        read_guest_file(&mut with, &t.path("both")).as_deref(),
        Ok("rootfs")
    );
    assert_eq!(
        read_guest_file(&mut without, &t.path("both")).as_deref(),
        Ok("host")
    );
    assert_eq!(
        read_guest_file(&mut with, &t.path("only-host")).as_deref(),
        Ok("only host")
    );
    assert_eq!(
        read_guest_file(&mut with, &t.path("only-rootfs")).as_deref(),
        Ok("only rootfs")
    );
    assert_eq!(
        read_guest_file(&mut without, &t.path("only-rootfs")),
        Err(libc::ENOENT as i64)
    );
    // An absolute link in the root filesystem points into it.
    assert_eq!(
        read_guest_file(&mut with, &t.path("link")).as_deref(),
        Ok("only rootfs")
    );
    // openat with an absolute path ignores dirfd; a relative one is left alone.
    let path = t.path("both");
    let fd = with.ok("openat", &[AT_FDCWD, p(path.to_bytes_with_nul()), O_RDONLY]);
    with.ok("close", &[fd]);
    let host_dir = std::fs::File::open(&t.host).unwrap();
    let dirfd = std::os::fd::AsRawFd::as_raw_fd(&host_dir) as u64;
    let fd = with.ok("openat", &[dirfd, p(b"both\0"), O_RDONLY]);
    let mut buf = [0u8; 16];
    let n = with.ok("read", &[fd, pm(&mut buf), 16]) as usize;
    assert_eq!(&buf[..n], b"host", "dirfd-relative paths are not rewritten");
    with.ok("close", &[fd]);
}

#[test]
fn new_files_are_created_on_the_host() {
    let t = trees("create");
    let mut g = t.guest(true);
    let path = t.path("new");
    let fd = g.ok("creat", &[p(path.to_bytes_with_nul()), 0o644]);
    g.ok("close", &[fd]);
    assert!(t.host.join("new").exists());
    assert!(!t
        .root
        .join(t.host.strip_prefix("/").unwrap())
        .join("new")
        .exists());
    // Found again where it was created.
    assert_eq!(read_guest_file(&mut g, &path).as_deref(), Ok(""));
    let dir = t.path("newdir");
    g.ok("mkdir", &[p(dir.to_bytes_with_nul()), 0o755]);
    assert!(t.host.join("newdir").is_dir());
}

#[test]
fn stat_access_and_readlink_look_in_the_root_filesystem() {
    let t = trees("stat");
    let mut g = t.guest(true);
    let both = t.path("both");
    let mut st = crate::abi::stat::X86Stat::default();
    g.ok("stat", &[p(both.to_bytes_with_nul()), pm(&mut st)]);
    assert_eq!(st.st_size, 6, "the root filesystem's copy");
    g.ok(
        "newfstatat",
        &[AT_FDCWD, p(both.to_bytes_with_nul()), pm(&mut st), 0],
    );
    assert_eq!(st.st_size, 6);
    let link = t.path("link");
    g.ok("lstat", &[p(link.to_bytes_with_nul()), pm(&mut st)]);
    assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFLNK);
    g.ok("stat", &[p(link.to_bytes_with_nul()), pm(&mut st)]);
    assert_eq!(st.st_size, "only rootfs".len() as i64);
    let only = t.path("only-rootfs");
    g.ok("access", &[p(only.to_bytes_with_nul()), libc::R_OK as u64]);
    // Table-driven ones (pass_paths): faccessat, statx, fchmodat, truncate, unlinkat.
    g.ok(
        "faccessat",
        &[AT_FDCWD, p(only.to_bytes_with_nul()), libc::R_OK as u64],
    );
    let mut stx = [0u8; 256];
    g.ok(
        "statx",
        &[
            AT_FDCWD,
            p(only.to_bytes_with_nul()),
            0,
            libc::STATX_SIZE as u64,
            pm(&mut stx),
        ],
    );
    let size = u64::from_ne_bytes(stx[40..48].try_into().unwrap());
    assert_eq!(size, "only rootfs".len() as u64);
    g.ok("truncate", &[p(both.to_bytes_with_nul()), 2]);
    let mirror = t.root.join(t.host.strip_prefix("/").unwrap());
    assert_eq!(std::fs::read(mirror.join("both")).unwrap(), b"ro");
    assert_eq!(std::fs::read(t.host.join("both")).unwrap(), b"host");
    let mut buf = [0u8; 256];
    let n = g.ok(
        "readlink",
        &[p(link.to_bytes_with_nul()), pm(&mut buf), 256],
    ) as usize;
    assert_eq!(
        Path::new(std::str::from_utf8(&buf[..n]).unwrap()),
        t.host.join("only-rootfs")
    );
    g.ok("unlinkat", &[AT_FDCWD, p(only.to_bytes_with_nul()), 0]);
    assert!(!mirror.join("only-rootfs").exists());
    let mut without = t.guest(false);
    assert_eq!(
        without.sys("access", &[p(link.to_bytes_with_nul()), 0]),
        neg(libc::ENOENT)
    );
}

#[test]
fn proc_and_dev_stay_on_the_host() {
    let t = trees("proc");
    std::fs::create_dir_all(t.root.join("proc")).unwrap();
    std::fs::write(t.root.join("proc/version"), "fake").unwrap();
    std::fs::create_dir_all(t.root.join("dev")).unwrap();
    std::fs::write(t.root.join("dev/null"), "fake").unwrap();
    let mut g = t.guest(true);
    let version = read_guest_file(&mut g, c"/proc/version").unwrap();
    assert!(version.starts_with("Linux"), "{version}");
    assert_eq!(read_guest_file(&mut g, c"/dev/null").as_deref(), Ok(""));
}

#[test]
fn getcwd_names_directories_of_the_root_filesystem_by_their_guest_paths() {
    let cwd = std::env::current_dir().unwrap();
    let mut g = Guest::new();
    g.process
        .set_rootfs(Some(cwd.parent().unwrap().to_path_buf()));
    let mut buf = [0u8; 4096];
    let n = g.ok("getcwd", &[pm(&mut buf), 4096]) as usize;
    let expected = format!("/{}\0", cwd.file_name().unwrap().to_str().unwrap());
    assert_eq!(&buf[..n], expected.as_bytes());
    assert_eq!(g.sys("getcwd", &[pm(&mut buf), 2]), neg(libc::ERANGE));
    let mut plain = Guest::new();
    let n = plain.ok("getcwd", &[pm(&mut buf), 4096]) as usize;
    assert_eq!(&buf[..n - 1], cwd.as_os_str().as_encoded_bytes());
}

#[test]
fn the_guest_executable_is_opened_through_proc_self_exe() {
    let t = trees("exe");
    let mut g = t.guest(true);
    let exe = t
        .root
        .join(t.host.strip_prefix("/").unwrap())
        .join("only-rootfs");
    g.process.exe_path = exe;
    assert_eq!(
        read_guest_file(&mut g, c"/proc/self/exe").as_deref(),
        Ok("only rootfs")
    );
    let own = std::ffi::CString::new(format!("/proc/{}/exe", std::process::id())).unwrap();
    assert_eq!(read_guest_file(&mut g, &own).as_deref(), Ok("only rootfs"));
    let mut st = crate::abi::stat::X86Stat::default();
    g.ok("stat", &[p(b"/proc/self/exe\0"), pm(&mut st)]);
    assert_eq!(st.st_size, "only rootfs".len() as i64);
    // readlink names it by its path inside the root filesystem.
    let mut buf = [0u8; 4096];
    let n = g.ok("readlink", &[p(b"/proc/self/exe\0"), pm(&mut buf), 4096]) as usize;
    assert_eq!(
        Path::new(std::str::from_utf8(&buf[..n]).unwrap()),
        t.host.join("only-rootfs")
    );
}
