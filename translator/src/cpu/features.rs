//! The one definition of the x86 CPU Transit presents: its x86-64 level
//! (`TRANSIT_CPU`), the CPUID leaves, AT_HWCAP/AT_HWCAP2, and which
//! instructions it has (`presents`). It must claim exactly what the
//! translator implements: a test walks iced-x86's table of every `Code`
//! against `presents` and the translator.

use super::xstate::{self, leaf_d1_eax};
use iced_x86::{Code, CpuidFeature, Mnemonic};
use std::sync::atomic::{AtomicU8, Ordering};

/// The x86-64 micro-architecture levels Transit can present (the psABI's
/// names; `TRANSIT_CPU=x86-64-v1`, or `--cpu`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum CpuLevel {
    /// The x86-64 baseline: SSE2, CMPXCHG8B, CMOV, FXSR, MMX.
    V1 = 1,
    /// x86-64-v2 (SSE3, SSSE3, SSE4.1, SSE4.2, POPCNT, CMPXCHG16B,
    /// LAHF/SAHF), plus AES-NI and PCLMULQDQ as on every x86-64-v2 CPU
    /// people run, x86-64-v3's scalar extensions (BMI1, BMI2, LZCNT,
    /// MOVBE), which need no YMM state, and XSAVE (XSAVEOPT, XSAVEC) for
    /// x87 and SSE state.
    V2 = 2,
    /// x86-64-v3 (AVX, AVX2, FMA, F16C, BMI1, BMI2, LZCNT, MOVBE, XSAVE
    /// with YMM state), plus AES-NI and PCLMULQDQ (and their VEX.128
    /// forms) as v2. AVX-512 stays absent.
    V3 = 3,
}

impl CpuLevel {
    /// What Transit presents unless told otherwise.
    pub const DEFAULT: CpuLevel = CpuLevel::V3;
    pub const ALL: [CpuLevel; 3] = [CpuLevel::V1, CpuLevel::V2, CpuLevel::V3];
    /// The most capable level: what the differential tests check.
    pub const HIGHEST: CpuLevel = CpuLevel::V3;

    pub fn name(self) -> &'static str {
        match self {
            CpuLevel::V1 => "x86-64-v1",
            CpuLevel::V2 => "x86-64-v2",
            CpuLevel::V3 => "x86-64-v3",
        }
    }

    /// Parses a level's name ("x86-64-v2"; "x86-64" and "v2" too).
    pub fn from_name(name: &str) -> Option<CpuLevel> {
        let level = name.strip_prefix("x86-64").unwrap_or(name);
        match level.trim_start_matches('-') {
            "" | "v1" => Some(CpuLevel::V1),
            "v2" => Some(CpuLevel::V2),
            "v3" => Some(CpuLevel::V3),
            _ => None,
        }
    }

    fn model(self) -> &'static CpuModel {
        match self {
            CpuLevel::V1 => &V1,
            CpuLevel::V2 => &V2,
            CpuLevel::V3 => &V3,
        }
    }
}

impl std::fmt::Display for CpuLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

static PRESENTED: AtomicU8 = AtomicU8::new(CpuLevel::DEFAULT as u8);

/// Chooses the level for the whole process, before any guest code runs.
pub fn present(level: CpuLevel) {
    PRESENTED.store(level as u8, Ordering::Relaxed);
}

/// The level this process presents.
pub fn presented() -> CpuLevel {
    match PRESENTED.load(Ordering::Relaxed) {
        2 => CpuLevel::V2,
        3 => CpuLevel::V3,
        _ => CpuLevel::V1,
    }
}

/// CPUID.1:EDX bits.
pub mod leaf1_edx {
    pub const FPU: u32 = 1 << 0;
    pub const TSC: u32 = 1 << 4;
    pub const CX8: u32 = 1 << 8;
    pub const CMOV: u32 = 1 << 15;
    pub const CLFSH: u32 = 1 << 19;
    pub const MMX: u32 = 1 << 23;
    pub const FXSR: u32 = 1 << 24;
    pub const SSE: u32 = 1 << 25;
    pub const SSE2: u32 = 1 << 26;
}

/// CPUID.1:ECX bits.
pub mod leaf1_ecx {
    pub const SSE3: u32 = 1 << 0;
    pub const PCLMULQDQ: u32 = 1 << 1;
    pub const SSSE3: u32 = 1 << 9;
    pub const FMA: u32 = 1 << 12;
    pub const CX16: u32 = 1 << 13;
    pub const SSE4_1: u32 = 1 << 19;
    pub const SSE4_2: u32 = 1 << 20;
    pub const MOVBE: u32 = 1 << 22;
    pub const POPCNT: u32 = 1 << 23;
    pub const AES: u32 = 1 << 25;
    pub const XSAVE: u32 = 1 << 26;
    /// The OS has enabled XSAVE (XGETBV works, XCR0 says which state).
    pub const OSXSAVE: u32 = 1 << 27;
    pub const AVX: u32 = 1 << 28;
    pub const F16C: u32 = 1 << 29;
    /// Running under a hypervisor (here: a translator).
    pub const HYPERVISOR: u32 = 1 << 31;
}

/// CPUID.(7,0):EBX bits.
pub mod leaf7_ebx {
    pub const BMI1: u32 = 1 << 3;
    pub const AVX2: u32 = 1 << 5;
    pub const BMI2: u32 = 1 << 8;
    pub const CLFLUSHOPT: u32 = 1 << 23;
    pub const CLWB: u32 = 1 << 24;
}

/// CPUID.(7,0):ECX bits.
pub mod leaf7_ecx {
    /// User-mode instruction prevention: sgdt, sidt, sldt, smsw and str
    /// fault in user mode and Linux answers with fixed values, as on every
    /// current x86 CPU (legacy_forms.rs).
    pub const UMIP: u32 = 1 << 2;
}

/// CPUID.80000001h bits.
pub mod ext_leaf1 {
    pub const ECX_LAHF_LM: u32 = 1 << 0;
    /// LZCNT ("ABM" in Linux's flags).
    pub const ECX_LZCNT: u32 = 1 << 5;
    /// PREFETCHW (0F 0D /1), which Transit runs as a NOP.
    pub const ECX_PRFCHW: u32 = 1 << 8;
    pub const EDX_SYSCALL: u32 = 1 << 11;
    pub const EDX_NX: u32 = 1 << 20;
    pub const EDX_LM: u32 = 1 << 29;
}

/// A set of iced `CpuidFeature`s, one bit each: `presence` asks it for
/// every instruction the translator meets.
#[derive(Clone, Copy)]
struct FeatureSet([u64; 4]);

impl FeatureSet {
    const fn of(lists: &[&[CpuidFeature]]) -> FeatureSet {
        let mut bits = [0u64; 4];
        let mut l = 0;
        while l < lists.len() {
            let mut i = 0;
            while i < lists[l].len() {
                let f = lists[l][i] as usize;
                bits[f / 64] |= 1 << (f % 64);
                i += 1;
            }
            l += 1;
        }
        FeatureSet(bits)
    }

    fn has(&self, f: CpuidFeature) -> bool {
        let f = f as usize;
        self.0[f / 64] & (1 << (f % 64)) != 0
    }
}

/// A level's feature bits, and the same features as iced-x86 names them.
struct CpuModel {
    leaf1_ecx: u32,
    leaf1_edx: u32,
    leaf7_ebx: u32,
    leaf7_ecx: u32,
    ext1_ecx: u32,
    ext1_edx: u32,
    /// The XSAVE state components (`xstate`), all enabled as Linux does.
    xcr0: u64,
    /// CPUID.(0xD, 1):EAX: XSAVEOPT, XSAVEC, XGETBV with ECX = 1.
    leaf_d1_eax: u32,
    /// Every iced `CpuidFeature` whose instructions this CPU has.
    iced: FeatureSet,
}

const V1_LEAF1_EDX: u32 = leaf1_edx::FPU
    | leaf1_edx::TSC
    | leaf1_edx::CX8
    | leaf1_edx::CMOV
    | leaf1_edx::CLFSH
    | leaf1_edx::MMX
    | leaf1_edx::FXSR
    | leaf1_edx::SSE
    | leaf1_edx::SSE2;

/// The cache-control hints every level has (Transit implements them: they
/// cost nothing and JITs and databases use them).
const HINTS_LEAF7_EBX: u32 = leaf7_ebx::CLFLUSHOPT | leaf7_ebx::CLWB;
const EXT1_EDX: u32 = ext_leaf1::EDX_SYSCALL | ext_leaf1::EDX_NX | ext_leaf1::EDX_LM;

/// iced's features of the x86-64 baseline: the 8086..486 and long-mode
/// integer instructions, x87, MMX, SSE, SSE2, and the instructions their
/// CPUID bits above announce.
const V1_ICED: &[CpuidFeature] = &[
    CpuidFeature::INTEL8086,
    CpuidFeature::INTEL186,
    CpuidFeature::INTEL286,
    CpuidFeature::INTEL386,
    CpuidFeature::INTEL486,
    CpuidFeature::X64,
    CpuidFeature::CPUID,
    CpuidFeature::CMOV,
    CpuidFeature::CX8,
    CpuidFeature::TSC,
    CpuidFeature::SYSCALL,
    CpuidFeature::MULTIBYTENOP,
    CpuidFeature::PAUSE,
    CpuidFeature::FPU,
    CpuidFeature::FPU287,
    CpuidFeature::FPU387,
    CpuidFeature::MMX,
    CpuidFeature::FXSR,
    CpuidFeature::SSE,
    CpuidFeature::SSE2,
    CpuidFeature::CLFSH,
    CpuidFeature::CLFLUSHOPT,
    CpuidFeature::CLWB,
    CpuidFeature::PREFETCHW,
];

const V2_ICED: &[CpuidFeature] = &[
    CpuidFeature::SSE3,
    CpuidFeature::SSSE3,
    CpuidFeature::SSE4_1,
    CpuidFeature::SSE4_2,
    CpuidFeature::POPCNT,
    CpuidFeature::CMPXCHG16B,
    CpuidFeature::AES,
    CpuidFeature::PCLMULQDQ,
    // x86-64-v3's general-register instructions: no YMM state and no OS
    // support (XSAVE) behind them, so they come before AVX. glibc's
    // routines that use them need AVX2 as well (memcmp-avx2-movbe,
    // strchr-avx2, ...), so its choices stay the SSE ones.
    CpuidFeature::BMI1,
    CpuidFeature::BMI2,
    CpuidFeature::LZCNT,
    CpuidFeature::MOVBE,
];

/// The XSAVE instructions (SSE-era CPUs from Sandy Bridge on have them;
/// glibc's lazy binding saves registers with XSAVEC when CPUID says so).
/// XSAVES/XRSTORS stay absent: they manage supervisor state.
const XSAVE_ICED: &[CpuidFeature] = &[CpuidFeature::XSAVE, CpuidFeature::XSAVEOPT, CpuidFeature::XSAVEC];
const XSAVE_LEAF_D1_EAX: u32 = leaf_d1_eax::XSAVEOPT | leaf_d1_eax::XSAVEC | leaf_d1_eax::XGETBV_ECX1;

static V1: CpuModel = CpuModel {
    leaf1_ecx: leaf1_ecx::HYPERVISOR,
    leaf1_edx: V1_LEAF1_EDX,
    leaf7_ebx: HINTS_LEAF7_EBX,
    leaf7_ecx: leaf7_ecx::UMIP,
    ext1_ecx: ext_leaf1::ECX_LAHF_LM | ext_leaf1::ECX_PRFCHW,
    ext1_edx: EXT1_EDX,
    xcr0: 0,
    leaf_d1_eax: 0,
    iced: FeatureSet::of(&[V1_ICED]),
};

static V2: CpuModel = CpuModel {
    leaf1_ecx: leaf1_ecx::HYPERVISOR
        | leaf1_ecx::SSE3
        | leaf1_ecx::PCLMULQDQ
        | leaf1_ecx::SSSE3
        | leaf1_ecx::CX16
        | leaf1_ecx::SSE4_1
        | leaf1_ecx::SSE4_2
        | leaf1_ecx::POPCNT
        | leaf1_ecx::AES
        | leaf1_ecx::MOVBE
        | leaf1_ecx::XSAVE
        | leaf1_ecx::OSXSAVE,
    leaf1_edx: V1_LEAF1_EDX,
    leaf7_ebx: HINTS_LEAF7_EBX | leaf7_ebx::BMI1 | leaf7_ebx::BMI2,
    leaf7_ecx: leaf7_ecx::UMIP,
    ext1_ecx: ext_leaf1::ECX_LAHF_LM | ext_leaf1::ECX_PRFCHW | ext_leaf1::ECX_LZCNT,
    ext1_edx: EXT1_EDX,
    xcr0: xstate::X87 | xstate::SSE,
    leaf_d1_eax: XSAVE_LEAF_D1_EAX,
    iced: FeatureSet::of(&[V1_ICED, V2_ICED, XSAVE_ICED]),
};

const V3_ICED: &[CpuidFeature] = &[
    CpuidFeature::AVX,
    CpuidFeature::AVX2,
    CpuidFeature::FMA,
    CpuidFeature::F16C,
];

static V3: CpuModel = CpuModel {
    leaf1_ecx: V2.leaf1_ecx
        | leaf1_ecx::FMA
        | leaf1_ecx::AVX
        | leaf1_ecx::F16C,
    leaf1_edx: V1_LEAF1_EDX,
    leaf7_ebx: V2.leaf7_ebx | leaf7_ebx::AVX2,
    leaf7_ecx: leaf7_ecx::UMIP,
    ext1_ecx: V2.ext1_ecx,
    ext1_edx: EXT1_EDX,
    xcr0: V2.xcr0 | xstate::AVX,
    leaf_d1_eax: XSAVE_LEAF_D1_EAX,
    iced: FeatureSet::of(&[V1_ICED, V2_ICED, XSAVE_ICED, V3_ICED]),
};

/// The vendor leaf says GenuineIntel because glibc reads CPUID leaf 1 (the
/// feature bits, and so the ISA level its own libraries require) only for
/// Intel, AMD and Zhaoxin: with any other vendor, dynamically linked glibc
/// programs stop with "CPU ISA level is lower than required". FEX and
/// Rosetta do the same. Transit says what it is where software looks for
/// that: the hypervisor bit and leaf 0x40000000, and the brand string.
/// Where Intel and AMD define a result differently, Transit follows Intel.
pub const VENDOR: &[u8; 12] = b"GenuineIntel";
/// Hypervisor vendor (leaf 0x40000000), EBX-ECX-EDX order.
pub const HYPERVISOR: &[u8; 12] = b"TransitVCPU ";
pub const BRAND: &[u8; 48] = b"Transit x86-64 translator on aarch64\0\0\0\0\0\0\0\0\0\0\0\0";

/// Leaf 0xD describes XSAVE state; leaves 8 to 0xC read as zero.
const MAX_BASIC_LEAF: u32 = 0xd;
const MAX_EXT_LEAF: u32 = 0x8000_0008;

/// `cpuid` with EAX=leaf, ECX=subleaf on the presented CPU.
pub fn cpuid(leaf: u32, subleaf: u32) -> (u32, u32, u32, u32) {
    cpuid_of(presented(), leaf, subleaf)
}

/// `cpuid` on the CPU of `level`: returns (eax, ebx, ecx, edx).
pub fn cpuid_of(level: CpuLevel, leaf: u32, subleaf: u32) -> (u32, u32, u32, u32) {
    let m = level.model();
    let word = |b: &[u8], i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
    match leaf {
        0 => (MAX_BASIC_LEAF, word(VENDOR, 0), word(VENDOR, 8), word(VENDOR, 4)),
        // Family 6, model 0, stepping 0; CLFLUSH line size 8 qwords; one logical CPU.
        1 => (0x0000_0600, (8 << 8) | (1 << 16), m.leaf1_ecx, m.leaf1_edx),
        // Subleaf 0 reports the highest subleaf (0) and the features.
        // Descriptor 0xFF: the caches are described by leaf 4.
        2 => (0x0000_ff01, 0, 0, 0),
        4 => CACHES.get(subleaf as usize).map_or((0, 0, 0, 0), Cache::leaf4),
        7 if subleaf == 0 => (0, m.leaf7_ebx, m.leaf7_ecx, 0),
        0xd => xstate::cpuid_leaf_d(m.xcr0, m.leaf_d1_eax, subleaf),
        0x4000_0000 => (0x4000_0000, word(HYPERVISOR, 0), word(HYPERVISOR, 4), word(HYPERVISOR, 8)),
        0x8000_0000 => (MAX_EXT_LEAF, 0, 0, 0),
        0x8000_0001 => (0, 0, m.ext1_ecx, m.ext1_edx),
        0x8000_0002..=0x8000_0004 => {
            let o = (leaf - 0x8000_0002) as usize * 16;
            (word(BRAND, o), word(BRAND, o + 4), word(BRAND, o + 8), word(BRAND, o + 12))
        }
        // L2: size in KiB, associativity (AMD's code 8: 16 ways), line size.
        0x8000_0006 => (0, 0, (CACHES[2].size() / 1024) << 16 | 8 << 12 | CACHES[2].line, 0),
        // 46 bits physical, 48 bits virtual: x86_64's four-level paging.
        0x8000_0008 => (48 << 8 | 46, 0, 0, 0),
        // Leaves up to the maximum that Transit has no features in read as zero,
        // as do leaves above the maximum on Intel parts.
        _ => (0, 0, 0, 0),
    }
}

/// One cache of the presented CPU, as CPUID leaf 4 describes it.
struct Cache {
    level: u32,
    /// 1 data, 2 instruction, 3 unified.
    kind: u32,
    ways: u32,
    line: u32,
    sets: u32,
}

/// The presented caches: a common x86 server core's sizes (L1 32 KiB
/// each, L2 1 MiB, L3 8 MiB), fixed whatever the host, so that programs
/// that size their work by the caches (glibc's memcpy thresholds, BLAS
/// blocking) see a CPU with caches and behave alike on every host. Without
/// them glibc took every copy above 16 KiB as non-temporal and OpenBLAS
/// warned that it could not find the L2 size.
const CACHES: [Cache; 4] = [
    Cache { level: 1, kind: 1, ways: 8, line: 64, sets: 64 },
    Cache { level: 1, kind: 2, ways: 8, line: 64, sets: 64 },
    Cache { level: 2, kind: 3, ways: 16, line: 64, sets: 1024 },
    Cache { level: 3, kind: 3, ways: 16, line: 64, sets: 8192 },
];

impl Cache {
    fn size(&self) -> u32 {
        self.ways * self.line * self.sets
    }

    /// Leaf 4: type, level, self-initialising (bit 8), one logical
    /// processor sharing it; ways, partitions and line size minus one;
    /// sets minus one; the L3 inclusive of the others.
    fn leaf4(&self) -> (u32, u32, u32, u32) {
        let eax = self.kind | self.level << 5 | 1 << 8;
        let ebx = (self.ways - 1) << 22 | (self.line - 1);
        (eax, ebx, self.sets - 1, u32::from(self.level == 3) << 1)
    }
}

/// XCR0 of the presented CPU: the XSAVE state components (0 without XSAVE).
pub fn xcr0() -> u64 {
    presented().model().xcr0
}

/// AT_HWCAP for x86_64 is CPUID.1:EDX.
pub fn at_hwcap() -> u64 {
    presented().model().leaf1_edx as u64
}

/// AT_HWCAP2: no FSGSBASE, no ring3mwait.
pub const fn at_hwcap2() -> u64 {
    0
}

/// How the presented CPU executes an instruction form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// The CPU has it: the translator must implement it.
    Has,
    /// The CPU lacks the feature, but the encoding sits in space that CPUs
    /// without it execute as a NOP: the hint-NOP opcodes 0F 18-0F 1F
    /// (endbr64, rdssp, cldemote, MPX's bnd*: SDM "NOP"; CET's spec relies
    /// on it). The other shadow-stack instructions (incssp, saveprevssp,
    /// ...) are #UD while shadow stacks are off, as current CPUs do.
    Nop,
    /// The CPU lacks the feature, and there the encoding is an older
    /// instruction with an ignored REP prefix: tzcnt is bsf, lzcnt is bsr
    /// (x86-64-v1).
    AsOlder,
    /// The CPU lacks it: #UD, SIGILL.
    Lacks,
}

/// How the CPU of `level` executes `code`.
pub fn presence(level: CpuLevel, code: Code) -> Presence {
    let has = level.model().iced;
    if code.cpuid_features().iter().all(|&f| has.has(f)) {
        return Presence::Has;
    }
    match code.mnemonic() {
        Mnemonic::Tzcnt | Mnemonic::Lzcnt => Presence::AsOlder,
        m if HINT_NOP_MNEMONICS.contains(&m) => Presence::Nop,
        _ => Presence::Lacks,
    }
}

/// The instructions of features Transit does not present whose encodings
/// sit in the hint-NOP space 0F 18-0F 1F (a test checks the list against
/// iced's opcode table, which costs millions of instructions to build, so
/// translation asks this list instead).
const HINT_NOP_MNEMONICS: &[Mnemonic] = &[
    Mnemonic::Endbr32,
    Mnemonic::Endbr64,
    Mnemonic::Rdsspd,
    Mnemonic::Rdsspq,
    Mnemonic::Cldemote,
    Mnemonic::Prefetchit0,
    Mnemonic::Prefetchit1,
    Mnemonic::Bndcl,
    Mnemonic::Bndcn,
    Mnemonic::Bndcu,
    Mnemonic::Bndldx,
    Mnemonic::Bndmk,
    Mnemonic::Bndmov,
    Mnemonic::Bndstx,
];

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

    /// Leaf 4 decoded as glibc's `handle_intel` and OpenBLAS do, leaf
    /// 0x80000006 as AMD-style readers do: the same caches.
    #[test]
    fn cache_leaves_describe_the_presented_caches() {
        let size = |subleaf| {
            let (eax, ebx, ecx, _) = cpuid(4, subleaf);
            let kib = ((ebx >> 22) + 1) * (((ebx >> 12) & 0x3ff) + 1) * ((ebx & 0xfff) + 1) * (ecx + 1) / 1024;
            ((eax >> 5) & 7, eax & 31, kib)
        };
        assert_eq!([size(0), size(1), size(2), size(3)], [(1, 1, 32), (1, 2, 32), (2, 3, 1024), (3, 3, 8192)]);
        assert_eq!(cpuid(4, 4).0 & 31, 0, "no fifth cache");
        assert_eq!(cpuid(0x8000_0006, 0).2 >> 16, 1024);
        assert_eq!(cpuid(2, 0).0 & 0xff00, 0xff00, "leaf 2 defers to leaf 4");
        assert!(cpuid(0x8000_0000, 0).0 >= 0x8000_0008);
        assert_eq!(cpuid(0x8000_0008, 0).0 & 0xffff, 0x302e);
    }

    #[test]
    fn hwcap_matches_leaf1() {
        assert_eq!(at_hwcap() as u32, cpuid(1, 0).3);
    }

    #[test]
    fn v1_has_nothing_in_leaf1_ecx_but_the_hypervisor_bit() {
        assert_eq!(cpuid_of(CpuLevel::V1, 1, 0).2, leaf1_ecx::HYPERVISOR);
    }

    /// The psABI's x86-64-v2 list, as glibc's `dl-hwcaps` checks it.
    #[test]
    fn v2_reports_every_bit_of_the_level() {
        let ecx = cpuid_of(CpuLevel::V2, 1, 0).2;
        use leaf1_ecx::*;
        for bit in [SSE3, SSSE3, SSE4_1, SSE4_2, POPCNT, CX16, AES, PCLMULQDQ] {
            assert_ne!(ecx & bit, 0, "{bit:#x}");
        }
        assert_ne!(cpuid_of(CpuLevel::V2, 0x8000_0001, 0).2 & ext_leaf1::ECX_LAHF_LM, 0);
    }

    /// x86-64-v3's scalar extensions are in the default CPU, its vector
    /// ones are not; x86-64-v1 stays the bare baseline.
    #[test]
    fn v2_has_the_scalar_v3_extensions_and_no_avx() {
        let bmi = |level| {
            let (leaf1, leaf7, ext1) = (cpuid_of(level, 1, 0).2, cpuid_of(level, 7, 0).1, cpuid_of(level, 0x8000_0001, 0).2);
            [
                leaf1 & leaf1_ecx::MOVBE,
                leaf7 & leaf7_ebx::BMI1,
                leaf7 & leaf7_ebx::BMI2,
                ext1 & ext_leaf1::ECX_LZCNT,
            ]
            .map(|bit| bit != 0)
        };
        assert_eq!(bmi(CpuLevel::V2), [true; 4]);
        assert_eq!(bmi(CpuLevel::V1), [false; 4]);
        // OSXSAVE is set (XSAVE for x87 and SSE state), AVX is not.
        assert_eq!(cpuid_of(CpuLevel::V2, 1, 0).2 & (leaf1_ecx::AVX | leaf1_ecx::FMA | leaf1_ecx::F16C), 0);
        assert_eq!(cpuid_of(CpuLevel::V2, 7, 0).1 & leaf7_ebx::AVX2, 0);
        for code in [Code::VEX_Andn_r64_r64_rm64, Code::Tzcnt_r16_rm16, Code::Lzcnt_r32_rm32, Code::VEX_Pdep_r64_r64_rm64, Code::Movbe_m64_r64] {
            assert_eq!(presence(CpuLevel::V2, code), Presence::Has, "{code:?}");
            assert_ne!(presence(CpuLevel::V1, code), Presence::Has, "{code:?}");
        }
        assert_eq!(presence(CpuLevel::V2, Code::VEX_Vpaddd_ymm_ymm_ymmm256), Presence::Lacks);
    }

    /// Every CPUID bit and iced feature agree: an instruction is present
    /// exactly when its CPUID bit says so.
    #[test]
    fn presence_follows_the_reported_bits() {
        for level in CpuLevel::ALL {
            let ecx = cpuid_of(level, 1, 0).2;
            let has_v2 = ecx & leaf1_ecx::SSE4_2 != 0;
            for code in [Code::Popcnt_r32_rm32, Code::Pshufb_xmm_xmmm128, Code::Crc32_r32_rm8, Code::Aesenc_xmm_xmmm128] {
                assert_eq!(presence(level, code) == Presence::Has, has_v2, "{level} {code:?}");
            }
            assert_eq!(presence(level, Code::Addps_xmm_xmmm128), Presence::Has);
            assert_eq!(presence(level, Code::Clflush_m8), Presence::Has);
            assert_ne!(cpuid_of(level, 1, 0).3 & leaf1_edx::CLFSH, 0);
        }
    }

    /// XSAVE at x86-64-v2 and up, with the bits CPUID reports for it:
    /// OSXSAVE, leaf 0xD's components and instructions; none at v1.
    #[test]
    fn xsave_follows_leaf_1_and_leaf_0xd() {
        for level in [CpuLevel::V1, CpuLevel::V2, CpuLevel::V3] {
            let has = cpuid_of(level, 1, 0).2 & leaf1_ecx::XSAVE != 0;
            assert_eq!(has, level >= CpuLevel::V2);
            assert_eq!(cpuid_of(level, 1, 0).2 & leaf1_ecx::OSXSAVE != 0, has);
            assert_eq!(cpuid_of(level, 0, 0).0, 0xd);
            let d1 = cpuid_of(level, 0xd, 1).0;
            assert_eq!(cpuid_of(level, 0xd, 0).0 != 0, has);
            for (code, bit) in [
                (Code::Xgetbv, 0),
                (Code::Xsave64_mem, 0),
                (Code::Xrstor_mem, 0),
                (Code::Xsaveopt64_mem, leaf_d1_eax::XSAVEOPT),
                (Code::Xsavec64_mem, leaf_d1_eax::XSAVEC),
            ] {
                let reported = has && (bit == 0 || d1 & bit != 0);
                assert_eq!(presence(level, code) == Presence::Has, reported, "{level} {code:?}");
            }
            // XSAVES (bit 3) is not reported, and its instructions are #UD.
            assert_eq!(d1 & 8, 0);
            assert_eq!(presence(level, Code::Xrstors64_mem), Presence::Lacks);
            // AVX's state exactly where CPUID.1 reports AVX.
            let avx = cpuid_of(level, 1, 0).2 & leaf1_ecx::AVX != 0;
            assert_eq!(cpuid_of(level, 0xd, 0).0 & 4 != 0, avx, "{level}");
        }
        for leaf in 8..0xd {
            assert_eq!(cpuid_of(CpuLevel::V2, leaf, 0), (0, 0, 0, 0));
        }
    }

    #[test]
    fn cet_and_other_hints_are_nops_without_their_feature() {
        for code in [Code::Endbr64, Code::Rdsspq_r64, Code::Cldemote_m8, Code::Bndcl_bnd_rm64] {
            assert_eq!(presence(CpuLevel::V2, code), Presence::Nop, "{code:?}");
        }
        assert_eq!(presence(CpuLevel::V1, Code::Tzcnt_r32_rm32), Presence::AsOlder);
        assert_eq!(presence(CpuLevel::V1, Code::Lzcnt_r64_rm64), Presence::AsOlder);
        assert_eq!(presence(CpuLevel::V1, Code::Movbe_r32_m32), Presence::Lacks);
        for code in [Code::Incsspq_r64, Code::Saveprevssp, Code::Setssbsy, Code::Rdtscp, Code::Xsaves_mem] {
            assert_eq!(presence(CpuLevel::V2, code), Presence::Lacks, "{code:?}");
        }
    }

    #[test]
    fn hint_nop_mnemonics_are_exactly_the_absent_forms_in_0f18_to_0f1f() {
        use iced_x86::{EncodingKind, OpCodeTableKind};
        for code in Code::values() {
            let op = code.op_code();
            if !op.is_instruction() || !op.mode64() || op.encoding() != EncodingKind::Legacy {
                continue;
            }
            // The first opcode byte after 0F (endbr64's 1E FA is two bytes long).
            let first_byte = op.op_code() >> (8 * (op.op_code_len() - 1));
            let in_space = op.table() == OpCodeTableKind::T0F && (0x18..=0x1f).contains(&first_byte);
            let absent = !code.cpuid_features().iter().all(|&f| V2.iced.has(f));
            if absent {
                assert_eq!(in_space, HINT_NOP_MNEMONICS.contains(&code.mnemonic()), "{code:?}");
            }
        }
    }

    #[test]
    fn every_iced_feature_fits_the_set() {
        assert!(CpuidFeature::values().all(|f| (f as usize) < 256));
        let set = FeatureSet::of(&[V1_ICED]);
        assert!(CpuidFeature::values().all(|f| set.has(f) == V1_ICED.contains(&f)));
    }

    #[test]
    fn levels_parse_by_their_names() {
        for level in CpuLevel::ALL {
            assert_eq!(CpuLevel::from_name(level.name()), Some(level));
        }
        assert_eq!(CpuLevel::from_name("v2"), Some(CpuLevel::V2));
        assert_eq!(CpuLevel::from_name("x86-64-v4"), None);
    }
}
