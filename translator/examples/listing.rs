//! Prints the aarch64 code Transit emits for guest blocks of an x86_64 ELF:
//! `cargo run -p transit-translator --example listing -- PROGRAM ADDR [BLOCKS [BASE]]`
//! (ADDR in hex). Follows fall-through and branch targets breadth-first.
//! BASE (hex) is where a position-independent PROGRAM was loaded, for ADDR
//! taken from a run (`--perf-map`, benches/profile); default 0.

use capstone::prelude::*;
use std::collections::{HashSet, VecDeque};
use transit_translator::frontend::decode::{decode_block, CodeBuffer};
use transit_translator::emit::{literal, MemoryOrder, Stubs};
use transit_translator::frontend::flags::live_at_block_exit;
use transit_translator::cpu::host::HostFeatures;
use transit_translator::translate::translate_block;

#[path = "common/elf_image.rs"]
mod elf_image;
use elf_image::load;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (file_base, img) = load(&args[1]);
    let load_base = args.get(4).map_or(0, |b| u64::from_str_radix(b.trim_start_matches("0x"), 16).expect("hex base"));
    let base = file_base + load_base;
    let start = u64::from_str_radix(args[2].trim_start_matches("0x"), 16).expect("hex address");
    let count: usize = args.get(3).map_or(1, |n| n.parse().unwrap());
    let src = CodeBuffer { base, code: &img };
    let cs = Capstone::new().arm64().mode(arch::arm64::ArchMode::Arm).build().unwrap();
    // LISTING_HOST=all (or e.g. `all,-afp`): every host feature but those
    // named; LISTING_TSO=1: x86's memory order.
    let host = std::env::var("LISTING_HOST").map_or(HostFeatures::BASELINE, |spec| HostFeatures::ALL.without(&spec));
    let order = if std::env::var_os("LISTING_TSO").is_some() { MemoryOrder::Tso } else { MemoryOrder::Relaxed };
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
        let t = translate_block(&block, 0x1000_0000, host, stubs, live, order);
        let end = literal::instructions_end(&t.code);
        println!("== block {rip:#x}: {} guest instructions, {} host instructions", t.guest_insns, end / 4);
        for insn in &block.insns[..t.guest_insns] {
            println!("   x86  {:#x}  {insn}", insn.ip());
        }
        for i in cs.disasm_all(&t.code[..end], 0x1000_0000).unwrap().iter() {
            match literal::loaded_value(&t.code, (i.address() - 0x1000_0000) as usize) {
                // A load from the literal pool shows the value it loads.
                Some(v) => println!("   a64  ldr {}, ={v:#x}", i.op_str().unwrap_or("").split(',').next().unwrap_or("?")),
                None => println!("   a64  {} {}", i.mnemonic().unwrap_or("?"), i.op_str().unwrap_or("")),
            }
        }
        for e in &t.direct_exits {
            queue.push_back(e.target);
        }
    }
}
