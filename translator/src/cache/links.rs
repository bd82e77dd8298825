//! Direct-branch links between translated blocks: for each guest target,
//! the patch sites (host addresses of a block's exit `b`) that jump to it,
//! each with the conditional branch (if any) that jumps to the site and is
//! linked straight to the target too.
//! A site is linked exactly when its target has a translation, so one list
//! per target serves both ways: installing a block links the sites waiting
//! for it, and invalidating one unlinks every site that jumps into it (else
//! a chained loop would run the stale code forever). This module only
//! keeps the books; the cache rewrites the instruction words.

use crate::cache::addr_hash::AddrMap;

/// An exit `b` and the branch that feeds it (the block's `b.cond`, `cbz`,
/// `tbz`... to the site), which is linked past the site when in range.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Site {
    pub at: u64,
    pub feeder: Option<u64>,
}

pub struct Links {
    by_target: AddrMap<Sites>,
}

impl Default for Links {
    fn default() -> Self {
        // Sized like the cache's block map: growing showed in start-up profiles.
        Links { by_target: AddrMap::with_capacity_and_hasher(1 << 14, Default::default()) }
    }
}

impl Links {
    /// A new exit site to guest `target`.
    pub fn add_site(&mut self, site: Site, target: u64) {
        self.by_target.entry(target).or_default().push(site);
    }

    /// The sites that jump to `target` (to link or unlink them).
    pub fn sites_to(&self, target: u64) -> &[Site] {
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
    Inline { len: u8, items: [Site; 2] },
    Heap(Vec<Site>),
}

impl Default for Sites {
    fn default() -> Self {
        Sites::Inline { len: 0, items: [Site::default(); 2] }
    }
}

impl Sites {
    fn as_slice(&self) -> &[Site] {
        match self {
            Sites::Inline { len, items } => &items[..*len as usize],
            Sites::Heap(v) => v,
        }
    }

    fn push(&mut self, site: Site) {
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
                if let Some(i) = items[..*len as usize].iter().position(|s| s.at == site) {
                    items.copy_within(i + 1..*len as usize, i);
                    *len -= 1;
                }
            }
            Sites::Heap(v) => v.retain(|s| s.at != site),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(at: u64) -> Site {
        Site { at, feeder: None }
    }

    #[test]
    fn sites_are_kept_per_target_and_forgotten() {
        let mut links = Links::default();
        links.add_site(site(0x100), 0x4000);
        links.add_site(site(0x200), 0x4000);
        links.add_site(site(0x300), 0x4000);
        links.add_site(site(0x400), 0x5000);
        assert_eq!(links.sites_to(0x4000), [site(0x100), site(0x200), site(0x300)]);
        links.forget_site(0x200, 0x4000);
        assert_eq!(links.sites_to(0x4000), [site(0x100), site(0x300)]);
        links.forget_site(0x100, 0x4000);
        links.forget_site(0x300, 0x4000);
        assert!(links.sites_to(0x4000).is_empty());
        links.forget_site(0x400, 0x5000);
        links.add_site(site(0x500), 0x5000);
        assert_eq!(links.sites_to(0x5000), [site(0x500)]);
        links.forget_site(0x500, 0x5000);
        assert!(links.sites_to(0x5000).is_empty());
    }
}
