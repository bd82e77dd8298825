//! An append-only vector that signal handlers on any thread may read while
//! one writer appends: elements live in fixed chunks that never move, and
//! the length is published after the element is written.
//!
//! The block map is one: a fault or an asynchronous signal in any thread
//! looks up the host code it interrupted while another thread installs new
//! blocks. Writers must be serialised by the caller (the code cache's lock).

use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

const CHUNK: usize = 4096;
/// 64 Mi elements at most.
const MAX_CHUNKS: usize = 16384;

pub struct Chunked<T> {
    /// MAX_CHUNKS chunk pointers, mapped anonymously: untouched pages cost
    /// nothing (calloc cleared all 128 KiB of each of the block map's
    /// three tables at every start).
    chunks: *mut AtomicPtr<T>,
    /// How many chunks were allocated (they are, in order).
    allocated: AtomicUsize,
    len: AtomicUsize,
    /// `chunks` is a mapping (else a boxed slice, where mmap failed).
    mapped: bool,
}

// SAFETY: elements are only written before they are published (Release on
// `len`) and never after, except through `T`'s own atomics.
unsafe impl<T: Send + Sync> Sync for Chunked<T> {}
unsafe impl<T: Send> Send for Chunked<T> {}

const TABLE_BYTES: usize = MAX_CHUNKS * std::mem::size_of::<usize>();

impl<T> Default for Chunked<T> {
    fn default() -> Self {
        // SAFETY: a fresh private anonymous mapping, zero-filled: all-zero
        // bits are a valid (null) AtomicPtr.
        let mapped = unsafe { libc::mmap(std::ptr::null_mut(), TABLE_BYTES, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
        let chunks = if mapped == libc::MAP_FAILED {
            // SAFETY: as above, from the allocator.
            Box::into_raw(unsafe { Box::<[AtomicPtr<T>]>::new_zeroed_slice(MAX_CHUNKS).assume_init() }) as *mut AtomicPtr<T>
        } else {
            mapped.cast()
        };
        Chunked { chunks, allocated: AtomicUsize::new(0), len: AtomicUsize::new(0), mapped: mapped != libc::MAP_FAILED }
    }
}

impl<T> Chunked<T> {
    fn table(&self) -> &[AtomicPtr<T>] {
        // SAFETY: MAX_CHUNKS pointers, alive as long as `self`.
        unsafe { std::slice::from_raw_parts(self.chunks, MAX_CHUNKS) }
    }

    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    /// Whether `n` more elements fit.
    pub fn has_room(&self, n: usize) -> bool {
        self.len().saturating_add(n) <= CHUNK * MAX_CHUNKS
    }

    /// Appends `value`; returns its index, or gives it back when full.
    /// Callers serialise appends.
    pub fn push(&self, value: T) -> Result<usize, T> {
        let i = self.len.load(Ordering::Relaxed);
        let (c, o) = (i / CHUNK, i % CHUNK);
        if c >= MAX_CHUNKS {
            return Err(value);
        }
        let chunk = self.chunk(c);
        // SAFETY: slot `o` of a live chunk, beyond `len`: no reader looks at
        // it until the store below publishes it.
        unsafe { chunk.add(o).write(value) };
        self.len.store(i + 1, Ordering::Release);
        Ok(i)
    }

    /// Appends copies of `values`, published together; returns the index
    /// range, or None (nothing published) when they do not fit.
    pub fn extend_from_slice(&self, values: &[T]) -> Option<std::ops::Range<usize>>
    where
        T: Copy,
    {
        let start = self.len.load(Ordering::Relaxed);
        let end = start + values.len();
        if end > CHUNK * MAX_CHUNKS {
            return None;
        }
        let (mut i, mut rest) = (start, values);
        while !rest.is_empty() {
            let (c, o) = (i / CHUNK, i % CHUNK);
            let n = rest.len().min(CHUNK - o);
            // SAFETY: slots o..o+n of a live chunk, beyond `len`.
            unsafe { std::ptr::copy_nonoverlapping(rest.as_ptr(), self.chunk(c).add(o), n) };
            rest = &rest[n..];
            i += n;
        }
        self.len.store(end, Ordering::Release);
        Some(start..end)
    }

    /// Chunk `c`, allocated on first use.
    fn chunk(&self, c: usize) -> *mut T {
        let mut chunk = self.table()[c].load(Ordering::Acquire);
        if chunk.is_null() {
            let fresh: Box<[std::mem::MaybeUninit<T>]> = Box::new_uninit_slice(CHUNK);
            chunk = Box::into_raw(fresh) as *mut T;
            self.table()[c].store(chunk, Ordering::Release);
            self.allocated.store(c + 1, Ordering::Release);
        }
        chunk
    }

    pub fn get(&self, i: usize) -> Option<&T> {
        if i >= self.len() {
            return None;
        }
        let chunk = self.table()[i / CHUNK].load(Ordering::Acquire);
        // SAFETY: published elements are initialised and never move.
        Some(unsafe { &*chunk.add(i % CHUNK) })
    }

    /// Elements `range` (a range of published indices).
    pub fn iter_range(&self, range: std::ops::Range<usize>) -> impl Iterator<Item = &T> + '_ {
        range.filter_map(move |i| self.get(i))
    }

    /// Forgets every element, keeping the chunks.
    ///
    /// # Safety
    /// No thread may be reading (a full flush stops every thread first).
    pub unsafe fn clear(&self) {
        let len = self.len.swap(0, Ordering::AcqRel);
        if !std::mem::needs_drop::<T>() {
            return;
        }
        for i in 0..len {
            let chunk = self.table()[i / CHUNK].load(Ordering::Acquire);
            // SAFETY: initialised element; nobody reads it (the contract).
            unsafe { std::ptr::drop_in_place(chunk.add(i % CHUNK)) };
        }
    }
}

impl<T> Drop for Chunked<T> {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: no readers.
        unsafe { self.clear() };
        for c in &self.table()[..self.allocated.load(Ordering::Acquire)] {
            let p = c.load(Ordering::Acquire);
            if !p.is_null() {
                // SAFETY: allocated in `push` as a boxed slice of CHUNK elements,
                // whose elements `clear` dropped.
                drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(p as *mut std::mem::MaybeUninit<T>, CHUNK)) });
            }
        }
        if self.mapped {
            // SAFETY: the mapping made in `default`; nothing refers to it now.
            unsafe { libc::munmap(self.chunks.cast(), TABLE_BYTES) };
        } else {
            // SAFETY: the boxed slice made in `default`.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.chunks, MAX_CHUNKS)) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_across_chunks_and_clears() {
        let v = Chunked::default();
        for i in 0..CHUNK * 2 + 5 {
            assert_eq!(v.push(i as u64), Ok(i));
        }
        assert_eq!(v.len(), CHUNK * 2 + 5);
        assert_eq!(v.get(CHUNK + 3), Some(&(CHUNK as u64 + 3)));
        assert_eq!(v.get(CHUNK * 2 + 5), None);
        assert_eq!(v.iter_range(CHUNK - 1..CHUNK + 1).copied().collect::<Vec<_>>(), [CHUNK as u64 - 1, CHUNK as u64]);
        unsafe { v.clear() };
        assert_eq!(v.len(), 0);
        assert_eq!(v.push(7), Ok(0));
        let many: Vec<u64> = (0..CHUNK as u64 + 10).collect();
        assert_eq!(v.extend_from_slice(&many), Some(1..CHUNK + 11));
        assert_eq!(v.get(CHUNK + 10), Some(&(CHUNK as u64 + 9)));
    }
}
