//! The guest pages that hold decoded code: safe to read when looking
//! ahead, and write-protected when the guest may write them. Each block
//! translated asks whether its page is one, and the look-ahead asks for
//! each run it decodes; consecutive questions are mostly about one page,
//! so the last page found or added is kept apart from the set.

use super::addr_hash::AddrSet;

/// No page: page numbers are addresses shifted right by 12.
const NONE: u64 = u64::MAX;

pub struct CodePages {
    pages: AddrSet,
    /// A page of `pages` (or `NONE`).
    last: std::cell::Cell<u64>,
}

impl Default for CodePages {
    fn default() -> Self {
        CodePages { pages: AddrSet::default(), last: std::cell::Cell::new(NONE) }
    }
}

impl CodePages {
    /// Adds `page`; true if it was not there.
    pub fn insert(&mut self, page: u64) -> bool {
        if page == self.last.get() {
            return false;
        }
        self.last.set(page);
        self.pages.insert(page)
    }

    pub fn contains(&self, page: u64) -> bool {
        if page == self.last.get() {
            return true;
        }
        let found = self.pages.contains(&page);
        if found {
            self.last.set(page);
        }
        found
    }

    pub fn remove(&mut self, page: u64) {
        if page == self.last.get() {
            self.last.set(NONE);
        }
        self.pages.remove(&page);
    }

    pub fn clear(&mut self) {
        self.last.set(NONE);
        self.pages.clear();
    }

    pub fn len(&self) -> usize {
        self.pages.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        self.pages.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kept_page_follows_the_set() {
        let mut pages = CodePages::default();
        assert!(pages.insert(7));
        assert!(!pages.insert(7));
        assert!(pages.insert(9));
        assert!(pages.contains(7) && pages.contains(9) && !pages.contains(8));
        pages.remove(9);
        assert!(!pages.contains(9), "removed while kept");
        assert!(pages.contains(7));
        pages.remove(7);
        assert!(!pages.contains(7));
        assert!(pages.insert(7), "added again after its removal");
        pages.clear();
        assert!(!pages.contains(7) && pages.len() == 0);
    }
}
