//! Every instruction of the CPU Transit presents is translated, and none
//! that it lacks: a walk over iced-x86's table of every `Code`, at every
//! level `TRANSIT_CPU` can select. Each form is decoded from bytes built
//! from its opcode description, so what is checked is what a guest's code
//! would present to the decoder; `is_supported` then makes a trial
//! translation (routes to the interpreter count once the interpreter
//! claims the form, as `translate::handler` asks it).
//!
//! Forms Transit's decoder never yields are skipped, and a test says why
//! for each: those only iced's AMD, MPX or other decoder options produce
//! (an Intel CPU ignores 66 on near branches; MPX's space is hint NOPs),
//! and the x87 stores with a built-in fwait, which decode as fwait and the
//! no-wait form.

use iced_x86::{Code, Decoder, DecoderOptions, EncodingKind, Instruction};
use transit_translator::features::{self, CpuLevel, Presence};
use transit_translator::translate::is_supported;

/// Forms of the presented CPU that Transit leaves out, with the reason.
/// Keep it short: each entry is a SIGILL a real CPU would not raise.
const EXCLUDED: &[(Code, &str)] = &[];

/// One ModRM choice for a form: register (mod 11) or memory ([rax]).
#[derive(Clone, Copy)]
enum ModRm {
    Register,
    Memory,
}

/// Byte sequences that may encode `code`, from iced's opcode description
/// ("66 0F 38 00 /r", "o64 0F B2 /r", "D9 FE", "B8+rd id", ...).
fn candidate_encodings(code: Code) -> Vec<Vec<u8>> {
    let info = code.op_code();
    let description = info.op_code_string();
    let (mut prefixes, mut opcode, mut tail) = (Vec::new(), Vec::new(), Vec::new());
    let (mut rex_w, mut reg_field, mut modrm_kinds) = (false, None, Vec::new());
    for token in description.split_whitespace() {
        let hex = token.split('+').next().unwrap_or(token);
        let is_byte = hex.len() == 2 && hex.chars().all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c));
        match token {
            "o16" => prefixes.push(0x66),
            "a32" => prefixes.push(0x67),
            "o64" => rex_w = true,
            "NP" | "o32" | "a64" => {}
            "/r" => modrm_kinds = vec![ModRm::Register, ModRm::Memory],
            // Register 1 in the opcode: `90+rw` with register 0 is nop.
            t if t.contains('+') && is_byte => {
                opcode.push(u8::from_str_radix(hex, 16).expect("two hex digits") + 1);
            }
            "ib" | "cb" => tail.push(1),
            "iw" | "cw" => tail.extend([0, 1]),
            "id" | "cd" => tail.extend([0, 0, 0, 1]),
            "io" | "mo" => tail.extend([0, 0, 0, 0, 0, 0, 0, 1]),
            t if t.starts_with('/') => {
                reg_field = t[1..].parse::<u8>().ok();
                modrm_kinds = vec![ModRm::Register, ModRm::Memory];
            }
            t if t.starts_with("11:") => modrm_kinds = vec![ModRm::Register],
            t if t.starts_with("!(11):") => {
                reg_field = t[6..9].chars().all(|c| c.is_ascii_digit()).then(|| u8::from_str_radix(&t[6..9], 2).ok()).flatten();
                modrm_kinds = vec![ModRm::Memory];
            }
            _ if is_byte => {
                let byte = u8::from_str_radix(hex, 16).expect("two hex digits");
                // Mandatory and legacy prefixes come before the opcode.
                if opcode.is_empty() && matches!(byte, 0x66 | 0xF2 | 0xF3 | 0x9B) {
                    prefixes.push(byte);
                } else {
                    opcode.push(byte);
                }
            }
            _ => return Vec::new(),
        }
    }
    if opcode.is_empty() {
        // A lone prefix byte is the instruction (fwait).
        opcode.extend(prefixes.pop());
    }
    let modrms: Vec<Option<u8>> = if modrm_kinds.is_empty() {
        vec![None]
    } else {
        // Any register field for /r (0F 1F /r is nop only with 0).
        let regs: Vec<u8> = reg_field.map_or((0..8).collect(), |r| vec![r]);
        let mods = modrm_kinds.iter().map(|k| if matches!(k, ModRm::Register) { 0xc0 } else { 0 });
        mods.flat_map(|m| regs.iter().map(move |r| Some(m | r << 3))).collect()
    };
    let mut out = Vec::new();
    for with_rex_w in [rex_w, !rex_w] {
        for modrm in &modrms {
            let mut bytes = prefixes.clone();
            if with_rex_w {
                bytes.push(0x48);
            }
            bytes.extend(&opcode);
            bytes.extend(modrm);
            bytes.extend(&tail);
            out.push(bytes);
        }
    }
    out
}

/// `code` decoded from bytes with `options`, as a guest would present it.
fn decoded(code: Code, options: u32) -> Option<Instruction> {
    candidate_encodings(code).into_iter().find_map(|bytes| {
        let insn = Decoder::with_ip(64, &bytes, 0x1000, options).decode();
        (insn.code() == code && insn.len() == bytes.len()).then_some(insn)
    })
}

/// `code` as Transit's decoder (iced without options) yields it.
fn representative(code: Code) -> Option<Instruction> {
    decoded(code, DecoderOptions::NONE)
}

/// The x87 control and state stores that wait first (fstenv, fsave,
/// fstcw, fstsw, finit, fclex and the 8087 leftovers): iced describes them
/// as 9B plus the no-wait form, and decodes exactly that, two instructions.
fn is_waiting_x87_form(code: Code) -> bool {
    code.op_code().op_code_string().starts_with("9B ")
}

fn forms() -> impl Iterator<Item = Code> {
    Code::values().filter(|code| {
        let info = code.op_code();
        info.is_instruction() && info.mode64() && info.encoding() == EncodingKind::Legacy
    })
}

#[test]
fn every_form_decodes_or_is_one_the_decoder_never_yields() {
    let every_option = DecoderOptions::AMD | DecoderOptions::MPX | DecoderOptions::UDBG | DecoderOptions::PCOMMIT
        | DecoderOptions::UMOV | DecoderOptions::CYRIX | DecoderOptions::OLD_FPU;
    // Forms of features no level has need not decode (VIA PadLock's, say).
    let missing: Vec<Code> = forms()
        .filter(|&c| features::presence(CpuLevel::HIGHEST, c) != Presence::Lacks)
        .filter(|&c| representative(c).is_none())
        .filter(|&c| decoded(c, every_option).is_none() && !is_waiting_x87_form(c))
        .collect();
    assert!(missing.is_empty(), "no bytes decode as: {missing:?}");
}

#[test]
fn the_presented_cpu_has_every_instruction_it_reports_and_no_other() {
    let excluded = |code: Code| EXCLUDED.iter().any(|(c, _)| *c == code);
    let mut report = Vec::new();
    for level in CpuLevel::ALL {
        features::present(level);
        let (mut has, mut translated) = (0, 0);
        let mut wrong = Vec::new();
        for code in forms() {
            let Some(insn) = representative(code) else { continue };
            let supported = is_supported(&insn);
            match features::presence(level, code) {
                Presence::Has | Presence::AsOlder | Presence::Nop => {
                    has += 1;
                    translated += usize::from(supported);
                    if !supported && !excluded(code) {
                        wrong.push(format!("{code:?} ({insn}): the CPU has it, Transit raises SIGILL"));
                    }
                }
                Presence::Lacks if supported => wrong.push(format!("{code:?} ({insn}): the CPU lacks it, Transit runs it")),
                Presence::Lacks => {}
            }
        }
        report.push(format!("{level}: {translated} of {has} forms translated"));
        assert!(wrong.is_empty(), "{level}:\n{}", wrong.join("\n"));
    }
    features::present(CpuLevel::DEFAULT);
    println!("{}", report.join("\n"));
}
