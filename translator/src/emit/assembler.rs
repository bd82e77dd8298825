//! The assembler one block is emitted into: dynasm-rs's `VecAssembler`
//! semantics, but its buffers (code bytes, labels, relocations) come from
//! a per-thread pool and go back to it after the block is installed.
//! Allocating them per block (and pushing each instruction byte by byte)
//! was about a fifth of a static hello's instructions, where translation
//! is nearly all the work.
//!
//! Labels and relocations are local to the block: branches between its
//! own labels are relative, so the assembler needs no base address.

use dynasmrt::aarch64::Aarch64Relocation;
use dynasmrt::components::{LabelRegistry, PatchLoc, RelocRegistry, StaticLabel};
use dynasmrt::{AssemblyOffset, DynamicLabel, DynasmApi, DynasmError, DynasmLabelApi, LabelKind};
use std::cell::Cell;

type Relocs = RelocRegistry<Aarch64Relocation>;

pub struct BlockAssembler {
    ops: Vec<u8>,
    labels: LabelRegistry,
    relocs: Relocs,
    error: Option<DynasmError>,
}

/// The label and relocation buffers of a finished block's assembler.
struct SpareLabels {
    labels: LabelRegistry,
    relocs: Relocs,
}

impl Default for SpareLabels {
    fn default() -> Self {
        SpareLabels { labels: LabelRegistry::new(), relocs: RelocRegistry::new() }
    }
}

thread_local! {
    // The code buffer apart from the labels: it comes back later (once
    // the cache has copied the code), and moving the labels' registries
    // in and out with it cost 3% of translating Python's blocks.
    static SPARE_CODE: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
    static SPARE_LABELS: Cell<Option<SpareLabels>> = const { Cell::new(None) };
}

/// Blocks average about 60 bytes of code; a kilobyte rarely grows.
const INITIAL_CODE_BYTES: usize = 1024;

impl BlockAssembler {
    /// An empty assembler, on this thread's pooled buffers when they are free.
    pub fn new() -> Self {
        let mut ops = SPARE_CODE.take();
        ops.clear();
        ops.reserve(INITIAL_CODE_BYTES);
        let SpareLabels { labels, relocs } = SPARE_LABELS.take().unwrap_or_default();
        BlockAssembler { ops, labels, relocs, error: None }
    }

    pub fn new_dynamic_label(&mut self) -> DynamicLabel {
        self.labels.new_dynamic_label()
    }

    pub fn push_u32(&mut self, word: u32) {
        self.ops.extend_from_slice(&word.to_le_bytes());
    }

    /// Rewrites the word at byte offset `at` (a load's offset, filled in
    /// once its target is placed).
    pub fn patch_u32(&mut self, at: usize, f: impl FnOnce(u32) -> u32) {
        let word = u32::from_le_bytes(self.ops[at..at + 4].try_into().expect("4 bytes"));
        self.ops[at..at + 4].copy_from_slice(&f(word).to_le_bytes());
    }

    /// Several instruction words at once (one capacity check).
    pub fn push_words(&mut self, words: &[u32]) {
        self.ops.reserve(4 * words.len());
        for w in words {
            self.ops.extend_from_slice(&w.to_le_bytes());
        }
    }

    /// Resolves every label reference and returns the code; the label and
    /// relocation buffers go back to the pool (give the code back with
    /// `recycle_code`).
    pub fn finish(&mut self) -> Result<Vec<u8>, DynasmError> {
        let resolved = self.resolve();
        let mut labels = std::mem::take(&mut self.labels);
        labels.clear();
        let relocs = std::mem::replace(&mut self.relocs, RelocRegistry::new());
        SPARE_LABELS.set(Some(SpareLabels { labels, relocs }));
        resolved.map(|()| std::mem::take(&mut self.ops))
    }

    fn resolve(&mut self) -> Result<(), DynasmError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        for (loc, label) in self.relocs.take_statics() {
            let target = self.labels.resolve_static(&label)?;
            patch(&mut self.ops, &loc, target, || DynasmError::ImpossibleRelocation(dynasmrt::TargetKind::Local(label.get_name())))?;
        }
        for (loc, id) in self.relocs.take_dynamics() {
            let target = self.labels.resolve_dynamic(id)?;
            patch(&mut self.ops, &loc, target, || DynasmError::ImpossibleRelocation(dynasmrt::TargetKind::Dynamic(id)))?;
        }
        Ok(())
    }
}

impl Default for BlockAssembler {
    fn default() -> Self {
        Self::new()
    }
}

fn patch(
    ops: &mut [u8],
    loc: &PatchLoc<Aarch64Relocation>,
    target: AssemblyOffset,
    error: impl FnOnce() -> DynasmError,
) -> Result<(), DynasmError> {
    let buf = &mut ops[loc.range(0)];
    loc.patch(buf, 0, target.0).map_err(|_| error())
}

/// This thread's spare code buffer, empty (give it back with `recycle_code`).
pub fn spare_code_buffer() -> Vec<u8> {
    let mut ops = SPARE_CODE.take();
    ops.clear();
    ops
}

/// Gives a finished block's code buffer back to this thread's pool once
/// the cache has copied it.
pub fn recycle_code(ops: Vec<u8>) {
    let spare = SPARE_CODE.take();
    SPARE_CODE.set(if ops.capacity() > spare.capacity() { ops } else { spare });
}

impl Extend<u8> for BlockAssembler {
    fn extend<T: IntoIterator<Item = u8>>(&mut self, iter: T) {
        self.ops.extend(iter)
    }
}

impl<'a> Extend<&'a u8> for BlockAssembler {
    fn extend<T: IntoIterator<Item = &'a u8>>(&mut self, iter: T) {
        self.ops.extend(iter)
    }
}

impl DynasmApi for BlockAssembler {
    fn offset(&self) -> AssemblyOffset {
        AssemblyOffset(self.ops.len())
    }
    fn push(&mut self, byte: u8) {
        self.ops.push(byte);
    }
    fn push_u32(&mut self, value: u32) {
        BlockAssembler::push_u32(self, value);
    }
    fn align(&mut self, alignment: usize, with: u8) {
        while self.ops.len() % alignment != 0 {
            self.ops.push(with);
        }
    }
}

impl DynasmLabelApi for BlockAssembler {
    type Relocation = Aarch64Relocation;

    fn local_label(&mut self, name: &'static str) {
        let offset = self.offset();
        self.labels.define_local(name, offset);
    }
    fn global_label(&mut self, name: &'static str) {
        let offset = self.offset();
        if let Err(e) = self.labels.define_global(name, offset) {
            self.error = Some(e)
        }
    }
    fn dynamic_label(&mut self, id: DynamicLabel) {
        let offset = self.offset();
        if let Err(e) = self.labels.define_dynamic(id, offset) {
            self.error = Some(e)
        }
    }
    fn global_relocation(&mut self, name: &'static str, target_offset: isize, field_offset: u8, ref_offset: u8, kind: Aarch64Relocation) {
        let location = self.offset();
        self.relocs.add_static(StaticLabel::global(name), PatchLoc::new(location, target_offset, field_offset, ref_offset, kind));
    }
    fn dynamic_relocation(&mut self, id: DynamicLabel, target_offset: isize, field_offset: u8, ref_offset: u8, kind: Aarch64Relocation) {
        let location = self.offset();
        self.relocs.add_dynamic(id, PatchLoc::new(location, target_offset, field_offset, ref_offset, kind));
    }
    fn forward_relocation(&mut self, name: &'static str, target_offset: isize, field_offset: u8, ref_offset: u8, kind: Aarch64Relocation) {
        let location = self.offset();
        let label = match self.labels.place_local_reference(name) {
            Some(label) => label.next(),
            None => StaticLabel::first(name),
        };
        self.relocs.add_static(label, PatchLoc::new(location, target_offset, field_offset, ref_offset, kind));
    }
    fn backward_relocation(&mut self, name: &'static str, target_offset: isize, field_offset: u8, ref_offset: u8, kind: Aarch64Relocation) {
        let location = self.offset();
        match self.labels.place_local_reference(name) {
            Some(label) => self.relocs.add_static(label, PatchLoc::new(location, target_offset, field_offset, ref_offset, kind)),
            None => self.error = Some(DynasmError::UnknownLabel(LabelKind::Local(name))),
        }
    }
    fn value_relocation(&mut self, value: usize, field_offset: u8, ref_offset: u8, kind: Aarch64Relocation) {
        // Absolute values would need the block's final address: generated
        // code never asks for one (`Emitter::b_abs` encodes its own).
        let location = self.offset();
        let loc = PatchLoc::new(location, 0, field_offset, ref_offset, kind);
        let buf = &mut self.ops[loc.range(0)];
        if loc.patch(buf, 0, value).is_err() {
            self.error = Some(DynasmError::ImpossibleRelocation(dynasmrt::TargetKind::Value(value)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::a64;

    #[test]
    fn labels_resolve_like_dynasms_own_assembler_and_buffers_are_reused() {
        let mut ours = BlockAssembler::new();
        let mut theirs = dynasmrt::VecAssembler::<Aarch64Relocation>::new(0);
        let (a, b) = (ours.new_dynamic_label(), theirs.new_dynamic_label());
        let (a2, b2) = (ours.new_dynamic_label(), theirs.new_dynamic_label());
        a64!(ours; =>a ; b =>a2 ; cbz x1, =>a ; nop ; =>a2 ; b.ne =>a);
        a64!(theirs; =>b ; b =>b2 ; cbz x1, =>b ; nop ; =>b2 ; b.ne =>b);
        let code = ours.finish().unwrap();
        assert_eq!(code, theirs.finalize().unwrap());
        let capacity = code.capacity();
        recycle_code(code);
        let mut again = BlockAssembler::new();
        assert!(again.ops.capacity() >= capacity && again.ops.is_empty());
        assert_eq!(again.new_dynamic_label().get_id(), 0, "labels start afresh");
    }

    #[test]
    fn an_unbound_label_is_an_error() {
        let mut ops = BlockAssembler::new();
        let l = ops.new_dynamic_label();
        a64!(ops; b =>l);
        assert!(ops.finish().is_err());
    }
}
