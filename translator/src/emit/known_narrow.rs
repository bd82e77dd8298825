//! Byte and word compares of a register a `movzx` just filled read it as
//! it is, without `uxtb`/`uxth`: `movzx r15d, byte [rax]; cmp r15b, 0xb5`
//! (SQLite's opcode switch), `movzx eax, byte [rdi]; movzx edx, byte
//! [rsi]; cmp al, dl` (bzip2's compares). Found when the `movzx` is
//! translated (one look at the next two instructions, for each `movzx`
//! only, which already leads a fused pair), and handed to the compare's
//! translation as the registers known to hold a byte or a word
//! zero-extended (`Emitter::known_narrow`).
//! `TRANSIT_TUNING=-known-narrow` turns it off.

use iced_x86::{Code, Instruction, Register};

/// Registers known to hold a byte or a word zero-extended; bit n: guest
/// GPR n (x86 numbering, the host register's too, `regs::gpr`).
#[derive(Clone, Copy, Default)]
pub struct KnownNarrow {
    below_2_8: u16,
    below_2_16: u16,
}

impl KnownNarrow {
    /// Whether host register `host`, a guest GPR's, holds its low `size`
    /// bytes zero-extended (1 or 2; never for wider reads).
    pub fn zero_extended(&self, host: u8, size: u8) -> bool {
        let known = match size {
            1 => self.below_2_8,
            2 => self.below_2_8 | self.below_2_16,
            _ => 0,
        };
        u32::from(known) & 1u32 << host != 0
    }
}

/// What `movzx`es told the compares after them, by instruction index.
#[derive(Clone, Copy)]
pub struct NarrowHints {
    /// The first index a hint is for (usize::MAX: none), so that other
    /// instructions pay one compare.
    first: usize,
    hints: [(usize, KnownNarrow); 2],
}

impl Default for NarrowHints {
    fn default() -> Self {
        NarrowHints { first: usize::MAX, hints: [(usize::MAX, KnownNarrow::default()); 2] }
    }
}

impl NarrowHints {
    /// `insns[i]`, a `movzx` to a 32/64-bit register: if a byte or word
    /// compare of its low byte or word comes next, or after one
    /// instruction that neither reads nor writes the register, notes it
    /// for that compare.
    pub fn note_movzx(&mut self, insns: &[Instruction], i: usize) {
        use Code::*;
        let movzx = &insns[i];
        let bits_16 = match movzx.code() {
            Movzx_r32_rm8 | Movzx_r64_rm8 => false,
            Movzx_r32_rm16 | Movzx_r64_rm16 => true,
            _ => return,
        };
        if !crate::tuning::tuning().known_narrow {
            return;
        }
        let full = movzx.op0_register().full_register();
        let n = full.number();
        for j in [i + 1, i + 2] {
            let Some(insn) = insns.get(j) else { return };
            if compares_low_part(insn, n) {
                // The compare's own entry, else a free one (two movzx, two
                // compares at most are pending).
                let slot = self.hints.iter().position(|h| h.0 == j).or_else(|| self.hints.iter().position(|h| h.0 == usize::MAX)).unwrap_or(1);
                let (at, known) = &mut self.hints[slot];
                if *at != j {
                    (*at, *known) = (j, KnownNarrow::default());
                }
                let bit = 1u16 << n;
                if bits_16 {
                    known.below_2_16 |= bit;
                } else {
                    known.below_2_8 |= bit;
                }
                self.first = self.first.min(j);
                return;
            }
            if !leaves_alone(insn, full) {
                return;
            }
        }
    }

    /// What is known before `insns[i]` (a hint is used once).
    #[inline]
    pub fn take(&mut self, i: usize) -> KnownNarrow {
        if i < self.first {
            return KnownNarrow::default();
        }
        let mut known = KnownNarrow::default();
        // A hint for an instruction passed by (a fused pair's second) goes.
        for (at, hint) in &mut self.hints {
            if *at == i {
                known.below_2_8 |= hint.below_2_8;
                known.below_2_16 |= hint.below_2_16;
            }
            if *at <= i {
                *at = usize::MAX;
            }
        }
        self.first = self.hints.iter().map(|h| h.0).min().unwrap_or(usize::MAX);
        known
    }
}

/// Whether `insn` is a byte or word compare with a register operand whose
/// full register is guest GPR `n` (AL..R15L, AX..R15W; not AH..BH).
fn compares_low_part(insn: &Instruction, n: usize) -> bool {
    use Code::*;
    let compare = matches!(
        insn.code(),
        Cmp_rm8_imm8 | Cmp_rm8_r8 | Cmp_r8_rm8 | Cmp_AL_imm8 | Cmp_rm16_imm16 | Cmp_rm16_imm8 | Cmp_rm16_r16 | Cmp_r16_rm16 | Cmp_AX_imm16
    );
    let low_part = |r: Register| !matches!(r, Register::AH | Register::CH | Register::DH | Register::BH) && r.full_register().number() == n;
    compare
        && (0..2).any(|k| insn.op_kind(k) == iced_x86::OpKind::Register && low_part(insn.op_register(k)) && insn.op_register(k).is_gpr())
}

/// Whether `insn`, between a `movzx` and a compare, leaves register `full`
/// as it was: it writes only its first operand, memory or another
/// register (a fault there leaves the block before the compare).
fn leaves_alone(insn: &Instruction, full: Register) -> bool {
    use iced_x86::Mnemonic::*;
    let writes_only_first = matches!(insn.mnemonic(), Movzx | Movsx | Movsxd | Mov | Lea | Add | Sub | And | Or | Xor | Cmp | Test);
    let first = insn.op0_register();
    writes_only_first && (insn.op0_kind() == iced_x86::OpKind::Memory || first.is_gpr() && first.full_register() != full)
}
