//! Which guest pages the guest may write, as its mmap, mprotect, mremap
//! and brk made them: the translator write-protects translated code only on
//! such pages (see `transit_translator::cache::code_watch`). Mappings Transit made
//! itself (the loaded program, the initial stack) are not listed: code
//! there is taken to be fixed.

use std::sync::Mutex;

use crate::range_set::RangeSet;

const PAGE: u64 = 4096;

/// Writable ranges, page-aligned.
static WRITABLE: Mutex<RangeSet> = Mutex::new(RangeSet::new());

/// Holds the table until the guard drops (across a host fork).
pub(crate) fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(WRITABLE.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Whether the guest may write the page at `addr`.
pub fn guest_may_write(addr: u64) -> bool {
    WRITABLE.lock().unwrap_or_else(|e| e.into_inner()).contains(addr)
}

/// Records `[start, start + len)` as writable by the guest or not.
pub(crate) fn mark(start: u64, len: u64, writable: bool) {
    let start = start & !(PAGE - 1);
    let end = start.saturating_add(len).saturating_add(PAGE - 1) & !(PAGE - 1);
    WRITABLE.lock().unwrap_or_else(|e| e.into_inner()).set(start, end, writable);
}

/// Whether any page of `[start, start + len)` is writable (mremap carries it over).
pub(crate) fn any_writable(start: u64, len: u64) -> bool {
    WRITABLE.lock().unwrap_or_else(|e| e.into_inner()).intersects(start, start.saturating_add(len))
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
}
