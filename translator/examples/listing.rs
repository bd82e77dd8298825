//! Prints the aarch64 code Transit emits for guest blocks of an x86_64 ELF:
//! `cargo run -p transit-translator --example listing -- PROGRAM ADDR [BLOCKS [BASE]]`
//! (ADDR in hex). Follows fall-through and branch targets breadth-first.
//! BASE (hex) is where a position-independent PROGRAM was loaded, for ADDR
//! taken from a run (`--perf-map`, benches/profile); default 0.

use capstone::prelude::*;
use std::collections::{HashSet, VecDeque};
use transit_translator::frontend::decode::{decode_block, CodeBuffer};
use transit_translator::emit::{MemoryOrder, Stubs};
use transit_translator::frontend::flags::live_at_block_exit;
use transit_translator::cpu::host::HostFeatures;
use transit_translator::translate::translate_block;

/// The file image laid out at its virtual addresses (PT_LOAD file parts).
fn load(path: &str) -> (u64, Vec<u8>) {
    let f = std::fs::read(path).expect("readable ELF");
    let u16_at = |o: usize| u16::from_le_bytes([f[o], f[o + 1]]) as usize;
    let u64_at = |o: usize| u64::from_le_bytes(f[o..o + 8].try_into().unwrap());
    let (phoff, phnum) = (u64_at(0x20) as usize, u16_at(0x38));
    let loads: Vec<(u64, u64, u64)> = (0..phnum)
        .map(|i| phoff + 56 * i)
        .filter(|&p| u32::from_le_bytes(f[p..p + 4].try_into().unwrap()) == 1)
        .map(|p| (u64_at(p + 16), u64_at(p + 8), u64_at(p + 32)))
        .collect();
    let lo = loads.iter().map(|l| l.0).min().unwrap() & !0xfff;
    let hi = loads.iter().map(|l| l.0 + l.2).max().unwrap();
    let mut img = vec![0u8; (hi - lo) as usize];
    for (vaddr, off, filesz) in loads {
        let d = (vaddr - lo) as usize;
        img[d..d + filesz as usize].copy_from_slice(&f[off as usize..(off + filesz) as usize]);
    }
    (lo, img)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (file_base, img) = load(&args[1]);
    let load_base = args.get(4).map_or(0, |b| u64::from_str_radix(b.trim_start_matches("0x"), 16).expect("hex base"));
    let base = file_base + load_base;
    let start = u64::from_str_radix(args[2].trim_start_matches("0x"), 16).expect("hex address");
    let count: usize = args.get(3).map_or(1, |n| n.parse().unwrap());
    let src = CodeBuffer { base, code: &img };
    let cs = Capstone::new().arm64().mode(arch::arm64::ArchMode::Arm).build().unwrap();
    let (mut queue, mut seen) = (VecDeque::from([start]), HashSet::new());
    while let Some(rip) = queue.pop_front() {
        if seen.len() == count || !seen.insert(rip) {
            continue;
        }
        let block = decode_block(&src, rip, 128);
        let live = live_at_block_exit(&src, &block, |_| true);
        // Exit stubs just below the block, as in a real code cache.
        let mut stubs = Stubs::default();
        for (i, s) in stubs.exit.iter_mut().enumerate() {
            *s = 0x0fff_f000 + 8 * i as u64;
        }
        let t = translate_block(&block, 0x1000_0000, HostFeatures::BASELINE, stubs, live, MemoryOrder::Relaxed);
        println!("== block {rip:#x}: {} guest instructions, {} host instructions", t.guest_insns, t.code.len() / 4);
        for insn in &block.insns[..t.guest_insns] {
            println!("   x86  {:#x}  {insn}", insn.ip());
        }
        for i in cs.disasm_all(&t.code, 0x1000_0000).unwrap().iter() {
            println!("   a64  {} {}", i.mnemonic().unwrap_or("?"), i.op_str().unwrap_or(""));
        }
        for e in &t.direct_exits {
            queue.push_back(e.target);
        }
    }
}
