//! What one instruction does to the arithmetic flags, remembered per
//! `Code`: liveness asks it of every instruction translated or looked
//! ahead at, and iced works it out from its tables and operands on every
//! call (asked four to six times an instruction before, it cost 3% of a
//! dynamically linked hello's cold start).

use crate::frontend::flags::FlagSet;
use iced_x86::{Instruction, Mnemonic, OpKind, Register};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};

/// An instruction's effect on the arithmetic flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlagEffect {
    /// Flags it may read.
    pub reads: FlagSet,
    /// Flags it certainly overwrites: none when it may leave them all
    /// alone (a shift or rotate whose count may be zero, a `rep` string
    /// instruction with RCX = 0).
    pub kills: FlagSet,
    /// Flags it writes with a value the manuals define (a logic op leaves
    /// AF, imul SF/ZF/AF/PF as they happen to be).
    pub defines: FlagSet,
}

/// By `Code` (iced has fewer than 5,000), zero until first asked: the
/// effect's reads, kills and defines in bytes 0 to 2 (kills as if without
/// a `rep` prefix), and the bits below. A race stores the same value twice.
static BY_CODE: [AtomicU32; CODES] = [const { AtomicU32::new(0) }; CODES];
const CODES: usize = 8192;
const KNOWN: u32 = 1 << 31;
/// A shift or rotate: the effect depends on the count, worked out each time.
const COUNTED: u32 = 1 << 30;
/// iced's answer for the code changes when both operands are one register
/// (it special-cases forms like `xor eax, eax`, whose flag values it
/// knows): such an instance is worked out each time. The sets Transit
/// reads have not been seen to change, but an entry is only trusted for
/// the instances it was checked for.
const SAME_REGISTER_DIFFERS: u32 = 1 << 29;

/// `insn`'s effect on the flags.
pub fn flag_effect(insn: &Instruction) -> FlagEffect {
    let known = BY_CODE.get(insn.code() as usize).map_or(0, |slot| slot.load(Relaxed));
    let bits = if known & (KNOWN | COUNTED | SAME_REGISTER_DIFFERS) == KNOWN { known } else { instance_bits(insn, known) };
    let set = |byte: u32| FlagSet::from_iced(bits >> (8 * byte));
    // A `rep` string instruction with RCX = 0 passes every flag through
    // unchanged, so it kills none: a flag live after it is live before it.
    let kills = if insn.has_rep_prefix() || insn.has_repne_prefix() { FlagSet::NONE } else { set(1) };
    FlagEffect { reads: set(0), kills, defines: set(2) }
}

/// The bits for `insn` when its code's entry (`known`) is empty (filling
/// it) or does not hold for every instance (shifts and rotates, for one).
/// Out of line, so that the usual path saves no registers.
#[inline(never)]
fn instance_bits(insn: &Instruction, known: u32) -> u32 {
    let mut bits = known;
    if bits == 0 {
        bits = code_bits(insn);
        if let Some(slot) = BY_CODE.get(insn.code() as usize) {
            slot.store(bits, Relaxed);
        }
    }
    if bits & COUNTED != 0 || (bits & SAME_REGISTER_DIFFERS != 0 && one_register_twice(insn)) {
        bits = iced_bits(insn);
    }
    bits
}

/// iced's sets for this instance, with `COUNTED` for shifts and rotates.
fn iced_bits(insn: &Instruction) -> u32 {
    let set = |bits: u32| FlagSet::from_iced(bits);
    let counted = matches!(insn.mnemonic(), Mnemonic::Shl | Mnemonic::Sal | Mnemonic::Shr | Mnemonic::Sar | Mnemonic::Rol | Mnemonic::Ror | Mnemonic::Rcl | Mnemonic::Rcr | Mnemonic::Shld | Mnemonic::Shrd);
    let (reads, modified, undefined) = (set(insn.rflags_read()), set(insn.rflags_modified()), set(insn.rflags_undefined()));
    // Whatever it writes, a shift by a count that may be zero may also
    // pass every flag through unchanged: it kills none.
    let kills = if counted && count_may_be_zero(insn) { FlagSet::NONE } else { modified };
    u32::from(reads.0) | u32::from(kills.0) << 8 | u32::from(modified.minus(undefined).0) << 16 | if counted { COUNTED } else { 0 } | KNOWN
}

/// The entry for `insn`'s code, from an instance: a code whose effect
/// changes when both operands are one register is recognised by asking
/// iced about the instance with its second register changed.
fn code_bits(insn: &Instruction) -> u32 {
    if !one_register_twice(insn) {
        return iced_bits(insn);
    }
    let mut other = *insn;
    other.set_op1_register(neighbour(insn.op1_register()));
    let base = iced_bits(&other);
    if base == iced_bits(insn) {
        base
    } else {
        base | SAME_REGISTER_DIFFERS
    }
}

fn one_register_twice(insn: &Instruction) -> bool {
    insn.op0_kind() == OpKind::Register
        && insn.op1_kind() == OpKind::Register
        && insn.op0_register() != Register::None
        && insn.op0_register() == insn.op1_register()
}

/// Another register of `reg`'s size and kind (the register numbered one
/// up or down within its group: every group starts at an odd number and
/// has an even count, from AL on).
fn neighbour(reg: Register) -> Register {
    let n = reg as usize;
    let other = if n % 2 == 1 { n + 1 } else { n - 1 };
    Register::values().nth(other).unwrap_or(reg)
}

/// Shifts and rotates whose count may be zero modulo the operand width.
fn count_may_be_zero(insn: &Instruction) -> bool {
    let count_op = insn.op_count() - 1;
    match insn.op_kind(count_op) {
        OpKind::Immediate8 => {
            let mask = if crate::frontend::decode::operand_size(insn) == 8 { 63 } else { 31 };
            insn.immediate8() & mask == 0
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use iced_x86::{Code, Decoder, DecoderOptions};

    /// The effect as iced gives it, asked afresh.
    fn fresh(insn: &Instruction) -> FlagEffect {
        let set = |bits: u32| FlagSet::from_iced(bits);
        let modified = set(insn.rflags_modified());
        let shift = matches!(insn.mnemonic(), Mnemonic::Shl | Mnemonic::Shr | Mnemonic::Sar | Mnemonic::Rol);
        let count_zero_possible = shift && (insn.op1_kind() != OpKind::Immediate8 || insn.immediate8() & 31 == 0);
        let may_skip = count_zero_possible || insn.has_rep_prefix() || insn.has_repne_prefix();
        FlagEffect {
            reads: set(insn.rflags_read()),
            kills: if may_skip { FlagSet::NONE } else { modified },
            defines: modified.minus(set(insn.rflags_undefined())),
        }
    }

    #[test]
    fn codes_fit_the_table() {
        assert!(Code::values().len() <= CODES);
    }

    #[test]
    fn remembered_effects_are_iceds_for_every_instance() {
        // Each pair shares a code and differs in operands where iced's
        // answer does: the first one asked fills the entry.
        let cases: &[&[u8]] = &[
            &[0x31, 0xc0], // xor eax, eax (iced's special case)
            &[0x31, 0xc8], // xor eax, ecx
            &[0x31, 0xc0],
            &[0x29, 0xdb], // sub ebx, ebx
            &[0x29, 0xcb], // sub ebx, ecx
            &[0x85, 0xc0], // test eax, eax
            &[0x85, 0xc8], // test eax, ecx
            &[0xc1, 0xe0, 0x00], // shl eax, 0: nothing
            &[0xc1, 0xe0, 0x01], // shl eax, 1: OF defined
            &[0xc1, 0xe0, 0x05], // shl eax, 5: OF undefined
            &[0xc1, 0xe0, 0x20], // shl eax, 32: a zero count
            &[0xd3, 0xe0], // shl eax, cl: the count may be zero
            &[0xf3, 0xa6], // repe cmpsb: RCX may be zero
            &[0xa6], // cmpsb
            &[0x48, 0x11, 0xce], // adc rsi, rcx
            &[0x0f, 0xaf, 0xc0], // imul eax, eax
            &[0x0f, 0xaf, 0xc1], // imul eax, ecx
        ];
        for bytes in cases {
            let insn = Decoder::new(64, bytes, DecoderOptions::NONE).decode();
            let expected = fresh(&insn);
            assert_eq!(flag_effect(&insn), expected, "{insn}");
            assert_eq!(flag_effect(&insn), expected, "{insn}, remembered");
        }
    }

    #[test]
    fn neighbours_have_the_same_size() {
        for reg in [Register::AL, Register::CL, Register::R15L, Register::AX, Register::EAX, Register::ECX, Register::RAX, Register::R15, Register::XMM0, Register::XMM15, Register::SPL] {
            let other = neighbour(reg);
            assert_ne!(other, reg);
            assert_eq!(other.size(), reg.size(), "{reg:?} -> {other:?}");
            assert_eq!(other.is_gpr(), reg.is_gpr(), "{reg:?} -> {other:?}");
        }
    }
}
