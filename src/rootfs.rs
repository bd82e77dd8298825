//! The guest's view of absolute paths: an x86_64 root filesystem (-L DIR,
//! qemu-user's convention) is searched first, then the host. The rules
//! live in the syscall layer (`transit_syscalls::guest_path_to_host`), which
//! applies them to every path the guest names.

use std::path::{Path, PathBuf};

/// Host path for guest path `guest`, if that file exists.
pub fn resolve(rootfs: Option<&Path>, guest: &str) -> Option<PathBuf> {
    let p = transit_syscalls::guest_path_to_host(rootfs, Path::new(guest));
    p.exists().then_some(p)
}
