//! Direct-branch links between translated blocks: for each guest target,
//! the patch sites (host addresses of a block's exit `b`) that jump to it.
//! A site is linked exactly when its target has a translation, so one list
//! per target serves both ways: installing a block links the sites waiting
//! for it, and invalidating one unlinks every site that jumps into it (else
//! a chained loop would run the stale code forever). This module only
//! keeps the books; the cache rewrites the instruction words.

use crate::cache::addr_hash::AddrMap;

#[derive(Default)]
pub struct Links {
    by_target: AddrMap<Sites>,
}

impl Links {
    /// A new exit site to guest `target`.
    pub fn add_site(&mut self, site: u64, target: u64) {
        self.by_target.entry(target).or_default().push(site);
    }

    /// The sites that jump to `target` (to link or unlink them).
    pub fn sites_to(&self, target: u64) -> &[u64] {
        self.by_target.get(&target).map_or(&[], Sites::as_slice)
    }

    /// The block holding `site` is gone: forget the site.
    pub fn forget_site(&mut self, site: u64, target: u64) {
        if let Some(sites) = self.by_target.get_mut(&target) {
            sites.remove(site);
            if sites.as_slice().is_empty() {
                self.by_target.remove(&target);
            }
        }
    }

    pub fn clear(&mut self) {
        self.by_target.clear();
    }
}

/// Most targets have one or two sites: those stay out of the heap (a block
/// translation's bookkeeping is a start-up cost of every process).
enum Sites {
    Inline { len: u8, items: [u64; 2] },
    Heap(Vec<u64>),
}

impl Default for Sites {
    fn default() -> Self {
        Sites::Inline { len: 0, items: [0; 2] }
    }
}

impl Sites {
    fn as_slice(&self) -> &[u64] {
        match self {
            Sites::Inline { len, items } => &items[..*len as usize],
            Sites::Heap(v) => v,
        }
    }

    fn push(&mut self, site: u64) {
        match self {
            Sites::Inline { len, items } if (*len as usize) < items.len() => {
                items[*len as usize] = site;
                *len += 1;
            }
            Sites::Inline { items, .. } => {
                let mut v = items.to_vec();
                v.push(site);
                *self = Sites::Heap(v);
            }
            Sites::Heap(v) => v.push(site),
        }
    }

    fn remove(&mut self, site: u64) {
        match self {
            Sites::Inline { len, items } => {
                if let Some(i) = items[..*len as usize].iter().position(|&s| s == site) {
                    items.copy_within(i + 1..*len as usize, i);
                    *len -= 1;
                }
            }
            Sites::Heap(v) => v.retain(|&s| s != site),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_are_kept_per_target_and_forgotten() {
        let mut links = Links::default();
        links.add_site(0x100, 0x4000);
        links.add_site(0x200, 0x4000);
        links.add_site(0x300, 0x4000);
        links.add_site(0x400, 0x5000);
        assert_eq!(links.sites_to(0x4000), [0x100, 0x200, 0x300]);
        links.forget_site(0x200, 0x4000);
        assert_eq!(links.sites_to(0x4000), [0x100, 0x300]);
        links.forget_site(0x100, 0x4000);
        links.forget_site(0x300, 0x4000);
        assert!(links.sites_to(0x4000).is_empty());
        links.forget_site(0x400, 0x5000);
        links.add_site(0x500, 0x5000);
        assert_eq!(links.sites_to(0x5000), [0x500]);
        links.forget_site(0x500, 0x5000);
        assert!(links.sites_to(0x5000).is_empty());
    }
}
