//! The code cache of a process, shared by all its threads: one executable
//! buffer holding the trampolines and every translated block, the
//! guest->host block map, and direct-branch linking. Each thread has its
//! own lookup table for indirect branches (`thread_code`).
//!
//! Threads translate one at a time (the process's cache lock) while the
//! others keep running translated code; code they may be running is never
//! overwritten until a flush has seen every thread leave it.
//!
//! Guest code that changes invalidates the blocks on its pages
//! (`invalidate_range`): they leave the maps and every branch into them is
//! unlinked, but their host code stays where it is until the next flush
//! (a thread may still be running it), so dead code fills the buffer and a
//! full buffer flushes.

pub mod addr_hash;
pub mod block_map;
mod chunked;
mod code_pages;
pub mod code_watch;
pub mod image;
mod installed_image;
pub mod links;
pub mod lookup_table;
mod protected_pages;
pub mod thread_code;

use crate::cache::addr_hash::AddrMap;
use crate::cache::block_map::{BlockMap, ExitSite};
use crate::emit::{encode_b, MemoryOrder, Stubs, TranslatedBlock};
use crate::cpu::host::HostFeatures;
use crate::frontend::decode::CodeSource;
use crate::frontend::flags::FlagSet;
use crate::cache::image::{Image, SavedBlocks};
use crate::cache::links::{Links, Site};
use crate::cache::thread_code::ThreadCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// Below 128 MiB, so that a `b` reaches from anywhere in it to anywhere.
const CODE_BYTES: usize = 126 << 20;
/// Makes the code buffer smaller (in KiB, at least 64: room for the
/// largest block), to test what happens when it fills while threads run:
/// a full flush.
pub const SIZE_ENV: &str = "TRANSIT_CODE_CACHE_KB";

/// The code buffer's size: CODE_BYTES, or less by `SIZE_ENV` (not in
/// secure mode, where Transit reads no environment variable).
fn code_bytes() -> usize {
    static BYTES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *BYTES.get_or_init(|| {
        std::env::var(SIZE_ENV)
            .ok()
            .filter(|_| !crate::cpu::host::secure_mode())
            .and_then(|kb| kb.parse::<usize>().ok())
            .map_or(CODE_BYTES, |kb| (kb.max(64) << 10).min(CODE_BYTES))
    })
}
pub const PAGE_SHIFT: u32 = 12;
/// Longest block, in guest instructions.
pub const MAX_BLOCK_INSNS: usize = 128;

/// The translations of a process, shared by its threads; every method but
/// the signal-handler ones runs under the process's cache lock.
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
    /// Guest page numbers that hold decoded code: safe to read when looking
    /// ahead, and write-protected when the guest may write them.
    code_pages: code_pages::CodePages,
    /// Guest address -> the flags code starting there may read before
    /// writing them (`flags::live_on_entry`), for the look-ahead at block
    /// exits: many blocks end by calling the same function. Emptied
    /// whenever translated code changes, with the translations.
    entry_liveness: AddrMap<FlagSet>,
    /// Guest ranges mapped from files, by start address (`image`).
    images: Vec<Image>,
    /// Images whose saved blocks were installed since the last flush.
    installed: Vec<installed_image::InstalledImage>,
    /// Host address -> guest instruction, and each block's exit sites; read
    /// without the lock by signal handlers.
    map: Arc<BlockMap>,
    /// The threads using the cache: an invalidated block leaves each one's
    /// lookup table, and a full flush waits for each to leave old code.
    threads: Vec<Arc<ThreadCode>>,
    /// How far the cache has applied `code_watch`'s change log.
    log_position: u64,
    /// A block's exit sites on their way into the block map (kept to save
    /// an allocation per block).
    site_buf: Vec<ExitSite>,
    /// Images registered with saved blocks (ever: a count that only grows).
    saved_images: usize,
    /// Sites found while the cache is borrowed (`book_unsaved_exits_to`).
    site_scratch: Vec<Site>,
    /// Longest block translated, in guest instructions (1 tests state
    /// hand-off at every instruction boundary).
    pub max_block_insns: usize,
    pub stubs: Stubs,
    pub host: HostFeatures,
    /// How translations order memory accesses; change it with `set_memory_order`.
    memory_order: MemoryOrder,
    /// A forked child's: what it translates between fork and exec is
    /// cheap for its parent's next child to translate again.
    forked_child: bool,
    pub stats: CacheStats,
}

// SAFETY: `buf` is the cache's own mapping; all mutation happens under the
// process's cache lock (or, for instruction words, atomically).
unsafe impl Send for CodeCache {}

#[derive(Clone, Copy, Debug, Default)]
pub struct CacheStats {
    pub blocks: u64,
    pub guest_insns: u64,
    pub host_bytes: u64,
    pub flushes: u64,
    /// Blocks dropped because their guest code changed.
    pub invalidated: u64,
    /// Blocks installed from an image's saved blocks, not translated.
    pub restored: u64,
}

/// A live translation.
#[derive(Clone, Copy)]
struct Block {
    host: u64,
    /// Its entry for host C in the carry form (`emit::TranslatedBlock::carry_entry`).
    carry_entry: u64,
    /// Its record in the block map.
    record: usize,
    /// Guest page numbers of its first and last byte.
    pages: (u64, u64),
    /// The page of a fixed slot it read (`frontend::fixed_slots`), which
    /// it depends on as on its code.
    slot_page: Option<u64>,
}

impl CodeCache {
    pub fn new(host: HostFeatures) -> std::io::Result<CodeCache> {
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
        let buf = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                code_bytes(),
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
            page_blocks: AddrMap::with_capacity_and_hasher(1 << 10, Default::default()),
            code_pages: code_pages::CodePages::default(),
            entry_liveness: AddrMap::with_capacity_and_hasher(1 << 13, Default::default()),
            images: Vec::new(),
            installed: Vec::new(),
            map: Arc::new(BlockMap::default()),
            threads: Vec::new(),
            log_position: crate::cache::code_watch::log_position(),
            site_buf: Vec::new(),
            saved_images: 0,
            site_scratch: Vec::new(),
            max_block_insns: MAX_BLOCK_INSNS,
            stubs: Stubs::default(),
            host,
            memory_order: MemoryOrder::Relaxed,
            forked_child: false,
            stats: CacheStats::default(),
        })
    }

    /// Registers guest `[start, end)` as an image (see `image`), replacing
    /// any it overlaps, with blocks saved by an earlier process.
    pub fn add_image(&mut self, start: u64, end: u64, saved: Option<SavedBlocks>) {
        self.remove_images(start, end);
        self.saved_images += usize::from(saved.is_some());
        let at = self.images.partition_point(|i| i.start < start);
        self.images.insert(at, Image::new(start, end, saved));
    }

    /// Forgets the images overlapping `[start, end)` (unmapped).
    pub fn remove_images(&mut self, start: u64, end: u64) {
        self.images.retain(|i| i.end <= start || i.start >= end);
    }

    pub fn images(&self) -> &[Image] {
        &self.images
    }


    fn image_index(&self, addr: u64) -> Option<usize> {
        let i = self.images.partition_point(|i| i.start <= addr).checked_sub(1)?;
        self.images[i].contains(addr).then_some(i)
    }

    /// Whether guest addresses `a` and `b` lie in one image.
    pub fn same_image(&self, a: u64, b: u64) -> bool {
        self.image_index(a).is_some_and(|i| self.images[i].contains(b))
    }

    /// Keeps `block`, just installed for guest `rip` from `guest` (its
    /// bytes), if it lies in an image; false if its image keeps blocks but
    /// cannot keep this one.
    pub fn record_in_image(&mut self, rip: u64, guest: &[u8], block: &TranslatedBlock, fixed: Option<(u64, u64)>) -> bool {
        match self.image_index(rip) {
            Some(i) => self.images[i].record(rip, guest, block, fixed) || !self.images[i].keeps_blocks(),
            None => true,
        }
    }

    /// The block map, for signal handlers (which must not take the lock).
    pub fn block_map(&self) -> Arc<BlockMap> {
        Arc::clone(&self.map)
    }

    pub fn register(&mut self, thread: Arc<ThreadCode>) {
        self.threads.push(thread);
    }

    pub fn unregister(&mut self, thread: &Arc<ThreadCode>) {
        self.threads.retain(|t| !Arc::ptr_eq(t, thread));
    }

    /// In a forked child that keeps the parent's cache: `thread` is the only
    /// one left (a flush must not wait for the parent's others).
    pub fn keep_only_thread(&mut self, thread: &Arc<ThreadCode>) {
        self.threads.retain(|t| Arc::ptr_eq(t, thread));
        if self.threads.is_empty() {
            self.threads.push(Arc::clone(thread));
        }
    }

    /// In a forked child: the blocks its parent recorded are the parent's
    /// to save. (Saving them again at every child's exit made each of
    /// CPython's 1,024 failing subprocess spawns in test_subprocess write
    /// libpython's set, about 0.5 s of CPU each.)
    pub fn leave_recorded_blocks_to_parent(&mut self) {
        for image in &mut self.images {
            image.forget_recorded();
        }
        self.forked_child = true;
    }

    /// Each image with blocks worth writing back, as (start, end, bytes).
    pub fn images_to_save(&self) -> Vec<(u64, u64, Vec<u8>)> {
        self.images.iter().filter_map(|i| Some((i.start, i.end, i.encode(self.forked_child)?))).collect()
    }

    /// (tid, `ThreadStats::summary`) of every registered thread.
    pub fn thread_summaries(&self) -> Vec<(u64, String)> {
        self.threads.iter().map(|t| (t.tid.load(Ordering::Relaxed), t.stats.summary())).collect()
    }

    pub fn memory_order(&self) -> MemoryOrder {
        self.memory_order
    }

    /// How translations order memory, before anything is translated.
    pub fn set_initial_memory_order(&mut self, order: MemoryOrder) {
        debug_assert!(self.blocks.is_empty());
        self.memory_order = order;
    }

    /// Changes how translations order memory; drops the ones made the
    /// other way, but leaves their code in place (new translations go
    /// after it) until the next flush. (Reusing that memory at once crashed
    /// a thread create and join in the arm64 VM, before `copy_code`
    /// stopped writing code with SVE stores, which qemu-system misses.)
    pub fn set_memory_order(&mut self, order: MemoryOrder, me: &ThreadCode) {
        if order != self.memory_order {
            self.memory_order = order;
            self.forget_translations(me);
            // Records made (or saved) the other way would restore it.
            for image in &mut self.images {
                image.forget_blocks();
            }
        }
    }

    /// Applies the guest code changes `code_watch` logged since the last call.
    pub fn apply_code_changes(&mut self, me: &ThreadCode) {
        let mut position = self.log_position;
        if !crate::cache::code_watch::changes_since(&mut position, |first, end| self.invalidate_range(first, end)) {
            self.flush(me);
        }
        self.log_position = position;
    }

    /// A write to `addr`, on a page `code_watch` protects, faulted in
    /// generated code and has not happened yet: drops the translations of
    /// its page and of the page's aliases from every thread first, then
    /// lets the write through (`code_watch::on_write_fault`, whose result
    /// this returns). So a thread that sees any later store of the writer
    /// cannot reach the old translation, as x86 cross-modifying code
    /// needs; dropping them at the writer's next dispatch would leave the
    /// rest of its block for other threads to run stale code.
    pub fn drop_before_write(&mut self, addr: u64) -> bool {
        let size = 1u64 << PAGE_SHIFT;
        let page = addr & !(size - 1);
        self.invalidate_range(page, page + size);
        for (first, end) in crate::cache::code_watch::aliases(page, page + size) {
            self.invalidate_range(first, end);
        }
        let ours = crate::cache::code_watch::on_write_fault(addr);
        // Its log entry, and any other thread's, applied now: the next
        // dispatch need not drop what is translated after the write.
        // Not when the ring overflowed: the next dispatch flushes, which a
        // signal handler must not.
        let mut position = self.log_position;
        if crate::cache::code_watch::changes_since(&mut position, |first, end| self.invalidate_range(first, end)) {
            self.log_position = position;
        }
        ours
    }

    /// `code_watch` logged changes that `apply_code_changes` has not applied.
    pub fn has_unapplied_code_changes(&self) -> bool {
        crate::cache::code_watch::changed_since(self.log_position)
    }

    /// Address the next emitted code will be placed at.
    pub fn next_addr(&self) -> u64 {
        self.buf as u64 + self.used as u64
    }

    /// Copies finished code into the buffer; returns its address, or None when full.
    pub fn install(&mut self, code: &[u8]) -> Option<u64> {
        let start = (self.used + 15) & !15;
        if start + code.len() > code_bytes() {
            return None;
        }
        // SAFETY: [start, start+len) lies inside our mapping and no executing
        // code occupies it (it has never been handed out since the last flush).
        unsafe { copy_code(code, self.buf.add(start)) };
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

    /// Host code for guest `rip`, if translated.
    pub fn lookup(&self, rip: u64) -> Option<u64> {
        self.entries(rip).map(|(host, _)| host)
    }

    /// The entry of `rip`'s translation for host C in the carry form (the
    /// lookup table's other entry, `lookup_table`).
    pub fn carry_entry(&self, rip: u64) -> Option<u64> {
        self.entries(rip).map(|(_, carry)| carry)
    }

    /// Both entries of `rip`'s translation: host code, and the entry for
    /// host C in the carry form.
    pub fn entries(&self, rip: u64) -> Option<(u64, u64)> {
        match self.blocks.get(&rip) {
            Some(b) => Some((b.host, b.carry_entry)),
            None if self.installed.is_empty() => None,
            None => self.installed_entry(rip),
        }
    }

    /// Adds a guest code page (write-protecting it if the guest may write
    /// it); true if it is new since the last flush. Call it before reading
    /// code from the page: a write by another thread after the read must
    /// fault and be logged as a change.
    pub fn watch(&mut self, page: u64) -> bool {
        let new = self.code_pages.insert(page);
        if new {
            crate::cache::code_watch::watch_page(page << 12);
        }
        new
    }

    /// The value of the 8-byte slot at guest address `slot` if it can
    /// change only through a mapping change, which drops what reads it
    /// (`frontend::fixed_slots`): its page is watched as a code page,
    /// checked before and again after (a change in between went unlogged).
    pub fn read_fixed_slot(&mut self, src: &dyn CodeSource, slot: u64) -> Option<u64> {
        let page = slot & !((1 << PAGE_SHIFT) - 1);
        if !code_watch::fixed_unless_remapped(page) {
            return None;
        }
        self.watch(slot >> PAGE_SHIFT);
        if !code_watch::fixed_unless_remapped(page) {
            return None;
        }
        Some(u64::from_le_bytes(src.bytes(slot, 8).try_into().ok()?))
    }

    /// Whether guest page `page` holds translated code (safe to read when
    /// looking ahead for flag liveness).
    pub fn is_code_page(&self, page: u64) -> bool {
        self.code_pages.contains(page)
    }

    /// `flags::live_on_entry` at `addr`, remembered from an earlier call
    /// (`compute` runs on the first).
    pub fn live_on_entry(&mut self, addr: u64, compute: impl FnOnce(&Self) -> FlagSet) -> FlagSet {
        if let Some(&live) = self.entry_liveness.get(&addr) {
            return live;
        }
        let live = compute(self);
        self.entry_liveness.insert(addr, live);
        live
    }

    /// Where the next block will be placed: `translate_block`'s `base`.
    pub fn next_block_addr(&self) -> u64 {
        (self.next_addr() + 15) & !15
    }

    /// Installs `t`, translated for `next_block_addr`, as the translation
    /// of `rip` covering guest pages `pages`, and links branches to and
    /// from it; None when the buffer or the block map is full (flush and
    /// translate again).
    pub fn insert_block(&mut self, rip: u64, pages: (u64, u64), t: &TranslatedBlock) -> Option<u64> {
        let base = self.next_block_addr();
        let host = self.install(&t.code)?;
        debug_assert_eq!(host, base);
        self.site_buf.clear();
        self.site_buf.extend(t.direct_exits.iter().map(|d| ExitSite::Direct {
            off: d.site_offset as u32,
            feeder: d.feeder.map(|f| f as u32),
            target: d.target,
        }));
        self.site_buf.extend(t.indirect_site.map(|off| ExitSite::Indirect { off: off as u32 }));
        let record = self.map.insert(rip, host, host + t.code.len() as u64, &t.marks, &self.site_buf)?;
        self.stats.blocks += 1;
        self.stats.guest_insns += t.guest_insns as u64;
        self.stats.host_bytes += t.code.len() as u64;
        self.blocks.insert(rip, Block { host, carry_entry: host + u64::from(t.carry_entry), record, pages, slot_page: None });
        for page in pages.0..=pages.1 {
            self.page_blocks.entry(page).or_default().push(rip);
        }
        // The block is in `blocks` already: a loop that jumps to its own
        // start is linked to itself here.
        for exit in &t.direct_exits {
            let site = Site { at: host + exit.site_offset as u64, feeder: exit.feeder.map(|f| host + f as u64) };
            if let Some(target) = self.lookup(exit.target) {
                link_site(site, Some(target));
            }
            self.links.add_site(site, exit.target);
        }
        // Only images with saved blocks need to know (a cold start has none).
        if self.saved_images > 0 {
            if let Some(i) = self.image_index(rip) {
                self.images[i].translated_blocks += 1;
            }
            self.book_unsaved_exits_to(rip);
        }
        self.link_sites_waiting_for(rip, host);
        Some(host)
    }

    /// Makes the translation of `rip` depend on guest page `page` (a fixed
    /// slot it read, after `watch`ing the page): a change there drops it,
    /// as a change to its code does.
    pub fn add_slot_page(&mut self, rip: u64, page: u64) {
        if let Some(block) = self.blocks.get_mut(&rip) {
            block.slot_page = Some(page);
            self.page_blocks.entry(page).or_default().push(rip);
        }
    }

    /// Links the exits that jump to guest `rip`, now translated at `host`.
    fn link_sites_waiting_for(&self, rip: u64, host: u64) {
        for &site in self.links.sites_to(rip) {
            link_site(site, Some(host));
            // A thread's signal handler may hold the site's block unlinked
            // (its thread must leave at the next exit): undo the link, as
            // relink_for_signal does. A handler that holds it after this
            // check unlinks after our write.
            if !self.map.any_unlink_held() {
                continue;
            }
            if let Some(index) = self.map.block_at(site.at).filter(|&i| self.map.unlink_held(i)) {
                unlink_exits(&self.map, index);
            }
        }
    }

    /// The guest changed or unmapped `[first, end)` (addresses): drops
    /// every translation of code on those pages.
    pub fn invalidate_range(&mut self, first: u64, end: u64) {
        let (first_page, end_page) = (first >> PAGE_SHIFT, (end + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT);
        let pages: Vec<u64> = if end_page.saturating_sub(first_page) <= self.code_pages.len() as u64 {
            (first_page..end_page).filter(|&p| self.code_pages.contains(p)).collect()
        } else {
            self.code_pages.iter().filter(|p| (first_page..end_page).contains(p)).collect()
        };
        if !pages.is_empty() {
            // A look-ahead may have read the changed code (from any block).
            self.entry_liveness.clear();
        }
        for image in self.images.iter_mut().filter(|i| pages.iter().any(|p| i.contains(p << PAGE_SHIFT) || i.contains(((p + 1) << PAGE_SHIFT) - 1))) {
            image.spoil();
        }
        for page in pages {
            self.drop_installed_on_page(page);
            // Translating from it again must protect it again.
            self.code_pages.remove(page);
            for rip in self.page_blocks.remove(&page).unwrap_or_default() {
                self.drop_block(rip);
            }
        }
    }

    /// Removes the translation of `rip`: nothing can enter it any more,
    /// and a thread inside it leaves at its next exit.
    fn drop_block(&mut self, rip: u64) {
        let Some(block) = self.blocks.remove(&rip) else { return };
        for &site in self.links.sites_to(rip) {
            link_site(site, None);
        }
        for page in (block.pages.0..=block.pages.1).chain(block.slot_page) {
            if let Some(rips) = self.page_blocks.get_mut(&page) {
                rips.retain(|&r| r != rip);
            }
        }
        if let Some((host, sites)) = self.map.exits(block.record) {
            for site in sites {
                if let ExitSite::Direct { off, target, .. } = site {
                    self.links.forget_site(host + off as u64, target);
                }
            }
        }
        self.map.mark_dead(block.record);
        for thread in &self.threads {
            thread.lookup.forget(rip);
        }
        self.stats.invalidated += 1;
    }

    /// Drops every translation. Other threads may be running translated
    /// code: every block is unlinked and every lookup table emptied, so
    /// each leaves within a block, and the buffer is reused only once each
    /// has been seen outside generated code.
    pub fn flush(&mut self, me: &ThreadCode) {
        self.forget_translations(me);
        self.discard_translated_pages();
        self.used = self.reserved;
    }

    /// Gives the pages past the trampolines back to the kernel, so a
    /// program whose code shrank keeps less memory. Only the page holding
    /// the end of the trampolines is kept.
    fn discard_translated_pages(&mut self) {
        let page = 1usize << PAGE_SHIFT;
        let first = (self.reserved + page - 1) & !(page - 1);
        let end = (self.used + page - 1) & !(page - 1);
        if end > first {
            // SAFETY: [first, end) lies inside our private anonymous
            // mapping, holds only forgotten translations that no thread runs
            // (forget_translations waited), and reads back as zeros.
            let r = unsafe { libc::madvise(self.buf.add(first).cast(), end - first, libc::MADV_DONTNEED) };
            if r != 0 {
                tracing::warn!(error = %std::io::Error::last_os_error(), "discarding the code cache's pages failed; reusing them in place");
            }
        }
    }

    /// Forgets every translation but leaves their code where it is: new
    /// translations go after it.
    fn forget_translations(&mut self, me: &ThreadCode) {
        let others: Vec<&Arc<ThreadCode>> = self.threads.iter().filter(|t| !std::ptr::eq(t.as_ref(), me)).collect();
        if !others.is_empty() {
            for index in 0..self.map.len() {
                unlink_exits(&self.map, index);
            }
        }
        for thread in &self.threads {
            thread.lookup.clear();
        }
        for thread in others {
            thread.wait_until_out();
        }
        self.blocks.clear();
        self.links.clear();
        self.page_blocks.clear();
        self.code_pages.clear();
        self.entry_liveness.clear();
        // SAFETY: no thread runs translated code (waited for above), so no
        // signal handler is looking up a block.
        unsafe { self.map.clear() };
        // The records the map read from.
        self.installed.clear();
        for image in &mut self.images {
            image.translated_blocks = 0;
        }
        for thread in &self.threads {
            for slot in &thread.unlinked {
                slot.store(0, Ordering::Relaxed);
            }
        }
        self.stats.flushes += 1;
    }

    /// Undoes `unlink_for_signal` for the blocks `thread` unlinked, unless
    /// another thread still needs one unlinked for its own signal.
    pub fn relink_for_signal(&mut self, thread: &ThreadCode) {
        for slot in &thread.unlinked {
            let Some(index) = slot.swap(0, Ordering::Relaxed).checked_sub(1) else { continue };
            if !self.map.release_unlinked(index) || self.map.is_dead(index) {
                continue;
            }
            let Some((host, sites)) = self.map.exits(index) else { continue };
            for site in sites {
                let at = host + site.offset() as u64;
                match site {
                    ExitSite::Direct { target, feeder, .. } => {
                        let site = Site { at, feeder: feeder.map(|f| host + f as u64) };
                        link_site(site, self.lookup(target));
                    }
                    ExitSite::Indirect { .. } => write_word(at, BR_X17),
                }
            }
            if self.map.unlink_held(index) {
                // Another thread's handler unlinked it while we relinked.
                unlink_exits(&self.map, index);
            }
        }
    }

}

/// For a thread's handler of an asynchronous signal: makes the block
/// containing host address `pc` return to the dispatcher at its end instead
/// of continuing into other blocks; false when `pc` is not in a block.
/// Async-signal-safe: it only reads the block map and rewrites
/// instruction words.
pub fn unlink_for_signal(map: &BlockMap, pc: u64, thread: &ThreadCode) -> bool {
    let Some(index) = map.block_at(pc) else { return false };
    map.hold_unlinked(index);
    unlink_exits(map, index);
    // With every slot taken nobody releases this hold: the block stays
    // unlinked (slower, still correct).
    let _ = thread.unlinked.iter().any(|slot| slot.compare_exchange(0, index + 1, Ordering::Relaxed, Ordering::Relaxed).is_ok());
    true
}

/// The word a direct exit's `b` holds: a jump to its target's translation,
/// or, while there is none, to the next instruction (its exit stub).
fn direct_branch(site: u64, target: Option<u64>) -> u32 {
    encode_b(site, target.unwrap_or(site + 4)).expect("code buffer within branch range")
}

/// Points a direct exit's `b` at `target`'s translation, or with None back
/// at its exit stub; its feeder (the conditional branch to the site) jumps
/// straight to the target when in range, else to the site. Each word
/// written leaves a valid program for a thread running the code: linking
/// writes the site before the feeder, unlinking the feeder before the site.
fn link_site(site: Site, target: Option<u64>) {
    match target {
        Some(to) => point_site(site, to, write_word),
        None => {
            unfeed(site);
            write_word(site.at, direct_branch(site.at, None));
        }
    }
}

/// Points a site, and its feeder when in range, at `to`, storing each word
/// with `write` (`write_word`, or `write_word_unsynced` in code not yet
/// published).
fn point_site(site: Site, to: u64, write: fn(u64, u32)) {
    write(site.at, direct_branch(site.at, Some(to)));
    if let Some(feeder) = site.feeder {
        // Out of range, it keeps jumping to the site.
        if let Some(word) = retarget_branch(read_word(feeder), feeder, to) {
            write(feeder, word);
        }
    }
}

/// Points a site's feeder back at the site. Async-signal-safe.
fn unfeed(site: Site) {
    if let Some(feeder) = site.feeder {
        let word = read_word(feeder);
        // It was emitted jumping to the site, so the site is in range.
        if let Some(back) = retarget_branch(word, feeder, site.at).filter(|&back| back != word) {
            write_word(feeder, back);
        }
    }
}

/// Both kinds of exit fall through into their lookup exit (a direct one's
/// feeder first goes back to jumping to it).
fn unlink_exits(map: &BlockMap, index: usize) {
    if let Some((host, sites)) = map.exits(index) {
        for site in sites {
            let at = host + site.offset() as u64;
            if let ExitSite::Direct { feeder, .. } = site {
                unfeed(Site { at, feeder: feeder.map(|f| host + f as u64) });
            }
            write_word(at, NOP);
        }
    }
}

/// The branch forms a feeder may take, as (mask, value, immediate bits):
/// the immediate is a word offset at bit 0 for `b`, at bit 5 for the others.
const BRANCH_FORMS: [(u32, u32, u32); 4] = [
    (0xfc00_0000, 0x1400_0000, 26), // b
    (0xff00_0010, 0x5400_0000, 19), // b.cond
    (0x7e00_0000, 0x3400_0000, 19), // cbz, cbnz
    (0x7e00_0000, 0x3600_0000, 14), // tbz, tbnz
];

/// Branch `word` at `from`, re-pointed at `to` with its kind, condition
/// and register kept; None when `to` is out of its range.
pub fn retarget_branch(word: u32, from: u64, to: u64) -> Option<u32> {
    let &(_, value, bits) = BRANCH_FORMS.iter().find(|&&(mask, value, _)| word & mask == value)?;
    let shift = if value == 0x1400_0000 { 0 } else { 5 };
    let delta = to.wrapping_sub(from) as i64;
    let words = delta >> 2;
    let half = 1i64 << (bits - 1);
    if delta & 3 != 0 || !(-half..half).contains(&words) {
        return None;
    }
    let field = ((1u32 << bits) - 1) << shift;
    Some((word & !field) | (((words as u32) << shift) & field))
}

/// Copies generated code into the buffer with plain Advanced SIMD, 8- and
/// 4-byte stores, not the C library's memcpy: where the CPU has SVE, glibc's memcpy
/// stores with SVE instructions, and qemu-system's TCG (7.2 and 10.0)
/// then misses that code it had translated changed, so code written
/// where other code ran before (after a full flush) ran as the old
/// instructions in the arm64 VM. Real CPUs are unaffected either way:
/// `sync_icache` is what they need.
///
/// # Safety
/// `to` must be valid for `code.len()` bytes of writes, 4-byte aligned.
unsafe fn copy_code(code: &[u8], to: *mut u8) {
    // 64 bytes an instruction pair where the host has Advanced SIMD (every
    // aarch64 Linux host): a warm start copies megabytes of saved code.
    #[cfg(target_arch = "aarch64")]
    let (code, to) = {
        use std::arch::aarch64::{vld1q_u8_x4, vst1q_u8_x4};
        let (blocks, rest) = code.as_chunks::<64>();
        let mut at = to;
        for block in blocks {
            // SAFETY: 64 bytes of `code`, and of the destination (the
            // caller's contract); LD1/ST1 take any alignment.
            unsafe {
                vst1q_u8_x4(at, vld1q_u8_x4(block.as_ptr()));
                at = at.add(64);
            }
        }
        (rest, at)
    };
    let mut at = to as *mut u64;
    let (rounds, rest) = code.as_chunks::<32>();
    for round in rounds {
        for (i, word) in round.as_chunks::<8>().0.iter().enumerate() {
            // SAFETY: inside the destination (the caller's contract).
            unsafe { at.add(i).write_volatile(u64::from_ne_bytes(*word)) };
        }
        // SAFETY: as above.
        at = unsafe { at.add(4) };
    }
    let (words, tail) = rest.as_chunks::<8>();
    for word in words {
        // SAFETY: as above.
        unsafe {
            at.write_volatile(u64::from_ne_bytes(*word));
            at = at.add(1);
        }
    }
    if let Some(word) = tail.first_chunk::<4>() {
        // SAFETY: as above (code is whole instructions: 4-byte words).
        unsafe { (at as *mut u32).write_volatile(u32::from_ne_bytes(*word)) };
    }
}

fn read_word(at: u64) -> u32 {
    // SAFETY: `at` is a 4-byte aligned instruction inside a code buffer.
    unsafe { (at as *const u32).read_volatile() }
}

/// Writes an instruction word of code no thread can run yet (its sync follows).
fn write_word_unsynced(at: u64, word: u32) {
    // SAFETY: as for `write_word`.
    unsafe { (at as *mut u32).write_volatile(word) };
}

/// Replaces the instruction at `at` with a branch to `to` (within the
/// block: an ordered access sent to its misaligned pad for good).
/// Async-signal-safe.
pub(crate) fn branch_instead(at: u64, to: u64) {
    write_word(at, direct_branch(at, Some(to)));
}

fn write_word(at: u64, word: u32) {
    // SAFETY: `at` is a 4-byte aligned instruction inside a code buffer,
    // emitted by the cache; replacing a single aligned instruction word is
    // atomic for every thread executing it.
    unsafe { (at as *mut u32).write_volatile(word) };
    // SAFETY: the word just written.
    let slice = unsafe { std::slice::from_raw_parts(at as *const u8, 4) };
    dynasmrt::cache_control::synchronize_icache(slice);
}

impl Drop for CodeCache {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`; no generated code runs once the
        // cache is dropped (its translator is gone).
        unsafe { libc::munmap(self.buf.cast(), code_bytes()) };
    }
}

const NOP: u32 = 0xd503_201f;
/// `br x17`, the indirect exit's jump on a lookup hit (`emit::control`).
const BR_X17: u32 = 0xd61f_0000 | (17 << 5);


#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::DirectExit;

    fn block(code: &[u32], direct_exits: Vec<DirectExit>) -> TranslatedBlock {
        TranslatedBlock {
            code: code.iter().flat_map(|w| w.to_le_bytes()).collect(),
            direct_exits,
            indirect_site: None,
            marks: Vec::new(),
            relocations: Vec::new(),
            guest_insns: 1,
            carry_entry: 0,
            ends_with_call: false,
            spare_literals: Vec::new(),
        }
    }

    const B_NE_16: u32 = 0x5400_0000 | (4 << 5) | 1;
    const B_NEXT: u32 = 0x1400_0001;

    #[test]
    fn a_conditional_branch_is_linked_straight_to_its_target_and_restored() {
        let mut cache = CodeCache::new(HostFeatures::BASELINE).unwrap();
        // 0x1000: b.ne site B; site A (-> 0x2000) and its stub; site B (-> 0x1000, itself).
        let x = block(
            &[B_NE_16, B_NEXT, NOP, NOP, B_NEXT, NOP],
            vec![
                DirectExit { site_offset: 4, feeder: None, target: 0x2000 },
                DirectExit { site_offset: 16, feeder: Some(0), target: 0x1000 },
            ],
        );
        let hx = cache.insert_block(0x1000, (1, 1), &x).unwrap();
        let word = |off: u64| read_word(hx + off);
        // The loop jumps to its own start from the b.ne, and from site B.
        assert_eq!(word(0), 0x5400_0001, "b.ne to itself");
        assert_eq!(word(16), encode_b(hx + 16, hx).unwrap());
        assert_eq!(word(4), B_NEXT, "0x2000 is not translated yet");

        let hy = cache.insert_block(0x2000, (2, 2), &block(&[NOP], vec![])).unwrap();
        assert_eq!(word(4), encode_b(hx + 4, hy).unwrap());

        // A signal in the loop: every path leads to a stub.
        let thread = ThreadCode::default();
        assert!(unlink_for_signal(&cache.map, hx + 8, &thread));
        assert_eq!((word(0), word(4), word(16)), (B_NE_16, NOP, NOP));
        cache.relink_for_signal(&thread);
        assert_eq!((word(0), word(4), word(16)), (0x5400_0001, encode_b(hx + 4, hy).unwrap(), encode_b(hx + 16, hx).unwrap()));

        // Invalidating the target, here the loop itself, restores the b.ne.
        cache.drop_block(0x2000);
        assert_eq!(word(4), B_NEXT);
        assert_eq!(word(0), 0x5400_0001);
        cache.drop_block(0x1000);
        assert_eq!((word(0), word(16)), (B_NE_16, B_NEXT));
    }

    #[test]
    fn branches_are_retargeted_within_their_range_only() {
        let from = 0x10_0000u64;
        // b.lt keeps its condition; ±1 MiB.
        assert_eq!(retarget_branch(0x5400_000b, from, from - 8), Some(0x54ff_ffcb));
        assert_eq!(retarget_branch(0x5400_000b, from, from + (1 << 20) - 4), Some(0x547f_ffeb));
        assert_eq!(retarget_branch(0x5400_000b, from, from + (1 << 20)), None);
        // cbnz w3 / cbz x5 keep register and size.
        assert_eq!(retarget_branch(0x3500_0003, from, from + 8), Some(0x3500_0043));
        assert_eq!(retarget_branch(0xb400_0005, from, from - (1 << 20)), Some(0xb480_0005));
        // tbz x2, #0: ±32 KiB.
        assert_eq!(retarget_branch(0x3600_0002, from, from + 0x7ffc), Some(0x3603_ffe2));
        assert_eq!(retarget_branch(0x3600_0002, from, from + 0x8000), None);
        // b: ±128 MiB.
        assert_eq!(retarget_branch(0x1400_0001, from, from - 4), encode_b(from, from - 4));
        assert_eq!(retarget_branch(NOP, from, from), None);
    }
}
