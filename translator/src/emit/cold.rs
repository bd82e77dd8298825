//! Cold code: paths a block rarely takes (x86's NaN rules), placed after
//! its exits so the hot path is only a test and a not-taken branch.
//!
//! `Emitter::cold` records the cold body; `finish` emits every recorded body
//! after the block's last exit, each followed by a branch back to where the
//! hot path resumes. A body runs at `finish`, when the emitter's
//! per-instruction state (scratch registers, polarity, live flags) belongs
//! to the block's end: it must use only registers the instruction reserved
//! when it recorded the body (the hot path keeps them until the next
//! instruction), and must leave NZCV alone (it returns to the middle of
//! the instruction). A memory access in a body first marks its guest
//! instruction (`mark_cold_access`): out of line, `block_map` would give
//! a fault there the block's last instruction.

use super::Emitter;
use crate::insn_mark::{InsnMark, Pad};
use dynasmrt::DynamicLabel;

/// One recorded out-of-line body.
pub(super) struct ColdPath {
    entry: DynamicLabel,
    /// Where the body goes back to (none after an exit).
    resume: Option<DynamicLabel>,
    body: Box<dyn FnOnce(&mut Emitter)>,
}

impl Emitter {
    /// Emits `branch` (given the cold entry: it branches there when the
    /// rare case holds), records `body` for the block's end, and resumes
    /// here: the body's code falls back to the instruction after `branch`.
    pub fn cold(&mut self, branch: impl FnOnce(&mut Emitter, DynamicLabel), body: impl FnOnce(&mut Emitter) + 'static) {
        let (entry, resume) = (self.label(), self.label());
        branch(self, entry);
        self.bind(resume);
        self.cold.push(ColdPath { entry, resume: Some(resume), body: Box::new(body) });
    }

    /// `cold` for a body that leaves the block (a side exit): nothing
    /// follows it.
    pub fn cold_exit(&mut self, branch: impl FnOnce(&mut Emitter, DynamicLabel), body: impl FnOnce(&mut Emitter) + 'static) {
        let entry = self.label();
        branch(self, entry);
        self.cold.push(ColdPath { entry, resume: None, body: Box::new(body) });
    }

    /// `cold` for a rare case that replaces hot code still to come: the
    /// body returns to the label this returns, which the caller binds
    /// after that code (a misaligned access done another way).
    pub fn cold_instead(&mut self, branch: impl FnOnce(&mut Emitter, DynamicLabel), body: impl FnOnce(&mut Emitter) + 'static) -> DynamicLabel {
        let (entry, resume) = (self.label(), self.label());
        branch(self, entry);
        self.cold.push(ColdPath { entry, resume: Some(resume), body: Box::new(body) });
        resume
    }

    /// The guest instruction and flag form a cold body's memory access
    /// belongs to: the current instruction's (call in the hot path).
    pub fn access_mark(&self) -> InsnMark {
        *self.marks.last().expect("a block's instructions are marked")
    }

    /// In a cold body, before a memory access: a fault there is `mark`'s
    /// instruction's.
    pub fn mark_cold_access(&mut self, mark: InsnMark) {
        self.marks.push(InsnMark { host_off: self.offset() as u32, pad: Pad::None, ..mark });
    }

    /// `finish` for a block with cold code: emits the recorded bodies (a
    /// body may record more) first. Apart from `finish`, which stays small
    /// enough to be inlined: moving the Emitter into a `mut self` there cost
    /// a 416-byte memcpy per block, 0.6% of a static hello's instructions.
    #[inline(never)]
    pub(super) fn place_cold_code(&mut self) {
        // Two buffers taking turns, both kept for the next block: one
        // allocated per block cost about 1% of translating.
        let mut batch = SPARE_BATCH.take();
        while !self.cold.is_empty() {
            std::mem::swap(&mut batch, &mut self.cold);
            for path in batch.drain(..) {
                self.bind(path.entry);
                (path.body)(self);
                if let Some(resume) = path.resume {
                    self.jump(resume);
                }
            }
        }
        SPARE_BATCH.set(batch);
    }

    /// An empty buffer for a block's cold paths (the last block's).
    pub(super) fn spare_cold_paths() -> Vec<ColdPath> {
        SPARE_COLD.take()
    }

    /// Gives the block's cold-path buffer, empty, to the next block.
    pub(super) fn recycle_cold_paths(&mut self) {
        debug_assert!(self.cold.is_empty());
        SPARE_COLD.set(std::mem::take(&mut self.cold));
    }
}

thread_local! {
    static SPARE_COLD: std::cell::Cell<Vec<ColdPath>> = const { std::cell::Cell::new(Vec::new()) };
    static SPARE_BATCH: std::cell::Cell<Vec<ColdPath>> = const { std::cell::Cell::new(Vec::new()) };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::host::HostFeatures;
    use crate::emit::{a64, Stubs};
    use dynasmrt::DynasmLabelApi;

    fn words(code: &[u8]) -> Vec<u32> {
        code.chunks(4).map(|c| u32::from_le_bytes(c.try_into().unwrap())).collect()
    }

    #[test]
    fn cold_bodies_follow_the_block_and_branch_back() {
        let mut e = Emitter::new(0, HostFeatures::BASELINE, Stubs::default());
        a64!(e.ops; add x1, x1, 1);
        e.cold(|e, entry| a64!(e.ops; cbz x2, =>entry), |e| a64!(e.ops; mov x3, 7));
        a64!(e.ops; add x1, x1, 2 ; ret);
        let w = words(&e.finish(0).code);
        let cbz_offset = |w: u32| (((w >> 5) & 0x7ffff) as i32) << 13 >> 11;
        let b_offset = |w: u32| ((w & 0x03ff_ffff) as i32) << 6 >> 4;
        assert_eq!(w.len(), 6, "{w:x?}");
        // cbz at 4 jumps to the body at 16, which returns to 8.
        assert_eq!(w[1] & 0xff00_001f, 0xb400_0002);
        assert_eq!(4 + cbz_offset(w[1]), 16);
        assert_eq!(w[4], 0xd280_00e3, "mov x3, 7");
        assert_eq!(w[5] & 0xfc00_0000, 0x1400_0000);
        assert_eq!(20 + b_offset(w[5]), 8);
    }
}
