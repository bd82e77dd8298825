//! `/proc/cpuinfo` of the CPU the guest's CPUID describes
//! (translator/src/features.rs), in the x86 kernel's format
//! (arch/x86/kernel/cpu/proc.c): one block per online host CPU, the
//! family, model, brand string, flags, CLFLUSH size and address sizes
//! decoded from CPUID as the kernel decodes them, so the two cannot
//! disagree. What CPUID does not say comes from the host: the frequency
//! rdtsc counts at, the last-level cache size, BogoMIPS.

use std::fmt::Write;

/// `cpuid(leaf, subleaf) -> (eax, ebx, ecx, edx)`.
pub(crate) type CpuidFn = fn(u32, u32) -> (u32, u32, u32, u32);

#[derive(Debug, Clone, Copy)]
enum Reg {
    Eax,
    Ebx,
    Ecx,
    Edx,
}

/// One CPUID register of feature bits and the names the kernel shows for
/// them in `flags` (arch/x86/include/asm/cpufeatures.h; "" for bits it
/// hides or does not define).
struct FlagWord {
    leaf: u32,
    subleaf: u32,
    reg: Reg,
    names: [&'static str; 32],
}

/// In the kernel's word order, which is the order of the `flags` line.
#[rustfmt::skip]
const FLAG_WORDS: &[FlagWord] = &[
    // Word 0: CPUID.1:EDX.
    FlagWord { leaf: 1, subleaf: 0, reg: Reg::Edx, names: [
        "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce",
        "cx8", "apic", "", "sep", "mtrr", "pge", "mca", "cmov",
        "pat", "pse36", "pn", "clflush", "", "dts", "acpi", "mmx",
        "fxsr", "sse", "sse2", "ss", "ht", "tm", "ia64", "pbe",
    ] },
    // Word 1: CPUID.80000001h:EDX, without the bits that repeat word 0.
    FlagWord { leaf: 0x8000_0001, subleaf: 0, reg: Reg::Edx, names: [
        "", "", "", "", "", "", "", "",
        "", "", "", "syscall", "", "", "", "",
        "", "", "", "mp", "nx", "", "mmxext", "",
        "", "fxsr_opt", "pdpe1gb", "rdtscp", "", "lm", "3dnowext", "3dnow",
    ] },
    // Word 4: CPUID.1:ECX (OSXSAVE is hidden).
    FlagWord { leaf: 1, subleaf: 0, reg: Reg::Ecx, names: [
        "pni", "pclmulqdq", "dtes64", "monitor", "ds_cpl", "vmx", "smx", "est",
        "tm2", "ssse3", "cid", "sdbg", "fma", "cx16", "xtpr", "pdcm",
        "", "pcid", "dca", "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt",
        "tsc_deadline_timer", "aes", "xsave", "", "avx", "f16c", "rdrand", "hypervisor",
    ] },
    // Word 6: CPUID.80000001h:ECX.
    FlagWord { leaf: 0x8000_0001, subleaf: 0, reg: Reg::Ecx, names: [
        "lahf_lm", "cmp_legacy", "svm", "extapic", "cr8_legacy", "abm", "sse4a", "misalignsse",
        "3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt", "", "lwp",
        "fma4", "tce", "", "nodeid_msr", "", "tbm", "topoext", "perfctr_core",
        "perfctr_nb", "", "bpext", "ptsc", "perfctr_llc", "mwaitx", "", "",
    ] },
    // Word 9: CPUID.(7,0):EBX.
    FlagWord { leaf: 7, subleaf: 0, reg: Reg::Ebx, names: [
        "fsgsbase", "tsc_adjust", "sgx", "bmi1", "hle", "avx2", "", "smep",
        "bmi2", "erms", "invpcid", "rtm", "cqm", "", "mpx", "rdt_a",
        "avx512f", "avx512dq", "rdseed", "adx", "smap", "avx512ifma", "", "clflushopt",
        "clwb", "intel_pt", "avx512pf", "avx512er", "avx512cd", "sha_ni", "avx512bw", "avx512vl",
    ] },
    // Word 10: CPUID.(0xD,1):EAX, the XSAVE instructions.
    FlagWord { leaf: 0xd, subleaf: 1, reg: Reg::Eax, names: [
        "xsaveopt", "xsavec", "xgetbv1", "xsaves", "xfd", "", "", "",
        "", "", "", "", "", "", "", "",
        "", "", "", "", "", "", "", "",
        "", "", "", "", "", "", "", "",
    ] },
    // Word 16: CPUID.(7,0):ECX.
    FlagWord { leaf: 7, subleaf: 0, reg: Reg::Ecx, names: [
        "", "avx512vbmi", "umip", "pku", "ospke", "waitpkg", "avx512_vbmi2", "",
        "gfni", "vaes", "vpclmulqdq", "avx512_vnni", "avx512_bitalg", "tme", "avx512_vpopcntdq", "",
        "la57", "", "", "", "", "", "rdpid", "",
        "bus_lock_detect", "cldemote", "", "movdiri", "movdir64b", "enqcmd", "sgx_lc", "",
    ] },
    // Word 18: CPUID.(7,0):EDX.
    FlagWord { leaf: 7, subleaf: 0, reg: Reg::Edx, names: [
        "", "", "avx512_4vnniw", "avx512_4fmaps", "fsrm", "", "", "",
        "avx512_vp2intersect", "", "md_clear", "", "", "", "serialize", "",
        "tsxldtrk", "", "pconfig", "arch_lbr", "ibt", "", "amx_bf16", "avx512_fp16",
        "amx_tile", "amx_int8", "", "", "flush_l1d", "arch_capabilities", "", "",
    ] },
];

/// The value of `word`'s register, or `None` if CPUID does not have its leaf.
fn word_bits(cpuid: CpuidFn, word: &FlagWord) -> Option<u32> {
    let max = cpuid(word.leaf & 0x8000_0000, 0).0;
    if word.leaf > max {
        return None;
    }
    let (eax, ebx, ecx, edx) = cpuid(word.leaf, word.subleaf);
    Some(match word.reg {
        Reg::Eax => eax,
        Reg::Ebx => ebx,
        Reg::Ecx => ecx,
        Reg::Edx => edx,
    })
}

/// The `flags` line's names, in order.
fn flags(cpuid: CpuidFn) -> Vec<&'static str> {
    FLAG_WORDS
        .iter()
        .filter_map(|word| Some((word, word_bits(cpuid, word)?)))
        .flat_map(|(word, bits)| {
            (0..32)
                .filter(move |b| bits & (1 << b) != 0)
                .map(|b| word.names[b])
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// Family, model and stepping from CPUID.1:EAX, extended fields included
/// as the kernel adds them (arch/x86/lib/cpu.c).
fn signature(eax: u32) -> (u32, u32, u32) {
    let mut family = (eax >> 8) & 0xf;
    if family == 0xf {
        family += (eax >> 20) & 0xff;
    }
    let mut model = (eax >> 4) & 0xf;
    if family >= 6 {
        model += ((eax >> 16) & 0xf) << 4;
    }
    (family, model, eax & 0xf)
}

fn le_bytes(regs: &[u32]) -> Vec<u8> {
    regs.iter().flat_map(|r| r.to_le_bytes()).collect()
}

/// The brand string (CPUID 80000002h-80000004h), trimmed as the kernel does.
fn model_name(cpuid: CpuidFn) -> String {
    if cpuid(0x8000_0000, 0).0 < 0x8000_0004 {
        return "unknown".into();
    }
    let regs: Vec<u32> = (0x8000_0002..=0x8000_0004)
        .flat_map(|leaf| {
            let (a, b, c, d) = cpuid(leaf, 0);
            [a, b, c, d]
        })
        .collect();
    let bytes = le_bytes(&regs);
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).trim().to_string()
}

/// The physical and virtual address widths in bits: CPUID 80000008h, or
/// the x86_64 kernel's defaults without it (get_cpu_address_sizes).
fn address_sizes(cpuid: CpuidFn) -> (u32, u32) {
    if cpuid(0x8000_0000, 0).0 < 0x8000_0008 {
        return (36, 48);
    }
    let eax = cpuid(0x8000_0008, 0).0;
    (eax & 0xff, (eax >> 8) & 0xff)
}

/// The revision the kernel reads from MSR IA32_BIOS_SIGN_ID; a virtual CPU
/// without microcode updates reads 0x1 (as KVM guests show).
const MICROCODE: u32 = 0x1;

/// What the host tells about the CPUs, for the lines CPUID does not fill.
pub(crate) struct HostFacts {
    /// The rate rdtsc counts at, in kHz (the "cpu MHz" a TSC-calibrated
    /// kernel shows): rdtsc reads the host's virtual counter.
    pub(crate) tsc_khz: u64,
    /// The last-level cache, in KiB ("cache size", absent when unknown,
    /// as the kernel leaves it out).
    pub(crate) cache_kib: Option<u64>,
    pub(crate) bogomips: String,
}

impl HostFacts {
    pub(crate) fn of_host() -> HostFacts {
        HostFacts {
            tsc_khz: counter_frequency_hz() / 1000,
            cache_kib: last_level_cache_kib(),
            bogomips: host_bogomips().unwrap_or_else(|| "0.00".into()),
        }
    }
}

/// `/proc/cpuinfo` for the CPUs numbered `cpus`.
pub(crate) fn cpuinfo_text(cpuid: CpuidFn, cpus: &[u32], host: &HostFacts) -> String {
    let (max_leaf, vb, vc, vd) = cpuid(0, 0);
    let vendor = String::from_utf8_lossy(&le_bytes(&[vb, vd, vc])).into_owned();
    let (eax1, ebx1, _, _) = cpuid(1, 0);
    let (family, model, stepping) = signature(eax1);
    let clflush = ((ebx1 >> 8) & 0xff) * 8;
    let name = model_name(cpuid);
    let flags = flags(cpuid).join(" ");
    let (physical_bits, virtual_bits) = address_sizes(cpuid);
    let mhz = format!("{}.{:03}", host.tsc_khz / 1000, host.tsc_khz % 1000);
    let cache = host
        .cache_kib
        .map_or_else(String::new, |kib| format!("cache size\t: {kib} KB\n"));
    let bogomips = &host.bogomips;
    let count = cpus.len();
    let mut out = String::new();
    for (core, cpu) in cpus.iter().enumerate() {
        // Infallible: writing to a String.
        let _ = write!(
            out,
            "processor\t: {cpu}\n\
             vendor_id\t: {vendor}\n\
             cpu family\t: {family}\n\
             model\t\t: {model}\n\
             model name\t: {name}\n\
             stepping\t: {stepping}\n\
             microcode\t: {MICROCODE:#x}\n\
             cpu MHz\t\t: {mhz}\n\
             {cache}\
             physical id\t: 0\n\
             siblings\t: {count}\n\
             core id\t\t: {core}\n\
             cpu cores\t: {count}\n\
             apicid\t\t: {cpu}\n\
             initial apicid\t: {cpu}\n\
             fpu\t\t: yes\n\
             fpu_exception\t: yes\n\
             cpuid level\t: {max_leaf}\n\
             wp\t\t: yes\n\
             flags\t\t: {flags}\n\
             bugs\t\t:\n\
             bogomips\t: {bogomips}\n\
             clflush size\t: {clflush}\n\
             cache_alignment\t: {clflush}\n\
             address sizes\t: {physical_bits} bits physical, {virtual_bits} bits virtual\n\
             power management:\n\n"
        );
    }
    out
}

/// CNTFRQ_EL0, the frequency of the counter rdtsc reads.
#[cfg(target_arch = "aarch64")]
fn counter_frequency_hz() -> u64 {
    let hz: u64;
    // SAFETY: reads a register EL0 may always read; no memory is touched.
    unsafe { std::arch::asm!("mrs {}, cntfrq_el0", out(reg) hz, options(nomem, nostack)) };
    hz
}

/// Elsewhere (only unit tests build this crate for other hosts): none.
#[cfg(not(target_arch = "aarch64"))]
fn counter_frequency_hz() -> u64 {
    0
}

/// The size of the host's highest-level cache (the kernel shows L3, else
/// L2), from sysfs: "2048K" in /sys/devices/system/cpu/cpu0/cache/index*/size.
fn last_level_cache_kib() -> Option<u64> {
    let dir = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache").ok()?;
    dir.filter_map(|entry| {
        let path = entry.ok()?.path();
        let level: u32 = std::fs::read_to_string(path.join("level")).ok()?.trim().parse().ok()?;
        let size = parse_cache_size(std::fs::read_to_string(path.join("size")).ok()?.trim())?;
        Some((level, size))
    })
    .max()
    .map(|(_, size)| size)
}

/// "48K", "2048K" or "32M" in KiB.
fn parse_cache_size(text: &str) -> Option<u64> {
    let (digits, scale) = match text.as_bytes().last()? {
        b'K' => (&text[..text.len() - 1], 1),
        b'M' => (&text[..text.len() - 1], 1024),
        _ => (text, 1),
    };
    Some(digits.parse::<u64>().ok()? * scale)
}

/// The host's BogoMIPS (a calibration figure without meaning across
/// architectures; some programs expect the line).
fn host_bogomips() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find(|line| line.to_ascii_lowercase().starts_with("bogomips"))
        .and_then(|line| line.split_once(':'))
        .map(|(_, value)| value.trim().to_string())
}

/// The online host CPUs (`/sys/devices/system/cpu/online`, e.g. "0-3,6"),
/// which is also what the guest's sysconf(_SC_NPROCESSORS_ONLN) counts.
pub(crate) fn online_cpus() -> Vec<u32> {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|list| parse_cpu_list(list.trim()))
        .unwrap_or_else(|| {
            let n = std::thread::available_parallelism().map_or(1, |n| n.get());
            (0..n as u32).collect()
        })
}

fn parse_cpu_list(list: &str) -> Option<Vec<u32>> {
    let mut cpus = Vec::new();
    for range in list.split(',') {
        let (lo, hi) = range.split_once('-').unwrap_or((range, range));
        cpus.extend(lo.parse::<u32>().ok()?..=hi.parse::<u32>().ok()?);
    }
    (!cpus.is_empty()).then_some(cpus)
}

#[cfg(test)]
mod tests {
    use super::*;
    use transit_translator::cpu::features;

    fn field<'a>(text: &'a str, key: &str) -> Vec<&'a str> {
        text.lines()
            .filter_map(|line| line.split_once(':'))
            .filter(|(k, _)| k.trim_end() == key)
            .map(|(_, v)| v.trim())
            .collect()
    }

    fn host() -> HostFacts {
        HostFacts { tsc_khz: 62_500, cache_kib: Some(2048), bogomips: "125.00".into() }
    }

    /// The kernel's keys, in its order (arch/x86/kernel/cpu/proc.c).
    const KERNEL_KEYS: &[&str] = &[
        "processor", "vendor_id", "cpu family", "model", "model name", "stepping", "microcode",
        "cpu MHz", "cache size", "physical id", "siblings", "core id", "cpu cores", "apicid",
        "initial apicid", "fpu", "fpu_exception", "cpuid level", "wp", "flags", "bugs", "bogomips",
        "clflush size", "cache_alignment", "address sizes", "power management",
    ];

    #[test]
    fn each_block_has_the_kernels_keys_in_its_order() {
        let text = cpuinfo_text(features::cpuid, &[0, 1], &host());
        let blocks: Vec<&str> = text.split("\n\n").filter(|b| !b.is_empty()).collect();
        assert_eq!(blocks.len(), 2);
        for block in blocks {
            let keys: Vec<&str> = block
                .lines()
                .map(|line| line.split_once(':').unwrap().0.trim_end())
                .collect();
            assert_eq!(keys, KERNEL_KEYS);
        }
    }

    #[test]
    fn host_facts_fill_the_lines_cpuid_does_not() {
        let text = cpuinfo_text(features::cpuid, &[0], &host());
        assert_eq!(field(&text, "cpu MHz"), ["62.500"]);
        assert_eq!(field(&text, "cache size"), ["2048 KB"]);
        assert_eq!(field(&text, "bogomips"), ["125.00"]);
        assert_eq!(field(&text, "microcode"), ["0x1"]);
        let unknown_cache = HostFacts { cache_kib: None, ..host() };
        let text = cpuinfo_text(features::cpuid, &[0], &unknown_cache);
        assert!(field(&text, "cache size").is_empty(), "the kernel leaves an unknown cache size out");
    }

    #[test]
    fn cache_sizes_parse_like_sysfs_writes_them() {
        assert_eq!(parse_cache_size("48K"), Some(48));
        assert_eq!(parse_cache_size("32M"), Some(32 * 1024));
        assert_eq!(parse_cache_size("K"), None);
    }

    /// From leaf 80000008h; without it, the kernel's defaults.
    #[test]
    fn address_sizes_follow_cpuid() {
        let text = cpuinfo_text(features::cpuid, &[0], &host());
        assert_eq!(field(&text, "address sizes"), ["46 bits physical, 48 bits virtual"]);
        let without_leaf: CpuidFn = |leaf, sub| match leaf {
            0x8000_0000 => (0x8000_0004, 0, 0, 0),
            _ => features::cpuid(leaf, sub),
        };
        let text = cpuinfo_text(without_leaf, &[0], &host());
        assert_eq!(field(&text, "address sizes"), ["36 bits physical, 48 bits virtual"]);
        let with_leaf: CpuidFn = |leaf, sub| match leaf {
            0x8000_0000 => (0x8000_0008, 0, 0, 0),
            0x8000_0008 => (0x3930, 0, 0, 0),
            _ => features::cpuid(leaf, sub),
        };
        let text = cpuinfo_text(with_leaf, &[0], &host());
        assert_eq!(field(&text, "address sizes"), ["48 bits physical, 57 bits virtual"]);
    }

    #[test]
    fn describes_the_cpu_that_cpuid_reports() {
        let text = cpuinfo_text(features::cpuid, &[0, 1, 2], &host());
        assert_eq!(field(&text, "processor"), ["0", "1", "2"]);
        assert_eq!(
            field(&text, "vendor_id"),
            [std::str::from_utf8(features::VENDOR).unwrap(); 3]
        );
        let brand = std::str::from_utf8(features::BRAND)
            .unwrap()
            .trim_end_matches('\0');
        assert_eq!(field(&text, "model name"), [brand; 3]);
        let (family, model, stepping) = signature(features::cpuid(1, 0).0);
        assert_eq!(field(&text, "cpu family")[0], family.to_string());
        assert_eq!(field(&text, "model")[0], model.to_string());
        assert_eq!(field(&text, "stepping")[0], stepping.to_string());
        assert_eq!(field(&text, "siblings"), ["3"; 3]);
        assert!(text.ends_with("power management:\n\n"));
    }

    /// The flags are exactly the CPUID feature bits: leaf 1's EDX is
    /// AT_HWCAP, so every bit of it appears by name, and nothing else from
    /// leaf 1 but the hypervisor bit.
    #[test]
    fn flags_are_the_cpuid_feature_bits_of_each_level() {
        use features::CpuLevel;
        let v1: CpuidFn = |leaf, sub| features::cpuid_of(CpuLevel::V1, leaf, sub);
        let v2: CpuidFn = |leaf, sub| features::cpuid_of(CpuLevel::V2, leaf, sub);
        let flags = |cpuid| {
            let text = cpuinfo_text(cpuid, &[0], &host());
            field(&text, "flags")[0].split(' ').map(str::to_string).collect::<Vec<_>>()
        };
        // In the kernel's word order: 1:EDX, 80000001h:EDX, 1:ECX, 80000001h:ECX, 7:EBX, (0xD,1):EAX, 7:ECX.
        let baseline = "fpu tsc cx8 cmov clflush mmx fxsr sse sse2 syscall nx lm";
        let hints = "lahf_lm 3dnowprefetch clflushopt clwb umip";
        assert_eq!(flags(v1).join(" "), format!("{baseline} hypervisor {hints}"));
        assert_eq!(
            flags(v2).join(" "),
            format!(
                "{baseline} pni pclmulqdq ssse3 cx16 sse4_1 sse4_2 movbe popcnt aes xsave hypervisor \
                 lahf_lm abm 3dnowprefetch bmi1 bmi2 clflushopt clwb xsaveopt xsavec xgetbv1 umip"
            )
        );
        for absent in ["avx", "avx2", "xsaves", "fma", "f16c"] {
            assert!(!flags(v2).iter().any(|f| f == absent), "{absent}");
        }
    }

    #[test]
    fn every_feature_bit_reported_has_a_name() {
        for word in FLAG_WORDS {
            let bits = word_bits(features::cpuid, word).unwrap_or(0);
            // OSXSAVE is a feature bit the kernel hides (cpufeatures.h).
            let hidden = if word.leaf == 1 && matches!(word.reg, Reg::Ecx) { features::leaf1_ecx::OSXSAVE } else { 0 };
            for bit in (0..32).filter(|b| bits & !hidden & (1 << b) != 0) {
                assert!(
                    !word.names[bit].is_empty(),
                    "CPUID {:#x} {:?} bit {bit} has no flag name",
                    word.leaf,
                    word.reg
                );
            }
        }
    }

    #[test]
    fn signature_adds_extended_family_and_model() {
        assert_eq!(signature(0x0000_0600), (6, 0, 0));
        // A Skylake: family 6, extended model 5, model 5, stepping 3.
        assert_eq!(signature(0x0005_0653), (6, 0x55, 3));
        // A Zen 2: family 0xf + 8, model 0x31.
        assert_eq!(signature(0x0083_0f10), (0x17, 0x31, 0));
    }

    #[test]
    fn cpu_lists_parse_like_sysfs_writes_them() {
        assert_eq!(parse_cpu_list("0"), Some(vec![0]));
        assert_eq!(parse_cpu_list("0-3,6"), Some(vec![0, 1, 2, 3, 6]));
        assert_eq!(parse_cpu_list(""), None);
        assert!(!online_cpus().is_empty());
    }
}
