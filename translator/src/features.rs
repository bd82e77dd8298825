//! The one definition of the x86 CPU Transit presents: CPUID leaves and the
//! AT_HWCAP/AT_HWCAP2 values derived from them. It must claim exactly what the
//! translator implements (x86-64-v1 baseline today).

/// CPUID.1:EDX bits Transit implements.
pub mod leaf1_edx {
    pub const FPU: u32 = 1 << 0;
    pub const TSC: u32 = 1 << 4;
    pub const CX8: u32 = 1 << 8;
    pub const CMOV: u32 = 1 << 15;
    pub const MMX: u32 = 1 << 23;
    pub const FXSR: u32 = 1 << 24;
    pub const SSE: u32 = 1 << 25;
    pub const SSE2: u32 = 1 << 26;
}

/// CPUID.80000001h bits.
pub mod ext_leaf1 {
    pub const ECX_LAHF_LM: u32 = 1 << 0;
    pub const EDX_SYSCALL: u32 = 1 << 11;
    pub const EDX_NX: u32 = 1 << 20;
    pub const EDX_LM: u32 = 1 << 29;
}

/// The vendor leaf says GenuineIntel because glibc reads CPUID leaf 1 (the
/// feature bits, and so the ISA level its own libraries require) only for
/// Intel, AMD and Zhaoxin: with any other vendor, dynamically linked glibc
/// programs stop with "CPU ISA level is lower than required". FEX and
/// Rosetta do the same. Transit says what it is where software looks for
/// that: the hypervisor bit and leaf 0x40000000, and the brand string.
pub const VENDOR: &[u8; 12] = b"GenuineIntel";
/// Hypervisor vendor (leaf 0x40000000), EBX-ECX-EDX order.
pub const HYPERVISOR: &[u8; 12] = b"TransitVCPU ";
pub const BRAND: &[u8; 48] = b"Transit x86-64 translator on aarch64\0\0\0\0\0\0\0\0\0\0\0\0";

const MAX_BASIC_LEAF: u32 = 7;
const MAX_EXT_LEAF: u32 = 0x8000_0004;
/// CPUID.1:ECX bit 31: running under a hypervisor (here: a translator).
const ECX_HYPERVISOR: u32 = 1 << 31;

/// The x86-64 baseline (x86-64-v1) that glibc's libraries require.
pub const LEAF1_EDX: u32 = leaf1_edx::FPU
    | leaf1_edx::TSC
    | leaf1_edx::CX8
    | leaf1_edx::CMOV
    | leaf1_edx::MMX
    | leaf1_edx::FXSR
    | leaf1_edx::SSE
    | leaf1_edx::SSE2;

/// `cpuid` with EAX=leaf, ECX=subleaf: returns (eax, ebx, ecx, edx).
pub fn cpuid(leaf: u32, _subleaf: u32) -> (u32, u32, u32, u32) {
    let word = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    match leaf {
        0 => (MAX_BASIC_LEAF, word(VENDOR, 0), word(VENDOR, 8), word(VENDOR, 4)),
        // Family 6, model 0, stepping 0; CLFLUSH line size 8 qwords; one logical CPU.
        1 => (0x0000_0600, (8 << 8) | (1 << 16), ECX_HYPERVISOR, LEAF1_EDX),
        0x4000_0000 => (0x4000_0000, word(HYPERVISOR, 0), word(HYPERVISOR, 4), word(HYPERVISOR, 8)),
        0x8000_0000 => (MAX_EXT_LEAF, 0, 0, 0),
        0x8000_0001 => (
            0,
            0,
            ext_leaf1::ECX_LAHF_LM,
            ext_leaf1::EDX_SYSCALL | ext_leaf1::EDX_NX | ext_leaf1::EDX_LM,
        ),
        0x8000_0002..=0x8000_0004 => {
            let o = (leaf - 0x8000_0002) as usize * 16;
            (word(BRAND, o), word(BRAND, o + 4), word(BRAND, o + 8), word(BRAND, o + 12))
        }
        // Leaves up to the maximum that Transit has no features in read as zero,
        // as do leaves above the maximum on Intel parts.
        _ => (0, 0, 0, 0),
    }
}

/// AT_HWCAP for x86_64 is CPUID.1:EDX.
pub const fn at_hwcap() -> u64 {
    LEAF1_EDX as u64
}

/// AT_HWCAP2: no FSGSBASE, no ring3mwait.
pub const fn at_hwcap2() -> u64 {
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypervisor_leaf_names_transit() {
        let (max, b, c, d) = cpuid(0x4000_0000, 0);
        assert_eq!(max, 0x4000_0000);
        let mut s = Vec::new();
        for r in [b, c, d] {
            s.extend_from_slice(&r.to_le_bytes());
        }
        assert_eq!(&s, HYPERVISOR);
    }

    #[test]
    fn vendor_reads_in_ebx_edx_ecx_order() {
        let (_, b, c, d) = cpuid(0, 0);
        let mut s = Vec::new();
        for r in [b, d, c] {
            s.extend_from_slice(&r.to_le_bytes());
        }
        assert_eq!(&s, VENDOR);
    }

    #[test]
    fn hwcap_matches_leaf1() {
        assert_eq!(at_hwcap() as u32, cpuid(1, 0).3);
        assert!(cpuid(1, 0).2 & 1 == 0, "no SSE3 claimed");
        assert_eq!(cpuid(1, 0).2, ECX_HYPERVISOR, "nothing in ECX but the hypervisor bit");

    }
}
