//! Copies between guest memory and the syscall layer's own buffers.
//!
//! Guest pointers are host pointers, but a guest may hand us any address.
//! Where the kernel does not touch guest memory itself (converted structs),
//! the copy goes through `process_vm_readv`/`process_vm_writev` on the
//! calling thread, so a bad address becomes EFAULT instead of a crash of Transit. Where
//! those calls are unavailable (seccomp, or qemu-user which runs our tests)
//! we fall back to a direct copy after a null check, and, where the kernel
//! under us can say so (qemu-user), a check that the range is accessible.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::host::{self, Errno};

/// Plain data: any bit pattern is a valid value and there are no pointers
/// the Rust side owns.
///
/// # Safety
/// Implement only for `repr(C)` integer aggregates without padding
/// invariants (every byte may be read and written freely).
pub unsafe trait Plain: Copy + 'static {}

// SAFETY: integers and aggregates of integers accept every bit pattern.
unsafe impl Plain for u8 {}
unsafe impl Plain for i32 {}
unsafe impl Plain for u64 {}
unsafe impl Plain for i64 {}
unsafe impl Plain for libc::timespec {}
unsafe impl Plain for libc::timeval {}
unsafe impl Plain for libc::utsname {}
unsafe impl<T: Plain, const N: usize> Plain for [T; N] {}

const KERNEL_COPY_UNKNOWN: u8 = 0;
const KERNEL_COPY_WORKS: u8 = 1;
const KERNEL_COPY_MISSING: u8 = 2;
static KERNEL_COPY: AtomicU8 = AtomicU8::new(KERNEL_COPY_UNKNOWN);

enum Direction {
    FromGuest,
    ToGuest,
}

/// Copies `len` bytes between `local` and guest address `guest`; returns how
/// many bytes were copied before a fault (or the errno if none could be).
fn kernel_copy(dir: &Direction, local: *mut u8, guest: u64, len: usize) -> Result<usize, Errno> {
    let local_iov = libc::iovec {
        iov_base: local.cast(),
        iov_len: len,
    };
    let remote_iov = libc::iovec {
        iov_base: guest as usize as *mut libc::c_void,
        iov_len: len,
    };
    let nr = match dir {
        Direction::FromGuest => libc::SYS_process_vm_readv,
        Direction::ToGuest => libc::SYS_process_vm_writev,
    };
    // The thread's own id, not the process's: once the guest's first
    // thread has exited (pthread_exit in main) the kernel finds no memory
    // behind the process id, and the copy failed with ESRCH.
    // SAFETY: gettid has no preconditions.
    let tid = unsafe { libc::gettid() } as u64;
    host::syscall(
        nr,
        &[tid, host::ptr(&local_iov), 1, host::ptr(&remote_iov), 1, 0],
    )
    .map(|n| n as usize)
}

/// Copies with a direct memory access; used only where the kernel cannot
/// do the checked copy for us.
fn direct_copy(dir: &Direction, local: *mut u8, guest: u64, len: usize) {
    let guest = guest as usize as *mut u8;
    // SAFETY: not checkable here: the guest asserts `guest..guest+len` is
    // mapped memory it owns; a wrong address faults like it would in the guest.
    // `copy`, not `copy_nonoverlapping`: a guest range may cover our own
    // buffer (read_cstr reads to the end of the page, in tests a heap page).
    unsafe {
        match dir {
            Direction::FromGuest => std::ptr::copy(guest, local, len),
            Direction::ToGuest => std::ptr::copy(local, guest, len),
        }
    }
}

const PROBE_UNKNOWN: u8 = 0;
const PROBE_WORKS: u8 = 1;
const PROBE_USELESS: u8 = 2;
static PROBE: AtomicU8 = AtomicU8::new(PROBE_UNKNOWN);

/// Whether the guest range may be read (or written) without a fault, as
/// far as the kernel under us can tell: true when it cannot tell.
/// qemu-user (no process_vm_readv) checks a write(2) buffer for reading and
/// a read(2) buffer for writing before it looks at the descriptor
/// (lock_user, linux-user/syscall.c), so fd -1 gives EFAULT for a bad range
/// and EBADF for a good one. Linux checks the descriptor first; there the
/// probe says nothing and is not made. Found by `cargo xtask
/// fuzz-syscalls`: without it a bad pointer was a fault of Transit's own.
fn accessible(dir: &Direction, guest: u64, len: usize) -> bool {
    let probe = |guest: u64| {
        let nr = match dir {
            Direction::FromGuest => libc::SYS_write,
            Direction::ToGuest => libc::SYS_read,
        };
        host::syscall(nr, &[u64::MAX, guest, len as u64]) != Err(Errno::EFAULT)
    };
    match PROBE.load(Ordering::Relaxed) {
        PROBE_WORKS => probe(guest),
        PROBE_USELESS => true,
        _ => {
            // Address 8 is never mapped (mmap_min_addr).
            let works = !probe(8);
            PROBE.store(if works { PROBE_WORKS } else { PROBE_USELESS }, Ordering::Relaxed);
            !works || probe(guest)
        }
    }
}

/// `direct_copy` of the part of the range that is accessible from its
/// start, page by page when the whole is not; how many bytes were copied.
fn checked_direct_copy(dir: &Direction, local: *mut u8, guest: u64, len: usize) -> Result<usize, Errno> {
    const PAGE: u64 = 4096;
    if accessible(dir, guest, len) {
        direct_copy(dir, local, guest, len);
        return Ok(len);
    }
    let mut done = 0;
    while done < len {
        let at = guest.wrapping_add(done as u64);
        let chunk = (len - done).min((PAGE - at % PAGE) as usize);
        if !accessible(dir, at, chunk) {
            break;
        }
        // SAFETY: `done < len`, so the offset stays inside the caller's buffer.
        direct_copy(dir, unsafe { local.add(done) }, at, chunk);
        done += chunk;
    }
    match done {
        0 => Err(Errno::EFAULT),
        n => Ok(n),
    }
}

/// Copies up to `len` bytes; returns how many were copied (fewer on a fault
/// part-way, when the kernel reports it).
fn copy(dir: Direction, local: *mut u8, guest: u64, len: usize) -> Result<usize, Errno> {
    if len == 0 {
        return Ok(0);
    }
    if guest == 0 {
        return Err(Errno::EFAULT);
    }
    if matches!(dir, Direction::ToGuest) {
        // A vfork child's page, protected to see the write (neither copy
        // below would fault for it to be seen).
        crate::vfork_writes::lift_range(guest, len as u64);
    }
    if KERNEL_COPY.load(Ordering::Relaxed) != KERNEL_COPY_MISSING {
        match kernel_copy(&dir, local, guest, len) {
            Ok(n) => {
                KERNEL_COPY.store(KERNEL_COPY_WORKS, Ordering::Relaxed);
                return Ok(n);
            }
            Err(e) if e == Errno::ENOSYS || e == Errno::EPERM => {
                KERNEL_COPY.store(KERNEL_COPY_MISSING, Ordering::Relaxed);
            }
            Err(e) => return Err(e),
        }
    }
    checked_direct_copy(&dir, local, guest, len)
}

/// Reads as many bytes as are readable at `guest`, up to `buf.len()`.
pub(crate) fn read_partial(guest: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    copy(Direction::FromGuest, buf.as_mut_ptr(), guest, buf.len())
}

/// Reads exactly `buf.len()` bytes.
pub fn read_bytes(guest: u64, buf: &mut [u8]) -> Result<(), Errno> {
    match read_partial(guest, buf)? {
        n if n == buf.len() => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// Writes all of `bytes` to `guest`.
pub fn write_bytes(guest: u64, bytes: &[u8]) -> Result<(), Errno> {
    // The kernel only reads from the local side of process_vm_writev.
    match copy(
        Direction::ToGuest,
        bytes.as_ptr().cast_mut(),
        guest,
        bytes.len(),
    )? {
        n if n == bytes.len() => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

pub fn read<T: Plain>(guest: u64) -> Result<T, Errno> {
    let mut value = std::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: T is Plain, so its bytes may be viewed and the zeroed value is valid.
    let bytes =
        unsafe { std::slice::from_raw_parts_mut(value.as_mut_ptr().cast::<u8>(), size_of::<T>()) };
    read_bytes(guest, bytes)?;
    // SAFETY: fully initialised above (zeroed, then overwritten).
    Ok(unsafe { value.assume_init() })
}

pub fn write<T: Plain>(guest: u64, value: &T) -> Result<(), Errno> {
    write_bytes(guest, as_bytes(value))
}

/// The bytes of a plain value.
pub(crate) fn as_bytes<T: Plain>(value: &T) -> &[u8] {
    // SAFETY: T is Plain: every byte is initialised data, readable as u8.
    unsafe { std::slice::from_raw_parts((value as *const T).cast::<u8>(), size_of::<T>()) }
}

/// Reads a NUL-terminated string of at most `max` bytes (without the NUL).
/// `None` if no NUL was found within `max` bytes.
pub(crate) fn read_cstr(guest: u64, max: usize) -> Result<Option<Vec<u8>>, Errno> {
    const PAGE: u64 = 4096;
    let mut out = Vec::new();
    let mut addr = guest;
    // Page by page: a string that ends early must not make us touch the
    // (possibly unmapped) page after it.
    while out.len() <= max {
        let chunk_len = (PAGE - addr % PAGE).min((max + 1 - out.len()) as u64) as usize;
        let mut chunk = vec![0u8; chunk_len];
        let n = read_partial(addr, &mut chunk)?;
        if let Some(end) = chunk[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..end]);
            return Ok(Some(out));
        }
        if n < chunk_len {
            return Err(Errno::EFAULT);
        }
        out.extend_from_slice(&chunk);
        addr += chunk_len as u64;
    }
    Ok(None)
}

/// Whether bad guest addresses are caught (EFAULT) rather than dereferenced.
#[cfg(test)]
pub(crate) fn kernel_checks_copies() -> bool {
    let mut probe = 0u64;
    let _ = read::<u64>(&mut probe as *mut u64 as usize as u64);
    KERNEL_COPY.load(Ordering::Relaxed) == KERNEL_COPY_WORKS || PROBE.load(Ordering::Relaxed) == PROBE_WORKS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `cargo xtask fuzz-syscalls` under qemu-user, which has no
    /// process_vm_readv: a PROT_NONE page was copied directly, a fault of
    /// Transit's own. A range that turns bad part-way copies its good start.
    #[test]
    fn an_inaccessible_page_is_efault() {
        const PAGE: usize = 4096;
        // SAFETY: a fresh private mapping, unmapped at the end.
        let base = unsafe { libc::mmap(std::ptr::null_mut(), 2 * PAGE, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0) };
        assert_ne!(base, libc::MAP_FAILED);
        let good = base as u64;
        let bad = good + PAGE as u64;
        // SAFETY: the second page of the mapping above.
        assert_eq!(unsafe { libc::mprotect(bad as *mut _, PAGE, libc::PROT_NONE) }, 0);
        if !kernel_checks_copies() {
            eprintln!("note: neither process_vm_readv nor a probe here; skipping");
            return;
        }
        assert_eq!(read::<u64>(bad), Err(Errno::EFAULT));
        assert_eq!(write::<u64>(bad, &7), Err(Errno::EFAULT));
        write_bytes(bad - 3, b"abc").unwrap();
        assert_eq!(read_cstr(bad - 3, 64), Err(Errno::EFAULT), "no NUL before the bad page");
        let mut buf = [0u8; 16];
        assert_eq!(read_partial(bad - 8, &mut buf), Ok(8));
        assert_eq!(read_bytes(bad - 8, &mut buf), Err(Errno::EFAULT));
        // SAFETY: the mapping above, no longer used.
        unsafe { libc::munmap(base, 2 * PAGE) };
    }
}
