//! Host code address -> guest instruction, for signals that arrive while
//! translated code runs.
//!
//! A fault needs the guest RIP of the instruction that faulted and where x86
//! CF sat in host C at that point (`Polarity`). An asynchronous signal needs
//! the running block to stop soon: the block's exits are unlinked (made to
//! fall into their lookup exits, which return to the dispatcher) until the
//! runtime has delivered the signal and relinks them.
//!
//! Signal handlers on every thread read the map while another thread may
//! be installing blocks: it is append-only (`Chunked`), and records change
//! only through atomics. Appends are serialised by the code cache's lock.

use crate::cache::chunked::Chunked;
use crate::cache::image::SavedRecord;
use crate::insn_mark::{InsnMark, Pad, Polarity};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// A branch that may leave the block for another translated block.
#[derive(Clone, Copy, Debug)]
pub enum ExitSite {
    /// A patchable `b` to guest `target` (falls into a lookup exit when
    /// unlinked), and the conditional branch at `feeder` that jumps to it,
    /// which linking points straight at the target when in range.
    Direct { off: u32, feeder: Option<u32>, target: u64 },
    /// The `br` taken on an indirect-branch lookup-table hit (the miss path follows it).
    Indirect { off: u32 },
}

impl ExitSite {
    pub fn offset(&self) -> u32 {
        match *self {
            ExitSite::Direct { off, .. } | ExitSite::Indirect { off } => off,
        }
    }
}

struct BlockRecord {
    host_start: u64,
    host_end: u64,
    rip: u64,
    detail: Detail,
    /// Invalidated: no longer entered, but a thread may still be inside.
    dead: AtomicBool,
    /// Threads that unlinked the block for a signal and have not relinked it.
    unlink_holds: AtomicU32,
}

/// Where a block's instruction marks and exit sites are kept.
enum Detail {
    /// In the map's own arrays (a block translated here).
    Own { marks: std::ops::Range<u32>, sites: std::ops::Range<u32> },
    /// In the record it was installed from (an image's saved block,
    /// `installed_image`), for an image at `image`. The cache keeps the
    /// saved set alive until the map is cleared.
    Saved { record: &'static [u8], image: u64 },
}

/// A guest instruction boundary inside translated code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GuestPoint {
    pub rip: u64,
    /// Host C holds CF itself (`true`) rather than !CF.
    pub carry: bool,
}

/// Every translated block, in host address order (the cache allocates
/// upwards and a flush clears the map).
#[derive(Default)]
pub struct BlockMap {
    blocks: Chunked<BlockRecord>,
    marks: Chunked<InsnMark>,
    sites: Chunked<ExitSite>,
    /// Holds over all blocks (`hold_unlinked`), so that linking, which
    /// asks after every site, rarely needs to find the site's block.
    holds: AtomicU32,
}

impl BlockMap {
    /// # Safety
    /// No thread may be reading the map (a full flush stops them all).
    pub unsafe fn clear(&self) {
        // SAFETY: the caller's contract.
        unsafe {
            self.blocks.clear();
            self.marks.clear();
            self.sites.clear();
        }
    }

    /// Records a block installed at `host_start..host_end`; returns its
    /// index, or None when the map is full (the cache must flush).
    pub fn insert(&self, rip: u64, host_start: u64, host_end: u64, marks: &[InsnMark], sites: &[ExitSite]) -> Option<usize> {
        debug_assert!(self.blocks.len() == 0 || self.blocks.get(self.blocks.len() - 1).is_some_and(|b| b.host_end <= host_start));
        let marks = self.marks.extend_from_slice(marks)?;
        let sites = self.sites.extend_from_slice(sites)?;
        self.blocks
            .push(BlockRecord {
                host_start,
                host_end,
                rip,
                detail: Detail::Own { marks: marks.start as u32..marks.end as u32, sites: sites.start as u32..sites.end as u32 },
                dead: AtomicBool::new(false),
                unlink_holds: AtomicU32::new(0),
            })
            .ok()
    }

    /// Records a saved block installed at `host_start..host_end` from
    /// `record` (already parsed), of the image at `image`: its marks and
    /// exits are read from the record when asked for. Returns its index,
    /// or None when the map is full.
    ///
    /// # Safety
    /// `record` must stay readable until the map is cleared.
    pub unsafe fn insert_saved(&self, rip: u64, host_start: u64, host_end: u64, record: &[u8], image: u64) -> Option<usize> {
        debug_assert!(SavedRecord::parse(record).is_some());
        // SAFETY: the caller's contract: it outlives every use (`clear`).
        let record: &'static [u8] = unsafe { std::mem::transmute::<&[u8], &'static [u8]>(record) };
        self.blocks
            .push(BlockRecord {
                host_start,
                host_end,
                rip,
                detail: Detail::Saved { record, image },
                dead: AtomicBool::new(false),
                unlink_holds: AtomicU32::new(0),
            })
            .ok()
    }

    /// Whether `n` more blocks fit (a chunk of saved blocks is recorded
    /// whole or not at all).
    pub fn has_room(&self, n: usize) -> bool {
        self.blocks.has_room(n)
    }

    /// Block `index` was invalidated. Its record stays: faults and signals
    /// in a thread still running its code need it.
    pub fn mark_dead(&self, index: usize) {
        if let Some(b) = self.blocks.get(index) {
            b.dead.store(true, Ordering::Release);
        }
    }

    pub fn is_dead(&self, index: usize) -> bool {
        self.blocks.get(index).is_some_and(|b| b.dead.load(Ordering::Acquire))
    }

    /// How many blocks were recorded since the last flush.
    pub fn len(&self) -> usize {
        self.blocks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A thread unlinked block `index` for a signal. Async-signal-safe.
    pub fn hold_unlinked(&self, index: usize) {
        if let Some(b) = self.blocks.get(index) {
            self.holds.fetch_add(1, Ordering::SeqCst);
            b.unlink_holds.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// The thread is done with its signal; true when no other thread still
    /// needs block `index` unlinked.
    pub fn release_unlinked(&self, index: usize) -> bool {
        self.blocks.get(index).is_some_and(|b| {
            let last = b.unlink_holds.fetch_sub(1, Ordering::SeqCst) == 1;
            self.holds.fetch_sub(1, Ordering::SeqCst);
            last
        })
    }

    /// Whether any block is held unlinked (see `unlink_held`).
    pub fn any_unlink_held(&self) -> bool {
        self.holds.load(Ordering::SeqCst) != 0
    }

    pub fn unlink_held(&self, index: usize) -> bool {
        self.blocks.get(index).is_some_and(|b| b.unlink_holds.load(Ordering::SeqCst) != 0)
    }

    /// The block whose code contains host address `pc`.
    pub fn block_at(&self, pc: u64) -> Option<usize> {
        // partition_point over the published records.
        let (mut lo, mut hi) = (0, self.blocks.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.blocks.get(mid)?.host_start <= pc {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let i = lo.checked_sub(1)?;
        (pc < self.blocks.get(i)?.host_end).then_some(i)
    }

    /// The guest instruction whose code contains `pc`. Code a block keeps
    /// out of line (after its exits) is attributed to its last instruction.
    pub fn guest_point(&self, pc: u64) -> Option<GuestPoint> {
        let b = self.blocks.get(self.block_at(pc)?)?;
        let off = (pc - b.host_start) as u32;
        let at_or_before = |m: &InsnMark| m.host_off <= off;
        let m = match &b.detail {
            Detail::Own { marks, .. } => self.marks.iter_range(marks.start as usize..marks.end as usize).copied().take_while(at_or_before).last(),
            Detail::Saved { record, .. } => SavedRecord::parse(record)?.marks().take_while(at_or_before).last(),
        }?;
        Some(GuestPoint { rip: b.rip + m.guest_off as u64, carry: m.polarity == Polarity::Carry })
    }

    /// For an alignment fault of the ordered access at host `pc`: the host
    /// address of its plain fallback (`Pad::Misaligned`), which goes back
    /// to the instruction after `pc`. Async-signal-safe.
    pub fn misaligned_pad(&self, pc: u64) -> Option<u64> {
        let b = self.blocks.get(self.block_at(pc)?)?;
        let off = (pc - b.host_start) as u32;
        let pad = match &b.detail {
            Detail::Own { marks, .. } => {
                let marks = || self.marks.iter_range(marks.start as usize..marks.end as usize).copied();
                misaligned_pad_for(marks(), marks(), off)
            }
            Detail::Saved { record, .. } => {
                let record = SavedRecord::parse(record)?;
                misaligned_pad_for(record.marks(), record.marks(), off)
            }
        }?;
        Some(b.host_start + u64::from(pad))
    }

    /// The host address of the fault landing pad of the guest instruction
    /// host `pc` is code of, if it has one (`Pad::Fault`).
    /// Async-signal-safe.
    pub fn fault_pad(&self, pc: u64) -> Option<u64> {
        let b = self.blocks.get(self.block_at(pc)?)?;
        let off = (pc - b.host_start) as u32;
        let pad = match &b.detail {
            Detail::Own { marks, .. } => fault_pad_for(self.marks.iter_range(marks.start as usize..marks.end as usize).copied(), off),
            Detail::Saved { record, .. } => fault_pad_for(SavedRecord::parse(record)?.marks(), off),
        }?;
        Some(b.host_start + u64::from(pad))
    }

    /// The RIP of the guest instruction after the one host `pc` is code
    /// of, in the same block (`paired_stack`: the pair's second push or
    /// pop, whose code is the first one's). Async-signal-safe.
    pub fn next_guest_rip(&self, pc: u64) -> Option<u64> {
        let b = self.blocks.get(self.block_at(pc)?)?;
        let off = (pc - b.host_start) as u32;
        let after = |m: &InsnMark| m.host_off > off;
        let m = match &b.detail {
            Detail::Own { marks, .. } => self.marks.iter_range(marks.start as usize..marks.end as usize).copied().find(after),
            Detail::Saved { record, .. } => SavedRecord::parse(record)?.marks().find(after),
        }?;
        Some(b.rip + m.guest_off as u64)
    }

    /// Host start address and exit sites of block `index`.
    pub fn exits(&self, index: usize) -> Option<(u64, impl Iterator<Item = ExitSite> + '_)> {
        let b = self.blocks.get(index)?;
        let (own, saved) = match &b.detail {
            Detail::Own { sites, .. } => (Some(self.sites.iter_range(sites.start as usize..sites.end as usize).copied()), None),
            Detail::Saved { record, image } => {
                let r = SavedRecord::parse(record)?;
                let direct = r.direct_exits(*image).map(|x| ExitSite::Direct {
                    off: x.site_offset as u32,
                    feeder: x.feeder.map(|f| f as u32),
                    target: x.target,
                });
                (None, Some(direct.chain(r.indirect_site().map(|off| ExitSite::Indirect { off }))))
            }
        };
        Some((b.host_start, own.into_iter().flatten().chain(saved.into_iter().flatten())))
    }
}

/// From a block's marks (in host order: pads, out of line, come after
/// every instruction's own code), the offset of the `Pad::Fault` of the
/// instruction whose code holds host offset `off`.
fn fault_pad_for(marks: impl Iterator<Item = InsnMark>, off: u32) -> Option<u32> {
    let mut point: Option<InsnMark> = None;
    for m in marks {
        if m.host_off <= off {
            point = Some(m);
        } else if m.pad == Pad::Fault && point.is_some_and(|p| p.pad.in_own_code() && p.guest_off == m.guest_off) {
            return Some(m.host_off);
        }
    }
    None
}

/// From a block's marks (given twice), the offset of the
/// `Pad::Misaligned` of the ordered access at host offset `off`: an
/// instruction's n-th pad is for its n-th `Pad::OrderedAccess` mark (the
/// marks tell, not the code, whose words change when an access is
/// pointed at its pad).
fn misaligned_pad_for(marks: impl Iterator<Item = InsnMark>, again: impl Iterator<Item = InsnMark>, off: u32) -> Option<u32> {
    // The access's instruction, and how many of its accesses come first
    // (an instruction's code is contiguous: so are its accesses' marks).
    let mut run: Option<(u16, usize)> = None;
    let mut found = None;
    for m in marks.filter(|m| m.pad == Pad::OrderedAccess) {
        let n = match run {
            Some((guest_off, n)) if guest_off == m.guest_off => n,
            _ => 0,
        };
        if m.host_off == off {
            found = Some((m.guest_off, n));
            break;
        }
        run = Some((m.guest_off, n + 1));
    }
    let (guest_off, n) = found?;
    again.filter(|m| m.pad == Pad::Misaligned && m.guest_off == guest_off).nth(n).map(|m| m.host_off)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(host_off: u32, guest_off: u16, polarity: Polarity) -> InsnMark {
        InsnMark { host_off, guest_off, polarity, pad: Pad::None }
    }

    #[test]
    fn finds_the_instruction_containing_a_host_address() {
        let map = BlockMap::default();
        map.insert(0x1000, 0x10_0000, 0x10_0040, &[mark(0, 0, Polarity::Borrow), mark(12, 3, Polarity::Carry)], &[]);
        map.insert(0x2000, 0x10_0040, 0x10_0080, &[mark(0, 0, Polarity::Borrow)], &[ExitSite::Indirect { off: 8 }]);
        assert_eq!(map.guest_point(0x10_0000), Some(GuestPoint { rip: 0x1000, carry: false }));
        assert_eq!(map.guest_point(0x10_000b), Some(GuestPoint { rip: 0x1000, carry: false }));
        assert_eq!(map.guest_point(0x10_000c), Some(GuestPoint { rip: 0x1003, carry: true }));
        assert_eq!(map.guest_point(0x10_003c), Some(GuestPoint { rip: 0x1003, carry: true }));
        assert_eq!(map.guest_point(0x10_0040), Some(GuestPoint { rip: 0x2000, carry: false }));
        assert_eq!(map.guest_point(0x10_0080), None);
        assert_eq!(map.guest_point(0xf_ffff), None);
        assert_eq!(map.block_at(0x10_0044), Some(1));
        assert_eq!(map.exits(1).unwrap().1.count(), 1);
        unsafe { map.clear() };
        assert_eq!(map.block_at(0x10_0000), None);
    }

    #[test]
    fn a_fault_in_an_instruction_with_a_pad_resumes_there() {
        let map = BlockMap::default();
        let pad = InsnMark { pad: Pad::Fault, ..mark(40, 3, Polarity::Borrow) };
        let marks = [mark(0, 0, Polarity::Borrow), mark(12, 3, Polarity::Borrow), mark(20, 7, Polarity::Borrow), mark(32, 3, Polarity::Borrow), pad];
        map.insert(0x1000, 0x10_0000, 0x10_0040, &marks, &[]);
        assert_eq!(map.fault_pad(0x10_0010), Some(0x10_0028), "the instruction at 3's own code");
        assert_eq!(map.fault_pad(0x10_0008), None, "another instruction");
        assert_eq!(map.fault_pad(0x10_0014), None, "the next one");
        assert_eq!(map.fault_pad(0x10_0020), Some(0x10_0028), "its cold access");
        assert_eq!(map.fault_pad(0x10_0028), None, "the pad itself");
        assert_eq!(map.guest_point(0x10_0010), Some(GuestPoint { rip: 0x1003, carry: false }));
    }

    #[test]
    fn each_ordered_access_has_its_own_misaligned_pad() {
        let map = BlockMap::default();
        let access = |host_off, guest_off| InsnMark { pad: Pad::OrderedAccess, ..mark(host_off, guest_off, Polarity::Borrow) };
        let pad = |host_off, guest_off| InsnMark { pad: Pad::Misaligned, ..mark(host_off, guest_off, Polarity::Borrow) };
        // Instruction 0: a load at 4 and a store at 12 (read-modify-write);
        // instruction 5: a store at 20. Pads in the same order, out of line.
        let marks = [mark(0, 0, Polarity::Borrow), access(4, 0), access(12, 0), mark(16, 5, Polarity::Borrow), access(20, 5), pad(40, 0), pad(52, 0), pad(64, 5)];
        map.insert(0x1000, 0x10_0000, 0x10_0080, &marks, &[]);
        assert_eq!(map.misaligned_pad(0x10_0004), Some(0x10_0028));
        assert_eq!(map.misaligned_pad(0x10_000c), Some(0x10_0034));
        assert_eq!(map.misaligned_pad(0x10_0014), Some(0x10_0040));
        assert_eq!(map.misaligned_pad(0x10_0008), None, "no access there");
        assert_eq!(map.guest_point(0x10_000c), Some(GuestPoint { rip: 0x1000, carry: false }));
        assert_eq!(map.fault_pad(0x10_000c), None);
    }
}
