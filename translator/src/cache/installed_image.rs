//! An image's saved blocks installed a chunk at a time: at the first
//! guest instruction run in a 64 KiB chunk of an image that has saved
//! blocks (`image`), the chunk's code, laid out and linked to itself when
//! the set was written, is copied into the code buffer whole once its
//! checksum and every block's guest bytes hold, relocated for where the
//! image and the code are now, its exits that leave the chunk linked, with
//! one instruction-cache sync. A warm start then enters the dispatcher
//! for each chunk it runs, not for each block, and pays per block little
//! more than a record in the block map. Chunks keep a process that runs
//! a little of a large library (a short program's libc, a forked child
//! that could not keep its parent's cache) from installing all of it. A
//! chunk with a block that does not hold (its guest bytes changed) is
//! translated as it runs instead. A block whose last branch went through
//! a fixed slot (`frontend::fixed_slots`) whose page is not fixed yet
//! when its chunk is installed (ld.so makes a GOT read-only after
//! relocating it) waits in the buffer until it is first run, and is
//! entered then if the slot holds its value.
//!
//! Installed blocks are found through the saved set's own index (no entry
//! per block in the cache's maps; the block map reads their instruction
//! marks and exits from their records). An image's installed blocks live
//! and die together: a change to any of its code pages drops them all,
//! which is rare (images are code mapped from files), so links between
//! them need no books.

use crate::cache::block_map::ExitSite;
use crate::cache::image::{SavedBlocks, SavedRecord, CHUNK_SHIFT};
use crate::cache::links::Site;
use crate::cache::thread_code::ThreadCode;
use crate::cache::{copy_code, link_site, point_site, write_word, write_word_unsynced, CodeCache, PAGE_SHIFT};
use crate::frontend::decode::CodeSource;
use std::ops::Range;

/// Index entries not installed.
const NONE: u32 = u32::MAX;
/// Index entries whose block waits for its fixed slot (`entries` holds
/// its code's offset second).
const DEFERRED: u32 = u32::MAX - 1;

/// What installing a saved block does with its exits to code no saved
/// block starts at (error paths, mostly never run).
#[derive(Clone, Copy, PartialEq, Eq)]
enum UnsavedTargets {
    /// Nothing: none is translated, and the set's table of such exits
    /// finds them when one is (`book_unsaved_exits_to`).
    LeftToTheirTranslation,
    /// As `LeftToTheirTranslation`, but the image has blocks this process
    /// translated (their translation booked the exits installed before
    /// them, not these): an exit to one of them is linked and booked.
    /// Booking every such exit instead, as `Booked`, cost Python's warm
    /// start 5% where 7 of its blocks are translated at every start.
    LinkedIfTranslated,
    /// Booked in `links` (and linked if translated), as a translation's.
    Booked,
}

/// Whether an entry's offset is an installed block's.
fn installed(host: u32) -> bool {
    host < DEFERRED
}

/// One image's installed blocks.
pub(super) struct InstalledImage {
    start: u64,
    end: u64,
    /// The records the block map reads: kept until the next flush.
    saved: SavedBlocks,
    /// Per index entry of `saved`: its block's entry and carry-form entry,
    /// as offsets into the code buffer (NONE: not installed; DEFERRED and
    /// the code's offset: see `DEFERRED`).
    entries: Vec<[u32; 2]>,
    /// Which chunks were installed (or tried).
    chunks: Vec<bool>,
    /// Its blocks' records in the block map, a range per chunk.
    records: Vec<Range<usize>>,
    /// False once dropped (its records stay until the flush).
    live: bool,
    /// Whether the saved set's table of exits to unsaved code holds: if
    /// not, installing books those exits as a translation does.
    unsaved_exits_hold: bool,
}

impl InstalledImage {
    fn new(start: u64, end: u64, saved: SavedBlocks) -> InstalledImage {
        let chunks = vec![false; ((end - start) >> CHUNK_SHIFT) as usize + 1];
        let unsaved_exits_hold = saved.unsaved_exits_hold();
        InstalledImage { start, end, entries: vec![[NONE; 2]; saved.len()], saved, chunks, records: Vec::new(), live: true, unsaved_exits_hold }
    }

    /// The entry and carry-form entry of the installed block at guest
    /// `rip`, as offsets into the code buffer.
    fn entry(&self, rip: u64) -> Option<[u32; 2]> {
        if !self.live || !(self.start..self.end).contains(&rip) {
            return None;
        }
        Some(*self.entries.get(self.saved.index_of(rip - self.start)?)?).filter(|&[host, _]| installed(host))
    }

    fn overlaps_page(&self, page: u64) -> bool {
        self.start >> PAGE_SHIFT <= page && page <= (self.end - 1) >> PAGE_SHIFT
    }
}

impl CodeCache {
    /// The entry and carry-form entry of an installed saved block at `rip`.
    pub(super) fn installed_entry(&self, rip: u64) -> Option<(u64, u64)> {
        let [host, carry] = self.installed.iter().find_map(|image| image.entry(rip))?;
        Some((self.buf as u64 + u64::from(host), self.buf as u64 + u64::from(carry)))
    }

    /// Host code for guest `rip` from the saved blocks of its image:
    /// installs its chunk if this is the chunk's first instruction run
    /// since the last flush (`me`, the thread running it, gets their
    /// return addresses in its lookup table). None when `rip` has no usable
    /// saved block.
    pub fn install_saved(&mut self, src: &dyn CodeSource, rip: u64, me: &ThreadCode) -> Option<u64> {
        let i = self.image_index(rip)?;
        let (start, end) = (self.images[i].start, self.images[i].end);
        let n = match self.installed.iter().position(|image| image.live && image.start == start) {
            Some(n) => n,
            None => {
                self.installed.push(InstalledImage::new(start, end, self.images[i].saved_blocks()?));
                self.installed.len() - 1
            }
        };
        let chunk = (rip - start) >> CHUNK_SHIFT;
        // Out of the list while the cache installs into it.
        let mut image = self.installed.swap_remove(n);
        match image.chunks.get(chunk as usize) {
            Some(false) => {
                image.chunks[chunk as usize] = true;
                self.install_chunk(src, &mut image, chunk, me);
            }
            // A block its chunk left for later (its fixed slot did not
            // hold then: the loader had not made its GOT read-only yet).
            _ => {
                if let Some(i) = image.saved.index_of(rip - start).filter(|&i| image.entries[i][0] == DEFERRED) {
                    self.enter_deferred(src, &mut image, i, me);
                }
            }
        }
        self.installed.push(image);
        self.installed_entry(rip).map(|(host, _)| host)
    }

    /// Installs chunk `number` of `image` if its checksum and all its
    /// blocks hold and the buffer and the block map have room (else its
    /// blocks are translated when run, after the flush that makes room).
    fn install_chunk(&mut self, src: &dyn CodeSource, image: &mut InstalledImage, number: u64, me: &ThreadCode) {
        let (start, end, buf) = (image.start, image.end, self.buf as u64);
        let saved = image.saved.clone();
        let Some(chunk) = saved.chunk(number) else { return };
        let mut blocks = Vec::with_capacity(chunk.entries().len());
        let mut watched_to = None;
        let mut unreadable = Vec::new();
        for block in chunk.blocks() {
            let Some(block) = block else { return };
            let rip = start + u64::from(block.off);
            let guest = block.record.guest();
            let last = rip + guest.len().max(1) as u64 - 1;
            if last >= end {
                return;
            }
            // Watched before they are read, as for a translation, and
            // probed once each (the blocks are in guest order).
            let pages = (rip >> PAGE_SHIFT)..=(last >> PAGE_SHIFT);
            for page in pages.clone() {
                if watched_to.is_none_or(|w| page > w) {
                    self.watch(page);
                    if src.bytes((page << PAGE_SHIFT).max(rip), 1).is_empty() {
                        unreadable.push(page);
                    }
                    watched_to = Some(page);
                }
            }
            // SAFETY: every page of the block was probed readable just now.
            if unreadable.iter().any(|p| pages.contains(p)) || unsafe { src.bytes_probed(rip, guest.len()) } != guest {
                return;
            }
            let waits = block.record.fixed_slot().is_some_and(|slot| !self.fixed_slot_holds(src, start, end, slot));
            blocks.push((block, waits));
        }
        let host = self.next_block_addr();
        let code_end = (host - buf) as usize + chunk.code.len();
        if code_end > super::code_bytes() || !self.map.has_room(blocks.len()) {
            image.chunks[number as usize] = false;
            return;
        }
        // SAFETY: inside the buffer (checked above), past everything
        // handed out since the last flush; not published before the
        // sync below.
        let code = unsafe {
            copy_code(chunk.code, host as *mut u8);
            std::slice::from_raw_parts_mut(host as *mut u8, chunk.code.len())
        };
        if !chunk.relocate(code, start, host, &self.stubs) {
            return;
        }
        let first_record = self.map.len();
        let listening = crate::block_listener::listening();
        let unsaved = self.unsaved_targets(image);
        let mut guest_insns = 0;
        for &(block, waits) in &blocks {
            let (rip, at) = (start + u64::from(block.off), host + u64::from(block.code_at));
            let len = block.record.code_len();
            // SAFETY: `saved` is kept in `installed` until the map is
            // cleared. The map had room for every block of the chunk.
            let recorded = unsafe { self.map.insert_saved(rip, at, at + len as u64, block.record.bytes(), start) };
            debug_assert!(recorded.is_some());
            let offset = (at - buf) as u32;
            image.entries[block.entry as usize] = if waits { [DEFERRED, offset] } else { [offset, offset + block.record.carry_entry()] };
            guest_insns += block.record.guest_insns() as u64;
            // Exits that leave the chunk are linked before anything can
            // run its code; the chunk's code links the others.
            if !waits && (unsaved != UnsavedTargets::LeftToTheirTranslation || block.record.links_at_install()) {
                self.link_saved_exits(image, block.record, at, write_word_unsynced, unsaved);
            }
            if listening {
                crate::block_listener::installed(rip, at, len);
            }
        }
        self.stats.blocks += blocks.len() as u64;
        self.stats.restored += blocks.len() as u64;
        self.stats.guest_insns += guest_insns;
        self.stats.host_bytes += chunk.code.len() as u64;
        self.used = code_end;
        image.records.push(first_record..self.map.len());
        self.sync_icache(host, chunk.code.len());
        for &(block, _) in blocks.iter().filter(|(_, waits)| !waits) {
            self.entered_saved(image, block.entry as usize, start + u64::from(block.off), block.record, me);
        }
    }

    /// Whether the fixed slot of a saved block (`slot` and its value, as
    /// offsets in the image at `start..end`) is fixed and holds the value.
    fn fixed_slot_holds(&mut self, src: &dyn CodeSource, start: u64, end: u64, (slot, value): (u64, u64)) -> bool {
        slot < end - start && self.read_fixed_slot(src, start + slot) == Some(start + value)
    }

    /// Enters the block of index entry `i`, installed with its chunk but
    /// left waiting for its fixed slot, if the slot holds its value now.
    fn enter_deferred(&mut self, src: &dyn CodeSource, image: &mut InstalledImage, i: usize, me: &ThreadCode) {
        let saved = image.saved.clone();
        let Some(record) = saved.installed_record(i) else { return };
        if !record.fixed_slot().is_some_and(|slot| self.fixed_slot_holds(src, image.start, image.end, slot)) {
            return;
        }
        let offset = image.entries[i][1];
        image.entries[i] = [offset, offset + record.carry_entry()];
        let unsaved = self.unsaved_targets(image);
        self.link_saved_exits(image, record, self.buf as u64 + u64::from(offset), write_word, unsaved);
        let Some(off) = saved.offset(i) else { return };
        self.entered_saved(image, i, image.start + off, record, me);
    }

    /// How installing blocks of `image` treats their exits to code no
    /// saved block starts at.
    fn unsaved_targets(&self, image: &InstalledImage) -> UnsavedTargets {
        let translated = self.image_index(image.start).is_some_and(|i| self.images[i].translated_blocks > 0);
        match (image.unsaved_exits_hold, translated) {
            (true, false) => UnsavedTargets::LeftToTheirTranslation,
            (true, true) => UnsavedTargets::LinkedIfTranslated,
            (false, _) => UnsavedTargets::Booked,
        }
    }

    /// Links the exits of an installed saved block at `host` that its
    /// chunk's code does not: to the image's installed blocks directly
    /// (each exit names its target's index entry; `write` stores the words
    /// of code not yet published without a sync), to others through
    /// `links`, as a translation's are (those to code no saved block
    /// starts at, as `unsaved` says).
    fn link_saved_exits(&mut self, image: &InstalledImage, record: SavedRecord, host: u64, write: fn(u64, u32), unsaved: UnsavedTargets) {
        let (start, buf) = (image.start, self.buf as u64);
        if unsaved == UnsavedTargets::LeftToTheirTranslation && !record.links_at_install() {
            return;
        }
        for (exit, entry, linked_in_chunk) in record.exits(start) {
            if linked_in_chunk || entry.is_none() && unsaved == UnsavedTargets::LeftToTheirTranslation {
                continue;
            }
            let site = Site { at: host + exit.site_offset as u64, feeder: exit.feeder.map(|f| host + f as u64) };
            if entry.is_none() && unsaved == UnsavedTargets::LinkedIfTranslated {
                if let Some(to) = self.blocks.get(&exit.target).map(|b| b.host) {
                    link_site(site, Some(to));
                    self.links.add_site(site, exit.target);
                }
                continue;
            }
            let saved_target = entry.filter(|&e| image.saved.offset(e) == Some(exit.target - start)).and_then(|e| image.entries.get(e));
            match saved_target {
                Some(&[to, _]) if installed(to) => point_site(site, buf + u64::from(to), write),
                _ => {
                    // A saved block not installed can only have been
                    // translated: no other image holds its address.
                    let to = match saved_target {
                        Some(_) => self.blocks.get(&exit.target).map(|b| b.host),
                        None => self.lookup(exit.target),
                    };
                    if let Some(to) = to {
                        link_site(site, Some(to));
                    }
                    self.links.add_site(site, exit.target);
                }
            }
        }
    }

    /// A block was translated at `rip` in an image: the exits of its
    /// installed saved blocks to `rip` (code no saved block started at)
    /// are booked in `links`, to be linked with the others waiting for it.
    pub(super) fn book_unsaved_exits_to(&mut self, rip: u64) {
        let buf = self.buf as u64;
        let mut sites = std::mem::take(&mut self.site_scratch);
        for image in self.installed.iter().filter(|i| i.live && i.unsaved_exits_hold && (i.start..i.end).contains(&rip)) {
            for (entry, site, feeder) in image.saved.unsaved_exits().to(rip - image.start) {
                if let Some(&[block, _]) = image.entries.get(entry).filter(|[host, _]| installed(*host)) {
                    let at = buf + u64::from(block);
                    sites.push(Site { at: at + u64::from(site), feeder: feeder.map(|f| at + u64::from(f)) });
                }
            }
        }
        for site in sites.drain(..) {
            if !self.links.sites_to(rip).contains(&site) {
                self.links.add_site(site, rip);
            }
        }
        self.site_scratch = sites;
    }

    /// A saved block of index entry `i` can be entered: blocks installed
    /// or translated before that jump to it are linked to it, and if it
    /// ends with a call, its return address (where that call's `ret` goes,
    /// through the lookup table) is entered in `me`'s table now, not at
    /// the dispatcher's first miss (Python's start missed 8,500 returns).
    /// Only this thread's table, and only for return addresses, which
    /// keeps the table's memory to the pages a run would touch anyway.
    fn entered_saved(&self, image: &InstalledImage, i: usize, rip: u64, record: SavedRecord, me: &ThreadCode) {
        let (start, buf) = (image.start, self.buf as u64);
        let Some(&[host, _]) = image.entries.get(i) else { return };
        self.link_sites_waiting_for(rip, buf + u64::from(host));
        if record.ends_with_call() {
            let returns_to = rip + record.guest().len() as u64;
            // The block past it is usually the next entry.
            let next = Some(i + 1).filter(|&n| image.saved.offset(n) == Some(returns_to - start)).and_then(|n| image.entries.get(n)).copied();
            if let Some([host, carry]) = next.filter(|&[host, _]| installed(host)).or_else(|| image.entry(returns_to)) {
                me.lookup.remember(returns_to, buf + u64::from(host), buf + u64::from(carry));
            }
        }
    }

    /// Drops the installed images with code on guest page `page`: every
    /// branch into their blocks, and between them, goes back to its exit
    /// stub, so a thread inside one leaves at its next exit.
    pub(super) fn drop_installed_on_page(&mut self, page: u64) {
        for n in 0..self.installed.len() {
            let image = &self.installed[n];
            if !image.live || !image.overlaps_page(page) {
                continue;
            }
            self.installed[n].live = false;
            let image = &self.installed[n];
            for index in image.records.iter().flat_map(Range::clone) {
                self.map.mark_dead(index);
                let Some((host, sites)) = self.map.exits(index) else { continue };
                for site in sites {
                    if let ExitSite::Direct { off, feeder, target } = site {
                        let at = host + u64::from(off);
                        link_site(Site { at, feeder: feeder.map(|f| host + u64::from(f)) }, None);
                        self.links.forget_site(at, target);
                    }
                }
                self.stats.invalidated += 1;
            }
            for (i, &[host, _]) in image.entries.iter().enumerate() {
                let Some(off) = image.saved.offset(i).filter(|_| installed(host)) else { continue };
                for &site in self.links.sites_to(image.start + off) {
                    link_site(site, None);
                }
            }
            for thread in &self.threads {
                thread.lookup.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::encode_b;
    use crate::cpu::host::HostFeatures;
    use crate::frontend::decode::CodeBuffer;
    use crate::pipeline::translation;
    use std::borrow::Cow;

    /// A guest page no other test translates from (the change log is global).
    const IMAGE: u64 = 0x6d5b_3000_0000;
    const SECOND: u64 = IMAGE + 0x100;

    /// `mov eax, 1; jmp SECOND` at IMAGE, `add eax, 2; syscall` at SECOND.
    fn code() -> Vec<u8> {
        let mut code = vec![0xcc; 0x110];
        let rel = (SECOND as i64 - (IMAGE as i64 + 10)) as i32;
        code[..10].copy_from_slice(&[[0xb8, 1, 0, 0, 0, 0xe9].as_slice(), &rel.to_le_bytes()].concat());
        code[0x100..0x105].copy_from_slice(&[0x83, 0xc0, 0x02, 0x0f, 0x05]);
        code
    }

    fn cache() -> CodeCache {
        let mut cache = CodeCache::new(HostFeatures::BASELINE).unwrap();
        // Exits branch somewhere in range; nothing runs here.
        cache.stubs.exit = [cache.next_block_addr(); crate::exit::ExitReason::ALL.len()];
        cache
    }

    /// The blocks a first process translated from `code` at `blocks` and
    /// saved for the image.
    fn saved_blocks(code: &[u8], blocks: &[u64]) -> SavedBlocks {
        let mut first = cache();
        first.add_image(IMAGE, IMAGE + code.len() as u64, None);
        let src = CodeBuffer { base: IMAGE, code };
        let me = ThreadCode::default();
        for &rip in blocks {
            translation(&mut first, &src, rip, &me, false, &[]);
        }
        SavedBlocks::new(Cow::Owned(first.images()[0].encode(false).expect("new blocks"))).unwrap()
    }

    fn saved(code: &[u8]) -> SavedBlocks {
        saved_blocks(code, &[IMAGE, SECOND])
    }

    /// The host address of block `index`'s first exit (its `jmp`).
    fn exit_site(cache: &CodeCache, index: usize) -> u64 {
        let (start, mut sites) = cache.map.exits(index).unwrap();
        start + u64::from(sites.next().unwrap().offset())
    }

    #[test]
    fn a_chunk_is_installed_at_its_first_instruction_linked_in_place_and_dropped_whole() {
        let code = code();
        let saved = saved(&code);
        let mut cache = cache();
        cache.add_image(IMAGE, IMAGE + code.len() as u64, Some(saved));
        let src = CodeBuffer { base: IMAGE, code: &code };
        let me = ThreadCode::default();
        let first = translation(&mut cache, &src, IMAGE, &me, false, &[]);
        let second = cache.lookup(SECOND).expect("installed with the first block's chunk");
        assert_eq!((cache.stats.restored, cache.stats.blocks), (2, 2));
        let index = cache.map.block_at(first).unwrap();
        let site = exit_site(&cache, index);
        assert_eq!(crate::cache::read_word(site), encode_b(site, second).unwrap(), "linked to the second block");
        assert_eq!(cache.map.guest_point(second).map(|p| p.rip), Some(SECOND), "marks read from the record");

        // Code on the second block's page changes: both go, and the link
        // goes back to its stub.
        cache.invalidate_range(SECOND, SECOND + 1);
        assert_eq!((cache.lookup(IMAGE), cache.lookup(SECOND)), (None, None));
        assert_eq!(crate::cache::read_word(site), encode_b(site, site + 4).unwrap());
        assert!(cache.map.is_dead(index));
        // The image is spoiled: its blocks are translated again, not reinstalled.
        let again = translation(&mut cache, &src, IMAGE, &me, false, &[]);
        assert_ne!(again, first);
        assert_eq!(cache.stats.restored, 2);
    }

    #[test]
    fn a_chunk_with_a_block_whose_guest_bytes_changed_is_translated_as_it_runs() {
        let mut code = code();
        let saved = saved(&code);
        code[0x101] = 3; // add eax, 3
        let mut cache = cache();
        cache.add_image(IMAGE, IMAGE + code.len() as u64, Some(saved));
        let src = CodeBuffer { base: IMAGE, code: &code };
        let me = ThreadCode::default();
        let first = translation(&mut cache, &src, IMAGE, &me, false, &[]);
        assert_eq!((cache.stats.restored, cache.stats.blocks), (0, 1), "nothing installed: the first block translated");
        assert_eq!(cache.lookup(SECOND), None);
        let second = translation(&mut cache, &src, SECOND, &me, false, &[]);
        assert_eq!((cache.stats.restored, cache.stats.blocks), (0, 2));
        let site = exit_site(&cache, cache.map.block_at(first).unwrap());
        assert_eq!(crate::cache::read_word(site), encode_b(site, second).unwrap(), "linked when translated");
    }

    #[test]
    fn an_exit_to_code_no_saved_block_starts_at_is_linked_when_that_code_is_translated() {
        // `mov eax, 1; jmp FAR` at IMAGE, `add eax, 2; syscall` at FAR.
        const FAR: u64 = IMAGE + 0x1000;
        let mut code = vec![0xcc; 0x1010];
        let rel = (FAR as i64 - (IMAGE as i64 + 10)) as i32;
        code[..10].copy_from_slice(&[[0xb8, 1, 0, 0, 0, 0xe9].as_slice(), &rel.to_le_bytes()].concat());
        code[0x1000..0x1005].copy_from_slice(&[0x83, 0xc0, 0x02, 0x0f, 0x05]);
        const SECOND: u64 = FAR;
        // The first process never ran FAR: IMAGE's exit there has no
        // saved target.
        let saved = saved_blocks(&code, &[IMAGE]);
        for second_first in [false, true] {
            let mut cache = cache();
            cache.add_image(IMAGE, IMAGE + code.len() as u64, Some(saved.clone()));
            let src = CodeBuffer { base: IMAGE, code: &code };
            let me = ThreadCode::default();
            let order = if second_first { [SECOND, IMAGE] } else { [IMAGE, SECOND] };
            let hosts: Vec<u64> = order.iter().map(|&rip| translation(&mut cache, &src, rip, &me, false, &[])).collect();
            let (first, second) = if second_first { (hosts[1], hosts[0]) } else { (hosts[0], hosts[1]) };
            assert_eq!((cache.stats.restored, cache.stats.blocks), (1, 2));
            let site = exit_site(&cache, cache.map.block_at(first).unwrap());
            assert_eq!(crate::cache::read_word(site), encode_b(site, second).unwrap(), "linked (SECOND run {})", if second_first { "first" } else { "second" });
            // Booked, once, to be unlinked when SECOND's translation goes.
            assert_eq!(cache.links.sites_to(SECOND).iter().filter(|s| s.at == site).count(), 1);
        }
    }

    #[test]
    fn a_chunk_installed_after_code_it_exits_to_was_translated_is_linked_to_it() {
        // `mov eax, 1; jmp FAR` at IMAGE, `add eax, 2; syscall` at FAR, in
        // the image's next chunk, which no saved block starts in.
        const FAR: u64 = IMAGE + (1 << CHUNK_SHIFT);
        let mut code = vec![0xcc; (1 << CHUNK_SHIFT) + 0x10];
        let rel = (FAR as i64 - (IMAGE as i64 + 10)) as i32;
        code[..10].copy_from_slice(&[[0xb8, 1, 0, 0, 0, 0xe9].as_slice(), &rel.to_le_bytes()].concat());
        code[1 << CHUNK_SHIFT..(1 << CHUNK_SHIFT) + 5].copy_from_slice(&[0x83, 0xc0, 0x02, 0x0f, 0x05]);
        let saved = saved_blocks(&code, &[IMAGE]);
        let mut cache = cache();
        cache.add_image(IMAGE, IMAGE + code.len() as u64, Some(saved));
        let src = CodeBuffer { base: IMAGE, code: &code };
        let me = ThreadCode::default();
        // FAR first: translated; then IMAGE's chunk comes, its exit to FAR
        // linked as it is installed.
        let far = translation(&mut cache, &src, FAR, &me, false, &[]);
        let first = translation(&mut cache, &src, IMAGE, &me, false, &[]);
        assert_eq!((cache.stats.restored, cache.stats.blocks), (1, 2));
        let site = exit_site(&cache, cache.map.block_at(first).unwrap());
        assert_eq!(crate::cache::read_word(site), encode_b(site, far).unwrap(), "linked to FAR's translation");
        // Booked once, so that FAR's translation going unlinks it.
        assert_eq!(cache.links.sites_to(FAR).iter().filter(|s| s.at == site).count(), 1);
        cache.invalidate_range(FAR, FAR + 1);
        assert_eq!(crate::cache::read_word(site), encode_b(site, site + 4).unwrap(), "back to its stub");
    }

    #[test]
    fn the_installing_thread_finds_return_addresses_in_its_lookup_table() {
        // call SECOND; syscall (the return address, a block of its own) | SECOND: ret
        let mut code = code();
        let rel = (SECOND as i64 - (IMAGE as i64 + 5)) as i32;
        code[..7].copy_from_slice(&[[0xe8].as_slice(), &rel.to_le_bytes(), &[0x0f, 0x05]].concat());
        code[0x100] = 0xc3;
        let saved = saved_blocks(&code, &[IMAGE, SECOND, IMAGE + 5]);
        let mut cache = cache();
        cache.add_image(IMAGE, IMAGE + code.len() as u64, Some(saved));
        let src = CodeBuffer { base: IMAGE, code: &code };
        let me = ThreadCode::default();
        translation(&mut cache, &src, IMAGE, &me, false, &[]);
        assert_eq!(cache.stats.restored, 3);
        assert_eq!(me.lookup.slot(IMAGE + 5), crate::cache::lookup_table::Slot::Holds, "the return address");
        assert_ne!(me.lookup.slot(SECOND), crate::cache::lookup_table::Slot::Holds, "a call's target is reached by its link");
    }

    /// `jmp [rip+0xffa]` at IMAGE, through a slot at IMAGE + 0x1000 that
    /// holds `target`.
    fn plt_stub(target: u64) -> Vec<u8> {
        let mut code = vec![0xcc; 0x1008];
        code[..6].copy_from_slice(&[0xff, 0x25, 0xfa, 0x0f, 0x00, 0x00]);
        code[0x1000..].copy_from_slice(&target.to_le_bytes());
        code
    }

    #[test]
    fn a_block_through_a_fixed_slot_is_installed_only_where_the_slot_holds_its_value() {
        // A function of the image's own (a library calling its exported
        // functions through its PLT).
        const ELSEWHERE: u64 = IMAGE + 0x40;
        // No guest page is writable unless a test says so: every slot is fixed.
        crate::cache::code_watch::set_writable_now_query(crate::cache::code_watch::test_writable_now);
        let code = plt_stub(ELSEWHERE);
        let saved = saved_blocks(&code, &[IMAGE]);
        assert_eq!(saved.len(), 1, "recorded with its slot");
        let mut first = cache();
        first.add_image(IMAGE, IMAGE + code.len() as u64, Some(saved.clone()));
        let src = CodeBuffer { base: IMAGE, code: &code };
        let me = ThreadCode::default();
        let host = translation(&mut first, &src, IMAGE, &me, false, &[]);
        assert_eq!(first.stats.restored, 1);
        let first_exit = first.map.exits(first.map.block_at(host).unwrap()).unwrap().1.next();
        assert!(matches!(first_exit, Some(ExitSite::Direct { target: ELSEWHERE, .. })), "a direct exit to the slot's value");
        // The slot's page changes: the image's blocks go.
        crate::cache::code_watch::mapping_changed(IMAGE + 0x1000, 8);
        first.apply_code_changes(&me);
        assert_eq!(first.lookup(IMAGE), None);

        // Where the slot holds another value, the block is translated anew.
        let moved = plt_stub(ELSEWHERE + 0x10);
        let mut second = cache();
        second.add_image(IMAGE, IMAGE + moved.len() as u64, Some(saved));
        let src = CodeBuffer { base: IMAGE, code: &moved };
        let host = translation(&mut second, &src, IMAGE, &me, false, &[]);
        assert_eq!((second.stats.restored, second.stats.blocks), (1, 2), "installed with its chunk, not entered: translated");
        let (_, mut sites) = second.map.exits(second.map.block_at(host).unwrap()).unwrap();
        assert!(matches!(sites.next(), Some(ExitSite::Direct { target, .. }) if target == ELSEWHERE + 0x10));
    }

    #[test]
    fn a_block_left_waiting_for_its_fixed_slot_is_entered_once_the_slot_is_fixed() {
        use crate::cache::code_watch::{set_writable_now_query, test_writable_now, TEST_WRITABLE_PAGE};
        // Its own image: the writable page is this test's.
        const STUB: u64 = 0x6d5b_5000_0000;
        const FUNCTION: u64 = STUB + 0x40;
        set_writable_now_query(test_writable_now);
        let mut code = vec![0xcc; 0x1008];
        code[..6].copy_from_slice(&[0xff, 0x25, 0xfa, 0x0f, 0x00, 0x00]); // jmp [rip+0xffa]
        code[0x40..0x46].copy_from_slice(&[0xb8, 1, 0, 0, 0, 0xc3]); // mov eax, 1; ret
        code[0x1000..].copy_from_slice(&FUNCTION.to_le_bytes());
        let saved = {
            let mut first = cache();
            first.add_image(STUB, STUB + code.len() as u64, None);
            let src = CodeBuffer { base: STUB, code: &code };
            let me = ThreadCode::default();
            for rip in [STUB, FUNCTION] {
                translation(&mut first, &src, rip, &me, false, &[]);
            }
            SavedBlocks::new(Cow::Owned(first.images()[0].encode(false).expect("new blocks"))).unwrap()
        };
        assert_eq!(saved.len(), 2);

        // The function runs first, while the slot's page is writable (the
        // loader has not protected its GOT yet): the stub waits.
        TEST_WRITABLE_PAGE.store(STUB + 0x1000, std::sync::atomic::Ordering::SeqCst);
        let mut cache = cache();
        cache.add_image(STUB, STUB + code.len() as u64, Some(saved));
        let src = CodeBuffer { base: STUB, code: &code };
        let me = ThreadCode::default();
        let function = translation(&mut cache, &src, FUNCTION, &me, false, &[]);
        assert_eq!((cache.stats.restored, cache.stats.blocks), (2, 2));
        assert_eq!(cache.lookup(STUB), None, "waits for its slot");

        // Protected: the stub is entered as installed, linked to the function.
        TEST_WRITABLE_PAGE.store(0, std::sync::atomic::Ordering::SeqCst);
        let stub = translation(&mut cache, &src, STUB, &me, false, &[]);
        assert_eq!((cache.stats.restored, cache.stats.blocks), (2, 2), "nothing translated");
        assert_eq!(cache.lookup(STUB), Some(stub));
        let site = exit_site(&cache, cache.map.block_at(stub).unwrap());
        assert_eq!(crate::cache::read_word(site), encode_b(site, function).unwrap());
    }
}
