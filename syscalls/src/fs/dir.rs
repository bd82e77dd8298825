//! getdents: the legacy record, built from the host's getdents64.

use crate::abi::dirent::dirents64_to_legacy;
use crate::guest_mem;
use crate::host::{self, SysResult};
use crate::{Args, Ctx};

/// Large enough for any directory read a libc issues; a smaller read only
/// means more calls, never lost entries.
const MAX_CHUNK: usize = 1 << 20;

/// getdents(fd, dirp, count).
pub(crate) fn getdents(_: &mut Ctx<'_>, a: &Args) -> SysResult {
    let count = (a[2] as u32 as usize).min(MAX_CHUNK);
    let mut buf = vec![0u8; count];
    let n = host::syscall(
        libc::SYS_getdents64,
        &[a[0], host::ptr_mut(buf.as_mut_ptr()), count as u64],
    )? as usize;
    // Records keep their length (see abi::dirent), so the result fits `count`.
    let legacy = dirents64_to_legacy(&buf[..n]);
    guest_mem::write_bytes(a[1], &legacy)?;
    Ok(legacy.len() as u64)
}
