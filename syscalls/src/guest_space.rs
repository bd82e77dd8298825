//! Where guest memory goes when the guest lets the kernel choose.
//!
//! An x86_64 process's addresses lie below 2^47 (x86_64's TASK_SIZE is
//! 2^47 - 4096), and programs count on it: V8 and LuaJIT keep tags in the
//! bits above, Go hints its heap low. aarch64 kernels with 48-bit (or
//! 52-bit) virtual addresses hand out addresses up to 2^48, top down. On
//! such a host ("wide") Transit chooses guest addresses itself, top down
//! below 2^47, the way the kernel would, and the kernel's own choices
//! (Transit's heap, code cache and stacks) stay above, out of the guest's
//! reach. On a host whose space ends at 2^47 or lower (47- and 39-bit
//! kernels, qemu-user on x86_64) the kernel's choice is already an x86_64
//! address and is kept.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use crate::host::{self, Errno, SysResult};

/// x86_64's TASK_SIZE_MAX: the end of the guest's address space.
pub const GUEST_END: u64 = (1 << 47) - 4096;
/// The lowest address Transit picks (the kernel's mmap_min_addr is 64 KiB).
pub const GUEST_LOW: u64 = 1 << 16;

/// The host kernel has addresses from 2^47 on (checked once).
pub fn host_is_wide() -> bool {
    static WIDE: OnceLock<bool> = OnceLock::new();
    *WIDE.get_or_init(|| {
        let probe = 1u64 << 47;
        let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE) as u64;
        match host::syscall(libc::SYS_mmap, &[probe, host_page(), 0, flags, u64::MAX, 0]) {
            Ok(got) => {
                let _ = host::syscall(libc::SYS_munmap, &[got, host_page()]);
                // A kernel without MAP_FIXED_NOREPLACE took it as a hint.
                got >= probe
            }
            // Something is there already: the space exists.
            Err(e) => e.0 == libc::EEXIST,
        }
    })
}

pub(crate) fn host_page() -> u64 {
    // SAFETY: sysconf has no preconditions.
    (unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).max(4096) as u64
}

fn round_up(value: u64, align: u64) -> u64 {
    value.saturating_add(align - 1) & !(align - 1)
}

/// The guest's mmap without MAP_FIXED: at `hint` if that range is free
/// and inside the guest's space, else where the kernel would put it.
pub fn map(hint: u64, len: u64, prot: u64, flags: u64, fd: u64, offset: u64) -> SysResult {
    let fixed_noreplace = flags | libc::MAP_FIXED_NOREPLACE as u64;
    if !host_is_wide() {
        // x86_64 ignores a hint beyond its space; the host might honour it.
        let hint = if hint.saturating_add(len) <= GUEST_END { hint } else { 0 };
        return host::syscall(libc::SYS_mmap, &[hint, len, prot, flags, fd, offset]);
    }
    if len == 0 {
        return Err(Errno::EINVAL);
    }
    let size = round_up(len, host_page());
    let at = |addr: u64| host::syscall(libc::SYS_mmap, &[addr, len, prot, fixed_noreplace, fd, offset]);
    if hint != 0 && hint % host_page() == 0 && hint.saturating_add(size) <= GUEST_END {
        match at(hint) {
            Ok(got) => return Ok(got),
            Err(e) if e.0 == libc::EEXIST => {}
            Err(e) => return Err(e),
        }
    }
    place(size, host_page(), at)
}

/// Claims `len` bytes (PROT_NONE) where the kernel would put a new mapping
/// of the guest's, for a call that then maps over its own claim (mremap
/// with MREMAP_FIXED, shmat with SHM_REMAP); `align` is a power of two.
pub fn claim(len: u64, align: u64) -> SysResult {
    let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE | libc::MAP_FIXED_NOREPLACE) as u64;
    place(round_up(len, host_page()), align.max(host_page()), |addr| host::syscall(libc::SYS_mmap, &[addr, len, 0, flags, u64::MAX, 0]))
}

/// Top down, as the kernel places mappings: just below the last one
/// placed, else the highest gap that fits. `try_at` maps at an address,
/// failing with EEXIST when another thread took the range meanwhile.
fn place(size: u64, align: u64, mut try_at: impl FnMut(u64) -> SysResult) -> SysResult {
    static CURSOR: AtomicU64 = AtomicU64::new(GUEST_END);
    for attempt in 0..8 {
        let cursor = CURSOR.load(Ordering::Relaxed);
        let candidate = if attempt == 0 && cursor >= size + GUEST_LOW {
            Some((cursor - size) & !(align - 1))
        } else {
            let maps = host::own_maps().map_err(|_| Errno::ENOMEM)?;
            let ranges = mapped_ranges(&maps);
            highest_gap(&ranges, size, align, cursor).or_else(|| highest_gap(&ranges, size, align, GUEST_END))
        };
        let Some(candidate) = candidate.filter(|&c| c >= GUEST_LOW) else { break };
        match try_at(candidate) {
            Ok(got) => {
                CURSOR.store(got, Ordering::Relaxed);
                return Ok(got);
            }
            Err(e) if e.0 == libc::EEXIST => {}
            Err(e) => return Err(e),
        }
    }
    Err(Errno::ENOMEM)
}

/// The `start-end` ranges of a /proc/self/maps text, in order.
fn mapped_ranges(maps: &str) -> Vec<(u64, u64)> {
    let mut ranges: Vec<(u64, u64)> = maps
        .lines()
        .filter_map(|line| {
            let (start, end) = line.split_whitespace().next()?.split_once('-')?;
            Some((u64::from_str_radix(start, 16).ok()?, u64::from_str_radix(end, 16).ok()?))
        })
        .collect();
    ranges.sort_unstable();
    ranges
}

/// The highest `align`ed address below `below` where `size` bytes fit
/// between the mapped `ranges` (sorted), not under [`GUEST_LOW`].
fn highest_gap(ranges: &[(u64, u64)], size: u64, align: u64, below: u64) -> Option<u64> {
    let mut gap_end = below;
    for &(start, end) in ranges.iter().rev() {
        if start >= gap_end {
            continue;
        }
        // Free: [end, gap_end).
        if gap_end >= size {
            let candidate = (gap_end - size) & !(align - 1);
            if candidate >= end.max(GUEST_LOW) {
                return Some(candidate);
            }
        }
        gap_end = gap_end.min(start);
    }
    (gap_end >= size).then(|| (gap_end - size) & !(align - 1)).filter(|&c| c >= GUEST_LOW)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPS: &str = "\
00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/prog
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
7f0000200000-7f0000300000 r--p 00000000 00:00 0
7ffff7ff0000-7ffff8000000 rw-p 00000000 00:00 0   [stack]
aaaaaaaa0000-aaaaaab00000 r-xp 00000000 08:02 1   /usr/bin/transit
";

    #[test]
    fn gaps_are_found_from_the_top_below_the_limit() {
        let ranges = mapped_ranges(MAPS);
        assert_eq!(ranges.len(), 5);
        // At the top of the guest's space, above its stack.
        assert_eq!(highest_gap(&ranges, 0x1000, 0x1000, GUEST_END), Some(GUEST_END - 0x1000));
        // Right under the stack, when the cursor is there.
        assert_eq!(highest_gap(&ranges, 0x1000, 0x1000, 0x7ffff7ff0000), Some(0x7ffff7fef000));
        // Below the cursor, in the 1 MiB hole between the two mappings.
        assert_eq!(highest_gap(&ranges, 0x10_0000, 0x1000, 0x7f0000300000), Some(0x7f0000100000));
        // Too big for that hole: under the lower mapping.
        assert_eq!(highest_gap(&ranges, 0x20_0000, 0x1000, 0x7f0000300000), Some(0x7effffe00000));
        // Alignment.
        assert_eq!(highest_gap(&ranges, 0x1000, 0x10_0000, 0x7ffff7ff0000), Some(0x7ffff7f00000));
        // Nothing fits between 64 KiB and the program.
        assert_eq!(highest_gap(&ranges, 0x40_0000, 0x1000, 0x400000), None);
    }

    #[test]
    fn placing_goes_down_and_retries_a_range_taken_meanwhile() {
        let mut tried = Vec::new();
        let got = place(0x2000, 0x1000, |addr| {
            tried.push(addr);
            if tried.len() == 1 {
                Err(Errno(libc::EEXIST))
            } else {
                Ok(addr)
            }
        });
        let got = got.unwrap();
        assert_eq!(tried.len(), 2);
        assert!(got + 0x2000 <= GUEST_END && got % 0x1000 == 0);
    }
}
