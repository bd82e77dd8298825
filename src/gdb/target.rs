//! The x86_64 target as gdb sees it: one table of registers, from which
//! come the target description (`target.xml`), the `g`/`G` layout and the
//! `p`/`P` numbers (a register's number is its row).

use transit_translator::cpu::state::Segment;
use transit_translator::CpuState;
use transit_translator::cpu::state::gpr::{R10, R11, R8, R9, RAX, RBP, RBX, RCX, RDI, RDX, RSI, RSP};

// `gpr` names only the registers the runtime uses; the rest by encoding.
const R12: usize = 12;
const R13: usize = 13;
const R14: usize = 14;
const R15: usize = 15;

/// Where a register's value lives in `CpuState`.
#[derive(Clone, Copy)]
enum Loc {
    Gpr(usize),
    Rip,
    Eflags,
    Selector(Segment),
    /// ST(i): relative to the x87 stack top.
    St(u8),
    Fctrl,
    Fstat,
    Ftag,
    /// FIP's and FDP's selectors: 0 in 64-bit mode.
    ZeroSelector,
    Fioff,
    Fooff,
    Fop,
    Xmm(usize),
    Mxcsr,
    /// Linux's orig_rax (the syscall a restart would repeat): not kept, -1.
    OrigRax,
    FsBase,
    GsBase,
    YmmHigh(usize),
}

struct Reg {
    name: &'static str,
    bits: u32,
    ty: &'static str,
    feature: &'static str,
    loc: Loc,
}

const CORE: &str = "org.gnu.gdb.i386.core";
const SSE: &str = "org.gnu.gdb.i386.sse";
const LINUX: &str = "org.gnu.gdb.i386.linux";
const SEGMENTS: &str = "org.gnu.gdb.i386.segments";
const AVX: &str = "org.gnu.gdb.i386.avx";

const fn reg(name: &'static str, bits: u32, ty: &'static str, feature: &'static str, loc: Loc) -> Reg {
    Reg { name, bits, ty, feature, loc }
}

/// gdb's amd64 order (its register numbers without a description, too).
const REGS: [Reg; 76] = [
    reg("rax", 64, "int64", CORE, Loc::Gpr(RAX)),
    reg("rbx", 64, "int64", CORE, Loc::Gpr(RBX)),
    reg("rcx", 64, "int64", CORE, Loc::Gpr(RCX)),
    reg("rdx", 64, "int64", CORE, Loc::Gpr(RDX)),
    reg("rsi", 64, "int64", CORE, Loc::Gpr(RSI)),
    reg("rdi", 64, "int64", CORE, Loc::Gpr(RDI)),
    reg("rbp", 64, "data_ptr", CORE, Loc::Gpr(RBP)),
    reg("rsp", 64, "data_ptr", CORE, Loc::Gpr(RSP)),
    reg("r8", 64, "int64", CORE, Loc::Gpr(R8)),
    reg("r9", 64, "int64", CORE, Loc::Gpr(R9)),
    reg("r10", 64, "int64", CORE, Loc::Gpr(R10)),
    reg("r11", 64, "int64", CORE, Loc::Gpr(R11)),
    reg("r12", 64, "int64", CORE, Loc::Gpr(R12)),
    reg("r13", 64, "int64", CORE, Loc::Gpr(R13)),
    reg("r14", 64, "int64", CORE, Loc::Gpr(R14)),
    reg("r15", 64, "int64", CORE, Loc::Gpr(R15)),
    reg("rip", 64, "code_ptr", CORE, Loc::Rip),
    reg("eflags", 32, "i386_eflags", CORE, Loc::Eflags),
    reg("cs", 32, "int32", CORE, Loc::Selector(Segment::Cs)),
    reg("ss", 32, "int32", CORE, Loc::Selector(Segment::Ss)),
    reg("ds", 32, "int32", CORE, Loc::Selector(Segment::Ds)),
    reg("es", 32, "int32", CORE, Loc::Selector(Segment::Es)),
    reg("fs", 32, "int32", CORE, Loc::Selector(Segment::Fs)),
    reg("gs", 32, "int32", CORE, Loc::Selector(Segment::Gs)),
    reg("st0", 80, "i387_ext", CORE, Loc::St(0)),
    reg("st1", 80, "i387_ext", CORE, Loc::St(1)),
    reg("st2", 80, "i387_ext", CORE, Loc::St(2)),
    reg("st3", 80, "i387_ext", CORE, Loc::St(3)),
    reg("st4", 80, "i387_ext", CORE, Loc::St(4)),
    reg("st5", 80, "i387_ext", CORE, Loc::St(5)),
    reg("st6", 80, "i387_ext", CORE, Loc::St(6)),
    reg("st7", 80, "i387_ext", CORE, Loc::St(7)),
    reg("fctrl", 32, "int", CORE, Loc::Fctrl),
    reg("fstat", 32, "int", CORE, Loc::Fstat),
    reg("ftag", 32, "int", CORE, Loc::Ftag),
    reg("fiseg", 32, "int", CORE, Loc::ZeroSelector),
    reg("fioff", 32, "int", CORE, Loc::Fioff),
    reg("foseg", 32, "int", CORE, Loc::ZeroSelector),
    reg("fooff", 32, "int", CORE, Loc::Fooff),
    reg("fop", 32, "int", CORE, Loc::Fop),
    reg("xmm0", 128, "vec128", SSE, Loc::Xmm(0)),
    reg("xmm1", 128, "vec128", SSE, Loc::Xmm(1)),
    reg("xmm2", 128, "vec128", SSE, Loc::Xmm(2)),
    reg("xmm3", 128, "vec128", SSE, Loc::Xmm(3)),
    reg("xmm4", 128, "vec128", SSE, Loc::Xmm(4)),
    reg("xmm5", 128, "vec128", SSE, Loc::Xmm(5)),
    reg("xmm6", 128, "vec128", SSE, Loc::Xmm(6)),
    reg("xmm7", 128, "vec128", SSE, Loc::Xmm(7)),
    reg("xmm8", 128, "vec128", SSE, Loc::Xmm(8)),
    reg("xmm9", 128, "vec128", SSE, Loc::Xmm(9)),
    reg("xmm10", 128, "vec128", SSE, Loc::Xmm(10)),
    reg("xmm11", 128, "vec128", SSE, Loc::Xmm(11)),
    reg("xmm12", 128, "vec128", SSE, Loc::Xmm(12)),
    reg("xmm13", 128, "vec128", SSE, Loc::Xmm(13)),
    reg("xmm14", 128, "vec128", SSE, Loc::Xmm(14)),
    reg("xmm15", 128, "vec128", SSE, Loc::Xmm(15)),
    reg("mxcsr", 32, "i386_mxcsr", SSE, Loc::Mxcsr),
    reg("orig_rax", 64, "int", LINUX, Loc::OrigRax),
    reg("fs_base", 64, "int", SEGMENTS, Loc::FsBase),
    reg("gs_base", 64, "int", SEGMENTS, Loc::GsBase),
    reg("ymm0h", 128, "uint128", AVX, Loc::YmmHigh(0)),
    reg("ymm1h", 128, "uint128", AVX, Loc::YmmHigh(1)),
    reg("ymm2h", 128, "uint128", AVX, Loc::YmmHigh(2)),
    reg("ymm3h", 128, "uint128", AVX, Loc::YmmHigh(3)),
    reg("ymm4h", 128, "uint128", AVX, Loc::YmmHigh(4)),
    reg("ymm5h", 128, "uint128", AVX, Loc::YmmHigh(5)),
    reg("ymm6h", 128, "uint128", AVX, Loc::YmmHigh(6)),
    reg("ymm7h", 128, "uint128", AVX, Loc::YmmHigh(7)),
    reg("ymm8h", 128, "uint128", AVX, Loc::YmmHigh(8)),
    reg("ymm9h", 128, "uint128", AVX, Loc::YmmHigh(9)),
    reg("ymm10h", 128, "uint128", AVX, Loc::YmmHigh(10)),
    reg("ymm11h", 128, "uint128", AVX, Loc::YmmHigh(11)),
    reg("ymm12h", 128, "uint128", AVX, Loc::YmmHigh(12)),
    reg("ymm13h", 128, "uint128", AVX, Loc::YmmHigh(13)),
    reg("ymm14h", 128, "uint128", AVX, Loc::YmmHigh(14)),
    reg("ymm15h", 128, "uint128", AVX, Loc::YmmHigh(15)),
];

/// Types the registers name beyond gdb's predefined ones, per feature.
fn feature_types(feature: &str) -> &'static str {
    match feature {
        CORE => concat!(
            r#"<flags id="i386_eflags" size="4">"#,
            r#"<field name="CF" start="0" end="0"/><field name="" start="1" end="1"/><field name="PF" start="2" end="2"/>"#,
            r#"<field name="AF" start="4" end="4"/><field name="ZF" start="6" end="6"/><field name="SF" start="7" end="7"/>"#,
            r#"<field name="TF" start="8" end="8"/><field name="IF" start="9" end="9"/><field name="DF" start="10" end="10"/>"#,
            r#"<field name="OF" start="11" end="11"/><field name="NT" start="14" end="14"/><field name="RF" start="16" end="16"/>"#,
            r#"<field name="VM" start="17" end="17"/><field name="AC" start="18" end="18"/><field name="VIF" start="19" end="19"/>"#,
            r#"<field name="VIP" start="20" end="20"/><field name="ID" start="21" end="21"/></flags>"#,
        ),
        SSE => concat!(
            r#"<vector id="v8bf16" type="bfloat16" count="8"/><vector id="v8h" type="ieee_half" count="8"/>"#,
            r#"<vector id="v4f" type="ieee_single" count="4"/><vector id="v2d" type="ieee_double" count="2"/>"#,
            r#"<vector id="v16i8" type="int8" count="16"/><vector id="v8i16" type="int16" count="8"/>"#,
            r#"<vector id="v4i32" type="int32" count="4"/><vector id="v2i64" type="int64" count="2"/>"#,
            r#"<union id="vec128"><field name="v8_bfloat16" type="v8bf16"/><field name="v8_half" type="v8h"/>"#,
            r#"<field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/>"#,
            r#"<field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/>"#,
            r#"<field name="uint128" type="uint128"/></union>"#,
            r#"<flags id="i386_mxcsr" size="4">"#,
            r#"<field name="IE" start="0" end="0"/><field name="DE" start="1" end="1"/><field name="ZE" start="2" end="2"/>"#,
            r#"<field name="OE" start="3" end="3"/><field name="UE" start="4" end="4"/><field name="PE" start="5" end="5"/>"#,
            r#"<field name="DAZ" start="6" end="6"/><field name="IM" start="7" end="7"/><field name="DM" start="8" end="8"/>"#,
            r#"<field name="ZM" start="9" end="9"/><field name="OM" start="10" end="10"/><field name="UM" start="11" end="11"/>"#,
            r#"<field name="PM" start="12" end="12"/><field name="FZ" start="15" end="15"/></flags>"#,
        ),
        _ => "",
    }
}

/// The target description gdb reads through `qXfer:features:read:target.xml`.
pub fn target_xml() -> String {
    let mut xml = String::from(concat!(
        r#"<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd">"#,
        r#"<target version="1.0"><architecture>i386:x86-64</architecture><osabi>GNU/Linux</osabi>"#
    ));
    let mut open: Option<&str> = None;
    for (n, r) in REGS.iter().enumerate() {
        if open != Some(r.feature) {
            if open.is_some() {
                xml.push_str("</feature>");
            }
            xml.push_str(&format!(r#"<feature name="{}">{}"#, r.feature, feature_types(r.feature)));
            open = Some(r.feature);
        }
        xml.push_str(&format!(r#"<reg name="{}" bitsize="{}" type="{}" regnum="{n}"/>"#, r.name, r.bits, r.ty));
    }
    xml.push_str("</feature></target>");
    xml
}

pub fn register_count() -> usize {
    REGS.len()
}

/// Register `n`'s value in target byte order (little-endian), `None` for
/// a number gdb made up.
pub fn read_register(state: &CpuState, n: usize) -> Option<Vec<u8>> {
    let r = REGS.get(n)?;
    let bytes = (r.bits / 8) as usize;
    let value: u128 = match r.loc {
        Loc::Gpr(i) => u128::from(state.gpr[i]),
        Loc::Rip => u128::from(state.rip),
        Loc::Eflags => u128::from(state.rflags()),
        Loc::Selector(seg) => u128::from(state.selector(seg)),
        Loc::St(i) => state.x87.regs[usize::from((state.x87.top + i) % 8)],
        Loc::Fctrl => u128::from(state.x87.control),
        Loc::Fstat => u128::from(state.x87.status & !(7 << 11) | u16::from(state.x87.top & 7) << 11),
        Loc::Ftag => u128::from(full_tag_word(state)),
        Loc::ZeroSelector => 0,
        Loc::Fioff => u128::from(state.x87.last_ip as u32),
        Loc::Fooff => u128::from(state.x87.last_data as u32),
        Loc::Fop => u128::from(state.x87.last_opcode),
        Loc::Xmm(i) => state.xmm[i],
        Loc::Mxcsr => u128::from(state.mxcsr as u32),
        Loc::OrigRax => u128::from(u64::MAX),
        Loc::FsBase => u128::from(state.fs_base),
        Loc::GsBase => u128::from(state.gs_base),
        Loc::YmmHigh(i) => state.ymm_upper[i],
    };
    Some(value.to_le_bytes()[..bytes].to_vec())
}

/// Sets register `n` from `bytes` (its full width, little-endian); false
/// for an unknown number, a wrong width, or a register gdb may not change.
pub fn write_register(state: &mut CpuState, n: usize, bytes: &[u8]) -> bool {
    let Some(r) = REGS.get(n) else { return false };
    if bytes.len() != (r.bits / 8) as usize {
        return false;
    }
    let mut buf = [0u8; 16];
    buf[..bytes.len()].copy_from_slice(bytes);
    let v = u128::from_le_bytes(buf);
    match r.loc {
        Loc::Gpr(i) => state.gpr[i] = v as u64,
        Loc::Rip => state.rip = v as u64,
        Loc::Eflags => state.set_rflags(v as u64),
        Loc::Selector(seg) => state.set_selector(seg, v as u16),
        Loc::St(i) => state.x87.regs[usize::from((state.x87.top + i) % 8)] = v & ((1 << 80) - 1),
        Loc::Fctrl => state.x87.control = v as u16,
        Loc::Fstat => {
            state.x87.status = v as u16 & !(7 << 11);
            state.x87.top = (v >> 11) as u8 & 7;
        }
        Loc::Ftag => {
            // Only empty (11) or not is kept; the rest follows from the values.
            state.x87.valid = (0..8).filter(|i| (v >> (2 * i)) & 3 != 3).fold(0, |m, i| m | 1 << i);
        }
        Loc::Fioff => state.x87.last_ip = v as u64 & 0xffff_ffff,
        Loc::Fooff => state.x87.last_data = v as u64 & 0xffff_ffff,
        Loc::Fop => state.x87.last_opcode = v as u16 & 0x7ff,
        Loc::Xmm(i) => state.xmm[i] = v,
        Loc::FsBase => state.fs_base = v as u64,
        Loc::GsBase => state.gs_base = v as u64,
        Loc::YmmHigh(i) => state.ymm_upper[i] = v,
        // The host FPCR holds MXCSR's rounding mode while guest code runs:
        // changing only the saved copy would lie. Unchanged values pass (`G`).
        Loc::Mxcsr => return v as u64 == state.mxcsr & 0xffff_ffff,
        Loc::ZeroSelector | Loc::OrigRax => return read_register(state, n).is_some_and(|cur| cur == bytes),
    }
    true
}

/// gdb's number for a Linux signal (the protocol's stop and exit
/// replies use gdb's own numbering, `gdb/signals.def`): the same up to
/// SIGABRT and for a few others; 143 is gdb's "unknown signal".
pub fn gdb_signal(linux: i32) -> u8 {
    // Linux signal n (1..=31) is gdb's LINUX_TO_GDB[n - 1].
    const LINUX_TO_GDB: [u8; 31] = [
        1, 2, 3, 4, 5, 6, 10, 8, 9, 30, 11, 31, 13, 14, 15, 143, 20, 19, 17, 18, 21, 22, 16, 24, 25, 26, 27, 28, 23, 32, 12,
    ];
    match linux {
        1..=31 => LINUX_TO_GDB[linux as usize - 1],
        // Real-time signals 33..=63 are gdb's 45..=75.
        33..=63 => (linux + 12) as u8,
        _ => 143,
    }
}

/// The x87 tag word as FSTENV stores it, per physical register: 00 valid,
/// 01 zero, 10 special (NaN, infinity, denormal, unnormal), 11 empty.
fn full_tag_word(state: &CpuState) -> u16 {
    (0..8).fold(0u16, |word, i| {
        let tag = if state.x87.valid & (1 << i) == 0 {
            3
        } else {
            let value = state.x87.regs[i];
            let exponent = (value >> 64) as u16 & 0x7fff;
            let mantissa = value as u64;
            match (exponent, mantissa) {
                (0, 0) => 1,
                (0x7fff, _) | (0, _) => 2,
                (_, m) if m >> 63 == 0 => 2,
                _ => 0,
            }
        };
        word | tag << (2 * i)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_numbers_every_register_in_table_order() {
        let xml = target_xml();
        for (n, r) in REGS.iter().enumerate() {
            assert!(xml.contains(&format!(r#"name="{}" bitsize="{}" type="{}" regnum="{n}""#, r.name, r.bits, r.ty)));
        }
        // Characters the protocol would have to escape in a reply.
        assert!(!xml.contains(['$', '#', '}', '*']));
    }

    #[test]
    fn registers_round_trip_through_their_bytes() {
        let mut state = CpuState::default();
        for (n, r) in REGS.iter().enumerate() {
            let mut bytes = read_register(&state, n).unwrap();
            if matches!(r.loc, Loc::Gpr(_) | Loc::Rip | Loc::Xmm(_) | Loc::YmmHigh(_) | Loc::FsBase) {
                bytes[0] ^= 0x5a;
                assert!(write_register(&mut state, n, &bytes), "{}", r.name);
                assert_eq!(read_register(&state, n).unwrap(), bytes, "{}", r.name);
            }
        }
        assert!(!write_register(&mut state, 0, &[0; 4]), "a wrong width is refused");
    }

    #[test]
    fn signals_in_gdb_numbering() {
        assert_eq!(gdb_signal(libc::SIGSEGV), 11);
        assert_eq!(gdb_signal(libc::SIGBUS), 10);
        assert_eq!(gdb_signal(libc::SIGCHLD), 20);
        assert_eq!(gdb_signal(libc::SIGSYS), 12);
        assert_eq!(gdb_signal(libc::SIGUSR1), 30);
    }

    #[test]
    fn stack_registers_follow_the_top() {
        let mut state = CpuState::default();
        state.x87.top = 6;
        state.x87.regs[7] = 0x3fff_8000_0000_0000_0000; // 1.0 in physical R7 = ST(1)
        state.x87.valid = 1 << 7;
        let st1 = REGS.iter().position(|r| r.name == "st1").unwrap();
        assert_eq!(read_register(&state, st1).unwrap(), 0x3fff_8000_0000_0000_0000u128.to_le_bytes()[..10].to_vec());
        let ftag = REGS.iter().position(|r| r.name == "ftag").unwrap();
        assert_eq!(read_register(&state, ftag).unwrap(), 0x3fffu32.to_le_bytes().to_vec());
    }
}
