//! Which x86 instruction forms cost the most host instructions in a run:
//! `cargo run -p transit-translator --example expansion -- PROGRAM PROFILE [TOP [BASE]]`
//! PROFILE is benches/profile/profile.sh's report of a run of PROGRAM (its
//! "hottest guest blocks" lines, `-n` large). Each block of PROGRAM named
//! there is translated again; its count over the host instructions of its
//! path estimates how often it ran, and each guest instruction's share of
//! the code is weighted by that. Forms are ranked by the host instructions
//! they cost beyond one each. BASE (hex) is where a position-independent
//! PROGRAM was loaded in that run (a symbol's address in the report less
//! its value in the file); default 0.

use iced_x86::{Instruction, OpKind, Register};
use std::collections::HashMap;
use transit_translator::cpu::host::HostFeatures;
use transit_translator::emit::{literal, MemoryOrder, Stubs};
use transit_translator::frontend::decode::{decode_block, CodeBuffer};
use transit_translator::frontend::flags::live_at_block_exit;
use transit_translator::translate::translate_block;

#[path = "common/elf_image.rs"]
mod elf_image;
use elf_image::load;

/// `shr r16, imm`: the mnemonic and each operand's kind and size.
fn form(insn: &Instruction) -> String {
    let ops: Vec<String> = (0..insn.op_count())
        .map(|i| match insn.op_kind(i) {
            OpKind::Register => {
                let r = insn.op_register(i);
                let kind = if r.is_xmm() {
                    "xmm"
                } else if r.is_gpr8() {
                    if matches!(r, Register::AH | Register::BH | Register::CH | Register::DH) { "r8h" } else { "r8" }
                } else if r.is_gpr16() {
                    "r16"
                } else if r.is_gpr32() {
                    "r32"
                } else if r.is_gpr64() {
                    "r64"
                } else {
                    "reg"
                };
                kind.to_string()
            }
            OpKind::Memory => format!("m{}", insn.memory_size().size() * 8),
            OpKind::NearBranch64 => "rel".into(),
            _ => "imm".into(),
        })
        .collect();
    format!("{:?} {}", insn.mnemonic(), ops.join(", ")).to_lowercase()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (file_base, img) = load(&args[1]);
    let top: usize = args.get(3).map_or(40, |n| n.parse().expect("TOP"));
    let load_base = args.get(4).map_or(0, |b| u64::from_str_radix(b.trim_start_matches("0x"), 16).expect("hex base"));
    let base = file_base + load_base;
    let src = CodeBuffer { base, code: &img };
    let in_image = |a: u64| a >= base && a < base + img.len() as u64;
    let mut stubs = Stubs::default();
    for (i, s) in stubs.exit.iter_mut().enumerate() {
        *s = 0x0fff_f000 + 8 * i as u64;
    }
    // form -> (guest instructions run, host instructions run)
    let mut by_form: HashMap<String, (f64, f64)> = HashMap::new();
    let (mut guest_total, mut host_total) = (0.0, 0.0);
    for line in std::fs::read_to_string(&args[2]).expect("profile report").lines() {
        let Some(at) = line.find("x86_64:0x") else { continue };
        let addr = line[at + 9..].trim_end_matches(']');
        let Ok(addr) = u64::from_str_radix(addr, 16) else { continue };
        let Some(count) = line.split_whitespace().nth(1).and_then(|n| n.parse::<f64>().ok()) else { continue };
        if !in_image(addr) {
            continue;
        }
        let block = decode_block(&src, addr, 128);
        let live = live_at_block_exit(&src, &block, |_| true);
        let t = translate_block(&block, 0x1000_0000, HostFeatures::BASELINE, stubs, live, MemoryOrder::Relaxed);
        // Where the path's code ends: at the end mark, or, for a block
        // ended by a branch, before its exit stubs (three instructions each).
        let end = t.marks.get(t.guest_insns).map_or_else(
            || (literal::instructions_end(&t.code) / 4).saturating_sub(3 * t.direct_exits.len()) as u32,
            |m| m.host_off / 4 + 1,
        );
        let runs = count / f64::from(end.max(1));
        for (i, insn) in block.insns[..t.guest_insns].iter().enumerate() {
            let next = t.marks.get(i + 1).map_or(end, |m| m.host_off / 4);
            let host = f64::from(next.saturating_sub(t.marks[i].host_off / 4));
            let entry = by_form.entry(form(insn)).or_default();
            entry.0 += runs;
            entry.1 += runs * host;
            guest_total += runs;
            host_total += runs * host;
        }
    }
    println!("{guest_total:.0} guest instructions -> {host_total:.0} host instructions in the blocks named ({:.2} each)", host_total / guest_total);
    println!("{:>12} {:>12} {:>6}  form", "excess", "guest", "each");
    let mut forms: Vec<_> = by_form.into_iter().collect();
    forms.sort_by(|a, b| (b.1 .1 - b.1 .0).total_cmp(&(a.1 .1 - a.1 .0)));
    for (name, (guest, host)) in forms.into_iter().take(top) {
        println!("{:>12.0} {:>12.0} {:>6.2}  {name}", host - guest, guest, host / guest);
    }
}
