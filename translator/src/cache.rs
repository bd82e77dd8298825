//! The code cache: one executable buffer holding the trampolines and every
//! translated block, the guest->host block map, direct-branch linking, and
//! the lookup table indirect branches consult inline.

use crate::decode::{decode_block, CodeSource};
use crate::emit::{encode_b, MemoryOrder, Stubs};
use crate::host::HostFeatures;
use crate::translate::translate_block;
use crate::flags::live_at_block_exit;
use crate::block_map::{BlockMap, ExitSite, GuestPoint};
use crate::addr_hash::{AddrMap, AddrSet};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The lookup table has 2^LOOKUP_BITS entries indexed by the low guest address bits.
pub const LOOKUP_BITS: u32 = 16;
const CODE_BYTES: usize = 64 << 20;
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
    blocks: AddrMap<u64>,
    /// Patch sites (host addresses of `b` instructions) waiting for a guest target.
    pending: AddrMap<Vec<u64>>,
    lookup: Box<[LookupEntry]>,
    /// Lookup slots filled since the last flush, so a flush clears only those.
    lookup_dirty: Vec<usize>,
    /// Guest pages that hold decoded code: safe to read when looking ahead.
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
            pending: AddrMap::default(),
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

    /// Host code for guest `rip`, translating it first if needed.
    pub fn get_or_translate(&mut self, src: &dyn CodeSource, rip: u64) -> u64 {
        if let Some(&host) = self.blocks.get(&rip) {
            return host;
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
        let host = match self.install_at(base, &translated.code) {
            Some(h) => h,
            None => {
                self.flush();
                let base = (self.next_addr() + 15) & !15;
                let t = translate_block(&block, base, self.host, self.stubs, live_at_exit, self.memory_order);
                let h = self.install_at(base, &t.code).expect("one block fits an empty cache");
                return self.finish_insert(rip, h, t);
            }
        };
        self.finish_insert(rip, host, translated)
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

    fn finish_insert(&mut self, rip: u64, host: u64, t: crate::translate::TranslatedBlock) -> u64 {
        self.stats.blocks += 1;
        self.stats.guest_insns += t.guest_insns as u64;
        self.stats.host_bytes += t.code.len() as u64;
        self.blocks.insert(rip, host);
        let sites = t.direct_exits.iter().map(|d| ExitSite::Direct { off: d.site_offset as u32, target: d.target });
        let indirect = t.indirect_site.map(|off| ExitSite::Indirect { off: off as u32 });
        self.map.insert(rip, host, host + t.code.len() as u64, &t.marks, sites.chain(indirect));
        for exit in &t.direct_exits {
            let site = host + exit.site_offset as u64;
            match self.blocks.get(&exit.target) {
                Some(&target) => self.patch_branch(site, target),
                None => self.pending.entry(exit.target).or_default().push(site),
            }
        }
        if let Some(sites) = self.pending.remove(&rip) {
            for site in sites {
                self.patch_branch(site, host);
            }
        }
        crate::emit::recycle_marks_buffer(t.marks);
        host
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
        self.pending.clear();
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
        let (host, sites) = self.map.exits(index).expect("block_at returns a valid index");
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
            let Some((host, sites)) = self.map.exits(index) else { continue };
            for site in sites.to_vec() {
                let at = host + site.offset() as u64;
                let word = match site {
                    ExitSite::Direct { target, .. } => match self.blocks.get(&target) {
                        Some(&code) => encode_b(at, code).expect("code buffer within branch range"),
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
