//! Self-modifying and JIT-generated guest code: noticing that guest code
//! which has been translated changes, so translators drop the stale
//! translations of exactly the pages that changed.
//!
//! - A guest page that holds translated code and that the guest may write
//!   (the runtime says which: `set_writable_query`) is write-protected on
//!   the host. A write to it faults; the runtime's signal handler calls
//!   [`on_write_fault`], which gives the write access back and logs the
//!   page as changed.
//! - munmap, mprotect and mremap of a range holding translated code log
//!   the range ([`mapping_changed`]): a W^X JIT flips protections around
//!   each write.
//! - The log is a ring of page ranges every translator reads from its own
//!   position at each dispatch ([`changes_since`]), dropping its blocks on
//!   those pages. A translator that fell a whole ring behind drops
//!   everything. The thread that wrote stops at the end of its current
//!   block (the handler interrupts it); other threads notice at their next
//!   dispatch, which x86's rule for cross-modifying code (the other thread
//!   must synchronise first) allows.

use crate::cache::addr_hash::AddrSet;
use crate::cache::protected_pages::{self as protected, PageState, PAGE};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// Pages any thread has translated code from, for mapping changes.
static CODE_PAGES: Mutex<Option<AddrSet>> = Mutex::new(None);
static WRITABLE: OnceLock<fn(u64) -> bool> = OnceLock::new();
/// Whether the guest may write a page without changing its mapping first
/// (`set_writable_now_query`).
static WRITABLE_NOW: OnceLock<fn(u64) -> bool> = OnceLock::new();
/// Other guest ranges mapping the same memory as a range (`set_alias_query`).
static ALIASES: OnceLock<AliasQuery> = OnceLock::new();

/// Given a guest range, the other guest ranges mapping the same memory.
pub type AliasQuery = fn(u64, u64) -> Vec<(u64, u64)>;

/// The change log: entry `i` lives in slot `i % LOG_SLOTS`.
const LOG_SLOTS: usize = 512;
/// How many entries were ever appended.
static LOG_HEAD: AtomicU64 = AtomicU64::new(0);
static LOG: [LogSlot; LOG_SLOTS] = [const { LogSlot::empty() }; LOG_SLOTS];

/// One changed range of guest pages, `[first, end)` (addresses), written
/// like a seqlock: `entry` is 0 while the slot is being written, then the
/// entry's index + 1.
struct LogSlot {
    entry: AtomicU64,
    first: AtomicU64,
    end: AtomicU64,
}

impl LogSlot {
    const fn empty() -> LogSlot {
        LogSlot { entry: AtomicU64::new(0), first: AtomicU64::new(0), end: AtomicU64::new(0) }
    }
}

/// The log position a new translator starts from: nothing before it
/// concerns its (empty) cache.
pub fn log_position() -> u64 {
    LOG_HEAD.load(Ordering::Acquire)
}

/// Whether a change was logged since `position`. A guest write this
/// thread has seen (in code it decoded, or in data it loaded) that came
/// after a logged change makes that change visible here: the writer's
/// handler fences after logging (`on_write_fault`), and this fences before
/// looking.
#[inline]
pub fn changed_since(position: u64) -> bool {
    std::sync::atomic::fence(Ordering::Acquire);
    LOG_HEAD.load(Ordering::Acquire) != position
}

/// Appends the changed range `[first, end)`. Async-signal-safe, lock-free.
fn log_change(first: u64, end: u64) {
    let index = LOG_HEAD.fetch_add(1, Ordering::AcqRel);
    let slot = &LOG[index as usize % LOG_SLOTS];
    slot.entry.store(0, Ordering::Release);
    std::sync::atomic::fence(Ordering::Release);
    slot.first.store(first, Ordering::Relaxed);
    slot.end.store(end, Ordering::Relaxed);
    slot.entry.store(index + 1, Ordering::Release);
}

/// Calls `invalidate(first, end)` for every range logged since `*position`,
/// and for the aliases of each, and advances it. Returns false (and calls nothing) when the ring has
/// overwritten entries the caller has not read: it must drop everything.
#[inline]
pub fn changes_since(position: &mut u64, invalidate: impl FnMut(u64, u64)) -> bool {
    // Every dispatch asks; almost always nothing changed.
    if !changed_since(*position) {
        return true;
    }
    apply_changes(position, invalidate)
}

#[cold]
fn apply_changes(position: &mut u64, mut invalidate: impl FnMut(u64, u64)) -> bool {
    let head = LOG_HEAD.load(Ordering::Acquire);
    if head - *position > LOG_SLOTS as u64 {
        *position = head;
        return false;
    }
    for index in *position..head {
        let slot = &LOG[index as usize % LOG_SLOTS];
        loop {
            let entry = slot.entry.load(Ordering::Acquire);
            if entry == 0 || entry < index + 1 {
                // Its writer (another thread's signal handler) is between
                // taking the index and publishing the entry.
                std::hint::spin_loop();
                continue;
            }
            let (first, end) = (slot.first.load(Ordering::Relaxed), slot.end.load(Ordering::Relaxed));
            std::sync::atomic::fence(Ordering::Acquire);
            if entry > index + 1 || slot.entry.load(Ordering::Relaxed) != entry {
                // Overwritten by a later lap while we read.
                *position = head;
                return false;
            }
            invalidate(first, end);
            for (a, b) in aliases(first, end) {
                invalidate(a, b);
            }
            break;
        }
    }
    *position = head;
    true
}

/// Tells the watcher how to ask whether the guest may write a page (its
/// address). Without it nothing is protected (tests, the difftest runner).
pub fn set_writable_query(query: fn(u64) -> bool) {
    let _ = WRITABLE.set(query);
}

/// Tells the watcher how to ask whether the guest may write a page without
/// an mmap, mprotect or mremap first: those `set_writable_query` names, and
/// those Transit mapped writable for it (whose code is taken to be fixed).
/// Without it no page is fixed (`fixed_unless_remapped`).
pub fn set_writable_now_query(query: fn(u64) -> bool) {
    let _ = WRITABLE_NOW.set(query);
}

/// For tests, which share the process's one query: the guest page the
/// guest may write now (0: none; every other page is fixed).
#[cfg(test)]
pub static TEST_WRITABLE_PAGE: AtomicU64 = AtomicU64::new(0);

/// The writable query of tests (`TEST_WRITABLE_PAGE`).
#[cfg(test)]
pub fn test_writable_now(page: u64) -> bool {
    page == TEST_WRITABLE_PAGE.load(Ordering::SeqCst)
}

/// Tells the watcher how to find the other guest ranges that map the same
/// memory as a range (a memfd mapped twice by a JIT). Without it a page
/// has no aliases.
pub fn set_alias_query(query: AliasQuery) {
    let _ = ALIASES.set(query);
}

/// Whether the guest page at `page` (page-aligned) can change only
/// through an mmap, mprotect, munmap or mremap, which log it if watched:
/// the guest may not write it and no other range maps the same memory.
/// False without the runtime's queries.
pub fn fixed_unless_remapped(page: u64) -> bool {
    WRITABLE_NOW.get().is_some_and(|writable| !writable(page)) && aliases(page, page + PAGE).is_empty()
}

pub(crate) fn aliases(first: u64, end: u64) -> Vec<(u64, u64)> {
    ALIASES.get().map(|query| query(first, end)).unwrap_or_default()
}

/// Holds the list of watched pages until the guard drops: a host fork
/// must not copy it half-updated or locked by a thread the child lacks.
pub fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(CODE_PAGES.lock().unwrap_or_else(|e| e.into_inner()))
}

/// A translator read code from the page at `page` (page-aligned), for the
/// first time since its last flush: it and every alias of it the guest may
/// write get write-protected.
pub fn watch_page(page: u64) {
    let alias_pages: Vec<u64> =
        aliases(page, page + PAGE).into_iter().flat_map(|(a, b)| (a..b).step_by(PAGE as usize)).collect();
    {
        let mut guard = CODE_PAGES.lock().unwrap_or_else(|e| e.into_inner());
        let pages = guard.get_or_insert_with(AddrSet::default);
        pages.insert(page);
        // Listed so that unmapping an alias forgets its protection too.
        pages.extend(alias_pages.iter().copied());
    }
    let Some(writable) = WRITABLE.get() else { return };
    for page in std::iter::once(page).chain(alias_pages) {
        if writable(page) {
            protect(page);
        }
    }
}

fn protect(page: u64) {
    let from = protected::state(page);
    if from != Some(PageState::Protected) {
        // Losing the race to a handler or to another translator leaves the
        // page in the table all the same.
        let _ = protected::transition(page, from, PageState::Protected);
    }
    if protected::state(page).is_none() {
        // Not in the table (it is full): a write fault would not be ours.
        return;
    }
    // Even when the table says Protected: a write fault's handler that
    // marked the page Unprotected before an earlier protection and gave
    // write access back after it leaves a writable page marked Protected,
    // whose translations would never see a write again.
    // SAFETY: the page is mapped (code is about to be decoded from it);
    // dropping write access is undone by `on_write_fault`.
    let r = unsafe { libc::mprotect(page as *mut _, PAGE as usize, libc::PROT_READ) };
    if r != 0 {
        protected::remove(page);
    }
}

/// Whether a write fault at `addr` may be one of Transit's: its page is
/// one `watch_page` protected (or was, until a write lifted it).
/// Async-signal-safe.
pub fn watches(addr: u64) -> bool {
    protected::state(addr & !(PAGE - 1)).is_some()
}

/// A write to `addr` faulted with a permission error: if Transit protected
/// its page, restores write access, logs the page as changed and returns
/// true (the write can be retried). Async-signal-safe.
pub fn on_write_fault(addr: u64) -> bool {
    let page = addr & !(PAGE - 1);
    match protected::state(page) {
        None => return false,
        Some(PageState::Protected) => {
            // Losing this race to another thread's handler is fine: the
            // page is treated as just unprotected below either way.
            protected::transition(page, Some(PageState::Protected), PageState::Unprotected);
        }
        // Another thread lifted the protection while this write faulted on
        // it, or a translator is protecting the page again right now.
        Some(PageState::Unprotected) => {}
    }
    // SAFETY: a guest page Transit made read-only; the guest had write access.
    unsafe { libc::mprotect(page as *mut _, PAGE as usize, libc::PROT_READ | libc::PROT_WRITE) };
    log_change(page, page + PAGE);
    // The retried write and every later one of this thread come after the
    // entry for whoever sees them (`changed_since`).
    std::sync::atomic::fence(Ordering::SeqCst);
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
            protected::remove(page);
        }
    } else {
        pages.retain(|&p| {
            let inside = (first..end).contains(&p);
            if inside {
                protected::remove(p);
                touched = true;
            }
            !inside
        });
    }
    if touched {
        log_change(first, end);
    }
}

/// Guest code in `[start, start + len)` may have changed without a fault
/// (an alias of it is being unmapped, and changes made through the alias
/// could no longer be traced back to it).
pub fn code_changed(start: u64, len: u64) {
    let first = start & !(PAGE - 1);
    log_change(first, start.saturating_add(len).saturating_add(PAGE - 1) & !(PAGE - 1));
}

/// Gives write access back to every protected page (a syscall wrote into
/// one with the kernel's EFAULT instead of a fault); returns whether any was.
pub fn unprotect_all() -> bool {
    let mut any = false;
    for page in protected::protected() {
        any |= on_write_fault(page);
    }
    any
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translators_read_the_change_log_from_their_own_position() {
        let mut reader = log_position();
        let mut late = log_position();
        log_change(0x1000, 0x2000);
        log_change(0x5000, 0x7000);
        let mut seen = Vec::new();
        assert!(changes_since(&mut reader, |f, e| seen.push((f, e))));
        assert_eq!(seen, [(0x1000, 0x2000), (0x5000, 0x7000)]);
        assert!(changes_since(&mut reader, |_, _| panic!("nothing new")));
        for i in 0..LOG_SLOTS as u64 {
            log_change(i * PAGE, (i + 1) * PAGE);
        }
        // A whole ring behind: its entries are gone, so it must drop everything.
        assert!(!changes_since(&mut late, |_, _| panic!("overwritten entries are not reported")));
        assert_eq!(late, log_position());
    }
}
