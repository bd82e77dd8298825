//! Host memory mapping for guest images and stacks.

use std::io;

/// The result of an mmap of `len` bytes for the guest, recorded as the
/// guest's (see `transit_syscalls::guest_regions`).
fn check(p: *mut libc::c_void, len: u64) -> io::Result<u64> {
    if p == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    transit_syscalls::guest_regions::record(p as u64, len);
    Ok(p as u64)
}

/// Reserves `len` bytes where guest memory goes (see
/// `transit_syscalls::guest_space`), inaccessible for now.
pub fn reserve(len: u64) -> io::Result<u64> {
    guest_mapping(len, libc::PROT_NONE, libc::MAP_NORESERVE)
}

/// A new anonymous private mapping for the guest, where the kernel would
/// put it on x86_64.
fn guest_mapping(len: u64, prot: i32, flags: i32) -> io::Result<u64> {
    let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | flags) as u64;
    let at = transit_syscalls::guest_space::map(0, len, prot as u64, flags, u64::MAX, 0).map_err(|e| io::Error::from_raw_os_error(e.0))?;
    transit_syscalls::guest_regions::record(at, len);
    Ok(at)
}

/// Reserves `len` bytes at exactly `addr` (PROT_NONE) if nothing is there.
pub fn reserve_at(addr: u64, len: u64) -> io::Result<u64> {
    // SAFETY: MAP_FIXED_NOREPLACE fails instead of overlapping a mapping.
    check(unsafe {
        libc::mmap(
            addr as *mut _,
            len as usize,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    }, len)
}

/// Maps zeroed read-write memory at exactly `addr`. `replace` allows
/// replacing our own reservation; otherwise existing mappings (Transit's
/// own) are never clobbered.
pub fn map_fixed(addr: u64, len: u64, replace: bool) -> io::Result<u64> {
    let fixed = if replace { libc::MAP_FIXED } else { libc::MAP_FIXED_NOREPLACE };
    // SAFETY: with MAP_FIXED only over a range this loader reserved itself;
    // otherwise MAP_FIXED_NOREPLACE fails instead of overlapping.
    check(unsafe {
        libc::mmap(
            addr as *mut _,
            len as usize,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | fixed,
            -1,
            0,
        )
    }, len)
}

/// Maps `len` bytes of file `fd` from `offset` privately and read-write
/// at exactly `addr` (over a range the loader reserved when `replace`).
pub fn map_file_fixed(addr: u64, len: u64, fd: i32, offset: u64, replace: bool) -> io::Result<u64> {
    let fixed = if replace { libc::MAP_FIXED } else { libc::MAP_FIXED_NOREPLACE };
    // SAFETY: as `map_fixed`: a range the loader reserved, or none taken.
    check(unsafe {
        libc::mmap(addr as *mut _, len as usize, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_PRIVATE | fixed, fd, offset as libc::off_t)
    }, len)
}

/// Applies ELF segment permissions (PF_X=1, PF_W=2, PF_R=4).
pub fn protect(addr: u64, len: u64, pflags: u32) -> io::Result<()> {
    let mut prot = 0;
    if pflags & 4 != 0 {
        prot |= libc::PROT_READ;
    }
    if pflags & 2 != 0 {
        prot |= libc::PROT_WRITE;
    }
    if pflags & 1 != 0 {
        // Translated code reads guest code; x86 makes executable pages readable.
        prot |= libc::PROT_EXEC | libc::PROT_READ;
    }
    // SAFETY: changes protection of a range this loader mapped.
    if unsafe { libc::mprotect(addr as *mut _, len as usize, prot) } != 0 {
        return Err(io::Error::last_os_error());
    }
    transit_syscalls::writable::mapped_by_transit(addr, len, prot & libc::PROT_WRITE != 0);
    Ok(())
}

/// A fresh read-write anonymous mapping for the guest (its stack).
pub fn map_anywhere(len: u64) -> io::Result<u64> {
    let at = guest_mapping(len, libc::PROT_READ | libc::PROT_WRITE, 0)?;
    transit_syscalls::writable::mapped_by_transit(at, len, true);
    Ok(at)
}
