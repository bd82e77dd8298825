//! Guest mappings of shared memory, by the object behind them (a file or
//! memfd's device and inode, or a System V segment), so that the
//! translator can find every alias of a code page.
//!
//! JITs that keep W^X (BEAM, .NET, some V8 builds) map one memfd twice: a
//! writable view they emit code through and an executable view they run.
//! A write through the writable view changes the code of the executable
//! one without touching its pages, so `code_watch` must protect the aliases
//! of a translated page as well, and a change to an alias invalidates the
//! code it aliases (`transit_translator::cache::code_watch::set_alias_query`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

const PAGE: u64 = 4096;

/// What a shared mapping maps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SharedObject {
    /// A file, memfd or POSIX shm object mapped MAP_SHARED.
    File { dev: u64, ino: u64 },
    /// A System V shared memory segment.
    SysV { shmid: u64 },
    /// MAP_SHARED|MAP_ANONYMOUS memory, numbered by Transit.
    Anonymous { id: u64 },
}

impl SharedObject {
    /// The file or memfd open on `fd` (its device and inode), if it is open.
    pub(crate) fn file_of(fd: i32) -> Option<SharedObject> {
        // SAFETY: fstat writes into the zeroed struct passed.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return None;
        }
        Some(SharedObject::File { dev: st.st_dev, ino: st.st_ino })
    }

    pub fn new_anonymous() -> SharedObject {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        SharedObject::Anonymous { id: NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) }
    }
}

#[derive(Clone, Copy, Debug)]
struct Mapping {
    end: u64,
    object: SharedObject,
    /// Offset in the object of the mapping's first byte.
    offset: u64,
}

/// Guest start -> mapping; page-aligned, not overlapping.
static MAPPINGS: Mutex<BTreeMap<u64, Mapping>> = Mutex::new(BTreeMap::new());
/// A file has been mapped shared (writes to files need a look only then).
static MAPS_FILES: AtomicBool = AtomicBool::new(false);

fn page_end(start: u64, len: u64) -> u64 {
    start.saturating_add(len).saturating_add(PAGE - 1) & !(PAGE - 1)
}

/// Holds the table until the guard drops (across a host fork).
pub(crate) fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(MAPPINGS.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The guest no longer maps shared memory at `[start, start + len)`
/// (munmap, or a new mapping over it). Parts of mappings outside the range
/// stay.
pub(crate) fn forget(start: u64, len: u64) {
    let start = start & !(PAGE - 1);
    let end = page_end(start, len);
    let mut map = MAPPINGS.lock().unwrap_or_else(|e| e.into_inner());
    cut(&mut map, start, end);
}

fn cut(map: &mut BTreeMap<u64, Mapping>, start: u64, end: u64) {
    let overlapping: Vec<(u64, Mapping)> = map.range(..end).filter(|(_, m)| m.end > start).map(|(&s, &m)| (s, m)).collect();
    for (s, m) in overlapping {
        map.remove(&s);
        if s < start {
            map.insert(s, Mapping { end: start, ..m });
        }
        if m.end > end {
            map.insert(end, Mapping { end: m.end, object: m.object, offset: m.offset + (end - s) });
        }
    }
}

/// The guest mapped `object` at `offset` to `[start, start + len)`.
pub(crate) fn record(start: u64, len: u64, object: SharedObject, offset: u64) {
    let end = page_end(start, len);
    if matches!(object, SharedObject::File { .. }) {
        MAPS_FILES.store(true, Ordering::Relaxed);
    }
    let mut map = MAPPINGS.lock().unwrap_or_else(|e| e.into_inner());
    cut(&mut map, start, end);
    map.insert(start, Mapping { end, object, offset });
}

/// Whether the guest ever mapped a file shared.
pub(crate) fn maps_files() -> bool {
    MAPS_FILES.load(Ordering::Relaxed)
}

/// The guest ranges mapping bytes `[first, end)` of `object`, page-aligned.
pub(crate) fn ranges_of(object: SharedObject, first: u64, end: u64) -> Vec<(u64, u64)> {
    let map = MAPPINGS.lock().unwrap_or_else(|e| e.into_inner());
    map.iter()
        .filter(|(_, m)| m.object == object)
        .filter_map(|(&s, m)| {
            let (lo, hi) = (first.max(m.offset), end.min(m.offset + (m.end - s)));
            (lo < hi).then(|| (s + (lo - m.offset)) & !(PAGE - 1)).map(|from| (from, page_end(s + (hi - m.offset), 0)))
        })
        .collect()
}

/// What `[start, start + len)` maps, as (guest start, end, object, offset)
/// pieces, for mremap to carry over.
pub(crate) fn pieces(start: u64, len: u64) -> Vec<(u64, u64, SharedObject, u64)> {
    let end = page_end(start, len);
    let map = MAPPINGS.lock().unwrap_or_else(|e| e.into_inner());
    map.range(..end)
        .filter(|(_, m)| m.end > start)
        .map(|(&s, m)| {
            let from = s.max(start);
            (from, m.end.min(end), m.object, m.offset + (from - s))
        })
        .collect()
}

/// The length of the System V attachment starting at `start`.
pub(crate) fn length_at(start: u64) -> Option<u64> {
    let map = MAPPINGS.lock().unwrap_or_else(|e| e.into_inner());
    map.get(&start).filter(|m| matches!(m.object, SharedObject::SysV { .. })).map(|m| m.end - start)
}

/// Every other guest range that maps the same memory as some part of
/// `[start, end)`.
pub fn aliases(start: u64, end: u64) -> Vec<(u64, u64)> {
    let map = MAPPINGS.lock().unwrap_or_else(|e| e.into_inner());
    if map.is_empty() {
        return Vec::new();
    }
    let mut found = Vec::new();
    for (&s, m) in map.range(..end).filter(|(_, m)| m.end > start) {
        let from = s.max(start);
        let to = m.end.min(end);
        let (lo, hi) = (m.offset + (from - s), m.offset + (to - s));
        for (&other, o) in map.iter() {
            if other == s || o.object != m.object {
                continue;
            }
            let (olo, ohi) = (o.offset, o.offset + (o.end - other));
            let (a, b) = (lo.max(olo), hi.min(ohi));
            if a < b {
                found.push((other + (a - olo), other + (b - olo)));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_follow_object_offsets() {
        let memfd = SharedObject::File { dev: 0x2f, ino: 0x7777_0001 };
        let (rx, rw) = (0x7e10_0000_0000u64, 0x7e20_0000_0000u64);
        record(rx, 4 * PAGE, memfd, 0);
        // The writable view starts one page into the object.
        record(rw, 3 * PAGE, memfd, PAGE);
        assert_eq!(aliases(rx + PAGE, rx + 2 * PAGE), [(rw, rw + PAGE)]);
        assert_eq!(aliases(rx, rx + PAGE), []);
        assert_eq!(aliases(rw + 2 * PAGE, rw + 3 * PAGE), [(rx + 3 * PAGE, rx + 4 * PAGE)]);
        // Unmapping the middle of the writable view leaves its two ends.
        forget(rw + PAGE, PAGE);
        assert_eq!(aliases(rx, rx + 4 * PAGE), [(rw, rw + PAGE), (rw + 2 * PAGE, rw + 3 * PAGE)]);
        assert_eq!(pieces(rw + 2 * PAGE, PAGE), [(rw + 2 * PAGE, rw + 3 * PAGE, memfd, 3 * PAGE)]);
        forget(rx, 4 * PAGE);
        forget(rw, 3 * PAGE);
        assert_eq!(aliases(rw, rw + 3 * PAGE), []);
    }

    #[test]
    fn bytes_of_a_file_map_to_the_pages_that_show_them() {
        let file = SharedObject::File { dev: 0x2f, ino: 0x7777_0002 };
        let (a, b) = (0x7e30_0000_0000u64, 0x7e40_0000_0000u64);
        record(a, 4 * PAGE, file, 0);
        record(b, PAGE, file, 2 * PAGE);
        assert!(maps_files());
        // Three bytes straddling the second and third pages of the file.
        assert_eq!(ranges_of(file, 2 * PAGE - 1, 2 * PAGE + 2), [(a + PAGE, a + 3 * PAGE), (b, b + PAGE)]);
        assert_eq!(ranges_of(file, 4 * PAGE, 5 * PAGE), []);
        assert_eq!(ranges_of(SharedObject::File { dev: 0x2f, ino: 1 }, 0, PAGE), []);
        forget(a, 4 * PAGE);
        forget(b, PAGE);
    }
}
