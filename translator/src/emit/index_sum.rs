//! Accesses at two displacements from one `base + index * scale`, one
//! instruction after the other (`mov edx, [rsp+rax*8+0xa0]; movsxd rsi,
//! [rsp+rax*8+0xa4]`: the fields of `a[i]`): the first computes the sum
//! into the first scratch register and accesses `[sum, #disp]`; the
//! second finds the sum still there and adds nothing.
//!
//! The sum stays usable for the next instruction only, and only if the
//! instruction that computed it is a plain load, store or compare that
//! writes no register but its first operand, not the base nor the index,
//! and nothing was emitted between the two (`valid_at`), so the scratch
//! register is untouched. `TRANSIT_TUNING=-index-sums` turns it off.

use super::{regs, Emitter, Reg};
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

/// The sum an instruction left in `regs::SCRATCH[0]`.
#[derive(Clone, Copy)]
pub struct IndexSum {
    base: Reg,
    index: Reg,
    shift: u32,
    /// Computed by the instruction being translated: `after` decides.
    pending: bool,
    /// The code's end when the next instruction may use it.
    valid_at: usize,
}

impl Emitter {
    /// The first scratch register, if it holds `base + index << shift`
    /// for this instruction's access (it then takes it).
    pub(super) fn reuse_index_sum(&mut self, base: Reg, index: Reg, shift: u32) -> Option<Reg> {
        let sum = self.index_sum?;
        let same = (sum.base, sum.index, sum.shift) == (base, index, shift);
        if !same || sum.pending || sum.valid_at != self.offset() || self.scratch_taken() != 0 {
            return None;
        }
        let t = self.tmp();
        self.index_sum = Some(IndexSum { pending: true, valid_at: usize::MAX, ..sum });
        Some(t)
    }

    /// `t` now holds `base + index << shift` (computed for this
    /// instruction's access).
    pub(super) fn note_index_sum(&mut self, t: Reg, base: Reg, index: Reg, shift: u32) {
        if t == regs::SCRATCH[0] {
            self.index_sum = Some(IndexSum { base, index, shift, pending: true, valid_at: usize::MAX });
        }
    }

    /// After `insn`'s code: keeps the sum it computed for the next
    /// instruction if `insn` leaves it, the base and the index alone.
    #[inline]
    pub fn index_sum_after(&mut self, insn: &Instruction) {
        let Some(sum) = self.index_sum else { return };
        let keeps = sum.pending && leaves_registers(insn, &[sum.base, sum.index]);
        self.index_sum = keeps.then(|| IndexSum { pending: false, valid_at: self.offset(), ..sum });
    }
}

/// The base, index and shift of `insn`'s memory operand, and its
/// displacement, if it is `[base + index * scale + disp]` with 64-bit
/// registers, no FS or GS, and a displacement ldur takes.
#[inline]
pub fn index_sum_operand(insn: &Instruction) -> Option<(Reg, Reg, u32, i32)> {
    // Most accesses have no index: that test first.
    let index = insn.memory_index();
    if index == Register::None || !crate::tuning::tuning().index_sums {
        return None;
    }
    let base = insn.memory_base();
    let disp = insn.memory_displacement64() as i64;
    let registers = base.is_gpr64() && index.is_gpr64();
    (registers && super::operand::flat_segment(insn) && (-256..256).contains(&disp) && disp != 0).then(|| {
        (regs::gpr(base.number()), regs::gpr(index.number()), insn.memory_index_scale().trailing_zeros(), disp as i32)
    })
}

/// Whether `insn` is a load, store or compare that writes no general
/// register but its first operand, and that is none of `hosts` (guest
/// GPRs' host registers).
fn leaves_registers(insn: &Instruction, hosts: &[Reg]) -> bool {
    use Mnemonic::*;
    if !matches!(insn.mnemonic(), Mov | Movzx | Movsx | Movsxd | Cmp) {
        return false;
    }
    match insn.op0_kind() {
        OpKind::Memory => true,
        OpKind::Register => {
            let full = insn.op0_register().full_register();
            full.is_gpr64() && !hosts.contains(&regs::gpr(full.number()))
        }
        _ => false,
    }
}
