//! Translates a real program's blocks, as a run translated them, for
//! profiling translation itself on any host (`perf record` on x86_64):
//! `cargo run --release -p transit-translator --example translate_profile -- PROGRAM BLOCKS [ROUNDS]`
//! BLOCKS is a file of block start addresses (hex, one per line, e.g.
//! from a `--perf-map` run's `x86_64:0x...` names); each round flushes the
//! cache and translates them all again. Prints guest instructions per
//! second.

use std::time::Instant;
use transit_translator::cpu::host::HostFeatures;
use transit_translator::frontend::decode::CodeBuffer;
use transit_translator::Translator;

#[path = "common/elf_image.rs"]
mod elf_image;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (base, image) = elf_image::load(&args[1]);
    let starts: Vec<u64> = std::fs::read_to_string(&args[2])
        .expect("readable block list")
        .lines()
        .filter_map(|l| u64::from_str_radix(l.trim().trim_start_matches("0x"), 16).ok())
        .filter(|&a| a >= base && a < base + image.len() as u64)
        .collect();
    let rounds: usize = args.get(3).map_or(5, |n| n.parse().expect("a round count"));
    let code: &'static [u8] = Box::leak(image.into_boxed_slice());
    let mut t = Translator::with_source(HostFeatures::BASELINE, Box::new(CodeBuffer { base, code })).expect("a code cache");
    let began = Instant::now();
    for _ in 0..rounds {
        t.flush();
        for &s in &starts {
            t.translate_only(s);
        }
    }
    // The cache's counts add up across flushes.
    let insns = t.stats().guest_insns;
    let secs = began.elapsed().as_secs_f64();
    println!("{} blocks x {rounds}: {insns} guest instructions in {secs:.3} s, {:.1} M/s", starts.len(), insns as f64 / secs / 1e6);
}
