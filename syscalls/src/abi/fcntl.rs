//! `O_*` file status flags: four bits have different values on aarch64.
//!
//! x86_64 uses asm-generic/fcntl.h; arm64 overrides O_DIRECTORY, O_NOFOLLOW,
//! O_DIRECT and O_LARGEFILE in arch/arm64/include/uapi/asm/fcntl.h. All other
//! bits (O_CREAT, O_CLOEXEC, O_PATH, __O_TMPFILE, ...) agree.

/// x86_64 `O_DIRECTORY`, for handlers that look at guest flags.
pub const X86_O_DIRECTORY: u64 = 0o200000;
/// x86_64 `O_NOFOLLOW`.
pub const X86_O_NOFOLLOW: u64 = 0o400000;

/// `(x86_64 value, host value)` of each bit that moves.
const MOVED_BITS: [(u64, u64); 4] = [
    (0o40000, HOST_O_DIRECT),
    (0o100000, HOST_O_LARGEFILE),
    (X86_O_DIRECTORY, HOST_O_DIRECTORY),
    (X86_O_NOFOLLOW, HOST_O_NOFOLLOW),
];

// Kernel values, not libc's: glibc hides O_LARGEFILE (as 0) on 64-bit
// targets, but the kernel reports it from F_GETFL.
#[cfg(target_arch = "aarch64")]
const HOST_O_DIRECTORY: u64 = 0o40000;
#[cfg(target_arch = "aarch64")]
const HOST_O_NOFOLLOW: u64 = 0o100000;
#[cfg(target_arch = "aarch64")]
const HOST_O_DIRECT: u64 = 0o200000;
#[cfg(target_arch = "aarch64")]
const HOST_O_LARGEFILE: u64 = 0o400000;

// Any other host (x86_64, for `cargo check`) uses the asm-generic values.
#[cfg(not(target_arch = "aarch64"))]
const HOST_O_DIRECT: u64 = 0o40000;
#[cfg(not(target_arch = "aarch64"))]
const HOST_O_LARGEFILE: u64 = 0o100000;
#[cfg(not(target_arch = "aarch64"))]
const HOST_O_DIRECTORY: u64 = 0o200000;
#[cfg(not(target_arch = "aarch64"))]
const HOST_O_NOFOLLOW: u64 = 0o400000;

fn remap(flags: u64, from_guest: bool) -> u64 {
    let all_moved = MOVED_BITS
        .iter()
        .fold(0, |acc, &(g, h)| acc | if from_guest { g } else { h });
    let mut out = flags & !all_moved;
    for &(guest, host) in &MOVED_BITS {
        let (from, to) = if from_guest {
            (guest, host)
        } else {
            (host, guest)
        };
        if flags & from != 0 {
            out |= to;
        }
    }
    out
}

/// Guest `O_*` flags (open, openat, fcntl F_SETFL, pipe2) to host values.
pub fn open_flags_to_host(guest: u64) -> u64 {
    remap(guest, true)
}

/// Host `O_*` flags (fcntl F_GETFL) to guest values.
pub fn open_flags_to_guest(host: u64) -> u64 {
    remap(host, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moved_bits_round_trip_and_others_stay() {
        let untouched =
            (libc::O_CREAT | libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_APPEND | libc::O_RDWR)
                as u64;
        for &(guest, host) in &MOVED_BITS {
            assert_eq!(open_flags_to_host(guest | untouched), host | untouched);
            assert_eq!(open_flags_to_guest(host | untouched), guest | untouched);
        }
        let all_guest = MOVED_BITS.iter().fold(0, |a, &(g, _)| a | g);
        assert_eq!(
            open_flags_to_guest(open_flags_to_host(all_guest)),
            all_guest
        );
    }

    #[test]
    fn host_values_agree_with_libc() {
        assert_eq!(HOST_O_DIRECTORY, libc::O_DIRECTORY as u64);
        assert_eq!(HOST_O_NOFOLLOW, libc::O_NOFOLLOW as u64);
        assert_eq!(HOST_O_DIRECT, libc::O_DIRECT as u64);
    }

    #[test]
    fn guest_values_agree_with_x86_64_gcc() {
        let c = "#define _GNU_SOURCE\n#include <stdio.h>\n#include <fcntl.h>\nint main(void) {\
                 printf(\"%o %o %o\\n\", O_DIRECT, O_DIRECTORY, O_NOFOLLOW); return 0; }";
        let Some(out) = crate::abi::oracle::run_x86_64_c(c) else {
            return;
        };
        assert_eq!(out.trim(), "40000 200000 400000");
    }
}
