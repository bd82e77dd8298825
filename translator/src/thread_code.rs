//! What one thread keeps of its own while all threads share the process's
//! code cache: its lookup table, whether it is inside generated code (so a
//! full flush knows when it may reuse the buffer), and the blocks its
//! signal handler unlinked.

use crate::lookup_table::LookupTable;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

#[derive(Default)]
pub struct ThreadCode {
    pub lookup: LookupTable,
    /// Set (under the cache lock) before the thread enters generated code,
    /// cleared when it is back in the dispatcher.
    in_code: AtomicBool,
    /// Counts returns to the dispatcher.
    exits: AtomicU64,
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
        let seen = self.exits.load(Ordering::SeqCst);
        while self.in_code.load(Ordering::SeqCst) && self.exits.load(Ordering::SeqCst) == seen {
            std::thread::yield_now();
        }
    }
}
