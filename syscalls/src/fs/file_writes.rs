//! Writes to a file the guest maps shared. A JIT may put code into a memfd
//! with write() or pwrite() and run it through a MAP_SHARED mapping of it:
//! no store to guest memory happens, so `code_watch` sees no fault. Once
//! such a write has landed, the mapped part of the file is reported
//! changed, before the writer runs its next instruction (its dispatch
//! applies the change), as x86 sees code written by any means.

use crate::host::{self, SysResult};
use crate::shared_mappings::{self, SharedObject};
use crate::{Args, Ctx};
use transit_translator::cache::code_watch;

/// write and writev: at the file position (or the end, with O_APPEND).
pub(crate) fn write(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    at_position(libc::SYS_write, a)
}

pub(crate) fn writev(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    at_position(libc::SYS_writev, a)
}

/// pwrite64 and pwritev: at the offset in the fourth argument (pwritev's
/// high half, the fifth, is 0 on 64-bit).
pub(crate) fn pwrite64(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let n = host::interruptible_syscall(libc::SYS_pwrite64, &a[..4])?;
    noted(a[0], a[3], n)
}

pub(crate) fn pwritev(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let n = host::interruptible_syscall(libc::SYS_pwritev, &a[..5])?;
    noted(a[0], a[3], n)
}

/// pwritev2: an offset of -1 means the file position.
pub(crate) fn pwritev2(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    if a[3] as i64 == -1 {
        return at_position(libc::SYS_pwritev2, a);
    }
    let n = host::interruptible_syscall(libc::SYS_pwritev2, a)?;
    noted(a[0], a[3], n)
}

fn at_position(nr: libc::c_long, a: &Args) -> SysResult {
    let n = host::interruptible_syscall(nr, a)?;
    if n == 0 || !shared_mappings::maps_files() {
        return Ok(n);
    }
    // Where the write ended: pipes and sockets have no position, and map nothing.
    match host::syscall(libc::SYS_lseek, &[a[0], 0, libc::SEEK_CUR as u64]) {
        Ok(end) => noted(a[0], end.saturating_sub(n), n),
        Err(_) => Ok(n),
    }
}

/// `n` bytes were written to `fd` at `offset`: the guest ranges that map
/// them shared are reported changed. Returns `n`.
fn noted(fd: u64, offset: u64, n: u64) -> SysResult {
    if n == 0 || !shared_mappings::maps_files() {
        return Ok(n);
    }
    let Some(file) = SharedObject::file_of(fd as i32) else { return Ok(n) };
    for (start, end) in shared_mappings::ranges_of(file, offset, offset.saturating_add(n)) {
        code_watch::code_changed(start, end - start);
    }
    Ok(n)
}
