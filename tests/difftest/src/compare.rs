//! Deciding whether two outcomes agree: every register, the defined flags,
//! MXCSR's control bits, the memory hash, and the fault (signal, RIP and
//! address), with the state at the faulting instruction.

use crate::case::{Case, Outcome, CRASHED};
use crate::layout::CODE_ADDR;
use crate::state::{X87, GPR_NAMES};
use transit_translator::frontend::forms;
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

/// The arithmetic flags (iced bits).
const ARITHMETIC: u32 =
    RflagsBits::OF | RflagsBits::SF | RflagsBits::ZF | RflagsBits::AF | RflagsBits::CF | RflagsBits::PF;

/// Whether `insn` may leave every flag alone although it writes some: a
/// shift or rotate whose count may be zero modulo its mask (a count in CL),
/// or a repeated string instruction (RCX may be zero).
fn may_write_no_flag(insn: &Instruction) -> bool {
    use iced_x86::Mnemonic::*;
    let shifts = matches!(insn.mnemonic(), Shl | Sal | Shr | Sar | Rol | Ror | Rcl | Rcr | Shld | Shrd);
    let count_op = insn.op_count().saturating_sub(1);
    let repeated = insn.has_rep_prefix() || insn.has_repne_prefix();
    repeated || shifts && insn.op_kind(count_op) == OpKind::Register
}

/// Whether `insn` is a shift or rotate by an immediate count that is zero
/// modulo its mask: it changes no flag.
pub fn shifts_by_zero(insn: &Instruction) -> bool {
    use iced_x86::Mnemonic::*;
    let shifts = matches!(insn.mnemonic(), Shl | Sal | Shr | Sar | Rol | Ror | Rcl | Rcr | Shld | Shrd);
    let count_op = insn.op_count().saturating_sub(1);
    if !shifts || insn.op_kind(count_op) != OpKind::Immediate8 {
        return false;
    }
    let wide = insn.op0_kind() == OpKind::Register && insn.op0_register().size() == 8
        || insn.op0_kind() == OpKind::Memory && insn.memory_size().size() == 8;
    insn.immediate8() & if wide { 63 } else { 31 } == 0
}

/// Undefined flags (iced bits) after `insn`, given those undefined before.
/// A shift or rotate by a count that is zero modulo its mask changes no
/// flag, so with a count in CL the old undefined flags may survive.
/// Flags undefined on either vendor's CPU count (the form's row).
pub fn undefined_after(undefined: u32, insn: &Instruction) -> u32 {
    let newly_undefined = forms::undefined_flags(insn);
    if may_write_no_flag(insn) {
        return undefined | newly_undefined;
    }
    if shifts_by_zero(insn) {
        return undefined;
    }
    (undefined & !insn.rflags_modified()) | newly_undefined
}

/// Runs `step` over every path through `code` (paths differ only by forward
/// conditional branches) and returns the union of the values arriving at
/// `stop` (an instruction's address, or the end of the code).
fn over_paths(code: &[u8], stop: u64, step: impl Fn(u32, &Instruction) -> u32) -> u32 {
    let mut incoming: HashMap<u64, u32> = HashMap::new();
    let mut current = 0u32;
    for insn in Decoder::with_ip(64, code, CODE_ADDR, DecoderOptions::NONE) {
        let state = current | incoming.remove(&insn.ip()).unwrap_or(0);
        if insn.ip() == stop {
            return state;
        }
        let out = step(state, &insn);
        if insn.flow_control() == FlowControl::ConditionalBranch && insn.op0_kind() == OpKind::NearBranch64 {
            *incoming.entry(insn.near_branch64()).or_default() |= out;
        }
        current = out;
    }
    current | incoming.get(&stop).copied().unwrap_or(0)
}

fn end_of(code: &[u8]) -> u64 {
    CODE_ADDR + code.len() as u64
}

/// RFLAGS bits the manual leaves undefined when execution reaches `at`:
/// for each flag, undefined when its last writer on some path left it
/// undefined.
pub fn undefined_flags(code: &[u8], at: u64) -> u64 {
    rflags_bits(over_paths(code, at, undefined_after))
}

/// The arithmetic flags (RFLAGS bits) live on entry to the instruction at
/// `at`: on some path from it, read before being overwritten, or reaching
/// the end of the code (where every flag is compared). The translator's own
/// analysis (`translator/src/flags.rs`) looks at the same paths or fewer and
/// treats whatever it cannot see as live, so it keeps at least these.
pub fn live_flags(code: &[u8], at: u64) -> u64 {
    let insns: Vec<Instruction> = Decoder::with_ip(64, code, CODE_ADDR, DecoderOptions::NONE).into_iter().collect();
    let mut live_in: HashMap<u64, u32> = HashMap::from([(end_of(code), ARITHMETIC)]);
    // Branches only go forward: walking backwards, every successor is done.
    for insn in insns.iter().rev() {
        let mut live = live_in.get(&insn.next_ip()).copied().unwrap_or(0);
        if insn.flow_control() == FlowControl::ConditionalBranch && insn.op0_kind() == OpKind::NearBranch64 {
            live |= live_in.get(&insn.near_branch64()).copied().unwrap_or(0);
        }
        let reads = insn.rflags_read() & ARITHMETIC;
        let kills = if may_write_no_flag(insn) || shifts_by_zero(insn) { 0 } else { insn.rflags_modified() };
        live_in.insert(insn.ip(), (live & !kills) | reads);
    }
    rflags_bits(live_in.get(&at).copied().unwrap_or(ARITHMETIC))
}

/// x87 status-word condition bits (C0 0x100, C1 0x200, C2 0x400, C3 0x4000)
/// that are undefined when execution reaches `at`.
pub fn undefined_x87_conditions(code: &[u8], at: u64) -> u64 {
    use iced_x86::Mnemonic::*;
    const ALL: u32 = 0x4700;
    const C1: u32 = 0x200;
    over_paths(code, at, |undefined, insn| match insn.mnemonic() {
        // Every condition bit defined (SDM vol. 2, each instruction's
        // "FPU Flags Affected").
        Fcom | Fcomp | Fcompp | Fucom | Fucomp | Fucompp | Ficom | Ficomp | Ftst | Fxam | Fprem | Fprem1 | Fninit
        | Finit | Fnsave | Fsave | Fldenv | Frstor => 0,
        // fcomi and friends report in EFLAGS and leave C0, C2, C3 alone.
        Fcomi | Fcomip | Fucomi | Fucomip => undefined & !C1,
        // C2 says whether the operand was in range; C1 rounded up.
        Fsin | Fcos | Fsincos | Fptan => ALL & !(C1 | 0x400),
        // No condition bit defined, or nothing happens.
        Fnstcw | Fstcw | Fnstsw | Fstsw | Fnstenv | Fstenv | Fldcw | Fnclex | Fclex | Ffree | Ffreep | Wait | Fnop
        | Fneni | Feni | Fndisi | Fdisi | Fnsetpm | Fsetpm => match insn.mnemonic() {
            Fnclex | Fclex | Fnstenv | Fstenv | Fldcw | Ffree | Ffreep => ALL,
            _ => undefined,
        },
        // The rest define C1 (rounded up, or the stack fault's direction).
        m if format!("{m:?}").starts_with('F') => ALL & !C1,
        _ => undefined,
    }) as u64
}

/// The RFLAGS bits compared when execution stopped at `rip` (the end of
/// the code, or a faulting instruction).
///
/// At the end: every defined flag. At a fault: x86 leaves the flags as they
/// were before the faulting instruction, but Transit computes a flag only
/// if something reads it (lazy flags), and a signal handler's view of the
/// flags is not such a reader: Transit only promises the flags that the
/// code from the faulting instruction on would read, as on resuming there.
/// So a fault compares the defined flags live on entry to the faulting
/// instruction (DF, kept eagerly, always).
pub fn compared_flags(code: &[u8], rip: u64) -> u64 {
    let defined = !undefined_flags(code, rip);
    if rip == end_of(code) {
        return COMPARED_FLAGS & defined;
    }
    (live_flags(code, rip) | 0x400) & COMPARED_FLAGS & defined
}

/// The case whose end state is the state at instruction boundary `rip` of
/// `case`: its code up to `rip`, when every instruction runs at most once
/// and in address order (no call, return, indirect or backward branch).
/// Otherwise the path to `rip` may use code after it: None.
pub fn handoff_prefix(case: &Case, rip: u64) -> Option<Case> {
    let len = rip.checked_sub(CODE_ADDR)? as usize;
    if len > case.code.len() {
        return None;
    }
    let insns = || Decoder::with_ip(64, &case.code, CODE_ADDR, DecoderOptions::NONE).into_iter();
    let forward_only = insns().all(|insn| match insn.flow_control() {
        FlowControl::Next => true,
        FlowControl::ConditionalBranch | FlowControl::UnconditionalBranch => {
            insn.op0_kind() == OpKind::NearBranch64 && insn.near_branch64() > insn.ip()
        }
        _ => false,
    });
    let boundary = rip == end_of(&case.code) || insns().any(|insn| insn.ip() == rip);
    (forward_only && boundary).then(|| Case { code: case.code[..len].to_vec(), ..case.clone() })
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
    if expected.signal == CRASHED {
        return d;
    }
    if expected.fault_addr != actual.fault_addr {
        d.push(format!("fault address: CPU {:#x} Transit {:#x}", expected.fault_addr, actual.fault_addr));
    }
    if expected.mem_hash != actual.mem_hash {
        d.push("scratch memory differs".into());
    }
    let (e, a) = (&expected.state, &actual.state);
    for i in 0..16 {
        if e.gpr[i] != a.gpr[i] {
            d.push(format!("{:>5}: CPU {:#018x} Transit {:#018x}", GPR_NAMES[i], e.gpr[i], a.gpr[i]));
        }
    }
    let mask = compared_flags(&case.code, expected.rip);
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
        if e.ymm_upper[i] != a.ymm_upper[i] {
            d.push(format!("ymm{i:<2} bits 128..255: CPU {:#034x} Transit {:#034x}", e.ymm_upper[i], a.ymm_upper[i]));
        }
    }
    x87_differences(case, expected.rip, &e.x87, &a.x87, &mut d);
    d
}

/// The x87 comparison: control word, status word (exception flags, TOP,
/// defined condition bits), tags, and the value of every register that
/// holds one.
fn x87_differences(case: &Case, rip: u64, e: &X87, a: &X87, d: &mut Vec<String>) {
    if e.control != a.control {
        d.push(format!("fcw: CPU {:#06x} Transit {:#06x}", e.control, a.control));
    }
    // Exception flags, SF, ES and B too (Transit models them), TOP and
    // the defined condition bits; transcendentals within a tolerance.
    let tolerance = crate::x87_tolerance::for_case(case);
    let mask = (0x80ff | 0x3800 | 0x4700) & !undefined_x87_conditions(&case.code, rip) & !tolerance.status_ignored;
    if (e.status ^ a.status) & mask != 0 {
        d.push(format!("fsw: CPU {:#06x} Transit {:#06x} (compared bits {mask:#06x})", e.status & mask, a.status & mask));
    }
    if e.valid != a.valid {
        d.push(format!("x87 tags: CPU {:#04x} Transit {:#04x}", e.valid, a.valid));
    }
    for i in 0..8 {
        if tolerance.undefined_st & (1 << i) != 0 {
            continue;
        }
        if tolerance.approximate_st & (1 << i) != 0 && crate::x87_tolerance::within(case, &tolerance, e.st[i], a.st[i]) {
            continue;
        }
        if e.st_valid(i) && e.st[i] != a.st[i] {
            d.push(format!("st{i}: CPU {:#022x} Transit {:#022x}", e.st[i], a.st[i]));
        }
    }
}
