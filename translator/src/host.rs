//! Features of the aarch64 host CPU that change which code the emitter picks.

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HostFeatures {
    /// FEAT_FlagM: `cfinv`, `rmif`, `setf8/16`.
    pub flagm: bool,
    /// FEAT_LSE: single-instruction atomics (`cas`, `ldadd`, `swp`).
    pub lse: bool,
}

impl HostFeatures {
    /// The lowest common denominator: plain ARMv8.0-A.
    pub const BASELINE: HostFeatures = HostFeatures { flagm: false, lse: false };

    /// Reads AT_HWCAP on an aarch64 Linux host; baseline elsewhere.
    pub fn detect() -> HostFeatures {
        #[cfg(all(target_arch = "aarch64", target_os = "linux"))]
        {
            // HWCAP bits from the kernel's arch/arm64/include/uapi/asm/hwcap.h.
            const HWCAP_ATOMICS: u64 = 1 << 8;
            const HWCAP_FLAGM: u64 = 1 << 35;
            // SAFETY: getauxval only reads the process's auxiliary vector.
            let hw = unsafe { libc::getauxval(libc::AT_HWCAP) };
            HostFeatures { flagm: hw & HWCAP_FLAGM != 0, lse: hw & HWCAP_ATOMICS != 0 }
        }
        #[cfg(not(all(target_arch = "aarch64", target_os = "linux")))]
        {
            HostFeatures::BASELINE
        }
    }
}
