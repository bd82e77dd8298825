//! What one thread keeps of its own while all threads share the process's
//! code cache: its lookup table, whether it is inside generated code (so a
//! full flush knows when it may reuse the buffer), and the blocks its
//! signal handler unlinked.

use crate::exit::ExitReason;
use crate::cache::lookup_table::{LookupTable, Slot};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

#[derive(Default)]
pub struct ThreadCode {
    /// The host thread id, for reports.
    pub tid: AtomicU64,
    pub lookup: LookupTable,
    pub stats: ThreadStats,
    /// Set (under the cache lock) before the thread enters generated code,
    /// cleared when it is back in the dispatcher.
    in_code: AtomicBool,
    /// Counts returns to the dispatcher.
    exits: AtomicU64,
    /// A full flush, holding the cache lock, waits for this thread to
    /// leave generated code (its signal handler must not wait for the lock).
    awaited: AtomicBool,
    /// Blocks this thread's signal handler unlinked (index + 1; 0 = free).
    pub unlinked: [AtomicUsize; 4],
}

impl ThreadCode {
    pub fn entering(&self) {
        self.in_code.store(true, Ordering::SeqCst);
    }

    pub fn left(&self) {
        self.in_code.store(false, Ordering::SeqCst);
        self.exits.fetch_add(1, Ordering::SeqCst);
    }

    /// Waits until the thread is seen outside generated code, or has left
    /// it once since the call: after that it runs no code older than the
    /// call. The caller has unlinked every block, so this takes at most
    /// one block's time (or a blocking syscall's, which is outside).
    pub fn wait_until_out(&self) {
        self.awaited.store(true, Ordering::SeqCst);
        let seen = self.exits.load(Ordering::SeqCst);
        while self.in_code.load(Ordering::SeqCst) && self.exits.load(Ordering::SeqCst) == seen {
            std::thread::yield_now();
        }
        self.awaited.store(false, Ordering::SeqCst);
    }

    /// Whether a full flush is waiting for this thread to leave generated code.
    pub fn awaited(&self) -> bool {
        self.awaited.load(Ordering::SeqCst)
    }
}

/// What one thread did, for `--stats`. Only the owning thread writes; any
/// thread may read (a process-wide report at exit).
#[derive(Default)]
pub struct ThreadStats {
    /// Entries into generated code from the dispatcher.
    pub dispatches: AtomicU64,
    /// Of those, the ones that found the block already translated.
    pub cache_hits: AtomicU64,
    /// Blocks this thread translated, and the time it took.
    pub translated: AtomicU64,
    pub translate_ns: AtomicU64,
    /// Returns to the dispatcher, by `ExitReason`.
    pub exits: [AtomicU64; ExitReason::ALL.len()],
    /// Indirect-branch misses (`ret`, call and jmp through a register or
    /// memory) by cause: the target had no translation yet; it had one
    /// but its table slot held another address (a conflict); it had one
    /// and the slot was empty (translated by another thread, or dropped);
    /// the slot held it (the block was unlinked for a signal).
    pub indirect_new: AtomicU64,
    pub indirect_conflict: AtomicU64,
    pub indirect_empty: AtomicU64,
    pub indirect_unlinked: AtomicU64,
    /// Of the conflicts and empty slots, those of `ret`: what a return
    /// address stack could have saved at most.
    pub ret_conflict: AtomicU64,
    pub ret_empty: AtomicU64,
    /// Writes of generated code to translated guest code: those whose
    /// page's translations were dropped before the write landed, and those
    /// let through first (the cache lock was not to be had).
    pub code_writes_ordered: AtomicU64,
    pub code_writes_unordered: AtomicU64,
}

impl ThreadStats {
    /// Counts from zero again (a forked child's thread, which keeps its
    /// parent's cache, counts its own work).
    pub fn reset(&self) {
        let counters = [
            &self.dispatches,
            &self.cache_hits,
            &self.translated,
            &self.translate_ns,
            &self.indirect_new,
            &self.indirect_conflict,
            &self.indirect_empty,
            &self.indirect_unlinked,
            &self.ret_conflict,
            &self.ret_empty,
            &self.code_writes_ordered,
            &self.code_writes_unordered,
        ];
        for counter in counters.into_iter().chain(&self.exits) {
            counter.store(0, Ordering::Relaxed);
        }
    }

    /// Adds `n` to a counter only this thread writes.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Relaxed);
    }

    /// An indirect branch of kind `reason` missed; `slot` is what the
    /// table held for its target, when the target had a translation.
    pub fn count_indirect_miss(&self, reason: ExitReason, slot: Option<Slot>) {
        let (all, of_ret) = match slot {
            None => (&self.indirect_new, None),
            Some(Slot::Other) => (&self.indirect_conflict, Some(&self.ret_conflict)),
            Some(Slot::Empty) => (&self.indirect_empty, Some(&self.ret_empty)),
            // The `br` was a nop: its block was unlinked for a signal.
            Some(Slot::Holds) => (&self.indirect_unlinked, None),
        };
        Self::add(all, 1);
        if let (ExitReason::Return, Some(of_ret)) = (reason, of_ret) {
            Self::add(of_ret, 1);
        }
    }

    /// One line: `dispatches=.. cache_hits=.. translated=.. translate_ms=..
    /// exits: direct=.. syscall=.. indirect_misses: ..` (reasons that never happened left out).
    pub fn summary(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut line = format!(
            "dispatches={} cache_hits={} translated={} translate_ms={:.1} exits:",
            get(&self.dispatches),
            get(&self.cache_hits),
            get(&self.translated),
            get(&self.translate_ns) as f64 / 1e6
        );
        for reason in ExitReason::ALL {
            let n = get(&self.exits[reason as usize]);
            if n != 0 {
                line.push_str(&format!(" {}={n}", reason.name()));
            }
        }
        line.push_str(&format!(
            " indirect_misses: new={} conflict={} (ret {}) empty={} (ret {}) unlinked={}",
            get(&self.indirect_new),
            get(&self.indirect_conflict),
            get(&self.ret_conflict),
            get(&self.indirect_empty),
            get(&self.ret_empty),
            get(&self.indirect_unlinked)
        ));
        let (ordered, unordered) = (get(&self.code_writes_ordered), get(&self.code_writes_unordered));
        if ordered + unordered != 0 {
            line.push_str(&format!(" code_writes: ordered={ordered} unordered={unordered}"));
        }
        line
    }
}
