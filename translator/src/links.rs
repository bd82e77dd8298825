//! Direct-branch links between translated blocks: which patch sites (host
//! addresses of a block's exit `b`) wait for a guest target that has no
//! translation yet, and which are linked to one that has.
//!
//! Both directions matter: installing a block links the sites waiting for
//! it, and invalidating one (its guest code changed) must unlink every
//! site that jumps into it, or a chained loop would run the stale code
//! forever. This module only keeps the books; the cache rewrites the
//! instruction words it returns.

use crate::addr_hash::AddrMap;

#[derive(Default)]
pub struct Links {
    /// Guest target -> sites whose `b` still falls into its exit stub.
    pending: AddrMap<Vec<u64>>,
    /// Guest target -> sites whose `b` jumps to the target's translation.
    linked: AddrMap<Vec<u64>>,
}

impl Links {
    /// A new exit site to guest `target`; `target_is_translated` says
    /// whether the caller links it at once.
    pub fn add_site(&mut self, site: u64, target: u64, target_is_translated: bool) {
        let list = if target_is_translated { &mut self.linked } else { &mut self.pending };
        list.entry(target).or_default().push(site);
    }

    /// `target` got a translation: the sites to point at it (now linked).
    pub fn link_waiting(&mut self, target: u64) -> Vec<u64> {
        let Some(sites) = self.pending.remove(&target) else { return Vec::new() };
        self.linked.entry(target).or_default().extend_from_slice(&sites);
        sites
    }

    /// `target`'s translation is gone: the sites to unlink (now waiting).
    pub fn unlink_all(&mut self, target: u64) -> Vec<u64> {
        let Some(sites) = self.linked.remove(&target) else { return Vec::new() };
        self.pending.entry(target).or_default().extend_from_slice(&sites);
        sites
    }

    /// The block holding `site` is gone: forget the site.
    pub fn forget_site(&mut self, site: u64, target: u64) {
        for map in [&mut self.pending, &mut self.linked] {
            if let Some(sites) = map.get_mut(&target) {
                sites.retain(|&s| s != site);
                if sites.is_empty() {
                    map.remove(&target);
                }
            }
        }
    }

    pub fn clear(&mut self) {
        self.pending.clear();
        self.linked.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sites_move_between_waiting_and_linked() {
        let mut links = Links::default();
        links.add_site(0x100, 0x4000, false);
        links.add_site(0x200, 0x4000, false);
        links.add_site(0x300, 0x5000, true);
        assert_eq!(links.link_waiting(0x4000), vec![0x100, 0x200]);
        assert!(links.link_waiting(0x4000).is_empty());
        links.forget_site(0x200, 0x4000);
        assert_eq!(links.unlink_all(0x4000), vec![0x100]);
        assert_eq!(links.unlink_all(0x5000), vec![0x300]);
        assert!(links.unlink_all(0x5000).is_empty());
        assert_eq!(links.link_waiting(0x5000), vec![0x300]);
        links.forget_site(0x100, 0x4000);
        assert!(links.link_waiting(0x4000).is_empty());
    }
}
