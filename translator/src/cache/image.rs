//! Guest images: address ranges mapped from a program's or a library's
//! file, whose code the guest never writes. Translations of their code can
//! be kept and reused by a later process, wherever ASLR loads the image
//! then (the persistent code cache, issue 14).
//!
//! The cache records every block it translates inside an image as a
//! position-independent *record* (addresses relative to the image's start,
//! the places naming absolute addresses listed per `emit::relocation`, and
//! the guest bytes it was translated from), and installs a record it was
//! given instead of translating, after checking those bytes. Files are the
//! runtime's business: it registers images with their saved blocks and
//! asks for the blocks to save (`encode`).
//!
//! A set of blocks is one byte string, read in place without decoding:
//!
//! ```text
//! "TRBLOCK2" | count: u32 | 0: u32 | index: count x (guest offset u64, record position u32, record length u32,
//!                                    checksum u64 of offset and record), sorted by guest offset | records
//! record: guest length u16 | guest instructions u16 | code length u32 | relocations u16 | marks u16 |
//!         direct exits u16 | 0: u16 | indirect site u32 (u32::MAX: none) | carry entry u32 | guest bytes |
//!         0-3 bytes to 4 | code | relocations: (kind u8 (0: movz/movk, 1: exit stub, 2: literal), words u8,
//!         exit reason u8, 0 u8, at u32, value u64) |
//!         marks: (host offset u32, guest offset u16, carry u8, 0 u8) |
//!         direct exits: (site u32, feeder u32 (u32::MAX: none), target u64)
//! ```
//! All integers little-endian; guest addresses are offsets from the image's
//! start. Nothing in a record is trusted: a record whose checksum differs,
//! that does not parse, or whose guest bytes differ from memory, is
//! translated afresh instead. Records are checked when used, so a process
//! pays for the blocks it runs, not for the whole set.

use crate::emit::relocation::Relocation;
use crate::emit::{DirectExit, TranslatedBlock};
use crate::exit::ExitReason;
use crate::insn_mark::{InsnMark, Polarity};
use std::borrow::Cow;
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"TRBLOCK2";
const HEADER: usize = 16;
const INDEX_ENTRY: usize = 24;
const RECORD_HEADER: usize = 24;
const NONE: u32 = u32::MAX;
/// When an image's blocks are written again (host instructions, measured
/// on a static hello): writing costs about one per byte already saved
/// (checksums and copies); not writing makes every later start translate
/// the new blocks again, about 6,000 each, and build the decoder's tables,
/// 0.8M, which a start whose blocks are all saved never does.
const TRANSLATION_COST: usize = 6_000;
const DECODER_TABLES_COST: usize = 800_000;

/// Saved blocks of one image (an `encode`d byte string), shared with
/// forked children.
#[derive(Clone)]
pub struct SavedBlocks(Arc<Cow<'static, [u8]>>);

impl SavedBlocks {
    /// `bytes` if they hold a well-formed header and index (records are
    /// checked one by one when used).
    pub fn new(bytes: Cow<'static, [u8]>) -> Option<SavedBlocks> {
        let count = read_u32(&bytes, 8)? as usize;
        let index_end = HEADER.checked_add(count.checked_mul(INDEX_ENTRY)?)?;
        (bytes.get(..8)? == MAGIC && index_end <= bytes.len()).then(|| SavedBlocks(Arc::new(bytes)))
    }

    pub fn len(&self) -> usize {
        read_u32(&self.0, 8).unwrap_or(0) as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `i` of the index: a guest offset and its record, if the
    /// record's checksum holds.
    fn entry(&self, i: usize) -> Option<(u64, &[u8])> {
        let at = HEADER + i * INDEX_ENTRY;
        let (off, pos, len) = (read_u64(&self.0, at)?, read_u32(&self.0, at + 8)?, read_u32(&self.0, at + 12)?);
        let record = self.0.get(pos as usize..(pos as usize).checked_add(len as usize)?)?;
        (read_u64(&self.0, at + 16)? == checksum(off, record)).then_some((off, record))
    }

    fn offset_of(&self, i: usize) -> Option<u64> {
        read_u64(&self.0, HEADER + i * INDEX_ENTRY)
    }

    /// The record of the block at guest offset `off`.
    fn find(&self, off: u64) -> Option<&[u8]> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.offset_of(mid)?.cmp(&off) {
                std::cmp::Ordering::Equal => return self.entry(mid).map(|(_, record)| record),
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
            }
        }
        None
    }
}

/// One registered image.
#[derive(Clone)]
pub struct Image {
    pub start: u64,
    pub end: u64,
    saved: Option<SavedBlocks>,
    /// Records of blocks translated in this process, with their guest offsets.
    fresh: Vec<(u64, Vec<u8>)>,
    /// False once the guest wrote code in it: neither its saved blocks nor
    /// its new ones can be trusted any more.
    usable: bool,
}

/// An image's saved blocks, held apart from the cache while one is installed.
pub struct SavedView {
    pub start: u64,
    saved: SavedBlocks,
}

impl SavedView {
    /// The saved record for guest `rip`, if any, with its guest bytes.
    pub fn saved_record(&self, rip: u64) -> Option<(&[u8], &[u8])> {
        let record = self.saved.find(rip.checked_sub(self.start)?)?;
        let guest_len = read_u16(record, 0)? as usize;
        Some((record, record.get(RECORD_HEADER..RECORD_HEADER + guest_len)?))
    }
}

/// A saved block ready to install: its code relocated for where it goes.
pub struct Restored {
    pub block: TranslatedBlock,
    pub guest_len: u64,
}

impl Image {
    pub fn new(start: u64, end: u64, saved: Option<SavedBlocks>) -> Image {
        Image { start, end, saved, fresh: Vec::new(), usable: true }
    }

    pub fn contains(&self, addr: u64) -> bool {
        (self.start..self.end).contains(&addr)
    }

    /// The guest wrote code in the image.
    pub fn spoil(&mut self) {
        self.usable = false;
        self.saved = None;
        self.fresh = Vec::new();
    }

    /// Drops the saved and the recorded blocks (they were made for another
    /// memory order); blocks translated from now on are recorded.
    pub fn forget_blocks(&mut self) {
        self.saved = None;
        self.fresh = Vec::new();
    }

    /// The image's saved blocks, apart from the cache (they are shared).
    pub fn clone_saved_view(&self) -> Option<SavedView> {
        Some(SavedView { start: self.start, saved: self.saved.clone().filter(|_| self.usable)? })
    }

    /// Records `block`, translated from `guest` (its bytes) at `rip`, if
    /// everything it names lies in the image; false if it cannot be kept.
    pub fn record(&mut self, rip: u64, guest: &[u8], block: &TranslatedBlock) -> bool {
        let inside = |a: u64| self.contains(a);
        // An address the code computes may be the image's end too (`_end`:
        // ld.so's start-up code takes it).
        let in_layout = |a: u64| inside(a) || a == self.end;
        let keepable = self.usable
            && inside(rip)
            && inside(rip + guest.len() as u64 - 1)
            && guest.len() <= u16::MAX as usize
            && block.guest_insns <= u16::MAX as usize
            && block.direct_exits.iter().all(|x| inside(x.target))
            && block.relocations.iter().all(|r| match r {
                Relocation::GuestAddress { value, .. } | Relocation::GuestLiteral { value, .. } => in_layout(*value),
                Relocation::ExitStub { .. } => true,
            });
        if keepable {
            // Sorted (and any duplicate dropped) by `encode`.
            self.fresh.push((rip - self.start, encode_record(self.start, guest, block)));
        }
        keepable
    }

    /// The image's blocks, saved and fresh, as one byte string (None when
    /// there is nothing new to save).
    pub fn encode(&self) -> Option<Vec<u8>> {
        let saved_bytes = self.saved.as_ref().map_or(0, |s| s.0.len());
        // Writing a large set again for a few new blocks would cost more
        // than translating them does.
        if !self.usable || self.fresh.is_empty() || self.fresh.len() * TRANSLATION_COST + DECODER_TABLES_COST < saved_bytes {
            return None;
        }
        // By offset; of two records for one offset the fresh one (rank 0) stays.
        let mut all: Vec<(u64, u8, &[u8])> = self.fresh.iter().map(|(o, r)| (*o, 0, r.as_slice())).collect();
        if let Some(saved) = &self.saved {
            all.extend((0..saved.len()).filter_map(|i| saved.entry(i)).map(|(o, r)| (o, 1, r)));
        }
        all.sort_unstable_by_key(|&(o, rank, _)| (o, rank));
        all.dedup_by_key(|(o, ..)| *o);
        let records: usize = all.iter().map(|(.., r)| r.len()).sum();
        let mut out = Vec::with_capacity(HEADER + all.len() * INDEX_ENTRY + records);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(all.len() as u32).to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        let mut pos = HEADER + all.len() * INDEX_ENTRY;
        for (off, _, record) in &all {
            out.extend_from_slice(&off.to_le_bytes());
            out.extend_from_slice(&(pos as u32).to_le_bytes());
            out.extend_from_slice(&(record.len() as u32).to_le_bytes());
            out.extend_from_slice(&checksum(*off, record).to_le_bytes());
            pos += record.len();
        }
        for (_, _, record) in &all {
            out.extend_from_slice(record);
        }
        Some(out)
    }
}

fn encode_record(image: u64, guest: &[u8], b: &TranslatedBlock) -> Vec<u8> {
    // Each item is put together in a fixed array and appended once: the
    // record is written for every block translated in an image.
    let code_at = (RECORD_HEADER + guest.len()).next_multiple_of(4);
    let len = code_at + b.code.len() + 16 * b.relocations.len() + 8 * b.marks.len() + 16 * b.direct_exits.len();
    let mut r = Vec::with_capacity(len);
    let mut header = [0u8; RECORD_HEADER];
    header[0..2].copy_from_slice(&(guest.len() as u16).to_le_bytes());
    header[2..4].copy_from_slice(&(b.guest_insns as u16).to_le_bytes());
    header[4..8].copy_from_slice(&(b.code.len() as u32).to_le_bytes());
    header[8..10].copy_from_slice(&(b.relocations.len() as u16).to_le_bytes());
    header[10..12].copy_from_slice(&(b.marks.len() as u16).to_le_bytes());
    header[12..14].copy_from_slice(&(b.direct_exits.len() as u16).to_le_bytes());
    header[16..20].copy_from_slice(&b.indirect_site.map_or(NONE, |s| s as u32).to_le_bytes());
    header[20..24].copy_from_slice(&b.carry_entry.to_le_bytes());
    r.extend_from_slice(&header);
    r.extend_from_slice(guest);
    r.resize(code_at, 0);
    r.extend_from_slice(&b.code);
    for rel in &b.relocations {
        let (kind, words, reason, at, value) = match *rel {
            Relocation::GuestAddress { at, words, value } => (0u8, words, 0u8, at, value.wrapping_sub(image)),
            Relocation::ExitStub { at, reason } => (1, 0, reason as u8, at, 0),
            // `words` counts the 8 bytes' two words, for `restore`'s bounds check.
            Relocation::GuestLiteral { at, value } => (2, 2, 0, at, value.wrapping_sub(image)),
        };
        let mut item = [0u8; 16];
        item[..4].copy_from_slice(&[kind, words, reason, 0]);
        item[4..8].copy_from_slice(&at.to_le_bytes());
        item[8..16].copy_from_slice(&value.to_le_bytes());
        r.extend_from_slice(&item);
    }
    for m in &b.marks {
        let mut item = [0u8; 8];
        item[..4].copy_from_slice(&m.host_off.to_le_bytes());
        item[4..6].copy_from_slice(&m.guest_off.to_le_bytes());
        item[6] = u8::from(m.polarity == Polarity::Carry);
        r.extend_from_slice(&item);
    }
    for x in &b.direct_exits {
        let mut item = [0u8; 16];
        item[..4].copy_from_slice(&(x.site_offset as u32).to_le_bytes());
        item[4..8].copy_from_slice(&x.feeder.map_or(NONE, |f| f as u32).to_le_bytes());
        item[8..16].copy_from_slice(&x.target.wrapping_sub(image).to_le_bytes());
        r.extend_from_slice(&item);
    }
    debug_assert_eq!(r.len(), len);
    r
}

/// The block of `record` with every address made absolute for an image at
/// `image` and code placed at host address `host` (`relocate`'s job for
/// the code); `code` is the buffer to fill. None if the record is
/// malformed or cannot be moved there.
pub fn restore(record: &[u8], image: u64, host: u64, stubs: &crate::emit::Stubs, mut block: TranslatedBlock) -> Option<Restored> {
    let guest_len = read_u16(record, 0)? as usize;
    let guest_insns = read_u16(record, 2)? as usize;
    let code_len = read_u32(record, 4)? as usize;
    let (n_relocs, n_marks, n_exits) = (read_u16(record, 8)? as usize, read_u16(record, 10)? as usize, read_u16(record, 12)? as usize);
    let indirect = read_u32(record, 16)?;
    let carry_entry = read_u32(record, 20)?;
    let code_at = (RECORD_HEADER + guest_len).next_multiple_of(4);
    let relocs_at = code_at.checked_add(code_len)?;
    let marks_at = relocs_at + 16 * n_relocs;
    let exits_at = marks_at + 8 * n_marks;
    if exits_at + 16 * n_exits != record.len() || code_len % 4 != 0 {
        return None;
    }
    let TranslatedBlock { mut code, mut direct_exits, mut marks, mut relocations, .. } = block;
    code.clear();
    code.extend_from_slice(record.get(code_at..relocs_at)?);
    relocations.clear();
    for i in 0..n_relocs {
        let at = relocs_at + 16 * i;
        let (kind, words, reason) = (*record.get(at)?, *record.get(at + 1)?, *record.get(at + 2)?);
        let (offset, value) = (read_u32(record, at + 4)?, read_u64(record, at + 8)?);
        if offset as usize + 4 * usize::from(words.max(1)) > code_len {
            return None;
        }
        relocations.push(match kind {
            0 if (1..=4).contains(&words) => Relocation::GuestAddress { at: offset, words, value },
            1 => Relocation::ExitStub { at: offset, reason: *ExitReason::ALL.iter().find(|r| **r as u8 == reason)? },
            2 if words == 2 => Relocation::GuestLiteral { at: offset, value },
            _ => return None,
        });
    }
    crate::emit::relocation::relocate(&mut code, &relocations, image, host, stubs).ok()?;
    for r in relocations.iter_mut() {
        *r = crate::emit::relocation::moved(*r, image);
    }
    marks.clear();
    for i in 0..n_marks {
        let at = marks_at + 8 * i;
        let polarity = if *record.get(at + 6)? != 0 { Polarity::Carry } else { Polarity::Borrow };
        marks.push(InsnMark { host_off: read_u32(record, at)?, guest_off: read_u16(record, at + 4)?, polarity });
    }
    direct_exits.clear();
    for i in 0..n_exits {
        let at = exits_at + 16 * i;
        let (site, feeder) = (read_u32(record, at)? as usize, read_u32(record, at + 4)?);
        let feeder = (feeder != NONE).then_some(feeder as usize);
        if site + 4 > code_len || feeder.is_some_and(|f| f + 4 > code_len) {
            return None;
        }
        direct_exits.push(DirectExit { site_offset: site, feeder, target: read_u64(record, at + 8)?.wrapping_add(image) });
    }
    let indirect_site = (indirect != NONE).then_some(indirect as usize).filter(|&s| s + 4 <= code_len);
    if indirect != NONE && indirect_site.is_none() {
        return None;
    }
    if carry_entry as usize + 4 > code_len.max(4) {
        return None;
    }
    block = TranslatedBlock { code, direct_exits, indirect_site, marks, relocations, guest_insns, carry_entry };
    Some(Restored { block, guest_len: guest_len as u64 })
}

/// A record's checksum, over its guest offset too (a damaged index entry
/// must not move a record to another address).
fn checksum(off: u64, record: &[u8]) -> u64 {
    let mut h = off ^ (record.len() as u64).rotate_left(32) ^ 0x9e37_79b9_7f4a_7c15;
    let mut words = record.chunks_exact(8);
    for word in &mut words {
        h = (h ^ u64::from_le_bytes(word.try_into().expect("8 bytes"))).wrapping_mul(0xff51_afd7_ed55_8ccd).rotate_left(29);
    }
    for &byte in words.remainder() {
        h = (h ^ u64::from(byte)).wrapping_mul(0xff51_afd7_ed55_8ccd).rotate_left(29);
    }
    h
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn read_u64(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(at..at + 8)?.try_into().ok()?))
}
