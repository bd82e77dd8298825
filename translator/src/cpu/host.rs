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
    /// FEAT_CRC32: `crc32c{b,h,w,x}`, x86's crc32 (both use CRC-32C).
    pub crc32: bool,
    /// FEAT_AES: `aese`, `aesd`, `aesmc`, `aesimc` (AES-NI).
    pub aes: bool,
    /// FEAT_PMULL: `pmull`/`pmull2` of 64-bit lanes (pclmulqdq).
    pub pmull: bool,
}

/// Environment variable that turns detected host features off, for testing
/// the fallbacks on a host that has them: a comma-separated list such as
/// `-aes,-pmull,-crc32` (names as in `HostFeatures`' fields).
pub const FEATURES_ENV: &str = "TRANSIT_HOST_FEATURES";

impl HostFeatures {
    /// The lowest common denominator: plain ARMv8.0-A.
    pub const BASELINE: HostFeatures =
        HostFeatures { flagm: false, lse: false, lrcpc: false, crc32: false, aes: false, pmull: false };

    /// Every feature the emitter can use.
    pub const ALL: HostFeatures =
        HostFeatures { flagm: true, lse: true, lrcpc: true, crc32: true, aes: true, pmull: true };

    /// Reads AT_HWCAP on an aarch64 Linux host (baseline elsewhere), minus
    /// what `TRANSIT_HOST_FEATURES` turns off (not in secure mode, where
    /// Transit reads no environment variable).
    pub fn detect() -> HostFeatures {
        let detected = Self::from_hwcap();
        match std::env::var(FEATURES_ENV) {
            Ok(spec) if !secure_mode() => detected.without(&spec),
            _ => detected,
        }
    }

    fn from_hwcap() -> HostFeatures {
        #[cfg(all(target_arch = "aarch64", target_os = "linux"))]
        {
            // HWCAP bits from the kernel's arch/arm64/include/uapi/asm/hwcap.h.
            const HWCAP_AES: u64 = 1 << 3;
            const HWCAP_PMULL: u64 = 1 << 4;
            const HWCAP_CRC32: u64 = 1 << 7;
            const HWCAP_ATOMICS: u64 = 1 << 8;
            const HWCAP_FLAGM: u64 = 1 << 35;
            const HWCAP_LRCPC: u64 = 1 << 15;
            // SAFETY: getauxval only reads the process's auxiliary vector.
            let hw = unsafe { libc::getauxval(libc::AT_HWCAP) };
            HostFeatures {
                flagm: hw & HWCAP_FLAGM != 0,
                lse: hw & HWCAP_ATOMICS != 0,
                lrcpc: hw & HWCAP_LRCPC != 0,
                crc32: hw & HWCAP_CRC32 != 0,
                aes: hw & HWCAP_AES != 0,
                pmull: hw & HWCAP_PMULL != 0,
            }
        }
        #[cfg(not(all(target_arch = "aarch64", target_os = "linux")))]
        {
            HostFeatures::BASELINE
        }
    }

    /// These features with those named `-name` in `spec` turned off
    /// (unknown names are ignored: the switch only ever removes features).
    pub fn without(mut self, spec: &str) -> HostFeatures {
        for item in spec.split(',').map(str::trim) {
            let Some(name) = item.strip_prefix('-') else { continue };
            match name {
                "flagm" => self.flagm = false,
                "lse" => self.lse = false,
                "lrcpc" => self.lrcpc = false,
                "crc32" => self.crc32 = false,
                "aes" => self.aes = false,
                "pmull" => self.pmull = false,
                _ => tracing::warn!(feature = name, "{FEATURES_ENV}: unknown host feature"),
            }
        }
        self
    }
}
/// AT_SECURE: Transit runs with credentials the user does not have.
pub(crate) fn secure_mode() -> bool {
    // SAFETY: getauxval only reads the process's auxiliary vector.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

/// Applies MXCSR's rounding control, and FTZ with DAZ as FZ, to the host
/// FPCR, which translated SSE code computes with (generated code does the
/// same for ldmxcsr).
pub fn set_rounding_from_mxcsr(mxcsr: u64) {
    // x86 RC 0 nearest, 1 down, 2 up, 3 zero; aarch64 RMode 0 nearest,
    // 1 up, 2 down, 3 zero.
    let rc = (mxcsr >> 13) & 3;
    let mode = ((rc & 1) << 1) | (rc >> 1);
    let flush_to_zero = (mxcsr >> 15) & (mxcsr >> 6) & 1;
    #[cfg(target_arch = "aarch64")]
    // SAFETY: only the FPCR rounding-mode and FZ fields change.
    unsafe {
        let mut fpcr: u64;
        std::arch::asm!("mrs {0}, fpcr", out(reg) fpcr);
        fpcr = (fpcr & !(3 << 22 | 1 << 24)) | (mode << 22) | (flush_to_zero << 24);
        std::arch::asm!("msr fpcr, {0}", in(reg) fpcr);
    }
    #[cfg(not(target_arch = "aarch64"))]
    let _ = (mode, flush_to_zero);
}

#[cfg(test)]
mod tests {
    use super::HostFeatures;

    #[test]
    fn the_switch_only_removes_named_features() {
        let h = HostFeatures::ALL.without("-aes, -pmull,-crc32,+lse,bogus");
        assert_eq!(h, HostFeatures { aes: false, pmull: false, crc32: false, ..HostFeatures::ALL });
    }
}
