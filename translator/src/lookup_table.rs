//! A thread's indirect-branch lookup table: guest address -> host code,
//! direct-mapped by the low address bits, read inline by generated code
//! (`emit::control`) as (guest, host) pairs of u64.
//!
//! Each thread has its own, so filling one never races with a reader
//! elsewhere; the owner fills it while holding the code cache's lock, and
//! an invalidation (under the same lock) removes a stale entry from every
//! thread's table by rewriting only its guest tag: a reader that still
//! matched the old tag jumps to the old code, which a racing thread could
//! have run anyway, and never to a mismatched pair.

use std::sync::atomic::{AtomicU64, Ordering};

/// The table has 2^LOOKUP_BITS entries indexed by the low guest address bits.
pub const LOOKUP_BITS: u32 = 16;
const ENTRIES: usize = 1 << LOOKUP_BITS;

/// What a slot holds for an address (`LookupTable::slot`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Holds,
    Other,
    Empty,
}

pub struct LookupTable {
    /// Entry i is words 2i (guest address) and 2i + 1 (host address).
    words: Box<[AtomicU64]>,
}

impl Default for LookupTable {
    fn default() -> Self {
        // Zeroed memory is an empty table but for slot 0 (see `empty_key`):
        // every thread makes one, and writing 1 MiB costs its start-up.
        // SAFETY: all-zero bits are a valid AtomicU64.
        let words = unsafe { Box::<[AtomicU64]>::new_zeroed_slice(2 * ENTRIES).assume_init() };
        let table = LookupTable { words };
        table.words[0].store(empty_key(0), Ordering::Relaxed);
        table
    }
}

fn index_of(rip: u64) -> usize {
    (rip & (ENTRIES as u64 - 1)) as usize
}

/// Empty slot i holds a key whose low bits differ from i, so no guest
/// address indexing slot i can match it: 0, except in slot 0.
fn empty_key(index: usize) -> u64 {
    u64::from(index == 0)
}

impl LookupTable {
    /// The address generated code indexes.
    pub fn addr(&self) -> u64 {
        self.words.as_ptr() as u64
    }

    /// Records `rip -> host`. Only the owning thread, outside generated code.
    pub fn remember(&self, rip: u64, host: u64) {
        let i = index_of(rip);
        // Host first: a reader must never pair the new tag with an old host.
        self.words[2 * i].store(empty_key(i), Ordering::Relaxed);
        self.words[2 * i + 1].store(host, Ordering::Relaxed);
        self.words[2 * i].store(rip, Ordering::Release);
    }

    /// Drops the entry for `rip`, if it has one.
    pub fn forget(&self, rip: u64) {
        let i = index_of(rip);
        let _ = self.words[2 * i].compare_exchange(rip, empty_key(i), Ordering::AcqRel, Ordering::Relaxed);
    }

    /// What the slot `rip` indexes holds, for `--stats`: `rip` itself,
    /// another address, or nothing.
    pub fn slot(&self, rip: u64) -> Slot {
        let i = index_of(rip);
        match self.words[2 * i].load(Ordering::Relaxed) {
            tag if tag == rip => Slot::Holds,
            tag if tag == empty_key(i) => Slot::Empty,
            _ => Slot::Other,
        }
    }

    pub fn clear(&self) {
        for i in 0..ENTRIES {
            self.words[2 * i].store(empty_key(i), Ordering::Relaxed);
        }
    }

    #[cfg(test)]
    fn get(&self, rip: u64) -> Option<u64> {
        let i = index_of(rip);
        (self.words[2 * i].load(Ordering::Acquire) == rip).then(|| self.words[2 * i + 1].load(Ordering::Acquire))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_remembered_replaced_and_forgotten() {
        let t = LookupTable::default();
        assert_eq!(t.get(0), None, "an empty slot matches no address");
        assert_eq!(t.get(1), None);
        t.remember(0x40_1000, 0xaaaa);
        assert_eq!(t.get(0x40_1000), Some(0xaaaa));
        t.remember(0x50_1000, 0xbbbb);
        assert_eq!(t.get(0x40_1000), None, "same slot, replaced");
        t.forget(0x40_1000);
        assert_eq!(t.get(0x50_1000), Some(0xbbbb), "forgetting another address leaves the slot");
        t.forget(0x50_1000);
        assert_eq!(t.get(0x50_1000), None);
    }
}
