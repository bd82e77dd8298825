//! Self-modifying and JIT-generated guest code: noticing that guest code
//! which has been translated changes, so every thread drops its translations.
//!
//! - A guest page that holds translated code and that the guest may write
//!   (the runtime says which: `set_writable_query`) is write-protected on
//!   the host. A write to it faults; the runtime's signal handler calls
//!   [`on_write_fault`], which gives the write access back and starts a new
//!   *code epoch*.
//! - munmap, mprotect and mremap of a range holding translated code start a
//!   new epoch too ([`mapping_changed`]): a W^X JIT flips protections
//!   around each write.
//! - Every translator compares the epoch at each dispatch and flushes its
//!   cache when it changed (`Translator::run`). The thread that wrote stops
//!   at the end of its current block (the handler interrupts it); other
//!   threads notice at their next dispatch, which x86's rule for
//!   cross-modifying code (the other thread must synchronise first) allows.
//!
//! Invalidation is coarse (everything, not the page): simple and right, and
//! costly only for programs that keep rewriting code next to code they run.

use crate::addr_hash::AddrSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

const PAGE: u64 = 4096;
/// Protected pages the handler can look up without locks or allocation.
const SLOTS: usize = 1 << 14;
const EMPTY: u64 = 0;
const GONE: u64 = 1;

static EPOCH: AtomicU64 = AtomicU64::new(0);
static PROTECTED: [AtomicU64; SLOTS] = [const { AtomicU64::new(EMPTY) }; SLOTS];
/// Pages any thread has translated code from, for mapping changes.
static CODE_PAGES: Mutex<Option<AddrSet>> = Mutex::new(None);
static WRITABLE: OnceLock<fn(u64) -> bool> = OnceLock::new();

/// The current code epoch; it changes whenever translated code may be stale.
pub fn epoch() -> u64 {
    EPOCH.load(Ordering::Acquire)
}

fn new_epoch() {
    EPOCH.fetch_add(1, Ordering::AcqRel);
}

/// Tells the watcher how to ask whether the guest may write a page (its
/// address). Without it nothing is protected (tests, the difftest runner).
pub fn set_writable_query(query: fn(u64) -> bool) {
    let _ = WRITABLE.set(query);
}

/// A translator read code from the page at `page` (page-aligned), for the
/// first time since its last flush.
pub fn watch_page(page: u64) {
    CODE_PAGES.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(AddrSet::default).insert(page);
    let Some(writable) = WRITABLE.get() else { return };
    if writable(page) && insert(page) {
        // SAFETY: the page is mapped (code was just decoded from it);
        // dropping write access is undone by `on_write_fault`.
        let r = unsafe { libc::mprotect(page as *mut _, PAGE as usize, libc::PROT_READ) };
        if r != 0 {
            remove(page);
        }
    }
}

/// A write to `addr` faulted with a permission error: if Transit protected
/// its page, restores write access, starts a new epoch and returns true
/// (the write can be retried). Async-signal-safe.
pub fn on_write_fault(addr: u64) -> bool {
    let page = addr & !(PAGE - 1);
    if !remove(page) {
        return false;
    }
    // SAFETY: a guest page Transit made read-only; the guest had write access.
    unsafe { libc::mprotect(page as *mut _, PAGE as usize, libc::PROT_READ | libc::PROT_WRITE) };
    new_epoch();
    true
}

/// The guest unmapped, remapped or re-protected `[start, start + len)`.
/// Call after the host call: a protection Transit set there is gone.
pub fn mapping_changed(start: u64, len: u64) {
    let first = start & !(PAGE - 1);
    let end = start.saturating_add(len).saturating_add(PAGE - 1) & !(PAGE - 1);
    let mut guard = CODE_PAGES.lock().unwrap_or_else(|e| e.into_inner());
    let Some(pages) = guard.as_mut() else { return };
    let pages_in_range = (end - first) / PAGE;
    let mut touched = false;
    if pages_in_range as usize <= pages.len() {
        for page in (first..end).step_by(PAGE as usize) {
            touched |= pages.remove(&page);
            remove(page);
        }
    } else {
        pages.retain(|&p| {
            let inside = (first..end).contains(&p);
            if inside {
                remove(p);
                touched = true;
            }
            !inside
        });
    }
    if touched {
        new_epoch();
    }
}

/// Gives write access back to every protected page (a syscall wrote into
/// one with the kernel's EFAULT instead of a fault); returns whether any was.
pub fn unprotect_all() -> bool {
    let mut any = false;
    for slot in PROTECTED.iter() {
        let page = slot.load(Ordering::Acquire);
        if page > GONE && on_write_fault(page) {
            any = true;
        }
    }
    any
}

fn slot_of(page: u64) -> usize {
    ((page / PAGE).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 50) as usize % SLOTS
}

/// Adds `page` to the protected set; false when already there or full.
/// (Two threads adding the same page at once may both succeed: a stale
/// entry only costs a needless new epoch later.)
fn insert(page: u64) -> bool {
    let start = slot_of(page);
    let mut free = None;
    for i in 0..SLOTS {
        let at = (start + i) % SLOTS;
        match PROTECTED[at].load(Ordering::Acquire) {
            cur if cur == page => return false,
            GONE => free = free.or(Some(at)),
            EMPTY => {
                let at = free.unwrap_or(at);
                let cur = PROTECTED[at].load(Ordering::Acquire);
                return (cur == EMPTY || cur == GONE)
                    && PROTECTED[at].compare_exchange(cur, page, Ordering::AcqRel, Ordering::Acquire).is_ok();
            }
            _ => {}
        }
    }
    tracing::warn!("too many write-protected code pages: changes to code at {page:#x} go unnoticed");
    false
}

/// Removes `page` from the protected set; true if it was there. Async-signal-safe.
fn remove(page: u64) -> bool {
    let start = slot_of(page);
    for i in 0..SLOTS {
        let slot = &PROTECTED[(start + i) % SLOTS];
        let cur = slot.load(Ordering::Acquire);
        if cur == EMPTY {
            return false;
        }
        if cur == page {
            return slot.compare_exchange(page, GONE, Ordering::AcqRel, Ordering::Acquire).is_ok();
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protected_set_inserts_finds_and_removes() {
        let pages: Vec<u64> = (0..100).map(|i| 0x7000_0000 + i * PAGE * 7).collect();
        for &p in &pages {
            assert!(insert(p));
            assert!(!insert(p));
        }
        for &p in &pages[..50] {
            assert!(remove(p));
            assert!(!remove(p));
        }
        for &p in &pages[50..] {
            assert!(remove(p));
        }
    }
}
