//! The interpreter's AES-NI, PCLMULQDQ and crc32: operands from `CpuState`
//! and guest memory, semantics from `aes_soft` and `crc32c`. Runs on hosts
//! without FEAT_AES, FEAT_PMULL or FEAT_CRC32, and for aeskeygenassist.

use crate::interp::aes_soft;
use crate::cpu::state::CpuState;
use crate::interp::guest_access::{read_guest, read_reg};
use crate::interp::vector_operands;
use iced_x86::{Instruction, Mnemonic, OpKind};

/// Whether `step` runs `m`.
pub fn handles(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(
        m,
        Aesenc | Aesenclast | Aesdec | Aesdeclast | Aesimc | Aeskeygenassist | Pclmulqdq | Crc32 | Vaesenc | Vaesenclast
            | Vaesdec | Vaesdeclast | Vaesimc | Vaeskeygenassist | Vpclmulqdq
    )
}

/// Runs `insn`; `addr` is its memory operand's address (probed), if any.
pub fn step(state: &mut CpuState, insn: &Instruction, addr: u64) {
    if insn.mnemonic() == Mnemonic::Crc32 {
        let (data, bytes) = match insn.op1_kind() {
            OpKind::Memory => {
                let n = insn.memory_size().size() as u32;
                (read_guest(addr, n), n)
            }
            _ => (read_reg(state, insn.op1_register()), insn.op1_register().size() as u32),
        };
        // The 32-bit result is zero-extended into r32 and r64 alike.
        let dst = insn.op0_register().full_register().number();
        state.gpr[dst] = crate::crc32c::update(state.gpr[dst] as u32, data, bytes) as u64;
        return;
    }
    use Mnemonic::*;
    let (dst, src) = vector_operands::sources(state, insn, addr, 0);
    let value = match insn.mnemonic() {
        Aesenc | Vaesenc => aes_soft::encrypt_round(dst, src, false),
        Aesenclast | Vaesenclast => aes_soft::encrypt_round(dst, src, true),
        Aesdec | Vaesdec => aes_soft::decrypt_round(dst, src, false),
        Aesdeclast | Vaesdeclast => aes_soft::decrypt_round(dst, src, true),
        Aesimc | Vaesimc => aes_soft::inverse_mix_columns(src),
        Aeskeygenassist | Vaeskeygenassist => aes_soft::key_gen_assist(src, insn.immediate8()),
        // Pclmulqdq: imm8 bit 0 selects the destination's quadword, bit 4 the source's.
        _ => {
            let imm = insn.immediate8();
            let a = (dst >> (64 * (imm & 1) as u32)) as u64;
            let b = (src >> (64 * ((imm >> 4) & 1) as u32)) as u64;
            aes_soft::clmul(a, b)
        }
    };
    vector_operands::write_destination(state, insn, 0, value);
}
