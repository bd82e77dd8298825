//! Guest images: address ranges mapped from a program's or a library's
//! file, whose code the guest never writes. Translations of their code can
//! be kept and reused by a later process, wherever ASLR loads the image
//! then (the persistent code cache, issue 14).
//!
//! The cache records every block it translates inside an image as a
//! position-independent *record* (addresses relative to the image's start,
//! the places naming absolute addresses listed per `emit::relocation`, and
//! the guest bytes it was translated from); `installed_image` installs the
//! records it was given instead of translating, a chunk of the image at a
//! time, after checking those bytes. Files are the runtime's business: it
//! registers images with their saved blocks and asks for the blocks to
//! save (`encode`).
//!
//! A set of blocks is one byte string, read in place without decoding:
//!
//! ```text
//! "TRBLOCK6" | count: u32 | pages: u32 | index: count x (guest offset u64, record position u32, record length u32,
//!                                        checksum u64: CRC-32C of offset, length and record), sorted by guest offset |
//!             directory: (pages + 1) x u32, entry p the index of the first block at or past guest page p | records
//! record: guest length u16 | guest instructions u16 | code length u32 | relocations u16 | marks u16 |
//!         direct exits u16 | flags u16 (bit 0: ends with a call, bit 1: a fixed slot) | indirect site u32 (u32::MAX: none) |
//!         carry entry u32 | guest bytes |
//!         0-3 bytes to 4 | code | relocations: (kind u8 (0: movz/movk, 1: exit stub, 2: literal), words u8,
//!         exit reason u8, 0 u8, at u32, value u64) |
//!         marks: (host offset u32, guest offset u16, carry u8, 0 u8) |
//!         direct exits: (site u32, feeder u32 (u32::MAX: none), target u32,
//!                        target's index entry u32 (u32::MAX: none)) |
//!         with bit 1, the fixed slot: (slot u64, its value u64)
//! ```
//! All integers little-endian; guest addresses are offsets from the image's
//! start. Nothing in a record is trusted: a record whose checksum differs,
//! that does not parse, or whose guest bytes differ from memory, is
//! translated afresh instead. Records are checked when their chunk of the
//! image is first run, so a process pays for the chunks it runs, not for
//! the whole set. A direct exit names its target's index entry (filled in
//! when the set is written), so installing links blocks without a search.
//! A block whose last branch went through a fixed slot
//! (`frontend::fixed_slots`) names the slot and the value it read there,
//! both in the image: it is installed only where the slot is fixed and
//! holds the same value, its page watched from then on.

use crate::emit::relocation::{branch_to, put_literal, relocate_one, Relocation};
use crate::emit::Stubs;
use crate::emit::{DirectExit, TranslatedBlock};
use crate::insn_mark::{InsnMark, Pad, Polarity};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"TRBLOCK6";
/// The directory's pages: 4 KiB of guest code each.
const DIRECTORY_SHIFT: u32 = 12;
const HEADER: usize = 16;
const INDEX_ENTRY: usize = 24;
const RECORD_HEADER: usize = 24;
const NONE: u32 = u32::MAX;
/// Header flags.
const ENDS_WITH_CALL: u16 = 1;
const FIXED_SLOT: u16 = 2;
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
pub struct SavedBlocks {
    bytes: Arc<Cow<'static, [u8]>>,
    /// Its index's entries and its directory's pages, read once by `new`:
    /// a warm start asks for entries about ten times per block.
    count: usize,
    pages: usize,
}

impl SavedBlocks {
    /// `bytes` if they hold a well-formed header and index (records are
    /// checked one by one when used).
    pub fn new(bytes: Cow<'static, [u8]>) -> Option<SavedBlocks> {
        let (count, pages) = (read_u32(&bytes, 8)? as usize, read_u32(&bytes, 12)? as usize);
        let index_end = HEADER.checked_add(count.checked_mul(INDEX_ENTRY)?)?;
        let directory_end = index_end.checked_add(pages.checked_add(1)?.checked_mul(4)?)?;
        (bytes.get(..8)? == MAGIC && directory_end <= bytes.len()).then(|| SavedBlocks { bytes: Arc::new(bytes), count, pages })
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Entry `i` of the index: a guest offset and its record, if the
    /// record's checksum holds.
    fn entry(&self, i: usize) -> Option<(u64, &[u8])> {
        let e = self.index().get(i)?;
        let (off, pos, len, sum) = (u64_in(e, 0), u32_in(e, 8) as usize, u32_in(e, 12) as usize, u64_in(e, 16));
        let record = self.bytes.get(pos..pos.checked_add(len)?)?;
        (sum == checksum(off, record)).then_some((off, record))
    }

    /// The guest offset of index entry `i`.
    pub fn offset(&self, i: usize) -> Option<u64> {
        self.index().get(i).map(|e| u64_in(e, 0))
    }

    /// The index, an entry per item (`new` checked that it fits).
    fn index(&self) -> &[[u8; INDEX_ENTRY]] {
        self.bytes[HEADER..HEADER + self.count * INDEX_ENTRY].as_chunks().0
    }

    /// The index entry of the block at guest offset `off`, if the set has
    /// one (its record is checked when read, `entry`). The directory
    /// narrows the search to the entries of `off`'s page (a few, against
    /// 15 steps over Python's 27,000), read in place.
    pub fn index_of(&self, off: u64) -> Option<usize> {
        let page = usize::try_from(off >> DIRECTORY_SHIFT).ok()?;
        let page_entries = self.entries_of_pages(page..page + 1);
        let found = self.index().get(page_entries.clone())?.binary_search_by_key(&off, |entry| u64_in(entry, 0));
        Some(page_entries.start + found.ok()?)
    }

    /// The index entries of the blocks starting in guest pages `pages`
    /// (4 KiB each, from the image's start): empty past the directory's end.
    fn entries_of_pages(&self, pages: Range<usize>) -> Range<usize> {
        let directory_at = HEADER + self.count * INDEX_ENTRY;
        let first_of = |page: usize| read_u32(&self.bytes, directory_at + 4 * page.min(self.pages)).map_or(0, |e| e as usize);
        let (first, end) = (first_of(pages.start), first_of(pages.end).min(self.count));
        first.min(end)..end
    }

    /// The index entries of the blocks starting at a guest offset in
    /// `offsets` (page-aligned).
    pub fn entries_in(&self, offsets: Range<u64>) -> Range<usize> {
        let page = |off: u64| usize::try_from(off >> DIRECTORY_SHIFT).unwrap_or(usize::MAX);
        self.entries_of_pages(page(offsets.start)..page(offsets.end))
    }

    /// The blocks of index entries `entries` whose records' checksums
    /// hold, in guest order: (index entry, guest offset, record).
    pub fn records_in(&self, entries: Range<usize>) -> impl Iterator<Item = (usize, u64, &[u8])> + '_ {
        entries.filter_map(|i| self.entry(i).map(|(off, record)| (i, off, record)))
    }

    /// Every block of the set whose record's checksum holds (`records_in`).
    pub fn records(&self) -> impl Iterator<Item = (usize, u64, &[u8])> + '_ {
        (0..self.len()).filter_map(|i| self.entry(i).map(|(off, record)| (i, off, record)))
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

    /// Forgets the blocks recorded so far, not the saved ones: a forked
    /// child leaves its parent's to the parent, which saves them.
    pub fn forget_recorded(&mut self) {
        self.fresh = Vec::new();
    }

    /// The image's saved blocks, unless the guest wrote code in it.
    pub fn saved_blocks(&self) -> Option<SavedBlocks> {
        self.saved.clone().filter(|_| self.usable)
    }

    /// False once the guest wrote code in it.
    pub fn keeps_blocks(&self) -> bool {
        self.usable
    }

    /// Records `block`, translated from `guest` (its bytes) at `rip`, if
    /// everything it names lies in the image (`fixed`, the fixed slot its
    /// last branch went through and the value read there, too); false if it
    /// cannot be kept.
    pub fn record(&mut self, rip: u64, guest: &[u8], block: &TranslatedBlock, fixed: Option<(u64, u64)>) -> bool {
        let inside = |a: u64| self.contains(a);
        // An address the code computes may be the image's end too (`_end`:
        // ld.so's start-up code takes it).
        let in_layout = |a: u64| inside(a) || a == self.end;
        // Exits name their targets by 32-bit offsets.
        let keepable = self.usable
            && self.end - self.start <= u64::from(u32::MAX)
            && inside(rip)
            && inside(rip + guest.len() as u64 - 1)
            && guest.len() <= u16::MAX as usize
            && block.guest_insns <= u16::MAX as usize
            && fixed.is_none_or(|(slot, value)| inside(slot) && inside(value))
            && block.direct_exits.iter().all(|x| inside(x.target))
            && block.relocations.iter().all(|r| match r {
                Relocation::GuestAddress { value, .. } | Relocation::GuestLiteral { value, .. } => in_layout(*value),
                Relocation::ExitStub { .. } => true,
            });
        if keepable {
            // Sorted (and any duplicate dropped) by `encode`.
            self.fresh.push((rip - self.start, encode_record(self.start, guest, block, fixed)));
        }
        keepable
    }

    /// The image's blocks, saved and fresh, as one byte string (None when
    /// there is nothing new worth saving). In a forked child the decoder's
    /// tables are not counted: its new blocks are mostly the path between
    /// fork and exec, which the parent's next child, tables already built,
    /// translates again for less than writing the whole set costs.
    pub fn encode(&self, forked_child: bool) -> Option<Vec<u8>> {
        let saved_bytes = self.saved.as_ref().map_or(0, |s| s.bytes.len());
        let tables = if forked_child { 0 } else { DECODER_TABLES_COST };
        // Writing a large set again for a few new blocks would cost more
        // than translating them does.
        if !self.usable || self.fresh.is_empty() || self.fresh.len() * TRANSLATION_COST + tables < saved_bytes {
            return None;
        }
        // By offset; of two records for one offset the fresh one (rank 0) stays.
        let mut all: Vec<(u64, u8, &[u8])> = self.fresh.iter().map(|(o, r)| (*o, 0, r.as_slice())).collect();
        if let Some(saved) = &self.saved {
            all.extend(saved.records().filter(|(.., r)| SavedRecord::parse(r).is_some()).map(|(_, o, r)| (o, 1, r)));
        }
        all.sort_unstable_by_key(|&(o, rank, _)| (o, rank));
        all.dedup_by_key(|(o, ..)| *o);
        // The records, each exit given its target's entry in this set.
        let mut records = Vec::with_capacity(all.iter().map(|(.., r)| r.len()).sum());
        let mut spans = Vec::with_capacity(all.len());
        for (_, _, record) in &all {
            let at = records.len();
            records.extend_from_slice(record);
            let exits = usize::from(u16::from_le_bytes([record[12], record[13]]));
            let flags = u16::from_le_bytes([record[14], record[15]]);
            let exits_end = records.len() - if flags & FIXED_SLOT != 0 { 16 } else { 0 };
            for item in records[exits_end - 16 * exits..exits_end].as_chunks_mut::<16>().0 {
                let target = u64::from(u32_in(item, 8));
                let entry = all.binary_search_by_key(&target, |&(o, ..)| o).map_or(NONE, |e| e as u32);
                item[12..16].copy_from_slice(&entry.to_le_bytes());
            }
            spans.push(at..records.len());
        }
        let pages = all.last().map_or(0, |&(o, ..)| (o >> DIRECTORY_SHIFT) as usize + 1);
        let mut out = Vec::with_capacity(HEADER + all.len() * INDEX_ENTRY + 4 * (pages + 1) + records.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(all.len() as u32).to_le_bytes());
        out.extend_from_slice(&(pages as u32).to_le_bytes());
        let records_at = HEADER + all.len() * INDEX_ENTRY + 4 * (pages + 1);
        for ((off, ..), span) in all.iter().zip(&spans) {
            out.extend_from_slice(&off.to_le_bytes());
            out.extend_from_slice(&((records_at + span.start) as u32).to_le_bytes());
            out.extend_from_slice(&(span.len() as u32).to_le_bytes());
            out.extend_from_slice(&checksum(*off, &records[span.clone()]).to_le_bytes());
        }
        for page in 0..=pages as u64 {
            let first = all.partition_point(|&(o, ..)| o >> DIRECTORY_SHIFT < page);
            out.extend_from_slice(&(first as u32).to_le_bytes());
        }
        out.extend_from_slice(&records);
        Some(out)
    }
}

fn encode_record(image: u64, guest: &[u8], b: &TranslatedBlock, fixed: Option<(u64, u64)>) -> Vec<u8> {
    // Each item is put together in a fixed array and appended once: the
    // record is written for every block translated in an image.
    let code_at = (RECORD_HEADER + guest.len()).next_multiple_of(4);
    let len = code_at + b.code.len() + 16 * b.relocations.len() + 8 * b.marks.len() + 16 * b.direct_exits.len() + if fixed.is_some() { 16 } else { 0 };
    let mut r = Vec::with_capacity(len);
    let mut header = [0u8; RECORD_HEADER];
    header[0..2].copy_from_slice(&(guest.len() as u16).to_le_bytes());
    header[2..4].copy_from_slice(&(b.guest_insns as u16).to_le_bytes());
    header[4..8].copy_from_slice(&(b.code.len() as u32).to_le_bytes());
    header[8..10].copy_from_slice(&(b.relocations.len() as u16).to_le_bytes());
    header[10..12].copy_from_slice(&(b.marks.len() as u16).to_le_bytes());
    header[12..14].copy_from_slice(&(b.direct_exits.len() as u16).to_le_bytes());
    let flags = if b.ends_with_call { ENDS_WITH_CALL } else { 0 } | if fixed.is_some() { FIXED_SLOT } else { 0 };
    header[14..16].copy_from_slice(&flags.to_le_bytes());
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
        item[7] = m.pad.code();
        r.extend_from_slice(&item);
    }
    for x in &b.direct_exits {
        let mut item = [0u8; 16];
        item[..4].copy_from_slice(&(x.site_offset as u32).to_le_bytes());
        item[4..8].copy_from_slice(&x.feeder.map_or(NONE, |f| f as u32).to_le_bytes());
        item[8..12].copy_from_slice(&(x.target.wrapping_sub(image) as u32).to_le_bytes());
        // Filled in by `encode`, which knows the set.
        item[12..16].copy_from_slice(&NONE.to_le_bytes());
        r.extend_from_slice(&item);
    }
    if let Some((slot, value)) = fixed {
        r.extend_from_slice(&slot.wrapping_sub(image).to_le_bytes());
        r.extend_from_slice(&value.wrapping_sub(image).to_le_bytes());
    }
    debug_assert_eq!(r.len(), len);
    r
}

/// A saved block's record, its layout checked (`parse`): read in place by
/// the installation of an image's blocks and, for a signal in one, by the
/// block map (its instruction marks and exits).
#[derive(Clone, Copy)]
pub struct SavedRecord<'a> {
    record: &'a [u8],
    /// Its guest bytes and host code, sliced once: read for every block
    /// a warm start installs.
    guest: &'a [u8],
    code: &'a [u8],
    /// Where its other parts start.
    relocations_at: u32,
    marks_at: u32,
    exits_at: u32,
    /// Where its direct exits end (and its fixed slot starts).
    exits_end: u32,
}

impl<'a> SavedRecord<'a> {
    /// `record`'s parts, if its lengths add up and its exit sites, their
    /// feeders, its indirect site and its carry entry lie in its code
    /// (relocations are checked when applied, `relocate`).
    pub fn parse(record: &'a [u8]) -> Option<SavedRecord<'a>> {
        let header: &[u8; RECORD_HEADER] = record.get(..RECORD_HEADER)?.try_into().ok()?;
        let count = |at: usize| usize::from(u16_in(header, at));
        let (guest_len, code_len) = (count(0), u32_in(header, 4) as usize);
        let (n_relocs, n_marks, n_exits) = (count(8), count(10), count(12));
        let code_at = (RECORD_HEADER + guest_len).next_multiple_of(4);
        let relocs_at = code_at.checked_add(code_len)?;
        let marks_at = relocs_at + 16 * n_relocs;
        let exits_at = marks_at + 8 * n_marks;
        let exits_end = exits_at + 16 * n_exits;
        let slot_len = if u16_in(header, 14) & FIXED_SLOT != 0 { 16 } else { 0 };
        if exits_end + slot_len != record.len() || code_len % 4 != 0 || record.len() > u32::MAX as usize {
            return None;
        }
        let r = SavedRecord {
            record,
            guest: &record[RECORD_HEADER..RECORD_HEADER + guest_len],
            code: &record[code_at..relocs_at],
            relocations_at: relocs_at as u32,
            marks_at: marks_at as u32,
            exits_at: exits_at as u32,
            exits_end: exits_end as u32,
        };
        let in_code = |at: u32| at as usize + 4 <= code_len;
        let exits_fit = r.exit_items().iter().all(|x| in_code(u32_in(x, 0)) && (u32_in(x, 4) == NONE || in_code(u32_in(x, 4))));
        let indirect_fits = r.indirect_site().is_none_or(in_code);
        let entry_fits = code_len == 0 && r.carry_entry() == 0 || in_code(r.carry_entry());
        (exits_fit && indirect_fits && entry_fits).then_some(r)
    }

    fn header(&self) -> &'a [u8; RECORD_HEADER] {
        self.record[..RECORD_HEADER].try_into().expect("parsed")
    }

    fn exit_items(&self) -> &'a [[u8; 16]] {
        self.record[self.exits_at as usize..self.exits_end as usize].as_chunks().0
    }

    /// The fixed slot its last branch went through and the value it read
    /// there, as offsets from the image's start.
    pub fn fixed_slot(&self) -> Option<(u64, u64)> {
        if u16_in(self.header(), 14) & FIXED_SLOT == 0 {
            return None;
        }
        let trailer: &[u8; 16] = self.record.get(self.exits_end as usize..)?.try_into().ok()?;
        Some((u64_in(trailer, 0), u64_in(trailer, 8)))
    }

    /// The guest bytes it was translated from.
    pub fn guest(&self) -> &'a [u8] {
        self.guest
    }

    /// Its host code, as emitted for the address it was saved from.
    pub fn code(&self) -> &'a [u8] {
        self.code
    }

    pub fn guest_insns(&self) -> usize {
        usize::from(u16_in(self.header(), 2))
    }

    /// Offset of the entry for host C in the carry form (`TranslatedBlock::carry_entry`).
    pub fn carry_entry(&self) -> u32 {
        u32_in(self.header(), 20)
    }

    /// Whether the block ends with a call (its end is a return address).
    pub fn ends_with_call(&self) -> bool {
        u16_in(self.header(), 14) & ENDS_WITH_CALL != 0
    }

    pub fn indirect_site(&self) -> Option<u32> {
        Some(u32_in(self.header(), 16)).filter(|&s| s != NONE)
    }

    /// Relocates `code`, a copy of its code placed at host address
    /// `host`, for the image at `image` and exit stubs `stubs`; false if
    /// an item is not a relocation or cannot be applied (the block must
    /// not be used). Exit-stub branches, most of the items, are written
    /// here without building a `Relocation`: a warm start relocates every
    /// block it installs.
    pub fn relocate(&self, code: &mut [u8], image: u64, host: u64, stubs: &Stubs) -> bool {
        let items = self.record[self.relocations_at as usize..self.marks_at as usize].as_chunks::<16>().0;
        for item in items {
            let (kind, words, at, value) = (item[0], item[1], u32_in(item, 4), u64_in(item, 8));
            let applied = match kind {
                1 => stubs.exit.get(usize::from(item[2])).is_some_and(|&stub| branch_to(code, at, host, stub).is_ok()),
                2 if words == 2 => put_literal(code, at, value.wrapping_add(image)).is_ok(),
                0 if (1..=4).contains(&words) => relocate_one(code, Relocation::GuestAddress { at, words, value }, image, host, stubs).is_ok(),
                _ => false,
            };
            if !applied {
                return false;
            }
        }
        true
    }

    /// Its guest instruction boundaries, in host code order.
    pub fn marks(&self) -> impl Iterator<Item = InsnMark> + 'a {
        self.record[self.marks_at as usize..self.exits_at as usize].as_chunks::<8>().0.iter().map(|item| InsnMark {
            host_off: u32_in(item, 0),
            guest_off: u16_in(item, 4),
            polarity: if item[6] != 0 { Polarity::Carry } else { Polarity::Borrow },
            pad: Pad::from_code(item[7]),
        })
    }

    /// Its direct exits, for the image placed at `image`.
    pub fn direct_exits(&self, image: u64) -> impl Iterator<Item = DirectExit> + 'a {
        self.exit_items().iter().map(move |item| {
            let feeder = u32_in(item, 4);
            DirectExit {
                site_offset: u32_in(item, 0) as usize,
                feeder: (feeder != NONE).then_some(feeder as usize),
                target: u64::from(u32_in(item, 8)).wrapping_add(image),
            }
        })
    }

    /// For each direct exit, in order: the index entry of its target's
    /// block in the set the record was read from, if it has one. Written
    /// with the set, so that installing it links its blocks to each other
    /// without a search (`SavedBlocks::offset` confirms the target).
    pub fn exit_entries(&self) -> impl Iterator<Item = Option<usize>> + 'a {
        self.exit_items().iter().map(|item| Some(u32_in(item, 12)).filter(|&e| e != NONE).map(|e| e as usize))
    }
}

/// A record's checksum: CRC-32C over its guest offset (a damaged index
/// entry must not move a record to another address), its length and its
/// bytes (FEAT_CRC32 takes 8 bytes an instruction).
fn checksum(off: u64, record: &[u8]) -> u64 {
    u64::from(crate::crc32c::words_then_bytes(!0, [off, record.len() as u64], record))
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

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

