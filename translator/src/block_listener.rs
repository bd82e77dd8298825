//! Who hears of each block installed in the code cache: `--perf-map`
//! registers a function here (the translator itself does no file I/O).
//! One function per process, set before the first translation.

use std::sync::OnceLock;

/// Called with the guest address a block translates, its host code
/// address and length in bytes, under the cache's lock.
pub type BlockListener = fn(guest_rip: u64, host: u64, host_len: usize);

static LISTENER: OnceLock<BlockListener> = OnceLock::new();

/// Registers the process's listener; false if one was already set.
pub fn listen(f: BlockListener) -> bool {
    LISTENER.set(f).is_ok()
}

/// Whether a listener is set (callers installing many blocks ask once).
pub(crate) fn listening() -> bool {
    LISTENER.get().is_some()
}

/// Tells the listener, if any, of a block just installed.
pub(crate) fn installed(guest_rip: u64, host: u64, host_len: usize) {
    if let Some(f) = LISTENER.get() {
        f(guest_rip, host, host_len);
    }
}
