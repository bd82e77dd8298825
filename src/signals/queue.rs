//! Signals the host handler caught, waiting for delivery to guest code.
//!
//! Written by the host signal handler, read by the runtime with every host
//! signal blocked, so the two never touch a slot at the same time. A
//! standard signal has one slot: a second instance arriving before the
//! first is delivered merges into it, as Linux does. A real-time signal
//! (32..=64) queues up to `RT_DEPTH` instances, delivered in order; when
//! they fill the queue the handler has the host hold the next ones back
//! (`transit_syscalls::signal::throttle`) until the runtime takes one.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU64, Ordering};

/// The kernel's first real-time signal: instances of 32 and 33 (which
/// glibc keeps for itself) queue too.
pub(super) const SIGRTMIN: i32 = 32;
const RT_SIGNALS: usize = 64 - SIGRTMIN as usize + 1;
const RT_DEPTH: usize = 8;

type Info = [u8; 128];

pub struct PendingQueue {
    /// Bit `sig - 1` set: at least one instance of `sig` waits.
    bits: AtomicU64,
    standard: [UnsafeCell<Info>; SIGRTMIN as usize - 1],
    rt: [RtQueue; RT_SIGNALS],
}

struct RtQueue {
    /// Instances waiting, in `slots[..len]` (the oldest first).
    len: UnsafeCell<usize>,
    slots: [UnsafeCell<Info>; RT_DEPTH],
}

impl Default for RtQueue {
    fn default() -> Self {
        RtQueue { len: UnsafeCell::new(0), slots: std::array::from_fn(|_| UnsafeCell::new([0; 128])) }
    }
}

// SAFETY: slots are written only by the owning thread's signal handler and
// read only by that thread with signals blocked (see the module comment).
unsafe impl Sync for PendingQueue {}

impl Default for PendingQueue {
    fn default() -> Self {
        PendingQueue {
            bits: AtomicU64::new(0),
            standard: std::array::from_fn(|_| UnsafeCell::new([0; 128])),
            rt: std::array::from_fn(|_| RtQueue::default()),
        }
    }
}

/// What became of an instance the handler recorded.
#[derive(Debug, PartialEq, Eq)]
pub enum Recorded {
    /// Queued (or merged into the waiting instance of a standard signal).
    Queued,
    /// Queued, and now the queue for this real-time signal is full.
    QueuedAndFull,
    /// Not queued: the queue for this real-time signal was already full.
    Full,
}

impl PendingQueue {
    /// Records `sig` (1..=64) with its siginfo. Async-signal-safe.
    pub fn record(&self, sig: i32, info: &Info) -> Recorded {
        let bit = 1u64 << (sig - 1);
        let mut recorded = Recorded::Queued;
        if sig >= SIGRTMIN {
            let q = &self.rt[(sig - SIGRTMIN) as usize];
            // SAFETY: only this thread's handler and (with signals blocked)
            // its runtime touch the queue.
            unsafe {
                let len = *q.len.get();
                if len == RT_DEPTH {
                    return Recorded::Full;
                }
                *q.slots[len].get() = *info;
                *q.len.get() = len + 1;
                if len + 1 == RT_DEPTH {
                    recorded = Recorded::QueuedAndFull;
                }
            }
        } else if self.bits.load(Ordering::Acquire) & bit == 0 {
            // SAFETY: the slot is not pending, so the runtime is not reading it.
            unsafe { *self.standard[sig as usize - 1].get() = *info };
        }
        self.bits.fetch_or(bit, Ordering::Release);
        recorded
    }

    /// Forgets every waiting instance (a forked child has none). Call with
    /// host signals blocked.
    pub fn clear(&self) {
        for q in &self.rt {
            // SAFETY: host signals are blocked, so the handler cannot run.
            unsafe { *q.len.get() = 0 };
        }
        self.bits.store(0, Ordering::Release);
    }

    /// Bit mask of the signals waiting.
    pub fn waiting(&self) -> u64 {
        self.bits.load(Ordering::Acquire)
    }

    /// Takes the oldest waiting instance of `sig`. Call with host signals blocked.
    pub fn take(&self, sig: i32) -> Option<Info> {
        let bit = 1u64 << (sig - 1);
        if self.bits.load(Ordering::Acquire) & bit == 0 {
            return None;
        }
        if sig >= SIGRTMIN {
            let q = &self.rt[(sig - SIGRTMIN) as usize];
            // SAFETY: host signals are blocked, so the handler cannot run.
            unsafe {
                let len = *q.len.get();
                let first = *q.slots[0].get();
                for i in 1..len {
                    *q.slots[i - 1].get() = *q.slots[i].get();
                }
                *q.len.get() = len - 1;
                if len == 1 {
                    self.bits.fetch_and(!bit, Ordering::Release);
                }
                return Some(first);
            }
        }
        // SAFETY: the bit is set, so the handler will not write this slot,
        // and host signals are blocked.
        let info = unsafe { *self.standard[sig as usize - 1].get() };
        self.bits.fetch_and(!bit, Ordering::Release);
        Some(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_standard_instance_merges_into_the_first() {
        let q = PendingQueue::default();
        q.record(10, &[1; 128]);
        q.record(10, &[2; 128]);
        assert_eq!(q.waiting(), 1 << 9);
        assert_eq!(q.take(10), Some([1; 128]));
        assert_eq!(q.take(10), None);
        assert_eq!(q.waiting(), 0);
    }

    #[test]
    fn real_time_instances_queue_in_order() {
        let q = PendingQueue::default();
        for i in 0..RT_DEPTH as u8 {
            let full = i as usize + 1 == RT_DEPTH;
            assert_eq!(q.record(40, &[i; 128]), if full { Recorded::QueuedAndFull } else { Recorded::Queued });
        }
        assert_eq!(q.record(40, &[77; 128]), Recorded::Full, "the handler has the host hold it back");
        q.record(64, &[99; 128]);
        assert_eq!(q.waiting(), (1 << 39) | (1 << 63));
        for i in 0..RT_DEPTH as u8 {
            assert_eq!(q.take(40), Some([i; 128]));
        }
        assert_eq!(q.take(40), None);
        assert_eq!(q.take(64), Some([99; 128]));
        assert_eq!(q.waiting(), 0);
    }
}
