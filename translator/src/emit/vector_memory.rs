//! SSE/AVX memory operands: a vector register's low 1, 2, 4, 8 or all 16
//! bytes loaded or stored in the cheapest form aarch64 takes for the
//! address (`operand::Addr`, chosen as for general-register accesses:
//! `[base, #simm9]`, `[base, #uimm12 * size]`, `[base, index, lsl
//! log2(size)]`, or `[base], #step` where the base steps next:
//! `fused_pairs::vector_step`), and 256-bit operands as a Q-register pair.
//!
//! Vector accesses are plain loads and stores under every memory order
//! (`MemoryOrder`), and aarch64 checks no alignment for them, so each form
//! serves every vector access. A faulting access is found by the marks of
//! its instruction (`mark_access`), whatever its form.

use super::aarch64::{Inst, MemAddr, VReg, Width, XReg};
use super::operand::Addr;
use super::{a64, Emitter, Reg, Unsupported};
#[allow(unused_imports)]
use dynasmrt::{DynasmApi, DynasmLabelApi};
use iced_x86::{Instruction, Register};

impl Emitter {
    /// Loads `bytes` bytes of `insn`'s memory operand into `v`'s low
    /// bytes (clearing the rest, as scalar loads do).
    pub(super) fn vload_operand(&mut self, v: Reg, insn: &Instruction, bytes: u8) -> Result<(), Unsupported> {
        self.vector_access(true, v, insn, bytes)
    }

    /// Stores `v`'s low `bytes` bytes to `insn`'s memory operand.
    pub(super) fn vstore_operand(&mut self, v: Reg, insn: &Instruction, bytes: u8) -> Result<(), Unsupported> {
        self.vector_access(false, v, insn, bytes)
    }

    fn vector_access(&mut self, load: bool, v: Reg, insn: &Instruction, bytes: u8) -> Result<(), Unsupported> {
        let width = Width::of_bytes(bytes).ok_or(Unsupported)?;
        let addr = self.plain_access_address(insn, bytes, true)?;
        let addr = match addr {
            Addr::Offset { base, off: 0 } if self.post_step.is_some_and(|p| p.base == base && !p.taken) => {
                let step = self.post_step.as_mut().map_or(0, |p| {
                    p.taken = true;
                    p.step
                });
                MemAddr::PostIndexed { base: XReg(base), step }
            }
            Addr::Offset { base, off } if (-256..256).contains(&off) => MemAddr::Unscaled { base: XReg(base), off },
            // `plain_access_address` leaves larger offsets only where they
            // are multiples of `bytes` in range.
            Addr::Offset { base, off } => MemAddr::Scaled { base: XReg(base), off: off as u32 },
            Addr::Indexed { base, index, shift } => MemAddr::Indexed { base: XReg(base), index: XReg(index), shift },
        };
        self.mark_access();
        self.inst(Inst::VecMem { load, width, rt: VReg(v), addr });
        Ok(())
    }

    /// 32 bytes of `insn`'s memory operand into `low` and `high`.
    pub(super) fn load_pair_operand(&mut self, low: Reg, high: Reg, insn: &Instruction) -> Result<(), Unsupported> {
        let (base, off) = self.pair_address(insn)?;
        self.mark_access();
        a64!(self.ops; ldp Q(low), Q(high), [X(base), off]);
        Ok(())
    }

    /// `low` and `high` to `insn`'s 32-byte memory operand.
    pub(super) fn store_pair_operand(&mut self, low: Reg, high: Reg, insn: &Instruction) -> Result<(), Unsupported> {
        let (base, off) = self.pair_address(insn)?;
        self.mark_access();
        a64!(self.ops; stp Q(low), Q(high), [X(base), off]);
        Ok(())
    }

    /// The address of a 256-bit operand as ldp/stp of Q registers take it:
    /// a base and a multiple of 16 in -1024..=1008.
    fn pair_address(&mut self, insn: &Instruction) -> Result<(Reg, i32), Unsupported> {
        let pair_offset = |off: i64| off % 16 == 0 && (-1024..1024).contains(&off);
        let (base, disp) = (insn.memory_base(), insn.memory_displacement64() as i64);
        let bare_base = super::operand::registers_address(insn) && base.is_gpr64() && insn.memory_index() == Register::None;
        if bare_base && pair_offset(disp) {
            return Ok((super::operand::gpr_of(base)?.0, disp as i32));
        }
        let (base, off) = self.address(insn)?;
        if pair_offset(off.into()) {
            return Ok((base, off));
        }
        let t = self.tmp();
        self.add_imm(t, base, off.into());
        Ok((t, 0))
    }
}
