//! Which guest pages the guest may write, as its mmap, mprotect, mremap
//! and brk made them: the translator write-protects translated code only on
//! such pages (see `transit_translator::cache::code_watch`). Mappings Transit made
//! itself (the loaded program, the initial stack) are not listed: code
//! there is taken to be fixed.

use std::collections::BTreeMap;
use std::sync::Mutex;

const PAGE: u64 = 4096;

/// Writable ranges, start -> end, page-aligned, not overlapping.
static WRITABLE: Mutex<BTreeMap<u64, u64>> = Mutex::new(BTreeMap::new());

/// Whether the guest may write the page at `addr`.
/// Holds the table until the guard drops (across a host fork).
pub(crate) fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(WRITABLE.lock().unwrap_or_else(|e| e.into_inner()))
}

pub fn guest_may_write(addr: u64) -> bool {
    let map = WRITABLE.lock().unwrap_or_else(|e| e.into_inner());
    map.range(..=addr).next_back().is_some_and(|(_, &end)| addr < end)
}

/// Records `[start, start + len)` as writable by the guest or not.
pub(crate) fn mark(start: u64, len: u64, writable: bool) {
    let start = start & !(PAGE - 1);
    let end = start.saturating_add(len).saturating_add(PAGE - 1) & !(PAGE - 1);
    if end <= start {
        return;
    }
    let mut map = WRITABLE.lock().unwrap_or_else(|e| e.into_inner());
    // Cut [start, end) out of every range overlapping it, keeping the rest.
    let overlapping: Vec<(u64, u64)> = map.range(..end).filter(|(_, &e)| e > start).map(|(&s, &e)| (s, e)).collect();
    for (s, e) in overlapping {
        map.remove(&s);
        if s < start {
            map.insert(s, start);
        }
        if e > end {
            map.insert(end, e);
        }
    }
    if writable {
        map.insert(start, end);
    }
}

/// Whether any page of `[start, start + len)` is writable (mremap carries it over).
pub(crate) fn any_writable(start: u64, len: u64) -> bool {
    let end = start.saturating_add(len);
    let map = WRITABLE.lock().unwrap_or_else(|e| e.into_inner());
    map.range(..end).any(|(_, &e)| e > start)
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
