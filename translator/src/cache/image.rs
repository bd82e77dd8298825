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
//! "TRBLOCK4" | count: u32 | pages: u32 | index: count x (guest offset u64, record position u32, record length u32,
//!                                        checksum u64: CRC-32C of offset, length and record), sorted by guest offset |
//!             directory: (pages + 1) x u32, entry p the index of the first block at or past guest page p | records
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

const MAGIC: &[u8; 8] = b"TRBLOCK4";
/// The directory's pages: 4 KiB of guest code each.
const DIRECTORY_SHIFT: u32 = 12;
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
        let (count, pages) = (read_u32(&bytes, 8)? as usize, read_u32(&bytes, 12)? as usize);
        let index_end = HEADER.checked_add(count.checked_mul(INDEX_ENTRY)?)?;
        let directory_end = index_end.checked_add(pages.checked_add(1)?.checked_mul(4)?)?;
        (bytes.get(..8)? == MAGIC && directory_end <= bytes.len()).then(|| SavedBlocks(Arc::new(bytes)))
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
        let e = self.index().get(i)?;
        let (off, pos, len, sum) = (u64_in(e, 0), u32_in(e, 8) as usize, u32_in(e, 12) as usize, u64_in(e, 16));
        let record = self.0.get(pos..pos.checked_add(len)?)?;
        (sum == checksum(off, record)).then_some((off, record))
    }

    /// The index, an entry per item (`new` checked that it fits).
    fn index(&self) -> &[[u8; INDEX_ENTRY]] {
        self.0[HEADER..HEADER + self.len() * INDEX_ENTRY].as_chunks().0
    }

    /// The record of the block at guest offset `off`. A warm start looks
    /// up every block it runs: the directory narrows the search to the
    /// entries of `off`'s page (a few, against 15 steps over Python's
    /// 27,000), read in place.
    fn find(&self, off: u64) -> Option<&[u8]> {
        let page = usize::try_from(off >> DIRECTORY_SHIFT).ok()?;
        if page >= read_u32(&self.0, 12)? as usize {
            return None;
        }
        let directory_at = HEADER + self.len() * INDEX_ENTRY;
        let (first, end) = (read_u32(&self.0, directory_at + 4 * page)?, read_u32(&self.0, directory_at + 4 * page + 4)?);
        let page_entries = self.index().get(first as usize..end as usize)?;
        let i = first as usize + page_entries.binary_search_by_key(&off, |entry| u64_in(entry, 0)).ok()?;
        self.entry(i).map(|(_, record)| record)
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
        let pages = all.last().map_or(0, |&(o, ..)| (o >> DIRECTORY_SHIFT) as usize + 1);
        let mut out = Vec::with_capacity(HEADER + all.len() * INDEX_ENTRY + 4 * (pages + 1) + records);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(all.len() as u32).to_le_bytes());
        out.extend_from_slice(&(pages as u32).to_le_bytes());
        let mut pos = HEADER + all.len() * INDEX_ENTRY + 4 * (pages + 1);
        for (off, _, record) in &all {
            out.extend_from_slice(&off.to_le_bytes());
            out.extend_from_slice(&(pos as u32).to_le_bytes());
            out.extend_from_slice(&(record.len() as u32).to_le_bytes());
            out.extend_from_slice(&checksum(*off, record).to_le_bytes());
            pos += record.len();
        }
        for page in 0..=pages as u64 {
            let first = all.partition_point(|&(o, ..)| o >> DIRECTORY_SHIFT < page);
            out.extend_from_slice(&(first as u32).to_le_bytes());
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
/// `image` and code placed at host address `host` (`relocate_one`'s job
/// for the code); `block`'s buffers are filled. None if the record is
/// malformed or cannot be moved there. Runs once per block of a warm start,
/// so every item is read through a fixed-size view (one bounds check per
/// item) and relocated as it is read; the block keeps no relocations
/// (nothing records a restored block again).
pub fn restore(record: &[u8], image: u64, host: u64, stubs: &crate::emit::Stubs, block: TranslatedBlock) -> Option<Restored> {
    let header: &[u8; RECORD_HEADER] = record.get(..RECORD_HEADER)?.try_into().ok()?;
    let count = |at: usize| usize::from(u16_in(header, at));
    let (guest_len, guest_insns, code_len) = (count(0), count(2), u32_in(header, 4) as usize);
    let (n_relocs, n_marks, n_exits) = (count(8), count(10), count(12));
    let (indirect, carry_entry) = (u32_in(header, 16), u32_in(header, 20));
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
    for item in record[relocs_at..marks_at].as_chunks::<16>().0 {
        let (kind, words, reason) = (item[0], item[1], item[2]);
        let (offset, value) = (u32_in(item, 4), u64_in(item, 8));
        if offset as usize + 4 * usize::from(words.max(1)) > code_len {
            return None;
        }
        let relocation = match kind {
            0 if (1..=4).contains(&words) => Relocation::GuestAddress { at: offset, words, value },
            1 => Relocation::ExitStub { at: offset, reason: ExitReason::from_raw(u64::from(reason))? },
            2 if words == 2 => Relocation::GuestLiteral { at: offset, value },
            _ => return None,
        };
        crate::emit::relocation::relocate_one(&mut code, relocation, image, host, stubs).ok()?;
    }
    marks.clear();
    marks.extend(record[marks_at..exits_at].as_chunks::<8>().0.iter().map(|item| InsnMark {
        host_off: u32_in(item, 0),
        guest_off: u16_in(item, 4),
        polarity: if item[6] != 0 { Polarity::Carry } else { Polarity::Borrow },
    }));
    direct_exits.clear();
    for item in record[exits_at..].as_chunks::<16>().0 {
        let (site, feeder) = (u32_in(item, 0) as usize, u32_in(item, 4));
        let feeder = (feeder != NONE).then_some(feeder as usize);
        if site + 4 > code_len || feeder.is_some_and(|f| f + 4 > code_len) {
            return None;
        }
        let target = u64_in(item, 8).wrapping_add(image);
        direct_exits.push(DirectExit { site_offset: site, feeder, target });
    }
    let indirect_site = (indirect != NONE).then_some(indirect as usize).filter(|&s| s + 4 <= code_len);
    if indirect != NONE && indirect_site.is_none() {
        return None;
    }
    if carry_entry as usize + 4 > code_len.max(4) {
        return None;
    }
    let block = TranslatedBlock { code, direct_exits, indirect_site, marks, relocations, guest_insns, carry_entry };
    Some(Restored { block, guest_len: guest_len as u64 })
}

/// A record's checksum: CRC-32C over its guest offset (a damaged index
/// entry must not move a record to another address), its length and its
/// bytes (FEAT_CRC32 takes 8 bytes an instruction).
fn checksum(off: u64, record: &[u8]) -> u64 {
    let crc = crate::crc32c::bytes(!0, &off.to_le_bytes());
    let crc = crate::crc32c::bytes(crc, &(record.len() as u64).to_le_bytes());
    u64::from(crate::crc32c::bytes(crc, record))
}

// Little-endian fields of a fixed-size item (an index entry, a record's
// header or one of its items): at constant offsets, no bounds are checked
// at run time.
fn u16_in<const N: usize>(item: &[u8; N], at: usize) -> u16 {
    u16::from_le_bytes([item[at], item[at + 1]])
}

fn u32_in<const N: usize>(item: &[u8; N], at: usize) -> u32 {
    u32::from_le_bytes([item[at], item[at + 1], item[at + 2], item[at + 3]])
}

fn u64_in<const N: usize>(item: &[u8; N], at: usize) -> u64 {
    u64::from_le_bytes(*item[at..].first_chunk().expect("8 bytes at `at`"))
}

fn read_u16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

