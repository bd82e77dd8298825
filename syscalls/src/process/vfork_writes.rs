//! A vfork child's writes to guest memory, carried back to its parent.
//!
//! vfork, and clone with CLONE_VM|CLONE_VFORK (glibc's posix_spawn, Go's
//! exec), share memory: the parent, suspended until its child execs or
//! exits, then sees what the child wrote. glibc's posix_spawn child stores
//! its exec error there; without it the parent reports success for a
//! program that does not exist, and the child's exit status 127 is all
//! that is left. Transit's child is a host fork with memory of its own
//! (`fork.rs`), so:
//! - at its start the child write-protects the guest's private writable
//!   memory ([`track`]);
//! - a write fault saves the page as it was and gives write access back
//!   ([`on_write_fault`]; [`lift_range`] and [`lift_all`] for writes by
//!   Transit and by the kernel, which see EFAULT instead);
//! - at exec and at exit the child sends the bytes that differ from the
//!   saved pages down the pipe its parent waits on ([`send_to_parent`]);
//! - the parent writes them into its own memory before the vfork returns
//!   ([`apply`]).
//!
//! Not carried back: writes to ranges the child maps, unmaps or
//! re-protects itself ([`before_mapping_change`]: what it wrote to a range
//! before re-protecting it still is), and writes past [`SAVED_BYTES`] of
//! saved pages (logged), nor anything when the child dies of a signal.
//! Only the child's bytes that changed are written,
//! so the parent's other threads keep what they wrote meanwhile to the
//! rest of a page.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};

use crate::fs::proc::maps::Mapping;
use crate::guest_mem;
use crate::guest_regions;
use crate::guest_space::host_page;
use crate::host;

/// Private writable guest mappings at the fork, merged where they touch
/// with the same protection. More (a process with thousands of thread
/// stacks) and the child is not tracked (logged).
const MAX_RANGES: usize = 4096;
/// Room for the saved pages, reserved at the child's start and filled
/// lazily.
const SAVED_BYTES: u64 = 32 << 20;

/// Whether this process is a vfork child whose writes are tracked.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static PAGE: AtomicU64 = AtomicU64::new(4096);
/// Tracked ranges: start, end, and the protection to give back.
static RANGES: [[AtomicU64; 3]; MAX_RANGES] = [const { [const { AtomicU64::new(0) }; 3] }; MAX_RANGES];
static RANGE_COUNT: AtomicUsize = AtomicUsize::new(0);
/// Saved page `i`'s guest address, its copy at `SAVED_AREA + i * PAGE`.
static SAVED_PAGES: [AtomicU64; 8192] = [const { AtomicU64::new(0) }; 8192];
static SAVED_COUNT: AtomicUsize = AtomicUsize::new(0);
static SAVED_AREA: AtomicU64 = AtomicU64::new(0);
/// Ranges the child mapped, unmapped or re-protected since: no longer
/// tracked (their faults are the guest's own). More, and tracking stops.
static UNTRACKED: [[AtomicU64; 2]; 64] = [const { [const { AtomicU64::new(0) }; 2] }; 64];
static UNTRACKED_COUNT: AtomicUsize = AtomicUsize::new(0);
/// The write end of the parent's pipe (`fork::VforkDone`), and its device
/// and inode: the guest may close the number and reuse it for a file.
static REPORT_FD: AtomicI32 = AtomicI32::new(-1);
static REPORT_ID: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// In a vfork child just forked: write-protects the guest's private
/// writable memory and remembers where to report to.
pub(crate) fn track(report_fd: i32) {
    // A vfork in a vfork child: the memory the middle child protected is
    // writable again before it is read as the guest left it.
    give_up();
    let page = host_page();
    let ranges = private_writable_guest_ranges(page);
    if ranges.len() > MAX_RANGES {
        tracing::warn!(ranges = ranges.len(), "vfork child: too many writable mappings; its writes will not reach the parent");
        return;
    }
    let capacity = (SAVED_BYTES / page).min(SAVED_PAGES.len() as u64);
    let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE) as u64;
    let prot = (libc::PROT_READ | libc::PROT_WRITE) as u64;
    let Ok(area) = host::syscall(libc::SYS_mmap, &[0, capacity * page, prot, flags, u64::MAX, 0]) else {
        tracing::warn!("vfork child: no room to save pages; its writes will not reach the parent");
        return;
    };
    PAGE.store(page, Ordering::Relaxed);
    SAVED_AREA.store(area, Ordering::Relaxed);
    SAVED_COUNT.store(0, Ordering::Relaxed);
    UNTRACKED_COUNT.store(0, Ordering::Relaxed);
    REPORT_FD.store(report_fd, Ordering::Relaxed);
    for (slot, value) in REPORT_ID.iter().zip(file_id(report_fd).unwrap_or_default()) {
        slot.store(value, Ordering::Relaxed);
    }
    for (i, &(start, end, prot)) in ranges.iter().enumerate() {
        for (slot, value) in RANGES[i].iter().zip([start, end, prot]) {
            slot.store(value, Ordering::Relaxed);
        }
    }
    RANGE_COUNT.store(ranges.len(), Ordering::Relaxed);
    ACTIVE.store(true, Ordering::SeqCst);
    for &(start, end, prot) in &ranges {
        let _ = host::syscall(libc::SYS_mprotect, &[start, end - start, prot & !(libc::PROT_WRITE as u64)]);
    }
}

/// The host's private writable mappings that are the guest's, in whole
/// host pages, with their protections.
fn private_writable_guest_ranges(page: u64) -> Vec<(u64, u64, u64)> {
    let maps = crate::host::own_maps().unwrap_or_default();
    let regions = guest_regions::lock();
    let mut ranges: Vec<(u64, u64, u64)> = Vec::new();
    for Mapping { start, end, perms, .. } in maps.lines().filter_map(Mapping::parse) {
        let perms = perms.as_bytes();
        if perms.len() < 4 || perms[1] != b'w' || perms[3] != b'p' {
            continue;
        }
        let mut prot = libc::PROT_WRITE as u64;
        if perms[0] == b'r' {
            prot |= libc::PROT_READ as u64;
        }
        if perms[2] == b'x' {
            prot |= libc::PROT_EXEC as u64;
        }
        for (s, e) in regions.pieces(start, end - start) {
            let (s, e) = (s.max(start) & !(page - 1), e.min(end));
            match ranges.last_mut() {
                Some(last) if last.1 == s && last.2 == prot => last.1 = e,
                _ => ranges.push((s, e, prot)),
            }
        }
    }
    ranges
}

/// The tracked range holding `addr`: its protection.
fn tracked_prot(addr: u64) -> Option<u64> {
    let untracked = UNTRACKED[..UNTRACKED_COUNT.load(Ordering::Relaxed)]
        .iter()
        .any(|r| (r[0].load(Ordering::Relaxed)..r[1].load(Ordering::Relaxed)).contains(&addr));
    if untracked {
        return None;
    }
    RANGES[..RANGE_COUNT.load(Ordering::Relaxed)]
        .iter()
        .find(|r| (r[0].load(Ordering::Relaxed)..r[1].load(Ordering::Relaxed)).contains(&addr))
        .map(|r| r[2].load(Ordering::Relaxed))
}

fn is_saved(page: u64) -> bool {
    SAVED_PAGES[..SAVED_COUNT.load(Ordering::Relaxed)].iter().any(|p| p.load(Ordering::Relaxed) == page)
}

/// Saves the tracked page at `page` if it is not yet, and gives it its
/// write access back; false when it is not a tracked, unsaved page.
/// Async-signal-safe: only atomics, a copy and mprotect.
fn lift(page: u64) -> bool {
    let Some(prot) = tracked_prot(page) else { return false };
    if is_saved(page) {
        return false;
    }
    let size = PAGE.load(Ordering::Relaxed);
    let index = SAVED_COUNT.load(Ordering::Relaxed);
    if (index as u64 + 1) * size > SAVED_BYTES || index == SAVED_PAGES.len() {
        give_up();
        return true;
    }
    let copy = SAVED_AREA.load(Ordering::Relaxed) + index as u64 * size;
    // SAFETY: the page is mapped readable (tracked, only write-protected);
    // the copy's slot lies inside the area `track` reserved.
    unsafe { std::ptr::copy_nonoverlapping(page as *const u8, copy as *mut u8, size as usize) };
    SAVED_PAGES[index].store(page, Ordering::Relaxed);
    SAVED_COUNT.store(index + 1, Ordering::Release);
    let _ = host::syscall(libc::SYS_mprotect, &[page, size, prot]);
    true
}

/// In the child of a fork (not a vfork) made by a tracked child: its memory
/// is its own, writable as the guest left it, and reported to nobody.
pub(crate) fn forget_in_child() {
    give_up();
    // Else the vfork parent would wait for this process as well.
    if let Some(fd) = report_fd() {
        let _ = host::syscall(libc::SYS_close, &[fd as u64]);
    }
    REPORT_FD.store(-1, Ordering::Relaxed);
    SAVED_COUNT.store(0, Ordering::Relaxed);
}

/// A descriptor's device and inode.
fn file_id(fd: i32) -> Option<[u64; 2]> {
    // SAFETY: fstat fills the zeroed struct we pass.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    host::syscall(libc::SYS_fstat, &[fd as u64, &mut st as *mut libc::stat as u64]).ok()?;
    Some([st.st_dev as u64, st.st_ino as u64])
}

/// The report pipe's descriptor, if it still is the pipe.
fn report_fd() -> Option<i32> {
    let fd = REPORT_FD.load(Ordering::Relaxed);
    let id = [REPORT_ID[0].load(Ordering::Relaxed), REPORT_ID[1].load(Ordering::Relaxed)];
    (fd >= 0 && file_id(fd) == Some(id)).then_some(fd)
}

/// Out of room: every tracked range gets its write access back, and what
/// the child writes from now on stays its own.
fn give_up() {
    if ACTIVE.swap(false, Ordering::SeqCst) {
        for r in &RANGES[..RANGE_COUNT.load(Ordering::Relaxed)] {
            let (start, end, prot) = (r[0].load(Ordering::Relaxed), r[1].load(Ordering::Relaxed), r[2].load(Ordering::Relaxed));
            let _ = host::syscall(libc::SYS_mprotect, &[start, end - start, prot]);
        }
    }
}

/// A write fault at `addr`: true when it was a tracked page, now saved
/// and writable (retry the write). For the host signal handler.
pub fn on_write_fault(addr: u64) -> bool {
    if !ACTIVE.load(Ordering::Relaxed) {
        return false;
    }
    // The interrupted code may be about to read errno; mprotect may set it.
    // SAFETY: the calling thread's errno.
    let errno = unsafe { *libc::__errno_location() };
    let lifted = lift(addr & !(PAGE.load(Ordering::Relaxed) - 1));
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = errno };
    lifted
}

/// Before Transit writes `[start, start + len)` for the guest through the
/// kernel (which fails with EFAULT on a protected page): saves and lifts
/// the tracked pages there; true if there were any.
pub fn lift_range(start: u64, len: u64) -> bool {
    if !ACTIVE.load(Ordering::Relaxed) || len == 0 {
        return false;
    }
    let size = PAGE.load(Ordering::Relaxed);
    let mut page = start & !(size - 1);
    let mut any = false;
    while page < start.saturating_add(len) && ACTIVE.load(Ordering::Relaxed) {
        any |= lift(page);
        page += size;
    }
    any
}

/// A syscall failed with EFAULT where the kernel may have met a tracked
/// page: saves and lifts them all (or gives up when they do not fit);
/// true if there were any.
pub fn lift_all() -> bool {
    let mut any = false;
    for i in 0..RANGE_COUNT.load(Ordering::Relaxed) {
        if !ACTIVE.load(Ordering::Relaxed) {
            break;
        }
        let (start, end) = (RANGES[i][0].load(Ordering::Relaxed), RANGES[i][1].load(Ordering::Relaxed));
        any |= lift_range(start, end - start);
    }
    any
}

/// Before the guest maps, unmaps or re-protects `[start, start + len)`
/// (`replaces`: what is there goes away): its saved pages are saved now
/// (re-protecting), or forgotten (what replaces them is not the parent's),
/// and the range is no longer tracked.
pub(crate) fn before_mapping_change(start: u64, len: u64, replaces: bool) {
    if !ACTIVE.load(Ordering::Relaxed) || len == 0 {
        return;
    }
    // Whole host pages, as the kernel changes them.
    let size = PAGE.load(Ordering::Relaxed);
    let (start, end) = (start & !(size - 1), start.saturating_add(len).saturating_add(size - 1) & !(size - 1));
    if replaces {
        for page in &SAVED_PAGES[..SAVED_COUNT.load(Ordering::Relaxed)] {
            if (start..end).contains(&page.load(Ordering::Relaxed)) {
                page.store(FORGOTTEN, Ordering::Relaxed);
            }
        }
    } else {
        lift_range(start, end - start);
    }
    let index = UNTRACKED_COUNT.load(Ordering::Relaxed);
    if index == UNTRACKED.len() {
        give_up();
        return;
    }
    UNTRACKED[index][0].store(start, Ordering::Relaxed);
    UNTRACKED[index][1].store(end, Ordering::Relaxed);
    UNTRACKED_COUNT.store(index + 1, Ordering::Relaxed);
}

/// A saved page's address once its range was mapped over.
const FORGOTTEN: u64 = u64::MAX;

/// At the child's exec or exit: sends the parent every run of bytes that
/// differs from the saved pages, as records of address (8 bytes), length
/// (4) and the bytes, little-endian, between a [`BATCH`] record and an
/// [`END`] one. Sent again, whole, at a later exit if the exec failed: the
/// parent applies the last complete batch only.
pub(crate) fn send_to_parent() {
    let count = SAVED_COUNT.load(Ordering::Acquire);
    if count == 0 || REPORT_FD.load(Ordering::Relaxed) < 0 {
        return;
    }
    let Some(fd) = report_fd() else {
        // The guest closed it (close_range in the child).
        tracing::warn!("vfork child: its parent's pipe is gone; its writes do not reach the parent");
        return;
    };
    if !ACTIVE.load(Ordering::Relaxed) {
        tracing::warn!("vfork child: wrote more than {} MiB; later writes do not reach the parent", SAVED_BYTES >> 20);
    }
    let size = PAGE.load(Ordering::Relaxed) as usize;
    let area = SAVED_AREA.load(Ordering::Relaxed);
    let (mut records, mut now) = (marker(BATCH), vec![0u8; size]);
    for (i, page) in SAVED_PAGES[..count].iter().enumerate() {
        let page = page.load(Ordering::Relaxed);
        // Read as any guest memory: the guest may have made it unreadable.
        if page == FORGOTTEN || guest_mem::read_bytes(page, &mut now).is_err() {
            continue;
        }
        // SAFETY: the copy's slot in the area `track` reserved, written by `lift`.
        let before = unsafe { std::slice::from_raw_parts((area + (i * size) as u64) as *const u8, size) };
        for (offset, len) in changed_runs(before, &now) {
            records.extend_from_slice(&(page + offset as u64).to_le_bytes());
            records.extend_from_slice(&(len as u32).to_le_bytes());
            records.extend_from_slice(&now[offset..offset + len]);
        }
    }
    records.extend(marker(END));
    // A parent that died must not take the child with it (SIGPIPE).
    let pipe = 1u64 << (libc::SIGPIPE - 1);
    let mut old = 0u64;
    let _ = host::syscall(libc::SYS_rt_sigprocmask, &[libc::SIG_BLOCK as u64, &pipe as *const u64 as u64, &mut old as *mut u64 as u64, 8]);
    let mut sent = 0;
    while sent < records.len() {
        match host::syscall(libc::SYS_write, &[fd as u64, records[sent..].as_ptr() as u64, (records.len() - sent) as u64]) {
            Ok(n) => sent += n as usize,
            Err(e) if e.0 == libc::EINTR => {}
            Err(e) => {
                tracing::warn!("vfork child: cannot send its writes to the parent: {e:?}");
                break;
            }
        }
    }
    let none = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    let _ = host::syscall(libc::SYS_rt_sigtimedwait, &[&pipe as *const u64 as u64, 0, &none as *const libc::timespec as u64, 8]);
    let _ = host::syscall(libc::SYS_rt_sigprocmask, &[libc::SIG_SETMASK as u64, &old as *const u64 as u64, 0, 8]);
}

/// Record addresses no guest page has: a batch's start and end.
const BATCH: u64 = u64::MAX;
const END: u64 = u64::MAX - 1;

fn marker(kind: u64) -> Vec<u8> {
    [kind.to_le_bytes().as_slice(), &0u32.to_le_bytes()].concat()
}

/// The runs `(offset, len)` where `now` differs from `before`; runs less
/// than a record header apart are joined.
fn changed_runs(before: &[u8], now: &[u8]) -> Vec<(usize, usize)> {
    const JOIN: usize = 12;
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for i in (0..now.len()).filter(|&i| before[i] != now[i]) {
        match runs.last_mut() {
            Some((start, len)) if i - (*start + *len) < JOIN => *len = i + 1 - *start,
            _ => runs.push((i, 1)),
        }
    }
    runs
}

/// The records of the last complete batch in what the child sent.
fn last_batch(mut sent: &[u8]) -> Vec<(u64, &[u8])> {
    let (mut last, mut current) = (Vec::new(), None::<Vec<(u64, &[u8])>>);
    while sent.len() >= 12 {
        let addr = u64::from_le_bytes(sent[..8].try_into().unwrap_or_default());
        let len = u32::from_le_bytes(sent[8..12].try_into().unwrap_or_default()) as usize;
        let Some(bytes) = sent.get(12..12 + len) else { break };
        match addr {
            BATCH => current = Some(Vec::new()),
            END => last = current.take().unwrap_or_default(),
            _ => current.get_or_insert_with(Vec::new).push((addr, bytes)),
        }
        sent = &sent[12 + len..];
    }
    last
}

/// In the parent, once the child has exec'd or exited: writes the last
/// complete batch [`send_to_parent`] sent into guest memory.
pub(crate) fn apply(sent: &[u8]) {
    for (addr, bytes) in last_batch(sent) {
        let len = bytes.len();
        let mut written = guest_mem::write_bytes(addr, bytes);
        if written.is_err() && transit_translator::cache::code_watch::unprotect_all() {
            // Translated code on the page: writable again, its translations dropped.
            written = guest_mem::write_bytes(addr, bytes);
        }
        if let Err(e) = written {
            tracing::warn!("vfork: the child's write of {len} bytes at {addr:#x} is lost: {e:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::changed_runs;

    #[test]
    fn only_the_last_complete_batch_counts() {
        use super::{last_batch, marker, BATCH, END};
        let record = |addr: u64, bytes: &[u8]| [addr.to_le_bytes().as_slice(), &(bytes.len() as u32).to_le_bytes(), bytes].concat();
        // At exec: byte 1 at 0x1000; at exit (the exec failed): 0x1000 set
        // back (no record), 0x2000 written; then a batch cut short.
        let sent = [marker(BATCH), record(0x1000, &[1]), marker(END), marker(BATCH), record(0x2000, &[2, 3]), marker(END), marker(BATCH), record(0x3000, &[4])].concat();
        assert_eq!(last_batch(&sent), vec![(0x2000, &[2u8, 3][..])]);
        assert!(last_batch(&sent[..sent.len() - 20]).len() == 1);
        assert!(last_batch(&[]).is_empty());
    }

    #[test]
    fn close_changes_travel_as_one_run() {
        let before = [0u8; 64];
        let mut now = before;
        now[3] = 1;
        now[10] = 1;
        now[40] = 7;
        now[41] = 7;
        assert_eq!(changed_runs(&before, &now), [(3, 8), (40, 2)]);
        assert!(changed_runs(&before, &before).is_empty());
    }
}
