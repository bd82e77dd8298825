//! Standard descriptors (0, 1, 2) that Transit's parent left closed. Rust's
//! runtime opens /dev/null on each closed one before `main` runs, so a
//! guest started with `<&-` or by posix_spawn's POSIX_SPAWN_CLOSE would
//! find it open (CPython's test_posix checks that `os.fstat(0)` then fails
//! with EBADF). Which were closed is read from an `.init_array` entry
//! (glibc runs those before `main`, as for `signals::inherited`), and they
//! are closed again just before the guest starts.

use std::sync::atomic::{AtomicU8, Ordering};

/// Bit n: descriptor n was closed at start.
static CLOSED_AT_START: AtomicU8 = AtomicU8::new(0);

#[used]
#[link_section = ".init_array"]
static RECORD_AT_START: extern "C" fn() = record;

extern "C" fn record() {
    let mut closed = 0u8;
    for fd in 0..3 {
        // SAFETY: F_GETFD only asks whether the descriptor is open.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            closed |= 1 << fd;
        }
    }
    CLOSED_AT_START.store(closed, Ordering::Relaxed);
}

/// Closes the standard descriptors that were closed when Transit started
/// (Rust's runtime put /dev/null there). Call once nothing of Transit's
/// own uses them, right before guest code runs.
pub fn close_those_closed_at_start() {
    let closed = CLOSED_AT_START.load(Ordering::Relaxed);
    for fd in (0..3).filter(|fd| closed & (1 << fd) != 0) {
        // SAFETY: a descriptor the runtime opened on /dev/null for itself.
        unsafe { libc::close(fd) };
    }
}
