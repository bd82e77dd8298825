//! Which guest pages the guest may write, as its mmap, mprotect, mremap
//! and brk made them: the translator write-protects translated code only on
//! such pages (see `transit_translator::cache::code_watch`). Mappings Transit made
//! itself (the loaded program's writable segments, the initial stack) are
//! listed apart: code there is taken to be fixed, but the guest may write
//! them, which the translator must know before it takes a value it reads
//! there for fixed (`transit_translator::frontend::fixed_slots`).

use std::sync::Mutex;

use crate::range_set::RangeSet;

const PAGE: u64 = 4096;

/// Writable ranges, page-aligned.
struct Writable {
    /// As the guest's own calls made them.
    by_guest: RangeSet,
    /// Mapped writable by Transit for the guest, until a guest call maps
    /// or protects them anew.
    by_transit: RangeSet,
}

static WRITABLE: Mutex<Writable> = Mutex::new(Writable { by_guest: RangeSet::new(), by_transit: RangeSet::new() });

fn pages(start: u64, len: u64) -> (u64, u64) {
    let start = start & !(PAGE - 1);
    (start, start.saturating_add(len).saturating_add(PAGE - 1) & !(PAGE - 1))
}

/// Holds the table until the guard drops (across a host fork).
pub(crate) fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(WRITABLE.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Whether the guest made the page at `addr` writable (code there is
/// watched for writes).
pub fn guest_may_write(addr: u64) -> bool {
    WRITABLE.lock().unwrap_or_else(|e| e.into_inner()).by_guest.contains(addr)
}

/// Whether the guest may write the page at `addr` without an mmap,
/// mprotect or mremap first, whoever made it writable.
pub fn guest_may_write_now(addr: u64) -> bool {
    let w = WRITABLE.lock().unwrap_or_else(|e| e.into_inner());
    w.by_guest.contains(addr) || w.by_transit.contains(addr)
}

/// Records `[start, start + len)` as writable by the guest or not.
pub(crate) fn mark(start: u64, len: u64, writable: bool) {
    let (start, end) = pages(start, len);
    let mut w = WRITABLE.lock().unwrap_or_else(|e| e.into_inner());
    w.by_guest.set(start, end, writable);
    w.by_transit.set(start, end, false);
}

/// Records `[start, start + len)` as mapped by Transit for the guest (a
/// loaded image's segment, the initial stack), writable or not.
pub fn mapped_by_transit(start: u64, len: u64, writable: bool) {
    let (start, end) = pages(start, len);
    WRITABLE.lock().unwrap_or_else(|e| e.into_inner()).by_transit.set(start, end, writable);
}

/// Whether any page of `[start, start + len)` is writable (mremap carries it over).
pub(crate) fn any_writable(start: u64, len: u64) -> bool {
    let w = WRITABLE.lock().unwrap_or_else(|e| e.into_inner());
    let end = start.saturating_add(len);
    w.by_guest.intersects(start, end) || w.by_transit.intersects(start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_split_and_merge_by_page() {
        let base = 0x5_5550_0000;
        mark(base, 10 * PAGE, true);
        mark(base + 3 * PAGE, 2 * PAGE, false);
        assert!(guest_may_write(base + 2 * PAGE + 100));
        assert!(!guest_may_write(base + 3 * PAGE));
        assert!(!guest_may_write(base + 4 * PAGE + 4095));
        assert!(guest_may_write(base + 5 * PAGE));
        assert!(!guest_may_write(base + 10 * PAGE));
        assert!(any_writable(base + 3 * PAGE, 3 * PAGE));
        mark(base, 10 * PAGE, false);
        assert!(!any_writable(base, 10 * PAGE));
    }

    #[test]
    fn what_transit_mapped_writable_is_writable_now_until_the_guest_maps_it_anew() {
        let base = 0x5_6660_0000;
        mapped_by_transit(base, 4 * PAGE, true);
        assert!(guest_may_write_now(base + PAGE));
        assert!(!guest_may_write(base + PAGE), "not watched: code there is taken to be fixed");
        assert!(any_writable(base, PAGE));
        // The guest makes a page read-only (RELRO), then another writable.
        mark(base + PAGE, PAGE, false);
        assert!(!guest_may_write_now(base + PAGE));
        assert!(guest_may_write_now(base + 2 * PAGE));
        mark(base + 2 * PAGE, PAGE, true);
        assert!(guest_may_write_now(base + 2 * PAGE) && guest_may_write(base + 2 * PAGE));
        assert!(!guest_may_write_now(base + 4 * PAGE));
    }
}
