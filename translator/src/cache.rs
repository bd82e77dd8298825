//! The code cache: one executable buffer holding the trampolines and every
//! translated block, the guest->host block map, direct-branch linking, and
//! the lookup table indirect branches consult inline.
//!
//! Guest code that changes invalidates the blocks on its pages
//! (`invalidate_range`): they leave the maps and every branch into them is
//! unlinked, but their host code stays where it is until the next flush
//! (a thread may still be running it), so dead code fills the buffer and a
//! full buffer flushes.

use crate::decode::{decode_block, CodeSource};
use crate::emit::{encode_b, MemoryOrder, Stubs};
use crate::host::HostFeatures;
use crate::translate::translate_block;
use crate::flags::live_at_block_exit;
use crate::block_map::{BlockMap, ExitSite, GuestPoint};
use crate::addr_hash::{AddrMap, AddrSet};
use crate::links::Links;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The lookup table has 2^LOOKUP_BITS entries indexed by the low guest address bits.
pub const LOOKUP_BITS: u32 = 16;
const CODE_BYTES: usize = 64 << 20;
const PAGE_SHIFT: u32 = 12;
/// Longest block, in guest instructions.
pub const MAX_BLOCK_INSNS: usize = 128;

/// One lookup-table slot; generated code reads it with fixed offsets.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct LookupEntry {
    pub guest: u64,
    pub host: u64,
}

pub struct CodeCache {
    buf: *mut u8,
    /// Bytes used by the trampolines: the cache never frees below this.
    reserved: usize,
    used: usize,
    blocks: AddrMap<Block>,
    links: Links,
    /// Guest page number -> start addresses of the blocks whose guest code
    /// touches the page.
    page_blocks: AddrMap<Vec<u64>>,
    lookup: Box<[LookupEntry]>,
    /// Lookup slots filled since the last flush, so a flush clears only those.
    lookup_dirty: Vec<usize>,
    /// Guest page numbers that hold decoded code: safe to read when looking
    /// ahead, and write-protected when the guest may write them.
    code_pages: AddrSet,
    /// Host address -> guest instruction, and each block's exit sites.
    map: BlockMap,
    /// Blocks a signal handler unlinked (index + 1; 0 = free slot).
    unlinked: [AtomicUsize; 4],
    /// Longest block translated, in guest instructions (1 tests state
    /// hand-off at every instruction boundary).
    pub max_block_insns: usize,
    pub stubs: Stubs,
    pub host: HostFeatures,
    /// How translations order memory accesses; changing it needs a flush.
    pub memory_order: MemoryOrder,
    pub stats: CacheStats,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct CacheStats {
    pub blocks: u64,
    pub guest_insns: u64,
    pub host_bytes: u64,
    pub flushes: u64,
    /// Blocks dropped because their guest code changed.
    pub invalidated: u64,
}

/// A live translation.
#[derive(Clone, Copy)]
struct Block {
    host: u64,
    /// Its record in the block map.
    record: usize,
    /// Guest page numbers of its first and last byte.
    pages: (u64, u64),
}

impl CodeCache {
    pub fn new(host: HostFeatures) -> std::io::Result<CodeCache> {
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
        let buf = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                CODE_BYTES,
                libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if buf == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(CodeCache {
            buf: buf as *mut u8,
            reserved: 0,
            used: 0,
            // Sized for a mid-sized program's start-up (python3 translates
            // ~30,000 blocks): growing from empty rehashes every entry
            // log2(n) times.
            blocks: AddrMap::with_capacity_and_hasher(1 << 14, Default::default()),
            links: Links::default(),
            page_blocks: AddrMap::default(),
            lookup: empty_lookup_table(),
            lookup_dirty: Vec::new(),
            code_pages: AddrSet::default(),
            map: BlockMap::default(),
            unlinked: Default::default(),
            max_block_insns: MAX_BLOCK_INSNS,
            stubs: Stubs::default(),
            host,
            memory_order: MemoryOrder::Relaxed,
            stats: CacheStats::default(),
        })
    }

    pub fn lookup_table_addr(&self) -> u64 {
        self.lookup.as_ptr() as u64
    }

    /// Address the next emitted code will be placed at.
    pub fn next_addr(&self) -> u64 {
        self.buf as u64 + self.used as u64
    }

    /// Copies finished code into the buffer; returns its address, or None when full.
    pub fn install(&mut self, code: &[u8]) -> Option<u64> {
        let start = (self.used + 15) & !15;
        if start + code.len() > CODE_BYTES {
            return None;
        }
        // SAFETY: [start, start+len) lies inside our mapping and no executing
        // code occupies it (it has never been handed out since the last flush).
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), self.buf.add(start), code.len()) };
        self.used = start + code.len();
        let addr = self.buf as u64 + start as u64;
        self.sync_icache(addr, code.len());
        Some(addr)
    }

    /// Marks everything installed so far (the trampolines) as permanent.
    pub fn reserve_installed(&mut self) {
        self.reserved = self.used;
    }

    fn sync_icache(&self, addr: u64, len: usize) {
        // SAFETY: the range was just written inside our mapping.
        let slice = unsafe { std::slice::from_raw_parts(addr as *const u8, len) };
        dynasmrt::cache_control::synchronize_icache(slice);
    }

    fn patch_branch(&mut self, site: u64, target: u64) {
        self.write_word(site, encode_b(site, target).expect("code buffer within branch range"));
    }

    /// Host code for guest `rip`, if translated.
    pub fn lookup(&self, rip: u64) -> Option<u64> {
        self.blocks.get(&rip).map(|b| b.host)
    }

    /// Host code for guest `rip`, translating it first if needed.
    pub fn get_or_translate(&mut self, src: &dyn CodeSource, rip: u64) -> u64 {
        if let Some(block) = self.blocks.get(&rip) {
            return block.host;
        }
        // Watch a page before reading code from it: a write by another
        // thread after the read must fault and start a new code epoch.
        self.watch(rip >> 12);
        let mut block = decode_block(src, rip, self.max_block_insns);
        let last_byte = block.invalid_at.unwrap_or(block.end()).max(rip + 1) - 1;
        let mut more = false;
        for page in (rip >> 12) + 1..=(last_byte >> 12) {
            more |= self.watch(page);
        }
        if more {
            block = decode_block(src, rip, self.max_block_insns);
        }
        let live_at_exit = live_at_block_exit(src, &block, |a| self.code_pages.contains(&(a >> 12)));
        let base = (self.next_addr() + 15) & !15;
        let translated = translate_block(&block, base, self.host, self.stubs, live_at_exit, self.memory_order);
        let pages = (rip >> PAGE_SHIFT, last_byte >> PAGE_SHIFT);
        let host = match self.install_at(base, &translated.code) {
            Some(h) => h,
            None => {
                self.flush();
                for page in pages.0..=pages.1 {
                    self.watch(page);
                }
                let base = (self.next_addr() + 15) & !15;
                let t = translate_block(&block, base, self.host, self.stubs, live_at_exit, self.memory_order);
                let h = self.install_at(base, &t.code).expect("one block fits an empty cache");
                return self.finish_insert(rip, h, pages, t);
            }
        };
        self.finish_insert(rip, host, pages, translated)
    }

    /// Adds a guest code page; true if it is new since the last flush.
    fn watch(&mut self, page: u64) -> bool {
        let new = self.code_pages.insert(page);
        if new {
            crate::code_watch::watch_page(page << 12);
        }
        new
    }

    fn install_at(&mut self, base: u64, code: &[u8]) -> Option<u64> {
        let addr = self.install(code)?;
        debug_assert_eq!(addr, base);
        Some(addr)
    }

    fn finish_insert(&mut self, rip: u64, host: u64, pages: (u64, u64), t: crate::translate::TranslatedBlock) -> u64 {
        self.stats.blocks += 1;
        self.stats.guest_insns += t.guest_insns as u64;
        self.stats.host_bytes += t.code.len() as u64;
        let sites = t.direct_exits.iter().map(|d| ExitSite::Direct { off: d.site_offset as u32, target: d.target });
        let indirect = t.indirect_site.map(|off| ExitSite::Indirect { off: off as u32 });
        let record = self.map.insert(rip, host, host + t.code.len() as u64, &t.marks, sites.chain(indirect));
        self.blocks.insert(rip, Block { host, record, pages });
        for page in pages.0..=pages.1 {
            self.page_blocks.entry(page).or_default().push(rip);
        }
        for exit in &t.direct_exits {
            let site = host + exit.site_offset as u64;
            let target = self.blocks.get(&exit.target).map(|b| b.host);
            if let Some(target) = target {
                self.patch_branch(site, target);
            }
            self.links.add_site(site, exit.target, target.is_some());
        }
        for site in self.links.link_waiting(rip) {
            self.patch_branch(site, host);
        }
        crate::emit::recycle_marks_buffer(t.marks);
        host
    }

    /// The guest changed or unmapped `[first, end)` (addresses): drops
    /// every translation of code on those pages.
    pub fn invalidate_range(&mut self, first: u64, end: u64) {
        let (first_page, end_page) = (first >> PAGE_SHIFT, (end + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT);
        let pages: Vec<u64> = if end_page.saturating_sub(first_page) <= self.code_pages.len() as u64 {
            (first_page..end_page).filter(|p| self.code_pages.contains(p)).collect()
        } else {
            self.code_pages.iter().copied().filter(|p| (first_page..end_page).contains(p)).collect()
        };
        for page in pages {
            // Translating from it again must protect it again.
            self.code_pages.remove(&page);
            for rip in self.page_blocks.remove(&page).unwrap_or_default() {
                self.drop_block(rip);
            }
        }
    }

    /// Removes the translation of `rip`: nothing can enter it any more,
    /// and a thread inside it leaves at its next exit.
    fn drop_block(&mut self, rip: u64) {
        let Some(block) = self.blocks.remove(&rip) else { return };
        for site in self.links.unlink_all(rip) {
            self.write_word(site, encode_b(site, site + 4).expect("next instruction"));
        }
        for page in block.pages.0..=block.pages.1 {
            if let Some(rips) = self.page_blocks.get_mut(&page) {
                rips.retain(|&r| r != rip);
            }
        }
        if let Some((host, sites)) = self.map.exits(block.record) {
            for site in sites {
                if let ExitSite::Direct { off, target } = *site {
                    self.links.forget_site(host + off as u64, target);
                }
            }
        }
        self.map.mark_dead(block.record);
        let index = (rip & ((1 << LOOKUP_BITS) - 1)) as usize;
        if self.lookup[index].guest == rip {
            self.lookup[index] = empty_slot(index as u64);
        }
        self.stats.invalidated += 1;
    }

    /// Records `rip -> host` for inline indirect-branch lookups.
    pub fn remember_indirect(&mut self, rip: u64, host: u64) {
        let index = (rip & ((1 << LOOKUP_BITS) - 1)) as usize;
        self.lookup[index] = LookupEntry { guest: rip, host };
        self.lookup_dirty.push(index);
    }

    /// Drops every translation (the cache is full).
    pub fn flush(&mut self) {
        self.used = self.reserved;
        self.blocks.clear();
        self.links.clear();
        self.page_blocks.clear();
        // In place: generated code holds the table's address.
        for index in self.lookup_dirty.drain(..) {
            self.lookup[index] = empty_slot(index as u64);
        }
        self.code_pages.clear();
        self.map.clear();
        for slot in &self.unlinked {
            slot.store(0, Ordering::Relaxed);
        }
        self.stats.flushes += 1;
    }

    /// The guest instruction whose translation contains host address `pc`.
    /// Async-signal-safe while the calling thread is in generated code.
    pub fn guest_point(&self, pc: u64) -> Option<GuestPoint> {
        self.map.guest_point(pc)
    }

    /// Makes the block containing host address `pc` return to the
    /// dispatcher at its end instead of continuing into other blocks; false
    /// when `pc` is not in a block. Async-signal-safe while the calling
    /// thread is in generated code: it only rewrites instruction words.
    pub fn unlink_block_at(&self, pc: u64) -> bool {
        let Some(index) = self.map.block_at(pc) else { return false };
        let Some((host, sites)) = self.map.exits(index) else { return false };
        for site in sites {
            // Both kinds fall through into their lookup exit.
            self.write_word(host + site.offset() as u64, NOP);
        }
        // A full table only means the block stays unlinked (slower, still correct).
        let _ = self
            .unlinked
            .iter()
            .find(|slot| slot.compare_exchange(0, index + 1, Ordering::Relaxed, Ordering::Relaxed).is_ok());
        true
    }

    /// Undoes `unlink_block_at` for every block it unlinked.
    pub fn relink_unlinked(&mut self) {
        for i in 0..self.unlinked.len() {
            let Some(index) = self.unlinked[i].swap(0, Ordering::Relaxed).checked_sub(1) else { continue };
            if self.map.is_dead(index) {
                // Nothing enters it again; a thread inside should leave.
                continue;
            }
            let Some((host, sites)) = self.map.exits(index) else { continue };
            for site in sites.to_vec() {
                let at = host + site.offset() as u64;
                let word = match site {
                    ExitSite::Direct { target, .. } => match self.blocks.get(&target) {
                        Some(block) => encode_b(at, block.host).expect("code buffer within branch range"),
                        None => encode_b(at, at + 4).expect("next instruction"),
                    },
                    ExitSite::Indirect { .. } => BR_X17,
                };
                self.write_word(at, word);
            }
        }
    }

    fn write_word(&self, at: u64, word: u32) {
        // SAFETY: `at` is a 4-byte aligned instruction inside our buffer that
        // we emitted; replacing a single aligned instruction word is atomic.
        unsafe { (at as *mut u32).write_volatile(word) };
        self.sync_icache(at, 4);
    }
}

impl Drop for CodeCache {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`; no generated code runs once the
        // cache is dropped (its translator is gone).
        unsafe { libc::munmap(self.buf.cast(), CODE_BYTES) };
    }
}

const NOP: u32 = 0xd503_201f;
/// `br x17`, the indirect exit's jump on a lookup hit (`emit::control`).
const BR_X17: u32 = 0xd61f_0000 | (17 << 5);

/// Empty slot i holds a key whose low bits differ from i, so no guest
/// address indexing slot i can match it.
fn empty_lookup_table() -> Box<[LookupEntry]> {
    (0..1u64 << LOOKUP_BITS).map(empty_slot).collect()
}

fn empty_slot(index: u64) -> LookupEntry {
    LookupEntry { guest: index ^ 1, host: 0 }
}
