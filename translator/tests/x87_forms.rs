//! Every x87 form in iced's tables translates: the x87 interpreter and the
//! handler table agree (an integration test, so the interpreter's own
//! tests do not depend on the table above it).

use iced_x86::{Code, CpuidFeature, Decoder, DecoderOptions, Mnemonic};
use std::collections::BTreeSet;
use transit_translator::translate::is_supported;
use transit_translator::interp::x87::is_x87;

/// x87 forms iced knows that the CPU Transit presents does not have:
/// the 387SL's and Cyrix's extra instructions (iced decodes them only
/// with their decoder options; on Intel they are other instructions
/// or #UD) and the 287XL-only fnsetpm meaning (a NOP since the 387,
/// which `Fnsetpm` implements).
fn not_on_this_cpu(code: Code) -> bool {
    code.cpuid_features()
        .iter()
        .any(|f| matches!(f, CpuidFeature::FPU387SL_ONLY | CpuidFeature::FPU287XL_ONLY | CpuidFeature::CYRIX_FPU))
}

fn is_x87_form(code: Code) -> bool {
    code.cpuid_features()
        .iter()
        .any(|f| matches!(f, CpuidFeature::FPU | CpuidFeature::FPU287 | CpuidFeature::FPU387))
        || code.mnemonic() == Mnemonic::Fisttp
}

/// Every x87 form in iced's tables (CPUID FPU, FPU287, FPU387, and
/// fisttp) decodes from some D8-DF encoding (with the 9B wait and 66
/// operand-size prefixes) and translates.
#[test]
fn every_x87_form_in_iceds_table_is_implemented() {
    // fisttp is SSE3's: present the level that has it (no other test in
    // this binary depends on the level).
    transit_translator::cpu::features::present(transit_translator::cpu::features::CpuLevel::HIGHEST);
    let wanted: BTreeSet<Code> =
        Code::values().filter(|&c| is_x87_form(c) && !not_on_this_cpu(c) && c != Code::Wait).collect();
    assert!(wanted.len() > 150, "iced lists {} x87 forms", wanted.len());
    let mut seen = BTreeSet::new();
    for prefix in [&[][..], &[0x9b], &[0x66], &[0x9b, 0x66]] {
        for first in 0xd8..=0xdfu8 {
            for modrm in 0..=255u8 {
                let mut bytes = prefix.to_vec();
                bytes.extend_from_slice(&[first, modrm, 0, 0, 0, 0, 0, 0]);
                let mut decoder = Decoder::with_ip(64, &bytes, 0x1000, DecoderOptions::NONE);
                let mut insn = decoder.decode();
                if insn.code() == Code::Wait {
                    // 9B alone before an instruction without a wait form.
                    insn = decoder.decode();
                }
                if !wanted.contains(&insn.code()) {
                    continue;
                }
                assert!(is_x87(insn.mnemonic()), "{:?} ({insn}) is not in is_x87", insn.code());
                assert!(is_supported(&insn), "{:?} ({insn}) does not translate", insn.code());
                seen.insert(insn.code());
            }
        }
    }
    // The wait forms (9B D9 /6 fstenv, ...): iced decodes 9B as a wait
    // of its own, so these Codes come only from its encoder; built
    // directly here, as Transit would see them from another decoder.
    for &code in wanted.difference(&seen) {
        use iced_x86::{Instruction, MemoryOperand, OpCodeOperandKind, Register};
        let operand = code.op_code().op_kinds().first().copied();
        let insn = match operand {
            None => Instruction::with(code),
            Some(OpCodeOperandKind::ax) => Instruction::with1(code, Register::AX).unwrap(),
            Some(_) => Instruction::with1(code, MemoryOperand::with_base(Register::RAX)).unwrap(),
        };
        assert_eq!(insn.code(), code);
        assert!(is_x87(insn.mnemonic()), "{code:?} is not in is_x87");
        assert!(is_supported(&insn), "{code:?} ({insn}) does not translate");
        let wait_form = matches!(
            insn.mnemonic(),
            Mnemonic::Fstenv
                | Mnemonic::Fstcw
                | Mnemonic::Feni
                | Mnemonic::Fdisi
                | Mnemonic::Fclex
                | Mnemonic::Finit
                | Mnemonic::Fsetpm
                | Mnemonic::Fsave
                | Mnemonic::Fstsw
        );
        assert!(wait_form, "{code:?} was not reached by any encoding");
    }
}
