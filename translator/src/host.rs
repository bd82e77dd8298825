//! Features of the aarch64 host CPU that change which code the emitter picks.

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostFeatures {
    /// FEAT_FlagM: `cfinv`, `rmif`, `setf8/16`.
    pub flagm: bool,
    /// FEAT_LSE: single-instruction atomics (`cas`, `ldadd`, `swp`).
    pub lse: bool,
    /// FEAT_LRCPC: `ldapr`, the acquire load x86's ordering needs (weaker
    /// and cheaper than `ldar`).
    pub lrcpc: bool,
}

impl HostFeatures {
    /// The lowest common denominator: plain ARMv8.0-A.
    pub const BASELINE: HostFeatures = HostFeatures { flagm: false, lse: false, lrcpc: false };

    /// Reads AT_HWCAP on an aarch64 Linux host; baseline elsewhere.
    pub fn detect() -> HostFeatures {
        #[cfg(all(target_arch = "aarch64", target_os = "linux"))]
        {
            // HWCAP bits from the kernel's arch/arm64/include/uapi/asm/hwcap.h.
            const HWCAP_ATOMICS: u64 = 1 << 8;
            const HWCAP_FLAGM: u64 = 1 << 35;
            const HWCAP_LRCPC: u64 = 1 << 15;
            // SAFETY: getauxval only reads the process's auxiliary vector.
            let hw = unsafe { libc::getauxval(libc::AT_HWCAP) };
            HostFeatures {
                flagm: hw & HWCAP_FLAGM != 0,
                lse: hw & HWCAP_ATOMICS != 0,
                lrcpc: hw & HWCAP_LRCPC != 0,
            }
        }
        #[cfg(not(all(target_arch = "aarch64", target_os = "linux")))]
        {
            HostFeatures::BASELINE
        }
    }
}

/// Applies MXCSR's rounding control to the host FPCR, which translated SSE
/// code rounds with (generated code does the same for ldmxcsr).
pub fn set_rounding_from_mxcsr(mxcsr: u64) {
    // x86 RC 0 nearest, 1 down, 2 up, 3 zero; aarch64 RMode 0 nearest,
    // 1 up, 2 down, 3 zero.
    let rc = (mxcsr >> 13) & 3;
    let mode = ((rc & 1) << 1) | (rc >> 1);
    #[cfg(target_arch = "aarch64")]
    // SAFETY: only the FPCR rounding-mode field changes.
    unsafe {
        let mut fpcr: u64;
        std::arch::asm!("mrs {0}, fpcr", out(reg) fpcr);
        fpcr = (fpcr & !(3 << 22)) | (mode << 22);
        std::arch::asm!("msr fpcr, {0}", in(reg) fpcr);
    }
    #[cfg(not(target_arch = "aarch64"))]
    let _ = mode;
}
