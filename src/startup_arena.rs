//! Transit's global allocator: the system allocator, except while the
//! decoder builds its tables on the first decode (`build_decoder_tables`).
//! iced builds them from thousands of small boxes that live as long as the
//! process; glibc's malloc spent about 0.9 M aarch64 instructions on them,
//! more than 40% of a process's fixed start-up cost. In that window the
//! building thread's allocations come from a bump arena instead (a few
//! instructions each) and are never freed, which is what would happen to
//! them anyway.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, UnsafeCell};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Enough for iced's tables (about 300 KiB) and the temporaries it frees
/// while building them; beyond it, allocations go to the system allocator.
/// In .bss, so untouched pages cost nothing.
const ARENA_BYTES: usize = 1 << 20;

#[repr(C, align(4096))]
struct Arena(UnsafeCell<[u8; ARENA_BYTES]>);

// SAFETY: bytes are handed out once each, through `NEXT`'s atomic updates.
unsafe impl Sync for Arena {}

static ARENA: Arena = Arena(UnsafeCell::new([0; ARENA_BYTES]));
/// Offset of the arena's first free byte.
static NEXT: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    /// This thread builds the decoder's tables: its allocations come from
    /// the arena (other threads' never do).
    static ON: Cell<bool> = const { Cell::new(false) };
}

pub struct TransitAllocator;

#[global_allocator]
static GLOBAL: TransitAllocator = TransitAllocator;

fn arena_start() -> usize {
    ARENA.0.get() as usize
}

fn in_arena(ptr: *mut u8) -> bool {
    (arena_start()..arena_start() + ARENA_BYTES).contains(&(ptr as usize))
}

/// `layout`'s bytes from the arena, if it has room.
fn bump(layout: Layout) -> Option<*mut u8> {
    let start = arena_start();
    let mut next = NEXT.load(Ordering::Relaxed);
    loop {
        let at = (start + next).next_multiple_of(layout.align());
        let end = at.checked_add(layout.size())?;
        if end > start + ARENA_BYTES {
            return None;
        }
        match NEXT.compare_exchange_weak(next, end - start, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return Some(at as *mut u8),
            Err(now) => next = now,
        }
    }
}

/// `layout`'s bytes from the arena, else zeroed from the system allocator.
/// Out of line: inlined, it made every allocation of the process save and
/// restore eight registers around the call to malloc.
///
/// # Safety
/// `GlobalAlloc::alloc_zeroed`'s contract.
#[cold]
#[inline(never)]
unsafe fn arena_alloc(layout: Layout) -> *mut u8 {
    match bump(layout) {
        Some(p) => p,
        None => unsafe { System.alloc_zeroed(layout) },
    }
}

// SAFETY: every pointer handed out is either the system allocator's or a
// distinct, suitably aligned range of the arena; arena pointers are never
// given to the system allocator.
unsafe impl GlobalAlloc for TransitAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.with(Cell::get) {
            return unsafe { arena_alloc(layout) };
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if ON.with(Cell::get) {
            // .bss bytes handed out only once are still zero.
            return unsafe { arena_alloc(layout) };
        }
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !in_arena(ptr) {
            unsafe { System.dealloc(ptr, layout) }
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !in_arena(ptr) {
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // SAFETY: `realloc`'s contract: the new layout is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        let new = unsafe { self.alloc(new_layout) };
        if !new.is_null() {
            // SAFETY: both ranges are live and distinct.
            unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}

/// Runs `build` (the decoder's table building, on the first decode) with
/// this thread's allocations from the arena.
pub fn build_decoder_tables(build: fn()) {
    ON.with(|on| on.set(true));
    build();
    ON.with(|on| on.set(false));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arena_allocations_are_aligned_distinct_and_survive_realloc() {
        ON.with(|on| on.set(true));
        let a: Vec<u64> = (0..100).collect();
        let mut b: Vec<u8> = vec![7; 3];
        ON.with(|on| on.set(false));
        assert!(in_arena(a.as_ptr() as *mut u8) && in_arena(b.as_ptr() as *mut u8));
        assert_eq!(a.as_ptr() as usize % 8, 0);
        // Growing an arena vector outside the window moves it to the system allocator.
        b.extend_from_slice(&[8; 4096]);
        assert!(!in_arena(b.as_ptr() as *mut u8));
        assert_eq!((&b[..4], a.iter().sum::<u64>()), (&[7, 7, 7, 8][..], 4950));
    }
}
