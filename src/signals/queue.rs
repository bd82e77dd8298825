//! Signals the host handler caught, waiting for delivery to guest code.
//!
//! Written by the host signal handler, read by the runtime with every host
//! signal blocked, so the two never touch a slot at the same time. One slot
//! per signal number: like standard signals, a second instance arriving
//! before the first is delivered merges into it (real-time signals do not
//! queue further yet).

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct PendingQueue {
    /// Bit `sig - 1` set: `infos[sig - 1]` holds that signal's siginfo.
    bits: AtomicU64,
    infos: [UnsafeCell<[u8; 128]>; 64],
}

// SAFETY: slots are written only by the owning thread's signal handler and
// read only by that thread with signals blocked (see the module comment).
unsafe impl Sync for PendingQueue {}

impl Default for PendingQueue {
    fn default() -> Self {
        PendingQueue { bits: AtomicU64::new(0), infos: std::array::from_fn(|_| UnsafeCell::new([0; 128])) }
    }
}

impl PendingQueue {
    /// Records `sig` (1..=64) with its siginfo. Async-signal-safe.
    pub fn record(&self, sig: i32, info: &[u8; 128]) {
        let bit = 1u64 << (sig - 1);
        if self.bits.load(Ordering::Acquire) & bit == 0 {
            // SAFETY: the slot is not pending, so the runtime is not reading it.
            unsafe { *self.infos[sig as usize - 1].get() = *info };
            self.bits.fetch_or(bit, Ordering::Release);
        }
    }

    /// Bit mask of the signals waiting.
    pub fn waiting(&self) -> u64 {
        self.bits.load(Ordering::Acquire)
    }

    /// Takes the siginfo of waiting signal `sig`. Call with host signals blocked.
    pub fn take(&self, sig: i32) -> Option<[u8; 128]> {
        let bit = 1u64 << (sig - 1);
        if self.bits.load(Ordering::Acquire) & bit == 0 {
            return None;
        }
        // SAFETY: the bit is set, so the handler will not write this slot,
        // and host signals are blocked.
        let info = unsafe { *self.infos[sig as usize - 1].get() };
        self.bits.fetch_and(!bit, Ordering::Release);
        Some(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_instance_merges_into_the_first() {
        let q = PendingQueue::default();
        q.record(10, &[1; 128]);
        q.record(10, &[2; 128]);
        q.record(64, &[3; 128]);
        assert_eq!(q.waiting(), (1 << 9) | (1 << 63));
        assert_eq!(q.take(10), Some([1; 128]));
        assert_eq!(q.take(10), None);
        assert_eq!(q.take(64), Some([3; 128]));
        assert_eq!(q.waiting(), 0);
    }
}
