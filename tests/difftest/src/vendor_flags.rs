//! Flags that the Intel SDM or the AMD APM leaves undefined where iced-x86's
//! tables call them defined. The oracle may be either vendor's CPU (CI and
//! development machines are Intel or AMD), so a flag undefined on either is
//! never compared and never consumed by a generated sequence: both go through
//! `compare::undefined_after`, which reads them from the forms' rows
//! (`transit_translator::frontend::forms::undefined_flags`); the tests here
//! check those rows against the manuals.
//!
//! Where the two vendors *define* a result differently, Transit follows the
//! vendor its CPUID names (Intel); no such instruction is generated today.

/// The host CPU's vendor, family/model/stepping and brand string, for the
/// report: a mismatch seen on one vendor's CPU only is then traceable.
#[cfg(target_arch = "x86_64")]
pub fn host_cpu_description() -> String {
    use std::arch::x86_64::__cpuid;
    // Leaves 0x80000002..4 exist when 0x80000000 reports them.
    let (vendor, leaf1, brand) = {
        let l0 = __cpuid(0);
        let vendor: Vec<u8> = [l0.ebx, l0.edx, l0.ecx].iter().flat_map(|r| r.to_le_bytes()).collect();
        let leaf1 = __cpuid(1).eax;
        let brand: Vec<u8> = if __cpuid(0x8000_0000).eax >= 0x8000_0004 {
            (0x8000_0002..=0x8000_0004u32)
                .flat_map(|l| {
                    let r = __cpuid(l);
                    [r.eax, r.ebx, r.ecx, r.edx]
                })
                .flat_map(|r| r.to_le_bytes())
                .collect()
        } else {
            Vec::new()
        };
        (vendor, leaf1, brand)
    };
    // Family and model with their extended fields (SDM CPUID leaf 1).
    let base_family = (leaf1 >> 8) & 0xf;
    let family = if base_family == 0xf { base_family + ((leaf1 >> 20) & 0xff) } else { base_family };
    let model = if base_family >= 6 { ((leaf1 >> 12) & 0xf0) | ((leaf1 >> 4) & 0xf) } else { (leaf1 >> 4) & 0xf };
    let brand = String::from_utf8_lossy(&brand).trim_matches(|c: char| c == '\0' || c.is_whitespace()).to_string();
    format!(
        "{} family {family:#x} model {model:#x} stepping {} ({brand})",
        String::from_utf8_lossy(&vendor),
        leaf1 & 0xf
    )
}

#[cfg(test)]
mod tests {
    use iced_x86::{Code, Instruction, Register, RflagsBits};
    use transit_translator::frontend::forms::vendor_undefined as undefined_by_either_vendor;

    fn with_count(code: Code, reg: Register, count: u32) -> Instruction {
        Instruction::with2(code, reg, count).expect("valid operands")
    }

    #[test]
    fn rotate_through_carry_of_is_undefined_for_counts_above_one() {
        // iced reduces 18 modulo 17 to 1 and would compare OF here.
        let insn = with_count(Code::Rcr_rm16_imm8, Register::AX, 18);
        assert_eq!(undefined_by_either_vendor(&insn), RflagsBits::OF);
        let insn = with_count(Code::Rcl_rm8_imm8, Register::AL, 9);
        assert_eq!(undefined_by_either_vendor(&insn), RflagsBits::OF);
        let insn = with_count(Code::Rcl_rm32_imm8, Register::EAX, 33);
        assert_eq!(undefined_by_either_vendor(&insn), 0, "33 masks to 1");
    }

    /// BMI1, BMI2 and LZCNT as the SDM and the APM describe them (they
    /// agree): each flag-writing form writes all six flags, these undefined;
    /// the rest leave every flag alone. iced's tables (with this module's
    /// additions) must say the same, or the difftest would compare, or a
    /// sequence read, a flag no manual defines.
    #[test]
    fn bit_manipulation_flags_follow_both_manuals() {
        use iced_x86::Register::{RAX, RBX, RCX};
        use RflagsBits as F;
        let all = F::OF | F::SF | F::ZF | F::AF | F::CF | F::PF;
        let three = |code| Instruction::with3(code, RAX, RBX, RCX).unwrap();
        let two = |code| Instruction::with2(code, RAX, RBX).unwrap();
        let writing = [
            (three(Code::VEX_Andn_r64_r64_rm64), F::AF | F::PF),
            (three(Code::VEX_Bextr_r64_rm64_r64), F::SF | F::AF | F::PF),
            (three(Code::VEX_Bzhi_r64_rm64_r64), F::AF | F::PF),
            (two(Code::VEX_Blsi_r64_rm64), F::AF | F::PF),
            (two(Code::VEX_Blsmsk_r64_rm64), F::AF | F::PF),
            (two(Code::VEX_Blsr_r64_rm64), F::AF | F::PF),
            (two(Code::Tzcnt_r64_rm64), F::OF | F::SF | F::AF | F::PF),
            (two(Code::Lzcnt_r64_rm64), F::OF | F::SF | F::AF | F::PF),
        ];
        for (insn, undefined) in writing {
            assert_eq!(insn.rflags_modified(), all, "{insn}");
            assert_eq!(insn.rflags_undefined() | undefined_by_either_vendor(&insn), undefined, "{insn}");
        }
        let memory = iced_x86::MemoryOperand::with_base(RBX);
        let untouched = [
            three(Code::VEX_Mulx_r64_r64_rm64),
            three(Code::VEX_Pdep_r64_r64_rm64),
            three(Code::VEX_Pext_r64_r64_rm64),
            three(Code::VEX_Sarx_r64_rm64_r64),
            three(Code::VEX_Shlx_r64_rm64_r64),
            three(Code::VEX_Shrx_r64_rm64_r64),
            Instruction::with3(Code::VEX_Rorx_r64_rm64_imm8, RAX, RBX, 5).unwrap(),
            Instruction::with2(Code::Movbe_r64_m64, RAX, memory).unwrap(),
            Instruction::with2(Code::Movbe_m64_r64, memory, RAX).unwrap(),
        ];
        for insn in untouched {
            assert_eq!(insn.rflags_modified() | insn.rflags_read(), 0, "{insn}");
        }
    }

    #[test]
    fn narrow_shift_cf_is_undefined_from_the_operand_width_on() {
        assert_eq!(undefined_by_either_vendor(&with_count(Code::Shr_rm8_imm8, Register::AL, 7)), 0);
        assert_eq!(undefined_by_either_vendor(&with_count(Code::Shr_rm8_imm8, Register::AL, 8)), RflagsBits::CF);
        assert_eq!(undefined_by_either_vendor(&with_count(Code::Shl_rm32_imm8, Register::EAX, 31)), 0);
        let cl = Instruction::with2(Code::Sar_rm16_CL, Register::AX, Register::CL).unwrap();
        assert_eq!(undefined_by_either_vendor(&cl), RflagsBits::CF);
    }
}
