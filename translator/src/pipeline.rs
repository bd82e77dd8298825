//! One guest block through the whole pipeline: decode (`decode`), flag
//! liveness (`flags`), host code (`translate`, `emit`), then install and
//! link (`cache`). The dispatcher calls it, under the process's cache lock,
//! when a guest address has no translation.

use crate::cache::{CodeCache, PAGE_SHIFT};
use crate::frontend::decode::{decode_block_in, side_exits_allowed, CodeSource, GuestBlock, PageDecoder};
use crate::frontend::fixed_slots::{fold_fixed_slot, unfold, FixedSlot};
use crate::frontend::flags::{live_at_block_exit_by, live_on_entry_in, LiveAtExits};
use crate::cache::thread_code::ThreadCode;
use crate::translate::translate_block;

/// Host code for guest `rip`, translating it first if needed; `me` is the
/// calling thread (a full cache flushes, which waits for the others).
/// `one_insn`: a block of one instruction (the debugger's single step);
/// `stops`: the debugger's breakpoints, which blocks end before (sorted).
pub fn translation(cache: &mut CodeCache, src: &dyn CodeSource, rip: u64, me: &ThreadCode, one_insn: bool, stops: &[u64]) -> u64 {
    if let Some(host) = cache.lookup(rip) {
        return host;
    }
    // Saved blocks know nothing of a debugger's stops and steps.
    let debugging = one_insn || !stops.is_empty();
    if !debugging {
        if let Some(host) = cache.install_saved(src, rip, me) {
            return host;
        }
    }
    cache.watch(rip >> PAGE_SHIFT);
    let max_insns = if one_insn { 1 } else { cache.max_block_insns };
    // The look-ahead reads the block's successors mostly in its last page.
    let mut code = PageDecoder::new(src);
    // A block goes on past a conditional branch only to code not translated
    // yet: translating it again into this block would cost more than the
    // jump it saves.
    let untranslated = |addr: u64| cache.lookup(addr).is_none();
    let mut block = decode_block_in(&mut code, rip, max_insns, stops, side_exits_allowed(), &untranslated);
    let last_byte = block.invalid_at.unwrap_or(block.end()).max(rip + 1) - 1;
    let pages = (rip >> PAGE_SHIFT, last_byte >> PAGE_SHIFT);
    let mut newly_watched = false;
    for page in pages.0 + 1..=pages.1 {
        newly_watched |= cache.watch(page);
    }
    if newly_watched {
        // Bytes read before their page was watched may have changed since.
        block.recycle();
        block = decode_block_in(&mut code, rip, max_insns, stops, side_exits_allowed(), &|addr| cache.lookup(addr).is_none());
    }
    let mut fixed =
        if debugging || !crate::tuning::tuning().fixed_slots { None } else { fold_fixed_slot(&mut block, |slot| cache.read_fixed_slot(src, slot)) };
    if cache.has_unapplied_code_changes() {
        // Another thread changed code since this dispatch applied the log,
        // and the bytes just read may postdate it: a JIT writes a stub,
        // then a call to it. Linked to the stub's stale translation, the
        // new call would run code older than itself, which x86 never does.
        // Apply the changes and start again (each round needs another
        // write to a page whose protection a translation restored).
        block.recycle();
        cache.apply_code_changes(me);
        return translation(cache, src, rip, me, one_insn, stops);
    }
    let live_at_exit = live_at_exits(cache, &mut code, &block);
    let translate = |cache: &CodeCache, block: &GuestBlock, live_at_exit| {
        translate_block(block, cache.next_block_addr(), cache.host, cache.stubs, live_at_exit, cache.memory_order())
    };
    let mut translated = translate(cache, &block, live_at_exit);
    let mut host = cache.insert_block(rip, pages, &translated);
    if host.is_none() {
        // The buffer or the block map is full: start afresh, and translate
        // again for the new address (a fixed slot's page is no longer
        // watched: the branch reads it again).
        cache.flush(me);
        for page in pages.0..=pages.1 {
            cache.watch(page);
        }
        let live_at_exit = match fixed.take() {
            Some(slot) => {
                unfold(&mut block, &slot);
                live_at_exits(cache, &mut code, &block)
            }
            None => live_at_exit,
        };
        crate::emit::recycle(translated);
        translated = translate(cache, &block, live_at_exit);
        host = cache.insert_block(rip, pages, &translated);
    }
    let host = host.expect("one block fits an empty cache");
    if let Some(slot) = &fixed {
        cache.add_slot_page(rip, slot.slot >> PAGE_SHIFT);
    }
    crate::block_listener::installed(rip, host, translated.code.len());
    let recorded = block.invalid_at.is_some()
        || debugging
        || match &fixed {
            // A value in another image may lie elsewhere relative to this
            // one in the next process (ASLR; or Transit's own mappings,
            // the cache's files among them, moving the libraries): it gets
            // the branch as the guest wrote it.
            Some(slot) if !cache.same_image(slot.slot, slot.target) => record_unfolded(cache, &mut code, &mut block, slot),
            slot => {
                let slot = slot.as_ref().map(|f| (f.slot, f.target));
                cache.record_in_image(rip, src.bytes(rip, (block.end() - rip) as usize), &translated, slot)
            }
        };
    let side_exits = block.side_exits > 0;
    crate::emit::recycle(translated);
    block.recycle();
    if !recorded && side_exits {
        record_without_side_exits(cache, &mut code, rip);
    }
    host
}

/// Records `block`, whose last branch went through `fixed`, as the guest
/// wrote it: translated again with the indirect branch.
fn record_unfolded(cache: &mut CodeCache, code: &mut PageDecoder, block: &mut GuestBlock, fixed: &FixedSlot) -> bool {
    unfold(block, fixed);
    let live_at_exit = live_at_exits(cache, code, block);
    let translated = translate_block(block, cache.next_block_addr(), cache.host, cache.stubs, live_at_exit, cache.memory_order());
    let guest = code.src().bytes(block.start, (block.end() - block.start) as usize);
    let recorded = cache.record_in_image(block.start, guest, &translated, None);
    crate::emit::recycle(translated);
    recorded
}

/// For a block its image's records cannot hold, whose way past a
/// conditional branch reaches what they cannot name (glibc's `call 0` to
/// an undefined weak function, never run): the block as far as its first
/// conditional branch is saved instead, so that warm starts need not
/// translate it.
fn record_without_side_exits(cache: &mut CodeCache, code: &mut PageDecoder, rip: u64) {
    let block = decode_block_in(code, rip, cache.max_block_insns, &[], 0, &|_| true);
    let live_at_exit = live_at_exits(cache, code, &block);
    if block.invalid_at.is_none() && block.end() > rip {
        let translated = translate_block(&block, cache.next_block_addr(), cache.host, cache.stubs, live_at_exit, cache.memory_order());
        let guest = code.src().bytes(rip, (block.end() - rip) as usize);
        cache.record_in_image(rip, guest, &translated, None);
        crate::emit::recycle(translated);
    }
    block.recycle();
}

/// The flags `block`'s successors read, from the look-ahead the cache
/// remembers per address (reading only pages known to hold code).
fn live_at_exits(cache: &mut CodeCache, code: &mut PageDecoder, block: &GuestBlock) -> LiveAtExits {
    live_at_block_exit_by(block, |addr| cache.live_on_entry(addr, |cache| live_on_entry_in(code, addr, &|a| cache.is_code_page(a >> PAGE_SHIFT))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cpu::host::HostFeatures;
    use crate::frontend::decode::CodeBuffer;
    use std::cell::Cell;

    /// Code whose first read stands for another thread's JIT at work
    /// meanwhile: it rewrote the stub at `stub` (logged, as its write
    /// fault would be) before writing the code read here.
    struct WrittenMeanwhile<'a> {
        code: CodeBuffer<'a>,
        stub: u64,
        written: Cell<bool>,
    }

    impl CodeSource for WrittenMeanwhile<'_> {
        fn bytes(&self, addr: u64, max: usize) -> &[u8] {
            if !self.written.replace(true) {
                crate::cache::code_watch::mapping_changed(self.stub, 1);
            }
            self.code.bytes(addr, max)
        }
    }

    #[test]
    fn new_code_is_never_linked_to_a_translation_older_than_itself() {
        // Pages no other test translates from (the change log is global).
        const STUB: u64 = 0x6d5a_7000_0000;
        const CALLER: u64 = STUB + 0x10_0000;
        let mut cache = CodeCache::new(HostFeatures::BASELINE).unwrap();
        // Exits branch somewhere in range; nothing runs here.
        cache.stubs.exit = [cache.next_block_addr(); crate::exit::ExitReason::ALL.len()];
        let me = ThreadCode::default();
        let stub = [0xb8, 1, 0, 0, 0, 0xc3]; // mov eax, 1; ret
        translation(&mut cache, &CodeBuffer { base: STUB, code: &stub }, STUB, &me, false, &[]);
        assert!(cache.lookup(STUB).is_some());
        let rel = (STUB as i64 - (CALLER as i64 + 5)) as i32;
        let jmp: Vec<u8> = std::iter::once(0xe9).chain(rel.to_le_bytes()).collect(); // jmp STUB
        let src = WrittenMeanwhile { code: CodeBuffer { base: CALLER, code: &jmp }, stub: STUB, written: Cell::new(false) };
        translation(&mut cache, &src, CALLER, &me, false, &[]);
        assert!(cache.lookup(CALLER).is_some());
        assert_eq!(cache.lookup(STUB), None, "the stub's stale translation is dropped before the jump to it is linked");
    }

    #[test]
    fn a_jump_through_a_fixed_slot_is_a_direct_exit_until_the_slot_page_changes() {
        // Pages no other test translates from (the change log is global).
        const STUB: u64 = 0x6d5a_9000_0000;
        const SLOT: u64 = STUB + 0x1000;
        const TARGET: u64 = STUB + 0x40;
        let mut image = vec![0xcc; 0x1008];
        image[..6].copy_from_slice(&[0xff, 0x25, 0xfa, 0x0f, 0x00, 0x00]); // jmp [rip+0xffa]: SLOT
        image[0x40..0x46].copy_from_slice(&[0xb8, 1, 0, 0, 0, 0xc3]); // mov eax, 1; ret
        image[0x1000..].copy_from_slice(&TARGET.to_le_bytes());
        // No guest page is writable unless a test says so: every slot is fixed.
        crate::cache::code_watch::set_writable_now_query(crate::cache::code_watch::test_writable_now);
        let mut cache = CodeCache::new(HostFeatures::BASELINE).unwrap();
        cache.stubs.exit = [cache.next_block_addr(); crate::exit::ExitReason::ALL.len()];
        let me = ThreadCode::default();
        let src = CodeBuffer { base: STUB, code: &image };
        let host = translation(&mut cache, &src, STUB, &me, false, &[]);
        let map = cache.block_map();
        let (_, sites) = map.exits(map.block_at(host).unwrap()).unwrap();
        let targets: Vec<u64> = sites
            .filter_map(|site| match site {
                crate::cache::block_map::ExitSite::Direct { target, .. } => Some(target),
                _ => None,
            })
            .collect();
        assert_eq!(targets, [TARGET], "a direct exit to the slot's value");
        // The slot's page is mapped again (mprotect): the translation goes.
        crate::cache::code_watch::mapping_changed(SLOT, 8);
        cache.apply_code_changes(&me);
        assert_eq!(cache.lookup(STUB), None);
    }
}
