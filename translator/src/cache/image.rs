//! Guest images: address ranges mapped from a program's or a library's
//! file, whose code the guest never writes. Translations of their code can
//! be kept and reused by a later process, wherever ASLR loads the image
//! then (the persistent code cache, issue 14).
//!
//! The cache records every block it translates inside an image
//! position-independently (addresses relative to the image's start, the
//! places naming absolute addresses listed per `emit::relocation`, and the
//! guest bytes it was translated from); `installed_image` installs the
//! blocks it was given instead of translating, a 64 KiB chunk of the image
//! at a time. Files are the runtime's business: it registers images with
//! their saved blocks and asks for the blocks to save (`encode`).
//!
//! A set of blocks is one byte string, read in place without decoding.
//! Each chunk's code is one piece, laid out and linked when the set is
//! written: its blocks one after another, each direct exit to a block of
//! the same chunk already branching there, so that installing a chunk is
//! one copy, its relocations and a record per block, not a link per exit.
//! Its branches to exit stubs go through veneers at its end, one per stub,
//! so that only the veneers name a stub's address.
//!
//! ```text
//! "TRBLOCK7" | count: u32 | pages: u32 | chunks: u32 | unsaved targets: u32 |
//! index: count x (guest offset u32, record position u32, record length u32,
//!                 code offset u32 in its chunk's code), sorted by guest offset |
//! directory: (pages + 1) x u32, entry p the index of the first block at or past guest page p |
//! chunks: chunks x (chunk u32 (guest offset >> 16), first index entry u32, entries u32,
//!                   records position u32, length u32, code position u32, length u32,
//!                   relocations position u32, count u32, exit-stub branches u32, checksum u32) |
//! exits to unsaved targets: count x (target u32, index entry u32, site u32, feeder u32 (u32::MAX: none)),
//!                          sorted by target, then their checksum u32 |
//! records | per chunk: code (its blocks, then its veneers), relocations, exit-stub branches
//! record: guest length u16 | guest instructions u16 | code length u32 | relocations u16 | marks u16 |
//!         direct exits u16 | flags u16 (bit 0: ends with a call, bit 1: a fixed slot, bit 2: an exit to a saved
//!         block that its chunk's code does not link) | indirect site u32 (u32::MAX: none) |
//!         carry entry u32 | guest bytes |
//!         marks: (host offset u32, guest offset u16, carry u8, pad u8) |
//!         direct exits: (site u32, feeder u32 (u32::MAX: none), target u32,
//!                        target's index entry u32 (u32::MAX: none; bit 31: linked in the chunk's code)) |
//!         with bit 1, the fixed slot: (slot u64, its value u64)
//! relocation: kind u8 (0: movz/movk, 1: exit stub, 2: literal) | words u8 | exit reason u8 | 0 u8 |
//!             at u32 (in the chunk's code) | value u64
//!             (exit-stub branches: kind 1, branching to their veneer; not applied, kept for writing the set again)
//! ```
//! All integers little-endian; guest addresses are offsets from the image's
//! start; a chunk's blocks and their relocations are in index order, each
//! block's code at a 16-byte boundary (as in the code buffer). Nothing is
//! trusted: a chunk whose checksum (CRC-32C of its table row, its index
//! entries, records, code and relocations) differs, whose records do not
//! parse, or whose guest bytes differ from memory, is translated afresh
//! instead. Chunks are checked when first run, so a process pays for the
//! chunks it runs, not for the whole set. A direct exit names its
//! target's index entry, so installing links the exits that leave the
//! chunk without a search. An exit to code no saved block starts at (an
//! error path, mostly never run) is not linked or booked when its chunk
//! is installed: the table of such exits by target finds it when that
//! code is translated. A block whose last branch went through a fixed
//! slot (`frontend::fixed_slots`) names the slot and the value it read
//! there, both in the image: it is entered only where the slot is fixed
//! and holds the same value, so no exit is linked to it in the chunk's
//! code, nor from it.

use crate::cache::retarget_branch;
use crate::emit::relocation::{branch_to, put_literal, relocate_one, Relocation};
use crate::emit::{encode_b, Stubs};
use crate::emit::{DirectExit, TranslatedBlock};
use crate::insn_mark::{InsnMark, Pad, Polarity};
use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"TRBLOCK7";
/// The directory's pages: 4 KiB of guest code each.
const DIRECTORY_SHIFT: u32 = 12;
/// The chunks installed at once (and laid out together), as a shift of
/// guest bytes.
pub const CHUNK_SHIFT: u32 = 16;
const HEADER: usize = 24;
const INDEX_ENTRY: usize = 16;
const CHUNK_ROW: usize = 44;
/// A chunk row's bytes before its checksum.
const CHUNK_ROW_SUMMED: usize = 40;
const RECORD_HEADER: usize = 24;
const RELOCATION: usize = 16;
const UNSAVED_EXIT: usize = 16;
/// A block's code starts at this alignment in its chunk's code, which is
/// placed at it in the code buffer.
pub const BLOCK_ALIGN: usize = 16;
const NONE: u32 = u32::MAX;
/// Relocation kinds.
const GUEST_ADDRESS: u8 = 0;
const EXIT_STUB: u8 = 1;
const GUEST_LITERAL: u8 = 2;
/// An exit's target entry with this bit set: the exit already branches to
/// its target in the chunk's code.
const LINKED_IN_CHUNK: u32 = 1 << 31;
/// Header flags.
const ENDS_WITH_CALL: u16 = 1;
const FIXED_SLOT: u16 = 2;
/// Written with the set: an exit to a saved block of another chunk (or
/// from or to a block through a fixed slot), which installing links.
const LINKED_AT_INSTALL: u16 = 4;
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
    /// Its index's entries, its directory's pages and its chunks, read
    /// once by `new`: a warm start asks for entries about ten times per
    /// block.
    count: usize,
    pages: usize,
    chunks: usize,
    unsaved_exits: usize,
}

impl SavedBlocks {
    /// `bytes` if they hold a well-formed header, index, directory and
    /// chunk table (chunks are checked one by one when used).
    pub fn new(bytes: Cow<'static, [u8]>) -> Option<SavedBlocks> {
        let field = |at: usize| read_u32(&bytes, at).map(|n| n as usize);
        let (count, pages, chunks, unsaved_exits) = (field(8)?, field(12)?, field(16)?, field(20)?);
        let index_end = HEADER.checked_add(count.checked_mul(INDEX_ENTRY)?)?;
        let directory_end = index_end.checked_add(pages.checked_add(1)?.checked_mul(4)?)?;
        let table_end = directory_end.checked_add(chunks.checked_mul(CHUNK_ROW)?)?;
        let unsaved_end = table_end.checked_add(unsaved_exits.checked_mul(UNSAVED_EXIT)?.checked_add(4)?)?;
        (bytes.get(..8)? == MAGIC && unsaved_end <= bytes.len()).then(|| SavedBlocks { bytes: Arc::new(bytes), count, pages, chunks, unsaved_exits })
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The guest offset of index entry `i`.
    pub fn offset(&self, i: usize) -> Option<u64> {
        self.index().get(i).map(|e| u64::from(u32_in(e, 0)))
    }

    /// The index, an entry per item (`new` checked that it fits).
    fn index(&self) -> &[[u8; INDEX_ENTRY]] {
        self.bytes[HEADER..HEADER + self.count * INDEX_ENTRY].as_chunks().0
    }

    fn directory_at(&self) -> usize {
        HEADER + self.count * INDEX_ENTRY
    }

    /// The chunk table, a row per chunk (`new` checked that it fits).
    fn chunk_rows(&self) -> &[[u8; CHUNK_ROW]] {
        let at = self.directory_at() + 4 * (self.pages + 1);
        self.bytes[at..at + self.chunks * CHUNK_ROW].as_chunks().0
    }

    /// The exits to code no saved block starts at (`new` checked that they
    /// fit; `unsaved_exits_hold` checks them).
    pub fn unsaved_exits(&self) -> UnsavedExits<'_> {
        let at = self.directory_at() + 4 * (self.pages + 1) + self.chunks * CHUNK_ROW;
        UnsavedExits { items: self.bytes[at..at + self.unsaved_exits * UNSAVED_EXIT].as_chunks().0 }
    }

    /// Whether the checksum of `unsaved_exits` holds.
    pub fn unsaved_exits_hold(&self) -> bool {
        let items = self.unsaved_exits().items.as_flattened();
        let at = items.as_ptr() as usize - self.bytes.as_ptr() as usize + items.len();
        read_u32(&self.bytes, at) == Some(crate::crc32c::bytes(!0, items))
    }

    /// The index entry of the block at guest offset `off`, if the set has
    /// one. The directory narrows the search to the entries of `off`'s
    /// page (a few, against 15 steps over Python's 27,000), read in place.
    pub fn index_of(&self, off: u64) -> Option<usize> {
        let page = usize::try_from(off >> DIRECTORY_SHIFT).ok()?;
        let page_entries = self.entries_of_pages(page..page + 1);
        let found = self.index().get(page_entries.clone())?.binary_search_by_key(&off, |entry| u64::from(u32_in(entry, 0)));
        Some(page_entries.start + found.ok()?)
    }

    /// The index entries of the blocks starting in guest pages `pages`
    /// (4 KiB each, from the image's start): empty past the directory's end.
    fn entries_of_pages(&self, pages: Range<usize>) -> Range<usize> {
        let first_of = |page: usize| read_u32(&self.bytes, self.directory_at() + 4 * page.min(self.pages)).map_or(0, |e| e as usize);
        let (first, end) = (first_of(pages.start), first_of(pages.end).min(self.count));
        first.min(end)..end
    }

    /// Chunk `number` (guest offsets `number << CHUNK_SHIFT` on), if the
    /// set has it and its checksum holds.
    pub fn chunk(&self, number: u64) -> Option<SavedChunk<'_>> {
        let rows = self.chunk_rows();
        let row = &rows[rows.binary_search_by_key(&number, |r| u64::from(u32_in(r, 0))).ok()?];
        let field = |at: usize| u32_in(row, at) as usize;
        let first = field(4);
        let index = self.index().get(first..first.checked_add(field(8))?)?;
        let span = |at: usize, len: usize| self.bytes.get(at..at.checked_add(len)?);
        let records = span(field(12), field(16))?;
        let code = span(field(20), field(24))?;
        let relocations = span(field(28), field(32).checked_mul(RELOCATION)?)?;
        let stub_branches = span(field(28) + relocations.len(), field(36).checked_mul(RELOCATION)?)?;
        let sum = [index.as_flattened(), records, code, relocations, stub_branches].iter().fold(crate::crc32c::bytes(!0, &row[..CHUNK_ROW_SUMMED]), |sum, part| crate::crc32c::bytes(sum, part));
        (sum == u32_in(row, CHUNK_ROW_SUMMED)).then(|| SavedChunk {
            first,
            index,
            records_at: field(12),
            records,
            code,
            relocations: relocations.as_chunks().0,
            stub_branches: stub_branches.as_chunks().0,
        })
    }

    /// The record of index entry `i`, whose chunk was checked when it was
    /// installed (`chunk`): a block left for later reads it again.
    pub fn installed_record(&self, i: usize) -> Option<SavedRecord<'_>> {
        let e = self.index().get(i)?;
        let (pos, len) = (u32_in(e, 4) as usize, u32_in(e, 8) as usize);
        SavedRecord::parse(self.bytes.get(pos..pos.checked_add(len)?)?)
    }

    /// Every chunk whose checksum holds.
    fn chunks(&self) -> impl Iterator<Item = SavedChunk<'_>> + '_ {
        self.chunk_rows().iter().filter_map(|row| self.chunk(u64::from(u32_in(row, 0))))
    }
}

/// The exits of a set's blocks to code no saved block starts at, by
/// target.
pub struct UnsavedExits<'a> {
    items: &'a [[u8; UNSAVED_EXIT]],
}

impl UnsavedExits<'_> {
    /// The exits to guest offset `off`: the index entry of their block,
    /// and the offsets of their site and its feeder in its code.
    pub fn to(&self, off: u64) -> impl Iterator<Item = (usize, u32, Option<u32>)> + '_ {
        let first = self.items.partition_point(|e| u64::from(u32_in(e, 0)) < off);
        self.items[first..].iter().take_while(move |e| u64::from(u32_in(e, 0)) == off).map(|e| {
            let feeder = u32_in(e, 12);
            (u32_in(e, 4) as usize, u32_in(e, 8), (feeder != NONE).then_some(feeder))
        })
    }
}

/// One chunk of a set, its checksum checked (`SavedBlocks::chunk`).
pub struct SavedChunk<'a> {
    first: usize,
    index: &'a [[u8; INDEX_ENTRY]],
    records_at: usize,
    records: &'a [u8],
    /// Its blocks' code, laid out and linked to each other.
    pub code: &'a [u8],
    relocations: &'a [[u8; RELOCATION]],
    /// Its blocks' branches to exit stubs, which go to its veneers.
    stub_branches: &'a [[u8; RELOCATION]],
}

/// A block of a chunk.
#[derive(Clone, Copy)]
pub struct SavedBlock<'a> {
    /// Its index entry and guest offset.
    pub entry: u32,
    pub off: u32,
    /// Where its code starts in the chunk's code.
    pub code_at: u32,
    pub record: SavedRecord<'a>,
}

impl<'a> SavedChunk<'a> {
    /// Its index entries.
    pub fn entries(&self) -> Range<usize> {
        self.first..self.first + self.index.len()
    }

    /// Its blocks in index order; None for a block whose record does not
    /// parse or whose parts lie outside the chunk (the chunk must not be
    /// used).
    pub fn blocks(&self) -> impl Iterator<Item = Option<SavedBlock<'a>>> + '_ {
        self.index.iter().enumerate().map(|(n, e)| {
            let (off, pos, len, code_at) = (u32_in(e, 0), u32_in(e, 4) as usize, u32_in(e, 8) as usize, u32_in(e, 12));
            let at = pos.checked_sub(self.records_at)?;
            let bytes = self.records.get(at..at.checked_add(len)?)?;
            let record = SavedRecord::parse(bytes)?;
            let code_end = (code_at as usize).checked_add(record.code_len())?;
            (code_at as usize % BLOCK_ALIGN == 0 && code_end <= self.code.len())
                .then_some(SavedBlock { entry: (self.first + n) as u32, off, code_at, record })
        })
    }

    /// Relocates `code`, a copy of the chunk's code placed at host address
    /// `host`, for the image at `image` and exit stubs `stubs`; false if
    /// an item is not a relocation or cannot be applied (the chunk must
    /// not be used). Exit-stub branches, most of the items, are written
    /// here without building a `Relocation`.
    pub fn relocate(&self, code: &mut [u8], image: u64, host: u64, stubs: &Stubs) -> bool {
        self.relocations.iter().all(|item| {
            let (kind, words, at, value) = (item[0], item[1], u32_in(item, 4), u64_in(item, 8));
            match kind {
                EXIT_STUB => stubs.exit.get(usize::from(item[2])).is_some_and(|&stub| branch_to(code, at, host, stub).is_ok()),
                GUEST_LITERAL if words == 2 => put_literal(code, at, value.wrapping_add(image)).is_ok(),
                GUEST_ADDRESS if (1..=4).contains(&words) => relocate_one(code, Relocation::GuestAddress { at, words, value }, image, host, stubs).is_ok(),
                _ => false,
            }
        })
    }

    /// `block`'s code and relocations (at offsets in its code) as they were
    /// before the chunk was laid out: its exits linked in the chunk's code
    /// point back at their stubs. For writing the set again.
    fn unlaid(&self, block: &SavedBlock) -> Option<(Vec<u8>, Vec<[u8; RELOCATION]>)> {
        let (from, len) = (block.code_at as usize, block.record.code_len());
        // Its exits are linked again as they are written.
        if block.record.exits(0).count() != block.record.exit_items().len() {
            return None;
        }
        let mut code = self.code.get(from..from + len)?.to_vec();
        for (exit, _, linked) in block.record.exits(0) {
            if linked {
                unlink_in(&mut code, exit.site_offset as u32, exit.feeder.map(|f| f as u32))?;
            }
        }
        // Each list holds the blocks' items in block order.
        let of_block = |items: &'a [[u8; RELOCATION]]| {
            let first = items.partition_point(|r| u32_in(r, 4) < block.code_at);
            items[first..].iter().take_while(|r| (u32_in(r, 4) as usize) < block.code_at as usize + len)
        };
        let relocations: Vec<[u8; RELOCATION]> = of_block(self.relocations)
            .chain(of_block(self.stub_branches))
            .map(|r| {
                let mut item = *r;
                item[4..8].copy_from_slice(&(u32_in(r, 4) - block.code_at).to_le_bytes());
                item
            })
            .collect();
        (relocations.len() == block.record.relocation_count()).then_some((code, relocations))
    }
}

/// Points the exit `b` at byte `site` of `code` (and its feeder, at
/// `feeder`) back at the instruction behind it, as the emitter left it.
fn unlink_in(code: &mut [u8], site: u32, feeder: Option<u32>) -> Option<()> {
    let back = encode_b(u64::from(site), u64::from(site) + 4)?;
    put_word(code, site, back)?;
    if let Some(feeder) = feeder {
        let word = retarget_branch(word_at(code, feeder)?, u64::from(feeder), u64::from(site))?;
        put_word(code, feeder, word)?;
    }
    Some(())
}

/// Points the exit `b` at byte `site` of `code` at byte `to`, and its
/// feeder too when in range (`cache::point_site`, within one piece of code).
fn link_in(code: &mut [u8], site: u32, feeder: Option<u32>, to: u32) -> Option<()> {
    put_word(code, site, encode_b(u64::from(site), u64::from(to))?)?;
    if let Some(feeder) = feeder {
        if let Some(word) = retarget_branch(word_at(code, feeder)?, u64::from(feeder), u64::from(to)) {
            put_word(code, feeder, word)?;
        }
    }
    Some(())
}

fn word_at(code: &[u8], at: u32) -> Option<u32> {
    read_u32(code, at as usize)
}

fn put_word(code: &mut [u8], at: u32, word: u32) -> Option<()> {
    code.get_mut(at as usize..at as usize + 4)?.copy_from_slice(&word.to_le_bytes());
    Some(())
}

/// A block as `encode` lays it out.
struct Laid<'a> {
    off: u64,
    /// 0: translated in this process; 1: saved (the first one stays).
    rank: u8,
    record: &'a [u8],
    code: Cow<'a, [u8]>,
    relocations: Cow<'a, [[u8; RELOCATION]]>,
}

impl Laid<'_> {
    fn flags(&self) -> u16 {
        u16::from_le_bytes([self.record[14], self.record[15]])
    }
}

/// A block translated in this process, as `encode` will write it: its
/// record, then its code, then its relocations (at offsets in its code),
/// at `at` in its image's `fresh_bytes` (one buffer for all: an allocation
/// per translated block showed in first runs).
#[derive(Clone)]
struct FreshBlock {
    off: u64,
    at: usize,
    record_len: usize,
    len: usize,
}

impl FreshBlock {
    fn laid<'a>(&self, fresh_bytes: &'a [u8]) -> Laid<'a> {
        let bytes = &fresh_bytes[self.at..self.at + self.len];
        let record = &bytes[..self.record_len];
        let code_len = u32::from_le_bytes(record[4..8].try_into().expect("4 bytes")) as usize;
        let (code, relocations) = bytes[self.record_len..].split_at(code_len);
        Laid { off: self.off, rank: 0, record, code: Cow::Borrowed(code), relocations: Cow::Borrowed(relocations.as_chunks().0) }
    }
}

/// One registered image.
#[derive(Clone)]
pub struct Image {
    pub start: u64,
    pub end: u64,
    saved: Option<SavedBlocks>,
    /// Blocks translated in this process, and their bytes.
    fresh: Vec<FreshBlock>,
    fresh_bytes: Vec<u8>,
    /// False once the guest wrote code in it: neither its saved blocks nor
    /// its new ones can be trusted any more.
    usable: bool,
    /// Blocks translated in it since the last flush (installing a chunk
    /// looks for exit targets among them).
    pub translated_blocks: usize,
}

impl Image {
    pub fn new(start: u64, end: u64, saved: Option<SavedBlocks>) -> Image {
        Image { start, end, saved, fresh: Vec::new(), fresh_bytes: Vec::new(), usable: true, translated_blocks: 0 }
    }

    pub fn contains(&self, addr: u64) -> bool {
        (self.start..self.end).contains(&addr)
    }

    /// The guest wrote code in the image.
    pub fn spoil(&mut self) {
        self.usable = false;
        self.saved = None;
        self.fresh = Vec::new();
        self.fresh_bytes = Vec::new();
    }

    /// Drops the saved and the recorded blocks (they were made for another
    /// memory order); blocks translated from now on are recorded.
    pub fn forget_blocks(&mut self) {
        self.saved = None;
        self.fresh = Vec::new();
        self.fresh_bytes = Vec::new();
    }

    /// Forgets the blocks recorded so far, not the saved ones: a forked
    /// child leaves its parent's to the parent, which saves them.
    pub fn forget_recorded(&mut self) {
        self.fresh = Vec::new();
        self.fresh_bytes = Vec::new();
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
        // Exits name their targets by 32-bit offsets, index entries guest
        // offsets by 32 bits too.
        let keepable = self.usable
            && self.end - self.start <= u64::from(u32::MAX)
            && inside(rip)
            && inside(rip + guest.len() as u64 - 1)
            && guest.len() <= u16::MAX as usize
            && block.guest_insns <= u16::MAX as usize
            && block.relocations.len() <= u16::MAX as usize
            && fixed.is_none_or(|(slot, value)| inside(slot) && inside(value))
            && block.direct_exits.iter().all(|x| inside(x.target))
            && block.relocations.iter().all(|r| match r {
                Relocation::GuestAddress { value, .. } | Relocation::GuestLiteral { value, .. } => in_layout(*value),
                Relocation::ExitStub { .. } => true,
            });
        if keepable {
            // Sorted (and any duplicate dropped) by `encode`.
            self.fresh.push(encode_fresh(self.start, rip, guest, block, fixed, &mut self.fresh_bytes));
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
        // By offset; of two blocks at one offset the fresh one (rank 0) stays.
        let mut laid: Vec<Laid> = self.fresh.iter().map(|f| f.laid(&self.fresh_bytes)).collect();
        if let Some(saved) = &self.saved {
            for chunk in saved.chunks() {
                let Some(blocks) = chunk.blocks().collect::<Option<Vec<_>>>() else { continue };
                for block in blocks {
                    let Some((code, relocations)) = chunk.unlaid(&block) else { continue };
                    laid.push(Laid { off: u64::from(block.off), rank: 1, record: block.record.bytes(), code: Cow::Owned(code), relocations: Cow::Owned(relocations) });
                }
            }
        }
        // Sorted as small keys (the blocks themselves are large to move).
        let mut order: Vec<(u64, u8, u32)> = laid.iter().enumerate().map(|(i, b)| (b.off, b.rank, i as u32)).collect();
        sort_by_page(&mut order, |k| k.0);
        order.dedup_by_key(|k| k.0);
        let all: Vec<&Laid> = order.iter().map(|&(.., i)| &laid[i as usize]).collect();
        let flags: Vec<u16> = all.iter().map(|b| b.flags()).collect();
        let chunk_of = |off: u64| off >> CHUNK_SHIFT;
        // The directory: the first block at or past each page.
        let directory = page_starts(all.iter().map(|b| b.off));
        let pages = directory.len() - 1;
        let entry_of = |off: u64| {
            let page = usize::try_from(off >> DIRECTORY_SHIFT).ok().filter(|&p| p < pages)?;
            let first = directory[page] as usize;
            order[first..directory[page + 1] as usize].binary_search_by_key(&off, |k| k.0).ok().map(|e| first + e)
        };

        // The records, each exit given its target's entry in this set, and
        // whether the chunk's code links it there.
        let mut records = Vec::with_capacity(all.iter().map(|b| b.record.len()).sum());
        let mut spans = Vec::with_capacity(all.len());
        let mut linked = Vec::new();
        let mut unsaved = Vec::new();
        for (i, block) in all.iter().enumerate() {
            let at = records.len();
            records.extend_from_slice(block.record);
            let exits = usize::from(u16::from_le_bytes([block.record[12], block.record[13]]));
            let exits_end = records.len() - if flags[i] & FIXED_SLOT != 0 { 16 } else { 0 };
            let mut linked_at_install = false;
            for item in records[exits_end - 16 * exits..exits_end].as_chunks_mut::<16>().0 {
                let target = u64::from(u32_in(item, 8));
                let entry = entry_of(target);
                let links_here = entry.is_some_and(|e| chunk_of(all[e].off) == chunk_of(block.off) && (flags[i] | flags[e]) & FIXED_SLOT == 0);
                let value = entry.map_or(NONE, |e| e as u32 | if links_here { LINKED_IN_CHUNK } else { 0 });
                item[12..16].copy_from_slice(&value.to_le_bytes());
                if let Some(e) = entry.filter(|_| links_here) {
                    linked.push((i, u32_in(item, 0), u32_in(item, 4), e));
                }
                linked_at_install |= entry.is_some() && !links_here;
                if entry.is_none() {
                    unsaved.push([target as u32, i as u32, u32_in(item, 0), u32_in(item, 4)]);
                }
            }
            let flags = (flags[i] & !LINKED_AT_INSTALL) | if linked_at_install { LINKED_AT_INSTALL } else { 0 };
            records[at + 14..at + 16].copy_from_slice(&flags.to_le_bytes());
            spans.push(at..records.len());
        }

        // Each chunk's code: its blocks laid out, then linked to each other.
        let mut code_at = vec![0u32; all.len()];
        let mut chunk_of_block = vec![0usize; all.len()];
        let mut chunks: Vec<(u64, Range<usize>, Vec<u8>, Vec<[u8; RELOCATION]>, Vec<[u8; RELOCATION]>)> = Vec::new();
        let mut first = 0;
        while first < all.len() {
            let number = chunk_of(all[first].off);
            let end = first + all[first..].partition_point(|b| chunk_of(b.off) == number);
            let blocks = &all[first..end];
            let mut code = Vec::with_capacity(blocks.iter().map(|b| b.code.len().next_multiple_of(BLOCK_ALIGN)).sum::<usize>() + 64);
            let items = blocks.iter().map(|b| b.relocations.len()).sum();
            let (mut relocations, mut stub_branches) = (Vec::with_capacity(items), Vec::with_capacity(items));
            for (i, block) in all.iter().enumerate().take(end).skip(first) {
                code.resize(code.len().next_multiple_of(BLOCK_ALIGN), 0);
                code_at[i] = code.len() as u32;
                code.extend_from_slice(&block.code);
                for item in block.relocations.iter() {
                    let mut item = *item;
                    let at = u32_in(&item, 4) + code_at[i];
                    item[4..8].copy_from_slice(&at.to_le_bytes());
                    if item[0] == EXIT_STUB { &mut stub_branches } else { &mut relocations }.push(item);
                }
            }
            // A veneer per stub the chunk's blocks branch to.
            let mut veneers = [None; 256];
            for item in &stub_branches {
                let veneer = *veneers[usize::from(item[2])].get_or_insert_with(|| {
                    let at = code.len() as u32;
                    code.extend_from_slice(&[0; 4]);
                    let mut veneer = *item;
                    veneer[4..8].copy_from_slice(&at.to_le_bytes());
                    relocations.push(veneer);
                    at
                });
                let site = u32_in(item, 4);
                put_word(&mut code, site, encode_b(u64::from(site), u64::from(veneer))?)?;
            }
            chunk_of_block[first..end].fill(chunks.len());
            chunks.push((number, first..end, code, relocations, stub_branches));
            first = end;
        }
        for &(i, site, feeder, target) in &linked {
            let chunk = &mut chunks[chunk_of_block[i]];
            let at = code_at[i];
            let feeder = (feeder != NONE).then(|| at + feeder);
            // Within one chunk's code every branch reaches (a few MiB at most).
            if link_in(&mut chunk.2, at + site, feeder, code_at[target]).is_none() {
                return None;
            }
        }

        sort_by_page(&mut unsaved, |e| u64::from(e[0]));
        let unsaved_bytes: Vec<u8> = unsaved.iter().flat_map(|e| le_words(*e)).collect();
        let records_at = HEADER + all.len() * INDEX_ENTRY + 4 * (pages + 1) + chunks.len() * CHUNK_ROW + unsaved_bytes.len() + 4;
        let code_bytes: usize = chunks.iter().map(|c| c.2.len() + RELOCATION * (c.3.len() + c.4.len())).sum();
        let mut out = Vec::with_capacity(records_at + records.len() + code_bytes);
        out.extend_from_slice(MAGIC);
        for n in [all.len(), pages, chunks.len(), unsaved.len()] {
            out.extend_from_slice(&(n as u32).to_le_bytes());
        }
        let index: Vec<[u8; INDEX_ENTRY]> = (all.iter().zip(&spans).zip(&code_at))
            .map(|((block, span), code_at)| le_words([block.off as u32, (records_at + span.start) as u32, span.len() as u32, *code_at]))
            .collect();
        out.extend_from_slice(index.as_flattened());
        for first in &directory {
            out.extend_from_slice(&first.to_le_bytes());
        }
        let rows_at = out.len();
        let mut piece_at = records_at + records.len();
        for (number, entries, code, relocations, stub_branches) in &chunks {
            let records = spans[entries.start].start..spans[entries.end - 1].end;
            let code_at = piece_at;
            piece_at += code.len() + RELOCATION * (relocations.len() + stub_branches.len());
            let row = [
                *number as u32,
                entries.start as u32,
                entries.len() as u32,
                (records_at + records.start) as u32,
                records.len() as u32,
                code_at as u32,
                code.len() as u32,
                (code_at + code.len()) as u32,
                relocations.len() as u32,
                stub_branches.len() as u32,
                0,
            ];
            for field in row {
                out.extend_from_slice(&field.to_le_bytes());
            }
        }
        out.extend_from_slice(&unsaved_bytes);
        out.extend_from_slice(&crate::crc32c::bytes(!0, &unsaved_bytes).to_le_bytes());
        out.extend_from_slice(&records);
        for (_, _, code, relocations, stub_branches) in &chunks {
            out.extend_from_slice(code);
            out.extend_from_slice(relocations.as_flattened());
            out.extend_from_slice(stub_branches.as_flattened());
        }
        // Positions past 4 GiB cannot be named.
        if out.len() > u32::MAX as usize {
            return None;
        }
        for (n, (_, entries, ..)) in chunks.iter().enumerate() {
            let row_at = rows_at + n * CHUNK_ROW;
            let row: [u8; CHUNK_ROW] = out[row_at..row_at + CHUNK_ROW].try_into().expect("a row");
            let field = |at: usize| u32_in(&row, at) as usize;
            let index = &out[HEADER + entries.start * INDEX_ENTRY..HEADER + entries.end * INDEX_ENTRY];
            let parts = [index, &out[field(12)..field(12) + field(16)], &out[field(20)..field(20) + field(24) + (field(32) + field(36)) * RELOCATION]];
            let sum = parts.iter().fold(crate::crc32c::bytes(!0, &row[..CHUNK_ROW_SUMMED]), |sum, part| crate::crc32c::bytes(sum, part));
            out[row_at + CHUNK_ROW_SUMMED..row_at + CHUNK_ROW].copy_from_slice(&sum.to_le_bytes());
        }
        Some(out)
    }
}

/// Sorts `items` by the guest offset `offset` gives, then by the rest of
/// the item: by page, in two passes over the items, then each page's few
/// items. A comparison sort over all of libpython's blocks cost a third
/// as much as laying out their code.
fn sort_by_page<T: Copy + Ord>(items: &mut Vec<T>, offset: impl Fn(&T) -> u64) {
    let starts = page_starts(items.iter().map(&offset));
    let mut next = starts.clone();
    let mut sorted = items.clone();
    for item in items.iter() {
        let page = (offset(item) >> DIRECTORY_SHIFT) as usize;
        sorted[next[page] as usize] = *item;
        next[page] += 1;
    }
    for page in starts.windows(2) {
        sorted[page[0] as usize..page[1] as usize].sort_unstable();
    }
    *items = sorted;
}

/// For guest offsets `offsets`, per page up to the last one's, how many
/// lie in the pages before it; one more entry, the count of all (a set's
/// directory when the offsets are its blocks', in order).
fn page_starts(offsets: impl Iterator<Item = u64> + Clone) -> Vec<u32> {
    let pages = offsets.clone().max().map_or(0, |last| (last >> DIRECTORY_SHIFT) as usize + 1);
    let mut starts = vec![0u32; pages + 1];
    for off in offsets {
        starts[(off >> DIRECTORY_SHIFT) as usize + 1] += 1;
    }
    for p in 0..pages {
        starts[p + 1] += starts[p];
    }
    starts
}

/// A translated block's record, code and relocations, for `encode`,
/// appended to `r`.
fn encode_fresh(image: u64, rip: u64, guest: &[u8], b: &TranslatedBlock, fixed: Option<(u64, u64)>, r: &mut Vec<u8>) -> FreshBlock {
    // Each item is put together in a fixed array and appended once: this
    // is written for every block translated in an image.
    let record_len = RECORD_HEADER + guest.len() + 8 * b.marks.len() + 16 * b.direct_exits.len() + if fixed.is_some() { 16 } else { 0 };
    let at = r.len();
    r.reserve(record_len + b.code.len() + RELOCATION * b.relocations.len());
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
    debug_assert_eq!(r.len() - at, record_len);
    r.extend_from_slice(&b.code);
    for rel in &b.relocations {
        let (kind, words, reason, at, value) = match *rel {
            Relocation::GuestAddress { at, words, value } => (GUEST_ADDRESS, words, 0, at, value.wrapping_sub(image)),
            Relocation::ExitStub { at, reason } => (EXIT_STUB, 0, reason as u8, at, 0),
            // `words` counts the 8 bytes' two words, for `relocate`'s check.
            Relocation::GuestLiteral { at, value } => (GUEST_LITERAL, 2, 0, at, value.wrapping_sub(image)),
        };
        let mut item = [0u8; RELOCATION];
        item[..4].copy_from_slice(&[kind, words, reason, 0]);
        item[4..8].copy_from_slice(&at.to_le_bytes());
        item[8..16].copy_from_slice(&value.to_le_bytes());
        r.extend_from_slice(&item);
    }
    FreshBlock { off: rip - image, at, record_len, len: r.len() - at }
}

/// A saved block's record, its layout checked (`parse`): read in place by
/// the installation of an image's blocks and, for a signal in one, by the
/// block map (its instruction marks and exits).
#[derive(Clone, Copy)]
pub struct SavedRecord<'a> {
    record: &'a [u8],
    /// Where its parts start.
    marks_at: u32,
    exits_at: u32,
    /// Where its direct exits end (and its fixed slot starts).
    exits_end: u32,
}

impl<'a> SavedRecord<'a> {
    /// `record`'s parts, if its lengths add up and its indirect site and
    /// its carry entry lie in its code (its exits are checked when read:
    /// installing reads few).
    pub fn parse(record: &'a [u8]) -> Option<SavedRecord<'a>> {
        let header: &[u8; RECORD_HEADER] = record.get(..RECORD_HEADER)?.try_into().ok()?;
        let count = |at: usize| usize::from(u16_in(header, at));
        let (guest_len, code_len) = (count(0), u32_in(header, 4) as usize);
        let (n_marks, n_exits) = (count(10), count(12));
        let marks_at = RECORD_HEADER + guest_len;
        let exits_at = marks_at + 8 * n_marks;
        let exits_end = exits_at + 16 * n_exits;
        let slot_len = if u16_in(header, 14) & FIXED_SLOT != 0 { 16 } else { 0 };
        if exits_end + slot_len != record.len() || code_len % 4 != 0 || record.len() > u32::MAX as usize {
            return None;
        }
        let r = SavedRecord { record, marks_at: marks_at as u32, exits_at: exits_at as u32, exits_end: exits_end as u32 };
        let in_code = |at: u32| at as usize + 4 <= code_len;
        let indirect_fits = r.indirect_site().is_none_or(in_code);
        let entry_fits = code_len == 0 && r.carry_entry() == 0 || in_code(r.carry_entry());
        (indirect_fits && entry_fits).then_some(r)
    }

    /// The record's bytes (which the block map reads).
    pub fn bytes(&self) -> &'a [u8] {
        self.record
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
        &self.record[RECORD_HEADER..self.marks_at as usize]
    }

    /// The length of its code (in its chunk's code).
    pub fn code_len(&self) -> usize {
        u32_in(self.header(), 4) as usize
    }

    fn relocation_count(&self) -> usize {
        usize::from(u16_in(self.header(), 8))
    }

    pub fn guest_insns(&self) -> usize {
        usize::from(u16_in(self.header(), 2))
    }

    /// Offset of the entry for host C in the carry form (`TranslatedBlock::carry_entry`).
    pub fn carry_entry(&self) -> u32 {
        u32_in(self.header(), 20)
    }

    /// Whether it has an exit to a saved block that its chunk's code does
    /// not link (`exits`).
    pub fn links_at_install(&self) -> bool {
        u16_in(self.header(), 14) & LINKED_AT_INSTALL != 0
    }

    /// Whether the block ends with a call (its end is a return address).
    pub fn ends_with_call(&self) -> bool {
        u16_in(self.header(), 14) & ENDS_WITH_CALL != 0
    }

    pub fn indirect_site(&self) -> Option<u32> {
        Some(u32_in(self.header(), 16)).filter(|&s| s != NONE)
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
        self.exits(image).map(|(exit, ..)| exit)
    }

    /// Its direct exits, for the image placed at `image`, each with the
    /// index entry of its target's block in the set the record was read
    /// from, if it has one (`SavedBlocks::offset` confirms the target), and
    /// whether the chunk's code already branches there. An exit whose site
    /// or feeder lies outside its code is left out.
    pub fn exits(&self, image: u64) -> impl Iterator<Item = (DirectExit, Option<usize>, bool)> + 'a {
        let code_len = self.code_len();
        let in_code = move |at: u32| at as usize + 4 <= code_len;
        self.exit_items().iter().filter(move |x| in_code(u32_in(x, 0)) && (u32_in(x, 4) == NONE || in_code(u32_in(x, 4)))).map(move |item| {
            let (feeder, entry) = (u32_in(item, 4), u32_in(item, 12));
            let exit = DirectExit {
                site_offset: u32_in(item, 0) as usize,
                feeder: (feeder != NONE).then_some(feeder as usize),
                target: u64::from(u32_in(item, 8)).wrapping_add(image),
            };
            let target_entry = (entry != NONE).then_some((entry & !LINKED_IN_CHUNK) as usize);
            (exit, target_entry, entry != NONE && entry & LINKED_IN_CHUNK != 0)
        })
    }
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

/// Four little-endian words as one 16-byte item.
fn le_words(words: [u32; 4]) -> [u8; 16] {
    let mut item = [0; 16];
    for (bytes, word) in item.as_chunks_mut::<4>().0.iter_mut().zip(words) {
        *bytes = word.to_le_bytes();
    }
    item
}

fn read_u32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::thread_code::ThreadCode;
    use crate::cache::CodeCache;
    use crate::cpu::host::HostFeatures;
    use crate::frontend::decode::CodeBuffer;
    use crate::pipeline::translation;

    /// A guest page no other test translates from (the change log is global).
    const IMAGE: u64 = 0x6d5b_7000_0000;
    const SECOND: u64 = IMAGE + 0x100;

    #[test]
    fn a_saved_block_read_back_to_be_written_again_is_its_code_as_translated() {
        // test eax, eax; jz SECOND | mov eax, 1; jmp SECOND | SECOND: add eax, 2; syscall
        let mut code = vec![0xcc; 0x110];
        let rel = |from: u64| (SECOND as i64 - from as i64) as i32;
        code[..8].copy_from_slice(&[[0x85, 0xc0, 0x0f, 0x84].as_slice(), &rel(IMAGE + 8).to_le_bytes()].concat());
        code[8..18].copy_from_slice(&[[0xb8, 1, 0, 0, 0, 0xe9].as_slice(), &rel(IMAGE + 18).to_le_bytes()].concat());
        code[0x100..0x105].copy_from_slice(&[0x83, 0xc0, 0x02, 0x0f, 0x05]);
        let mut cache = CodeCache::new(HostFeatures::BASELINE).unwrap();
        cache.stubs.exit = [cache.next_block_addr(); crate::exit::ExitReason::ALL.len()];
        cache.add_image(IMAGE, IMAGE + code.len() as u64, None);
        let src = CodeBuffer { base: IMAGE, code: &code };
        let me = ThreadCode::default();
        for rip in [IMAGE, IMAGE + 8, SECOND] {
            translation(&mut cache, &src, rip, &me, false, &[]);
        }
        let image = &cache.images()[0];
        let set = SavedBlocks::new(Cow::Owned(image.encode(false).expect("new blocks"))).unwrap();
        let chunk = set.chunk(0).expect("its checksum holds");
        let blocks: Vec<SavedBlock> = chunk.blocks().map(Option::unwrap).collect();
        assert_eq!(blocks.len(), 3);
        let linked = blocks.iter().flat_map(|b| b.record.exits(0)).filter(|(.., linked)| *linked).count();
        assert_eq!(linked, 3, "every exit linked in the chunk's code (the jz with its feeder)");
        for block in &blocks {
            let fresh = image.fresh.iter().find(|f| f.off == u64::from(block.off)).unwrap().laid(&image.fresh_bytes);
            let (code, relocations) = chunk.unlaid(block).expect("read back");
            let mut want: Vec<[u8; RELOCATION]> = fresh.relocations.to_vec();
            let mut got = relocations.clone();
            want.sort_unstable();
            got.sort_unstable();
            assert_eq!(got, want, "relocations of the block at {:#x}", block.off);
            // Exit-stub branches go to the chunk's veneers; every other
            // word is as translated (exits back at their stubs).
            let stub_sites: Vec<usize> = relocations.iter().filter(|r| r[0] == EXIT_STUB).map(|r| u32_in(r, 4) as usize).collect();
            for (at, (got, want)) in code.as_chunks::<4>().0.iter().zip(fresh.code.as_chunks::<4>().0).enumerate() {
                if !stub_sites.contains(&(4 * at)) {
                    assert_eq!(got, want, "word {at} of the block at {:#x}", block.off);
                }
            }
        }
    }
}
