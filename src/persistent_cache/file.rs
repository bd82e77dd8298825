//! One cache file: the saved blocks of one image, under a key naming
//! everything they depend on.
//!
//! ```text
//! "TRANSITC" | version u32 | key length u32 | key | blocks (translator's `cache::image` format)
//! ```
//! A file is read only if it is a regular file of the user running
//! Transit that no one else may write, and its key is the one asked for;
//! each record is checksummed (`cache::image`). Files are written under a
//! temporary name and renamed, so concurrent writers never tear one.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"TRANSITC";
const VERSION: u32 = 1;

/// The file name for `key` in `dir`.
pub fn path_for(dir: &Path, key: &str) -> PathBuf {
    // FNV-1a: stable across builds (std's hasher is not).
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    dir.join(format!("{hash:016x}.blocks"))
}

/// The blocks saved under `key` at `path`, mapped read-only for the rest
/// of the process (records are read in place when used). `root_too`: a
/// file of root's is trusted as well (the system-wide cache).
pub fn read(path: &Path, key: &str, root_too: bool) -> Option<&'static [u8]> {
    let file = OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC).open(path).ok()?;
    let meta = file.metadata().ok()?;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    let owner_trusted = meta.uid() == me || (root_too && meta.uid() == 0);
    if !meta.is_file() || !owner_trusted || meta.mode() & 0o022 != 0 {
        return None;
    }
    let len = usize::try_from(meta.len()).ok()?;
    let header = MAGIC.len() + 8 + key.len();
    if len <= header {
        return None;
    }
    // SAFETY: a private read-only mapping of a file we opened; it is never
    // unmapped, so the slice stays valid ('static). A file truncated under
    // us later would fault reads past its end: files are only ever
    // replaced by rename, never truncated.
    let map = unsafe { libc::mmap(std::ptr::null_mut(), len, libc::PROT_READ, libc::MAP_PRIVATE, std::os::fd::AsRawFd::as_raw_fd(&file), 0) };
    if map == libc::MAP_FAILED {
        return None;
    }
    // SAFETY: `len` readable bytes at `map`, kept mapped.
    let bytes: &'static [u8] = unsafe { std::slice::from_raw_parts(map as *const u8, len) };
    let ok = &bytes[..8] == MAGIC
        && bytes[8..12] == VERSION.to_le_bytes()
        && bytes[12..16] == (key.len() as u32).to_le_bytes()
        && &bytes[16..header] == key.as_bytes();
    if !ok {
        // SAFETY: the mapping made above, not handed out.
        unsafe { libc::munmap(map, len) };
        return None;
    }
    Some(&bytes[header..])
}

/// Writes `blocks` under `key` at `path` (atomically replacing any file there).
pub fn write(path: &Path, key: &str, blocks: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("blocks");
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let written = (|| {
        let mut file: File = OpenOptions::new().write(true).create_new(true).mode(0o600).custom_flags(libc::O_CLOEXEC).open(&tmp)?;
        let mut header = Vec::with_capacity(16 + key.len());
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&VERSION.to_le_bytes());
        header.extend_from_slice(&(key.len() as u32).to_le_bytes());
        header.extend_from_slice(key.as_bytes());
        file.write_all(&header)?;
        file.write_all(blocks)?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

use std::os::unix::fs::DirBuilderExt;

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("transit-cache-file-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_file_reads_back_only_under_its_own_key() {
        let dir = scratch("key");
        let path = path_for(&dir, "key one");
        write(&path, "key one", b"BLOCKS").unwrap();
        assert_eq!(read(&path, "key one", false), Some(&b"BLOCKS"[..]));
        assert_eq!(read(&path, "key two", false), None);
        assert_eq!(read(&path, "key on", false), None);
        assert_ne!(path_for(&dir, "key one"), path_for(&dir, "key two"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn damaged_or_foreign_files_are_not_read() {
        let dir = scratch("damaged");
        let path = path_for(&dir, "k");
        write(&path, "k", b"BLOCKS").unwrap();
        let good = std::fs::read(&path).unwrap();
        for cut in [0, 7, 12, 17] {
            std::fs::write(&path, &good[..cut]).unwrap();
            assert_eq!(read(&path, "k", false), None, "truncated to {cut}");
        }
        let mut bad = good.clone();
        bad[9] ^= 1; // another version
        std::fs::write(&path, &bad).unwrap();
        assert_eq!(read(&path, "k", false), None);
        // Writable by others: not trusted.
        std::fs::write(&path, &good).unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o666)).unwrap();
        assert_eq!(read(&path, "k", false), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn concurrent_writers_leave_one_whole_file() {
        let dir = scratch("race");
        let path = path_for(&dir, "k");
        let writers: Vec<_> = (0..8u8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        write(&path, "k", &vec![i; 100_000]).unwrap();
                    }
                })
            })
            .collect();
        for w in writers {
            w.join().unwrap();
        }
        let blocks = read(&path, "k", false).unwrap();
        assert_eq!(blocks.len(), 100_000);
        assert!(blocks.iter().all(|&b| b == blocks[0]), "one writer's bytes only");
        let leftovers = std::fs::read_dir(&dir).unwrap().count();
        assert_eq!(leftovers, 1, "no temporary files left");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
