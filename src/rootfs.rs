//! The guest's view of absolute paths: an x86_64 root filesystem (-L DIR,
//! qemu-user's convention) is searched first, then the host.

use std::path::{Path, PathBuf};

/// Host path for guest path `guest`.
pub fn resolve(rootfs: Option<&Path>, guest: &str) -> Option<PathBuf> {
    if let (Some(root), true) = (rootfs, guest.starts_with('/')) {
        let p = root.join(guest.trim_start_matches('/'));
        if p.exists() {
            return Some(p);
        }
    }
    let p = PathBuf::from(guest);
    p.exists().then_some(p)
}
