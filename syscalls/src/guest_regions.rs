//! Which address ranges the guest has mapped: what the loader mapped for
//! it (`record`) and what its mmap, mremap, brk and shmat mapped, less
//! what it unmapped.
//!
//! On a host whose address space ends at 2^47 or lower (see
//! `guest_space`), Transit's own memory (its image, heap, code cache,
//! thread stacks) lies among the guest's. Whatever is mapped on the host
//! but not recorded here is Transit's, and the guest's memory calls treat
//! it as no mapping of the guest's: munmap leaves it, mprotect, madvise and
//! mseal fail there with ENOMEM as at a hole, and a mapping that would
//! replace it (MAP_FIXED, mremap's target, shmat with SHM_REMAP) fails with
//! EPERM, as over sealed memory. So no guest call can unmap or change
//! Transit's memory; the guest's /proc/self/maps lists it as inaccessible
//! anonymous memory (`fs/proc/maps.rs`). A guest's memory call holds the record from its check
//! to its update, as the kernel holds the mmap lock, so that Transit's own
//! allocations cannot land in a range in between. Only the syscall layer's
//! other tables (`shared_mappings`, `writable`, `code_watch`) are locked
//! while it is held: the thread's own locks come first (`process::fork`).

use std::sync::{Mutex, MutexGuard};

use crate::guest_space::{host_page, GUEST_END};
use crate::host::{self, Errno};
use crate::range_set::RangeSet;

static GUEST: Mutex<RangeSet> = Mutex::new(RangeSet::new());

/// The record, held for the length of one guest memory call.
pub(crate) struct GuestRegions(MutexGuard<'static, RangeSet>);

pub(crate) fn lock() -> GuestRegions {
    GuestRegions(GUEST.lock().unwrap_or_else(|e| e.into_inner()))
}

/// Records a mapping Transit made for the guest (its program, the dynamic
/// loader, its stack).
pub fn record(start: u64, len: u64) {
    lock().mapped(start, len);
}

/// Holds the record until the guard drops (across a host fork).
pub(crate) fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(lock().0)
}

/// `[start, start + len)` widened to whole host pages (what the kernel maps).
fn host_pages(start: u64, len: u64) -> (u64, u64) {
    let page = host_page();
    (start & !(page - 1), start.saturating_add(len).saturating_add(page - 1) & !(page - 1))
}

impl GuestRegions {
    pub(crate) fn mapped(&mut self, start: u64, len: u64) {
        let (start, end) = host_pages(start, len);
        self.0.set(start, end, true);
    }

    pub(crate) fn unmapped(&mut self, start: u64, len: u64) {
        let (start, end) = host_pages(start, len);
        self.0.set(start, end, false);
    }

    /// The guest's mappings in `[start, start + len)`, in order.
    pub(crate) fn pieces(&self, start: u64, len: u64) -> Vec<(u64, u64)> {
        let (start, end) = host_pages(start, len);
        self.0.pieces(start, end)
    }

    /// Whether all of `[start, start + len)` is the guest's.
    pub(crate) fn covers(&self, start: u64, len: u64) -> bool {
        let (start, end) = host_pages(start, len);
        self.0.gaps(start, end).is_empty()
    }

    /// How much of `[start, start + len)` (`start` page-aligned) the
    /// guest's mappings cover without a hole from `start`: `len` when all.
    pub(crate) fn mapped_prefix(&self, start: u64, len: u64) -> u64 {
        let (start, end) = host_pages(start, len);
        // Touching entries are joined, so the first piece is the whole run.
        let run_end = self.0.pieces(start, end).first().filter(|&&(s, _)| s == start).map_or(start, |&(_, e)| e);
        if run_end >= end { len } else { run_end - start }
    }

    /// Before a mapping that `replaces` what is at `[start, start + len)`
    /// (MAP_FIXED and the like; nothing to do otherwise): takes every part
    /// of it that is not the guest's with an inaccessible placeholder, so
    /// that nothing of Transit's can be placed there before the mapping
    /// replaces them. A part already mapped is Transit's: EPERM, with the
    /// placeholders given back. An address the kernel would refuse is left
    /// for the call itself to fail.
    pub(crate) fn hold_gaps(&self, replaces: bool, start: u64, len: u64) -> Result<Placeholders, Errno> {
        let mut held = Placeholders(Vec::new());
        if !replaces || len == 0 || start % host_page() != 0 || start.saturating_add(len) > GUEST_END {
            return Ok(held);
        }
        let (start, end) = host_pages(start, len);
        for (s, e) in self.0.gaps(start, end) {
            let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE) as u64;
            let taken = match host::syscall(libc::SYS_mmap, &[s, e - s, libc::PROT_NONE as u64, flags, u64::MAX, 0]) {
                Ok(got) if got == s => {
                    held.0.push((s, e));
                    false
                }
                Ok(got) => {
                    // Taken as a hint (kernels before 4.17, qemu-user before
                    // 8.1), which is honoured where the range is free.
                    let _ = host::syscall(libc::SYS_munmap, &[got, e - s]);
                    true
                }
                Err(err) => err.0 == libc::EEXIST,
            };
            if taken {
                tracing::debug!("guest mapping over Transit's memory in {s:#x}..{e:#x} refused");
                held.release();
                return Err(Errno::EPERM);
            }
        }
        Ok(held)
    }
}

/// Placeholder mappings taken by [`GuestRegions::hold_gaps`]: the guest's
/// mapping replaces them, or [`Placeholders::release`] gives them back.
#[must_use]
pub(crate) struct Placeholders(Vec<(u64, u64)>);

impl Placeholders {
    pub(crate) fn release(&mut self) {
        for (s, e) in self.0.drain(..) {
            let _ = host::syscall(libc::SYS_munmap, &[s, e - s]);
        }
    }
}
