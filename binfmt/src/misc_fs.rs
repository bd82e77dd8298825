//! A binfmt_misc mount: the kernel's interface is files. `register` takes a
//! registration line, `status` holds the global switch, and each entry is a
//! file that prints its settings and takes `1` (enable), `0` (disable) or
//! `-1` (remove).

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::entry::Entry;

/// Where distributions mount it (systemd's proc-sys-fs-binfmt_misc.mount).
pub const DEFAULT_ROOT: &str = "/proc/sys/fs/binfmt_misc";
/// BINFMTFS_MAGIC, include/uapi/linux/magic.h: statfs's f_type of a mount.
const BINFMTFS_MAGIC: i64 = 0x4249_4e4d;

pub struct BinfmtMisc {
    pub root: PathBuf,
}

impl BinfmtMisc {
    pub fn at(root: &Path) -> BinfmtMisc {
        BinfmtMisc { root: root.into() }
    }

    /// Whether `root` is a binfmt_misc mount (not merely a directory: a
    /// write to `register` in a plain directory would create a file and
    /// register nothing).
    pub fn is_mounted(&self) -> bool {
        let Ok(path) = std::ffi::CString::new(self.root.as_os_str().as_bytes()) else { return false };
        // SAFETY: statfs writes into the zeroed struct we own; `path` is NUL-terminated.
        unsafe {
            let mut st: libc::statfs = std::mem::zeroed();
            libc::statfs(path.as_ptr(), &mut st) == 0 && st.f_type as i64 == BINFMTFS_MAGIC
        }
    }

    /// `mount -t binfmt_misc binfmt_misc ROOT`.
    pub fn mount(&self) -> io::Result<()> {
        let target = std::ffi::CString::new(self.root.as_os_str().as_bytes()).map_err(io::Error::other)?;
        // SAFETY: all three strings are NUL-terminated and outlive the call.
        let r = unsafe {
            libc::mount(c"binfmt_misc".as_ptr(), target.as_ptr(), c"binfmt_misc".as_ptr(), 0, std::ptr::null())
        };
        if r == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// The global switch.
    pub fn enabled(&self) -> io::Result<bool> {
        Ok(std::fs::read_to_string(self.root.join("status"))?.trim() == "enabled")
    }

    /// Every entry, most recently registered first: the filesystem adds each
    /// new entry's dentry at the head of its directory (d_alloc), so the
    /// directory lists entries in the order of the kernel's entry list.
    pub fn entries(&self) -> io::Result<Vec<Entry>> {
        let mut entries = Vec::new();
        for dirent in std::fs::read_dir(&self.root)? {
            let name = dirent?.file_name();
            let name = name.to_string_lossy();
            if name == "register" || name == "status" {
                continue;
            }
            // An entry removed since the listing is simply absent.
            if let Some(entry) = self.entry(&name)? {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    pub fn entry(&self, name: &str) -> io::Result<Option<Entry>> {
        match std::fs::read_to_string(self.root.join(name)) {
            Ok(text) => Entry::parse(name, &text).map(Some).map_err(io::Error::other),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Writes a registration line (one write: the kernel parses each write
    /// as a whole line).
    pub fn register(&self, line: &str) -> io::Result<()> {
        write_existing(&self.root.join("register"), line.as_bytes())
    }

    pub fn remove(&self, name: &str) -> io::Result<()> {
        write_existing(&self.root.join(name), b"-1")
    }
}

/// Writes to a file that must already exist (never creates one).
fn write_existing(path: &Path, bytes: &[u8]) -> io::Result<()> {
    use std::io::Write;
    std::fs::OpenOptions::new().write(true).open(path)?.write_all(bytes)
}
