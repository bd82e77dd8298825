//! The guest's view of absolute paths, with an x86_64 root filesystem
//! (`-L DIR`), following qemu-user's `-L`: an absolute path names the file
//! under the root filesystem if it exists there, and the host's file
//! otherwise. Relative paths (and so `*at` calls relative to a directory
//! descriptor) are never rewritten: they are resolved from wherever the
//! directory already is.
//!
//! Where Transit differs from qemu-user:
//! - symbolic links inside the root filesystem resolve inside it (as under
//!   chroot): the absolute links of a Debian tree (`/lib64/ld-linux-x86-64.so.2`,
//!   `/etc/alternatives/*`) name files of the tree, not of the host;
//! - [`HOST_ONLY`] paths always name the host;
//! - lookups are not cached, so files created later are found.
//!
//! A path that does not exist in the root filesystem names the host, so a
//! file the guest creates (`O_CREAT`, mkdir, rename's target, ...) is created
//! on the host unless it already exists in the root filesystem; looking it
//! up again finds the same file.
//!
//! `/proc/self/exe` (and its other names), when followed, is the guest
//! executable: stat, access and open see the program, not Transit.

use std::ffi::{CString, OsStr};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::guest_mem;
use crate::host::{self, SysResult};
use crate::{Args, GuestProcess};

/// Paths that always name the host's file, even when the root filesystem
/// has one: the kernel's views of the system and of this process, devices,
/// and temporary files, which the guest shares with host processes (a root
/// filesystem's `/tmp` is an empty placeholder).
pub const HOST_ONLY: &[&str] = &["/proc", "/sys", "/dev", "/tmp"];

/// Linux's limit on symbolic links followed in one lookup (fs/namei.c MAXSYMLINKS).
const MAX_SYMLINKS: usize = 40;
/// Longest path the kernel accepts, NUL included (PATH_MAX).
const PATH_MAX: usize = 4096;

/// Host path of the guest's absolute or relative path `guest`, following a
/// symbolic link in its last component (as open, stat and execve do): the
/// file under `rootfs` if it exists there, else `guest` itself.
///
/// For execve and the loader: the program or dynamic loader a guest names.
pub fn guest_path_to_host(rootfs: Option<&Path>, guest: &Path) -> PathBuf {
    rootfs
        .and_then(|root| in_rootfs(root, guest.as_os_str().as_bytes(), true))
        .unwrap_or_else(|| guest.to_path_buf())
}

/// The guest's name for host path `host`: inside the root filesystem, the
/// path relative to it (`ROOT/usr/bin` reads as `/usr/bin`); anything else
/// as it is. What getcwd, `/proc/self/exe` and `/proc/self/maps` show.
pub fn host_path_to_guest(rootfs: Option<&Path>, host: &Path) -> PathBuf {
    match rootfs.and_then(|root| host.strip_prefix(root).ok()) {
        Some(rest) => Path::new("/").join(rest),
        None => host.to_path_buf(),
    }
}

/// Whether `path` (absolute) is `prefix` or lies below it.
fn is_under(path: &[u8], prefix: &str) -> bool {
    path.strip_prefix(prefix.as_bytes())
        .is_some_and(|rest| rest.is_empty() || rest[0] == b'/')
}

/// `guest` (absolute) looked up with `root` as `/`, if every component
/// exists there; `follow_last` also resolves a symbolic link in the last
/// component. `None` for relative paths and [`HOST_ONLY`] ones.
pub(crate) fn in_rootfs(root: &Path, guest: &[u8], follow_last: bool) -> Option<PathBuf> {
    if !guest.starts_with(b"/") || HOST_ONLY.iter().any(|p| is_under(guest, p)) {
        return None;
    }
    let mut resolved = root.to_path_buf();
    let mut depth = 0usize;
    // Components still to walk, the next one last, as byte ranges of the
    // path (source 0) or of a link target read on the way (source n is
    // `targets[n - 1]`): every path argument of a syscall is resolved, and
    // a copy per component showed in start-up profiles.
    let mut targets: Vec<Vec<u8>> = Vec::new();
    let mut pending = Vec::new();
    push_components(&mut pending, guest, 0);
    let mut links = 0;
    while let Some(next) = pending.pop() {
        let component = component_of(guest, &targets, next);
        match component {
            b"" | b"." => continue,
            // `..` never climbs out of the root, as in a chroot.
            b".." => {
                if depth > 0 {
                    resolved.pop();
                    depth -= 1;
                }
                continue;
            }
            _ => {}
        }
        // A link led to the root's /proc (say): that is the host's /proc.
        if depth == 0 && HOST_ONLY.iter().any(|p| p.as_bytes()[1..] == component[..]) {
            let mut host = PathBuf::from("/");
            host.push(OsStr::from_bytes(component));
            for &rest in pending.iter().rev() {
                host.push(OsStr::from_bytes(component_of(guest, &targets, rest)));
            }
            return Some(host);
        }
        resolved.push(OsStr::from_bytes(component));
        let metadata = std::fs::symlink_metadata(&resolved).ok()?;
        // A trailing slash leaves an empty component pending: it follows.
        let last = pending.is_empty();
        if metadata.file_type().is_symlink() && (follow_last || !last) {
            links += 1;
            if links > MAX_SYMLINKS {
                // The kernel reports the loop (ELOOP) on this path too.
                return Some(resolved);
            }
            let target = std::fs::read_link(&resolved).ok()?.into_os_string().into_vec();
            resolved.pop();
            if target.starts_with(b"/") {
                resolved = root.to_path_buf();
                depth = 0;
            }
            push_components(&mut pending, &target, targets.len() + 1);
            targets.push(target);
            continue;
        }
        depth += 1;
    }
    // "dir/", "dir/." and "dir/.." must still name a directory for the kernel.
    if guest.ends_with(b"/") || guest.ends_with(b"/.") || guest.ends_with(b"/..") {
        resolved.push("");
    }
    Some(resolved)
}

/// The bytes of a pending component: a range of the path (source 0) or of
/// link target `source - 1`.
fn component_of<'a>(path: &'a [u8], targets: &'a [Vec<u8>], (source, from, to): (usize, usize, usize)) -> &'a [u8] {
    let bytes = if source == 0 { path } else { &targets[source - 1] };
    &bytes[from..to]
}

/// Appends the '/'-separated components of `path` (empty ones too) to
/// `pending` as byte ranges of source `source`, last first.
fn push_components(pending: &mut Vec<(usize, usize, usize)>, path: &[u8], source: usize) {
    let mut end = path.len();
    for (i, _) in path.iter().enumerate().rev().filter(|&(_, &b)| b == b'/') {
        pending.push((source, i + 1, end));
        end = i;
    }
    pending.push((source, 0, end));
}

/// Whether a lookup follows a symbolic link in the last component of a path
/// argument.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Follow {
    Always,
    Never,
    /// Unless the flags argument at this index has `AT_SYMLINK_NOFOLLOW`.
    UnlessNoFollowFlag(usize),
    /// Only if the flags argument at this index has `AT_SYMLINK_FOLLOW`.
    IfFollowFlag(usize),
}

/// A path argument of a syscall: which argument register, and how its last
/// component is looked up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathArg {
    index: usize,
    follow: Follow,
}

impl PathArg {
    /// A path whose last symbolic link is followed (stat, chmod, truncate).
    pub(crate) const fn follows(index: usize) -> PathArg {
        PathArg {
            index,
            follow: Follow::Always,
        }
    }

    /// A path naming a link itself (lstat, unlink, rename, the new name of link).
    pub(crate) const fn no_follow(index: usize) -> PathArg {
        PathArg {
            index,
            follow: Follow::Never,
        }
    }

    /// An `*at` path whose flags argument may hold `AT_SYMLINK_NOFOLLOW`.
    pub(crate) const fn at(index: usize, flags: usize) -> PathArg {
        PathArg {
            index,
            follow: Follow::UnlessNoFollowFlag(flags),
        }
    }

    /// An `*at` path followed only with `AT_SYMLINK_FOLLOW` (linkat, name_to_handle_at).
    pub(crate) const fn at_follow(index: usize, flags: usize) -> PathArg {
        PathArg {
            index,
            follow: Follow::IfFollowFlag(flags),
        }
    }

    fn follows_in(&self, args: &Args) -> bool {
        match self.follow {
            Follow::Always => true,
            Follow::Never => false,
            Follow::UnlessNoFollowFlag(i) => args[i] & libc::AT_SYMLINK_NOFOLLOW as u64 == 0,
            Follow::IfFollowFlag(i) => args[i] & libc::AT_SYMLINK_FOLLOW as u64 != 0,
        }
    }
}

/// Reads a guest path. `None` when the kernel should see the guest's own
/// pointer: NULL, unreadable, or longer than PATH_MAX (the kernel then
/// reports EFAULT or ENAMETOOLONG itself).
pub(crate) fn read_guest_path(ptr: u64) -> Option<Vec<u8>> {
    if ptr == 0 {
        return None;
    }
    guest_mem::read_cstr(ptr, PATH_MAX - 1).ok().flatten()
}

impl GuestProcess {
    /// Sets the root filesystem, made absolute and free of symbolic links
    /// so that it stays valid when the guest changes directory and host
    /// paths (getcwd, the executable) can be recognised as inside it.
    pub fn set_rootfs(&mut self, rootfs: Option<PathBuf>) {
        self.rootfs = rootfs.map(|root| std::fs::canonicalize(&root).unwrap_or(root));
    }

    /// The host path for guest path `guest` as a following lookup sees it
    /// (open, stat, execve): the guest executable for `/proc/self/exe`, a
    /// file of the root filesystem, or `guest` itself.
    pub fn host_path(&self, guest: &Path) -> PathBuf {
        self.rewrite_path(guest.as_os_str().as_bytes(), true)
            .unwrap_or_else(|| guest.to_path_buf())
    }

    /// The host path that replaces guest path `guest`, or `None` if the
    /// kernel should see the guest's path unchanged.
    pub(crate) fn rewrite_path(&self, guest: &[u8], follow_last: bool) -> Option<PathBuf> {
        if follow_last
            && super::proc::names_own(guest, b"exe")
            && !self.exe_path.as_os_str().is_empty()
        {
            return Some(self.exe_path.clone());
        }
        in_rootfs(self.rootfs.as_deref()?, guest, follow_last)
    }

    /// Path argument `guest_ptr` (whose string is `guest`, if readable) as
    /// the host kernel should get it.
    pub(crate) fn host_path_arg(
        &self,
        guest_ptr: u64,
        guest: Option<&[u8]>,
        follow_last: bool,
    ) -> HostPath {
        let rewritten = guest
            .and_then(|guest| self.rewrite_path(guest, follow_last))
            .and_then(|host| CString::new(host.into_os_string().into_vec()).ok());
        HostPath {
            guest_ptr,
            rewritten,
        }
    }

    /// Runs `call` with the path arguments `paths` of `args` rewritten for
    /// the host.
    pub(crate) fn with_host_paths(
        &self,
        args: &Args,
        paths: &[PathArg],
        call: impl FnOnce(&Args) -> SysResult,
    ) -> SysResult {
        let mut host_args = *args;
        // Owned until the call returns.
        let mut keep = Vec::with_capacity(paths.len());
        for path in paths {
            let guest = read_guest_path(args[path.index]);
            let host =
                self.host_path_arg(args[path.index], guest.as_deref(), path.follows_in(args));
            host_args[path.index] = host.ptr();
            keep.push(host);
        }
        call(&host_args)
    }
}

/// A path argument for the host kernel: the guest's own pointer, or our
/// rewritten copy (which must outlive the syscall using `ptr`).
pub(crate) struct HostPath {
    guest_ptr: u64,
    rewritten: Option<CString>,
}

impl HostPath {
    pub(crate) fn ptr(&self) -> u64 {
        self.rewritten
            .as_ref()
            .map_or(self.guest_ptr, |path| host::ptr(path.as_ptr()))
    }
}

/// The table's `pass_paths`: the host syscall `nr` with the same arguments,
/// its path arguments rewritten.
pub(crate) fn pass_paths(
    process: &GuestProcess,
    nr: libc::c_long,
    paths: &[PathArg],
    args: &Args,
) -> SysResult {
    process.with_host_paths(args, paths, |a| host::syscall(nr, a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A small root filesystem in a fresh directory, removed when dropped.
    struct Root(PathBuf);

    impl Drop for Root {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn root(test: &str) -> Root {
        let dir =
            std::env::temp_dir().join(format!("transit-rootfs-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for d in ["etc", "usr/lib", "lib64", "tmp", "proc", "procfs"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        for f in ["etc/marker", "usr/lib/libc.so", "proc/version", "procfs/x"] {
            std::fs::write(dir.join(f), f).unwrap();
        }
        symlink("usr/lib", dir.join("lib")).unwrap();
        symlink("/lib/libc.so", dir.join("lib64/ld.so")).unwrap();
        symlink("/nowhere", dir.join("etc/dangling")).unwrap();
        symlink("/etc/loop2", dir.join("etc/loop1")).unwrap();
        symlink("/etc/loop1", dir.join("etc/loop2")).unwrap();
        Root(dir)
    }

    fn lookup(root: &Root, guest: &str, follow: bool) -> Option<String> {
        let found = in_rootfs(&root.0, guest.as_bytes(), follow)?;
        let rest = found.strip_prefix(&root.0).expect("inside the root");
        let slash = found.as_os_str().as_bytes().ends_with(b"/") && found != root.0.join("");
        Some(format!(
            "/{}{}",
            rest.display(),
            if slash { "/" } else { "" }
        ))
    }

    #[test]
    fn existing_paths_resolve_inside_the_root() {
        let r = root("exists");
        assert_eq!(
            lookup(&r, "/etc/marker", true).as_deref(),
            Some("/etc/marker")
        );
        assert_eq!(
            lookup(&r, "//etc/./marker", true).as_deref(),
            Some("/etc/marker")
        );
        assert_eq!(lookup(&r, "/", true).as_deref(), Some("/"));
        // `..` stops at the root, as in a chroot.
        assert_eq!(
            lookup(&r, "/../../etc/marker", true).as_deref(),
            Some("/etc/marker")
        );
        assert_eq!(
            lookup(&r, "/usr/lib/../../etc/marker", true).as_deref(),
            Some("/etc/marker")
        );
        assert_eq!(lookup(&r, "/etc/", true).as_deref(), Some("/etc/"));
        // Only whole components are HOST_ONLY.
        assert_eq!(lookup(&r, "/procfs/x", true).as_deref(), Some("/procfs/x"));
    }

    #[test]
    fn other_paths_stay_on_the_host() {
        let r = root("host");
        for path in [
            "/etc/missing",
            "/usr/lib/libc.so/x",
            "etc/marker",
            "",
            "/proc/version",
            "/proc",
            "/tmp",
            "/dev/null",
            "/sys",
        ] {
            assert_eq!(lookup(&r, path, true), None, "{path}");
        }
    }

    #[test]
    fn symbolic_links_resolve_inside_the_root() {
        let r = root("links");
        // Relative (lib -> usr/lib) and absolute (/lib64/ld.so -> /lib/libc.so).
        assert_eq!(
            lookup(&r, "/lib/libc.so", false).as_deref(),
            Some("/usr/lib/libc.so")
        );
        assert_eq!(
            lookup(&r, "/lib64/ld.so", true).as_deref(),
            Some("/usr/lib/libc.so")
        );
        // Not the last one when the lookup does not follow it (lstat, unlink).
        assert_eq!(
            lookup(&r, "/lib64/ld.so", false).as_deref(),
            Some("/lib64/ld.so")
        );
        // A trailing slash follows.
        assert_eq!(lookup(&r, "/lib/", false).as_deref(), Some("/usr/lib/"));
        // A link to what the root does not have is the host's business.
        assert_eq!(lookup(&r, "/etc/dangling", true), None);
        assert_eq!(
            lookup(&r, "/etc/dangling", false).as_deref(),
            Some("/etc/dangling")
        );
        // A loop stays inside the root, where the kernel reports ELOOP.
        assert!(lookup(&r, "/etc/loop1", true).is_some());
    }

    #[test]
    fn links_into_proc_or_dev_lead_to_the_host() {
        let r = root("host-links");
        symlink("../proc/self/mounts", r.0.join("etc/mtab")).unwrap();
        symlink("/dev/fd", r.0.join("etc/fd")).unwrap();
        let host = |guest: &str| in_rootfs(&r.0, guest.as_bytes(), true);
        assert_eq!(host("/etc/mtab"), Some("/proc/self/mounts".into()));
        assert_eq!(host("/etc/fd/0"), Some("/dev/fd/0".into()));
        assert_eq!(host("/etc/fd/"), Some("/dev/fd/".into()));
        assert_eq!(
            in_rootfs(&r.0, b"/etc/mtab", false),
            Some(r.0.join("etc/mtab"))
        );
    }

    #[test]
    fn public_helpers_map_both_ways() {
        let r = root("public");
        let host = guest_path_to_host(Some(&r.0), Path::new("/lib64/ld.so"));
        assert_eq!(host, r.0.join("usr/lib/libc.so"));
        assert_eq!(
            guest_path_to_host(Some(&r.0), Path::new("/etc/none")),
            Path::new("/etc/none")
        );
        assert_eq!(
            guest_path_to_host(None, Path::new("/etc/marker")),
            Path::new("/etc/marker")
        );
        assert_eq!(
            host_path_to_guest(Some(&r.0), &host),
            Path::new("/usr/lib/libc.so")
        );
        assert_eq!(host_path_to_guest(Some(&r.0), &r.0), Path::new("/"));
        assert_eq!(
            host_path_to_guest(Some(&r.0), Path::new("/usr/bin")),
            Path::new("/usr/bin")
        );
        assert_eq!(host_path_to_guest(None, &host), host);
    }
}
