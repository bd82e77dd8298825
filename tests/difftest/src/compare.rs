//! Deciding whether two outcomes agree: every register, the defined flags,
//! MXCSR's control bits, the memory hash, and the fault (signal and RIP).

use crate::case::{Case, Outcome};
use crate::layout::CODE_ADDR;
use crate::state::{X87, GPR_NAMES};
use iced_x86::{Decoder, DecoderOptions, FlowControl, Instruction, OpKind, RflagsBits};
use std::collections::HashMap;

/// RFLAGS bits compared: the arithmetic flags and DF.
const COMPARED_FLAGS: u64 = 0x8d5 | 0x400;
/// MXCSR bits compared: masks, rounding, FTZ, DAZ. The sticky exception
/// flags (bits 0-5) are not modelled by Transit.
const COMPARED_MXCSR: u64 = 0xffc0;

fn rflags_bits(iced: u32) -> u64 {
    [
        (RflagsBits::CF, 0x1),
        (RflagsBits::PF, 0x4),
        (RflagsBits::AF, 0x10),
        (RflagsBits::ZF, 0x40),
        (RflagsBits::SF, 0x80),
        (RflagsBits::DF, 0x400),
        (RflagsBits::OF, 0x800),
    ]
    .iter()
    .filter(|(b, _)| iced & b != 0)
    .fold(0, |m, (_, x)| m | x)
}

/// Undefined flags (iced bits) after `insn`, given those undefined before.
/// A shift or rotate by a count that is zero modulo its mask changes no
/// flag, so with a count in CL the old undefined flags may survive.
pub fn undefined_after(undefined: u32, insn: &Instruction) -> u32 {
    use iced_x86::Mnemonic::*;
    let shifts = matches!(insn.mnemonic(), Shl | Sal | Shr | Sar | Rol | Ror | Rcl | Rcr | Shld | Shrd);
    let count_op = insn.op_count().saturating_sub(1);
    // A count in CL, or RCX for a repeated string instruction, may be zero.
    let repeated = insn.has_rep_prefix() || insn.has_repne_prefix();
    if repeated || shifts && insn.op_kind(count_op) == OpKind::Register {
        return undefined | insn.rflags_undefined();
    }
    if shifts && insn.op_kind(count_op) == OpKind::Immediate8 {
        let wide = insn.op0_kind() == OpKind::Register && insn.op0_register().size() == 8
            || insn.op0_kind() == OpKind::Memory && insn.memory_size().size() == 8;
        if insn.immediate8() & if wide { 63 } else { 31 } == 0 {
            return undefined;
        }
    }
    (undefined & !insn.rflags_modified()) | insn.rflags_undefined()
}

/// Runs `step` over every path through `code` (paths differ only by forward
/// conditional branches) and returns the union of the values at its end.
fn over_paths(code: &[u8], step: impl Fn(u32, &Instruction) -> u32) -> u32 {
    let end = CODE_ADDR + code.len() as u64;
    let mut incoming: HashMap<u64, u32> = HashMap::new();
    let mut current = 0u32;
    for insn in Decoder::with_ip(64, code, CODE_ADDR, DecoderOptions::NONE) {
        let state = current | incoming.remove(&insn.ip()).unwrap_or(0);
        let out = step(state, &insn);
        if insn.flow_control() == FlowControl::ConditionalBranch && insn.op0_kind() == OpKind::NearBranch64 {
            *incoming.entry(insn.near_branch64()).or_default() |= out;
        }
        current = out;
    }
    current | incoming.get(&end).copied().unwrap_or(0)
}

/// RFLAGS bits the manual leaves undefined at the end of `code`: for each
/// flag, undefined when its last writer on some path left it undefined.
pub fn undefined_flags(code: &[u8]) -> u64 {
    rflags_bits(over_paths(code, undefined_after))
}

/// x87 status-word condition bits (C0 0x100, C1 0x200, C2 0x400, C3 0x4000)
/// that are undefined, or defined only by rounding details Transit does not
/// model (C1 after arithmetic), at the end of `code`.
pub fn undefined_x87_conditions(code: &[u8]) -> u64 {
    use iced_x86::Mnemonic::*;
    const ALL: u32 = 0x4700;
    over_paths(code, |undefined, insn| match insn.mnemonic() {
        Fcom | Fcomp | Fcompp | Fucom | Fucomp | Fucompp | Ftst => 0x200,
        Fxam => 0,
        // fcomi and friends report in EFLAGS and leave C0, C2, C3 alone.
        Fcomi | Fcomip | Fucomi | Fucomip => undefined | 0x200,
        Fnstcw | Wait | Fnop => undefined,
        m if format!("{m:?}").starts_with('F') => ALL,
        _ => undefined,
    }) as u64
}

/// The differences between the CPU's outcome and the translator's, as
/// readable lines; empty when they agree.
pub fn differences(case: &Case, expected: &Outcome, actual: &Outcome) -> Vec<String> {
    let mut d = Vec::new();
    if expected.signal != actual.signal || expected.rip != actual.rip {
        d.push(format!(
            "ending: CPU signal {} at {:#x}, Transit signal {} at {:#x}",
            expected.signal, expected.rip, actual.signal, actual.rip
        ));
        return d;
    }
    if expected.mem_hash != actual.mem_hash {
        d.push("scratch memory differs".into());
    }
    if expected.signal != 0 {
        return d;
    }
    let (e, a) = (&expected.state, &actual.state);
    for i in 0..16 {
        if e.gpr[i] != a.gpr[i] {
            d.push(format!("{:>5}: CPU {:#018x} Transit {:#018x}", GPR_NAMES[i], e.gpr[i], a.gpr[i]));
        }
    }
    let mask = COMPARED_FLAGS & !undefined_flags(&case.code);
    if (e.rflags ^ a.rflags) & mask != 0 {
        d.push(format!(
            "rflags: CPU {:#x} Transit {:#x} (compared bits {mask:#x}, differing {:#x})",
            e.rflags & mask,
            a.rflags & mask,
            (e.rflags ^ a.rflags) & mask
        ));
    }
    if (e.mxcsr ^ a.mxcsr) & COMPARED_MXCSR != 0 {
        d.push(format!("mxcsr: CPU {:#x} Transit {:#x}", e.mxcsr, a.mxcsr));
    }
    for i in 0..16 {
        if e.xmm[i] != a.xmm[i] {
            d.push(format!("xmm{i:<2}: CPU {:#034x} Transit {:#034x}", e.xmm[i], a.xmm[i]));
        }
    }
    x87_differences(case, &e.x87, &a.x87, &mut d);
    d
}

/// The x87 comparison: control word, TOP, defined condition bits, tags,
/// and the value of every register that holds one. Exception flags are not
/// modelled by Transit.
fn x87_differences(case: &Case, e: &X87, a: &X87, d: &mut Vec<String>) {
    if e.control != a.control {
        d.push(format!("fcw: CPU {:#06x} Transit {:#06x}", e.control, a.control));
    }
    let mask = (0x3800 | 0x4700) & !undefined_x87_conditions(&case.code);
    if (e.status ^ a.status) & mask != 0 {
        d.push(format!("fsw: CPU {:#06x} Transit {:#06x} (compared bits {mask:#06x})", e.status & mask, a.status & mask));
    }
    if e.valid != a.valid {
        d.push(format!("x87 tags: CPU {:#04x} Transit {:#04x}", e.valid, a.valid));
    }
    for i in 0..8 {
        if e.st_valid(i) && e.st[i] != a.st[i] {
            d.push(format!("st{i}: CPU {:#022x} Transit {:#022x}", e.st[i], a.st[i]));
        }
    }
}
