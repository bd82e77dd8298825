//! Host code address -> guest instruction, for signals that arrive while
//! translated code runs.
//!
//! A fault needs the guest RIP of the instruction that faulted and where x86
//! CF sat in host C at that point (`Polarity`). An asynchronous signal needs
//! the running block to stop soon: the block's exits are unlinked (made to
//! fall into their lookup exits, which return to the dispatcher) until the
//! runtime has delivered the signal and relinks them.
//!
//! The signal handler reads this map while the interrupted thread is in
//! generated code, so the translator (which only runs outside generated
//! code on the same thread) is never changing it at that moment.

use crate::emit::Polarity;

/// Where one guest instruction's code starts in its block.
#[derive(Clone, Copy, Debug)]
pub struct InsnMark {
    pub host_off: u32,
    pub guest_off: u16,
    pub polarity: Polarity,
}

/// A branch that may leave the block for another translated block.
#[derive(Clone, Copy, Debug)]
pub enum ExitSite {
    /// A patchable `b` to guest `target` (falls into a lookup exit when unlinked).
    Direct { off: u32, target: u64 },
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

#[derive(Clone, Debug)]
struct BlockRecord {
    host_start: u64,
    host_end: u64,
    rip: u64,
    marks: std::ops::Range<u32>,
    sites: std::ops::Range<u32>,
    /// Invalidated: no longer entered, but a thread may still be inside.
    dead: bool,
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
    blocks: Vec<BlockRecord>,
    marks: Vec<InsnMark>,
    sites: Vec<ExitSite>,
}

impl BlockMap {
    pub fn clear(&mut self) {
        self.blocks.clear();
        self.marks.clear();
        self.sites.clear();
    }

    /// Records a block installed at `host_start..host_end`; returns its index.
    pub fn insert(&mut self, rip: u64, host_start: u64, host_end: u64, marks: &[InsnMark], sites: impl Iterator<Item = ExitSite>) -> usize {
        debug_assert!(self.blocks.last().is_none_or(|b| b.host_end <= host_start));
        let m = self.marks.len() as u32;
        let s = self.sites.len() as u32;
        self.marks.extend_from_slice(marks);
        self.sites.extend(sites);
        self.blocks.push(BlockRecord {
            host_start,
            host_end,
            rip,
            marks: m..self.marks.len() as u32,
            sites: s..self.sites.len() as u32,
            dead: false,
        });
        self.blocks.len() - 1
    }

    /// Block `index` was invalidated. Its record stays: faults and signals
    /// in a thread still running its code need it.
    pub fn mark_dead(&mut self, index: usize) {
        if let Some(b) = self.blocks.get_mut(index) {
            b.dead = true;
        }
    }

    pub fn is_dead(&self, index: usize) -> bool {
        self.blocks.get(index).is_some_and(|b| b.dead)
    }

    /// The block whose code contains host address `pc`.
    pub fn block_at(&self, pc: u64) -> Option<usize> {
        let i = self.blocks.partition_point(|b| b.host_start <= pc).checked_sub(1)?;
        (pc < self.blocks[i].host_end).then_some(i)
    }

    /// The guest instruction whose code contains `pc`. Code a block keeps
    /// out of line (after its exits) is attributed to its last instruction.
    pub fn guest_point(&self, pc: u64) -> Option<GuestPoint> {
        let b = &self.blocks[self.block_at(pc)?];
        let marks = &self.marks[b.marks.start as usize..b.marks.end as usize];
        let off = (pc - b.host_start) as u32;
        let i = marks.partition_point(|m| m.host_off <= off).checked_sub(1)?;
        let m = marks[i];
        Some(GuestPoint { rip: b.rip + m.guest_off as u64, carry: m.polarity == Polarity::Carry })
    }

    /// Host start address and exit sites of block `index`.
    pub fn exits(&self, index: usize) -> Option<(u64, &[ExitSite])> {
        let b = self.blocks.get(index)?;
        Some((b.host_start, &self.sites[b.sites.start as usize..b.sites.end as usize]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(host_off: u32, guest_off: u16, polarity: Polarity) -> InsnMark {
        InsnMark { host_off, guest_off, polarity }
    }

    #[test]
    fn finds_the_instruction_containing_a_host_address() {
        let mut map = BlockMap::default();
        map.insert(0x1000, 0x10_0000, 0x10_0040, &[mark(0, 0, Polarity::Borrow), mark(12, 3, Polarity::Carry)], std::iter::empty());
        map.insert(0x2000, 0x10_0040, 0x10_0080, &[mark(0, 0, Polarity::Borrow)], std::iter::once(ExitSite::Indirect { off: 8 }));
        assert_eq!(map.guest_point(0x10_0000), Some(GuestPoint { rip: 0x1000, carry: false }));
        assert_eq!(map.guest_point(0x10_000b), Some(GuestPoint { rip: 0x1000, carry: false }));
        assert_eq!(map.guest_point(0x10_000c), Some(GuestPoint { rip: 0x1003, carry: true }));
        assert_eq!(map.guest_point(0x10_003c), Some(GuestPoint { rip: 0x1003, carry: true }));
        assert_eq!(map.guest_point(0x10_0040), Some(GuestPoint { rip: 0x2000, carry: false }));
        assert_eq!(map.guest_point(0x10_0080), None);
        assert_eq!(map.guest_point(0xf_ffff), None);
        assert_eq!(map.block_at(0x10_0044), Some(1));
        assert_eq!(map.exits(1).unwrap().1.len(), 1);
        map.clear();
        assert_eq!(map.block_at(0x10_0000), None);
    }
}
