//! Every legacy-encoded form of a CPUID feature set is claimed by the
//! translator: a walk over iced-x86's `Code` table that builds each form
//! with register and memory operands (encoded, then decoded back, so what
//! is checked is what a guest's bytes give the decoder) and asks
//! `translate::is_supported` (at the presented CPU, x86-64-v2 unless
//! TRANSIT_CPU says otherwise).
//!
//! `unclaimed_codes` is the reusable core: give it which features a form
//! may need. The test below checks MMX, SSE and SSE2 (x86-64-v1's vector
//! baseline) and SSSE3 forms on MMX registers.

use iced_x86::{
    Code, CpuidFeature, Decoder, DecoderOptions, Encoder, EncodingKind, Instruction, MemoryOperand,
    OpCodeOperandKind as K, Register,
};
use transit_translator::cpu::features::{self, CpuLevel};
use transit_translator::translate::is_supported;

/// Forms left out of the check, with the reason. Each one is a form a real
/// CPU runs and Transit does not: keep it short.
const EXCLUDED: &[(Code, &str)] = &[];

#[derive(Clone, Copy)]
enum Operand {
    Reg(Register),
    Mem,
    Imm8,
}

/// The operands a representative may use for one operand `kind` (the
/// register number varies with the operand's index so sources and
/// destinations differ); `None` when this walk cannot build it.
fn operand_choices(kind: K, index: usize) -> Option<Vec<Operand>> {
    use Operand::*;
    let n = index + 1;
    let mm = Register::MM0.wrapping_add_number(n);
    let xmm = Register::XMM0.wrapping_add_number(n);
    let (r16, r32, r64) = (Register::CX, Register::ECX, Register::RCX);
    Some(match kind {
        K::mem => vec![Mem],
        K::mm_reg | K::mm_rm => vec![Reg(mm)],
        K::xmm_reg | K::xmm_rm => vec![Reg(xmm)],
        K::r16_reg | K::r16_rm => vec![Reg(r16)],
        K::r32_reg | K::r32_rm => vec![Reg(r32)],
        K::r64_reg | K::r64_rm => vec![Reg(r64)],
        K::mm_or_mem => vec![Reg(mm), Mem],
        K::xmm_or_mem => vec![Reg(xmm), Mem],
        K::r16_or_mem => vec![Reg(r16), Mem],
        K::r32_or_mem | K::r32_reg_mem => vec![Reg(r32), Mem],
        K::r64_or_mem | K::r64_reg_mem => vec![Reg(r64), Mem],
        K::imm8 => vec![Imm8],
        _ => return None,
    })
}

trait RegisterNumber {
    fn wrapping_add_number(self, n: usize) -> Register;
}

impl RegisterNumber for Register {
    fn wrapping_add_number(self, n: usize) -> Register {
        let all: Vec<Register> = Register::values().collect();
        all[self as usize + n]
    }
}

fn build(code: Code, ops: &[Operand]) -> Option<Instruction> {
    use Operand::*;
    let mem = MemoryOperand::with_base(Register::RAX);
    let built = match ops {
        [] => Ok(Instruction::with(code)),
        [Reg(a)] => Instruction::with1(code, *a),
        [Mem] => Instruction::with1(code, mem),
        [Reg(a), Reg(b)] => Instruction::with2(code, *a, *b),
        [Reg(a), Mem] => Instruction::with2(code, *a, mem),
        [Mem, Reg(b)] => Instruction::with2(code, mem, *b),
        [Reg(a), Imm8] => Instruction::with2(code, *a, 1u32),
        [Reg(a), Reg(b), Imm8] => Instruction::with3(code, *a, *b, 1u32),
        [Reg(a), Mem, Imm8] => Instruction::with3(code, *a, mem, 1u32),
        [Mem, Reg(b), Imm8] => Instruction::with3(code, mem, *b, 1u32),
        _ => return None,
    };
    built.ok()
}

/// maskmovq and maskmovdqu name DS:rDI as an implicit operand.
fn masked_store(code: Code) -> Option<Instruction> {
    match code {
        Code::Maskmovq_rDI_mm_mm => Instruction::with_maskmovq(64, Register::MM1, Register::MM2, Register::None).ok(),
        Code::Maskmovdqu_rDI_xmm_xmm => {
            Instruction::with_maskmovdqu(64, Register::XMM1, Register::XMM2, Register::None).ok()
        }
        _ => None,
    }
}

/// The instruction a guest's bytes for `insn` decode to, if it is `code`.
fn through_bytes(insn: &Instruction, code: Code) -> Option<Instruction> {
    let mut encoder = Encoder::new(64);
    encoder.encode(insn, 0x1000).ok()?;
    let bytes = encoder.take_buffer();
    let decoded = Decoder::with_ip(64, &bytes, 0x1000, DecoderOptions::NONE).decode();
    (decoded.code() == code).then_some(decoded)
}

/// Every register/memory combination of `code`; `None` if an operand kind
/// is beyond this walk.
fn representatives(code: Code) -> Option<Vec<Instruction>> {
    if let Some(insn) = masked_store(code) {
        return Some(through_bytes(&insn, code).into_iter().collect());
    }
    let info = code.op_code();
    let mut combos: Vec<Vec<Operand>> = vec![Vec::new()];
    for i in 0..info.op_count() as usize {
        let choices = operand_choices(info.op_kind(i as u32), i)?;
        combos =
            combos.iter().flat_map(|c| choices.iter().map(move |o| c.iter().copied().chain([*o]).collect())).collect();
    }
    Some(combos.iter().filter_map(|ops| build(code, ops)).filter_map(|i| through_bytes(&i, code)).collect())
}

/// Legacy-encoded, 64-bit-mode codes whose CPUID features satisfy `wanted`.
fn codes_with(wanted: impl Fn(&[CpuidFeature]) -> bool) -> impl Iterator<Item = Code> {
    Code::values().filter(move |c| {
        c.encoding() == EncodingKind::Legacy
            && c.op_code().mode64()
            && !c.cpuid_features().is_empty()
            && wanted(c.cpuid_features())
    })
}

/// The codes with features `wanted` the translator does not translate in
/// every built form, with why: "no form built" or the form it refused.
pub fn unclaimed_codes(wanted: impl Fn(&[CpuidFeature]) -> bool) -> Vec<(Code, String)> {
    let mut out = Vec::new();
    for code in codes_with(wanted) {
        match representatives(code) {
            None => out.push((code, "operand kinds this walk cannot build".to_string())),
            Some(forms) if forms.is_empty() => out.push((code, "no form encodes and decodes back".to_string())),
            Some(forms) => {
                if let Some(refused) = forms.iter().find(|i| !is_supported(i)) {
                    out.push((code, format!("not translated: {refused}")));
                }
            }
        }
    }
    out
}

#[test]
fn mmx_sse_sse2_and_ssse3_on_mmx_are_claimed() {
    use CpuidFeature::*;
    // SSSE3 is x86-64-v2's; MMX, SSE and SSE2 are on every level.
    features::present(CpuLevel::HIGHEST);
    let baseline = |f: &[CpuidFeature]| f.iter().all(|x| matches!(x, MMX | SSE | SSE2));
    // Not a vacuous walk: iced 1.22 has 311 such forms.
    let forms = codes_with(baseline).count();
    eprintln!("{forms} MMX/SSE/SSE2 forms");
    assert!(forms >= 300, "only {forms} MMX/SSE/SSE2 forms found");
    let mut missing = unclaimed_codes(baseline);
    let ssse3_on_mmx = |f: &[CpuidFeature]| f == [SSSE3];
    missing.extend(
        unclaimed_codes(ssse3_on_mmx)
            .into_iter()
            .filter(|(c, _)| c.op_code().op_kinds().iter().any(|k| matches!(k, K::mm_reg | K::mm_rm))),
    );
    missing.retain(|(c, _)| !EXCLUDED.iter().any(|(e, _)| e == c));
    let report: Vec<String> = missing.iter().map(|(c, why)| format!("{c:?}: {why}")).collect();
    assert!(report.is_empty(), "unclaimed forms:\n{}", report.join("\n"));
}
