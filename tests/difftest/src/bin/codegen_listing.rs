//! The aarch64 code Transit emits for each x86 form it translates, with its
//! instruction count, as markdown on stdout. `cargo xtask codegen-listing`
//! keeps it in benches/results/codegen-listing.md, so that every codegen
//! change shows its effect in review (as FEX's InstructionCountCI does).
//!
//! Each form's instances come from the difftest's generator, seeded by the
//! form's name (adding a form changes no other section). Each instance is
//! translated alone, as a one-instruction block; what is counted and shown
//! is the instruction's own code, cut at the block's instruction marks,
//! plus any out-of-line code it branches to. Everything printed is a
//! function of the translator's code only: fixed guest and host addresses,
//! fixed host features, no timing. `TRANSIT_TUNING` applies (xtask clears
//! it), so a diff of two runs shows what one switch changes.

use capstone::prelude::*;
use iced_x86::{
    Code, Encoder, EncodingKind, Formatter, Instruction, IntelFormatter, MemoryOperand, Mnemonic, OpCodeOperandKind as K, OpKind,
    Register,
};
use std::fmt::Write;
use transit_difftest::generate::instance;
use transit_difftest::layout::MEM_ADDR;
use transit_difftest::rng::Rng;
use transit_translator::cpu::features::{self, CpuLevel};
use transit_translator::cpu::host::HostFeatures;
use transit_translator::emit::{literal, MemoryOrder, Stubs};
use transit_translator::exit::ExitReason;
use transit_translator::frontend::decode::{decode_block, CodeBuffer};
use transit_translator::frontend::flags::FlagSet;
use transit_translator::frontend::forms::{self, Route};
use transit_translator::translate::translate_block;

const GUEST: u64 = 0x40_1000;
const HOST: u64 = 0x10_0000;
/// The exit stubs, one per `ExitReason`, just below the block as in the cache.
const STUBS: u64 = HOST - 0x1000;
/// Where the generated branches go (forward, inside a rel8's reach).
const BRANCH_TARGET: u64 = GUEST + 0x40;

/// The host the benchmarks count on (qemu's `-cpu neoverse-n1`, ARMv8.2):
/// LSE, LRCPC, CRC32, AES and PMULL, but no FlagM and no FEAT_AFP.
const NEOVERSE_N1: HostFeatures =
    HostFeatures { lse: true, lrcpc: true, crc32: true, aes: true, pmull: true, ..HostFeatures::BASELINE };

/// Generator calls per form: enough to meet each shape its operands allow.
const TRIES: usize = 64;
/// Forms in the summary's table of the most expensive.
const TOP: usize = 30;

/// The operand shapes listed for a form, in this order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Shape {
    Registers,
    Memory,
    Rep,
    Repne,
    Locked,
}

impl Shape {
    fn of(insn: &Instruction) -> Shape {
        if insn.has_lock_prefix() {
            Shape::Locked
        } else if insn.has_repne_prefix() {
            Shape::Repne
        } else if insn.has_rep_prefix() || insn.has_repe_prefix() {
            Shape::Rep
        } else if (0..insn.op_count()).any(|i| is_memory(insn.op_kind(i))) {
            Shape::Memory
        } else {
            Shape::Registers
        }
    }

    fn name(self) -> &'static str {
        match self {
            Shape::Registers => "registers",
            Shape::Memory => "memory",
            Shape::Rep => "rep",
            Shape::Repne => "repne",
            Shape::Locked => "locked",
        }
    }
}

fn is_memory(kind: OpKind) -> bool {
    !matches!(
        kind,
        OpKind::Register
            | OpKind::NearBranch16
            | OpKind::NearBranch32
            | OpKind::NearBranch64
            | OpKind::FarBranch16
            | OpKind::FarBranch32
            | OpKind::Immediate8
            | OpKind::Immediate8_2nd
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate64
            | OpKind::Immediate8to16
            | OpKind::Immediate8to32
            | OpKind::Immediate8to64
            | OpKind::Immediate32to64
    )
}

/// FNV-1a of the form's name: its seed, independent of other forms and of
/// iced's numbering.
fn seed_of(code: Code) -> u64 {
    format!("{code:?}").bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// One instance of each shape the generator makes for `code`, in `Shape`
/// order; the generator builds no branches, so those get one here.
fn instances(code: Code) -> Vec<(Shape, Instruction)> {
    let mut rng = Rng::new(seed_of(code));
    let mut found: Vec<(Shape, Instruction)> = Vec::new();
    for _ in 0..TRIES {
        let Some(insn) = instance(&mut rng, code) else { continue };
        let shape = Shape::of(&insn);
        // repne is a string compare's own condition; elsewhere it is rep.
        use Mnemonic::*;
        let compares = matches!(insn.mnemonic(), Cmpsb | Cmpsw | Cmpsd | Cmpsq | Scasb | Scasw | Scasd | Scasq);
        if shape == Shape::Repne && !compares {
            continue;
        }
        if !found.iter().any(|(s, _)| *s == shape) {
            found.push((shape, insn));
        }
    }
    if found.is_empty() {
        found.extend(built_here(code).map(|insn| (Shape::of(&insn), insn)));
    }
    found.sort_by_key(|&(shape, _)| shape);
    found
}

/// An instance of a form the generator leaves out (its operands do not
/// fit the difftest's cases): near branches, moffs moves, segment
/// registers, VEX's register in an immediate.
fn built_here(code: Code) -> Option<Instruction> {
    use Register as R;
    let info = code.op_code();
    let kinds: Vec<K> = (0..info.op_count()).map(|i| info.op_kind(i)).collect();
    let moffs = MemoryOperand::with_displ(MEM_ADDR, 8);
    let register = |kind: K| match kind {
        K::al => Some(R::AL),
        K::ax | K::r16_or_mem => Some(R::AX),
        K::eax | K::r32_or_mem => Some(R::EAX),
        K::rax | K::r64_or_mem => Some(R::RAX),
        K::xmm_reg | K::xmm_vvvv | K::xmm_or_mem | K::xmm_is4 => Some(R::XMM1),
        K::ymm_reg | K::ymm_vvvv | K::ymm_or_mem | K::ymm_is4 => Some(R::YMM1),
        K::seg_reg | K::fs => Some(R::FS),
        K::gs => Some(R::GS),
        _ => None,
    };
    let insn = match kinds.as_slice() {
        [K::br64_1 | K::br64_4] => Instruction::with_branch(code, BRANCH_TARGET),
        [to, K::mem_offs] => Instruction::with2(code, register(*to)?, moffs),
        [K::mem_offs, from] => Instruction::with2(code, moffs, register(*from)?),
        [segment] => Instruction::with1(code, register(*segment)?),
        [to, from] => Instruction::with2(code, register(*to)?, register(*from)?),
        // Distinct registers, so that the form's data flow shows.
        [a, b, c, d] => {
            let [a, b, c, d] = [a, b, c, d].map(|k| register(*k));
            let n = |r: Option<R>, i: usize| r.map(|r| R::try_from(r as usize + i).expect("XMM1..4 and YMM1..4 exist"));
            Instruction::with4(code, n(a, 0)?, n(b, 1)?, n(c, 2)?, n(d, 3)?)
        }
        _ => return None,
    };
    insn.ok()
}

/// `insn` encoded at `GUEST`.
fn encoded(insn: &Instruction) -> Option<Vec<u8>> {
    let mut encoder = Encoder::new(64);
    encoder.encode(insn, GUEST).ok()?;
    Some(encoder.take_buffer())
}

/// The code an instruction's translation runs: words from its block,
/// disassembled.
struct Listing {
    /// From the instruction's mark to the next one (for an instruction
    /// that ends the block, to the end of its exits).
    inline: Vec<String>,
    /// Out-of-line code it branches to, placed after the block's exits.
    out_of_line: Vec<String>,
}

/// One instance, translated with flags live and dead after it.
struct Translated {
    x86: String,
    route: Route,
    /// None: the handler declined the operands (the block ends in SIGILL).
    live: Option<Listing>,
    dead: Option<Listing>,
}

struct Disassembler {
    capstone: Capstone,
    formatter: IntelFormatter,
}

impl Disassembler {
    fn new() -> Disassembler {
        let capstone = Capstone::new().arm64().mode(arch::arm64::ArchMode::Arm).build().expect("capstone for arm64");
        let mut formatter = IntelFormatter::new();
        let options = formatter.options_mut();
        options.set_hex_prefix("0x");
        options.set_hex_suffix("");
        options.set_branch_leading_zeros(false);
        options.set_space_after_operand_separator(true);
        Disassembler { capstone, formatter }
    }

    fn x86(&mut self, insn: &Instruction) -> String {
        let mut text = String::new();
        self.formatter.format(insn, &mut text);
        text
    }

    fn translate(&mut self, insn: &Instruction) -> Option<Translated> {
        let bytes = encoded(insn)?;
        let src = CodeBuffer { base: GUEST, code: &bytes };
        let block = decode_block(&src, GUEST, 1);
        let decoded = *block.insns.first()?;
        let x86 = self.x86(&decoded);
        let route = forms::resolve(&decoded);
        let listing = |live: FlagSet| {
            let mut stubs = Stubs::default();
            for (i, s) in stubs.exit.iter_mut().enumerate() {
                *s = STUBS + 8 * i as u64;
            }
            let t = translate_block(&block, HOST, NEOVERSE_N1, stubs, live, MemoryOrder::Relaxed);
            if t.guest_insns == 0 {
                return None;
            }
            // The first mark of a later instruction (here the block's exit);
            // an instruction that ends the block has none.
            let next = t.marks.iter().find(|m| m.guest_off != 0).map(|m| m.host_off as usize / 4);
            Some(self.cut(&t.code, t.marks[0].host_off as usize / 4, next))
        };
        let (live, dead) = (listing(FlagSet::ALL), listing(FlagSet::NONE));
        block.recycle();
        Some(Translated { x86, route, live, dead })
    }

    /// The instruction's code in `code`: from word `start` to word `next`
    /// (or, without one, to the last word execution reaches), and the
    /// reachable words after the block's exit, which is out-of-line code.
    /// The literal pool after all code is data no branch reaches.
    fn cut(&self, code: &[u8], start: usize, next: Option<usize>) -> Listing {
        let words: Vec<u32> = code.chunks_exact(4).map(|w| u32::from_le_bytes(w.try_into().unwrap())).collect();
        let reached = reachable(&words);
        let code_end = reached.iter().rposition(|&r| r).map_or(0, |i| i + 1);
        let (inline_end, exit_end) = match next {
            Some(next) => (next, exit_end(&words, next)),
            None => (code_end, code_end),
        };
        let inline = self.disassemble(&words, start..inline_end);
        let mut out_of_line = Vec::new();
        let mut i = exit_end;
        while i < code_end {
            let run_end = (i..code_end).find(|&j| !reached[j]).unwrap_or(code_end);
            out_of_line.extend(self.disassemble(&words, i..run_end));
            i = (run_end..code_end).find(|&j| reached[j]).unwrap_or(code_end);
        }
        Listing { inline, out_of_line }
    }

    /// "mnemonic operands" per word, branches to an exit stub named.
    fn disassemble(&self, words: &[u32], range: std::ops::Range<usize>) -> Vec<String> {
        let bytes: Vec<u8> = words[range.clone()].iter().flat_map(|w| w.to_le_bytes()).collect();
        let base = HOST + 4 * range.start as u64;
        let insns = self.capstone.disasm_all(&bytes, base).expect("capstone disassembles");
        let code: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let mut lines = Vec::with_capacity(range.len());
        for (i, insn) in insns.iter().enumerate() {
            let at = range.start + i;
            let mut line = match literal::loaded_value(&code, 4 * at) {
                // A load from the literal pool shows the value it loads.
                Some(v) => format!("ldr {}, ={v:#x}", insn.op_str().unwrap_or("").split(',').next().unwrap_or("?")),
                None => format!("{} {}", insn.mnemonic().unwrap_or("?"), insn.op_str().unwrap_or("")).trim_end().to_string(),
            };
            if let (Some(offset), _) = branch_of(words[at]) {
                let target = HOST.wrapping_add_signed(4 * (at as i64 + offset));
                if let Some(reason) = exit_reason_at(target) {
                    write!(line, "    // exit: {reason:?}").unwrap();
                }
            }
            lines.push(line);
        }
        // capstone stops at a word it cannot decode: show the rest as data.
        for &w in &words[range.start + lines.len()..range.end] {
            lines.push(format!(".word {w:#010x}"));
        }
        lines
    }
}

/// The exit whose stub is at `addr`, if one is.
fn exit_reason_at(addr: u64) -> Option<ExitReason> {
    let offset = addr.checked_sub(STUBS)?;
    if !offset.is_multiple_of(8) {
        return None;
    }
    ExitReason::ALL.get((offset / 8) as usize).copied()
}

/// Where an aarch64 word branches (in words, relative to it) and whether
/// execution can also continue after it.
fn branch_of(w: u32) -> (Option<i64>, bool) {
    let field = |shift: u32, bits: u32| i64::from(((w >> shift) << (32 - bits)) as i32 >> (32 - bits));
    match w {
        // b, bl
        _ if w & 0x7c00_0000 == 0x1400_0000 => (Some(field(0, 26)), w & 0x8000_0000 != 0),
        // b.cond
        _ if w & 0xff00_0010 == 0x5400_0000 => (Some(field(5, 19)), true),
        // cbz, cbnz
        _ if w & 0x7e00_0000 == 0x3400_0000 => (Some(field(5, 19)), true),
        // tbz, tbnz
        _ if w & 0x7e00_0000 == 0x3600_0000 => (Some(field(5, 14)), true),
        // br, ret
        _ if matches!(w & 0xffff_fc1f, 0xd61f_0000 | 0xd65f_0000) => (None, false),
        // brk, udf
        _ if w & 0xffe0_001f == 0xd420_0000 || w >> 16 == 0 => (None, false),
        _ => (None, true),
    }
}

/// Which words execution can reach from the block's entry.
fn reachable(words: &[u32]) -> Vec<bool> {
    let mut reached = vec![false; words.len()];
    let mut pending = vec![0usize];
    while let Some(i) = pending.pop() {
        if i >= words.len() || reached[i] {
            continue;
        }
        reached[i] = true;
        let (target, continues) = branch_of(words[i]);
        if let Some(t) = target.and_then(|offset| usize::try_from(i as i64 + offset).ok()) {
            pending.push(t);
        }
        if continues {
            pending.push(i + 1);
        }
    }
    reached
}

/// The end of the block's exit that starts at word `start`: its last word
/// leaves the block (a branch to a stub, or `br`); a branch inside it is
/// the patchable one to the words after it.
fn exit_end(words: &[u32], start: usize) -> usize {
    (start..words.len())
        .find(|&i| {
            let (target, continues) = branch_of(words[i]);
            !continues && target.is_none_or(|offset| usize::try_from(i as i64 + offset).map_or(true, |t| t >= words.len()))
        })
        .map_or(words.len(), |i| i + 1)
}

/// A form as listed: its instances in `Shape` order.
struct Form {
    code: Code,
    instances: Vec<(Shape, Translated)>,
}

impl Form {
    /// The instance the summary counts: the first compiled one (a row's
    /// guards may route one shape of a form elsewhere).
    fn counted(&self) -> &Translated {
        self.instances.iter().map(|(_, t)| t).find(|t| t.compiled()).unwrap_or(&self.instances[0].1)
    }

    fn compiled(&self) -> bool {
        self.counted().compiled()
    }
}

impl Translated {
    fn compiled(&self) -> bool {
        matches!(self.route, Route::Emit { .. }) && self.live.is_some()
    }
}

fn main() {
    // The CPU the guest sees by default decides which forms exist.
    features::present(CpuLevel::DEFAULT);
    let mut disassembler = Disassembler::new();
    let mut forms = Vec::new();
    let mut not_built = Vec::new();
    for code in Code::values() {
        let info = code.op_code();
        if !info.is_instruction() || !info.mode64() || !matches!(info.encoding(), EncodingKind::Legacy | EncodingKind::VEX) {
            continue;
        }
        let (route, _) = forms::route(code);
        if matches!(route, Route::Lacks) {
            continue;
        }
        let instances: Vec<(Shape, Translated)> = instances(code)
            .into_iter()
            .filter_map(|(shape, insn)| Some((shape, disassembler.translate(&insn)?)))
            .collect();
        if instances.is_empty() {
            not_built.push((code, route));
        } else {
            forms.push(Form { code, instances });
        }
    }
    print!("{}", render(&forms, &not_built));
}

fn render(forms: &[Form], not_built: &[(Code, Route)]) -> String {
    let mut out = String::new();
    let compiled: Vec<&Form> = forms.iter().filter(|f| f.compiled()).collect();
    let others: Vec<&Form> = forms.iter().filter(|f| !f.compiled()).collect();
    let count = |f: &Form, live: bool| {
        let t = f.counted();
        if live { &t.live } else { &t.dead }.as_ref().map_or(0, |l| l.inline.len())
    };
    let out_of_line = |f: &Form| f.counted().live.as_ref().map_or(0, |l| l.out_of_line.len());
    let total_live: usize = compiled.iter().map(|f| count(f, true)).sum();
    let total_dead: usize = compiled.iter().map(|f| count(f, false)).sum();
    let total_out_of_line: usize = compiled.iter().map(|f| out_of_line(f)).sum();
    writeln!(
        out,
        "# Code listing: the aarch64 code of each x86 form\n\n\
         Generated by `cargo xtask codegen-listing`; do not edit (`cargo xtask test` fails when it\n\
         is stale).\n\n\
         - Host: Neoverse N1's features (LSE, LRCPC, CRC32, AES, PMULL; no FlagM, no FEAT_AFP), as\n  \
         the benchmarks' `-cpu neoverse-n1`. Memory order relaxed, as for a single-threaded guest\n  \
         (with threads, loads and stores become `ldapr`/`stlr`). Guest CPU: {level}.\n\
         - Instances: the difftest generator's, seeded by the form's name; one per shape the form\n  \
         has, in this order: registers, a memory operand, rep, repne, lock.\n\
         - Each instance is translated alone, as a one-instruction block. Listed and counted: its\n  \
         own code, cut at the block's instruction marks, without the block's exit (which also\n  \
         turns host C back into the form blocks hand over, where the instruction left x86 CF in\n  \
         it). An instruction that ends its block (branch, call, return, syscall) counts its exits,\n  \
         including the words that stop running once an exit is linked to its target. Out-of-line\n  \
         code (after the block's exits, for rare paths) is listed after `// out of line:` and\n  \
         counted apart.\n\
         - Counts: host instructions with every flag live after the instruction (what an exit to\n  \
         unknown code assumes), and with none live. The summary counts one instance per form, the\n  \
         first compiled one; its code with flags dead is listed too where it differs.\n",
        level = CpuLevel::DEFAULT.name()
    )
    .unwrap();
    writeln!(out, "## Summary\n").unwrap();
    writeln!(out, "- forms compiled to host code: {}", compiled.len()).unwrap();
    writeln!(out, "- host instructions inline, summed over them: {total_live} with flags live, {total_dead} with flags dead").unwrap();
    writeln!(out, "- host instructions out of line (flags live): {total_out_of_line}").unwrap();
    let interpreted = others.iter().filter(|f| matches!(f.counted().route, Route::Interpret)).count();
    writeln!(out, "- forms the interpreter runs: {interpreted}; on other routes (no-op, fault): {}", others.len() - interpreted).unwrap();
    writeln!(out, "- forms the generator builds no instance of: {}\n", not_built.len()).unwrap();
    writeln!(out, "The {TOP} with the most inline instructions with flags live:\n").unwrap();
    writeln!(out, "| form | instance | flags live | flags dead | out of line |\n|---|---|---:|---:|---:|").unwrap();
    let mut ranked = compiled.clone();
    // Stable: ties keep the listing's order.
    ranked.sort_by_key(|f| std::cmp::Reverse(count(f, true)));
    for f in ranked.iter().take(TOP) {
        let (code, x86) = (f.code, &f.counted().x86);
        writeln!(out, "| {code:?} | `{x86}` | {} | {} | {} |", count(f, true), count(f, false), out_of_line(f)).unwrap();
    }
    writeln!(out, "\n## Compiled forms\n").unwrap();
    for f in &compiled {
        section(&mut out, f);
    }
    writeln!(out, "## Interpreted forms\n").unwrap();
    writeln!(out, "They end their block with an exit to the interpreter.\n").unwrap();
    for f in others.iter().filter(|f| matches!(f.counted().route, Route::Interpret)) {
        writeln!(out, "- {:?}: `{}`", f.code, f.counted().x86).unwrap();
    }
    writeln!(out, "\n## Other routes\n").unwrap();
    for f in others.iter().filter(|f| !matches!(f.counted().route, Route::Interpret)) {
        writeln!(out, "- {:?}: `{}`: {}", f.code, f.counted().x86, fate(f.counted())).unwrap();
    }
    writeln!(out, "\n## Forms the generator builds no instance of\n").unwrap();
    for (code, route) in not_built {
        writeln!(out, "- {code:?}: {}", route_name(*route)).unwrap();
    }
    out
}

/// One compiled form: each instance's text, counts and code.
fn section(out: &mut String, form: &Form) {
    writeln!(out, "### {:?}\n", form.code).unwrap();
    let several = form.instances.len() > 1;
    for (shape, t) in &form.instances {
        let label = if several { format!("{}: ", shape.name()) } else { String::new() };
        let (Some(live), Some(dead), true) = (&t.live, &t.dead, t.compiled()) else {
            writeln!(out, "{label}`{}`: {}\n", t.x86, fate(t)).unwrap();
            continue;
        };
        write!(out, "{label}`{}`: {} flags live, {} flags dead", t.x86, live.inline.len(), dead.inline.len()).unwrap();
        match (live.out_of_line.len(), dead.out_of_line.len()) {
            (0, 0) => writeln!(out, "\n").unwrap(),
            (l, d) if l == d => writeln!(out, "; {l} out of line\n").unwrap(),
            (l, d) => writeln!(out, "; {l} and {d} out of line\n").unwrap(),
        }
        code_block(out, live);
        // Other shapes change the flags' code alike: their count says it.
        let counted = std::ptr::eq(t, form.counted());
        if counted && (live.inline != dead.inline || live.out_of_line != dead.out_of_line) {
            if dead.inline.is_empty() && dead.out_of_line.is_empty() {
                writeln!(out, "flags dead: no code\n").unwrap();
            } else {
                writeln!(out, "flags dead:\n").unwrap();
                code_block(out, dead);
            }
        }
    }
}

/// What becomes of an instance, in a few words.
fn fate(t: &Translated) -> &'static str {
    match t.route {
        Route::Emit { .. } if t.live.is_none() => "declined by its handler: SIGILL",
        route => route_name(route),
    }
}

fn route_name(route: Route) -> &'static str {
    match route {
        Route::Emit { .. } => "compiled",
        Route::Interpret => "interpreted",
        Route::Nop => "no-op",
        Route::Privileged => "privileged: SIGSEGV",
        Route::Undefined => "undefined: SIGILL",
        Route::Lacks => "lacking: SIGILL",
    }
}

fn code_block(out: &mut String, listing: &Listing) {
    for line in &listing.inline {
        writeln!(out, "    {line}").unwrap();
    }
    if !listing.out_of_line.is_empty() {
        writeln!(out, "    // out of line:").unwrap();
        for line in &listing.out_of_line {
            writeln!(out, "    {line}").unwrap();
        }
    }
    writeln!(out).unwrap();
}
