//! Translates a real program's blocks, as a run translated them, for
//! profiling translation itself on any host (`perf record` on x86_64):
//! `cargo run --release -p transit-translator --example translate_profile -- PROGRAM BLOCKS [ROUNDS]`
//! BLOCKS is a file of block start addresses (hex, one per line, e.g.
//! from a `--perf-map` run's `x86_64:0x...` names); each round flushes the
//! cache and translates them all again. Prints guest instructions per
//! second; with `CODE_CHECKSUM=1`, also a checksum of every block's host
//! code, to check that a change to the translator leaves the code alone.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use transit_translator::cpu::host::HostFeatures;
use transit_translator::frontend::decode::CodeBuffer;
use transit_translator::Translator;

#[path = "common/elf_image.rs"]
mod elf_image;

/// FNV-1a over each installed block's guest address and host code.
static CHECKSUM: AtomicU64 = AtomicU64::new(0xcbf2_9ce4_8422_2325);

fn add_to_checksum(guest_rip: u64, host: u64, host_len: usize) {
    // SAFETY: the cache just installed `host_len` bytes of code at `host`.
    let code = unsafe { std::slice::from_raw_parts(host as *const u8, host_len) };
    let mut h = CHECKSUM.load(Ordering::Relaxed);
    for &b in guest_rip.to_le_bytes().iter().chain(code) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    CHECKSUM.store(h, Ordering::Relaxed);
}

fn main() {
    if std::env::var_os("CODE_CHECKSUM").is_some() {
        transit_translator::block_listener::listen(add_to_checksum);
    }
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
    if std::env::var_os("CODE_CHECKSUM").is_some() {
        println!("host code checksum {:016x}", CHECKSUM.load(Ordering::Relaxed));
    }
}
