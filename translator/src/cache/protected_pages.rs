//! The guest pages Transit write-protected because they hold translated
//! code, in a fixed open-addressed table a signal handler can read and
//! update without locks or allocation.
//!
//! A page keeps its slot after a write fault gives write access back
//! (state `Unprotected`) until the guest's own mapping changes: a second
//! thread whose write faulted on the old protection, while the first
//! thread's handler was lifting it, must still find the page and retry its
//! write rather than receive a SIGSEGV meant for nobody.

use std::sync::atomic::{AtomicU64, Ordering};

pub const PAGE: u64 = 4096;
const SLOTS: usize = 1 << 14;
/// Slot values: a page address with its state in the low bits, or these.
const EMPTY: u64 = 0;
const GONE: u64 = 2;
const UNPROTECTED: u64 = 1;

static TABLE: [AtomicU64; SLOTS] = [const { AtomicU64::new(EMPTY) }; SLOTS];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageState {
    /// Transit made the page read-only.
    Protected,
    /// Transit had protected it and gave write access back.
    Unprotected,
}

fn encode(page: u64, state: PageState) -> u64 {
    match state {
        PageState::Protected => page,
        PageState::Unprotected => page | UNPROTECTED,
    }
}

/// Whether slot value `cur` is `page`, in either state (EMPTY and GONE are
/// no page address: those are multiples of PAGE and never 0).
fn holds(cur: u64, page: u64) -> bool {
    cur & !UNPROTECTED == page
}

fn slot_of(page: u64) -> usize {
    ((page / PAGE).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 50) as usize % SLOTS
}

/// The slot holding `page`, if any. Async-signal-safe.
fn find(page: u64) -> Option<&'static AtomicU64> {
    let start = slot_of(page);
    for i in 0..SLOTS {
        let slot = &TABLE[(start + i) % SLOTS];
        match slot.load(Ordering::Acquire) {
            EMPTY => return None,
            cur if holds(cur, page) => return Some(slot),
            _ => {}
        }
    }
    None
}

pub fn state(page: u64) -> Option<PageState> {
    // The slot may have changed since `find` saw it.
    let cur = find(page)?.load(Ordering::Acquire);
    holds(cur, page).then_some(if cur & UNPROTECTED != 0 { PageState::Unprotected } else { PageState::Protected })
}

/// Moves `page` from `from` (None: absent) to `to`; false when it was not
/// in state `from` (another thread got there first) or the table is full.
pub fn transition(page: u64, from: Option<PageState>, to: PageState) -> bool {
    match from {
        Some(from) => find(page).is_some_and(|slot| {
            slot.compare_exchange(encode(page, from), encode(page, to), Ordering::AcqRel, Ordering::Acquire).is_ok()
        }),
        None => insert(page, to),
    }
}

fn insert(page: u64, state: PageState) -> bool {
    let start = slot_of(page);
    let mut free = None;
    for i in 0..SLOTS {
        let at = (start + i) % SLOTS;
        match TABLE[at].load(Ordering::Acquire) {
            cur if holds(cur, page) => return false,
            GONE => free = free.or(Some(at)),
            EMPTY => {
                let at = free.unwrap_or(at);
                let cur = TABLE[at].load(Ordering::Acquire);
                return (cur == EMPTY || cur == GONE)
                    && TABLE[at].compare_exchange(cur, encode(page, state), Ordering::AcqRel, Ordering::Acquire).is_ok();
            }
            _ => {}
        }
    }
    tracing::warn!("too many write-protected code pages: changes to code at {page:#x} go unnoticed");
    false
}

/// Forgets `page` (its mapping changed); true if it was there.
pub fn remove(page: u64) -> bool {
    let Some(slot) = find(page) else { return false };
    let cur = slot.load(Ordering::Acquire);
    holds(cur, page) && slot.compare_exchange(cur, GONE, Ordering::AcqRel, Ordering::Acquire).is_ok()
}

/// Every page currently in state `Protected`.
pub fn protected() -> impl Iterator<Item = u64> {
    TABLE.iter().map(|s| s.load(Ordering::Acquire)).filter(|&v| v > GONE && v & UNPROTECTED == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_move_through_their_states() {
        let pages: Vec<u64> = (0..100).map(|i| 0x7100_0000 + i * PAGE * 7).collect();
        for &p in &pages {
            assert!(transition(p, None, PageState::Protected));
            assert!(!transition(p, None, PageState::Protected), "already there");
            assert_eq!(state(p), Some(PageState::Protected));
        }
        for &p in &pages[..50] {
            assert!(transition(p, Some(PageState::Protected), PageState::Unprotected));
            assert!(!transition(p, Some(PageState::Protected), PageState::Unprotected), "a second handler loses");
            assert_eq!(state(p), Some(PageState::Unprotected));
        }
        assert!(protected().filter(|p| pages.contains(p)).count() == 50);
        for &p in &pages {
            assert!(remove(p));
            assert!(!remove(p));
            assert_eq!(state(p), None);
        }
    }
}
