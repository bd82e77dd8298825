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
    /// FEAT_LRCPC2: `ldapur`/`stlur`, the same accesses with an immediate
    /// offset (no address computed first).
    pub lrcpc2: bool,
    /// FEAT_CRC32: `crc32c{b,h,w,x}`, x86's crc32 (both use CRC-32C).
    pub crc32: bool,
    /// FEAT_AES: `aese`, `aesd`, `aesmc`, `aesimc` (AES-NI).
    pub aes: bool,
    /// FEAT_PMULL: `pmull`/`pmull2` of 64-bit lanes (pclmulqdq).
    pub pmull: bool,
    /// FEAT_AFP: with FPCR.AH set, a NaN operand wins over the other
    /// whatever its kind and a created NaN is negative, as on x86, so
    /// arithmetic needs no NaN fix-up (`enable_x86_nan_handling`).
    pub afp: bool,
}

/// Environment variable that turns detected host features off, for testing
/// the fallbacks on a host that has them: a comma-separated list such as
/// `-aes,-pmull,-crc32` (names as in `HostFeatures`' fields).
pub const FEATURES_ENV: &str = "TRANSIT_HOST_FEATURES";

impl HostFeatures {
    /// The lowest common denominator: plain ARMv8.0-A.
    pub const BASELINE: HostFeatures =
        HostFeatures { flagm: false, lse: false, lrcpc: false, lrcpc2: false, crc32: false, aes: false, pmull: false, afp: false };

    /// Every feature the emitter can use.
    pub const ALL: HostFeatures =
        HostFeatures { flagm: true, lse: true, lrcpc: true, lrcpc2: true, crc32: true, aes: true, pmull: true, afp: true };

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
            const HWCAP_ILRCPC: u64 = 1 << 26;
            const HWCAP_CPUID: u64 = 1 << 11;
            const HWCAP2_AFP: u64 = 1 << 20;
            // SAFETY: getauxval only reads the process's auxiliary vector.
            let (hw, hw2) = unsafe { (libc::getauxval(libc::AT_HWCAP), libc::getauxval(libc::AT_HWCAP2)) };
            // qemu-user models FEAT_FlagM and FEAT_AFP (-cpu max) without
            // their HWCAP bits; the ID registers, which the kernel (and
            // qemu) let user mode read where HWCAP_CPUID says so, tell too.
            let id_registers = hw & HWCAP_CPUID != 0;
            let afp = hw2 & HWCAP2_AFP != 0 || (id_registers && id_field(IdRegister::Mmfr1, 44) != 0);
            let flagm = hw & HWCAP_FLAGM != 0 || (id_registers && id_field(IdRegister::Isar0, 52) != 0);
            HostFeatures {
                flagm,
                lse: hw & HWCAP_ATOMICS != 0,
                lrcpc: hw & HWCAP_LRCPC != 0,
                lrcpc2: hw & HWCAP_ILRCPC != 0,
                crc32: hw & HWCAP_CRC32 != 0,
                aes: hw & HWCAP_AES != 0,
                pmull: hw & HWCAP_PMULL != 0,
                afp,
            }
        }
        #[cfg(not(all(target_arch = "aarch64", target_os = "linux")))]
        {
            HostFeatures::BASELINE
        }
    }

    /// The names of the features present, comma-separated (as
    /// `TRANSIT_HOST_FEATURES` names them), or "none".
    pub fn names(self) -> String {
        let all = [
            ("flagm", self.flagm),
            ("lse", self.lse),
            ("lrcpc", self.lrcpc),
            ("lrcpc2", self.lrcpc2),
            ("crc32", self.crc32),
            ("aes", self.aes),
            ("pmull", self.pmull),
            ("afp", self.afp),
        ];
        let present: Vec<&str> = all.iter().filter(|(_, on)| *on).map(|(name, _)| *name).collect();
        if present.is_empty() { "none".to_string() } else { present.join(",") }
    }

    /// These features with those named `-name` in `spec` turned off
    /// (unknown names are ignored: the switch only ever removes features).
    pub fn without(mut self, spec: &str) -> HostFeatures {
        for item in spec.split(',').map(str::trim) {
            let Some(name) = item.strip_prefix('-') else { continue };
            match name {
                "flagm" => self.flagm = false,
                "lse" => self.lse = false,
                // LRCPC2 extends LRCPC: without one, neither.
                "lrcpc" => (self.lrcpc, self.lrcpc2) = (false, false),
                "lrcpc2" => self.lrcpc2 = false,
                "crc32" => self.crc32 = false,
                "aes" => self.aes = false,
                "pmull" => self.pmull = false,
                "afp" => self.afp = false,
                _ => tracing::warn!(feature = name, "{FEATURES_ENV}: unknown host feature"),
            }
        }
        self
    }
}
/// The ID registers Transit reads a feature field of.
#[cfg(all(target_arch = "aarch64", target_os = "linux"))]
enum IdRegister {
    /// ID_AA64ISAR0_EL1 (TS, bits 55:52: FlagM).
    Isar0,
    /// ID_AA64MMFR1_EL1 (AFP, bits 47:44).
    Mmfr1,
}

/// The 4-bit field at `shift` of an ID register.
#[cfg(all(target_arch = "aarch64", target_os = "linux"))]
fn id_field(register: IdRegister, shift: u32) -> u64 {
    let value: u64;
    // SAFETY: with HWCAP_CPUID the kernel emulates EL0 reads of the ID
    // registers; nothing else changes.
    unsafe {
        match register {
            IdRegister::Isar0 => std::arch::asm!("mrs {0}, S3_0_C0_C6_0", out(reg) value),
            IdRegister::Mmfr1 => std::arch::asm!("mrs {0}, S3_0_C0_C7_1", out(reg) value),
        }
    }
    (value >> shift) & 0xf
}

#[cfg(target_arch = "aarch64")]
/// FPCR.AH ("alternate handling", FEAT_AFP), for the calling thread.
const FPCR_AH: u64 = 1 << 1;
#[cfg(target_arch = "aarch64")]
/// FPCR.FIZ: with AH set, FZ no longer flushes denormal inputs; FIZ does.
const FPCR_FIZ: u64 = 1 << 0;

/// Sets FPCR.AH on the calling thread, where the host has FEAT_AFP:
/// translated code then gets x86's NaN results from the host's
/// arithmetic. Transit's own code runs with it too, as it does with the
/// guest's rounding mode; it never depends on a NaN's bits.
pub fn enable_x86_nan_handling(host: HostFeatures) {
    #[cfg(target_arch = "aarch64")]
    if host.afp {
        // SAFETY: only FPCR.AH changes (FEAT_AFP is present).
        unsafe {
            let mut fpcr: u64;
            std::arch::asm!("mrs {0}, fpcr", out(reg) fpcr);
            if fpcr & FPCR_AH == 0 {
                // FZ set before AH flushed inputs too: FIZ keeps that.
                fpcr |= FPCR_AH | (fpcr >> 24) & FPCR_FIZ;
                std::arch::asm!("msr fpcr, {0}", in(reg) fpcr);
            }
        }
    }
    #[cfg(not(target_arch = "aarch64"))]
    let _ = host;
}

/// AT_SECURE: Transit runs with credentials the user does not have.
pub(crate) fn secure_mode() -> bool {
    // SAFETY: getauxval only reads the process's auxiliary vector.
    unsafe { libc::getauxval(libc::AT_SECURE) != 0 }
}

/// Applies MXCSR's rounding control, and FTZ with DAZ as FZ (and FIZ,
/// which flushes inputs once FPCR.AH is set), to the host FPCR, which
/// translated SSE code computes with (generated code does the same for
/// ldmxcsr).
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
        if fpcr & FPCR_AH != 0 {
            fpcr = (fpcr & !FPCR_FIZ) | flush_to_zero;
        }
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
        let h = HostFeatures::ALL.without("-aes, -pmull,-crc32,+lse,bogus,-afp");
        assert_eq!(h, HostFeatures { aes: false, pmull: false, crc32: false, afp: false, ..HostFeatures::ALL });
    }
}
