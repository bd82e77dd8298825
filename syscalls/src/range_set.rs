//! A set of address ranges kept as disjoint `start -> end` entries, the
//! bookkeeping behind `writable` (pages the guest may write) and
//! `guest_regions` (ranges the guest has mapped).

use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub(crate) struct RangeSet {
    ranges: BTreeMap<u64, u64>,
}

impl RangeSet {
    pub(crate) const fn new() -> Self {
        RangeSet { ranges: BTreeMap::new() }
    }

    /// Puts `[start, end)` in the set (`present`) or takes it out; an
    /// entry joins the ones it touches.
    pub(crate) fn set(&mut self, start: u64, end: u64, present: bool) {
        if end <= start {
            return;
        }
        let (mut start, mut end) = (start, end);
        // Every entry overlapping or (when adding) touching [start, end).
        let reach = if present { end.saturating_add(1) } else { end };
        let neighbours: Vec<(u64, u64)> = self
            .ranges
            .range(..reach)
            .rev()
            .take_while(|(_, &e)| e > start || (present && e == start))
            .map(|(&s, &e)| (s, e))
            .collect();
        for (s, e) in neighbours {
            self.ranges.remove(&s);
            if present {
                (start, end) = (start.min(s), end.max(e));
                continue;
            }
            if s < start {
                self.ranges.insert(s, start);
            }
            if e > end {
                self.ranges.insert(end, e);
            }
        }
        if present {
            self.ranges.insert(start, end);
        }
    }

    pub(crate) fn contains(&self, addr: u64) -> bool {
        self.ranges.range(..=addr).next_back().is_some_and(|(_, &end)| addr < end)
    }

    /// Whether any part of `[start, end)` is in the set.
    pub(crate) fn intersects(&self, start: u64, end: u64) -> bool {
        self.ranges.range(..end).next_back().is_some_and(|(_, &e)| e > start)
    }

    /// The parts of `[start, end)` in the set, in order.
    pub(crate) fn pieces(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        let first = self.ranges.range(..=start).next_back().filter(|(_, &e)| e > start).map(|(&s, _)| s).unwrap_or(start);
        self.ranges.range(first..end).map(|(&s, &e)| (s.max(start), e.min(end))).collect()
    }

    /// The parts of `[start, end)` not in the set, in order.
    pub(crate) fn gaps(&self, start: u64, end: u64) -> Vec<(u64, u64)> {
        let mut gaps = Vec::new();
        let mut at = start;
        for (s, e) in self.pieces(start, end) {
            if s > at {
                gaps.push((at, s));
            }
            at = e;
        }
        if at < end {
            gaps.push((at, end));
        }
        gaps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(set: &RangeSet) -> Vec<(u64, u64)> {
        set.ranges.iter().map(|(&s, &e)| (s, e)).collect()
    }

    #[test]
    fn adding_joins_touching_and_overlapping_entries() {
        let mut set = RangeSet::new();
        set.set(10, 20, true);
        set.set(30, 40, true);
        set.set(20, 25, true);
        assert_eq!(entries(&set), [(10, 25), (30, 40)]);
        set.set(24, 31, true);
        assert_eq!(entries(&set), [(10, 40)]);
        set.set(0, 5, true);
        assert_eq!(entries(&set), [(0, 5), (10, 40)]);
    }

    #[test]
    fn removing_cuts_entries_and_keeps_the_rest() {
        let mut set = RangeSet::new();
        set.set(10, 40, true);
        set.set(60, 70, true);
        set.set(20, 30, false);
        assert_eq!(entries(&set), [(10, 20), (30, 40), (60, 70)]);
        set.set(35, 65, false);
        assert_eq!(entries(&set), [(10, 20), (30, 35), (65, 70)]);
        assert!(set.contains(19) && !set.contains(20) && !set.contains(35) && set.contains(65));
        assert!(set.intersects(0, 11) && !set.intersects(0, 10) && !set.intersects(20, 30));
    }

    #[test]
    fn pieces_and_gaps_split_a_range_between_them() {
        let mut set = RangeSet::new();
        set.set(10, 20, true);
        set.set(30, 40, true);
        assert_eq!(set.pieces(15, 35), [(15, 20), (30, 35)]);
        assert_eq!(set.gaps(15, 35), [(20, 30)]);
        assert_eq!(set.gaps(0, 50), [(0, 10), (20, 30), (40, 50)]);
        assert_eq!(set.pieces(20, 30), []);
        assert_eq!(set.gaps(12, 18), []);
    }
}
