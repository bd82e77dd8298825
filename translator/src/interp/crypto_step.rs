//! The interpreter's AES-NI, PCLMULQDQ and crc32: operands from `CpuState`
//! and guest memory, semantics from `aes_soft` and `crc32c`. Runs on hosts
//! without FEAT_AES, FEAT_PMULL or FEAT_CRC32, and for aeskeygenassist.

use crate::interp::aes_soft;
use crate::cpu::state::CpuState;
use crate::interp::guest_access::{read_guest, read_reg};
use iced_x86::{Instruction, Mnemonic, OpKind};

/// Whether `step` runs `m`.
pub fn handles(m: Mnemonic) -> bool {
    use Mnemonic::*;
    matches!(m, Aesenc | Aesenclast | Aesdec | Aesdeclast | Aesimc | Aeskeygenassist | Pclmulqdq | Crc32)
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
        state.gpr[dst] = crate::interp::crc32c::update(state.gpr[dst] as u32, data, bytes) as u64;
        return;
    }
    let src = match insn.op1_kind() {
        // SAFETY: guest memory, probed by the interpreter before this runs.
        OpKind::Memory => unsafe { (addr as *const u128).read_unaligned() },
        _ => state.xmm[insn.op1_register().number()],
    };
    let d = insn.op0_register().number();
    let dst = state.xmm[d];
    state.xmm[d] = match insn.mnemonic() {
        Mnemonic::Aesenc => aes_soft::encrypt_round(dst, src, false),
        Mnemonic::Aesenclast => aes_soft::encrypt_round(dst, src, true),
        Mnemonic::Aesdec => aes_soft::decrypt_round(dst, src, false),
        Mnemonic::Aesdeclast => aes_soft::decrypt_round(dst, src, true),
        Mnemonic::Aesimc => aes_soft::inverse_mix_columns(src),
        Mnemonic::Aeskeygenassist => aes_soft::key_gen_assist(src, insn.immediate8()),
        // Pclmulqdq: imm8 bit 0 selects the destination's quadword, bit 4 the source's.
        _ => {
            let imm = insn.immediate8();
            let a = (dst >> (64 * (imm & 1) as u32)) as u64;
            let b = (src >> (64 * ((imm >> 4) & 1) as u32)) as u64;
            aes_soft::clmul(a, b)
        }
    };
}
