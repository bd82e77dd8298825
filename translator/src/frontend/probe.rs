//! Checking that guest memory can be read or written before Rust code (the
//! interpreter) touches it, so a bad guest address becomes the guest's
//! SIGSEGV at its instruction instead of a crash of Transit.
//!
//! Each probe is one access in a tiny assembly routine; if it faults, the
//! runtime's signal handler sees the PC inside the routine ([`redirect`])
//! and resumes at its failure exit, which returns the fault's si_code.
//! A write probe stores the byte it read back with an exclusive pair, so a
//! concurrent writer is never overwritten.

/// Why a probed access failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProbeFault {
    pub addr: u64,
    /// The host fault's si_code (SEGV_MAPERR or SEGV_ACCERR).
    pub code: i32,
}

/// Checks that every byte of `[addr, addr + len)` can be read (`write`:
/// and written). Only the first and the last byte's pages are probed:
/// callers access at most a few pages (512 bytes for fxsave).
pub fn check(addr: u64, len: u64, write: bool) -> Result<(), ProbeFault> {
    let last = addr.wrapping_add(len.max(1) - 1);
    for a in [addr, last] {
        let code = arch::probe(a, write);
        if code != 0 {
            return Err(ProbeFault { addr: a, code: code as i32 });
        }
        if last >> 12 == addr >> 12 {
            break;
        }
    }
    Ok(())
}

/// For the runtime's SIGSEGV/SIGBUS handler: if host `pc` is a probe's
/// access, the PC to resume at, with x0 = `code`. Async-signal-safe.
pub fn redirect(pc: u64) -> Option<u64> {
    arch::redirect(pc)
}

#[cfg(target_arch = "aarch64")]
mod arch {
    std::arch::global_asm!(
        ".globl transit_probe",
        ".p2align 2",
        // x0 = address, x1 = write?; returns 0, or the si_code in x0 via the handler.
        "transit_probe:",
        ".globl transit_probe_first",
        "transit_probe_first:",
        "    ldrb w2, [x0]",
        "    cbz x1, 2f",
        "1:  ldxrb w2, [x0]",
        "    stxrb w3, w2, [x0]",
        "    cbnz w3, 1b",
        ".globl transit_probe_last",
        "transit_probe_last:",
        "2:  mov x0, #0",
        "    ret",
        ".globl transit_probe_failed",
        "transit_probe_failed:",
        "    ret",
    );

    extern "C" {
        fn transit_probe(addr: u64, write: u64) -> u64;
        fn transit_probe_first();
        fn transit_probe_last();
        fn transit_probe_failed();
    }

    pub fn probe(addr: u64, write: bool) -> u64 {
        // SAFETY: the routine only reads (and rewrites in place) one byte;
        // a fault there is turned into a return by the runtime's handler.
        unsafe { transit_probe(addr, write as u64) }
    }

    pub fn redirect(pc: u64) -> Option<u64> {
        let window = transit_probe_first as *const () as u64..transit_probe_last as *const () as u64;
        window.contains(&pc).then_some(transit_probe_failed as *const () as u64)
    }
}

#[cfg(not(target_arch = "aarch64"))]
mod arch {
    /// No fault recovery here (tests on x86_64 hosts never run guest code).
    pub fn probe(_addr: u64, _write: bool) -> u64 {
        0
    }

    pub fn redirect(_pc: u64) -> Option<u64> {
        None
    }
}
