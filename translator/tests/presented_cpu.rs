//! Every instruction of the CPU Transit presents is translated, and none
//! that it lacks: a walk over iced-x86's table of every `Code` (legacy and
//! VEX encodings), at every level `TRANSIT_CPU` can select, first over the
//! forms' rows (`frontend::forms`), then by trial translation. Each form is decoded from bytes built
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

use iced_x86::{Code, CpuidFeature, Decoder, DecoderOptions, EncodingKind, Instruction};
use transit_translator::cpu::features::{self, CpuLevel, Presence};
use transit_translator::frontend::forms::{self, Route};
use transit_translator::translate::is_supported;

/// The presented CPU is process-wide: tests that change it take turns.
static PRESENTED: std::sync::Mutex<()> = std::sync::Mutex::new(());

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
/// ("66 0F 38 00 /r", "o64 0F B2 /r", "D9 FE", "B8+rd id",
/// "VEX.LZ.0F38.W0 F2 /r", ...).
fn candidate_encodings(code: Code) -> Vec<Vec<u8>> {
    let info = code.op_code();
    let description = info.op_code_string();
    if let Some(vex) = description.strip_prefix("VEX.") {
        let vsib = (0..info.op_count()).any(|i| {
            use iced_x86::OpCodeOperandKind as K;
            matches!(info.op_kind(i), K::mem_vsib32x | K::mem_vsib32y | K::mem_vsib64x | K::mem_vsib64y)
        });
        return vex_candidates(vex, vsib);
    }
    legacy_candidates(description, false)
}

/// `vsib`: the memory form is a gather's [rax+xmm2] (ModRM rm 100 and a
/// SIB byte whose index names a vector register), not [rax].
fn legacy_candidates(description: &str, vsib: bool) -> Vec<Vec<u8>> {
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
            // /is4: a register operand in the immediate's high nibble.
            "ib" | "cb" | "/is4" | "/is5" => tail.push(1),
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
    let modrms: Vec<Vec<u8>> = if modrm_kinds.is_empty() {
        vec![Vec::new()]
    } else {
        // Any register field for /r (0F 1F /r is nop only with 0).
        let regs: Vec<u8> = reg_field.map_or((0..8).collect(), |r| vec![r]);
        let mods = modrm_kinds.iter().map(|k| match k {
            ModRm::Register => vec![0xc0],
            ModRm::Memory if vsib => vec![0x04, 2 << 3],
            ModRm::Memory => vec![0],
        });
        mods.flat_map(|m| {
            regs.iter().map(move |r| {
                let mut bytes = m.clone();
                bytes[0] |= r << 3;
                bytes
            })
        })
        .collect()
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

/// Byte sequences for a VEX form: `fields` is iced's description after
/// "VEX." ("128.66.0F38.W0 00 /r"). The three-byte C4 prefix encodes every
/// VEX form; vvvv is tried unused (1111) and as register 1, since forms
/// without a vvvv operand are #UD unless it is 1111.
fn vex_candidates(fields: &str, vsib: bool) -> Vec<Vec<u8>> {
    let mut tokens = fields.split_whitespace();
    let Some(header) = tokens.next() else { return Vec::new() };
    let (mut l, mut pp, mut map, mut w) = (0u8, 0u8, 0u8, 0u8);
    for field in header.split('.') {
        match field {
            "128" | "L0" | "LIG" | "LZ" => l = 0,
            "256" | "L1" => l = 1,
            "66" => pp = 1,
            "F3" => pp = 2,
            "F2" => pp = 3,
            "0F" => map = 1,
            "0F38" => map = 2,
            "0F3A" => map = 3,
            "W0" | "WIG" => w = 0,
            "W1" => w = 1,
            _ => return Vec::new(),
        }
    }
    let rest: String = tokens.collect::<Vec<_>>().join(" ");
    // The opcode and what follows it are described as for legacy forms.
    let tails = legacy_candidates(&rest, vsib);
    let mut out = Vec::new();
    for vvvv in [0b1111u8, 0b1110] {
        let prefix = [0xc4, 0xe0 | map, w << 7 | vvvv << 3 | l << 2 | pp];
        for tail in &tails {
            out.push(prefix.iter().chain(tail).copied().collect());
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
        info.is_instruction()
            && info.mode64()
            && matches!(info.encoding(), EncodingKind::Legacy | EncodingKind::VEX)
            && !code.cpuid_features().contains(&CpuidFeature::KNC)
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
    let _presented = PRESENTED.lock().unwrap_or_else(|e| e.into_inner());
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

/// Each form's row agrees with the presented CPU at every level: a form it
/// has is routed (a general-purpose row whose only route is through its
/// guards counts, the trial translation above checks those), one it lacks
/// is SIGILL, except in the hint-NOP space, where it is a NOP.
#[test]
fn every_row_routes_what_the_presented_cpu_has_and_nothing_else() {
    let _presented = PRESENTED.lock().unwrap_or_else(|e| e.into_inner());
    let mut wrong = Vec::new();
    for level in CpuLevel::ALL {
        features::present(level);
        for code in forms() {
            let row = forms::row(code);
            assert_eq!(row.feature, code.cpuid_features(), "{code:?}");
            let routed = !matches!(row.route, Route::Lacks) || !row.guards.is_empty();
            let right = match features::presence(level, code) {
                Presence::Has | Presence::AsOlder => routed,
                Presence::Nop => matches!(row.route, Route::Nop),
                Presence::Lacks => matches!(row.route, Route::Lacks) && row.guards.is_empty(),
            };
            if !right {
                wrong.push(format!("{level}: {code:?}"));
            }
        }
    }
    features::present(CpuLevel::DEFAULT);
    assert!(wrong.is_empty(), "rows disagree with the presented CPU:\n{}", wrong.join("\n"));
}

/// Each form's route, after its guards, is what the translator does: a
/// trial translation succeeds exactly when the route is not `Lacks`, at
/// every level (for the vector rows, whose handlers check operands a
/// general row's do not, this is the check that a row names a handler
/// that compiles the form).
#[test]
fn every_route_agrees_with_trial_translation() {
    let _presented = PRESENTED.lock().unwrap_or_else(|e| e.into_inner());
    let mut wrong = Vec::new();
    for level in CpuLevel::ALL {
        features::present(level);
        for code in forms() {
            let Some(insn) = representative(code) else { continue };
            let route = forms::resolve(&insn);
            if is_supported(&insn) == matches!(route, Route::Lacks) {
                wrong.push(format!("{level}: {code:?} ({insn}): {route:?}"));
            }
        }
    }
    features::present(CpuLevel::DEFAULT);
    assert!(wrong.is_empty(), "routes disagree with trial translation:\n{}", wrong.join("\n"));
}

/// `Guard::MmxRegisters` is on exactly the rows of mnemonics that have
/// MMX-register forms and other ones (a mnemonic with MMX forms only is
/// interpreted whole): a form it misses would take its XMM route.
#[test]
fn the_mmx_guard_is_on_the_rows_with_mmx_register_forms() {
    let _presented = PRESENTED.lock().unwrap_or_else(|e| e.into_inner());
    features::present(CpuLevel::HIGHEST);
    let has_mmx_operand = |code: Code| {
        let info = code.op_code();
        (0..info.op_count()).any(|i| format!("{:?}", info.op_kind(i)).starts_with("mm_"))
    };
    let guarded = |code: Code| forms::route(code).1.iter().any(|g| matches!(g, forms::Guard::MmxRegisters));
    let mut wrong = Vec::new();
    for code in forms().filter(|&c| features::presence(CpuLevel::HIGHEST, c) == Presence::Has) {
        let interpreted = matches!(forms::route(code).0, Route::Interpret);
        if has_mmx_operand(code) && !interpreted && !guarded(code) {
            wrong.push(format!("{code:?}: an MMX form without the guard"));
        }
        let mnemonic_has_mmx_forms = forms().any(|c| c.mnemonic() == code.mnemonic() && has_mmx_operand(c));
        if guarded(code) && !mnemonic_has_mmx_forms {
            wrong.push(format!("{code:?}: the guard on a mnemonic without MMX forms"));
        }
    }
    features::present(CpuLevel::DEFAULT);
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// How many forms of the presented CPU take each route, by family (the
/// coverage summary; `--nocapture` prints it).
#[test]
fn route_summary() {
    let _presented = PRESENTED.lock().unwrap_or_else(|e| e.into_inner());
    features::present(CpuLevel::HIGHEST);
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for code in forms() {
        let Some(insn) = representative(code) else { continue };
        let kind = match forms::resolve(&insn) {
            Route::Emit { op, .. } => {
                let op = format!("{op:?}");
                format!("Emit {}", op.split('(').next().unwrap_or(&op))
            }
            route => format!("{route:?}"),
        };
        *counts.entry(kind).or_default() += 1;
    }
    features::present(CpuLevel::DEFAULT);
    for (kind, n) in &counts {
        println!("{kind}: {n}");
    }
    assert!(counts.get("Emit Lanes").is_some_and(|&n| n > 500), "{counts:?}");
}

/// The VEX descriptions turn into bytes that decode as their forms (all
/// but AMX's tile loads and stores, whose SIB memory operands [rax]
/// cannot express; gathers get a VSIB operand). Knights Corner's VEX
/// forms are not x86-64 forms (`forms` leaves them out).
#[test]
fn vex_forms_decode_from_their_descriptions() {
    let vex: Vec<Code> = forms().filter(|c| c.op_code().encoding() == EncodingKind::VEX).collect();
    assert!(vex.len() > 500, "{} VEX forms", vex.len());
    let missing: Vec<Code> = vex
        .into_iter()
        .filter(|c| representative(*c).is_none())
        .filter(|c| !format!("{c:?}").contains("sibmem"))
        .collect();
    assert!(missing.is_empty(), "{} VEX forms do not decode: {missing:?}", missing.len());
}
