//! A thread's indirect-branch lookup table: guest address -> host code,
//! direct-mapped by the low address bits, read inline by generated code
//! (`emit::control`). An entry is four words: the entry for host C in the
//! carry form, the guest tag, the entry for C in the borrow form, and a
//! spare; an exit loads the pair (tag, borrow entry) or (carry entry, tag)
//! with one `ldp`, whichever form it left C in (`CodeCache::carry_entry`).
//!
//! Each thread has its own, so filling one never races with a reader
//! elsewhere; the owner fills it while holding the code cache's lock, and
//! an invalidation (under the same lock) removes a stale entry from every
//! thread's table by rewriting only its guest tag: a reader that still
//! matched the old tag jumps to the old code, which a racing thread could
//! have run anyway, and never to a mismatched pair.

use std::sync::atomic::{AtomicU64, Ordering};

/// The table has 2^LOOKUP_BITS entries indexed by the low guest address
/// bits. With 2^16, node's main thread left translated code 17,500 times
/// in a short script because two hot targets shared a slot (16% of its
/// dispatches; python's bench: 1,155, 3%); with 2^18, 1,400 to 4,300
/// (node's code moves with ASLR) and 261. An index hashing higher bits in
/// costs an instruction per indirect branch and still left node 10,000
/// conflicts at 2^16. A flush reads every tag (over 8 MiB a thread) and
/// rewrites those in use.
pub const LOOKUP_BITS: u32 = 18;
const ENTRIES: usize = 1 << LOOKUP_BITS;
const BYTES: usize = 8 * WORDS * ENTRIES;
/// log2 of an entry's bytes, for the index generated code computes.
pub const ENTRY_SHIFT: u32 = 5;
/// The bits of an entry's address that its index sets: the table is
/// aligned to its size, so generated code finds an entry by inserting the
/// guest address's low bits there in a register that holds the table's
/// base (`bfi`), whatever index the last lookup left in it.
pub const INDEX_LSB: u32 = ENTRY_SHIFT;
const _: () = assert!(BYTES == 1 << (ENTRY_SHIFT + LOOKUP_BITS));
const _: () = assert!(1 << ENTRY_SHIFT == 8 * WORDS);
/// Words an entry.
const WORDS: usize = 4;
const CARRY_WORD: usize = 0;
const TAG_WORD: usize = 1;
const BORROW_WORD: usize = 2;
/// Byte offsets of an entry's words for generated code (`ldp` pairs:
/// carry entry and tag, or tag and borrow entry).
pub const CARRY_ENTRY: i32 = 8 * CARRY_WORD as i32;
pub const TAG: i32 = 8 * TAG_WORD as i32;

/// What a slot holds for an address (`LookupTable::slot`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Holds,
    Other,
    Empty,
}

pub struct LookupTable {
    /// Entry i is words 4i..4i+4 (carry entry, guest address, borrow
    /// entry, spare), in a mapping of the table's own.
    words: &'static [AtomicU64],
}

impl Default for LookupTable {
    fn default() -> Self {
        // A fresh anonymous mapping is an empty table but for slot 0 (see
        // `empty_key`), and only the pages a thread uses become memory:
        // every thread makes one (8 MiB), and writing it would cost its
        // start-up. Not from the heap: malloc would clear reused memory.
        // Aligned to its size, so that an index inserted into the base's
        // zero bits is an entry's address (`emit::control::indirect_exit`): twice the
        // size is mapped and what lies outside the aligned table returned.
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
        let mapped = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                2 * BYTES,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        assert!(mapped != libc::MAP_FAILED, "no memory for a lookup table: {}", std::io::Error::last_os_error());
        let (mapped, at) = (mapped as usize, (mapped as usize).next_multiple_of(BYTES));
        // SAFETY: both ranges lie in the mapping just made, outside the table.
        unsafe {
            if at > mapped {
                libc::munmap(mapped as *mut libc::c_void, at - mapped);
            }
            libc::munmap((at + BYTES) as *mut libc::c_void, mapped + BYTES - at);
        }
        // SAFETY: the mapping is BYTES long, zeroed (a valid AtomicU64
        // each), aligned to its size, and lives until `drop` unmaps it.
        let words = unsafe { std::slice::from_raw_parts(at as *const AtomicU64, WORDS * ENTRIES) };
        let table = LookupTable { words };
        table.words[TAG_WORD].store(empty_key(0), Ordering::Relaxed);
        table
    }
}

impl Drop for LookupTable {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `default`; its thread is gone from
        // the cache (`ThreadCode` outlives its last run of generated code).
        unsafe { libc::munmap(self.words.as_ptr() as *mut libc::c_void, BYTES) };
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

    /// Records `rip -> host` (`carry`: its entry for host C in the carry
    /// form). Only the owning thread, outside generated code.
    pub fn remember(&self, rip: u64, host: u64, carry: u64) {
        let at = WORDS * index_of(rip);
        // Entries first: a reader must never pair the new tag with an old host.
        self.words[at + TAG_WORD].store(empty_key(index_of(rip)), Ordering::Relaxed);
        self.words[at + BORROW_WORD].store(host, Ordering::Relaxed);
        self.words[at + CARRY_WORD].store(carry, Ordering::Relaxed);
        self.words[at + TAG_WORD].store(rip, Ordering::Release);
    }

    /// The entry and carry-form entry the table holds for `rip`. Only the
    /// owning thread, under the cache's lock (which every change to the
    /// table's translations takes).
    pub fn entries(&self, rip: u64) -> Option<(u64, u64)> {
        let at = WORDS * index_of(rip);
        (self.words[at + TAG_WORD].load(Ordering::Acquire) == rip)
            .then(|| (self.words[at + BORROW_WORD].load(Ordering::Relaxed), self.words[at + CARRY_WORD].load(Ordering::Relaxed)))
    }

    /// Drops the entry for `rip`, if it has one.
    pub fn forget(&self, rip: u64) {
        let i = index_of(rip);
        let _ = self.words[WORDS * i + TAG_WORD].compare_exchange(rip, empty_key(i), Ordering::AcqRel, Ordering::Relaxed);
    }

    /// What the slot `rip` indexes holds, for `--stats`: `rip` itself,
    /// another address, or nothing.
    pub fn slot(&self, rip: u64) -> Slot {
        let i = index_of(rip);
        match self.words[WORDS * i + TAG_WORD].load(Ordering::Relaxed) {
            tag if tag == rip => Slot::Holds,
            tag if tag == empty_key(i) => Slot::Empty,
            _ => Slot::Other,
        }
    }

    pub fn clear(&self) {
        for i in 0..ENTRIES {
            // Only slots in use: a page never written stays unallocated
            // (reading it maps the shared zero page).
            let tag = &self.words[WORDS * i + TAG_WORD];
            if tag.load(Ordering::Relaxed) != empty_key(i) {
                tag.store(empty_key(i), Ordering::Relaxed);
            }
        }
    }

    #[cfg(test)]
    fn get(&self, rip: u64) -> Option<(u64, u64)> {
        let at = WORDS * index_of(rip);
        (self.words[at + TAG_WORD].load(Ordering::Acquire) == rip)
            .then(|| (self.words[at + BORROW_WORD].load(Ordering::Acquire), self.words[at + CARRY_WORD].load(Ordering::Acquire)))
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
        t.remember(0x40_1000, 0xaaaa, 0xaaa0);
        assert_eq!(t.get(0x40_1000), Some((0xaaaa, 0xaaa0)));
        t.remember(0x50_1000, 0xbbbb, 0xbbbb);
        assert_eq!(t.get(0x40_1000), None, "same slot, replaced");
        t.forget(0x40_1000);
        assert_eq!(t.get(0x50_1000), Some((0xbbbb, 0xbbbb)), "forgetting another address leaves the slot");
        t.forget(0x50_1000);
        assert_eq!(t.get(0x50_1000), None);
    }
}
